#!/bin/bash
# dma-buf memory regions on rxe0. First the registration cases of
# tests/verbs/dmabuf_reg, one record per case, the other data paths of
# dmabuf_ops and the rereg matrix of rereg_ops (a raw rereg to every
# access on every kind of MR, then every opcode a peer can send at it;
# one record per kind); then rdma_xfer with every byte verified from each
# dma-buf source, with test exporter buffers moved and evicted under
# traffic, registered at offsets and with the fd closed.
# Unloading dmabuf_test_exporter at the end proves that no attachment or
# buffer outlived its process.
SUITE=dmabuf/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/xfer.sh"
. "$RDG_TOP/tests/lib/records.sh"
bin=$RDG_TOP/build/tests/verbs
xfer=$bin/rdma_xfer
mems="dte dte-iomem udmabuf heap"

if modprobe dmabuf_test_exporter; then
	pass modprobe
else
	fail modprobe "modprobe dmabuf_test_exporter failed; dte cases will skip"
fi

# Why a memory source cannot be used here, from dmabuf_reg's reg-MEM case.
declare -A absent
note_absent() {
	[ "$1" = SKIP ] && [[ $2 == reg-* ]] && absent[${2#reg-}]=$3
	return 0
}
record_lines dmabuf_reg note_absent "$bin/dmabuf_reg"
# UC, UD, SRQ, memory windows and ATOMIC_WRITE on dma-buf MRs.
record_lines dmabuf_ops "" "$bin/dmabuf_ops"
# Rereg to every access on pinned, ODP and dma-buf MRs, then every opcode.
record_lines rereg_ops "" "$bin/rereg_ops"

# xfer_case NAME MEM COND... -- ARGS...: one record; skipped when MEM is
# absent here. Test exporter memory must show no pin. (A first map is not
# a refault: rxe counts dmabuf_refaults only for maps after a move.)
xfer_case() {
	local name=$1 mem=$2
	shift 2
	if [ -n "${absent[$mem]}" ]; then
		skip "$name" "${absent[$mem]}"
		return
	fi
	[[ $mem == dte* ]] && set -- "pins==0" "$@"
	run_case "$name" xfer_expect "$@" --mem "$mem"
}

iters_of 200
for mem in $mems; do
	for op in write write_imm read send; do
		xfer_case "xfer-$mem-$op" "$mem" -- --op "$op" --size 64K \
			--iters "$iters" --depth 8
	done
done

# Buffers moved or evicted while traffic runs: rxe invalidates and
# refaults mid-transfer, and still every byte arrives. Every refault of an
# evicted buffer copies all of it back, so 1 MiB messages get fewer slots:
# with 8 MiB to restore every 5 ms a slow (TCG) guest barely progresses.
# For the same reason QEMU's debug kernel evicts less often: since the
# exporter checksums every evicted copy and checks it on restore, an
# eviction and restore of a 4 MiB buffer takes about 90 ms there, and
# evictions every 20 ms left 8 messages of 1 MiB unfinished after 2 minutes
# (every refault was undone before its packet was through); every 80 ms
# they took 5 s (measured). Debian's kernel under TCG is no debug kernel:
# its whole 1 MiB case takes 70 ms, over before a 100 ms period ends.
# The UML debug kernel on the 7.3 base runs transfers about four times
# slower than 6.12's: at 5 ms, evict-read-1M took 540 s there, against
# 7 s on 6.12 (measured), so it evicts every 100 ms as well.
period_of 5000
evict_us=$period
[ "$RDG_BACKEND" = qemu ] && [ "$RDG_FLAVOR" = debug ] && evict_us=100000
[ "${RDG_BASE:-6.12}" = 7.3 ] && [ "$RDG_FLAVOR" = debug ] && evict_us=100000
for op in write read send; do
	for run in 1M:30:4 64K:300:8; do
		IFS=: read -r size iters depth <<<"$run"
		iters_of "$iters"
		xfer_case "move-$op-$size" dte "moves>0" "invalidations>0" -- \
			--op "$op" --size "$size" --iters "$iters" \
			--depth "$depth" --move-every-us 2000
		xfer_case "evict-$op-$size" dte "evictions>0" "invalidations>0" -- \
			--op "$op" --size "$size" --iters "$iters" \
			--depth "$depth" --evict-every-us "$evict_us"
	done
done

iters_of 200
for mem in $mems; do
	xfer_case "close-fd-$mem" "$mem" -- --op write --size 64K --iters "$iters" \
		--depth 8 --close-fd
done
iters_of 300
xfer_case close-fd-dte-move dte "moves>0" -- --op send --size 64K \
	--iters "$iters" --depth 8 --close-fd --move-every-us 2000

iters_of 200
for mem in $mems; do
	for off in 4096 100; do
		xfer_case "offset-$off-$mem-write" "$mem" -- --op write \
			--size 64K --iters "$iters" --depth 8 --dmabuf-offset "$off"
		xfer_case "offset-$off-$mem-read" "$mem" -- --op read \
			--size 64K --iters "$iters" --depth 8 --dmabuf-offset "$off"
	done
done
iters_of 300
xfer_case offset-100-dte-move dte "moves>0" -- --op write --size 64K \
	--iters "$iters" --depth 8 --dmabuf-offset 100 --move-every-us 2000

expect_status usage-close-fd-host 2 'close-fd.*dma-buf' "$xfer" --close-fd
expect_status usage-offset-host 2 'dmabuf-offset.*dma-buf' "$xfer" \
	--dmabuf-offset 4096
expect_status usage-move-heap 2 'move-every-us.*test exporter' "$xfer" \
	--mem heap --move-every-us 1000
expect_status usage-bad-mem 2 "unknown --mem 'vram'" "$xfer" --mem vram
expect_status usage-churn-in-flight-no-churn 2 \
	'churn-in-flight needs --move-every-us or --evict-every-us' "$xfer" \
	--mem dte --churn-in-flight
expect_status usage-churn-in-flight-server 2 \
	'churn-in-flight needs loopback or --client' "$xfer" --mem dte \
	--move-every-us 1000 --churn-in-flight --server
expect_status usage-ops-unknown-case 2 "unknown case 'uc-write-vram'" \
	"$bin/dmabuf_ops" uc-write-dte uc-write-vram
expect_status usage-ops-bad-option 2 "bad option '--frobnicate'" \
	"$bin/dmabuf_ops" --frobnicate
expect_status usage-ops-bad-gid-index 2 "bad --gid-index 'x1'" \
	"$bin/dmabuf_ops" --gid-index x1
expect_status usage-reg-unknown-case 2 "unknown case 'reg-vram'" \
	"$bin/dmabuf_reg" reg-vram
expect_status usage-rereg-unknown-case 2 "unknown case 'rereg-vram'" \
	"$bin/rereg_ops" rereg-vram

# trace_check: rxe's dma-buf tracepoints during a short run whose test
# exporter buffers move. The trace must hold invalidate and refault
# records of the run's MRs: at most two keys (loopback: the two data
# buffers), every invalidated key also refaulted, each record's length=
# the registered length (size x depth), every refault without error and
# taking time, and some invalidation taking time. The events are off and
# the buffer empty afterwards, whatever the outcome.
trace_check() {
	local t=/sys/kernel/tracing mounted=0 rc=0 out ev iters
	local size=65536 depth=8 log=${CASE_LOG_DIR:-/tmp}/${SUITE//\//_}_trace.txt
	if [ ! -e $t/trace ]; then
		mount -t tracefs nodev $t || { echo "cannot mount tracefs on $t"; return 1; }
		mounted=1
	fi
	for ev in rxe_dmabuf_invalidate rxe_dmabuf_refault; do
		if [ ! -e $t/events/rxe/$ev/enable ]; then
			echo "no event rxe:$ev in $t/events"
			[ "$mounted" = 0 ] || umount $t
			return 1
		fi
	done
	iters_of 100
	: >$t/trace
	echo 1 >$t/events/rxe/rxe_dmabuf_invalidate/enable
	echo 1 >$t/events/rxe/rxe_dmabuf_refault/enable
	xfer_expect "moves>0" "invalidations>0" "refaults>0" -- --mem dte \
		--op write --size "$size" --depth "$depth" \
		--iters "$iters" --move-every-us 2000 || rc=1
	echo 0 >$t/events/rxe/rxe_dmabuf_invalidate/enable
	echo 0 >$t/events/rxe/rxe_dmabuf_refault/enable
	grep -E 'rxe_dmabuf_(invalidate|refault):' $t/trace >"$log"
	: >$t/trace
	[ "$mounted" = 0 ] || umount $t
	[ "$rc" = 0 ] || return 1
	awk -v len=$((size * depth)) '
		match($0, /rxe_dmabuf_(invalidate|refault):/) {
			ev = substr($0, RSTART + 11, RLENGTH - 12)
			for (i = 1; i <= NF; i++) {
				split($i, kv, "=")
				f[kv[1]] = kv[2]
			}
			n[ev]++
			keys[ev, f["lkey"]] = 1
			allkeys[f["lkey"]] = 1
			if (f["length"] != len) {
				print ev " record with length=" f["length"] ", want " len ": " $0
				bad = 1
			}
			if (ev == "refault" && (f["err"] != 0 || f["duration_ns"] <= 0)) {
				print "refault with an error or no duration: " $0
				bad = 1
			}
			if (ev == "invalidate" && f["duration_ns"] > maxinv)
				maxinv = f["duration_ns"]
			if (ev == "refault" && f["duration_ns"] > maxref)
				maxref = f["duration_ns"]
		}
		END {
			nk = 0
			for (k in allkeys) {
				nk++
				if (((("invalidate", k) in keys)) && !((("refault", k) in keys))) {
					print "key " k " invalidated but never refaulted"
					bad = 1
				}
			}
			printf "trace: %d invalidate and %d refault records, %d keys, max duration_ns %d (invalidate) %d (refault)\n", \
				n["invalidate"], n["refault"], nk, maxinv, maxref
			if (!n["invalidate"] || !n["refault"] || nk > 2 || !maxinv)
				bad = 1
			exit bad
		}' "$log"
}
run_case trace-invalidate-refault trace_check

unload_exporter
