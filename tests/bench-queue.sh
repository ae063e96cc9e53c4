#!/bin/sh
# bench-queue.sh - make bench, second part: how fast `postie -q` flushes
# a queue of N small messages (default 10000) to a real Postfix over
# reused connections, beside msmtpq (msmtp's queue script) flushing the
# same N to the same Postfix in the same run.  Not a test: it prints
# figures, and checks only that every message was really delivered.
#
#   sh tests/bench-queue.sh POSTIE [N]
#
# Needs root and the private Postfix of tests/postfix-env.sh (`sh
# tests/postfix-env.sh fetch`), which it starts in a scratch directory
# and stops at the end.  msmtpq comes with Debian's msmtp package (`apt-get
# install msmtp`; not msmtp-mta, which would take /usr/sbin/sendmail) as
# /usr/libexec/msmtp/msmtpq/msmtpq (older packages:
# /usr/share/doc/msmtp/examples/msmtpq/msmtpq); MSMTPQ=PATH names
# another, MSMTPQ=none leaves it out.  Without it the msmtpq row says so
# and there is no ratio.
#
# What is timed (wall clock):
#   postie enqueue  N runs of `postie -odq` from this shell, one message
#                   each from a file: what N callers of sendmail pay,
#                   process start included; nothing is sent.
#   postie flush    one `postie -q` over the N entries: one connection
#                   per 100 messages, no TLS, no AUTH.
#   msmtpq flush    one `msmtpq --q-mgmt -r` (what `msmtp-queue -r`
#                   runs) over the N messages queued in msmtpq's own
#                   format (ID.mail holds the message, ID.msmtp the
#                   msmtp arguments), written here directly because
#                   msmtpq would only queue after a failed attempt
#                   each.  It runs msmtp once per message, one
#                   connection each, no TLS, no AUTH.  Its connection
#                   test (a ping to debian.org) is off
#                   (EMAIL_CONN_TEST=x) and it is quiet
#                   (EMAIL_QUEUE_QUIET=t); its log file stays on, as
#                   shipped, in the scratch HOME.
# Each flush ends when its client exits, i.e. when Postfix has taken
# every message (its 250 after the final dot).  Then the script waits
# for Postfix to deliver them all and counts the Maildir: exactly N for
# each tool, or it fails.  The two flushes run one after the other, each
# with Postfix idle at its start.  postie runs with `syslog off`, as
# msmtp does by default.
#
# Postfix as postfix-env.sh sets it up, plus `in_flow_delay = 0`
# (bench-only, through PF_MAIN_CF_EXTRA): by default cleanup(8) makes a
# client wait up to 1 s per message once mail arrives faster than it is
# delivered, which would time Postfix's inflow control, not the client
# (measured here: 505 messages/s with the default 1s, 525 with 0, for
# 3000 messages).  Even so the postie flush is bound by Postfix (smtpd,
# cleanup's fsync per message, virtual(8) delivering at the same time):
# postie itself uses about an eighth of the wall time in CPU.

set -eu

die()
{
	echo "bench-queue: $*" >&2
	exit 1
}

[ $# -ge 1 ] || die "usage: bench-queue.sh POSTIE [N]"
POSTIE=$1
N=${2:-10000}
case $N in
''|*[!0-9]*) die "N must be a number: '$N'" ;;
esac
[ "$N" -gt 0 ] || die "N must be at least 1"
[ -x "$POSTIE" ] || die "no postie binary at '$POSTIE'"
HERE=$(cd "$(dirname "$0")" && pwd)
PFENV=$HERE/postfix-env.sh
PYTHON3=${PYTHON3:-python3}

MSMTPQ=${MSMTPQ:-}
if [ "$MSMTPQ" = none ]; then
	MSMTPQ=
elif [ -n "$MSMTPQ" ]; then
	[ -f "$MSMTPQ" ] || die "no msmtpq script at '$MSMTPQ'"
else
	for f in /usr/libexec/msmtp/msmtpq/msmtpq \
	    /usr/share/doc/msmtp/examples/msmtpq/msmtpq; do
		if [ -f "$f" ]; then
			MSMTPQ=$f
			break
		fi
	done
fi
if [ -n "$MSMTPQ" ] && ! command -v msmtp >/dev/null 2>&1; then
	MSMTPQ=
fi

sh "$PFENV" check >/dev/null || die "the private Postfix is not available"

W=$(mktemp -d "${TMPDIR:-/tmp}/postie-benchq.XXXXXX")
chmod 755 "$W"
cleanup()
{
	sh "$PFENV" stop "$W/pf" || true
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PF_MAIN_CF_EXTRA='in_flow_delay = 0' \
    sh "$PFENV" start "$W/pf" box-bench-postie box-bench-msmtpq ||
    die "cannot start Postfix"
# shellcheck disable=SC1091
. "$W/pf/env"

# ---- the messages ------------------------------------------------------------

# N messages of about 400 bytes, each with its own Message-ID, in
# $W/msg/I; the same bytes in msmtpq's queue format in $W/msmtpq-queue.
mkdir -p "$W/msg" "$W/msmtpq-queue" "$W/home"
chmod 700 "$W/msmtpq-queue"
"$PYTHON3" - "$W" "$N" <<'EOF'
import os, sys
w, n = sys.argv[1], int(sys.argv[2])
body = ("This is a small message for the queue benchmark; it has a few "
        "lines of text.\n") * 4
for i in range(1, n + 1):
    m = ("From: Bench <bench@postie.test>\n"
         "To: <box-bench@example.org>\n"
         "Subject: queue benchmark %d\n"
         "Date: Sun, 22 Nov 2026 12:00:00 +0000\n"
         "Message-ID: <bench-%d@postie.test>\n"
         "\n" % (i, i)) + body
    with open(os.path.join(w, "msg", str(i)), "w") as f:
        f.write(m)
    # msmtpq's names: date +%Y-%m-%d-%H.%M.%S, then -N when taken.
    q = os.path.join(w, "msmtpq-queue", "2026-11-22-12.00.00-%06d" % i)
    with open(q + ".mail", "w") as f:
        f.write(m)
    with open(q + ".msmtp", "w") as f:
        f.write("-f bench@postie.test box-bench-msmtpq@example.org\n")
EOF

# ---- timing helpers ----------------------------------------------------------

now()
{
	date +%s%N
}

# row WHAT N NANOSECONDS
row()
{
	awk -v what="$1" -v n="$2" -v ns="$3" 'BEGIN {
		s = ns / 1e9
		printf "%-24s %9d %10.2f %12.1f\n", what, n, s, n / s
	}'
}

# delivered BOX: wait for N messages in BOX, for Postfix to settle, and
# check that BOX holds exactly N.
delivered()
{
	sh "$PFENV" wait-mail "$W/pf" "$1" "$N" 1800 >/dev/null ||
	    die "$1: not all $N messages arrived"
	sh "$PFENV" settle "$W/pf" 600 || die "Postfix did not settle"
	got=$(sh "$PFENV" count "$W/pf" "$1")
	[ "$got" -eq "$N" ] || die "$1 holds $got messages, not $N"
}

# ---- postie ------------------------------------------------------------------

cat >"$W/postie.conf" <<EOF
account default
host $PF_HOST
port $PF_SMTP_PORT
from bench@postie.test
domain bench.postie.test
timeout 60
syslog off
queue on
queue_dir $W/postie-queue
EOF
chmod 600 "$W/postie.conf"

t0=$(now)
i=1
while [ "$i" -le "$N" ]; do
	# With no log (syslog off) -odq says "queued as ID" on stderr: kept
	# out of the table, shown if something fails.
	"$POSTIE" -C "$W/postie.conf" -odq box-bench-postie@example.org \
	    <"$W/msg/$i" 2>"$W/enqueue.err" || {
		cat "$W/enqueue.err" >&2
		die "postie -odq failed for message $i"
	}
	i=$((i + 1))
done
t1=$(now)
queued=$(find "$W/postie-queue/q" -mindepth 1 -maxdepth 1 | wc -l)
[ "$queued" -eq "$N" ] || die "postie queued $queued entries, not $N"

t2=$(now)
"$POSTIE" -C "$W/postie.conf" -q || die "postie -q failed"
t3=$(now)
left=$(find "$W/postie-queue/q" -mindepth 1 -maxdepth 1 | wc -l)
[ "$left" -eq 0 ] || die "postie -q left $left entries queued"
delivered box-bench-postie

# ---- msmtpq ------------------------------------------------------------------

if [ -n "$MSMTPQ" ]; then
	cat >"$W/home/.msmtprc" <<EOF
defaults
tls off
auth off
account default
host $PF_HOST
port $PF_SMTP_PORT
from bench@postie.test
domain bench.postie.test
EOF
	chmod 600 "$W/home/.msmtprc"
	t4=$(now)
	HOME=$W/home MSMTPQ_Q=$W/msmtpq-queue EMAIL_CONN_TEST=x \
	    EMAIL_QUEUE_QUIET=t bash "$MSMTPQ" --q-mgmt -r ||
	    die "msmtpq -r failed"
	t5=$(now)
	left=$(find "$W/msmtpq-queue" -name '*.mail' | wc -l)
	[ "$left" -eq 0 ] || die "msmtpq left $left messages queued"
	delivered box-bench-msmtpq
fi

# ---- report ------------------------------------------------------------------

pf_tree=${POSTIE_TEST_CACHE:-/var/cache/postie-test}/postfix-root
pf_version=$(LD_LIBRARY_PATH=$pf_tree/usr/lib/postfix \
    "$pf_tree/usr/sbin/postconf" -d -h mail_version 2>/dev/null || echo '?')
echo "flushing $N queued messages to Postfix $pf_version on 127.0.0.1" \
    "($(nproc) CPUs); every message counted in its Maildir"
echo "postie: $("$POSTIE" --version 2>/dev/null | head -n 1)"
[ -n "$MSMTPQ" ] && echo "msmtpq: $MSMTPQ with $(msmtp --version | head -n 1)"
printf '%-24s %9s %10s %12s\n' "" messages seconds "messages/s"
row "postie enqueue (-odq)" "$N" $((t1 - t0))
row "postie flush (-q)" "$N" $((t3 - t2))
if [ -n "$MSMTPQ" ]; then
	row "msmtpq flush (-r)" "$N" $((t5 - t4))
	awk -v a=$((t3 - t2)) -v b=$((t5 - t4)) 'BEGIN {
		printf "postie flushes %.1f times as fast as msmtpq\n", b / a
	}'
else
	echo "msmtpq flush (-r): not run (no msmtpq, or no msmtp in PATH)"
fi
