#!/usr/bin/env bats
# What postie says about itself (issue 11): -P shows every keyword with
# its value and where it came from, and what postie decides from them (TLS,
# EHLO name, queue, logs); -v starts with the same before the transcript;
# with no syslog to reach and no logfile, what only the logs would get
# reaches stderr, once.

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

# line_of TEXT: the number of $CONFIG's line that is exactly TEXT.
line_of() {
	grep -nxF -- "$1" "$CONFIG" | cut -d: -f1
}

# assert_line_out LINE: stdout has exactly this line.
assert_line_out() {
	grep -qxF -- "$1" <<<"$output" || _fail "no line: $1"
}

@test "-P prints every keyword the parser accepts, each once" {
	local names n
	# The parser's table, as tests/doc.bats reads it for postie.conf(5).
	names=$(sed -n '/^static const struct keyword keywords\[\]/,/^};/p' \
	    "$TOP_SRCDIR/src/conf.c" |
	    sed -n 's/^[[:space:]]*{ "\([a-z_0-9]*\)",.*/\1/p')
	n=$(wc -l <<<"$names")
	# The table has 53 names today; far fewer means the pattern broke.
	[ "$n" -ge 50 ] || _fail "only $n names read from src/conf.c"
	printf 'account default\nhost mx.example.org\n' >"$CONFIG"
	run_postie -P
	assert_status 0
	for name in $names; do
		[ "$(grep -c "^$name  *= " <<<"$output")" -eq 1 ] ||
		    _fail "keyword '$name' not shown once"
	done
	# Nothing else looks like a keyword: one line per name, plus the
	# file, the account and the decisions.
	[ "$(grep -c '^[a-z_0-9]*  *= ' <<<"$output")" -eq \
	    "$((n + 6))" ] || _fail "not $n keyword lines and 6 others"
}

@test "-P shows effective values and where each came from" {
	cat >"$CONFIG" <<-EOF
	defaults
	tls_trust_file /etc/ssl/a.pem
	account default
	host 192.0.2.1
	allow_from_override off
	dsn_notify failure,delay
	dsn_return headers
	set_date_header off
	set_from_header on
	undisclosed_recipients
	queue_lifetime 36h
	EOF
	run_postie -P --port=2525
	assert_status 0
	assert_line_out "account               = default  ($CONFIG:3)"
	assert_line_out "allow_from_override   = off  ($CONFIG:5)"
	assert_line_out "dsn_notify            = failure,delay  ($CONFIG:6)"
	assert_line_out "dsn_return            = headers  ($CONFIG:7)"
	assert_line_out "set_date_header       = off  ($CONFIG:8)"
	assert_line_out "set_from_header       = on  ($CONFIG:9)"
	assert_line_out "set_msgid_header      = auto  (default)"
	assert_line_out "set_to_header         = off  (default)"
	assert_line_out "undisclosed_recipients = on  ($CONFIG:10)"
	assert_line_out "queue_lifetime        = 36h  ($CONFIG:11)"
	assert_line_out "tls_trust_file        = /etc/ssl/a.pem  ($CONFIG:2)"
	assert_line_out "port                  = 2525  (command line)"
	# Unset, the values the engine uses.
	assert_line_out "timeout               = 60  (default)"
	assert_line_out "tls_certcheck         = on  (default)"
	assert_line_out "tls_starttls          = on  (default)"
	assert_line_out "auth                  = off  (default)"
	assert_line_out "syslog                = on  (default)"
	assert_line_out "connect_timeout       = (old name of timeout)  (default)"
	run_postie -P --port=465
	assert_line_out "tls_starttls          = off  (default)"
}

@test "-P shows that a secret is set and where, never the secret" {
	echo 'tok-from-file-77' >"$T/pw"
	cat >"$CONFIG" <<-EOF
	account default
	host 192.0.2.1
	user bob
	password hunter2-secret
	EOF
	chmod 600 "$CONFIG"
	run_postie -P
	assert_status 0
	assert_line_out "password              = *  ($CONFIG:4)"
	assert_line_out "secret                = password  ($CONFIG:4)"
	[[ "$output$stderr" != *hunter2* ]] || _fail "password shown"
	sed -i "s|^password .*|passwordeval cat $T/pw|" "$CONFIG"
	run_postie -P
	assert_status 0
	assert_line_out "secret                = passwordeval  ($CONFIG:4)"
	[[ "$output$stderr" != *tok-from-file* ]] || _fail "eval output shown"
	sed -i '/^passwordeval/d' "$CONFIG"
	run_postie -P
	assert_line_out "secret                = looked up when sending: a systemd credential, ~/.netrc, then a prompt"
	sed -i '/^user/d' "$CONFIG"
	run_postie -P
	assert_line_out "secret                = none needed"
}

@test "-P: the TLS decision per host, and why" {
	local cert="required, STARTTLS (tls unset: the default for an address that is not loopback"
	printf 'account default\nhost 192.0.2.1, 127.0.0.1, ::1, mx.example.org\n' \
	    >"$CONFIG"
	run_postie -P
	assert_status 0
	assert_line_out "tls_decision          = 192.0.2.1: $cert)  (default)"
	assert_line_out "tls_decision          = 127.0.0.1: off (tls unset: a loopback address)  (default)"
	assert_line_out "tls_decision          = ::1: off (tls unset: a loopback address)  (default)"
	assert_line_out "tls_decision          = mx.example.org: $cert; off if the name resolves to loopback)  (default)"
	printf 'account default\nhost 127.0.0.1\ntls on\n' >"$CONFIG"
	run_postie -P
	assert_line_out "tls_decision          = 127.0.0.1: required, STARTTLS (tls on)  ($CONFIG:3)"
	printf 'account default\nhost 192.0.2.1\nport 465\n' >"$CONFIG"
	run_postie -P
	assert_line_out "tls_decision          = 192.0.2.1: required, implicit TLS (tls unset: the default for an address that is not loopback)  (default)"
	printf 'account default\nhost 192.0.2.1\ntls off\n' >"$CONFIG"
	run_postie -P
	assert_line_out "tls_decision          = 192.0.2.1: off (tls off)  ($CONFIG:3)"
	run_postie -P --tls=on
	assert_line_out "tls_decision          = 192.0.2.1: required, STARTTLS (tls on)  (command line)"
	printf 'account default\nsocket %s\n' "$T/sock" >"$CONFIG"
	run_postie -P
	assert_line_out "tls_decision          = $T/sock: off (tls unset: a unix socket)  (default)"
	[ "$(grep -c '^tls_decision' <<<"$output")" -eq 1 ] ||
	    _fail "not one decision for a socket"
}

@test "-P's TLS decision is the one a submission acts on" {
	fake_start
	write_config
	run_postie -P
	assert_line_out "tls_decision          = 127.0.0.1: off (tls unset: a loopback address)  (default)"
	run_postie -v a@example.org <<<"hi"
	assert_status 0
	refute_command_prefix STARTTLS
	assert_stderr_contains "*** connected to 127.0.0.1[127.0.0.1]:$FAKE_PORT; TLS off (tls unset: a loopback address)"

	fake_start
	write_config "tls on"
	run_postie -P
	assert_line_out "tls_decision          = 127.0.0.1: required, STARTTLS (tls on)  ($CONFIG:$(line_of 'tls on'))"
	run_postie -v a@example.org <<<"hi"
	# The fake server offers no STARTTLS: nothing goes in plaintext.
	assert_status 75
	assert_stderr_contains "*** connected to 127.0.0.1[127.0.0.1]:$FAKE_PORT; TLS required, STARTTLS (tls on)"
	assert_stderr_contains "does not offer STARTTLS"
	refute_command_prefix "MAIL"
}

@test "-P: the EHLO name a session uses, and where it comes from" {
	fake_start
	write_config
	run_postie -P
	assert_line_out "ehlo_name             = client.example.org  (domain at $CONFIG:$(line_of 'domain client.example.org'))"
	run_postie a@example.org <<<"hi"
	assert_status 0
	assert_command "EHLO client.example.org"

	sed -i '/^domain/d' "$CONFIG"
	run unshare -u bash -c 'hostname box.example.net &&
	    "$0" -C "$1" -P' "$POSTIE" "$CONFIG"
	assert_status 0
	assert_line_out "ehlo_name             = box.example.net  (this host's name)"
	run unshare -u bash -c 'hostname localhost && "$0" -C "$1" -P' \
	    "$POSTIE" "$CONFIG"
	assert_status 0
	assert_line_out "ehlo_name             = the address literal of the connection's own end  (this host has no name with a dot)"
}

@test "-P: the queue's location, the user's or the system's" {
	write_config
	XDG_STATE_HOME=$T/state run_postie -P
	assert_status 0
	assert_line_out "queue_location        = $T/state/postie/queue  (your own queue)"
	write_config "queue_dir $T/q"
	run_postie -P
	assert_line_out "queue_location        = $T/q  (your own queue, queue_dir at $CONFIG:$(line_of "queue_dir $T/q"))"
}

@test "-P and -v say where logs go: no /dev/log, a syslog, a logfile, syslog off" {
	command -v unshare >/dev/null || _fail "unshare missing (util-linux)"
	fake_start "" --connections 2
	write_config
	run_dev "" -P
	assert_status 0
	assert_line_out "logs                  = syslog unreachable (/dev/log: No such file or directory), no logfile: failures and notices on stderr only"
	run_dev "$T/syslog" -P
	assert_status 0
	assert_line_out "logs                  = syslog LOG_MAIL"
	write_config "syslog LOG_LOCAL3" "logfile $T/log"
	run_dev "$T/syslog" -P
	assert_line_out "logs                  = syslog LOG_LOCAL3, logfile $T/log"
	write_config "syslog off"
	run_dev "" -P
	assert_line_out "logs                  = syslog off, no logfile: failures and notices on stderr only"
	run_dev "" -v a@example.org <<<"hi"
	assert_status 0
	assert_stderr_contains $'\n'"*** logs: syslog off, no logfile: failures and notices on stderr only"$'\n'
	write_config "logfile $T/log"
	run_dev "" -v a@example.org <<<"hi"
	assert_status 0
	assert_stderr_contains $'\n'"*** logs: syslog unreachable (/dev/log: No such file or directory), logfile $T/log"$'\n'
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
