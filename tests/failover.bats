#!/usr/bin/env bats
# shellcheck shell=bash
#
# Failover: `host a,b,c` tries the hosts in order.  A temporary failure
# on one (no connection, a 4xx, a stall, TLS that cannot be had) moves on
# to the next with a warning; a 5xx is final.  Every host of the list
# shares the account's `port`, so the fake servers listen on different
# loopback addresses (127.0.0.0/8 needs no setup on Linux) and one port:
# the first one started picks it.

load common

ENGINEPROBE=${TOP_BUILDDIR}/tests/engineprobe

setup() {
	common_setup
	declare -gA FAKES=()
	PORT=$(shared_port)
}

# A port free on 127.0.0.1, .2 and .3 alike, below the kernel's
# ephemeral range: an ephemeral port taken on 127.0.0.2 may be in use
# on 127.0.0.1 (a client's local port, another test's listener).
shared_port() {
	"$PYTHON3" -c '
import random, socket, sys
lo, _ = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
for _ in range(200):
    port = random.randrange(10000, lo)
    socks = []
    try:
        for a in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
            s = socket.socket()
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((a, port))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(port)
    sys.exit(0)
sys.exit("no free port")'
}

teardown() {
	local name
	for name in "${!FAKES[@]}"; do
		kill "${FAKES[$name]}" 2>/dev/null || true
		wait "${FAKES[$name]}" 2>/dev/null || true
	done
	FAKE_PID=
	common_teardown
}

# fake_at NAME ADDR [SCENARIO|-] [fakesmtp options...]: a fake server
# called NAME on ADDR, port $PORT (shared_port), its records in $T/NAME.
# SCENARIO as for fake_start.
fake_at() {
	local name=$1 addr=$2 scenario=${3-} i
	shift 2
	[ $# -gt 0 ] && shift
	if [ "$scenario" = - ]; then
		scenario=$T/$name.scenario
		cat >"$scenario"
	fi
	mkdir -p "$T/$name"
	local args=(--dir "$T/$name" --listen "$addr" --port "${PORT:-0}"
	    --max-seconds 20)
	[ -n "$scenario" ] && args+=(--scenario "$scenario")
	"$PYTHON3" "$FAKESMTP" "${args[@]}" "$@" </dev/null \
	    >"$T/$name/stdout" 2>"$T/$name/stderr" 3>&- &
	FAKES[$name]=$!
	for i in $(seq 1 200); do
		if [ -s "$T/$name/port" ]; then
			PORT=$(cat "$T/$name/port")
			return 0
		fi
		kill -0 "${FAKES[$name]}" 2>/dev/null ||
		    _fail "fake server $name did not start on $addr:${PORT:-0}" \
		    "$(cat "$T/$name/stderr")"
		sleep 0.05
	done
	_fail "fake server $name did not listen within 10 s"
}

# fake_tls_at NAME ADDR CERT [SCENARIO|-] [options...]: the same with
# STARTTLS and tests/certs.sh's certificate CERT.
fake_tls_at() {
	local name=$1 addr=$2 cert=$3 scenario=${4-}
	shift 3
	[ $# -gt 0 ] && shift
	[ -n "${CERTS-}" ] || certs_dir
	fake_at "$name" "$addr" "$scenario" --tls-cert "$CERTS/$cert.pem" \
	    --tls-key "$CERTS/$cert.key" "$@"
}

# on NAME: common.bash's readers (fake_commands, fake_log, ...) read the
# records of fake server NAME.
on() {
	FAKE_DIR=$T/$1
	FAKE_PID=${FAKES[$1]}
}

# never_contacted NAME: fake server NAME accepted no connection.  postie
# has exited, so a connection it made has long been accepted.
never_contacted() {
	[ ! -e "$T/$1/conn-1.peer" ] ||
	    _fail "fake server $1 was connected to" "$(cat "$T/$1/log")"
}

# hosts LIST [LINE...]: the config with `host LIST` on $PORT.
hosts() {
	local list=$1
	shift
	write_config "host $list" "port $PORT" "$@"
}

send() {
	run_postie rcpt@example.org <"$(sample_message)"
}

# The first host tried passed over, the message delivered by NAME: its
# whole transcript, the message's bytes.
assert_delivered_by() {
	on "$1"
	assert_status 0
	assert_commands "EHLO client.example.org" \
	    "MAIL FROM:<sender@example.org> SIZE=$(file_size "$(crlf_copy "$T/msg")")" \
	    "RCPT TO:<rcpt@example.org>" "DATA" "QUIT"
	assert_message 1 "$(crlf_copy "$T/msg")"
}

# ---- moving on ---------------------------------------------------------------------

@test "the first host refuses the connection: the second delivers, one warning" {
	fake_at b 127.0.0.1
	hosts 127.0.0.2,127.0.0.1
	send
	assert_delivered_by b
	assert_equal "$stderr" "postie: warning: 127.0.0.2:$PORT failed (connection refused by 127.0.0.2 port $PORT); trying 127.0.0.1" \
	    stderr
}

@test "a host name that does not resolve is passed over" {
	fake_at b 127.0.0.1
	hosts "nonexistent.invalid , 127.0.0.1"
	send
	assert_delivered_by b
	assert_stderr_one_line
	assert_stderr_matches "^postie: warning: nonexistent\.invalid:$PORT failed \((host 'nonexistent\.invalid' not found|temporary failure looking up 'nonexistent\.invalid': .*)\); trying 127\.0\.0\.1$"
}

@test "greeting 421 on the first host: QUIT there (as after any 421), then the second" {
	fake_at a 127.0.0.2 - <<'EOF'
on CONNECT => reply 421 4.3.2 a.example.org busy, try another
EOF
	fake_at b 127.0.0.1
	hosts 127.0.0.2,127.0.0.1
	send
	assert_delivered_by b
	assert_equal "$stderr" "postie: warning: 127.0.0.2[127.0.0.2]:$PORT failed (the server refused the connection: 421 4.3.2 a.example.org busy, try another); trying 127.0.0.1" \
	    stderr
	# The stream was in a known state: QUIT, as smtp_close() does after
	# a 421 today, and nothing else.
	on a
	assert_commands "QUIT"
}

@test "EHLO 451 and a malformed greeting move on too" {
	fake_at a 127.0.0.2 - <<'EOF'
on EHLO => reply 451 4.3.0 a.example.org local problem
EOF
	fake_at c 127.0.0.3 - <<'EOF'
on CONNECT => raw 220-ok\r\n250 mixed codes\r\n
EOF
	fake_at b 127.0.0.1
	hosts 127.0.0.2,127.0.0.3,127.0.0.1
	send
	assert_delivered_by b
	assert_equal "${#stderr_lines[@]}" 2 "stderr lines"
	assert_equal "${stderr_lines[0]}" "postie: warning: 127.0.0.2[127.0.0.2]:$PORT failed (EHLO client.example.org rejected: 451 4.3.0 a.example.org local problem); trying 127.0.0.3"
	[[ "${stderr_lines[1]}" == "postie: warning: 127.0.0.3[127.0.0.3]:$PORT failed (malformed reply to the greeting: "*"); trying 127.0.0.1" ]] ||
	    _fail "second warning: ${stderr_lines[1]}"
	on a
	assert_commands "EHLO client.example.org" "QUIT"
	# A garbled stream gets no QUIT: nothing at all was sent there.
	on c
	assert_equal "$(fake_commands 1)" "" "commands to 127.0.0.3"
}

@test "the first host stalls at the greeting (timeout 1): the second delivers after ~1 s" {
	fake_at a 127.0.0.2 - <<'EOF'
on CONNECT => stall
EOF
	fake_at b 127.0.0.1
	hosts 127.0.0.2,127.0.0.1 "timeout 1"
	send
	assert_delivered_by b
	assert_equal "$stderr" "postie: warning: 127.0.0.2[127.0.0.2]:$PORT failed (timed out after 1 s waiting for the greeting); trying 127.0.0.1" \
	    stderr
	[ "$ELAPSED_MS" -ge 900 ] || _fail "moved on after $ELAPSED_MS ms"
	assert_elapsed_below 10
}

# ---- final answers -------------------------------------------------------------------

@test "greeting 554 on the first host is final: exit 69, the second never contacted" {
	fake_at a 127.0.0.2 - <<'EOF'
on CONNECT => reply 554 5.3.2 a.example.org no SMTP service here
EOF
	fake_at b 127.0.0.1
	hosts 127.0.0.2,127.0.0.1
	send
	assert_status 69
	assert_equal "$stderr" "postie: account 'default', server 127.0.0.2[127.0.0.2]:$PORT, GREETING: the server refused the connection: 554 5.3.2 a.example.org no SMTP service here" \
	    stderr
	never_contacted b
	on a
	assert_commands "QUIT"
}

# auth_scenario NAME [LINE...]: $T/NAME.scenario serving AUTH
# SCRAM-SHA-256 (no TLS needed: AUTH runs on the plaintext loopback) for
# alice, then the LINEs; prints its path.
auth_scenario() {
	local f=$T/$1.scenario
	shift
	printf '%s\n' "auth users alice:pw-1" "auth mechs SCRAM-SHA-256" "$@" >"$f"
	echo "$f"
}

@test "AUTH 535 on the first host is final: exit 77, the second never contacted" {
	fake_at a 127.0.0.2 "$(auth_scenario a \
	    "on AUTH => reply 535 5.7.8 authentication failed")"
	fake_at b 127.0.0.1 "$(auth_scenario b)"
	hosts 127.0.0.2,127.0.0.1 "auth scram-sha-256" "user alice" \
	    "password pw-1"
	send
	assert_status 77
	assert_equal "$stderr" "postie: account 'default', server 127.0.0.2[127.0.0.2]:$PORT, AUTH: AUTH SCRAM-SHA-256 rejected: 535 5.7.8 authentication failed" \
	    stderr
	never_contacted b
}

@test "AUTH 454 on the first host moves on: the second authenticates and delivers" {
	fake_at a 127.0.0.2 "$(auth_scenario a \
	    "on AUTH => reply 454 4.7.0 temporary authentication failure")"
	fake_at b 127.0.0.1 "$(auth_scenario b)"
	hosts 127.0.0.2,127.0.0.1 "auth scram-sha-256" "user alice" \
	    "password pw-1"
	send
	assert_status 0
	assert_equal "$stderr" "postie: warning: 127.0.0.2[127.0.0.2]:$PORT failed (AUTH SCRAM-SHA-256 rejected: 454 4.7.0 temporary authentication failure); trying 127.0.0.1" \
	    stderr
	grep -q "AUTH SCRAM-SHA-256 ok" "$T/b/log" || _fail "no AUTH ok on b"
	on b
	assert_message 1 "$(crlf_copy "$T/msg")"
	on a
	assert_equal "$(fake_commands 1 | cut -c1-19)" \
	    "$(printf '%s\n' "EHLO client.example" "AUTH SCRAM-SHA-256 " "QUIT")" \
	    "commands to 127.0.0.2"
}

@test "passwordeval runs once for three hosts; each gets the secret" {
	fake_at a 127.0.0.2 "$(auth_scenario a "on AUTH => reply 454 4.7.0 try later")"
	fake_at c 127.0.0.3 "$(auth_scenario c "on AUTH => reply 454 4.7.0 try later")"
	fake_at b 127.0.0.1 "$(auth_scenario b)"
	hosts 127.0.0.2,127.0.0.3,127.0.0.1 "auth scram-sha-256" "user alice" \
	    "passwordeval echo ran >>$T/evals; echo pw-1"
	send
	assert_status 0
	assert_equal "$(cat "$T/evals")" "ran" "passwordeval runs"
	# The secret reached every host: the first two started the exchange,
	# the third completed it.
	grep -q '^AUTH SCRAM-SHA-256 ' "$T/a/conn-1.cmds" || _fail "no AUTH on a"
	grep -q '^AUTH SCRAM-SHA-256 ' "$T/c/conn-1.cmds" || _fail "no AUTH on c"
	grep -q "AUTH SCRAM-SHA-256 ok" "$T/b/log" || _fail "no AUTH ok on b"
	on b
	assert_message 1 "$(crlf_copy "$T/msg")"
}

# ---- TLS ----------------------------------------------------------------------------

@test "tls on, the first host offers no STARTTLS: the second, with TLS, delivers" {
	fake_at a 127.0.0.2
	fake_tls_at b 127.0.0.1 valid
	hosts 127.0.0.2,127.0.0.1 "tls on" "tls_trust_file $CERTS/ca.pem"
	send
	assert_status 0
	assert_stderr_one_line
	assert_stderr_contains "postie: warning: 127.0.0.2[127.0.0.2]:$PORT failed (the server 127.0.0.2 does not offer STARTTLS; refusing to send in plaintext"
	on a
	assert_commands "EHLO client.example.org" "QUIT"
	on b
	assert_equal "$(fake_tls_lines 1 | grep '^T MAIL' | cut -c1-12)" \
	    "T MAIL FROM:" "MAIL inside TLS on b"
	assert_message 1 "$(crlf_copy "$T/msg")"
}

@test "each host's certificate is checked against that host's own name" {
	# valid.pem names 127.0.0.1, not 127.0.0.2: the first handshake
	# fails, the second (checked against 127.0.0.1) is fine.
	fake_tls_at a 127.0.0.2 valid
	fake_tls_at b 127.0.0.1 valid
	hosts 127.0.0.2,127.0.0.1 "tls on" "tls_trust_file $CERTS/ca.pem"
	send
	assert_status 0
	assert_stderr_one_line
	assert_stderr_contains "postie: warning: 127.0.0.2[127.0.0.2]:$PORT failed (TLS handshake with '127.0.0.2' failed: "
	assert_stderr_contains "; trying 127.0.0.1"
	on b
	assert_message 1 "$(crlf_copy "$T/msg")"
	on a
	assert_commands "EHLO client.example.org" "STARTTLS"
}

@test "tls_host_override applies to every host of the list" {
	# valid.pem does not name 127.0.0.3: only the override lets the
	# second host pass; the first one's certificate has expired.
	fake_tls_at a 127.0.0.2 expired
	fake_tls_at c 127.0.0.3 valid
	hosts 127.0.0.2,127.0.0.3 "tls on" "tls_trust_file $CERTS/ca.pem" \
	    "tls_host_override mail.example.test"
	send
	assert_status 0
	assert_stderr_one_line
	assert_stderr_contains "TLS handshake with 'mail.example.test' failed: "
	on c
	assert_message 1 "$(crlf_copy "$T/msg")"
}

# ---- every host failed ------------------------------------------------------------

@test "three hosts fail temporarily: exit 75, a warning per move, one error line summing up" {
	local long
	long=$(printf 'x%.0s' $(seq 300))
	fake_at c 127.0.0.3 - <<EOF
on CONNECT => reply 421 4.3.2 $long
EOF
	fake_at b 127.0.0.1 - <<'EOF'
on CONNECT => drop
EOF
	hosts 127.0.0.2,127.0.0.3,127.0.0.1
	send
	assert_status 75
	assert_no_message
	assert_equal "${#stderr_lines[@]}" 3 "stderr lines"
	assert_equal "${stderr_lines[0]}" "postie: warning: 127.0.0.2:$PORT failed (connection refused by 127.0.0.2 port $PORT); trying 127.0.0.3"
	# The warning has the reply as reply_summary() bounds it.
	[[ "${stderr_lines[1]}" == "postie: warning: 127.0.0.3[127.0.0.3]:$PORT failed (the server refused the connection: 421 4.3.2 xxxxx"*"x...); trying 127.0.0.1" ]] ||
	    _fail "second warning: ${stderr_lines[1]}"
	# The last host's failure decides; the earlier ones follow, each
	# reason cut to 120 bytes.
	local why="the server refused the connection: 421 4.3.2 "
	local cut=${long:0:$((120 - ${#why}))}
	assert_equal "${stderr_lines[2]}" "postie: account 'default', server 127.0.0.1[127.0.0.1]:$PORT, GREETING: 127.0.0.1: connection closed by the server before the greeting; earlier: 127.0.0.2: connection refused by 127.0.0.2 port $PORT; 127.0.0.3: the server refused the connection: 421 4.3.2 $cut..."
}

@test "many hosts refused: the summary names five and counts the rest" {
	fake_at b 127.0.0.1 - <<'EOF'
on CONNECT => reply 421 4.3.2 last one busy
EOF
	hosts 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.1
	send
	assert_status 75
	assert_equal "${#stderr_lines[@]}" 8 "stderr lines"
	local i earlier=
	for i in 2 3 4 5 6; do
		earlier+="${earlier:+; }127.0.0.$i: connection refused by 127.0.0.$i port $PORT"
	done
	assert_equal "${stderr_lines[7]}" "postie: account 'default', server 127.0.0.1[127.0.0.1]:$PORT, GREETING: 127.0.0.1: the server refused the connection: 421 4.3.2 last one busy; earlier: $earlier; and 2 more"
}

# ---- -S, -P and the config --------------------------------------------------------

@test "-S passes over a host that is down and one that greets then fails" {
	fake_at c 127.0.0.3 - <<'EOF'
hostname first.example.org
on EHLO => reply 451 4.3.0 not now
EOF
	fake_at b 127.0.0.1 - <<'EOF'
hostname second.example.org
EOF
	hosts 127.0.0.2,127.0.0.3,127.0.0.1
	run_postie -S
	assert_status 0
	# Only what the host reached said: nothing of first.example.org.
	assert_equal "$output" "$(printf '%s\n' \
	    "SMTP server at 127.0.0.1[127.0.0.1]:$PORT" \
	    "Greeting:" \
	    "    second.example.org ESMTP fakesmtp" \
	    "Capabilities:" \
	    "    second.example.org" \
	    "    PIPELINING" \
	    "    SIZE" \
	    "    8BITMIME" \
	    "    SMTPUTF8" \
	    "    ENHANCEDSTATUSCODES")" "-S output"
	assert_equal "$stderr" "$(printf '%s\n' \
	    "postie: warning: 127.0.0.2:$PORT failed (connection refused by 127.0.0.2 port $PORT); trying 127.0.0.3" \
	    "postie: warning: 127.0.0.3[127.0.0.3]:$PORT failed (EHLO client.example.org rejected: 451 4.3.0 not now); trying 127.0.0.1")" \
	    stderr
	on c
	assert_commands "EHLO client.example.org" "QUIT"
}

@test "-P shows the host list as written; an empty name in it is exit 78 with file:line" {
	write_config "host 127.0.0.2, 127.0.0.1"
	run_postie -P
	assert_status 0
	local at
	at=$(grep -n '^host 127.0.0.2, 127.0.0.1$' "$CONFIG" | cut -d: -f1)
	[[ "$output" == *$'\n'"host                  = 127.0.0.2, 127.0.0.1  ($CONFIG:$at)"$'\n'* ]] ||
	    _fail "no host line"
	local bad line
	for bad in "a,,b" "a," ",a" "a, ,b"; do
		write_config "host $bad"
		line=$(grep -n "^host $bad\$" "$CONFIG" | cut -d: -f1)
		run_postie -P
		assert_status 78
		assert_equal "$stderr" "postie: $CONFIG:$line: invalid host '$bad': a name in the list is empty" \
		    "stderr for '$bad'"
	done
	write_config
	run_postie -P --host=a,,b
	assert_status 64
	assert_equal "$stderr" "postie: command line: invalid host 'a,,b': a name in the list is empty" \
	    stderr
}

# ---- the engine: smtp_set_first_host(), smtp_host_index() ------------------------------

@test "engine: a session started at host 1 never contacts host 0; host says which one" {
	[ -x "$ENGINEPROBE" ] ||
	    _fail "tests/engineprobe not built (make check builds it)"
	printf 'Subject: one\r\n\r\nfirst\r\n' >"$T/m1"
	fake_at a 127.0.0.2
	fake_at b 127.0.0.1
	hosts 127.0.0.2,127.0.0.1
	run --separate-stderr timeout 30 "$ENGINEPROBE" "$CONFIG" default \
	    first 1 host send s@example.org r@example.org "$T/m1"
	assert_status 0
	assert_equal "$output" "$(printf '%s\n' "open: ok" \
	    "host: 1 127.0.0.1[127.0.0.1]:$PORT" \
	    "send 2: ok, 1 transaction, EOM 250" \
	    "  r@example.org: accepted EOM 250 2.0.0 (250 2.0.0 Ok: queued as FAKE1)")" \
	    "engineprobe output"
	never_contacted a
	on b
	cmp "$T/m1" "$(fake_message_path 1)"
	# Past the last host: nothing to try, said so, nothing contacted.
	run --separate-stderr timeout 30 "$ENGINEPROBE" "$CONFIG" default \
	    first 2 host
	assert_status 0
	assert_equal "$output" "$(printf '%s\n' \
	    "open: failed CONNECT: no host number 3: the route has 2" \
	    "host: 2 ")" "engineprobe output"
	never_contacted a
}

@test "engine: after the first host refuses, the index is 1" {
	[ -x "$ENGINEPROBE" ] ||
	    _fail "tests/engineprobe not built (make check builds it)"
	fake_at b 127.0.0.1
	hosts 127.0.0.2,127.0.0.1
	run --separate-stderr timeout 30 "$ENGINEPROBE" "$CONFIG" default host
	assert_status 0
	assert_equal "$output" "$(printf '%s\n' "open: ok" \
	    "host: 1 127.0.0.1[127.0.0.1]:$PORT")" "engineprobe output"
}

@test "a queue run: a host that breaks off mid-run hands the rest to the next host" {
	# The first host takes one message, then drops the connection at
	# the next MAIL; the entry after that goes to the second host.
	fake_at one 127.0.0.2 - --connections 2 <<'EOF2'
on MAIL#2@1 => drop
EOF2
	fake_at two 127.0.0.3 "" --connections 1
	hosts 127.0.0.2,127.0.0.3 "queue on" "queue_dir $T/queue"
	for r in a b c; do
		"$POSTIE" -C "$CONFIG" -odq "$r@example.org" <"$(sample_message)"
	done
	run_postie -q
	assert_status 0
	on one
	assert_equal "$(fake_messages)" 1 "messages on the first host"
	assert_equal "$(fake_envelope 1 | tail -n 1)" "RCPT TO:<a@example.org>" first
	on two
	fake_wait 5 || _fail "the second host's session did not end"
	assert_equal "$(fake_messages)" 1 "messages on the second host"
	assert_equal "$(fake_envelope 1 | tail -n 1)" "RCPT TO:<c@example.org>" second
	# b waits; the next run begins at the first host again.
	assert_equal "$(ls "$T/queue/q" | wc -l)" 1 "entries left"
	run_postie -q
	assert_status 0
	on one
	assert_equal "$(fake_messages)" 2 "messages on the first host"
	assert_equal "$(fake_envelope 2 | tail -n 1)" "RCPT TO:<b@example.org>" third
	assert_equal "$(ls "$T/queue/q" | wc -l)" 0 "entries left"
}
