#!/bin/bash
# perftest's dma-buf memory types on rxe0: WRITE, READ and SEND bandwidth
# with memory from the system dma-buf heap (--use_sys_dmabuf), udmabuf
# (--use_udmabuf) and the test exporter (--use_dmabuf_exporter), the test
# exporter moving its buffers during a run (--dmabuf_move_interval), and
# bad option values rejected with a clear message and a non-zero exit.
SUITE=perftest-dmabuf/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/perftest.sh"

modprobe dmabuf_test_exporter 2>/dev/null

# check_dmabuf_bw TOOL ARGS...: both sides register their buffer with
# ibv_reg_dmabuf_mr and the client reports a positive average bandwidth.
check_dmabuf_bw() {
	local tool=$1 out
	shift
	out=$(perftest_pair "$tool" -s 65536 -n 300 -F "$@" 2>&1) || {
		echo "$out"; echo "FAILED: $tool exited non-zero"; return 1; }
	echo "$out"
	[ "$(echo "$out" | grep -c 'Calling ibv_reg_dmabuf_mr')" -ge 2 ] || {
		echo "FAILED: not both sides registered a dma-buf MR"; return 1; }
	echo "$out" | sed '/^--- server/q' | awk '$1 == 65536 && NF >= 5 {
		if ($4 + 0 > 0) ok = 1 } END { exit !ok }' || {
		echo "FAILED: no positive bandwidth"; return 1; }
}

# check_moves TOOL: the test exporter moves the buffers every 2 ms during
# the run, the run completes, and the client reports moves and refaults.
check_moves() {
	local tool=$1 out moves refaults
	out=$(perftest_pair "$tool" -s 65536 -n 500 -F --use_dmabuf_exporter \
		--dmabuf_move_interval=2000 2>&1) || {
		echo "$out"; echo "FAILED: $tool exited non-zero"; return 1; }
	echo "$out"
	out=$(echo "$out" | sed '/^--- server/q')
	moves=$(echo "$out" | awk '/DMA-BUF moves   : [0-9]/ { print $4 }')
	refaults=$(echo "$out" | awk '/DMA-BUF refaults: [0-9]/ { print $3 }')
	echo "moves=$moves refaults=$refaults"
	[ -n "$moves" ] && [ "$moves" -gt 0 ] || { echo "FAILED: no moves reported"; return 1; }
	echo "$out" | grep -q 'move failures' && { echo "FAILED: a move failed"; return 1; }
	# rxe counts refaults; the moves invalidated a mapping in use.
	[ -n "$refaults" ] && [ "$refaults" -gt 0 ] || { echo "FAILED: no refaults reported"; return 1; }
}

# check_no_stdin ARGS...: check_dmabuf_bw with standard input closed, so
# that descriptor 0 is free for whatever perftest opens first (the device,
# as it happens). perftest takes a dma-buf fd of 0 for "no dma-buf"; the
# memory types never hand one out, and both sides must still register
# dma-buf MRs.
check_no_stdin() {
	( exec 0<&-; NO_STDIN=1 check_dmabuf_bw "$@" )
}

types="sys_dmabuf udmabuf dmabuf_exporter"
for type in $types; do
	for tool in ib_write_bw ib_read_bw ib_send_bw; do
		run_case "$tool-$type" check_dmabuf_bw "$tool" "--use_$type"
	done
	run_case "ib_write_bw-$type-stdin-closed" check_no_stdin ib_write_bw "--use_$type"
done
for tool in ib_write_bw ib_read_bw ib_send_bw; do
	run_case "$tool-dmabuf_exporter-moving" check_moves "$tool"
done

# Bad input: rejected by the option parser before any device work.
bad_interval='Invalid --dmabuf_move_interval .*whole number of microseconds from 1 to 60000000'
for v in abc 0 -1 1.5 10us "" 60000001 99999999999999999999; do
	expect_status "bad-interval-${v:-empty}" nonzero "$bad_interval" \
		ib_write_bw --use_dmabuf_exporter "--dmabuf_move_interval=$v"
done
expect_status interval-without-exporter nonzero \
	'--dmabuf_move_interval needs --use_dmabuf_exporter' \
	ib_write_bw --dmabuf_move_interval=1000
expect_status interval-with-heap nonzero \
	'--dmabuf_move_interval needs --use_dmabuf_exporter' \
	ib_read_bw --use_sys_dmabuf --dmabuf_move_interval=1000
for type in $types; do
	expect_status "odp-after-$type" nonzero "--odp can't be used with --use_$type" \
		ib_write_bw "--use_$type" --odp
	expect_status "odp-before-$type" nonzero "--odp can't be used with --use_$type" \
		ib_send_bw --odp "--use_$type"
done
expect_status two-dmabuf-types nonzero "Can't use multiple memory types" \
	ib_write_bw --use_sys_dmabuf --use_udmabuf
expect_status dmabuf-and-mmap nonzero "Can't use multiple memory types" \
	ib_write_bw --use_dmabuf_exporter --mmap=/dev/null
expect_status interval-missing-value nonzero "requires an argument" \
	ib_write_bw --use_dmabuf_exporter --dmabuf_move_interval
