#!/usr/bin/env bats
# shellcheck shell=bash
#
# OAuth2 with the system configuration and a setgid install: root
# authorizes the shared account once; an ordinary user's mail then goes
# through the suite's Postfix with the system store's token, and that
# user's postie refreshes it in place (the record stays root's, same
# inode) without ever being able to read it.  The namespace is
# tests/callers-env.sh's (`start --setgid`: a group "postie", the system
# queue a tmpfs root:postie 2770, the user pcaller), the OAuth server and
# Postfix are tests/oauth.bash's.  Needs root.
#
# When the unpacked Postfix or Dovecot is missing every test here FAILS;
# set POSTIE_SKIP_POSTFIX=1 to skip them on purpose.

load common
load oauth

PF_ENV_SH="$BATS_TEST_DIRNAME/postfix-env.sh"
CL_ENV_SH="$BATS_TEST_DIRNAME/callers-env.sh"

setup_file() {
	if [ "${POSTIE_SKIP_POSTFIX:-0}" = 1 ] || [ "$(id -u)" != 0 ]; then
		return 0
	fi
	sh "$PF_ENV_SH" check --auth
	oauth_postfix_start --max-seconds 600
}

teardown_file() {
	oauth_postfix_stop
}

setup() {
	if [ "${POSTIE_SKIP_POSTFIX:-0}" = 1 ]; then
		skip "POSTIE_SKIP_POSTFIX=1"
	fi
	[ "$(id -u)" = 0 ] || skip "needs root (a setgid copy, a namespace)"
	common_setup
	if [ -z "${PF_DIR:-}" ] || [ ! -f "$PF_DIR/env" ]; then
		_fail "no Postfix: setup_file did not start it"
	fi
	oauth_ctl set expires_in=3600 rotate=0 interval=1 >/dev/null
	oauth_ctl fault mode=none >/dev/null
	SY_DAVE=$(sh "$PF_ENV_SH" count "$PF_DIR" dave)
	oauth_mark
	sy_start
}

teardown() {
	[ -z "${SY_DIR:-}" ] || sh "$CL_ENV_SH" stop "$SY_DIR/ns" || true
	[ -z "${SY_DIR:-}" ] || rm -rf "$SY_DIR"
	common_teardown
	[ -z "${PF_DIR:-}" ] || sh "$PF_ENV_SH" quiesce "$PF_DIR"
}

# sy_start: the namespace, with the OAuth account as the system
# configuration (root:postie 0640) and the CAs where pcaller reads them.
sy_start() {
	SY_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postie-oauthsys.XXXXXX")
	chmod 755 "$SY_DIR"
	mkdir "$SY_DIR/ns" "$SY_DIR/bin"
	chmod 755 "$SY_DIR/bin"
	# postie by that name: long options are refused to "sendmail".
	ln -s /usr/sbin/sendmail "$SY_DIR/bin/postie"
	cp "$CERTS/ca.pem" "$SY_DIR/ca.pem"
	cp "$PF_CA_FILE" "$SY_DIR/pf-ca.pem"
	chmod 644 "$SY_DIR/ca.pem" "$SY_DIR/pf-ca.pem"
	oauth_postie_config xoauth2 "queue on" \
	    "tls_trust_file $SY_DIR/pf-ca.pem" \
	    "oauth_trust_file $SY_DIR/ca.pem"
	sh "$CL_ENV_SH" start --setgid "$SY_DIR/ns" "$POSTIE" "$CONFIG"
	# shellcheck disable=SC1091
	. "$SY_DIR/ns/env"
	RECORD=$SPOOL_DIR/oauth/$OAUTH_ACCOUNT
}

# sy_run [-u] CMD...: in the namespace, as root or (-u) as pcaller.
sy_run() { sh "$CL_ENV_SH" run "$SY_DIR/ns" "$@"; }

# sy_authorize: root's --oauth-authorize (device grant) into the system
# store, approved through the server's control endpoint.
sy_authorize() {
	oauth_device_authorize sy_run "$SY_DIR/bin/postie" --oauth-authorize
}

# sy_send SUBJECT: pcaller mails dave through /usr/sbin/sendmail.
sy_send() {
	printf 'To: <%s>\nSubject: %s\n\nbody\n' "$PF_OAUTH_USER" "$1" \
	    >"$T/m"
	run --separate-stderr sy_run -u /usr/sbin/sendmail -oi \
	    "$PF_OAUTH_USER" <"$T/m"
}

sy_delivered() {
	sh "$PF_ENV_SH" settle "$PF_DIR" >/dev/null
	assert_equal "$(sh "$PF_ENV_SH" count "$PF_DIR" dave)" \
	    "$((SY_DAVE + $1))"
}

# The record file as the system sees it: owner, group, mode, inode.
sy_stat() { sy_run stat -c '%U:%G %a %i' "$RECORD"; }

@test "oauth system: root authorizes, an ordinary user's mail refreshes the token in place and is delivered" {
	oauth_ctl set expires_in=1 >/dev/null
	sy_authorize
	oauth_ctl set expires_in=3600 >/dev/null
	before=$(sy_stat)
	[[ "$before" == "root:postie 660 "* ]]
	sy_send "from pcaller"
	assert_status 0
	assert_equal "$stderr" ""
	sy_delivered 1
	assert_equal "$(oauth_count_new refresh_token.ok)" 1
	# Updated in place: the same file, still root's.
	assert_equal "$(sy_stat)" "$before"
	# pcaller cannot read it, and -P shows its expiry, not its tokens.
	run sy_run -u cat "$RECORD"
	[ "$status" -ne 0 ]
	run --separate-stderr sy_run -u /usr/sbin/sendmail -P
	assert_status 0
	grep -qE '^oauth_access_token    = expires .* UTC \(in 3[56][0-9]{2} s\)$' <<<"$output"
	grep -qxF "oauth_token_store     = $RECORD" <<<"$output"
	grep -qxF "oauth_client_secret   = *  ($SYSCONF_FILE:$(grep -n '^oauth_client_secret ' "$CONFIG" | cut -d: -f1))" <<<"$output"
}

@test "oauth system: four users' processes at once refresh once, every message delivered" {
	oauth_ctl set expires_in=1 >/dev/null
	sy_authorize
	oauth_ctl set expires_in=3600 >/dev/null
	for i in 1 2 3 4; do
		printf 'To: <%s>\nSubject: p%s\n\nx\n' "$PF_OAUTH_USER" "$i" |
		    sy_run -u /usr/sbin/sendmail -oi "$PF_OAUTH_USER" \
		    2>"$T/e$i" &
		pids="${pids-} $!"
	done
	for p in $pids; do
		wait "$p" || { cat "$T"/e*; false; }
	done
	sy_delivered 4
	assert_equal "$(oauth_count_new refresh_token.ok)" 1
}

@test "oauth system: no token yet: the user's mail is queued and the error says root must authorize" {
	sy_send "unauthorized"
	assert_status 0
	[[ "$stderr" == *"queued as "* ]]
	[[ "$stderr" == *"no token for account 'oauth' in the system store: root must run postie --oauth-authorize oauth"* ]]
	sy_delivered 0
	sy_authorize
	run --separate-stderr sy_run /usr/sbin/sendmail -q
	assert_status 0
	sy_delivered 1
}
