#!/usr/bin/env bats
# shellcheck shell=bash
#
# Interoperability: postie against a real Postfix on loopback, delivering
# with virtual(8) into Maildirs that these tests read back byte by byte.
# tests/postfix-env.sh runs that Postfix; one instance serves the whole
# file (setup_file/teardown_file).
#
# When the unpacked Postfix is missing (`sh tests/postfix-env.sh fetch`
# not done) every test here FAILS; set POSTIE_SKIP_POSTFIX=1 to skip them
# on purpose.
#
# What a user sees in the Maildir: virtual(8) writes LF line endings, so
# every line break postie sends (CRLF, whatever the input had: LF, CRLF
# or CRs before an LF) arrives as LF, and a stray CR as the space postie
# made of it; dot-stuffing is undone; a missing final newline arrives
# added; long lines (beyond 998 and beyond Postfix's own 2048-byte
# record size) arrive whole. Postfix prepends Return-Path,
# X-Original-To, Delivered-To and Received, which `postfix-env.sh strip`
# removes before comparing.

load common

PF_ENV_SH="$BATS_TEST_DIRNAME/postfix-env.sh"

setup_file() {
	if [ "${POSTIE_SKIP_POSTFIX:-0}" = 1 ]; then
		return 0
	fi
	# Fails (does not skip) when fetch has not been done.
	sh "$PF_ENV_SH" check
	PF_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postie-postfix.XXXXXX")
	export PF_DIR
	# every box-NAME this file uses
	# shellcheck disable=SC2046
	if ! sh "$PF_ENV_SH" start "$PF_DIR" $(grep -o 'box-[a-z0-9-]*' \
	    "$BATS_TEST_FILENAME" | sort -u); then
		sh "$PF_ENV_SH" stop "$PF_DIR"
		return 1
	fi
	# shellcheck disable=SC1091
	. "$PF_DIR/env"
	cat >"$PF_DIR/postie.conf" <<EOF
# postie account for the private Postfix (tests/postfix.bats)
defaults
timeout 30
# The engine against Postfix: its own exit statuses, no queue
# (tests/queue-postfix.bats has the queue against Postfix).
queue off

account postfix
host $PF_HOST
port $PF_SMTP_PORT
from sender@postie.test
domain client.postie.test

account default : postfix
EOF
	chmod 600 "$PF_DIR/postie.conf"
}

teardown_file() {
	if [ -n "${PF_DIR:-}" ]; then
		sh "$PF_ENV_SH" stop "$PF_DIR"
		if [ -z "${POSTIE_KEEP_POSTFIX:-}" ]; then
			rm -rf "$PF_DIR"
		fi
	fi
}

setup() {
	if [ "${POSTIE_SKIP_POSTFIX:-0}" = 1 ]; then
		skip "POSTIE_SKIP_POSTFIX=1"
	fi
	common_setup
	[ -n "${PF_DIR:-}" ] && [ -f "$PF_DIR/env" ]
	# shellcheck disable=SC1091
	. "$PF_DIR/env"
	W="$BATS_TEST_TMPDIR"
	# run_postie (common.bash) uses it
	# shellcheck disable=SC2034
	CONFIG=$PF_DIR/postie.conf
}

teardown() {
	common_teardown
}

# ---- helpers (kept here: common.bash belongs to the fake-server tests) ----

# pf_postie ARGS... < INPUT: run postie against the private Postfix
# (common.bash's run_postie: bounded in time; $status, $output, $stderr).
pf_postie() {
	run_postie "$@"
	echo "postie exit $status"
	echo "stdout: $output"
	# shellcheck disable=SC2154
	echo "stderr: $stderr"
}

# refute CMD...: fail when CMD succeeds (a bare `! cmd` does not fail a
# bats test unless it is the last command).
refute() {
	if "$@"; then
		echo "unexpectedly true: $*"
		return 1
	fi
	return 0
}

# pf_expect IN OUT: the bytes a Maildir holds for input IN once the
# Postfix headers are stripped: an LF with the CRs right before it
# becomes LF, any other CR a space (for CR-only input every CR, CRLF and
# LF becomes LF), and a missing final newline is added.
pf_expect() {
	python3 - "$1" "$2" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
head = data[:4 << 20]
if b"\r" in head and b"\n" not in head:
    data = re.sub(rb"\r\n|\r|\n", b"\n", data)
else:
    data = re.sub(rb"\r*\n|\r",
                  lambda m: b"\n" if m.group().endswith(b"\n") else b" ", data)
if data and not data.endswith(b"\n"):
    data += b"\n"
open(sys.argv[2], "wb").write(data)
EOF
}

# pf_delivered BOX [N]: wait for N (default 1) messages in
# BOX@example.org's Maildir and print the newest one's path.
pf_delivered() {
	local files
	files=$(sh "$PF_ENV_SH" wait-mail "$PF_DIR" "$1" "${2:-1}" 20) || {
		echo "no delivery to $1"
		tail -n 20 "$PF_MAILLOG"
		return 1
	}
	printf '%s\n' "$files" | tail -n 1
}

# pf_count BOX: messages now in BOX's Maildir.
pf_count() {
	sh "$PF_ENV_SH" count "$PF_DIR" "$1"
}

# pf_same EXPECTED FILE: the message FILE (a Maildir file) minus
# Postfix's prepended headers must equal EXPECTED byte for byte.
pf_same() {
	sh "$PF_ENV_SH" strip "$2" >"$W/got"
	if ! cmp "$1" "$W/got"; then
		echo "--- expected (first differing lines) vs delivered:"
		diff <(head -c 4000 "$1" | od -c) <(head -c 4000 "$W/got" | od -c) |
		    head -n 40
		return 1
	fi
}

# pf_check_bytes IN BOX: the common case, one message in BOX.
pf_check_bytes() {
	local f
	pf_expect "$1" "$W/expected"
	f=$(pf_delivered "$2") || return 1
	pf_same "$W/expected" "$f"
}

# pf_session_mark; ...; pf_session_line: print smtpd's "disconnect from"
# log line (with its per-command counts) of the first session that
# ended after the mark.
pf_session_mark() {
	PF_MARK=$(grep -c 'disconnect from' "$PF_MAILLOG" || true)
}
pf_session_line() {
	local i=0 line
	while [ $i -lt 100 ]; do
		line=$(grep 'disconnect from' "$PF_MAILLOG" |
		    sed -n "$((PF_MARK + 1))p")
		if [ -n "$line" ]; then
			echo "$line"
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "no new smtpd session in $PF_MAILLOG" >&2
	return 1
}

# pf_headers NAME BOX: standard headers for a test message (postie adds
# nothing when From, Date and Message-ID are present).
pf_headers() {
	printf 'From: Postie Test <sender@postie.test>\r\n'
	printf 'To: %s@example.org\r\n' "$2"
	printf 'Subject: postfix interop %s\r\n' "$1"
	printf 'Date: Sun, 22 Nov 2026 12:00:00 +0000\r\n'
	printf 'Message-ID: <%s.%s@postie.test>\r\n' "$1" "$$"
}

# ---- the harness itself ----------------------------------------------------

@test "postfix: private Postfix greets on loopback and offers SIZE, 8BITMIME, SMTPUTF8" {
	run python3 - "$PF_SMTP_PORT" <<'EOF'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
code, caps = s.ehlo("client.postie.test")
s.quit()
print(code, caps.decode())
EOF
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "250 "* ]]
	[[ "$output" == *"SIZE 10485760"* ]]
	[[ "$output" == *8BITMIME* ]]
	[[ "$output" == *SMTPUTF8* ]]
	[ "$PF_SMTP_PORT" != 25 ]
}

# ---- byte-exact delivery ---------------------------------------------------

@test "postfix: dot lines arrive exactly (leading '.', lone '.', '..', '...')" {
	{
		pf_headers dots box-dots
		printf '\r\n'
		printf 'first line\r\n'
		printf '.leading dot\r\n'
		printf '.\r\n'
		printf 'after a lone dot\r\n'
		printf '..\r\n'
		printf '...\r\n'
		printf '. space after dot\r\n'
		printf '.\r\n'
		printf '\r\n'
		printf '.\r\n'
		printf 'last\r\n'
	} >"$W/in"
	pf_postie -i box-dots@example.org <"$W/in"
	[ "$status" -eq 0 ]
	pf_check_bytes "$W/in" box-dots
}

@test "postfix: a lone '.' line does not end the message, without -i either" {
	{
		pf_headers lonedot box-lonedot
		printf '\n'
		printf 'before\n.\nafter the dot line\n'
	} >"$W/in"
	pf_postie box-lonedot@example.org <"$W/in"
	[ "$status" -eq 0 ]
	pf_check_bytes "$W/in" box-lonedot
	grep -q '^after the dot line$' "$W/got"
}

@test "postfix: LF, CRLF and CR CR LF arrive as lines, a stray CR as a space; no final newline" {
	{
		pf_headers eol box-eol
		printf '\n'
		printf 'bare LF line\n'
		printf 'CRLF line\r\n'
		printf 'lone CR line\r'
		printf 'CR then CRLF\r\r\n'
		printf 'LF then CR\n\r'
		printf '.dot after lone CR\r.x\n'
		printf 'no final newline'
	} >"$W/in"
	pf_postie box-eol@example.org <"$W/in"
	[ "$status" -eq 0 ]
	pf_check_bytes "$W/in" box-eol
	# what the user sees, spelled out
	tail -n 3 "$W/got" | od -c >&2
	grep -qx 'lone CR line CR then CRLF' "$W/got"
	grep -qx ' \.dot after lone CR \.x' "$W/got"
	[ "$(tail -c 17 "$W/got")" = "no final newline" ]
	[ "$(tail -c 1 "$W/got" | od -An -c | tr -d ' ')" = '\n' ]
	refute grep -q "$(printf '\r')" "$W/got"
}

@test "postfix: 8-bit UTF-8 body arrives unchanged" {
	{
		pf_headers utf8 box-utf8
		printf 'MIME-Version: 1.0\r\n'
		printf 'Content-Type: text/plain; charset=UTF-8\r\n'
		printf 'Content-Transfer-Encoding: 8bit\r\n'
		printf '\r\n'
		printf 'Grüße aus Köln – ½ € 日本語 🙂\r\n'
		printf '.Ünïcödé after a dot\r\n'
		printf '\xc3\xa9\xe2\x80\x94\xf0\x9f\x93\xa8\r\n'
	} >"$W/in"
	pf_postie box-utf8@example.org <"$W/in"
	[ "$status" -eq 0 ]
	pf_check_bytes "$W/in" box-utf8
	grep -q 'Grüße aus Köln' "$W/got"
}

@test "postfix: long lines (998 to 5000 bytes) arrive whole, not folded" {
	{
		pf_headers long box-long
		printf '\r\n'
		for n in 990 998 999 1000 1001 2047 2048 2049 5000; do
			head -c "$n" /dev/zero | tr '\0' 'a'
			printf '\r\n'
		done
		# a long line that starts with a dot
		printf '.'
		head -c 3000 /dev/zero | tr '\0' 'b'
		printf '\r\n'
	} >"$W/in"
	pf_postie box-long@example.org <"$W/in"
	[ "$status" -eq 0 ]
	pf_check_bytes "$W/in" box-long
	# every length is there as one line
	for n in 990 998 999 1000 1001 2047 2048 2049 5000; do
		awk -v n="$n" 'length($0) == n && /^a+$/ { f = 1 } END { exit !f }' "$W/got"
	done
	awk 'length($0) == 3001 && /^\.b+$/ { f = 1 } END { exit !f }' "$W/got"
}

@test "postfix: 5 MB binary-ish body (every byte but NUL) arrives exactly" {
	pf_headers big box-big >"$W/in"
	printf 'MIME-Version: 1.0\r\n\r\n' >>"$W/in"
	python3 - "$W/in" <<'EOF'
import random, sys
rnd = random.Random(5)
# bytes 1..255: lone CRs, bare LFs, CRLFs, dots at line starts and 8-bit
# data all occur; no NUL (postie's NUL policy is tested elsewhere)
body = rnd.randbytes(5 * 1024 * 1024).replace(b"\0", b"\1")
open(sys.argv[1], "ab").write(body)
EOF
	pf_postie box-big@example.org <"$W/in"
	[ "$status" -eq 0 ]
	pf_check_bytes "$W/in" box-big
}

@test "postfix: empty body (headers and the blank line only)" {
	{
		pf_headers empty box-empty
		printf '\r\n'
	} >"$W/in"
	pf_postie box-empty@example.org <"$W/in"
	[ "$status" -eq 0 ]
	pf_check_bytes "$W/in" box-empty
	[ "$(tail -c 2 "$W/got" | od -An -c | tr -d ' ')" = '\n\n' ]
}

@test "postfix: envelope sender from -f arrives as Return-Path" {
	{
		pf_headers envfrom box-envfrom
		printf '\nbody\n'
	} >"$W/in"
	pf_postie -f bounces@postie.test box-envfrom@example.org <"$W/in"
	[ "$status" -eq 0 ]
	f=$(pf_delivered box-envfrom)
	head -n 1 "$f" | grep -qx 'Return-Path: <bounces@postie.test>'
	grep -qx 'Delivered-To: box-envfrom@example.org' "$f"
	pf_expect "$W/in" "$W/expected"
	pf_same "$W/expected" "$f"
}

@test "postfix: a leading mbox 'From ' line is not delivered" {
	{
		printf 'From sender@postie.test Sun Nov 22 12:00:00 2026\n'
		pf_headers mbox box-mbox
		printf '\nFrom here on the body\n>From quoted\n'
	} >"$W/in"
	pf_postie box-mbox@example.org <"$W/in"
	[ "$status" -eq 0 ]
	tail -n +2 "$W/in" >"$W/nofrom"
	pf_expect "$W/nofrom" "$W/expected"
	f=$(pf_delivered box-mbox)
	pf_same "$W/expected" "$f"
}

@test "postfix: missing From, Date and Message-ID are added once (Postfix adds none here)" {
	printf 'Subject: postfix interop bare\n\nbody only\n' >"$W/in"
	pf_postie box-bare@example.org <"$W/in"
	[ "$status" -eq 0 ]
	f=$(pf_delivered box-bare)
	sh "$PF_ENV_SH" strip "$f" >"$W/got"
	cat "$W/got"
	[ "$(grep -ci '^From:' "$W/got")" -eq 1 ]
	[ "$(grep -ci '^Date:' "$W/got")" -eq 1 ]
	[ "$(grep -ci '^Message-ID:' "$W/got")" -eq 1 ]
	grep -qi '^From:.*sender@postie\.test' "$W/got"
	grep -qiE '^Message-ID: *<[^<>@ ]+@[^<>@ ]+>$' "$W/got"
	grep -qx 'Subject: postfix interop bare' "$W/got"
	# the body is untouched and follows the only blank line
	[ "$(sed -n '/^$/,$p' "$W/got")" = "$(printf '\nbody only')" ]
}

@test "postfix: a comma-separated recipient argument (cron MAILTO) reaches each" {
	{
		pf_headers commas box-c1
		printf '\r\ncron output\r\n'
	} >"$W/in"
	pf_postie -i 'box-c1@example.org,box-c2@example.org,box-c3@example.org' <"$W/in"
	[ "$status" -eq 0 ]
	pf_expect "$W/in" "$W/expected"
	for b in box-c1 box-c2 box-c3; do
		f=$(pf_delivered "$b")
		pf_same "$W/expected" "$f"
	done
}

# ---- -t, Bcc, groups -------------------------------------------------------

@test "postfix: -t delivers to To, Cc and Bcc; Bcc never reaches Postfix" {
	{
		printf 'From: Postie Test <sender@postie.test>\r\n'
		printf 'To: Tee One <box-t1@example.org>\r\n'
		printf 'Cc: box-t2@example.org,\r\n\t"Quoted, Name" <box-t3@example.org>\r\n'
		printf 'Bcc: box-t4@example.org,\r\n box-t5@example.org\r\n'
		printf 'Subject: postfix interop bcc\r\n'
		printf 'Date: Sun, 22 Nov 2026 12:00:00 +0000\r\n'
		printf 'Message-ID: <bcc.%s@postie.test>\r\n' "$$"
		printf '\r\n'
		printf 'Bcc: this body line is not a header\r\n'
	} >"$W/in"
	pf_postie -t <"$W/in"
	[ "$status" -eq 0 ]
	# what the recipients must see: the input without the Bcc field
	# (both its lines)
	grep -v -e '^Bcc: box-t4' -e '^ box-t5' "$W/in" >"$W/nobcc"
	pf_expect "$W/nobcc" "$W/expected"
	for b in box-t1 box-t2 box-t3 box-t4 box-t5; do
		f=$(pf_delivered "$b")
		refute grep -qi '^X-Postie-Test-Saw-Bcc:' "$f"
		refute grep -qi '^Bcc:.*box-t' "$f"
		pf_same "$W/expected" "$f"
	done
	# each exactly once
	for b in box-t1 box-t2 box-t3 box-t4 box-t5; do
		[ "$(pf_count "$b")" -eq 1 ]
	done
}

@test "postfix: -t with groups, duplicates and argv recipients" {
	{
		printf 'From: Postie Test <sender@postie.test>\r\n'
		printf 'To: Team: box-g1@example.org, Gee Two <box-g2@example.org>;,\r\n'
		printf ' undisclosed-recipients:;\r\n'
		printf 'Cc: box-g1@example.org (dup), Empty Group:;\r\n'
		printf 'Subject: postfix interop groups\r\n'
		printf 'Date: Sun, 22 Nov 2026 12:00:00 +0000\r\n'
		printf 'Message-ID: <groups.%s@postie.test>\r\n' "$$"
		printf '\r\n'
		printf 'to a group\r\n'
	} >"$W/in"
	pf_postie -t box-g3@example.org <"$W/in"
	[ "$status" -eq 0 ]
	pf_expect "$W/in" "$W/expected"
	for b in box-g1 box-g2 box-g3; do
		f=$(pf_delivered "$b")
		pf_same "$W/expected" "$f"
	done
	sleep 0.5
	for b in box-g1 box-g2 box-g3; do
		[ "$(pf_count "$b")" -eq 1 ]
	done
}

@test "postfix: -t with Resent-* headers uses only the Resent set; Resent-Bcc removed" {
	{
		printf 'Resent-From: sender@postie.test\r\n'
		printf 'Resent-To: box-r1@example.org\r\n'
		printf 'Resent-Bcc: box-r2@example.org\r\n'
		printf 'Resent-Date: Sun, 22 Nov 2026 13:00:00 +0000\r\n'
		printf 'Resent-Message-ID: <resent.%s@postie.test>\r\n' "$$"
		printf 'From: Postie Test <sender@postie.test>\r\n'
		printf 'To: box-r3@example.org\r\n'
		printf 'Subject: postfix interop resent\r\n'
		printf 'Date: Sun, 22 Nov 2026 12:00:00 +0000\r\n'
		printf 'Message-ID: <orig.%s@postie.test>\r\n' "$$"
		printf '\r\n'
		printf 'resent body\r\n'
	} >"$W/in"
	pf_postie -t <"$W/in"
	[ "$status" -eq 0 ]
	grep -v '^Resent-Bcc:' "$W/in" >"$W/nobcc"
	pf_expect "$W/nobcc" "$W/expected"
	for b in box-r1 box-r2; do
		f=$(pf_delivered "$b")
		refute grep -qi '^X-Postie-Test-Saw-Bcc:' "$f"
		pf_same "$W/expected" "$f"
	done
	sleep 0.5
	[ "$(pf_count box-r3)" -eq 0 ]
}

@test "postfix: SMTPUTF8 recipient is delivered" {
	{
		pf_headers smtputf8 box-x
		printf '\r\nto a UTF-8 mailbox\r\n'
	} >"$W/in"
	pf_postie 'jörg@example.org' <"$W/in"
	[ "$status" -eq 0 ]
	f=$(pf_delivered box-jorg)
	grep -qx 'Delivered-To: jörg@example.org' "$f"
	pf_expect "$W/in" "$W/expected"
	pf_same "$W/expected" "$f"
}

# ---- what Postfix recorded about the envelope (held, not delivered) ---------

# pf_smtputf8_flags QUEUE-INFO: the sixth number of the message_size record
pf_smtputf8_flags() {
	printf '%s\n' "$1" | awk '$1 == "message_size:" { print $7; exit }'
}

@test "postfix: an 8-bit body is declared with BODY=8BITMIME" {
	{
		pf_headers body8 box-hold-8bit
		printf '\r\nGrüße\r\n'
	} >"$W/in"
	pf_postie box-hold-8bit@example.org <"$W/in"
	[ "$status" -eq 0 ]
	info=$(sh "$PF_ENV_SH" held "$PF_DIR" box-hold-8bit@example.org)
	echo "$info"
	grep -qx 'named_attribute: encoding=8bit' <<<"$info"
	[ "$(pf_smtputf8_flags "$info")" = 0 ]
}

@test "postfix: a 7-bit message is not declared 8BITMIME, nor SMTPUTF8" {
	{
		pf_headers body7 box-hold-7bit
		printf '\r\nplain ASCII\r\n'
	} >"$W/in"
	pf_postie box-hold-7bit@example.org <"$W/in"
	[ "$status" -eq 0 ]
	info=$(sh "$PF_ENV_SH" held "$PF_DIR" box-hold-7bit@example.org)
	echo "$info"
	refute grep -q 'encoding=8bit' <<<"$info"
	[ "$(pf_smtputf8_flags "$info")" = 0 ]
}

@test "postfix: a UTF-8 envelope sender is declared with SMTPUTF8" {
	{
		pf_headers utf8sender box-hold-utf8
		printf '\r\nfrom a UTF-8 address\r\n'
	} >"$W/in"
	pf_postie -f 'jörg@example.org' box-hold-utf8@example.org <"$W/in"
	[ "$status" -eq 0 ]
	info=$(sh "$PF_ENV_SH" held "$PF_DIR" box-hold-utf8@example.org)
	echo "$info"
	grep -qx 'sender: jörg@example.org' <<<"$info"
	[ "$(pf_smtputf8_flags "$info")" != 0 ]
}

# ---- failures --------------------------------------------------------------

@test "postfix: 550 for one recipient -> exit 67, the others get the message" {
	{
		pf_headers rej box-rej1
		printf '\r\nsome rejected\r\n'
	} >"$W/in"
	pf_postie box-rej1@example.org reject@example.org box-rej2@example.org <"$W/in"
	[ "$status" -eq 67 ]
	[[ "$stderr" == *"reject@example.org"* ]]
	[[ "$stderr" == *"550"* ]]
	[[ "$stderr" == *"recipient rejected for postie tests"* ]]
	[[ "$stderr" != *"box-rej1"* ]]
	[[ "$stderr" != *"box-rej2"* ]]
	pf_expect "$W/in" "$W/expected"
	for b in box-rej1 box-rej2; do
		f=$(pf_delivered "$b")
		pf_same "$W/expected" "$f"
	done
}

@test "postfix: unknown user (Postfix's own 550 5.1.1) -> exit 67" {
	{
		pf_headers unknown box-unk
		printf '\r\nbody\r\n'
	} >"$W/in"
	pf_postie nosuchuser@example.org box-unk@example.org <"$W/in"
	[ "$status" -eq 67 ]
	[[ "$stderr" == *"nosuchuser@example.org"* ]]
	[[ "$stderr" == *"5.1.1"* ]]
	pf_delivered box-unk >/dev/null
}

@test "postfix: 451 for one recipient -> exit 75, the others get the message" {
	{
		pf_headers temp box-temp1
		printf '\r\nsome deferred\r\n'
	} >"$W/in"
	pf_postie box-temp1@example.org temp@example.org <"$W/in"
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"temp@example.org"* ]]
	[[ "$stderr" == *"451"* ]]
	f=$(pf_delivered box-temp1)
	pf_expect "$W/in" "$W/expected"
	pf_same "$W/expected" "$f"
}

@test "postfix: 452 too many recipients (limit 2): 5 recipients, 3 transactions, one copy each" {
	# The listener at PF_LIMIT_PORT has smtpd_recipient_limit = 2.
	{
		pf_headers limit box-lim1
		printf '\r\nfive recipients, two at a time\r\n'
	} >"$W/in"
	sed "s/^port .*/port $PF_LIMIT_PORT/" "$PF_DIR/postie.conf" >"$W/conf"
	chmod 600 "$W/conf"
	pf_session_mark
	CONFIG=$W/conf pf_postie -v box-lim1@example.org box-lim2@example.org \
	    box-lim3@example.org box-lim4@example.org box-lim5@example.org \
	    <"$W/in"
	[ "$status" -eq 0 ]
	[[ "$stderr" != *"postie:"* ]]
	[ "$(grep -c '^<-- 452 4.5.3 Error: too many recipients' <<<"$stderr")" -eq 4 ]
	[ "$(grep -c '^--> MAIL FROM:' <<<"$stderr")" -eq 3 ]
	# One session: three MAILs with 5, 3 and 1 RCPTs (two accepted
	# each time, the rest told 452), three messages.
	line=$(pf_session_line)
	echo "$line"
	[[ "$line" == *" mail=3 rcpt=9 bdat=3 quit=1 "* ]]
	pf_expect "$W/in" "$W/expected"
	for b in box-lim1 box-lim2 box-lim3 box-lim4 box-lim5; do
		f=$(pf_delivered "$b")
		pf_same "$W/expected" "$f"
	done
	# Exactly one copy each (a retry by the caller would make two).
	sleep 1
	for b in box-lim1 box-lim2 box-lim3 box-lim4 box-lim5; do
		[ "$(pf_count "$b")" -eq 1 ]
	done
}

@test "postfix: every recipient refused -> nothing delivered; a small message's BDAT, pipelined, is refused" {
	{
		pf_headers allbad box-none
		printf '\r\nnobody gets this\r\n'
	} >"$W/in"
	pf_session_mark
	pf_postie reject@example.org <"$W/in"
	[ "$status" -eq 67 ]
	# smtpd's per-session command counts: BDAT went with MAIL and RCPT,
	# before the refusal was known, and was refused (bdat=0/1)
	line=$(pf_session_line)
	echo "$line"
	[[ "$line" == *" mail=1 rcpt=0/1 bdat=0/1 quit=1 "* ]]
	refute grep -q "postie-test-postfix/cleanup.*allbad" "$PF_MAILLOG"
}

@test "postfix: every recipient refused -> a message over 256 KiB is not sent at all" {
	{
		pf_headers allbadbig box-none
		printf '\r\n'
		awk 'BEGIN { for (i = 0; i < 6000; i++)
		    printf "line %05d of a message nobody gets, long enough\r\n", i }'
	} >"$W/in"
	[ "$(stat -c %s "$W/in")" -gt 262144 ]
	pf_session_mark
	pf_postie reject@example.org <"$W/in"
	[ "$status" -eq 67 ]
	line=$(pf_session_line)
	echo "$line"
	[[ "$line" == *" mail=1 rcpt=0/1 quit=1 "* ]]
	[[ "$line" != *"bdat="* ]]
	[[ "$line" != *" data="* ]]
}

@test "postfix: CHUNKING: one BDAT LAST with the exact bytes, in the write of MAIL and RCPT" {
	{
		pf_headers bdat box-bdat
		printf '\r\n.leading dot\r\n.\r\nafter a lone dot\r\n8-bit: \303\251\r\n'
	} >"$W/in"
	pf_session_mark
	pf_postie -v -i box-bdat@example.org <"$W/in"
	[ "$status" -eq 0 ]
	# the content goes as it is: its exact size, no dot-stuffing
	size=$(stat -c %s "$W/in")
	grep -qx -- "--> BDAT $size LAST" <<<"$stderr"
	# MAIL, RCPT and BDAT before any reply (one write)
	sed -n '/^--> MAIL FROM/,/^<-- /p' <<<"$stderr" >"$W/group"
	assert_equal "$(grep -c '^-->' "$W/group")" 3 "commands before a reply"
	line=$(pf_session_line)
	echo "$line"
	[[ "$line" == *" mail=1 rcpt=1 bdat=1 quit=1 "* ]]
	pf_check_bytes "$W/in" box-bdat
}

@test "postfix: a listener without CHUNKING gets DATA, dot-stuffed; the same bytes arrive" {
	{
		pf_headers nochunk box-nochunk
		printf '\r\n.leading dot\r\n.\r\nafter a lone dot\r\n'
	} >"$W/in"
	sed "s/^port .*/port $PF_DATA_PORT/" "$PF_DIR/postie.conf" >"$W/conf"
	chmod 600 "$W/conf"
	pf_session_mark
	CONFIG=$W/conf pf_postie -v -i box-nochunk@example.org <"$W/in"
	[ "$status" -eq 0 ]
	[[ "$stderr" != *"CHUNKING"* ]]
	grep -qx -- "--> DATA" <<<"$stderr"
	line=$(pf_session_line)
	echo "$line"
	[[ "$line" == *" mail=1 rcpt=1 data=1 quit=1 "* ]]
	pf_check_bytes "$W/in" box-nochunk
}

@test "postfix: message over message_size_limit -> exit 69, refused before DATA" {
	pf_headers huge box-huge >"$W/in"
	printf '\r\n' >>"$W/in"
	python3 - "$W/in" "$PF_SIZE_LIMIT" <<'EOF'
import sys
line = b"x" * 76 + b"\r\n"
n = int(sys.argv[2]) // len(line) + 1000
open(sys.argv[1], "ab").write(line * n)
EOF
	[ "$(stat -c %s "$W/in")" -gt "$PF_SIZE_LIMIT" ]
	pf_session_mark
	pf_postie box-huge@example.org <"$W/in"
	[ "$status" -eq 69 ]
	[ "$(pf_count box-huge)" -eq 0 ]
	line=$(pf_session_line)
	echo "$line"
	# postie either refuses locally after EHLO (SIZE 10485760) or sends
	# MAIL FROM with SIZE= and gets 552; DATA is never accepted
	[[ "$line" != *" data=1"* ]]
	[[ "$line" != *"bdat="* ]]
	[[ "$line" != *" mail=1"* ]]
}

@test "postfix: a host list whose first host refuses: Postfix gets the message" {
	{
		pf_headers failover box-failover
		printf '\nbody\n'
	} >"$W/in"
	# Postfix listens on 127.0.0.1 only: 127.0.0.2 refuses at once.
	pf_postie --host="127.0.0.2,$PF_HOST" box-failover@example.org <"$W/in"
	[ "$status" -eq 0 ]
	[ "$stderr" = "postie: warning: 127.0.0.2:$PF_SMTP_PORT failed (connection refused by 127.0.0.2 port $PF_SMTP_PORT); trying $PF_HOST" ]
	pf_check_bytes "$W/in" box-failover
}


# ---- last: the whole file's sessions ---------------------------------------

@test "postfix: smtpd logged no protocol complaint about any postie session" {
	# bare LF (refused here), improper pipelining, non-SMTP commands,
	# dropped connections, timeouts
	run grep -E 'bare <LF>|improper command pipelining|non-SMTP command|lost connection|timeout after|too many errors|smtpd\[[0-9]+\]: warning:' "$PF_MAILLOG"
	echo "$output"
	[ "$status" -eq 1 ]
	# and every session ended with QUIT
	run grep -c 'disconnect from' "$PF_MAILLOG"
	total=$output
	run grep -c 'disconnect from.* quit=1 ' "$PF_MAILLOG"
	[ "$output" -eq "$total" ]
}
