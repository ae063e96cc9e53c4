# shellcheck shell=bash
#
# callers.bash -- shared setup for the real-caller tests
# (tests/callers-*.bats): a private Postfix (tests/postfix-env.sh) that
# delivers into Maildirs, and a private mount namespace
# (tests/callers-env.sh) in which postie is /usr/sbin/sendmail, reads a
# system config that points at that Postfix, and a test user
# $CALLER_USER exists.  Each .bats file does:
#
#   load common
#   load callers
#   setup_file()    { callers_setup_file; }
#   teardown_file() { callers_teardown_file; }
#   setup()         { callers_setup; }
#   teardown()      { callers_teardown; }
#
# The config postie finds as SYSCONFDIR/postie.conf:
#   host/port      the private Postfix (plain SMTP on loopback)
#   maildomain     example.org: bare names are qualified with it
#   aliases        $CL_DIR/aliases: root -> alice@example.org,
#                  $CALLER_USER -> carol@example.org, team -> bob, carol
#   (no from: the envelope sender is LOGIN@example.org)
# Mailboxes: alice, bob, carol and box-1..3 @example.org, plus every
# box-NAME the .bats file mentions.
#
# HELPERS
# Set before callers_setup_file (default: as above):
#   CL_QUEUE=on              the config says `queue on` (the other files
#                            test exit statuses, with `queue off`)
#   CL_SETGID=1              a setgid install (callers-env.sh start
#                            --setgid): postie root:postie 2755, the
#                            config root:postie 0640, the system queue
#                            $SPOOL_DIR root:postie 2770
#   CL_AUTH=1                Postfix with TLS and SASL (postfix-env.sh
#                            start --auth); the config submits on its
#                            submission port with STARTTLS and AUTH as
#                            $PF_AUTH_USER, the password in the config
#
#   $OUT                     a fresh directory any user may write to
#   in_ns [-u] CMD...        run CMD in the namespace (as root, or -u as
#                            $CALLER_USER), clean environment; bats `run`
#                            it for $status and $output
#   ns_daemon NAME CMD...    start a daemon in the namespace (stopped by
#                            callers_teardown_file)
#   mail_wait BOX [N]        wait for N (default 1) messages in BOX and
#                            print the newest path (fails after 30 s)
#   mail_count BOX           messages now in BOX
#   mail_strip FILE OUT      FILE without Postfix's prepended headers
#   mail_check FILE [opts]   tests/mailcheck.py on a delivered message:
#                            one Date and one Message-ID, no Bcc, no bare
#                            name in From/To/Cc/Reply-To/Sender, plus the
#                            options (see mailcheck.py --help)
#   "${TRACE_EXECS[@]}" FILE CMD...   the strace prefix that records
#                            every exec (and exit) of CMD into FILE
#   mailer_argv TRACE        the argv of every /usr/sbin/sendmail exec in
#                            TRACE, one a line, as strace prints it
#   mailer_exit TRACE        the exit status of the first one
#   body_of FILE [OUT]       the bytes after FILE's first empty line, to
#                            OUT or stdout
#   caller_down              point the config at a closed port: every
#                            submission now fails with "server down"
#   caller_up                undo caller_down

PF_ENV_SH="$BATS_TEST_DIRNAME/postfix-env.sh"
CL_ENV_SH="$BATS_TEST_DIRNAME/callers-env.sh"
MAILCHECK="$BATS_TEST_DIRNAME/mailcheck.py"

_callers_config() {
	# $1: port
	cat >"$CL_DIR/postie.conf" <<EOF
# postie's system config inside the caller namespace (tests/callers.bash)
defaults
timeout 30
queue ${CL_QUEUE:-off}
syslog off
logfile $CL_DIR/postie.log

account postfix
host 127.0.0.1
port $1
maildomain example.org
domain client.postie.test
aliases $CL_DIR/aliases
EOF
	if [ "${CL_AUTH:-0}" = 1 ]; then
		cat >>"$CL_DIR/postie.conf" <<EOF
tls on
tls_trust_file $PF_CA_FILE
auth on
user $PF_AUTH_USER
password $PF_AUTH_PASSWORD
EOF
	fi
	printf '\naccount default : postfix\n' >>"$CL_DIR/postie.conf"
}

# The port the config uses when the server is up.
_callers_port() {
	if [ "${CL_AUTH:-0}" = 1 ]; then
		echo "$PF_SUBMISSION_PORT"
	else
		echo "$PF_SMTP_PORT"
	fi
}

callers_setup_file() {
	if [ "${POSTIE_SKIP_POSTFIX:-0}" = 1 ]; then
		return 0
	fi
	if [ "${CL_AUTH:-0}" = 1 ]; then
		sh "$PF_ENV_SH" check --auth
	else
		sh "$PF_ENV_SH" check
	fi
	sh "$CL_ENV_SH" check
	CL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postie-callers.XXXXXX")
	export CL_DIR
	chmod 755 "$CL_DIR"
	PF_DIR=$CL_DIR/postfix
	mkdir "$PF_DIR"
	export PF_DIR
	local auth=
	[ "${CL_AUTH:-0}" = 1 ] && auth=--auth
	# shellcheck disable=SC2046
	if ! sh "$PF_ENV_SH" start "$PF_DIR" $auth $(grep -o \
	    'box-[a-z0-9-]*' "$BATS_TEST_FILENAME" | sort -u); then
		sh "$PF_ENV_SH" stop "$PF_DIR"
		return 1
	fi
	# shellcheck disable=SC1091
	. "$PF_DIR/env"
	_callers_config "$(_callers_port)"
	# the log is written by every user the callers run as
	: >"$CL_DIR/postie.log"
	chmod 666 "$CL_DIR/postie.log"
	mkdir "$CL_DIR/ns"
	if [ "${CL_SETGID:-0}" = 1 ]; then
		sh "$CL_ENV_SH" start --setgid "$CL_DIR/ns" "$POSTIE" \
		    "$CL_DIR/postie.conf"
	else
		sh "$CL_ENV_SH" start "$CL_DIR/ns" "$POSTIE" \
		    "$CL_DIR/postie.conf"
	fi
	# shellcheck disable=SC1091
	. "$CL_DIR/ns/env"
	cat >"$CL_DIR/aliases" <<EOF
root: alice@example.org
$CALLER_USER: carol@example.org
team: bob@example.org, carol@example.org
EOF
	chmod 644 "$CL_DIR/aliases" "$CL_DIR/postie.conf"
	# the namespace's copy is the one postie reads; with setgid this
	# one must not be a way round it
	[ "${CL_SETGID:-0}" = 1 ] && chmod 600 "$CL_DIR/postie.conf"
	return 0
}

callers_teardown_file() {
	if [ -n "${CL_DIR:-}" ]; then
		sh "$CL_ENV_SH" stop "$CL_DIR/ns" || true
		sh "$PF_ENV_SH" stop "$CL_DIR/postfix" || true
		if [ -z "${POSTIE_KEEP_POSTFIX:-}" ]; then
			rm -rf "$CL_DIR"
		fi
	fi
}

callers_setup() {
	if [ "${POSTIE_SKIP_POSTFIX:-0}" = 1 ]; then
		skip "POSTIE_SKIP_POSTFIX=1"
	fi
	common_setup
	[ -n "${CL_DIR:-}" ] && [ -f "$CL_DIR/ns/env" ]
	# shellcheck disable=SC1091
	. "$CL_DIR/postfix/env"
	# shellcheck disable=SC1091
	. "$CL_DIR/ns/env"
	# shellcheck disable=SC2034 # the .bats files use it
	W=$BATS_TEST_TMPDIR
	# a directory every user in the namespace can write to
	OUT=$CL_DIR/out/$BATS_TEST_NUMBER
	mkdir -p "$OUT"
	chmod 1777 "$OUT"
	# each test starts with empty Maildirs, so that mail_wait BOX 1 is
	# this test's message
	find "$PF_MAILDIR_BASE" -path '*/new/*' -type f -delete 2>/dev/null || true
}

callers_teardown() {
	# a test that stopped the server must not leave it down for the next
	caller_up
	common_teardown
}

in_ns() {
	sh "$CL_ENV_SH" run "$CL_DIR/ns" "$@"
}

ns_daemon() {
	sh "$CL_ENV_SH" daemon "$CL_DIR/ns" "$@"
}

mail_wait() {
	local files
	files=$(sh "$PF_ENV_SH" wait-mail "$PF_DIR" "$1" "${2:-1}" 30) || {
		echo "no delivery to $1; postie log:"
		tail -n 20 "$CL_DIR/postie.log"
		return 1
	}
	printf '%s\n' "$files" | tail -n 1
}

mail_count() {
	sh "$PF_ENV_SH" count "$PF_DIR" "$1"
}

# shellcheck disable=SC2034 # the .bats files use it
TRACE_EXECS=(strace -f -q -e trace=execve -s 200 -o)

mailer_argv() {
	grep -o 'execve("/usr/sbin/sendmail", \[[^]]*\]' "$1" |
	    sed 's/^execve("\/usr\/sbin\/sendmail", //'
}

mailer_exit() {
	local pid
	pid=$(grep -m 1 'execve("/usr/sbin/sendmail"' "$1" | cut -d' ' -f1)
	[ -n "$pid" ] || return 1
	sed -n "s/^$pid  *+++ exited with \([0-9]*\) +++\$/\1/p" "$1"
}

body_of() {
	"$PYTHON3" -c 'import sys
d = open(sys.argv[1], "rb").read().partition(b"\n\n")[2]
if len(sys.argv) > 2:
    open(sys.argv[2], "wb").write(d)
else:
    sys.stdout.buffer.write(d)' "$@"
}

mail_strip() {
	sh "$PF_ENV_SH" strip "$1" >"$2"
}

mail_check() {
	"$PYTHON3" "$MAILCHECK" "$@"
}

caller_down() {
	local port
	# a port that was free a moment ago: connection refused
	port=$("$PYTHON3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	_callers_config "$port"
	_callers_reload
}

caller_up() {
	if [ -n "${CL_DIR:-}" ] && [ -f "$CL_DIR/postie.conf" ] &&
	    [ -n "${PF_SMTP_PORT:-}" ]; then
		_callers_config "$(_callers_port)"
		_callers_reload
	fi
}

# The namespace holds a copy of the config (a bind mount of a copy, or a
# file in an overlay): write the new one through it.
_callers_reload() {
	in_ns sh -c "cat >'$SYSCONF_FILE'" <"$CL_DIR/postie.conf"
}
