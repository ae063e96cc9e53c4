#!/usr/bin/env bats
# What postie says about itself (issue 11): -v starts with the file, the
# account, the hosts, the TLS decision and where logs go, before the
# transcript; with no syslog to reach and no logfile, what only the logs
# would get reaches stderr, once.

load common

setup() {
	common_setup
	# privdev SINK CMD...: run CMD in a private mount namespace whose
	# /dev has no log socket, or (SINK not empty) one served by
	# tests/logsink.py, which writes each syslog datagram of the run
	# to SINK, a line each.
	cat >"$T/privdev" <<-'EOF'
	#!/bin/bash
	sink=$1
	shift
	dev=$(mktemp -d "$T/dev.XXXXXX") || exit 99
	exec unshare -m bash -c '
		set -e
		dev=$1 sink=$2
		shift 2
		for n in null zero full random urandom tty; do
			touch "$dev/$n"; mount --bind "/dev/$n" "$dev/$n"
		done
		ln -sfn /proc/self/fd "$dev/fd"
		mount --bind "$dev" /dev
		if [ -n "$sink" ]; then
			# The sink holds the lines of this run only.
			rm -f "$sink" "$sink.ready"
			"$PYTHON3" "$TOP_SRCDIR/tests/logsink.py" /dev/log \
			    "$sink" 20 &
			for i in $(seq 200); do
				[ -e "$sink.ready" ] && break
				sleep 0.05
			done
			[ -e "$sink.ready" ] || exit 98
		fi
		set +e
		"$@"
		rc=$?
		if [ -n "$sink" ]; then
			# Datagrams keep their order: once this marker is in
			# the file, so is everything postie sent before it.
			"$PYTHON3" -c "import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b\"END-OF-RUN\", \"/dev/log\")"
			for i in $(seq 200); do
				grep -q END-OF-RUN "$sink" && break
				sleep 0.05
			done
			kill %1
		fi
		exit $rc
	' privdev "$dev" "$sink" "$@"
	EOF
	chmod +x "$T/privdev"
	export T
}

# run_dev SINK ARGS...: postie -C $CONFIG ARGS in privdev, bats-run.
run_dev() {
	local sink=$1
	shift
	run --separate-stderr "$T/privdev" "$sink" timeout -k 5 \
	    "$POSTIE_TIMEOUT" "$POSTIE" -C "$CONFIG" "$@"
}

@test "-v starts with the file, the account, the hosts, TLS and the logs" {
	fake_start
	write_config "host 127.0.0.2, 127.0.0.1"
	run_postie -v a@example.org <<<"hi"
	assert_status 0
	assert_equal "${stderr_lines[0]}" \
	    "*** configuration file $CONFIG, account 'default'" "line 1"
	assert_equal "${stderr_lines[1]}" \
	    "*** hosts, tried in order: 127.0.0.2, 127.0.0.1; port $FAKE_PORT" \
	    "line 2"
	assert_equal "${stderr_lines[2]}" \
	    "*** TLS for 127.0.0.2: off (tls unset: a loopback address)" "line 3"
	assert_equal "${stderr_lines[3]}" \
	    "*** TLS for 127.0.0.1: off (tls unset: a loopback address)" "line 4"
	[[ "${stderr_lines[4]}" == "*** logs: "* ]] || _fail "line 5"
	# 127.0.0.2 refuses (nothing listens there), then:
	assert_equal "${stderr_lines[5]}" \
	    "*** connected to 127.0.0.1[127.0.0.1]:$FAKE_PORT; TLS off (tls unset: a loopback address)" \
	    "line 6"
	[[ "${stderr_lines[6]}" == "<-- 220"* ]] || _fail "no greeting after"
	assert_stderr_contains "--> EHLO client.example.org"
}

@test "-v: a name's addresses are decided once connected" {
	fake_start
	write_config "host localhost"
	run_postie -v a@example.org <<<"hi"
	assert_status 0
	assert_stderr_contains "*** TLS for localhost: required, STARTTLS (tls unset: the default for an address that is not loopback; off if the name resolves to loopback)"
	assert_stderr_matches $'\n''\*\*\* connected to localhost\[(127\.0\.0\.1|::1)\]:'"$FAKE_PORT"'; TLS off \(tls unset: a loopback address\)'$'\n''<-- 220'
	refute_command_prefix STARTTLS
}

@test "no syslog, no logfile: a failure is said on stderr once" {
	command -v unshare >/dev/null || _fail "unshare missing (util-linux)"
	write_config "port 1" "timeout 2"
	run_dev "" a@example.org <<<"hi"
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "connection refused"
	# With a syslog it is said there too, and still once on stderr.
	run_dev "$T/syslog" a@example.org <<<"hi"
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "connection refused"
	grep -q '^<19>.*postie\[[0-9]*\]: .*connection refused' "$T/syslog" ||
	    _fail "no syslog line: $(cat "$T/syslog")"
}

@test "no syslog, no logfile: a queued message is said on stderr once, -odq too" {
	command -v unshare >/dev/null || _fail "unshare missing (util-linux)"
	write_config "queue on" "queue_dir $T/queue" "port 1" "timeout 2"
	run_dev "" a@example.org <<<"hi"
	assert_status 0
	assert_stderr_one_line
	assert_stderr_matches "^postie: account 'default': queued as [0-9a-f]{16}: 1 of 1 recipient deferred"

	run_dev "" -odq a@example.org <<<"hi"
	assert_status 0
	assert_stderr_one_line
	assert_stderr_matches "^postie: account 'default': queued as [0-9a-f]{16} \(-odq\); sent by 'postie -q' or the timer$"
}

@test "-odq with a syslog or a logfile: nothing on stderr, the log has it" {
	command -v unshare >/dev/null || _fail "unshare missing (util-linux)"
	write_config "queue on" "queue_dir $T/queue" "port 1"
	run_dev "$T/syslog" -odq a@example.org <<<"hi"
	assert_status 0
	assert_stderr_empty
	grep -q '^<22>.*postie\[[0-9]*\]: account=default queued=[0-9a-f]\{16\} ' \
	    "$T/syslog" || _fail "no syslog line: $(cat "$T/syslog")"
	write_config "queue on" "queue_dir $T/queue" "port 1" "logfile $T/log"
	run_dev "" -odq a@example.org <<<"hi"
	assert_status 0
	assert_stderr_empty
	grep -q 'account=default queued=[0-9a-f]\{16\} ' "$T/log" ||
	    _fail "no logfile line: $(cat "$T/log")"
}
