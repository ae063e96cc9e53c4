#!/usr/bin/env bats
# shellcheck shell=bash
#
# The SMTP engine against tests/fakesmtp.py: what postie sends (exact
# command lines, one write per pipelined group), what arrives (exact
# bytes), exit status and stderr, when things go right or a recipient
# is refused.  Failures of the server itself are in failures.bats.

load common

# The mail-from line postie sends for $1 (a file of LF lines) when the
# server offers SIZE.
mail_from() {
	echo "MAIL FROM:<sender@example.org> SIZE=$(file_size "$(crlf_copy "$1" "$T/size.tmp")")${2-}"
}

# The session held one MAIL transaction, no retry of it.
assert_one_transaction() {
	[ "$(fake_commands | grep -c '^MAIL FROM')" -eq 1 ] ||
	    _fail "MAIL sent more than once" "$(fake_commands)"
}

@test "plain delivery: exact commands, exact bytes, exit 0, quiet" {
	fake_start
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_stderr_empty
	assert_equal "$output" "" stdout
	assert_commands "EHLO client.example.org" "$(mail_from "$T/msg")" \
	    "RCPT TO:<rcpt@example.org>" "DATA" "QUIT"
	assert_message 1 "$(crlf_copy "$T/msg")"
	assert_equal "$(fake_reply_codes 1)" 250 "final reply"
	# The message ends with exactly one terminator and holds no bare
	# CR or LF.
	[[ "$(fake_message_raw 1 | tail -c 7 | od -An -c | tr -s ' ')" == *'o . \r \n . \r \n' ]]
	refute_log_contains 'bare CR/LF'
}

@test "EHLO without a configured domain is never localhost" {
	fake_start
	write_config
	sed -i '/^domain /d' "$CONFIG"
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	local ehlo
	ehlo=$(fake_commands | head -n 1)
	[[ "$ehlo" == "EHLO "?* ]] || _fail "first command: $ehlo"
	[[ "$ehlo" != "EHLO localhost"* ]] || _fail "EHLO names localhost"
}

@test "HELO when EHLO is refused with 502, then no extensions" {
	fake_start - <<'EOF'
on EHLO => reply 502 5.5.2 Error: command not recognized
EOF
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_commands "EHLO client.example.org" "HELO client.example.org" \
	    "MAIL FROM:<sender@example.org>" "RCPT TO:<rcpt@example.org>" \
	    "DATA" "QUIT"
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "HELO when EHLO is refused with 500" {
	fake_start - <<'EOF'
on EHLO => reply 500 syntax error, command unrecognized
EOF
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_command "HELO client.example.org"
	assert_command "MAIL FROM:<sender@example.org>"
}

@test "PIPELINING: MAIL, every RCPT and DATA leave in one write" {
	fake_start
	run_postie a@example.org b@example.org c@example.org \
	    <"$(sample_message)"
	assert_status 0
	assert_segment "$(mail_from "$T/msg")"'\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n'
	assert_equal "$(fake_envelope 1 | wc -l)" 4 "envelope lines"
}

@test "no PIPELINING: MAIL, RCPT, DATA one by one, each after its reply" {
	fake_start - <<'EOF'
capabilities SIZE, 8BITMIME, ENHANCEDSTATUSCODES
EOF
	run_postie a@example.org b@example.org <"$(sample_message)"
	assert_status 0
	assert_segment "$(mail_from "$T/msg")"'\r\n'
	assert_segment 'RCPT TO:<a@example.org>\r\n'
	assert_segment 'RCPT TO:<b@example.org>\r\n'
	assert_segment 'DATA\r\n'
	refute_log_contains 'pipelined without PIPELINING'
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "no SIZE offered: no SIZE= parameter" {
	fake_start - <<'EOF'
capabilities PIPELINING, 8BITMIME
EOF
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_command "MAIL FROM:<sender@example.org>"
}

@test "SIZE limit: a bigger message is refused before MAIL, exit 69" {
	fake_start - <<'EOF'
capabilities PIPELINING, SIZE 100, 8BITMIME
EOF
	sample_message >/dev/null
	{ echo; for i in $(seq 1 20); do echo "line $i of a long body"; done; } >>"$T/msg"
	run_postie rcpt@example.org <"$T/msg"
	assert_status 69
	assert_commands "EHLO client.example.org" "QUIT"
	assert_no_message
	assert_stderr_contains "100"
	assert_stderr_contains "account 'default'"
}

@test "SIZE limit: a message within it is sent" {
	fake_start - <<'EOF'
capabilities PIPELINING, SIZE 100000, 8BITMIME
EOF
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_command "$(mail_from "$T/msg")"
}

@test "BODY=8BITMIME for 8-bit content when offered" {
	fake_start
	sample_message >/dev/null
	printf 'Gr\303\274\303\237e\n' >>"$T/msg"
	run_postie rcpt@example.org <"$T/msg"
	assert_status 0
	assert_command "$(mail_from "$T/msg" " BODY=8BITMIME")"
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "no BODY= for 7-bit content" {
	fake_start
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_command "$(mail_from "$T/msg")"
}

@test "8-bit content, 8BITMIME not offered: no BODY=, bytes unchanged" {
	fake_start - <<'EOF'
capabilities PIPELINING, SIZE
EOF
	sample_message >/dev/null
	printf 'Gr\303\274\303\237e\n' >>"$T/msg"
	run_postie rcpt@example.org <"$T/msg"
	assert_status 0
	assert_command "$(mail_from "$T/msg")"
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "SMTPUTF8 address with the capability: MAIL says SMTPUTF8" {
	fake_start
	run_postie 'jörg@example.org' <"$(sample_message)"
	assert_status 0
	assert_command "$(mail_from "$T/msg" " SMTPUTF8")"
	assert_command "RCPT TO:<jörg@example.org>"
}

@test "SMTPUTF8 address without the capability: exit 65, no MAIL" {
	fake_start - <<'EOF'
capabilities PIPELINING, SIZE, 8BITMIME
EOF
	run_postie 'jörg@example.org' <"$(sample_message)"
	assert_status 65
	assert_commands "EHLO client.example.org" "QUIT"
	assert_no_message
	assert_stderr_contains SMTPUTF8
}

@test "IDN domain without SMTPUTF8: sent as its A-label" {
	fake_start - <<'EOF'
capabilities PIPELINING, SIZE, 8BITMIME
EOF
	run_postie 'user@bücher.example' <"$(sample_message)"
	assert_status 0
	assert_command "RCPT TO:<user@xn--bcher-kva.example>"
	assert_command "$(mail_from "$T/msg")"
}

@test "one recipient of three gets 550: exit 67, the others get the message" {
	fake_start - <<'EOF'
on RCPT <bad@example.org> => reply 550 5.1.1 <bad@example.org>: Recipient address rejected: User unknown
EOF
	run_postie a@example.org bad@example.org c@example.org \
	    <"$(sample_message)"
	assert_status 67
	assert_stderr_contains "bad@example.org"
	assert_stderr_contains "User unknown"
	assert_stderr_contains "account 'default', server 127.0.0.1"
	assert_stderr_one_line
	assert_message 1 "$(crlf_copy "$T/msg")"
	assert_equal "$(fake_envelope 1 | tail -n +2)" \
	    "$(printf '%s\n' 'RCPT TO:<a@example.org>' 'RCPT TO:<c@example.org>')" \
	    "accepted recipients"
}

@test "a multi-line refusal is reported with all its text" {
	fake_start - <<'EOF'
on RCPT <bad@example.org>
	reply 550-5.1.1 <bad@example.org>: first line
	reply 550 5.1.1 second line
EOF
	run_postie ok@example.org bad@example.org <"$(sample_message)"
	assert_status 67
	assert_stderr_contains "first line"
	assert_stderr_contains "second line"
	assert_equal "$(fake_messages)" 1 messages
}

@test "one recipient gets 450: exit 75, the other gets the message" {
	fake_start - <<'EOF'
on RCPT <busy@example.org> => reply 450 4.2.1 <busy@example.org>: mailbox busy
EOF
	run_postie a@example.org busy@example.org <"$(sample_message)"
	assert_status 75
	assert_stderr_contains "busy@example.org"
	assert_stderr_contains "mailbox busy"
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "one 450 and one 550: the temporary failure wins, exit 75" {
	fake_start - <<'EOF'
on RCPT <bad@example.org> => reply 550 5.1.1 no such user
on RCPT <busy@example.org> => reply 450 4.2.1 mailbox busy
EOF
	run_postie bad@example.org busy@example.org ok@example.org \
	    <"$(sample_message)"
	assert_status 75
	assert_stderr_contains "bad@example.org"
	assert_stderr_contains "busy@example.org"
	# One line per refused recipient, then the verdict.
	assert_equal "${#stderr_lines[@]}" 3 "stderr lines"
	assert_equal "$(fake_messages)" 1 messages
}

@test "452 too many recipients: the rest go in a second transaction, exit 0" {
	# RCPTs 3 and 4 of the connection are over the server's limit
	# (RFC 5321 4.5.3.1.10); the same session then carries them.
	fake_start - <<'EOF'
on RCPT#3 => reply 452 4.5.3 Error: too many recipients
on RCPT#4 => reply 452 4.5.3 Error: too many recipients
EOF
	run_postie a@example.org b@example.org c@example.org d@example.org \
	    <"$(sample_message)"
	assert_status 0
	assert_stderr_empty
	assert_commands "EHLO client.example.org" "$(mail_from "$T/msg")" \
	    "RCPT TO:<a@example.org>" "RCPT TO:<b@example.org>" \
	    "RCPT TO:<c@example.org>" "RCPT TO:<d@example.org>" "DATA" \
	    "$(mail_from "$T/msg")" \
	    "RCPT TO:<c@example.org>" "RCPT TO:<d@example.org>" "DATA" "QUIT"
	assert_equal "$(fake_messages)" 2 messages
	assert_equal "$(fake_envelope 1 | tail -n +2)" \
	    "$(printf '%s\n' 'RCPT TO:<a@example.org>' 'RCPT TO:<b@example.org>')" \
	    "first transaction"
	assert_equal "$(fake_envelope 2 | tail -n +2)" \
	    "$(printf '%s\n' 'RCPT TO:<c@example.org>' 'RCPT TO:<d@example.org>')" \
	    "second transaction"
	assert_message 1 "$(crlf_copy "$T/msg")"
	assert_message 2 "$(crlf_copy "$T/msg")"
}

@test "452 without PIPELINING, and 552 5.5.3 (RFC 821's code): same" {
	fake_start - <<'EOF'
capabilities SIZE, 8BITMIME, ENHANCEDSTATUSCODES
on RCPT#2 => reply 552 5.5.3 too many recipients
on RCPT#3 => reply 452 4.5.3 too many recipients
EOF
	run_postie a@example.org b@example.org c@example.org \
	    <"$(sample_message)"
	assert_status 0
	assert_stderr_empty
	assert_equal "$(fake_messages)" 2 messages
	assert_equal "$(fake_envelope 1 | tail -n +2)" "RCPT TO:<a@example.org>" \
	    "first transaction"
	assert_equal "$(fake_envelope 2 | tail -n +2)" \
	    "$(printf '%s\n' 'RCPT TO:<b@example.org>' 'RCPT TO:<c@example.org>')" \
	    "second transaction"
}

@test "452 for every recipient: no progress, no second try, exit 75" {
	fake_start - <<'EOF'
on RCPT => reply 452 4.5.3 too many recipients
EOF
	run_postie a@example.org b@example.org <"$(sample_message)"
	assert_status 75
	assert_no_message
	assert_one_transaction
}

@test "a 450 (not 'too many') is not retried in the session: exit 75" {
	fake_start - <<'EOF'
on RCPT <busy@example.org> => reply 450 4.2.1 mailbox busy
EOF
	run_postie a@example.org busy@example.org <"$(sample_message)"
	assert_status 75
	assert_equal "$(fake_messages)" 1 messages
	assert_one_transaction
}

@test "any 2xx to the final dot is success (251, 252): exit 0" {
	local code
	for code in 251 252; do
		fake_start - <<EOF
on DOT => reply $code 2.0.0 accepted for delivery
EOF
		write_config
		run_postie rcpt@example.org <"$(sample_message)"
		assert_status 0
		assert_stderr_empty
		assert_equal "$(fake_reply_codes)" "$code" "reply to the dot"
		fake_stop
	done
}

@test "every recipient rejected (pipelined): exit 67, no content sent" {
	fake_start - <<'EOF'
on RCPT => reply 550 5.1.1 no such user
EOF
	run_postie a@example.org b@example.org <"$(sample_message)"
	assert_status 67
	assert_commands "EHLO client.example.org" "$(mail_from "$T/msg")" \
	    "RCPT TO:<a@example.org>" "RCPT TO:<b@example.org>" "DATA" "QUIT"
	assert_no_message
	refute_transcript_contains 'Subject:'
	assert_stderr_contains "a@example.org"
	assert_stderr_contains "b@example.org"
}

@test "every recipient refused temporarily: exit 75, no content sent" {
	fake_start - <<'EOF'
on RCPT => reply 450 4.2.1 try again later
EOF
	run_postie a@example.org b@example.org <"$(sample_message)"
	assert_status 75
	assert_no_message
	refute_transcript_contains 'Subject:'
	assert_stderr_contains "try again later"
}

@test "every recipient rejected, server answers 354 anyway: empty data" {
	fake_start - <<'EOF'
on RCPT => reply 550 5.1.1 no such user
on DATA => reply 354 go ahead
EOF
	run_postie a@example.org <"$(sample_message)"
	assert_status 67
	refute_transcript_contains 'Subject:'
}

@test "every recipient rejected (no PIPELINING): no DATA at all" {
	fake_start - <<'EOF'
capabilities SIZE
on RCPT => reply 550 5.1.1 no such user
EOF
	run_postie a@example.org <"$(sample_message)"
	assert_status 67
	assert_commands "EHLO client.example.org" "$(mail_from "$T/msg")" \
	    "RCPT TO:<a@example.org>" "QUIT"
	assert_no_message
}

@test "dot-stuffing: lines starting with a dot arrive intact" {
	fake_start
	sample_message >/dev/null
	printf '.\n..\n.leading dot\n' >>"$T/msg"
	run_postie rcpt@example.org <"$T/msg"
	assert_status 0
	assert_message 1 "$(crlf_copy "$T/msg")"
	# On the wire every such line got one more dot, then one terminator.
	sed 's/^\./../' "$T/expected" >"$T/stuffed"
	printf '.\r\n' >>"$T/stuffed"
	cmp "$T/stuffed" "$FAKE_DIR/msg-1.raw"
}

@test "LMTP: LHLO, one final reply per recipient" {
	fake_start - --lmtp <<'EOF'
on DOT <b@example.org> => reply 452 4.2.2 <b@example.org>: mailbox full
EOF
	write_config "protocol lmtp"
	run_postie a@example.org b@example.org c@example.org \
	    <"$(sample_message)"
	assert_status 75
	assert_equal "$(fake_commands | head -n 1)" "LHLO client.example.org"
	assert_stderr_contains "b@example.org"
	assert_stderr_contains "mailbox full"
	assert_stderr_not_contains "a@example.org"
	assert_equal "$(fake_reply_codes 1 | tr '\n' ' ')" "250 452 250 " \
	    "final replies"
}

@test "LMTP: every recipient accepted after the dot: exit 0" {
	fake_start - --lmtp
	write_config "protocol lmtp"
	run_postie a@example.org b@example.org <"$(sample_message)"
	assert_status 0
	assert_stderr_empty
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "LMTP: a permanent refusal after the dot: exit 67" {
	fake_start - --lmtp <<'EOF'
on DOT <b@example.org> => reply 550 5.1.1 <b@example.org>: no such user
EOF
	write_config "protocol lmtp"
	run_postie a@example.org b@example.org <"$(sample_message)"
	assert_status 67
	assert_stderr_contains "no such user"
}

@test "socket: delivery over a unix socket" {
	fake_start "" --unix "$T/smtp.sock"
	write_config
	grep -qx "socket $T/smtp.sock" "$CONFIG"
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_command "RCPT TO:<rcpt@example.org>"
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "IPv6 loopback" {
	# Fails (never skips) on a machine without IPv6 loopback: the issue
	# requires IPv6, and a skip would count as a pass.
	"$PYTHON3" -c 'import socket
socket.socket(socket.AF_INET6).bind(("::1", 0))' ||
	    _fail "this machine has no IPv6 loopback (::1)"
	fake_start "" --listen ::1
	write_config "host ::1"
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "every address of the host in turn: ::1 and 127.0.0.1 refuse, 127.0.0.2 answers" {
	# A private /etc/hosts in a private mount namespace gives one name
	# three addresses; getaddrinfo sorts ::1, 127.0.0.1, 127.0.0.2.
	[ "$(id -u)" -eq 0 ] && unshare -m true ||
	    _fail "needs root and unshare -m (a private /etc/hosts)"
	fake_start "" --listen 127.0.0.2
	printf '%s\n' '127.0.0.2 multi.test' '127.0.0.1 multi.test' \
	    '::1 multi.test' >"$T/hosts"
	cat >"$T/wrap" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount --bind "\$0" /etc/hosts && exec "\$@"' \
    "$T/hosts" "$POSTIE" "\$@"
EOF
	chmod +x "$T/wrap"
	write_config "host multi.test"
	POSTIE=$T/wrap run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	# Only 127.0.0.2 listens: the delivery proves the other two were
	# tried and passed over.
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "source_ip: the connection comes from that address" {
	fake_start
	write_config "source_ip 127.0.0.2"
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	[[ "$(fake_peer)" == "127.0.0.2 "* ]] || _fail "peer: $(fake_peer)"
}

@test "-v prints the transcript on stderr" {
	fake_start
	run_postie -v rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_stderr_contains "<-- 220 fake.example.org ESMTP fakesmtp"
	assert_stderr_contains "--> EHLO client.example.org"
	assert_stderr_contains "<-- 250-PIPELINING"
	assert_stderr_contains "--> RCPT TO:<rcpt@example.org>"
	assert_stderr_contains "<-- 354 End data"
	assert_stderr_contains "<-- 250 2.0.0 Ok: queued as FAKE1"
	assert_stderr_contains "--> QUIT"
	# The message itself is not part of the transcript.
	assert_stderr_not_contains "Subject: test"
}

@test "no per-line system calls: 20,000 lines go out in a few large writes" {
	# About 1 MiB of 52-byte lines.  Per-line writes (to the spool or
	# the socket) or per-line reads would make thousands of calls; from
	# postie's first read of stdin on (what the dynamic loader or a
	# sanitizer runtime reads before does not count) there are well
	# under 100 of each.
	command -v strace >/dev/null ||
	    _fail "strace missing (tests/ci.sh installs it)"
	fake_start
	write_config
	sample_message >/dev/null
	awk 'BEGIN { for (i = 0; i < 20000; i++)
	    printf "line %06d of the body, short but not very short\n", i }' \
	    >>"$T/msg"
	[ "$(file_size "$T/msg")" -gt 1000000 ] || _fail "message too small"
	run --separate-stderr traced -f -o "$T/calls" \
	    -e trace=write,sendto,writev,sendmsg,pwrite64,read,recvfrom,readv,pread64 \
	    "$POSTIE" -C "$CONFIG" rcpt@example.org <"$T/msg"
	assert_status 0
	assert_stderr_empty
	assert_message 1 "$(crlf_copy "$T/msg")"
	# Each line: "PID name(fd, ...) = result".
	sed -n '/^[0-9]* *read(0,/,$p' "$T/calls" >"$T/after"
	[ -s "$T/after" ] || _fail "no read of stdin traced"
	local writes reads
	writes=$(grep -cE '^[0-9]* *(write|sendto|writev|sendmsg|pwrite64)\(' \
	    "$T/after")
	reads=$(grep -cE '^[0-9]* *(read|recvfrom|readv|pread64)\(' "$T/after")
	[ "$writes" -gt 0 ] && [ "$writes" -lt 100 ] ||
	    _fail "$writes write calls for 20,000 lines:" "$(cut -c1-80 "$T/after")"
	[ "$reads" -gt 0 ] && [ "$reads" -lt 100 ] ||
	    _fail "$reads read calls for 20,000 lines:" "$(cut -c1-80 "$T/after")"
}

@test "connect timeout: a host that never answers the SYN, exit 75 near it" {
	# A listener with a full accept queue drops further SYNs: the
	# connect hangs until postie's own deadline (timeout 1).
	"$PYTHON3" -c '
import socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(0)
fill = []
for i in range(3):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(l.getsockname())
    fill.append(c)
open(sys.argv[1] + ".tmp", "w").write(str(l.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(15)
' "$T/port" 3>&- &
	local pid=$! i
	for i in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	FAKE_PORT=$(cat "$T/port")
	write_config "timeout 1"
	run_postie rcpt@example.org <"$(sample_message)"
	kill "$pid" 2>/dev/null || true
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "CONNECT: connection to 127.0.0.1 port $FAKE_PORT timed out"
	assert_elapsed_below 4
	[ "$ELAPSED_MS" -ge 900 ] || _fail "gave up after $ELAPSED_MS ms"
}

@test "TCP_NODELAY is set on the connection (no Nagle stalls)" {
	command -v strace >/dev/null ||
	    _fail "strace missing (tests/ci.sh installs it)"
	fake_start
	write_config
	run --separate-stderr traced -o "$T/trace" -e trace=setsockopt \
	    "$POSTIE" -C "$CONFIG" rcpt@example.org <"$(sample_message)"
	assert_status 0
	grep -q 'TCP_NODELAY, \[1\]' "$T/trace" ||
	    _fail "no TCP_NODELAY:" "$(cat "$T/trace")"
}

@test "SIGPIPE is ignored: -v into a closed stderr pipe still delivers" {
	# Python gives the child the default SIGPIPE disposition and a
	# stderr pipe whose reader is already gone: every -v line is EPIPE.
	fake_start
	write_config
	sample_message >/dev/null
	run "$PYTHON3" -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
with open(sys.argv[1], "rb") as f:
    rc = subprocess.call(sys.argv[2:], stdin=f, stderr=w,
                         restore_signals=True)
print(rc)
' "$T/msg" "$POSTIE" -v -C "$CONFIG" rcpt@example.org
	assert_equal "$output" 0 "postie's exit status (negative: killed)"
	assert_message 1 "$(crlf_copy "$T/msg")"
}

# ---- DSN (RFC 3461), BODY= and SMTPUTF8 requests ----------------------------

@test "DSN offered: -N -R -V become NOTIFY=, RET=, ENVID= (xtext)" {
	fake_start - <<'EOF2'
capabilities PIPELINING, 8BITMIME, DSN
EOF2
	run_postie -N success,Failure -R hdrs -V 'id+1=x~' \
	    a@example.org b@example.org <<<"hi"
	assert_status 0
	assert_stderr_empty
	assert_commands "EHLO client.example.org" \
	    "MAIL FROM:<sender@example.org> RET=HDRS ENVID=id+2B1+3Dx~" \
	    "RCPT TO:<a@example.org> NOTIFY=SUCCESS,FAILURE" \
	    "RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE" \
	    "DATA" "QUIT"
}

@test "DSN offered, no PIPELINING: -N never on each RCPT, -R full" {
	fake_start - <<'EOF2'
capabilities DSN
EOF2
	run_postie -Nnever -Rfull a@example.org b@example.org <<<"hi"
	assert_status 0
	assert_commands "EHLO client.example.org" \
	    "MAIL FROM:<sender@example.org> RET=FULL" \
	    "RCPT TO:<a@example.org> NOTIFY=NEVER" \
	    "RCPT TO:<b@example.org> NOTIFY=NEVER" \
	    "DATA" "QUIT"
}

@test "DSN not offered: -N -R -V are silently left out" {
	fake_start - <<'EOF2'
capabilities PIPELINING, 8BITMIME
EOF2
	run_postie -v -N delay -R full -V abc a@example.org <<<"hi"
	assert_status 0
	assert_command "MAIL FROM:<sender@example.org>"
	assert_command "RCPT TO:<a@example.org>"
	refute_transcript_contains "NOTIFY="
	refute_transcript_contains "RET="
	refute_transcript_contains "ENVID="
	assert_stderr_not_contains "warning"
}

@test "dsn_notify and dsn_return in the account are the defaults" {
	fake_start - <<'EOF2'
capabilities PIPELINING, DSN
EOF2
	write_config "dsn_notify failure,delay" "dsn_return headers"
	run_postie a@example.org <<<"hi"
	assert_status 0
	assert_commands "EHLO client.example.org" \
	    "MAIL FROM:<sender@example.org> RET=HDRS" \
	    "RCPT TO:<a@example.org> NOTIFY=FAILURE,DELAY" \
	    "DATA" "QUIT"
}

@test "-N and -R on the command line win over dsn_notify and dsn_return" {
	fake_start - <<'EOF2'
capabilities PIPELINING, DSN
EOF2
	write_config "dsn_notify failure,delay" "dsn_return headers"
	run_postie -N never -R full a@example.org <<<"hi"
	assert_status 0
	assert_commands "EHLO client.example.org" \
	    "MAIL FROM:<sender@example.org> RET=FULL" \
	    "RCPT TO:<a@example.org> NOTIFY=NEVER" \
	    "DATA" "QUIT"
}

@test "dsn_notify off and dsn_return off send nothing" {
	fake_start - <<'EOF2'
capabilities PIPELINING, DSN
EOF2
	write_config "dsn_notify off" "dsn_return off"
	run_postie a@example.org <<<"hi"
	assert_status 0
	assert_commands "EHLO client.example.org" \
	    "MAIL FROM:<sender@example.org>" "RCPT TO:<a@example.org>" \
	    "DATA" "QUIT"
}

@test "-B 8BITMIME declares BODY=8BITMIME for 7-bit content, -B 7BIT BODY=7BIT" {
	fake_start - <<'EOF2'
capabilities PIPELINING, 8BITMIME
EOF2
	run_postie -B 8bitmime a@example.org <<<"hi"
	assert_status 0
	assert_command "MAIL FROM:<sender@example.org> BODY=8BITMIME"
	fake_stop
	fake_start - <<'EOF2'
capabilities PIPELINING, 8BITMIME
EOF2
	write_config
	run_postie -B7BIT a@example.org <<<"hi"
	assert_status 0
	assert_command "MAIL FROM:<sender@example.org> BODY=7BIT"
}

@test "-B 7BIT with 8-bit content: the content wins, BODY=8BITMIME" {
	fake_start - <<'EOF2'
capabilities PIPELINING, 8BITMIME
EOF2
	run_postie -B 7BIT a@example.org <<<"caf$(printf '\303\251')"
	assert_status 0
	assert_command "MAIL FROM:<sender@example.org> BODY=8BITMIME"
	refute_transcript_contains "BODY=7BIT"
}

@test "-B without 8BITMIME offered: no BODY= at all" {
	fake_start - <<'EOF2'
capabilities PIPELINING
EOF2
	run_postie -B 8BITMIME a@example.org <<<"hi"
	assert_status 0
	assert_command "MAIL FROM:<sender@example.org>"
	refute_transcript_contains "BODY="
}

@test "-U asks for SMTPUTF8 with ASCII addresses when offered" {
	fake_start - <<'EOF2'
capabilities PIPELINING, 8BITMIME, SMTPUTF8
EOF2
	run_postie -U a@example.org <<<"hi"
	assert_status 0
	assert_command "MAIL FROM:<sender@example.org> SMTPUTF8"
	assert_command "RCPT TO:<a@example.org>"
}

@test "-U without SMTPUTF8 offered: ignored for ASCII addresses" {
	fake_start - <<'EOF2'
capabilities PIPELINING, 8BITMIME
EOF2
	run_postie -U a@example.org <<<"hi"
	assert_status 0
	assert_command "MAIL FROM:<sender@example.org>"
	refute_transcript_contains "SMTPUTF8"
}

@test "-U without SMTPUTF8 offered: a UTF-8 address still exits 65" {
	fake_start - <<'EOF2'
capabilities PIPELINING, 8BITMIME
EOF2
	run_postie -U "$(printf 'j\303\266rg@example.org')" <<<"hi"
	assert_status 65
	refute_command_prefix "MAIL"
}

@test "bad -N, -R, -V or -B: exit 64 with a reason, no connection" {
	fake_start
	write_config
	local long
	long=$(printf 'e%.0s' $(seq 101))
	for opt in "-Nbounce" "-Nnever,success" "-Nsuccess,success" \
	    "-Rheaders" "-B9BIT" "-Va b" "-V$long"; do
		run_postie "$opt" a@example.org <<<"hi"
		assert_status 64
		assert_stderr_matches "^postie: (invalid -[NRB] '|envelope id given with -V)"
	done
	run_postie -V 'a b' a@example.org <<<"hi"
	assert_stderr_contains "printable ASCII"
	run_postie -N never,success a@example.org <<<"hi"
	assert_stderr_contains "invalid -N 'never,success'"
	assert_no_connection
}

# -bv: RCPT probes, then RSET and QUIT; never DATA, never stdin.

@test "-bv: all deliverable, exit 0, MAIL, RCPTs, RSET, QUIT, no DATA" {
	fake_start
	run_postie -bv a@example.org root </dev/null
	assert_status 0
	assert_commands "EHLO client.example.org" \
	    "MAIL FROM:<sender@example.org>" "RCPT TO:<a@example.org>" \
	    "RCPT TO:<root@client.example.org>" "RSET" "QUIT"
	assert_equal "$(printf '%s\n' "${lines[@]}")" \
	    "$(printf '%s\n' "a@example.org: deliverable (250 2.1.5 Ok)" \
	    "root@client.example.org: deliverable (250 2.1.5 Ok)")"
	assert_stderr_empty
	assert_no_message
}

@test "-bv: one 550 is rejected, exit 67, a verdict per address" {
	fake_start - <<'EOF2'
on RCPT <bad@example.org> => reply 550 5.1.1 user unknown
EOF2
	run_postie -bv a@example.org bad@example.org c@example.org </dev/null
	assert_status 67
	assert_equal "${lines[0]}" "a@example.org: deliverable (250 2.1.5 Ok)"
	assert_equal "${lines[1]}" \
	    "bad@example.org: rejected (550 5.1.1 user unknown)"
	assert_equal "${lines[2]}" "c@example.org: deliverable (250 2.1.5 Ok)"
	assert_equal "${#lines[@]}" 3
	assert_command "RSET"
	refute_command_prefix "DATA"
}

@test "-bv: one 450 is a temporary failure, exit 75, even beside a 550" {
	fake_start - <<'EOF2'
on RCPT <t@example.org> => reply 450 4.2.0 mailbox busy
EOF2
	run_postie -bv t@example.org a@example.org </dev/null
	assert_status 75
	assert_equal "${lines[0]}" \
	    "t@example.org: temporary failure (450 4.2.0 mailbox busy)"
	assert_equal "${lines[1]}" "a@example.org: deliverable (250 2.1.5 Ok)"
	fake_stop
	fake_start - <<'EOF2'
on RCPT <bad@example.org> => reply 550 5.1.1 user unknown
on RCPT <t@example.org> => reply 450 4.2.0 mailbox busy
EOF2
	write_config
	run_postie -bv bad@example.org t@example.org </dev/null
	assert_status 75
	assert_equal "${#lines[@]}" 2
	refute_command_prefix "DATA"
}

@test "-bv: MAIL refused exits 69 with the reason, no verdicts" {
	for caps in "PIPELINING" ""; do
		fake_start - <<EOF2
capabilities $caps
on MAIL => reply 550 5.7.1 sender refused
EOF2
		write_config
		run_postie -bv a@example.org </dev/null
		assert_status 69
		assert_equal "$output" ""
		assert_stderr_contains "550 5.7.1 sender refused"
		refute_command_prefix "DATA"
		if [ -z "$caps" ]; then
			refute_command_prefix "RCPT"
		fi
		assert_command "QUIT"
		fake_stop
	done
}

@test "-bv: pipelined in one write when offered, one by one when not" {
	fake_start - <<'EOF2'
capabilities PIPELINING
EOF2
	run_postie -bv a@example.org b@example.org </dev/null
	assert_status 0
	assert_segment 'MAIL FROM:<sender@example.org>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRSET\r\n'
	fake_stop
	fake_start - <<'EOF2'
capabilities
EOF2
	write_config
	run_postie -bv a@example.org b@example.org </dev/null
	assert_status 0
	assert_segment 'MAIL FROM:<sender@example.org>\r\n'
	assert_segment 'RCPT TO:<a@example.org>\r\n'
	assert_segment 'RCPT TO:<b@example.org>\r\n'
	assert_segment 'RSET\r\n'
	assert_equal "${#lines[@]}" 2
}

@test "-bv does not read stdin: a pipe that stays open does not block it" {
	fake_start
	run_postie -bv a@example.org < <(sleep 30)
	assert_status 0
	assert_elapsed_below 10
	assert_equal "$output" "a@example.org: deliverable (250 2.1.5 Ok)"
}

# ---- no wait on a delayed ACK ---------------------------------------------------

# $1: an strace -f record of system calls.  Every poll() that waits for
# the server's bytes (POLLIN on a connected socket) comes after a
# setsockopt(TCP_QUICKACK) on that socket since the previous wait: the
# kernel then acknowledges at once what arrived, so a server that wrote
# twice (TLS session tickets, then its reply) is not held by Nagle's
# algorithm until our delayed ACK, 40 ms later.
assert_ack_before_each_wait() {
	awk '
	match($0, /connect\([0-9]+,/) {
		fd = substr($0, RSTART + 8, RLENGTH - 9); sock[fd] = 1; next
	}
	match($0, /setsockopt\([0-9]+, SOL_TCP, TCP_QUICKACK, \[1\]/) {
		s = substr($0, RSTART + 11); sub(/,.*/, "", s); acked[s] = 1
		next
	}
	match($0, /poll\(\[\{fd=[0-9]+, events=POLLIN/) {
		s = substr($0, RSTART + 10); sub(/,.*/, "", s)
		if (!(s in sock))
			next
		waits++
		if (!acked[s]) {
			print "a wait without an immediate ACK first: " $0
			bad = 1
		}
		acked[s] = 0
	}
	END {
		if (waits < 3) {
			print "only " waits + 0 " waits for the server traced"
			bad = 1
		}
		exit bad
	}' "$1" || _fail "$(cut -c1-100 "$1")"
}

# A scenario whose every reply comes 200 ms late, so that postie really
# waits for each (a reply already there is read without a wait).
slow_replies() {
	cat >"$T/slow" <<'EOF'
on CONNECT
    sleep 200
    default
on *
    sleep 200
    default
EOF
}

# postie against the fake server that was started, traced: the message
# arrives, and every wait for the server asked for an immediate ACK.
send_traced_acks() {
	command -v strace >/dev/null ||
	    _fail "strace missing (tests/ci.sh installs it)"
	sample_message >/dev/null
	run --separate-stderr traced -f -o "$T/calls" \
	    -e trace=connect,setsockopt,poll \
	    "$POSTIE" -C "$CONFIG" rcpt@example.org <"$T/msg"
	assert_status 0
	assert_message 1 "$(crlf_copy "$T/msg")"
	assert_ack_before_each_wait "$T/calls"
}

@test "every wait for the server's reply asks for an immediate ACK first (plain)" {
	slow_replies
	fake_start "$T/slow"
	write_config
	send_traced_acks
}

@test "every wait for the server asks for an immediate ACK first: STARTTLS, its handshake too" {
	slow_replies
	fake_start_tls valid "$T/slow"
	write_tls_config
	send_traced_acks
}

@test "every wait for the server asks for an immediate ACK first: implicit TLS" {
	slow_replies
	fake_start_tls valid "$T/slow" --tls-wrap
	write_tls_config "tls_starttls off"
	send_traced_acks
}

# ---- CHUNKING (RFC 3030) and QUIT ---------------------------------------------

CHUNK_CAPS='capabilities PIPELINING, SIZE, 8BITMIME, CHUNKING, ENHANCEDSTATUSCODES'

# $1 (a file): its bytes as conn-N.recv shows them (CR LF escaped).
recv_escaped() {
	"$PYTHON3" -c '
import sys
d = open(sys.argv[1], "rb").read()
sys.stdout.write(d.replace(b"\\", b"\\\\").replace(b"\r", b"\\r")
                 .replace(b"\n", b"\\n").decode("ascii"))' "$1"
}

# A message of about 330 KiB in $T/msg: over BDAT_EARLY_MAX (256 KiB).
large_message() {
	sample_message >/dev/null
	awk 'BEGIN { for (i = 0; i < 6000; i++)
	    printf "line %05d of a larger message, long enough to count\n", i }' \
	    >>"$T/msg"
}

@test "CHUNKING: MAIL, RCPT and BDAT <size> LAST with the content in one write; the content as it is" {
	fake_start - <<<"$CHUNK_CAPS"
	{
		sample_message >/dev/null
		printf '.leading dot\n.\n..\nlast\n'
	} >>"$T/msg"
	run_postie -i rcpt@example.org <"$T/msg"
	assert_status 0
	assert_stderr_empty
	crlf_copy "$T/msg" >/dev/null
	size=$(file_size "$T/expected")
	assert_commands "EHLO client.example.org" "$(mail_from "$T/msg")" \
	    "RCPT TO:<rcpt@example.org>" "BDAT $size LAST" "QUIT"
	assert_segment "$(mail_from "$T/msg")\\r\\nRCPT TO:<rcpt@example.org>\\r\\nBDAT $size LAST\\r\\n$(recv_escaped "$T/expected")"
	# not dot-stuffed: the chunk is exactly the message
	assert_message 1 "$T/expected"
	cmp "$FAKE_DIR/msg-1.raw" "$T/expected"
	assert_equal "$(fake_reply_codes 1)" 250 "final reply"
}

@test "CHUNKING without PIPELINING: MAIL, RCPT and BDAT each wait for their reply" {
	fake_start - <<<'capabilities SIZE, 8BITMIME, CHUNKING'
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	crlf_copy "$T/msg" >/dev/null
	size=$(file_size "$T/expected")
	assert_segment "$(mail_from "$T/msg")\\r\\n"
	assert_segment 'RCPT TO:<rcpt@example.org>\r\n'
	assert_segment "BDAT $size LAST\\r\\n$(recv_escaped "$T/expected")"
	assert_message 1 "$T/expected"
}

@test "CHUNKING: a message over 256 KiB waits for the RCPT replies; one of two refused, the other gets it" {
	fake_start - <<EOF
$CHUNK_CAPS
on RCPT <bad@example.org> => reply 550 5.1.1 <bad@example.org>: no such user
EOF
	large_message
	run_postie rcpt@example.org bad@example.org <"$T/msg"
	assert_status 67
	assert_stderr_contains "bad@example.org"
	crlf_copy "$T/msg" >/dev/null
	size=$(file_size "$T/expected")
	[ "$size" -gt 262144 ] || _fail "message too small: $size"
	assert_segment "$(mail_from "$T/msg")\\r\\nRCPT TO:<rcpt@example.org>\\r\\nRCPT TO:<bad@example.org>\\r\\n"
	assert_message 1 "$T/expected"
	assert_equal "$(fake_envelope 1 | tail -n 1)" "RCPT TO:<rcpt@example.org>" \
	    "recipients of the message"
}

@test "CHUNKING: every recipient refused: the pipelined chunk is refused too, nothing stored, 67" {
	fake_start - <<EOF
$CHUNK_CAPS
on RCPT => reply 550 5.1.1 no such user
EOF
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 67
	assert_stderr_contains "550 5.1.1 no such user"
	assert_no_message
	# the 554 to BDAT is not a second error
	assert_stderr_one_line
}

@test "CHUNKING: every recipient refused, message over 256 KiB: no BDAT at all" {
	fake_start - <<EOF
$CHUNK_CAPS
on RCPT => reply 550 5.1.1 no such user
EOF
	large_message
	run_postie rcpt@example.org <"$T/msg"
	assert_status 67
	assert_no_message
	refute_command_prefix "BDAT"
}

@test "CHUNKING: the reply to BDAT LAST decides as the final dot's would (452: 75, 554: 69)" {
	fake_start - <<EOF
$CHUNK_CAPS
on BDAT => reply 452 4.3.1 insufficient system storage
EOF
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 75
	assert_stderr_contains "452 4.3.1 insufficient system storage"
	fake_stop
	fake_start - <<EOF
$CHUNK_CAPS
on DOT => reply 554 5.6.0 content refused
EOF
	write_config
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 69
	assert_stderr_contains "554 5.6.0 content refused"
}

@test "CHUNKING: the server drops the connection instead of answering BDAT: 75" {
	fake_start - <<EOF
$CHUNK_CAPS
on BDAT => drop
EOF
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "connection closed by the server"
	# the server got the chunk but never said it took it
	assert_equal "$(fake_reply_codes 1)" "" "final reply"
}

@test "no CHUNKING offered: DATA and the dot-stuffed content, as before" {
	fake_start - <<<'capabilities PIPELINING, SIZE, 8BITMIME'
	{
		sample_message >/dev/null
		printf '.leading dot\n'
	} >>"$T/msg"
	run_postie -i rcpt@example.org <"$T/msg"
	assert_status 0
	assert_commands "EHLO client.example.org" "$(mail_from "$T/msg")" \
	    "RCPT TO:<rcpt@example.org>" "DATA" "QUIT"
	grep -q '^\.\.leading dot' "$FAKE_DIR/msg-1.raw" ||
	    _fail "not dot-stuffed" "$(cat "$FAKE_DIR/msg-1.raw")"
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "LMTP keeps DATA even when CHUNKING is offered" {
	fake_start - --lmtp <<<"$CHUNK_CAPS"
	write_config "protocol lmtp"
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_command "DATA"
	refute_command_prefix "BDAT"
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "QUIT is sent but its reply not awaited: a server that never answers it costs nothing" {
	fake_start - <<'EOF'
on QUIT => freeze
EOF
	write_config "timeout 30"
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_stderr_empty
	assert_message 1 "$(crlf_copy "$T/msg")"
	# waiting for the 221 would take the timeout (30 s, or 5 s for QUIT)
	assert_elapsed_below 3
	for _ in $(seq 1 100); do
		grep -qx QUIT "$FAKE_DIR/conn-1.cmds" && break
		sleep 0.05
	done
	grep -qx QUIT "$FAKE_DIR/conn-1.cmds" || _fail "no QUIT received"
}


@test "CHUNKING, plain, a large message: the chunk goes from the spool by sendfile, byte for byte" {
	command -v strace >/dev/null ||
	    _fail "strace missing (tests/ci.sh installs it)"
	fake_start - <<<"$CHUNK_CAPS"
	write_config
	large_message
	run --separate-stderr traced -f -o "$T/calls" -e trace=sendfile \
	    "$POSTIE" -C "$CONFIG" rcpt@example.org <"$T/msg"
	assert_status 0
	crlf_copy "$T/msg" >/dev/null
	size=$(file_size "$T/expected")
	assert_message 1 "$T/expected"
	assert_equal "$(cat "$FAKE_DIR/msg-1.bdat")" "BDAT $size LAST" "BDAT lines"
	# every byte of the chunk, and no more, through sendfile(2)
	sent=$(sed -n 's/.*sendfile(.*= \([0-9][0-9]*\)$/\1/p' "$T/calls" |
	    awk '{ n += $1 } END { print n + 0 }')
	assert_equal "$sent" "$size" "bytes sent by sendfile"
}

@test "CHUNKING over TLS, a large message: copied through TLS, byte for byte" {
	fake_start_tls valid - <<<"$CHUNK_CAPS"
	write_tls_config
	large_message
	run_postie rcpt@example.org <"$T/msg"
	assert_status 0
	crlf_copy "$T/msg" >/dev/null
	assert_message 1 "$T/expected"
	assert_equal "$(cat "$FAKE_DIR/msg-1.bdat")" \
	    "BDAT $(file_size "$T/expected") LAST" "BDAT lines"
}
