#!/bin/bash
# The test dma-buf exporter: its uAPI test (one case per "PASS x" /
# "FAIL x: why" / "SKIP x: why" line of exporter_test) between loading and
# unloading dmabuf_test_exporter; the unload proves no buffer or module
# reference leaked.
SUITE=exporter/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/xfer.sh"

bin=$RDG_TOP/build/tests/exporter/exporter_test
log=${CASE_LOG_DIR:-/tmp}/${SUITE//\//_}.log

if ! modprobe dmabuf_test_exporter; then
	fail modprobe "modprobe dmabuf_test_exporter failed"
	exit 0
fi
pass modprobe

if [ ! -x "$bin" ]; then
	fail exporter_test "$bin missing (make -C tests/exporter)"
else
	"$bin" >"$log" 2>&1
	rc=$?
	seen=0
	while IFS= read -r line; do
		case "$line" in
		"PASS "*) pass "${line#PASS }"; seen=1 ;;
		"FAIL "*) name=${line#FAIL }; fail "${name%%: *}" "${name#*: }"; seen=1 ;;
		"SKIP "*) name=${line#SKIP }; skip "${name%%: *}" "${name#*: }"; seen=1 ;;
		esac
	done <"$log"
	# A crash or a signal leaves no FAIL line of its own.
	if [ "$seen" = 0 ] || { [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$log"; }; then
		fail exporter_test "exit $rc: $(tail -n 3 "$log" | tr '\n' ' ' | cut -c1-300)"
	fi
fi

unload_exporter
