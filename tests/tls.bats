#!/usr/bin/env bats
# shellcheck shell=bash
#
# TLS in the engine against tests/fakesmtp.py with certificates from
# tests/certs.sh: STARTTLS and implicit TLS, the secure default (TLS
# required except on loopback and unix sockets: tested from a private
# network namespace), every way STARTTLS can go wrong, and bad
# certificates.  "Nothing sensitive sent" is checked on the fake server's
# records of what crossed the wire in plaintext (conn-N.clear) and of
# which commands arrived inside TLS (conn-N.tls).  AUTH is auth.bats's.

load common

send() {
	run_postie rcpt@example.org <"$(sample_message)"
}

mail_from() {
	echo "MAIL FROM:<sender@example.org> SIZE=$(file_size "$(crlf_copy "$T/msg" "$T/size.tmp")")"
}

# The plaintext part of a STARTTLS session is EHLO and STARTTLS only.
assert_clear_is_ehlo_starttls() {
	assert_equal "$(grep '^P ' "$FAKE_DIR/conn-1.tls")" \
	    "$(printf 'P EHLO client.example.org\nP STARTTLS')" "plaintext lines"
	refute_clear_contains MAIL
	refute_clear_contains RCPT
	refute_clear_contains AUTH
}

@test "STARTTLS: EHLO, STARTTLS, EHLO again inside TLS, then the mail" {
	fake_start_tls valid
	write_tls_config
	send
	assert_status 0
	assert_stderr_empty
	assert_commands "EHLO client.example.org" "STARTTLS" \
	    "EHLO client.example.org" "$(mail_from)" \
	    "RCPT TO:<rcpt@example.org>" "DATA" "QUIT"
	assert_clear_is_ehlo_starttls
	assert_equal "$(grep -c '^T ' "$FAKE_DIR/conn-1.tls")" 5 "lines in TLS"
	assert_message 1 "$(crlf_copy "$T/msg")"
	grep -q '^TLSv1.3 ' "$FAKE_DIR/conn-1.tlsinfo"
}

@test "STARTTLS: the capabilities seen in plaintext are forgotten" {
	# In plaintext: PIPELINING and a 10-byte SIZE limit.  Inside TLS:
	# neither.  Remembering either would pipeline or refuse the message.
	fake_start_tls valid - <<'EOF'
capabilities SIZE, 8BITMIME
on EHLO#1
	reply 250-fake.example.org
	reply 250-PIPELINING
	reply 250-SIZE 10
	reply 250 STARTTLS
EOF
	write_tls_config
	send
	assert_status 0
	assert_segment "$(mail_from)"'\r\n'
	assert_segment 'RCPT TO:<rcpt@example.org>\r\n'
	assert_equal "$(fake_messages)" 1 messages
}

@test "STARTTLS is sent alone, as the last command of its group" {
	fake_start_tls valid
	write_tls_config
	send
	assert_status 0
	assert_segment 'STARTTLS\r\n'
}

@test "implicit TLS (tls_starttls off): the handshake comes before the greeting" {
	fake_start_tls valid "" --tls-wrap
	write_tls_config "tls_starttls off"
	send
	assert_status 0
	assert_commands "EHLO client.example.org" "$(mail_from)" \
	    "RCPT TO:<rcpt@example.org>" "DATA" "QUIT"
	assert_equal "$(grep -c '^P ' "$FAKE_DIR/conn-1.tls")" 0 \
	    "plaintext lines"
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "implicit TLS against a server that answers in plaintext: 75, nothing sent" {
	fake_start
	write_tls_config "tls_starttls off"
	send
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "TLS"
	refute_transcript_contains "EHLO"
	refute_transcript_contains "MAIL"
}

@test "loopback without a tls keyword: plaintext, no STARTTLS even when offered" {
	fake_start_tls valid
	write_config
	send
	assert_status 0
	assert_commands "EHLO client.example.org" "$(mail_from)" \
	    "RCPT TO:<rcpt@example.org>" "DATA" "QUIT"
}

@test "secure default: a non-loopback server without STARTTLS is refused (75), 'tls off' sends" {
	netns_start
	fake_start "" --listen 10.200.0.1 --connections 2
	write_config "host 10.200.0.1"
	send
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "does not offer STARTTLS; refusing to send in plaintext (write 'tls off' in the account to allow it)"
	assert_commands "EHLO client.example.org" "QUIT"
	assert_no_message

	write_config "host 10.200.0.1" "tls off"
	send
	assert_status 0
	assert_equal "$(fake_messages)" 1 messages
}

@test "secure default: a non-loopback server with STARTTLS gets TLS without any keyword" {
	netns_start
	certs_dir
	fake_start_tls valid "" --listen 10.200.0.1
	# The certificate names mail.example.test: check that name.
	write_config "host 10.200.0.1" "tls_trust_file $CERTS/ca.pem" \
	    "tls_host_override mail.example.test"
	send
	assert_status 0
	assert_clear_is_ehlo_starttls
	assert_equal "$(fake_messages)" 1 messages
}

@test "secure default: port 465 means implicit TLS" {
	netns_start
	certs_dir
	fake_start_tls valid "" --listen 10.200.0.1 --port 465 --tls-wrap
	write_config "host 10.200.0.1" "port 465" \
	    "tls_trust_file $CERTS/ca.pem" "tls_host_override mail.example.test"
	send
	assert_status 0
	assert_equal "$(grep -c '^P ' "$FAKE_DIR/conn-1.tls")" 0 \
	    "plaintext lines"
	assert_equal "$(fake_messages)" 1 messages
}

@test "STARTTLS injection: a full line after the 220 in the same segment is 76, nothing more sent" {
	fake_start_tls valid - <<'EOF'
on STARTTLS
	reply 220 2.0.0 go ahead
	raw 250 injected\r\n
	starttls
EOF
	write_tls_config
	send
	assert_status 76
	assert_stderr_one_line
	assert_stderr_contains "after its 220 to STARTTLS"
	assert_commands "EHLO client.example.org" "STARTTLS"
	assert_no_message
}

@test "STARTTLS injection: a partial line after the 220 is 76 too" {
	fake_start_tls valid - <<'EOF'
on STARTTLS
	reply 220 2.0.0 go ahead
	raw 250-inj
	starttls
EOF
	write_tls_config
	send
	assert_status 76
	assert_stderr_contains "after its 220 to STARTTLS"
	assert_commands "EHLO client.example.org" "STARTTLS"
}

@test "STARTTLS stripped from EHLO: 75 naming 'tls off', nothing sent" {
	fake_start_tls valid - <<'EOF'
no-starttls
EOF
	write_tls_config
	send
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "does not offer STARTTLS; refusing to send in plaintext (write 'tls off' in the account to allow it)"
	assert_commands "EHLO client.example.org" "QUIT"
}

@test "STARTTLS answered 454: 75, nothing sent" {
	fake_start_tls valid - <<'EOF'
on STARTTLS => reply 454 4.7.0 TLS not available due to temporary reason
EOF
	write_tls_config
	send
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "STARTTLS refused: 454 4.7.0 TLS not available"
	assert_commands "EHLO client.example.org" "STARTTLS" "QUIT"
}

@test "STARTTLS answered 502: 75, nothing sent" {
	fake_start_tls valid - <<'EOF'
on STARTTLS => reply 502 5.5.1 no
EOF
	write_tls_config
	send
	assert_status 75
	assert_stderr_contains "STARTTLS refused: 502"
	assert_commands "EHLO client.example.org" "STARTTLS" "QUIT"
}

@test "STARTTLS answered 354: a reply that does not fit, 76, nothing sent" {
	fake_start_tls valid - <<'EOF'
on STARTTLS => reply 354 go on
EOF
	write_tls_config
	send
	assert_status 76
	assert_stderr_contains "unexpected reply to STARTTLS: 354"
	assert_commands "EHLO client.example.org" "STARTTLS"
}

@test "EHLO refused then HELO: no STARTTLS possible, 75 when TLS is required" {
	fake_start_tls valid - <<'EOF'
on EHLO => reply 502 5.5.2 Error: command not recognized
EOF
	write_tls_config
	send
	assert_status 75
	assert_stderr_contains "does not offer STARTTLS"
	assert_commands "EHLO client.example.org" "HELO client.example.org" \
	    "QUIT"
}

@test "expired certificate: 75 with the reason, nothing after STARTTLS" {
	fake_start_tls expired
	write_tls_config
	send
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "expired"
	assert_commands "EHLO client.example.org" "STARTTLS"
	assert_no_message
}

@test "wrong host (tls_host_override not in the certificate): 75, nothing after STARTTLS" {
	fake_start_tls valid
	write_tls_config "tls_host_override other.example.test"
	send
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "other.example.test"
	assert_commands "EHLO client.example.org" "STARTTLS"
}

@test "implicit TLS with an unknown CA: 75, nothing sent" {
	fake_start_tls unknownca "" --tls-wrap
	write_tls_config "tls_starttls off"
	send
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "TLS handshake"
	assert_equal "$(fake_commands)" "" commands
}

# "TLS handshake with 'H' failed: " and then the reason, which does not
# say it again.
@test "implicit TLS to a plaintext server: 75, 'handshake' said once" {
	fake_start
	write_tls_config "tls_starttls off"
	send
	assert_status 75
	assert_stderr_one_line
	assert_stderr_matches "^postie: account 'default', server 127\.0\.0\.1\[127\.0\.0\.1\]:[0-9]+, TLS: TLS handshake with '127\.0\.0\.1' failed: [A-Z][^:]* \(does the server speak TLS here\?\)\$"
	assert_equal "$(grep -o -i handshake <<<"$stderr" | wc -l)" 1 \
	    "times 'handshake' is said"
	assert_no_message
}

# What to do about a certificate nobody vouches for: the command that
# shows its fingerprint, and the keyword that pins it; and that command
# does show it.
@test "self-signed or unknown CA: the error says how to pin, and -S shows the pin" {
	local cert fp
	for cert in selfsigned unknownca; do
		fake_start_tls "$cert" "" --tls-wrap --connections 2
		write_tls_config "tls_starttls off"
		send
		assert_status 75
		assert_stderr_one_line
		assert_stderr_contains "TLS: TLS handshake with '127.0.0.1' failed: certificate "
		assert_stderr_contains "to pin it, check the fingerprint that 'postie -S --tls-certcheck=off' shows and set tls_fingerprint to it"
		[ "$cert" = selfsigned ] ||
		    assert_stderr_contains "issuer is unknown (not in the trust store); trust its CA with tls_trust_file or, to pin it"
		# The command the message names prints the fingerprint ...
		run_postie -S --tls-certcheck=off
		assert_status 0
		fp=$(sed -n 's/^ *SHA-256 fingerprint: //p' <<<"$output")
		[[ $fp =~ ^([0-9A-F]{2}:){31}[0-9A-F]{2}$ ]] || _fail "$output"
		fake_stop
		rm -f "$CONFIG"
		# ... and that fingerprint as tls_fingerprint lets mail through.
		fake_start_tls "$cert" "" --tls-wrap
		write_tls_config "tls_starttls off" "tls_fingerprint $fp"
		send
		assert_status 0
		assert_stderr_empty
		assert_equal "$(fake_messages)" 1 messages
		fake_stop
		rm -f "$CONFIG"
	done
}

@test "tls_certcheck off: delivered over TLS, with a warning" {
	fake_start_tls unknownca
	write_tls_config "tls_certcheck off"
	send
	assert_status 0
	assert_equal "$(fake_messages)" 1 messages
	assert_clear_is_ehlo_starttls
	# The engine hands the warning to the front end (smtp_result.warn).
	assert_stderr_contains "postie: warning: tls_certcheck is off"
}

@test "close without close_notify after the final 250 is still success" {
	fake_start_tls valid - <<'EOF'
on DOT
	reply 250 2.0.0 Ok: queued
	drop
EOF
	write_tls_config
	send
	assert_status 0
	assert_equal "$(fake_messages)" 1 messages
}

@test "tls_fingerprint pins a certificate from an unknown CA: delivered, no warning" {
	certs_dir
	local fp
	fp=$("$PYTHON3" -c 'import hashlib, ssl, sys
der = ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read())
h = hashlib.sha256(der).hexdigest().upper()
print(":".join(h[i:i + 2] for i in range(0, len(h), 2)))' "$CERTS/unknownca.pem")
	fake_start_tls unknownca
	write_tls_config "tls_fingerprint $fp"
	send
	assert_status 0
	assert_stderr_empty
	assert_clear_is_ehlo_starttls
	assert_equal "$(fake_messages)" 1 messages
}

@test "a sha256// public-key pin written in the config file works" {
	certs_dir
	local pin
	# certtool prints the same SHA-256 public-key pin as "pin-sha256:".
	pin=$(certtool -i --infile "$CERTS/unknownca.pem" 2>/dev/null |
	    sed -n 's/^[[:space:]]*pin-sha256:/sha256\/\//p' | head -n 1)
	[[ "$pin" == sha256//* ]] || _fail "no pin: $pin"
	fake_start_tls unknownca
	write_tls_config "tls_fingerprint $pin"
	send
	assert_status 0
	assert_stderr_empty
	assert_equal "$(fake_messages)" 1 messages
}

@test "a wrong tls_fingerprint: 75, nothing after STARTTLS" {
	fake_start_tls valid
	write_tls_config "tls_fingerprint $(printf '00:%.0s' $(seq 31))00"
	send
	assert_status 75
	assert_stderr_one_line
	assert_commands "EHLO client.example.org" "STARTTLS"
}

@test "LMTP with STARTTLS: LHLO again inside TLS" {
	fake_start_tls valid "" --lmtp
	write_tls_config "protocol lmtp"
	send
	assert_status 0
	assert_commands "LHLO client.example.org" "STARTTLS" \
	    "LHLO client.example.org" "$(mail_from)" \
	    "RCPT TO:<rcpt@example.org>" "DATA" "QUIT"
	refute_clear_contains MAIL
}

@test "unix socket: plaintext without a tls keyword, STARTTLS with tls on" {
	fake_start_tls valid "" --unix "$T/sock" --connections 2
	write_config
	send
	assert_status 0
	refute_command_prefix "STARTTLS"

	write_tls_config "tls_host_override mail.example.test"
	send
	assert_status 0
	fake_conn_done 2
	grep -qx 'P STARTTLS' "$FAKE_DIR/conn-2.tls"
	grep -q '^T MAIL FROM:' "$FAKE_DIR/conn-2.tls"
}

@test "::1 is loopback: plaintext without a tls keyword" {
	fake_start_tls valid "" --listen ::1
	write_config "host ::1"
	send
	assert_status 0
	refute_command_prefix "STARTTLS"
	assert_equal "$(fake_messages)" 1 messages
}

# The whole certificate matrix through postie itself (tls-certs.bats checks
# tls.c alone against gnutls-serv): each bad certificate ends the session
# at the handshake with 75 and its reason, and nothing but EHLO and
# STARTTLS ever left in plaintext, nothing at all inside TLS.
@test "every bad certificate of the matrix: 75, the reason, no AUTH or MAIL" {
	local cert why
	while IFS='|' read -r cert why; do
		fake_start_tls "$cert"
		write_tls_config "tls_host_override mail.example.test" \
		    "user alice" "password secret" "auth plain"
		send
		[ "$status" -eq 75 ] || _fail "$cert: status $status: $stderr"
		[[ "$stderr" == *"$why"* ]] || _fail "$cert: want '$why': $stderr"
		assert_commands "EHLO client.example.org" "STARTTLS"
		refute_transcript_contains "AUTH"
		refute_transcript_contains "MAIL FROM"
		fake_stop
		rm -f "$CONFIG"
	done <<'LIST'
expired|certificate has expired
future|certificate is not yet valid
wronghost|certificate is not valid for 'mail.example.test'
selfsigned|certificate is self-signed and not in the trust store
unknownca|certificate issuer is unknown
nonca|certificate was issued by a certificate that is not a CA
clientonly|certificate is not for TLS servers (key purpose)
muststaple|certificate requires an OCSP staple (must-staple)
cnonly|the name is only in its subject CN
LIST
}
