#!/usr/bin/env bats
# shellcheck shell=bash
#
# The OAuth2 token store of the system queue (queue_oauth.c), as root and
# as an ordinary user see it: root makes an account's record
# (root:postie 0660, two slots, in a root:postie 2750 oauth/ with its
# lock file beside it); an ordinary user's postie, with the group, reads
# it and updates it in place (the file stays root's: its owner could read
# it whatever its mode), but cannot read it directly, cannot make one,
# and does not believe one a user owned.
#
# There is no command line for the store yet: tests/oauthstore (a check
# program) drives queue_oauth_* as postie does for the system queue
# (priv_init() first, the group raised only inside the queue's functions),
# installed setgid postie like postie itself.  Everything happens in the
# private mount namespace of tests/callers-env.sh (`start --setgid`), as
# in tests/privileges.bats: a group "postie" in a private /etc/group, the
# system queue a tmpfs root:postie 2770, the user pcaller; nothing on the
# machine changes.  Needs root.

load common

CL_ENV_SH="$BATS_TEST_DIRNAME/callers-env.sh"
STORE_BIN=${TOP_BUILDDIR}/tests/oauthstore

setup_file() {
	[ "$(id -u)" = 0 ] || return 0
	[ -x "$STORE_BIN" ] || {
		echo "tests/oauthstore not built (make check builds it)" >&2
		return 1
	}
	O_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postie-oauthstore.XXXXXX")
	chmod 755 "$O_DIR"
	export O_DIR
	echo "account default" >"$O_DIR/seed.conf"
	mkdir "$O_DIR/ns"
	sh "$CL_ENV_SH" start --setgid "$O_DIR/ns" "$POSTIE" "$O_DIR/seed.conf"
	# shellcheck disable=SC1091
	. "$O_DIR/ns/env"
	# the check program as a setgid install leaves postie (chgrp
	# before chmod: chgrp clears the setgid bit)
	mkdir "$O_DIR/bin"
	chmod 755 "$O_DIR/bin"
	cp "$STORE_BIN" "$O_DIR/bin/oauthstore"
	chgrp "$POSTIE_GID" "$O_DIR/bin/oauthstore"
	chmod 2755 "$O_DIR/bin/oauthstore"
}

teardown_file() {
	if [ -n "${O_DIR:-}" ]; then
		sh "$CL_ENV_SH" stop "$O_DIR/ns" || true
		rm -rf "$O_DIR"
	fi
}

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (a setgid copy, a namespace)"
	common_setup
	# shellcheck disable=SC1091
	. "$O_DIR/ns/env"
	OS=$O_DIR/bin/oauthstore
	REC=$SPOOL_DIR/oauth/acct
	in_ns rm -rf "$SPOOL_DIR/oauth"
	record cid-1 https://auth.example/token R-1 A-1 1700000000 >"$T/rec1"
	record cid-1 https://auth.example/token R-2 A-2 1700003600 >"$T/rec2"
}

teardown() {
	common_teardown
}

in_ns() {
	sh "$CL_ENV_SH" run "$O_DIR/ns" "$@"
}

# as_root CMD...: CMD as root in the namespace (bats run, stdin kept).
as_root() {
	run --separate-stderr sh "$CL_ENV_SH" run "$O_DIR/ns" "$@"
}

# as_user CMD...: CMD as pcaller in the namespace (bats run, stdin kept).
as_user() {
	run --separate-stderr sh "$CL_ENV_SH" run "$O_DIR/ns" -u "$@"
}

# record CLIENT_ID TOKEN_URL REFRESH ACCESS EXPIRES: oauthstore's input.
record() {
	printf 'client_id %s\ntoken_url %s\nrefresh_token %s\naccess_token %s\nexpires %s\n' \
	    "$@"
}

# root_saves FILE: root stores FILE's record as account "acct".
root_saves() {
	as_root "$OS" save "$SPOOL_DIR" acct <"$1"
	assert_status 0
	assert_stderr_empty
}

@test "root makes the record root:postie 0660 in a root:postie 2750 directory, its lock beside it" {
	root_saves "$T/rec1"
	run in_ns stat -c '%U:%G %a' "$SPOOL_DIR/oauth" "$REC" \
	    "$SPOOL_DIR/oauth/.acct.lock"
	assert_equal "$output" "$(printf '%s\n' "root:postie 2750" \
	    "root:postie 660" "root:postie 660")" "store modes"
	assert_equal "$(in_ns stat -c %s "$REC")" 65536 "two slots"
	assert_equal "$(in_ns ls -A "$SPOOL_DIR/oauth" | tr '\n' ' ')" \
	    ".acct.lock acct " "files in oauth/"
	as_root "$OS" load "$SPOOL_DIR" acct
	assert_status 0
	assert_equal "$output" "$(printf 'generation 1\n%s' "$(cat "$T/rec1")")"
}

@test "an ordinary user reads root's record and updates it in place: the file stays root's" {
	local ino
	root_saves "$T/rec1"
	ino=$(in_ns stat -c %i "$REC")
	as_user "$OS" load "$SPOOL_DIR" acct
	assert_status 0
	assert_stderr_empty
	assert_equal "$output" "$(printf 'generation 1\n%s' "$(cat "$T/rec1")")"
	as_user "$OS" save "$SPOOL_DIR" acct <"$T/rec2"
	assert_status 0
	assert_stderr_empty
	run in_ns stat -c '%i %U:%G %a %s' "$REC"
	assert_equal "$output" "$ino root:postie 660 65536" "the record file"
	as_user "$OS" load "$SPOOL_DIR" acct
	assert_status 0
	assert_equal "$output" "$(printf 'generation 2\n%s' "$(cat "$T/rec2")")"
	# root sees the update; the next one goes back to the first slot
	as_root "$OS" load "$SPOOL_DIR" acct
	assert_equal "$output" "$(printf 'generation 2\n%s' "$(cat "$T/rec2")")"
	as_user "$OS" save "$SPOOL_DIR" acct <"$T/rec1"
	assert_status 0
	as_root "$OS" load "$SPOOL_DIR" acct
	assert_equal "$output" "$(printf 'generation 3\n%s' "$(cat "$T/rec1")")"
	assert_equal "$(in_ns stat -c %i "$REC")" "$ino" "inode after two updates"
	assert_equal "$(in_ns ls -A "$SPOOL_DIR/oauth" | tr '\n' ' ')" \
	    ".acct.lock acct " "files in oauth/"
}

@test "an ordinary user cannot read the record or its directory directly" {
	root_saves "$T/rec1"
	as_user cat "$REC"
	[ "$status" -ne 0 ]
	assert_stderr_contains "Permission denied"
	[[ "$output" != *R-1* ]] || _fail "the refresh token was shown"
	as_user ls "$SPOOL_DIR/oauth"
	[ "$status" -ne 0 ]
	assert_stderr_contains "Permission denied"
	as_user touch "$SPOOL_DIR/oauth/x"
	[ "$status" -ne 0 ]
}

@test "an ordinary user cannot make a record: root must run --oauth-authorize" {
	local msg="oauthstore: no token for account 'acct' in the system store: root must run postie --oauth-authorize acct"
	as_user "$OS" save "$SPOOL_DIR" acct <"$T/rec1"
	assert_status 2
	assert_equal "$stderr" "$msg"
	run in_ns test -e "$SPOOL_DIR/oauth"
	[ "$status" -ne 0 ] || _fail "an ordinary user made oauth/"
	as_user "$OS" load "$SPOOL_DIR" acct
	assert_status 1
	assert_equal "$output" "no record"
	# with the directory there (another account's record) as well
	as_root "$OS" save "$SPOOL_DIR" other <"$T/rec1"
	assert_status 0
	as_user "$OS" save "$SPOOL_DIR" acct <"$T/rec1"
	assert_status 2
	assert_equal "$stderr" "$msg"
	assert_equal "$(in_ns ls -A "$SPOOL_DIR/oauth" | tr '\n' ' ')" \
	    ".other.lock other " "files in oauth/"
	# and with the lock file there too (root took the lock once)
	as_root "$OS" lock "$SPOOL_DIR" acct 0 </dev/null
	assert_status 0
	as_user "$OS" save "$SPOOL_DIR" acct <"$T/rec1"
	assert_status 2
	assert_equal "$stderr" "$msg"
	assert_equal "$(in_ns ls -A "$SPOOL_DIR/oauth" | tr '\n' ' ')" \
	    ".acct.lock .other.lock other " "files in oauth/"
}

@test "a record file a user owned is not believed, and only root replaces it" {
	local want sum
	root_saves "$T/rec1"
	in_ns chown "$CALLER_USER" "$REC"
	want="oauthstore: token file '$REC' is owned by uid $CALLER_UID, gid $POSTIE_GID with mode 0660: refused (the system store's must be root's, of the queue's group and closed to others: chown 0:$POSTIE_GID '$REC'; chmod 660 '$REC')"
	as_user "$OS" load "$SPOOL_DIR" acct
	assert_status 2
	assert_equal "$stderr" "$want"
	[[ "$output" != *R-1* ]] || _fail "the refresh token was shown"
	sum=$(in_ns sha256sum "$REC")
	as_user "$OS" save "$SPOOL_DIR" acct <"$T/rec2"
	assert_status 2
	assert_equal "$stderr" "$want"
	assert_equal "$(in_ns sha256sum "$REC")" "$sum" "the refused file"
	as_root "$OS" load "$SPOOL_DIR" acct
	assert_status 2
	assert_equal "$stderr" "$want"
	# root's save makes it anew, root's
	root_saves "$T/rec2"
	run in_ns stat -c '%U:%G %a' "$REC"
	assert_equal "$output" "root:postie 660"
	as_user "$OS" load "$SPOOL_DIR" acct
	assert_status 0
	assert_equal "$output" "$(printf 'generation 1\n%s' "$(cat "$T/rec2")")"
}

@test "the lock: held by root, an ordinary user's postie gives up after its timeout" {
	local pid
	root_saves "$T/rec1"
	mkfifo "$T/hold"
	chmod 644 "$T/hold"
	in_ns "$OS" lock "$SPOOL_DIR" acct 1000 <"$T/hold" >"$T/held" 2>&1 3>&- &
	pid=$!
	exec 5>"$T/hold"
	for _ in $(seq 100); do
		grep -q locked "$T/held" && break
		sleep 0.05
	done
	assert_equal "$(cat "$T/held")" "locked" "root's holder"
	as_user "$OS" lock "$SPOOL_DIR" acct 500 </dev/null
	assert_status 2
	assert_equal "$stderr" "oauthstore: another postie has held the token lock of account 'acct' for 1 s"
	# released: the user's turn (the lock file opened read-only)
	exec 5>&-
	wait "$pid"
	as_user "$OS" lock "$SPOOL_DIR" acct 2000 </dev/null
	assert_status 0
	assert_equal "$output" "locked"
}
