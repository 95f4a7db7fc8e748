# One perftest run in a guest, server and client on the same rxe device;
# sourced by tests/bench/guest-bench.sh and tests/bench/odp-qps-guest.sh,
# after tests/lib/perftest.sh.
#
# The caller sets: dev and gid (the device and GID index), server_ip,
# BENCH_DURATION (seconds of a -D run) and runs_log (the file every run's
# output is appended to).
# shellcheck shell=bash
# The variables above are the caller's.
# shellcheck disable=SC2154

# The perftest arguments of a memory type (both sides get them).
cfg_args() {
	case "$1" in
	pinned) ;;
	odp) echo --odp ;;
	udmabuf) echo --use_udmabuf ;;
	heap) echo --use_sys_dmabuf ;;
	exporter) echo --use_dmabuf_exporter ;;
	move10ms) echo --use_dmabuf_exporter --dmabuf_move_interval=10000 ;;
	move1ms) echo --use_dmabuf_exporter --dmabuf_move_interval=1000 ;;
	*) echo "bench: unknown configuration '$1'" >&2; return 1 ;;
	esac
}

# run_pair TOOL SIZE CONFIG PORT [ARG...]: one run, ARGs added on both
# sides; prints "bw_MiBps iterations moves mover_s refaults", NA for what
# it lacks (moves in mover_s seconds of the client's mover thread;
# refaults of the whole device meanwhile).
run_pair() {
	local tool=$1 size=$2 cfg=$3 port=$4 args rc out
	local clog=/tmp/bench-client.log slog=/tmp/bench-server.log
	shift 4
	# shellcheck disable=SC2207
	args=(-d "$dev" -x "$gid" -m 4096 -s "$size" -D "$BENCH_DURATION" -F -p "$port"
	      $(cfg_args "$cfg") "$@")
	serve_and_connect $((BENCH_DURATION + 60)) "$port" "$slog" \
		"$tool" "${args[@]}" -- "$tool" "${args[@]}" "$server_ip" > "$clog" 2>&1
	rc=$client_rc
	[ "$rc" = 0 ] && rc=$server_rc
	out=$(<"$clog")
	{
		echo "=== $tool size=$size cfg=$cfg args=$* rc=$rc"
		echo "$out"
		echo "--- server"
		cat "$slog"
	} >> "$runs_log"
	echo "$out" | awk -v s="$size" -v rc="$rc" '
		$1 == s && NF >= 5 { bw = $4; it = $2 }
		/DMA-BUF moves   : [0-9]/ { mv = $4; ms = $6 }
		/DMA-BUF refaults: [0-9]/ { rf = $3 }
		END {
			if (rc != 0 || bw == "") bw = "NA"
			printf "%s\t%s\t%s\t%s\t%s\n", bw, it == "" ? "NA" : it,
				mv == "" ? "NA" : mv, ms == "" ? "NA" : ms,
				rf == "" ? "NA" : rf
		}'
}
