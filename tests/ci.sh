#!/bin/sh
# Quick-start command 2 and the whole of CI: install what the tests need
# (Debian 12, as root), build with warnings as errors, run the suite, build
# and test the Debian package (tests/package.bats), run `make distcheck`,
# then build with AddressSanitizer and
# UndefinedBehaviorSanitizer (clang) and run the suite again.
#
#   sh tests/ci.sh
#
# Prints "N passed, N failed" at the end; exits non-zero on any failure.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Build and test dependencies.  postfix itself is not installed (it would
# become /usr/sbin/sendmail): tests/postfix-env.sh unpacks a private copy.
packages="build-essential autoconf automake pkg-config
	libgnutls28-dev libidn2-dev libbsd-dev libjansson-dev
	clang bats mandoc python3 python3-openssl gnutls-bin dovecot-core zsh fish strace vim
	passwd netbase libdb5.3 libicu72 libnsl2 libsasl2-2 libssl3
	iproute2 util-linux mount procps
	cron at anacron s-nail mutt git git-email libmailtools-perl php-cli
	php-symfony-mailer sudo liblockfile1
	debhelper lintian mmdebstrap"

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $packages
else
	echo "ci.sh: not root or no apt-get: assuming the packages are installed" >&2
fi
sh tests/postfix-env.sh fetch
sh tests/callers-env.sh fetch

autoreconf -fi

summary=""
run_suite() {
	# $1: label, $2: build dir
	label=$1 dir=$2
	if make -C "$dir" -j2 check; then rc=0; else rc=$?; fi
	# Count single checks, not files: each bats test ("ok"/"not ok" in
	# its TAP log) and each unit program's "N passed, N failed" line.
	p=0 f=0
	for l in $(find "$dir" -path '*/_build' -prune -o -name '*.log' \
	    -path '*/tests/*' ! -name test-suite.log -print); do
		bp=$(grep -c '^ok ' "$l" || true)
		bf=$(grep -c '^not ok ' "$l" || true)
		up=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p' "$l" | tail -n 1)
		uf=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p' "$l" | tail -n 1)
		p=$((p + bp + ${up:-0})); f=$((f + bf + ${uf:-0}))
		if grep -q '^:test-result: \(FAIL\|ERROR\)' "${l%.log}.trs" \
		    2>/dev/null; then
			[ "$bf" -gt 0 ] || [ "${uf:-0}" -gt 0 ] || f=$((f + 1))
			echo "== failing: $l"
			tail -n 60 "$l"
		fi
	done
	summary="$summary$label: $p passed, $f failed
"
	return "$rc"
}

status=0
start=$(date +%s)

rm -rf build-ci build-asan
mkdir build-ci
(cd build-ci && ../configure -q --enable-werror)
make -C build-ci -j2
run_suite "gcc" build-ci || status=1

# The Debian package, once (it does not depend on the build's flags):
# built, linted, installed into a fresh Debian 12 root and used there.
if make -C build-ci check-package >/dev/null 2>&1; then prc=0; else prc=1; fi
plog=build-ci/tests/package.log
pp=$(grep -c '^ok ' "$plog" 2>/dev/null || true)
pf=$(grep -c '^not ok ' "$plog" 2>/dev/null || true)
if [ "$prc" -ne 0 ]; then
	status=1
	[ "${pf:-0}" -gt 0 ] || pf=1
	echo "== failing: $plog"
	tail -n 60 "$plog" 2>/dev/null || true
fi
summary="${summary}package: ${pp:-0} passed, ${pf:-0} failed
"

# distcheck builds from the tarball in a read-only source tree and runs
# the suite again: it proves the tarball is complete.
if ! make -C build-ci distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror; then
	echo "distcheck failed"
	status=1
fi

mkdir build-asan
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
(cd build-asan && ../configure -q --enable-werror CC=clang \
    CFLAGS="-O1 -g $san" LDFLAGS="$san")
make -C build-asan -j2
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite "clang+asan+ubsan" build-asan || status=1

end=$(date +%s)
echo "----"
printf '%s' "$summary"
echo "ci.sh: $((end - start)) s"
total_p=0 total_f=0
while read -r line; do
	p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed/\1/p')
	f=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed/\2/p')
	total_p=$((total_p + ${p:-0})); total_f=$((total_f + ${f:-0}))
done <<SUMMARY
$summary
SUMMARY
[ "$status" -eq 0 ] || [ "$total_f" -gt 0 ] || total_f=1
echo "$total_p passed, $total_f failed"
exit "$status"
