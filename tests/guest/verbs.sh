#!/bin/bash
# Data path over rxe0 with every byte verified, by tests/verbs/rdma_xfer:
# each operation at sizes from one byte to multi-packet messages.
SUITE=verbs/$RDG_BACKEND
. "$RDG_TOP/tests/lib/result.sh"
xfer=$RDG_TOP/build/tests/verbs/rdma_xfer

# xfer_checked ARGS...: rdma_xfer succeeds and says it verified every byte
# it was asked to move.
xfer_checked() {
	local out summary size iters
	out=$("$xfer" "$@" 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	summary=$(grep '^rdma_xfer: op=' <<< "$out")
	size=$(sed -n 's/.* size=\([0-9]*\) .*/\1/p' <<< "$summary")
	iters=$(sed -n 's/.* iters=\([0-9]*\) .*/\1/p' <<< "$summary")
	[[ "$size" =~ ^[0-9]+$ && "$iters" =~ ^[0-9]+$ ]] || return 1
	grep -q " verified=$((size * iters)) " <<< "$summary"
}

# Under QEMU's TCG, several times slower than UML, a quarter of the
# iterations: the same sizes and operations, on two CPUs. The path MTU is
# 1024, below the page size, where every other suite runs at the port's
# active MTU (4096), which halves the cost of their multi-page messages.
pct=$([ "$RDG_BACKEND" = qemu ] && echo 25 || echo 100)
for op in write write_imm read send; do
	for size in 1 4096 65536 1048576; do
		iters=$(((size >= 1048576 ? 20 : 200) * pct / 100))
		run_case "$op-$size" xfer_checked --op "$op" --size "$size" \
			--iters "$iters" --depth 8 --mtu 1024
	done
done

expect_status bad-op 2 'op' "$xfer" --op frobnicate
expect_status bad-size-zero 2 'size' "$xfer" --size 0
expect_status bad-size-text 2 'size' "$xfer" --size lots
expect_status bad-iters 2 'iters' "$xfer" --iters 0
expect_status bad-depth 2 'depth' "$xfer" --depth 100000
expect_status bad-device 2 "unknown device 'nosuchdev'" "$xfer" --dev nosuchdev
