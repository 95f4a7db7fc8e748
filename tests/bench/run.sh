#!/bin/bash
# make bench: boot the bench kernel in a guest, measure rxe with pinned, ODP
# and dma-buf MRs, and write a report (Markdown table and PNG plots) to
# build/bench/<timestamp>/ (build/bench/latest points to the newest report).
#
# Needs the bench kernel (make kernel FLAVOR=bench), the patched perftest
# (make perftest) and python3-matplotlib. Knobs (see tests/bench/README):
#   BENCH_QUICK=1      a short run (about 8 minutes) instead of the full one (about 27)
#   BACKEND=uml|qemu   the guest (default uml); BENCH_MEM (default 4G)
#   BENCH_KERNEL=distro  with BACKEND=qemu: Debian's stock kernel with our
#                      modules (make kernel BACKEND=qemu FLAVOR=distro)
#                      instead of the bench kernel
#   BENCH_REPS, BENCH_DURATION, BENCH_SIZES, BENCH_TOOLS, BENCH_CONFIGS,
#   BENCH_REG_SIZES, BENCH_REFAULT_COUNT, BENCH_REFAULT_SIZES
#                      passed to the guest job
#   BENCH_CLIENTS      UCX and Open MPI measured with pinned and ODP
#                      registration: "ucx mpi" (default), one of them, or none
#   BENCH_BASE=REV     also boot the bench kernel of revision REV's rxe series
#                      (tests/bench/base-kernel.sh) and report before/after
#   BENCH_BASE_CONFIGS the memory types measured on it (default: pinned odp)
#
# Exit status: 0 when the benchmark ran and the report was written (the
# targets are reported, never enforced); 125 if the guest kernel logged a
# splat or died; otherwise non-zero when the run could not be completed.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
export BUILD=$build
backend=${BACKEND:-uml}
mem=${BENCH_MEM:-4G}
quick=${BENCH_QUICK:-0}
flavor=${BENCH_KERNEL:-bench}

die() { echo "bench: $*" >&2; exit 2; }
case "$backend" in uml|qemu) ;; *) die "BACKEND must be uml or qemu, not '$backend'" ;; esac
case "$flavor" in bench|distro) ;; *) die "BENCH_KERNEL must be bench or distro, not '$flavor'" ;; esac
if [ "$flavor" = distro ]; then
	[ "$backend" = qemu ] ||
		die "BENCH_KERNEL=distro is Debian's x86_64 kernel: it needs BACKEND=qemu"
	[ -z "${BENCH_BASE:-}" ] ||
		die "BENCH_BASE compares two revisions' bench kernels, not Debian's kernel (BENCH_KERNEL=distro)"
fi
case "$quick" in 0|1) ;; *) die "BENCH_QUICK must be 0 or 1, not '$quick'" ;; esac
for v in BENCH_REPS BENCH_DURATION BENCH_REFAULT_COUNT; do
	val=${!v:-}
	[ -z "$val" ] || [[ "$val" =~ ^[1-9][0-9]*$ ]] ||
		die "$v must be a positive whole number, not '$val'"
done

for v in BENCH_CONFIGS BENCH_BASE_CONFIGS; do
	for c in ${!v:-}; do
		case "$c" in pinned|odp|udmabuf|heap|exporter|move10ms|move1ms) ;;
		*) die "$v: unknown configuration '$c' (pinned odp udmabuf heap exporter move10ms move1ms)" ;;
		esac
	done
	[ -z "${!v:-}" ] || [[ " ${!v} " == *" pinned "* ]] ||
		die "$v must include pinned, the reference of every ratio"
done
clients=${BENCH_CLIENTS:-}
if [ "$clients" != none ]; then
	for c in $clients; do
		case "$c" in ucx|mpi) ;;
		*) die "BENCH_CLIENTS: unknown client '$c' (ucx mpi, or none alone)" ;;
		esac
	done
fi
# shellcheck source=tests/bench/knobs.sh
. "$top/tests/bench/knobs.sh"
check_tools_and_sizes
for v in BENCH_REG_SIZES BENCH_REFAULT_SIZES; do
	for s in ${!v:-}; do
		[[ "$s" =~ ^[1-9][0-9]*[KMG]?$ ]] ||
			die "$v: '$s' is not a size (a number with an optional K, M or G)"
	done
done

arch=$([ "$backend" = uml ] && echo um || echo x86_64)
[ "$flavor" = distro ] || [ -f "$build/kernel/$arch-bench/include/config/kernel.release" ] ||
	die "no bench kernel for $backend; build it: make kernel BACKEND=$backend FLAVOR=bench"
# (perftest exits 1 after --help)
help=$("$build/perftest/bin/ib_write_bw" --help 2>&1)
[[ "$help" == *--use_dmabuf_exporter* ]] ||
	die "perftest in $build/perftest has no dma-buf memory types; build it: make perftest"
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null ||
	die "python3-matplotlib is missing: apt-get install --no-install-recommends python3-matplotlib"
make -C "$top/tests/bench" --no-print-directory -s || die "building tests/bench failed"
base_build=
if [ -n "${BENCH_BASE:-}" ]; then
	base_build=$("$top/tests/bench/base-kernel.sh" "$BENCH_BASE" "$arch") || exit 2
fi

# A UML process's memory is host mmaps of the guest's pages, one per page
# at worst: registering (and touching) 1 GiB needs more than the host's
# default vm.max_map_count (65530) once guest memory is fragmented, and UML
# then kills the process ("UML ran out of memory on the host side").
want_maps=1048576
if [ "$backend" = uml ] && [ "$(cat /proc/sys/vm/max_map_count)" -lt "$want_maps" ]; then
	if [ -w /proc/sys/vm/max_map_count ]; then
		echo "bench: raising the host's vm.max_map_count to $want_maps for UML's 1 GiB registrations"
		echo "$want_maps" > /proc/sys/vm/max_map_count
	else
		echo "bench: the host's vm.max_map_count is $(cat /proc/sys/vm/max_map_count);" \
		     "1 GiB registrations in UML may fail (raise it to $want_maps as root)" >&2
	fi
fi

dir=$build/bench/$(date +%Y%m%d-%H%M%S)
mkdir -p "$dir"

# The full run takes 25-35 minutes of guest time; allow for a slow machine.
timeout=$([ "$quick" = 1 ] && echo 1200 || echo 3600)
env_args=()
for v in BENCH_QUICK BENCH_REPS BENCH_DURATION BENCH_SIZES BENCH_TOOLS BENCH_CONFIGS \
	 BENCH_REG_SIZES BENCH_REFAULT_COUNT BENCH_REFAULT_SIZES BENCH_CLIENTS; do
	[ -n "${!v:-}" ] && env_args+=("$v=${!v}")
done

echo "bench: $backend guest, $flavor kernel; results in $dir"
# The host's load, sampled: other work on this machine is noise in every figure.
printf 'cpus\t%s\nkernel\t%s\n' "$(nproc)" "$(uname -r)" > "$dir/host.txt"
(
	printf 'time\tload1\n'
	while :; do
		printf '%s\t%s\n' "$(date +%s)" "$(cut -d' ' -f1 /proc/loadavg)"
		sleep 10
	done
) > "$dir/host-load.tsv" &
sampler=$!
start=$(date +%s)
"$top/kernel/run-guest.sh" --backend "$backend" --flavor "$flavor" --mem "$mem" \
	--timeout "$timeout" --results "$dir/guest" -- \
	env "${env_args[@]}" bash "$top/tests/bench/guest-bench.sh"
rc=$?
echo "bench: guest finished in $(($(date +%s) - start)) s (exit $rc)"

# The base kernel: the same job in a second guest, fewer memory types.
# Ratios to pinned are compared across the two boots, never raw bandwidth.
report_args=("$dir" "$dir/guest")
if [ -n "$base_build" ] && [ "$rc" = 0 ]; then
	# The comparison is of rxe's MRs: the clients are not measured again.
	base_env=("${env_args[@]}" "BENCH_CONFIGS=${BENCH_BASE_CONFIGS:-pinned odp}"
		  BENCH_CLIENTS=none)
	echo "bench: the same job on $BENCH_BASE's kernel; results in $dir/base"
	start=$(date +%s)
	BUILD=$base_build "$top/kernel/run-guest.sh" --backend "$backend" --flavor bench \
		--mem "$mem" --timeout "$timeout" --results "$dir/base" -- \
		env "${base_env[@]}" bash "$top/tests/bench/guest-bench.sh"
	rc=$?
	echo "bench: base guest finished in $(($(date +%s) - start)) s (exit $rc)"
	printf 'rev\t%s\ncommit\t%s\n' "$BENCH_BASE" \
		"$(git -C "$top" rev-parse --short "$BENCH_BASE")" > "$dir/base/rev.txt"
	report_args+=("$dir/base")
fi
kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null

if [ -s "$dir/guest/bw.tsv" ] || [ -s "$dir/guest/reg.tsv" ]; then
	/usr/bin/python3 "$top/tests/bench/report.py" "${report_args[@]}" ||
		{ echo "bench: report.py failed" >&2; [ "$rc" = 0 ] && rc=1; }
fi
if [ -f "$dir/report.md" ]; then
	# latest: the newest run that produced a report
	ln -sfn "$(basename "$dir")" "$build/bench/latest"
	echo
	cat "$dir/report.md"
	echo
	echo "bench: report $dir/report.md, plots $dir/bw.png $dir/ratio.png"
fi
case "$rc" in
0) ;;
124) echo "bench: the guest timed out; console log: $dir/guest/console.log" >&2 ;;
125) echo "bench: the guest kernel logged a splat or died; console log: $dir/guest/console.log" >&2 ;;
*) echo "bench: the guest job failed (exit $rc); log: $dir/guest/output.log" >&2 ;;
esac
exit "$rc"
