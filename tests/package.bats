#!/usr/bin/env bats
# shellcheck shell=bash
#
# The Debian package (contrib/debian/, `make deb`) as an administrator
# meets it: built with dpkg-buildpackage, lintian clean, installed into a
# fresh Debian 12 root made here with mmdebstrap from Debian's mirror, and
# used there as the system's MTA against the suite's real Postfix.
#
# Not part of `make check` (it needs root, the network to Debian's mirror
# and about a minute): tests/ci.sh runs it once with `make check-package`.
# The tests run in order and build on each other, as an installation
# does: install, bsd-mailx, mail from a user, the queue, purge.

load common

PF_ENV_SH="$BATS_TEST_DIRNAME/postfix-env.sh"
SUITE=bookworm
MIRROR=${POSTIE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Files an administrator's tools change or keep, not the package's: apt's
# and dpkg's state and logs, caches, and what lives only while running.
SNAPSHOT_PRUNE='/proc /dev /sys /run /tmp /var/cache /var/lib/apt
/var/lib/dpkg /var/log'

setup_file() {
	[ "$(id -u)" = 0 ] || { echo "package.bats: run as root" >&2; return 1; }
	PKG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postie-package.XXXXXX")
	# Postfix (its own user) must reach its directory under it
	chmod 755 "$PKG_DIR"
	export PKG_DIR ROOT="$PKG_DIR/root"
	make -s -C "$TOP_BUILDDIR" deb >"$PKG_DIR/build.log" 2>&1 || {
		tail -n 30 "$PKG_DIR/build.log" >&2
		return 1
	}
	DEB=$(ls "$TOP_BUILDDIR"/postie_*.deb)
	export DEB
	base_tarball || return 1
	mkdir "$ROOT"
	tar -C "$ROOT" -xf "$BASE"
	: >"$ROOT/etc/resolv.conf"
	cp "$DEB" "$ROOT/tmp/"
	# mmdebstrap leaves no package lists; the users of the tests.  Both
	# before the first snapshot.
	in_root apt-get update -q >"$PKG_DIR/update.log" 2>&1 || {
		cat "$PKG_DIR/update.log" >&2
		return 1
	}
	in_root useradd --create-home bob
	sh "$PF_ENV_SH" check
	PF_DIR="$PKG_DIR/pf"
	export PF_DIR
	sh "$PF_ENV_SH" start "$PF_DIR" box-pkg || return 1
	snapshot >"$PKG_DIR/before"
}

teardown_file() {
	[ -n "${PF_DIR:-}" ] && sh "$PF_ENV_SH" stop "$PF_DIR"
	[ -n "${PKG_DIR:-}" ] && rm -rf "$PKG_DIR"
	rm -f "$TOP_BUILDDIR"/postie_*.deb
}

# The minimal Debian 12 system, made with mmdebstrap from Debian's mirror
# and kept as a tarball in the tests' cache for a day: each run unpacks a
# fresh root from it.
base_tarball() {
	local cache=${POSTIE_TEST_CACHE:-/var/cache/postie-test}
	BASE="$cache/$SUITE-minbase.tar"
	if [ -n "$(find "$BASE" -mmin -1440 2>/dev/null)" ]; then
		return 0
	fi
	mkdir -p "$cache"
	mmdebstrap --variant=minbase --format=tar --quiet "$SUITE" \
	    "$BASE.new" "$MIRROR" >"$PKG_DIR/mmdebstrap.log" 2>&1 || {
		tail -n 30 "$PKG_DIR/mmdebstrap.log" >&2
		rm -f "$BASE.new"
		return 1
	}
	mv "$BASE.new" "$BASE"
}

# in_root CMD...: CMD inside the Debian root, as root, in a mount
# namespace of its own (the mounts go with it), with the host's network
# (the suite's Postfix on 127.0.0.1) and name server.
in_root() {
	unshare -m sh -c '
		r=$1; shift
		mount --rbind /dev "$r/dev" &&
		mount -t proc proc "$r/proc" &&
		mount --bind /etc/resolv.conf "$r/etc/resolv.conf" &&
		exec chroot "$r" env -i HOME=/root LANG=C.UTF-8 \
		    PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		    DEBIAN_FRONTEND=noninteractive "$@"' sh "$ROOT" "$@"
}

# Every file and directory of the root, with its type, owner and mode.
snapshot() {
	local prune="" p
	for p in $SNAPSHOT_PRUNE; do
		prune="$prune -path $p -prune -o"
	done
	# shellcheck disable=SC2086
	in_root find / -xdev $prune -printf '%y %u:%g %m %p\n' | sort
}

pf_env() {
	# shellcheck disable=SC1091
	. "$PF_DIR/env"
}

@test "package: builds with dpkg-buildpackage and is lintian clean" {
	[ -f "$DEB" ]
	run dpkg-deb --field "$DEB" Package Provides Conflicts Replaces
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Package: postie" ]
	[ "${lines[1]}" = "Provides: mail-transport-agent" ]
	[ "${lines[2]}" = "Conflicts: mail-transport-agent" ]
	[ "${lines[3]}" = "Replaces: mail-transport-agent" ]
	# Errors and warnings fail; overrides are explained in
	# contrib/debian/postie.lintian-overrides.
	run lintian --fail-on error,warning "$DEB"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(echo "$output" | grep -v 'running with root privileges')" ]
}

@test "package: installs as the system MTA, setgid postie, timer enabled" {
	run in_root apt-get install -y -q --no-install-recommends \
	    "/tmp/$(basename "$DEB")"
	echo "$output"
	[ "$status" -eq 0 ]
	run in_root stat -c '%n %U:%G %a' /usr/sbin/postie /etc/postie.conf \
	    /var/spool/postie /var/spool/postie/q /var/spool/postie/tmp \
	    /var/spool/postie/corrupt
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/usr/sbin/postie root:postie 2755" ]
	[ "${lines[1]}" = "/etc/postie.conf root:postie 640" ]
	[ "${lines[2]}" = "/var/spool/postie root:postie 2770" ]
	[ "${lines[3]}" = "/var/spool/postie/q root:postie 2770" ]
	[ "${lines[4]}" = "/var/spool/postie/tmp root:postie 2770" ]
	[ "${lines[5]}" = "/var/spool/postie/corrupt root:postie 2770" ]
	# dpkg-statoverride, so that an administrator's own survives
	run in_root dpkg-statoverride --list /usr/sbin/postie
	[ "$output" = "root postie 2755 /usr/sbin/postie" ]
	for name in /usr/sbin/sendmail /usr/lib/sendmail /usr/bin/mailq \
	    /usr/sbin/newaliases; do
		run in_root readlink -f "$name"
		[ "$output" = /usr/sbin/postie ]
	done
	run in_root dpkg -S /usr/sbin/sendmail
	[ "$output" = "postie: /usr/sbin/sendmail" ]
	[ -L "$ROOT/etc/systemd/system/timers.target.wants/postie-queue.timer" ]
	run in_root /usr/sbin/sendmail --version
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "postie 0.2.0"* ]]
}

@test "package: bsd-mailx installs against it and pulls no other MTA" {
	run in_root apt-get install -y -q --no-install-recommends bsd-mailx
	echo "$output"
	[ "$status" -eq 0 ]
	run in_root dpkg-query -W -f '${Package} ${Status} ${Provides}\n'
	# postie alone provides mail-transport-agent
	[ "$(echo "$output" | grep 'install ok installed' |
	    grep -c 'mail-transport-agent')" = 1 ]
	echo "$output" | grep -q '^postie install ok installed'
	run in_root readlink -f /usr/sbin/sendmail
	[ "$output" = /usr/sbin/postie ]
}

@test "package: a user's mail(1) goes through the shared config to Postfix" {
	pf_env
	cat >"$ROOT/etc/postie.conf" <<EOF
# written by tests/package.bats
account default
host 127.0.0.1
port $PF_SMTP_PORT
tls off
maildomain example.org
timeout 30
EOF
	# still root:postie 0640: the statoverride's, kept by the rewrite
	run in_root stat -c '%U:%G %a' /etc/postie.conf
	[ "$output" = "root:postie 640" ]
	# bob cannot read it, but his mail goes through it
	run in_root runuser -u bob -- cat /etc/postie.conf
	[ "$status" -ne 0 ]
	run in_root runuser -u bob -- sh -c \
	    'echo "hello from bob" | mail -s "package test" box-pkg@example.org'
	echo "$output"
	[ "$status" -eq 0 ]
	sh "$PF_ENV_SH" wait-mail "$PF_DIR" box-pkg 1 30
	msg=$(find "$PF_MAILDIR_BASE/box-pkg/new" -type f)
	grep -qx 'Return-Path: <bob@example.org>' "$msg"
	grep -qx 'Subject: package test' "$msg"
	grep -qx 'hello from bob' "$msg"
}

@test "package: mailq lists what waits in the system queue; -q sends it" {
	pf_env
	run in_root runuser -u bob -- sh -c \
	    'echo "Subject: queued" | sendmail -odq box-pkg@example.org'
	echo "$output"
	[ "$status" -eq 0 ]
	for who in root bob; do
		run in_root runuser -u "$who" -- mailq
		echo "$output"
		[ "$status" -eq 0 ]
		[ "${#lines[@]}" = 4 ]
		[[ "${lines[1]}" =~ ^[0-9a-f]{16}\ +[0-9]+\ .*\ bob@example\.org$ ]]
		[[ "${lines[2]}" =~ ^\ +box-pkg@example\.org$ ]]
		[ "${lines[3]}" = "-- 1 Kbytes in 1 Request." ]
	done
	run in_root sendmail -q
	[ "$status" -eq 0 ]
	sh "$PF_ENV_SH" wait-mail "$PF_DIR" box-pkg 2 30
	run in_root mailq
	[ "$status" -eq 0 ]
	! echo "$output" | grep -q 'box-pkg@example.org'
}

@test "package: an administrator's statoverride survives a reinstall" {
	in_root dpkg-statoverride --update --force-all --remove \
	    /usr/sbin/postie
	in_root dpkg-statoverride --update --add root postie 2750 \
	    /usr/sbin/postie
	run in_root apt-get install -y -q --reinstall --no-install-recommends \
	    "/tmp/$(basename "$DEB")"
	[ "$status" -eq 0 ]
	run in_root stat -c '%U:%G %a' /usr/sbin/postie
	[ "$output" = "root:postie 2750" ]
}

@test "package: purge leaves no stray files, no group, no override" {
	run in_root apt-get purge -y -q --autoremove postie bsd-mailx
	echo "$output"
	[ "$status" -eq 0 ]
	snapshot >"$PKG_DIR/after"
	grep -qx 'f root:root 644 /etc/passwd' "$PKG_DIR/after"
	grep -qx 'd bob:bob 755 /home/bob' "$PKG_DIR/after"
	run diff "$PKG_DIR/before" "$PKG_DIR/after"
	echo "$output"
	[ "$status" -eq 0 ]
	run in_root getent group postie
	[ "$status" -eq 2 ]
	run in_root dpkg-statoverride --list
	[ -z "$output" ]
}
