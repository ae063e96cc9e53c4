#!/usr/bin/env bats
# shellcheck shell=bash
#
# The engine's steps as a queue runner drives them (open once, send many,
# reset, close), through tests/engineprobe against the fake server: the
# bytes on the wire and the verdict each recipient gets.  The postie
# binary itself opens one session per message; these are the parts of
# the engine it does not use yet.

load common

ENGINEPROBE=${TOP_BUILDDIR}/tests/engineprobe

setup() {
	common_setup
	[ -x "$ENGINEPROBE" ] ||
	    _fail "tests/engineprobe not built (make check builds it)"
	printf 'Subject: one\r\n\r\nfirst\r\n' >"$T/m1"
	printf 'Subject: two\r\n\r\nsecond\r\n.leading dot\r\n' >"$T/m2"
}

# probe STEP...: run engineprobe on $CONFIG's default account.
probe() {
	[ -e "$CONFIG" ] || write_config
	run --separate-stderr timeout 30 "$ENGINEPROBE" "$CONFIG" default "$@"
	echo "status: $status"
	echo "output:"
	echo "$output"
	echo "stderr: $stderr"
}

# assert_output_is LINE...: stdout is exactly these lines.
assert_output_is() {
	assert_equal "$output" "$(printf '%s\n' "$@")" "engineprobe output"
}

@test "two messages on one session: one EHLO, two transactions, one QUIT" {
	fake_start
	probe send s@example.org a@example.org "$T/m1" reset \
	    send s@example.org b@example.org,c@example.org "$T/m2"
	assert_status 0
	assert_output_is "open: ok" \
	    "send 1: ok, 1 transaction, EOM 250" \
	    "  a@example.org: accepted EOM 250 2.0.0 (250 2.0.0 Ok: queued as FAKE1)" \
	    "reset: ok" \
	    "send 3: ok, 1 transaction, EOM 250" \
	    "  b@example.org: accepted EOM 250 2.0.0 (250 2.0.0 Ok: queued as FAKE2)" \
	    "  c@example.org: accepted EOM 250 2.0.0 (250 2.0.0 Ok: queued as FAKE2)"
	# A completed transaction needs no RSET: reset sent nothing.
	assert_commands "EHLO client.example.org" \
	    "MAIL FROM:<s@example.org> SIZE=$(file_size "$T/m1")" "RCPT TO:<a@example.org>" \
	    "DATA" \
	    "MAIL FROM:<s@example.org> SIZE=$(file_size "$T/m2")" "RCPT TO:<b@example.org>" \
	    "RCPT TO:<c@example.org>" "DATA" "QUIT"
	assert_equal "$(fake_connections)" 1 connections
	cmp "$T/m1" "$(fake_message_path 1)"
	cmp "$T/m2" "$(fake_message_path 2)"
}

@test "each recipient gets its own verdict with the reply and enhanced code" {
	fake_start - <<'EOF'
on RCPT <busy@example.org> => reply 450 4.2.1 mailbox busy
on RCPT <bad@example.org> => reply 550 5.1.1 no such user
EOF
	probe send s@example.org ok@example.org,busy@example.org,bad@example.org \
	    "$T/m1"
	assert_status 0
	assert_output_is "open: ok" \
	    "send 1: ok, 1 transaction, EOM 250" \
	    "  ok@example.org: accepted EOM 250 2.0.0 (250 2.0.0 Ok: queued as FAKE1)" \
	    "  busy@example.org: deferred RCPT 450 4.2.1 (450 4.2.1 mailbox busy)" \
	    "  bad@example.org: refused RCPT 550 5.1.1 (550 5.1.1 no such user)"
}

@test "LMTP: the verdicts after the data are per recipient" {
	fake_start - --lmtp <<'EOF'
on DOT <b@example.org> => reply 452 4.2.2 mailbox full
EOF
	write_config "protocol lmtp"
	probe send s@example.org a@example.org,b@example.org "$T/m1"
	assert_status 0
	# The message's status is the last reply to the data.
	assert_output_is "open: ok" \
	    "send 1: ok, 1 transaction, EOM 452" \
	    "  a@example.org: accepted EOM 250 2.1.5 (250 2.1.5 <a@example.org> Ok)" \
	    "  b@example.org: deferred EOM 452 4.2.2 (452 4.2.2 mailbox full)"
}

@test "a transaction left open (every RCPT refused) is RSET before the next" {
	fake_start - <<'EOF'
on RCPT <gone@example.org> => reply 550 5.1.1 no such user
EOF
	probe send s@example.org gone@example.org "$T/m1" \
	    send s@example.org a@example.org "$T/m2"
	assert_status 0
	assert_output_is "open: ok" \
	    "send 1: ok, 1 transaction, RCPT 554" \
	    "  gone@example.org: refused RCPT 550 5.1.1 (550 5.1.1 no such user)" \
	    "send 2: ok, 1 transaction, EOM 250" \
	    "  a@example.org: accepted EOM 250 2.0.0 (250 2.0.0 Ok: queued as FAKE1)"
	# MAIL was accepted and DATA refused: the server still holds the
	# transaction, so the next MAIL needs an RSET first.
	assert_commands "EHLO client.example.org" \
	    "MAIL FROM:<s@example.org> SIZE=$(file_size "$T/m1")" "RCPT TO:<gone@example.org>" \
	    "DATA" "RSET" \
	    "MAIL FROM:<s@example.org> SIZE=$(file_size "$T/m2")" "RCPT TO:<a@example.org>" \
	    "DATA" "QUIT"
	assert_equal "$(fake_messages)" 1 messages
}

@test "-bv then a message on the same session: the probe's RSET ends it" {
	fake_start - <<'EOF'
capabilities SIZE, 8BITMIME, ENHANCEDSTATUSCODES
EOF
	probe verify s@example.org a@example.org \
	    send s@example.org a@example.org "$T/m1"
	assert_status 0
	assert_output_is "open: ok" \
	    "verify 1: ok, 1 transaction, RCPT 250" \
	    "  a@example.org: accepted RCPT 250 2.1.5 (250 2.1.5 Ok)" \
	    "send 2: ok, 1 transaction, EOM 250" \
	    "  a@example.org: accepted EOM 250 2.0.0 (250 2.0.0 Ok: queued as FAKE1)"
	assert_commands "EHLO client.example.org" "MAIL FROM:<s@example.org>" \
	    "RCPT TO:<a@example.org>" "RSET" \
	    "MAIL FROM:<s@example.org> SIZE=$(file_size "$T/m1")" "RCPT TO:<a@example.org>" \
	    "DATA" "QUIT"
}

@test "after the server drops, the next send reports it and sends nothing" {
	# The first recipient's fate is unknown (RCPT was accepted, the data
	# got no reply): not "accepted", which would mean delivered.
	fake_start - <<'EOF'
on DOT#1 => drop
EOF
	probe send s@example.org a@example.org "$T/m1" \
	    send s@example.org b@example.org "$T/m2" reset
	assert_status 0
	assert_output_is "open: ok" \
	    "send 1: aborted, 1 transaction, EOM 0" \
	    "  why: connection closed by the server after the end of the data" \
	    "  a@example.org: unknown RCPT 250 2.1.5 (250 2.1.5 Ok)" \
	    "send 2: aborted, 0 transactions, EOM 0" \
	    "  why: connection closed by the server after the end of the data" \
	    "  b@example.org: unknown local 0 - ()" \
	    "reset: failed EOM: connection closed by the server after the end of the data"
	assert_equal "$(fake_connections)" 1 connections
	refute_command_prefix "MAIL FROM:<s@example.org> SIZE=$(file_size "$T/m2")"
}

@test "open fails: every step reports why, nothing is sent" {
	fake_start - <<'EOF'
on CONNECT => reply 554 5.3.2 go away
EOF
	probe send s@example.org a@example.org "$T/m1"
	assert_status 0
	assert_output_is "open: failed GREETING: the server refused the connection: 554 5.3.2 go away" \
	    "send 1: aborted, 0 transactions, GREETING 554" \
	    "  why: the server refused the connection: 554 5.3.2 go away" \
	    "  a@example.org: unknown local 0 - ()"
	assert_no_message
}
