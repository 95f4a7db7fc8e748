#!/bin/bash
# Guest-side entry: run the named suites of tests/guest in one boot.
# usage: all.sh SUITE...
#
# Each suite's exit status goes to $RDG_RESULTS/suites.txt ("NAME STATUS",
# once the suite has ended; a suite exits 0 once it has recorded its
# cases). The host checks it and each suite's number of results
# (tests/lib/records.sh: suite_verdicts). all.sh exits 1 if a suite exited
# non-zero.
export RESULTS_FILE=$RDG_RESULTS/results.txt CASE_LOG_DIR=$RDG_RESULTS/cases
mkdir -p "$CASE_LOG_DIR"
: > "$RESULTS_FILE"
: > "$RDG_RESULTS/suites.txt"
rc=0
for suite in "$@"; do
	echo "=== $suite ($RDG_GUEST)"
	start=$(date +%s)
	bash "$RDG_TOP/tests/guest/$suite.sh"
	status=$?
	echo "$suite $status" >> "$RDG_RESULTS/suites.txt"
	if [ "$status" != 0 ]; then
		echo "=== $suite exited with status $status" >&2
		rc=1
	fi
	echo "=== $suite done in $(($(date +%s) - start)) s"
done
exit "$rc"
