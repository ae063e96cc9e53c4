#!/usr/bin/env bats
# shellcheck shell=bash
#
# postie --oauth-authorize end to end, against the local OAuth2 server
# (tests/oauthserver.py, HTTPS with the test CA) as a custom provider:
#   - the device grant (RFC 8628): the user approves through the
#     server's control while postie polls; denied; expired; slow_down;
#   - the authorization code grant with PKCE and a loopback redirect
#     (RFC 7636, RFC 8252): tests/browser.py plays the browser (it takes
#     the URL from postie's output, asks the server, checks the redirect
#     and brings it to postie's listener); hostile requests to the
#     listener first; access denied;
#   - the system configuration: only root may authorize (in the private
#     namespace of tests/callers-env.sh, as tests/privileges.bats does).
# What postie prints is compared whole, the random parts (the user code,
# the state, the PKCE challenge, the listener's port) read from it first;
# the token stored is the one the server issued (its records name tokens
# by hash).

load common
load oauth

BROWSER="$BATS_TEST_DIRNAME/browser.py"
CL_ENV_SH="$BATS_TEST_DIRNAME/callers-env.sh"
DEVICE_GRANT=urn:ietf:params:oauth:grant-type:device_code

setup() {
	common_setup
	AUTHZ_PID='' NS_DIR=''
}

teardown() {
	if [ -n "$AUTHZ_PID" ]; then
		kill "$AUTHZ_PID" 2>/dev/null || true
		wait "$AUTHZ_PID" 2>/dev/null || true
	fi
	if [ -n "$NS_DIR" ]; then
		sh "$CL_ENV_SH" stop "$NS_DIR/ns" || true
		rm -rf "$NS_DIR"
	fi
	oauth_stop
	common_teardown
}

# authz_lines [LINE...]: the account "work" (also the default) at the
# server as a custom provider, its store in QUEUE_DIR; LINEs appended to
# it.  It names an SMTP server, never connected to.
authz_lines() {
	local line
	echo "account work"
	echo "host 127.0.0.1"
	echo "port 1"
	echo "from alice@example.org"
	echo "auth oauthbearer"
	echo "user alice@example.org"
	echo "timeout 10"
	echo "syslog off"
	echo "oauth_provider custom"
	echo "oauth_client_id $OAUTH_CLIENT_ID"
	echo "oauth_client_secret $OAUTH_CLIENT_SECRET"
	echo "oauth_token_url $OAUTH_URL/token"
	echo "oauth_auth_url $OAUTH_URL/authorize"
	echo "oauth_scope mail"
	echo "oauth_trust_file $CERTS/ca.pem"
	for line in "$@"; do
		echo "$line"
	done
	echo "account default : work"
}

# authz_config [LINE...]: authz_lines into $CONFIG, the store in $T/q.
authz_config() {
	QUEUE_DIR=$T/q
	authz_lines "queue_dir $QUEUE_DIR" "$@" >"$CONFIG"
	chmod 600 "$CONFIG"
	RECORD=$QUEUE_DIR/oauth/work
}

# authz_start [ARGS...]: postie -C $CONFIG --oauth-authorize ARGS in the
# background, stdout to $T/out, stderr to $T/err (at most 60 s).
authz_start() {
	: >"$T/out"
	timeout -k 5 60 "$POSTIE" -C "$CONFIG" --oauth-authorize "$@" \
	    >"$T/out" 2>"$T/err" 3>&- &
	AUTHZ_PID=$!
}

# authz_wait: wait for it to end; $status, $output, $stderr and
# $stderr_lines as bats' run --separate-stderr sets them.
authz_wait() {
	status=0
	wait "$AUTHZ_PID" || status=$?
	AUTHZ_PID=
	output=$(cat "$T/out")
	stderr=$(cat "$T/err")
	mapfile -t stderr_lines <"$T/err"
}

# wait_for WHAT CMD...: until CMD succeeds (10 s), else fail with WHAT.
wait_for() {
	local what=$1
	shift
	for _ in $(seq 1 200); do
		"$@" && return 0
		sleep 0.05
	done
	_fail "timed out waiting for $what" "$(cat "$T/out" "$T/err")"
}

has_lines() {
	[ "$(wc -l <"$1")" -ge "$2" ]
}

count_at_least() {
	[ "$(oauth_count "$1")" -ge "$2" ]
}

# The user code from the device grant's first line.
user_code() {
	sed -n "1s/^To authorize account 'work', open .* and enter the code \\(.*\\)\$/\\1/p" \
	    "$T/out"
}

# device_started: postie asked for a device code and polled once; sets
# CODE (checked against RFC 8628's alphabet) and checks the two lines.
device_started() {
	wait_for "the device grant's two lines" has_lines "$T/out" 2
	CODE=$(user_code)
	[[ $CODE =~ ^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$ ]] ||
	    _fail "no user code in the first line" "$(cat "$T/out")"
	assert_equal "$(cat "$T/out")" "To authorize account 'work', open $OAUTH_URL/verify and enter the code $CODE
or open $OAUTH_URL/verify?user_code=$CODE (the code filled in)" "instructions"
	wait_for "postie's first poll" \
	    count_at_least device_code.authorization_pending 1
}

# The record's value for KEY.
record_value() {
	sed -n "s/^$1 //p" "${2:-$RECORD}"
}

# assert_stored ISSUED_LINE: the record exists, mode 0600, and holds the
# refresh and access tokens the server's request line names by hash.
assert_stored() {
	local rt at
	[ -f "$RECORD" ] || _fail "no record $RECORD"
	assert_equal "$(stat -c %a "$RECORD")" 600 "record mode"
	rt=$(record_value refresh_token)
	at=$(record_value access_token)
	[ -n "$rt" ] && [ -n "$at" ] || _fail "no tokens in the record"
	[[ $1 == *" at=$(oauth_hash "$at") new_rt=$(oauth_hash "$rt")" ]] ||
	    _fail "the record's tokens are not the ones issued" "$1"
	assert_equal "$(record_value client_id)" "$OAUTH_CLIENT_ID" client_id
	assert_equal "$(record_value token_url)" "$OAUTH_URL/token" token_url
}

# The server's log times of the polls of $CODE, with their outcomes.
poll_times() {
	sed -n "s/^\\([0-9.]*\\) device poll user_code=$CODE \\(.*\\)\$/\\1 \\2/p" \
	    "$OAUTH_DIR/log"
}

@test "device grant: the code shown, approved while postie polls, the token stored, -P shows its expiry" {
	oauth_start --interval 1
	authz_config "oauth_device_url $OAUTH_URL/device"
	authz_start work
	device_started
	run oauth_ctl approve user_code="$CODE"
	assert_status 0
	authz_wait
	assert_status 0
	assert_stderr_empty
	assert_equal "$output" "To authorize account 'work', open $OAUTH_URL/verify and enter the code $CODE
or open $OAUTH_URL/verify?user_code=$CODE (the code filled in)
authorized account 'work'; token stored in $RECORD"
	# What the server saw: one device code, polls, one grant.
	local reqs first last middle
	reqs=$(oauth_requests)
	first=$(head -n 1 <<<"$reqs")
	last=$(tail -n 1 <<<"$reqs")
	middle=$(sed '1d;$d' <<<"$reqs" | sort -u)
	assert_equal "$first" "POST /device - postie-test ok user_code=$CODE"
	assert_equal "$middle" "POST /token device_code postie-test authorization_pending user_code=$CODE"
	[[ $last == "POST /token device_code postie-test ok user_code=$CODE user=alice@example.org at=#"* ]] ||
	    _fail "last request: $last"
	assert_stored "$last"
	# -P: the access token's expiry from the record, never a token.
	local exp pline
	exp=$(record_value expires)
	run_postie -a work -P
	assert_status 0
	pline=$(grep '^oauth_access_token ' <<<"$output")
	[[ $pline =~ ^(oauth_access_token\ +=\ expires\ .*\ UTC)\ \(in\ ([0-9]+)\ s\)$ ]] ||
	    _fail "-P: $pline"
	assert_equal "${BASH_REMATCH[1]}" "$(printf '%-21s = expires %s' \
	    oauth_access_token "$(date -u -d "@$exp" '+%Y-%m-%d %H:%M:%S UTC')")"
	[ "${BASH_REMATCH[2]}" -gt 3500 ] && [ "${BASH_REMATCH[2]}" -le 3600 ] ||
	    _fail "-P: expiry in ${BASH_REMATCH[2]} s"
	[[ $output != *"$(record_value access_token)"* ]] ||
	    _fail "-P shows the access token"
	[[ $output != *"$(record_value refresh_token)"* ]] ||
	    _fail "-P shows the refresh token"
}

@test "device grant: the user denies: 77, one line, nothing stored" {
	oauth_start --interval 1
	authz_config "oauth_device_url $OAUTH_URL/device"
	authz_start work
	device_started
	run oauth_ctl deny user_code="$CODE"
	assert_status 0
	authz_wait
	assert_status 77
	assert_stderr_one_line
	assert_equal "$stderr" "postie: cannot authorize account 'work': access was denied ($OAUTH_URL/token: access_denied: the user denied access)"
	[ "$(wc -l <<<"$output")" -eq 2 ] || _fail "stdout beyond the instructions"
	[ ! -e "$RECORD" ] || _fail "a record was stored"
	assert_equal "$(tail -n 1 "$OAUTH_DIR/requests")" \
	    "POST /token device_code postie-test access_denied user_code=$CODE"
}

@test "device grant: the code expires at the server: 75, run it again" {
	oauth_start --interval 1
	authz_config "oauth_device_url $OAUTH_URL/device"
	authz_start work
	device_started
	run oauth_ctl expire what=device
	assert_status 0
	authz_wait
	assert_status 75
	assert_stderr_one_line
	assert_equal "$stderr" "postie: cannot authorize account 'work': the code expired before the authorization was finished; run postie --oauth-authorize work again"
	[ ! -e "$RECORD" ] || _fail "a record was stored"
	assert_equal "$(tail -n 1 "$OAUTH_DIR/requests")" \
	    "POST /token device_code postie-test expired_token user_code=$CODE"
}

@test "device grant: postie stops polling when the code's expires_in has passed" {
	oauth_start --interval 1 --device-expires 3
	authz_config "oauth_device_url $OAUTH_URL/device"
	local t0
	t0=$(date +%s%N)
	authz_start work
	device_started
	authz_wait
	assert_status 75
	assert_equal "$stderr" "postie: cannot authorize account 'work': the code expired before the authorization was finished; run postie --oauth-authorize work again"
	# Within the code's lifetime and a poll, not the 60 s timeout.
	[ $((($(date +%s%N) - t0) / 1000000)) -lt 6000 ] ||
	    _fail "postie kept polling after the code expired"
	[ "$(oauth_count device_code.authorization_pending)" -le 4 ] ||
	    _fail "more polls than 3 s at 1 s allow"
}

@test "device grant: slow_down makes postie wait 5 s more between polls" {
	oauth_start --interval 1 --slow-down-step 4
	authz_config "oauth_device_url $OAUTH_URL/device"
	authz_start work
	device_started
	wait_for "a second poll" \
	    count_at_least device_code.authorization_pending 2
	run oauth_ctl slow_down user_code="$CODE"
	assert_status 0
	wait_for "the slow_down" count_at_least device_code.slow_down 1
	run oauth_ctl approve user_code="$CODE"
	assert_status 0
	authz_wait
	assert_status 0
	assert_stderr_empty
	# Every poll, its time and outcome: pending at the 1 s interval,
	# one slow_down, then the next poll 6 s later (RFC 8628 3.5: the
	# interval grows by 5 s; the server asked for no more than 5).
	local t outcome prev='' prev_outcome='' gaps=''
	while read -r t outcome; do
		if [ -n "$prev" ]; then
			gaps="$gaps$prev_outcome>$outcome $(awk -v a="$prev" \
			    -v b="$t" 'BEGIN { printf "%.1f", b - a }')
"
		fi
		prev=$t prev_outcome=$outcome
	done < <(poll_times)
	assert_equal "$(poll_times | cut -d' ' -f2 | uniq -c | awk '{ print ($1 > 1 ? "N" : $1) " " $2 }')" \
	    "N authorization_pending
1 slow_down
1 ok" "poll outcomes"
	assert_equal "$(oauth_count device_code.slow_down)" 1 "slow_down count"
	local before after
	before=$(grep '^authorization_pending>authorization_pending ' \
	    <<<"$gaps" | cut -d' ' -f2 | sort -n | tail -n 1)
	after=$(grep '^slow_down>ok ' <<<"$gaps" | cut -d' ' -f2)
	awk -v b="$before" 'BEGIN { exit !(b >= 0.9 && b < 2.5) }' ||
	    _fail "polls before slow_down were $before s apart, not 1 s"
	awk -v a="$after" 'BEGIN { exit !(a >= 5.9 && a < 8) }' ||
	    _fail "the poll after slow_down came $after s later, not 6 s"
}

# The authorization URL postie printed, checked whole: sets PORT, STATE
# and CHALLENGE from it.
check_auth_url() {
	local url re
	url=$(sed -n 2p "$T/out")
	re="^$OAUTH_URL/authorize\\?response_type=code&client_id=postie-test&redirect_uri=http%3A%2F%2F127\\.0\\.0\\.1%3A([0-9]+)%2F&scope=mail&state=([A-Za-z0-9_-]{43})&code_challenge=([A-Za-z0-9_-]{43})&code_challenge_method=S256\$"
	[[ $url =~ $re ]] || _fail "authorization URL: $url"
	PORT=${BASH_REMATCH[1]} STATE=${BASH_REMATCH[2]}
	CHALLENGE=${BASH_REMATCH[3]}
	assert_equal "$url" "$OAUTH_URL/authorize?response_type=code&client_id=postie-test&redirect_uri=http%3A%2F%2F127.0.0.1%3A$PORT%2F&scope=mail&state=$STATE&code_challenge=$CHALLENGE&code_challenge_method=S256"
	[ "$STATE" != "$CHALLENGE" ] || _fail "state and challenge are one"
}

# listened TEXT: how browser.py shows the listener's page saying TEXT.
listened() {
	printf '%s\n' "listener HTTP 200" \
	    "content-type text/html; charset=utf-8" "connection close" \
	    '<!DOCTYPE html>' \
	    '<html><head><meta charset="utf-8"><title>postie</title></head>' \
	    "<body><p>$1</p></body></html>"
}

@test "code grant with PKCE: the browser brings the code to the loopback listener, the token is stored" {
	oauth_start
	authz_config
	authz_start work
	run "$PYTHON3" "$BROWSER" --cafile "$CERTS/ca.pem" --stdout "$T/out"
	assert_status 0
	assert_equal "$output" "authorize HTTP 302
redirect code
$(listened "postie: account work is authorized; you may close this window.")"
	authz_wait
	assert_status 0
	assert_stderr_empty
	check_auth_url
	assert_equal "$output" "To authorize account 'work', open this URL in a browser:
$(sed -n 2p "$T/out")
authorized account 'work'; token stored in $RECORD"
	assert_equal "$(head -n 1 "$OAUTH_DIR/requests")" \
	    "GET /authorize - postie-test ok user=alice@example.org"
	local last
	last=$(sed -n '2,$p' "$OAUTH_DIR/requests")
	[[ $last == "POST /token authorization_code postie-test ok user=alice@example.org at=#"* ]] ||
	    _fail "token request: $last"
	assert_stored "$last"
	# The listener is gone with postie.
	run "$PYTHON3" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), timeout=2)"
	[ "$status" -ne 0 ] || _fail "the listener still listens"
}

@test "code grant: requests without the state, or malformed, get 400 and postie keeps waiting" {
	oauth_start
	authz_config
	authz_start work
	run "$PYTHON3" "$BROWSER" --cafile "$CERTS/ca.pem" --stdout "$T/out" \
	    --hostile --idle
	assert_status 0
	assert_equal "$output" "authorize HTTP 302
redirect code
wrong-state HTTP 400
no-state HTTP 400
twice HTTP 400
post HTTP 400
path HTTP 400
bad-escape HTTP 400
long HTTP 400
$(listened "postie: account work is authorized; you may close this window.")"
	authz_wait
	assert_status 0
	assert_stderr_empty
	check_auth_url
	assert_equal "$(sed -n 3p "$T/out")" \
	    "authorized account 'work'; token stored in $RECORD"
	assert_stored "$(tail -n 1 "$OAUTH_DIR/requests")"
	assert_equal "$(oauth_count authorization_code.ok)" 1 "exchanges"
}

@test "code grant: the user denies in the browser: 77, the page says so" {
	oauth_start
	run oauth_ctl authorize decision=deny
	assert_status 0
	authz_config
	authz_start work
	run "$PYTHON3" "$BROWSER" --cafile "$CERTS/ca.pem" --stdout "$T/out"
	assert_status 0
	assert_equal "$output" "authorize HTTP 302
redirect error=access_denied
$(listened "postie: cannot authorize account &#39;work&#39;: access was denied (access_denied)")"
	authz_wait
	assert_status 77
	assert_stderr_one_line
	assert_equal "$stderr" "postie: cannot authorize account 'work': access was denied (access_denied)"
	check_auth_url
	[ "$(wc -l <"$T/out")" -eq 2 ] || _fail "stdout beyond the instructions"
	[ ! -e "$RECORD" ] || _fail "a record was stored"
	assert_equal "$(oauth_count token.ok)$(oauth_count authorization_code.ok)" \
	    00 "token requests"
}

# html TEXT: TEXT as the listener's page escapes it.
html() {
	sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' \
	    -e 's/"/\&quot;/g' -e "s/'/\\&#39;/g" <<<"$1"
}

@test "code grant: a failed exchange is said on stderr and on the browser's page" {
	# An authorization code that has expired when postie brings it.
	oauth_start --code-expires 0
	authz_config
	authz_start work
	run "$PYTHON3" "$BROWSER" --cafile "$CERTS/ca.pem" --stdout "$T/out"
	assert_status 0
	local page_out=$output
	authz_wait
	assert_status 75
	assert_stderr_one_line
	assert_equal "$stderr" "postie: cannot authorize account 'work': $OAUTH_URL/token: invalid_grant: authorization code expired"
	assert_equal "$page_out" "authorize HTTP 302
redirect code
$(listened "$(html "$stderr")")"
	[ ! -e "$RECORD" ] || _fail "a record was stored"
	# A token endpoint answering half a JSON object.
	run oauth_ctl fault mode=malformed endpoint=token count=1
	assert_status 0
	authz_start work
	run "$PYTHON3" "$BROWSER" --cafile "$CERTS/ca.pem" --stdout "$T/out"
	assert_status 0
	page_out=$output
	authz_wait
	assert_status 76
	assert_stderr_one_line
	[[ $stderr == "postie: cannot authorize account 'work': $OAUTH_URL/token: malformed token answer: "* ]] ||
	    _fail "stderr: $stderr"
	assert_equal "$page_out" "authorize HTTP 302
redirect code
$(listened "$(html "$stderr")")"
	[ ! -e "$RECORD" ] || _fail "a record was stored"
}

@test "not an OAuth account: 78 before anything is asked" {
	oauth_start
	authz_config
	{
		echo "account plain"
		echo "host 127.0.0.1"
		echo "from bob@example.org"
	} >>"$CONFIG"
	authz_start plain
	authz_wait
	assert_status 78
	assert_stderr_one_line
	assert_equal "$stderr" "postie: account 'plain' is not an OAuth account (set oauth_provider)"
	assert_equal "$output" ""
	assert_equal "$(cat "$OAUTH_DIR/requests")" "" "requests"
}

@test "a custom provider without an auth or device URL: 78 before anything is asked" {
	oauth_start
	authz_config
	sed -i '/^oauth_auth_url /d' "$CONFIG"
	authz_start work
	authz_wait
	assert_status 78
	assert_equal "$stderr" "postie: cannot authorize account 'work': it needs oauth_device_url or oauth_auth_url (the provider's device authorization or authorization endpoint)"
	assert_equal "$output" ""
	assert_equal "$(cat "$OAUTH_DIR/requests")" "" "requests"
}

# ---- the system configuration -------------------------------------------------

# ns_start: tests/callers-env.sh's namespace with a setgid postie (see
# tests/privileges.bats) and the account "work" as the system
# configuration, root:postie 0640; $NS_DIR/bin/postie is postie by that
# name (the setgid copy).
ns_start() {
	NS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postie-authz.XXXXXX")
	chmod 755 "$NS_DIR"
	echo "account default" >"$NS_DIR/seed.conf"
	mkdir "$NS_DIR/ns" "$NS_DIR/bin"
	chmod 755 "$NS_DIR/bin"
	sh "$CL_ENV_SH" start --setgid "$NS_DIR/ns" "$POSTIE" \
	    "$NS_DIR/seed.conf"
	# shellcheck disable=SC1091
	. "$NS_DIR/ns/env"
	ln -s /usr/sbin/sendmail "$NS_DIR/bin/postie"
	cp "$CERTS/ca.pem" "$NS_DIR/ca.pem"
	chmod 644 "$NS_DIR/ca.pem"
	CERTS_SAVED=$CERTS
	CERTS=$NS_DIR
	authz_lines "oauth_device_url $OAUTH_URL/device" |
	    sh "$CL_ENV_SH" run "$NS_DIR/ns" sh -c "cat >'$SYSCONF_FILE' &&
	    chown root:postie '$SYSCONF_FILE' && chmod 640 '$SYSCONF_FILE'"
	CERTS=$CERTS_SAVED
}

@test "the system configuration: an ordinary user gets 77, root authorizes for every user" {
	[ "$(id -u)" = 0 ] || skip "needs root (a setgid copy, a namespace)"
	oauth_start --interval 1
	ns_start
	run --separate-stderr sh "$CL_ENV_SH" run "$NS_DIR/ns" -u \
	    "$NS_DIR/bin/postie" --oauth-authorize
	assert_status 77
	assert_stderr_one_line
	assert_equal "$stderr" "postie: only root can authorize accounts of the system configuration"
	assert_equal "$output" ""
	assert_equal "$(cat "$OAUTH_DIR/requests")" "" "requests"
	# Root can, into the system queue's store.
	: >"$T/out"
	timeout -k 5 60 sh "$CL_ENV_SH" run "$NS_DIR/ns" "$NS_DIR/bin/postie" \
	    --oauth-authorize >"$T/out" 2>"$T/err" 3>&- &
	AUTHZ_PID=$!
	device_started
	run oauth_ctl approve user_code="$CODE"
	assert_status 0
	authz_wait
	assert_status 0
	assert_stderr_empty
	assert_equal "$(sed -n 3p "$T/out")" \
	    "authorized account 'work'; token stored in $SPOOL_DIR/oauth/work"
	run sh "$CL_ENV_SH" run "$NS_DIR/ns" stat -c '%U:%G %a' \
	    "$SPOOL_DIR/oauth/work"
	assert_equal "$output" "root:postie 660" "system record"
	# The user's postie sees the token root stored.
	run --separate-stderr sh "$CL_ENV_SH" run "$NS_DIR/ns" -u \
	    "$NS_DIR/bin/postie" -P
	assert_status 0
	[[ $(grep '^oauth_access_token ' <<<"$output") =~ ^oauth_access_token\ +=\ expires\ .*\ UTC\ \(in\ [0-9]+\ s\)$ ]] ||
	    _fail "-P as the user: $(grep '^oauth_access_token ' <<<"$output")"
}
