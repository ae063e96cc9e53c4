#!/usr/bin/env bats
# shellcheck shell=bash
#
# The durable queue against the fake server: what a submission keeps when
# the server is down or defers, what `postie -q` then delivers (once),
# -odq/-odb, selections, mailq's listing, --queue-delete, corrupt entries,
# a full disk, and the session shared with the waiting entries after a
# submission.  Bounces, crashes and concurrency: queue-crash.bats and
# queue-postfix.bats.

load common

# write_queue_config [LINE...]: write_config with the queue on, in $T/queue.
write_queue_config() {
	write_config "queue on" "queue_dir $T/queue" "$@"
}

# The config's port becomes $1 (the server "comes back" on another port).
set_port() {
	sed -i "s/^port .*/port $1/" "$CONFIG"
}

# The IDs in the queue, one a line.
queue_ids() {
	ls "$T/queue/q" 2>/dev/null || true
}

# The ID in postie's "queued as ID" line on stderr.
queued_id() {
	sed -n 's/.*queued as \([0-9a-f]\{16\}\):.*/\1/p' <<<"$stderr"
}

send_to() {
	run_postie "$@" <"$(sample_message)"
}

# The MAIL line for the sample message from sender@example.org.
mail_from_sample() {
	echo "MAIL FROM:<sender@example.org> SIZE=$(file_size \
	    "$(crlf_copy "$T/msg" "$T/size.tmp")")"
}

# assert_commands_on N LINE...: connection N's commands are exactly these.
assert_commands_on() {
	local n=$1
	shift
	assert_equal "$(fake_commands "$n")" "$(printf '%s\n' "$@")" \
	    "commands on connection $n"
}

@test "server down: exit 0, one line naming the queue ID, the entry complete on disk" {
	write_queue_config "port 1" "timeout 2"
	send_to a@example.org b@example.org
	assert_status 0
	assert_stderr_one_line
	id=$(queued_id)
	[ -n "$id" ] || _fail "no queue ID in: $stderr"
	assert_stderr_contains "account 'default': queued as $id: 2 of 2 recipients deferred (server 127.0.0.1:1, CONNECT: connection refused by 127.0.0.1 port 1); retried by 'postie -q', the timer or the next submission for up to 5 days"
	assert_equal "$(queue_ids)" "$id" "queue"
	# The message exactly as it will be sent, and its envelope.
	cmp "$(crlf_copy "$T/msg")" "$T/queue/q/$id/msg" ||
	    _fail "spooled bytes differ"
	env=$T/queue/q/$id/env
	assert_equal "$(head -n 2 "$env")" "$(printf 'postie-queue 1\nid %s' "$id")" env
	grep -qx "config $CONFIG" "$env" || _fail "$(cat "$env")"
	grep -qx "account default" "$env" || _fail "$(cat "$env")"
	grep -qx "attempts 1" "$env" || _fail "$(cat "$env")"
	grep -qx "from sender@example.org" "$env" || _fail "$(cat "$env")"
	grep -qx "rcpt a@example.org 0 - connection refused by 127.0.0.1 port 1" \
	    "$env" || _fail "$(cat "$env")"
	grep -qx "rcpt b@example.org 0 - connection refused by 127.0.0.1 port 1" \
	    "$env" || _fail "$(cat "$env")"
	[ "$(stat -c %a "$T/queue")" = 700 ] || _fail "queue mode"
	[ "$(stat -c %a "$env")" = 600 ] || _fail "entry mode"
}

# fsync_paths: the files and directories postie fsynced, as strace -y
# names them, relative to $T/queue, IDs as "ID", one a line in order.
fsync_paths() {
	sed -n 's/^fsync([0-9]*<\(.*\)>) = 0$/\1/p' "$T/trace" |
	    sed "s|^$T/queue/||; s|/[0-9a-f]\{16\}|/ID|"
}

@test "delivered at once: the entry never costs an fsync; kept: on disk (msg, env, entry, q/) before exit" {
	fake_start "" --connections 1
	write_queue_config
	traced -y -e trace=fsync -o "$T/trace" "$POSTIE" -C "$CONFIG" \
	    rcpt@example.org <"$(sample_message)"
	assert_equal "$(fsync_paths)" "" "fsyncs when delivered"
	assert_equal "$(fake_messages)" 1 messages
	assert_equal "$(queue_ids)" "" queue
	# the server is gone: the entry stays, made durable before exit 0
	set_port 1
	traced -y -e trace=fsync -o "$T/trace" "$POSTIE" -C "$CONFIG" \
	    rcpt@example.org <"$(sample_message)"
	assert_equal "$(fsync_paths)" "$(printf '%s\n' q/ID/env.new q/ID/msg q/ID q)" \
	    "fsyncs when kept"
	[ -n "$(queue_ids)" ] || _fail "nothing queued"
	# -odq answers before any attempt: durable first
	traced -y -e trace=fsync -o "$T/trace" "$POSTIE" -C "$CONFIG" -odq \
	    rcpt@example.org <"$(sample_message)"
	assert_equal "$(fsync_paths)" "$(printf '%s\n' tmp/ID/msg tmp/ID/env tmp/ID q)" \
	    "fsyncs with -odq"
	# a queue run removes durable entries durably (q/ after each)
	fake_start "" --connections 1
	set_port "$FAKE_PORT"
	traced -y -e trace=fsync -o "$T/trace" "$POSTIE" -C "$CONFIG" -q
	assert_equal "$(queue_ids)" "" queue
	assert_equal "$(fsync_paths)" "$(printf '%s\n' q q)" "fsyncs in the run"
}

@test "server back: postie -q delivers each queued message once and empties the queue" {
	write_queue_config "port 1" "timeout 2"
	send_to a@example.org
	send_to b@example.org
	assert_equal "$(queue_ids | wc -l)" 2 entries
	fake_start "" --connections 2
	set_port "$FAKE_PORT"
	run_postie -q
	assert_status 0
	assert_stderr_empty
	assert_equal "$(fake_connections)" 1 "sessions (the two share one)"
	assert_equal "$(fake_messages)" 2 messages
	assert_commands "EHLO client.example.org" "$(mail_from_sample)" \
	    "RCPT TO:<a@example.org>" "DATA" "$(mail_from_sample)" \
	    "RCPT TO:<b@example.org>" "DATA" "QUIT"
	assert_message 1 "$(crlf_copy "$T/msg")"
	assert_equal "$(queue_ids)" "" queue
	run_postie -q
	assert_status 0
	assert_equal "$(fake_messages)" 2 "messages after a second run"
}

@test "450 for one of two recipients: the other gets it now, the deferred one later" {
	fake_start - --connections 2 <<'EOF'
on RCPT@1 <busy@example.org> => reply 450 4.2.1 mailbox busy
EOF
	write_queue_config
	send_to ok@example.org busy@example.org
	assert_status 0
	assert_stderr_one_line
	assert_stderr_contains "queued as $(queued_id): 1 of 2 recipients deferred (server 127.0.0.1[127.0.0.1]:$FAKE_PORT: <busy@example.org>: 450 4.2.1 mailbox busy)"
	assert_equal "$(fake_envelope 1 | tail -n +2)" "RCPT TO:<ok@example.org>" "now"
	grep -qx 'rcpt busy@example.org 450 4.2.1 450 4.2.1 mailbox busy' \
	    "$T/queue/q/$(queued_id)/env" || _fail "$(cat "$T/queue/q/"*/env)"
	run_postie -q
	assert_status 0
	assert_equal "$(fake_envelope 2 | tail -n +2)" "RCPT TO:<busy@example.org>" "later"
	assert_equal "$(fake_messages)" 2 messages
	assert_equal "$(queue_ids)" "" queue
}

@test "550 for one, 450 for another: exit 67 for the refusal, the 450 one queued" {
	fake_start - <<'EOF'
on RCPT <bad@example.org> => reply 550 5.1.1 no such user
on RCPT <busy@example.org> => reply 450 4.2.1 mailbox busy
EOF
	write_queue_config
	send_to bad@example.org busy@example.org ok@example.org
	assert_status 67
	assert_stderr_contains "recipient <bad@example.org> rejected: 550 5.1.1 no such user"
	assert_stderr_contains "1 of 3 recipients deferred"
	id=$(queued_id)
	assert_equal "$(grep -c '^rcpt ' "$T/queue/q/$id/env")" 1 "queued recipients"
	grep -q '^rcpt busy@example.org ' "$T/queue/q/$id/env" ||
	    _fail "$(cat "$T/queue/q/$id/env")"
}

@test "the message refused as a whole (MAIL 550, SIZE): reported as without a queue, nothing kept" {
	fake_start - <<'EOF'
on MAIL => reply 550 5.7.1 sender refused
EOF
	write_queue_config
	send_to a@example.org
	assert_status 69
	assert_stderr_contains "550 5.7.1 sender refused"
	assert_equal "$(queue_ids)" "" queue
	fake_start - <<'EOF'
capabilities SIZE 10, 8BITMIME
EOF
	write_queue_config
	send_to a@example.org
	assert_status 69
	assert_stderr_contains "larger than the server's limit"
	assert_equal "$(queue_ids)" "" queue
}

@test "-odq queues without connecting; -odb answers at once and delivers in the background" {
	fake_start "" --connections 2
	# A log takes the notice, so -odq says nothing; with no log at all
	# it says one line (show.bats).
	write_queue_config "logfile $T/log"
	send_to -odq a@example.org
	assert_status 0
	assert_stderr_empty
	assert_equal "$(queue_ids | wc -l)" 1 entries
	assert_no_connection
	run_postie -q
	assert_equal "$(fake_messages)" 1 messages
	send_to -odb b@example.org
	assert_status 0
	assert_stderr_empty
	# The child delivers after postie has answered.
	fake_wait 10 || _fail "the background delivery did not happen"
	assert_equal "$(fake_messages)" 2 messages
	assert_equal "$(fake_envelope 2 | tail -n +2)" "RCPT TO:<b@example.org>" rcpt
	assert_equal "$(queue_ids)" "" queue
}

@test "-q --due tries only entries whose backoff is over; -qR, -qS, -qI select" {
	write_queue_config "port 1" "timeout 2"
	send_to a@example.org
	id_a=$(queued_id)
	send_to -f other@example.org b@example.org
	id_b=$(queued_id)
	fake_start "" --connections 3
	set_port "$FAKE_PORT"
	run_postie -q --due
	assert_status 0
	assert_no_connection
	run_postie -q -qRb@example
	assert_equal "$(fake_envelope 1 | tail -n +2)" "RCPT TO:<b@example.org>" "-qR"
	assert_equal "$(queue_ids)" "$id_a" queue
	send_to -odq -f third@example.org c@example.org
	run_postie -qSthird@
	assert_equal "$(fake_envelope 2 | tail -n +2)" "RCPT TO:<c@example.org>" "-qS"
	run_postie "-qI${id_a:4:8}"
	assert_equal "$(fake_envelope 3 | tail -n +2)" "RCPT TO:<a@example.org>" "-qI"
	assert_equal "$(queue_ids)" "" queue
}

@test "mailq: the entries with their reasons and a total; --json one object a line" {
	write_queue_config "port 1" "timeout 2"
	send_to a@example.org b@example.org
	id=$(queued_id)
	ln -s "$POSTIE" "$T/mailq"
	run "$T/mailq" -C "$CONFIG"
	[ "$status" -eq 0 ] || _fail "status $status"
	size=$(file_size "$T/queue/q/$id/msg")
	[ "${lines[0]}" = "-Queue ID-       --Size-- ----Arrival Time----  -Sender/Recipient-------" ] ||
	    _fail "${lines[0]}"
	[[ "${lines[1]}" =~ ^$id\ +$size\ [A-Z][a-z][a-z]\ .*\ \ sender@example.org$ ]] ||
	    _fail "${lines[1]}"
	[ "${lines[2]}" = "$(printf '%48s(connection refused by 127.0.0.1 port 1)' '')" ] ||
	    _fail "${lines[2]}"
	[ "${lines[3]}" = "$(printf '%48sa@example.org' '')" ] || _fail "${lines[3]}"
	[ "${lines[4]}" = "$(printf '%48sb@example.org' '')" ] || _fail "${lines[4]}"
	[ "${lines[5]}" = "-- 1 Kbytes in 1 Request." ] || _fail "${lines[5]}"
	run "$POSTIE" -C "$CONFIG" -bp --json
	[ "$status" -eq 0 ] || _fail "status $status"
	printf '%s\n' "$output" >"$T/json"
	"$PYTHON3" - "$id" "$size" "$T/json" <<'EOF' || _fail "$output"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[3]).read().splitlines()]
assert len(objs) == 1, objs
o = objs[0]
assert o["queue_id"] == sys.argv[1], o
assert o["message_size"] == int(sys.argv[2]), o
assert o["sender"] == "sender@example.org", o
assert [r["address"] for r in o["recipients"]] == ["a@example.org", "b@example.org"], o
assert o["recipients"][0]["delay_reason"] == "connection refused by 127.0.0.1 port 1", o
assert o["attempts"] == 1 and o["account"] == "default", o
EOF
}

@test "--queue-delete removes an entry; an unknown ID is 66, not an ID is 64" {
	write_queue_config "port 1" "timeout 2"
	send_to a@example.org
	id=$(queued_id)
	run_postie --queue-delete "$id"
	assert_status 0
	assert_equal "$output" "postie: queue entry $id deleted" stdout
	assert_equal "$(queue_ids)" "" queue
	run_postie --queue-delete "$id"
	assert_status 66
	assert_stderr_contains "no queue entry $id"
	run_postie --queue-delete ../../etc
	assert_status 64
	assert_stderr_contains "'../../etc' is not a queue ID"
}

@test "corrupt or foreign files in the queue are moved aside and said, never a crash" {
	write_queue_config "port 1" "timeout 2"
	send_to a@example.org
	good=$(queued_id)
	mkdir -p "$T/queue/q/0000000000000bad"
	printf 'garbage\n' >"$T/queue/q/0000000000000bad/env"
	printf 'x' >"$T/queue/q/0000000000000bad/msg"
	printf 'junk' >"$T/queue/q/notes.txt"
	fake_start
	set_port "$FAKE_PORT"
	run_postie -q
	assert_status 0
	assert_stderr_contains "moved 'notes.txt' aside to '$T/queue/corrupt/notes.txt'"
	assert_stderr_contains "entry 0000000000000bad: not a postie queue envelope (moved aside)"
	assert_equal "$(fake_messages)" 1 messages
	assert_equal "$(queue_ids)" "" queue
	[ -d "$T/queue/corrupt/0000000000000bad" ] || _fail "not moved aside"
	[ -n "$good" ]
}

@test "a full disk while queueing: exit 75, no half entry left, the queue still works" {
	[ "$(id -u)" -eq 0 ] && unshare -m true ||
	    _fail "needs root and unshare -m (a small private tmpfs)"
	write_queue_config "port 1" "timeout 2"
	sample_message >/dev/null
	head -c 2000000 /dev/zero | tr '\0' a | fold -w 70 >>"$T/msg"
	mkdir -p "$T/queue"
	cat >"$T/wrap" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount -t tmpfs -o size=64k,mode=700 tmpfs "\$0" &&
    "\$@"; rc=\$?; ls -R "\$0" >"$T/left"; exit \$rc' "$T/queue" "$POSTIE" "\$@"
EOF
	chmod +x "$T/wrap"
	POSTIE=$T/wrap run_postie a@example.org <"$T/msg"
	assert_status 75
	assert_stderr_one_line
	assert_stderr_contains "No space left on device"
	# Nothing in q/ (no entry) nor tmp/ (the half-written one went).
	[ -z "$(sed -n '/^.*\/q:$/,/^$/p' "$T/left" | sed '1d;/^$/d')" ] ||
	    _fail "$(cat "$T/left")"
	[ -z "$(sed -n '/^.*\/tmp:$/,/^$/p' "$T/left" | sed '1d;/^$/d')" ] ||
	    _fail "$(cat "$T/left")"
}

@test "a submission that goes through takes the account's waiting entries along on its session" {
	write_queue_config "port 1" "timeout 2"
	send_to a@example.org
	waiting=$(queued_id)
	# Tried within the last minute: not taken along (no hammering).
	fake_start "" --connections 2
	set_port "$FAKE_PORT"
	send_to b@example.org
	assert_status 0
	fake_conn_done 1
	assert_equal "$(fake_messages)" 1 "messages right after"
	# An entry tried over a minute ago is taken along.
	sed -i 's/^last .*/last 1/' "$T/queue/q/$waiting/env"
	send_to c@example.org
	assert_status 0
	assert_stderr_empty
	fake_wait 10 || _fail "the session did not end"
	assert_equal "$(fake_connections)" 2 sessions
	assert_commands_on 2 "EHLO client.example.org" "$(mail_from_sample)" \
	    "RCPT TO:<c@example.org>" "DATA" "$(mail_from_sample)" \
	    "RCPT TO:<a@example.org>" "DATA" "QUIT"
	assert_equal "$(queue_ids)" "" queue
}

@test "queue off: exit 75 and nothing kept, as before" {
	write_config "port 1" "timeout 2" "queue_dir $T/queue"
	send_to a@example.org
	assert_status 75
	[ ! -e "$T/queue" ] || _fail "a queue was made"
}

@test "a queue directory open to others is refused: said once, sent as with queue off" {
	mkdir -m 777 "$T/queue"
	write_queue_config "port 1" "timeout 2"
	send_to a@example.org
	assert_status 75
	assert_stderr_contains "queue directory '$T/queue' is owned by uid 0 with mode 0777: refused"
	assert_stderr_contains "sending without a queue, as with 'queue off'"
}

# The DSN delivered as message $1: its bytes in $T/dsn.
dsn_of() {
	cp "$(fake_message_path "$1")" "$T/dsn"
}

@test "a 5xx at a later attempt: the recipient leaves the queue, the sender gets a bounce" {
	write_queue_config "port 1" "timeout 2"
	send_to a@example.org
	id=$(queued_id)
	fake_start - <<'EOF2'
on RCPT <a@example.org> => reply 550 5.1.1 <a@example.org>: no such user
EOF2
	set_port "$FAKE_PORT"
	run_postie -q
	assert_status 0
	assert_equal "$(fake_connections)" 1 "one session for the entry and its bounce"
	assert_equal "$(fake_messages)" 1 messages
	assert_equal "$(fake_envelope 1)" \
	    "$(printf '%s\n' 'MAIL FROM:<> SIZE='"$(file_size "$(fake_message_path 1)")" \
	    'RCPT TO:<sender@example.org>')" "the bounce's envelope"
	dsn_of 1
	grep -qx $'To: <sender@example.org>\r' "$T/dsn" || _fail "$(cat "$T/dsn")"
	grep -qx $'Subject: Delivery Status Notification (Failure)\r' "$T/dsn" ||
	    _fail "$(cat "$T/dsn")"
	grep -qx $'Auto-Submitted: auto-replied\r' "$T/dsn" || _fail "no Auto-Submitted"
	# Named after the account (its domain), not a bare host name.
	grep -qx $'From: Mail Delivery System <MAILER-DAEMON@client.example.org>\r' \
	    "$T/dsn" || _fail "$(cat "$T/dsn")"
	grep -qx $'Reporting-MTA: dns; client.example.org\r' "$T/dsn" ||
	    _fail "$(cat "$T/dsn")"
	grep -q $'^Content-Type: multipart/report; report-type=delivery-status;\r' \
	    "$T/dsn" || _fail "$(cat "$T/dsn")"
	grep -qx $'Final-Recipient: rfc822; a@example.org\r' "$T/dsn" ||
	    _fail "$(cat "$T/dsn")"
	grep -qx $'Status: 5.1.1\r' "$T/dsn" || _fail "$(cat "$T/dsn")"
	grep -qx $'Diagnostic-Code: smtp; 550 5.1.1 <a@example.org>: no such user\r' \
	    "$T/dsn" || _fail "$(cat "$T/dsn")"
	grep -qx "X-Postie-Queue-ID: $id"$'\r' "$T/dsn" || _fail "$(cat "$T/dsn")"
	# The original header is attached, its body is not.
	grep -qx $'Subject: test\r' "$T/dsn" || _fail "$(cat "$T/dsn")"
	! grep -q 'Hello from the test suite' "$T/dsn" || _fail "the body came back"
	assert_equal "$(queue_ids)" "" queue
}

@test "lifetime over: the recipients still waiting bounce with 4.4.7, once" {
	write_queue_config "port 1" "timeout 2" "queue_lifetime 1s"
	send_to a@example.org
	sleep 1.2
	fake_start - --connections 2 <<'EOF2'
on RCPT <a@example.org> => reply 451 4.3.0 try later
EOF2
	set_port "$FAKE_PORT"
	run_postie -q
	assert_status 0
	assert_equal "$(fake_messages)" 1 "messages (the bounce)"
	dsn_of 1
	grep -qx $'Status: 4.4.7\r' "$T/dsn" || _fail "$(cat "$T/dsn")"
	grep -qx $'Diagnostic-Code: smtp; 451 4.3.0 try later\r' "$T/dsn" ||
	    _fail "$(cat "$T/dsn")"
	grep -q 'tried for 1 second' "$T/dsn" || _fail "$(cat "$T/dsn")"
	assert_equal "$(queue_ids)" "" queue
	run_postie -q
	assert_equal "$(fake_messages)" 1 "messages after another run"
}

@test "lifetime over for a message from <>: dropped and said, never bounced" {
	write_queue_config "port 1" "timeout 2" "queue_lifetime 1s"
	send_to -f '<>' a@example.org
	sleep 1.2
	fake_start - <<'EOF2'
on RCPT => reply 451 4.3.0 try later
EOF2
	set_port "$FAKE_PORT"
	run_postie -q
	assert_status 0
	assert_stderr_contains "1 recipient failed; no bounce for the null sender"
	assert_no_message
	assert_equal "$(queue_ids)" "" queue
}

@test "a wrong password on three queue runs: one error each run, no bounce; fixed, delivered once" {
	fake_start - --connections 4 <<'EOF2'
auth mechs SCRAM-SHA-256
auth users alice:right-password
EOF2
	write_queue_config "tls off" "auth scram-sha-256" "user alice" \
	    "password wrong-password" "port 1" "timeout 2"
	send_to a@example.org
	set_port "$FAKE_PORT"
	for run in 1 2 3; do
		run_postie -q
		assert_status 0
		assert_stderr_one_line
		assert_stderr_contains "queue run: account 'default' of '$CONFIG' cannot be used now (AUTH: "
		assert_stderr_contains "its messages stay queued"
	done
	assert_no_message
	assert_equal "$(queue_ids | wc -l)" 1 entries
	grep -qx 'attempts 4' "$T/queue/q/"*/env || _fail "$(cat "$T/queue/q/"*/env)"
	sed -i 's/^password .*/password right-password/' "$CONFIG"
	run_postie -q
	assert_status 0
	assert_stderr_empty
	assert_equal "$(fake_messages)" 1 messages
	assert_equal "$(fake_envelope 1 | head -n 1 | cut -d' ' -f1)" \
	    "MAIL" "a message, not a bounce"
	[[ "$(fake_envelope 1)" == *"MAIL FROM:<sender@example.org>"* ]] ||
	    _fail "$(fake_envelope 1)"
	assert_equal "$(queue_ids)" "" queue
}

@test "a server that stalls during a run: two timeouts end the run for the account, every entry stays" {
	write_queue_config "port 1" "timeout 1"
	send_to a@example.org
	send_to b@example.org
	send_to c@example.org
	fake_start - --connections 0 --max-seconds 30 <<'EOF2'
on MAIL => stall
EOF2
	set_port "$FAKE_PORT"
	run_postie -q
	assert_status 0
	assert_stderr_one_line
	assert_stderr_contains "cannot be used now (MAIL: timed out after 1 s waiting for the reply to MAIL FROM:<sender@example.org>)"
	# Two timeouts, not one per entry: the third is not tried.
	assert_elapsed_below 6
	assert_equal "$(fake_connections)" 2 connections
	assert_equal "$(queue_ids | wc -l)" 3 entries
}

@test "one message that stalls the server does not hold up the others" {
	write_queue_config "port 1" "timeout 1"
	send_to a@example.org
	send_to b@example.org
	send_to c@example.org
	fake_start - --connections 0 --max-seconds 30 <<'EOF2'
on RCPT <b@example.org> => stall
EOF2
	set_port "$FAKE_PORT"
	run_postie -q
	assert_status 0
	assert_stderr_empty
	assert_equal "$(fake_messages)" 2 messages
	assert_equal "$(fake_envelope 1 | tail -n 1)" "RCPT TO:<a@example.org>" first
	assert_equal "$(fake_envelope 2 | tail -n 1)" "RCPT TO:<c@example.org>" "after the stall"
	assert_equal "$(queue_ids | wc -l)" 1 entries
	grep -q '^rcpt b@example.org 0 - timed out after 1 s waiting for the reply to RCPT TO:<b@example.org>' \
	    "$T/queue/q/"*/env || _fail "$(cat "$T/queue/q/"*/env)"
}

@test "failover in a queue run: the first host down, the second takes the entries" {
	write_queue_config "port 1" "timeout 2"
	send_to a@example.org
	fake_start
	set_port "$FAKE_PORT"
	sed -i 's/^host .*/host 127.0.0.2,127.0.0.1/' "$CONFIG"
	run_postie -q
	assert_status 0
	assert_stderr_contains "failed (connection refused by 127.0.0.2 port $FAKE_PORT); trying 127.0.0.1"
	assert_equal "$(fake_messages)" 1 messages
	assert_equal "$(queue_ids)" "" queue
}

@test "the envelope cannot be written (disk full after the message): sent at once without the queue" {
	[ "$(id -u)" -eq 0 ] && unshare -m true ||
	    _fail "needs root and unshare -m (a small private tmpfs)"
	fake_start
	write_queue_config
	sample_message >/dev/null
	# About 63,500 bytes as spooled: the message takes the tmpfs's 16
	# pages of 4 KiB, and its envelope finds none left.
	while [ "$(file_size "$(crlf_copy "$T/msg" "$T/size.tmp")")" -lt 63500 ]; do
		printf '%070d\n' 0 >>"$T/msg"
	done
	mkdir -p "$T/queue"
	cat >"$T/wrap" <<EOF2
#!/bin/sh
exec unshare -m sh -c 'mount -t tmpfs -o size=64k,mode=700 tmpfs "\$0" &&
    "\$@"; rc=\$?; ls -R "\$0" >"$T/left"; exit \$rc' "$T/queue" "$POSTIE" "\$@"
EOF2
	chmod +x "$T/wrap"
	POSTIE=$T/wrap run_postie a@example.org <"$T/msg"
	assert_status 0
	assert_stderr_one_line
	assert_stderr_contains "cannot queue the message in '$T/queue': No space left on device: sending without a queue, as with 'queue off'"
	assert_message 1 "$(crlf_copy "$T/msg")"
	[ -z "$(sed -n '/^.*\/q:$/,/^$/p' "$T/left" | sed '1d;/^$/d')" ] ||
	    _fail "$(cat "$T/left")"
}
