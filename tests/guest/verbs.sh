#!/bin/bash
# Data path over rxe0 with every byte verified, by tests/verbs/rdma_xfer:
# each operation at sizes from one byte to multi-packet messages.
SUITE=verbs/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/xfer.sh"
xfer=$RDG_TOP/build/tests/verbs/rdma_xfer

# Every operation at each size moves its data with every byte verified
# (xfer_expect). QEMU gets a quarter of the iterations (iters_of). The path
# MTU is 1024, below the page size, where every other suite runs at the
# port's active MTU (4096), which halves the cost of their multi-page
# messages.
for op in write write_imm read send; do
	for size in 1 4096 65536 1048576; do
		iters_of $((size >= 1048576 ? 20 : 200))
		run_case "$op-$size" xfer_expect -- --op "$op" --size "$size" \
			--iters "$iters" --depth 8 --mtu 1024
	done
done

expect_status bad-op 2 'op' "$xfer" --op frobnicate
expect_status bad-size-zero 2 'size' "$xfer" --size 0
expect_status bad-size-text 2 'size' "$xfer" --size lots
expect_status bad-iters 2 'iters' "$xfer" --iters 0
expect_status bad-depth 2 'depth' "$xfer" --depth 100000
expect_status bad-device 2 "unknown device 'nosuchdev'" "$xfer" --dev nosuchdev
