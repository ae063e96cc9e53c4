#!/usr/bin/env bats
# shellcheck shell=bash
#
# The message path end to end: what postie reads on stdin against the
# bytes the fake server received (tests/fakesmtp.py records the content
# dot-unstuffed in msg-M, as sent in msg-M.raw) and the envelope it got.
# Header rewriting and line endings are unit-tested in
# tests/unit/test_header.c; here the built binary proves the same on the
# wire.

load common

# A header that leaves nothing for postie to add, LF line endings.
fixed_header() {
	printf '%s\n' \
	    'From: Sender <sender@example.org>' \
	    'To: rcpt@example.org' \
	    'Subject: test' \
	    'Date: Sun, 22 Nov 2026 10:00:00 +0000' \
	    'Message-ID: <test@example.org>'
}

# The same with CRLF, as it arrives.
fixed_header_crlf() {
	fixed_header | sed 's/$/\r/'
}

# The header of delivered message 1, CRs removed, one field a line.
delivered_header() {
	sed -n '/^\r\{0,1\}$/q;p' "$(fake_message_path 1)" | tr -d '\r'
}

@test "dot lines: stuffed on the wire, exact after unstuffing, a lone dot does not end the message" {
	fake_start
	{ fixed_header; printf '\n.\n..\n.hidden\nmiddle\n.\n\n. \nlast\n'; } \
	    >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	assert_message 1 "$(crlf_copy "$T/in")"
	fake_message_raw 1 >"$T/raw"
	{ fixed_header_crlf; printf '\r\n..\r\n...\r\n..hidden\r\nmiddle\r\n..\r\n\r\n.. \r\nlast\r\n.\r\n'; } \
	    >"$T/want-raw"
	cmp "$T/want-raw" "$T/raw" || _fail "stuffed content differs"
	refute_log_contains 'bare CR/LF'
}

@test "-i and -oi change nothing: postie always reads to end of input" {
	fake_start "" --connections 2
	{ fixed_header; printf '\nbefore\n.\nafter\n'; } >"$T/in"
	run_postie -i rcpt@example.org <"$T/in"
	assert_status 0
	run_postie -oi rcpt@example.org <"$T/in"
	assert_status 0
	assert_message 1 "$(crlf_copy "$T/in")"
	assert_message 2 "$(crlf_copy "$T/in")"
}

@test "LF, CRLF and CRs before an LF are one line end each; a stray CR is a space" {
	fake_start
	{ fixed_header; printf '\nlf\ncr\rcrlf\r\nmix\r\r\n\nend\n'; } >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	{ fixed_header_crlf; printf '\r\nlf\r\ncr crlf\r\nmix\r\n\r\nend\r\n'; } \
	    >"$T/want"
	assert_message 1 "$T/want"
	refute_log_contains 'bare CR/LF'
}

@test "a stray CR in the body arrives as a space, one for each CR" {
	fake_start
	{ fixed_header; printf '\none\rtwo\nthree\r\r\r four\r\n\rfive\n'; } \
	    >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	{ fixed_header_crlf; printf '\r\none two\r\nthree    four\r\n five\r\n'; } \
	    >"$T/want"
	assert_message 1 "$T/want"
	refute_log_contains 'bare CR/LF'
}

@test "-t: a CR in a header value is a space, not a line end (no Bcc smuggled in)" {
	# An application that strips only LF from a user's subject: the CR
	# must not start a Bcc field that -t would send to.
	fake_start
	printf '%s\n' 'From: sender@example.org' 'To: rcpt@example.org' \
	    $'Subject: hi\rBcc: victim@example.org' \
	    'Date: Sun, 22 Nov 2026 10:00:00 +0000' \
	    'Message-ID: <test@example.org>' '' 'body' >"$T/in"
	run_postie -t <"$T/in"
	assert_status 0
	assert_equal "$(fake_envelope 1 | tail -n +2 | tr -d '\r')" \
	    'RCPT TO:<rcpt@example.org>' "RCPT lines"
	refute_transcript_contains 'RCPT TO:<victim@example.org>'
	printf '%s\r\n' 'From: sender@example.org' 'To: rcpt@example.org' \
	    'Subject: hi Bcc: victim@example.org' \
	    'Date: Sun, 22 Nov 2026 10:00:00 +0000' \
	    'Message-ID: <test@example.org>' '' 'body' >"$T/want"
	assert_message 1 "$T/want"
}

@test "CR CR LF ends one line: the header goes on, its Bcc is a real field" {
	# Read as two line ends, "To: a\r\r\n" would end the header there
	# and put the Bcc line into the body.  It is one line end: the Bcc
	# is removed, and is a recipient with -t only.
	fake_start "" --connections 2
	printf '%s\r\r\n' 'To: a@example.org' 'Bcc: s@example.org' \
	    'From: sender@example.org' 'Subject: crcrlf' \
	    'Date: Sun, 22 Nov 2026 10:00:00 +0000' \
	    'Message-ID: <test@example.org>' '' 'body' >"$T/in"
	run_postie a@example.org <"$T/in"
	assert_status 0
	run_postie -t <"$T/in"
	assert_status 0
	printf '%s\r\n' 'To: a@example.org' 'From: sender@example.org' \
	    'Subject: crcrlf' 'Date: Sun, 22 Nov 2026 10:00:00 +0000' \
	    'Message-ID: <test@example.org>' '' 'body' >"$T/want"
	assert_message 1 "$T/want"
	assert_message 2 "$T/want"
	assert_equal "$(fake_envelope 1 | tail -n +2 | tr -d '\r')" \
	    'RCPT TO:<a@example.org>' "RCPT lines without -t"
	assert_equal "$(fake_envelope 2 | tail -n +2 | tr -d '\r')" \
	    "$(printf '%s\n' 'RCPT TO:<a@example.org>' \
	    'RCPT TO:<s@example.org>')" "RCPT lines with -t"
}

@test "LF lines and a stray CR in the first line: LF line ends, the CR a space" {
	# One LF in the input, anywhere: its CRs are not line ends.
	fake_start
	{ printf 'Subject: one\rtwo\n'; fixed_header; printf '\nbody\rend\n'; } \
	    >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	{ printf 'Subject: one two\r\n'; fixed_header_crlf;
	    printf '\r\nbody end\r\n'; } >"$T/want"
	assert_message 1 "$T/want"
}

@test "CR-only input (no LF at all): every CR is a line end, header included" {
	fake_start
	fixed_header | tr '\n' '\r' >"$T/in"
	printf '\rbody\r\rafter an empty line\r' >>"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	{ fixed_header_crlf; printf '\r\nbody\r\n\r\nafter an empty line\r\n'; } \
	    >"$T/want"
	assert_message 1 "$T/want"
}

@test "CR-only for 4 MiB, then LF lines: refused (65), nothing sent, no Bcc smuggled" {
	# An application that writes an attacker's value first, padded past
	# the 4 MiB the line-ending decision looks at, then its own LF lines.
	fake_start
	{
		printf 'X-Note: a\rBcc: victim@example.org\r\r'
		head -c 4200000 /dev/zero | tr '\0' p
		printf '\nTo: rcpt@example.org\nSubject: hi\n\nbody\n'
	} >"$T/in"
	run_postie -t <"$T/in"
	assert_status 65
	assert_stderr_one_line
	assert_stderr_contains "the message ends its lines with CR alone for its first 4 MiB, then with LF: mixed line endings are refused"
	assert_no_connection
}

@test "a missing final newline is added, a lone dot last stays data" {
	fake_start "" --connections 2
	{ fixed_header; printf '\nno newline at the end'; } >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	{ fixed_header_crlf; printf '\r\nno newline at the end\r\n'; } >"$T/want"
	assert_message 1 "$T/want"

	{ fixed_header; printf '\ntext\n.'; } >"$T/in2"
	run_postie rcpt@example.org <"$T/in2"
	assert_status 0
	{ fixed_header_crlf; printf '\r\ntext\r\n.\r\n'; } >"$T/want2"
	assert_message 2 "$T/want2"
	fake_message_raw 2 | tail -c 10 | od -An -c | tr -s ' ' >"$T/tail"
	grep -q 't \\r \\n \. \. \\r \\n \. \\r \\n' "$T/tail" ||
	    _fail "end of DATA: $(cat "$T/tail")"
}

@test "8-bit header only: BODY=8BITMIME when offered" {
	fake_start
	printf '%s\n' 'From: sender@example.org' $'Subject: caf\303\251' \
	    'Date: Sun, 22 Nov 2026 10:00:00 +0000' \
	    'Message-ID: <test@example.org>' '' 'plain ascii' >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	grep -q 'BODY=8BITMIME' <(fake_commands) ||
	    _fail "MAIL lacks BODY=8BITMIME"
	assert_message 1 "$(crlf_copy "$T/in")"
}

@test "7-bit message: no BODY= parameter" {
	fake_start
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	refute_command_prefix "MAIL FROM:<sender@example.org> BODY"
	! grep -q 'BODY=' <(fake_commands) || _fail "MAIL has BODY="
}

@test "NUL bytes are stripped, counted in a warning, the rest delivered" {
	fake_start
	{ fixed_header; printf '\na\000b\nc\000\000\n'; } >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	assert_stderr_contains "3 NUL bytes"
	{ fixed_header_crlf; printf '\r\nab\r\nc\r\n'; } >"$T/want"
	assert_message 1 "$T/want"
}

@test "Bcc and Resent-Bcc never reach the server, folded ones included" {
	fake_start
	{
		fixed_header
		printf '%s\n' 'Bcc: hidden@example.org,' \
		    '	hidden2@example.org' 'Resent-Bcc: r@example.org' \
		    'X-After: kept' '' 'Bcc: in the body stays'
	} >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	{
		fixed_header_crlf
		printf 'X-After: kept\r\n\r\nBcc: in the body stays\r\n'
	} >"$T/want"
	assert_message 1 "$T/want"
	assert_commands "EHLO client.example.org" \
	    "$(fake_commands | grep '^MAIL')" "RCPT TO:<rcpt@example.org>" \
	    "DATA" "QUIT"
}

@test "-t: recipients from To/Cc/Bcc in order, argv first, no duplicates" {
	fake_start
	printf '%s\n' 'From: sender@example.org' \
	    'To: a@example.org, "B Person" <b@example.org>' \
	    'Cc: b@example.org (again), c@example.org' \
	    'To: team: d@example.org, a@example.org;,' \
	    '  "first.last"@example.org' \
	    'Bcc: e@example.org, c@EXAMPLE.ORG' \
	    'Subject: t' '' 'body' >"$T/in"
	run_postie -t z@example.org a@example.org <"$T/in"
	assert_status 0
	fake_envelope 1 | tail -n +2 | tr -d '\r' >"$T/rcpts"
	printf '%s\n' 'RCPT TO:<z@example.org>' 'RCPT TO:<a@example.org>' \
	    'RCPT TO:<b@example.org>' 'RCPT TO:<c@example.org>' \
	    'RCPT TO:<d@example.org>' 'RCPT TO:<"first.last"@example.org>' \
	    'RCPT TO:<e@example.org>' >"$T/want"
	diff "$T/want" "$T/rcpts" >&2 || _fail "RCPT lines differ"
	! grep -q '^Bcc' <(delivered_header) || _fail "Bcc delivered"
	grep -qx 'Cc: b@example.org (again), c@example.org' \
	    <(delivered_header) || _fail "Cc changed"
}

@test "-t: a quoted local part with a space is legal in a header" {
	fake_start
	printf '%s\n' 'From: sender@example.org' \
	    'To: "john doe"@example.org' 'Subject: q' '' 'body' >"$T/in"
	run_postie -t <"$T/in"
	assert_status 0
	fake_envelope 1 | tail -n +2 | tr -d '\r' >"$T/rcpts"
	printf '%s\n' 'RCPT TO:<"john doe"@example.org>' >"$T/want"
	diff "$T/want" "$T/rcpts" >&2 || _fail "RCPT lines differ"
}

@test "-t with a Resent- header: only Resent-To/Cc/Bcc count" {
	fake_start
	printf '%s\n' 'Resent-From: fwd@example.org' \
	    'Resent-To: r1@example.org' 'Resent-Bcc: r2@example.org' \
	    'From: orig@example.org' 'To: old@example.org' \
	    'Bcc: oldbcc@example.org' 'Subject: fwd' '' 'body' >"$T/in"
	run_postie -t <"$T/in"
	assert_status 0
	fake_envelope 1 | tail -n +2 | tr -d '\r' >"$T/rcpts"
	printf '%s\n' 'RCPT TO:<r1@example.org>' 'RCPT TO:<r2@example.org>' \
	    >"$T/want"
	diff "$T/want" "$T/rcpts" >&2 || _fail "RCPT lines differ"
	# Field names only: the generated Message-ID is random hex, which
	# holds "bcc" about once in 200 runs.
	! grep -qiE '^(resent-)?bcc[[:blank:]]*:' <(delivered_header) ||
	    _fail "a Bcc was delivered"
}

@test "-t without any recipient: exit 64, nothing sent" {
	fake_start
	printf '%s\n' 'From: sender@example.org' 'Subject: s' '' 'b' >"$T/in"
	run_postie -t <"$T/in"
	assert_status 64
	assert_stderr_contains "no recipients found in the message or on the command line"
	assert_no_connection
}

@test "-t with a malformed To: exit 65 naming the header" {
	fake_start
	printf '%s\n' 'To: <broken@example.org' 'Subject: s' '' 'b' >"$T/in"
	run_postie -t <"$T/in"
	assert_status 65
	assert_stderr_contains "To"
	assert_no_connection
}

@test "From, Date and Message-ID are added once when missing" {
	fake_start
	printf '%s\n' 'To: rcpt@example.org' 'Subject: bare' '' 'body' \
	    >"$T/in"
	run_postie -F 'Cron Daemon' rcpt@example.org <"$T/in"
	assert_status 0
	delivered_header >"$T/h"
	assert_equal "$(grep -c '^From: ' "$T/h")" 1 "From fields"
	assert_equal "$(grep -c '^Date: ' "$T/h")" 1 "Date fields"
	assert_equal "$(grep -c '^Message-ID: ' "$T/h")" 1 "Message-ID fields"
	grep -qx 'From: Cron Daemon <sender@example.org>' "$T/h" ||
	    _fail "From: $(grep '^From' "$T/h")"
	grep -Eqx 'Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}' "$T/h" ||
	    _fail "Date: $(grep '^Date' "$T/h")"
	grep -Eqx 'Message-ID: <[0-9]{14}\.[0-9a-f]+@[^>]+>' "$T/h" ||
	    _fail "Message-ID: $(grep '^Message-ID' "$T/h")"
	head -n 2 "$T/h" | tr '\n' '|' | grep -qx 'To: rcpt@example.org|Subject: bare|' ||
	    _fail "original fields not first"
}

@test "present From, Date and Message-ID are left alone" {
	fake_start
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "set_from_header on replaces From; off adds none" {
	fake_start "" --connections 2
	write_config "set_from_header on"
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	grep -qx 'From: sender@example.org' <(delivered_header) ||
	    _fail "From: $(delivered_header | grep '^From')"
	write_config "set_from_header off" "set_date_header off" \
	    "set_msgid_header off"
	printf 'Subject: s\n\nb\n' >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	printf 'Subject: s\r\n\r\nb\r\n' >"$T/want"
	assert_message 2 "$T/want"
}

@test "a leading mbox From line is dropped" {
	fake_start
	{ printf 'From sender@example.org Sun Nov 22 10:00:00 2026\n'; fixed_header;
	    printf '\nFrom the body\n'; } >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	{ fixed_header_crlf; printf '\r\nFrom the body\r\n'; } >"$T/want"
	assert_message 1 "$T/want"
}

@test "a body without a header gets the added fields and an empty line" {
	fake_start
	printf 'just a line of text\nand another\n' >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	delivered_header >"$T/h"
	grep -q '^From: sender@example.org$' "$T/h" || _fail "no From"
	grep -q '^Date: ' "$T/h" || _fail "no Date"
	# The body follows the empty line intact.
	sed '1,/^\r$/d' "$(fake_message_path 1)" >"$T/body"
	printf 'just a line of text\r\nand another\r\n' >"$T/want"
	cmp "$T/want" "$T/body" || _fail "body differs"
}

@test "header without a body" {
	fake_start
	fixed_header >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	{ fixed_header_crlf; printf '\r\n'; } >"$T/want"
	assert_message 1 "$T/want"
}

@test "bare local names are qualified: -f, recipients, From/To/Cc" {
	fake_start
	write_config "maildomain example.net"
	printf '%s\n' 'From: root' 'To: Admin <admin>, x@example.org' \
	    'Cc: ops,' '	other@example.org' 'Subject: root' \
	    'Date: Sun, 22 Nov 2026 10:00:00 +0000' \
	    'Message-ID: <test@example.org>' '' 'root' >"$T/in"
	run_postie -f fail2ban -t <"$T/in"
	assert_status 0
	grep -q '^MAIL FROM:<fail2ban@example.net>' <(fake_commands) ||
	    _fail "MAIL FROM not qualified"
	fake_envelope 1 | tail -n +2 | tr -d '\r' >"$T/rcpts"
	printf '%s\n' 'RCPT TO:<admin@example.net>' 'RCPT TO:<x@example.org>' \
	    'RCPT TO:<ops@example.net>' 'RCPT TO:<other@example.org>' \
	    >"$T/want"
	diff "$T/want" "$T/rcpts" >&2 || _fail "RCPT lines differ"
	printf '%s\r\n' 'From: root@example.net' \
	    'To: Admin <admin@example.net>, x@example.org' \
	    'Cc: ops@example.net,' '	other@example.org' 'Subject: root' \
	    'Date: Sun, 22 Nov 2026 10:00:00 +0000' \
	    'Message-ID: <test@example.org>' '' 'root' >"$T/want"
	assert_message 1 "$T/want"
}

@test "aliases map local recipients; default catches the rest" {
	fake_start
	printf '%s\n' '# system aliases' 'root: admin@example.org, ops' \
	    'default: catchall@example.org' >"$T/aliases"
	write_config "aliases $T/aliases" "maildomain example.net"
	run_postie root someone x@example.org <"$(sample_message)"
	assert_status 0
	fake_envelope 1 | tail -n +2 | tr -d '\r' >"$T/rcpts"
	printf '%s\n' 'RCPT TO:<admin@example.org>' 'RCPT TO:<ops@example.net>' \
	    'RCPT TO:<catchall@example.org>' 'RCPT TO:<x@example.org>' \
	    >"$T/want"
	diff "$T/want" "$T/rcpts" >&2 || _fail "RCPT lines differ"
}

@test "undisclosed_recipients: one To in the header, the envelope unchanged" {
	fake_start
	write_config "undisclosed_recipients on"
	printf '%s\n' 'From: sender@example.org' 'To: a@example.org' \
	    'Cc: b@example.org' 'Subject: s' \
	    'Date: Sun, 22 Nov 2026 10:00:00 +0000' \
	    'Message-ID: <test@example.org>' '' 'b' >"$T/in"
	run_postie -t <"$T/in"
	assert_status 0
	fake_envelope 1 | tail -n +2 | tr -d '\r' >"$T/rcpts"
	printf '%s\n' 'RCPT TO:<a@example.org>' 'RCPT TO:<b@example.org>' \
	    >"$T/want"
	diff "$T/want" "$T/rcpts" >&2 || _fail "RCPT lines differ"
	delivered_header >"$T/h"
	assert_equal "$(grep -c '^To: ' "$T/h")" 1 "To fields"
	grep -qx 'To: undisclosed-recipients:;' "$T/h" || _fail "no undisclosed To"
	! grep -q '^Cc:' "$T/h" || _fail "Cc delivered"
}

@test "a large body (8 MiB, no final newline) arrives exactly" {
	fake_start
	{
		fixed_header
		echo
		head -c 6000000 /dev/zero | tr '\0' 'x' | fold -w 100
		printf '.leading dot\n'
		head -c 2000000 /dev/zero | tr '\0' 'y' | fold -w 1000
	} >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	# sed keeps the missing final newline: "y\r" gets its LF.
	crlf_copy "$T/in" "$T/want" >/dev/null
	printf '\n' >>"$T/want"
	assert_message 1 "$T/want"
}

@test "a header section over 4 MiB: exit 65, nothing sent" {
	fake_start
	{
		fixed_header
		for i in $(seq 1 50000); do
			echo "X-Filler-$i: 0123456789012345678901234567890123456789012345678901234567890123456789012345"
		done
		printf '\nbody\n'
	} >"$T/in"
	run_postie rcpt@example.org <"$T/in"
	assert_status 65
	assert_stderr_contains "header section larger than 4 MiB"
	assert_no_connection
}

@test "a read error on stdin: exit 74, nothing sent" {
	fake_start
	run_postie rcpt@example.org </
	assert_status 74
	assert_stderr_contains "cannot read the message"
	assert_no_connection
}

@test "killed while reading stdin: nothing is sent" {
	fake_start
	write_config
	mkfifo "$T/fifo"
	"$POSTIE" -C "$CONFIG" rcpt@example.org <"$T/fifo" 2>/dev/null 3>&- &
	local pid=$!
	exec 4>"$T/fifo"
	fixed_header >&4
	printf '\nfirst half of the body\n' >&4
	sleep 0.3
	kill -TERM "$pid"
	wait "$pid" || true
	exec 4>&-
	assert_no_connection
}

@test "the spool leaves no file behind in TMPDIR" {
	fake_start
	mkdir "$T/tmp"
	TMPDIR=$T/tmp run_postie rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_equal "$(find "$T/tmp" -mindepth 1 | wc -l)" 0 "files in TMPDIR"
}

@test "while talking to the server the spool is unlinked, mode 0600" {
	# The server waits before its greeting: postie has spooled the whole
	# message by then.  Its spool must be an open, already unlinked file
	# that only the owner could have read, even under umask 000.
	local pid fd link mode spool=''
	fake_start - <<'EOF'
on CONNECT
	sleep 1500
	default
EOF
	write_config
	mkdir "$T/tmp"
	sample_message >/dev/null
	(umask 000; TMPDIR=$T/tmp exec "$POSTIE" -C "$CONFIG" rcpt@example.org \
	    <"$T/msg" >/dev/null 2>"$T/err") &
	pid=$!
	sleep 0.7
	for fd in /proc/"$pid"/fd/*; do
		link=$(readlink "$fd") || continue
		if [[ "$link" == "$T/tmp/"* ]]; then
			spool=$link
			mode=$(stat -L -c %a "$fd")
		fi
	done
	local found
	found=$(find "$T/tmp" -mindepth 1 | wc -l)
	wait "$pid" || _fail "postie failed: $(cat "$T/err")"
	[ -n "$spool" ] || _fail "no open spool file under \$TMPDIR"
	[[ "$spool" == *" (deleted)" ]] || _fail "spool not unlinked: $spool"
	assert_equal "$mode" 600 "spool mode"
	assert_equal "$found" 0 "files in TMPDIR during the session"
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "the spool cannot be written: disk full 75 (try again), no TMPDIR 74; nothing sent" {
	# A 64 KiB tmpfs as TMPDIR, in a private mount namespace, and a
	# 2 MB message: ENOSPC while spooling.  A full disk is temporary:
	# cron and PHP drop mail on any status but 75.
	[ "$(id -u)" -eq 0 ] && unshare -m true ||
	    _fail "needs root and unshare -m (a small private tmpfs)"
	fake_start "" --connections 2
	write_config
	sample_message >/dev/null
	head -c 2000000 /dev/zero | tr '\0' a | fold -w 70 >>"$T/msg"
	mkdir "$T/small"
	cat >"$T/wrap" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs "\$0" &&
    TMPDIR="\$0" exec "\$@"' "$T/small" "$POSTIE" "\$@"
EOF
	chmod +x "$T/wrap"
	POSTIE=$T/wrap run_postie rcpt@example.org <"$T/msg"
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "No space left on device"
	assert_no_connection

	TMPDIR=$T/missing run_postie rcpt@example.org <"$T/msg"
	assert_status 74
	assert_stderr_one_line
	assert_stderr_contains "$T/missing"
	assert_no_connection
}

# ---- the envelope sender ------------------------------------------------------

# The sender of connection N's MAIL command, with its angle brackets.
mail_from_of() {
	fake_conn_done "$1"
	sed -n 's/^MAIL FROM:\(<[^>]*>\).*/\1/p' "$FAKE_DIR/conn-$1.cmds"
}

# Run postie with config lines (no `from` unless given) and arguments.
#   send_as "CONFIG LINES" ARGS...
send_as() {
	local conf=$1
	shift
	write_config
	sed -i '/^from /d' "$CONFIG"
	[ -z "$conf" ] || printf '%s\n' "$conf" >>"$CONFIG"
	run_postie "$@" rcpt@example.org <"$(sample_message)"
	assert_status 0
}

@test "envelope sender: -f/-r, else from, else the login name qualified" {
	local me
	me=$(id -un)
	fake_start "" --connections 8
	# 1: no -f, no from: login name @ maildomain.
	send_as "maildomain example.net"
	# 2: no maildomain: login name @ the EHLO domain.
	send_as ""
	# 3: the config's from.
	send_as "from cfg@example.org"
	# 4: -f wins over from; 5: -r is -f; 6: attached -rX.
	send_as "from cfg@example.org" -f cli@example.org
	send_as "from cfg@example.org" -r r@example.org
	send_as "from cfg@example.org" -rattached@example.org
	# 7: allow_from_override off: the config's from despite -f.
	send_as "$(printf '%s\n' 'from cfg@example.org' \
	    'allow_from_override off')" -f cli@example.org
	# 8: auto_from on: login name @ maildomain, not from.
	send_as "$(printf '%s\n' 'from cfg@example.org' 'auto_from on' \
	    'maildomain example.net')"
	assert_equal "$(mail_from_of 1)" "<$me@example.net>" "no from, maildomain"
	assert_equal "$(mail_from_of 2)" "<$me@client.example.org>" \
	    "no from, domain"
	assert_equal "$(mail_from_of 3)" "<cfg@example.org>" "from"
	assert_equal "$(mail_from_of 4)" "<cli@example.org>" "-f"
	assert_equal "$(mail_from_of 5)" "<r@example.org>" "-r"
	assert_equal "$(mail_from_of 6)" "<attached@example.org>" "-rX"
	assert_equal "$(mail_from_of 7)" "<cfg@example.org>" \
	    "allow_from_override off"
	assert_equal "$(mail_from_of 8)" "<$me@example.net>" "auto_from on"
}

@test "a from pattern is never a sender: 78 without -f; -f must match it when not overridable" {
	fake_start "" --connections 3
	write_config "from *@example.org"
	# No sender given: a pattern is not an address.
	run_postie rcpt@example.org <"$(sample_message)"
	assert_status 78
	assert_stderr_one_line
	assert_stderr_contains "account 'default': from '*@example.org' is a pattern, not an address: give the sender with -f"
	assert_equal "$(fake_connections)" 0 connections
	# -f picks the sender (allow_from_override is on by default).
	run_postie -f alice@example.org rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_equal "$(fake_envelope 1 | head -n 1 | cut -d' ' -f1-2)" \
	    "MAIL FROM:<alice@example.org>" "sender"
	# allow_from_override off: -f must be one the pattern names.
	write_config "from *@example.org" "allow_from_override off"
	run_postie -f mallory@evil.example rcpt@example.org <"$(sample_message)"
	assert_status 78
	assert_stderr_contains "the sender 'mallory@evil.example' does not match its from '*@example.org'"
	run_postie -f bob@example.org rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_equal "$(fake_envelope 2 | head -n 1 | cut -d' ' -f1-2)" \
	    "MAIL FROM:<bob@example.org>" "sender"
	# --read-envelope-from: the From header names the sender.
	printf 'From: carol@example.org\nSubject: x\n\nhi\n' >"$T/m"
	run_postie --read-envelope-from rcpt@example.org <"$T/m"
	assert_status 0
	assert_equal "$(fake_envelope 3 | head -n 1 | cut -d' ' -f1-2)" \
	    "MAIL FROM:<carol@example.org>" "sender"
	! grep -q '\*' "$FAKE_DIR"/msg-*.env || _fail "a pattern was sent"
}

@test "no From in the message: it is made from the envelope sender and -F" {
	fake_start
	write_config
	sed -i '/^from /d' "$CONFIG"
	echo "maildomain example.net" >>"$CONFIG"
	printf '%s\n' 'To: rcpt@example.org' 'Subject: s' \
	    'Date: Sun, 22 Nov 2026 10:00:00 +0000' \
	    'Message-ID: <test@example.org>' '' 'body' >"$T/in"
	run_postie -F 'Cron Daemon' rcpt@example.org <"$T/in"
	assert_status 0
	assert_equal "$(mail_from_of 1)" "<$(id -un)@example.net>" sender
	delivered_header | grep '^From:' >"$T/from" || true
	assert_equal "$(cat "$T/from")" \
	    "From: Cron Daemon <$(id -un)@example.net>" "From header"
}

@test "remove_bcc_headers off and keepbcc on: Bcc is removed all the same" {
	local conf
	fake_start "" --connections 2
	for conf in "remove_bcc_headers off" "keepbcc on"; do
		write_config "$conf"
		{ fixed_header; printf '%s\n' 'Bcc: hidden@example.org' '' \
		    'body'; } >"$T/in"
		run_postie -t <"$T/in"
		assert_status 0
	done
	{ fixed_header_crlf; printf '\r\nbody\r\n'; } >"$T/want"
	assert_message 1 "$T/want"
	assert_message 2 "$T/want"
	assert_equal "$(fake_envelope 2 | tail -n +2 | tr -d '\r')" \
	    "$(printf '%s\n' 'RCPT TO:<rcpt@example.org>' \
	    'RCPT TO:<hidden@example.org>')" "-t recipients"
}

@test "set_to_header on: no To or Cc gets To: undisclosed-recipients:;" {
	fake_start "" --connections 2
	write_config "set_to_header on"
	printf '%s\n' 'From: sender@example.org' 'Subject: s' \
	    'Date: Sun, 22 Nov 2026 10:00:00 +0000' \
	    'Message-ID: <test@example.org>' '' 'body' >"$T/in"
	run_postie a@example.org <"$T/in"
	assert_status 0
	delivered_header >"$T/h"
	assert_equal "$(grep -c '^To:' "$T/h")" 1 "To fields"
	grep -qx 'To: undisclosed-recipients:;' "$T/h" ||
	    _fail "no undisclosed To:" "$(cat "$T/h")"
	# Off (the default): no To is added.
	write_config
	run_postie a@example.org <"$T/in"
	assert_status 0
	sed -n '/^\r\{0,1\}$/q;p' "$(fake_message_path 2)" | tr -d '\r' >"$T/h2"
	! grep -q '^To:' "$T/h2" || _fail "a To was added:" "$(cat "$T/h2")"
}

@test "-r and -f values with white space or line breaks are refused" {
	fake_start
	write_config
	run_postie -r $'me@example.org\r\nRCPT TO:<evil@example.org>' \
	    a@example.org <<<"hi"
	assert_status 64
	assert_stderr_contains "line break"
	run_postie -f 'me @example.org' a@example.org <<<"hi"
	assert_status 64
	assert_stderr_contains "white space"
	run_postie -r$'me@example.org\tx' a@example.org <<<"hi"
	assert_status 64
	assert_no_connection
}

@test "smuggling: every 4-byte mix of '.', CR, LF and 'x' arrives normalised" {
	# 256 sequences, concatenated: bare CR and LF, CR CR LF, dots after
	# each kind of break, ".\r" and "\n.\n".  On the wire: no bare CR or
	# LF, exactly one terminator at the end, and after unstuffing the
	# body with every LF (and the CRs right before it) made one CRLF and
	# every other CR a space.
	fake_start
	"$PYTHON3" - "$T/body" "$T/want-body" <<'PY'
import itertools, re, sys
body = b"".join(bytes(p) for p in itertools.product(b".\r\nx", repeat=4))
open(sys.argv[1], "wb").write(body)
want = re.sub(rb"\r*\n|\r",
              lambda m: b"\r\n" if m.group().endswith(b"\n") else b" ", body)
if not want.endswith(b"\r\n"):
    want += b"\r\n"
open(sys.argv[2], "wb").write(want)
PY
	{ fixed_header; printf '\n'; cat "$T/body"; } >"$T/in"
	{ fixed_header_crlf; printf '\r\n'; cat "$T/want-body"; } >"$T/want"
	run_postie rcpt@example.org <"$T/in"
	assert_status 0
	assert_message 1 "$T/want"
	refute_log_contains 'bare CR/LF'
	# The raw content: one CRLF.CRLF, at the very end.
	"$PYTHON3" - "$(fake_message_path 1).raw" <<'PY' || _fail "raw content"
import re, sys
raw = open(sys.argv[1], "rb").read()
assert raw.endswith(b"\r\n.\r\n"), "no terminator at the end"
assert raw.count(b"\r\n.\r\n") == 1, "a second terminator"
assert not re.search(rb"\r(?!\n)|(?<!\r)\n", raw), "bare CR or LF"
PY
}

# ---- closed standard descriptors (daemons and cron jobs run with them) --------

@test "stdin closed: exit 74, nothing sent" {
	# A closed fd 0 is not an empty message: the first file postie
	# opens (its spool) must not become "stdin".
	fake_start
	write_config
	status=0
	(exec 0<&-; exec timeout -k 5 10 "$POSTIE" -C "$CONFIG" \
	    rcpt@example.org >"$T/out" 2>"$T/err") || status=$?
	# shellcheck disable=SC2034 # both read by the assertions
	{ stderr=$(cat "$T/err"); mapfile -t stderr_lines <"$T/err"; }
	assert_status 74
	assert_stderr_one_line
	assert_no_message
}

@test "stderr closed: warnings and -v lines never reach the message or the server" {
	# With fd 2 closed the spool or the socket would be the first free
	# descriptor: anything "printed on stderr" would land in the
	# message or on the wire.
	fake_start
	write_config "timeout 2"
	{ fixed_header; printf '\nnul\0here\n'; } >"$T/in"
	{ fixed_header_crlf; printf '\r\nnulhere\r\n'; } >"$T/want"
	local rc=0
	"$POSTIE" -v -C "$CONFIG" rcpt@example.org <"$T/in" >/dev/null 2>&- ||
	    rc=$?
	assert_equal "$rc" 0 "exit status"
	assert_message 1 "$T/want"
	refute_transcript_contains "<--"
	refute_transcript_contains "warning"
	refute_log_contains 'bare CR/LF'
	assert_commands "EHLO client.example.org" \
	    "$(fake_commands | grep '^MAIL')" "RCPT TO:<rcpt@example.org>" \
	    "DATA" "QUIT"
}

@test "stdout closed: delivery is unaffected" {
	fake_start
	write_config
	{ fixed_header; printf '\nbody\n'; } >"$T/in"
	local rc=0
	"$POSTIE" -C "$CONFIG" rcpt@example.org <"$T/in" >&- 2>"$T/err" ||
	    rc=$?
	assert_equal "$rc" 0 "exit status"
	{ fixed_header_crlf; printf '\r\nbody\r\n'; } >"$T/want"
	assert_message 1 "$T/want"
}
