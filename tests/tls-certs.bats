#!/usr/bin/env bats
#
# tls-certs.bats -- src/tls.c against a real GnuTLS server (gnutls-serv)
# serving each certificate that tests/certs.sh makes, through
# tests/tlsprobe (one tls_handshake(), prints "ok VERSION" or
# "error: REASON").  The verdict and the exact one-line reason are
# checked for every certificate of the matrix; also IP literals, SNI
# (A-label, none for IP literals), fingerprints and pins, certcheck 0,
# a TLS-1.0-only server, the CRL, client certificates, channel binding
# and tls_describe().
#
# Needs certtool and gnutls-serv (package gnutls-bin; tests/ci.sh installs
# it).  Every wait is bounded: a server that does not listen within 5 s
# fails the test, tlsprobe runs under timeout(1).

load common

CERTS=${TOP_BUILDDIR}/tests/certs
TLSPROBE=${TOP_BUILDDIR}/tests/tlsprobe
HOST=mail.example.test

setup_file() {
	local c=${TOP_BUILDDIR}/tests/certs
	command -v certtool >/dev/null || { echo "certtool missing (gnutls-bin)" >&2; return 1; }
	command -v gnutls-serv >/dev/null || { echo "gnutls-serv missing (gnutls-bin)" >&2; return 1; }
	[ -x "${TOP_BUILDDIR}/tests/tlsprobe" ] || { echo "tests/tlsprobe not built (make check builds it)" >&2; return 1; }
	sh "$TOP_SRCDIR/tests/certs.sh" "$c"
}

setup() {
	T=$BATS_TEST_TMPDIR
	SERV_PID=
	SERV_PORT=
	SERV_LOG=$T/serv.log
}

teardown() {
	serv_stop
}

# A port below the usual ephemeral range (32768-60999), so that it is
# rarely taken; serve() tries another when it is.
random_port() {
	echo $((20000 + RANDOM % 12000))
}

# serve CERT [gnutls-serv options...]: start gnutls-serv with CERT.pem/.key
# on a free port; SERV_PORT, SERV_PID, SERV_LOG.  Bounded: 5 s to listen,
# five ports tried (gnutls-serv says "bind() failed" and stays up when the
# port is taken).
serve() {
	local cert=$1 try i
	shift
	for try in 1 2 3 4 5; do
		SERV_PORT=$(random_port)
		: >"$SERV_LOG"
		gnutls-serv --x509certfile "$CERTS/$cert.pem" \
		    --x509keyfile "$CERTS/$cert.key" -p "$SERV_PORT" "$@" \
		    </dev/null >"$SERV_LOG" 2>&1 3>&- &
		SERV_PID=$!
		for i in $(seq 1 100); do
			if grep -q "listening on IPv4.*done" "$SERV_LOG"; then
				return 0
			fi
			grep -q "failed" "$SERV_LOG" && break
			kill -0 "$SERV_PID" 2>/dev/null || break
			sleep 0.05
		done
		serv_stop
	done
	echo "gnutls-serv did not start:" >&2
	cat "$SERV_LOG" >&2
	return 1
}

serv_stop() {
	if [ -n "${SERV_PID-}" ]; then
		kill "$SERV_PID" 2>/dev/null || true
		wait "$SERV_PID" 2>/dev/null || true
		SERV_PID=
	fi
}

# probe [tlsprobe options...]: handshake with the server on 127.0.0.1;
# the name checked is $HOST unless --host is given.  $status, $output,
# $lines.
probe() {
	local host=(--host "$HOST") a
	for a in "$@"; do
		[ "$a" = --host ] && host=()
	done
	run timeout 15 "$TLSPROBE" 127.0.0.1 "$SERV_PORT" --timeout 10 \
	    "${host[@]}" "$@"
}

# probe_ca [options...]: probe with the test CA as the trust file.
probe_ca() {
	probe --trust "$CERTS/ca.pem" "$@"
}

# refused CERT REASON [probe options]: CERT is served, the handshake with
# the test CA as trust file fails with exactly "error: REASON".
refused() {
	local cert=$1 reason=$2
	shift 2
	serve "$cert"
	probe_ca "$@"
	assert_status 1
	assert_equal "${lines[0]}" "error: $reason"
}

# The SHA-256 fingerprint of CERT as msmtp writes it (AB:CD:...).
fingerprint_of() {
	certtool --fingerprint --hash sha256 --infile "$CERTS/$1.pem" \
	    2>/dev/null | tr a-f A-F | sed 's/../&:/g; s/:$//'
}

# The public-key pin of CERT (sha256//BASE64), as certtool computes it.
pin_of() {
	certtool -i --infile "$CERTS/$1.pem" |
	    sed -n 's/.*pin-sha256:/sha256\/\//p' | head -n 1
}

# ---- the certificate matrix ------------------------------------------------

@test "a valid certificate from the trusted CA is accepted (TLS 1.3)" {
	serve valid
	probe_ca
	assert_status 0
	assert_equal "${lines[0]}" "ok TLS1.3"
}

@test "an expired certificate is refused" {
	refused expired "certificate has expired (not after 2021-01-01 00:00:00 UTC)"
}

@test "a certificate that is not yet valid is refused" {
	refused future "certificate is not yet valid (not before 2090-01-01 00:00:00 UTC)"
}

@test "a certificate for another host is refused" {
	refused wronghost "certificate is not valid for 'mail.example.test'"
}

@test "a self-signed certificate is refused" {
	refused selfsigned "certificate is self-signed and not in the trust store; to pin it, check the fingerprint that 'postie -S --tls-certcheck=off' shows and set tls_fingerprint to it"
}

@test "a certificate from an unknown CA is refused" {
	refused unknownca "certificate issuer is unknown (not in the trust store); trust its CA with tls_trust_file or, to pin it, check the fingerprint that 'postie -S --tls-certcheck=off' shows and set tls_fingerprint to it"
}

@test "a certificate issued by a non-CA certificate is refused" {
	refused nonca "certificate was issued by a certificate that is not a CA"
}

@test "a certificate for TLS clients only is refused (key purpose)" {
	refused clientonly "certificate is not for TLS servers (key purpose)"
}

@test "a must-staple certificate without a staple is refused" {
	refused muststaple "certificate requires an OCSP staple (must-staple) and the server sent none"
}

@test "a certificate with the name only in its CN (no SAN) is refused, TLS 1.3 and 1.2" {
	local why="certificate is not valid for 'mail.example.test' (the name is only in its subject CN, without subjectAltName)"
	refused cnonly "$why"
	serv_stop
	serve cnonly --priority NORMAL:-VERS-ALL:+VERS-TLS1.2
	probe_ca
	assert_status 1
	assert_equal "${lines[0]}" "error: $why"
}

@test "a revoked certificate is refused with the CRL, accepted without" {
	refused revoked "certificate has been revoked" --crl "$CERTS/crl.pem"
	probe_ca
	assert_status 0
}

# ---- IP literals and SNI -----------------------------------------------------

@test "an IP literal is checked against the certificate's IP entries" {
	serve iponly
	probe_ca --host 127.0.0.1
	assert_status 0
	probe_ca --host '[127.0.0.1]'
	assert_status 0
	probe_ca --host ::1
	assert_status 0
	probe_ca --host '[IPv6:::1]'
	assert_status 0
	probe_ca --host 127.0.0.2
	assert_status 1
	assert_equal "${lines[0]}" "error: certificate is not valid for '127.0.0.2'"
	# The name is not in an IP-only certificate.
	probe_ca
	assert_status 1
	assert_equal "${lines[0]}" "error: certificate is not valid for 'mail.example.test'"
}

@test "an IP literal never matches a certificate without that IP entry" {
	serve wronghost
	probe_ca --host 127.0.0.1
	assert_status 1
	assert_equal "${lines[0]}" "error: certificate is not valid for '127.0.0.1'"
}

@test "SNI carries the A-label of an IDN host; the check uses it too" {
	serve idn
	probe_ca --host 'bücher.example.test'
	assert_status 0
	probe_ca --host 'BÜCHER.Example.Test'
	assert_status 0
	run grep -c 'Given server name\[1\]: xn--bcher-kva.example.test$' "$SERV_LOG"
	assert_equal "$output" 2
}

@test "no SNI for an IP literal" {
	serve valid
	probe_ca --host 127.0.0.1
	assert_status 0
	probe_ca
	assert_status 0
	run grep -c 'Given server name' "$SERV_LOG"
	assert_equal "$output" 1 "SNI only for the name"
	grep -q 'Given server name\[1\]: mail.example.test$' "$SERV_LOG"
}

# ---- fingerprints and pins -----------------------------------------------------

@test "a SHA-256 fingerprint accepts a self-signed certificate (any case, colons optional)" {
	local fp
	fp=$(fingerprint_of selfsigned)
	serve selfsigned
	probe --fingerprint "$fp"
	assert_status 0
	probe --fingerprint "$(printf %s "$fp" | tr A-F a-f)"
	assert_status 0
	probe --fingerprint "$(printf %s "$fp" | tr -d :)"
	assert_status 0
}

@test "a public-key pin accepts a self-signed certificate, whatever its name" {
	serve selfsigned
	probe --fingerprint "$(pin_of selfsigned)" --host other.example.test
	assert_status 0
	assert_equal "${lines[0]}" "ok TLS1.3"
}

@test "a wrong fingerprint or pin is refused, naming the server's" {
	local fp pin
	fp=$(fingerprint_of selfsigned)
	pin=$(pin_of selfsigned)
	serve selfsigned
	probe --fingerprint "$(fingerprint_of valid)"
	assert_status 1
	assert_equal "${lines[0]}" "error: certificate does not match tls_fingerprint (the server's is $fp)"
	probe --fingerprint "$(pin_of valid)"
	assert_status 1
	assert_equal "${lines[0]}" "error: public key does not match the pin in tls_fingerprint (the server's is $pin)"
}

@test "a pin does not lift the validity dates or the key purpose" {
	serve expired
	probe --fingerprint "$(fingerprint_of expired)"
	assert_status 1
	assert_equal "${lines[0]}" "error: certificate has expired (not after 2021-01-01 00:00:00 UTC)"
	serv_stop
	serve clientonly
	probe --fingerprint "$(pin_of clientonly)"
	assert_status 1
	assert_equal "${lines[0]}" "error: certificate is not for TLS servers (key purpose)"
}

@test "SHA-1 fingerprints and malformed values are refused before the handshake" {
	serve selfsigned
	probe --fingerprint "$(certtool --fingerprint --hash sha1 --infile "$CERTS/selfsigned.pem" 2>/dev/null)"
	assert_status 1
	[[ ${lines[0]} == "error: tls_fingerprint '"*"' is SHA-1; only SHA-256 fingerprints are accepted" ]]
	probe --fingerprint AB:CD
	assert_status 1
	assert_equal "${lines[0]}" "error: invalid tls_fingerprint 'AB:CD' (expected a SHA-256 fingerprint AB:CD:... or a pin sha256//BASE64)"
	probe --fingerprint sha256//AAAA
	assert_status 1
	assert_equal "${lines[0]}" "error: invalid public-key pin 'sha256//AAAA' (expected sha256// and the base64 of 32 bytes)"
}

@test "certcheck 0 accepts anything" {
	local c
	for c in expired selfsigned wronghost unknownca clientonly; do
		serve "$c"
		probe_ca --certcheck 0
		assert_status 0
		serv_stop
	done
}

@test "certcheck 0 does not lift a fingerprint that is also given" {
	serve selfsigned
	probe --certcheck 0 --fingerprint "$(pin_of valid)"
	assert_status 1
	assert_equal "${lines[0]}" "error: public key does not match the pin in tls_fingerprint (the server's is $(pin_of selfsigned))"
	probe --certcheck 0 --fingerprint "$(fingerprint_of selfsigned)"
	assert_status 0
}

# ---- protocol versions and priorities ----------------------------------------

@test "a TLS-1.0-only server is refused (TLS 1.2 is the floor)" {
	serve valid --priority NORMAL:-VERS-ALL:+VERS-TLS1.0
	probe_ca
	assert_status 1
	assert_equal "${lines[0]}" "error: server offers only TLS versions postie refuses (older than TLS 1.2)"
	# The server really speaks TLS 1.0 (this GnuTLS build still can):
	# allowed explicitly by tls_priorities, the same handshake works.
	probe_ca --priorities NORMAL:+VERS-TLS1.0
	assert_status 0
	assert_equal "${lines[0]}" "ok TLS1.0"
}

@test "a TLS-1.2-only server is accepted" {
	serve valid --priority NORMAL:-VERS-ALL:+VERS-TLS1.2
	probe_ca
	assert_status 0
	assert_equal "${lines[0]}" "ok TLS1.2"
}

@test "an invalid priority string is reported with its position" {
	serve valid
	probe_ca --priorities NORMAL:+BOGUS
	assert_status 1
	assert_equal "${lines[0]}" "error: invalid tls_priorities at '+BOGUS'"
}

# ---- channel binding, describe, client certificates -----------------------

@test "channel binding: tls-exporter on TLS 1.3, tls-unique on TLS 1.2 (with EMS only), as the server computes them" {
	local want
	serve valid
	probe_ca --cb
	assert_status 0
	want=$(sed -n "s/.*'tls-exporter': //p" "$SERV_LOG" | head -n 1)
	[ -n "$want" ]
	assert_equal "${lines[1]}" "channel binding tls-exporter $want"
	serv_stop
	serve valid --priority NORMAL:-VERS-ALL:+VERS-TLS1.2
	probe_ca --cb
	assert_status 0
	want=$(sed -n "s/.*'tls-unique': //p" "$SERV_LOG" | head -n 1)
	[ -n "$want" ]
	assert_equal "${lines[1]}" "channel binding tls-unique $want"
	# TLS 1.2 without the extended master secret: tls-unique binds
	# nothing, none is given.
	serv_stop
	serve valid --priority NORMAL:-VERS-ALL:+VERS-TLS1.2:%NO_SESSION_HASH
	probe_ca --cb
	assert_status 0
	assert_equal "${lines[1]}" "channel binding none"
}

@test "tls_describe gives version, cipher suite, subject, issuer, dates, fingerprint and pin" {
	serve valid
	probe_ca --describe
	assert_status 0
	assert_equal "${lines[1]}" "TLS version: TLS1.3"
	[[ ${lines[2]} == "cipher suite: TLS_"* ]]
	assert_equal "${lines[3]}" "certificate subject: CN=mail.example.test"
	assert_equal "${lines[4]}" "certificate issuer: CN=postie test CA"
	[[ ${lines[5]} =~ ^certificate\ valid\ from:\ [0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:]{8}\ UTC$ ]]
	[[ ${lines[6]} =~ ^certificate\ valid\ until:\ [0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:]{8}\ UTC$ ]]
	assert_equal "${lines[7]}" "SHA-256 fingerprint: $(fingerprint_of valid)"
	assert_equal "${lines[8]}" "public-key pin: $(pin_of valid)"
}

@test "a client certificate is sent when the server asks for it" {
	serve valid --x509cafile "$CERTS/ca.pem" --require-client-cert
	probe_ca --cert "$CERTS/client.pem" --key "$CERTS/client.key" --send hello
	assert_status 0
	assert_equal "${lines[1]}" "sent"
	assert_equal "${lines[2]}" "client certificate sent"
	# gnutls-serv may print the peer's certificate after the probe has
	# already exited: wait for it (at most 5 s).
	for _ in $(seq 1 100); do
		grep -q 'Subject: CN=postie client' "$SERV_LOG" && break
		sleep 0.05
	done
	grep -q 'Subject: CN=postie client' "$SERV_LOG"
	# Not asked for (gnutls-serv asks by default): not sent.
	serv_stop
	serve valid --disable-client-cert
	probe_ca --cert "$CERTS/client.pem" --key "$CERTS/client.key"
	assert_status 0
	assert_equal "${lines[1]}" "client certificate not sent"
}

@test "setup errors: missing or empty trust file, mismatched client key" {
	serve valid
	probe --trust "$T/none.pem"
	assert_status 1
	[[ ${lines[0]} == "error: cannot load trust file '$T/none.pem': "* ]]
	probe --trust /dev/null
	assert_status 1
	assert_equal "${lines[0]}" "error: trust file '/dev/null' holds no certificate"
	probe_ca --cert "$CERTS/client.pem" --key "$CERTS/valid.key"
	assert_status 1
	[[ ${lines[0]} == "error: cannot load client certificate '$CERTS/client.pem' with key '$CERTS/valid.key': "* ]]
}

# ---- servers that do not speak TLS ------------------------------------------

# raw_server GREETING: a plain TCP server on SERV_PORT that sends
# GREETING (may be empty: a silent server) and holds the connection 5 s.
raw_server() {
	"$PYTHON3" -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(5)
s.settimeout(10)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(sys.argv[1].encode())
time.sleep(5)
' "$1" </dev/null >"$T/raw.port" 2>/dev/null 3>&- &
	SERV_PID=$!
	wait_port_file "$T/raw.port"
}

# wait_port_file FILE: wait (at most 5 s) for a server to write its port
# into FILE; sets SERV_PORT.
wait_port_file() {
	local i
	for i in $(seq 1 100); do
		[ -s "$1" ] && break
		sleep 0.05
	done
	SERV_PORT=$(cat "$1")
	[ -n "$SERV_PORT" ]
}

@test "a plaintext server on a TLS port fails the handshake at once" {
	raw_server $'220 plain.example ESMTP\r\n'
	probe_ca
	assert_status 1
	# GnuTLS's own text ("An unexpected TLS packet was received."),
	# not prefixed: the caller says that the handshake failed.
	[[ ${lines[0]} == "error: "*" (does the server speak TLS here?)" ]]
	[[ ${lines[0]} != *[Hh]andshake* ]]
}

@test "a silent server hits the handshake deadline" {
	raw_server ""
	run timeout 10 "$TLSPROBE" 127.0.0.1 "$SERV_PORT" --host "$HOST" \
	    --trust "$CERTS/ca.pem" --timeout 1
	assert_status 1
	assert_equal "${lines[0]}" "error: timed out"
}

# ---- the iobuf ops over a session ---------------------------------------------

@test "lines written and read through tls_io_ops (gnutls-serv --echo)" {
	serve valid --echo
	probe_ca --send "EHLO client.example" --read 1
	assert_equal "${lines[1]}" "sent"
	assert_equal "${lines[2]}" "got EHLO client.example"
}

# tls_server MODE: a Python TLS server on SERV_PORT that sends two lines
# and closes, with close_notify (MODE clean) or without (abrupt).
tls_server() {
	cat >"$T/tlsclose.py" <<'PY'
import socket, ssl, sys
cert, key, mode = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(5)
s.settimeout(10)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.settimeout(10)
t = ctx.wrap_socket(c, server_side=True)
t.sendall(b"250 one\r\n250 two\r\n")
if mode == "clean":
    t.unwrap().close()
else:
    socket.socket(fileno=t.detach()).close()
PY
	"$PYTHON3" "$T/tlsclose.py" "$CERTS/valid.pem" "$CERTS/valid.key" "$1" \
	    </dev/null >"$T/tlsclose.port" 2>"$T/tlsclose.err" 3>&- &
	SERV_PID=$!
	wait_port_file "$T/tlsclose.port"
}

@test "a close without close_notify reads as the end of the stream, and says so" {
	tls_server abrupt
	probe_ca --read 10
	assert_status 0
	assert_equal "${lines[1]}" "got 250 one"
	assert_equal "${lines[2]}" "got 250 two"
	assert_equal "${lines[3]}" "eof: the server closed the connection without a TLS close_notify"
}

@test "a close with close_notify reads as the end of the stream" {
	tls_server clean
	probe_ca --read 10
	assert_status 0
	assert_equal "${lines[2]}" "got 250 two"
	assert_equal "${lines[3]}" "eof: no TLS error"
}
