#!/bin/bash
# Migration storm between two QEMU guests over a real link: two QP pairs
# of RDMA WRITEs from test exporter dma-bufs on one node to test exporter
# dma-bufs on the other for STRESS_SECONDS (default 4), while each node's
# exporter moves and evicts its own buffers back to back. Every byte is
# verified by the receiving node, every work request on both nodes must
# complete exactly once, the exporters must count no pin, and both must
# unload afterwards (no attachment outlived its MR).
# usage: twonode-storm.sh RESULTS_DIR
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
SUITE=twonode-storm
. "$top/tests/lib/result.sh"
. "$top/tests/lib/twonode.sh"

[ $# = 1 ] || { echo "usage: $0 RESULTS_DIR" >&2; exit 2; }
dir=$1
seconds=${STRESS_SECONDS:-4}
if ! [[ $seconds =~ ^[1-9][0-9]{0,4}$ ]] || [ "$seconds" -gt 86400 ]; then
	echo "twonode-storm: STRESS_SECONDS='$seconds' must be a whole number of seconds, 1..86400" >&2
	exit 2
fi
xfer=$build/tests/verbs/rdma_xfer

# In each guest: load the exporter, run rdma_xfer, then unload the
# exporter (buffers go through delayed fput: a few tries).
job='modprobe dmabuf_test_exporter || exit 1
"$@"
rc=$?
for _ in 1 2 3 4 5; do
	modprobe -r dmabuf_test_exporter && exit $rc
	sleep 1
done
echo "twonode-storm: dmabuf_test_exporter stays loaded" >&2
exit 3'
churn=(--mem dte --move-every-us 0 --evict-every-us 0 --gid-index 1 -q)

# TCG boots each guest in a minute or two; the storm comes on top.
twonode_run "$dir" $((900 + seconds)) \
	bash -c "$job" storm-server "$xfer" --server "${churn[@]}" -- \
	bash -c "$job" storm-client "$xfer" --client 10.20.0.1 --op write \
	--size 64K --depth 8 --qps 2 --seconds "$seconds" "${churn[@]}"

# field NAME LINE: NAME's value in rdma_xfer's summary LINE, empty if none.
field() {
	local word
	for word in $2; do
		[ "${word%%=*}" = "$1" ] && { echo "${word#*=}"; return; }
	done
}

# node_ok SIDE: SIDE's summary shows a storm survived: its buffers moved
# and evicted, rxe invalidated, nothing lost, duplicated or pinned.
node_ok() {
	local line=$1 k
	for k in moves evictions invalidations; do
		[[ $(field "$k" "$line") =~ ^[1-9][0-9]*$ ]] || {
			echo "$k=$(field "$k" "$line")"
			return 1
		}
	done
	for k in lost duplicated pins; do
		[ "$(field "$k" "$line")" = 0 ] || {
			echo "$k=$(field "$k" "$line")"
			return 1
		}
	done
}

server=$(grep -h '^rdma_xfer: op=' "$dir/server/output.log" 2>/dev/null)
client=$(grep -h '^rdma_xfer: op=' "$dir/client/output.log" 2>/dev/null)
why=
if [ "$twonode_server_rc" != 0 ] || [ "$twonode_client_rc" != 0 ]; then
	why="server exit $twonode_server_rc, client exit $twonode_client_rc"
elif [ -z "$server" ] || [ -z "$client" ]; then
	why="a summary line is missing"
elif ! bad=$(node_ok "$server"); then
	why="server: $bad"
elif ! bad=$(node_ok "$client"); then
	why="client: $bad"
else
	# The server verified what arrived; the client heard it and agrees.
	sent=$(field bytes "$client")
	if [ "$(field verified "$server")" != "$sent" ] ||
	   [ "$(field verified "$client")" != "$sent" ] || [ "$sent" = 0 ]; then
		why="client sent $sent bytes, server verified $(field verified "$server")"
	fi
fi
if [ -n "$why" ]; then
	fail storm-dte-write "$why (see $dir)"
	exit 0
fi
pass storm-dte-write
awk -v b="$(field bytes "$client")" -v s="$(field seconds "$client")" \
	-v m="$(( $(field moves "$server") + $(field moves "$client") ))" \
	-v e="$(( $(field evictions "$server") + $(field evictions "$client") ))" \
	-v r="$(( $(field restores "$server") + $(field restores "$client") ))" \
	-v i="$(( $(field invalidations "$server") + $(field invalidations "$client") ))" \
	-v f="$(( $(field refaults "$server") + $(field refaults "$client") ))" \
	'BEGIN {
	printf "# storm: GiB=%.3f moves=%d evictions=%d restores=%d invalidations=%d refaults=%d seconds=%.1f\n",
		b / 2^30, m, e, r, i, f, s
}' | tee "$dir/figures.txt"
