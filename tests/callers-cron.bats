#!/usr/bin/env bats
# shellcheck shell=bash
#
# Real callers, part 1: the daemons that mail a job's output -- Debian's
# cron, at/atd and anacron -- each running for real in a private mount
# namespace where postie is /usr/sbin/sendmail, delivering through a
# private Postfix into Maildirs (tests/callers.bash, callers-env.sh).
# strace records the exact argv each daemon gives sendmail.

load common
load callers

setup_file() { callers_setup_file; }
teardown_file() { callers_teardown_file; }
setup() { callers_setup; }
teardown() { callers_teardown; }

# The job's output: a lone dot (which ends input for a sendmail that is
# not told -i), a line that is only "..", a "From " line and 8-bit text.
job_output() {
	printf 'first line\n.\n..\nFrom the job\nnon-ASCII: \303\244\303\266\n.\nlast line\n'
}

# A job command that prints job_output (octal escapes for printf(1)).
job_command() {
	# shellcheck disable=SC2028 # the backslashes are for printf(1)
	echo "printf 'first line\\n.\\n..\\nFrom the job\\nnon-ASCII: \\303\\244\\303\\266\\n.\\nlast line\\n'"
}

# install_crontab USER TEXT: USER's crontab, as crontab(1) would leave it,
# and the only one: an earlier test's @reboot job must not run again.
install_crontab() {
	local d=/var/spool/cron/crontabs
	in_ns sh -c "rm -f $d/* && cat >$d/$1 && chown $1:crontab $d/$1 &&
	    chmod 600 $d/$1" <<<"$2"
}

# start_cron: Debian's cron in the namespace, under strace (execve of the
# mailer recorded in $W/cron.trace).  With an empty /run, cron runs the
# @reboot jobs at once.
start_cron() {
	in_ns rm -f /run/crond.reboot /run/crond.pid
	ns_daemon cron "${TRACE_EXECS[@]}" "$W/cron.trace" cron -f -L 15
}

stop_daemon() {
	local p
	if [ -f "$CL_DIR/ns/$1.pid" ]; then
		p=$(cat "$CL_DIR/ns/$1.pid")
		kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" || true
		rm -f "$CL_DIR/ns/$1.pid"
	fi
}

@test "cron: a job's output reaches every MAILTO address through postie, body byte-exact" {
	job_output >"$W/expected"
	install_crontab "$CALLER_USER" "MAILTO=alice,bob
@reboot $(job_command)"
	start_cron
	a=$(mail_wait alice)
	b=$(mail_wait bob)
	stop_daemon cron
	# cron's own argv, unchanged
	run mailer_argv "$W/cron.trace"
	echo "$output"
	[ "$output" = '["/usr/sbin/sendmail", "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "alice,bob"]' ]
	mail_check "$a" --body "$W/expected" \
	    --addrs To=alice@example.org,bob@example.org \
	    --return-path "$CALLER_USER@example.org" \
	    --delivered-to alice@example.org
	mail_check "$b" --body "$W/expected" --delivered-to bob@example.org
	# cron's From: "root (Cron Daemon)" is a bare name: qualified
	mail_check "$a" --header "From: root@example.org (Cron Daemon)"
	[ "$(mail_count carol)" -eq 0 ]
}

@test "cron: without MAILTO the mail goes to the crontab's owner, through the aliases" {
	job_output >"$W/expected"
	install_crontab "$CALLER_USER" "@reboot $(job_command)"
	start_cron
	c=$(mail_wait carol)
	stop_daemon cron
	run mailer_argv "$W/cron.trace"
	echo "$output"
	[ "$output" = "[\"/usr/sbin/sendmail\", \"-FCronDaemon\", \"-i\", \"-B8BITMIME\", \"-oem\", \"$CALLER_USER\"]" ]
	# the envelope went to the alias; the header keeps the login,
	# qualified
	mail_check "$c" --body "$W/expected" --delivered-to carol@example.org \
	    --addrs "To=$CALLER_USER@example.org"
}

@test "cron: a root crontab with MAILTO=root reaches root's alias" {
	job_output >"$W/expected"
	install_crontab root "MAILTO=root
@reboot $(job_command)"
	start_cron
	a=$(mail_wait alice)
	stop_daemon cron
	mail_check "$a" --body "$W/expected" --return-path root@example.org \
	    --delivered-to alice@example.org
}

@test "cron: with the server down the job still runs, postie logs the failure and exits 75" {
	caller_down
	install_crontab "$CALLER_USER" "MAILTO=alice
@reboot $(job_command); touch $OUT/job-ran"
	start_cron
	# cron puts the mailer's stderr on /dev/null: postie's log is what the
	# admin has
	for _ in $(seq 1 200); do
		[ -n "$(mailer_exit "$W/cron.trace")" ] && [ -f "$OUT/job-ran" ] &&
		    break
		sleep 0.05
	done
	stop_daemon cron
	run mailer_exit "$W/cron.trace"
	[ "$output" = 75 ]
	[ -f "$OUT/job-ran" ]
	grep 'exitcode=EX_TEMPFAIL' "$CL_DIR/postie.log"
	grep -E 'cannot connect|connection refused|Connection refused' \
	    "$CL_DIR/postie.log"
	[ "$(mail_count alice)" -eq 0 ]
}

# atd runs under strace; at(1) queues the job as the test user.
@test "at: atd mails a job's output to its owner through postie, body byte-exact" {
	job_output >"$W/expected"
	job_command >"$OUT/job"
	ns_daemon atd "${TRACE_EXECS[@]}" "$W/atd.trace" atd -f
	run in_ns -u sh -c "at now <$OUT/job"
	echo "$output"
	[ "$status" -eq 0 ]
	c=$(mail_wait carol)
	stop_daemon atd
	run mailer_argv "$W/atd.trace"
	echo "$output"
	[ "$output" = "[\"sendmail\", \"-i\", \"$CALLER_USER\"]" ]
	mail_check "$c" --body "$W/expected" --delivered-to carol@example.org \
	    --return-path "$CALLER_USER@example.org"
}

@test "anacron: a job's output (sendmail called without -i) arrives whole, lone dots included" {
	job_output >"$W/expected"
	# anacron's parser eats backslashes: the command is in a script
	job_command >"$OUT/job.sh"
	printf 'SHELL=/bin/sh\nPATH=/usr/bin:/bin\nMAILTO=team\n1 0 postie.test sh %s\n' \
	    "$OUT/job.sh" >"$OUT/anacrontab"
	mkdir -p "$OUT/anacron-spool"
	# -d: stay in the foreground and mail the output as usual; -f -n: run
	# the job now, whatever its timestamp says
	run in_ns "${TRACE_EXECS[@]}" "$W/anacron.trace" \
	    anacron -d -f -n -t "$OUT/anacrontab" -S "$OUT/anacron-spool"
	echo "$output"
	[ "$status" -eq 0 ]
	b=$(mail_wait bob)
	c=$(mail_wait carol)
	run mailer_argv "$W/anacron.trace"
	echo "$output"
	[ "$output" = '["/usr/sbin/sendmail", "-FAnacron", "-odi", "team"]' ]
	mail_check "$b" --body "$W/expected" --delivered-to bob@example.org \
	    --return-path root@example.org --addrs To=team@example.org
	mail_check "$c" --body "$W/expected" --delivered-to carol@example.org
}
