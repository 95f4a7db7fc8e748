#!/bin/bash
# One node of the two-node tests (tests/twonode.sh), in a QEMU guest: an
# RDMA WRITE of host memory, then a migration storm between test exporter
# dma-bufs that their exporters move every 2 ms and evict every 20 ms. Each run's
# output and exit status go to $RDG_RESULTS/{transfer,storm}.{log,rc};
# the job fails if the exporter does not unload afterwards (an attachment
# outlived its MR).
# usage: twonode-job.sh server SECONDS
#        twonode-job.sh client SERVER_ADDRESS SECONDS
. "$RDG_TOP/tests/lib/xfer.sh"
xfer=$RDG_TOP/build/tests/verbs/rdma_xfer
case "$1" in
server) peer=(--server) seconds=$2 ;;
client) peer=(--client "$2") seconds=$3 ;;
*) echo "usage: $0 server SECONDS | client SERVER_ADDRESS SECONDS" >&2; exit 2 ;;
esac

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

exporter_unloads && exit 0
echo "twonode: dmabuf_test_exporter stays loaded" >&2
exit 3
