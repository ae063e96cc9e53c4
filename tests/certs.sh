#!/bin/sh
#
# certs.sh DIR -- make the test certificates for the TLS tests with
# GnuTLS's certtool (package gnutls-bin).  Idempotent: a stamp in DIR
# says the set is complete, and a second run (or one that races another
# bats file) returns at once.  Prints nothing on success; on failure,
# certtool's output and a non-zero status.
#
# Every key is ECDSA P-256 (fast to make).  Server certificates name
# mail.example.test, 127.0.0.1 and ::1 unless said otherwise.  In DIR:
#
#   ca.pem ca.key            the test CA (the trust file of the tests)
#   ca2.pem ca2.key          another CA, never in a trust file
#   valid.pem valid.key      by ca, tls_www_server, valid now
#   expired.pem/.key         by ca, 2020-01-01 .. 2021-01-01
#   future.pem/.key          by ca, not valid before 2090-01-01
#   wronghost.pem/.key       by ca, for other.example.test only (no IP)
#   selfsigned.pem/.key      self-signed server certificate
#   unknownca.pem/.key       by ca2
#   nonca.pem/.key           by notca (an end entity); the .pem holds the
#                            chain leaf + notca.pem, as a server sends it
#   notca.pem notca.key      the end-entity certificate used as issuer
#   clientonly.pem/.key      by ca, key purpose tls_www_client only
#   muststaple.pem/.key      by ca, TLS feature status_request (5)
#   cnonly.pem/.key          by ca, CN=mail.example.test, no SAN at all
#   iponly.pem/.key          by ca, SAN IP 127.0.0.1 and ::1 only
#   client.pem client.key    by ca, tls_www_client, CN=postie client
#                            (for SASL EXTERNAL)
#   idn.pem idn.key          by ca, for xn--bcher-kva.example.test
#                            (bücher.example.test)
#   crl.pem                  ca's CRL revoking revoked.pem
#   revoked.pem/.key         by ca, valid but listed in crl.pem
#
# Use one DIR per build tree, e.g. "$TOP_BUILDDIR/tests/certs", so that
# every bats file shares the set.

set -eu

dir=${1:?usage: certs.sh DIR}
stamp_text="postie test certificates v1"
CERTTOOL=${CERTTOOL:-certtool}

mkdir -p "$dir"
if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp_text" ]; then
	exit 0
fi

# One maker at a time; a waiter finds the stamp and leaves.
exec 9>"$dir/.lock"
if command -v flock >/dev/null 2>&1; then
	flock -w 60 9
fi
if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp_text" ]; then
	exit 0
fi

log="$dir/certtool.log"
: >"$log"
tpl="$dir/tmpl"
mkdir -p "$tpl"

ct() {
	if ! "$CERTTOOL" "$@" >>"$log" 2>&1; then
		cat "$log" >&2
		echo "certs.sh: certtool $* failed" >&2
		exit 1
	fi
}

key() {
	ct --generate-privkey --key-type=ecdsa --curve=secp256r1 \
	    --outfile "$dir/$1.key"
}

# tmpl NAME LINE... : write a template file
tmpl() {
	name=$1
	shift
	printf '%s\n' "$@" >"$tpl/$name"
}

# signed NAME ISSUER TEMPLATE : key + certificate signed by ISSUER
signed() {
	key "$1"
	ct --generate-certificate --load-privkey "$dir/$1.key" \
	    --load-ca-certificate "$dir/$2.pem" \
	    --load-ca-privkey "$dir/$2.key" \
	    --template "$tpl/$3" --outfile "$dir/$1.pem"
}

server_san='dns_name = "mail.example.test"
ip_address = "127.0.0.1"
ip_address = "::1"'
server_use='tls_www_server
signing_key
encryption_key'

tmpl ca 'cn = "postie test CA"' 'ca' 'cert_signing_key' 'crl_signing_key' \
    'expiration_days = 3650'
tmpl ca2 'cn = "postie unknown CA"' 'ca' 'cert_signing_key' \
    'expiration_days = 3650'
tmpl valid 'cn = "mail.example.test"' "$server_san" "$server_use" \
    'expiration_days = 3650'
tmpl expired 'cn = "mail.example.test"' "$server_san" "$server_use" \
    'activation_date = "2020-01-01 00:00:00 UTC"' \
    'expiration_date = "2021-01-01 00:00:00 UTC"'
tmpl future 'cn = "mail.example.test"' "$server_san" "$server_use" \
    'activation_date = "2090-01-01 00:00:00 UTC"' \
    'expiration_date = "2091-01-01 00:00:00 UTC"'
tmpl wronghost 'cn = "other.example.test"' \
    'dns_name = "other.example.test"' "$server_use" \
    'expiration_days = 3650'
tmpl notca 'cn = "postie end entity"' 'dns_name = "notca.example.test"' \
    "$server_use" 'expiration_days = 3650'
tmpl clientonly 'cn = "mail.example.test"' "$server_san" 'tls_www_client' \
    'signing_key' 'encryption_key' 'expiration_days = 3650'
tmpl muststaple 'cn = "mail.example.test"' "$server_san" "$server_use" \
    'tls_feature = 5' 'expiration_days = 3650'
tmpl cnonly 'cn = "mail.example.test"' "$server_use" \
    'expiration_days = 3650'
tmpl iponly 'cn = "127.0.0.1"' 'ip_address = "127.0.0.1"' \
    'ip_address = "::1"' "$server_use" 'expiration_days = 3650'
tmpl client 'cn = "postie client"' 'email = "client@example.test"' \
    'tls_www_client' 'signing_key' 'encryption_key' \
    'expiration_days = 3650'
tmpl idn 'cn = "xn--bcher-kva.example.test"' \
    'dns_name = "xn--bcher-kva.example.test"' "$server_use" \
    'expiration_days = 3650'
tmpl revoked 'cn = "mail.example.test"' "$server_san" "$server_use" \
    'expiration_days = 3650' 'serial = 4242'
tmpl crl 'crl_next_update = 3650' 'crl_number = 1'

key ca
ct --generate-self-signed --load-privkey "$dir/ca.key" \
    --template "$tpl/ca" --outfile "$dir/ca.pem"
key ca2
ct --generate-self-signed --load-privkey "$dir/ca2.key" \
    --template "$tpl/ca2" --outfile "$dir/ca2.pem"

signed valid ca valid
signed expired ca expired
signed future ca future
signed wronghost ca wronghost
signed unknownca ca2 valid
signed notca ca notca
signed nonca_leaf notca valid
cat "$dir/nonca_leaf.pem" "$dir/notca.pem" >"$dir/nonca.pem"
mv -f "$dir/nonca_leaf.key" "$dir/nonca.key"
rm -f "$dir/nonca_leaf.pem"
signed clientonly ca clientonly
signed muststaple ca muststaple
signed cnonly ca cnonly
signed iponly ca iponly
signed client ca client
signed idn ca idn
signed revoked ca revoked
key selfsigned
ct --generate-self-signed --load-privkey "$dir/selfsigned.key" \
    --template "$tpl/valid" --outfile "$dir/selfsigned.pem"
ct --generate-crl --load-ca-privkey "$dir/ca.key" \
    --load-ca-certificate "$dir/ca.pem" \
    --load-certificate "$dir/revoked.pem" \
    --template "$tpl/crl" --outfile "$dir/crl.pem"

chmod 600 "$dir"/*.key
rm -rf "$tpl" "$log"
echo "$stamp_text" >"$dir/stamp"
