#!/bin/bash
# shellcheck disable=SC2034 # the result arrays are read through namerefs
# The demo's guest side; its output is what make demo prints.
#
# The same transfer, 64 KiB RDMA WRITEs over rxe0, three ways: from
# ordinary (pinned) memory, from a dma-buf of the project's test exporter,
# and from that dma-buf while the exporter moves it to new pages. rdma_xfer
# writes and checks every byte with the CPU; perftest's ib_write_bw moves
# the same WRITEs without touching the data.
#
# A single run says little: on a shared machine the same run varies by a
# third from one run to the next. So every line runs once per round, in an
# order that rotates from round to round, and the demo reports the median
# over the rounds with the lowest and highest value; a ratio to the pinned
# MR compares runs of the same round, so that a slow phase of the machine
# weighs on both alike.
#
# Bandwidth mixes rxe with the tools' own work, on one CPU. So the demo
# also traces the scheduler and the workqueues during the rdma_xfer runs
# and splits the CPU time between rxe (its work items, and the kernel's
# deferred vunmap work after rxe drops a mapping), the exporter (its
# copies) and rdma_xfer itself; rxe's tracepoints time its invalidations
# and refaults. Each move is held until WRITEs on the buffer are in flight
# (--churn-in-flight); it also unmaps rdma_xfer's CPU mapping of the
# buffer, which then faults back in page by page: most of what a move
# costs the verified transfer in a UML guest, where a page fault is slow.
#
# The demo fails unless every byte was verified, the exporter moved the
# buffers, every move landed while WRITEs on its buffer were in flight,
# rxe invalidated mappings in use and refaulted (its refault counter
# leaves out an MR's first map, which is its lazy registration).
#
# DEMO_ITERS, DEMO_ROUNDS and DEMO_MOVE_US change the run, e.g. with
# make shell FLAVOR=bench CMD='DEMO_ROUNDS=3 bash tests/guest/demo-job.sh'.
# Not -e: each step that can fail is checked, to say what failed.
set -uo pipefail
size=65536 depth=16 iters=${DEMO_ITERS:-2000} rounds=${DEMO_ROUNDS:-7}
move_us=${DEMO_MOVE_US:-20000}
xfer=$RDG_TOP/build/tests/verbs/rdma_xfer
trace=/sys/kernel/tracing

die() { echo "demo: FAILED: $*" >&2; exit 1; }

# field NAME LINE: the value of NAME=value in rdma_xfer's summary line
field() { sed -n "s|.* $1=\([^ ]*\).*|\1|p" <<< "$2"; }

# median_range: "median lowest highest" of the numbers on stdin
median_range() {
	sort -g | awk '{ v[NR] = $1 }
		END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      print m, v[1], v[NR] }'
}

# The modes, in the order of the tables; a round starts one further on.
modes=(pinned dmabuf moved)
declare -A xfer_args=(
	[pinned]="--mem host"
	[dmabuf]="--mem dte"
	[moved]="--mem dte --move-every-us $move_us --churn-in-flight"
)
declare -A perftest_args=(
	[pinned]=""
	[dmabuf]="--use_dmabuf_exporter"
	[moved]="--use_dmabuf_exporter --dmabuf_move_interval=$move_us"
)
declare -A label=(
	[pinned]="pinned MR (ordinary memory)"
	[dmabuf]="dma-buf MR (test exporter)"
	[moved]="dma-buf MR, moved every $((move_us / 1000)) ms"
)

# Per mode and round (key "MODE ROUND"): rdma_xfer's MB/s, seconds, page
# faults and, when traced, CPU nanoseconds of rxe (with the deferred
# vunmap work, also apart in purge), the exporter and rdma_xfer; rxe's
# traced refault and invalidation nanoseconds; perftest's MB/s; the move
# counts of the moved rounds.
declare -A mbs secs faults cpu_rxe cpu_purge cpu_exporter cpu_tool
declare -A refault_ns drop_ns pt_mbs pt_moves moves in_flight inval refaults
total_bytes=0

# CPU time by who spent it, from the sched_switch and workqueue events of
# one run ("mono" clock), and rxe's refault and invalidation times leaving
# out each MR's first map. Prints "rxe purge exporter tool refault drop"
# in nanoseconds, or "lost" if the trace buffer overflowed.
# shellcheck disable=SC2016 # awk's $, not the shell's
split_cpu='
/entries-in-buffer\/entries-written:/ {
	split($3, e, "/")
	if (e[1] != e[2])
		lost = 1
}
/^#/ { next }
{
	i = index($0, "] ")
	if (!i)
		next
	split(substr($0, i + 2), a, ": ")
	split(a[1], b, " ")
	ts = b[2] + 0
	ev = a[2]
	if (!started) {
		# The first task: "comm-pid" before the CPU column.
		p = substr($0, 1, index($0, "[") - 1)
		gsub(/ /, "", p)
		pid = substr(p, match(p, /-[0-9]+$/) + 1)
		comm[pid] = substr(p, 1, RSTART - 1)
		started = 1
		last = ts
	}
	if (ev == "sched_switch" || ev ~ /^workqueue_execute_/) {
		w = work[pid]
		if (w ~ /\[rdma_rxe\]/)
			who = "rxe"
		else if (w ~ /^drain_vmap_area_work/)
			who = "purge"
		else if (w ~ /\[dmabuf_test_exporter\]/)
			who = "exporter"
		else if (w == "" && comm[pid] == "rdma_xfer")
			who = "tool"
		else
			who = "other"
		t[who] += ts - last
		last = ts
	}
	if (ev == "sched_switch") {
		pid = c = a[3]
		sub(/.* next_pid=/, "", pid)
		sub(/ .*/, "", pid)
		sub(/.* next_comm=/, "", c)
		sub(/ next_pid=.*/, "", c)
		comm[pid] = c
	} else if (ev == "workqueue_execute_start") {
		w = $0
		sub(/.*: function /, "", w)
		work[pid] = w
	} else if (ev == "workqueue_execute_end") {
		work[pid] = ""
	} else if (ev ~ /^rxe_dmabuf_(refault|invalidate)$/) {
		split(a[3], kv, " ")
		for (k in kv) {
			split(kv[k], x, "=")
			f[x[1]] = x[2]
		}
		if (f["err"] != 0)
			next
		if (ev == "rxe_dmabuf_invalidate")
			drop += f["duration_ns"]
		else if (seen[f["lkey"]]++)
			refault += f["duration_ns"]
	}
}
END {
	if (lost)
		print "lost"
	else
		printf "%.0f %.0f %.0f %.0f %.0f %.0f\n", t["rxe"] * 1e9,
		       t["purge"] * 1e9, t["exporter"] * 1e9, t["tool"] * 1e9,
		       refault, drop
}'

# Tracing is on only while rdma_xfer runs. Without the events (another
# kernel configuration) the demo runs all the same and says what it could
# not measure.
events="sched/sched_switch workqueue/workqueue_execute_start
	workqueue/workqueue_execute_end rxe/rxe_dmabuf_refault
	rxe/rxe_dmabuf_invalidate"
tracing=1
for e in $events; do
	[ -w "$trace/events/$e/enable" ] || tracing=0
done
if [ "$tracing" = 1 ]; then
	echo 0 > "$trace/tracing_on"
	echo mono > "$trace/trace_clock"
	echo 32768 > "$trace/buffer_size_kb"
	for e in $events; do
		echo 1 > "$trace/events/$e/enable"
	done
fi

# run_xfer MODE ROUND: one verified transfer
run_xfer() {
	local mode=$1 key="$1 $2" out split
	if [ "$tracing" = 1 ]; then
		echo > "$trace/trace"
		echo 1 > "$trace/tracing_on"
	fi
	# shellcheck disable=SC2086 # the mode's options are words
	out=$("$xfer" --quiet --op write --mtu 4096 --size "$size" \
		--iters "$iters" --depth "$depth" ${xfer_args[$mode]} 2>&1)
	local rc=$?
	[ "$tracing" = 0 ] || echo 0 > "$trace/tracing_on"
	[ "$rc" = 0 ] || { echo "$out"; die "${label[$mode]}: the transfer failed"; }
	[ "$(field verified "$out")" = "$((size * iters))" ] || {
		echo "$out"
		die "${label[$mode]}: not every byte was verified"
	}
	total_bytes=$((total_bytes + size * iters))
	mbs[$key]=$(field MB/s "$out")
	secs[$key]=$(field seconds "$out")
	faults[$key]=$(field page_faults "$out")
	if [ "$tracing" = 1 ]; then
		split=$(awk "$split_cpu" "$trace/trace")
		if ! [[ $split =~ ^[0-9]+( [0-9]+){5}$ ]]; then
			echo "demo: no CPU times from the trace of a run (${split:-no output}); not measured" >&2
			tracing=0
		else
			read -r "cpu_rxe[$key]" "cpu_purge[$key]" "cpu_exporter[$key]" \
				"cpu_tool[$key]" "refault_ns[$key]" "drop_ns[$key]" <<< "$split"
		fi
	fi
	[ "$mode" = moved ] || return 0
	moves[$key]=$(field moves "$out")
	in_flight[$key]=$(field moves_in_flight "$out")
	inval[$key]=$(field invalidations "$out")
	refaults[$key]=$(field refaults "$out")
	# What the demo is about: a failure here is a failure of the demo.
	((${moves[$key]:-0} > 0)) ||
		{ echo "$out"; die "${label[$mode]}: the exporter made no move"; }
	((${in_flight[$key]:-0} == moves[$key])) ||
		{ echo "$out"; die "${label[$mode]}: only ${in_flight[$key]:-none} of ${moves[$key]} moves landed while WRITEs on the buffer were in flight"; }
	((${inval[$key]:-0} > 0)) ||
		{ echo "$out"; die "${label[$mode]}: rxe invalidated no mapping in use"; }
	((${refaults[$key]:-0} > 0)) ||
		{ echo "$out"; die "${label[$mode]}: rxe never mapped a moved buffer again (no refault beyond an MR's first map)"; }
}

# run_perftest MODE ROUND: ib_write_bw, server and client on rxe0
run_perftest() {
	local mode=$1 key="$1 $2" out bw n
	# shellcheck disable=SC2086 # the mode's options are words
	ib_write_bw -d rxe0 -x 1 -s "$size" -n "$iters" -F ${perftest_args[$mode]} \
		> /tmp/server.log 2>&1 &
	sleep 0.5
	# shellcheck disable=SC2086
	if ! out=$(timeout 120 ib_write_bw -d rxe0 -x 1 -s "$size" -n "$iters" -F \
		${perftest_args[$mode]} "$RDG_SERVER_IP" 2>&1); then
		echo "$out"
		die "perftest ib_write_bw, ${label[$mode]}: failed"
	fi
	wait
	# perftest reports MiB/s: converted to MB/s like rdma_xfer's figure.
	bw=$(awk -v s="$size" '$1 == s && NF >= 5 { printf "%.1f", $4 * 1.048576 }' <<< "$out")
	[ -n "$bw" ] || { echo "$out"; die "perftest ib_write_bw, ${label[$mode]}: no bandwidth in its output"; }
	pt_mbs[$key]=$bw
	[ "$mode" = moved ] || return 0
	# Each side moves its own buffer: " DMA-BUF moves   : N in S s ..."
	n=$(cat - /tmp/server.log <<< "$out" |
		awk '/DMA-BUF moves +: [0-9]+ in/ { n += $4 } END { print n + 0 }')
	((n > 0)) || { echo "$out"; die "perftest ib_write_bw, ${label[$mode]}: the exporter made no move"; }
	pt_moves[$key]=$n
}

# table ARRAY UNIT: a line per mode, the median [range] of ARRAY's
# values and, but for pinned, the ratio to the pinned run of the same
# round
table() {
	local -n val=$1
	local unit=$2 mode r m lo hi rm rlo rhi
	for mode in "${modes[@]}"; do
		read -r m lo hi < <(for ((r = 0; r < rounds; r++)); do
			echo "${val[$mode $r]}"; done | median_range)
		printf '  %-32s %4.0f %-4s [%.0f-%.0f]' "${label[$mode]}" "$m" "$unit" "$lo" "$hi"
		if [ "$mode" != pinned ]; then
			read -r rm rlo rhi < <(for ((r = 0; r < rounds; r++)); do
				awk -v a="${val[$mode $r]}" -v b="${val[pinned $r]}" \
					'BEGIN { print a / b }'; done | median_range)
			printf '  %.2f x pinned [%.2f-%.2f]' "$rm" "$rlo" "$rhi"
		fi
		echo
	done
}

# sum ARRAY [MODE]: the sum of ARRAY's values (of MODE's rounds)
sum() {
	local -n val=$1
	local k
	for k in "${!val[@]}"; do
		[[ $k != "${2:-}"* ]] || echo "${val[$k]}"
	done | awk '{ t += $1 } END { printf "%.12g\n", t }'
}

# per_move ARRAY SCALE: over all rounds together, what ARRAY's values
# grew by from the still dma-buf runs to the moved ones, per move, divided
# by SCALE
per_move() {
	awk -v a="$(sum "$1" moved)" -v b="$(sum "$1" dmabuf)" -v n="$(sum moves)" \
		-v s="$2" 'BEGIN { print (a - b) / n / s }'
}

modprobe dmabuf_test_exporter || die "cannot load the test exporter (dmabuf_test_exporter)"
echo "rxe0 on a veth pair in a User-Mode Linux guest (one CPU), kernel $(uname -r) ($RDG_FLAVOR)"
echo
echo "$iters RDMA WRITEs of 64 KiB per run, $rounds rounds. A round runs every line once,"
echo "in an order that rotates from round to round; a figure is the median over the"
echo "rounds [lowest-highest], and \"x pinned\" compares a run with the pinned run of"
echo "its own round."

for ((r = 0; r < rounds; r++)); do
	for ((i = 0; i < ${#modes[@]}; i++)); do
		mode=${modes[(r + i) % ${#modes[@]}]}
		run_xfer "$mode" "$r"
		run_perftest "$mode" "$r"
	done
done

echo
echo "Bandwidth of rdma_xfer, which writes and checks every byte with the CPU:"
table mbs MB/s
echo "Bandwidth of perftest's ib_write_bw, the same WRITEs, data not touched:"
table pt_mbs MB/s
if [ "$tracing" = 1 ]; then
	declare -A rxe_per_write
	for k in "${!cpu_rxe[@]}"; do
		rxe_per_write[$k]=$(awk -v a="${cpu_rxe[$k]}" -v b="${cpu_purge[$k]}" \
			-v n="$iters" 'BEGIN { print (a + b) / n / 1e3 }')
	done
	echo "rxe's own CPU time per WRITE in the rdma_xfer runs (both ends of the link):"
	table rxe_per_write us
fi

echo
printf 'Moves in the rdma_xfer runs: %d, every one while WRITEs on the buffer were\n' \
	"$(sum moves)"
printf 'in flight. rxe dropped %d mappings in use and mapped a moved buffer again\n' \
	"$(sum inval)"
printf '%d times (its refaults; the first map of an MR is not one). perftest moved\n' \
	"$(sum refaults)"
printf 'its buffers %d times.\n' "$(sum pt_moves)"
echo
printf 'A move of a %d MiB buffer slows rdma_xfer by %.1f ms. CPU time per move, all\n' \
	"$((size * depth / 1048576))" "$(per_move secs 1e-3)"
echo "rounds together:"
if [ "$tracing" = 1 ]; then
	# rxe drops its mapping inside the move request, on rdma_xfer's time.
	n=$(sum moves)
	drop_ms=$(awk -v t="$(sum drop_ns)" -v n="$n" 'BEGIN { print t / n / 1e6 }')
	refault_ms=$(awk -v t="$(sum refault_ns)" -v n="$n" 'BEGIN { print t / n / 1e6 }')
	work_ms=$(per_move cpu_rxe 1e6)
	purge_ms=$(per_move cpu_purge 1e6)
	printf '  rxe               %5.2f ms  dropping its mapping %.2f ms, its refault (a new\n' \
		"$(awk -v a="$work_ms" -v b="$purge_ms" -v c="$drop_ms" 'BEGIN { print a + b + c }')" \
		"$drop_ms"
	printf '                               vmap of the buffer) %.2f ms, the rest of its\n' \
		"$refault_ms"
	printf '                               packet work %.2f ms, the kernel'"'"'s deferred\n' \
		"$(awk -v a="$work_ms" -v b="$refault_ms" 'BEGIN { print a - b }')"
	printf '                               vunmap of its old mappings %.2f ms\n' "$purge_ms"
	printf '  the exporter      %5.2f ms  copying the buffer\n' "$(per_move cpu_exporter 1e6)"
	printf '  rdma_xfer itself  %5.2f ms  its move requests (the exporter allocating new\n' \
		"$(awk -v a="$(per_move cpu_tool 1e6)" -v c="$drop_ms" 'BEGIN { print a - c }')"
	printf '                               pages) and %.0f page faults: a move unmaps its\n' \
		"$(per_move faults 1)"
	printf '                               CPU mapping of the buffer, which faults back in\n'
	printf '                               page by page as it fills and checks messages\n'
	printf '                               (a page fault is slow in UML)\n'
	echo "The moved line of rdma_xfer is mostly rdma_xfer's own page faults; perftest,"
	echo "which leaves the data alone, shows what the moves cost the transfer itself."
else
	echo "  not measured: this kernel lacks the sched, workqueue or rxe trace events"
fi
echo
echo "bytes verified: $total_bytes"
