#!/usr/bin/env bats
# shellcheck shell=bash
#
# kill -9 at every protocol step, of a submission and of a queue run, and
# while the message is being read: afterwards every message is delivered
# exactly once, or is still queued; the only duplicates are those of the
# RFC 1047 window (killed after the final dot went out, before the entry
# was removed), and they are counted.  Each test kills ROUNDS times.

load common

ROUNDS=10

write_queue_config() {
	write_config "queue on" "queue_dir $T/queue" "$@"
}

queue_ids() {
	ls "$T/queue/q" 2>/dev/null || true
}

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (5 s).
wait_for() {
	local i
	for i in $(seq 1 100); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	_fail "never saw '$2' in $1" "$(cat "$1" 2>/dev/null)"
}


# A scenario that stalls at STEP (a verb, CONNECT or DOT) into $T/stall.
stall_scenario() {
	case $1 in
	BODY)	printf 'on DATA\n\treply 354 go ahead\n\tfreeze\n' ;;
	*)	printf 'on %s => stall\n' "$1" ;;
	esac >"$T/stall"
}

# The server has reached the rule that stalls (or freezes) it.
wait_stalled() {
	wait_for "$FAKE_DIR/log" 'connection 1: \(stalled\|frozen\)'
}

# Messages delivered to a@example.org over every fake server so far.
delivered() {
	cat "$T"/fake*/msg-*.env 2>/dev/null | grep -c '^RCPT TO:<a@example.org>' ||
	    true
}

# kill_submission_at STEP: ROUNDS submissions, each killed at STEP, then
# one queue run against a good server.  Prints "delivered queued".
kill_submission_at() {
	local step=$1 r pid
	stall_scenario "$step"
	for r in $(seq 1 "$ROUNDS"); do
		fake_start "$T/stall" --max-seconds 30
		write_queue_config
		"$POSTIE" -C "$CONFIG" a@example.org <"$(message_for "$step")" \
		    2>/dev/null &
		pid=$!
		wait_stalled
		kill -9 "$pid"
		wait "$pid" 2>/dev/null || true
		fake_stop
		# Kept, to count deliveries at the end.
		mv "$FAKE_DIR" "$T/fake-$step-$r"
	done
	kills=$((kills + ROUNDS))
}

setup() {
	common_setup
	kills=0
	sample_message "$T/small" >/dev/null
	sample_message "$T/big" >/dev/null
	# Larger than the socket buffers: the body step blocks mid-body.
	yes 'a line of body text, long enough to fill socket buffers...' |
	    head -c 3000000 >>"$T/big"
}

# The message for a step: a large one to be killed mid-body.
message_for() {
	if [ "$1" = BODY ]; then
		echo "$T/big"
	else
		echo "$T/small"
	fi
}

# After the kills: a run against a good server delivers what is queued.
flush_and_count() {
	fake_start "" --connections 0 --max-seconds 30
	write_queue_config
	run_postie -q
	assert_status 0
	fake_stop
	assert_equal "$(queue_ids)" "" "queue after the run"
}

@test "kill -9 during a submission at greeting, EHLO, MAIL, RCPT, DATA, mid-body: delivered once each" {
	local step
	for step in CONNECT EHLO MAIL RCPT DATA BODY; do
		kill_submission_at "$step"
	done
	assert_equal "$(queue_ids | wc -l)" $((6 * ROUNDS)) "entries kept"
	assert_equal "$(delivered)" 0 "delivered before the run"
	flush_and_count
	assert_equal "$(delivered)" $((6 * ROUNDS)) "delivered"
	echo "kills: $kills" >&3
}

@test "kill -9 after the final dot (RFC 1047 window): each delivered twice, counted" {
	kill_submission_at DOT
	assert_equal "$(delivered)" "$ROUNDS" "delivered before the kill"
	flush_and_count
	assert_equal "$(delivered)" $((2 * ROUNDS)) "delivered in all"
	echo "kills: $kills, duplicates: $ROUNDS (the RFC 1047 window)" >&3
}

@test "kill -9 while the message is read: no entry, nothing sent" {
	local r pid
	fake_start "" --connections 0
	write_queue_config
	for r in $(seq 1 $((2 * ROUNDS))); do
		mkfifo "$T/in$r"
		"$POSTIE" -C "$CONFIG" a@example.org <"$T/in$r" 2>/dev/null &
		pid=$!
		exec 5>"$T/in$r"
		head -c 100000 "$T/big" >&5
		sleep 0.1
		kill -9 "$pid"
		wait "$pid" 2>/dev/null || true
		exec 5>&-
	done
	assert_equal "$(queue_ids)" "" "entries"
	assert_no_connection
	# What the kills left in tmp/ goes when it is old.
	[ "$(ls "$T/queue/tmp" | wc -l)" -eq $((2 * ROUNDS)) ] ||
	    _fail "tmp/: $(ls "$T/queue/tmp")"
	touch -d '2 days ago' "$T/queue/tmp/"*
	run_postie -q
	assert_equal "$(ls "$T/queue/tmp" | wc -l)" 0 "tmp/ after a run"
	echo "kills: $((2 * ROUNDS))" >&3
}

@test "kill -9 during a queue run at EHLO, MAIL, RCPT, DATA, the body and RSET: delivered once each" {
	local step r pid n=0
	write_queue_config "port 1" "timeout 2"
	# First in the queue (IDs begin with the second they were made
	# in), refused at the RSET round: its transaction stays open, so the
	# next entry needs RSET first.
	run_postie -odq nobody@example.org <"$T/small"
	sleep 1.1
	for r in $(seq 1 "$ROUNDS"); do
		run_postie a@example.org <"$T/small"
		n=$((n + 1))
	done
	for step in EHLO MAIL RCPT DATA BODY EHLO MAIL RCPT DATA BODY RSET; do
		if [ "$step" = RSET ]; then
			printf '%s\n' 'on RCPT <nobody@example.org> => reply 550 5.1.1 no' \
			    'on RSET => stall' >"$T/stall"
		else
			stall_scenario "$step"
		fi
		fake_start "$T/stall" --max-seconds 30
		write_queue_config
		"$POSTIE" -C "$CONFIG" -q 2>/dev/null &
		pid=$!
		wait_stalled
		kill -9 "$pid"
		wait "$pid" 2>/dev/null || true
		kills=$((kills + 1))
		fake_stop
		mv "$FAKE_DIR" "$T/fake-run-$kills"
	done
	assert_equal "$(delivered)" 0 "delivered before the last run"
	flush_and_count
	assert_equal "$(delivered)" "$n" "delivered"
	echo "kills: $kills" >&3
}
