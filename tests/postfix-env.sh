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
# that are still missing itself when it runs as root.)
#
# Usage:
#   postfix-env.sh fetch
#       apt-get download postfix into $POSTIE_TEST_CACHE (default
#       /var/cache/postie-test) and unpack it; create the postfix user and
#       the postdrop group when missing. Idempotent; fast when done.
#   postfix-env.sh check
#       exit 0 when `fetch` has been done, 1 (with a message) when not.
#   postfix-env.sh start DIR [box-NAME...]
#       write DIR/conf/{main.cf,master.cf,...}, start Postfix with its
#       queue, data, logs (DIR/maillog) and Maildirs (DIR/mail) under DIR,
#       listening on 127.0.0.1 ports chosen free now, and wait for its
#       220 greeting. The ports and paths are written to DIR/env as shell
#       assignments (PF_SMTP_PORT=..., PF_MAILDIR_BASE=...) and to
#       DIR/ports as "name port" lines.
#   postfix-env.sh stop DIR
#       stop it and kill any process left working in DIR. Safe to repeat.
#   postfix-env.sh wait-mail DIR USER N [SECONDS]
#       wait (default 20 s) until USER@example.org's Maildir holds at least
#       N messages in new/, then print their paths, oldest first. Exit 1 on
#       timeout (printing what is there, and the tail of the mail log on
#       stderr).
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
# any other unknown user gets Postfix's own 550 5.1.1. Mail to any
# box-hold-* address is accepted and put on hold (not delivered) so that
# `held` can show its queue file: the envelope as Postfix recorded it.
# A bare LF from the client is refused (smtpd_forbid_bare_newline).
# message_size_limit is 10485760 (10 MiB) and is offered in EHLO SIZE.
#
# Timing on the development machine: fetch 1.4 s the first time, 0.15 s
# when done; start 0.7 s; stop 0.5 s.
#
# Later (issue 3) the TLS/SASL ports are additions, not changes:
# - start: free_ports 3 instead of 1; certificates made by the suite
#   (certtool) go in DIR/conf and main.cf gets smtpd_tls_cert_file,
#   smtpd_tls_key_file, smtpd_sasl_type = dovecot, smtpd_sasl_path =
#   private/auth; Dovecot (dovecot -c DIR/dovecot.conf, base_dir under DIR,
#   passwd-file userdb/passdb, auth listener at DIR/queue/private/auth)
#   starts before Postfix.
# - write_master_cf: two more smtpd lines, submission on 127.0.0.1:PORT2
#   with -o smtpd_tls_security_level=encrypt -o smtpd_tls_auth_only=yes
#   -o smtpd_sasl_auth_enable=yes, and implicit TLS on 127.0.0.1:PORT3
#   with -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes.
# - DIR/env and DIR/ports: PF_SUBMISSION_PORT, PF_SMTPS_PORT.
# - stop: stop Dovecot too (dovecot -c ... stop); check that procs_in_dir
#   finds its leftovers (their cwd must be under DIR) or kill by pid file.

set -eu

CACHE=${POSTIE_TEST_CACHE:-/var/cache/postie-test}
TREE=$CACHE/postfix-root
PF_DOMAIN=example.org
PF_USERS="alice bob carol"
PF_SIZE_LIMIT=10485760

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
}

# $1: smtp port. Later listeners (submission, smtps) go here.
write_master_cf()
{
	cat >"$DIR/conf/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$1 inet n - n - - smtpd
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

do_start()
{
	do_check || exit 1
	[ -n "${DIR:-}" ] || die "usage: postfix-env.sh start DIR"
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd -P)
	if [ -f "$DIR/queue/pid/master.pid" ]; then
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
	rm -rf "$DIR/conf" "$DIR/queue" "$DIR/data" "$DIR/mail"
	rm -f "$DIR/maillog" "$DIR/env" "$DIR/ports"
	mkdir -p "$DIR/conf" "$DIR/queue" "$DIR/data" "$DIR/mail"
	chown postfix:postfix "$DIR/data"
	chmod 700 "$DIR/data"
	chown "$MAIL_UID:$MAIL_GID" "$DIR/mail"
	make_queue
	: >"$DIR/maillog"

	smtp_port=$(free_ports 1)
	write_main_cf
	write_master_cf "$smtp_port"
	write_tables
	# Postfix waits (in 0.3 s steps) until main.cf is 2 s old, in case it
	# is still being written: date the files back.
	touch -d "@$(( $(date +%s) - 60 ))" "$DIR"/conf/*

	cat >"$DIR/env" <<EOF
PF_DIR='$DIR'
PF_HOST=127.0.0.1
PF_SMTP_PORT=$smtp_port
PF_DOMAIN=$PF_DOMAIN
PF_MAILDIR_BASE='$DIR/mail/$PF_DOMAIN'
PF_SIZE_LIMIT=$PF_SIZE_LIMIT
PF_MAILLOG='$DIR/maillog'
EOF
	printf 'smtp %s\n' "$smtp_port" >"$DIR/ports"

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
	for p in /proc/[0-9]*; do
		cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
		case $cwd in
		"$DIR"/*|"$DIR") echo "${p#/proc/}" ;;
		esac
	done
}

do_stop()
{
	[ -n "${DIR:-}" ] || die "usage: postfix-env.sh stop DIR"
	[ -d "$DIR" ] || return 0
	DIR=$(cd "$DIR" && pwd -P)
	pidfile=$DIR/queue/pid/master.pid
	if [ -f "$DIR/conf/main.cf" ] && [ -f "$pidfile" ]; then
		pf postfix stop >/dev/null 2>&1 || true
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
	rm -f "$pidfile"
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
check)	do_check ;;
start)	DIR=${1:-}
	[ $# -gt 0 ] && shift
	for b in "$@"; do
		case $b in
		box-*) ;;
		*) die "mailbox names must start with box-: '$b'" ;;
		esac
	done
	PF_BOXES="box-1 box-2 box-3 $*"
	do_start ;;
stop)	DIR=${1:-}; do_stop ;;
wait-mail)
	[ $# -ge 3 ] || die "usage: postfix-env.sh wait-mail DIR USER N [SECONDS]"
	DIR=$1; shift; do_wait_mail "$@" ;;
held)	[ $# -ge 2 ] || die "usage: postfix-env.sh held DIR ADDRESS [SECONDS]"
	DIR=$1; shift; do_held "$@" ;;
strip)	[ $# -eq 1 ] || die "usage: postfix-env.sh strip FILE"
	do_strip "$1" ;;
*)	die "usage: postfix-env.sh fetch|check|start DIR|stop DIR|wait-mail DIR USER N [S]|held DIR ADDR [S]|strip FILE" ;;
esac
