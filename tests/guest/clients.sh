#!/bin/bash
# Clients we did not write, unmodified, over rxe0: what the people who
# write transports run. Each run must complete, its data must be checked
# (by the client itself where it can, by a program of ours where it
# cannot), and rxe's counters must show that the path under test was
# taken: packets for the data moved, ODP page faults for an ODP run.
#
#   - rdma-core's ibv_rc_pingpong (the project's rdma-core build): pinned,
#     explicit ODP (-o), implicit ODP (-O), each ODP kind with prefetch (-P);
#   - UCX (Debian 12's ucx-utils, 1.13.1): ucx_info sees rxe0, ucx_perftest
#     moves tagged messages, PUTs and GETs over rc_verbs, with pinned and
#     with ODP registration;
#   - Open MPI (Debian 12's, 4.1, over its UCX): a program of ours checks
#     every byte of send/recv from 1 B to 16 MiB and of put/get on a
#     window, with pinned and with ODP registration; NetPIPE's NPopenmpi
#     (Debian's netpipe-openmpi), a packaged MPI benchmark;
#   - libfabric 2.1.0 (Debian trixie's source, built unpatched by
#     tests/clients/build-libfabric.sh): fi_info sees rxe0, and fabtests'
#     fi_rma_bw writes and reads with its data check over the verbs
#     provider, with pinned memory and with FI_VERBS_USE_ODP=1; a program
#     of ours (tests/clients/fi_dmabuf.c) registers dma-bufs of udmabuf,
#     the system heap and the test exporter (moved and evicted meanwhile)
#     with fi_mr_regattr(FI_MR_DMABUF), and ordinary memory as ODP, and
#     checks every byte fi_write and fi_read move into and out of them.
#
# A client that is not installed FAILs (make deps installs them all): a
# missing package must not turn into a quietly shorter suite.
SUITE=clients/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/perftest.sh"
. "$RDG_TOP/tests/lib/rxe-trace.sh"
. "$RDG_TOP/tests/lib/mpi.sh"

hw=/sys/class/infiniband/rxe0/ports/1/hw_counters
mtu=4096

# counters_start: remember rxe0's counters. counters_expect COND...: each
# COND (COUNTER OP NUMBER, OP one of == >= >, e.g. "odp_page_faults>0") holds for how much
# that counter rose since counters_start; the rises are printed. Read with
# builtins: a fork costs 70-400 ms in a guest.
declare -A counter_start=() counter_rise=()
counters_start() {
	local f v
	counter_start=()
	for f in "$hw"/*; do
		read -r v < "$f" && counter_start[${f##*/}]=$v
	done
}
counters_expect() {
	local f v name cond key op want rise ok=0 rises=
	sleep 0.05	# the core caches the counters for 10 ms
	counter_rise=()
	for f in "$hw"/*; do
		name=${f##*/}
		read -r v < "$f" || continue
		counter_rise[$name]=$((v - ${counter_start[$name]:-0}))
		((counter_rise[$name])) && rises+=" $name+${counter_rise[$name]}"
	done
	echo "rxe0 counters that rose:${rises:- none}"
	for cond in "$@"; do
		if ! [[ $cond =~ ^([a-z_]+)(==|>=|>)([0-9]+)$ ]]; then
			echo "FAILED: bad counter condition '$cond'"
			ok=1
			continue
		fi
		key=${BASH_REMATCH[1]} op=${BASH_REMATCH[2]} want=${BASH_REMATCH[3]}
		rise=${counter_rise[$key]-}
		if [ -z "$rise" ]; then
			echo "FAILED: rxe0 has no counter $key"
			ok=1
		elif ! case $op in
			'==') ((rise == want)) ;;
			'>=') ((rise >= want)) ;;
			'>') ((rise > want)) ;;
			esac; then
			echo "FAILED: counter rise fails $cond ($key rose by $rise)"
			ok=1
		fi
	done
	return "$ok"
}

# needs PROGRAM...: the cases that follow need these programs; each of them
# FAILs, naming what is missing, unless all are on PATH (client_case).
needs() {
	local prog
	missing=
	for prog in "$@"; do
		command -v "$prog" >/dev/null || missing+=" $prog"
	done
}
# client_case NAME COMMAND...: run_case, or FAIL if a program is missing.
client_case() {
	if [ -n "$missing" ]; then
		fail "$1" "not installed:$missing (make deps installs it: scripts/install-deps.sh)"
		return 1
	fi
	run_case "$@"
}

# --- rdma-core's examples ------------------------------------------------
#
# ibv_rc_pingpong -c is a weak check, and its result is not in the exit
# status: the client writes 0 into the first byte of each page before
# sending, and the server, whose buffer starts as 0x7b, prints "invalid
# data in page N" for each page whose first byte is not 0, and still exits
# 0. So the output is read here, the messages are 1 MiB (256 pages checked
# per run), and rc-pingpong-check-reports proves that the check reports a
# buffer the client did not fill. The byte-for-byte checks of every
# operation and MR kind are the verbs, odp and dmabuf suites'.
pp_size=1048576 pp_iters=10
pp_port=18515
pp_args=(-d rxe0 -g 1 -m "$mtu" -s "$pp_size" -n "$pp_iters" -p "$pp_port")
# Every message crosses rxe0 in MTU-sized packets, both ways.
pp_packets=$((2 * pp_iters * pp_size / mtu))

# pingpong COND... -- [SERVER_ARGS... --] ARGS...: ibv_rc_pingpong server
# and client, both with ARGS (the server also with SERVER_ARGS, if given),
# both exit 0, the server checked the data (-c) and reported no bad page,
# and the counter conditions hold. Sets pp_out to the server's output.
pingpong() {
	local conds=() sargs=() slog=/tmp/rc_pingpong.server.log
	while [ "$1" != -- ]; do conds+=("$1"); shift; done
	shift
	if [[ " $* " == *" -- "* ]]; then
		while [ "$1" != -- ]; do sargs+=("$1"); shift; done
		shift
	fi
	counters_start
	serve_and_connect 120 "$pp_port" "$slog" \
		ibv_rc_pingpong "${pp_args[@]}" "${sargs[@]}" "$@" -- \
		ibv_rc_pingpong "${pp_args[@]}" "$@" "$RDG_SERVER_IP"
	echo "--- server (exit $server_rc)"
	pp_out=$(<"$slog")
	echo "$pp_out"
	counters_expect "${conds[@]}" || return 1
	[ "$client_rc" = 0 ] && [ "$server_rc" = 0 ] || {
		echo "FAILED: client exited $client_rc, server $server_rc"; return 1; }
	[[ $pp_out == *"$pp_iters iters in"* ]] || {
		echo "FAILED: the server did not report $pp_iters iterations"; return 1; }
	[[ $pp_out != *"Couldn't prefetch"* ]] || {
		echo "FAILED: ibv_advise_mr prefetch failed"; return 1; }
}

# pingpong_checked COND... -- ARGS...: pingpong with -c, and the server
# found no bad page.
pingpong_checked() {
	pingpong "$@" -c || return 1
	[[ $pp_out != *"invalid data"* ]] || {
		echo "FAILED: the server received bad data"; return 1; }
}

# pingpong_check_reports: a server with -c facing a client without it
# (which leaves its buffer at 0x7b) reports every page as invalid, and
# both still exit 0: the check the cases above rely on can fail, and only
# the output says so.
pingpong_check_reports() {
	pingpong "rcvd_pkts>=$pp_packets" -- -c -- || return 1
	[[ $pp_out == *"invalid data in page $((pp_size / 4096 - 1))"* ]] || {
		echo "FAILED: the server's -c did not report the unfilled buffer"; return 1; }
}

needs ibv_rc_pingpong
# Pinned memory moves every packet and faults nothing.
client_case rc-pingpong pingpong_checked \
	"rcvd_pkts>=$pp_packets" "odp_page_faults==0" --
client_case rc-pingpong-check-reports pingpong_check_reports
client_case rc-pingpong-odp pingpong_checked \
	"rcvd_pkts>=$pp_packets" "odp_page_faults>0" -- -o
client_case rc-pingpong-odp-prefetch pingpong_checked \
	"rcvd_pkts>=$pp_packets" "odp_page_faults>0" "odp_prefetches>=2" -- -o -P
client_case rc-pingpong-implicit-odp pingpong_checked \
	"rcvd_pkts>=$pp_packets" "odp_page_faults>0" -- -O
client_case rc-pingpong-implicit-odp-prefetch pingpong_checked \
	"rcvd_pkts>=$pp_packets" "odp_page_faults>0" "odp_prefetches>=2" -- -O -P
# --- UCX -----------------------------------------------------------------
#
# The data path is pinned to rxe0's RC transport: UCX_TLS=rc_v,self (in one
# guest UCX would otherwise move the data through shared memory and rxe
# would carry only the wire-up), UCX_NET_DEVICES=rxe0:1.
#
# UCX_UD_ETH_DGID_CHECK=n works around a UCX bug, not an rxe one: UCX up to
# 1.18 reads a received RoCE datagram's IP version from wc.sl, which only
# ConnectX sets that way (rxe, like the IBTA, leaves SL 0 on RoCE), takes
# every IPv4 datagram for IPv6, reads its "destination GID" out of the
# IPv4 header and drops it; wire-up then aborts with "UD endpoint ...:
# unhandled timeout error". UCX 1.19 reads the version from the header
# itself (upstream commit 7de57ad9f9, "UCT/IB/UD: Use GRH to detect address
# family on non-Mellanox hardware"). rxe already drops datagrams for a GID
# that is not its own, so the check loses nothing here.
#
# ucx_perftest has no data check of its own: these cases prove that the
# transfers complete over rxe0 (the packets rose by at least the data
# moved); the MPI program below, over the same UCX, checks every byte.
ucx_port=13337
ucx_size=1048576 ucx_iters=8
ucx_env=(UCX_NET_DEVICES=rxe0:1 "UCX_TLS=rc_v,self" UCX_UD_ETH_DGID_CHECK=n)
ucx_packets=$((ucx_iters * ucx_size / mtu))
ucx_odp_env=(UCX_IB_REG_METHODS=odp)

# ucx_info_sees_rxe0: ucx_info -d lists rxe0's memory domain (the ib
# component), and rc_verbs and ud_verbs on rxe0:1 within it.
ucx_info_sees_rxe0() {
	local out line want md='' tl='' found=''
	out=$(ucx_info -d 2>&1) || { echo "$out"; echo "FAILED: ucx_info -d failed"; return 1; }
	echo "$out"
	while IFS= read -r line; do
		case $line in
		'# Memory domain: '*) md=${line#'# Memory domain: '} ;;
		*'Component: ib') [ "$md" = rxe0 ] && found+=" md" ;;
		*'Transport: '*) tl=${line##* } ;;
		*'Device: rxe0:1') [ "$md" = rxe0 ] && found+=" $tl" ;;
		esac
	done <<<"$out"
	echo "found on rxe0:$found"
	for want in md rc_verbs ud_verbs; do
		[[ " $found " == *" $want "* ]] || {
			echo "FAILED: ucx_info -d does not list $want on rxe0"; return 1; }
	done
}

# ucx_perf TEST [VAR=VALUE...]: ucx_perftest's server and client run TEST
# over rxe0 with ucx_env and the given variables. Sets client_rc and
# server_rc, and ucx_clog and ucx_slog to their logs; prints both.
ucx_perf() {
	local test=$1 args
	shift
	args=(-t "$test" -s "$ucx_size" -n "$ucx_iters" -w 2 -p "$ucx_port")
	ucx_clog=/tmp/ucx_perftest.client.log ucx_slog=/tmp/ucx_perftest.server.log
	serve_and_connect 120 "$ucx_port" "$ucx_slog" \
		env "${ucx_env[@]}" "$@" ucx_perftest "${args[@]}" -- \
		env "${ucx_env[@]}" "$@" ucx_perftest "${args[@]}" "$RDG_SERVER_IP" \
		>"$ucx_clog" 2>&1
	cat "$ucx_clog"
	echo "--- server (exit $server_rc)"
	cat "$ucx_slog"
}

# ucx_perf_pinned TEST: TEST with UCX's default registration completes,
# both sides exit 0, every byte crossed rxe0, and nothing used ODP.
ucx_perf_pinned() {
	counters_start
	ucx_perf "$1"
	counters_expect "rcvd_pkts>=$ucx_packets" "odp_page_faults==0" || return 1
	[ "$client_rc" = 0 ] && [ "$server_rc" = 0 ] || {
		echo "FAILED: client exited $client_rc, server $server_rc"; return 1; }
	grep -q '^Final: ' "$ucx_clog" || { echo "FAILED: no Final line"; return 1; }
}

# ucx_perf_odp TEST: TEST with UCX_IB_REG_METHODS=odp completes over rxe0
# with ODP page faults. A process may end in the teardown crash above
# (ucx_perf_odp_exit records that); any other non-zero exit fails here.
ucx_perf_odp() {
	counters_start
	ucx_perf "$1" "${ucx_odp_env[@]}"
	counters_expect "rcvd_pkts>=$ucx_packets" "odp_page_faults>0" || return 1
	{ [ "$client_rc" = 0 ] || ucx_known_crash "$client_rc" "$ucx_clog"; } &&
	{ [ "$server_rc" = 0 ] || ucx_known_crash "$server_rc" "$ucx_slog"; } || {
		echo "FAILED: client exited $client_rc, server $server_rc"; return 1; }
	grep -q '^Final: ' "$ucx_clog" || { echo "FAILED: no Final line"; return 1; }
}

# ucx_perf_odp_exit NAME: after ucx_perf_odp, the exit statuses: PASS if
# both are 0, SKIP if a process ended in the known crash and none failed
# otherwise, FAIL else.
ucx_perf_odp_exit() {
	local name=$1
	if [ "$client_rc" = 0 ] && [ "$server_rc" = 0 ]; then
		pass "$name"
	elif { [ "$client_rc" = 0 ] || ucx_known_crash "$client_rc" "$ucx_clog"; } &&
	     { [ "$server_rc" = 0 ] || ucx_known_crash "$server_rc" "$ucx_slog"; }; then
		skip "$name" "client exited $client_rc, server $server_rc: $ucx_odp_crash"
	else
		fail "$name" "client exited $client_rc, server $server_rc"
	fi
}

needs ucx_info ucx_perftest
client_case ucx-info-rxe0 ucx_info_sees_rxe0
for test in tag_bw ucp_put_bw ucp_get; do
	client_case "ucx-$test" ucx_perf_pinned "$test"
done
for test in tag_bw ucp_put_bw ucp_get; do
	client_rc=none server_rc=none
	client_case "ucx-$test-odp" ucx_perf_odp "$test"
	if [ -n "$missing" ]; then
		fail "ucx-$test-odp-exit" "not installed:$missing"
	else
		ucx_perf_odp_exit "ucx-$test-odp-exit"
	fi
done

# --- Open MPI ------------------------------------------------------------
#
# Open MPI over UCX (pml ucx for two-sided, osc ucx for one-sided), UCX
# restricted as above; no byte transfer layer but self, so that nothing
# can fall back to shared memory or TCP. --oversubscribe: the UML guest has
# one CPU for two ranks.
mpi_check=$RDG_TOP/build/tests/clients/mpi_check
mpirun_args=(-np 2 --oversubscribe --allow-run-as-root --mca pml ucx
	--mca pml_ucx_devices any --mca osc ucx --mca btl self)
for var in "${ucx_env[@]}"; do
	mpirun_args+=(-x "$var")
done
mpi_log=/tmp/mpirun.log

# mpi_run [mpirun ARGS...] -- PROGRAM ARGS...: mpirun, its output in
# $mpi_log and printed; sets mpi_rc.
mpi_run() {
	local extra=()
	while [ "$1" != -- ]; do extra+=("$1"); shift; done
	shift
	timeout 300 mpirun "${mpirun_args[@]}" "${extra[@]}" "$@" >"$mpi_log" 2>&1
	mpi_rc=$?
	cat "$mpi_log"
	echo "mpirun exited $mpi_rc"
}

# mpi_check_pinned: mpi_check over rxe0 with UCX's default registration:
# every byte verified, exit 0, the volume crossed rxe0, no ODP.
mpi_check_pinned() {
	counters_start
	mpi_run -- "$mpi_check"
	mpi_check_verified "$mpi_log" "$mtu" || return 1
	counters_expect "rcvd_pkts>=$mpi_packets" "odp_page_faults==0" || return 1
	[ "$mpi_rc" = 0 ] || { echo "FAILED: mpirun exited $mpi_rc"; return 1; }
}

# mpi_check_odp: the same with UCX_IB_REG_METHODS=odp, with ODP faults; a
# rank may die in the UCX teardown bug after the data was checked
# (mpi_check_odp_exit records that), nothing else.
mpi_check_odp() {
	counters_start
	mpi_run -x "${ucx_odp_env[@]}" -- "$mpi_check"
	mpi_check_verified "$mpi_log" "$mtu" || return 1
	counters_expect "rcvd_pkts>=$mpi_packets" "odp_page_faults>0" || return 1
	[ "$mpi_rc" = 0 ] || ucx_known_crash "$mpi_rc" "$mpi_log" || {
		echo "FAILED: mpirun exited $mpi_rc"; return 1; }
}

# mpi_check_odp_exit NAME: after mpi_check_odp, mpirun's exit status.
mpi_check_odp_exit() {
	if [ "$mpi_rc" = 0 ]; then
		pass "$1"
	elif ucx_known_crash "$mpi_rc" "$mpi_log"; then
		skip "$1" "mpirun exited $mpi_rc: $ucx_odp_crash"
	else
		fail "$1" "mpirun exited $mpi_rc"
	fi
}

# netpipe: NetPIPE's MPI benchmark, ping-pong from 1 B to 1 MiB, 3 round
# trips per size and no perturbed sizes (TCG-friendly): it completes, its
# last size is 1 MiB with a positive bandwidth, and rxe0 carried at least
# the packets of its round trips. NetPIPE checks no data in this mode.
netpipe() {
	local out=/tmp/np.out bytes mbps packets=0 last='' _
	rm -f "$out"
	counters_start
	mpi_run -- NPopenmpi -u 1048576 -n 3 -p 0 -o "$out"
	[ "$mpi_rc" = 0 ] || { echo "FAILED: mpirun exited $mpi_rc"; return 1; }
	while read -r bytes mbps _; do
		[[ $bytes =~ ^[0-9]+$ ]] || continue
		packets=$((packets + 2 * 3 * ((bytes + mtu - 1) / mtu)))
		last="$bytes $mbps"
	done <"$out"
	echo "NetPIPE's last size and Mbit/s: ${last:-none}"
	[[ $last =~ ^1048576\ [0-9.]*[1-9] ]] || {
		echo "FAILED: NetPIPE did not reach 1 MiB with a positive bandwidth"; return 1; }
	counters_expect "rcvd_pkts>=$packets"
}

needs mpirun "$mpi_check"
client_case mpi-check mpi_check_pinned
mpi_rc=none
client_case mpi-check-odp mpi_check_odp
if [ -n "$missing" ]; then
	fail mpi-check-odp-exit "not installed:$missing"
else
	mpi_check_odp_exit mpi-check-odp-exit
fi
needs mpirun NPopenmpi
client_case mpi-netpipe netpipe

# --- libfabric -----------------------------------------------------------
#
# RDM endpoints of ofi_rxm over the verbs provider's RC (MSG) endpoints.
# FI_UNIVERSE_SIZE=8: ofi_rxm sizes its verbs CQ as the endpoint's queue
# sizes times the universe size (default 1024), some 800,000 entries, and
# the verbs provider passes that to ibv_create_cq unclamped (its own
# comment in vrb_cq_open says so); rxe allows 32768 (RXE_MAX_LOG_CQE 15),
# so every endpoint would fail to enable. Two processes need a universe of 2.
# fi_rma_bw -v fills the source with a pattern and the target, shifted by
# a byte, with the same pattern, and checks every byte of the target
# window after each window of transfers; a bad byte fails the run.
lf_bin=$RDG_TOP/build/libfabric/bin
lf_port=18520
lf_env=(FI_UNIVERSE_SIZE=8)
lf_size=1048576 lf_iters=8

# libfabric_sees_rxe0: fi_info lists rxe0 for the verbs provider's MSG
# endpoints and for ofi_rxm's RDM endpoints over it.
libfabric_sees_rxe0() {
	local out msg rdm
	out=$(env "${lf_env[@]}" "$lf_bin/fi_info" -p verbs 2>&1) || {
		echo "$out"; echo "FAILED: fi_info -p verbs failed"; return 1; }
	echo "$out"
	out=${out//$'\n'/ }
	msg='provider: verbs +fabric: [^ ]+ +domain: rxe0 +version: [0-9.]+ +type: FI_EP_MSG'
	rdm='provider: verbs;ofi_rxm +fabric: [^ ]+ +domain: rxe0 +version: [0-9.]+ +type: FI_EP_RDM'
	[[ $out =~ $msg ]] || {
		echo "FAILED: no verbs FI_EP_MSG endpoint on rxe0"; return 1; }
	[[ $out =~ $rdm ]] || {
		echo "FAILED: no verbs;ofi_rxm FI_EP_RDM endpoint on rxe0"; return 1; }
}

# libfabric_rma OP ODP COND...: fi_rma_bw's server and client move
# lf_iters messages of lf_size with OP (write or read), with the data
# check, FI_VERBS_USE_ODP=ODP; both exit 0 and the counter conditions hold.
libfabric_rma() {
	local op=$1 odp=$2 args slog=/tmp/fi_rma_bw.server.log
	shift 2
	args=(-p "verbs;ofi_rxm" -e rdm -o "$op" -v -S "$lf_size" -I "$lf_iters"
	      -w 2 -E="$lf_port")
	counters_start
	serve_and_connect 120 "$lf_port" "$slog" \
		env "${lf_env[@]}" FI_VERBS_USE_ODP="$odp" "$lf_bin/fi_rma_bw" "${args[@]}" -- \
		env "${lf_env[@]}" FI_VERBS_USE_ODP="$odp" "$lf_bin/fi_rma_bw" "${args[@]}" "$RDG_SERVER_IP"
	echo "--- server (exit $server_rc)"
	cat "$slog"
	counters_expect "$@" || return 1
	[ "$client_rc" = 0 ] && [ "$server_rc" = 0 ] || {
		echo "FAILED: client exited $client_rc, server $server_rc"; return 1; }
}

# Both sides' data crosses rxe0 (the bandwidth test is bidirectional).
lf_packets=$((2 * lf_iters * lf_size / mtu))
needs "$lf_bin/fi_info" "$lf_bin/fi_rma_bw"
client_case libfabric-info-rxe0 libfabric_sees_rxe0
for op in write read; do
	client_case "libfabric-rma-$op" libfabric_rma "$op" 0 \
		"rcvd_pkts>=$lf_packets" "odp_page_faults==0"
	client_case "libfabric-rma-$op-odp" libfabric_rma "$op" 1 \
		"rcvd_pkts>=$lf_packets" "odp_page_faults>0"
done

# --- libfabric: dma-buf memory regions -----------------------------------
#
# The verbs provider registers a dma-buf (fi_mr_regattr with FI_MR_DMABUF)
# only if /proc/kallsyms lists ib_umem_dmabuf_get, its test for a kernel
# with dma-buf MRs; it does not offer FI_HMEM on rxe (only on mlx devices),
# and takes FI_MR_DMABUF without it. fi_dmabuf (tests/clients/fi_dmabuf.c)
# registers the buffer at base_addr NULL, so that its RMA addresses are
# ones this process maps nothing at, writes a pattern into it with fi_write,
# checks every byte through its own mapping of the buffer, fills it with
# another and reads that back with fi_read into pinned memory, every byte
# checked again; poisoned first, guard bytes around both. What shows that
# rxe served the region through its dma-buf path: rxe's tracepoints name
# the region's key (rxe_dmabuf_refault, the map of its first access and
# of every refault), and for the test exporter, which the program moves
# and evicts while the transfers run, rxe's counters and tracepoints show
# the mapping dropped and refaulted, and the exporter's own account sees
# the region as the buffer's one dynamic attachment (fi_dmabuf checks it).
# udmabuf here and not on QEMU, whose guest bounces every DMA mapping:
# 6.12's udmabuf cannot serve CPU access there (tests/verbs/xfer_dmabuf.c).
fi_dmabuf=$RDG_TOP/build/tests/clients/fi_dmabuf
fd_len=1048576
modprobe dmabuf_test_exporter || echo "modprobe dmabuf_test_exporter failed"

# libfabric_dmabuf_enabled: the kernel lists the symbol libfabric looks
# for, and the verbs provider says it enabled dma-buf support.
libfabric_dmabuf_enabled() {
	local out
	grep -w ib_umem_dmabuf_get /proc/kallsyms || {
		echo "FAILED: /proc/kallsyms does not list ib_umem_dmabuf_get"; return 1; }
	out=$(env "${lf_env[@]}" FI_LOG_LEVEL=info FI_LOG_PROV=verbs \
		"$lf_bin/fi_info" -p verbs 2>&1 >/dev/null)
	grep 'dmabuf support' <<<"$out"
	[[ $out == *'dmabuf support is enabled'* ]] || {
		echo "FAILED: libfabric's verbs provider did not enable dma-buf support"; return 1; }
}

# dmabuf_mr_traced KEY MOVED LOG: stop the trace (rxe_trace_start dmabuf)
# and keep its records in LOG; rxe mapped the region of key KEY through its
# dma-buf path (a rxe_dmabuf_refault record of lkey KEY, err=0), and with
# MOVED=1 it also dropped that mapping and mapped the region again later.
dmabuf_mr_traced() {
	local key=$1 moved=$2 log=$3 ev line maps=0 invalidations=0 refaults=0
	for ev in "${rxe_trace_events[@]}"; do
		rxe_trace_write "events/$ev/enable" 0
	done
	# Copied whole first: bash reads a file by the buffer and seeks back
	# to the end of each line, and tracefs's trace file renders a seek
	# back as a fresh read from a record boundary, which garbles lines.
	cat "$rxe_trace_dir/trace" >"$log"
	while IFS= read -r line; do
		case $line in
		*" rxe_dmabuf_invalidate: lkey=$key "*)
			((++invalidations)) ;;
		*" rxe_dmabuf_refault: lkey=$key "*" err=0 "*)
			if ((invalidations)); then ((++refaults)); else ((++maps)); fi ;;
		esac
	done <"$log"
	echo "trace of lkey $key: $maps maps, then $invalidations invalidations and $refaults maps after one"
	((maps + refaults)) || {
		echo "FAILED: rxe's trace shows no dma-buf map of the region"; return 1; }
	[ "$moved" = 0 ] || ((refaults)) || {
		echo "FAILED: rxe's trace shows no refault of the region after an invalidation"; return 1; }
}

# fi_dmabuf_run MOVED [FI_DMABUF ARGS...] -- COND...: fi_dmabuf with the
# given arguments (the last its source), traced; it exits 0 having
# verified every byte, the region is in the trace as dmabuf_mr_traced
# MOVED says (not looked for with MOVED "-": ordinary memory), and the
# counter conditions hold.
fi_dmabuf_run() {
	local moved=$1 args=() out rc key traced=0
	shift
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	[ "$moved" = - ] || rxe_trace_start dmabuf || {
		echo "FAILED: $rxe_trace_error"; return 1; }
	counters_start
	out=$(env "${lf_env[@]}" timeout 120 "$fi_dmabuf" "${args[@]}" 2>&1)
	rc=$?
	echo "$out"
	echo "fi_dmabuf exited $rc"
	if [ "$moved" != - ]; then
		[[ $out =~ 'target MR key '(0x[0-9a-f]+) ]] && key=${BASH_REMATCH[1]}
		if [ -z "$key" ]; then
			echo "FAILED: fi_dmabuf printed no MR key"
		else
			# run_case set case_log to this case's log.
			dmabuf_mr_traced "$key" "$moved" "${case_log%.log}_trace.txt" &&
				traced=1
		fi
	fi
	counters_expect "$@" || return 1
	[ "$rc" = 0 ] || { echo "FAILED: fi_dmabuf exited $rc"; return 1; }
	[[ $out == *'fi_dmabuf: PASS: '*' every byte verified'* ]] || {
		echo "FAILED: no PASS line"; return 1; }
	[ "$moved" = - ] || [ "$traced" = 1 ]
}

# fi_dmabuf_check_reports: a byte flipped in the region after fi_write, or
# in the read-back buffer after fi_read, fails the run at that byte.
fi_dmabuf_check_reports() {
	local where out rc ok=0
	for where in write read; do
		out=$(env "${lf_env[@]}" timeout 120 "$fi_dmabuf" -n 1 -c "$where:4097" udmabuf 2>&1)
		rc=$?
		echo "$out"
		echo "fi_dmabuf -c $where:4097 exited $rc"
		[ "$rc" = 1 ] && [[ $out == *'FAILED: '*" after fi_$where: byte 4097 of $fd_len is "* ]] || {
			echo "FAILED: the flipped byte after fi_$where was not reported"; ok=1; }
	done
	return "$ok"
}

# Every byte crosses rxe0 twice: written, then read back.
fd_iters=4
fd_packets=$((2 * fd_iters * fd_len / mtu))
fd_pinned=("rcvd_pkts>=$fd_packets" "odp_page_faults==0" "dmabuf_refault_errors==0")
needs "$lf_bin/fi_info" "$fi_dmabuf"
client_case libfabric-dmabuf-enabled libfabric_dmabuf_enabled
client_case libfabric-dmabuf-check-reports fi_dmabuf_check_reports
# udmabuf and the system heap cannot move their buffers: rxe attaches to
# them statically, and nothing is invalidated.
for src in udmabuf heap; do
	client_case "libfabric-dmabuf-$src" fi_dmabuf_run 0 -n "$fd_iters" "$src" -- \
		"${fd_pinned[@]}" "dmabuf_invalidations==0"
done
# The test exporter's buffer moves every 2 ms (every 10-20 ms in UML,
# whose timers are coarse), every fourth time evicted, while 4 MiB
# transfers run: each takes several moves. rxe maps an MR on the first
# packet that finds it unmapped, so an operation starts with at most one
# refault; more refaults than operations (fi_write and fi_read per
# iteration) means that the buffer moved under an operation in flight,
# and it still moved every byte right. Seen: 14 to 28 refaults for 4.
fd_moved_len=4194304 fd_moved_iters=2
client_case libfabric-dmabuf-dte-moved fi_dmabuf_run 1 \
	-s "$fd_moved_len" -n "$fd_moved_iters" -m 2000 -e 4 dte -- \
	"rcvd_pkts>=$((2 * fd_moved_iters * fd_moved_len / mtu))" "odp_page_faults==0" \
	"dmabuf_invalidations>0" "dmabuf_refaults>$((2 * fd_moved_iters))" \
	"dmabuf_refault_errors==0"
# FI_VERBS_USE_ODP=1: the verbs provider registers ordinary memory as ODP.
lf_env+=(FI_VERBS_USE_ODP=1)
client_case libfabric-odp-memory fi_dmabuf_run - -n "$fd_iters" memory -- \
	"rcvd_pkts>=$fd_packets" "odp_page_faults>0" "dmabuf_refaults==0"
rxe_trace_finish

exit 0
