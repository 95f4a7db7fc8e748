#!/bin/bash
# Two QEMU guests joined by -netdev stream on 127.0.0.1, one rxe each, in
# one boot of the pair (tests/guest/twonode-job.sh runs on each node):
#  - twonode/rdma-write-verified: an RDMA WRITE from one node to the
#    other, every byte verified by both;
#  - twonode-storm/storm-dte-write: a migration storm over the same link,
#    for STRESS_SECONDS (default 4): two QP pairs of RDMA WRITEs from test
#    exporter dma-bufs on one node to test exporter dma-bufs on the other,
#    while each node's exporter moves and evicts its own buffers back to
#    back. Every byte is verified by the receiving node, every work
#    request on both nodes must complete exactly once, the exporters must
#    count no pin, and both must unload afterwards.
# usage: twonode.sh RESULTS_DIR
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
. "$top/tests/lib/result.sh"
. "$top/tests/lib/twonode.sh"

[ $# = 1 ] || { echo "usage: $0 RESULTS_DIR" >&2; exit 2; }
dir=$1
seconds=${STRESS_SECONDS:-4}
if ! [[ $seconds =~ ^[1-9][0-9]{0,4}$ ]] || [ "$seconds" -gt 86400 ]; then
	echo "twonode: STRESS_SECONDS='$seconds' must be a whole number of seconds, 1..86400" >&2
	exit 2
fi
job=$top/tests/guest/twonode-job.sh

# TCG boots each guest in a minute or two; the storm comes on top.
twonode_run "$dir" $((900 + seconds)) bash "$job" server "$seconds" -- \
	bash "$job" client 10.20.0.1 "$seconds"
guests="server exit $twonode_server_rc, client exit $twonode_client_rc"

# summary NODE RUN: rdma_xfer's summary line of RUN on NODE, empty if none.
summary() {
	grep -h '^rdma_xfer: op=' "$dir/$1/$2.log" 2>/dev/null
}

# ran_ok RUN: RUN's rdma_xfer exited 0 on both nodes.
ran_ok() {
	[ "$(cat "$dir/server/$1.rc" 2>/dev/null)" = 0 ] &&
		[ "$(cat "$dir/client/$1.rc" 2>/dev/null)" = 0 ]
}

# field NAME LINE: NAME's value in rdma_xfer's summary LINE, empty if none.
field() {
	local word
	for word in $2; do
		[ "${word%%=*}" = "$1" ] && { echo "${word#*=}"; return; }
	done
}

SUITE=twonode
bytes=$((65536 * 200))
if ran_ok transfer &&
   [ "$(field verified "$(summary server transfer)")" = "$bytes" ] &&
   [ "$(field verified "$(summary client transfer)")" = "$bytes" ]; then
	pass rdma-write-verified
else
	fail rdma-write-verified "$guests (see $dir/*/transfer.log)"
fi

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

SUITE=twonode-storm
server=$(summary server storm)
client=$(summary client storm)
why=
if [ "$twonode_server_rc" != 0 ] || [ "$twonode_client_rc" != 0 ] ||
   ! ran_ok storm; then
	why="$guests, storm exit $(cat "$dir/server/storm.rc" 2>/dev/null)/$(cat "$dir/client/storm.rc" 2>/dev/null)"
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
	fail storm-dte-write "$why (see $dir/*/storm.log)"
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
