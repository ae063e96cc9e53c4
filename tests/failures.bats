#!/usr/bin/env bats
# shellcheck shell=bash
#
# A server that says no, goes away, stalls, dawdles or talks nonsense:
# the exit status (sysexits, see src/exitcode.c), a one-line reason on
# stderr, nothing delivered, and never a hang.  Timeouts are short (the
# suite runs three times in CI): `timeout 2` and an upper bound on the
# elapsed time well below what a reset-per-byte deadline would take.

load common

# Run postie for one recipient with the sample message.  ELAPSED_MS
# tells how long it took.
send() {
	run_postie rcpt@example.org <"$(sample_message)"
}

# A message of about 16 MB in $T/big: larger than any socket buffer.
big_message() {
	sample_message "$T/big" >/dev/null
	yes 'a line of body text, long enough to fill the socket buffers...' |
	    head -c 16000000 >>"$T/big"
}

# stderr names the account, the server and the phase.
assert_reason() {
	assert_stderr_matches "^postie: account 'default', server [^ ]+, $1: "
}

# ---- the server answers no ----------------------------------------------------

@test "greeting 554: exit 69" {
	fake_start - <<'EOF'
on CONNECT => reply 554 5.3.2 fake.example.org no SMTP service here
EOF
	send
	assert_status 69
	assert_reason GREETING
	assert_stderr_contains "no SMTP service here"
	refute_command_prefix "MAIL"
	assert_no_message
}

@test "greeting 421: exit 75" {
	fake_start - <<'EOF'
on CONNECT
	reply 421 4.3.2 fake.example.org service not available
	drop
EOF
	send
	assert_status 75
	assert_reason GREETING
	assert_stderr_contains "service not available"
	assert_no_message
}

@test "EHLO and HELO both refused 5xx: exit 69" {
	fake_start - <<'EOF'
on EHLO => reply 550 5.7.1 go away
on HELO => reply 550 5.7.1 go away
EOF
	send
	assert_status 69
	refute_command_prefix "MAIL"
}

@test "EHLO 421: exit 75, no HELO after it" {
	fake_start - <<'EOF'
on EHLO
	reply 421 4.3.2 fake.example.org shutting down
	drop
EOF
	send
	assert_status 75
	assert_reason EHLO
	assert_stderr_contains "shutting down"
	refute_command_prefix "HELO"
	refute_command_prefix "MAIL"
}

@test "MAIL 451: exit 75, no content" {
	fake_start - <<'EOF'
on MAIL => reply 451 4.3.0 temporary failure, try later
EOF
	send
	assert_status 75
	assert_reason MAIL
	assert_stderr_contains "try later"
	assert_no_message
	refute_transcript_contains 'Subject:'
}

@test "MAIL 550: exit 69, no content" {
	fake_start - <<'EOF'
on MAIL => reply 550 5.7.1 <sender@example.org>: Sender address rejected
EOF
	send
	assert_status 69
	assert_reason MAIL
	assert_stderr_contains "Sender address rejected"
	assert_no_message
	refute_transcript_contains 'Subject:'
}

@test "MAIL 550 without PIPELINING: no RCPT follows" {
	fake_start - <<'EOF'
capabilities SIZE
on MAIL => reply 550 5.7.1 rejected
EOF
	send
	assert_status 69
	refute_command_prefix "RCPT"
	refute_command_prefix "DATA"
}

@test "DATA 554: exit 69, no content" {
	fake_start - <<'EOF'
on DATA => reply 554 5.5.1 Error: transaction failed
EOF
	send
	assert_status 69
	assert_reason DATA
	assert_stderr_contains "transaction failed"
	assert_no_message
	refute_transcript_contains 'Subject:'
}

@test "DATA 451: exit 75" {
	fake_start - <<'EOF'
on DATA => reply 451 4.3.0 try again
EOF
	send
	assert_status 75
	assert_no_message
}

@test "final dot 452: exit 75" {
	fake_start - <<'EOF'
on DOT => reply 452 4.3.1 Insufficient system storage
EOF
	send
	assert_status 75
	assert_reason EOM
	assert_stderr_contains "Insufficient system storage"
	assert_equal "$(fake_reply_codes 1)" 452 "final reply"
}

@test "final dot 554: exit 69" {
	fake_start - <<'EOF'
on DOT => reply 554 5.7.1 message content rejected
EOF
	send
	assert_status 69
	assert_reason EOM
	assert_stderr_contains "message content rejected"
}

@test "a reply that does not fit the command (250 to DATA): exit 76" {
	fake_start - <<'EOF'
on DATA => reply 250 2.0.0 Ok
EOF
	send
	assert_status 76
	refute_transcript_contains 'Subject:'
}

# ---- no server, no host -------------------------------------------------------

@test "connection refused: exit 75" {
	fake_start
	write_config
	fake_stop	# the port is now closed
	send
	assert_status 75
	assert_reason CONNECT
}

@test "unix socket that does not exist: exit 75" {
	write_config "socket $T/nothing.sock"
	send
	assert_status 75
}

@test "unknown host: exit 68" {
	write_config "host nonexistent.invalid" "port 2525"
	send
	assert_status 68
	assert_stderr_contains "nonexistent.invalid"
	assert_stderr_one_line
}

# ---- the server goes away -----------------------------------------------------

@test "drop at the greeting: exit 75" {
	fake_start - <<'EOF'
on CONNECT => drop
EOF
	send
	assert_status 75
	assert_reason GREETING
	assert_stderr_contains "closed"
}

@test "reset at the greeting: exit 75" {
	fake_start - <<'EOF'
on CONNECT => reset
EOF
	send
	assert_status 75
}

@test "drop after MAIL: exit 75, nothing delivered" {
	fake_start - <<'EOF'
on MAIL => drop
EOF
	send
	assert_status 75
	assert_reason MAIL
	assert_no_message
}

@test "drop after MAIL without PIPELINING: exit 75" {
	fake_start - <<'EOF'
capabilities SIZE
on MAIL
	reply 250 2.1.0 Ok
	drop
EOF
	send
	assert_status 75
	assert_no_message
}

@test "drop in the middle of the reply to the final dot: exit 75" {
	fake_start - <<'EOF'
on DOT
	raw 250 2.0.0 Ok: que
	drop
EOF
	send
	assert_status 75
	assert_reason EOM
	# The server has the content, but no 250 came: the caller must keep
	# the message.
	assert_equal "$(fake_messages)" 1 messages
}

@test "drop in the middle of a multi-line DATA reply: exit 75" {
	fake_start - <<'EOF'
on DATA
	reply 354-go on
	drop
EOF
	send
	assert_status 75
	assert_no_message
}

@test "the server closes while the body is sent: exit 75, no SIGPIPE death" {
	fake_start - <<'EOF'
on DATA
	reply 354 go ahead
	drop
EOF
	big_message
	run_postie rcpt@example.org <"$T/big"
	assert_status 75
	assert_stderr_one_line
}

# ---- the server stalls or dawdles ---------------------------------------------

@test "stall at the greeting: exit 75 after the timeout, no hang" {
	fake_start - <<'EOF'
on CONNECT => stall
EOF
	write_config "timeout 2"
	send
	assert_status 75
	assert_reason GREETING
	assert_stderr_contains "timed out after 2 s"
	assert_elapsed_below 10
	[ "$ELAPSED_MS" -ge 1500 ] || _fail "gave up after $ELAPSED_MS ms"
}

@test "stall at RCPT: exit 75 after the timeout" {
	fake_start - <<'EOF'
on RCPT => stall
EOF
	write_config "timeout 1"
	send
	assert_status 75
	assert_stderr_contains "timed out"
	assert_elapsed_below 10
	assert_no_message
}

@test "stall at the final dot: exit 75 after the timeout" {
	fake_start - <<'EOF'
on DOT => stall
EOF
	write_config "timeout 1"
	send
	assert_status 75
	assert_reason EOM
	assert_stderr_contains "timed out"
	assert_elapsed_below 10
}

@test "a reply trickled slower than the deadline: exit 75 near it" {
	# 28 bytes at 250 ms each would take 7 s: a deadline reset by every
	# byte would never fire, an absolute one fires after 1 s.
	fake_start - <<'EOF'
on MAIL => trickle 250 250 2.1.0 Sender address ok
EOF
	write_config "timeout 1"
	send
	assert_status 75
	assert_stderr_contains "timed out"
	assert_elapsed_below 4
}

@test "the server stops reading during the body: exit 75 near the deadline" {
	fake_start - <<'EOF'
on DATA
	reply 354 go ahead
	freeze
EOF
	big_message
	write_config "timeout 1"
	run_postie rcpt@example.org <"$T/big"
	assert_status 75
	assert_stderr_contains "timed out"
	assert_elapsed_below 6
}

@test "a slow but timely reply is fine" {
	fake_start - <<'EOF'
on MAIL
	sleep 300
	default
EOF
	write_config "timeout 2"
	send
	assert_status 0
}

# ---- the server talks nonsense ------------------------------------------------

@test "malformed reply (no code): exit 76" {
	fake_start - <<'EOF'
on MAIL => reply hello there
EOF
	send
	assert_status 76
	assert_reason MAIL
	assert_stderr_contains "malformed"
	assert_no_message
}

@test "malformed greeting (code and text not separated): exit 76" {
	fake_start - <<'EOF'
on CONNECT => reply 220fake.example.org
EOF
	send
	assert_status 76
}

@test "multi-line reply with different codes: exit 76" {
	fake_start - <<'EOF'
on EHLO
	reply 250-fake.example.org
	reply 251 PIPELINING
EOF
	send
	assert_status 76
	refute_command_prefix "MAIL"
}

@test "reply with a NUL byte: exit 76" {
	fake_start - <<'EOF'
on MAIL => raw 250 2.1.0 O\x00k\r\n
EOF
	send
	assert_status 76
	assert_no_message
}

@test "endless multi-line reply: exit 76, quickly" {
	fake_start - <<'EOF'
on EHLO => endless 250-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX
EOF
	send
	assert_status 76
	assert_elapsed_below 5
	refute_command_prefix "MAIL"
}

@test "an over-long reply line: exit 76" {
	local long
	long=$(printf '%05000d' 0)
	printf 'on MAIL => reply 250 %s\n' "$long" >"$T/scenario"
	fake_start "$T/scenario"
	send
	assert_status 76
	assert_no_message
}
