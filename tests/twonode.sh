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
mkdir -p "$dir"
xfer=$build/tests/verbs/rdma_xfer
port=$((20000 + $$ % 20000))
args=(--op write --size 65536 --iters 200 --depth 8 --gid-index 1)

"$top/kernel/run-guest.sh" --backend qemu --smp 1 --quiet --timeout 900 \
	--results "$dir/server" --node-addr 10.20.0.1/24 --listen "$port" -- \
	"$xfer" --server "${args[@]}" > "$dir/server.out" 2>&1 &
server=$!
# QEMU listens as soon as it starts; give it that moment. The client job
# then waits until the server guest answers ping, after which its rdma_xfer
# is seconds away, well within rdma_xfer's own connect retry.
for _ in $(seq 50); do
	ss -ltn "sport = :$port" | grep -q LISTEN && break
	sleep 0.2
done
"$top/kernel/run-guest.sh" --backend qemu --smp 1 --quiet --timeout 900 \
	--results "$dir/client" --node-addr 10.20.0.2/24 --connect "$port" -- \
	bash -c 'for _ in $(seq 300); do ping -c1 -W1 10.20.0.1 >/dev/null && break; done
		exec "$0" --client 10.20.0.1 "$@"' "$xfer" "${args[@]}" \
	> "$dir/client.out" 2>&1
client_rc=$?
wait "$server"
server_rc=$?

bytes=$((65536 * 200))
if [ "$client_rc" -eq 0 ] && [ "$server_rc" -eq 0 ] &&
   grep -q " verified=$bytes " "$dir/server/output.log" "$dir/client/output.log"; then
	pass rdma-write-verified
else
	fail rdma-write-verified "server exit $server_rc, client exit $client_rc (see $dir)"
fi
