#!/bin/bash
# Smoke: the guest has the CPUs it was given, rxe0 is up, and perftest's
# WRITE, READ and SEND bandwidth tests complete over it with a non-zero
# bandwidth (server and client on rxe0), with pinned and with on-demand
# paging MRs, and rping connects through the RDMA connection manager.
SUITE=smoke/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/xfer.sh"
. "$RDG_TOP/tests/lib/perftest.sh"

# The guest runs on the CPUs it was given: a QEMU guest that silently
# came up on one CPU would turn every concurrency test into a serial one.
cpus=$(getconf _NPROCESSORS_ONLN)
if [ "$cpus" = "$RDG_CPUS" ]; then
	pass cpus-online
else
	fail cpus-online "$cpus CPUs online, the guest was given $RDG_CPUS"
fi

if rdma link show rxe0/1 2>/dev/null | grep -q 'state ACTIVE'; then
	pass rxe0-active
else
	fail rxe0-active "$(rdma link show 2>&1)"
fi

# check_bw TOOL [ARGS...]: the client's bandwidth line reports a positive
# average. 500 iterations of 64 KiB, a quarter of them on QEMU.
iters_of 500
check_bw() {
	local tool=$1 out
	shift
	out=$(perftest_pair "$tool" -s 65536 -n "$iters" -F "$@" 2>&1) || {
		echo "$out"; return 1; }
	echo "$out"
	# Data row: bytes iterations BW_peak BW_average MsgRate
	echo "$out" | sed '/^--- server/q' | awk '$1 == 65536 && NF >= 5 {
		if ($4 + 0 > 0) ok = 1 } END { exit !ok }'
}

for tool in ib_write_bw ib_read_bw ib_send_bw; do
	run_case "$tool" check_bw "$tool"
	# On-demand paging MRs: perftest refuses --odp unless rxe reports it.
	run_case "$tool-odp" check_bw "$tool" --odp
done

# The RDMA connection manager (/dev/infiniband/rdma_cm), through which
# librdmacm's users connect (libfabric's verbs provider, rping, ...):
# rping's client sets up a connection with it, the server RDMA READs the
# client's buffer and WRITEs it back, and -V compares every byte.
rdma_cm_ping() {
	local srv rc i
	rping -s -a "$RDG_SERVER_IP" -C 5 -S 4096 >/tmp/rping.server.log 2>&1 &
	srv=$!
	for ((i = 0; i < 100; i++)); do
		rdma resource show cm_id 2>/dev/null | grep -q LISTEN && break
		sleep 0.1
	done
	timeout 60 rping -c -a "$RDG_SERVER_IP" -C 5 -S 4096 -V
	rc=$?
	wait "$srv" || rc=1
	echo "--- server"
	cat /tmp/rping.server.log
	return "$rc"
}
run_case rdma-cm-rping rdma_cm_ping
