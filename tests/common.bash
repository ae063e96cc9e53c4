# shellcheck shell=bash
#
# common.bash -- shared setup and helpers for postie's bats tests.
# Every tests/*.bats file starts with `load common`.
#
# ENVIRONMENT (set by `make check` through AM_TESTS_ENVIRONMENT)
#   POSTIE        the binary under test
#   TOP_SRCDIR    the source tree (tests/fakesmtp.py lives there)
#   TOP_BUILDDIR  the build tree
#   PYTHON3       the Python 3 interpreter
# Run by hand from a build directory:
#   TOP_BUILDDIR=/tmp/b-x bats tests/smtp.bats      (or POSTIE=/path/postie)
# Unset, TOP_SRCDIR is the parent of this file's directory, TOP_BUILDDIR
# defaults to TOP_SRCDIR and POSTIE to $TOP_BUILDDIR/postie.
#
# PER TEST
#   setup() here makes $T (= $BATS_TEST_TMPDIR, private to the test) and
#   clears the variables below; teardown() stops any fake server.  A .bats
#   file that needs its own setup/teardown calls common_setup /
#   common_teardown from them.
#
# THE FAKE SERVER (tests/fakesmtp.py; its docstring documents the scenario
# format and every record it writes)
#   fake_start [SCENARIO|-] [fakesmtp options...]
#       start the server in the background on 127.0.0.1, ephemeral port,
#       wait until it listens.  SCENARIO is a file; "-" reads it from
#       stdin (a here-doc); "" or nothing: accept everything.  Options pass
#       through, e.g. --connections 2, --listen ::1, --lmtp,
#       --unix "$T/sock" (then FAKE_SOCKET is set), --max-seconds 10.
#       Sets FAKE_PORT, FAKE_PID, FAKE_DIR (the records), FAKE_SOCKET.
#       The server always dies by itself after --max-seconds (default 20).
#   fake_stop          kill the server if it still runs (teardown does it)
#   fake_wait [SECS]   wait (default 5 s) for the server to exit by itself
#                      (it exits after serving its connections); 1 on
#                      timeout
#   fake_conn_done [N] wait (at most 5 s) until connection N (default 1)
#                      has ended, so that its records are complete; the
#                      readers below call it
#   fake_connections   print how many connections the server accepted
#
# READING THE RECORDS (N: connection, default 1; M: message, default 1)
#   fake_transcript [N]    every byte the client sent, exactly
#   fake_commands [N]      the command lines, one a line, no CRLF (control
#                          bytes escaped as \r \n \xHH; UTF-8 kept)
#   fake_segments [N]      one line per recv(): the escaped bytes it got
#   fake_sent [N]          every byte the server sent
#   fake_peer [N]          the client's address and port, or "unix"
#   fake_message [M]       the M-th message's content, dot-unstuffed, exact
#   fake_message_raw [M]   the same as received, stuffing and the
#                          terminating CRLF.CRLF included
#   fake_message_path [M]  the file behind fake_message (for cmp)
#   fake_envelope [M]      its MAIL line and accepted RCPT lines
#   fake_reply_codes [M]   the code(s) it answered to the final dot
#   fake_messages          how many messages reached the final dot
#   fake_log               the server's event log
#   Command substitution drops NULs and trailing newlines: compare exact
#   bytes with files (fake_message_path, cmp) or assert_message.
#
# CONFIG AND RUNNING POSTIE
#   write_config [LINE...]  write $CONFIG (mode 600): account default,
#                           host 127.0.0.1, port $FAKE_PORT (or socket
#                           $FAKE_SOCKET), from sender@example.org,
#                           domain client.example.org, timeout 5, queue
#                           off (the engine's exit statuses); each
#                           non-empty LINE is appended (a later keyword
#                           overrides)
#   run_postie ARGS...      run `$POSTIE -C $CONFIG ARGS` with bats
#                           `run --separate-stderr`: $status, $output
#                           (stdout), $stderr, $lines, $stderr_lines; stdin
#                           is the caller's: give it with < FILE or <<<.
#                           Bounded by `timeout` (POSTIE_TIMEOUT, 30 s);
#                           sets ELAPSED_MS.  A config is written first if
#                           none exists.
#   run_postie_noconf ARGS  the same without -C
#   sample_message [FILE]   write a small valid message to FILE (default
#                           $T/msg) and print its path
#   crlf_copy IN [OUT]      copy IN with every LF turned into CRLF (default
#                           OUT $T/expected), print OUT: what an LF-only
#                           message looks like delivered
#   file_size FILE          its size in bytes
#
# TLS, AUTH AND A NON-LOOPBACK PEER
#   certs_dir               make the test certificates once per build tree
#                           (tests/certs.sh into $TOP_BUILDDIR/tests/certs)
#                           and set CERTS to that directory
#   fake_start_tls NAME [SCENARIO|-] [options...]
#                           fake_start with --tls-cert $CERTS/NAME.pem and
#                           --tls-key $CERTS/NAME.key (STARTTLS offered;
#                           add --tls-wrap for implicit TLS)
#   write_tls_config [LINE...]  write_config plus "tls on" and
#                           "tls_trust_file $CERTS/ca.pem", then the LINEs
#   fake_tls_lines [N]      connection N's command lines, each prefixed
#                           "T " (inside TLS) or "P " (plaintext)
#   fake_clear [N]          every byte the client sent before TLS started
#   refute_clear_contains STR   STR never crossed the wire in plaintext
#                           (connection 1)
#   netns_start             a private network namespace (unshare -n) with
#                           lo and a veth pair, 10.200.0.1/24 on one end:
#                           a peer address that is not loopback and routes
#                           nowhere.  Sets NETNS_PID and NETNS_EXEC (the
#                           nsenter prefix); fake_start and run_postie run
#                           inside it while NETNS_EXEC is set.  Stopped by
#                           teardown (netns_stop).  Skips the test where
#                           `unshare -n` is not allowed.
#
# ASSERTIONS (each prints what it saw on failure)
#   assert_equal ACTUAL EXPECTED [WHAT]
#   assert_status N                $status is N
#   assert_stderr_contains STR     $stderr contains STR
#   assert_stderr_not_contains STR
#   assert_stderr_matches ERE      $stderr matches the extended regex
#   assert_stderr_empty
#   assert_stderr_one_line         exactly one line, starting "postie: "
#   assert_commands LINE...        connection 1's command lines are exactly
#                                  these, in order
#   assert_command LINE            some command line equals LINE
#   refute_command_prefix STR      no command line starts with STR
#   refute_transcript_contains STR the client never sent STR (connection 1)
#   refute_log_contains STR        the server's log does not hold STR
#   assert_segment STR             some recv() segment is exactly STR (in
#                                  the escaped form: 'MAIL ...\r\nDATA\r\n'),
#                                  i.e. STR arrived as one write
#   assert_message M FILE          message M's content equals FILE's bytes
#   assert_no_message              no message reached the final dot
#   assert_no_connection           the server was never connected to
#   assert_elapsed_below SECS      postie ran for less than SECS seconds

: "${TOP_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${POSTIE:=$TOP_BUILDDIR/postie}"
: "${PYTHON3:=python3}"
: "${POSTIE_TIMEOUT:=30}"
FAKESMTP="$TOP_SRCDIR/tests/fakesmtp.py"
export TOP_SRCDIR TOP_BUILDDIR POSTIE PYTHON3

if type -t bats_require_minimum_version >/dev/null; then
	bats_require_minimum_version 1.5.0
fi

common_setup() {
	T=$BATS_TEST_TMPDIR
	CONFIG=$T/postierc
	FAKE_PID='' FAKE_PORT='' FAKE_DIR='' FAKE_SOCKET=''
	NETNS_PID='' NETNS_EXEC=''
	if [ ! -x "$POSTIE" ]; then
		echo "postie binary not found: POSTIE=$POSTIE" >&2
		echo "(set POSTIE or TOP_BUILDDIR)" >&2
		return 1
	fi
}

common_teardown() {
	fake_stop
	netns_stop
}

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# Run strace.  LeakSanitizer cannot work under ptrace: it is turned off
# for traced runs (this matters only for an ASan build).  callers-mua.bats
# has a traced() of its own.
traced() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace "$@"
}

# ---- the fake server --------------------------------------------------------

fake_start() {
	local scenario=${1-} i
	[ $# -gt 0 ] && shift
	if [ "$scenario" = - ]; then
		scenario=$T/scenario
		cat >"$scenario"
	fi
	FAKE_DIR=$T/fake
	rm -rf "$FAKE_DIR"
	mkdir -p "$FAKE_DIR"
	local args=(--dir "$FAKE_DIR" --max-seconds 20)
	[ -n "$scenario" ] && args+=(--scenario "$scenario")
	FAKE_SOCKET=
	local prev=
	for i in "$@"; do
		[ "$prev" = --unix ] && FAKE_SOCKET=$i
		prev=$i
	done
	# fd 3 must be closed or bats waits for the background server.
	# shellcheck disable=SC2086 # NETNS_EXEC is a command prefix
	${NETNS_EXEC-} "$PYTHON3" "$FAKESMTP" "${args[@]}" "$@" \
	    </dev/null >"$FAKE_DIR/stdout" 2>"$FAKE_DIR/stderr" 3>&- &
	FAKE_PID=$!
	for i in $(seq 1 200); do
		if [ -s "$FAKE_DIR/port" ]; then
			FAKE_PORT=$(cat "$FAKE_DIR/port")
			[ -n "$FAKE_SOCKET" ] && FAKE_PORT=
			return 0
		fi
		if ! kill -0 "$FAKE_PID" 2>/dev/null; then
			echo "fakesmtp did not start:" >&2
			cat "$FAKE_DIR/stderr" >&2
			FAKE_PID=
			return 1
		fi
		sleep 0.05
	done
	echo "fakesmtp did not listen within 10 s" >&2
	fake_stop
	return 1
}

fake_stop() {
	if [ -n "${FAKE_PID-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
		FAKE_PID=
	fi
}

fake_wait() {
	local secs=${1:-5} i
	[ -n "${FAKE_PID-}" ] || return 0
	for i in $(seq 1 $((secs * 20))); do
		if ! kill -0 "$FAKE_PID" 2>/dev/null; then
			wait "$FAKE_PID" 2>/dev/null || true
			FAKE_PID=
			return 0
		fi
		sleep 0.05
	done
	return 1
}

fake_conn_done() {
	local n=${1:-1} i
	[ -e "$FAKE_DIR/conn-$n.raw" ] || return 0
	for i in $(seq 1 100); do
		[ -e "$FAKE_DIR/conn-$n.done" ] && return 0
		kill -0 "${FAKE_PID:-0}" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

fake_connections() {
	local n=0
	while [ -e "$FAKE_DIR/conn-$((n + 1)).raw" ]; do
		n=$((n + 1))
	done
	echo "$n"
}

_fake_cat() {
	[ -e "$1" ] || { echo "no such record: $1" >&2; return 1; }
	cat "$1"
}

fake_transcript() { fake_conn_done "${1:-1}"; _fake_cat "$FAKE_DIR/conn-${1:-1}.raw"; }
fake_commands() { fake_conn_done "${1:-1}"; _fake_cat "$FAKE_DIR/conn-${1:-1}.cmds"; }
fake_segments() { fake_conn_done "${1:-1}"; _fake_cat "$FAKE_DIR/conn-${1:-1}.recv"; }
fake_sent() { fake_conn_done "${1:-1}"; _fake_cat "$FAKE_DIR/conn-${1:-1}.sent"; }
fake_peer() { _fake_cat "$FAKE_DIR/conn-${1:-1}.peer"; }
fake_message() { _fake_cat "$FAKE_DIR/msg-${1:-1}"; }
fake_message_raw() { _fake_cat "$FAKE_DIR/msg-${1:-1}.raw"; }
fake_message_path() { echo "$FAKE_DIR/msg-${1:-1}"; }
fake_envelope() { _fake_cat "$FAKE_DIR/msg-${1:-1}.env"; }
fake_reply_codes() { _fake_cat "$FAKE_DIR/msg-${1:-1}.reply"; }
fake_log() { _fake_cat "$FAKE_DIR/log"; }

fake_messages() {
	local n=0
	while [ -e "$FAKE_DIR/msg-$((n + 1))" ]; do
		n=$((n + 1))
	done
	echo "$n"
}

# ---- config and running postie ------------------------------------------------

write_config() {
	local line
	{
		echo "account default"
		if [ -n "${FAKE_SOCKET-}" ]; then
			echo "socket $FAKE_SOCKET"
		else
			echo "host 127.0.0.1"
			[ -n "${FAKE_PORT-}" ] && echo "port $FAKE_PORT"
		fi
		echo "from sender@example.org"
		echo "domain client.example.org"
		echo "timeout 5"
		# The engine's own outcomes (exit 75 and the rest) are what
		# most files test: without a queue.  Queue tests say
		# "queue on" (see write_queue_config).
		echo "queue off"
		for line in "$@"; do
			if [ -n "$line" ]; then
				echo "$line"
			fi
		done
	} >"$CONFIG"
	chmod 600 "$CONFIG"
}

run_postie() {
	[ -e "$CONFIG" ] || write_config ""
	run_postie_noconf -C "$CONFIG" "$@"
}

run_postie_noconf() {
	local t0 t1
	t0=$(date +%s%N)
	# shellcheck disable=SC2086 # NETNS_EXEC is a command prefix
	run --separate-stderr ${NETNS_EXEC-} timeout -k 5 "$POSTIE_TIMEOUT" \
	    "$POSTIE" "$@"
	t1=$(date +%s%N)
	ELAPSED_MS=$(((t1 - t0) / 1000000))
}

sample_message() {
	local f=${1:-$T/msg}
	printf '%s\n' \
	    'From: Sender <sender@example.org>' \
	    'To: rcpt@example.org' \
	    'Subject: test' \
	    'Date: Sun, 22 Nov 2026 10:00:00 +0000' \
	    'Message-ID: <test@example.org>' \
	    '' \
	    'Hello.' >"$f"
	echo "$f"
}

crlf_copy() {
	local out=${2:-$T/expected}
	sed 's/$/\r/' "$1" >"$out"
	echo "$out"
}

file_size() {
	wc -c <"$1" | tr -d ' '
}

# ---- TLS, AUTH, network namespace ---------------------------------------------

certs_dir() {
	CERTS=$TOP_BUILDDIR/tests/certs
	sh "$TOP_SRCDIR/tests/certs.sh" "$CERTS" >&2
}

fake_start_tls() {
	local name=$1 scenario=${2-}
	shift
	[ $# -gt 0 ] && shift
	[ -n "${CERTS-}" ] || certs_dir
	fake_start "$scenario" --tls-cert "$CERTS/$name.pem" \
	    --tls-key "$CERTS/$name.key" "$@"
}

write_tls_config() {
	[ -n "${CERTS-}" ] || certs_dir
	write_config "tls on" "tls_trust_file $CERTS/ca.pem" "$@"
}

fake_tls_lines() { fake_conn_done "${1:-1}"; _fake_cat "$FAKE_DIR/conn-${1:-1}.tls"; }
fake_clear() { fake_conn_done "${1:-1}"; _fake_cat "$FAKE_DIR/conn-${1:-1}.clear"; }

refute_clear_contains() {
	fake_conn_done 1
	[ -e "$FAKE_DIR/conn-1.clear" ] || return 0
	! grep -qF -- "$1" "$FAKE_DIR/conn-1.clear" ||
	    _fail "sent in plaintext: $1"
}

netns_start() {
	local i
	# Needs root (or user namespaces) and iproute2's veth.
	unshare -n true 2>/dev/null ||
	    _fail "cannot make a network namespace here (unshare -n): run as root"
	unshare -n sleep 600 </dev/null >/dev/null 2>&1 3>&- &
	NETNS_PID=$!
	for i in $(seq 1 50); do
		[ "$(readlink "/proc/$NETNS_PID/ns/net" 2>/dev/null)" != \
		    "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.02
	done
	NETNS_EXEC="nsenter --net=/proc/$NETNS_PID/ns/net"
	$NETNS_EXEC sh -c 'ip link set lo up &&
	    ip link add pv0 type veth peer name pv1 &&
	    ip addr add 10.200.0.1/24 dev pv0 &&
	    ip link set pv0 up && ip link set pv1 up' || {
		echo "cannot set up a network namespace" >&2
		return 1
	}
}

netns_stop() {
	if [ -n "${NETNS_PID-}" ]; then
		kill "$NETNS_PID" 2>/dev/null || true
		wait "$NETNS_PID" 2>/dev/null || true
		NETNS_PID='' NETNS_EXEC=''
	fi
}

# ---- assertions -----------------------------------------------------------------

_fail() {
	printf '%s\n' "$@" >&2
	printf 'status: %s\nstdout: %s\nstderr: %s\n' "${status-}" \
	    "${output-}" "${stderr-}" >&2
	if [ -n "${FAKE_DIR-}" ] && [ -e "$FAKE_DIR/conn-1.cmds" ]; then
		echo "commands on connection 1:" >&2
		sed 's/^/  /' "$FAKE_DIR/conn-1.cmds" >&2
	fi
	return 1
}

assert_equal() {
	[ "$1" = "$2" ] || _fail "${3:-value} differs" "expected: $2" \
	    "actual:   $1"
}

assert_status() {
	[ "$status" -eq "$1" ] || _fail "expected exit status $1, got $status"
}

assert_stderr_contains() {
	[[ "$stderr" == *"$1"* ]] || _fail "stderr lacks: $1"
}

assert_stderr_not_contains() {
	[[ "$stderr" != *"$1"* ]] || _fail "stderr contains: $1"
}

assert_stderr_matches() {
	[[ "$stderr" =~ $1 ]] || _fail "stderr does not match: $1"
}

assert_stderr_empty() {
	[ -z "$stderr" ] || _fail "stderr is not empty"
}

assert_stderr_one_line() {
	# shellcheck disable=SC2154 # set by run --separate-stderr
	if [ "${#stderr_lines[@]}" -ne 1 ] || [[ "$stderr" != "postie: "* ]]
	then
		_fail "stderr is not one line starting 'postie: '"
	fi
}

assert_commands() {
	local expected actual
	expected=$(printf '%s\n' "$@")
	actual=$(fake_commands 1)
	[ "$actual" = "$expected" ] || _fail "commands differ" \
	    "expected:" "$expected"
}

assert_command() {
	fake_conn_done 1
	grep -qxF -- "$1" "$FAKE_DIR/conn-1.cmds" 2>/dev/null ||
	    _fail "no command line: $1"
}

refute_command_prefix() {
	fake_conn_done 1
	[ -e "$FAKE_DIR/conn-1.cmds" ] || return 0
	! grep -qxF -- "$1" <(cut -c1-${#1} "$FAKE_DIR/conn-1.cmds") ||
	    _fail "a command line starts with: $1"
}

refute_transcript_contains() {
	fake_conn_done 1
	[ -e "$FAKE_DIR/conn-1.raw" ] || return 0
	! grep -qF -- "$1" "$FAKE_DIR/conn-1.raw" ||
	    _fail "the client sent: $1"
}

refute_log_contains() {
	! grep -qF -- "$1" "$FAKE_DIR/log" ||
	    _fail "the server's log holds: $1" "$(cat "$FAKE_DIR/log")"
}

assert_segment() {
	fake_conn_done 1
	grep -qxF -- "$1" "$FAKE_DIR/conn-1.recv" 2>/dev/null ||
	    _fail "no recv() segment is: $1" "segments:" \
	    "$(cat "$FAKE_DIR/conn-1.recv" 2>/dev/null)"
}

assert_message() {
	cmp -- "$2" "$FAKE_DIR/msg-$1" >&2 ||
	    _fail "message $1 differs from $2" "delivered:" \
	    "$(od -c "$FAKE_DIR/msg-$1" 2>&1 | head -40)"
}

assert_no_message() {
	[ "$(fake_messages)" -eq 0 ] || _fail "a message was delivered"
}

assert_no_connection() {
	[ "$(fake_connections)" -eq 0 ] || _fail "the server was connected to"
}

assert_elapsed_below() {
	[ "$ELAPSED_MS" -lt $(($1 * 1000)) ] ||
	    _fail "postie took ${ELAPSED_MS} ms (limit $1 s)"
}
