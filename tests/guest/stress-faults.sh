#!/bin/bash
# Failures of rxe's dma-buf refault path (tests/stress/faults): a move the
# exporter fails (DTE_IOC_FAIL_MAPS: its fence carries the error, which
# rxe, a CPU importer that never maps, checks before it vmaps), fence
# timeouts and revocation mid-message, each on the requester's and the
# responder's MR. Each must fail exactly the WR that hit it, with the
# status rxe_dmabuf.c gives it, put the QPs in the error state the spec
# asks for, leave a bystander QP pair's traffic intact and release every
# attachment; unloading dmabuf_test_exporter at the end proves nothing
# leaked (kmemleak is scanned by the guest after the run). There is no
# failslab or fail_page_alloc injection: the refault allocates nothing of
# its own, and the exporter's vmap, where the allocations are, may not
# fail without a dma-buf core WARN (see the header of faults.c).
#
# How long (one faults run per kind, three kinds):
#   STRESS_SECONDS  the suite's time budget (make stress): each kind runs
#                   for STRESS_SECONDS/3 seconds (at least 1; its first
#                   local and remote cases always run), so the suite takes
#                   about STRESS_SECONDS plus its fixed cases. 1..86400.
#   STRESS_ITERS    otherwise, cases per kind and side, 1..100 (default 1:
#                   make test's short run).
# On QEMU (RDG_BACKEND=qemu: TCG) the closing transfer does a quarter of
# the messages. The fault cases themselves are cheap there too (about
# 0.5-1 s each, the fence timeouts 7 s): what takes time is starting
# programs, some 2 s each.
SUITE=stress-faults/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/xfer.sh"

# A bad variable is recorded (the suite would otherwise vanish from the
# results) and ends the suite with status 2.
bad_env() {
	echo "stress-faults: $1" >&2
	fail env "$1"
	exit 2
}
if [ -n "${STRESS_ITERS+x}" ] &&
   ! [[ $STRESS_ITERS =~ ^[1-9][0-9]?$|^100$ ]]; then
	bad_env "STRESS_ITERS must be an integer from 1 to 100, not '$STRESS_ITERS'"
fi
if [ -n "${STRESS_SECONDS+x}" ] &&
   ! [[ $STRESS_SECONDS =~ ^[1-9][0-9]{0,4}$ && $STRESS_SECONDS -le 86400 ]]; then
	bad_env "STRESS_SECONDS must be an integer from 1 to 86400, not '$STRESS_SECONDS'"
fi

faults=$RDG_TOP/build/tests/stress/faults
# shellcheck disable=SC2034 # xfer_expect's rdma_xfer
xfer=$RDG_TOP/build/tests/verbs/rdma_xfer
logdir=${CASE_LOG_DIR:-/tmp}
kinds="fail-maps fence-timeout revoke"

if [ "$RDG_BACKEND" = qemu ]; then
	usable_iters=25 tmo=1800
else
	usable_iters=100 tmo=600
fi
if [ -n "${STRESS_SECONDS+x}" ]; then
	per_kind=$((STRESS_SECONDS / 3))
	[ "$per_kind" -ge 1 ] || per_kind=1
	budget=(--seconds "$per_kind")
	tmo=$((tmo + per_kind))
	echo "stress-faults: $per_kind s per kind (STRESS_SECONDS=$STRESS_SECONDS)"
else
	budget=(--iters "${STRESS_ITERS:-1}")
fi

if ! modprobe dmabuf_test_exporter; then
	fail modprobe "modprobe dmabuf_test_exporter failed"
	exit 0
fi
pass modprobe

for kind in $kinds; do
	log=$logdir/${SUITE//\//_}_$kind.log
	run_case "$kind" timeout "$tmo" "$faults" --kinds "$kind" "${budget[@]}"
	grep '^faults: ' "$log"
done

# The device still moves verified data, from a moving dma-buf.
run_case device-usable xfer_expect "moves>0" -- --op write --size 64K \
	--iters "$usable_iters" --depth 8 --mem dte --move-every-us 2000

expect_status usage-iters 2 'iters must be an integer from 1 to 100' \
	"$faults" --iters 0
expect_status usage-size 2 'size must be an integer' "$faults" --size 1x
expect_status usage-kinds 2 "unknown --kinds entry 'oom'" "$faults" \
	--kinds revoke,oom
expect_status usage-seconds 2 'seconds must be an integer from 1 to 86400' \
	"$faults" --seconds 0
expect_status usage-seconds-word 2 "seconds must be an integer .*'soon'" \
	"$faults" --seconds soon
expect_status usage-iters-seconds 2 'iters and --seconds exclude each other' \
	"$faults" --iters 2 --seconds 10
expect_status usage-env 2 'STRESS_ITERS must be an integer' \
	env STRESS_ITERS=ten "$faults"
# The suite's own variables; its records of them go nowhere.
expect_status usage-suite-env 2 'STRESS_ITERS must be an integer' \
	env STRESS_ITERS=0 RESULTS_FILE=/dev/null bash "${BASH_SOURCE[0]}"
expect_status usage-suite-seconds 2 \
	"STRESS_SECONDS must be an integer from 1 to 86400, not '2m'" \
	env STRESS_SECONDS=2m RESULTS_FILE=/dev/null bash "${BASH_SOURCE[0]}"
expect_status usage-suite-seconds-zero 2 \
	"STRESS_SECONDS must be an integer from 1 to 86400, not '0'" \
	env STRESS_SECONDS=0 RESULTS_FILE=/dev/null bash "${BASH_SOURCE[0]}"

unload_exporter
