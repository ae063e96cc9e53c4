#!/usr/bin/env bats
# shellcheck shell=bash
#
# -bs: postie speaks SMTP on stdin/stdout (Alpine, Symfony Mailer).  A
# scripted client (python, below) talks to `postie -bs`; every accepted
# message goes to the fake smarthost, and the reply to the final dot is
# the smarthost's real outcome.

load common

# bs_client [ARG...] <SCRIPT: run `$POSTIE -C $CONFIG -bs ARG...` under a
# scripted client.
# SCRIPT lines: "> TEXT" sends TEXT and CRLF; "= TEXT" sends TEXT as is
# (escapes \r \n \xHH); "<" waits for one whole reply (multi-line
# included); "eof" closes postie's stdin.  At the end stdin is closed and
# the rest of the output read.  Output: every reply line without CRLF,
# then "exit N".  Any wait longer than 10 s fails.
bs_client() {
	[ -e "$CONFIG" ] || write_config
	cat >"$T/client.py" <<'PY'
import codecs, os, select, subprocess, sys
script = open(sys.argv[1], encoding="utf-8").read().split("\n")
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE)
buf = b""
def line():
    global buf
    while b"\n" not in buf:
        r, _, _ = select.select([p.stdout], [], [], 10)
        if not r:
            print("TIMEOUT"); p.kill(); sys.exit(1)
        d = os.read(p.stdout.fileno(), 65536)
        if not d:
            return None
        buf += d
    l, buf = buf.split(b"\n", 1)
    return l.rstrip(b"\r").decode("utf-8", "replace")
def reply():
    while True:
        l = line()
        if l is None:
            print("EOF"); return
        print(l)
        if len(l) < 4 or l[3] != "-":
            return
for s in script:
    if s.startswith("> "):
        p.stdin.write(s[2:].encode() + b"\r\n"); p.stdin.flush()
    elif s.startswith("= "):
        p.stdin.write(codecs.escape_decode(s[2:].encode())[0])
        p.stdin.flush()
    elif s == "<":
        reply()
    elif s == "eof":
        p.stdin.close()
if not p.stdin.closed:
    p.stdin.close()
while True:
    l = line()
    if l is None:
        break
    print(l)
print("exit %d" % p.wait(timeout=10))
PY
	cat >"$T/script"
	run --separate-stderr timeout 30 "$PYTHON3" "$T/client.py" \
	    "$T/script" "$POSTIE" -C "$CONFIG" -bs "$@"
}

# The replies without the greeting and EHLO lines, joined by "|".
replies() {
	printf '%s\n' "$output" | grep -v -e '^220 ' -e '^250[- ]' -e '^exit ' |
	    paste -sd'|'
}

@test "-bs: greeting, EHLO capabilities, one message delivered, QUIT 221" {
	fake_start
	bs_client <<'EOF2'
<
> EHLO client.example
<
> MAIL FROM:<alice@example.org>
<
> RCPT TO:<bob@example.net>
<
> DATA
<
> From: alice@example.org
> Subject: hi
>
> hello
> .
<
> QUIT
<
EOF2
	assert_status 0
	[[ "${lines[0]}" == "220 "*" ESMTP postie" ]] || _fail "${lines[0]}"
	[[ "$output" == *"250-PIPELINING"* ]] || _fail "$output"
	[[ "$output" == *"250-8BITMIME"* ]] || _fail "$output"
	[[ "$output" != *"SMTPUTF8"* ]] || _fail "$output"
	[[ "$output" == *$'\n250 2.1.0 Ok\n250 2.1.5 Ok\n354 '* ]] || _fail "$output"
	[[ "$output" == *$'\n250 2.0.0 Ok: delivered\n221 2.0.0 Bye\nexit 0' ]] ||
	    _fail "$output"
	[[ "$(fake_envelope)" == $'MAIL FROM:<alice@example.org> SIZE='*$'\nRCPT TO:<bob@example.net>' ]] ||
	    _fail "$(fake_envelope)"
	[[ "$(fake_message)" == *$'Subject: hi\r\n'*$'\r\n\r\nhello\r' ]] ||
	    _fail "$(fake_message)"
}

@test "-bs: -t adds no header recipients; Bcc is still removed" {
	fake_start
	bs_client -t <<'EOF2'
> EHLO c
> MAIL FROM:<a@example.org>
> RCPT TO:<b@example.net>
> DATA
> From: a@example.org
> To: b@example.net
> Cc: c@example.net
> Bcc: d@example.net
> Subject: envelope from the dialogue
>
> x
> .
> QUIT
EOF2
	assert_status 0
	[[ "$output" == *$'250 2.0.0 Ok: delivered\n221 2.0.0 Bye\nexit 0' ]] ||
	    _fail "$output"
	[[ "$(fake_envelope)" == $'MAIL FROM:<a@example.org> SIZE='*$'\nRCPT TO:<b@example.net>' ]] ||
	    _fail "$(fake_envelope)"
	assert_equal "$(fake_envelope | grep -c '^RCPT ')" 1 "RCPT commands"
	[[ "$(fake_message)" == *$'\r\nCc: c@example.net\r\n'* ]] ||
	    _fail "$(fake_message)"
	[[ "$(fake_message)" != *Bcc:* && "$(fake_message)" != *d@example.net* ]] ||
	    _fail "$(fake_message)"
}

@test "-bs: two messages in one session, bare names qualified" {
	fake_start "" --connections 2
	bs_client <<'EOF2'
<
> HELO client.example
<
> MAIL FROM:<alice@example.org>
<
> RCPT TO:<bob@example.net>
<
> DATA
<
> Subject: one
>
> first
> .
<
> MAIL FROM:<>
<
> RCPT TO:<root>
<
> RCPT TO:<carol@example.net>
<
> DATA
<
> Subject: two
>
> second
> .
<
> QUIT
<
EOF2
	assert_status 0
	[[ "$output" == *$'354 End data with <CR><LF>.<CR><LF>\n250 2.0.0 Ok: delivered\n250 2.1.0 Ok'* ]] ||
	    _fail "$output"
	[[ "$output" == *$'250 2.0.0 Ok: delivered\n221 2.0.0 Bye\nexit 0' ]] ||
	    _fail "$output"
	assert_equal "$(fake_messages)" 2 messages
	[[ "$(fake_envelope 2)" == $'MAIL FROM:<> SIZE='*$'\nRCPT TO:<root@client.example.org>\nRCPT TO:<carol@example.net>' ]] ||
	    _fail "$(fake_envelope 2)"
	[[ "$(fake_message 2)" == *$'\r\n\r\nsecond\r' ]] || _fail "$(fake_message 2)"
}

@test "-bs: pipelined input gets every reply, in order" {
	fake_start "" --connections 2
	bs_client <<'EOF2'
= EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nSubject: p\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nDATA\r\nSubject: q\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n
EOF2
	assert_status 0
	assert_equal "$(replies)" "354 End data with <CR><LF>.<CR><LF>|354 End data with <CR><LF>.<CR><LF>|221 2.0.0 Bye" \
	    replies
	[[ "$output" == *$'250 2.1.5 Ok\n354 End data with <CR><LF>.<CR><LF>\n250 2.0.0 Ok: delivered\n250 2.1.0 Ok\n250 2.1.5 Ok\n354 End data with <CR><LF>.<CR><LF>\n250 2.0.0 Ok: delivered\n250 2.0.0 Ok\n221 2.0.0 Bye\nexit 0' ]] ||
	    _fail "$output"
	assert_equal "$(fake_messages)" 2 messages
	[[ "$(fake_envelope 2)" == $'MAIL FROM:<a@example.org> SIZE='*$'\nRCPT TO:<c@example.net>' ]] ||
	    _fail "$(fake_envelope 2)"
}

@test "-bs: dot-unstuffing delivers the client's exact bytes" {
	fake_start
	printf '%s\r\n' 'From: a@example.org' 'To: b@example.net' \
	    'Date: Sun, 22 Nov 2026 10:00:00 +0000' 'Message-ID: <x@example.org>' \
	    'Subject: dots' '' '.' '..' '.x' 'a.b' '...' ' .' '' >"$T/expected"
	bs_client <<'EOF2'
= EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
= From: a@example.org\r\nTo: b@example.net\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <x@example.org>\r\nSubject: dots\r\n\r\n..\r\n...\r\n..x\r\na.b\r\n....\r\n .\r\n\r\n.\r\nQUIT\r\n
EOF2
	assert_status 0
	[[ "$output" == *$'250 2.0.0 Ok: delivered\n221 2.0.0 Bye\nexit 0' ]] ||
	    _fail "$output"
	cmp "$T/expected" "$(fake_message_path)" || _fail "$(fake_message | od -c)"
}

@test "-bs: RSET drops the transaction; bad sequence 503, unknown 500" {
	fake_start
	bs_client <<'EOF2'
> EHLO c
> RCPT TO:<b@example.net>
> DATA
> MAIL FROM:<a@example.org>
> DATA
> MAIL FROM:<a@example.org>
> RCPT TO:<b@example.net>
> RSET
> DATA
> FROB
> RCPT TO:<b@example.net>
> MAIL FROM:a@example.org SMTPUTF8
> MAIL FROM:<-oQ/tmp>
> MAIL FROM <x@example.org>
> RCPT TO:<b@example.net>
> MAIL FROM:<new@example.org>
> RCPT TO:<c@example.net>
> DATA
> Subject: after rset
>
> x
> .
> VRFY root
> HELP
> NOOP
> QUIT
EOF2
	assert_status 0
	local want
	want='503 5.5.1 Error: need MAIL command'
	want+='|503 5.5.1 Error: need MAIL command'
	want+='|503 5.5.1 Error: need RCPT command'
	want+='|503 5.5.1 Error: nested MAIL command'
	want+='|503 5.5.1 Error: need MAIL command'
	want+='|500 5.5.2 Error: command not recognized'
	want+='|503 5.5.1 Error: need MAIL command'
	want+='|555 5.5.4 Unsupported MAIL parameter'
	want+="|553 5.1.7 sender '-oQ/tmp' starts with '-'"
	want+='|501 5.5.4 Syntax: FROM:<address>'
	want+='|503 5.5.1 Error: need MAIL command'
	want+='|354 End data with <CR><LF>.<CR><LF>'
	want+='|252 2.5.2 Cannot VRFY; send some mail and postie will try'
	want+='|214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY QUIT'
	want+='|221 2.0.0 Bye'
	assert_equal "$(replies)" "$want" replies
	assert_equal "$(fake_messages)" 1 messages
	[[ "$(fake_envelope)" == $'MAIL FROM:<new@example.org> SIZE='*$'\nRCPT TO:<c@example.net>' ]] ||
	    _fail "$(fake_envelope)"
}

@test "-bs: an overlong command gets 500 and the session goes on" {
	fake_start "" --connections 0 --max-seconds 5
	long=$(head -c 5000 /dev/zero | tr '\0' x)
	bs_client <<EOF2
> EHLO c
> NOOP $long
> NOOP
> QUIT
EOF2
	assert_status 0
	[[ "$output" == *$'250 HELP\n500 5.5.2 Error: line too long\n250 2.0.0 Ok\n221 2.0.0 Bye\nexit 0' ]] ||
	    _fail "$output"
}

@test "-bs: the smarthost's recipient refusal is the final dot's reply" {
	fake_start - --connections 2 <<'EOF2'
on RCPT <bad@example.net> => reply 550 5.1.1 <bad@example.net>: no such user
on RCPT <later@example.net> => reply 450 4.2.0 <later@example.net>: try later
EOF2
	bs_client <<'EOF2'
> EHLO c
> MAIL FROM:<a@example.org>
> RCPT TO:<bad@example.net>
> DATA
> Subject: x
>
> x
> .
> MAIL FROM:<a@example.org>
> RCPT TO:<good@example.net>
> RCPT TO:<later@example.net>
> DATA
> Subject: y
>
> y
> .
> QUIT
EOF2
	assert_status 0
	local want
	want='354 End data with <CR><LF>.<CR><LF>'
	want+='|550 5.1.0 <bad@example.net>: 550 5.1.1 <bad@example.net>: no such user'
	want+='|354 End data with <CR><LF>.<CR><LF>'
	want+='|450 4.1.0 delivered to 1 of 2 recipients; refused: <later@example.net>: 450 4.2.0 <later@example.net>: try later'
	want+='|221 2.0.0 Bye'
	assert_equal "$(replies)" "$want" replies
	assert_equal "$(fake_messages)" 1 messages
	[[ "$(fake_envelope)" == $'MAIL FROM:<a@example.org> SIZE='*$'\nRCPT TO:<good@example.net>' ]] ||
	    _fail "$(fake_envelope)"
	assert_stderr_contains "no such user"
}

@test "-bs: smarthost down gives 451 at the final dot, then the session goes on" {
	write_config "port 1"
	bs_client <<'EOF2'
> EHLO c
> MAIL FROM:<a@example.org>
> RCPT TO:<b@example.net>
> DATA
> Subject: x
>
> x
> .
> NOOP
> QUIT
EOF2
	assert_status 0
	[[ "$(replies)" == '354 End data with <CR><LF>.<CR><LF>|451 4.3.0 '*'|221 2.0.0 Bye' ]] ||
	    _fail "$(replies)"
	[[ "$output" == *$'\n250 2.0.0 Ok\n221 2.0.0 Bye\nexit 0' ]] ||
	    _fail "$output"
}

@test "-bs: end of input without QUIT ends quietly; inside DATA it is 65" {
	fake_start "" --connections 0 --max-seconds 5
	bs_client <<'EOF2'
> EHLO c
> NOOP
<
<
<
eof
EOF2
	assert_status 0
	assert_equal "${lines[-1]}" "exit 0" exit
	assert_stderr_empty
	bs_client <<'EOF2'
> EHLO c
> MAIL FROM:<a@example.org>
> RCPT TO:<b@example.net>
> DATA
> Subject: cut
>
> half
eof
EOF2
	assert_status 0
	assert_equal "${lines[-1]}" "exit 65" exit
	assert_stderr_contains "input ended inside DATA"
	assert_no_message
}

@test "-bs: a local I/O error while spooling is 451, not 554, and the session goes on" {
	# A file size limit of 4 KiB (bash's ulimit -f counts KiB; SIGXFSZ
	# ignored so that write() fails with EFBIG).  postie's copy of the
	# content, with the LF line ends the client sent, is 3614 bytes and
	# fits; the spool, the same with CRLF and added headers, is over
	# 4800 and does not: "cannot write the spool file", exit status 74
	# for that message.
	fake_start "" --connections 0 --max-seconds 5
	write_config
	cat >"$T/wrap" <<EOF2
#!/bin/bash
trap '' XFSZ
ulimit -f 4
exec "$POSTIE" "\$@"
EOF2
	chmod +x "$T/wrap"
	{
		echo '> EHLO c'
		echo '> MAIL FROM:<a@example.org>'
		echo '> RCPT TO:<b@example.net>'
		echo '> DATA'
		printf '= Subject: big\\n\\n'
		for i in $(seq 1200); do printf 'ab\\n'; done
		echo
		echo '> .'
		echo '> NOOP'
		echo '> QUIT'
	} >"$T/script.in"
	POSTIE=$T/wrap bs_client <"$T/script.in"
	assert_status 0
	assert_equal "$(replies)" '354 End data with <CR><LF>.<CR><LF>|451 4.3.0 cannot write the spool file: File too large|221 2.0.0 Bye' \
	    replies
	[[ "$output" == *$'\n250 2.0.0 Ok\n221 2.0.0 Bye\nexit 0' ]] ||
	    _fail "$output"
	assert_equal "$stderr" "postie: cannot write the spool file: File too large" \
	    stderr
	assert_no_connection
}

@test "-bs: with 'logfile -' the log lines go to stderr; stdout holds only replies" {
	fake_start "" --connections 3
	write_config "logfile -" "logfile_time_format stamp"
	bs_client <<'EOF2'
> EHLO c
> MAIL FROM:<a@example.org>
> RCPT TO:<b@example.net>
> DATA
> Subject: one
>
> x
> .
> MAIL FROM:<a@example.org>
> RCPT TO:<c@example.net>
> DATA
> Subject: two
>
> y
> .
> QUIT
EOF2
	assert_status 0
	assert_equal "${lines[-1]}" "exit 0" exit
	local l n=0
	for l in "${lines[@]:0:${#lines[@]}-1}"; do
		[[ "$l" =~ ^[2-5][0-9][0-9][\ -] ]] ||
		    _fail "not an SMTP reply on stdout: $l"
		n=$((n + 1))
	done
	assert_equal "$n" 15 "reply lines"
	assert_equal "$(replies)" '354 End data with <CR><LF>.<CR><LF>|354 End data with <CR><LF>.<CR><LF>|221 2.0.0 Bye' \
	    replies
	assert_equal "${#stderr_lines[@]}" 2 "stderr lines"
	local want="^stamp account=default host=127\.0\.0\.1\[127\.0\.0\.1\]:$FAKE_PORT tls=off auth=off from=a@example\.org recipients=RCPT@example\.net mailsize=[0-9]+ smtpstatus=250 smtpmsg='ok' exitcode=EX_OK\$"
	[[ "${stderr_lines[0]}" =~ ${want/RCPT/b} ]] ||
	    _fail "first log line: ${stderr_lines[0]}"
	[[ "${stderr_lines[1]}" =~ ${want/RCPT/c} ]] ||
	    _fail "second log line: ${stderr_lines[1]}"
	assert_equal "$(fake_messages)" 2 messages

	# Without -bs, "logfile -" is standard output, as in msmtp.
	run_postie -f a@example.org d@example.net <<<"hi"
	assert_status 0
	assert_stderr_empty
	[[ "$output" =~ ${want/RCPT/d} ]] || _fail "log line: $output"
}
