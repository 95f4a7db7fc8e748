#!/bin/bash
# dma-buf memory regions on rxe0. First the registration cases of
# tests/verbs/dmabuf_reg, one record per case; then rdma_xfer with every
# byte verified from each dma-buf source, with test exporter buffers moved
# and evicted under traffic, registered at offsets and with the fd closed.
# Unloading dmabuf_test_exporter at the end proves that no attachment or
# buffer outlived its process.
SUITE=dmabuf/$RDG_BACKEND
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/xfer.sh"
bin=$RDG_TOP/build/tests/verbs
xfer=$bin/rdma_xfer
logdir=${CASE_LOG_DIR:-/tmp}
mems="dte dte-iomem udmabuf heap"
# QEMU runs under TCG, some 25 times slower than UML: the same cases with
# a quarter of the iterations (its point is SMP concurrency, not volume).
pct=$([ "$RDG_BACKEND" = qemu ] && echo 25 || echo 100)
iters_of() { local n=$(($1 * pct / 100)); echo $((n > 2 ? n : 2)); }

if modprobe dmabuf_test_exporter; then
	pass modprobe
else
	fail modprobe "modprobe dmabuf_test_exporter failed; dte cases will skip"
fi

# Why a memory source cannot be used here, from dmabuf_reg's reg-MEM case.
declare -A absent

reg_log=$logdir/${SUITE//\//_}_dmabuf_reg.log
"$bin/dmabuf_reg" >"$reg_log" 2>&1
reg_rc=$?
records=0
while read -r verdict rest; do
	name=${rest%%: *}
	case $verdict in
	PASS) pass "$rest" ;;
	FAIL) fail "$name" "${rest#*: }" ;;
	SKIP)
		skip "$name" "${rest#*: }"
		[[ $name == reg-* ]] && absent[${name#reg-}]=${rest#*: }
		;;
	*) continue ;;
	esac
	records=$((records + 1))
done <"$reg_log"
# Exit 1 goes with FAIL lines; anything else (a crash) is a failure too.
if [ "$records" = 0 ] || { [ "$reg_rc" != 0 ] && ! grep -q '^FAIL ' "$reg_log"; }; then
	fail dmabuf_reg "exit $reg_rc: $(tail -n 3 "$reg_log" | tr '\n' ' ' | cut -c1-300)"
fi

# xfer_case NAME MEM COND... -- ARGS...: one record; skipped when MEM is
# absent here. dma-buf runs must show rxe mapping the buffer (a refault)
# and, on test exporter memory, no pin.
xfer_case() {
	local name=$1 mem=$2
	shift 2
	if [ -n "${absent[$mem]}" ]; then
		skip "$name" "${absent[$mem]}"
		return
	fi
	[[ $mem == dte* ]] && set -- "pins==0" "$@"
	run_case "$name" xfer_expect "refaults>0" "$@" --mem "$mem"
}

for mem in $mems; do
	for op in write write_imm read send; do
		xfer_case "xfer-$mem-$op" "$mem" -- --op "$op" --size 64K \
			--iters "$(iters_of 200)" --depth 8
	done
done

# Buffers moved or evicted while traffic runs: rxe invalidates and
# refaults mid-transfer, and still every byte arrives. Every refault of an
# evicted buffer copies all of it back, so 1 MiB messages get fewer slots:
# with 8 MiB to restore every 5 ms a slow (TCG) guest barely progresses.
for op in write read send; do
	for run in 1M:30:4 64K:300:8; do
		IFS=: read -r size iters depth <<<"$run"
		iters=$(iters_of "$iters")
		xfer_case "move-$op-$size" dte "moves>0" "invalidations>0" -- \
			--op "$op" --size "$size" --iters "$iters" \
			--depth "$depth" --move-every-us 2000
		xfer_case "evict-$op-$size" dte "evictions>0" "invalidations>0" -- \
			--op "$op" --size "$size" --iters "$iters" \
			--depth "$depth" --evict-every-us 5000
	done
done

for mem in $mems; do
	xfer_case "close-fd-$mem" "$mem" -- --op write --size 64K --iters "$(iters_of 200)" \
		--depth 8 --close-fd
done
xfer_case close-fd-dte-move dte "moves>0" -- --op send --size 64K \
	--iters "$(iters_of 300)" --depth 8 --close-fd --move-every-us 2000

for mem in $mems; do
	for off in 4096 100; do
		xfer_case "offset-$off-$mem-write" "$mem" -- --op write \
			--size 64K --iters "$(iters_of 200)" --depth 8 --dmabuf-offset "$off"
		xfer_case "offset-$off-$mem-read" "$mem" -- --op read \
			--size 64K --iters "$(iters_of 200)" --depth 8 --dmabuf-offset "$off"
	done
done
xfer_case offset-100-dte-move dte "moves>0" -- --op write --size 64K \
	--iters "$(iters_of 300)" --depth 8 --dmabuf-offset 100 --move-every-us 2000

expect_status usage-close-fd-host 2 'close-fd.*dma-buf' "$xfer" --close-fd
expect_status usage-offset-host 2 'dmabuf-offset.*dma-buf' "$xfer" \
	--dmabuf-offset 4096
expect_status usage-move-heap 2 'move-every-us.*test exporter' "$xfer" \
	--mem heap --move-every-us 1000
expect_status usage-bad-mem 2 "unknown --mem 'vram'" "$xfer" --mem vram

unload_exporter
