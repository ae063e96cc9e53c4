#!/usr/bin/env bats
# shellcheck shell=bash
#
# The OAuth2 test server (tests/oauthserver.py) behind a real Postfix:
# Dovecot's oauth2 passdb asks the server's /introspect about every bearer
# token that reaches Postfix's SASL (`tests/postfix-env.sh start DIR
# --oauth URL`, through oauth_postfix_start in tests/oauth.bash). The
# client here is Python's smtplib, not postie: it proves the environment
# that postie's end-to-end OAuth tests rely on. One server and one Postfix
# serve the whole file (setup_file/teardown_file); each test mints its
# own tokens and reads only the records written since its start.
#
# The SASL framing, on the STARTTLS submission port:
#   XOAUTH2      "user=" USER ^A "auth=Bearer " TOKEN ^A ^A
#   OAUTHBEARER  "n,a=" USER "," ^A "host=..." ^A "port=..." ^A
#                "auth=Bearer " TOKEN ^A ^A   (RFC 7628 3.1)
# both as the initial response, base64. A refused token gets a 334 whose
# base64 is a JSON error, which the client answers (XOAUTH2: an empty
# line; OAUTHBEARER: %x01, "AQ==", RFC 7628 3.2.3) and Postfix then says
# 535.
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
	# Fails (does not skip) when fetch has not been done.
	sh "$PF_ENV_SH" check --auth
	oauth_postfix_start
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
	op_mark
}

teardown() {
	common_teardown
	# no late log line of this test after the next one's mark
	[ -z "${PF_DIR:-}" ] || sh "$PF_ENV_SH" quiesce "$PF_DIR"
}

# ---- helpers ---------------------------------------------------------------

# op_smtp MECH USER TOKEN [SUBJECT]: one session with smtplib on the
# submission port: EHLO, STARTTLS verified against the test CA, EHLO, AUTH
# MECH (XOAUTH2 or OAUTHBEARER) for USER with TOKEN. Prints each reply from
# AUTH on as "COMMAND CODE TEXT", a 334 with its base64 decoded. Accepted:
# a message from USER to USER with SUBJECT (default "oauth test"), the
# DATA reply's queue id as "ID" and a last line "queued QUEUE-ID".
op_smtp() {
	python3 - "$PF_SUBMISSION_PORT" "$PF_CA_FILE" "$@" <<'EOF'
import base64, re, smtplib, ssl, sys

port, cafile, mech, user, token = sys.argv[1:6]
subject = sys.argv[6] if len(sys.argv) > 6 else "oauth test"
ctx = ssl.create_default_context(cafile=cafile)
s = smtplib.SMTP("127.0.0.1", int(port), timeout=20)
s.ehlo("client.postie.test")
assert "auth" not in s.esmtp_features, "AUTH offered before STARTTLS"
s.starttls(context=ctx)
s.ehlo("client.postie.test")

def show(cmd, code, text):
    text = text.decode()
    if code == 334:
        text = base64.b64decode(text, validate=True).decode()
    print(cmd, code, text)

if mech == "XOAUTH2":
    ir = "user=%s\x01auth=Bearer %s\x01\x01" % (user, token)
    abort = ""
else:
    ir = "n,a=%s,\x01host=127.0.0.1\x01port=%s\x01auth=Bearer %s\x01\x01" % (
        user, port, token)
    abort = "AQ=="
code, text = s.docmd("AUTH", mech + " " + base64.b64encode(ir.encode()).decode())
show("AUTH", code, text)
if code == 334:
    code, text = s.docmd(abort)
    show("AUTH", code, text)
if code == 235:
    msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nsent with %s\r\n"
           % (user, user, subject, mech))
    for cmd, (code, text) in (("MAIL", s.mail(user)), ("RCPT", s.rcpt(user)),
                              ("DATA", s.data(msg))):
        print(cmd, code, re.sub(r"queued as \w+", "queued as ID", text.decode()))
    print("queued", re.search(r"queued as (\w+)", text.decode()).group(1))
s.quit()
EOF
}

# op_mark: where the records stand at the start of a test (setup).
op_mark() {
	OP_LOG_MARK=$(wc -l <"$PF_MAILLOG")
	OP_DV_MARK=$(wc -l <"$PF_DOVECOT_LOG")
	OP_DAVE=$(sh "$PF_ENV_SH" count "$PF_DIR" dave)
	oauth_mark
}

# op_wait_log FILE MARK STRING: wait (at most 5 s) until a line of FILE
# after line MARK holds STRING (Postfix and Dovecot write their logs
# through a logging process: a line can come after the reply).
op_wait_log() {
	local i=0
	while [ $i -lt 100 ]; do
		tail -n "+$(($2 + 1))" "$1" | grep -qF -- "$3" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "no line with '$3' in $1 since line $2:" >&2
	tail -n "+$(($2 + 1))" "$1" >&2
	return 1
}

op_maillog() { op_wait_log "$PF_MAILLOG" "$OP_LOG_MARK" "$1"; }
op_dovecot_log() { op_wait_log "$PF_DOVECOT_LOG" "$OP_DV_MARK" "$1"; }

# op_accepted MECH SUBJECT: $output is an accepted session; Postfix logged
# MECH and dave as the SASL user for its queue id, and the message arrived
# in dave's box with dave as the envelope sender.
op_accepted() {
	local qid files f
	qid=$(sed -n 's/^queued //p' <<<"$output")
	assert_equal "$(sed '$d' <<<"$output")" "AUTH 235 2.7.0 Authentication successful
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
DATA 250 2.0.0 Ok: queued as ID" "the session"
	[ -n "$qid" ] || _fail "no queue id"
	op_maillog "$qid: client=unknown[127.0.0.1], sasl_method=$1, sasl_username=$PF_OAUTH_USER"
	op_maillog "$qid: from=<$PF_OAUTH_USER>,"
	files=$(sh "$PF_ENV_SH" wait-mail "$PF_DIR" dave $((OP_DAVE + 1)) 20)
	# shellcheck disable=SC2086 # Maildir file names have no blanks
	f=$(grep -lxF "Subject: $2" $files) || _fail "no message '$2' for dave"
	assert_equal "$(sed -n '1,3p' "$f")" "Return-Path: <$PF_OAUTH_USER>
X-Original-To: $PF_OAUTH_USER
Delivered-To: $PF_OAUTH_USER"
	assert_equal "$(sed -n '$p' "$f")" "sent with $1"
	OP_DAVE=$((OP_DAVE + 1))
}

# op_refused MECH USER: $output is a refused session: the mechanism's
# JSON error challenge (RFC 7628 3.2.2; Dovecot 2.3 sends Google's form
# for XOAUTH2), then 535 once the client answered it; Postfix logged the
# failure for USER.
op_refused() {
	local json
	case $1 in
	XOAUTH2) json='{"status":"401","schemes":"bearer","scope":"mail"}' ;;
	OAUTHBEARER) json='{"status":"invalid_token"}' ;;
	esac
	assert_equal "$output" "AUTH 334 $json
AUTH 535 5.7.8 Error: authentication failed: (reason unavailable)" \
	    "the session"
	op_maillog "SASL $1 authentication failed: (reason unavailable), sasl_username=$2"
}

# op_try_refused MECH USER TOKEN: a session with TOKEN is refused.
op_try_refused() {
	run op_smtp "$@"
	assert_status 0
	op_refused "$1" "$2"
}

# op_nothing_delivered: Postfix has nothing left to deliver and dave's box
# holds no more than it did.
op_nothing_delivered() {
	sh "$PF_ENV_SH" settle "$PF_DIR" 10
	assert_equal "$(sh "$PF_ENV_SH" count "$PF_DIR" dave)" "$OP_DAVE" \
	    "messages for dave"
}

# op_dead_token TOKEN: dave's TOKEN, accepted once earlier in the test, is
# now refused by both mechanisms; Dovecot asked the server each time (no
# cached answer) and nothing more was delivered.
op_dead_token() {
	local h
	op_try_refused XOAUTH2 "$PF_OAUTH_USER" "$1"
	op_try_refused OAUTHBEARER "$PF_OAUTH_USER" "$1"
	op_dovecot_log "oauth2($PF_OAUTH_USER,127.0.0.1): oauth2 failed: Introspection failed: Provided token is not valid"
	h=$(oauth_hash "$1")
	assert_equal "$(oauth_requests_new)" \
	    "POST /introspect - - active token=$h user=$PF_OAUTH_USER
POST /introspect - - inactive token=$h
POST /introspect - - inactive token=$h"
	op_nothing_delivered
}

# ---- the environment -------------------------------------------------------

@test "oauth-postfix: both TLS ports offer OAUTHBEARER and XOAUTH2 beside the password mechanisms; alice's password asks nothing of the OAuth server" {
	run python3 - "$PF_SUBMISSION_PORT" "$PF_SMTPS_PORT" "$PF_CA_FILE" \
	    "$PF_AUTH_USER" "$PF_AUTH_PASSWORD" <<'EOF'
import smtplib, ssl, sys
sub, smtps, cafile, user, password = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
for mode in ("submission", "smtps"):
    if mode == "smtps":
        s = smtplib.SMTP_SSL("127.0.0.1", int(smtps), context=ctx, timeout=20)
    else:
        s = smtplib.SMTP("127.0.0.1", int(sub), timeout=20)
        s.ehlo("client.postie.test")
        assert "auth" not in s.esmtp_features, "AUTH before STARTTLS"
        s.starttls(context=ctx)
    s.ehlo("client.postie.test")
    print(mode, s.esmtp_features.get("auth", "").strip())
    s.user, s.password = user, password
    print(mode, *s.auth("PLAIN", s.auth_plain))
    s.quit()
EOF
	assert_status 0
	assert_equal "$output" "submission PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 OAUTHBEARER XOAUTH2
submission 235 b'2.7.0 Authentication successful'
smtps PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 OAUTHBEARER XOAUTH2
smtps 235 b'2.7.0 Authentication successful'"
	assert_equal "$(oauth_requests_new)" ""
	# The env file names the OAuth user and server.
	assert_equal "$PF_OAUTH_USER $PF_OAUTH_URL" \
	    "dave@example.org $OAUTH_URL"
}

# ---- accepted ----------------------------------------------------------------

@test "oauth-postfix: XOAUTH2 with a token the server minted for dave: accepted, delivered to dave from dave, Postfix logged XOAUTH2" {
	at=$(oauth_mint)
	run op_smtp XOAUTH2 "$PF_OAUTH_USER" "$at" "xoauth2 minted"
	assert_status 0
	op_accepted XOAUTH2 "xoauth2 minted"
	assert_equal "$(oauth_requests_new)" \
	    "POST /introspect - - active token=$(oauth_hash "$at") user=$PF_OAUTH_USER"
}

@test "oauth-postfix: OAUTHBEARER with a token refreshed from a seeded refresh token: accepted, delivered, Postfix logged OAUTHBEARER" {
	rt=$(oauth_seed)
	[ -n "$rt" ]
	run oauth_token_post grant_type=refresh_token refresh_token="$rt"
	at=$(oauth_field access_token)
	[ -n "$at" ] || _fail "no access token"
	run op_smtp OAUTHBEARER "$PF_OAUTH_USER" "$at" "oauthbearer refreshed"
	assert_status 0
	op_accepted OAUTHBEARER "oauthbearer refreshed"
	assert_equal "$(oauth_requests_new | cut -d' ' -f1-6)" \
	    "POST /token refresh_token postie-test ok rt=$(oauth_hash "$rt")
POST /introspect - - active token=$(oauth_hash "$at")"
	assert_equal "$(oauth_count_new refresh_token.ok)" 1
	assert_equal "$(oauth_count_new introspect.active)" 1
}

# ---- refused -----------------------------------------------------------------

@test "oauth-postfix: an expired token is refused with 535 by both mechanisms, the first time it is used after expiry" {
	at=$(oauth_mint)
	run op_smtp XOAUTH2 "$PF_OAUTH_USER" "$at" "before expiry"
	op_accepted XOAUTH2 "before expiry"
	run oauth_ctl expire
	assert_status 0
	op_dead_token "$at"
}

@test "oauth-postfix: a revoked token is refused at once, though Dovecot accepted it just before" {
	at=$(oauth_mint)
	run op_smtp OAUTHBEARER "$PF_OAUTH_USER" "$at" "before revocation"
	op_accepted OAUTHBEARER "before revocation"
	run oauth_ctl revoke token="$at"
	assert_equal "$output" "revoked=1"
	op_dead_token "$at"
}

@test "oauth-postfix: a valid token of another user is refused for dave, and dave's for alice" {
	carol=$(oauth_mint carol@example.org)
	dave=$(oauth_mint)
	op_try_refused XOAUTH2 "$PF_OAUTH_USER" "$carol"
	op_try_refused OAUTHBEARER "$PF_OAUTH_USER" "$carol"
	op_dovecot_log "oauth2($PF_OAUTH_USER,127.0.0.1): oauth2 failed: Introspection failed: Username '$PF_OAUTH_USER' did not match 'carol@example.org'"
	op_try_refused XOAUTH2 "$PF_AUTH_USER" "$dave"
	# The server found each token valid: Dovecot compared the user.
	assert_equal "$(oauth_requests_new | cut -d' ' -f1-5,7)" \
	    "POST /introspect - - active user=carol@example.org
POST /introspect - - active user=carol@example.org
POST /introspect - - active user=$PF_OAUTH_USER"
	op_nothing_delivered
}

# ---- helpers for postie's tests ----------------------------------------------

@test "oauth-postfix: oauth_postie_config names the local server as a custom provider and the submission port" {
	oauth_postie_config xoauth2 "oauth_scope mail other"
	assert_equal "$(stat -c %a "$CONFIG")" 600
	assert_equal "$(cat "$CONFIG")" "defaults
timeout 30
queue off

account oauth
host 127.0.0.1
port $PF_SUBMISSION_PORT
tls on
tls_starttls on
tls_trust_file $PF_CA_FILE
tls_host_override mail.example.test
domain client.postie.test
auth xoauth2
user dave@example.org
from dave@example.org
oauth_provider custom
oauth_client_id postie-test
oauth_client_secret postie-secret
oauth_token_url $OAUTH_URL/token
oauth_auth_url $OAUTH_URL/authorize
oauth_device_url $OAUTH_URL/device
oauth_scope mail
oauth_trust_file $CERTS/ca.pem
oauth_scope mail other

account default : oauth"
	# The URLs it names are the server's.
	run oauth_request GET /.well-known/oauth-authorization-server
	assert_equal "$(oauth_field token_endpoint)" "$OAUTH_URL/token"
	assert_equal "$(oauth_field authorization_endpoint)" \
	    "$OAUTH_URL/authorize"
	assert_equal "$(oauth_field device_authorization_endpoint)" \
	    "$OAUTH_URL/device"
	[ "$CERTS/ca.pem" -ef "$PF_CA_FILE" ]
}
