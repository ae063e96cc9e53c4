#!/usr/bin/env bats
# shellcheck shell=bash
#
# Secrets through the binary: a config file holding a password must be
# private (exit 78 before connecting); the password never shows in
# /proc/PID/cmdline, /proc/PID/environ, syslog, the logfile or the -v
# transcript while a session hangs; each source of the secret is used
# (passwordeval, ~/.netrc, $CREDENTIALS_DIRECTORY, a prompt on /dev/tty),
# and none of them touches the message on stdin.
#
# AUTH is served by tests/fakesmtp.py (`auth users NAME:PASS`, its server
# side in tests/fakesasl.py).  PLAIN runs inside TLS, so the password (in
# base64) really crosses the wire and the transcript must redact it.

load common

USER_NAME=alice
PASS=Pw-7c1e5a-Secret
# base64 of "\0alice\0Pw-7c1e5a-Secret": what AUTH PLAIN sends.
PLAIN_B64=$(printf '\0%s\0%s' "$USER_NAME" "$PASS" | base64 -w0)
NOPASS="(set password, passwordeval, a netrc entry or a systemd credential)"

# No source of a secret from the environment unless a test sets one.
unset CREDENTIALS_DIRECTORY

send() {
	run_postie rcpt@example.org <"$(sample_message)"
}

# A TLS fake server that accepts alice's password with PLAIN (and every
# other mechanism); extra scenario lines on stdin when $1 is "-".
fake_start_auth() {
	local extra=
	if [ "${1-}" = - ]; then
		extra=$(cat)
		shift
	fi
	printf 'auth users %s:%s\n%s\n' "$USER_NAME" "$PASS" "$extra" \
	    >"$T/scenario"
	fake_start_tls valid "$T/scenario" "$@"
}

# TLS on, AUTH PLAIN as alice, no password source: each test adds one.
write_auth_config() {
	write_tls_config "auth plain" "user $USER_NAME" "$@"
}

assert_authenticated() {
	assert_status 0
	grep -q "AUTH PLAIN ok" "$FAKE_DIR/log" ||
	    _fail "the server did not log 'AUTH PLAIN ok'" "$(cat "$FAKE_DIR/log")"
	assert_equal "$(fake_messages)" 1 messages
	assert_message 1 "$(crlf_copy "$T/msg")"
}

# ---- the config file's mode ------------------------------------------------------

@test "a config holding a password readable by others: exit 78, no connection" {
	fake_start
	for mode in 644 640 604 660; do
		write_config "password $PASS"
		chmod "$mode" "$CONFIG"
		send
		assert_status 78
		assert_stderr_one_line
		assert_stderr_contains "postie: $CONFIG: contains a password but is readable by group or others (run: chmod 600 $CONFIG)"
		assert_stderr_not_contains "$PASS"
	done
	assert_no_connection
}

@test "a password in another account of the file still makes it secret" {
	fake_start
	write_config
	printf 'account other\nhost 127.0.0.1\npassword %s\n' "$PASS" >>"$CONFIG"
	chmod 644 "$CONFIG"
	send
	assert_status 78
	assert_stderr_contains "contains a password but is readable by group or others"
	assert_no_connection
}

@test "a config holding a password owned by another user: exit 78, no connection" {
	[ "$(id -u)" -eq 0 ] || _fail "needs root to chown (CI runs as root)"
	fake_start
	write_config "password $PASS"
	chown 65534 "$CONFIG"
	send
	assert_status 78
	assert_stderr_contains "postie: $CONFIG: contains a password but is owned by uid 65534, not by uid 0 (run: chown 0 $CONFIG)"
	assert_no_connection
}

@test "a public config without a password (or with passwordeval) is fine" {
	fake_start - --connections 2 </dev/null
	write_config
	chmod 644 "$CONFIG"
	send
	assert_status 0
	write_config "passwordeval echo unused"
	chmod 644 "$CONFIG"
	send
	assert_status 0
}

# ---- no leak while a session hangs ------------------------------------------------

# Run postie with -v in a private mount namespace whose /dev/log is
# tests/logsink.py (as cli.bats's with_syslog does); once the fake server
# has seen MAIL (AUTH is over, the session now hangs), copy
# /proc/PID/cmdline and /proc/PID/environ to $T.  postie then times out.
hang_and_peek() {
	local dev=$T/dev
	mkdir -p "$dev"
	rm -f "$dev/log" "$T/syslog" "$T/syslog.ready" "$T/status"
	# shellcheck disable=SC2016 # the inner script expands its own
	FAKE_DIR=$FAKE_DIR unshare -m bash -c '
		set -e
		for n in null zero full random urandom tty; do
			touch "$1/$n"; mount --bind "/dev/$n" "$1/$n"
		done
		ln -sfn /proc/self/fd "$1/fd"
		mount --bind "$1" /dev
		"$PYTHON3" "$TOP_SRCDIR/tests/logsink.py" /dev/log "$2" 30 &
		for i in $(seq 100); do [ -e "$2.ready" ] && break; sleep 0.05; done
		shift 2
		"$@" <"$STDIN_FILE" >"$OUT/stdout" 2>"$OUT/stderr" &
		pid=$!
		for i in $(seq 200); do
			grep -q "^MAIL" "$FAKE_DIR/conn-1.cmds" 2>/dev/null && break
			sleep 0.05
		done
		cat "/proc/$pid/cmdline" >"$OUT/cmdline"
		cat "/proc/$pid/environ" >"$OUT/environ"
		echo "$pid" >"$OUT/pid"
		wait "$pid" || echo "status=$?" >"$OUT/status"
		sleep 0.3
		kill %1
	' hang_and_peek "$dev" "$T/syslog" "$@"
}

# The password in none of the files given, in clear or in base64.
refute_secret_in() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || _fail "missing: $f"
		! grep -aqF -- "$PASS" "$f" || _fail "the password is in $f" \
		    "$(cat -v "$f")"
		! grep -aqF -- "$PLAIN_B64" "$f" ||
		    _fail "the PLAIN response is in $f" "$(cat -v "$f")"
	done
}

@test "the password is absent from cmdline, environ, syslog, logfile and -v while a session hangs" {
	command -v unshare >/dev/null || _fail "unshare missing (util-linux)"
	fake_start_auth - <<'EOF'
on MAIL => stall
EOF
	write_auth_config "password $PASS" "timeout 2" "logfile $T/logfile" \
	    "syslog LOG_MAIL"
	sample_message >/dev/null
	STDIN_FILE=$T/msg OUT=$T hang_and_peek env PATH="$PATH" \
	    "$POSTIE" -v -C "$CONFIG" rcpt@example.org
	[ -s "$T/cmdline" ] || _fail "no cmdline captured (postie gone?)"
	grep -q "AUTH PLAIN ok" "$FAKE_DIR/log" || _fail "no AUTH" \
	    "$(cat "$FAKE_DIR/log")"
	grep -q 'status=75' "$T/status" || _fail "want 75: $(cat "$T/status")"
	# The PLAIN response did cross the wire (inside TLS) ...
	grep -q "^T AUTH PLAIN $PLAIN_B64\$" "$FAKE_DIR/conn-1.tls" ||
	    _fail "AUTH PLAIN not sent as expected" "$(cat "$FAKE_DIR/conn-1.tls")"
	# ... the -v transcript shows the AUTH command, redacted ...
	grep -q '> AUTH PLAIN' "$T/stderr" || _fail "no AUTH in -v" \
	    "$(cat "$T/stderr")"
	# ... and the secret is nowhere a user or an admin could look.
	refute_secret_in "$T/cmdline" "$T/environ" "$T/stderr" "$T/stdout" \
	    "$T/syslog" "$T/logfile"
	grep -q 'postie' "$T/syslog" || _fail "nothing in syslog (test broken?)"
	[ -s "$T/logfile" ] || _fail "nothing in the logfile (test broken?)"
}

@test "passwordeval: the token is not in postie's cmdline or environ, nor in its child's" {
	command -v unshare >/dev/null || _fail "unshare missing (util-linux)"
	fake_start_auth - <<'EOF'
on MAIL => stall
EOF
	# The command records its own argv and environment, then prints the
	# password from a file.
	printf '%s\n' "$PASS" >"$T/pw"
	cat >"$T/eval.sh" <<EOF
tr '\\0' '\\n' </proc/\$\$/cmdline >"$T/child-cmdline"
tr '\\0' '\\n' </proc/\$\$/environ >"$T/child-environ"
cat "$T/pw"
EOF
	write_auth_config "passwordeval sh $T/eval.sh" "timeout 2" \
	    "logfile $T/logfile"
	sample_message >/dev/null
	STDIN_FILE=$T/msg OUT=$T hang_and_peek "$POSTIE" -v -C "$CONFIG" \
	    rcpt@example.org
	grep -q "AUTH PLAIN ok" "$FAKE_DIR/log" || _fail "no AUTH" \
	    "$(cat "$FAKE_DIR/log")"
	refute_secret_in "$T/cmdline" "$T/environ" "$T/stderr" "$T/syslog" \
	    "$T/logfile" "$T/child-cmdline" "$T/child-environ"
}

# ---- each source ------------------------------------------------------------------

@test "passwordeval: its first line is the password; stdin is /dev/null; the message is intact" {
	fake_start_auth
	cat >"$T/eval.sh" <<EOF
[ "\$(readlink /proc/self/fd/0)" = /dev/null ] || exit 9
cat >/dev/null
printf '%s\\nsecond line\\n' '$PASS'
EOF
	write_auth_config "passwordeval sh $T/eval.sh"
	send
	assert_authenticated
}

@test "passwordeval: a long token (64 KiB) for XOAUTH2" {
	local token
	token=$(head -c 49152 /dev/urandom | base64 -w0)
	printf 'auth tokens %s:%s\n' "$USER_NAME" "$token" >"$T/scenario"
	fake_start_tls valid "$T/scenario"
	printf '%s\n' "$token" >"$T/token"
	write_tls_config "auth xoauth2" "user $USER_NAME" \
	    "passwordeval cat $T/token"
	send
	assert_status 0
	grep -q "AUTH XOAUTH2 ok" "$FAKE_DIR/log" || _fail "no AUTH" \
	    "$(cat "$FAKE_DIR/log")"
	assert_stderr_not_contains "${token:0:40}"
}

@test "passwordeval runs before connecting: no server waits for it" {
	fake_start_auth
	# What the server has recorded when the command runs: no
	# connection yet (conn-1.peer is written when one is accepted).
	write_auth_config "passwordeval ls $FAKE_DIR >$T/seen; echo $PASS"
	send
	assert_authenticated
	[ -s "$T/seen" ] || _fail "passwordeval did not run"
	! grep -q '^conn-' "$T/seen" ||
	    _fail "a connection was open while passwordeval ran" "$(cat "$T/seen")"
}

@test "SIGCHLD ignored by the caller: passwordeval still works" {
	# An ignored SIGCHLD survives exec; the wait for passwordeval then
	# failed with "No child processes" (exit 78, the mail lost).
	fake_start_auth
	write_auth_config "passwordeval echo $PASS"
	cat >"$T/wrap" <<EOF
#!/bin/sh
exec perl -e '\$SIG{CHLD} = "IGNORE"; exec @ARGV or die' "$POSTIE" "\$@"
EOF
	chmod +x "$T/wrap"
	POSTIE=$T/wrap send
	assert_authenticated
	assert_stderr_empty
}

@test "passwordeval failing: an error naming it, no AUTH sent" {
	fake_start_auth
	write_auth_config "passwordeval exit 3"
	send
	[ "$status" -ne 0 ] || _fail "succeeded"
	assert_stderr_contains "passwordeval failed: exit status 3"
	assert_equal "$(fake_connections)" 0 "connections"
}

@test "~/.netrc: machine = host, login = user" {
	fake_start_auth
	write_auth_config
	printf 'machine other.example login %s password wrong\nmachine 127.0.0.1 login bob password wrong\nmachine 127.0.0.1 login %s password %s\n' \
	    "$USER_NAME" "$USER_NAME" "$PASS" >"$T/.netrc"
	chmod 600 "$T/.netrc"
	HOME=$T send
	assert_authenticated
}

@test "~/.netrc readable by others: refused with chmod advice, no AUTH" {
	fake_start_auth
	write_auth_config
	printf 'machine 127.0.0.1 login %s password %s\n' "$USER_NAME" "$PASS" \
	    >"$T/.netrc"
	chmod 644 "$T/.netrc"
	HOME=$T send
	[ "$status" -ne 0 ] || _fail "succeeded"
	assert_stderr_contains "$T/.netrc: contains a password but is readable by group or others (run: chmod 600 $T/.netrc)"
	refute_command_prefix "AUTH"
}

@test "\$CREDENTIALS_DIRECTORY: postie-ACCOUNT, then postie-password" {
	fake_start_auth - --connections 2 </dev/null
	write_auth_config
	mkdir -m 700 "$T/creds"
	printf '%s\n' "$PASS" >"$T/creds/postie-password"
	HOME=$T CREDENTIALS_DIRECTORY=$T/creds send
	assert_status 0
	# The account's own file wins (the account is "default").
	printf 'wrong\n' >"$T/creds/postie-password"
	printf '%s\n' "$PASS" >"$T/creds/postie-default"
	HOME=$T CREDENTIALS_DIRECTORY=$T/creds send
	assert_status 0
	[ "$(grep -c 'AUTH PLAIN ok' "$FAKE_DIR/log")" -eq 2 ] ||
	    _fail "want two successful AUTHs" "$(cat "$FAKE_DIR/log")"
}

@test "nothing set and no terminal: a clear error, no AUTH sent" {
	fake_start_auth
	write_auth_config
	# setsid: no controlling terminal, so no prompt.
	HOME=$T run --separate-stderr setsid -w timeout 20 "$POSTIE" \
	    -C "$CONFIG" rcpt@example.org <"$(sample_message)"
	[ "$status" -ne 0 ] || _fail "succeeded"
	assert_stderr_contains "no password for account 'default' $NOPASS"
	refute_command_prefix "AUTH"
	assert_no_message
}

@test "a prompt on /dev/tty: echo off, the password typed is used, stdin untouched" {
	fake_start_auth
	write_auth_config
	sample_message >/dev/null
	# postie runs with a pseudo-terminal as its controlling terminal and
	# the message on stdin; we type the password once it asks.
	HOME=$T run "$PYTHON3" - "$POSTIE" "$CONFIG" "$T/msg" "$PASS" <<'EOF'
import os, select, sys, time
postie, config, msg, pw = sys.argv[1:5]
master, slave = os.openpty()
pid = os.fork()
if pid == 0:
    os.setsid()
    os.close(master)
    # Opening the slave by name makes it the controlling terminal.
    fd = os.open(os.ttyname(slave), os.O_RDWR)
    os.close(slave)
    os.dup2(os.open(msg, os.O_RDONLY), 0)
    os.execv(postie, [postie, "-C", config, "rcpt@example.org"])
# The slave stays open here too: reading the master of a terminal that
# no one holds open fails (EIO) until the child has opened it.
seen, end = b"", time.monotonic() + 15
while b"password for" not in seen and time.monotonic() < end:
    r, _, _ = select.select([master], [], [], 0.2)
    if r:
        seen += os.read(master, 4096)
os.write(master, pw.encode() + b"\n")
out = b""
end = time.monotonic() + 15
while time.monotonic() < end:
    done, status = os.waitpid(pid, os.WNOHANG)
    r, _, _ = select.select([master], [], [], 0.1)
    if r:
        try:
            out += os.read(master, 4096)
        except OSError:
            pass
    if done:
        break
else:
    done = 0
    os.kill(pid, 9)
    status = 9
print("prompt=%r" % seen.decode(errors="replace"))
print("after=%r" % out.decode(errors="replace"))
print("status=%d" % (os.waitstatus_to_exitcode(status) if done else -1))
EOF
	[[ "$output" == *"prompt='password for $USER_NAME at 127.0.0.1: '"* ]] ||
	    _fail "no prompt: $output"
	[[ "$output" == *"status=0"* ]] || _fail "postie failed: $output"
	[[ "$output" != *"$PASS"* ]] || _fail "the password was echoed: $output"
	grep -q "AUTH PLAIN ok" "$FAKE_DIR/log" || _fail "no AUTH" \
	    "$(cat "$FAKE_DIR/log")"
	# The whole message arrived: the prompt did not read stdin.
	assert_message 1 "$(crlf_copy "$T/msg")"
}
