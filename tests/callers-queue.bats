#!/usr/bin/env bats
# shellcheck shell=bash
#
# Real callers, part 4: the queue with a setgid install.  postie is
# /usr/sbin/sendmail root:postie 2755 in the caller namespace, its system
# config root:postie 0640 with `queue on` and the SMTP password (Postfix's
# submission port: STARTTLS and AUTH), the system queue root:postie 2770
# (tests/callers.bash with CL_SETGID=1, CL_QUEUE=on, CL_AUTH=1).  With
# the private Postfix out of reach, cron (a user's crontab and root's),
# at and sudo's mail_always each submit; nothing is lost: every message
# waits in the system queue, and one `postie -q` by an ordinary user
# delivers each exactly once.

load common
load callers

setup_file() {
	export CL_SETGID=1 CL_QUEUE=on CL_AUTH=1
	callers_setup_file
}
teardown_file() { callers_teardown_file; }

setup() {
	callers_setup
	in_ns sh -c "rm -rf '$SPOOL_DIR'/q/* '$SPOOL_DIR'/tmp/* \
	    '$SPOOL_DIR'/corrupt/*"
}

teardown() {
	local p
	for p in "$CL_DIR"/ns/cron.pid "$CL_DIR"/ns/atd.pid; do
		[ -f "$p" ] && stop_daemon "$(basename "$p" .pid)"
	done
	callers_teardown
}

stop_daemon() {
	local p
	if [ -f "$CL_DIR/ns/$1.pid" ]; then
		p=$(cat "$CL_DIR/ns/$1.pid")
		kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" || true
		rm -f "$CL_DIR/ns/$1.pid"
	fi
}

# The entries in the system queue, as root sees them.
queue_count() {
	in_ns sh -c "ls '$SPOOL_DIR/q' | wc -l"
}

# queue_wait N: wait (at most 30 s) for N entries in the system queue.
queue_wait() {
	local _
	for _ in $(seq 1 600); do
		[ "$(queue_count)" -ge "$1" ] && return 0
		sleep 0.05
	done
	echo "the system queue holds $(queue_count) entries, not $1; log:"
	tail -n 20 "$CL_DIR/postie.log"
	return 1
}

# crontabs USER TEXT [USER TEXT]: the only crontabs, as crontab(1)
# leaves them.
crontabs() {
	local d=/var/spool/cron/crontabs
	in_ns sh -c "rm -f $d/*"
	while [ $# -ge 2 ]; do
		in_ns sh -c "cat >$d/$1 && chown $1:crontab $d/$1 &&
		    chmod 600 $d/$1" <<<"$2"
		shift 2
	done
}

# sudo with mail_always, as in callers-app.bats.
sudoers() {
	local f=$CL_DIR/sudoers
	if [ ! -f "$f" ]; then
		cat >"$f" <<EOF
Defaults mail_always, !syslog, logfile=$CL_DIR/sudo.log
$CALLER_USER ALL=(root) NOPASSWD: /bin/true
EOF
		chown root:root "$f"
		chmod 0440 "$f"
		visudo -c -q -f "$f"
		in_ns sh -c "mount --bind '$f' /etc/sudoers"
	fi
}

@test "a setgid install: the user sends through a config they cannot read; nothing stays queued" {
	run in_ns -u cat "$SYSCONF_FILE"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	[[ "$output" != *"$PF_AUTH_PASSWORD"* ]]
	run --separate-stderr in_ns -u sh -c \
	    'printf "Subject: direct\n\nhello\n" | /usr/sbin/sendmail box-qdirect'
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	m=$(mail_wait box-qdirect)
	[ "$(queue_count)" -eq 0 ]
	# it came in authenticated, as the account in the protected file
	grep -q "sasl_username=$PF_AUTH_USER" "$PF_DIR/maillog"
	! grep -qF "$PF_AUTH_PASSWORD" "$CL_DIR/postie.log" "$m"
}

@test "cron, at and sudo with the server down: all queued, exit 0; one postie -q by the user delivers each mail once" {
	caller_down
	sudoers
	: >"$CL_DIR/postie.log"
	# cron: a user's crontab and root's, each job mailing its output
	crontabs "$CALLER_USER" "MAILTO=box-qcron
@reboot echo from the user job" root "MAILTO=box-qroot
@reboot echo from the root job"
	in_ns rm -f /run/crond.reboot /run/crond.pid
	ns_daemon cron "${TRACE_EXECS[@]}" "$W/cron.trace" cron -f -L 15
	# at: the job's output goes to its owner (aliased to carol)
	echo "echo from the at job" >"$OUT/job"
	chmod 644 "$OUT/job"
	ns_daemon atd atd -f
	run in_ns -u sh -c "at now <$OUT/job"
	[ "$status" -eq 0 ]
	# sudo mails root (aliased to alice) twice: allowed, then exited
	run --separate-stderr in_ns -u sudo -n /bin/true
	[ "$status" -eq 0 ]
	queue_wait 5
	stop_daemon cron
	stop_daemon atd
	# cron's mailers exited 0: the messages are safe, not lost
	run sh -c "grep -c '+++ exited with 0 +++' '$W/cron.trace'"
	[ "$output" -ge 2 ]
	run grep -c 'queued=' "$CL_DIR/postie.log"
	[ "$output" -eq 5 ]
	[ "$(mail_count box-qcron)" -eq 0 ]
	[ "$(mail_count alice)" -eq 0 ]
	# the server is back; an ordinary user runs the whole queue
	caller_up
	run --separate-stderr in_ns -u /usr/sbin/sendmail -q
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	mail_wait box-qcron >/dev/null
	mail_wait box-qroot >/dev/null
	mail_wait carol >/dev/null
	mail_wait alice 2 >/dev/null
	[ "$(queue_count)" -eq 0 ]
	# once, and once only, also after another run
	run in_ns /usr/sbin/sendmail -q
	[ "$status" -eq 0 ]
	sleep 1
	[ "$(mail_count box-qcron)" -eq 1 ]
	[ "$(mail_count box-qroot)" -eq 1 ]
	[ "$(mail_count carol)" -eq 1 ]
	[ "$(mail_count alice)" -eq 2 ]
	grep -q '^from the user job$' "$PF_MAILDIR_BASE"/box-qcron/new/*
	grep -q '^from the root job$' "$PF_MAILDIR_BASE"/box-qroot/new/*
	grep -q '^from the at job$' "$PF_MAILDIR_BASE"/carol/new/*
	# the envelope senders: each caller's own login, not the runner's
	grep -q "^Return-Path: <$CALLER_USER@example.org>" \
	    "$PF_MAILDIR_BASE"/box-qcron/new/*
	grep -q '^Return-Path: <root@example.org>' \
	    "$PF_MAILDIR_BASE"/box-qroot/new/*
	[ "$(grep -c "sasl_username=$PF_AUTH_USER" "$PF_DIR/maillog")" -ge 5 ]
	! grep -qF "$PF_AUTH_PASSWORD" "$CL_DIR/postie.log"
}
