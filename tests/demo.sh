#!/bin/sh
# Quick-start command 1: install the build packages (Debian 12, as root),
# build postie, start a local SMTP server from tests/ on loopback, submit
# a sample message through postie and print what the server received.
#
#   sh tests/demo.sh
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends build-essential \
	    autoconf automake pkg-config libgnutls28-dev libidn2-dev \
	    libbsd-dev libjansson-dev python3
fi

autoreconf -fi
mkdir -p build-demo
(cd build-demo && ../configure -q)
make -C build-demo -j2 >/dev/null
postie=$top/build-demo/postie

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
python3 tests/fakesmtp.py --dir "$work/server" --max-seconds 60 &
server=$!
i=0
while [ ! -s "$work/server/port" ]; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { echo "demo: the server did not start" >&2; exit 1; }
	sleep 0.1
done
port=$(cat "$work/server/port")

# The same config syntax as ~/.msmtprc.  Loopback, so plain SMTP.
cat >"$work/config" <<CONF
account default
host 127.0.0.1
port $port
from demo@example.org
domain client.example.org
timeout 10
# What cannot go at once waits here (postie -q sends it later).
queue_dir $work/queue
CONF
chmod 600 "$work/config"

echo "== postie -t -C config  (message on stdin)"
printf '%s\n' "To: Someone <someone@example.org>" \
    "Bcc: hidden@example.org" "Subject: hello from postie" "" \
    "This line is ordinary." "." "A lone dot above did not end the message." |
    "$postie" -C "$work/config" -t
echo "== exit status: $?"
wait "$server" || true
echo "== the SMTP dialogue the server recorded (client commands):"
cat "$work/server/conn-1.cmds"
echo "== the message the server received:"
tr -d '\r' <"$work/server/msg-1"
