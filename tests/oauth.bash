# shellcheck shell=bash
#
# oauth.bash -- the local OAuth2 authorization server (tests/oauthserver.py)
# for bats tests.  Load it after common:
#
#     load common
#     load oauth
#
# It replaces teardown() with one that stops the OAuth server too; a file
# with its own teardown calls oauth_stop and common_teardown from it.
# tests/oauthserver.py's docstring documents the endpoints, the control
# commands and every record.
#
# THE SERVER
#   oauth_start [oauthserver options...]
#       start it in the background with the test certificate valid.pem
#       (it names 127.0.0.1, so clients use https://127.0.0.1:PORT and
#       trust $CERTS/ca.pem), wait until it listens.  Options pass through
#       and override the defaults (e.g. --rotate, --expires-in 2,
#       --interval 1, --refresh-token alice@example.org:TOKEN,
#       --framing chunked, --max-seconds 120).  Default lifetime 60 s.
#       Sets OAUTH_PID, OAUTH_PORT, OAUTH_DIR (the records), OAUTH_URL
#       (https://127.0.0.1:PORT), OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET
#       (the default client, postie-test / postie-secret)
#   oauth_stop          kill it if it still runs (teardown does it)
#   oauth_ctl CMD [NAME=VALUE...]
#       a control command (seed, mint, approve, deny, revoke, expire,
#       authorize, set, fault, framing, stats); prints the answer as
#       NAME=VALUE lines; status 1 if the server refused it
#
# REQUESTS (instead of curl)
#   oauth_request [--basic=ID:SECRET|--bearer=T|--content-type=T]
#                 METHOD PATH [NAME=VALUE...]
#       (write an option and its value as one word: a random token may
#       begin with "-")
#       one HTTPS request, verified against the test CA, printed as
#       "HTTP STATUS", "framing ...", "complete yes|no", "location URL",
#       "www-authenticate ...", then the JSON body's NAME=VALUE lines
#       (or "bytes N" and "body TEXT").  Use it with bats `run`.
#   oauth_token_post [NAME=VALUE...]
#       POST /token with the default client's id and secret in the body
#   oauth_field NAME    print NAME's value from $output (a run of the above)
#   oauth_shape         print $output with each token value replaced by
#                       its shape: access_token, refresh_token, device_code
#                       and code values of exactly 43 base64url characters
#                       become <token>, a user_code XXXX-XXXX of RFC 8628's
#                       consonants <user_code>, so that a whole answer can
#                       be compared exactly
#   oauth_browse URL    the browser stand-in: GET URL (an authorization
#                       request) and follow its redirects, including the one
#                       to the client's loopback listener
#
# RECORDS
#   oauth_requests      the request log: METHOD PATH GRANT CLIENT OUTCOME
#                       [details], one line per request
#   oauth_count KEY     the counter KEY (e.g. refresh_token.ok), 0 if none
#   oauth_hash TOKEN    how the records name TOKEN: "#" and 8 hex digits
#   oauth_mark          remember where the records stand now, for the
#                       two below (a server that serves a whole file
#                       keeps every test's requests)
#   oauth_requests_new  the request log's lines since oauth_mark
#   oauth_count_new KEY how much the counter KEY has grown since oauth_mark
#
# TOKENS WITHOUT A GRANT
#   oauth_seed [USER [TOKEN]]
#       give USER (default $PF_OAUTH_USER, else dave@example.org) a
#       refresh token of the default client at the server, TOKEN or a
#       random one, and print it: the state after an authorization,
#       reached without the interactive flow
#   oauth_mint [USER]   an access token for USER (same default), printed
#
# AUTHORIZED AS A USER WOULD BE
#   oauth_device_authorize CMD [ARG...]
#       run CMD (a `postie --oauth-authorize` using the device grant) in
#       the background, its output in $T/authorize.out and
#       $T/authorize.err; once it has printed its code, approve that
#       code for $PF_OAUTH_USER through the control endpoint; wait for
#       it to succeed (else fail the test with its stderr); oauth_mark
#
# A REAL POSTFIX THAT ACCEPTS THE SERVER'S TOKENS (tests/oauth-postfix.bats)
#   oauth_postfix_start [oauthserver options...]
#       in setup_file (or a test): start the OAuth server (as
#       oauth_start; lifetime 600 s unless --max-seconds says otherwise)
#       and a private Postfix + Dovecot whose SASL also takes OAUTHBEARER
#       and XOAUTH2 tokens of that server for $PF_OAUTH_USER
#       (dave@example.org; `tests/postfix-env.sh start DIR --oauth URL`
#       documents it), both under a fresh directory $OAUTH_POSTFIX_DIR in
#       /tmp (Postfix's users must reach it).  Fails when Postfix or
#       Dovecot is missing.  Exports OAUTH_DIR, OAUTH_PORT, OAUTH_URL,
#       CERTS, OAUTH_POSTFIX_DIR, OAUTH_POSTFIX_PID (the server; OAUTH_PID
#       stays empty, so oauth.bash's teardown leaves a file's server
#       alone) and every PF_* variable of postfix-env.sh's DIR/env
#       (PF_DIR, PF_SUBMISSION_PORT, PF_CA_FILE, PF_MAILLOG, ...)
#   oauth_postfix_stop
#       stop both and remove the directory (kept when POSTIE_KEEP_POSTFIX
#       is set); call it from teardown_file (or teardown).  Safe to repeat
#   oauth_postie_config MECH [LINE...]
#       write $CONFIG (mode 600) with one account, $OAUTH_ACCOUNT
#       ("oauth", also the default), for $PF_OAUTH_USER on the STARTTLS
#       submission port (host, port, tls, tls_trust_file $PF_CA_FILE,
#       tls_host_override), `auth MECH` (xoauth2, oauthbearer or on),
#       user and from $PF_OAUTH_USER, and the server as a custom provider:
#       oauth_provider custom, oauth_client_id, oauth_client_secret,
#       oauth_token_url, oauth_auth_url, oauth_device_url, oauth_scope
#       mail, oauth_trust_file $CERTS/ca.pem.  Each LINE is appended to
#       the account (a later keyword overrides), e.g. "port
#       $PF_SMTPS_PORT" "tls_starttls off" for implicit TLS

OAUTHSERVER="$TOP_SRCDIR/tests/oauthserver.py"
# A server that setup_file started (oauth_postfix_start) exported these
# for the tests, which load this file again.
# shellcheck disable=SC2034 # OAUTH_URL is for the .bats files
OAUTH_PID=${OAUTH_PID-} OAUTH_PORT=${OAUTH_PORT-} OAUTH_DIR=${OAUTH_DIR-}
OAUTH_URL=${OAUTH_URL-}
OAUTH_CLIENT_ID=postie-test
OAUTH_CLIENT_SECRET=postie-secret
OAUTH_ACCOUNT=oauth

teardown() {
	oauth_stop
	common_teardown
}

oauth_start() {
	[ -n "${CERTS-}" ] || certs_dir
	OAUTH_DIR=$T/oauth
	rm -rf "$OAUTH_DIR"
	mkdir -p "$OAUTH_DIR"
	# fd 3 must be closed or bats waits for the background server.
	"$PYTHON3" "$OAUTHSERVER" --dir "$OAUTH_DIR" \
	    --tls-cert "$CERTS/valid.pem" --tls-key "$CERTS/valid.key" \
	    --max-seconds 60 "$@" \
	    </dev/null >"$OAUTH_DIR/stdout" 2>"$OAUTH_DIR/stderr" 3>&- &
	OAUTH_PID=$!
	for _ in $(seq 1 200); do
		if [ -s "$OAUTH_DIR/port" ]; then
			OAUTH_PORT=$(cat "$OAUTH_DIR/port")
			# shellcheck disable=SC2034 # for the .bats files
			OAUTH_URL=https://127.0.0.1:$OAUTH_PORT
			return 0
		fi
		if ! kill -0 "$OAUTH_PID" 2>/dev/null; then
			echo "oauthserver did not start:" >&2
			cat "$OAUTH_DIR/stderr" >&2
			OAUTH_PID=
			return 1
		fi
		sleep 0.05
	done
	echo "oauthserver did not listen within 10 s" >&2
	oauth_stop
	return 1
}

oauth_stop() {
	if [ -n "${OAUTH_PID-}" ]; then
		kill "$OAUTH_PID" 2>/dev/null || true
		wait "$OAUTH_PID" 2>/dev/null || true
		OAUTH_PID=
	fi
}

oauth_ctl() {
	"$PYTHON3" "$OAUTHSERVER" ctl --dir "$OAUTH_DIR" "$@"
}

oauth_request() {
	"$PYTHON3" "$OAUTHSERVER" request --dir "$OAUTH_DIR" \
	    --cafile "$CERTS/ca.pem" "$@"
}

oauth_token_post() {
	oauth_request POST /token client_id="$OAUTH_CLIENT_ID" \
	    client_secret="$OAUTH_CLIENT_SECRET" "$@"
}

oauth_field() {
	# shellcheck disable=SC2154 # set by bats' run
	printf '%s\n' "$output" | sed -n "s/^$1=//p"
}

oauth_shape() {
	printf '%s\n' "$output" | sed -E \
	    -e 's/^(access_token|refresh_token|device_code|code)=[A-Za-z0-9_-]{43}$/\1=<token>/' \
	    -e 's/^user_code=[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/user_code=<user_code>/'
}

oauth_browse() {
	"$PYTHON3" "$OAUTHSERVER" browse --cafile "$CERTS/ca.pem" "$@"
}

oauth_requests() {
	cat "$OAUTH_DIR/requests"
}

oauth_count() {
	local n
	n=$(sed -n "s/^$(printf '%s' "$1" | sed 's/\./\\./g') //p" \
	    "$OAUTH_DIR/counts")
	echo "${n:-0}"
}

oauth_hash() {
	printf '#%s\n' "$(printf '%s' "$1" | sha256sum | cut -c1-8)"
}

oauth_mark() {
	OAUTH_MARK_LINES=0
	if [ -e "$OAUTH_DIR/requests" ]; then
		OAUTH_MARK_LINES=$(wc -l <"$OAUTH_DIR/requests")
	fi
	OAUTH_MARK_COUNTS=$(cat "$OAUTH_DIR/counts" 2>/dev/null || true)
}

oauth_requests_new() {
	[ -e "$OAUTH_DIR/requests" ] || return 0
	tail -n "+$((${OAUTH_MARK_LINES:-0} + 1))" "$OAUTH_DIR/requests"
}

oauth_count_new() {
	local before
	before=$(printf '%s\n' "${OAUTH_MARK_COUNTS-}" |
	    sed -n "s/^$(printf '%s' "$1" | sed 's/\./\\./g') //p")
	echo $(($(oauth_count "$1") - ${before:-0}))
}

oauth_seed() {
	local user=${1:-${PF_OAUTH_USER:-dave@example.org}} out
	local args=(seed user="$user" client_id="$OAUTH_CLIENT_ID")
	[ -z "${2-}" ] || args+=(token="$2")
	out=$(oauth_ctl "${args[@]}") || return 1
	printf '%s\n' "$out" | sed -n 's/^refresh_token=//p'
}

oauth_mint() {
	local user=${1:-${PF_OAUTH_USER:-dave@example.org}} out
	out=$(oauth_ctl mint user="$user" client_id="$OAUTH_CLIENT_ID") ||
	    return 1
	printf '%s\n' "$out" | sed -n 's/^access_token=//p'
}

oauth_device_authorize() {
	local i=0 code pid
	"$@" >"$T/authorize.out" 2>"$T/authorize.err" 3>&- &
	pid=$!
	while ! grep -q 'enter the code' "$T/authorize.out" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 200 ]; then
			kill "$pid" 2>/dev/null || true
			_fail "no code from --oauth-authorize: $(cat "$T/authorize.err")"
		fi
		sleep 0.05
	done
	code=$(sed -n "s/.* enter the code \([A-Z-]*\)$/\1/p" "$T/authorize.out")
	oauth_ctl approve user_code="$code" user="$PF_OAUTH_USER" >/dev/null
	wait "$pid" || _fail "--oauth-authorize failed: $(cat "$T/authorize.err")"
	oauth_mark
}

oauth_postfix_start() {
	local pfenv=$TOP_SRCDIR/tests/postfix-env.sh T
	[ -n "${CERTS-}" ] || certs_dir
	sh "$pfenv" check --auth || return 1
	OAUTH_POSTFIX_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postie-oauthpf.XXXXXX")
	# Postfix's and Dovecot's users must reach the Postfix below it.
	chmod 755 "$OAUTH_POSTFIX_DIR"
	# oauth_start keeps its records in $T/oauth
	T=$OAUTH_POSTFIX_DIR
	oauth_start --max-seconds 600 "$@" || return 1
	OAUTH_POSTFIX_PID=$OAUTH_PID
	OAUTH_PID=
	export CERTS OAUTH_DIR OAUTH_PORT OAUTH_URL OAUTH_POSTFIX_DIR \
	    OAUTH_POSTFIX_PID
	if ! sh "$pfenv" start "$OAUTH_POSTFIX_DIR/pf" --oauth "$OAUTH_URL" \
	    --certs "$CERTS"; then
		oauth_postfix_stop
		return 1
	fi
	set -a
	# shellcheck disable=SC1091
	. "$OAUTH_POSTFIX_DIR/pf/env"
	set +a
}

oauth_postfix_stop() {
	[ -n "${OAUTH_POSTFIX_DIR-}" ] || return 0
	sh "$TOP_SRCDIR/tests/postfix-env.sh" stop "$OAUTH_POSTFIX_DIR/pf"
	# Only the server this started: its command line names its records.
	if [ -n "${OAUTH_POSTFIX_PID-}" ] &&
	    tr '\0' ' ' <"/proc/$OAUTH_POSTFIX_PID/cmdline" 2>/dev/null |
	    grep -qF -- "--dir $OAUTH_POSTFIX_DIR/oauth "; then
		kill "$OAUTH_POSTFIX_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$OAUTH_POSTFIX_PID" 2>/dev/null || break
			sleep 0.05
		done
	fi
	OAUTH_POSTFIX_PID=
	if [ -z "${POSTIE_KEEP_POSTFIX:-}" ]; then
		rm -rf "$OAUTH_POSTFIX_DIR"
	fi
	OAUTH_POSTFIX_DIR=
}

oauth_postie_config() {
	local mech=$1 line
	shift
	{
		echo "defaults"
		echo "timeout 30"
		echo "queue off"
		echo ""
		echo "account $OAUTH_ACCOUNT"
		echo "host $PF_HOST"
		echo "port $PF_SUBMISSION_PORT"
		echo "tls on"
		echo "tls_starttls on"
		echo "tls_trust_file $PF_CA_FILE"
		echo "tls_host_override $PF_TLS_HOST"
		echo "domain client.postie.test"
		echo "auth $mech"
		echo "user $PF_OAUTH_USER"
		echo "from $PF_OAUTH_USER"
		echo "oauth_provider custom"
		echo "oauth_client_id $OAUTH_CLIENT_ID"
		echo "oauth_client_secret $OAUTH_CLIENT_SECRET"
		echo "oauth_token_url $OAUTH_URL/token"
		echo "oauth_auth_url $OAUTH_URL/authorize"
		echo "oauth_device_url $OAUTH_URL/device"
		echo "oauth_scope mail"
		echo "oauth_trust_file $CERTS/ca.pem"
		for line in "$@"; do
			echo "$line"
		done
		echo ""
		echo "account default : $OAUTH_ACCOUNT"
	} >"$CONFIG"
	chmod 600 "$CONFIG"
}
