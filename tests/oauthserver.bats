#!/usr/bin/env bats
# The OAuth2 test server itself (tests/oauthserver.py, tests/oauth.bash):
# what postie's OAuth tests rely on, checked through real HTTPS requests.

load common
load oauth

# RFC 7636 Appendix B: a code_verifier and its S256 code_challenge.
VERIFIER=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk
CHALLENGE=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM

# token_answer [refresh_token] [FRAMING]: a token endpoint's success
# answer as oauth_shape prints it, with a refresh token or without.
token_answer() {
	printf '%s\n' "HTTP 200" "framing ${2:-content-length}" "complete yes" \
	    "access_token=<token>" "expires_in=3600"
	[ -z "${1-}" ] || echo "refresh_token=<token>"
	printf '%s\n' "scope=mail" "token_type=Bearer"
}

# active_answer USER EXP: an introspection answer for a valid token
active_answer() {
	printf '%s\n' "HTTP 200" "framing content-length" "complete yes" \
	    "active=true" "client_id=postie-test" "exp=$2" "scope=mail" \
	    "token_type=Bearer" "username=$1"
}

refresh() {
	oauth_token_post grant_type=refresh_token refresh_token="$1" "${@:2}"
}

@test "oauth server: refresh-token grant with the secret in the body" {
	oauth_start --refresh-token alice@example.org:seeded-rt-1
	run refresh seeded-rt-1
	assert_status 0
	assert_equal "$(oauth_shape)" "$(token_answer)"
	at=$(oauth_field access_token)
	assert_equal "$(oauth_requests)" "POST /token refresh_token postie-test ok rt=$(oauth_hash seeded-rt-1) user=alice@example.org at=$(oauth_hash "$at")"
	assert_equal "$(cat "$OAUTH_DIR/counts")" "refresh_token.ok 1"
	# No token value is in any record.
	run grep -F -e "$at" -e seeded-rt-1 "$OAUTH_DIR"/requests \
	    "$OAUTH_DIR"/counts "$OAUTH_DIR"/log
	assert_status 1
}

@test "oauth server: client authentication, body and Basic" {
	oauth_start --refresh-token alice@example.org:rt-a \
	    --client postie-test:postie-secret --client 'other:s e:c'
	run oauth_request --basic postie-test:postie-secret POST /token \
	    grant_type=refresh_token refresh_token=rt-a
	assert_equal "$(sed -n 1p <<<"$output")" "HTTP 200"
	# Basic form-urlencodes both parts (RFC 6749 2.3.1).
	run oauth_request --basic 'other:s e:c' POST /token \
	    grant_type=refresh_token refresh_token=rt-a
	assert_equal "$output" "HTTP 400
framing content-length
complete yes
error=invalid_grant
error_description=refresh token of another client"
	run oauth_request --basic postie-test:wrong POST /token \
	    grant_type=refresh_token refresh_token=rt-a
	assert_equal "$output" "HTTP 401
framing content-length
complete yes
www-authenticate Basic realm=\"oauthserver\"
error=invalid_client
error_description=wrong client secret"
	run oauth_request POST /token grant_type=refresh_token \
	    refresh_token=rt-a client_id=postie-test client_secret=wrong
	assert_equal "$output" "HTTP 401
framing content-length
complete yes
error=invalid_client
error_description=wrong client secret"
	run oauth_request POST /token grant_type=refresh_token \
	    refresh_token=rt-a client_id=nobody client_secret=x
	assert_equal "$(sed -n '1p;$p' <<<"$output")" "HTTP 401
error_description=unknown client"
	run oauth_request POST /token grant_type=refresh_token refresh_token=rt-a
	assert_equal "$(sed -n '1p;$p' <<<"$output")" "HTTP 401
error_description=no client authentication"
	run oauth_request --basic postie-test:postie-secret POST /token \
	    grant_type=refresh_token refresh_token=rt-a \
	    client_secret=postie-secret
	assert_equal "$(sed -n '1p;4p' <<<"$output")" "HTTP 400
error=invalid_request"
	assert_equal "$(cut -d' ' -f1-5 "$OAUTH_DIR/requests")" \
	    "POST /token refresh_token postie-test ok
POST /token refresh_token other invalid_grant
POST /token refresh_token postie-test invalid_client
POST /token refresh_token postie-test invalid_client
POST /token refresh_token nobody invalid_client
POST /token refresh_token - invalid_client
POST /token refresh_token postie-test invalid_request"
}

@test "oauth server: a public client has no secret" {
	oauth_start --public-client postie-public \
	    --refresh-token alice@example.org:rt-p
	run oauth_request POST /token grant_type=refresh_token \
	    refresh_token=rt-p client_id=postie-public
	assert_equal "$(sed -n 1p <<<"$output")" "HTTP 200"
	run oauth_request POST /token grant_type=refresh_token \
	    refresh_token=rt-p client_id=postie-public client_secret=x
	assert_equal "$(sed -n '1p;$p' <<<"$output")" "HTTP 401
error_description=a public client has no secret"
}

@test "oauth server: request errors: grant type, content type, repeats" {
	oauth_start
	run oauth_token_post grant_type=password
	assert_equal "$(sed -n '1p;4p' <<<"$output")" "HTTP 400
error=unsupported_grant_type"
	run oauth_token_post
	assert_equal "$(sed -n '1p;4,5p' <<<"$output")" "HTTP 400
error=invalid_request
error_description=grant_type missing"
	run oauth_token_post grant_type=refresh_token
	assert_equal "$(sed -n '4,5p' <<<"$output")" "error=invalid_request
error_description=refresh_token missing"
	run oauth_request --content-type application/json POST /token \
	    grant_type=refresh_token
	assert_equal "$(sed -n '4,5p' <<<"$output")" "error=invalid_request
error_description=not form-encoded"
	run oauth_token_post grant_type=refresh_token refresh_token=a \
	    refresh_token=b
	assert_equal "$(sed -n '4,5p' <<<"$output")" "error=invalid_request
error_description=repeated parameter refresh_token"
	run oauth_request GET /token
	assert_equal "$(sed -n 1p <<<"$output")" "HTTP 405"
	run oauth_request GET /nowhere
	assert_equal "$output" "HTTP 404
framing content-length
complete yes
error=not_found"
}

@test "oauth server: --rotate invalidates the used refresh token" {
	oauth_start --rotate --refresh-token alice@example.org:rt-old
	run refresh rt-old
	assert_equal "$(oauth_shape)" "$(token_answer refresh_token)"
	new=$(oauth_field refresh_token)
	run refresh rt-old
	assert_equal "$(sed -n '1p;4,5p' <<<"$output")" "HTTP 400
error=invalid_grant
error_description=refresh token is invalid"
	run refresh "$new"
	assert_equal "$(sed -n '1p;6s/=.*//p' <<<"$output")" "HTTP 200
refresh_token"
	[ "$(oauth_field refresh_token)" != "$new" ]
	assert_equal "$(oauth_count refresh_token.ok)" 2
	assert_equal "$(oauth_count refresh_token.invalid_grant)" 1
	assert_equal "$(sed -n 1p "$OAUTH_DIR/requests" | cut -d' ' -f6-7,9)" \
	    "rt=$(oauth_hash rt-old) user=alice@example.org new_rt=$(oauth_hash "$new")"
}

@test "oauth server: without --rotate the refresh token stays valid" {
	oauth_start --refresh-token alice@example.org:rt-keep
	run refresh rt-keep
	assert_equal "$(oauth_field refresh_token)" ""
	run refresh rt-keep
	assert_equal "$(sed -n 1p <<<"$output")" "HTTP 200"
	# A narrower scope is granted, a wider one refused.
	run refresh rt-keep scope=mail
	assert_equal "$(oauth_field scope)" mail
	run refresh rt-keep "scope=mail admin"
	assert_equal "$(sed -n '1p;4p' <<<"$output")" "HTTP 400
error=invalid_scope"
	# The control switches rotation on.
	run oauth_ctl set rotate=1
	assert_equal "$output" "rotate=true"
	run refresh rt-keep
	[ -n "$(oauth_field refresh_token)" ]
	run refresh rt-keep
	assert_equal "$(oauth_field error)" invalid_grant
}

@test "oauth server: access tokens expire after --expires-in" {
	oauth_start --refresh-token bob@example.org:rt-b --expires-in 4
	t0=$(date +%s%N)
	run refresh rt-b
	assert_equal "$(oauth_field expires_in)" 4
	at=$(oauth_field access_token)
	run oauth_request POST /introspect token="$at"
	exp=$(oauth_field exp)
	[ "$exp" -ge $((t0 / 1000000000 + 4)) ]
	[ "$exp" -le $(($(date +%s) + 4)) ]
	assert_equal "$output" "$(active_answer bob@example.org "$exp")"
	# Sleep until 4.3 s after the request was sent: past its lifetime.
	left=$((4300 - ($(date +%s%N) - t0) / 1000000))
	[ "$left" -le 0 ] || sleep "$((left / 1000)).$(printf %03d $((left % 1000)))"
	run oauth_request POST /introspect token="$at"
	assert_equal "$output" "HTTP 200
framing content-length
complete yes
active=false"
}

@test "oauth server: expire, revoke and mint through the control" {
	oauth_start
	run oauth_ctl seed user=carol@example.org
	assert_status 0
	assert_equal "$(oauth_shape)" "refresh_token=<token>"
	rt=$(oauth_field refresh_token)
	run oauth_ctl seed user=dave@example.org token=fixed-rt
	assert_equal "$output" "refresh_token=fixed-rt"
	run refresh "$rt"
	at=$(oauth_field access_token)
	run oauth_ctl mint user=erin@example.org
	assert_equal "$(oauth_shape)" "access_token=<token>
expires_in=3600"
	at2=$(oauth_field access_token)
	run oauth_request POST /introspect token="$at2"
	assert_equal "$(oauth_field username)" erin@example.org
	run oauth_ctl expire
	assert_equal "$output" "expired=2"
	for t in "$at" "$at2"; do
		run oauth_request POST /introspect token="$t"
		assert_equal "$(oauth_field active)" false
	done
	# Expiring access tokens leaves the refresh token usable...
	run refresh "$rt"
	assert_equal "$(sed -n 1p <<<"$output")" "HTTP 200"
	at3=$(oauth_field access_token)
	# ... revoking it does not, nor the access token revoked with it.
	run oauth_ctl revoke token="$rt"
	assert_equal "$output" "revoked=1"
	run refresh "$rt"
	assert_equal "$(sed -n '1p;4p' <<<"$output")" "HTTP 400
error=invalid_grant"
	run oauth_ctl revoke token="$at3"
	assert_equal "$output" "revoked=1"
	run oauth_request POST /introspect token="$at3"
	assert_equal "$(oauth_field active)" false
	run oauth_ctl revoke user=dave@example.org
	assert_equal "$output" "revoked=1"
	run refresh fixed-rt
	assert_equal "$(oauth_field error)" invalid_grant
	# A bad command and a missing secret are refused.
	run oauth_ctl frobnicate
	assert_status 1
	assert_equal "$output" "error=invalid_request
error_description=unknown command frobnicate"
	run oauth_request POST /control cmd=stats
	assert_equal "$(sed -n '1p;4p' <<<"$output")" "HTTP 403
error=forbidden"
}

@test "oauth server: device flow: pending, slow_down, approved, used" {
	oauth_start --interval 5
	run oauth_request POST /device client_id=postie-test \
	    client_secret=postie-secret scope=mail
	assert_equal "$(oauth_shape)" "HTTP 200
framing content-length
complete yes
device_code=<token>
expires_in=600
interval=5
user_code=<user_code>
verification_uri=$OAUTH_URL/verify
verification_uri_complete=$OAUTH_URL/verify?user_code=$(oauth_field user_code)"
	dc=$(oauth_field device_code) uc=$(oauth_field user_code)
	poll() {
		oauth_token_post grant_type=urn:ietf:params:oauth:grant-type:device_code \
		    device_code="$dc"
	}
	run poll
	assert_equal "$(sed -n '1p;4p' <<<"$output")" "HTTP 400
error=authorization_pending"
	# At once again: well within the 5 s interval.
	run poll
	assert_equal "$(sed -n '1p;4p' <<<"$output")" "HTTP 400
error=slow_down"
	run oauth_ctl approve user=frank@example.org
	assert_equal "$output" "user=frank@example.org
user_code=$uc"
	run poll
	assert_equal "$(oauth_shape)" "$(token_answer refresh_token)"
	at=$(oauth_field access_token)
	run poll
	assert_equal "$(sed -n '1p;4p' <<<"$output")" "HTTP 400
error=invalid_grant"
	run oauth_request POST /introspect token="$at"
	assert_equal "$(oauth_field username)" frank@example.org
	assert_equal "$(cut -d' ' -f1-6 "$OAUTH_DIR/requests")" \
	    "POST /device - postie-test ok user_code=$uc
POST /token device_code postie-test authorization_pending user_code=$uc
POST /token device_code postie-test slow_down user_code=$uc
POST /token device_code postie-test ok user_code=$uc
POST /token device_code postie-test invalid_grant
POST /introspect - - active token=$(oauth_hash "$at")"
	assert_equal "$(cat "$OAUTH_DIR/counts")" "device.ok 1
device_code.authorization_pending 1
device_code.invalid_grant 1
device_code.ok 1
device_code.slow_down 1
introspect.active 1"
}

@test "oauth server: device flow: denied, expired, another client" {
	oauth_start --device-expires 1 --client postie-test:postie-secret \
	    --client other:other-secret
	dev() {
		oauth_request POST /device client_id="$1" client_secret="$2"
	}
	poll() {
		oauth_token_post grant_type=urn:ietf:params:oauth:grant-type:device_code \
		    device_code="$1"
	}
	run dev postie-test postie-secret
	dc1=$(oauth_field device_code) uc1=$(oauth_field user_code)
	assert_equal "$(oauth_field expires_in)" 1
	run oauth_ctl deny user_code="$uc1"
	assert_equal "$output" "user_code=$uc1"
	run poll "$dc1"
	assert_equal "$(sed -n '1p;4p' <<<"$output")" "HTTP 400
error=access_denied"
	run dev other other-secret
	dc2=$(oauth_field device_code)
	run poll "$dc2"
	assert_equal "$(sed -n '1p;4p' <<<"$output")" "HTTP 400
error=invalid_grant"
	run dev postie-test postie-secret
	dc3=$(oauth_field device_code)
	sleep 1.2
	run poll "$dc3"
	assert_equal "$(sed -n '1p;4p' <<<"$output")" "HTTP 400
error=expired_token"
	# Approved too late: still expired.
	run oauth_ctl approve
	assert_status 0
	run poll "$dc3"
	assert_equal "$(oauth_field error)" expired_token
}

@test "oauth server: device codes expire through the control" {
	oauth_start
	run oauth_request POST /device client_id=postie-test \
	    client_secret=postie-secret
	dc=$(oauth_field device_code)
	run oauth_ctl expire what=device
	assert_equal "$output" "expired=1"
	run oauth_token_post grant_type=urn:ietf:params:oauth:grant-type:device_code \
	    device_code="$dc"
	assert_equal "$(oauth_field error)" expired_token
}

authorize_url() {
	# authorize_url CHALLENGE [EXTRA_QUERY]
	echo "/authorize?response_type=code&client_id=postie-test&redirect_uri=http%3A%2F%2F127.0.0.1%3A4711%2Fcb&state=st-1&code_challenge=$1&code_challenge_method=S256${2-}"
}

@test "oauth server: authorization code with PKCE" {
	oauth_start --user grace@example.org
	ch=$CHALLENGE
	run oauth_request GET "$(authorize_url "$ch")"
	assert_equal "$(sed -n '1,3p' <<<"$output")" "HTTP 302
framing content-length
complete yes"
	loc=$(sed -n 's/^location //p' <<<"$output")
	[[ "$loc" =~ ^http://127\.0\.0\.1:4711/cb\?code=([A-Za-z0-9_-]{43})\&state=st-1$ ]] ||
	    _fail "location: $loc"
	code=${BASH_REMATCH[1]}
	exchange() {
		oauth_token_post grant_type=authorization_code code="$code" \
		    "$@"
	}
	run exchange redirect_uri=http://127.0.0.1:4711/cb \
	    code_verifier="${VERIFIER}x"
	assert_equal "$(sed -n '1p;4,5p' <<<"$output")" "HTTP 400
error=invalid_grant
error_description=PKCE verification failed"
	run exchange redirect_uri=http://127.0.0.1:4712/cb \
	    code_verifier="$VERIFIER"
	assert_equal "$(sed -n '4,5p' <<<"$output")" "error=invalid_grant
error_description=redirect_uri differs"
	run exchange redirect_uri=http://127.0.0.1:4711/cb
	assert_equal "$(sed -n '4,5p' <<<"$output")" "error=invalid_request
error_description=code_verifier missing"
	run exchange redirect_uri=http://127.0.0.1:4711/cb \
	    code_verifier="$VERIFIER"
	assert_equal "$(oauth_shape)" "$(token_answer refresh_token)"
	at=$(oauth_field access_token)
	run exchange redirect_uri=http://127.0.0.1:4711/cb \
	    code_verifier="$VERIFIER"
	assert_equal "$(sed -n '4,5p' <<<"$output")" "error=invalid_grant
error_description=authorization code is invalid"
	run oauth_request POST /introspect token="$at"
	assert_equal "$(oauth_field username)" grace@example.org
	assert_equal "$(cut -d' ' -f1-5 "$OAUTH_DIR/requests")" \
	    "GET /authorize - postie-test ok
POST /token authorization_code postie-test invalid_grant
POST /token authorization_code postie-test invalid_grant
POST /token authorization_code postie-test invalid_request
POST /token authorization_code postie-test ok
POST /token authorization_code postie-test invalid_grant
POST /introspect - - active"
}

@test "oauth server: authorization requests that are refused" {
	oauth_start
	ch=$CHALLENGE
	for ru in http://localhost:4711/cb https://127.0.0.1:4711/cb \
	    http://127.0.0.1/cb http://192.0.2.1:4711/cb; do
		run oauth_request GET /authorize response_type=code \
		    client_id=postie-test redirect_uri="$ru" state=s \
		    code_challenge="$ch" code_challenge_method=S256
		assert_equal "$output" "HTTP 400
framing content-length
complete yes
bytes 72
body redirect_uri must be http://127.0.0.1:PORT/... or http://[::1]:PORT/...\\x0a"
	done
	run oauth_request GET /authorize response_type=code client_id=nobody \
	    redirect_uri=http://127.0.0.1:4711/cb code_challenge="$ch" \
	    code_challenge_method=S256
	assert_equal "$(sed -n '1p;$p' <<<"$output")" "HTTP 400
body unknown client_id\\x0a"
	run oauth_request GET "$(authorize_url "$ch" | sed 's/=S256/=plain/')"
	assert_equal "$(sed -n 's/^location //p' <<<"$output")" \
	    "http://127.0.0.1:4711/cb?error=invalid_request&error_description=PKCE+S256+code_challenge+required&state=st-1"
	run oauth_request GET "$(authorize_url "$ch" |
	    sed 's/response_type=code/response_type=token/')"
	assert_equal "$(sed -n 's/^location //p' <<<"$output")" \
	    "http://127.0.0.1:4711/cb?error=unsupported_response_type&state=st-1"
	run oauth_ctl authorize decision=deny
	assert_equal "$output" "decision=deny
user=alice@example.org"
	run oauth_request GET "$(authorize_url "$ch")"
	assert_equal "$(sed -n 's/^location //p' <<<"$output")" \
	    "http://127.0.0.1:4711/cb?error=access_denied&state=st-1"
	assert_equal "$(cat "$OAUTH_DIR/counts")" "authorize.access_denied 1
authorize.invalid_client 1
authorize.invalid_redirect_uri 4
authorize.invalid_request 1
authorize.unsupported_response_type 1"
}

@test "oauth server: the browser stand-in follows the loopback redirect" {
	oauth_start
	# A loopback listener in the role of postie's redirect receiver.
	cat >"$T/listener.py" <<-'EOF'
	import http.server, os, sys
	class H(http.server.BaseHTTPRequestHandler):
	    def do_GET(self):
	        with open(sys.argv[1] + "/got", "w") as f:
	            f.write(self.path + "\n")
	        self.send_response(200)
	        self.send_header("Content-Length", "3")
	        self.end_headers()
	        self.wfile.write(b"ok\n")
	    def log_message(self, *a):
	        pass
	s = http.server.HTTPServer(("127.0.0.1", 0), H)
	with open(sys.argv[1] + "/lport.tmp", "w") as f:
	    f.write("%d\n" % s.server_address[1])
	os.rename(sys.argv[1] + "/lport.tmp", sys.argv[1] + "/lport")
	s.timeout = 20
	s.handle_request()
	EOF
	"$PYTHON3" "$T/listener.py" "$T" </dev/null >/dev/null 2>&1 3>&- &
	lpid=$!
	for i in $(seq 1 100); do
		[ -s "$T/lport" ] && break
		sleep 0.05
	done
	lport=$(cat "$T/lport")
	ch=$CHALLENGE
	run oauth_browse "$OAUTH_URL/authorize?response_type=code&client_id=postie-test&redirect_uri=http%3A%2F%2F127.0.0.1%3A$lport%2Fcb&state=xyz&code_challenge=$ch&code_challenge_method=S256&login_hint=heidi%40example.org"
	wait "$lpid"
	assert_status 0
	got=$(cat "$T/got")
	[[ "$got" =~ ^/cb\?code=([A-Za-z0-9_-]{43})\&state=xyz$ ]] ||
	    _fail "listener got: $got"
	assert_equal "$output" "redirect http://127.0.0.1:$lport$got
HTTP 200
body ok\\x0a"
	run oauth_token_post grant_type=authorization_code \
	    code="${BASH_REMATCH[1]}" redirect_uri="http://127.0.0.1:$lport/cb" \
	    code_verifier="$VERIFIER"
	assert_equal "$(sed -n 1p <<<"$output")" "HTTP 200"
	assert_equal "$(sed -n 1p "$OAUTH_DIR/requests")" \
	    "GET /authorize - postie-test ok user=heidi@example.org"
}

@test "oauth server: introspection for Dovecot: post, bearer, get" {
	oauth_start
	run oauth_ctl mint user=ivan@example.org
	at=$(oauth_field access_token)
	run oauth_request POST /introspect token="$at"
	exp=$(oauth_field exp)
	now=$(date +%s)
	[ "$exp" -ge "$now" ]
	[ "$exp" -le $((now + 3600)) ]
	assert_equal "$output" "$(active_answer ivan@example.org "$exp")"
	run oauth_request --bearer="$at" GET /introspect
	assert_equal "$(oauth_field username)" ivan@example.org
	run oauth_request GET /introspect access_token="$at"
	assert_equal "$(oauth_field username)" ivan@example.org
	run oauth_request POST /introspect token=not-a-token
	assert_equal "$output" "HTTP 200
framing content-length
complete yes
active=false"
	run oauth_request POST /introspect
	assert_equal "$(oauth_field active)" false
	assert_equal "$(oauth_count introspect.active)" 3
	assert_equal "$(oauth_count introspect.inactive)" 2
	assert_equal "$(sed -n 4p "$OAUTH_DIR/requests")" \
	    "POST /introspect - - inactive token=$(oauth_hash not-a-token)"
}

@test "oauth server: fault delay answers late, then normally" {
	oauth_start --refresh-token alice@example.org:rt-d
	run oauth_ctl fault mode=delay seconds=2 count=1 endpoint=token
	assert_equal "$output" "count=1
endpoint=token
mode=delay"
	t0=$(date +%s%N)
	run refresh rt-d
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -ge 2000 ] || _fail "answered after $ms ms"
	assert_equal "$(sed -n 1p <<<"$output")" "HTTP 200"
	t0=$(date +%s%N)
	run refresh rt-d
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -lt 2000 ] || _fail "answered after $ms ms"
	assert_equal "$(oauth_count refresh_token.ok)" 2
}

@test "oauth server: faults malformed, http500, truncated change no state" {
	oauth_start --rotate --refresh-token alice@example.org:rt-f
	run oauth_ctl fault mode=malformed
	run refresh rt-f
	assert_equal "$output" "HTTP 200
framing content-length
complete yes
bytes 60
body {\"access_token\": \"x\", \"token_type\": \"Bearer\", \"expires_in\": "
	run oauth_ctl fault mode=http500
	run refresh rt-f
	assert_equal "$output" "HTTP 500
framing content-length
complete yes
bytes 61
body <html><body><h1>500 Internal Server Error</h1></body></html>\\x0a"
	run oauth_ctl fault mode=truncated
	run refresh rt-f
	assert_equal "$(sed -n 1,3p <<<"$output")" "HTTP 200
framing content-length
complete no"
	run oauth_ctl framing mode=chunked
	run refresh rt-f
	assert_equal "$(sed -n 1,3p <<<"$output")" "HTTP 200
framing chunked
complete no"
	run oauth_ctl fault mode=none
	# The rotating token survived every damaged answer.
	run refresh rt-f
	assert_equal "$(sed -n 1,3p <<<"$output")" "HTTP 200
framing chunked
complete yes"
	assert_equal "$(cut -d' ' -f1-5 "$OAUTH_DIR/requests")" \
	    "POST /token refresh_token - fault-malformed
POST /token refresh_token - fault-http500
POST /token refresh_token - fault-truncated
POST /token refresh_token - fault-truncated
POST /token refresh_token postie-test ok"
}

@test "oauth server: faults close, drop, oversized; count and endpoint" {
	oauth_start --refresh-token alice@example.org:rt-c
	run oauth_ctl fault mode=close count=1
	run refresh rt-c
	assert_equal "$output" "HTTP none
framing eof
complete no"
	run oauth_ctl fault mode=drop count=2 endpoint=introspect
	# Only introspection is damaged, twice.
	run refresh rt-c
	assert_equal "$(sed -n 1p <<<"$output")" "HTTP 200"
	for i in 1 2; do
		run oauth_request POST /introspect token=x
		assert_equal "$output" "HTTP none
framing eof
complete no"
	done
	run oauth_request POST /introspect token=x
	assert_equal "$(oauth_field active)" false
	run oauth_ctl fault mode=oversized bytes=100000 count=1
	run refresh rt-c
	assert_equal "$(sed -n '1,3p;5,6p' <<<"$output")" "HTTP 200
framing content-length
complete yes
expires_in=3600
token_type=Bearer"
	assert_equal "$(oauth_field access_token | tr -d A | wc -c)" 1
	assert_equal "$(oauth_field access_token | wc -c)" 99937
	assert_equal "$(cat "$OAUTH_DIR/counts")" "introspect.fault-drop 2
introspect.inactive 1
refresh_token.fault-close 1
refresh_token.fault-oversized 1
refresh_token.ok 1"
}

@test "oauth server: content-length, chunked and eof framing" {
	oauth_start --framing chunked --chunk-size 5 \
	    --refresh-token alice@example.org:rt-x
	run refresh rt-x
	assert_equal "$(oauth_shape)" "$(token_answer "" chunked)"
	run oauth_ctl framing mode=eof
	assert_equal "$output" "chunk=5
mode=eof"
	run refresh rt-x
	assert_equal "$(sed -n '1,3p;5p' <<<"$(oauth_shape)")" "HTTP 200
framing eof
complete yes
expires_in=3600"
	run oauth_ctl framing mode=content-length
	run refresh rt-x
	assert_equal "$(sed -n 1,3p <<<"$output")" "HTTP 200
framing content-length
complete yes"
}

@test "oauth server: chunked answers are split at the chunk size" {
	oauth_start --framing chunked --chunk-size 7
	port=$OAUTH_PORT
	# The raw bytes, read with Python's ssl module.
	run "$PYTHON3" -c '
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2]))),
                    server_hostname="127.0.0.1")
s.sendall(b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
sys.stdout.write(repr(data.split(b"\r\n\r\n", 1)[1]))
' "$CERTS/ca.pem" "$port"
	assert_equal "$output" \
	    "b'7\\r\\n{\"error\\r\\n7\\r\\n\": \"not\\r\\n7\\r\\n_found\"\\r\\n1\\r\\n}\\r\\n0\\r\\n\\r\\n'"
}

@test "oauth server: 8 concurrent refreshes of a rotating token: one wins" {
	oauth_start --rotate --refresh-token alice@example.org:rt-race
	pids=()
	for i in 1 2 3 4 5 6 7 8; do
		refresh rt-race >"$T/out-$i" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p"
	done
	assert_equal "$(cat "$T"/out-* | sed -n 's/^HTTP //p' | sort | uniq -c |
	    tr -s ' ')" " 1 200
 7 400"
	assert_equal "$(cat "$OAUTH_DIR/counts")" "refresh_token.invalid_grant 7
refresh_token.ok 1"
	assert_equal "$(wc -l <"$OAUTH_DIR/requests")" 8
}

# A real Dovecot (2.3's oauth2 passdb, introspection_mode = post) asks the
# server about tokens; doveadm's PLAIN test hands the token over as the
# password, which the oauth2 passdb verifies the same way as XOAUTH2's.
# Its files live outside $T, which Dovecot's unprivileged auth process
# cannot enter.
dovecot_start() {
	DOVECOT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postie-oauth-dv.XXXXXX")
	dv=$DOVECOT_DIR
	mkdir -p "$dv/run" "$dv/state"
	chmod 755 "$dv"
	cp "$CERTS/ca.pem" "$dv/ca.pem"
	chmod 644 "$dv/ca.pem"
	cat >"$dv/oauth2.conf.ext" <<-EOT
	introspection_mode = post
	introspection_url = $OAUTH_URL/introspect
	username_attribute = username
	active_attribute = active
	active_value = true
	tls_ca_cert_file = $dv/ca.pem
	EOT
	cat >"$dv/dovecot.conf" <<-EOT
	base_dir = $dv/run
	state_dir = $dv/state
	instance_name = postie-oauth-$$-$BATS_TEST_NUMBER
	protocols =
	listen = 127.0.0.1
	log_path = $dv/dovecot.log
	ssl = no
	default_internal_user = dovecot
	default_login_user = dovenull
	disable_plaintext_auth = no
	auth_mechanisms = plain oauthbearer xoauth2
	auth_failure_delay = 0
	passdb {
	  driver = oauth2
	  mechanisms = plain oauthbearer xoauth2
	  args = $dv/oauth2.conf.ext
	}
	userdb {
	  driver = static
	  args = uid=nobody gid=nogroup home=/nonexistent
	}
	service auth {
	  unix_listener $dv/auth {
	    mode = 0600
	  }
	}
	EOT
	DOVECOT_CONF=$dv/dovecot.conf
	dovecot -c "$DOVECOT_CONF" || _fail "dovecot did not start" \
	    "$(cat "$dv/dovecot.log" 2>/dev/null)"
	for _ in $(seq 1 100); do
		[ -S "$dv/auth" ] && return 0
		sleep 0.05
	done
	_fail "no Dovecot auth socket" "$(cat "$dv/dovecot.log")"
}

teardown() {
	if [ -n "${DOVECOT_CONF-}" ]; then
		doveadm -c "$DOVECOT_CONF" stop >/dev/null 2>&1 || true
		DOVECOT_CONF=
	fi
	if [ -n "${DOVECOT_DIR-}" ]; then
		rm -rf "$DOVECOT_DIR"
		DOVECOT_DIR=
	fi
	oauth_stop
	common_teardown
}

@test "oauth server: Dovecot's oauth2 passdb accepts and refuses its tokens" {
	# Like postfix-auth.bats: fails without Dovecot (tests/ci.sh installs
	# dovecot-core) unless POSTIE_SKIP_POSTFIX=1.
	[ "${POSTIE_SKIP_POSTFIX:-0}" != 1 ] || skip "POSTIE_SKIP_POSTFIX=1"
	command -v dovecot >/dev/null || _fail "dovecot-core is not installed"
	oauth_start
	dovecot_start
	run oauth_ctl mint user=judy@example.org
	at=$(oauth_field access_token)
	# "--": a token may begin with "-"
	auth_test() {
		doveadm -c "$DOVECOT_CONF" auth test -a "$DOVECOT_DIR/auth" -- "$@"
	}
	run auth_test judy@example.org "$at"
	assert_status 0
	assert_equal "${lines[0]}" "passdb: judy@example.org auth succeeded"
	# Another user's name, an unknown token, an expired one: refused.
	run auth_test mallory@example.org "$at"
	assert_status 77
	assert_equal "${lines[0]}" "passdb: mallory@example.org auth failed"
	run auth_test judy@example.org not-a-token
	assert_status 77
	run oauth_ctl framing mode=chunked
	run auth_test judy@example.org "$at"
	assert_status 0
	run oauth_ctl expire
	run auth_test judy@example.org "$at"
	assert_status 77
	assert_equal "$(cut -d' ' -f1-5 "$OAUTH_DIR/requests")" \
	    "POST /introspect - - active
POST /introspect - - active
POST /introspect - - inactive
POST /introspect - - active
POST /introspect - - inactive"
}
