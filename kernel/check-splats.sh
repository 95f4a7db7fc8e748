#!/bin/bash
# Fail if a guest's kernel log shows a report any debug option can make:
# lockdep, KASAN, kmemleak, WARN, BUG, Oops, panic, hung task, RCU stall.
#
# usage: check-splats.sh RESULTS_DIR
set -uo pipefail

results=$1
pattern='WARNING:|BUG:|Oops|Kernel panic|general protection fault'
pattern+='|possible circular locking|inconsistent lock state|possible recursive locking'
pattern+='|DEBUG_LOCKS_WARN_ON|INFO: task .* blocked for more than'
pattern+='|rcu: INFO:|detected stall|UBSAN:|unreferenced object|kmemleak: [0-9]+ new suspected'

found=$(cat "$results/console.log" "$results/dmesg.log" 2>/dev/null |
	grep -E "$pattern" | sort -u)
leaks=$(grep -c '^unreferenced object' "$results/kmemleak.log" 2>/dev/null)
if [ -n "$found" ] || [ "${leaks:-0}" -gt 0 ]; then
	echo "check-splats: the guest kernel reported problems (see $results):" >&2
	[ -z "$found" ] || echo "$found" | head -n 20 | sed 's/^/  /' >&2
	[ "${leaks:-0}" -eq 0 ] || {
		echo "  kmemleak: $leaks unreferenced object(s):" >&2
		head -n 40 "$results/kmemleak.log" | sed 's/^/    /' >&2
	}
	exit 1
fi
exit 0
