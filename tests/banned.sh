#!/bin/sh
# Fails when src/ uses a function STYLE.md bans: unbounded copies and
# conversions without error checking.
top=${TOP_SRCDIR:-$(dirname "$0")/..}
pattern='(^|[^_a-zA-Z0-9])(v?sprintf|strcpy|strcat|strtok|atoi|atol|atoll|sscanf|gets)[[:space:]]*\('
if grep -nE "$pattern" "$top"/src/*.c "$top"/src/*.h; then
	echo "banned function used (see STYLE.md)"
	exit 1
fi
echo "1 passed, 0 failed"
