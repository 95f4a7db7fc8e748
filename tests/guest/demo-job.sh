#!/bin/bash
# The demo's guest side; its output is what make demo prints.
set -uo pipefail
size=65536 iters=5000
echo "rxe0 on a veth pair in a User-Mode Linux guest, kernel $(uname -r) ($RDG_FLAVOR)"
echo

ib_write_bw -d rxe0 -x 1 -s "$size" -n "$iters" -F > /tmp/server.log 2>&1 &
sleep 1
if ! out=$(timeout 300 ib_write_bw -d rxe0 -x 1 -s "$size" -n "$iters" -F "$RDG_SERVER_IP" 2>&1); then
	echo "$out"
	echo "demo: ib_write_bw failed" >&2
	exit 1
fi
wait
bw=$(awk -v s="$size" '$1 == s && NF >= 5 { print $4 }' <<< "$out")
printf '%-12s %d x %d-byte RDMA WRITE: %8s MB/s\n' ib_write_bw "$iters" "$size" "${bw:-?}"

if ! out=$("$RDG_TOP/build/tests/verbs/rdma_xfer" --quiet --op write --mtu 4096 \
	--size "$size" --iters "$iters" --depth 16 2>&1); then
	echo "$out"
	echo "demo: rdma_xfer FAILED (data not verified)" >&2
	exit 1
fi
xbw=$(sed -n 's/.* MB\/s=\([0-9.]*\).*/\1/p' <<< "$out")
bytes=$(sed -n 's/.* bytes=\([0-9]*\) .*/\1/p' <<< "$out")
verified=$(sed -n 's/.* verified=\([0-9]*\) .*/\1/p' <<< "$out")
printf '%-12s %d x %d-byte RDMA WRITE: %8s MB/s, %s of %s bytes verified\n' \
	rdma_xfer "$iters" "$size" "$xbw" "$verified" "$bytes"
awk -v bw="$bw" 'BEGIN { exit !(bw + 0 > 0) }' || {
	echo "demo: perftest reported no bandwidth" >&2; exit 1; }
[ "$verified" = "$bytes" ] && [ "$bytes" = $((size * iters)) ] || {
	echo "demo: not every byte was verified" >&2; exit 1; }
