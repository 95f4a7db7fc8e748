#!/bin/bash
# Load each KUnit test module of tests/kunit.modules and record every test
# case, as parsed by the kernel's own tools/testing/kunit/kunit.py.
SUITE=kunit/$RDG_BACKEND
. "$RDG_TOP/tests/lib/result.sh"

kunit_dir=$RDG_TOP/build/linux-src/tools/testing/kunit
logdir=$RDG_RESULTS/kunit
mkdir -p "$logdir"

modules=()
while read -r module _; do
	case "$module" in ''|'#'*) continue ;; esac
	# A marker, not a line count: the log ring buffer may have wrapped.
	marker="rdg-kunit: loading $module $RANDOM$RANDOM"
	echo "$marker" > /dev/kmsg
	if ! modprobe "$module"; then
		fail "$module" "modprobe failed"
		continue
	fi
	dmesg -t | sed -n "/$marker/,\$p" | tail -n +2 > "$logdir/$module.log"
	# rmmod, not modprobe -r: that would also unload the module under test
	# (rdma_rxe) and take rxe0 with it.
	rmmod "$module"
	modules+=("$module")
done < "$RDG_TOP/tests/kunit.modules"
[ ${#modules[@]} -gt 0 ] || exit 0
python3 "$RDG_TOP/tests/lib/kunit_results.py" "$kunit_dir" "$logdir" \
	"${modules[@]}" >> "$RESULTS_FILE" || fail results "kunit_results.py failed"
