#!/bin/bash
# Guest-side entry: run the named suites of tests/guest in one boot.
# usage: all.sh SUITE...
export RESULTS_FILE=$RDG_RESULTS/results.txt CASE_LOG_DIR=$RDG_RESULTS/cases
mkdir -p "$CASE_LOG_DIR"
: > "$RESULTS_FILE"
for suite in "$@"; do
	echo "=== $suite ($RDG_BACKEND)"
	start=$(date +%s)
	bash "$RDG_TOP/tests/guest/$suite.sh"
	echo "=== $suite done in $(($(date +%s) - start)) s"
done
