#!/bin/sh
# callers-env.sh - run the programs that call /usr/sbin/sendmail (cron,
# at, anacron, mailx, mutt, git send-email, PHP, sudo...) against postie,
# without touching the machine's own mail setup.
#
# A private mount namespace (unshare -m, propagation private) holds:
#   /usr/sbin/sendmail   a copy of the postie binary under test (a bind
#                        mount over the file when it exists, else an
#                        overlay on /usr/sbin with the copy in its upper
#                        layer)
#   SYSCONFDIR/postie.conf   the config given to `start` (found from
#                        `postie --version`; an overlay again when the
#                        directory or file is missing)
#   /etc/passwd, /etc/group, /etc/shadow   copies with one more user,
#                        CALLER_USER (home CALLER_HOME), so that the
#                        callers run as an ordinary user and the real
#                        files stay as they are
#   /run, /var/spool/cron   empty tmpfs: cron's and atd's pid files, the
#                        "@reboot already ran" mark, crontabs and at jobs
#   /etc/crontab, /etc/cron.d   empty: only the tests' own jobs run
# With `start --setgid`, postie is installed as a setgid install leaves
# it (see postie(8), SETGID INSTALL):
#   a group "postie"     in the private /etc/group (the machine's gid
#                        when it has such a group, else a free one)
#   /usr/sbin/sendmail   root:postie 2755
#   SYSCONFDIR/postie.conf   root:postie 0640
#   SPOOLDIR             the system queue (found from `postie --version`):
#                        an empty tmpfs, root:postie 2770 with its q, tmp
#                        and corrupt directories (as make install makes
#                        them); any parent
#                        closed to others is covered by an empty tmpfs
#                        (0755) so that every user reaches it
# A holder process (sleep) keeps the namespace alive; `run` enters it
# with nsenter.  Nothing outside the namespace changes, and `stop` (or
# the holder's death) removes it all.
#
# What tests/ci.sh installs for it (Debian 12):
#   cron at anacron s-nail mutt git git-email libmailtools-perl php-cli
#   php-symfony-mailer sudo liblockfile1
#   util-linux (unshare, nsenter, setpriv)
# and runs `sh tests/callers-env.sh fetch` for bsd-mailx, which depends on
# an MTA package: it is downloaded and unpacked (apt-get download,
# dpkg-deb -x) into $POSTIE_TEST_CACHE (default /var/cache/postie-test),
# never installed.
#
# Usage:
#   callers-env.sh fetch
#   callers-env.sh check            exit 1 with a message when a caller or
#                                   fetch is missing
#   callers-env.sh start [--setgid] DIR POSTIE CONFIG
#       make the namespace; DIR (a fresh directory) holds its state and
#       DIR/env (NS_PID, CALLER_USER, CALLER_UID, CALLER_HOME, MAILX,
#       SYSCONF_FILE; with --setgid also POSTIE_GID and SPOOL_DIR)
#   callers-env.sh run DIR [-u] [VAR=VALUE...] CMD [ARG...]
#       run CMD in the namespace as root, or with -u as CALLER_USER, with
#       a clean environment (PATH, HOME, LOGNAME, USER, SHELL, LANG=C.UTF-8
#       and the VAR=VALUEs), the way a daemon or login would start it
#   callers-env.sh daemon DIR NAME [VAR=VALUE...] CMD [ARG...]
#       start CMD in the namespace as root, in the background, in its own
#       session, with a clean environment, stdout and stderr to
#       DIR/NAME.log; its pid goes to DIR/NAME.pid and `stop` kills it
#   callers-env.sh stop DIR
#
# Timing on the development machine: start 0.1 s, stop 0.05 s.

set -eu

CACHE=${POSTIE_TEST_CACHE:-/var/cache/postie-test}
MAILX_TREE=$CACHE/bsd-mailx-root
CALLER_USER=pcaller
CALLERS="cron at atd anacron s-nail mutt git php sudo unshare nsenter setpriv"

die()
{
	echo "callers-env: $*" >&2
	exit 1
}

do_fetch()
{
	if [ -x "$MAILX_TREE/usr/bin/bsd-mailx" ]; then
		return 0
	fi
	command -v apt-get >/dev/null || die "apt-get is needed to fetch bsd-mailx"
	mkdir -p "$CACHE/deb"
	(cd "$CACHE/deb" && rm -f bsd-mailx_*.deb && apt-get download -q bsd-mailx) ||
	    die "apt-get download bsd-mailx failed"
	rm -rf "$MAILX_TREE"
	dpkg-deb -x "$CACHE"/deb/bsd-mailx_*.deb "$MAILX_TREE"
	[ -x "$MAILX_TREE/usr/bin/bsd-mailx" ] ||
	    die "no usr/bin/bsd-mailx in the package"
}

do_check()
{
	missing=
	for c in $CALLERS; do
		PATH=$PATH:/usr/sbin:/sbin command -v "$c" >/dev/null ||
		    missing="$missing $c"
	done
	[ -x "$MAILX_TREE/usr/bin/bsd-mailx" ] || missing="$missing bsd-mailx(fetch)"
	[ -z "$missing" ] && return 0
	echo "callers-env: missing:$missing" >&2
	echo "callers-env: run as root: sh tests/ci.sh, or apt-get install the" \
	    "callers and sh tests/callers-env.sh fetch" >&2
	return 1
}

# A uid that neither the machine nor the private passwd uses.
free_uid()
{
	u=4242
	while getent passwd "$u" >/dev/null || getent group "$u" >/dev/null; do
		u=$((u + 1))
	done
	echo "$u"
}

# The system config path compiled into the binary under test.
sysconf_file()
{
	"$1" --version | sed -n 's/^searched:.* \(\/[^ ,]*\/postie\.conf\),.*/\1/p'
}

# The system queue compiled into it.
spool_dir()
{
	"$1" --version | sed -n 's/^system queue: \(\/[^ ]*\) .*/\1/p'
}

# postie's group: the machine's own, else a gid nobody uses.
postie_gid()
{
	g=$(getent group postie | cut -d: -f3)
	if [ -n "$g" ]; then
		echo "$g"
		return 0
	fi
	g=4300
	while getent group "$g" >/dev/null || [ "$g" = "$CALLER_UID" ]; do
		g=$((g + 1))
	done
	echo "$g"
}

write_users()
{
	mkdir -p "$DIR/etc"
	cp /etc/passwd /etc/group "$DIR/etc/"
	if [ -r /etc/shadow ]; then
		cp /etc/shadow "$DIR/etc/shadow"
	else
		: >"$DIR/etc/shadow"
	fi
	grep -v "^$CALLER_USER:" /etc/passwd >"$DIR/etc/passwd" || true
	printf '%s:x:%s:%s:postie caller test:%s:/bin/sh\n' \
	    "$CALLER_USER" "$CALLER_UID" "$CALLER_UID" "$CALLER_HOME" \
	    >>"$DIR/etc/passwd"
	printf '%s:x:%s:\n' "$CALLER_USER" "$CALLER_UID" >>"$DIR/etc/group"
	if [ -n "$POSTIE_GID" ] && ! grep -q '^postie:' "$DIR/etc/group"; then
		printf 'postie:x:%s:\n' "$POSTIE_GID" >>"$DIR/etc/group"
	fi
	printf '%s:*:19000:0:99999:7:::\n' "$CALLER_USER" >>"$DIR/etc/shadow"
	mkdir -p "$CALLER_HOME"
	chown "$CALLER_UID:$CALLER_UID" "$CALLER_HOME"
	chmod 755 "$CALLER_HOME"
}

# The script the holder runs inside the new namespace (as root).
write_inner()
{
	cat >"$DIR/inner.sh" <<'EOF'
set -eu
DIR=$1 POSTIE=$2 CONFIG=$3 SYSCONF_FILE=$4 POSTIE_GID=$5 SPOOL_DIR=$6
n=0

# place TARGET SOURCE MODE [GROUP]: make TARGET a copy of SOURCE inside
# the namespace only (chgrp before chmod: chgrp clears the setgid bit).
place()
{
	target=$1 src=$2 mode=$3 group=${4:-0}
	n=$((n + 1))
	if [ -f "$target" ]; then
		cp "$src" "$DIR/ovl/file-$n"
		chgrp "$group" "$DIR/ovl/file-$n"
		chmod "$mode" "$DIR/ovl/file-$n"
		mount --bind "$DIR/ovl/file-$n" "$target"
		return 0
	fi
	base=$(dirname "$target")
	while [ ! -d "$base" ]; do
		base=$(dirname "$base")
	done
	mkdir "$DIR/ovl/up-$n" "$DIR/ovl/wk-$n"
	mount -t overlay overlay -o \
	    "lowerdir=$base,upperdir=$DIR/ovl/up-$n,workdir=$DIR/ovl/wk-$n" \
	    "$base"
	mkdir -p "$(dirname "$target")"
	cp "$src" "$target"
	chgrp "$group" "$target"
	chmod "$mode" "$target"
}

# open_to_all DIR: every user can walk through DIR (o+x)
open_to_all()
{
	case $(stat -c %A "$1") in
	*x | *t) return 0 ;;
	esac
	return 1
}

# spool TARGET: TARGET an empty tmpfs, root:postie 2770, that every user
# can reach: a missing part is made in an overlay, a part closed to others
# is covered by an empty tmpfs.
spool()
{
	target=$1 p=
	for c in $(echo "$target" | tr / ' '); do
		p=$p/$c
		[ "$p" = "$target" ] && break
		if [ ! -d "$p" ]; then
			n=$((n + 1))
			base=$(dirname "$p")
			mkdir "$DIR/ovl/up-$n" "$DIR/ovl/wk-$n"
			mount -t overlay overlay -o \
			    "lowerdir=$base,upperdir=$DIR/ovl/up-$n,workdir=$DIR/ovl/wk-$n" \
			    "$base"
			break
		fi
		if ! open_to_all "$p"; then
			mount -t tmpfs -o mode=755 tmpfs "$p"
			break
		fi
	done
	mkdir -p "$target"
	mount -t tmpfs -o mode=2770 tmpfs "$target"
	# as make install leaves it
	for d in "$target" "$target/q" "$target/tmp" "$target/corrupt"; do
		mkdir -p "$d"
		chown "root:$POSTIE_GID" "$d"
		chmod 2770 "$d"
	done
}

mkdir -p "$DIR/ovl"
mount -t tmpfs -o mode=755 tmpfs "$DIR/ovl"
if [ -n "$POSTIE_GID" ]; then
	place /usr/sbin/sendmail "$POSTIE" 2755 "$POSTIE_GID"
	place "$SYSCONF_FILE" "$CONFIG" 640 "$POSTIE_GID"
	spool "$SPOOL_DIR"
else
	place /usr/sbin/sendmail "$POSTIE" 755
	place "$SYSCONF_FILE" "$CONFIG" 644
fi
for f in passwd group shadow; do
	mount --bind "$DIR/etc/$f" "/etc/$f"
done
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/lock
if [ -d /var/spool/cron ]; then
	mount -t tmpfs -o mode=755 tmpfs /var/spool/cron
	mkdir -p /var/spool/cron/crontabs /var/spool/cron/atjobs \
	    /var/spool/cron/atspool
	chgrp crontab /var/spool/cron/crontabs
	chmod 1730 /var/spool/cron/crontabs
	chown daemon:daemon /var/spool/cron/atjobs /var/spool/cron/atspool
	chmod 1770 /var/spool/cron/atjobs /var/spool/cron/atspool
	# at(1)'s job-number file, as the package leaves it
	: >/var/spool/cron/atjobs/.SEQ
	chown daemon:daemon /var/spool/cron/atjobs/.SEQ
	chmod 600 /var/spool/cron/atjobs/.SEQ
fi
mkdir -p "$DIR/ovl/cron.d"
[ -d /etc/cron.d ] && mount --bind "$DIR/ovl/cron.d" /etc/cron.d
printf 'SHELL=/bin/sh\nPATH=/usr/bin:/bin\n' >"$DIR/ovl/crontab"
[ -f /etc/crontab ] && mount --bind "$DIR/ovl/crontab" /etc/crontab
echo ready >"$DIR/ready"
exec sleep 86400
EOF
}

do_start()
{
	if [ -z "$DIR" ] || [ ! -d "$DIR" ]; then
		die "start: DIR must exist"
	fi
	[ -x "$POSTIE" ] || die "start: not executable: $POSTIE"
	[ -f "$CONFIG" ] || die "start: no config file: $CONFIG"
	DIR=$(cd "$DIR" && pwd)
	SYSCONF_FILE=$(sysconf_file "$POSTIE")
	[ -n "$SYSCONF_FILE" ] ||
	    die "cannot read the system config path from $POSTIE --version"
	# the caller user walks down to its home and the spool copies
	chmod 755 "$DIR"
	CALLER_UID=$(free_uid)
	CALLER_HOME=$DIR/home
	POSTIE_GID= SPOOL_DIR=
	if [ "$SETGID" = 1 ]; then
		POSTIE_GID=$(postie_gid)
		SPOOL_DIR=$(spool_dir "$POSTIE")
		[ -n "$SPOOL_DIR" ] ||
		    die "cannot read the system queue from $POSTIE --version"
	fi
	write_users
	write_inner
	rm -f "$DIR/ready"
	setsid unshare -m --propagation private \
	    sh "$DIR/inner.sh" "$DIR" "$POSTIE" "$CONFIG" "$SYSCONF_FILE" \
	    "$POSTIE_GID" "$SPOOL_DIR" </dev/null >"$DIR/holder.log" 2>&1 &
	echo $! >"$DIR/holder.pid"
	i=0
	while [ ! -f "$DIR/ready" ]; do
		if ! kill -0 "$(cat "$DIR/holder.pid")" 2>/dev/null || [ $i -ge 100 ]; then
			cat "$DIR/holder.log" >&2
			die "the namespace did not come up"
		fi
		sleep 0.05
		i=$((i + 1))
	done
	# unshare execs the script, which execs sleep: one pid throughout
	cat >"$DIR/env" <<EOF
NS_PID=$(cat "$DIR/holder.pid")
CALLER_USER=$CALLER_USER
CALLER_UID=$CALLER_UID
CALLER_HOME=$CALLER_HOME
MAILX=$MAILX_TREE/usr/bin/bsd-mailx
SYSCONF_FILE=$SYSCONF_FILE
POSTIE_GID=$POSTIE_GID
SPOOL_DIR=$SPOOL_DIR
EOF
}

load_env()
{
	[ -f "$DIR/env" ] || die "no namespace in $DIR (start it first)"
	# shellcheck disable=SC1091
	. "$DIR/env"
	kill -0 "$NS_PID" 2>/dev/null || die "the namespace holder $NS_PID is gone"
}

# The clean environment a daemon or a login gives its children.  In a
# sanitizer build (tests/ci.sh sets ASAN_OPTIONS) the options pass
# through, with leak checking off: the tests run callers under strace,
# and LeakSanitizer cannot work in a traced process (it exits 1 with
# "LeakSanitizer has encountered a fatal error").
clean_env()
{
	home=$1 user=$2
	echo "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=$home" \
	    "LOGNAME=$user USER=$user SHELL=/bin/sh LANG=C.UTF-8"
	if [ -n "${ASAN_OPTIONS:-}" ]; then
		echo "ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0"
	fi
	if [ -n "${UBSAN_OPTIONS:-}" ]; then
		echo "UBSAN_OPTIONS=$UBSAN_OPTIONS"
	fi
}

do_run()
{
	load_env
	as_user=0
	if [ "${1:-}" = -u ]; then
		as_user=1
		shift
	fi
	if [ $as_user = 1 ]; then
		# shellcheck disable=SC2046
		exec nsenter -t "$NS_PID" -m -- setpriv --reuid="$CALLER_UID" \
		    --regid="$CALLER_UID" --init-groups --reset-env \
		    env -i $(clean_env "$CALLER_HOME" "$CALLER_USER") \
		    TMPDIR=/tmp "$@"
	fi
	# shellcheck disable=SC2046
	exec nsenter -t "$NS_PID" -m -- env -i $(clean_env /root root) \
	    TMPDIR=/tmp "$@"
}

do_daemon()
{
	load_env
	name=$1
	shift
	# fds above 2 are closed: a daemon holding bats's fd 3 would keep the
	# test run from ending
	# shellcheck disable=SC2046
	setsid nsenter -t "$NS_PID" -m -- env -i $(clean_env / root) "$@" \
	    </dev/null >"$DIR/$name.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	echo $! >"$DIR/$name.pid"
}

do_stop()
{
	[ -n "$DIR" ] && [ -d "$DIR" ] || return 0
	for p in "$DIR"/*.pid; do
		[ -f "$p" ] || continue
		pid=$(cat "$p")
		# the daemon's session: it and every child it forked
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		rm -f "$p"
	done
	# anything left working in the namespace (a job cron or atd forked)
	if [ -f "$DIR/env" ]; then
		# shellcheck disable=SC1091
		. "$DIR/env"
		ns=$(readlink "/proc/$NS_PID/ns/mnt" 2>/dev/null || true)
		# never the machine's own namespace (a holder that failed to
		# unshare would share it)
		if [ -n "$ns" ] && [ "$ns" != "$(readlink /proc/1/ns/mnt)" ] &&
		    [ "$ns" != "$(readlink /proc/self/ns/mnt)" ]; then
			for d in /proc/[0-9]*; do
				if [ "$(readlink "$d/ns/mnt" 2>/dev/null)" = "$ns" ]; then
					kill -KILL "${d#/proc/}" 2>/dev/null || true
				fi
			done
		fi
		rm -f "$DIR/env"
	fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
fetch)	do_fetch ;;
check)	do_check ;;
start)	SETGID=0
	if [ "${1:-}" = --setgid ]; then
		SETGID=1
		shift
	fi
	[ $# -eq 3 ] || die "usage: callers-env.sh start [--setgid] DIR POSTIE CONFIG"
	DIR=$1 POSTIE=$2 CONFIG=$3
	do_start ;;
run)	[ $# -ge 2 ] || die "usage: callers-env.sh run DIR [-u] CMD..."
	DIR=$1; shift; do_run "$@" ;;
daemon)	[ $# -ge 3 ] || die "usage: callers-env.sh daemon DIR NAME CMD..."
	DIR=$1; shift; do_daemon "$@" ;;
stop)	DIR=${1:-}; do_stop ;;
*)	die "usage: callers-env.sh fetch|check|start [--setgid] DIR POSTIE CONFIG|run DIR [-u] CMD...|daemon DIR NAME CMD...|stop DIR" ;;
esac
