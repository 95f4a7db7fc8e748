#!/bin/bash
# rdma-core's own pyverbs test suite against rxe0, one result per test.
# Failures listed in tests/pyverbs-expected-failures count as skipped, with
# the reason given there; nothing else is dropped.
SUITE=pyverbs/$RDG_BACKEND
. "$RDG_TOP/tests/lib/result.sh"

rdma=$RDG_TOP/build/rdma-core/build
log=$RDG_RESULTS/pyverbs.log
# bin/run_tests.py is rdma-core's wrapper that sets PYTHONPATH and runs
# Debian's python3 (pyverbs is built against it, not the pyenv one on PATH).
"$rdma/bin/run_tests.py" --dev rxe0 --gid 1 -v > "$log" 2>&1
echo "run_tests.py exit status $?" >> "$log"

/usr/bin/python3 "$RDG_TOP/tests/lib/unittest_results.py" "$SUITE" "$log" \
	"$RDG_TOP/tests/pyverbs-expected-failures" >> "$RESULTS_FILE" ||
	fail run_tests.py "could not parse $log"
