#!/usr/bin/env bats
# shellcheck shell=bash
#
# The command line as callers use it: sendmail's grammar, argv[0] names,
# refused arguments, -v, and where outcomes are logged (syslog, logfile).

load common

@test "--help prints usage on stdout, exit 0" {
	run_postie_noconf --help
	assert_status 0
	[[ "$output" == usage:* ]] || _fail "no usage: $output"
	[[ "$output" == *"-t "* ]] || _fail "-t not described"
}

@test "--help describes every mode on a line of its own" {
	local m
	run_postie_noconf --help
	assert_status 0
	assert_stderr_empty
	for m in -bm -bs -bv "-bi, newaliases" "-bp, mailq" "-q, -qIid" \
	    "--queue-delete ID" "-P, --pretend" "-S, --serverinfo" \
	    "-odi, -odb, -odq" --help --version; do
		grep -q -- "^  $m\([ ,.]\|\$\)" <<<"$output" ||
		    _fail "--help has no line for $m"
	done
	[[ $output == *"-bd and -bD are refused"* ]] || _fail "$output"
}

@test "--help: -B and -U are honoured, said once, not also 'ignored'" {
	run_postie_noconf --help
	grep -q -- '^  -B 7BIT|8BITMIME$' <<<"$output" || _fail "$output"
	grep -q -- '^  -U  *ask for SMTPUTF8' <<<"$output" || _fail "$output"
	# Nowhere else, the ignored list included.
	assert_equal "$(grep -c -- '-B\b' <<<"$output")" 1 "-B lines"
	assert_equal "$(grep -c -- '-U\b' <<<"$output")" 1 "-U lines"
	sed -n '/^Accepted and ignored/,/^$/p' <<<"$output" >"$T/ignored"
	[ -s "$T/ignored" ] || _fail "no ignored list: $output"
	! grep -q -- '-[BU]\b' "$T/ignored" || _fail "$(cat "$T/ignored")"
}

@test "--help ends with the exit statuses, one a line, those of postie(8)" {
	local want got
	run_postie_noconf --help
	assert_status 0
	# The man page's EXIT STATUS items, each status once.
	want=$(awk '/^\.Sh EXIT STATUS/ { on = 1; next } /^\.Sh / { on = 0 }
	    on && /^\.It Sy [0-9]+ Pq EX_/ { print $3, $5 }' \
	    "$TOP_SRCDIR/doc/postie.8" | sort -un)
	[ "$(wc -l <<<"$want")" -ge 13 ] || _fail "man page: $want"
	# Everything after "Exit status:", which must end the text.
	got=$(sed -n '/^Exit status:$/,$p' <<<"$output" | sed 1d)
	[ -n "$got" ] || _fail "no 'Exit status:' block: $output"
	if grep -Evq '^  [0-9]{1,3} +EX_[A-Z]+ +[a-z0-9-].{4,}$' <<<"$got"; then
		_fail "not one status a line: $got"
	fi
	assert_equal "$(awk '{ print $1, $2 }' <<<"$got")" "$want" "statuses"
	assert_equal "${lines[-1]}" "$(tail -n 1 <<<"$got")" "last line"
	[[ $got == *"75  EX_TEMPFAIL     temporary failure: try again later"* ]] ||
	    _fail "$got"
}

@test "--version names the version and the config file in use" {
	printf 'account default\nhost 127.0.0.1\n' >"$T/rc"
	chmod 600 "$T/rc"
	HOME=$T XDG_CONFIG_HOME='' run_postie_noconf --version
	assert_status 0
	[[ "${lines[0]}" =~ ^postie\ [0-9]+\.[0-9]+ ]] || _fail "$output"
	cp "$T/rc" "$T/.postierc"
	HOME=$T XDG_CONFIG_HOME='' run_postie_noconf --version
	[[ "$output" == *"configuration file: $T/.postierc"* ]] ||
	    _fail "config path not shown: $output"
}

# The "searched:" line of --version, and SYSCONFDIR as it names it.
searched_line() {
	grep '^searched: ' <<<"$output"
}
searched_sysconf() {
	searched_line | sed -n 's|^searched: [^,]*, [^,]*, \(/[^,]*\)/postie\.conf, .*|\1|p'
}

@test "--version: 'searched:' names the real paths, ~/.config when XDG_CONFIG_HOME is unset" {
	local sys
	run env -u XDG_CONFIG_HOME HOME="$T" "$POSTIE" --version
	assert_status 0
	sys=$(searched_sysconf)
	[ -n "$sys" ] || _fail "no SYSCONFDIR in: $(searched_line)"
	assert_equal "$(searched_line)" "searched: $T/.config/postie/config, $T/.postierc, $sys/postie.conf, $T/.msmtprc, $T/.config/msmtp/config, $sys/msmtprc"
	# Set but relative: ignored as the XDG spec says, ~/.config again.
	HOME=$T XDG_CONFIG_HOME=rel run_postie_noconf --version
	assert_equal "$(searched_line)" "searched: $T/.config/postie/config, $T/.postierc, $sys/postie.conf, $T/.msmtprc, $T/.config/msmtp/config, $sys/msmtprc"
	HOME=$T XDG_CONFIG_HOME=$T/xdg run_postie_noconf --version
	assert_equal "$(searched_line)" "searched: $T/xdg/postie/config, $T/.postierc, $sys/postie.conf, $T/.msmtprc, $T/xdg/msmtp/config, $sys/msmtprc"
	[[ $output != *'$'* && $output != *'~'* ]] || _fail "$output"
	# And the first path listed is the one read when it is there.
	mkdir -p "$T/.config/postie"
	printf 'account default\nhost 127.0.0.1\n' >"$T/.config/postie/config"
	chmod 600 "$T/.config/postie/config"
	run env -u XDG_CONFIG_HOME HOME="$T" "$POSTIE" --version
	[[ $output == *"configuration file: $T/.config/postie/config"* ]] ||
	    _fail "$output"
}

@test "unknown option: exit 64, one line naming it, nothing sent" {
	fake_start
	write_config
	run_postie -z a@example.org <<<"hi"
	assert_status 64
	assert_stderr_contains "postie: unknown option '-z'"
	assert_no_connection
}

@test "a recipient starting with '-' is refused, even after --" {
	fake_start
	write_config
	run_postie -- -oQ/tmp/x <<<"hi"
	assert_status 64
	assert_stderr_contains "'-oQ/tmp/x' starts with '-'"
	assert_no_connection
}

@test "CR, LF, NUL-free smuggling: line breaks in recipients and -f are refused" {
	fake_start
	write_config
	run_postie $'a@example.org\r\nRCPT TO:<evil@example.org>' <<<"hi"
	assert_status 64
	assert_stderr_contains "line break"
	run_postie -f $'me@example.org\nDATA' a@example.org <<<"hi"
	assert_status 64
	run_postie -F $'Name\nBcc: evil@example.org' a@example.org <<<"hi"
	assert_status 64
	run_postie 'a b@example.org' <<<"hi"
	assert_status 64
	assert_stderr_contains "white space"
	assert_no_connection
}

@test "-f with a value starting with '-' is refused" {
	fake_start
	write_config
	run_postie -f -oi a@example.org <<<"hi"
	assert_status 64
	assert_stderr_contains "starts with '-'"
	assert_no_connection
}

@test "Debian cron's exact argv delivers, the bare login qualified" {
	fake_start
	write_config "maildomain example.net"
	run_postie -FCronDaemon -i -B8BITMIME -oem root <<<"Subject: cron

output"
	assert_status 0
	assert_command "RCPT TO:<root@example.net>"
	grep -q '^From: CronDaemon <sender@example.org>' "$(fake_message_path)" ||
	    _fail "From with -F name missing: $(cat "$(fake_message_path)")"
}

@test "MAILTO-style comma lists become several recipients" {
	fake_start
	write_config
	run_postie 'a@example.org,b@example.org' ' c@example.org ' <<<"hi"
	assert_status 0
	assert_command "RCPT TO:<a@example.org>"
	assert_command "RCPT TO:<b@example.org>"
	assert_command "RCPT TO:<c@example.org>"
}

@test "ignored options are accepted; -X never opens its file" {
	fake_start
	write_config
	run_postie -m -n -G -h 5 -L tag -p smtp:x -Ac -O k=v -oQ/tmp/q \
	    -o i -B 7BIT -N never -R full -U -d0.1 -X "$T/xlog" \
	    a@example.org <<<"hi"
	assert_status 0
	[ ! -e "$T/xlog" ] || _fail "-X created its file"
	assert_command "RCPT TO:<a@example.org>"
}

@test "bundled and attached forms: -ti, -fX, -f X, -Cfile" {
	fake_start
	write_config
	run "$POSTIE" -ti -fme@example.org "-C$CONFIG" <<<"To: a@example.org

hi"
	[ "$status" -eq 0 ] || _fail "status $status"
	fake_commands | grep -q '^MAIL FROM:<me@example.org> ' ||
	    _fail "$(fake_commands)"
	assert_command "RCPT TO:<a@example.org>"
}

@test "-f '<>' sends the null sender" {
	fake_start
	write_config
	run_postie -f '<>' a@example.org <<<"hi"
	assert_status 0
	fake_commands | grep -q '^MAIL FROM:<> ' || _fail "$(fake_commands)"
}

@test "options stop at the first non-option" {
	fake_start
	write_config
	run_postie a@example.org -t <<<"hi"
	assert_status 64
	assert_stderr_contains "'-t' starts with '-'"
	assert_no_connection
}

@test "called as mailq: -bp, the queue is empty" {
	ln -s "$POSTIE" "$T/mailq"
	write_config "queue on" "queue_dir $T/queue"
	HOME=$T run "$T/mailq" -C "$CONFIG"
	[ "$status" -eq 0 ] || _fail "status $status"
	[ "$output" = "Mail queue is empty" ] || _fail "$output"
}

@test "-bi: an /etc/aliases pipe line is refused with its line, exit 78" {
	printf 'postmaster: root\nlists: |/usr/bin/procmail\n' >"$T/aliases"
	printf 'account default\nhost 127.0.0.1\naliases %s\n' "$T/aliases" \
	    >"$T/rc"
	run --separate-stderr "$POSTIE" -C "$T/rc" -bi
	[ "$status" -eq 78 ] || _fail "status $status"
	[ "${#stderr_lines[@]}" -eq 1 ] || _fail "$stderr"
	[[ "$stderr" == *"$T/aliases:2: alias 'lists': '|/usr/bin/procmail' is a pipe, file or :include:"* ]] ||
	    _fail "$stderr"
}

@test "called as newaliases: checks the account's aliases file" {
	printf 'root admin@example.org\n' >"$T/aliases"
	printf 'account default\nhost 127.0.0.1\naliases %s\n' "$T/aliases" \
	    >"$T/rc"
	ln -s "$POSTIE" "$T/newaliases"
	run --separate-stderr "$T/newaliases" -C "$T/rc"
	[ "$status" -eq 78 ] || _fail "status $status"
	[[ "$stderr" == *"$T/aliases:1: missing ':'"* ]] || _fail "$stderr"
	[ -z "$output" ] || _fail "stdout on failure: $output"
	printf 'root: admin@example.org\n' >"$T/aliases"
	run --separate-stderr "$T/newaliases" -C "$T/rc"
	[ "$status" -eq 0 ] || _fail "status $status"
	assert_equal "$output" "postie: no alias database to rebuild; $T/aliases is fine (1 alias), account 'default' of $T/rc"
	assert_equal "$stderr" ""
}

@test "-bi says what it checked: the aliases count, or that there is no file" {
	printf '# ours\nroot: admin@example.org\nteam: a@example.org, b@example.org\n' \
	    >"$T/aliases"
	printf 'account default\nhost 127.0.0.1\naliases %s\n' "$T/aliases" \
	    >"$T/rc"
	run --separate-stderr "$POSTIE" -C "$T/rc" -bi
	assert_status 0
	assert_equal "$output" "postie: no alias database to rebuild; $T/aliases is fine (2 aliases), account 'default' of $T/rc"
	assert_equal "$stderr" ""
	printf 'account default\nhost 127.0.0.1\naccount other : default\n' \
	    >"$T/rc"
	run --separate-stderr "$POSTIE" -C "$T/rc" -a other -bi
	assert_status 0
	assert_equal "$output" "postie: no alias database to rebuild; account 'other' of $T/rc has no aliases file"
	assert_equal "$stderr" ""
}

@test "-bd is refused; -q with nothing queued: exit 0, quiet; -q15m points to the timer" {
	run_postie_noconf -bd
	assert_status 64
	assert_stderr_contains "daemon mode"
	write_config "queue on" "queue_dir $T/queue"
	run_postie -q
	assert_status 0
	assert_equal "$output" "" stdout
	assert_stderr_empty
	run_postie -q15m
	assert_status 64
	assert_stderr_contains "postie has no daemon to run the queue at intervals; run 'postie -q --due' from a timer or cron"
}

@test "-v prints the dialogue on stderr, not the body" {
	fake_start
	write_config
	run_postie -v a@example.org <<<"secret body line"
	assert_status 0
	assert_stderr_contains "--> MAIL FROM:<sender@example.org>"
	assert_stderr_contains "<-- 250"
	assert_stderr_contains "--> DATA"
	assert_stderr_not_contains "secret body line"
}

@test "stdin may be a regular file as well as a pipe" {
	fake_start
	write_config
	printf 'Subject: f\n\nfrom a file\n' >"$T/in"
	run_postie a@example.org <"$T/in"
	assert_status 0
	grep -q 'from a file' "$(fake_message_path)" || _fail "body missing"
}

@test "logfile gets one msmtp-style line per message" {
	fake_start
	write_config "logfile $T/log"
	run_postie a@example.org <<<"hi"
	assert_status 0
	run cat "$T/log"
	[[ "$output" == *"from=sender@example.org recipients=a@example.org"* ]] ||
	    _fail "$output"
	[[ "$output" == *"exitcode=EX_OK"* ]] || _fail "$output"
	[ "$(wc -l <"$T/log")" -eq 1 ] || _fail "not one line"
}

# Run postie in a private mount namespace whose /dev/log is a socket
# served by tests/logsink.py, so syslog lines can be read back.
with_syslog() {
	local dev=$T/dev
	mkdir -p "$dev"
	rm -f "$dev/log" "$T/syslog.ready" "$T/status"
	unshare -m bash -c '
		set -e
		for n in null zero full random urandom tty; do
			touch "$1/$n"; mount --bind "/dev/$n" "$1/$n"
		done
		ln -sfn /proc/self/fd "$1/fd"
		mount --bind "$1" /dev
		"$PYTHON3" "$TOP_SRCDIR/tests/logsink.py" /dev/log "$2" 15 &
		for i in $(seq 100); do [ -e "$2.ready" ] && break; sleep 0.05; done
		shift 2
		"$@" <"$STDIN_FILE" >/dev/null 2>&1 || echo "status=$?" >"$STATUS_FILE"
		sleep 0.3
		kill %1
	' with_syslog "$dev" "$T/syslog" "$@"
}

@test "syslog (mail facility) records success and failure, even with stderr discarded" {
	command -v unshare >/dev/null || _fail "unshare missing (util-linux)"
	fake_start
	write_config
	printf 'hi\n' >"$T/in"
	STDIN_FILE=$T/in STATUS_FILE=$T/status with_syslog \
	    "$POSTIE" -C "$CONFIG" a@example.org
	[ ! -e "$T/status" ] || _fail "postie failed: $(cat "$T/status")"
	# <22> is facility mail (2) * 8 + info (6).
	grep -q '^<22>.*postie\[[0-9]*\]: .*recipients=a@example.org.*exitcode=EX_OK' \
	    "$T/syslog" || _fail "no success line: $(cat "$T/syslog")"

	printf 'account default\nhost 127.0.0.1\nport 1\ntimeout 2\nqueue off\n' \
	    >"$T/down"
	chmod 600 "$T/down"
	STDIN_FILE=$T/in STATUS_FILE=$T/status with_syslog \
	    "$POSTIE" -C "$T/down" a@example.org
	grep -q 'status=75' "$T/status" || _fail "want 75: $(cat "$T/status")"
	# <19> is mail.err.
	grep -q '^<19>.*postie\[[0-9]*\]: .*connection refused' "$T/syslog" ||
	    _fail "no failure line: $(cat "$T/syslog")"
}

@test "syslog off keeps postie out of syslog" {
	fake_start
	write_config "syslog off"
	printf 'hi\n' >"$T/in"
	STDIN_FILE=$T/in STATUS_FILE=$T/status with_syslog \
	    "$POSTIE" -C "$CONFIG" a@example.org
	[ ! -e "$T/status" ] || _fail "postie failed: $(cat "$T/status")"
	! grep -q postie "$T/syslog" || _fail "logged: $(cat "$T/syslog")"
}

@test "-V, -N, -R without DSN offered by the server: nothing of them sent" {
	fake_start
	write_config
	run_postie -V abc123 -N success,failure -R hdrs a@example.org <<<"hi"
	assert_status 0
	refute_transcript_contains "ENVID="
	refute_transcript_contains "NOTIFY="
}

@test "make install: postie in sbindir, both man pages, the completions" {
	run make -s -C "$TOP_BUILDDIR" install DESTDIR="$T/root"
	[ "$status" -eq 0 ] || _fail "make install failed: $output"
	for f in '*/sbin/postie' '*/man8/postie.8' '*/man5/postie.conf.5' \
	    '*/bash-completion/completions/postie' \
	    '*/zsh/vendor-completions/_postie' \
	    '*/fish/vendor_completions.d/postie.fish'; do
		[ -n "$(find "$T/root" -path "$f" -type f)" ] ||
		    _fail "not installed: $f"
	done
	[ -x "$(find "$T/root" -path '*/sbin/postie')" ] || _fail "not executable"
}

@test "-P prints the resolved account, the password only as '*'" {
	printf 'account default\nhost mx.example.org\nport 587\nuser bob\npassword hunter2\n' >"$T/rc"
	chmod 600 "$T/rc"
	run --separate-stderr "$POSTIE" -C "$T/rc" -P
	[ "$status" -eq 0 ] || _fail "status $status: $stderr"
	[[ "$output" == *"host                  = mx.example.org"* ]] || _fail "$output"
	[[ "$output" == *"password              = *"* ]] || _fail "$output"
	[[ "$output" != *hunter2* ]] || _fail "password shown"
}

@test "--tls* long options override the account's keywords" {
	printf 'account default\nhost mx.example.org\ntls_trust_file /a.pem\n' >"$T/rc"
	chmod 600 "$T/rc"
	run --separate-stderr "$POSTIE" -C "$T/rc" --pretend \
	    --tls-trust-file=/b.pem --tls-certcheck=off --tls-host-override \
	    other.example.org
	[ "$status" -eq 0 ] || _fail "status $status: $stderr"
	[[ "$output" == *"tls_trust_file        = /b.pem"* ]] || _fail "$output"
	[[ "$output" == *"tls_certcheck         = off"* ]] || _fail "$output"
	[[ "$output" == *"tls_host_override     = other.example.org"* ]] ||
	    _fail "$output"
	run --separate-stderr "$POSTIE" -C "$T/rc" -P --tls=maybe
	[ "$status" -eq 64 ] || _fail "status $status"
	[[ "$stderr" == *"takes 'on' or 'off'"* ]] || _fail "$stderr"
}

@test "-S prints the greeting, capabilities before and inside TLS and the certificate" {
	fake_start_tls valid
	write_tls_config
	run_postie -S
	assert_status 0
	[[ "$output" == *"Greeting:"* ]] || _fail "$output"
	[[ "$output" == *"Capabilities:"* ]] || _fail "$output"
	[[ "$output" == *"STARTTLS"* ]] || _fail "$output"
	[[ "$output" == *"Capabilities (inside TLS):"* ]] || _fail "$output"
	[[ "$output" == *"sha256//"* ]] || _fail "no public-key pin: $output"
	refute_command_prefix "MAIL"
	refute_command_prefix "AUTH"
}

@test "-S with a certificate that fails: what was learnt, then one error, 75" {
	fake_start_tls expired
	write_tls_config
	run_postie -S
	assert_status 75
	[[ "$output" == *"Greeting:"* ]] || _fail "$output"
	assert_stderr_contains "expired"
	refute_command_prefix "MAIL"
}

# msmtp's command line: -a, --from, --read-envelope-from, per-keyword
# long options read by conf.c, account choice by sender, --version.

@test "-a and --account pick the account; an unknown one is exit 78" {
	fake_start "" --connections 2
	write_config "account other : default" "from other@example.org"
	run_postie -a other a@example.org < "$(sample_message)"
	assert_status 0
	[[ "$(fake_envelope 1)" == *"MAIL FROM:<other@example.org>"* ]] ||
	    _fail "$(fake_envelope 1)"
	run_postie --account=default a@example.org < "$(sample_message)"
	assert_status 0
	[[ "$(fake_envelope 2)" == *"MAIL FROM:<sender@example.org>"* ]] ||
	    _fail "$(fake_envelope 2)"
	run_postie -a nosuch a@example.org <<<"hi"
	assert_status 78
	assert_stderr_contains "no account 'nosuch'"
}

@test "--from picks the first account whose from pattern matches; -a wins" {
	write_config
	cat >>"$CONFIG" <<-EOF
	account other : default
	from *@other.example
	host 192.0.2.1
	account third : default
	from bob@THIRD.example
	host 192.0.2.3
	EOF
	run "$POSTIE" -C "$CONFIG" -P --from=x@other.example
	[[ "$output" == *"account               = other"* ]] || _fail "$output"
	run "$POSTIE" -C "$CONFIG" -P -f bob+lists@third.EXAMPLE
	[[ "$output" == *"account               = third"* ]] || _fail "$output"
	run "$POSTIE" -C "$CONFIG" -P -f nobody@nowhere.example
	[[ "$output" == *"account               = default"* ]] || _fail "$output"
	run "$POSTIE" -C "$CONFIG" -P -a default -f x@other.example
	[[ "$output" == *"account               = default"* ]] || _fail "$output"
}

@test "--read-envelope-from takes the sender from the From header" {
	fake_start "" --connections 2
	write_config
	printf 'From: Someone <someone@example.net>\nSubject: x\n\nhi\n' \
	    >"$T/m"
	run_postie --read-envelope-from a@example.org <"$T/m"
	assert_status 0
	[[ "$(fake_envelope 1)" == *"MAIL FROM:<someone@example.net>"* ]] ||
	    _fail "$(fake_envelope 1)"
	run_postie --read-envelope-from -f me@example.org a@example.org <"$T/m"
	assert_status 0
	[[ "$(fake_envelope 2)" == *"MAIL FROM:<me@example.org>"* ]] ||
	    _fail "$(fake_envelope 2)"
}

@test "per-keyword long options are read like the file; bad values are 64" {
	write_config
	run "$POSTIE" -C "$CONFIG" -P --port=2525 --timeout off \
	    --protocol=lmtp --auth --user=u --maildomain=m.example \
	    --syslog=LOG_USER --logfile=/tmp/l --host=mx.example
	[ "$status" -eq 0 ] || _fail "status $status: $output"
	[[ "$output" == *"port                  = 2525"* ]] || _fail "$output"
	[[ "$output" == *"protocol              = lmtp"* ]] || _fail "$output"
	[[ "$output" == *"auth                  = on"* ]] || _fail "$output"
	[[ "$output" == *"user                  = u"* ]] || _fail "$output"
	[[ "$output" == *"syslog                = LOG_USER"* ]] || _fail "$output"
	[[ "$output" == *"logfile               = /tmp/l"* ]] || _fail "$output"
	[[ "$output" == *"host                  = mx.example"* ]] || _fail "$output"
	run --separate-stderr "$POSTIE" -C "$CONFIG" -P --port=0
	[ "$status" -eq 64 ] || _fail "status $status"
	[[ "$stderr" == *"command line: invalid port '0'"* ]] || _fail "$stderr"
	run --separate-stderr "$POSTIE" -C "$CONFIG" -P --set-date-header=on
	[ "$status" -eq 64 ] || _fail "status $status"
	run --separate-stderr "$POSTIE" -C "$CONFIG" -P --auth=bogus
	[ "$status" -eq 64 ] || _fail "status $status"
}

@test "from_full_name names an added From header; -F wins" {
	fake_start "" --connections 2
	write_config "from_full_name Postie Robot"
	printf 'Subject: x\n\nhi\n' >"$T/m"
	run_postie a@example.org <"$T/m"
	assert_status 0
	[[ "$(fake_message 1)" == *"From: Postie Robot <sender@example.org>"* ]] ||
	    _fail "$(fake_message 1)"
	run_postie -F Other a@example.org <"$T/m"
	assert_status 0
	[[ "$(fake_message 2)" == *"From: Other <sender@example.org>"* ]] ||
	    _fail "$(fake_message 2)"
}

@test "--version lists TLS, SASL mechanisms, IDN and the config paths" {
	run_postie_noconf --version
	assert_status 0
	[[ "$output" == *"TLS: GnuTLS"* ]] || _fail "$output"
	[[ "$output" == *"SCRAM-SHA-256"* && "$output" == *"PLAIN"* ]] ||
	    _fail "$output"
	[[ "$output" == *"IDN: libidn2"* ]] || _fail "$output"
	[[ "$output" == *"searched: "* ]] || _fail "$output"
}

# ---- the sendmail personality ----------------------------------------------
# Under any name but postie or msmtp, postie is the system's sendmail, and
# its argv may carry a word of someone else's data (PHP's mail() and the
# PHPMailer sender, CVE-2016-10033): the per-keyword long options, which
# name the server, its credentials, a command or a file, are refused.

# $T/bin/NAME, a symbolic link to postie.
link_as() {
	mkdir -p "$T/bin"
	ln -sf "$POSTIE" "$T/bin/$1"
}

# The per-keyword long options, from src/options.c's table.
keyword_options() {
	sed -n '/^} keyword_opts\[\] = {/,/^};/p' "$TOP_SRCDIR/src/options.c" |
	    sed -n 's/^[[:space:]]*{ "\([a-z-]*\)".*/\1/p'
}

# The two lines of a refused OPTION under NAME.
refusal() {
	printf "postie: option '--%s' is only accepted when called as postie or msmtp (called as '%s')\n" \
	    "$1" "$2"
	printf "Try 'postie --help' for more information."
}

@test "called as sendmail: a smuggled --passwordeval is refused (64) and runs nothing" {
	fake_start - <<'EOF2'
auth users alice:Pw-3b7f
EOF2
	write_config "auth cram-md5" "user alice"
	printf 'To: a@example.org\nSubject: x\n\nhi\n' >"$T/m"
	# PHPMailer's argv with one word let through after the sender.
	link_as sendmail
	run --separate-stderr "$T/bin/sendmail" -C "$CONFIG" -t -i \
	    -fme@example.org "--passwordeval=touch $T/pwned; echo Pw-3b7f" \
	    <"$T/m"
	assert_status 64
	assert_equal "$stderr" "$(refusal passwordeval sendmail)" stderr
	assert_equal "$output" "" stdout
	[ ! -e "$T/pwned" ] || _fail "the command ran"
	assert_no_connection

	# The same argv as postie and as msmtp: the option is theirs.
	link_as postie
	link_as msmtp
	fake_stop
	fake_start - --connections 2 <<'EOF2'
auth users alice:Pw-3b7f
EOF2
	write_config "auth cram-md5" "user alice"
	for name in postie msmtp; do
		rm -f "$T/pwned"
		run --separate-stderr "$T/bin/$name" -C "$CONFIG" -t -i \
		    -fme@example.org \
		    "--passwordeval=touch $T/pwned; echo Pw-3b7f" <"$T/m"
		assert_status 0
		[ -e "$T/pwned" ] || _fail "$name: passwordeval did not run"
	done
	assert_equal "$(fake_messages)" 2 messages
}

@test "called as sendmail: --host and --port cannot send the mail elsewhere" {
	fake_start
	# The configured server is not there; the smuggled one is.
	printf 'account default\nhost 127.0.0.1\nport 1\ntimeout 5\nqueue off\n' \
	    >"$CONFIG"
	link_as sendmail
	run --separate-stderr "$T/bin/sendmail" -C "$CONFIG" -fme@example.org \
	    --host=127.0.0.1 --port "$FAKE_PORT" a@example.org <<<"hi"
	assert_status 64
	assert_equal "$stderr" "$(refusal host sendmail)" stderr
	assert_no_connection
	link_as msmtp
	run --separate-stderr "$T/bin/msmtp" -C "$CONFIG" -fme@example.org \
	    --host=127.0.0.1 --port "$FAKE_PORT" a@example.org <<<"hi"
	assert_status 0
	assert_equal "$(fake_messages)" 1 messages
}

@test "as sendmail, mailq, newaliases: every per-keyword option is refused in each spelling" {
	local name opt n=0 st
	fake_start
	write_config
	for name in sendmail mailq newaliases; do
		link_as "$name"
	done
	[ "$(keyword_options | wc -l)" -ge 30 ] || _fail "table not found"
	for name in sendmail mailq newaliases; do
		for opt in $(keyword_options); do
			for form in "--$opt=$T/x" "--$opt $T/x" "--$opt"; do
				# shellcheck disable=SC2086 # split "--opt value"
				"$T/bin/$name" -C "$CONFIG" $form a@example.org \
				    </dev/null >"$T/out" 2>"$T/err" && st=0 || st=$?
				[ "$st" -eq 64 ] ||
				    _fail "$name $form: status $st" "$(cat "$T/err")"
				assert_equal "$(cat "$T/err")" \
				    "$(refusal "$opt" "$name")" "$name $form"
				[ ! -s "$T/out" ] || _fail "$name $form: stdout"
				n=$((n + 1))
			done
		done
	done
	[ ! -e "$T/x" ] || _fail "a file was created"
	assert_no_connection
}

@test "called as sendmail: other routes for a smuggled long option are closed too" {
	fake_start
	write_config
	link_as sendmail
	# As -f's value or after the options, it is an address and refused.
	run --separate-stderr "$T/bin/sendmail" -C "$CONFIG" -f \
	    --host=evil.example a@example.org <<<"hi"
	assert_status 64
	assert_stderr_contains "sender '--host=evil.example' starts with '-'"
	run --separate-stderr "$T/bin/sendmail" -C "$CONFIG" -- \
	    --passwordeval=id <<<"hi"
	assert_status 64
	assert_stderr_contains "'--passwordeval=id' starts with '-'"
	run --separate-stderr "$T/bin/sendmail" -C "$CONFIG" a@example.org \
	    --logfile=/tmp/x <<<"hi"
	assert_status 64
	assert_stderr_contains "'--logfile=/tmp/x' starts with '-'"
	# No prefix matching, and msmtp's proxy options are unknown.
	run --separate-stderr "$T/bin/sendmail" -C "$CONFIG" --pass=id \
	    a@example.org <<<"hi"
	assert_status 64
	assert_stderr_contains "postie: unknown option '--pass=id'"
	run --separate-stderr "$T/bin/sendmail" -C "$CONFIG" \
	    --proxy-host=evil.example a@example.org <<<"hi"
	assert_status 64
	assert_stderr_contains "postie: unknown option '--proxy-host=evil.example'"
	assert_no_connection
}

@test "called as sendmail: msmtp's --from, --account, --read-envelope-from still work" {
	fake_start
	write_config
	link_as sendmail
	printf 'From: x@example.net\nSubject: x\n\nhi\n' >"$T/m"
	run --separate-stderr "$T/bin/sendmail" -C "$CONFIG" --account=default \
	    --read-envelope-from a@example.org <"$T/m"
	assert_status 0
	[[ "$(fake_envelope)" == "MAIL FROM:<x@example.net>"* ]] ||
	    _fail "$(fake_envelope)"
}

@test "as postie and msmtp the per-keyword options override the account" {
	write_config
	for name in postie msmtp; do
		link_as "$name"
		run --separate-stderr "$T/bin/$name" -C "$CONFIG" -P \
		    --host=mx.example --passwordeval='echo x' \
		    --logfile="$T/log" --tls-certcheck=off
		assert_status 0
		[[ "$output" == *"host                  = mx.example"* ]] ||
		    _fail "$name: $output"
		[[ "$output" == *"passwordeval          = echo x"* ]] ||
		    _fail "$name: $output"
		[[ "$output" == *"logfile               = $T/log"* ]] ||
		    _fail "$name: $output"
	done
}
