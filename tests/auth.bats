#!/usr/bin/env bats
# shellcheck shell=bash
#
# SMTP AUTH in the engine against tests/fakesmtp.py, whose server side of
# every mechanism is tests/fakesasl.py (real SCRAM proofs and signatures,
# channel bindings): each mechanism, `auth on` choosing, `auth NAME`
# forcing, the refusals (PLAIN without TLS, no AUTH offered), failures
# (535 without fallback, 454, a bad SCRAM server signature, endless or
# huge challenges) and the -v transcript that never shows a secret.
#
# SCRAM-*-PLUS: on TLS 1.2 (--tls-max 1.2) with tls-unique from Python's
# ssl module, and on TLS 1.3 with tls-exporter from pyOpenSSL (--tls-lib
# pyopenssl; those tests fail without python3-openssl).  With the ssl
# module on TLS 1.3 the fake server cannot bind and offers no -PLUS.

load common

USER_NAME=alice
PASS='s3cret pass'
TOKEN=ya29.token-for-alice

send() {
	run_postie "$@" rcpt@example.org <"$(sample_message)"
}

# A fake server with STARTTLS and AUTH for alice; extra scenario lines on
# stdin when the first argument is "-"; other arguments go to fakesmtp.
fake_start_auth() {
	local extra=
	if [ "${1-}" = - ]; then
		extra=$(cat)
		shift
	elif [ $# -gt 0 ] && [ -z "$1" ]; then
		shift
	fi
	printf 'auth users %s:%s\nauth tokens %s:%s\n%s\n' "$USER_NAME" \
	    "${PASS// /\\x20}" "$USER_NAME" "$TOKEN" "$extra" >"$T/scenario"
	fake_start_tls valid "$T/scenario" "$@"
}

# TLS on, user and password, then the given lines.
write_auth_config() {
	write_tls_config "user $USER_NAME" "password $PASS" "$@"
}

assert_authenticated() {
	assert_status 0
	grep -q "AUTH $1 ok" "$FAKE_DIR/log" ||
	    _fail "the server did not log 'AUTH $1 ok'" "$(cat "$FAKE_DIR/log")"
	assert_equal "$(fake_messages)" 1 messages
	# Only EHLO and STARTTLS crossed the wire in plaintext.
	refute_clear_contains AUTH
	refute_clear_contains MAIL
}

# The number of AUTH commands on connection 1.
auth_count() {
	grep -c '^AUTH ' "$FAKE_DIR/conn-1.cmds" || true
}

@test "PLAIN over TLS" {
	fake_start_auth
	write_auth_config "auth plain"
	send
	assert_authenticated PLAIN
	grep -q '^T AUTH PLAIN ' "$FAKE_DIR/conn-1.tls"
}

@test "LOGIN over TLS" {
	fake_start_auth
	write_auth_config "auth login"
	send
	assert_authenticated LOGIN
}

@test "CRAM-MD5" {
	fake_start_auth
	write_auth_config "auth cram-md5"
	send
	assert_authenticated CRAM-MD5
	assert_command "AUTH CRAM-MD5"
}

@test "SCRAM-SHA-1" {
	fake_start_auth
	write_auth_config "auth scram-sha-1"
	send
	assert_authenticated SCRAM-SHA-1
}

@test "SCRAM-SHA-256" {
	fake_start_auth
	write_auth_config "auth scram-sha-256"
	send
	assert_authenticated SCRAM-SHA-256
}

@test "SCRAM-SHA-1-PLUS (TLS 1.2, tls-unique)" {
	fake_start_auth "" --tls-max 1.2
	write_auth_config "auth scram-sha-1-plus"
	send
	assert_authenticated SCRAM-SHA-1-PLUS
}

@test "SCRAM-SHA-256-PLUS (TLS 1.2, tls-unique)" {
	fake_start_auth "" --tls-max 1.2
	write_auth_config "auth scram-sha-256-plus"
	send
	assert_authenticated SCRAM-SHA-256-PLUS
}

@test "XOAUTH2 with a bearer token" {
	fake_start_auth
	write_tls_config "user $USER_NAME" "password $TOKEN" "auth xoauth2"
	send
	assert_authenticated XOAUTH2
}

@test "OAUTHBEARER with a bearer token" {
	fake_start_auth
	write_tls_config "user $USER_NAME" "password $TOKEN" "auth oauthbearer"
	send
	assert_authenticated OAUTHBEARER
}

@test "OAUTHBEARER with a bad token: 77, the server's JSON error reported" {
	fake_start_auth
	write_tls_config "user $USER_NAME" "password wrong-token" \
	    "auth oauthbearer"
	send
	assert_status 77
	assert_stderr_contains "535"
	assert_no_message
}

@test "EXTERNAL with the client certificate" {
	certs_dir
	fake_start_auth - --tls-client-ca "$CERTS/ca.pem" <<'EOF'
auth external
EOF
	write_tls_config "auth external" "tls_cert_file $CERTS/client.pem" \
	    "tls_key_file $CERTS/client.key"
	send
	assert_authenticated EXTERNAL
	grep -q '^client-cert ' "$FAKE_DIR/conn-1.tlsinfo"
}

@test "auth on picks the strongest mechanism offered (TLS 1.3: SCRAM-SHA-256)" {
	fake_start_auth
	write_auth_config "auth on"
	send
	assert_authenticated SCRAM-SHA-256
	assert_equal "$(auth_count)" 1 "AUTH commands"
}

@test "auth on picks SCRAM-SHA-256-PLUS when channel binding works (TLS 1.2)" {
	fake_start_auth "" --tls-max 1.2
	write_auth_config "auth on"
	send
	assert_authenticated SCRAM-SHA-256-PLUS
}

@test "user without an auth keyword means auth on" {
	fake_start_auth
	write_auth_config
	send
	assert_authenticated SCRAM-SHA-256
}

@test "auth NAME forces it even when stronger ones are offered" {
	fake_start_auth
	write_auth_config "auth login"
	send
	assert_authenticated LOGIN
	refute_command_prefix "AUTH SCRAM"
}

@test "auth NAME the server does not offer: 69, nothing sent" {
	fake_start_auth - <<'EOF'
auth mechs PLAIN LOGIN
EOF
	write_auth_config "auth cram-md5"
	send
	assert_status 69
	assert_stderr_one_line
	assert_stderr_contains "does not offer AUTH CRAM-MD5"
	assert_equal "$(auth_count)" 0 "AUTH commands"
	assert_no_message
}

@test "PLAIN is refused without TLS (loopback plaintext): nothing sent" {
	fake_start_auth
	write_config "user $USER_NAME" "password $PASS" "auth plain"
	send
	assert_status 78
	assert_stderr_one_line
	assert_stderr_contains "auth plain sends the secret in a readable form"
	assert_commands "EHLO client.example.org" "QUIT"
}

@test "PLAIN is refused with tls_certcheck off (TLS not verified)" {
	fake_start_auth
	write_auth_config "auth plain" "tls_certcheck off"
	send
	assert_status 78
	assert_equal "$(auth_count)" 0 "AUTH commands"
}

@test "auth on without TLS on loopback uses SCRAM, never PLAIN or LOGIN" {
	fake_start_auth
	write_config "user $USER_NAME" "password $PASS" "auth on"
	send
	assert_status 0
	assert_command "EHLO client.example.org"
	refute_command_prefix "AUTH PLAIN"
	refute_command_prefix "AUTH LOGIN"
	grep -q "AUTH SCRAM-SHA-256 ok" "$FAKE_DIR/log"
}

@test "wrong password: 77 and no fallback to another mechanism" {
	fake_start_auth
	write_tls_config "user $USER_NAME" "password wrong" "auth on"
	send
	assert_status 77
	assert_stderr_one_line
	assert_stderr_contains "535"
	assert_equal "$(auth_count)" 1 "AUTH commands"
	refute_command_prefix "MAIL"
}

@test "454 to AUTH: 75, no mail" {
	fake_start_auth - <<'EOF'
on AUTH => reply 454 4.7.0 Temporary authentication failure
EOF
	write_auth_config "auth plain"
	send
	assert_status 75
	assert_stderr_contains "454 4.7.0"
	refute_command_prefix "MAIL"
}

@test "SCRAM with a bad server signature: 76, no mail" {
	fake_start_auth - <<'EOF'
auth bad-server-signature
EOF
	write_auth_config "auth scram-sha-256"
	send
	assert_status 76
	assert_stderr_one_line
	refute_command_prefix "MAIL"
	assert_no_message
}

@test "endless 334 challenges are cut off: 76, no mail" {
	fake_start_auth - <<'EOF'
on AUTH => reply 334 VXNlcm5hbWU6
on UNKNOWN => reply 334 VXNlcm5hbWU6
EOF
	write_auth_config "auth login"
	send
	assert_status 76
	refute_command_prefix "MAIL"
	[ "$(wc -l <"$FAKE_DIR/conn-1.cmds")" -le 16 ] ||
	    _fail "too many lines sent"
}

@test "a huge challenge is cut off: 76, no mail" {
	fake_start_auth - <<EOF
on AUTH => reply 334 $(head -c 6000 /dev/zero | tr '\0' A)
EOF
	write_auth_config "auth login"
	send
	assert_status 76
	refute_command_prefix "MAIL"
}

@test "a challenge that is not base64: 76, no mail" {
	fake_start_auth - <<'EOF'
on AUTH => reply 334 not*base64
EOF
	write_auth_config "auth login"
	send
	assert_status 76
	assert_stderr_contains "malformed AUTH LOGIN challenge"
	refute_command_prefix "MAIL"
}

@test "credentials configured, no AUTH offered: 69, nothing sent, clear error" {
	fake_start_tls valid
	write_auth_config
	send
	assert_status 69
	assert_stderr_one_line
	assert_stderr_contains "credentials are configured but the server does not offer AUTH"
	assert_commands "EHLO client.example.org" "STARTTLS" \
	    "EHLO client.example.org" "QUIT"
}

@test "-v shows AUTH redacted, never the password or its base64" {
	fake_start_auth
	write_auth_config "auth plain"
	send -v
	assert_status 0
	assert_stderr_contains "--> AUTH PLAIN [redacted]"
	assert_stderr_not_contains "$PASS"
	assert_stderr_not_contains "$(printf '\0%s\0%s' "$USER_NAME" "$PASS" | base64 -w0)"
	assert_stderr_not_contains "$(printf '%s' "$PASS" | base64 -w0)"
}

@test "-v with LOGIN and SCRAM: every challenge and response redacted" {
	fake_start_auth "" --connections 2
	write_auth_config "auth login"
	send -v
	assert_status 0
	assert_stderr_contains "<-- 334 [redacted]"
	assert_stderr_contains "--> [redacted]"
	assert_stderr_not_contains "$(printf '%s' "$PASS" | base64 -w0)"
	assert_stderr_not_contains "VXNlcm5hbWU6"
	write_auth_config "auth scram-sha-256"
	send -v
	assert_status 0
	assert_stderr_not_contains "r="
	assert_stderr_not_contains "$PASS"
}

@test "the secret comes from secret_get: passwordeval" {
	fake_start_auth
	write_tls_config "user $USER_NAME" "passwordeval echo '$PASS'" \
	    "auth scram-sha-256"
	send
	assert_authenticated SCRAM-SHA-256
}

@test "the secret comes from secret_get: ~/.netrc" {
	PASS=netrc-pass
	fake_start_auth
	mkdir -p "$T/home"
	printf 'machine 127.0.0.1 login %s password %s\n' "$USER_NAME" \
	    "$PASS" >"$T/home/.netrc"
	chmod 600 "$T/home/.netrc"
	write_tls_config "user $USER_NAME" "auth plain"
	HOME=$T/home send
	assert_authenticated PLAIN
}

# TLS 1.3: the fake server computes tls-exporter with pyOpenSSL.
have_pyopenssl() {
	"$PYTHON3" -c 'import OpenSSL.SSL' 2>/dev/null ||
	    _fail "pyOpenSSL (python3-openssl) is not installed (tests/ci.sh installs it)"
}

@test "SCRAM-SHA-256-PLUS on TLS 1.3 (tls-exporter)" {
	have_pyopenssl
	fake_start_auth "" --tls-lib pyopenssl
	write_auth_config "auth scram-sha-256-plus"
	send
	assert_authenticated SCRAM-SHA-256-PLUS
	grep -q '^TLSv1.3 ' "$FAKE_DIR/conn-1.tlsinfo"
}

@test "SCRAM-SHA-1-PLUS on TLS 1.3 (tls-exporter)" {
	have_pyopenssl
	fake_start_auth "" --tls-lib pyopenssl
	write_auth_config "auth scram-sha-1-plus"
	send
	assert_authenticated SCRAM-SHA-1-PLUS
}

@test "auth on picks SCRAM-SHA-256-PLUS on TLS 1.3 when the server binds" {
	have_pyopenssl
	fake_start_auth "" --tls-lib pyopenssl
	write_auth_config "auth on"
	send
	assert_authenticated SCRAM-SHA-256-PLUS
}

@test "EXTERNAL with the client certificate (pyOpenSSL server)" {
	have_pyopenssl
	certs_dir
	fake_start_auth - --tls-lib pyopenssl --tls-client-ca "$CERTS/ca.pem" <<'EOF'
auth external
EOF
	write_tls_config "auth external" "tls_cert_file $CERTS/client.pem" \
	    "tls_key_file $CERTS/client.key"
	send
	assert_authenticated EXTERNAL
}
