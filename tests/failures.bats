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

@test "421 to RCPT ends the session: exit 75, no further RCPT, one line" {
	fake_start - <<'EOF'
capabilities SIZE
on RCPT
	reply 421 4.3.2 shutting down
	drop
EOF
	write_config
	run_postie a@example.org b@example.org <"$(sample_message)"
	assert_status 75
	assert_stderr_contains "421 4.3.2 shutting down"
	assert_stderr_one_line
	refute_transcript_contains "RCPT TO:<b@example.org>"
	assert_no_message
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

# A caller that hands over its own temporary file and saves what is left of
# it on failure (bsd-mailx's dead.letter) must find the whole message
# there: postie puts a regular-file stdin back where the message started.
@test "failure with a regular file on stdin: stdin is back at the message's start" {
	fake_start
	write_config
	fake_stop
	sample_message "$T/msg" >/dev/null
	{ printf 'caller header\n'; cat "$T/msg"; } >"$T/in"
	# the caller has read its own first line: the message starts after it
	run --separate-stderr sh -c '{ read -r _; "$1" -C "$2" rcpt@example.org
	    echo "exit $?"; cat >"$4"; } <"$3"' sh "$POSTIE" "$CONFIG" "$T/in" \
	    "$T/rest"
	[ "$output" = "exit 75" ]
	cmp "$T/msg" "$T/rest"
}

@test "success with a regular file on stdin: stdin is left at its end" {
	fake_start
	write_config
	sample_message "$T/msg" >/dev/null
	run --separate-stderr sh -c '{ "$1" -C "$2" rcpt@example.org
	    echo "exit $?"; cat; } <"$3"' sh "$POSTIE" "$CONFIG" "$T/msg"
	[ "$output" = "exit 0" ]
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

@test "temporary DNS failure: exit 75 (not 68), quickly" {
	# A private resolv.conf points at 127.0.0.1:53, where nothing
	# listens: the lookup fails at once (port unreachable), which is a
	# temporary failure, not "no such host".
	[ "$(id -u)" -eq 0 ] || _fail "needs root (private mount namespace)"
	command -v unshare >/dev/null || _fail "unshare missing (util-linux)"
	# Binding 127.0.0.1:53 (UDP) works only when nothing listens there.
	"$PYTHON3" -c 'import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.1", 53))' ||
	    _fail "something listens on 127.0.0.1:53: the test needs it free"
	printf '%s\n' 'nameserver 127.0.0.1' 'options timeout:1 attempts:1' \
	    >"$T/resolv.conf"
	cat >"$T/wrap" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount --bind "\$0" /etc/resolv.conf && exec "\$@"' \
    "$T/resolv.conf" "$POSTIE" "\$@"
EOF
	chmod +x "$T/wrap"
	! grep -q 'smtp\.example\.net' /etc/hosts ||
	    _fail "smtp.example.net is in /etc/hosts"
	write_config "host smtp.example.net" "port 2525"
	POSTIE=$T/wrap send
	assert_status 75
	assert_stderr_one_line
	assert_reason CONNECT
	assert_stderr_contains "temporary failure looking up 'smtp.example.net'"
	assert_elapsed_below 5
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

@test "stall at the final dot: exit 75 at the total deadline, not after T" {
	# The reply to the dot may take RFC 5321's 10 minutes; the total
	# deadline (10 T + T per MiB = 11 s for timeout 1) still ends it.
	fake_start - --max-seconds 30 <<'EOF'
on DOT => stall
EOF
	write_config "timeout 1"
	send
	assert_status 75
	assert_reason EOM
	assert_stderr_contains "total time limit of 11 s exceeded waiting for the reply to the end of the data"
	assert_elapsed_below 14
	[ "$ELAPSED_MS" -ge 10000 ] || _fail "gave up after $ELAPSED_MS ms"
}

@test "a slow reply to the final dot (3 s, timeout 1) is waited for: exit 0, one copy" {
	# Giving up after T would make the caller retry and deliver twice.
	fake_start - <<'EOF'
on DOT
	sleep 3000
	default
EOF
	write_config "timeout 1"
	send
	assert_status 0
	assert_stderr_empty
	[ "$(fake_messages)" -eq 1 ] || _fail "want one message"
	[ "$(fake_reply_codes)" = 250 ] || _fail "reply: $(fake_reply_codes)"
	[ "$ELAPSED_MS" -ge 3000 ] || _fail "answered after $ELAPSED_MS ms"
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

@test "the total deadline: many slow RCPTs end with exit 75 near 11 s" {
	# timeout 1: each reply may take 1 s, the session 10 T + (size in
	# MiB + 1) T = 11 s (src/smtp.c).  Each RCPT answered after 0.85 s
	# keeps every per-command deadline, but 16 of them (13.6 s) do not
	# fit the total.  The only slow test of the suite.
	local i rcpts=()
	fake_start - --max-seconds 30 <<'EOF'
capabilities SIZE, 8BITMIME, ENHANCEDSTATUSCODES
on RCPT
	sleep 850
	default
EOF
	write_config "timeout 1"
	for i in $(seq 1 16); do
		rcpts+=("r$i@example.org")
	done
	run_postie "${rcpts[@]}" <"$(sample_message)"
	assert_status 75
	assert_stderr_one_line
	assert_reason RCPT
	assert_stderr_contains "total time limit of 11 s exceeded waiting for the reply to RCPT TO:<"
	assert_elapsed_below 14
	[ "$ELAPSED_MS" -ge 10000 ] || _fail "gave up after $ELAPSED_MS ms"
	assert_no_message
}

@test "SIGSTOP, SIGCONT and SIGWINCH while talking: delivered exactly" {
	local pid i rc=0
	fake_start - <<'EOF'
on *
	sleep 300
	default
on DOT
	sleep 300
	default
EOF
	write_config
	sample_message >/dev/null
	"$POSTIE" -C "$CONFIG" rcpt@example.org <"$T/msg" >"$T/out" \
	    2>"$T/err" &
	pid=$!
	for i in 1 2 3 4 5 6; do
		sleep 0.2
		kill -STOP "$pid" 2>/dev/null || break
		sleep 0.1
		kill -WINCH "$pid" 2>/dev/null || true
		kill -CONT "$pid" 2>/dev/null || break
		kill -WINCH "$pid" 2>/dev/null || true
	done
	[ "$i" -ge 4 ] || _fail "postie ended before the signals ($i)"
	wait "$pid" || rc=$?
	# What the assertions read (bats `run` sets them otherwise).
	# shellcheck disable=SC2034
	status=$rc stderr=$(cat "$T/err")
	assert_status 0
	assert_stderr_empty
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "EINTR on every other read, write, poll and send: delivered exactly" {
	# strace injects EINTR (the call does nothing) into every second
	# call: each loop must retry instead of failing or losing bytes.
	# read(2) is injected from postie's first read of stdin on (the
	# dynamic loader's and libc's reads before it are not postie's);
	# a first traced run counts them.
	local k
	command -v strace >/dev/null ||
	    _fail "strace missing (tests/ci.sh installs it)"
	fake_start "" --connections 2
	write_config
	sample_message >/dev/null
	traced -f -o "$T/trace" -e trace=read "$POSTIE" -C "$CONFIG" \
	    rcpt@example.org <"$T/msg" 2>"$T/err" ||
	    _fail "postie under strace failed: $(cat "$T/err")"
	k=$(grep -E '(^|[0-9] +)read\(' "$T/trace" |
	    grep -nE '(^|[0-9] +)read\(0,' | head -n 1 | cut -d: -f1)
	[ -n "$k" ] || _fail "no read of stdin traced: $(cat "$T/trace")"
	cat >"$T/wrap" <<EOF
#!/bin/sh
ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0" \\
    exec strace -f -o /dev/null \\
    -e trace=read,write,poll,ppoll,sendto,recvfrom,sendmsg,recvmsg,writev \\
    -e inject=write,poll,ppoll,sendto,recvfrom,sendmsg,recvmsg,writev:error=EINTR:when=1+2 \\
    -e inject=read:error=EINTR:when=$k+2 \\
    "$POSTIE" "\$@"
EOF
	chmod +x "$T/wrap"
	POSTIE=$T/wrap run_postie rcpt@example.org <"$T/msg"
	assert_status 0
	assert_stderr_empty
	assert_equal "$(fake_messages)" 2 messages
	assert_message 2 "$(crlf_copy "$T/msg")"
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
