# Checks of the knobs that tests/bench/run.sh and tests/bench/odp-qps.sh
# share; sourced after the caller defines die MESSAGE.
# shellcheck shell=bash

# check_tools_and_sizes: BENCH_TOOLS names perftest tools, BENCH_SIZES
# message sizes perftest takes.
check_tools_and_sizes() {
	local t s
	for t in ${BENCH_TOOLS:-}; do
		case "$t" in ib_write_bw|ib_read_bw|ib_send_bw) ;;
		*) die "BENCH_TOOLS: unknown tool '$t' (ib_write_bw ib_read_bw ib_send_bw)" ;;
		esac
	done
	for s in ${BENCH_SIZES:-}; do
		[[ "$s" =~ ^[1-9][0-9]*$ ]] && [ "$s" -le 8388608 ] ||
			die "BENCH_SIZES: '$s' is not a message size in bytes (1..8388608)"
	done
}
