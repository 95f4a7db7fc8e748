#!/bin/bash
# The guest job of tests/bench/odp-qps.sh: perftest bandwidth of several QPs
# sharing one MR (perftest's default: one buffer and one MR for all QPs),
# pinned and ODP side by side, so that copies of the QPs into and out of the
# same ODP MR can run at once on the guest's CPUs. Writes $BENCH_OUT/qps.tsv
# (one line per run) and qps-runs.log (every run's output).
#
# Knobs: BENCH_REPS (rounds), BENCH_DURATION (seconds a run), BENCH_QPS,
# BENCH_TOOLS, BENCH_SIZES; odp-qps.sh checks them.
set -uo pipefail

top=${RDG_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${BENCH_OUT:-$RDG_RESULTS}
server_ip=${RDG_SERVER_IP:-10.10.0.1}
dev=${BENCH_DEV:-rxe0}
gid=${BENCH_GID:-1}
runs_log=$out/qps-runs.log
: "${BENCH_REPS:=3}" "${BENCH_DURATION:=2}" "${BENCH_QPS:=1 2 4}"
: "${BENCH_TOOLS:=ib_write_bw ib_read_bw}" "${BENCH_SIZES:=65536}"
configs="pinned odp"

# shellcheck source=tests/lib/perftest.sh
. "$top/tests/lib/perftest.sh"
# shellcheck source=tests/bench/perftest-pair.sh
. "$top/tests/bench/perftest-pair.sh"

counter() {
	cat "/sys/class/infiniband/$dev/ports/1/hw_counters/$1" 2>/dev/null || echo NA
}

mkdir -p "$out"
: > "$runs_log"
{
	echo "kernel	$(uname -r)"
	echo "cpus	$(nproc)"
	echo "reps	$BENCH_REPS"
	echo "duration_s	$BENCH_DURATION"
	echo "qps	$BENCH_QPS"
	echo "tools	$BENCH_TOOLS"
	echo "sizes	$BENCH_SIZES"
	echo "start	$(date -u +%FT%TZ)"
} > "$out/env.txt"

printf 'round\tqps\ttool\tbytes\tconfig\tbw_MiBps\todp_faults\n' > "$out/qps.tsv"
runs=0
for round in $(seq "$BENCH_REPS"); do
	# Every round runs both memory types back to back for each point, in
	# an order reversed every other round.
	order=$configs
	[ $((round % 2)) = 1 ] || order=$(echo "$configs" | tr ' ' '\n' | tac | tr '\n' ' ')
	for qps in $BENCH_QPS; do
		for tool in $BENCH_TOOLS; do
			for size in $BENCH_SIZES; do
				for cfg in $order; do
					# The faults show that the ODP runs took rxe's ODP path.
					before=$(counter odp_page_faults)
					res=$(run_pair "$tool" "$size" "$cfg" $((18515 + runs % 400)) -q "$qps")
					after=$(counter odp_page_faults)
					faults=NA
					[ "$before" = NA ] || [ "$after" = NA ] || faults=$((after - before))
					printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$qps" "$tool" \
						"$size" "$cfg" "$(cut -f1 <<< "$res")" "$faults" >> "$out/qps.tsv"
					runs=$((runs + 1))
				done
			done
		done
	done
	echo "bench: round $round done ($runs runs)"
done
echo "end	$(date -u +%FT%TZ)" >> "$out/env.txt"
