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

OAUTHSERVER="$TOP_SRCDIR/tests/oauthserver.py"
# shellcheck disable=SC2034 # OAUTH_URL is for the .bats files
OAUTH_PID='' OAUTH_PORT='' OAUTH_DIR='' OAUTH_URL=''
OAUTH_CLIENT_ID=postie-test
OAUTH_CLIENT_SECRET=postie-secret

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
