#!/bin/sh
# postfix-env.sh - a private, real Postfix on loopback for postie's
# interoperability tests.
#
# It never installs the postfix package (that would take over
# /usr/sbin/sendmail) and never touches /etc/postfix or port 25: the
# package is unpacked into a cache directory and run with its own
# configuration, queue and Maildirs under one scratch directory.
#
# What tests/ci.sh must run (as root, Debian 12) before the suite:
#
#   apt-get update
#   apt-get install -y --no-install-recommends \
#       bats python3 util-linux passwd \
#       libdb5.3 libicu72 libnsl2 libsasl2-2 libssl3 netbase
#   sh tests/postfix-env.sh fetch
#
# (The libraries are the runtime dependencies of the unpacked Postfix
# binaries; installing them changes no mail setup. `fetch` installs any
# that are still missing itself when it runs as root. For `start --auth`
# it also installs dovecot-core, whose system service it then stops and
# disables, and needs certtool from gnutls-bin for tests/certs.sh.)
#
# Usage:
#   postfix-env.sh fetch
#       apt-get download postfix into $POSTIE_TEST_CACHE (default
#       /var/cache/postie-test) and unpack it; create the postfix user and
#       the postdrop group when missing. Install the dovecot-core package
#       when it is missing, and then stop and disable the system-wide
#       Dovecot service that the package starts (the tests run their own
#       Dovecot; a system one that was already there is left alone).
#       Idempotent; fast when done.
#   postfix-env.sh check
#       exit 0 when `fetch` has been done, 1 (with a message) when not.
#   postfix-env.sh start DIR [--auth] [--oauth URL] [--certs CERTDIR]
#                            [box-NAME...]
#       write DIR/conf/{main.cf,master.cf,...}, start Postfix with its
#       queue, data, logs (DIR/maillog) and Maildirs (DIR/mail) under DIR,
#       listening on 127.0.0.1 ports chosen free now, and wait for its
#       220 greeting. The ports and paths are written to DIR/env as shell
#       assignments (PF_SMTP_PORT=..., PF_MAILDIR_BASE=...) and to
#       DIR/ports as "name port" lines.  A second plain listener,
#       PF_LIMIT_PORT, takes at most 2 recipients per transaction
#       (smtpd_recipient_limit = 2: "452 4.5.3 Error: too many
#       recipients" for the rest).  A third, PF_RATE_PORT, takes one
#       recipient per client and 2 s (smtpd_client_recipient_rate_limit
#       = 1, anvil_rate_time_unit = 2s, loopback not exempt): the second
#       RCPT within 2 s of the first gets "450 4.7.1 Error: too many
#       recipients from 127.0.0.1" (a client does not retry that one in
#       the same session, as it does a 452), and 2 s later a new attempt
#       is accepted: a 4xx that goes away, for queue tests.  A fourth,
#       PF_DATA_PORT, does not offer CHUNKING
#       (smtpd_discard_ehlo_keywords = chunking): clients use DATA
#       there, as with a server older than Postfix 3.4.
#       With --auth, also TLS and SASL (see "TLS and SASL" below): a
#       private Dovecot for SASL and three more smtpd listeners.
#       With --oauth URL (implies --auth), that Dovecot also takes OAuth2
#       bearer tokens that the server at URL vouches for (see "OAuth2
#       bearer tokens" below).
#       CERTDIR (default DIR/certs) is where tests/certs.sh makes (or has
#       made) the test certificates; Postfix serves CERTDIR/valid.pem.
#       PF_MAIN_CF_EXTRA, when set, is appended to main.cf as it is
#       (later lines win): tests/bench-queue.sh sets in_flow_delay = 0
#       there.
#   postfix-env.sh stop DIR
#       stop it (and its Dovecot) and kill any process left working in
#       DIR. Safe to repeat.
#   postfix-env.sh wait-mail DIR USER N [SECONDS]
#       wait (default 20 s) until USER@example.org's Maildir holds at least
#       N messages in new/, then print their paths, oldest first. Exit 1 on
#       timeout (printing what is there, and the tail of the mail log on
#       stderr).
#   postfix-env.sh count DIR USER
#       print how many messages USER@example.org's Maildir holds in new/
#       now (0 when it has none yet).
#   postfix-env.sh settle DIR [SECONDS]
#       wait (default 20 s) until Postfix has delivered or bounced
#       everything it accepted: no file left in its incoming, active or
#       deferred queue, seen twice 0.1 s apart (the hold queue does not
#       count). A Maildir count taken then is final, so "exactly N"
#       needs no guessed sleep. Exit 1 on timeout (printing what is
#       left).
#   postfix-env.sh quiesce DIR [SECONDS]
#       wait (default 5 s) until smtpd has logged the end ("disconnect
#       from") of every session whose start ("connect from") it logged, so
#       that a test that reads the log from a mark on is not fooled by a
#       late line of the test before. Exit 1 on timeout.
#   postfix-env.sh held DIR ADDRESS [SECONDS]
#       wait (default 5 s) for a message to ADDRESS (a box-hold-* address)
#       in the hold queue and print its envelope records and extracted
#       header (postcat -e -h); among them "named_attribute:
#       encoding=8bit" when the client sent BODY=8BITMIME (7bit for
#       BODY=7BIT, absent without BODY=), and "message_size: ..." whose
#       sixth number is non-zero when the client sent SMTPUTF8.
#   postfix-env.sh strip FILE
#       print a delivered message without the header lines Postfix
#       prepends (Return-Path, X-Original-To, Delivered-To, Received and
#       its continuation lines), i.e. the bytes as postie sent them, with
#       CRLF turned into LF by virtual(8).
#
# The virtual domain is example.org with mailboxes alice, bob, carol and
# box-1, box-2, box-3 and every box-NAME given to `start DIR box-NAME...`
# (a fresh box per test), and the UTF-8 address jörg@example.org (Maildir
# box-jorg).
# cleanup(8) silently drops Bcc and Resent-Bcc headers, so a header check
# makes their arrival visible: Postfix prepends "X-Postie-Test-Saw-Bcc:
# yes" for each one it received.
# The recipient access table answers temp@example.org with 451 4.3.0,
# reject@example.org with 550 5.7.1 and full@example.org with 552 5.2.2;
# any other unknown user gets Postfix's own 550 5.1.1. RCPT
# TO:<stall@example.org> is answered only after 20 s (the `sleep 20`
# restriction; then 550 5.1.1): a server that stalls in mid-session, for
# tests of a client's timeout; the smtpd process sleeps on after the
# client has gone, until `stop`. Mail to any
# box-hold-* address is accepted and put on hold (not delivered) so that
# `held` can show its queue file: the envelope as Postfix recorded it.
# A bare LF from the client is refused (smtpd_forbid_bare_newline).
# message_size_limit is 10485760 (10 MiB) and is offered in EHLO SIZE.
#
# Timing on the development machine: fetch 1.4 s the first time, 0.15 s
# when done; start 0.8 s; stop 0.05 s.
#
# TLS and SASL (start --auth)
# - Dovecot (package dovecot-core, run as `dovecot -c DIR/dovecot/
#   dovecot.conf` with base_dir DIR/dovecot/run, log DIR/dovecot.log)
#   does SASL for Postfix through a unix listener at
#   DIR/queue/private/auth (smtpd_sasl_type = dovecot, smtpd_sasl_path =
#   private/auth). It offers PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1 and
#   SCRAM-SHA-256 (Dovecot 2.3 has no -PLUS variants) for one user,
#   alice@example.org, whose password is stored {PLAIN} in a passwd-file,
#   so that every mechanism can use it (CRAM-MD5 and SCRAM need the
#   plain or their own stored form). There is no auth failure delay and
#   no auth penalty, so wrong-password tests are fast.
# - Postfix serves CERTDIR/valid.pem (tests/certs.sh: mail.example.test,
#   IP 127.0.0.1 and ::1, signed by CERTDIR/ca.pem) and listens on:
#     submission  STARTTLS required (smtpd_tls_security_level=encrypt),
#                 AUTH only after TLS (smtpd_tls_auth_only=yes)
#     smtps       implicit TLS (smtpd_tls_wrappermode=yes), AUTH
#     clearauth   no TLS at all, AUTH offered in the clear (PLAIN and
#                 LOGIN included): a client must refuse to send a
#                 password there
#   On all three the relay restrictions are permit_sasl_authenticated,
#   reject (an unauthenticated RCPT gets 554 5.7.1); the recipient access
#   table above still applies. The smtp port is unchanged (no TLS, no
#   AUTH). smtpd logs "sasl_method=NAME, sasl_username=alice@example.org"
#   for each authenticated message, and Dovecot logs failures.
# - DIR/env adds PF_SUBMISSION_PORT, PF_SMTPS_PORT, PF_CLEARAUTH_PORT,
#   PF_TLS_HOST (mail.example.test), PF_CA_FILE, PF_AUTH_USER,
#   PF_AUTH_PASSWORD and PF_DOVECOT_LOG; DIR/ports the three ports.
# - Dovecot's processes work in DIR/dovecot/run, so `stop` finds them.
#
# Timing on the development machine: start --auth 0.5-0.7 s with the
# certificates made (tests/certs.sh takes 0.2 s the first time); stop
# 1.2 s (Dovecot's master takes 1 s to finish after SIGTERM).
#
# OAuth2 bearer tokens (start --oauth URL)
# - URL is the base of tests/oauthserver.py (https://127.0.0.1:PORT, no
#   path), already listening with a certificate of CERTDIR's CA (such as
#   CERTDIR/valid.pem). Dovecot additionally offers OAUTHBEARER and
#   XOAUTH2 on the three AUTH ports (EHLO: "AUTH PLAIN LOGIN CRAM-MD5
#   SCRAM-SHA-1 SCRAM-SHA-256 OAUTHBEARER XOAUTH2"), served by an oauth2
#   passdb: for each token it POSTs token=TOKEN to URL/introspect
#   (introspection_mode = post), trusting a copy of CERTDIR/ca.pem, and
#   accepts it while the answer says "active": true and its "username"
#   is the user the client logged in as. The password mechanisms still
#   go to the passwd-file alone (alice as above; a password never
#   reaches the OAuth server) and the token mechanisms to the oauth2
#   passdb alone.
# - The OAuth user is dave@example.org (PF_OAUTH_USER), with a mailbox
#   of his own ("dave", read with wait-mail and count like the others);
#   any user the server issues tokens for can log in, but only the
#   listed boxes receive mail.
# - Dovecot caches no auth result (auth_cache_size = 0): it asks URL
#   for every AUTH, so a token revoked or expired at the server is
#   refused on its next use.
# - A refused token: Dovecot 2.3.19 sends a 334 challenge whose base64 is
#   {"status":"401","schemes":"bearer","scope":"mail"} (XOAUTH2) or
#   {"status":"invalid_token"} (OAUTHBEARER), and after the client's
#   answer (XOAUTH2: an empty line, OAUTHBEARER: "AQ==") Postfix says
#   "535 5.7.8 Error: authentication failed: (reason unavailable)" and
#   logs "SASL XOAUTH2 authentication failed: (reason unavailable),
#   sasl_username=USER"; Dovecot logs why ("Provided token is not
#   valid", "Username 'A' did not match 'B'"). Every failed AUTH (with a
#   password too) is answered 0.5 s late despite auth_failure_delay = 0:
#   Dovecot sends failures from a timer that fires every 0.5 s.
# - DIR/env adds PF_OAUTH_USER and PF_OAUTH_URL (URL).
# - Timing: start --oauth costs no more than start --auth (Dovecot asks
#   URL only when a token arrives).

set -eu

CACHE=${POSTIE_TEST_CACHE:-/var/cache/postie-test}
TREE=$CACHE/postfix-root
PF_DOMAIN=example.org
PF_USERS="alice bob carol"
PF_SIZE_LIMIT=10485760
PF_TLS_HOST=mail.example.test
PF_AUTH_USER=alice@example.org
PF_AUTH_PASSWORD=alice-Secret-42
PF_OAUTH_USER=dave@example.org
AUTH=0
OAUTH_URL=
CERTDIR=
HERE=$(cd "$(dirname "$0")" && pwd)

die()
{
	echo "postfix-env: $*" >&2
	exit 1
}

# ---- fetch -----------------------------------------------------------------

missing_libs()
{
	LD_LIBRARY_PATH=$TREE/usr/lib/postfix ldd \
	    "$TREE/usr/lib/postfix/sbin/smtpd" \
	    "$TREE/usr/lib/postfix/sbin/cleanup" \
	    "$TREE/usr/sbin/postconf" 2>/dev/null | grep -c 'not found' || true
}

do_fetch()
{
	[ "$(id -u)" = 0 ] || die "fetch must run as root"
	mkdir -p "$CACHE"
	if [ ! -x "$TREE/usr/lib/postfix/sbin/master" ]; then
		(
			cd "$CACHE"
			rm -f postfix_*.deb
			# apt's _apt user cannot write into a 0700 cache
			# directory; download where it can, then move.
			tmp=$(mktemp -d /tmp/postie-fetch.XXXXXX)
			chmod 755 "$tmp"
			(cd "$tmp" && apt-get download postfix >/dev/null 2>&1) ||
			    (cd "$tmp" && apt-get update >/dev/null &&
			     apt-get download postfix >/dev/null) ||
			    { rm -rf "$tmp"; echo "postfix-env: apt-get download postfix failed" >&2; exit 1; }
			mv "$tmp"/postfix_*.deb .
			rm -rf "$tmp"
			rm -rf postfix-root.new
			dpkg-deb -x postfix_*.deb postfix-root.new
			rm -rf postfix-root
			mv postfix-root.new postfix-root
		)
	fi
	if [ "$(missing_libs)" != 0 ]; then
		apt-get install -y --no-install-recommends \
		    libdb5.3 libicu72 libnsl2 libsasl2-2 libssl3 netbase \
		    >/dev/null || die "cannot install Postfix's libraries"
		[ "$(missing_libs)" = 0 ] ||
		    die "Postfix's shared libraries are still missing"
	fi
	getent group postdrop >/dev/null || groupadd --system postdrop
	if ! getent passwd postfix >/dev/null; then
		if getent group postfix >/dev/null; then
			grp="--gid postfix"
		else
			grp="--user-group"
		fi
		# shellcheck disable=SC2086
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin $grp postfix
	fi
	# As the package would set them (postfix check warns otherwise).
	for f in postqueue postdrop; do
		chgrp postdrop "$TREE/usr/sbin/$f"
		chmod 2755 "$TREE/usr/sbin/$f"
	done
	fetch_dovecot
	return 0
}

have_dovecot()
{
	[ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/auth ] &&
	    getent passwd dovecot >/dev/null &&
	    getent passwd dovenull >/dev/null
}

# Dovecot is used from the installed package (its binaries have compiled-in
# paths), run only with a private config. The package enables and starts a
# system-wide Dovecot (with dovecot-core alone it listens on no TCP port
# and would not conflict); when this installs the package, it stops and
# disables that service so that the machine runs nothing new.
fetch_dovecot()
{
	have_dovecot && return 0
	was_installed=0
	[ -x /usr/sbin/dovecot ] && was_installed=1
	DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends dovecot-core >/dev/null 2>&1 ||
	    { apt-get update >/dev/null &&
	      DEBIAN_FRONTEND=noninteractive apt-get install -y \
	      --no-install-recommends dovecot-core >/dev/null; } ||
	    die "cannot install dovecot-core"
	have_dovecot || die "dovecot-core installed but incomplete"
	[ "$was_installed" = 1 ] && return 0
	if [ -d /run/systemd/system ]; then
		systemctl disable --now dovecot.service dovecot.socket \
		    >/dev/null 2>&1 || true
	elif [ -x /etc/init.d/dovecot ]; then
		/etc/init.d/dovecot stop >/dev/null 2>&1 || true
		update-rc.d dovecot disable >/dev/null 2>&1 || true
	fi
	return 0
}

do_check()
{
	if [ ! -x "$TREE/usr/lib/postfix/sbin/master" ]; then
		echo "postfix-env: no unpacked Postfix in $TREE:" \
		    "run 'sh tests/postfix-env.sh fetch' as root" \
		    "(or set POSTIE_SKIP_POSTFIX=1)" >&2
		return 1
	fi
	if ! getent passwd postfix >/dev/null ||
	    ! getent group postdrop >/dev/null; then
		echo "postfix-env: user postfix or group postdrop missing:" \
		    "run 'sh tests/postfix-env.sh fetch'" >&2
		return 1
	fi
	if [ "$(missing_libs)" != 0 ]; then
		echo "postfix-env: Postfix's shared libraries are missing:" \
		    "run 'sh tests/postfix-env.sh fetch'" >&2
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "postfix-env: a private Postfix must be started as root" >&2
		return 1
	fi
	if [ "$AUTH" = 1 ] && ! have_dovecot; then
		echo "postfix-env: dovecot-core is missing:" \
		    "run 'sh tests/postfix-env.sh fetch'" >&2
		return 1
	fi
	if [ "$AUTH" = 1 ] && ! command -v certtool >/dev/null 2>&1; then
		echo "postfix-env: certtool is missing (package gnutls-bin)" >&2
		return 1
	fi
	return 0
}

# ---- start -----------------------------------------------------------------

pf()
{
	prog=$1
	shift
	LD_LIBRARY_PATH=$TREE/usr/lib/postfix "$TREE/usr/sbin/$prog" \
	    -c "$DIR/conf" "$@"
}

# Print N distinct free TCP ports on 127.0.0.1.
free_ports()
{
	python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# Wait until 127.0.0.1:$1 greets with 220; at most $2 seconds.
wait_greeting()
{
	python3 - "$1" "$2" <<'EOF'
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
end = time.time() + limit
while time.time() < end:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.settimeout(max(0.5, end - time.time()))
        line = s.makefile("rb").readline()
        try:
            s.sendall(b"QUIT\r\n")
        except OSError:
            pass
        s.close()
        if line.startswith(b"220"):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit(1)
EOF
}

write_main_cf()
{
	cat >"$DIR/conf/main.cf" <<EOF
# Private Postfix for postie's tests; written by tests/postfix-env.sh.
compatibility_level = 3.6
queue_directory = $DIR/queue
data_directory = $DIR/data
meta_directory = $TREE/etc/postfix
command_directory = $TREE/usr/sbin
daemon_directory = $TREE/usr/lib/postfix/sbin
shlib_directory = $TREE/usr/lib/postfix
sendmail_path = $TREE/usr/sbin/sendmail
newaliases_path = /nonexistent
mailq_path = /nonexistent
manpage_directory = $TREE/usr/share/man
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C
    LD_LIBRARY_PATH=$TREE/usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $DIR/maillog
maillog_file_prefixes = $DIR
syslog_name = postie-test-postfix

myhostname = mx.postie.test
mydomain = postie.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP postie-test
smtpd_peername_lookup = no
biff = no
alias_maps =
alias_database =
local_recipient_maps =
# Nothing ever leaves this machine.
default_transport = error:outbound mail disabled in postie tests
relay_transport = error:outbound mail disabled in postie tests
local_transport = error:local delivery disabled in postie tests
notify_classes =
delay_warning_time = 0

smtputf8_enable = yes
# A bare LF anywhere from the client (commands or DATA) is refused with
# 550 5.5.2, loopback included: postie must never send one.
smtpd_forbid_bare_newline = reject
smtpd_forbid_bare_newline_exclusions =
message_size_limit = $PF_SIZE_LIMIT
mailbox_size_limit = 0
virtual_mailbox_limit = 0

# Leave the message as the client sent it (delivered bytes are compared).
always_add_missing_headers = no
local_header_rewrite_clients =
remote_header_rewrite_domain =
# cleanup(8) silently drops Bcc and Resent-Bcc headers itself; make their
# arrival visible so that a test can tell that the client removed them.
header_checks = regexp:$DIR/conf/header_checks

smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
    check_recipient_access regexp:$DIR/conf/recipient_access
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
# Only the rate listener (master.cf) sets a rate limit: one recipient
# per client and time unit there.
anvil_rate_time_unit = 2s
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200

virtual_mailbox_domains = $PF_DOMAIN
virtual_mailbox_maps = texthash:$DIR/conf/vmailbox
virtual_mailbox_base = $DIR/mail
virtual_uid_maps = static:$MAIL_UID
virtual_gid_maps = static:$MAIL_GID
virtual_minimum_uid = 1
EOF
	[ "$AUTH" = 1 ] || return 0
	cat >>"$DIR/conf/main.cf" <<EOF

# TLS and SASL (start --auth). The smtp port stays plaintext without AUTH;
# master.cf turns them on for submission, smtps and clearauth.
smtpd_tls_cert_file = $CERTDIR/valid.pem
smtpd_tls_key_file = $CERTDIR/valid.key
smtpd_tls_loglevel = 1
smtpd_tls_received_header = no
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
smtpd_sasl_authenticated_header = no
broken_sasl_auth_clients = no
EOF
}

# $1: smtp port, $2: the 2-recipient port, $3: the rate-limited port,
# $4: the port without CHUNKING; with --auth, $5 $6 $7: submission,
# smtps, clearauth.
write_master_cf()
{
	auth_listeners=
	smtp_port=$1 limit_port=$2 rate_port=$3 data_port=$4
	shift 4
	if [ "$AUTH" = 1 ]; then
		relay="-o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
		auth_listeners="127.0.0.1:$1 inet n - n - - smtpd
  -o syslog_name=postie-test-postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  $relay
127.0.0.1:$2 inet n - n - - smtpd
  -o syslog_name=postie-test-postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  $relay
127.0.0.1:$3 inet n - n - - smtpd
  -o syslog_name=postie-test-postfix/clearauth
  -o smtpd_tls_security_level=none
  -o smtpd_tls_auth_only=no
  -o smtpd_sasl_auth_enable=yes
  $relay"
	fi
	cat >"$DIR/conf/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$smtp_port inet n - n - - smtpd
127.0.0.1:$limit_port inet n - n - - smtpd
  -o syslog_name=postie-test-postfix/limit
  -o smtpd_recipient_limit=2
127.0.0.1:$rate_port inet n - n - - smtpd
  -o syslog_name=postie-test-postfix/rate
  -o smtpd_client_recipient_rate_limit=1
  -o smtpd_client_event_limit_exceptions=
127.0.0.1:$data_port inet n - n - - smtpd
  -o syslog_name=postie-test-postfix/data
  -o smtpd_discard_ehlo_keywords=chunking
$auth_listeners
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
virtual   unix  -       n       n       -       -       virtual
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

write_tables()
{
	# virtual(8) refuses regexp substitutions: list every box.
	: >"$DIR/conf/vmailbox"
	for u in $PF_USERS $PF_BOXES; do
		printf '%s@%s\t%s/%s/\n' "$u" "$PF_DOMAIN" "$PF_DOMAIN" "$u" \
		    >>"$DIR/conf/vmailbox"
	done
	printf 'jörg@%s\t%s/box-jorg/\n' "$PF_DOMAIN" "$PF_DOMAIN" \
	    >>"$DIR/conf/vmailbox"
	cat >"$DIR/conf/header_checks" <<'EOF'
/^(Resent-)?Bcc:/	PREPEND X-Postie-Test-Saw-Bcc: yes
EOF
	cat >"$DIR/conf/recipient_access" <<'EOF'
/^temp@example\.org$/	451 4.3.0 temporary failure for postie tests
/^reject@example\.org$/	550 5.7.1 recipient rejected for postie tests
/^full@example\.org$/	552 5.2.2 mailbox full for postie tests
/^stall@example\.org$/	sleep 20
/^box-hold-/	HOLD held for postie tests
EOF
}

# The queue directories as postfix-files lays them out. With them in
# place, the quick-start file lets `postfix start` skip its integrity
# checks (post-install create-missing and check-warn take 2 s).
make_queue()
{
	q=$DIR/queue
	mkdir -p "$q/pid"
	for d in active bounce corrupt defer deferred flush hold incoming \
	    private saved trace maildrop public; do
		mkdir -p "$q/$d"
		chown postfix "$q/$d"
		chmod 700 "$q/$d"
	done
	chgrp postdrop "$q/maildrop" "$q/public"
	chmod 730 "$q/maildrop"
	chmod 710 "$q/public"
	chmod 755 "$q" "$q/pid"
	: >"$q/quick-start"
}

# start --oauth URL: the oauth2 passdb asks URL/introspect about every
# bearer token (token=... in a POST body), trusting the test CA. Its auth
# process runs as user dovecot: the CA is copied where that user can read
# it.
write_dovecot_oauth2()
{
	cp "$CERTDIR/ca.pem" "$dv/ca.pem"
	chmod 644 "$dv/ca.pem"
	cat >"$dv/oauth2.conf.ext" <<EOF
introspection_mode = post
introspection_url = $OAUTH_URL/introspect
username_attribute = username
active_attribute = active
active_value = true
tls_ca_cert_file = $dv/ca.pem
EOF
}

# A private Dovecot for SASL only: no protocols, no TCP listener, its
# sockets in DIR/dovecot/run and its auth listener in Postfix's queue.
write_dovecot_conf()
{
	dv=$DIR/dovecot
	mkdir -p "$dv/run" "$dv/state"
	chmod 755 "$dv"
	printf '%s:{PLAIN}%s::::::\n' "$PF_AUTH_USER" "$PF_AUTH_PASSWORD" \
	    >"$dv/passwd"
	chgrp dovecot "$dv/passwd"
	chmod 640 "$dv/passwd"
	mechs="plain login cram-md5 scram-sha-1 scram-sha-256"
	pwmechs=
	if [ -n "$OAUTH_URL" ]; then
		write_dovecot_oauth2
		# Each passdb serves only its own mechanisms: a password never
		# reaches the OAuth server, a token never the passwd-file.
		pwmechs="mechanisms = $mechs"
		mechs="$mechs oauthbearer xoauth2"
	fi
	cat >"$dv/dovecot.conf" <<EOF
# Private Dovecot (SASL for Postfix) for postie's tests; written by
# tests/postfix-env.sh.
base_dir = $dv/run
state_dir = $dv/state
instance_name = postie-test-$(basename "$DIR")
protocols =
listen = 127.0.0.1
shutdown_clients = yes
log_path = $DIR/dovecot.log
ssl = no
default_internal_user = dovecot
default_login_user = dovenull
# Postfix alone decides where AUTH is offered (smtpd_tls_auth_only).
disable_plaintext_auth = no
auth_mechanisms = $mechs
auth_verbose = yes
auth_failure_delay = 0
# No cache of auth results (the default, said here because tests rely on
# it): a token revoked or expired at the OAuth server is refused at once.
auth_cache_size = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN $dv/passwd
  $pwmechs
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener $DIR/queue/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
service anvil {
  # no auth penalty (growing delays after failures from one IP)
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
	[ -n "$OAUTH_URL" ] || return 0
	cat >>"$dv/dovecot.conf" <<EOF
passdb {
  driver = oauth2
  mechanisms = oauthbearer xoauth2
  args = $dv/oauth2.conf.ext
}
EOF
}

start_dovecot()
{
	write_dovecot_conf
	: >"$DIR/dovecot.log"
	if ! dovecot -c "$DIR/dovecot/dovecot.conf" >"$DIR/dovecot/start.log" 2>&1
	then
		cat "$DIR/dovecot/start.log" "$DIR/dovecot.log" >&2
		die "dovecot start failed"
	fi
	i=0
	while [ ! -S "$DIR/queue/private/auth" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			cat "$DIR/dovecot.log" >&2
			die "no Dovecot auth socket at $DIR/queue/private/auth"
		fi
		sleep 0.05
	done
}

do_start()
{
	do_check || exit 1
	[ -n "${DIR:-}" ] || die "usage: postfix-env.sh start DIR"
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd -P)
	if [ -f "$DIR/queue/pid/master.pid" ] ||
	    [ -f "$DIR/dovecot/run/master.pid" ]; then
		do_stop
	fi
	MAIL_UID=$(id -u nobody)
	MAIL_GID=$(id -g nobody)
	chmod 755 "$DIR"
	# Postfix's daemons and virtual(8) run as unprivileged users and
	# must reach DIR.
	setpriv --reuid=postfix --regid=postfix --clear-groups \
	    test -x "$DIR" 2>/dev/null ||
	    die "$DIR is not reachable for user postfix; use a directory" \
	    "whose parents are searchable by all (e.g. under /tmp)"
	rm -rf "$DIR/conf" "$DIR/queue" "$DIR/data" "$DIR/mail" "$DIR/dovecot"
	rm -f "$DIR/maillog" "$DIR/env" "$DIR/ports" "$DIR/dovecot.log"
	mkdir -p "$DIR/conf" "$DIR/queue" "$DIR/data" "$DIR/mail"
	chown postfix:postfix "$DIR/data"
	chmod 700 "$DIR/data"
	chown "$MAIL_UID:$MAIL_GID" "$DIR/mail"
	make_queue
	: >"$DIR/maillog"

	if [ "$AUTH" = 1 ]; then
		# shellcheck disable=SC2046
		set -- $(free_ports 7)
		smtp_port=$1 limit_port=$2 rate_port=$3 data_port=$4
		sub_port=$5 smtps_port=$6 clear_port=$7
		CERTDIR=${CERTDIR:-$DIR/certs}
		mkdir -p "$CERTDIR"
		CERTDIR=$(cd "$CERTDIR" && pwd -P)
		sh "$HERE/certs.sh" "$CERTDIR" ||
		    die "tests/certs.sh $CERTDIR failed"
	else
		# shellcheck disable=SC2046
		set -- $(free_ports 4)
		smtp_port=$1 limit_port=$2 rate_port=$3 data_port=$4
	fi
	# the OAuth user's own box
	[ -z "$OAUTH_URL" ] || PF_USERS="$PF_USERS ${PF_OAUTH_USER%@*}"
	write_main_cf
	if [ -n "${PF_MAIN_CF_EXTRA:-}" ]; then
		printf '\n# PF_MAIN_CF_EXTRA\n%s\n' "$PF_MAIN_CF_EXTRA" \
		    >>"$DIR/conf/main.cf"
	fi
	write_master_cf "$@"
	write_tables
	# Postfix waits (in 0.3 s steps) until main.cf is 2 s old, in case it
	# is still being written: date the files back.
	touch -d "@$(( $(date +%s) - 60 ))" "$DIR"/conf/*

	cat >"$DIR/env" <<EOF
PF_DIR='$DIR'
PF_HOST=127.0.0.1
PF_SMTP_PORT=$smtp_port
PF_LIMIT_PORT=$limit_port
PF_RATE_PORT=$rate_port
PF_DATA_PORT=$data_port
PF_DOMAIN=$PF_DOMAIN
PF_MAILDIR_BASE='$DIR/mail/$PF_DOMAIN'
PF_SIZE_LIMIT=$PF_SIZE_LIMIT
PF_MAILLOG='$DIR/maillog'
EOF
	printf 'smtp %s\nlimit %s\nrate %s\ndata %s\n' "$smtp_port" \
	    "$limit_port" "$rate_port" "$data_port" >"$DIR/ports"
	if [ "$AUTH" = 1 ]; then
		cat >>"$DIR/env" <<EOF
PF_SUBMISSION_PORT=$sub_port
PF_SMTPS_PORT=$smtps_port
PF_CLEARAUTH_PORT=$clear_port
PF_TLS_HOST=$PF_TLS_HOST
PF_CA_FILE='$CERTDIR/ca.pem'
PF_AUTH_USER='$PF_AUTH_USER'
PF_AUTH_PASSWORD='$PF_AUTH_PASSWORD'
PF_DOVECOT_LOG='$DIR/dovecot.log'
EOF
		if [ -n "$OAUTH_URL" ]; then
			cat >>"$DIR/env" <<EOF
PF_OAUTH_USER='$PF_OAUTH_USER'
PF_OAUTH_URL='$OAUTH_URL'
EOF
		fi
		printf 'submission %s\nsmtps %s\nclearauth %s\n' \
		    "$sub_port" "$smtps_port" "$clear_port" >>"$DIR/ports"
		start_dovecot
	fi

	if ! pf postfix start >"$DIR/start.log" 2>&1; then
		cat "$DIR/start.log" "$DIR/maillog" >&2
		die "postfix start failed"
	fi
	if ! wait_greeting "$smtp_port" 20; then
		cat "$DIR/start.log" >&2
		tail -n 30 "$DIR/maillog" >&2
		do_stop
		die "no 220 greeting on 127.0.0.1:$smtp_port"
	fi
}

# ---- stop ------------------------------------------------------------------

# Print the pids of processes whose working directory is inside DIR
# (every Postfix daemon works in its queue directory).
procs_in_dir()
{
	# one find, not a readlink per process (DIR has no glob characters)
	find /proc/[0-9]*/cwd -maxdepth 0 \( -lname "$DIR" -o -lname "$DIR/*" \) \
	    2>/dev/null | sed -n 's,^/proc/\([0-9]*\)/cwd$,\1,p'
}

# term_master PIDFILE CWD: SIGTERM to the pid in PIDFILE if that process
# works in CWD (a stale pid file names no one else's process).
term_master()
{
	[ -f "$1" ] || return 0
	mpid=$(tr -cd '0-9' <"$1" 2>/dev/null || true)
	[ -n "$mpid" ] || return 0
	if [ "$(readlink "/proc/$mpid/cwd" 2>/dev/null)" = "$2" ]; then
		kill -s TERM "$mpid" 2>/dev/null || true
	fi
}

do_stop()
{
	[ -n "${DIR:-}" ] || die "usage: postfix-env.sh stop DIR"
	[ -d "$DIR" ] || return 0
	DIR=$(cd "$DIR" && pwd -P)
	pidfile=$DIR/queue/pid/master.pid
	dvpidfile=$DIR/dovecot/run/master.pid
	# Both masters stop their children on SIGTERM. (`postfix stop` sends
	# the same signal, then polls in 1 s steps; `doveadm stop` waits 2 s.)
	term_master "$pidfile" "$DIR/queue"
	term_master "$dvpidfile" "$DIR/dovecot/run"
	if [ -f "$pidfile" ] || [ -f "$dvpidfile" ]; then
		i=0
		while [ $i -lt 50 ] && [ -n "$(procs_in_dir)" ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	for sig in TERM KILL; do
		pids=$(procs_in_dir)
		[ -n "$pids" ] || break
		# shellcheck disable=SC2086
		kill -s $sig $pids 2>/dev/null || true
		i=0
		while [ $i -lt 20 ] && [ -n "$(procs_in_dir)" ]; do
			sleep 0.1
			i=$((i + 1))
		done
	done
	rm -f "$pidfile" "$dvpidfile"
	return 0
}

# ---- helpers for tests -----------------------------------------------------

do_wait_mail()
{
	user=$1 n=$2 limit=${3:-20}
	new=$DIR/mail/$PF_DOMAIN/$user/new
	end=$(( $(date +%s) + limit ))
	while :; do
		count=0
		if [ -d "$new" ]; then
			count=$(find "$new" -type f | wc -l)
		fi
		if [ "$count" -ge "$n" ]; then
			# Maildir names start with the delivery time in seconds
			# and a sequence: sort by mtime, then name.
			find "$new" -type f -printf '%T@ %p\n' | sort -n |
			    cut -d' ' -f2-
			return 0
		fi
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "postfix-env: $user has $count of $n messages" \
			    "after ${limit}s" >&2
			tail -n 20 "$DIR/maillog" >&2 || true
			[ -d "$new" ] && find "$new" -type f
			return 1
		fi
		sleep 0.05
	done
}

do_count()
{
	new=$DIR/mail/$PF_DOMAIN/$1/new
	if [ -d "$new" ]; then
		find "$new" -type f | wc -l
	else
		echo 0
	fi
}

do_settle()
{
	limit=${1:-20}
	end=$(( $(date +%s) + limit ))
	clear=0
	while :; do
		left=$(find "$DIR/queue/incoming" "$DIR/queue/active" \
		    "$DIR/queue/deferred" -type f 2>/dev/null | wc -l)
		if [ "$left" -eq 0 ]; then
			# A file renamed from incoming/ to active/ while find
			# walks them can be missed once, not twice.
			clear=$((clear + 1))
			[ "$clear" -ge 2 ] && return 0
		else
			clear=0
		fi
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "postfix-env: $left messages still in Postfix's" \
			    "queue after ${limit}s" >&2
			tail -n 20 "$DIR/maillog" >&2 || true
			return 1
		fi
		sleep 0.1
	done
}

do_quiesce()
{
	limit=${1:-5}
	end=$(( $(date +%s) + limit ))
	while :; do
		c=$(grep -c ': connect from' "$DIR/maillog" || true)
		d=$(grep -c ': disconnect from' "$DIR/maillog" || true)
		[ "$c" -gt "$d" ] || return 0
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "postfix-env: $((c - d)) smtpd sessions still open" \
			    "after ${limit}s" >&2
			return 1
		fi
		sleep 0.05
	done
}

do_held()
{
	addr=$1 limit=${2:-5}
	end=$(( $(date +%s) + limit ))
	while :; do
		# queue file names are hex; DIR has no blanks (mktemp)
		# shellcheck disable=SC2044
		for f in $(find "$DIR/queue/hold" -type f 2>/dev/null); do
			out=$(pf postcat -e -h "$f" 2>/dev/null) || continue
			if printf '%s\n' "$out" | grep -qx "recipient: $addr"; then
				printf '%s\n' "$out"
				return 0
			fi
		done
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "postfix-env: no held message for $addr" >&2
			tail -n 10 "$DIR/maillog" >&2 || true
			return 1
		fi
		sleep 0.05
	done
}

# Drop the header lines Postfix prepends on delivery.
do_strip()
{
	python3 - "$1" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
# Postfix prepends exactly these, in this order; Received is folded.
# Strip each at most once so that the message's own headers stay.
names = [b"return-path:", b"x-original-to:", b"delivered-to:", b"received:"]
pos = 0
for name in names:
    nl = data.find(b"\n", pos)
    if nl < 0 or not data[pos:pos + len(name)].lower() == name:
        continue
    pos = nl + 1
    if name == b"received:":
        while data[pos:pos + 1] in (b" ", b"\t"):
            nl = data.find(b"\n", pos)
            pos = len(data) if nl < 0 else nl + 1
sys.stdout.buffer.write(data[pos:])
EOF
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
fetch)	do_fetch ;;
check)	[ "${1:-}" = --auth ] && AUTH=1
	do_check ;;
start)	DIR=${1:-}
	[ $# -gt 0 ] && shift
	PF_BOXES="box-1 box-2 box-3"
	while [ $# -gt 0 ]; do
		case $1 in
		--auth)	AUTH=1 ;;
		--oauth)
			[ $# -ge 2 ] || die "--oauth needs the OAuth server's URL"
			case $2 in
			https://?*) ;;
			*) die "--oauth: not an https:// URL: '$2'" ;;
			esac
			AUTH=1
			OAUTH_URL=${2%/}
			shift ;;
		--certs)
			[ $# -ge 2 ] || die "--certs needs a directory"
			CERTDIR=$2
			shift ;;
		box-*)	PF_BOXES="$PF_BOXES $1" ;;
		*) die "mailbox names must start with box-: '$1'" ;;
		esac
		shift
	done
	do_start ;;
stop)	DIR=${1:-}; do_stop ;;
wait-mail)
	[ $# -ge 3 ] || die "usage: postfix-env.sh wait-mail DIR USER N [SECONDS]"
	DIR=$1; shift; do_wait_mail "$@" ;;
count)	[ $# -eq 2 ] || die "usage: postfix-env.sh count DIR USER"
	DIR=$1; shift; do_count "$@" ;;
settle)	[ $# -ge 1 ] || die "usage: postfix-env.sh settle DIR [SECONDS]"
	DIR=$1; shift; do_settle "$@" ;;
quiesce)
	[ $# -ge 1 ] || die "usage: postfix-env.sh quiesce DIR [SECONDS]"
	DIR=$1; shift; do_quiesce "$@" ;;
held)	[ $# -ge 2 ] || die "usage: postfix-env.sh held DIR ADDRESS [SECONDS]"
	DIR=$1; shift; do_held "$@" ;;
strip)	[ $# -eq 1 ] || die "usage: postfix-env.sh strip FILE"
	do_strip "$1" ;;
*)	die "usage: postfix-env.sh fetch|check [--auth]|start DIR [--auth] [--oauth URL] [--certs CERTDIR] [box-NAME...]|stop DIR|wait-mail DIR USER N [S]|count DIR USER|settle DIR [S]|quiesce DIR [S]|held DIR ADDR [S]|strip FILE" ;;
esac
