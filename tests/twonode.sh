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
#    count no pin, and both must unload afterwards;
#  - twonode-mpi/mpi-check{,-odp}: Open MPI over UCX between the nodes, one
#    rank each, with tests/clients/mpi_check verifying every byte from 1 B
#    to 1 MiB both ways and of put/get on a window, with UCX's pinned and
#    then its implicit ODP registration; both nodes' rxe0 counters must
#    show the data arrived over rxe, with ODP faults on each node for ODP
#    only (mpi-check-odp-exit: UCX 1.13's teardown crash, see
#    tests/lib/mpi.sh).
# usage: twonode.sh RESULTS_DIR
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
. "$top/tests/lib/result.sh"
. "$top/tests/lib/twonode.sh"
. "$top/tests/lib/mpi.sh"

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
else
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
fi

SUITE=twonode-mpi
mtu=4096
mpi=$dir/server

# rise RUN NODE COUNTER: how much NODE's rxe0 COUNTER rose over MPI run
# RUN, empty if either reading is missing.
rise() {
	local before after
	before=$(awk -v c="$3" '$1 == c { print $2 }' "$mpi/mpi-$1.$2-before" 2>/dev/null)
	after=$(awk -v c="$3" '$1 == c { print $2 }' "$mpi/mpi-$1.$2-after" 2>/dev/null)
	[ -n "$before" ] && [ -n "$after" ] && echo $((after - before))
}

# mpi_crossed RUN FAULTS: MPI run RUN verified every byte it moved, one
# rank ran on the client node (its Open MPI daemon came through the
# remote shell), at least that volume's packets arrived over the two
# nodes' rxe0 and each node received some, and each node's ODP page
# faults rose as FAULTS says (==0 or >0).
mpi_crossed() {
	local run=$1 s c
	mpi_check_verified "$mpi/mpi-$run.log" "$mtu" || return 1
	grep -q orted "$dir/client/rsh.log" 2>/dev/null ||
		{ echo "no Open MPI daemon started on the client node"; return 1; }
	s=$(rise "$run" server rcvd_pkts) c=$(rise "$run" client rcvd_pkts)
	[ -n "$s" ] && [ -n "$c" ] || { echo "a node's counters are missing"; return 1; }
	((s > 0 && c > 0 && s + c >= mpi_packets)) ||
		{ echo "rcvd_pkts rose by $s (server) and $c (client) for $mpi_packets packets' worth"; return 1; }
	s=$(rise "$run" server odp_page_faults) c=$(rise "$run" client odp_page_faults)
	case $2 in
	'==0') ((s == 0 && c == 0)) ;;
	'>0') ((s > 0 && c > 0)) ;;
	esac || { echo "odp_page_faults rose by $s (server) and $c (client), want $2 on each"; return 1; }
}

# mpi_case NAME RUN FAULTS: the verdict on run RUN (see mpi_crossed); a
# run whose only fault is the UCX teardown crash after all data moved
# passes NAME and SKIPs NAME-exit; any other failing exit fails NAME.
mpi_case() {
	local name=$1 run=$2 rc why
	rc=$(cat "$mpi/mpi-$run.rc" 2>/dev/null)
	if ! why=$(mpi_crossed "$run" "$3"); then
		fail "$name" "$why (mpirun exited ${rc:-nothing}; see $mpi/mpi-$run.log)"
	elif [ "$rc" = 0 ]; then
		pass "$name"
		[ "$run" = pinned ] || pass "$name-exit"
	elif [ "$run" != pinned ] && ucx_known_crash "$rc" "$mpi/mpi-$run.log"; then
		pass "$name"
		skip "$name-exit" "mpirun exited $rc: $ucx_odp_crash"
	else
		fail "$name" "mpirun exited $rc (see $mpi/mpi-$run.log)"
	fi
}
mpi_case mpi-check pinned '==0'
mpi_case mpi-check-odp odp '>0'
