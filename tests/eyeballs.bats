#!/usr/bin/env bats
# shellcheck shell=bash
#
# Happy Eyeballs (RFC 8305): a host name with several addresses.  When
# the first address does not answer, the next is tried 250 ms later
# while the first attempt goes on, instead of after a whole timeout.
#
# The addresses are made real with tests/netdelay.py: a client and a
# server network namespace joined by a link (no added delay here) on
# which 10.254.0.3 drops every packet, as a black-holed address does.
# The name he.postie.test is given both addresses, the black hole
# first, in a private /etc/hosts that postie sees through its own mount
# namespace.  Nothing outside the namespaces changes.  Needs root.

load common

NETDELAY=$TOP_SRCDIR/tests/netdelay.py

setup() {
	common_setup
	LINK=$T/link
}

teardown() {
	fake_stop
	[ -d "${LINK-}" ] && "$PYTHON3" "$NETDELAY" stop "$LINK" >/dev/null 2>&1
	common_teardown
}

# link DROP...: the link, with DROP black-holed; the fake server on
# 10.254.0.2 (and 10.254.0.3 when not dropped) in the server namespace;
# a config for he.postie.test.
link() {
	local drops=() a
	for a in "$@"; do
		drops+=(--drop "$a")
	done
	"$PYTHON3" "$NETDELAY" start "$LINK" --rtt-ms 0 "${drops[@]}" \
	    >/dev/null || _fail "cannot make the link (root needed)"
	NETNS_EXEC="$PYTHON3 $NETDELAY exec $LINK server"
	fake_start "" --listen 0.0.0.0
	NETNS_EXEC=
	write_config "timeout 10" "tls off"
	sed -i 's/^host .*/host he.postie.test/' "$CONFIG"
	printf '127.0.0.1 localhost\n%s he.postie.test\n' "$@" 10.254.0.2 \
	    >"$T/hosts"
}

# in_client CMD...: CMD in the client namespace, seeing $T/hosts as
# /etc/hosts.
in_client() {
	"$PYTHON3" "$NETDELAY" exec "$LINK" client unshare -m sh -c \
	    'mount --bind "$0" /etc/hosts && exec "$@"' "$T/hosts" "$@"
}

# in_client_traced STRACE-ARGS...: strace in the client namespace, with
# LeakSanitizer off as common.bash's traced() does (it cannot work under
# ptrace).
in_client_traced() {
	in_client env \
	    "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace "$@"
}

# The resolver gives the addresses in the order of the hosts file (the
# test means nothing otherwise).
assert_order() {
	local got
	got=$(in_client getent ahostsv4 he.postie.test |
	    awk '$2 == "STREAM" { print $1 }' | paste -sd ' ')
	assert_equal "$got" "$*" "addresses of he.postie.test"
}

@test "the first address drops SYNs: the second is tried 250 ms later, while the first goes on" {
	command -v strace >/dev/null ||
	    _fail "strace missing (tests/ci.sh installs it)"
	link 10.254.0.3
	assert_order 10.254.0.3 10.254.0.2
	sample_message >/dev/null
	local t0 t1
	t0=$(date +%s%N)
	run --separate-stderr in_client_traced -f -o "$T/calls" \
	    -e trace=connect,close,poll \
	    "$POSTIE" -C "$CONFIG" rcpt@example.org <"$T/msg"
	t1=$(date +%s%N)
	assert_status 0
	assert_stderr_empty
	assert_message 1 "$(crlf_copy "$T/msg")"
	# the second connect starts while the first socket is still open
	# (EINPROGRESS: the TCP attempts, not the resolver's UDP probes)
	awk '
	/connect\(.*10\.254\.0\.3.*EINPROGRESS/ { fd3 = $2
		sub(/^connect\(/, "", fd3); sub(/,.*/, "", fd3); seen3 = 1
		next }
	/connect\(.*10\.254\.0\.2.*EINPROGRESS/ { if (!seen3) {
		print "no attempt at .3 first"
		exit 1 } if (closed3) { print ".3 closed before .2 was tried"
		exit 1 } ok = 1; exit 0 }
	seen3 && $0 ~ "close\\(" fd3 "\\)" { closed3 = 1 }
	END { if (!ok) exit 1 }' "$T/calls" ||
	    _fail "not in parallel" "$(cat "$T/calls")"
	# and the wait before it was the attempt delay, not the timeout (10 s):
	# the poll that ran out before the second connect asked for 250 ms
	grep -q 'poll(.*, 2[0-9][0-9]) = 0 (Timeout)' "$T/calls" ||
	    _fail "no 250 ms attempt delay" "$(cat "$T/calls")"
	[ $(((t1 - t0) / 1000000)) -lt 5000 ] ||
	    _fail "took $(((t1 - t0) / 1000000)) ms"
}

@test "a black-holed first address costs no error: one connection, to the second address" {
	link 10.254.0.3
	sample_message >/dev/null
	run --separate-stderr in_client "$POSTIE" -C "$CONFIG" -v \
	    rcpt@example.org <"$T/msg"
	assert_status 0
	assert_equal "$(fake_connections)" 1 connections
	assert_equal "$(cut -d' ' -f1 "$FAKE_DIR/conn-1.peer")" 10.254.0.1 peer
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "every address black-holed: 75 at the timeout, each address named" {
	link 10.254.0.3 10.254.0.4
	sed -i 's/^timeout .*/timeout 1/' "$CONFIG"
	printf '127.0.0.1 localhost\n10.254.0.3 he.postie.test\n10.254.0.4 he.postie.test\n' \
	    >"$T/hosts"
	assert_order 10.254.0.3 10.254.0.4
	sample_message >/dev/null
	run --separate-stderr in_client "$POSTIE" -C "$CONFIG" \
	    rcpt@example.org <"$T/msg"
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "connection to 10.254.0.3 port $FAKE_PORT timed out"
	assert_stderr_contains "connection to 10.254.0.4 port $FAKE_PORT timed out"
	assert_equal "$(fake_connections)" 0 connections
}

@test "the first address refuses at once: the second is tried at once, no 250 ms wait" {
	command -v strace >/dev/null ||
	    _fail "strace missing (tests/ci.sh installs it)"
	link
	# 127.0.0.2, the client's own loopback: nothing listens there, the
	# connect is refused at once.
	printf '127.0.0.1 localhost\n127.0.0.2 he.postie.test\n10.254.0.2 he.postie.test\n' \
	    >"$T/hosts"
	assert_order 127.0.0.2 10.254.0.2
	sample_message >/dev/null
	run --separate-stderr in_client_traced -f -o "$T/calls" \
	    -e trace=connect,poll "$POSTIE" -C "$CONFIG" rcpt@example.org \
	    <"$T/msg"
	assert_status 0
	assert_stderr_empty
	assert_message 1 "$(crlf_copy "$T/msg")"
	grep -q 'connect(.*127\.0\.0\.2' "$T/calls" ||
	    _fail "127.0.0.2 not tried" "$(cat "$T/calls")"
	! grep -q 'poll(.*= 0 (Timeout)' "$T/calls" ||
	    _fail "waited the attempt delay after a refusal" "$(cat "$T/calls")"
}
