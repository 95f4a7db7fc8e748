#!/bin/bash
# One node of the two-node tests (tests/twonode.sh), in a QEMU guest: an
# RDMA WRITE of host memory, then a migration storm between test exporter
# dma-bufs that their exporters move every 2 ms and evict every 20 ms. Each run's
# output and exit status go to $RDG_RESULTS/{transfer,storm}.{log,rc};
# the job fails if the exporter does not unload afterwards (an attachment
# outlived its MR).
# Then Open MPI between the nodes, one rank each: mpirun on the server
# starts the client's rank through a remote shell the client listens with
# (twonode-rsh-{agent,shell}.sh; the guests have no ssh), once with UCX's
# pinned registration and once with its implicit ODP MR. The server keeps
# each run's output and status as mpi-RUN.{log,rc} and both nodes' rxe0
# counters before and after it as mpi-RUN.{server,client}-{before,after}.
# usage: twonode-job.sh server SECONDS
#        twonode-job.sh client SERVER_ADDRESS SECONDS
#        twonode-job.sh counters     (rxe0's counters, "NAME VALUE" lines)
. "$RDG_TOP/tests/lib/xfer.sh"
xfer=$RDG_TOP/build/tests/verbs/rdma_xfer
client_ip=10.20.0.2
export TWONODE_RSH_PORT=7070

# counters: rxe0's counters, one "NAME VALUE" line each.
counters() {
	local f v
	for f in /sys/class/infiniband/rxe0/ports/1/hw_counters/*; do
		read -r v < "$f" && echo "${f##*/} $v"
	done
}

case "$1" in
server) peer=(--server) seconds=$2 ;;
client) peer=(--client "$2") seconds=$3 ;;
counters) counters; exit ;;
*) echo "usage: $0 server SECONDS | client SERVER_ADDRESS SECONDS | counters" >&2; exit 2 ;;
esac
role=$1

# run NAME ARGS...: rdma_xfer ARGS, its output and status kept as NAME.
run() {
	local name=$1
	shift
	"$xfer" "$@" > "$RDG_RESULTS/$name.log" 2>&1
	echo $? > "$RDG_RESULTS/$name.rc"
}

modprobe dmabuf_test_exporter || exit 1
# A server takes the run's parameters from its client; the churn options
# are each side's own. Not back to back: since the exporter checksums
# every evicted copy and checks it on restore, back-to-back evictions on
# both sides under TCG once left a run without a completion for 30 s
# (each packet paid a whole restore), which rdma_xfer takes for a hang.
run transfer "${peer[@]}" --op write --size 64K --iters 200 --depth 8 \
	--gid-index 1
run storm "${peer[@]}" --op write --size 64K --depth 8 --qps 2 \
	--seconds "$seconds" --mem dte --move-every-us 2000 --evict-every-us 20000 \
	--gid-index 1 -q

exporter_unloads || {
	echo "twonode: dmabuf_test_exporter stays loaded" >&2
	exit 3
}

agent=$RDG_TOP/tests/guest/twonode-rsh-agent.sh
# Distinct names: Open MPI must not take the two nodes for one.
hostname "$role"
if [ "$role" = client ]; then
	busybox nc -ll -p "$TWONODE_RSH_PORT" \
		-e bash "$RDG_TOP/tests/guest/twonode-rsh-shell.sh" &
	listener=$!
	# The server ends the MPI runs by creating this file here.
	for _ in $(seq 900); do
		[ -e /tmp/twonode-mpi-done ] && break
		sleep 1
	done
	kill "$listener"
	exit 0
fi

# on_client COMMAND...: COMMAND run on the client node.
on_client() {
	"$agent" "$client_ip" "$@"
}

for _ in $(seq 120); do
	on_client true 2>/dev/null && break
	sleep 1
done
# UCX as in the clients suite (tests/guest/clients.sh): rc_verbs on rxe0
# only, and nothing but self beside it in Open MPI. Messages up to 1 MiB,
# not mpi_check's 16 MiB: two debug guests under TCG took 7 minutes a run
# for 16 MiB's 100 MB; 1 MiB still takes UCX's rendezvous path.
for run in pinned odp; do
	odp=()
	[ "$run" = odp ] && odp=(-x UCX_IB_REG_METHODS=odp)
	counters > "$RDG_RESULTS/mpi-$run.server-before"
	on_client bash "$0" counters > "$RDG_RESULTS/mpi-$run.client-before"
	timeout 600 mpirun -np 2 --host "10.20.0.1:1,$client_ip:1" --map-by node \
		--allow-run-as-root --mca plm_rsh_agent "$agent" \
		--mca plm_rsh_no_tree_spawn 1 --mca oob_tcp_if_include 10.20.0.0/24 \
		--mca pml ucx --mca pml_ucx_devices any --mca osc ucx --mca btl self \
		-x UCX_NET_DEVICES=rxe0:1 -x UCX_TLS=rc_v,self \
		-x UCX_UD_ETH_DGID_CHECK=n "${odp[@]}" \
		"$RDG_TOP/build/tests/clients/mpi_check" --max-size 1048576 > "$RDG_RESULTS/mpi-$run.log" 2>&1
	echo $? > "$RDG_RESULTS/mpi-$run.rc"
	counters > "$RDG_RESULTS/mpi-$run.server-after"
	on_client bash "$0" counters > "$RDG_RESULTS/mpi-$run.client-after"
done
on_client touch /tmp/twonode-mpi-done
exit 0
