#!/usr/bin/env bats
# shellcheck shell=bash
# shellcheck disable=SC2154 # stderr, stderr_lines: set by run --separate-stderr
#
# Real callers, part 2: the mail user agents -- Debian's bsd-mailx, s-nail
# and mutt -- run by an ordinary user ($CALLER_USER) in a private mount
# namespace where postie is /usr/sbin/sendmail, delivering through a
# private Postfix into Maildirs (tests/callers.bash, callers-env.sh).
#
# Per agent, three tests:
#   - the real thing (its default sendmail, under strace for the argv):
#     To, Cc and Bcc each get one copy, bare names are qualified or
#     aliased, the body arrives as the agent sent it;
#   - its sendmail pointed at a recorder ($OUT/record-sendmail) that keeps
#     the argv and the exact bytes the agent handed over and then execs
#     postie with them: the delivered body is those bytes, unchanged;
#   - the server down (postie exits 75, EX_TEMPFAIL): what the user sees.
#
# What the agents do to a message by themselves (not postie):
#   bsd-mailx  runs `sendmail -i -t` and writes a Bcc: header for -b (postie
#              must drop it); no Date, Message-ID or From (postie adds
#              them); body untouched (a lone "." ends input only with the
#              `dot` option on a tty: here stdin is a file).
#   s-nail     runs `sendmail -i -- RCPTS` (no Bcc header); adds Date, no
#              Message-ID or From (postie adds them).  By default it sends
#              8-bit text quoted-printable and then also encodes a lone "."
#              as "=2E" and "From " as "=46rom "; with -S mime-encoding=8bit
#              the body goes out as typed.
#   mutt       runs `sendmail -oem -oi -- RCPTS` (no Bcc header); adds Date
#              and Message-ID.  With use_domain unset it leaves bare names
#              in From/To/Cc and argv for postie to qualify; it converts the
#              body to the first charset of send_charset that fits (set to
#              utf-8 here, so the bytes stay as typed).

load common
load callers

setup_file() { callers_setup_file; }
teardown_file() { callers_teardown_file; }
setup() {
	callers_setup
	# dead.letter and friends from an earlier test
	rm -rf "${CALLER_HOME:?}"/* "$CALLER_HOME"/.[!.]* 2>/dev/null || true
	body_input >"$OUT/body"
	chmod 644 "$OUT/body"
	write_recorder
}
teardown() { callers_teardown; }

# The typed body: lone dots (the end of input for a sendmail without -i,
# and the SMTP end of data unless stuffed), a ".." line, a "From " line
# (mbox quoting) and 8-bit text.
body_input() {
	printf 'first line\n.\n..\nFrom the body\nnon-ASCII: \303\244\n.\nlast line\n'
}

# What s-nail sends for body_input by default: quoted-printable.
body_snail_qp() {
	printf 'first line\n=2E\n..\n=46rom the body\nnon-ASCII: =C3=A4\n=2E\nlast line\n'
}

# $OUT/record-sendmail: keeps its argv ($OUT/argv, one a line) and stdin
# ($OUT/handed), then execs postie on exactly those bytes.
write_recorder() {
	cat >"$OUT/record-sendmail" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >$OUT/argv
cat >$OUT/handed
exec /usr/sbin/sendmail "\$@" <$OUT/handed
EOF
	chmod 755 "$OUT/record-sendmail"
}

# header_of FILE NAME: the (one-line) value of header NAME in FILE's header.
header_of() {
	sed -n "/^\$/q; s/^$2: //p" "$1"
}

# traced CMD...: run CMD as the caller, with the execs in $OUT/trace.
traced() {
	in_ns -u "${TRACE_EXECS[@]}" "$OUT/trace" "$@"
}

# A muttrc as a user might have it: realname only, so the From mutt
# writes is "Paula Caller <LOGIN>", a bare name; no sent-mail copy.
write_muttrc() {
	cat >"$OUT/muttrc" <<EOF
set realname="Paula Caller"
set use_from=yes
unset use_domain
set record=""
set send_charset=utf-8
EOF
	[ $# -eq 0 ] || printf '%s\n' "$@" >>"$OUT/muttrc"
	chmod 644 "$OUT/muttrc"
}

# postie's own message when the server refuses the connection.
postie_refused='postie: account .default., server 127\.0\.0\.1:[0-9]+, CONNECT: connection refused by 127\.0\.0\.1 port [0-9]+$'

# --- bsd-mailx -------------------------------------------------------------

@test "bsd-mailx: To, alias in Cc and Bcc each get one copy, body byte-exact" {
	run traced "$MAILX" -s 'mailx to postie' -c team -b box-mailx-bcc \
	    alice <"$OUT/body"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run mailer_argv "$OUT/trace"
	echo "$output"
	[ "$output" = '["sendmail", "-i", "-t"]' ]
	a=$(mail_wait alice)
	b=$(mail_wait bob)
	c=$(mail_wait carol)
	x=$(mail_wait box-mailx-bcc)
	mail_check "$a" --body "$OUT/body" --delivered-to alice@example.org \
	    --return-path "$CALLER_USER@example.org" \
	    --addrs To=alice@example.org --addrs Cc=team@example.org \
	    --header "From: $CALLER_USER@example.org" \
	    --header 'Subject: mailx to postie'
	mail_check "$b" --body "$OUT/body" --delivered-to bob@example.org
	mail_check "$c" --body "$OUT/body" --delivered-to carol@example.org
	mail_check "$x" --body "$OUT/body" \
	    --delivered-to box-mailx-bcc@example.org \
	    --addrs To=alice@example.org --addrs Cc=team@example.org
	for box in alice bob carol box-mailx-bcc; do
		[ "$(mail_count "$box")" -eq 1 ]
	done
}

@test "bsd-mailx: the Bcc header it hands to sendmail -t is dropped, the body passes unchanged" {
	printf 'set sendmail=%s\n' "$OUT/record-sendmail" >"$OUT/mailrc"
	chmod 644 "$OUT/mailrc"
	run in_ns -u MAILRC="$OUT/mailrc" "$MAILX" -s 'mailx recorded' \
	    -b box-mailx-bcc bob <"$OUT/body"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/argv")" = "$(printf -- '-i\n-t')" ]
	# mailx's own header: bare names, a Bcc, no Date/Message-ID/From
	grep -qx 'To: bob' "$OUT/handed"
	grep -qx 'Bcc: box-mailx-bcc' "$OUT/handed"
	run -1 grep -iE '^(Date|Message-ID|From):' "$OUT/handed"
	body_of "$OUT/handed" "$OUT/handed-body"
	cmp "$OUT/handed-body" "$OUT/body"
	b=$(mail_wait bob)
	x=$(mail_wait box-mailx-bcc)
	mail_check "$b" --body "$OUT/handed-body" --addrs To=bob@example.org
	mail_check "$x" --body "$OUT/handed-body" \
	    --delivered-to box-mailx-bcc@example.org
}

# mailx waits for sendmail and reports its status in a message, but exits
# 1.  sendmail's stdin is mailx's temporary file, whose read offset mailx
# shares, and on failure mailx copies what is left of it from that offset
# into dead.letter: postie rewinds a regular-file stdin when it fails, so
# the whole message is saved (without the rewind dead.letter is empty).
@test "bsd-mailx: server down: the user sees 'error code 75', mailx exits 1, dead.letter has the message" {
	caller_down
	run --separate-stderr in_ns -u "$MAILX" -s 'mailx down' alice \
	    <"$OUT/body"
	printf 'status %s\nstdout:\n%s\nstderr:\n%s\n' "$status" "$output" "$stderr"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ ${stderr_lines[0]} =~ $postie_refused ]]
	[ "${stderr_lines[1]}" = "Can't send mail: sendmail process failed with error code 75" ]
	cat "$CALLER_HOME/dead.letter"
	body_of "$CALLER_HOME/dead.letter" "$OUT/dead-body"
	cmp "$OUT/body" "$OUT/dead-body"
	grep -qx 'Subject: mailx down' "$CALLER_HOME/dead.letter"
	grep 'exitcode=EX_TEMPFAIL' "$CL_DIR/postie.log"
	[ "$(mail_count alice)" -eq 0 ]
}

# --- s-nail ----------------------------------------------------------------

@test "s-nail: To, Cc and Bcc each get one copy, its quoted-printable body byte-exact" {
	body_snail_qp >"$OUT/expected"
	run traced s-nail -s 'snail to postie' -c bob@example.org \
	    -b box-snail-bcc alice <"$OUT/body"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run mailer_argv "$OUT/trace"
	echo "$output"
	[ "$output" = '["sendmail", "-i", "--", "alice", "bob@example.org", "box-snail-bcc"]' ]
	a=$(mail_wait alice)
	b=$(mail_wait bob)
	x=$(mail_wait box-snail-bcc)
	mail_check "$a" --body "$OUT/expected" --delivered-to alice@example.org \
	    --return-path "$CALLER_USER@example.org" \
	    --addrs To=alice@example.org --addrs Cc=bob@example.org \
	    --header "From: $CALLER_USER@example.org" \
	    --header 'Content-Transfer-Encoding: quoted-printable'
	mail_check "$b" --body "$OUT/expected" --delivered-to bob@example.org
	mail_check "$x" --body "$OUT/expected" \
	    --delivered-to box-snail-bcc@example.org
	for box in alice bob box-snail-bcc; do
		[ "$(mail_count "$box")" -eq 1 ]
	done
	[ "$(mail_count carol)" -eq 0 ]
}

@test "s-nail: with mime-encoding=8bit the bytes it hands over arrive unchanged, lone dots included" {
	run in_ns -u s-nail -S mime-encoding=8bit \
	    -S mta="$OUT/record-sendmail" -s 'snail recorded' -c team \
	    alice <"$OUT/body"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/argv")" = "$(printf -- '-i\n--\nalice\nteam')" ]
	# s-nail's own header: a Date, bare names, no Message-ID or From
	grep -qx 'To: alice' "$OUT/handed"
	grep -qx 'Cc: team' "$OUT/handed"
	run -1 grep -iE '^(Message-ID|From):' "$OUT/handed"
	body_of "$OUT/handed" "$OUT/handed-body"
	cmp "$OUT/handed-body" "$OUT/body"
	a=$(mail_wait alice)
	b=$(mail_wait bob)
	c=$(mail_wait carol)
	for f in "$a" "$b" "$c"; do
		mail_check "$f" --body "$OUT/body" \
		    --header "Date: $(header_of "$OUT/handed" Date)" \
		    --addrs To=alice@example.org --addrs Cc=team@example.org
	done
}

# s-nail saves the message in ~/dead.letter itself (its own mbox copy,
# with the names as typed), says where on stdout and exits 4, its "could
# not send" status: the 75 itself is not shown, only postie's message.
@test "s-nail: server down: postie's message, dead.letter holds the message, s-nail exits 4" {
	caller_down
	body_snail_qp >"$OUT/expected"
	echo >>"$OUT/expected"
	run --separate-stderr in_ns -u s-nail -s 'snail down' alice \
	    <"$OUT/body"
	printf 'status %s\nstdout:\n%s\nstderr:\n%s\n' "$status" "$output" "$stderr"
	[ "$status" -eq 4 ]
	# "PATH LINES/BYTES" of the dead.letter it wrote, on stdout
	[[ $output =~ ^$CALLER_HOME/dead\.letter\ [0-9]+/[0-9]+$ ]]
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ ${stderr_lines[0]} =~ $postie_refused ]]
	[ "${stderr_lines[1]}" = 's-nail: ... message not sent' ]
	d=$CALLER_HOME/dead.letter
	head -n 1 "$d" | grep -q "^From $CALLER_USER "
	grep -qx 'Subject: snail down' "$d"
	grep -qx 'To: alice' "$d"
	body_of "$d" "$OUT/dead-body"
	cmp "$OUT/dead-body" "$OUT/expected"
	grep 'exitcode=EX_TEMPFAIL' "$CL_DIR/postie.log"
	[ "$(mail_count alice)" -eq 0 ]
}

# --- mutt ------------------------------------------------------------------

@test "mutt: bare names in From, To, Cc and argv are qualified and aliased, Bcc gets a copy, body byte-exact" {
	write_muttrc
	run traced mutt -n -F "$OUT/muttrc" -s 'mutt to postie' -c team \
	    -b box-mutt-bcc alice <"$OUT/body"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run mailer_argv "$OUT/trace"
	echo "$output"
	[ "$output" = '["sendmail", "-oem", "-oi", "--", "alice", "team", "box-mutt-bcc"]' ]
	a=$(mail_wait alice)
	b=$(mail_wait bob)
	c=$(mail_wait carol)
	x=$(mail_wait box-mutt-bcc)
	mail_check "$a" --body "$OUT/body" --delivered-to alice@example.org \
	    --return-path "$CALLER_USER@example.org" \
	    --addrs To=alice@example.org --addrs Cc=team@example.org \
	    --header "From: Paula Caller <$CALLER_USER@example.org>" \
	    --header 'Subject: mutt to postie'
	mail_check "$b" --body "$OUT/body" --delivered-to bob@example.org
	mail_check "$c" --body "$OUT/body" --delivered-to carol@example.org
	mail_check "$x" --body "$OUT/body" \
	    --delivered-to box-mutt-bcc@example.org
	for box in alice bob carol box-mutt-bcc; do
		[ "$(mail_count "$box")" -eq 1 ]
	done
}

@test "mutt: its Date, Message-ID and body arrive as it handed them over" {
	# mutt's default sendmail is "/usr/sbin/sendmail -oem -oi"
	write_muttrc "set sendmail=\"$OUT/record-sendmail -oem -oi\""
	run in_ns -u mutt -n -F "$OUT/muttrc" -s 'mutt recorded' \
	    -b box-mutt-bcc bob <"$OUT/body"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/argv")" = "$(printf -- '-oem\n-oi\n--\nbob\nbox-mutt-bcc')" ]
	grep -qx "From: Paula Caller <$CALLER_USER>" "$OUT/handed"
	grep -qx 'To: bob' "$OUT/handed"
	run -1 grep -i '^Bcc:' "$OUT/handed"
	body_of "$OUT/handed" "$OUT/handed-body"
	cmp "$OUT/handed-body" "$OUT/body"
	b=$(mail_wait bob)
	x=$(mail_wait box-mutt-bcc)
	for f in "$b" "$x"; do
		mail_check "$f" --body "$OUT/handed-body" \
		    --header "Date: $(header_of "$OUT/handed" Date)" \
		    --header "Message-ID: $(header_of "$OUT/handed" Message-ID)" \
		    --addrs To=bob@example.org
	done
}

# mutt shows sendmail's stderr and its exit status, exits 1 and keeps no
# copy (no dead.letter in batch mode).
@test "mutt: server down: the user sees 'child exited 75 (Deferred.)', mutt exits 1" {
	caller_down
	write_muttrc
	run --separate-stderr in_ns -u mutt -n -F "$OUT/muttrc" \
	    -s 'mutt down' alice <"$OUT/body"
	printf 'status %s\nstdout:\n%s\nstderr:\n%s\n' "$status" "$output" "$stderr"
	[ "$status" -eq 1 ]
	[ "$output" = 'Could not send the message.' ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ ${stderr_lines[0]} =~ $postie_refused ]]
	[ "${stderr_lines[1]}" = 'Error sending message, child exited 75 (Deferred.).' ]
	[ ! -e "$CALLER_HOME/dead.letter" ]
	grep 'exitcode=EX_TEMPFAIL' "$CL_DIR/postie.log"
	[ "$(mail_count alice)" -eq 0 ]
}
