#!/bin/sh
# The man pages must be clean under mandoc -Tlint (warnings included),
# and must render without stray quoting: mdoc that lint accepts can still
# print a macro's quotes around the rest of the line (".Pq with Ql _ for
# Ql -" gave "(with `_ for `-'')"), so the rendered text is checked too.
top=${TOP_SRCDIR:-$(dirname "$0")/..}
mandoc=${MANDOC:-mandoc}
if ! command -v "$mandoc" >/dev/null 2>&1; then
	echo "mandoc not found: install it (tests/ci.sh does)"
	exit 99
fi
fail=0
# -W warning reports style problems too; "base" is silenced for the
# operating-system name lines, which mandoc cannot know.
out=$("$mandoc" -Tlint -W warning "$top"/doc/postie.8 "$top"/doc/postie.conf.5 2>&1)
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	fail=1
fi

# stray PATTERN WHY PAGE TEXT: fail on each rendered line matching PATTERN.
stray() {
	hits=$(printf '%s\n' "$4" | grep -nE -- "$1")
	[ -z "$hits" ] && return 0
	printf '%s\n' "$hits" | sed "s|^|$3: $2: line |"
	fail=1
}

for page in "$top"/doc/postie.8 "$top"/doc/postie.conf.5; do
	name=${page##*/}
	# col -b: no overstrike, so bold and underlined text compare plainly.
	text=$("$mandoc" -Tascii "$page" | col -b)
	[ -n "$text" ] || { echo "$name: renders empty"; fail=1; continue; }
	# Ql renders as `text': an opening quote inside an open one, or
	# two closing ones in a row, is a Ql that swallowed its line.
	stray "\`[^']*\`" "quote opened inside a quote" "$name" "$text"
	stray "[^[:space:]'\`]''" "two closing quotes" "$name" "$text"
	# A cross reference inside quotes: a Ql that took an Xr with it.
	stray "\`[^\`']*[a-z]\([1-9]\)[^\`']*'" "page reference in a quote" \
	    "$name" "$text"
	# Escapes roff should have consumed (\e, \(xx, \&, \*, \f).
	stray '\\(e|\(|&|\*|f[BIRP])' "visible escape" "$name" "$text"
	stray '""' "empty quoted argument" "$name" "$text"
	# A macro line mandoc printed as text, or a macro name left as a word.
	stray '^[[:space:]]*\.[A-Z][a-z][a-z]?([[:space:]]|$)' "macro as text" \
	    "$name" "$text"
	stray '(^|[[:space:]])(Ns|Ql|Pq|Dq|Sq|Xr|Sx|Ic|Cm|Ar|Fl|Op|Po|Pc|Oo|Oc|Ev|Pa|Em|Sy|Li)([[:space:],.;:)]|$)' \
	    "macro name in the text" "$name" "$text"
done
if [ "$fail" -ne 0 ]; then
	echo "1 failed"
	exit 1
fi
echo "1 passed, 0 failed"
