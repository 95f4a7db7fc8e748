#!/bin/bash
# Clients we did not write, unmodified, over rxe0: what the people who
# write transports run. Each run must complete, its data must be checked
# (by the client itself where it can, by a program of ours where it
# cannot), and rxe's counters must show that the path under test was
# taken: packets for the data moved, ODP page faults for an ODP run.
#
#   - rdma-core's ibv_rc_pingpong (the project's rdma-core build): pinned,
#     explicit ODP (-o), implicit ODP (-O), each ODP kind with prefetch (-P);
#
# A client that is not installed FAILs (make deps installs them all): a
# missing package must not turn into a quietly shorter suite.
SUITE=clients/$RDG_BACKEND
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/perftest.sh"

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

# serve_and_connect PORT SERVER_LOG SERVER_CMD... -- CLIENT_CMD...: start
# the server with its output in SERVER_LOG and, once it listens on TCP PORT
# (the clients here do not retry a refused connection), the client in the
# foreground. Sets server_rc and client_rc.
serve_and_connect() {
	local port=$1 slog=$2 srv i server=()
	shift 2
	while [ "$1" != -- ]; do server+=("$1"); shift; done
	shift
	timeout 120 "${server[@]}" >"$slog" 2>&1 &
	srv=$!
	for ((i = 0; i < 600; i++)); do
		tcp_listening "$port" && break
		kill -0 "$srv" 2>/dev/null || break
		sleep 0.05
	done
	timeout 120 "$@"
	client_rc=$?
	wait "$srv"
	server_rc=$?
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
	serve_and_connect "$pp_port" "$slog" \
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
exit 0
