#!/bin/bash
# rdma-core's dma-buf MR tests against rxe0 once per host dma-buf backend of
# pyverbs (--dmabuf-backend), one result per test and backend:
# DmaBufMRTest, DmaBufTestCase and DmaBufMoveTest. Every test must run, not
# skip; the one skip allowed is DmaBufMoveTest's on udmabuf and heap, whose
# buffers cannot move, with exactly that reason. Unloading
# dmabuf_test_exporter at the end proves that no buffer or attachment
# outlived the tests.
SUITE=pyverbs-dmabuf/$RDG_BACKEND
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/xfer.sh"
. "$RDG_TOP/tests/lib/pyverbs.sh"

logdir=${RDG_RESULTS:-/tmp}
classes=$pyverbs_dmabuf_classes
# DmaBufMoveTest's skip when the backend is not the test exporter
no_move="Moving dma-bufs needs --dmabuf-backend test-exporter"

if modprobe dmabuf_test_exporter; then
	pass modprobe
else
	fail modprobe "modprobe dmabuf_test_exporter failed; test-exporter tests will fail"
fi

# record BACKEND: the results of unittest_results.py on stdin, a SKIP
# turned into a FAIL unless the test may skip on BACKEND. Fails a class
# with no result at all, so a test filter that matches nothing shows.
record() {
	local backend=$1 verdict rest name reason class
	local -A seen=()
	while read -r verdict rest; do
		name=${rest%%: *}
		reason=${rest#*: }
		for class in $classes; do
			[[ $name == *".$class."* ]] && seen[$class]=1
		done
		case $verdict in
		SKIP)
			if [ "$backend" != test-exporter ] &&
			   [[ $name == *.DmaBufMoveTest.* ]] &&
			   [[ $reason == "$no_move"* ]]; then
				echo "SKIP $rest"
			else
				echo "FAIL $name: skipped with --dmabuf-backend $backend, where it must run: $reason"
			fi
			;;
		*) echo "$verdict $rest" ;;
		esac
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
	/usr/bin/python3 "$RDG_TOP/tests/lib/unittest_results.py" \
		"$SUITE/$backend" "$log" "$RDG_TOP/tests/pyverbs-expected-failures" |
		record "$backend" | tee -a "$RESULTS_FILE"
	[ "${PIPESTATUS[0]}" = 0 ] || fail "$backend/run_tests.py" "could not parse $log"
done

unload_exporter
