#!/usr/bin/env bats
# shellcheck shell=bash
#
# Interoperability of TLS and SASL: postie against a real Postfix whose
# SASL is a real Dovecot (`tests/postfix-env.sh start DIR --auth`), both
# on loopback, delivering with virtual(8) into Maildirs read back byte by
# byte. One instance serves the whole file (setup_file/teardown_file).
#
# Ports (tests/postfix-env.sh documents them):
#   submission  STARTTLS required, AUTH only after TLS
#   smtps       implicit TLS, AUTH
#   clearauth   no TLS, AUTH offered in the clear (PLAIN and LOGIN too)
# Dovecot 2.3 offers PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 for
# alice@example.org; the server certificate is tests/certs.sh's valid.pem
# (mail.example.test, 127.0.0.1) under its ca.pem.
#
# Postfix records what happened on its side: "sasl_method=NAME" on the
# queue-id line of every authenticated message, and per session a
# "disconnect from ... auth=OK/TRIED" count line; Dovecot logs failed
# logins ("Password mismatch"). The tests read both, so they do not rely
# on postie's own account of what it sent.
#
# When the unpacked Postfix or Dovecot is missing (`sh
# tests/postfix-env.sh fetch` not done) every test here FAILS; set
# POSTIE_SKIP_POSTFIX=1 to skip them on purpose.

load common

PF_ENV_SH="$BATS_TEST_DIRNAME/postfix-env.sh"

setup_file() {
	if [ "${POSTIE_SKIP_POSTFIX:-0}" = 1 ]; then
		return 0
	fi
	# Fails (does not skip) when fetch has not been done.
	sh "$PF_ENV_SH" check --auth
	PF_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postie-pfauth.XXXXXX")
	export PF_DIR
	# The certificates are shared with the other TLS tests of the build.
	local certs="$PF_DIR/certs"
	if [ -n "${TOP_BUILDDIR:-}" ] && [ -w "$TOP_BUILDDIR" ]; then
		certs=$TOP_BUILDDIR/tests/certs
	fi
	# every box-NAME this file uses
	# shellcheck disable=SC2046
	if ! sh "$PF_ENV_SH" start "$PF_DIR" --auth --certs "$certs" \
	    $(grep -o 'box-[a-z0-9-]*' "$BATS_TEST_FILENAME" | sort -u); then
		sh "$PF_ENV_SH" stop "$PF_DIR"
		return 1
	fi
}

teardown_file() {
	if [ -n "${PF_DIR:-}" ]; then
		sh "$PF_ENV_SH" stop "$PF_DIR"
		if [ -z "${POSTIE_KEEP_POSTFIX:-}" ]; then
			rm -rf "$PF_DIR"
		fi
	fi
}

setup() {
	if [ "${POSTIE_SKIP_POSTFIX:-0}" = 1 ]; then
		skip "POSTIE_SKIP_POSTFIX=1"
	fi
	common_setup
	[ -n "${PF_DIR:-}" ] && [ -f "$PF_DIR/env" ]
	# shellcheck disable=SC1091
	. "$PF_DIR/env"
	W="$BATS_TEST_TMPDIR"
	# run_postie (common.bash) uses it
	CONFIG=$W/postie.conf
}

teardown() {
	common_teardown
	pa_quiesce
}

# ---- helpers ---------------------------------------------------------------

# refute CMD...: fail when CMD succeeds.
refute() {
	if "$@"; then
		echo "unexpectedly true: $*"
		return 1
	fi
	return 0
}

# pa_config MODE AUTH [PASSWORD] [EXTRA-LINE...]: write $CONFIG (0600)
# for one of the Postfix ports. MODE: starttls (submission), smtps
# (implicit TLS), plain-submission (submission with `tls off`),
# clearauth (the clear AUTH port, `tls off`). AUTH: on, or a mechanism.
pa_config() {
	local mode=$1 auth=$2 pass=${3-$PF_AUTH_PASSWORD}
	shift 2
	[ $# -gt 0 ] && shift
	{
		echo "defaults"
		echo "timeout 30"
		echo "queue off"
		echo ""
		echo "account pa"
		echo "host $PF_HOST"
		echo "from sender@postie.test"
		echo "domain client.postie.test"
		case $mode in
		starttls)
			echo "port $PF_SUBMISSION_PORT"
			echo "tls on"
			echo "tls_starttls on"
			echo "tls_trust_file $PF_CA_FILE"
			echo "tls_host_override $PF_TLS_HOST" ;;
		smtps)
			echo "port $PF_SMTPS_PORT"
			echo "tls on"
			echo "tls_starttls off"
			echo "tls_trust_file $PF_CA_FILE"
			echo "tls_host_override $PF_TLS_HOST" ;;
		plain-submission)
			echo "port $PF_SUBMISSION_PORT"
			echo "tls off" ;;
		clearauth)
			echo "port $PF_CLEARAUTH_PORT"
			echo "tls off" ;;
		*)	echo "pa_config: unknown mode $mode" >&2
			return 1 ;;
		esac
		echo "auth $auth"
		echo "user $PF_AUTH_USER"
		echo "password $pass"
		for l in "$@"; do
			echo "$l"
		done
		echo ""
		echo "account default : pa"
	} >"$CONFIG"
	chmod 600 "$CONFIG"
}

# pa_message NAME BOX: a message for BOX@example.org into $W/in (LF line
# ends; a line that starts with a dot and one with 8-bit text).
pa_message() {
	{
		printf 'From: Postie Test <sender@postie.test>\n'
		printf 'To: %s@example.org\n' "$2"
		printf 'Subject: postfix auth %s\n' "$1"
		printf 'Date: Sun, 22 Nov 2026 12:00:00 +0000\n'
		printf 'Message-ID: <%s.%s@postie.test>\n' "$1" "$$"
		printf '\n'
		printf 'Authenticated with %s.\n' "$1"
		printf '.a line that starts with a dot\n'
		printf 'caf\303\251 8-bit\n'
		printf 'last line\n'
	} >"$W/in"
}

# pa_run ARGS... < input: postie with -v against the private Postfix.
pa_run() {
	run_postie -v "$@"
	echo "postie exit $status"
	echo "stdout: $output"
	# shellcheck disable=SC2154
	echo "stderr: $stderr"
}

# pa_no_secret: the password appears nowhere in postie's output, neither
# raw nor as base64 (LOGIN's second response, PLAIN's blob).
pa_no_secret() {
	local all="$output$stderr" b64p b64plain
	b64p=$(printf '%s' "$PF_AUTH_PASSWORD" | base64 -w0)
	b64plain=$(printf '\0%s\0%s' "$PF_AUTH_USER" "$PF_AUTH_PASSWORD" |
	    base64 -w0)
	for s in "$PF_AUTH_PASSWORD" "$b64p" "$b64plain"; do
		if [[ "$all" == *"$s"* ]]; then
			echo "postie's output shows the secret ($s)"
			return 1
		fi
	done
}

# pa_expect: $W/in as the Maildir holds it once Postfix's headers are
# stripped (LF line ends, a stray CR a space, final newline) into
# $W/expected.
pa_expect() {
	python3 - "$W/in" "$W/expected" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
data = re.sub(rb"\r*\n|\r",
              lambda m: b"\n" if m.group().endswith(b"\n") else b" ", data)
if data and not data.endswith(b"\n"):
    data += b"\n"
open(sys.argv[2], "wb").write(data)
EOF
}

# pa_delivered BOX: wait for one message in BOX and compare it with $W/in
# byte for byte; print nothing, fail with a diff.
pa_delivered() {
	local files f
	files=$(sh "$PF_ENV_SH" wait-mail "$PF_DIR" "$1" 1 20) || {
		echo "no delivery to $1"
		tail -n 20 "$PF_MAILLOG"
		return 1
	}
	f=$(printf '%s\n' "$files" | tail -n 1)
	pa_expect
	sh "$PF_ENV_SH" strip "$f" >"$W/got"
	if ! cmp "$W/expected" "$W/got"; then
		diff <(od -c "$W/expected") <(od -c "$W/got") | head -n 40
		return 1
	fi
}

# pa_count BOX: messages now in BOX's Maildir.
pa_count() {
	sh "$PF_ENV_SH" count "$PF_DIR" "$1"
}

# pa_queue_id: the queue id from postie's -v transcript ("250 2.0.0 Ok:
# queued as ID").
pa_queue_id() {
	printf '%s\n%s\n' "$output" "$stderr" |
	    sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' | tail -n 1
}

# pa_sasl_method ID: the sasl_method Postfix logged for queue id ID.
pa_sasl_method() {
	local i=0 m
	while [ $i -lt 100 ]; do
		m=$(sed -n "s/.* $1: client=.*, sasl_method=\([^,]*\),.*/\1/p" \
		    "$PF_MAILLOG" | head -n 1)
		if [ -n "$m" ]; then
			echo "$m"
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "no sasl_method logged for queue id '$1'" >&2
	return 1
}

# pa_quiesce: wait (at most 5 s) until smtpd has logged the end of every
# session it logged the start of, so that the next test's pa_mark is not
# fooled by a late "disconnect from" line of this one.
pa_quiesce() {
	local i=0 c d
	[ -n "${PF_MAILLOG:-}" ] || return 0
	while [ $i -lt 100 ]; do
		c=$(grep -c ': connect from' "$PF_MAILLOG" || true)
		d=$(grep -c ': disconnect from' "$PF_MAILLOG" || true)
		[ "$c" -gt "$d" ] || return 0
		sleep 0.05
		i=$((i + 1))
	done
}

# pa_mark; ...; pa_session: smtpd's "disconnect from" line (with its
# per-command counts) of the first session that ended after the mark.
pa_mark() {
	PA_MARK=$(grep -c 'disconnect from' "$PF_MAILLOG" || true)
	PA_DVMARK=$(wc -l <"$PF_DOVECOT_LOG")
}
pa_session() {
	local i=0 line
	while [ $i -lt 100 ]; do
		line=$(grep 'disconnect from' "$PF_MAILLOG" |
		    sed -n "$((PA_MARK + 1))p")
		if [ -n "$line" ]; then
			echo "$line"
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "no new smtpd session in $PF_MAILLOG" >&2
	return 1
}
# pa_dovecot_new: Dovecot's log lines since the mark.
pa_dovecot_new() {
	sed -n "$((PA_DVMARK + 1)),\$p" "$PF_DOVECOT_LOG"
}

# pa_send MODE MECH BOX: the whole check for one successful session:
# postie with `auth MECH` (or on) exits 0, the transcript shows "AUTH
# NAME" and never the secret, Postfix logged sasl_method=NAME for the
# message, and BOX holds it byte for byte. NAME is MECH in upper case,
# or $4 when given (for `auth on`).
pa_send() {
	local mode=$1 mech=$2 box=$3 want qid got
	want=${4:-$(printf '%s' "$mech" | tr '[:lower:]' '[:upper:]')}
	pa_config "$mode" "$mech"
	pa_message "$mode-$mech" "$box"
	pa_mark
	pa_run "$box@example.org" <"$W/in"
	assert_status 0
	[[ "$output$stderr" == *"AUTH $want"* ]] ||
	    { echo "transcript lacks 'AUTH $want'"; return 1; }
	pa_no_secret
	qid=$(pa_queue_id)
	[ -n "$qid" ] || { echo "no queue id in the transcript"; return 1; }
	got=$(pa_sasl_method "$qid")
	assert_equal "$got" "$want" "Postfix's sasl_method"
	pa_delivered "$box"
	# exactly one session, AUTH tried once and accepted
	pa_session | grep -E ' auth=1( |$)'
}

# ---- the harness itself ----------------------------------------------------

@test "postfix-auth: harness: Python's smtplib logs in with every Dovecot mechanism on both TLS ports (SCRAM server signatures checked)" {
	run python3 - "$PF_SUBMISSION_PORT" "$PF_SMTPS_PORT" "$PF_CA_FILE" \
	    "$PF_AUTH_USER" "$PF_AUTH_PASSWORD" <<'EOF'
import base64, hashlib, hmac, os, smtplib, ssl, sys

sub, smtps, cafile, user, password = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)

def connect(mode):
    if mode == "smtps":
        # verified against the certificate's IP entry
        s = smtplib.SMTP_SSL("127.0.0.1", int(smtps), context=ctx,
                             timeout=20)
    else:
        s = smtplib.SMTP("127.0.0.1", int(sub), timeout=20)
        s.ehlo("client.postie.test")
        assert "auth" not in s.esmtp_features, "AUTH before STARTTLS"
        s._host = "mail.example.test"
        s.starttls(context=ctx)
    s.ehlo("client.postie.test")
    return s

def scram(s, hname):
    h = getattr(hashlib, hname)
    mech = "SCRAM-" + hname.upper().replace("SHA", "SHA-")
    nonce = base64.b64encode(os.urandom(18)).decode()
    bare = "n=" + user.replace("=", "=3D").replace(",", "=2C") + ",r=" + nonce
    code, resp = s.docmd("AUTH", mech + " " +
                         base64.b64encode(("n,," + bare).encode()).decode())
    assert code == 334, (code, resp)
    sfirst = base64.b64decode(resp).decode()
    attrs = dict(kv.split("=", 1) for kv in sfirst.split(","))
    assert attrs["r"].startswith(nonce)
    salted = hashlib.pbkdf2_hmac(hname, password.encode(),
                                 base64.b64decode(attrs["s"]), int(attrs["i"]))
    ckey = hmac.new(salted, b"Client Key", h).digest()
    final_nop = "c=biws,r=" + attrs["r"]
    msg = ",".join([bare, sfirst, final_nop]).encode()
    sig = hmac.new(h(ckey).digest(), msg, h).digest()
    proof = bytes(a ^ b for a, b in zip(ckey, sig))
    final = final_nop + ",p=" + base64.b64encode(proof).decode()
    code, resp = s.docmd(base64.b64encode(final.encode()).decode())
    assert code == 334, (code, resp)
    skey = hmac.new(salted, b"Server Key", h).digest()
    want = "v=" + base64.b64encode(hmac.new(skey, msg, h).digest()).decode()
    assert base64.b64decode(resp).decode() == want, "server signature"
    return s.docmd("")

for mode in ("starttls", "smtps"):
    for mech in ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"):
        s = connect(mode)
        offered = s.esmtp_features.get("auth", "").split()
        assert offered == ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1",
                           "SCRAM-SHA-256"], offered
        if mech.startswith("SCRAM-"):
            code, resp = scram(s, mech[6:].lower().replace("-", ""))
        else:
            s.user, s.password = user, password
            code, resp = s.auth(mech, getattr(s, "auth_" +
                                mech.lower().replace("-", "_")))
        assert code == 235, (mode, mech, code, resp)
        s.sendmail("sender@postie.test", ["box-py@example.org"],
                   "Subject: %s %s\r\n\r\nok\r\n" % (mode, mech))
        s.quit()
        print(mode, mech, "ok")
EOF
	echo "$output"
	[ "$status" -eq 0 ]
	sh "$PF_ENV_SH" wait-mail "$PF_DIR" box-py 10 20 >/dev/null
	[ "$(grep -c 'sasl_method=' "$PF_MAILLOG")" -ge 10 ]
}

# ---- every mechanism, forced, on both TLS ports ----------------------------

@test "postfix-auth: STARTTLS submission, auth plain: delivered byte for byte, Postfix saw PLAIN" {
	pa_send starttls plain box-sub-plain
}

@test "postfix-auth: STARTTLS submission, auth login: delivered byte for byte, Postfix saw LOGIN" {
	pa_send starttls login box-sub-login
}

@test "postfix-auth: STARTTLS submission, auth cram-md5: delivered byte for byte, Postfix saw CRAM-MD5" {
	pa_send starttls cram-md5 box-sub-cram
}

@test "postfix-auth: STARTTLS submission, auth scram-sha-1: delivered byte for byte, Postfix saw SCRAM-SHA-1" {
	pa_send starttls scram-sha-1 box-sub-scram1
}

@test "postfix-auth: STARTTLS submission, auth scram-sha-256: delivered byte for byte, Postfix saw SCRAM-SHA-256" {
	pa_send starttls scram-sha-256 box-sub-scram256
}

@test "postfix-auth: implicit TLS, auth plain: delivered byte for byte, Postfix saw PLAIN" {
	pa_send smtps plain box-tls-plain
}

@test "postfix-auth: implicit TLS, auth login: delivered byte for byte, Postfix saw LOGIN" {
	pa_send smtps login box-tls-login
}

@test "postfix-auth: implicit TLS, auth cram-md5: delivered byte for byte, Postfix saw CRAM-MD5" {
	pa_send smtps cram-md5 box-tls-cram
}

@test "postfix-auth: implicit TLS, auth scram-sha-1: delivered byte for byte, Postfix saw SCRAM-SHA-1" {
	pa_send smtps scram-sha-1 box-tls-scram1
}

@test "postfix-auth: implicit TLS, auth scram-sha-256: delivered byte for byte, Postfix saw SCRAM-SHA-256" {
	pa_send smtps scram-sha-256 box-tls-scram256
}

# ---- auth on ---------------------------------------------------------------

@test "postfix-auth: auth on over STARTTLS picks SCRAM-SHA-256, the strongest Dovecot offers" {
	pa_send starttls on box-on-sub SCRAM-SHA-256
}

@test "postfix-auth: auth on over implicit TLS picks SCRAM-SHA-256" {
	pa_send smtps on box-on-tls SCRAM-SHA-256
}

@test "postfix-auth: user and password without an auth line authenticate too (msmtp: auth on)" {
	pa_config starttls on
	sed -i '/^auth /d' "$CONFIG"
	pa_message no-auth-line box-noline
	pa_mark
	pa_run box-noline@example.org <"$W/in"
	assert_status 0
	[[ "$output$stderr" == *"AUTH SCRAM-SHA-256"* ]]
	pa_no_secret
	pa_delivered box-noline
}

@test "postfix-auth: implicit TLS checked against the certificate's IP entry (host 127.0.0.1, no tls_host_override)" {
	pa_config smtps scram-sha-256
	sed -i '/^tls_host_override /d' "$CONFIG"
	pa_message ip-literal box-ip
	pa_run box-ip@example.org <"$W/in"
	assert_status 0
	pa_delivered box-ip
}

# ---- TLS session resumption --------------------------------------------------

# pa_tls_line QID: Postfix's "TLS connection established" line for the
# session that queued QID (the same smtpd process's last one before its
# "QID: client=" line; postlogd writes on its own time, so wait for it).
pa_tls_line() {
	local i=0 pid=
	while [ $i -lt 100 ] && [ -z "$pid" ]; do
		pid=$(sed -n "s/.*smtpd\[\([0-9]*\)\]: $1: client=.*/\1/p" \
		    "$PF_MAILLOG" | head -n 1)
		[ -n "$pid" ] || sleep 0.05
		i=$((i + 1))
	done
	[ -n "$pid" ] || { echo "no smtpd logged $1" >&2; return 1; }
	awk -v p="smtpd[$pid]: " -v q="$1: client=" '
	    index($0, p) && /TLS connection established/ { l = $0 }
	    index($0, p) && index($0, q) { print l; exit }' "$PF_MAILLOG"
}

# pa_resume MODE BOX1 BOX2: two submissions with the queue (and so the
# session store) on.  The first makes a full handshake, the second
# resumes: postie says so, and Postfix's log line for it has no
# server-digest (a resumed handshake signs nothing).  Both log in with
# SCRAM-SHA-256 and arrive.
pa_resume() {
	local mode=$1 box=$2 box2=$3 line
	pa_config "$mode" scram-sha-256 "$PF_AUTH_PASSWORD" "queue on" \
	    "queue_dir $W/queue"
	pa_message "$mode-full" "$box"
	pa_run "$box@example.org" <"$W/in"
	assert_status 0
	assert_stderr_not_contains "session resumed"
	pa_delivered "$box"
	line=$(pa_tls_line "$(pa_queue_id)")
	echo "full: $line"
	[[ "$line" == *"server-digest"* ]]
	pa_message "$mode-resumed" "$box2"
	pa_run "$box2@example.org" <"$W/in"
	assert_status 0
	assert_stderr_contains "*** TLS1.3 session resumed"
	[[ "$stderr" == *"AUTH SCRAM-SHA-256"* ]]
	pa_no_secret
	pa_delivered "$box2"
	line=$(pa_tls_line "$(pa_queue_id)")
	echo "resumed: $line"
	[[ "$line" == *"TLS connection established"* ]]
	[[ "$line" != *"server-digest"* ]]
}

@test "postfix-auth: STARTTLS: the second submission resumes the TLS session, SCRAM-SHA-256 still logs in" {
	pa_resume starttls box-resume-sub box-resume-sub2
}

@test "postfix-auth: implicit TLS: the second submission resumes the TLS session" {
	pa_resume smtps box-resume-tls box-resume-tls2
}

# ---- failures --------------------------------------------------------------

@test "postfix-auth: wrong password with PLAIN over STARTTLS: 535, exit 77, nothing delivered" {
	pa_config starttls plain "not-$PF_AUTH_PASSWORD"
	pa_message wrong-plain box-wrong-plain
	pa_mark
	pa_run box-wrong-plain@example.org <"$W/in"
	assert_status 77
	assert_stderr_contains "535"
	[[ "$output$stderr" != *"not-$PF_AUTH_PASSWORD"* ]]
	line=$(pa_session)
	echo "$line"
	# AUTH tried once and failed; no MAIL, no RCPT, no DATA
	[[ "$line" == *" auth=0/1"* ]]
	[[ "$line" != *" mail="* ]]
	[[ "$line" != *" data="* ]]
	pa_dovecot_new | grep -q 'Password mismatch'
	sleep 0.5
	[ "$(pa_count box-wrong-plain)" -eq 0 ]
}

@test "postfix-auth: wrong password with SCRAM-SHA-256 over implicit TLS: exit 77, nothing delivered, no retry with another mechanism" {
	pa_config smtps scram-sha-256 "not-$PF_AUTH_PASSWORD"
	pa_message wrong-scram box-wrong-scram
	pa_mark
	pa_run box-wrong-scram@example.org <"$W/in"
	assert_status 77
	line=$(pa_session)
	echo "$line"
	[[ "$line" == *" auth=0/1"* ]]
	[[ "$line" != *" mail="* ]]
	pa_dovecot_new | grep -q 'scram-sha-256(alice@example.org,.*Password mismatch'
	# only one AUTH command in the transcript
	[ "$(printf '%s\n%s\n' "$output" "$stderr" | grep -c -- '--> AUTH ')" -eq 1 ]
	sleep 0.5
	[ "$(pa_count box-wrong-scram)" -eq 0 ]
}

@test "postfix-auth: wrong password with auth on: exit 77, one AUTH SCRAM-SHA-256, no fallback to a weaker mechanism" {
	pa_config starttls on "not-$PF_AUTH_PASSWORD"
	pa_message wrong-on box-wrong-on
	pa_mark
	pa_run box-wrong-on@example.org <"$W/in"
	assert_status 77
	line=$(pa_session)
	echo "$line"
	[[ "$line" == *" auth=0/1"* ]]
	[ "$(printf '%s\n%s\n' "$output" "$stderr" | grep -c -- '--> AUTH ')" -eq 1 ]
	[[ "$output$stderr" == *"AUTH SCRAM-SHA-256"* ]]
	[ "$(pa_count box-wrong-on)" -eq 0 ]
}

@test "postfix-auth: submission port with tls off: no AUTH offered before TLS, nothing sent, clear error" {
	pa_config plain-submission plain
	pa_message plain-sub box-plain-sub
	pa_mark
	pa_run box-plain-sub@example.org <"$W/in"
	[ "$status" -ne 0 ]
	# the error (not a transcript line) names the missing AUTH
	printf '%s\n' "$stderr" | grep -v -e '^<-- ' -e '^--> ' | grep -q AUTH
	pa_no_secret
	line=$(pa_session)
	echo "$line"
	# Postfix saw no AUTH (and no envelope)
	[[ "$line" != *" auth="* ]]
	[[ "$line" != *" mail="* ]]
	[[ "$output$stderr" != *"--> AUTH"* ]]
	[ "$(pa_count box-plain-sub)" -eq 0 ]
}

@test "postfix-auth: clear AUTH port offering PLAIN without TLS: auth plain refused locally, the password never leaves" {
	pa_config clearauth plain
	pa_message clear-plain box-clear-plain
	pa_mark
	pa_run box-clear-plain@example.org <"$W/in"
	[ "$status" -ne 0 ]
	[[ "$output$stderr" == *"AUTH PLAIN LOGIN"* ]] # it was offered
	[[ "$output$stderr" != *"--> AUTH"* ]]
	pa_no_secret
	line=$(pa_session)
	echo "$line"
	[[ "$line" != *" auth="* ]]
	[[ "$line" != *" mail="* ]]
	[ "$(pa_count box-clear-plain)" -eq 0 ]
}

@test "postfix-auth: clear AUTH port: auth login refused locally as well" {
	pa_config clearauth login
	pa_message clear-login box-clear-login
	pa_mark
	pa_run box-clear-login@example.org <"$W/in"
	[ "$status" -ne 0 ]
	[[ "$output$stderr" != *"--> AUTH"* ]]
	pa_no_secret
	line=$(pa_session)
	echo "$line"
	[[ "$line" != *" auth="* ]]
	[ "$(pa_count box-clear-login)" -eq 0 ]
}

@test "postfix-auth: clear AUTH port with auth on: never PLAIN or LOGIN in the clear" {
	pa_config clearauth on
	pa_message clear-on box-clear-on
	pa_mark
	pa_run box-clear-on@example.org <"$W/in"
	pa_no_secret
	[[ "$output$stderr" != *"--> AUTH PLAIN"* ]]
	[[ "$output$stderr" != *"--> AUTH LOGIN"* ]]
	if [ "$status" -eq 0 ]; then
		# a challenge-response mechanism is allowed without TLS
		qid=$(pa_queue_id)
		m=$(pa_sasl_method "$qid")
		echo "sasl_method=$m"
		[ "$m" != PLAIN ] && [ "$m" != LOGIN ]
	else
		line=$(pa_session)
		echo "$line"
		[[ "$line" != *" auth="* ]] || [[ "$output$stderr" == *"--> AUTH "* ]]
		[ "$(pa_count box-clear-on)" -eq 0 ]
	fi
}

@test "postfix-auth: STARTTLS to a certificate from an unknown CA: handshake refused, no AUTH reaches Postfix" {
	pa_config starttls plain
	sed -i "s|^tls_trust_file .*|tls_trust_file $(dirname "$PF_CA_FILE")/ca2.pem|" \
	    "$CONFIG"
	pa_message unknown-ca box-unknown-ca
	pa_mark
	pa_run box-unknown-ca@example.org <"$W/in"
	[ "$status" -ne 0 ]
	pa_no_secret
	line=$(pa_session)
	echo "$line"
	[[ "$line" != *" auth="* ]]
	[[ "$line" != *" mail="* ]]
	[[ "$output$stderr" != *"--> AUTH"* ]]
	[ "$(pa_count box-unknown-ca)" -eq 0 ]
}
