#!/usr/bin/env bats
# shellcheck shell=bash
#
# Failover: `host a,b,c` names several smarthosts.  Here: how the list is
# read and shown.

load common

@test "-P shows the host list as written; an empty name in it is exit 78 with file:line" {
	write_config "host 127.0.0.2, 127.0.0.1"
	run_postie -P
	assert_status 0
	[[ "$output" == *$'\n'"host                  = 127.0.0.2, 127.0.0.1"$'\n'* ]] ||
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
