#!/usr/bin/env bats
#
# http.bats -- src/http.c's HTTPS client against a real local HTTPS
# server (tests/fakehttps.py, Python's ssl with the test CA's
# certificates), through tests/httpget (one request; prints "status N",
# "content-type: T" and "body: BODY", or "httpget: ERROR" on stderr and
# exit 1).  Every wait is bounded: the server exits after 10 s, httpget
# runs under timeout(1).

load common

HTTPGET=${TOP_BUILDDIR}/tests/httpget
TOKEN='{"access_token":"tok-123","expires_in":3599}'

setup() {
	common_setup
	[ -x "$HTTPGET" ] || { echo "tests/httpget not built (make check builds it)" >&2; return 1; }
	HTTPS_PID=
	[ -n "${CERTS-}" ] || certs_dir
}

teardown() {
	if [ -n "$HTTPS_PID" ]; then
		kill "$HTTPS_PID" 2>/dev/null || true
		wait "$HTTPS_PID" 2>/dev/null || true
	fi
	common_teardown
}

# https_start MODE [CERT]: fakehttps.py with CERT (default valid) on an
# ephemeral port; sets PORT, URL (with a query that must never show in
# an error) and HTTPS_DIR (its records).
https_start() {
	local mode=$1 cert=${2:-valid} i
	HTTPS_DIR=$T/https
	mkdir -p "$HTTPS_DIR"
	"$PYTHON3" "$TOP_SRCDIR/tests/fakehttps.py" --dir "$HTTPS_DIR" \
	    --cert "$CERTS/$cert.pem" --key "$CERTS/$cert.key" \
	    --mode "$mode" --max-seconds 10 \
	    </dev/null >"$HTTPS_DIR/stdout" 2>"$HTTPS_DIR/stderr" 3>&- &
	HTTPS_PID=$!
	for i in $(seq 1 200); do
		if [ -s "$HTTPS_DIR/port" ]; then
			PORT=$(cat "$HTTPS_DIR/port")
			URL="https://127.0.0.1:$PORT/token?secret=q"
			return 0
		fi
		kill -0 "$HTTPS_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "fakehttps.py did not listen:" >&2
	cat "$HTTPS_DIR/stderr" >&2
	return 1
}

# httpget ARGS...: run it against $URL with the test CA as trust file.
httpget() {
	local t0 t1
	t0=$(date +%s%N)
	run --separate-stderr timeout -k 5 30 "$HTTPGET" "$URL" \
	    --trust "$CERTS/ca.pem" "$@"
	t1=$(date +%s%N)
	ELAPSED_MS=$(((t1 - t0) / 1000000))
}

assert_token_output() {
	assert_status 0
	assert_equal "$output" "status 200
content-type: application/json
body: $TOKEN"
	assert_stderr_empty
}

@test "a response with Content-Length" {
	https_start length
	httpget --form grant_type refresh_token
	assert_token_output
}

@test "a chunked response, with a chunk extension and a trailer" {
	https_start chunked
	httpget --form grant_type refresh_token
	assert_token_output
}

@test "100 Continue before the response is skipped" {
	https_start continue
	httpget --form grant_type refresh_token
	assert_token_output
}

# expect_request LINE...: the exact bytes the server got, each LINE
# ended by CR LF, then the body in $BODY.
expect_request() {
	printf '%s\r\n' "$@" >"$T/want"
	printf '%s' "${BODY-}" >>"$T/want"
	cmp "$T/want" "$HTTPS_DIR/request-1" || {
		echo "the server got:" >&2
		cat -A "$HTTPS_DIR/request-1" >&2
		return 1
	}
}

@test "the request: one POST, its headers, Basic credentials, the form encoded" {
	https_start echo
	httpget --basic 'my id' 's3cr:t' --form grant_type refresh_token \
	    --form refresh_token '1//a b+c'
	assert_status 0
	assert_equal "${lines[0]}" "status 200"
	BODY='grant_type=refresh_token&refresh_token=1%2F%2Fa+b%2Bc'
	expect_request "POST /token?secret=q HTTP/1.1" \
	    "Host: 127.0.0.1:$PORT" \
	    "User-Agent: postie/$("$POSTIE" --version | sed -n 's/^postie //p')" \
	    "Accept: application/json" \
	    "Connection: close" \
	    "Authorization: Basic $(printf '%s' 'my+id:s3cr%3At' | base64)" \
	    "Content-Type: application/x-www-form-urlencoded" \
	    "Content-Length: ${#BODY}" \
	    ""
	# The echo server's body is the request: what httpget printed.
	assert_equal "${output#*body: }" "$(tr -d '\r' <"$HTTPS_DIR/request-1" |
	    sed 's/$/\r/' | head -c -1)"
}

@test "a GET has no body and no Content-Type" {
	https_start echo
	httpget
	assert_status 0
	BODY=
	expect_request "GET /token?secret=q HTTP/1.1" \
	    "Host: 127.0.0.1:$PORT" \
	    "User-Agent: postie/$("$POSTIE" --version | sed -n 's/^postie //p')" \
	    "Accept: application/json" \
	    "Connection: close" \
	    ""
}

@test "HTTP/1.0 without a length: the body ends with the TLS close_notify" {
	https_start eof
	httpget --form grant_type refresh_token
	assert_status 0
	assert_equal "$output" "status 200
body: $TOKEN"
	assert_stderr_empty
}

@test "HTTP/1.0 without a length: a close without close_notify may be a cut" {
	https_start eof-cut
	httpget --form grant_type refresh_token
	assert_status 1
	assert_equal "$output" ""
	assert_equal "$stderr" "httpget: https://127.0.0.1:$PORT/token: connection closed without a TLS close_notify (the body may be cut)"
}

@test "a certificate from an unknown CA is refused" {
	https_start length unknownca
	httpget --form grant_type refresh_token
	assert_status 1
	assert_equal "$output" ""
	assert_equal "$stderr" "httpget: https://127.0.0.1:$PORT/token: TLS handshake failed: certificate issuer is unknown (not in the trust store); trust its CA with tls_trust_file or, to pin it, check the fingerprint that 'postie -S --tls-certcheck=off' shows and set tls_fingerprint to it"
	[ ! -e "$HTTPS_DIR/request-1" ]
}

@test "a certificate for another host name is refused" {
	https_start length wronghost
	httpget --form grant_type refresh_token
	assert_status 1
	assert_equal "$output" ""
	assert_equal "$stderr" "httpget: https://127.0.0.1:$PORT/token: TLS handshake failed: certificate is not valid for '127.0.0.1'"
	[ ! -e "$HTTPS_DIR/request-1" ]
}

@test "a server that never answers hits the overall deadline" {
	https_start stall
	httpget --timeout 2 --form grant_type refresh_token
	assert_status 1
	assert_equal "$output" ""
	assert_equal "$stderr" "httpget: https://127.0.0.1:$PORT/token: timed out waiting for the response"
	[ "$ELAPSED_MS" -ge 1900 ] && [ "$ELAPSED_MS" -lt 5000 ] ||
	    _fail "took $ELAPSED_MS ms, want about 2000"
}

@test "a server that never answers hits the step deadline first" {
	https_start stall
	httpget --timeout 20 --step 500 --form grant_type refresh_token
	assert_status 1
	assert_equal "$stderr" "httpget: https://127.0.0.1:$PORT/token: timed out waiting for the response"
	[ "$ELAPSED_MS" -ge 450 ] && [ "$ELAPSED_MS" -lt 3000 ] ||
	    _fail "took $ELAPSED_MS ms, want about 500"
}

@test "a server that closes in the middle of the body" {
	https_start cut
	httpget --form grant_type refresh_token
	assert_status 1
	assert_equal "$output" ""
	assert_equal "$stderr" "httpget: https://127.0.0.1:$PORT/token: connection closed in the body"
}

@test "a body over the cap is refused" {
	https_start big
	httpget --cap 65536 --form grant_type refresh_token
	assert_status 1
	assert_equal "$output" ""
	assert_equal "$stderr" "httpget: https://127.0.0.1:$PORT/token: response body too large"
}

@test "a malformed status line is refused" {
	https_start badstatus
	httpget --form grant_type refresh_token
	assert_status 1
	assert_equal "$output" ""
	assert_equal "$stderr" "httpget: https://127.0.0.1:$PORT/token: malformed status line"
}

@test "a plain http URL is refused before connecting" {
	URL=http://127.0.0.1:9/token
	httpget --form grant_type refresh_token
	assert_status 1
	assert_equal "$stderr" "httpget: URL refused: only https is allowed"
}

@test "secrets never appear in an error" {
	https_start badstatus
	httpget --basic id topsecret --form client_secret topsecret2
	assert_status 1
	assert_stderr_not_contains topsecret
	assert_stderr_not_contains secret=q
}
