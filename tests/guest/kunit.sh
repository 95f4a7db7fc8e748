#!/bin/bash
# Load each KUnit test module of tests/kunit.modules and keep the KTAP it
# printed in $RDG_RESULTS/kunit/MODULE.log; the modules that loaded are
# listed in $RDG_RESULTS/kunit/modules. tests/run parses the logs on the
# host with the kernel's own kunit.py (tests/lib/kunit_results.py), one
# record per test case: a Python start and parse cost 20 s of a TCG guest.
SUITE=kunit/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"

logdir=$RDG_RESULTS/kunit
mkdir -p "$logdir"
: > "$logdir/modules"

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
	echo "$module" >> "$logdir/modules"
done < "$RDG_TOP/tests/kunit.modules"
