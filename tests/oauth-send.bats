#!/usr/bin/env bats
# shellcheck shell=bash
#
# postie's own OAuth2 cycle end to end: authorized once with
# --oauth-authorize (device grant) against the local OAuth server
# (tests/oauthserver.py), then sending through the suite's real Postfix,
# whose Dovecot asks that server about every bearer token
# (tests/postfix-env.sh start --oauth).  Access tokens expire, refresh
# tokens rotate or are revoked, the token endpoint fails, eight postie
# processes refresh at once.  One OAuth server and one Postfix serve the
# whole file; each test has its own token store (queue_dir in its temp
# dir) and reads only the records written since it started.
#
# When the unpacked Postfix or Dovecot is missing (`sh
# tests/postfix-env.sh fetch` not done) every test here FAILS; set
# POSTIE_SKIP_POSTFIX=1 to skip them on purpose.

load common
load oauth

PF_ENV_SH="$BATS_TEST_DIRNAME/postfix-env.sh"

setup_file() {
	if [ "${POSTIE_SKIP_POSTFIX:-0}" = 1 ]; then
		return 0
	fi
	sh "$PF_ENV_SH" check --auth
	oauth_postfix_start --max-seconds 900
}

teardown_file() {
	oauth_postfix_stop
}

setup() {
	if [ "${POSTIE_SKIP_POSTFIX:-0}" = 1 ]; then
		skip "POSTIE_SKIP_POSTFIX=1"
	fi
	common_setup
	if [ -z "${PF_DIR:-}" ] || [ ! -f "$PF_DIR/env" ]; then
		_fail "no Postfix: setup_file did not start it"
	fi
	# Each test starts from the server's defaults.
	oauth_ctl set expires_in=3600 rotate=0 interval=1 >/dev/null
	oauth_ctl fault mode=none >/dev/null
	os_mark
	STORE=$T/queue/oauth/$OAUTH_ACCOUNT
	oauth_postie_config xoauth2 "queue_dir $T/queue"
}

teardown() {
	common_teardown
	[ -z "${PF_DIR:-}" ] || sh "$PF_ENV_SH" quiesce "$PF_DIR"
}

# ---- helpers ---------------------------------------------------------------

os_mark() {
	OS_LOG_MARK=$(wc -l <"$PF_MAILLOG")
	OS_DAVE=$(sh "$PF_ENV_SH" count "$PF_DIR" dave)
	oauth_mark
}

# os_authorize: `postie --oauth-authorize` with the device grant, the
# user's approval given through the server's control endpoint once
# postie has printed the code; the store then holds a record.
os_authorize() {
	oauth_device_authorize "$POSTIE" -C "$CONFIG" --oauth-authorize
	[ -f "$STORE" ] || _fail "no token store after --oauth-authorize"
}

# os_send SUBJECT [postie options...]: one message from dave to dave.
os_send() {
	local subject=$1
	shift
	printf 'From: <%s>\nTo: <%s>\nSubject: %s\n\nbody of %s\n' \
	    "$PF_OAUTH_USER" "$PF_OAUTH_USER" "$subject" "$subject" >"$T/m"
	run_postie "$@" "$PF_OAUTH_USER" <"$T/m"
}

# os_delivered N: dave's box holds N more messages than at the mark.
os_delivered() {
	sh "$PF_ENV_SH" settle "$PF_DIR" >/dev/null
	assert_equal "$(sh "$PF_ENV_SH" count "$PF_DIR" dave)" \
	    "$((OS_DAVE + $1))"
}

# os_maillog STRING: a line of Postfix's log since the mark holds STRING
# (waited for: the log goes through a logging process).
os_maillog() {
	local i=0
	while [ $i -lt 100 ]; do
		tail -n "+$((OS_LOG_MARK + 1))" "$PF_MAILLOG" |
		    grep -qF -- "$1" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	_fail "no '$1' in the mail log since the mark"
}

# The value of KEY in the token store (the user's own file).
os_store() { sed -n "s/^$1 //p" "$STORE"; }

# The hash the server's records give a token.
os_hash() { oauth_hash "$1"; }

# ---- tests -----------------------------------------------------------------

@test "oauth send: authorized once, a message goes with the granted token, no refresh" {
	os_authorize
	[ "$(stat -c %a "$STORE")" = 600 ]
	os_send "first"
	assert_status 0
	assert_equal "$stderr" ""
	os_send "second"
	assert_status 0
	os_delivered 2
	os_maillog "sasl_method=XOAUTH2, sasl_username=$PF_OAUTH_USER"
	assert_equal "$(oauth_count_new refresh_token.ok)" 0
}

@test "oauth send: auth on picks OAUTHBEARER when offered" {
	oauth_postie_config on "queue_dir $T/queue"
	os_authorize
	os_send "bearer"
	assert_status 0
	os_delivered 1
	os_maillog "sasl_method=OAUTHBEARER, sasl_username=$PF_OAUTH_USER"
}

@test "oauth send: an access token past its expiry is refreshed, stored and used" {
	oauth_ctl set expires_in=1 >/dev/null
	os_authorize
	old=$(os_store access_token)
	oauth_ctl set expires_in=3600 >/dev/null
	os_send "expired"
	assert_status 0
	os_delivered 1
	assert_equal "$(oauth_count_new refresh_token.ok)" 1
	new=$(os_store access_token)
	[ -n "$new" ] && [ "$new" != "$old" ]
	# The token Postfix was shown is the refreshed one.
	oauth_requests_new | grep -q "introspect - - active token=$(os_hash "$new")"
	expires=$(os_store expires)
	now=$(date +%s)
	[ "$expires" -gt $((now + 3500)) ] && [ "$expires" -le $((now + 3600)) ]
}

@test "oauth send: a token the server refuses (535) is renewed and AUTH tried once more" {
	os_authorize
	oauth_ctl expire what=access >/dev/null
	os_send "refused" -v
	assert_status 0
	os_delivered 1
	assert_equal "$(oauth_count_new refresh_token.ok)" 1
	assert_equal "$(grep -c '^<-- 535' <<<"$stderr")" 1
	assert_equal "$(grep -c '^--> AUTH XOAUTH2 \[redacted\]$' <<<"$stderr")" 2
	grep -qxF '*** the server refused the access token: getting a fresh one' \
	    <<<"$stderr"
	# -v says which token went, never the token.
	grep -qE "^\*\*\* OAuth: the access token of account 'oauth' is cached; it expires in 3[56][0-9]{2} s$" <<<"$stderr"
	grep -qE "^\*\*\* OAuth: the access token of account 'oauth' was refreshed at $OAUTH_URL/token; it expires in 3[56][0-9]{2} s$" <<<"$stderr"
}

@test "oauth send: a rotated refresh token is stored and the next refresh presents it" {
	oauth_ctl set rotate=1 expires_in=1 >/dev/null
	os_authorize
	first_rt=$(os_store refresh_token)
	os_send "rotate 1"
	assert_status 0
	second_rt=$(os_store refresh_token)
	[ -n "$second_rt" ] && [ "$second_rt" != "$first_rt" ]
	os_send "rotate 2"
	assert_status 0
	os_delivered 2
	run oauth_requests_new
	grep -q "POST /token refresh_token postie-test ok .*rt=$(os_hash "$first_rt") .*new_rt=$(os_hash "$second_rt")" <<<"$output"
	grep -q "POST /token refresh_token postie-test ok .*rt=$(os_hash "$second_rt")" <<<"$output"
	assert_equal "$(oauth_count_new refresh_token.invalid_grant)" 0
}

@test "oauth send: weeks unattended in seconds: 12 messages, each with an expired token and a rotated refresh token" {
	oauth_ctl set rotate=1 expires_in=1 >/dev/null
	os_authorize
	for i in $(seq 12); do
		os_send "week $i"
		assert_status 0
	done
	os_delivered 12
	assert_equal "$(oauth_count_new refresh_token.ok)" 12
	assert_equal "$(oauth_count_new refresh_token.invalid_grant)" 0
}

@test "oauth send: a revoked refresh token keeps the message queued, no bounce, and says to authorize again" {
	oauth_postie_config xoauth2 "queue_dir $T/queue" "queue on"
	os_authorize
	oauth_ctl revoke user="$PF_OAUTH_USER" >/dev/null
	os_send "revoked"
	assert_status 0
	[[ "$stderr" == *"queued as "* ]]
	[[ "$stderr" == *"the refresh token of account 'oauth' was refused ("*"invalid_grant"*"): run postie --oauth-authorize oauth"* ]]
	[ "$(find "$T/queue/q" -mindepth 1 -maxdepth 1 | wc -l)" = 1 ]
	os_delivered 0
	# Authorized again, the queue run delivers it.
	os_authorize
	run_postie -q
	assert_status 0
	os_delivered 1
	[ "$(find "$T/queue/q" -mindepth 1 -maxdepth 1 | wc -l)" = 0 ]
}

@test "oauth send: without a queue a refused refresh token is exit 78, an unreachable endpoint 75" {
	os_authorize
	oauth_ctl expire what=access >/dev/null
	oauth_ctl set expires_in=1 >/dev/null
	oauth_ctl fault mode=drop endpoint=token >/dev/null
	os_send "endpoint down"
	assert_status 75
	[[ "$stderr" == *"cannot refresh the token of account 'oauth': $OAUTH_URL/token: "* ]]
	oauth_ctl fault mode=none >/dev/null
	oauth_ctl revoke user="$PF_OAUTH_USER" >/dev/null
	os_send "revoked"
	assert_status 78
	[[ "$stderr" == *"run postie --oauth-authorize oauth"* ]]
	os_delivered 0
}

@test "oauth send: a stalled or garbled token endpoint keeps the message queued, and a later run delivers it" {
	oauth_postie_config xoauth2 "queue_dir $T/queue" "queue on" "timeout 2"
	oauth_ctl set expires_in=1 >/dev/null
	os_authorize
	oauth_ctl set expires_in=3600 >/dev/null
	oauth_ctl fault mode=delay seconds=6 endpoint=token count=1 >/dev/null
	os_send "stalled"
	assert_status 0
	[[ "$stderr" == *"queued as "* ]]
	[[ "$stderr" == *"cannot refresh the token of account 'oauth': $OAUTH_URL/token: timed out waiting for the response"* ]]
	# Bounded by the account's timeout, not by the server.
	[ "$ELAPSED_MS" -lt 5500 ]
	oauth_ctl fault mode=malformed endpoint=token count=1 >/dev/null
	run_postie -q
	assert_status 0
	[[ "$stderr" == *"cannot refresh the token of account 'oauth': $OAUTH_URL/token: malformed token answer: "* ]]
	os_delivered 0
	[ "$(find "$T/queue/q" -mindepth 1 -maxdepth 1 | wc -l)" = 1 ]
	run_postie -q
	assert_status 0
	os_delivered 1
	[ "$(find "$T/queue/q" -mindepth 1 -maxdepth 1 | wc -l)" = 0 ]
}

@test "oauth send: no token yet says to run --oauth-authorize (exit 78), nothing sent" {
	os_send "unauthorized"
	assert_status 78
	assert_equal "$stderr" "postie: account 'default', AUTH: cannot get the password or token: no token for account 'oauth' (run: postie --oauth-authorize oauth)"
	assert_equal "$(oauth_requests_new | wc -l)" 0
}

@test "oauth send: eight processes at once with an expired token refresh once" {
	oauth_ctl set expires_in=1 >/dev/null
	os_authorize
	oauth_ctl set expires_in=3600 >/dev/null
	for i in $(seq 8); do
		printf 'From: <%s>\nTo: <%s>\nSubject: p%s\n\nx\n' \
		    "$PF_OAUTH_USER" "$PF_OAUTH_USER" "$i" >"$T/m$i"
		"$POSTIE" -C "$CONFIG" "$PF_OAUTH_USER" <"$T/m$i" \
		    2>"$T/e$i" &
		pids="${pids-} $!"
	done
	for p in $pids; do
		wait "$p" || fail=1
	done
	[ -z "${fail-}" ] || { cat "$T"/e*; false; }
	os_delivered 8
	assert_equal "$(oauth_count_new refresh_token.ok)" 1
}

@test "oauth send: -P shows the endpoints, the store and the expiry, never a token" {
	os_authorize
	run_postie -P
	assert_status 0
	grep -qxF "oauth_token_endpoint  = $OAUTH_URL/token" <<<"$output"
	grep -qxF "oauth_token_store     = $STORE" <<<"$output"
	grep -qxF "secret                = an OAuth access token from the token store, refreshed when it is due" <<<"$output"
	grep -qE '^oauth_access_token    = expires [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC \(in 3[56][0-9]{2} s\)$' <<<"$output"
	line=$(grep -n '^oauth_client_secret ' "$CONFIG" | cut -d: -f1)
	grep -qxF "oauth_client_secret   = *  ($CONFIG:$line)" <<<"$output"
	for tok in "$(os_store access_token)" "$(os_store refresh_token)" \
	    "$OAUTH_CLIENT_SECRET"; do
		! grep -qF -- "$tok" <<<"$output"
	done
}

@test "oauth send: -S names the OAuth mechanisms the server offers" {
	run_postie -S
	assert_status 0
	grep -qxF "OAuth mechanisms: OAUTHBEARER XOAUTH2" <<<"$output"
}

@test "oauth send: tokens and the client secret never reach -v, the log or a child's environment" {
	# The client secret from a command, which also shows what a child
	# of postie gets in its environment while tokens are in memory.
	oauth_postie_config xoauth2 "queue_dir $T/queue" "logfile $T/log" \
	    "oauth_client_secret" \
	    "oauth_client_secret_eval \"env >>$T/child-env; echo $OAUTH_CLIENT_SECRET\""
	oauth_ctl set expires_in=1 >/dev/null
	os_authorize
	oauth_ctl set expires_in=3600 >/dev/null
	os_send "secrets" -v
	assert_status 0
	os_delivered 1
	assert_equal "$(oauth_count_new refresh_token.ok)" 1
	# Authorizing (the device request and every poll) and refreshing:
	# one run each, the secret kept in between.
	assert_equal "$(grep -c '^PWD=' "$T/child-env")" 2
	at=$(os_store access_token)
	rt=$(os_store refresh_token)
	[ -n "$at" ] && [ -n "$rt" ]
	for tok in "$at" "$rt" "$OAUTH_CLIENT_SECRET"; do
		! grep -qF -- "$tok" <<<"$stderr$output"
		! grep -qF -- "$tok" "$T/log"
		! grep -qF -- "$tok" "$T/authorize.out" "$T/authorize.err"
	done
	for tok in "$at" "$rt"; do
		! grep -qF -- "$tok" "$T/child-env"
	done
}
