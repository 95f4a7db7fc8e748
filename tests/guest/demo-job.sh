#!/bin/bash
# The demo's guest side; its output is what make demo prints.
set -uo pipefail
size=65536
echo "rxe over veth in a User-Mode Linux guest, kernel $(uname -r)"
echo
ib_write_bw -d rxe0 -x 1 -s "$size" -n 5000 -F > /tmp/server.log 2>&1 &
sleep 1
if ! out=$(timeout 300 ib_write_bw -d rxe0 -x 1 -s "$size" -n 5000 -F "$RDG_SERVER_IP" 2>&1); then
	echo "$out"
	echo "demo: ib_write_bw failed" >&2
	exit 1
fi
wait
bw=$(awk -v s="$size" '$1 == s && NF >= 5 { print $4 }' <<< "$out")
echo "perftest ib_write_bw, $size-byte RDMA WRITEs x 5000:  ${bw:-?} MB/s (average)"

out=$("$RDG_TOP/build/tests/verbs/rdma_xfer" --op write --size "$size" --iters 5000 --depth 16 2>&1)
rc=$?
echo "rdma_xfer, same transfer, every byte checked:          $out"
[ "$rc" -eq 0 ] || { echo "demo: data verification FAILED" >&2; exit 1; }
awk -v bw="$bw" 'BEGIN { exit !(bw + 0 > 0) }' || {
	echo "demo: perftest reported no bandwidth" >&2; exit 1; }
