#!/bin/bash
# Two QEMU guests joined by -netdev stream on 127.0.0.1, one rxe each: an
# RDMA WRITE from one node to the other, every byte verified.
# usage: twonode.sh RESULTS_DIR
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
dir=$1
SUITE=twonode
. "$top/tests/lib/result.sh"
. "$top/tests/lib/twonode.sh"
xfer=$build/tests/verbs/rdma_xfer
args=(--op write --size 65536 --iters 200 --depth 8 --gid-index 1)

twonode_run "$dir" 900 "$xfer" --server "${args[@]}" -- \
	"$xfer" --client 10.20.0.1 "${args[@]}"

bytes=$((65536 * 200))
# Both summaries: grep with two files succeeds when either matches.
if [ "$twonode_client_rc" -eq 0 ] && [ "$twonode_server_rc" -eq 0 ] &&
   grep -q " verified=$bytes " "$dir/server/output.log" &&
   grep -q " verified=$bytes " "$dir/client/output.log"; then
	pass rdma-write-verified
else
	fail rdma-write-verified "server exit $twonode_server_rc, client exit $twonode_client_rc (see $dir)"
fi
