#!/bin/bash
# make bench-odp-qps: the ODP copy path of the 6.12 series against
# upstream's (the 7.3 series keeps upstream's), with several QPs on one ODP
# MR in a QEMU SMP guest. On 6.12, copies into and out of one ODP MR take
# a per-umem rwsem for read and run at once; upstream holds the umem's
# mutex across every copy. The two bases differ in much else, so raw
# bandwidth is never compared across them: each base's ODP bandwidth is
# taken over its pinned bandwidth in the same round, and the report gives
# the ratio of those ratios (tests/bench/report_odp_qps.py).
#
# Knobs: BENCH_BOOTS (guests per base, default 2; booted 6.12, 7.3, 7.3,
# 6.12, ... so that a slow phase of the machine hits both), BENCH_SMP (vCPUs,
# default 2), BENCH_REPS, BENCH_DURATION, BENCH_QPS, BENCH_TOOLS,
# BENCH_SIZES (tests/bench/odp-qps-guest.sh).
#
# Exit status: 0 when every guest ran and the report was written; 125 if a
# guest kernel logged a splat or died; otherwise non-zero.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
export BUILD=$build

die() { echo "bench-odp-qps: $*" >&2; exit 2; }
for v in BENCH_BOOTS BENCH_SMP BENCH_REPS BENCH_DURATION; do
	val=${!v:-}
	[ -z "$val" ] || [[ "$val" =~ ^[1-9][0-9]*$ ]] ||
		die "$v must be a positive whole number, not '$val'"
done
[ "${BENCH_SMP:-2}" -ge 2 ] ||
	die "BENCH_SMP must be at least 2: copies on one CPU never run at once"
for q in ${BENCH_QPS:-}; do
	[[ "$q" =~ ^[1-9][0-9]*$ ]] && [ "$q" -le 64 ] ||
		die "BENCH_QPS: '$q' is not a number of QPs (1..64)"
done
# shellcheck source=tests/bench/knobs.sh
. "$top/tests/bench/knobs.sh"
check_tools_and_sizes
[ "${BENCH_CHECK_ONLY:-0}" = 1 ] && exit 0
for b in 6.12 7.3; do
	suffix=$([ "$b" = 7.3 ] && echo -7.3)
	[ -f "$build/kernel/x86_64-bench$suffix/arch/x86/boot/bzImage" ] ||
		die "no QEMU bench kernel for $b; build it: make kernel BACKEND=qemu FLAVOR=bench BASE=$b"
done
[ -x "$build/perftest/bin/ib_write_bw" ] || die "no perftest in $build/perftest; build it: make perftest"

boots=${BENCH_BOOTS:-2}
# A run takes its duration plus about 5 s of set-up under TCG; twice that,
# and the boot.
nruns=$((${BENCH_REPS:-3} * $(wc -w <<< "${BENCH_QPS:-1 2 4}") *
	 $(wc -w <<< "${BENCH_TOOLS:-ib_write_bw ib_read_bw}") *
	 $(wc -w <<< "${BENCH_SIZES:-65536}") * 2))
timeout=$((600 + 2 * nruns * (${BENCH_DURATION:-2} + 5)))
dir=$build/bench/odp-qps-$(date +%Y%m%d-%H%M%S)
mkdir -p "$dir"
env_args=()
for v in BENCH_REPS BENCH_DURATION BENCH_QPS BENCH_TOOLS BENCH_SIZES; do
	[ -n "${!v:-}" ] && env_args+=("$v=${!v}")
done

echo "bench-odp-qps: $boots QEMU guests per base, ${BENCH_SMP:-2} vCPUs; results in $dir"
printf 'cpus\t%s\nkernel\t%s\n' "$(nproc)" "$(uname -r)" > "$dir/host.txt"
rc=0
for i in $(seq "$boots"); do
	order="6.12 7.3"
	[ $((i % 2)) = 1 ] || order="7.3 6.12"
	for b in $order; do
		res=$dir/$b-$i
		echo "bench-odp-qps: guest $i of $boots on $b"
		"$top/kernel/run-guest.sh" --backend qemu --flavor bench --base "$b" \
			--smp "${BENCH_SMP:-2}" --mem 2G --timeout "$timeout" --quiet \
			--results "$res" -- \
			env "${env_args[@]}" bash "$top/tests/bench/odp-qps-guest.sh"
		grc=$?
		printf 'base\t%s\nboot\t%s\nrc\t%s\n' "$b" "$i" "$grc" > "$res/base.txt"
		if [ "$grc" != 0 ]; then
			echo "bench-odp-qps: the $b guest failed (exit $grc); log: $res/console.log" >&2
			[ "$rc" = 125 ] || rc=$grc
		fi
	done
done

/usr/bin/python3 "$top/tests/bench/report_odp_qps.py" "$dir" ||
	{ echo "bench-odp-qps: report_odp_qps.py failed" >&2; [ "$rc" = 0 ] && rc=1; }
[ -f "$dir/report.md" ] && { echo; cat "$dir/report.md"; echo; echo "bench-odp-qps: report $dir/report.md"; }
exit "$rc"
