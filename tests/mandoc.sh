#!/bin/sh
# The man pages must be clean under mandoc -Tlint (warnings included).
top=${TOP_SRCDIR:-$(dirname "$0")/..}
mandoc=${MANDOC:-mandoc}
if ! command -v "$mandoc" >/dev/null 2>&1; then
	echo "mandoc not found: install it (tests/ci.sh does)"
	exit 99
fi
# -W warning reports style problems too; "base" is silenced for the
# operating-system name lines, which mandoc cannot know.
out=$("$mandoc" -Tlint -W warning "$top"/doc/postie.8 "$top"/doc/postie.conf.5 2>&1)
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	exit 1
fi
echo "1 passed, 0 failed"
