#!/bin/bash
# The benchmark job that tests/bench/run.sh boots a guest for. It writes raw
# results (tab-separated) to $BENCH_OUT (default $RDG_RESULTS); report.py
# on the host turns them into the report. See tests/bench/README for the
# knobs (BENCH_*), what is measured and how.
#
# Files: env.txt, memcpy.tsv, reg.tsv, refault.tsv, refault_trace.tsv,
# bw.tsv (one line per perftest run) and bw-runs.log (every run's output);
# clients-bench.sh's ucx.tsv, mpi.tsv, clients-env.txt, clients-runs.log.
set -uo pipefail

top=${RDG_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${BUILD:-$top/build}/tests/bench
out=${BENCH_OUT:-$RDG_RESULTS}
server_ip=${RDG_SERVER_IP:-10.10.0.1}
dev=${BENCH_DEV:-rxe0}
gid=${BENCH_GID:-1}

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_REPS:=2}" "${BENCH_DURATION:=1}" "${BENCH_SIZES:=4096 65536 4194304}"
	: "${BENCH_REG_SIZES:=1M 64M}" "${BENCH_REFAULT_COUNT:=50}"
	: "${BENCH_REFAULT_SIZES:=1M 64M}"
else
	: "${BENCH_REPS:=4}" "${BENCH_DURATION:=1}"
	: "${BENCH_SIZES:=4096 16384 65536 262144 1048576 4194304}"
	: "${BENCH_REG_SIZES:=1M 64M 1G}" "${BENCH_REFAULT_COUNT:=200}"
	: "${BENCH_REFAULT_SIZES:=1M 64M 1G}"
fi
: "${BENCH_TOOLS:=ib_write_bw ib_read_bw ib_send_bw}"
: "${BENCH_CONFIGS:=pinned odp udmabuf heap exporter move10ms move1ms}"

mkdir -p "$out"
log() { echo "bench: $*"; }

# shellcheck source=tests/lib/perftest.sh
. "$top/tests/lib/perftest.sh"
# shellcheck source=tests/bench/perftest-pair.sh
. "$top/tests/bench/perftest-pair.sh"
for c in $BENCH_CONFIGS; do cfg_args "$c" >/dev/null || exit 2; done
case " $BENCH_CONFIGS " in *" pinned "*) ;; *)
	echo "bench: BENCH_CONFIGS must include pinned, the reference" >&2; exit 2 ;;
esac

modprobe dmabuf_test_exporter || log "no dmabuf_test_exporter module: its configurations will fail"

{
	echo "kernel	$(uname -r)"
	echo "flavor	${RDG_FLAVOR:-?}"
	echo "backend	${RDG_BACKEND:-?}"
	echo "cpus	$(nproc)"
	echo "mem_kib	$(awk '/MemTotal/ {print $2}' /proc/meminfo)"
	echo "cmdline	$(cat /proc/cmdline)"
	echo "reps	$BENCH_REPS"
	echo "duration_s	$BENCH_DURATION"
	echo "sizes	$BENCH_SIZES"
	echo "tools	$BENCH_TOOLS"
	echo "configs	$BENCH_CONFIGS"
	echo "quick	${BENCH_QUICK:-0}"
	echo "netdev_mtu	$(cat /sys/class/net/veth0/mtu 2>/dev/null)"
	echo "perftest	$(command -v ib_write_bw)"
	echo "start	$(date -u +%FT%TZ)"
} > "$out/env.txt"

# --- the physical ceiling: memcpy in this guest
log "memcpy bandwidth"
"$bin/memcpy_bw" $BENCH_SIZES 67108864 > "$out/memcpy.tsv"

# --- registration time
log "registration time ($BENCH_REG_SIZES)"
start=$(date +%s)
"$bin/reg_bench" -d "$dev" -g "$gid" $BENCH_REG_SIZES > "$out/reg.tsv" 2> "$out/reg.err"
rc=$?
log "registration done in $(($(date +%s) - start)) s (exit $rc)"
[ "$rc" = 0 ] || cat "$out/reg.err"

# --- refault latency, and rxe's own measure of it from its tracepoint
log "refault latency"
trace=/sys/kernel/tracing
ev=$trace/events/rxe/rxe_dmabuf_refault
if [ -d "$ev" ]; then
	echo > "$trace/trace"
	echo 1 > "$ev/enable"
fi
printf 'buf_bytes\tcase\tcount\tmedian_us\tp99_us\tmin_us\n' > "$out/refault.tsv"
printf 'buf_bytes\tlength\tduration_ns\terr\tfence_ns\tvmap_ns\n' > "$out/refault_trace.tsv"
: > "$out/refault.err"
for size in $BENCH_REFAULT_SIZES; do
	bufsize=$(numfmt --from=iec "$size")
	# A move copies the whole buffer: fewer of them for the larger ones.
	n=$BENCH_REFAULT_COUNT
	[ "$bufsize" -gt 1048576 ] && n=$((n / 4))
	[ "$bufsize" -gt 67108864 ] && n=$((n / 4))
	[ "$n" -ge 5 ] || n=5
	"$bin/refault_lat" -d "$dev" -g "$gid" -n "$n" -s "$bufsize" 2>> "$out/refault.err" |
		awk -v b="$bufsize" 'NR > 1 { print b "\t" $0 }' >> "$out/refault.tsv"
	if [ -d "$ev" ]; then
		echo 0 > "$ev/enable"
		# lkey=0x.. length=N duration_ns=N err=N [fence_ns=N vmap_ns=N]
		# (kernels before the refault's breakdown stop at err)
		grep -o 'length=[0-9]* duration_ns=[0-9]* err=-\?[0-9]*\( fence_ns=[0-9]* vmap_ns=[0-9]*\)\?' \
			"$trace/trace" | tr '=' ' ' |
			awk -v b="$bufsize" '{ print b "\t" $2 "\t" $4 "\t" $6 "\t" \
				($8 == "" ? "NA" : $8) "\t" ($10 == "" ? "NA" : $10) }' \
			>> "$out/refault_trace.tsv"
		echo > "$trace/trace"
		echo 1 > "$ev/enable"
	fi
done
[ -d "$ev" ] && echo 0 > "$ev/enable"

# --- ODP fault and invalidation, timed by rxe's own tracepoints
log "ODP fault and invalidation cost"
odp_ev=$trace/events/rxe_odp
printf 'buf_bytes\tevent\tlength\tduration_ns\n' > "$out/odp_trace.tsv"
if [ -d "$odp_ev" ]; then
	for mib in 1 16; do
		echo > "$trace/trace"
		echo 1 > "$odp_ev/enable"
		"$bin/odp_cost" "$dev" "$mib" 21 >> "$out/odp_cost.txt" 2>&1 ||
			log "odp_cost $mib MiB failed: $(tail -n 1 "$out/odp_cost.txt")"
		echo 0 > "$odp_ev/enable"
		# rxe_odp_fault: start=0x.. length=N duration_ns=N
		grep -o 'rxe_odp_[a-z]*: start=0x[0-9a-f]* length=[0-9]* duration_ns=[0-9]*' \
			"$trace/trace" | tr '=:' '  ' |
			awk -v b=$((mib << 20)) '{ print b "\t" $1 "\t" $5 "\t" $7 }' \
			>> "$out/odp_trace.tsv"
	done
	echo > "$trace/trace"
else
	log "no rxe_odp tracepoints in this kernel: ODP cost not measured"
fi

# --- bandwidth
runs_log=$out/bw-runs.log
: > "$runs_log"
printf 'round\ttool\tbytes\tconfig\tbw_MiBps\titerations\tmoves\tmover_s\trefaults\n' > "$out/bw.tsv"
nconf=$(echo $BENCH_CONFIGS | wc -w)
total=$((BENCH_REPS * $(echo $BENCH_TOOLS | wc -w) * $(echo $BENCH_SIZES | wc -w) * nconf))
log "bandwidth: $total runs of ${BENCH_DURATION} s ($BENCH_REPS rounds)"
start=$(date +%s)
done_runs=0
for round in $(seq "$BENCH_REPS"); do
	# Interleave: every round runs each configuration once per tool and
	# size, back to back, in an order that is reversed every other round.
	if [ $((round % 2)) = 1 ]; then order=$BENCH_CONFIGS
	else order=$(echo $BENCH_CONFIGS | tr ' ' '\n' | tac | tr '\n' ' '); fi
	for tool in $BENCH_TOOLS; do
		for size in $BENCH_SIZES; do
			for cfg in $order; do
				res=$(run_pair "$tool" "$size" "$cfg" $((18515 + done_runs % 400)))
				printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$tool" "$size" "$cfg" "$res" >> "$out/bw.tsv"
				done_runs=$((done_runs + 1))
			done
		done
	done
	log "round $round done: $done_runs/$total runs, $(($(date +%s) - start)) s"
done

# --- UCX and Open MPI over rxe0, pinned against ODP registration
if [ "${BENCH_CLIENTS:-ucx mpi}" != none ]; then
	BENCH_OUT=$out BENCH_REPS=$BENCH_REPS bash "$top/tests/bench/clients-bench.sh" ||
		log "clients-bench.sh failed (exit $?)"
fi
echo "end	$(date -u +%FT%TZ)" >> "$out/env.txt"
grep . /sys/class/infiniband/"$dev"/ports/1/hw_counters/* 2>/dev/null |
	sed 's|.*/||' > "$out/hw_counters.txt"
log "done"
