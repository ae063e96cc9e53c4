#!/usr/bin/env bats
# shellcheck shell=bash
#
# TLS session resumption across invocations, against tests/fakesmtp.py
# (which serves several connections with one TLS context, so its tickets
# stay good, and writes "resumed" in conn-N.tlsinfo when the client
# resumed).  The sessions live in the queue directory's tls/ (queue on);
# a second submission resumes, and nothing that decided whom the first
# handshake trusted may change in between: the host, the fingerprint,
# the trust file.  The system queue's rules are privileges.bats's; real
# Postfix is postfix.bats's.

load common

setup() {
	common_setup
	QDIR=$T/queue
}

send() {
	run_postie -v rcpt@example.org <"$(sample_message)"
}

# TLS on, the queue (and so the session store) on, then the given lines.
write_resume_config() {
	write_tls_config "queue on" "queue_dir $QDIR" "$@"
}

session_files() {
	find "$QDIR/tls" -type f ! -name '.*' 2>/dev/null | wc -l | tr -d ' '
}

assert_resumed() {
	local n=$1
	grep -qx resumed "$FAKE_DIR/conn-$n.tlsinfo" ||
	    _fail "connection $n was not resumed" "$(cat "$FAKE_DIR/conn-$n.tlsinfo")"
	assert_stderr_contains "*** TLS1.3 session resumed"
}

refute_resumed() {
	local n=$1
	! grep -q resumed "$FAKE_DIR/conn-$n.tlsinfo" ||
	    _fail "connection $n was resumed"
	assert_stderr_not_contains "session resumed"
}

# The SHA-256 certificate fingerprint of certs/NAME.pem, as AB:CD:...
cert_fingerprint() {
	"$PYTHON3" -c 'import hashlib, ssl, sys
der = ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read())
h = hashlib.sha256(der).hexdigest().upper()
print(":".join(h[i:i + 2] for i in range(0, len(h), 2)))' "$CERTS/$1.pem"
}

@test "the first submission keeps its TLS session, the second resumes it" {
	fake_start_tls valid "" --connections 2
	write_resume_config
	send
	assert_status 0
	refute_resumed 1
	assert_equal "$(session_files)" 1 "session files"
	assert_equal "$(stat -c %a "$QDIR/tls")" 700 "tls/ mode"
	assert_equal "$(stat -c %a "$QDIR"/tls/*)" 600 "session file mode"
	send
	assert_status 0
	assert_resumed 2
	assert_equal "$(fake_messages)" 2 messages
	assert_message 2 "$(crlf_copy "$T/msg")"
}

@test "implicit TLS resumes too" {
	fake_start_tls valid "" --connections 2 --tls-wrap
	write_resume_config "tls_starttls off"
	send
	assert_status 0
	refute_resumed 1
	send
	assert_status 0
	assert_resumed 2
}

@test "TLS 1.2 resumes too" {
	fake_start_tls valid "" --connections 2 --tls-max 1.2
	write_resume_config
	send
	assert_status 0
	send
	assert_status 0
	grep -qx resumed "$FAKE_DIR/conn-2.tlsinfo"
	grep -q '^TLSv1.2 ' "$FAKE_DIR/conn-2.tlsinfo"
	assert_stderr_contains "*** TLS1.2 session resumed"
}

@test "a resumed handshake does not read the trust file" {
	fake_start_tls valid "" --connections 2
	cp "$CERTS/ca.pem" "$T/ca.pem"
	write_resume_config "tls_trust_file $T/ca.pem"
	traced -f -e trace=openat -o "$T/trace1" "$POSTIE" -C "$CONFIG" \
	    rcpt@example.org <"$(sample_message)"
	traced -f -e trace=openat -o "$T/trace2" "$POSTIE" -C "$CONFIG" \
	    rcpt@example.org <"$(sample_message)"
	assert_equal "$(grep -c "\"$T/ca.pem\"" "$T/trace1")" 1 "opens, full"
	assert_equal "$(grep -c "\"$T/ca.pem\"" "$T/trace2")" 0 "opens, resumed"
	grep -qx resumed "$FAKE_DIR/conn-2.tlsinfo"
}

@test "a changed tls_fingerprint never resumes, and a wrong one fails even with a session kept" {
	local fp pin
	fake_start_tls unknownca "" --connections 3
	fp=$(cert_fingerprint unknownca)
	pin=$(certtool -i --infile "$CERTS/unknownca.pem" 2>/dev/null |
	    sed -n 's/^[[:space:]]*pin-sha256:/sha256\/\//p' | head -n 1)
	write_resume_config "tls_fingerprint $fp"
	send
	assert_status 0
	# The same server, pinned another way: a full handshake.
	write_resume_config "tls_fingerprint $pin"
	send
	assert_status 0
	refute_resumed 2
	# A pin that is not the server's: refused, whatever is kept (the
	# message waits in the queue: exit 0).
	write_resume_config "tls_fingerprint $(printf '00:%.0s' $(seq 31))00"
	send
	assert_status 0
	assert_stderr_contains "certificate does not match tls_fingerprint"
	assert_stderr_contains "1 of 1 recipient deferred"
	assert_equal "$(fake_messages)" 2 messages
	assert_equal "$(cat "$FAKE_DIR/conn-3.cmds")" \
	    "$(printf 'EHLO client.example.org\nSTARTTLS')" "connection 3"

	! grep -q resumed "$FAKE_DIR/conn-3.tlsinfo" 2>/dev/null
}

@test "a trust file changed in place never resumes" {
	fake_start_tls valid "" --connections 2
	cp "$CERTS/ca.pem" "$T/ca.pem"
	write_resume_config "tls_trust_file $T/ca.pem"
	send
	assert_status 0
	# The same bytes, written again: another file as far as anyone can
	# tell without reading it (the mtime moved).
	touch -d '2001-01-01 00:00:00' "$T/ca.pem"
	send
	assert_status 0
	refute_resumed 2
}

@test "another trust file, certcheck or host name never resumes" {
	fake_start_tls valid "" --connections 4
	cp "$CERTS/ca.pem" "$T/ca.pem"
	write_resume_config
	send
	assert_status 0
	write_resume_config "tls_trust_file $T/ca.pem"
	send
	assert_status 0
	refute_resumed 2
	write_resume_config "tls_host_override mail.example.test"
	send
	assert_status 0
	refute_resumed 3
	write_resume_config "tls_certcheck off"
	send
	assert_status 0
	refute_resumed 4
}

@test "a damaged, open or stale session file is not used" {
	local f
	fake_start_tls valid "" --connections 4
	write_resume_config
	send
	assert_status 0
	f=$(find "$QDIR/tls" -type f ! -name '.*')
	# Damaged: a full handshake, no word about it, a good file again.
	printf 'postie-tls-session-1 garbage\n\001\002' >"$f"
	send
	assert_status 0
	refute_resumed 2
	assert_equal "$(head -c 21 "$f")" "postie-tls-session-1 " "rewritten"
	# Readable by others: not believed.
	chmod 644 "$f"
	send
	assert_status 0
	refute_resumed 3
	assert_equal "$(stat -c %a "$f")" 600 "rewritten private"
	# Made more than an hour ago.
	sed -i '1s/^\(postie-tls-session-1 [0-9a-f]*\) [0-9]*/\1 '"$(($(date +%s) - 3700))"'/' "$f"
	send
	assert_status 0
	refute_resumed 4
}

@test "a renamed session file is refused: its header names its place" {
	local f g
	fake_start_tls valid "" --connections 3
	write_resume_config
	send
	assert_status 0
	f=$(find "$QDIR/tls" -type f ! -name '.*')
	# The host name's session, moved to where tls_host_override's goes.
	write_resume_config "tls_host_override mail.example.test"
	send
	assert_status 0
	g=$(find "$QDIR/tls" -type f ! -name '.*' ! -path "$f")
	cp "$f" "$g"
	send
	assert_status 0
	refute_resumed 3
}

@test "SCRAM-SHA-256-PLUS binds a resumed TLS 1.3 session (tls-exporter)" {
	have_pyopenssl
	printf 'auth users alice:secret\n' >"$T/scenario"
	fake_start_tls valid "$T/scenario" --connections 2 --tls-lib pyopenssl
	write_resume_config "user alice" "password secret" \
	    "auth scram-sha-256-plus"
	send
	assert_status 0
	send
	assert_status 0
	assert_resumed 2
	assert_equal "$(grep -c 'AUTH SCRAM-SHA-256-PLUS ok' "$FAKE_DIR/log")" 2 \
	    "PLUS logins"
	assert_equal "$(fake_messages)" 2 messages
}

@test "queue off keeps no session" {
	fake_start_tls valid "" --connections 2
	write_tls_config "queue_dir $QDIR"
	send
	assert_status 0
	send
	assert_status 0
	refute_resumed 2
	[ ! -e "$QDIR/tls" ]
}

have_pyopenssl() {
	"$PYTHON3" -c 'import OpenSSL.SSL' 2>/dev/null ||
	    _fail "pyOpenSSL (python3-openssl) is not installed (tests/ci.sh installs it)"
}

@test "EXTERNAL works in a resumed session: the client certificate is the session's" {
	have_pyopenssl
	certs_dir
	printf 'auth external\n' >"$T/scenario"
	fake_start_tls valid "$T/scenario" --connections 2 --tls-lib pyopenssl \
	    --tls-client-ca "$CERTS/ca.pem"
	write_resume_config "auth external" "tls_cert_file $CERTS/client.pem" \
	    "tls_key_file $CERTS/client.key"
	send
	assert_status 0
	send
	assert_status 0
	assert_resumed 2
	grep -q '^client-cert ' "$FAKE_DIR/conn-2.tlsinfo"
	assert_equal "$(grep -c 'AUTH EXTERNAL ok' "$FAKE_DIR/log")" 2 \
	    "EXTERNAL logins"
	assert_equal "$(fake_messages)" 2 messages
}

@test "a server that fails the resumed handshake: the same host again at once with a full one; the session is dropped" {
	have_pyopenssl
	fake_start_tls valid "" --connections 4 --tls-lib pyopenssl \
	    --tls-choke-on-resumption
	write_resume_config
	send
	assert_status 0
	assert_equal "$(session_files)" 1 "session files"
	send
	assert_status 0
	assert_stderr_contains "*** the stored TLS session failed; connecting again for a full handshake"
	refute_resumed 3
	assert_equal "$(fake_messages)" 2 messages
	assert_equal "$(cat "$FAKE_DIR/conn-2.cmds")" \
	    "$(printf 'EHLO client.example.org\nSTARTTLS')" "connection 2"
	# dropped, and the retry kept none: the next one starts afresh
	assert_equal "$(session_files)" 0 "session files"
	send
	assert_status 0
	assert_stderr_not_contains "stored TLS session"
	assert_equal "$(fake_messages)" 3 messages
	assert_equal "$(session_files)" 1 "session files"
}
