#!/usr/bin/env bats
# shellcheck shell=bash
#
# A setgid install, seen by an ordinary user: postie root:postie 2755,
# the system configuration root:postie 0640 with a password in it, the
# system queue root:postie 2770 (postie(8), SETGID INSTALL).  What the
# user can do through postie (send with the protected config, queue, list
# the queue, flush it, delete an own entry) and what not (read the config
# or the queue directly, steer the group to another file with -C, a home
# of their own, HOME/XDG/TMPDIR or --host, keep it in a passwordeval,
# delete another user's entry).
#
# Everything happens in a private mount namespace made by
# tests/callers-env.sh (`start --setgid`): a group "postie" in a private
# /etc/group, the setgid copy as /usr/sbin/sendmail, tmpfs over the
# compiled-in SYSCONFDIR file and SPOOLDIR, the user pcaller; nothing on
# the machine changes.  The server is tests/fakesmtp.py on loopback,
# with AUTH (SCRAM on loopback: the password really is used).  Needs root.

load common

CL_ENV_SH="$BATS_TEST_DIRNAME/callers-env.sh"
USER_NAME=alice
PASS=Pw-priv-5e7b1c-Secret

setup_file() {
	[ "$(id -u)" = 0 ] || return 0
	P_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postie-priv.XXXXXX")
	chmod 755 "$P_DIR"
	export P_DIR
	echo "account default" >"$P_DIR/seed.conf"
	mkdir "$P_DIR/ns"
	sh "$CL_ENV_SH" start --setgid "$P_DIR/ns" "$POSTIE" "$P_DIR/seed.conf"
	# Two more ways in: a plain copy (not setgid) and the setgid one
	# under the name "postie" (the per-keyword options need it).
	mkdir "$P_DIR/bin"
	chmod 755 "$P_DIR/bin"
	cp "$POSTIE" "$P_DIR/bin/postie-plain"
	chmod 755 "$P_DIR/bin/postie-plain"
	ln -s /usr/sbin/sendmail "$P_DIR/bin/postie"
}

teardown_file() {
	if [ -n "${P_DIR:-}" ]; then
		sh "$CL_ENV_SH" stop "$P_DIR/ns" || true
		rm -rf "$P_DIR"
	fi
}

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (setgid copies, namespaces)"
	common_setup
	# shellcheck disable=SC1091
	. "$P_DIR/ns/env"
	# a directory of the user's own for this test
	OUT=$P_DIR/out/$BATS_TEST_NUMBER
	mkdir -p "$OUT"
	chown "$CALLER_UID:$CALLER_UID" "$OUT"
	in_ns sh -c "rm -rf '$SPOOL_DIR'/q/* '$SPOOL_DIR'/tmp/* \
	    '$SPOOL_DIR'/corrupt/* '$SPOOL_DIR'/tls; rm -rf '$CALLER_HOME'/.postierc \
	    '$CALLER_HOME'/.config '$CALLER_HOME'/.local"
	sample_message >/dev/null
}

teardown() {
	common_teardown
}

in_ns() {
	sh "$CL_ENV_SH" run "$P_DIR/ns" "$@"
}

# as_user CMD...: CMD as pcaller in the namespace (bats run, stdin kept).
as_user() {
	run --separate-stderr sh "$CL_ENV_SH" run "$P_DIR/ns" -u "$@"
}

# as_nobody CMD...: CMD as nobody:nogroup, no supplementary groups.
as_nobody() {
	run --separate-stderr sh "$CL_ENV_SH" run "$P_DIR/ns" \
	    HOME=/nonexistent LOGNAME=nobody USER=nobody setpriv \
	    --reuid=65534 --regid=65534 --clear-groups "$@"
}

# sys_config [LINE...]: the system configuration, root:postie 0640 (or
# $SYS_OWNER, $SYS_MODE): the fake server (port $FAKE_PORT, or a closed
# port when none runs), the queue on, then the LINEs.
sys_config() {
	local line port=${FAKE_PORT:-1}
	{
		echo "account default"
		echo "host 127.0.0.1"
		echo "port $port"
		echo "from sender@example.org"
		echo "domain client.example.org"
		echo "timeout 3"
		echo "syslog off"
		echo "queue on"
		for line in "$@"; do
			echo "$line"
		done
	} | in_ns sh -c "cat >'$SYSCONF_FILE' &&
	    chown '${SYS_OWNER:-root:postie}' '$SYSCONF_FILE' &&
	    chmod '${SYS_MODE:-640}' '$SYSCONF_FILE'"
}

# The AUTH lines for alice's password.
auth_lines=("auth on" "user $USER_NAME" "password $PASS")

fake_start_auth() {
	printf 'auth users %s:%s\n' "$USER_NAME" "$PASS" >"$T/scenario"
	fake_start "$T/scenario" "$@"
}

# The IDs in the system queue, as root sees them.
queue_ids() {
	in_ns sh -c "ls '$SPOOL_DIR/q'"
}

queued_id() {
	sed -n 's/.*queued as \([0-9a-f]\{16\}\):.*/\1/p' <<<"$stderr"
}

refute_password_shown() {
	[[ "$output$stderr" != *"$PASS"* ]] || _fail "the password was shown"
}

assert_authenticated() {
	grep -q "AUTH [A-Z0-9-]* ok" "$FAKE_DIR/log" ||
	    _fail "no AUTH ok in the server's log" "$(cat "$FAKE_DIR/log")"
}

@test "an ordinary user sends through a root:postie 0640 config with a password, and cannot read it" {
	fake_start_auth
	sys_config "${auth_lines[@]}"
	as_user cat "$SYSCONF_FILE"
	[ "$status" -ne 0 ]
	assert_stderr_contains "Permission denied"
	[[ "$output" != *"$PASS"* ]]
	as_user /usr/sbin/sendmail rcpt@example.org <"$T/msg"
	assert_status 0
	assert_stderr_empty
	refute_password_shown
	assert_authenticated
	assert_equal "$(fake_messages)" 1 messages
	assert_message 1 "$(crlf_copy "$T/msg")"
	assert_equal "$(queue_ids)" "" "the system queue after delivery"
	# -P names the file and hides the password
	as_user /usr/sbin/sendmail -P
	assert_status 0
	[[ "$output" == *"configuration file    = $SYSCONF_FILE"* ]]
	[[ "$output" == *"password              = *"* ]]
	[[ "$output" == *$'\n'"queue_location        = $SPOOL_DIR  (the system queue)"$'\n'* ]] ||
	    _fail "no system queue line"
	refute_password_shown
}

@test "server down: queued in the system queue, closed to the user; mailq lists it; the user's postie -q delivers it once" {
	sys_config "${auth_lines[@]}"
	as_user /usr/sbin/sendmail rcpt@example.org <"$T/msg"
	assert_status 0
	assert_stderr_one_line
	id=$(queued_id)
	[ -n "$id" ] || _fail "no queue ID"
	assert_equal "$(queue_ids)" "$id" "the system queue"
	# the entry: the user's files, postie's group, nothing for others
	run in_ns stat -c '%U:%G %a' "$SPOOL_DIR/q/$id" "$SPOOL_DIR/q/$id/msg" \
	    "$SPOOL_DIR/q/$id/env"
	assert_equal "$output" "$(printf '%s\n' "$CALLER_USER:postie 2770" \
	    "$CALLER_USER:postie 640" "$CALLER_USER:postie 640")" "entry modes"
	# out of the user's reach, except through postie
	as_user ls "$SPOOL_DIR"
	[ "$status" -ne 0 ]
	assert_stderr_contains "Permission denied"
	as_user cat "$SPOOL_DIR/q/$id/msg"
	[ "$status" -ne 0 ]
	assert_stderr_contains "Permission denied"
	as_user /usr/sbin/sendmail -bp
	assert_status 0
	[[ "$output" == "-Queue ID-"*"$id "*"sender@example.org"*"rcpt@example.org"* ]] ||
	    _fail "mailq does not list $id"
	# the server is back
	fake_start_auth
	sys_config "${auth_lines[@]}"
	as_user /usr/sbin/sendmail -q
	assert_status 0
	assert_stderr_empty
	refute_password_shown
	assert_authenticated
	assert_equal "$(fake_messages)" 1 messages
	assert_message 1 "$(crlf_copy "$T/msg")"
	assert_equal "$(queue_ids)" "" "the system queue after the run"
	as_user /usr/sbin/sendmail -q
	assert_status 0
	assert_equal "$(fake_messages)" 1 "messages after a second run"
}

@test "TLS sessions in the system queue: root keeps them, a user resumes them but cannot read, write or plant one" {
	local f st
	certs_dir
	cp "$CERTS/ca.pem" "$P_DIR/ca.pem"
	chmod 644 "$P_DIR/ca.pem"
	fake_start_tls valid "" --connections 4
	sys_config "tls on" "tls_trust_file $P_DIR/ca.pem"
	# root (the queue timer, root's cron) stores the session
	in_ns /usr/sbin/sendmail rcpt@example.org <"$T/msg"
	run in_ns sh -c "stat -c '%U:%G %a' '$SPOOL_DIR/tls' \
	    '$SPOOL_DIR'/tls/*"
	assert_equal "$output" "$(printf '%s\n' "root:postie 2750" \
	    "root:postie 640")" "store modes"
	f=$(in_ns sh -c "ls '$SPOOL_DIR'/tls/*")
	st=$(in_ns stat -c '%i %Y' "$f")
	# the user's postie resumes it and keeps none of its own
	as_user /usr/sbin/sendmail -v rcpt@example.org <"$T/msg"
	assert_status 0
	assert_stderr_contains "*** TLS1.3 session resumed"
	grep -qx resumed "$FAKE_DIR/conn-2.tlsinfo"
	assert_equal "$(in_ns stat -c '%i %Y' "$f")" "$st" "root's file"
	assert_equal "$(in_ns sh -c "ls -A '$SPOOL_DIR/tls'" | wc -l)" 1 \
	    "files in tls/"
	# ... and cannot read it, or write there, except through postie
	as_user cat "$f"
	[ "$status" -ne 0 ]
	assert_stderr_contains "Permission denied"
	as_user touch "$SPOOL_DIR/tls/x"
	[ "$status" -ne 0 ]
	# a session file the user owned (so could have read or written) is
	# not believed, even with root's bytes in it
	in_ns chown "$CALLER_USER" "$f"
	as_user /usr/sbin/sendmail -v rcpt@example.org <"$T/msg"
	assert_status 0
	assert_stderr_not_contains "session resumed"
	! grep -q resumed "$FAKE_DIR/conn-3.tlsinfo"
	# neither is a tls/ directory someone else owns
	in_ns chown root "$f"
	in_ns chown "$CALLER_USER" "$SPOOL_DIR/tls"
	as_user /usr/sbin/sendmail -v rcpt@example.org <"$T/msg"
	assert_status 0
	assert_stderr_not_contains "session resumed"
	assert_equal "$(fake_messages)" 4 messages
}

@test "-C another file: the group is dropped before it is read" {
	fake_start
	sys_config
	# a file only postie's group may read: out of reach with -C
	in_ns sh -c "cp '$SYSCONF_FILE' '$OUT/group.conf' &&
	    chown root:postie '$OUT/group.conf' && chmod 640 '$OUT/group.conf'"
	as_user /usr/sbin/sendmail -C "$OUT/group.conf" rcpt@example.org \
	    <"$T/msg"
	assert_status 78
	assert_stderr_one_line
	assert_stderr_contains "$OUT/group.conf: cannot open: Permission denied"
	assert_no_connection
	# the user's own -C file: its passwordeval (and postie itself) hold
	# none of the group
	fake_stop
	fake_start_auth
	cat >"$OUT/mine.conf" <<EOF
account default
host 127.0.0.1
port $FAKE_PORT
from sender@example.org
timeout 3
syslog off
queue off
auth on
user $USER_NAME
passwordeval "{ id -G; grep ^Gid: /proc/\$PPID/status; } >$OUT/ids; echo $PASS"
EOF
	chown "$CALLER_UID:$CALLER_UID" "$OUT/mine.conf"
	chmod 600 "$OUT/mine.conf"
	as_user /usr/sbin/sendmail -C "$OUT/mine.conf" rcpt@example.org \
	    <"$T/msg"
	assert_status 0
	assert_authenticated
	run cat "$OUT/ids"
	echo "$output"
	# id -G: the user's group alone; postie (the command's parent):
	# real, effective, saved and filesystem gid all the user's
	assert_equal "${lines[0]}" "$CALLER_UID" "the command's groups"
	assert_equal "$(echo "${lines[1]}" | tr -s '\t ' ' ')" \
	    "Gid: $CALLER_UID $CALLER_UID $CALLER_UID $CALLER_UID" "postie's gids"
}

@test "--host with the system config: the file becomes unreadable, nothing reaches that host" {
	fake_start
	for lines in "auth on|user $USER_NAME|password $PASS" "auth off"; do
		IFS='|' read -r -a cfg <<<"$lines"
		# the real server is elsewhere: a closed port
		FAKE_PORT=1 sys_config "${cfg[@]}"
		as_user "$P_DIR/bin/postie" --host=127.0.0.1 --port="$FAKE_PORT" \
		    rcpt@example.org <"$T/msg"
		assert_status 78
		assert_stderr_one_line
		assert_stderr_contains "$SYSCONF_FILE: cannot open: Permission denied (with an option such as '--host' postie reads the system configuration with your own rights)"
		refute_password_shown
		assert_no_connection
	done
	# the same for -q: entries never run with the user's options
	as_user "$P_DIR/bin/postie" -q --port="$FAKE_PORT"
	assert_status 78
	assert_no_connection
}

# /bin/sh itself (dash, as bash) lowers an effective gid it was started
# with, but keeps it as the saved gid: the shell's own /proc entry shows
# whether postie gave the group up before the exec.
@test "passwordeval in the system config runs without postie's group" {
	fake_start_auth
	sys_config "auth on" "user $USER_NAME" \
	    "passwordeval \"{ id -G; grep ^Gid: /proc/\$\$/status; } >$OUT/ids; echo $PASS\""
	as_user /usr/sbin/sendmail rcpt@example.org <"$T/msg"
	assert_status 0
	assert_authenticated
	assert_equal "$(fake_messages)" 1 messages
	run cat "$OUT/ids"
	echo "$output"
	assert_equal "${lines[0]}" "$CALLER_UID" "the command's groups"
	assert_equal "$(echo "${lines[1]}" | tr -s '\t ' ' ')" \
	    "Gid: $CALLER_UID $CALLER_UID $CALLER_UID $CALLER_UID" \
	    "the shell's gids"
}

@test "HOME, XDG_* and TMPDIR of the user's choosing never move the system config or queue" {
	sys_config "${auth_lines[@]}"
	# a "home" whose ~/.postierc is the system config: the user's file,
	# read with the user's rights
	in_ns -u sh -c "mkdir -p '$OUT/evil' &&
	    ln -s '$SYSCONF_FILE' '$OUT/evil/.postierc'"
	as_user HOME="$OUT/evil" /usr/sbin/sendmail rcpt@example.org <"$T/msg"
	assert_status 78
	assert_stderr_contains "$OUT/evil/.postierc: cannot open: Permission denied"
	refute_password_shown
	# the same through XDG_CONFIG_HOME
	in_ns -u sh -c "mkdir -p '$OUT/xdg/postie' &&
	    ln -s '$SYSCONF_FILE' '$OUT/xdg/postie/config'"
	as_user XDG_CONFIG_HOME="$OUT/xdg" /usr/sbin/sendmail \
	    rcpt@example.org <"$T/msg"
	assert_status 78
	assert_stderr_contains "$OUT/xdg/postie/config: cannot open: Permission denied"
	# no user config there: the system's, and the system queue, whatever
	# the variables say
	in_ns -u mkdir -p "$OUT/empty/home" "$OUT/empty/tmp"
	as_user HOME="$OUT/empty/home" XDG_CONFIG_HOME="$OUT/empty/xdg" \
	    XDG_STATE_HOME="$OUT/empty/state" TMPDIR="$OUT/empty/tmp" \
	    /usr/sbin/sendmail rcpt@example.org <"$T/msg"
	assert_status 0
	id=$(queued_id)
	assert_equal "$(queue_ids)" "$id" "the system queue"
	assert_equal "$(cd "$OUT/empty" && find . | sort | tr '\n' ' ')" \
	    ". ./home ./tmp " "the user's places"
	# HOME unset or "/": the system config too
	as_user HOME=/ /usr/sbin/sendmail rcpt@example.org <"$T/msg"
	assert_status 0
	assert_equal "$(queue_ids | wc -l)" 2 "entries"
}

# The user's umask 077 must not hide an entry from the others' runs
# (they would find it unreadable and move it aside).
@test "--queue-delete: another user's entry is refused (77), one's own goes" {
	sys_config
	as_user sh -c 'umask 077; exec /usr/sbin/sendmail a@example.org' \
	    <"$T/msg"
	assert_status 0
	mine=$(queued_id)
	as_nobody /usr/sbin/sendmail b@example.org <"$T/msg"
	assert_status 0
	theirs=$(queued_id)
	[ -n "$mine" ] && [ -n "$theirs" ]
	as_nobody /usr/sbin/sendmail --queue-delete "$mine"
	assert_status 77
	assert_stderr_one_line
	assert_stderr_contains "queue entry $mine is not yours"
	queue_ids | grep -qx "$mine" || _fail "$mine was removed"
	as_nobody /usr/sbin/sendmail --queue-delete "$theirs"
	assert_status 0
	assert_equal "$output" "postie: queue entry $theirs deleted" stdout
	assert_equal "$(queue_ids)" "$mine" "the system queue"
	run in_ns /usr/sbin/sendmail --queue-delete "$mine"
	[ "$status" -eq 0 ]
	assert_equal "$(queue_ids)" "" "the system queue after root's delete"
}

@test "a system config writable by others or not root's is refused (78) while setgid" {
	fake_start
	for spec in root:postie:660:writable root:postie:666:writable \
	    "$CALLER_USER:postie:644:owned"; do
		IFS=: read -r owner group mode why <<<"$spec"
		SYS_OWNER=$owner:$group SYS_MODE=$mode sys_config
		as_user /usr/sbin/sendmail rcpt@example.org <"$T/msg"
		echo "$spec"
		assert_status 78
		assert_stderr_one_line
		if [ "$why" = writable ]; then
			assert_stderr_contains "$SYSCONF_FILE: refused as the system configuration: writable by group or others (run: chmod go-w $SYSCONF_FILE)"
		else
			assert_stderr_contains "$SYSCONF_FILE: refused as the system configuration: owned by uid $CALLER_UID, not by root (run: chown root $SYSCONF_FILE)"
		fi
	done
	# a password readable by others
	SYS_MODE=644 sys_config "${auth_lines[@]}"
	as_user /usr/sbin/sendmail rcpt@example.org <"$T/msg"
	assert_status 78
	assert_stderr_contains "$SYSCONF_FILE: contains a password but is readable or writable by others (run: chmod o= $SYSCONF_FILE)"
	assert_no_connection
}

@test "not installed setgid: the system queue cannot be used; one line says so and it is sent as with queue off (75)" {
	SYS_OWNER=root:root SYS_MODE=644 sys_config
	as_user "$P_DIR/bin/postie-plain" rcpt@example.org <"$T/msg"
	assert_status 75
	assert_equal "${#stderr_lines[@]}" 2 "stderr lines"
	assert_equal "${stderr_lines[0]}" "postie: warning: cannot open queue directory '$SPOOL_DIR': Permission denied (postie is not installed setgid 'postie'): sending without a queue, as with 'queue off'" warning
	assert_stderr_contains "connection refused"
	assert_equal "$(queue_ids)" "" "the system queue"
}

@test "/proc: while postie talks to the server its effective group is the user's, the group only saved" {
	fake_start - <<'EOF'
on CONNECT
    sleep 2000
    default
EOF
	sys_config "timeout 10"
	as_user /usr/sbin/sendmail -odq proc-check@example.org <"$T/msg"
	assert_status 0
	sh "$CL_ENV_SH" run "$P_DIR/ns" -u /usr/sbin/sendmail -q \
	    </dev/null >"$T/run.out" 2>&1 3>&- &
	bg=$!
	for _ in $(seq 1 250); do
		[ -e "$FAKE_DIR/conn-1.raw" ] && break
		sleep 0.02
	done
	# connected, the greeting still to come
	p=$(pgrep -u "$CALLER_UID" -x sendmail)
	gids=$(grep ^Gid: "/proc/$p/status" | tr -s '\t ' ' ')
	wait "$bg"
	cat "$T/run.out"
	assert_equal "$gids" \
	    "Gid: $CALLER_UID $CALLER_UID $POSTIE_GID $CALLER_UID" \
	    "real, effective, saved, filesystem gid"
	assert_equal "$(fake_messages)" 1 messages
}


# A file only the group may write (as an entry of the system queue is):
# a logfile, the user's or the system config's, never reaches it.
@test "a logfile is opened with the user's rights, from the user's config or the system's" {
	fake_start - --connections 2 </dev/null
	in_ns sh -c ": >'$OUT/group.log' && chown root:postie '$OUT/group.log' &&
	    chmod 660 '$OUT/group.log'"
	cat >"$OUT/mine.conf" <<EOF
account default
host 127.0.0.1
port $FAKE_PORT
from sender@example.org
timeout 3
syslog off
queue off
logfile $OUT/group.log
EOF
	chown "$CALLER_UID:$CALLER_UID" "$OUT/mine.conf"
	as_user /usr/sbin/sendmail -C "$OUT/mine.conf" rcpt@example.org \
	    <"$T/msg"
	assert_status 0
	assert_stderr_contains "cannot open logfile '$OUT/group.log': Permission denied"
	sys_config "logfile $OUT/group.log"
	as_user /usr/sbin/sendmail rcpt@example.org <"$T/msg"
	assert_status 0
	assert_stderr_contains "cannot open logfile '$OUT/group.log': Permission denied"
	assert_equal "$(fake_messages)" 2 messages
	assert_equal "$(stat -c %s "$OUT/group.log")" 0 "the log's size"
}
