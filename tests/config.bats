#!/usr/bin/env bats
# shellcheck shell=bash
#
# The configuration as the binary sees it: errors name file and line and
# exit 78 (EX_CONFIG) before anything is sent; the files postie looks for
# without -C, in order, with HOME unset or "/"; a user's ~/.msmtprc used
# unchanged.  The parser itself is unit-tested in tests/unit/test_conf.c.

load common

# Send the sample message to one recipient.
send() {
	run_postie rcpt@example.org <"$(sample_message)"
}

send_noconf() {
	run_postie_noconf rcpt@example.org <"$(sample_message)"
}

# An environment with only the given HOME and XDG_CONFIG_HOME (either may
# be "-" to leave it unset), so that no file of the machine's user is
# found by accident.
#   with_env HOME XDG COMMAND...
with_env() {
	local home=$1 xdg=$2
	shift 2
	local args=(env -u HOME -u XDG_CONFIG_HOME)
	[ "$home" != - ] && args+=("HOME=$home")
	[ "$xdg" != - ] && args+=("XDG_CONFIG_HOME=$xdg")
	"${args[@]}" "$@"
}

# What `postie --version` says it would read in that environment.
config_found() {
	with_env "$1" "$2" "$POSTIE" --version |
	    sed -n 's/^configuration file: //p'
}

# Run postie without -C in that environment (bats `run`, as run_postie).
#   run_env HOME XDG ARGS...
run_env() {
	local home=$1 xdg=$2
	shift 2
	run --separate-stderr with_env "$home" "$xdg" \
	    timeout -k 5 "$POSTIE_TIMEOUT" "$POSTIE" "$@"
}

# SYSCONFDIR as the binary says it (from the "searched:" line of
# --version: the entry that ends in /postie.conf).
sysconfdir() {
	"$REAL_POSTIE" --version | sed -n 's/^searched: //p' | tr ',' '\n' |
	    sed -n 's/^ *//; s|/postie\.conf$||p'
}

# Make the "where postie looks" tests hermetic: from now on $POSTIE is a
# wrapper that runs the binary in a private mount namespace where
#   - SYSCONFDIR holds only the machine's other files (postie.conf and
#     msmtprc hidden) plus whatever the test put in $T/sysconf, and
#   - the password database's home of the current user (used when HOME
#     is unset or "/") is $T/pwhome (empty unless the test fills it).
# Nothing of the machine's own configuration can leak in, and nothing is
# skipped.  Needs root and unshare -m: without them the test fails.
hermetic() {
	local sysconf pwhome
	[ "$(id -u)" -eq 0 ] ||
	    _fail "these tests need root (private mount namespaces)"
	command -v unshare >/dev/null ||
	    _fail "unshare missing (util-linux): cannot isolate SYSCONFDIR"
	unshare -m true || _fail "unshare -m does not work here"
	sysconf=$(sysconfdir)
	[[ "$sysconf" == /* ]] ||
	    _fail "cannot find SYSCONFDIR in --version: '$sysconf'"
	pwhome=$(getent passwd "$(id -u)" | cut -d: -f6)
	[[ "$pwhome" == /* ]] || _fail "no home in the password database"
	[[ "$T" != "$pwhome"/* && "$T" != "$sysconf"/* ]] ||
	    _fail "the test directory $T is under $pwhome or $sysconf"
	SYSCONF=$sysconf
	mkdir -p "$T/sysconf" "$T/pwhome"
	cat >"$T/hermetic" <<'EOF'
#!/bin/sh
# hermetic REAL_POSTIE T SYSCONFDIR PWHOME ARGS...
set -e
postie=$1 t=$2 sysconf=$3 pwhome=$4
shift 4
ns=$(mktemp -d "$t/ns.XXXXXX")
n=0
# shadow DIR: DIR shows a farm of links to its own entries, minus the
# configuration files postie looks for, plus the test's files.
shadow() {
	n=$((n + 1))
	mkdir -p "$ns/orig$n" "$ns/farm$n"
	mount --bind "$1" "$ns/orig$n"
	for e in "$ns/orig$n"/* "$ns/orig$n"/.[!.]* "$ns/orig$n"/..?*; do
		[ -e "$e" ] || [ -L "$e" ] || continue
		case ${e##*/} in postie.conf|msmtprc) continue ;; esac
		ln -s "$e" "$ns/farm$n/${e##*/}"
	done
	mount --bind "$ns/farm$n" "$1"
}
# A missing SYSCONFDIR is made inside the shadow of its nearest existing
# ancestor; never at the root, which a mount cannot shadow for us.
d=$sysconf
while [ ! -d "$d" ]; do d=$(dirname "$d"); done
if [ "$d" != / ]; then
	shadow "$d"
	mkdir -p "$sysconf"
	for f in "$t/sysconf"/*; do
		[ -e "$f" ] && cp -p "$f" "$sysconf/"
	done
elif [ -n "$(ls -A "$t/sysconf")" ]; then
	echo "hermetic: $sysconf does not exist and cannot be made" >&2
	exit 99
fi
if [ ! -d "$pwhome" ]; then
	echo "hermetic: the password database's home $pwhome is missing" >&2
	exit 99
fi
mount --bind "$t/pwhome" "$pwhome"
exec "$postie" "$@"
EOF
	chmod +x "$T/hermetic"
	cat >"$T/wrap" <<EOF
#!/bin/sh
exec unshare -m "$T/hermetic" "$REAL_POSTIE" "$T" "$sysconf" "$pwhome" "\$@"
EOF
	chmod +x "$T/wrap"
	POSTIE=$T/wrap
	# The wrapper itself must work and see no configuration.
	assert_equal "$(config_found "$T/empty-home" "$T/empty-xdg")" \
	    "(none found)" "hermetic --version"
}

setup() {
	common_setup
	REAL_POSTIE=$POSTIE
	mkdir -p "$T/empty-home" "$T/empty-xdg"
}

# ---- errors name file and line, exit 78, nothing sent -------------------------

@test "unknown keyword: exit 78, file and line named" {
	fake_start
	write_config "hots typo.example.org"
	send
	assert_status 78
	assert_stderr_one_line
	assert_equal "$stderr" "postie: $CONFIG:8: unknown keyword 'hots'"
	assert_no_connection
}

@test "invalid value: exit 78 with the value quoted" {
	fake_start
	write_config "port abc"
	send
	assert_status 78
	assert_stderr_contains "$CONFIG:8: invalid port 'abc'"
	assert_no_connection
}

@test "account defined twice: exit 78 with the second line" {
	fake_start
	write_config "account default"
	send
	assert_status 78
	assert_stderr_contains "$CONFIG:8: account 'default' defined twice"
}

@test "unknown parent account: exit 78" {
	fake_start
	write_config "account other : nosuch"
	send
	assert_status 78
	assert_stderr_contains "$CONFIG:8: account 'nosuch' is not defined above"
}

@test "account without host: exit 78 naming the file and the account's line" {
	printf '%s\n' defaults 'port 25' '' '# the relay' 'account work' \
	    'from a@example.org' 'account default : work' >"$T/rc"
	chmod 600 "$T/rc"
	run_postie_noconf -C "$T/rc" -a work -P
	assert_status 78
	assert_equal "$stderr" "postie: $T/rc:5: account 'work' has no host (add a 'host' line after it, or 'socket' for a local server)"
	assert_equal "$output" ""
	# The default account: its own line, where a host would go.
	run_postie_noconf -C "$T/rc" rcpt@example.org <<<"hi"
	assert_status 78
	assert_equal "$stderr" "postie: $T/rc:7: account 'default' has no host (add a 'host' line after it, or 'socket' for a local server)"
}

@test "-C with a missing file: exit 78 naming the file" {
	run_postie_noconf -C "$T/nonexistent.conf" rcpt@example.org \
	    <"$(sample_message)"
	assert_status 78
	assert_stderr_one_line
	assert_stderr_contains "$T/nonexistent.conf"
	assert_stderr_contains "No such file or directory"
}

@test "-C with an unreadable file: exit 78, not another file" {
	write_config
	chmod 000 "$CONFIG"
	if [ "$(id -u)" -eq 0 ]; then
		# Root reads any file: run without the capabilities for that.
		command -v setpriv >/dev/null ||
		    _fail "setpriv missing (util-linux)"
		cat >"$T/nodac" <<EOF
#!/bin/sh
exec setpriv --bounding-set -dac_override,-dac_read_search "$POSTIE" "\$@"
EOF
		chmod +x "$T/nodac"
		POSTIE=$T/nodac send
	else
		send
	fi
	assert_status 78
	assert_stderr_contains "$CONFIG"
	assert_stderr_contains "Permission denied"
}

@test "-C with a directory: exit 78 naming it" {
	mkdir "$T/confdir"
	run_postie_noconf -C "$T/confdir" rcpt@example.org <"$(sample_message)"
	assert_status 78
	assert_stderr_one_line
	assert_stderr_contains "$T/confdir: cannot read: Is a directory"
}

@test "tls on, server without STARTTLS: exit 75 naming 'tls off', nothing sent" {
	fake_start
	write_config "tls on" "tls_trust_file /etc/ssl/certs/ca-certificates.crt"
	send
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "does not offer STARTTLS; refusing to send in plaintext (write 'tls off' in the account to allow it)"
	assert_commands "EHLO client.example.org" "QUIT"
}

@test "auth on from defaults, server without AUTH: exit 69, nothing sent" {
	fake_start
	write_config
	{ printf 'defaults\nauth on\n'; cat "$CONFIG"; } >"$T/c2"
	mv "$T/c2" "$CONFIG"
	send
	assert_status 69
	assert_stderr_one_line
	assert_stderr_contains "credentials are configured but the server does not offer AUTH"
	assert_commands "EHLO client.example.org" "QUIT"
}

@test "auth gssapi from defaults: exit 78 naming the defaults line" {
	fake_start
	write_config
	{ printf 'defaults\nauth gssapi\n'; cat "$CONFIG"; } >"$T/c2"
	mv "$T/c2" "$CONFIG"
	send
	assert_status 78
	assert_stderr_one_line
	assert_stderr_contains "postie: $CONFIG:2: 'auth gssapi' is not supported"
	assert_no_connection
}

@test "tls off, auth off and TLS settings they make moot: delivered" {
	fake_start
	write_config "tls off" "auth off" "tls_starttls on" \
	    "tls_trust_file system" "user nobody"
	send
	assert_status 0
	assert_stderr_empty
	assert_equal "$(fake_messages)" 1 messages
}

@test "a Gmail-style ~/.msmtprc: the tls account refused, a plain one used" {
	fake_start "" --connections 2
	cat >"$CONFIG" <<EOF
# Set default values for all following accounts.
defaults
auth           on
tls            on
tls_trust_file /etc/ssl/certs/ca-certificates.crt
logfile        $T/msmtp.log
# (postie's own: the engine's exit status, not a queued message)
queue          off

# Gmail
account        gmail
host           127.0.0.1
port           $FAKE_PORT
from           username@gmail.com
user           username
password       plain-text-password

account        local
host           127.0.0.1
port           $FAKE_PORT
tls            off
auth           off
from           "local@example.org"
domain         client.example.org

account default : gmail
EOF
	chmod 600 "$CONFIG"
	# (Gmail's host is the fake server here, and it lacks STARTTLS.)
	send
	assert_status 75
	assert_stderr_contains "does not offer STARTTLS"
	assert_stderr_not_contains "plain-text-password"
	refute_transcript_contains "AUTH"
	refute_transcript_contains "MAIL"

	# The same file, with the plain account as the default.
	sed -i 's/^account default : gmail$/account default : local/' "$CONFIG"
	send
	assert_status 0
	fake_conn_done 2
	grep -qxF "MAIL FROM:<local@example.org> SIZE=$(file_size "$(crlf_copy "$T/msg" "$T/size.tmp")")" "$FAKE_DIR/conn-2.cmds"
}

# ---- where postie looks without -C --------------------------------------------

@test "no configuration file anywhere: exit 78 'no configuration file'" {
	hermetic
	run_env "$T/empty-home" "$T/empty-xdg" rcpt@example.org \
	    <"$(sample_message)"
	assert_status 78
	assert_stderr_contains "no configuration file"
}

@test "HOME unset: no crash, exit 78 'no configuration file'" {
	hermetic
	assert_equal "$(config_found - "$T/empty-xdg")" "(none found)" \
	    "file found"
	run_env - "$T/empty-xdg" rcpt@example.org <"$(sample_message)"
	assert_status 78
	assert_stderr_contains "no configuration file"
}

@test "HOME=/: no crash, /.postierc never read, exit 78" {
	hermetic
	assert_equal "$(config_found / "$T/empty-xdg")" "(none found)" \
	    "file found"
	run_env / "$T/empty-xdg" rcpt@example.org <"$(sample_message)"
	assert_status 78
	assert_stderr_contains "no configuration file"
	assert_stderr_not_contains "//"
}

@test "~/.msmtprc is used when postie has no file of its own" {
	hermetic
	fake_start
	mkdir -p "$T/home"
	printf '%s\n' "account work" "host 127.0.0.1" "port $FAKE_PORT" \
	    "from msmtp-user@example.org" "domain msmtprc.example.org" \
	    "account default : work" >"$T/home/.msmtprc"
	chmod 600 "$T/home/.msmtprc"
	assert_equal "$(config_found "$T/home" "$T/empty-xdg")" \
	    "$T/home/.msmtprc" "file found"
	run_env "$T/home" "$T/empty-xdg" rcpt@example.org \
	    <"$(sample_message)"
	assert_status 0
	assert_stderr_empty
	assert_command "EHLO msmtprc.example.org"
	assert_equal "$(fake_envelope | head -n 1 | cut -d' ' -f1-2)" \
	    "MAIL FROM:<msmtp-user@example.org>" "sender"
}

@test "\$XDG_CONFIG_HOME/msmtp/config is used after ~/.msmtprc" {
	hermetic
	fake_start
	mkdir -p "$T/xdg/msmtp"
	printf '%s\n' "host 127.0.0.1" "port $FAKE_PORT" \
	    "domain xdg-msmtp.example.org" >"$T/xdg/msmtp/config"
	run_env "$T/empty-home" "$T/xdg" rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_command "EHLO xdg-msmtp.example.org"
}

@test "postie's own files come first: ~/.postierc over ~/.msmtprc" {
	hermetic
	fake_start
	mkdir -p "$T/home"
	# Nothing listens on port 1: using this file would fail.
	printf '%s\n' "host 127.0.0.1" "port 1" >"$T/home/.msmtprc"
	printf '%s\n' "host 127.0.0.1" "port $FAKE_PORT" \
	    "domain postierc.example.org" >"$T/home/.postierc"
	run_env "$T/home" "$T/empty-xdg" rcpt@example.org \
	    <"$(sample_message)"
	assert_status 0
	assert_command "EHLO postierc.example.org"
}

@test "\$XDG_CONFIG_HOME/postie/config over ~/.postierc; relative XDG ignored" {
	hermetic
	fake_start "" --connections 2
	mkdir -p "$T/home/.config/postie" "$T/xdg/postie"
	printf '%s\n' "host 127.0.0.1" "port 1" >"$T/home/.postierc"
	printf '%s\n' "host 127.0.0.1" "port $FAKE_PORT" \
	    "domain xdg.example.org" >"$T/xdg/postie/config"
	printf '%s\n' "host 127.0.0.1" "port $FAKE_PORT" \
	    "domain dot-config.example.org" >"$T/home/.config/postie/config"
	run_env "$T/home" "$T/xdg" rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_command "EHLO xdg.example.org"

	# A relative XDG_CONFIG_HOME does not count: ~/.config is used.
	cd "$T"
	run_env "$T/home" xdg rcpt@example.org <"$(sample_message)"
	assert_status 0
	fake_conn_done 2
	grep -qxF "EHLO dot-config.example.org" "$FAKE_DIR/conn-2.cmds" ||
	    _fail "second run did not use ~/.config/postie/config"
}

@test "a found file with an error is reported, not skipped for the next" {
	hermetic
	mkdir -p "$T/home"
	printf '%s\n' "account a" "hots x" >"$T/home/.postierc"
	printf '%s\n' "host 127.0.0.1" "port 1" >"$T/home/.msmtprc"
	run_env "$T/home" "$T/empty-xdg" rcpt@example.org \
	    <"$(sample_message)"
	assert_status 78
	assert_equal "$stderr" \
	    "postie: $T/home/.postierc:2: unknown keyword 'hots'"
}

@test "~/ in logfile is the home directory" {
	hermetic
	fake_start
	mkdir -p "$T/home"
	printf '%s\n' "host 127.0.0.1" "port $FAKE_PORT" \
	    "from sender@example.org" "logfile ~/postie.log" \
	    >"$T/home/.postierc"
	run_env "$T/home" "$T/empty-xdg" rcpt@example.org \
	    <"$(sample_message)"
	assert_status 0
	[ -s "$T/home/postie.log" ] || _fail "no log written to ~/postie.log"
}

# A config file pointing at the fake server, with DOMAIN as the EHLO name
# (which file was used shows in the EHLO line).
#   fake_conf FILE DOMAIN
fake_conf() {
	mkdir -p "$(dirname "$1")"
	printf '%s\n' "host 127.0.0.1" "port $FAKE_PORT" "from s@example.org" \
	    "domain $2" >"$1"
}

@test "HOME unset or /: the password database's home is used" {
	hermetic
	fake_start "" --connections 2
	fake_conf "$T/pwhome/.postierc" pwhome.example.org
	assert_equal "$(config_found - "$T/empty-xdg")" \
	    "$(getent passwd "$(id -u)" | cut -d: -f6)/.postierc" "file found"
	run_env - "$T/empty-xdg" rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_command "EHLO pwhome.example.org"
	run_env / "$T/empty-xdg" rcpt@example.org <"$(sample_message)"
	assert_status 0
	fake_conn_done 2
	grep -qxF "EHLO pwhome.example.org" "$FAKE_DIR/conn-2.cmds" ||
	    _fail "HOME=/ did not use the password database's home"
}

@test "SYSCONFDIR/postie.conf is used when the user has no postie file" {
	hermetic
	fake_start "" --connections 2
	fake_conf "$T/sysconf/postie.conf" sysconf.example.org
	# ~/.msmtprc comes after SYSCONFDIR/postie.conf: using it would fail.
	mkdir -p "$T/home"
	printf '%s\n' "host 127.0.0.1" "port 1" >"$T/home/.msmtprc"
	assert_equal "$(config_found "$T/home" "$T/empty-xdg")" \
	    "$SYSCONF/postie.conf" "file found"
	run_env "$T/home" "$T/empty-xdg" rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_stderr_empty
	assert_command "EHLO sysconf.example.org"

	# A user's ~/.postierc wins over it.
	fake_conf "$T/home/.postierc" user.example.org
	run_env "$T/home" "$T/empty-xdg" rcpt@example.org <"$(sample_message)"
	assert_status 0
	fake_conn_done 2
	grep -qxF "EHLO user.example.org" "$FAKE_DIR/conn-2.cmds" ||
	    _fail "the user's .postierc did not win over SYSCONFDIR/postie.conf"
}

@test "SYSCONFDIR/msmtprc comes after every other file" {
	hermetic
	fake_start
	mkdir -p "$T/home" "$T/xdg/msmtp"
	fake_conf "$T/sysconf/msmtprc" sys-msmtprc.example.org
	printf '%s\n' "host 127.0.0.1" "port 1" >"$T/home/.msmtprc"
	printf '%s\n' "host 127.0.0.1" "port 1" >"$T/xdg/msmtp/config"
	assert_equal "$(config_found "$T/home" "$T/xdg")" \
	    "$T/home/.msmtprc" "with ~/.msmtprc"
	rm "$T/home/.msmtprc"
	assert_equal "$(config_found "$T/home" "$T/xdg")" \
	    "$T/xdg/msmtp/config" "with \$XDG_CONFIG_HOME/msmtp/config"
	rm "$T/xdg/msmtp/config"
	assert_equal "$(config_found "$T/home" "$T/xdg")" \
	    "$SYSCONF/msmtprc" "with only SYSCONFDIR/msmtprc"
	run_env "$T/home" "$T/xdg" rcpt@example.org <"$(sample_message)"
	assert_status 0
	assert_stderr_empty
	assert_command "EHLO sys-msmtprc.example.org"
}

@test "logfile_time_format sets the time stamp of logfile lines" {
	fake_start
	write_config "logfile $T/log" "logfile_time_format %Y=stamp"
	send
	assert_status 0
	[ "$(wc -l <"$T/log")" -eq 1 ] || _fail "not one log line"
	grep -q "^$(date +%Y)=stamp " "$T/log" ||
	    _fail "time stamp not formatted: $(cat "$T/log")"
}
