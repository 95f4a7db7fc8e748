#!/bin/bash
# Fail if a guest's kernel log shows a report any debug option can make:
# lockdep, KASAN, kmemleak, WARN, BUG, Oops, panic, hung task, RCU stall;
# and, for a kernel built with kmemleak, if kmemleak was not active to the
# end (kernel/guest/init writes kmemleak.state after its final scans).
#
# usage: check-splats.sh [--backend uml|qemu] [--kmemleak] RESULTS_DIR
#   --backend   the guest's backend: the known arch/um report below is
#               left out on uml only
#   --kmemleak  the kernel has CONFIG_DEBUG_KMEMLEAK: kmemleak must have
#               scanned at the end of the guest's run
set -uo pipefail

backend= kmemleak=0
while [ $# -gt 1 ]; do
	case $1 in
	--backend) backend=$2; shift 2 ;;
	--kmemleak) kmemleak=1; shift ;;
	*) echo "check-splats: unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# = 1 ] || { echo "usage: check-splats.sh [--backend uml|qemu] [--kmemleak] RESULTS_DIR" >&2; exit 2; }
results=$1
pattern='WARNING:|BUG:|Oops|Kernel panic|general protection fault'
pattern+='|possible circular locking|inconsistent lock state|possible recursive locking'
pattern+='|DEBUG_LOCKS_WARN_ON|INFO: task .* blocked for more than'
pattern+='|trying to register non-static key'
pattern+='|rcu: INFO:|detected stall|UBSAN:|unreferenced object|kmemleak: [0-9]+ new suspected'

# Known upstream bug, not this project's: on UML 6.12, zapping a shared
# mapping (unmap_mapping_range, as the test exporter does on every move)
# reaches arch/um's flush_tlb_mm(), which walks the mm's VMAs with the
# maple tree iterator holding neither the mm's mmap_lock nor RCU, and
# lockdep reports "suspicious RCU usage". Only that report is left out, on
# UML only, and only when every RCU report of the run is one: the report
# (from its WARNING line to the next report's first line) must name a
# maple tree dereference as its source line, and its stack must hold
# flush_tlb_mm and unmap_mapping_range as frames.
known_uml_tlb() {
	awk '
	function done_report() {
		if (inrep && src && tlb && unmap) known++
		inrep = 0
	}
	/WARNING: suspicious RCU usage/ { done_report(); inrep = 1; src = tlb = unmap = 0; n = 0; next }
	/^(\[[^]]*\] *)*(=====|-+\[ cut here)/ { done_report(); next }
	!inrep { next }
	++n > 200 { done_report(); next }
	# The source line lockdep names, as an out-of-tree build prints it:
	#   ../../linux-src/lib/maple_tree.c:835 suspicious rcu_dereference_check() usage!
	/^(\[[^]]*\] *)*([^ ]*\/)?(include\/linux\/maple_tree\.h|lib\/maple_tree\.c):[0-9]+ suspicious rcu_dereference_(check|protected)\(\) usage![[:space:]]*$/ { src = 1 }
	/(^|[][ <>?])flush_tlb_mm\+0x[0-9a-f]+\/0x[0-9a-f]+/ { tlb = 1 }
	/(^|[][ <>?])unmap_mapping_range\+0x[0-9a-f]+\/0x[0-9a-f]+/ { unmap = 1 }
	END { done_report(); print known + 0 }'
}

found=$(cat "$results/console.log" "$results/dmesg.log" 2>/dev/null |
	grep -E "$pattern" | sort -u)
if [ "$backend" = uml ]; then
	known=$(known_uml_tlb < "$results/console.log" 2>/dev/null)
	total_rcu=$(grep -c 'WARNING: suspicious RCU usage' "$results/console.log" 2>/dev/null)
	if [ "${known:-0}" -gt 0 ] && [ "${known:-0}" -eq "${total_rcu:-0}" ]; then
		found=$(grep -v 'WARNING: suspicious RCU usage' <<< "$found")
		echo "check-splats: ignored $known UML flush_tlb_mm RCU report(s) (known arch/um bug)" >&2
	fi
fi
leaks=$(grep -c '^unreferenced object' "$results/kmemleak.log" 2>/dev/null)
inactive=
if [ "$kmemleak" = 1 ]; then
	state=$(cat "$results/kmemleak.state" 2>/dev/null)
	[ "$state" = active ] ||
		inactive="kmemleak was not active in this guest (kmemleak.state: ${state:-missing}); its leaks went unchecked"
fi
if [ -n "$found" ] || [ "${leaks:-0}" -gt 0 ] || [ -n "$inactive" ]; then
	echo "check-splats: the guest kernel reported problems (see $results):" >&2
	[ -z "$found" ] || echo "$found" | head -n 20 | sed 's/^/  /' >&2
	[ -z "$inactive" ] || echo "  $inactive" >&2
	[ "${leaks:-0}" -eq 0 ] || {
		echo "  kmemleak: $leaks unreferenced object(s):" >&2
		head -n 40 "$results/kmemleak.log" | sed 's/^/    /' >&2
	}
	exit 1
fi
exit 0
