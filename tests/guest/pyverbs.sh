#!/bin/bash
# rdma-core's own pyverbs test suite against rxe0, one result per test.
# Failures listed in tests/pyverbs-expected-failures count as skipped, with
# the reason given there; a test may skip only as tests/pyverbs-allowed-skips
# allows, for the reason given there; nothing else is dropped.
SUITE=pyverbs/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/pyverbs.sh"

log=$RDG_RESULTS/pyverbs.log

# Every test class but the dma-buf ones, which pyverbs-dmabuf runs on each
# host backend in turn: here they would run a fourth time, on whichever
# backend 'auto' found. Their random buffer sizes made that 30-75 s of the
# UML guest.
classes=() class=
while read -r id; do
	[[ $id == tests.*.*.* && ${id%.*} != "$class" ]] || continue
	class=${id%.*}
	[[ " $pyverbs_dmabuf_classes " == *" ${class##*.} "* ]] ||
		classes+=("$class")
done < <("$pyverbs_run_tests" --list-tests 2>/dev/null)
if [ ${#classes[@]} -eq 0 ]; then
	fail list-tests "run_tests.py --list-tests listed no test classes"
	exit 0
fi

# rdma-core's huge-page tests run where the kernel has hugetlb (QEMU's
# guests; not UML, where tests/pyverbs-allowed-skips lets them skip).
[ -w /proc/sys/vm/nr_hugepages ] && echo 8 > /proc/sys/vm/nr_hugepages

"$pyverbs_run_tests" --dev rxe0 --gid 1 -v "${classes[@]}" > "$log" 2>&1
echo "run_tests.py exit status $?" >> "$log"

pyverbs_results "$SUITE" "$log" >> "$RESULTS_FILE" ||
	fail run_tests.py "could not parse $log"
