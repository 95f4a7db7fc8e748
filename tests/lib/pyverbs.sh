#!/bin/bash
# What the two pyverbs suites share (sourced).

# rdma-core's wrapper that sets PYTHONPATH and runs Debian's python3, which
# pyverbs is built against (not the pyenv one on PATH).
pyverbs_run_tests=$RDG_TOP/build/rdma-core/build/bin/run_tests.py

# rdma-core's dma-buf MR test classes. pyverbs-dmabuf runs them once per
# host dma-buf backend; the pyverbs suite leaves them to it.
pyverbs_dmabuf_classes="DmaBufMRTest DmaBufTestCase DmaBufMoveTest"

# pyverbs_results SUITE LOG: the result lines of run_tests.py's LOG
# (tests/lib/unittest_results.py): a failure listed in
# tests/pyverbs-expected-failures is a SKIP, and so is a skip that
# tests/pyverbs-allowed-skips allows, with that very reason; any other
# skip fails.
pyverbs_results() {
	/usr/bin/python3 "$RDG_TOP/tests/lib/unittest_results.py" "$1" "$2" \
		"$RDG_TOP/tests/pyverbs-expected-failures" \
		"$RDG_TOP/tests/pyverbs-allowed-skips"
}
