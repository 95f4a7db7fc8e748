#!/bin/bash
# The demo's guest side; its output is what make demo prints.
#
# The same verified transfer three times: from ordinary (pinned) memory,
# from a dma-buf of the project's test exporter, and from that dma-buf
# while the exporter moves it to new pages every few milliseconds.
set -uo pipefail
size=65536 iters=${DEMO_ITERS:-3000} move_us=${DEMO_MOVE_US:-5000}
xfer=$RDG_TOP/build/tests/verbs/rdma_xfer

# field NAME LINE: the value of NAME=value in rdma_xfer's summary line
field() { sed -n "s|.* $1=\([^ ]*\).*|\1|p" <<< "$2"; }

# run LABEL ARGS...: one verified transfer; prints one line, keeps totals
pinned_mbs= total_bytes=0
run() {
	local label=$1 out mbs ratio extra=
	shift
	if ! out=$("$xfer" --quiet --op write --mtu 4096 --size "$size" \
		--iters "$iters" --depth 16 "$@" 2>&1); then
		echo "$out"
		echo "demo: $label: transfer FAILED" >&2
		exit 1
	fi
	if [ "$(field verified "$out")" != "$((size * iters))" ]; then
		echo "$out"
		echo "demo: $label: not every byte was verified" >&2
		exit 1
	fi
	total_bytes=$((total_bytes + $(field verified "$out")))
	mbs=$(field MB/s "$out")
	[ -n "$pinned_mbs" ] || pinned_mbs=$mbs
	ratio=$(awk -v a="$mbs" -v b="$pinned_mbs" 'BEGIN { printf "%.2f", a / b }')
	if [ -n "$(field moves "$out")" ] && [ "$(field moves "$out")" != 0 ]; then
		extra=$(printf '%s moves, %s invalidations, %s refaults' \
			"$(field moves "$out")" "$(field invalidations "$out")" \
			"$(field refaults "$out")")
	fi
	printf '  %-34s %8s MB/s  %s x pinned  %s\n' "$label" "$mbs" "$ratio" "$extra"
}

modprobe dmabuf_test_exporter || { echo "demo: cannot load the test exporter" >&2; exit 1; }
echo "rxe0 on a veth pair in a User-Mode Linux guest, kernel $(uname -r) ($RDG_FLAVOR)"
echo "$iters x $size-byte RDMA WRITEs per line, every byte verified:"
echo
run "pinned MR (ordinary memory)" --mem host
run "dma-buf MR (test exporter)" --mem dte
run "dma-buf MR, moved every $((move_us / 1000)) ms" --mem dte --move-every-us "$move_us"

# perftest's figure for the same pinned transfer, for reference
ib_write_bw -d rxe0 -x 1 -s "$size" -n "$iters" -F > /tmp/server.log 2>&1 &
sleep 1
if out=$(timeout 300 ib_write_bw -d rxe0 -x 1 -s "$size" -n "$iters" -F "$RDG_SERVER_IP" 2>&1); then
	printf '  %-34s %8s MB/s\n' "perftest ib_write_bw, pinned" \
		"$(awk -v s="$size" '$1 == s && NF >= 5 { print $4 }' <<< "$out")"
else
	echo "$out"
	echo "demo: ib_write_bw failed" >&2
	exit 1
fi
wait
echo
echo "bytes verified: $total_bytes"
