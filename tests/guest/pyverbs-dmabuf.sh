#!/bin/bash
# rdma-core's dma-buf MR tests against rxe0 once per host dma-buf backend of
# pyverbs (--dmabuf-backend), one result per test and backend:
# DmaBufMRTest, DmaBufTestCase and DmaBufMoveTest. Every test must run, not
# skip, but for the skips tests/pyverbs-allowed-skips allows with their
# exact reason: DmaBufMoveTest's on udmabuf and heap, whose buffers cannot
# move (its reason names the backend, so it cannot pass for a skip on the
# test exporter). Unloading
# dmabuf_test_exporter at the end proves that no buffer or attachment
# outlived the tests.
SUITE=pyverbs-dmabuf/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/xfer.sh"
. "$RDG_TOP/tests/lib/pyverbs.sh"

logdir=${RDG_RESULTS:-/tmp}
classes=$pyverbs_dmabuf_classes

if modprobe dmabuf_test_exporter; then
	pass modprobe
else
	fail modprobe "modprobe dmabuf_test_exporter failed; test-exporter tests will fail"
fi

# record BACKEND: pass on the result lines on stdin, and fail a class with
# no result at all, so that a test filter that matches nothing shows.
record() {
	local backend=$1 verdict rest class
	local -A seen=()
	while read -r verdict rest; do
		for class in $classes; do
			[[ ${rest%%: *} == *".$class."* ]] && seen[$class]=1
		done
		echo "$verdict $rest"
	done
	for class in $classes; do
		[ -n "${seen[$class]}" ] ||
			echo "FAIL $SUITE/$backend/$class: no results for the class"
	done
}

for backend in udmabuf heap test-exporter; do
	log=$logdir/pyverbs-dmabuf-$backend.log
	args=(--dev rxe0 --gid 1 -v --dmabuf-backend "$backend")
	for class in $classes; do args+=(-k "$class"); done
	"$pyverbs_run_tests" "${args[@]}" >"$log" 2>&1
	echo "run_tests.py exit status $?" >>"$log"
	pyverbs_results "$SUITE/$backend" "$log" |
		record "$backend" | tee -a "$RESULTS_FILE"
	[ "${PIPESTATUS[0]}" = 0 ] || fail "$backend/run_tests.py" "could not parse $log"
done

unload_exporter
