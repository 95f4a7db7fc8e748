#!/bin/bash
# UCX and Open MPI bandwidth over rxe0, UCX's default (pinned) registration
# against UCX_IB_REG_METHODS=odp, side by side. guest-bench.sh runs it last;
# it also runs alone in a guest:
#
#   kernel/run-guest.sh --backend uml --flavor bench -- bash tests/bench/clients-bench.sh
#
# Writes to $BENCH_OUT (default $RDG_RESULTS): ucx.tsv and mpi.tsv (one line
# per run), clients-env.txt (versions, volume) and clients-runs.log (every
# run's output). Every run moves about the same volume of data, whatever its
# message size: neither client can run for a given time. Knobs: BENCH_QUICK,
# BENCH_REPS, BENCH_CLIENTS (tests/bench/README).
#
# No -e: a run that fails is recorded as such and the next one runs.
set -uo pipefail

top=${RDG_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/perftest.sh"
out=${BENCH_OUT:-$RDG_RESULTS}
server_ip=${RDG_SERVER_IP:-10.10.0.1}
hw=/sys/class/infiniband/rxe0/ports/1/hw_counters

: "${BENCH_CLIENTS:=ucx mpi}"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_REPS:=2}"
	volume=$((128 << 20))
else
	: "${BENCH_REPS:=4}"
	volume=$((256 << 20))
fi
sizes="65536 1048576 4194304"
ucx_tests="ucp_put_bw tag_bw"

log() { echo "bench: $*"; }
for c in $BENCH_CLIENTS; do
	case "$c" in ucx|mpi|none) ;;
	*) echo "clients-bench: BENCH_CLIENTS: unknown client '$c' (ucx mpi none)" >&2; exit 2 ;;
	esac
done
want() { [[ " $BENCH_CLIENTS " == *" $1 "* ]]; }

# The data path pinned to rxe0's RC transport, and UCX's UD wire-up bug
# worked around: tests/guest/clients.sh says why.
ucx_env=(UCX_NET_DEVICES=rxe0:1 "UCX_TLS=rc_v,self" UCX_UD_ETH_DGID_CHECK=n)
# mode_vars MODE: mvars, the variables that select the registration.
mode_vars() {
	mvars=()
	[ "$1" = pinned ] || mvars=(UCX_IB_REG_METHODS=odp)
}
modes="pinned odp"

# UCX 1.13's implicit-ODP teardown bug (tests/lib/mpi.sh: ucx_known_crash)
# strikes after every byte moved and the figures were printed: such a
# run's figures count; its note says it crashed.
. "$top/tests/lib/mpi.sh"
# status RC LOG: ok, teardown-crash, or failed-RC.
status() {
	if [ "$1" = 0 ]; then echo ok
	elif ucx_known_crash "$1" "$2"; then echo teardown-crash
	else echo "failed-$1"; fi
}
# worst STATUS...: a failure over a crash over ok.
worst() {
	local s w=ok
	for s in "$@"; do
		case "$s" in
		failed-*) w=$s ;;
		teardown-crash) [[ $w == failed-* ]] || w=$s ;;
		esac
	done
	echo "$w"
}

odp_faults() {
	local v
	sleep 0.05	# the core caches the counters for 10 ms
	read -r v < "$hw/odp_page_faults" 2>/dev/null && echo "$v" || echo NA
}
rise() { [ "$1" = NA ] || [ "$2" = NA ] && echo NA || echo $(($2 - $1)); }

runs_log=$out/clients-runs.log
mkdir -p "$out"
: > "$runs_log"
{
	echo "volume_bytes	$volume"
	echo "reps	$BENCH_REPS"
	echo "clients	$BENCH_CLIENTS"
	echo "ucx	$(ucx_info -v 2>/dev/null | sed -n 's/^# Version //p')"
	echo "mpi	$(mpirun --version 2>/dev/null | sed -n '1s/^mpirun (\(Open MPI\)) /\1 /p')"
} > "$out/clients-env.txt"

# ucx_run TEST SIZE MODE PORT: one ucx_perftest pair on rxe0; prints
# "MiBps iterations status odp_faults". UCX's "MB/s" is 2^20 bytes a second.
ucx_run() {
	local test=$1 size=$2 mode=$3 port=$4 iters warm args crc src f0 bw st
	local clog=/tmp/bench-ucx.client.log slog=/tmp/bench-ucx.server.log
	iters=$((volume / size))
	warm=$((iters / 10 > 2 ? iters / 10 : 2))
	args=(-t "$test" -s "$size" -n "$iters" -w "$warm" -p "$port")
	mode_vars "$mode"
	f0=$(odp_faults)
	# stdbuf: a process that crashes at exit must not take its
	# buffered report with it.
	serve_and_connect 300 "$port" "$slog" \
		env "${ucx_env[@]}" "${mvars[@]}" stdbuf -oL ucx_perftest "${args[@]}" -- \
		env "${ucx_env[@]}" "${mvars[@]}" stdbuf -oL ucx_perftest "${args[@]}" "$server_ip" \
		> "$clog" 2>&1
	crc=$client_rc src=$server_rc
	st=$(worst "$(status "$crc" "$clog")" "$(status "$src" "$slog")")
	# Final: iters p50 avg overall bw_avg bw_overall rate_avg rate_overall
	bw=$(awk '$1 == "Final:" { print $6 }' "$clog")
	[[ $st == failed-* ]] && bw=
	{
		echo "=== ucx_perftest $test size=$size mode=$mode client=$crc server=$src ($st)"
		cat "$clog"
		echo "--- server"
		cat "$slog"
	} >> "$runs_log"
	printf '%s\t%s\t%s\t%s\n' "${bw:-NA}" "$iters" "$st" "$(rise "$f0" "$(odp_faults)")"
}

# mpi_run SIZE MODE: NetPIPE's NPopenmpi over Open MPI's pml ucx, one size;
# prints "MiBps repeats status odp_faults". NetPIPE's Mbps is 2^20 bits a
# second, the message size over half the round trip, the best of its 3
# trials.
mpi_run() {
	local size=$1 mode=$2 reps f0 rc bw st var npout=/tmp/bench-np.out
	local mlog=/tmp/bench-mpirun.log args=()
	# ping-pong: each repeat moves the message there and back, 3 trials
	reps=$((volume / size / 6 > 3 ? volume / size / 6 : 3))
	args=(-np 2 --oversubscribe --allow-run-as-root --mca pml ucx
	      --mca pml_ucx_devices any --mca osc ucx --mca btl self)
	mode_vars "$mode"
	for var in "${ucx_env[@]}" "${mvars[@]}"; do
		args+=(-x "$var")
	done
	rm -f "$npout"
	f0=$(odp_faults)
	timeout 600 mpirun "${args[@]}" stdbuf -oL \
		NPopenmpi -l "$size" -u "$size" -n "$reps" -p 0 -o "$npout" > "$mlog" 2>&1
	rc=$?
	st=$(status "$rc" "$mlog")
	#   0: 1048576 bytes     20 times -->  47051.02 Mbps in     170.03 usec
	bw=$(awk -v s="$size" '$2 == s && $3 == "bytes" && $7 == "Mbps" { print $6 / 8 }' "$mlog")
	[ -n "$bw" ] || bw=$(awk -v s="$size" '$1 == s { print $2 / 8 }' "$npout" 2>/dev/null)
	[[ $st == failed-* ]] && bw=
	{
		echo "=== NPopenmpi size=$size mode=$mode mpirun=$rc ($st)"
		cat "$mlog"
	} >> "$runs_log"
	printf '%s\t%s\t%s\t%s\n' "${bw:-NA}" "$reps" "$st" "$(rise "$f0" "$(odp_faults)")"
}

# order ROUND: the modes, reversed every other round, so that a slow phase
# of the machine hits both alike.
order() {
	if [ $(($1 % 2)) = 1 ]; then echo "$modes"
	else echo "$modes" | tr ' ' '\n' | tac | tr '\n' ' '; fi
}

if want ucx; then
	printf 'round\ttest\tbytes\tmode\tMiBps\titerations\tstatus\todp_faults\n' > "$out/ucx.tsv"
	if ! command -v ucx_perftest >/dev/null; then
		log "ucx_perftest is not installed (make deps): UCX not measured"
	else
		log "UCX bandwidth: $ucx_tests, $sizes bytes, $modes, $BENCH_REPS rounds"
		start=$(date +%s)
		n=0
		for round in $(seq "$BENCH_REPS"); do
			for test in $ucx_tests; do
				for size in $sizes; do
					for mode in $(order "$round"); do
						# a fresh port: no wait for the last one's
						port=$((13400 + n++ % 400))
						printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$test" "$size" "$mode" \
							"$(ucx_run "$test" "$size" "$mode" "$port")" >> "$out/ucx.tsv"
					done
				done
			done
			log "UCX round $round done, $(($(date +%s) - start)) s"
		done
	fi
fi

if want mpi; then
	printf 'round\tbytes\tmode\tMiBps\trepeats\tstatus\todp_faults\n' > "$out/mpi.tsv"
	if ! command -v mpirun >/dev/null || ! command -v NPopenmpi >/dev/null; then
		log "mpirun or NPopenmpi is not installed (make deps): MPI not measured"
	else
		log "MPI bandwidth: NPopenmpi over pml ucx, $sizes bytes, $modes, $BENCH_REPS rounds"
		start=$(date +%s)
		for round in $(seq "$BENCH_REPS"); do
			for size in $sizes; do
				for mode in $(order "$round"); do
					printf '%s\t%s\t%s\t%s\n' "$round" "$size" "$mode" \
						"$(mpi_run "$size" "$mode")" >> "$out/mpi.tsv"
				done
			done
			log "MPI round $round done, $(($(date +%s) - start)) s"
		done
	fi
fi
exit 0
