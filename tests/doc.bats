#!/usr/bin/env bats
# shellcheck shell=bash
#
# The documentation follows the code: every option src/options.c handles
# is in postie(8) and in --help, every keyword of src/conf.c's table is in
# postie.conf(5), and the shell completions load in the real shells and
# complete options, values, files and account names.  The options and
# keywords are read from the sources, so a new one without documentation
# fails here.

setup() {
	top=${TOP_SRCDIR:-$BATS_TEST_DIRNAME/..}
	postie=${POSTIE:-${TOP_BUILDDIR:-$top}/postie}
	man8=$top/doc/postie.8
	man5=$top/doc/postie.conf.5
	tmp=$BATS_TEST_TMPDIR
}

# Option letters options_parse() handles, from the source.
option_letters() {
	local src=$top/src/options.c
	{
		sed -n 's/^static const char valued\[\] = "\([^"]*\)";/\1/p' "$src"
		sed -n 's/^static const char ignored_flags\[\] = "\([^"]*\)";/\1/p' "$src"
		grep -o "\*p == '[a-zA-Z]'" "$src" | sed "s/.*'\(.\)'/\1/"
	} | fold -w1 | sort -u
}

# -b modes set_mode() knows, as "bm", "bp", ...
mode_options() {
	sed -n '/^set_mode(/,/^}/p' "$top/src/options.c" |
	    grep -o 'strcmp(m, "[a-zA-Z]*")' | sed 's/.*"\(.*\)")/b\1/' | sort -u
}

# Long options parse_long() knows, as "-help", "-version".
long_options() {
	{
		sed -n '/^parse_long(/,/^}/p' "$top/src/options.c" |
		    grep -o 'strcmp(arg, "[a-z-]*")' | sed 's/.*"\(.*\)".*/\1/'
		# msmtp-style per-keyword options: the table's first column.
		sed -n '/^} keyword_opts\[\] = {/,/^};/p' "$top/src/options.c" |
		    sed -n 's/^[[:space:]]*{ "\([a-z-]*\)".*/\1/p'
	} | sed 's/^/-/' | sort -u
}

# Keywords of conf.c's table, plus the section commands.
conf_keywords() {
	local src=$top/src/conf.c
	{
		sed -n '/^static const struct keyword keywords\[\]/,/^};/p' "$src" |
		    sed -n 's/^[[:space:]]*{ "\([a-z_0-9]*\)",.*/\1/p'
		sed -n 's/.*strcmp(cmd, "\([a-z_]*\)").*/\1/p' "$src"
	} | sort -u
}

# One mdoc section of a page, from ".Sh NAME" to the next ".Sh".
section() {
	awk -v s=".Sh $2" '$0 == s { on = 1; next } /^\.Sh / { on = 0 } on' "$1"
}

@test "the sources yield options and keywords to check" {
	[ "$(option_letters | wc -l)" -ge 25 ]
	[ "$(mode_options | wc -l)" -ge 5 ]
	[ "$(long_options | wc -l)" -ge 2 ]
	[ "$(conf_keywords | wc -l)" -ge 40 ]
}

@test "postie(8) OPTIONS documents every option options.c handles" {
	local opts missing="" o
	opts=$(section "$man8" OPTIONS)
	[ -n "$opts" ]
	for o in $(option_letters) $(mode_options) $(long_options); do
		grep -Eq "Fl $o( |$)" <<<"$opts" || missing="$missing -$o"
	done
	if [ -n "$missing" ]; then
		echo "doc/postie.8 OPTIONS lacks:$missing (add an .It Fl line)"
		return 1
	fi
}

@test "postie.conf(5) documents every keyword of conf.c" {
	local k missing=""
	for k in $(conf_keywords); do
		grep -Eq "^\.It Ic $k( |$)|Ic $k( |$)" "$man5" ||
		    missing="$missing $k"
	done
	if [ -n "$missing" ]; then
		echo "doc/postie.conf.5 lacks keywords:$missing (add .It Ic lines)"
		return 1
	fi
}

@test "postie --help mentions every option" {
	local l missing=""
	run "$postie" --help
	[ "$status" -eq 0 ]
	for l in $(option_letters); do
		grep -Eq -- "(^|[^a-zA-Z-])-$l" <<<"$output" ||
		    missing="$missing -$l"
	done
	for l in $(long_options); do
		grep -Fq -- "-$l" <<<"$output" || missing="$missing -$l"
	done
	if [ -n "$missing" ]; then
		echo "--help (options_usage) lacks:$missing"
		return 1
	fi
}

@test "postie(8) EXIT STATUS, FILES, ENVIRONMENT, STANDARDS are there" {
	local s
	for s in "EXIT STATUS" FILES ENVIRONMENT EXAMPLES STANDARDS "SEE ALSO" \
	    DIAGNOSTICS "MESSAGE HANDLING" "ENVELOPE SENDER"; do
		[ -n "$(section "$man8" "$s")" ] || {
			echo "missing section $s"
			return 1
		}
	done
	for s in 5321 5322 1870 2920 6152 6531 3463 2033; do
		section "$man8" STANDARDS | grep -q "RFC $s" || {
			echo "STANDARDS lacks RFC $s"
			return 1
		}
	done
	section "$man8" ENVIRONMENT | grep -q 'Ev TMPDIR'
	section "$man8" ENVIRONMENT | grep -q 'Ev XDG_CONFIG_HOME'
}

# Run bash completion for the words given (the last one is completed) and
# print the candidates, one per line.
bash_complete() {
	bash --norc --noprofile -c '
		source "$1" || exit 1
		complete -p postie >/dev/null || exit 1
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_postie postie "${COMP_WORDS[COMP_CWORD]}" \
		    "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' bash "$top/completion/postie.bash" "$@"
}

@test "bash completion registers for postie and completes every option" {
	local l missing=""
	run bash --norc --noprofile -c \
	    "source '$top/completion/postie.bash' && complete -p postie"
	[ "$status" -eq 0 ]
	[[ $output == *"-F _postie postie"* ]]
	run bash_complete postie -
	[ "$status" -eq 0 ]
	for l in $(option_letters); do
		grep -q -- "^-$l" <<<"$output" || missing="$missing -$l"
	done
	for l in $(long_options); do
		grep -qx -- "-$l" <<<"$output" || missing="$missing -$l"
	done
	if [ -n "$missing" ]; then
		echo "completion/postie.bash does not offer:$missing"
		return 1
	fi
}

@test "bash completion completes option values" {
	run bash_complete postie -B ""
	[ "$output" = "$(printf '7BIT\n8BITMIME')" ]
	run bash_complete postie -B8
	[ "$output" = "-B8BITMIME" ]
	run bash_complete postie -R ""
	[ "$output" = "$(printf 'full\nhdrs')" ]
	run bash_complete postie -N s
	[ "$output" = "success" ]
	run bash_complete postie -N success,
	[ "$output" = "$(printf 'success,failure\nsuccess,delay')" ]
	run bash_complete postie -N n
	[ "$output" = "never" ]
	run bash_complete postie -bp
	[ "$output" = "-bp" ]
}

@test "bash completion completes -C with files" {
	mkdir "$tmp/cf"
	: >"$tmp/cf/one.conf"
	: >"$tmp/cf/two.conf"
	run bash_complete postie -C "$tmp/cf/"
	[ "$status" -eq 0 ]
	grep -qx "$tmp/cf/one.conf" <<<"$output"
	grep -qx "$tmp/cf/two.conf" <<<"$output"
	run bash_complete postie "-C$tmp/cf/o"
	[ "$output" = "-C$tmp/cf/one.conf" ]
}

@test "bash completion reads account names from the config file" {
	printf '%s\n' defaults 'port 25' 'account relay' 'host a' \
	    'account  other : relay' 'account default : relay' >"$tmp/c"
	run bash_complete postie -C "$tmp/c" -a ""
	[ "$output" = "$(printf 'default\nother\nrelay')" ]
	# The search order, with HOME pointing at a ~/.postierc.
	mkdir "$tmp/home"
	cp "$tmp/c" "$tmp/home/.postierc"
	HOME=$tmp/home XDG_CONFIG_HOME= run bash_complete postie -a r
	[ "$output" = "relay" ]
}

need() {
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "$1 is not installed: the completion test needs it" \
		    "(tests/ci.sh installs it)"
		return 1
	fi
}

@test "zsh completion parses and completes in a real zsh" {
	need zsh
	run zsh -n "$top/completion/_postie"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	head -n 1 "$top/completion/_postie" | grep -qx '#compdef postie'
	# Drive completion through a pseudo-terminal: type "postie -B<TAB>"
	# and "postie -C FILE -a <TAB>" and read what zsh lists.
	printf '%s\n' 'account relay' 'host a' 'account other : relay' \
	    >"$tmp/c"
	cat >"$tmp/drive.zsh" <<'EOF'
zmodload zsh/zpty || exit 1
zpty z 'zsh -f -i'
zpty -w z "PS1='%% '; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D; setopt nobeep"
zpty -w z 'zstyle ":completion:*" list-prompt ""; zstyle ":completion:*" menu no; LISTMAX=1000'
zpty -n -w z "$2"$'\t\t'
out=
for i in {1..50}; do
	sleep 0.1
	while zpty -r -t z chunk; do out+=$chunk; done
	[[ $out == *$3* ]] && break
done
print -r -- "$out"
zpty -d z
EOF
	run timeout 20 zsh -f "$tmp/drive.zsh" "$top/completion" \
	    'postie -B' 8BITMIME
	[[ $output == *7BIT* && $output == *8BITMIME* ]]
	run timeout 20 zsh -f "$tmp/drive.zsh" "$top/completion" \
	    "postie -C $tmp/c -a " other
	[[ $output == *relay* && $output == *other* ]]
}

@test "fish completion parses and completes in a real fish" {
	need fish
	run fish -n "$top/completion/postie.fish"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run fish --no-config -c "source '$top/completion/postie.fish'; complete -C'postie -B'"
	[ "$status" -eq 0 ]
	[[ $output == *-B7BIT* && $output == *-B8BITMIME* ]]
	run fish --no-config -c "source '$top/completion/postie.fish'; complete -C'postie -R '"
	[[ $output == *full* && $output == *hdrs* ]]
	printf '%s\n' 'account relay' 'host a' 'account other : relay' \
	    >"$tmp/c"
	run fish --no-config -c "source '$top/completion/postie.fish'; complete -C'postie -C $tmp/c -a '"
	[[ $output == *relay* && $output == *other* ]]
	run fish --no-config -c "source '$top/completion/postie.fish'; complete -C'postie -'"
	local l missing=""
	for l in $(option_letters); do
		grep -q -- "^-$l" <<<"$output" || missing="$missing -$l"
	done
	[ -z "$missing" ] || {
		echo "completion/postie.fish does not offer:$missing"
		return 1
	}
}

# ---- completions against --help ----------------------------------------
# Each shell's completion must offer exactly the options --help lists, so
# that neither can gain or lose one without the other.  Options are
# compared in one spelling: long ones by name (--tls, not --tls=on), -b and
# -od with their letter (-bs, -odq), -q with its selection letter (-qI for
# -qIid), any other -o as -o (-oem is one of -o<other>), and other short
# options by their letter (-A for -Ac).

# normalize: option words on stdin, one per line, to that spelling.
normalize() {
	grep -E '^--?[a-zA-Z]' | awk '{
		t = $0
		if (t ~ /^--/)
			sub(/[^a-z-].*$/, "", t)
		else if (t ~ /^-b./)
			t = substr(t, 1, 3)
		else if (t ~ /^-od./)
			t = substr(t, 1, 4)
		else if (t == "-oi")
			t = "-oi"
		else if (t ~ /^-o/)
			t = "-o"
		else if (t ~ /^-q[IRS]/)
			t = substr(t, 1, 3)
		else
			t = substr(t, 1, 2)
		print t
	}' | sort -u
}

# The options --help describes: every option word from the first blank
# line to "Exit status:", less the modes it names as refused (-bd, -bD).
help_options() {
	"$postie" --help | sed -n '/^$/,/^Exit status:$/p' |
	    grep -oE -- '(^|[][ ,(])--?[a-zA-Z][a-zA-Z0-9-]*' |
	    sed 's/^[][ ,(]//' | normalize | grep -vxE -- '-b[dD]'
}

bash_options() {
	{
		bash_complete postie -
		bash_complete postie -b
		bash_complete postie -od
	} | normalize
}

# What zsh hands _arguments when it runs _postie (the specs, with brace
# expansion done), turned into option words: -b and -o into each of
# their values, -q into itself and its selections.
zsh_options() {
	zsh -f -c '_arguments() { print -rl -- "$@" }
		_describe() { : } ; _values() { : }
		words=(postie ""); CURRENT=2
		source "$1"' zsh "$top/completion/_postie" |
	    awk '
		!seen && !/\[/ { next }	# _arguments flags before the specs
		{ seen = 1; sub(/^\([^)]*\)/, "") }
		/^\*/ { next }		# the recipients
		{
			if (match($0, /^--[a-z]([a-z-]*[a-z])?/))
				name = substr($0, 1, RLENGTH)
			else
				name = substr($0, 1, 2)
			act = $0
			sub(/^[^]]*\]/, "", act)
			if (name == "-b" || name == "-q") {
				if (name == "-q")
					print name
				while (match(act, /[a-zA-Z]\\:/)) {
					print name substr(act, RSTART, 1)
					act = substr(act, RSTART + RLENGTH)
				}
			} else if (name == "-o" &&
			    match(act, /\([^()]*\)$/)) {
				n = split(substr(act, RSTART + 1, RLENGTH - 2),
				    v, " ")
				for (i = 1; i <= n; i++)
					print "-o" v[i]
			} else
				print name
		}' | normalize
}

# What fish completes for "-", "-b", "-o" and "-q" (a bare -b is the
# prefix of the modes, not an option of its own).
fish_options() {
	fish --no-config -c "source '$top/completion/postie.fish'
		complete -C'postie -'; complete -C'postie -b'
		complete -C'postie -o'; complete -C'postie -q'" |
	    cut -f 1 | grep -vx -- -b | normalize
}

# same_options SHELL: its options are --help's, in both directions.
same_options() {
	local help got extra missing
	help=$(help_options)
	got=$("$1"_options)
	[ "$(wc -l <<<"$help")" -ge 80 ] || {
		echo "--help yields too few options: $help"
		return 1
	}
	missing=$(comm -23 <(printf '%s\n' "$help") <(printf '%s\n' "$got"))
	extra=$(comm -13 <(printf '%s\n' "$help") <(printf '%s\n' "$got"))
	[ -z "$missing$extra" ] && return 0
	[ -z "$missing" ] ||
	    echo "$1 completion lacks what --help lists:" $missing
	[ -z "$extra" ] ||
	    echo "$1 completion offers what --help does not list:" $extra
	return 1
}

@test "bash completion offers exactly the options --help lists" {
	same_options bash
	run bash_complete postie -b
	[ "$output" = "$(printf '%s\n' -bm -bs -bv -bp -bi)" ]
}

@test "zsh completion offers exactly the options --help lists" {
	need zsh
	same_options zsh
}

@test "fish completion offers exactly the options --help lists" {
	need fish
	same_options fish
	run fish --no-config -c "source '$top/completion/postie.fish'; complete -C'postie -b'"
	[[ $output == *-bs* && $output == *-bv* && $output != *planned* ]]
}

@test "README and NEWS exist and give the two quick-start commands" {
	grep -q 'sh tests/demo.sh' "$top/README"
	grep -q 'sh tests/ci.sh' "$top/README"
	grep -q '^postie 0.1.0' "$top/NEWS"
	# the version postie reports has its NEWS entry
	v=$("$postie" --version | sed -n '1s/^postie //p')
	[ -n "$v" ]
	grep -q "^postie $v " "$top/NEWS"
}

@test "contrib vim syntax knows every conf.c keyword and highlights a config" {
	local syn=$top/contrib/vim/syntax/postie.vim k missing=""
	for k in $(conf_keywords); do
		case $k in defaults|account) continue ;; esac
		grep -Eq "^syn keyword postieKeyword .*( |^)$k( |$)" "$syn" ||
		    missing="$missing $k"
	done
	[ -z "$missing" ] || { echo "postie.vim lacks:$missing"; return 1; }
	command -v vim >/dev/null || { echo "vim not installed (tests/ci.sh installs it)"; return 1; }
	printf 'account work : base\nhost smtp.example.org\ntls on\n' >"$BATS_TEST_TMPDIR/rc"
	vim -u NONE -N -es -c 'syntax on' -c "set rtp^=$top/contrib/vim" \
	    -c 'set ft=postie' -c "redir! > $BATS_TEST_TMPDIR/out" \
	    -c 'echo synIDattr(synID(1,1,1),"name") synIDattr(synID(2,1,1),"name") synIDattr(synID(3,5,1),"name")' \
	    -c 'redir END' -c 'qa!' "$BATS_TEST_TMPDIR/rc"
	run cat "$BATS_TEST_TMPDIR/out"
	[[ "$output" == *"postieSection postieKeyword postieBool"* ]] ||
	    { echo "highlighting: $output"; return 1; }
}

@test "contrib's example configs parse: postie -P accepts each" {
	local f n=0
	for f in "$top"/contrib/*/*.conf; do
		# a copy: the tree may be read-only (distcheck) and the mode
		# must not be world-readable once a password is in it
		cp "$f" "$BATS_TEST_TMPDIR/c.conf"
		chmod 600 "$BATS_TEST_TMPDIR/c.conf"
		run "$postie" -C "$BATS_TEST_TMPDIR/c.conf" -P
		if grep -q '^account ' "$f"; then
			[ "$status" -eq 0 ] || {
				echo "$f: exit $status: $output"
				return 1
			}
		else
			# an example to fill in (the Debian package's
			# /etc/postie.conf): until then, one clear error
			[ "$status" -eq 78 ] &&
			    [[ "$output" == *"no account 'default'"* ]] || {
				echo "$f, as shipped: exit $status: $output"
				return 1
			}
		fi
		# and with its commented-out keywords ("#host ...") in
		sed 's/^#\([a-z]\)/\1/' "$f" >"$BATS_TEST_TMPDIR/c.conf"
		run "$postie" -C "$BATS_TEST_TMPDIR/c.conf" -P
		[ "$status" -eq 0 ] || {
			echo "$f, uncommented: exit $status: $output"
			return 1
		}
		n=$((n + 1))
	done
	[ "$n" -ge 3 ]
}
