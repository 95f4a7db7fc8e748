#!/bin/bash
# Teardown races (tests/stress/teardown): MR deregistration, QP destroy,
# dma-buf release, process exit and SIGKILL, ODP munmap and kill, each
# while WRITEs and exporter moves are in flight (each kind must tear
# down at least once with WRs outstanding: one that has not by the end
# of its budget goes on until it has, for at most a minute, else fails);
# then device removal (rdma link delete) while rdma_xfer traffic flows
# through it, and rxe0 added back (also after a failed delete, and when
# the suite ends: later suites need it). After each kind a verified
# rdma_xfer run shows the device still works; the exporter's module
# reference count must return to where it was after every iteration, and
# the module must unload at the end.
#
# How long (one teardown run per kind, seven kinds, then link deletes):
#   STRESS_SECONDS  the suite's time budget (make stress), split in eight:
#                   each kind runs for STRESS_SECONDS/8 seconds (at least
#                   1; one iteration always runs), and link deletes repeat
#                   until as long again has passed (at least one), so the
#                   suite takes about STRESS_SECONDS plus its fixed cases.
#                   1..86400.
#   STRESS_ITERS    otherwise, iterations per kind, 1..1000 (default 5,
#                   make test's short run; link deletes: at most 3).
# On QEMU (RDG_BACKEND=qemu: TCG, where starting a program alone takes
# some 2 s) the defaults are a quarter: 2 iterations per kind, one link
# delete, and the rdma_xfer checks move a quarter of the messages.
SUITE=stress-teardown/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/xfer.sh"

# A bad variable is recorded (the suite would otherwise vanish from the
# results) and ends the suite with status 2.
bad_env() {
	echo "stress-teardown: $1" >&2
	fail env "$1"
	exit 2
}
if [ -n "${STRESS_ITERS+x}" ] &&
   ! [[ $STRESS_ITERS =~ ^[1-9][0-9]{0,2}$|^1000$ ]]; then
	bad_env "STRESS_ITERS must be an integer from 1 to 1000, not '$STRESS_ITERS'"
fi
if [ -n "${STRESS_SECONDS+x}" ] &&
   ! [[ $STRESS_SECONDS =~ ^[1-9][0-9]{0,4}$ && $STRESS_SECONDS -le 86400 ]]; then
	bad_env "STRESS_SECONDS must be an integer from 1 to 86400, not '$STRESS_SECONDS'"
fi

teardown=$RDG_TOP/build/tests/stress/teardown
xfer=$RDG_TOP/build/tests/verbs/rdma_xfer
logdir=${CASE_LOG_DIR:-/tmp}
kinds="dereg destroy-qp close-fd exit kill odp-munmap odp-kill"

# pct: share of the UML iteration counts; slow: factor of fixed waits
# that include a program's start-up.
if [ "$RDG_BACKEND" = qemu ]; then
	pct=25 slow=5 tmo=1800
else
	pct=100 slow=1 tmo=600
fi
iters_of() { local n=$(($1 * pct / 100)); echo $((n > $2 ? n : $2)); }
usable_iters=$(iters_of 50 10)
if [ -n "${STRESS_SECONDS+x}" ]; then
	per_part=$((STRESS_SECONDS / 8))
	[ "$per_part" -ge 1 ] || per_part=1
	budget=(--seconds "$per_part")
	tmo=$((tmo + per_part))
	echo "stress-teardown: $per_part s per kind and for link deletes (STRESS_SECONDS=$STRESS_SECONDS)"
else
	iters=${STRESS_ITERS:-$(iters_of 5 2)}
	budget=(--iters "$iters")
	link_deletes=$(iters_of 3 1)
	[ "$link_deletes" -le "$iters" ] || link_deletes=$iters
fi

if ! modprobe dmabuf_test_exporter; then
	fail modprobe "modprobe dmabuf_test_exporter failed"
	exit 0
fi
pass modprobe

# The netdev under rxe0 (veth0 in the loopback guest, see
# kernel/guest/rxe-up; eth0 in a two-node one), to add rxe0 back on.
rxe_netdev() {
	rdma link show | awk '$2 == "rxe0/1" { for (i = 3; i < NF; i++) if ($i == "netdev") print $(i + 1) }'
}
rxe0_netdev=$(rxe_netdev)
: "${rxe0_netdev:=veth0}"

# rxe0_ready: wait until rxe0's port is ACTIVE and GID index 1, the
# IPv4-based GID that rdma_xfer and the stress programs use, is filled
# in: the GID table is populated after the port comes up.
rxe0_ready() {
	local ib=/sys/class/infiniband/rxe0/ports/1 state gid
	for _ in $(seq $((50 * slow))); do
		state=$(cat "$ib/state" 2>/dev/null)
		gid=$(cat "$ib/gids/1" 2>/dev/null)
		[ "$state" = "4: ACTIVE" ] && [ -n "$gid" ] &&
			[ "$gid" != 0000:0000:0000:0000:0000:0000:0000:0000 ] &&
			return 0
		sleep 0.1
	done
	echo "rxe0 not ready: port state '${state:-none}', GID 1 '${gid:-none}'"
	return 1
}

# rxe0_restore: add rxe0 back if a link delete case left the guest
# without it (a delete that timed out, an add that failed), then wait
# until it is ready; every later suite needs it.
rxe0_restore() {
	if [ ! -e /sys/class/infiniband/rxe0 ]; then
		echo "stress-teardown: rxe0 is missing; adding it on $rxe0_netdev"
		rdma link add rxe0 type rxe netdev "$rxe0_netdev" || return 1
	fi
	rxe0_ready
}
# Also when the suite ends early.
trap 'rxe0_restore >/dev/null || fail rxe0-restore "cannot bring rxe0 back on $rxe0_netdev"' EXIT

usable() {
	run_case "$1-then-xfer" xfer_expect "moves>0" -- --op write \
		--size 64K --iters "$usable_iters" --depth 8 --mem dte \
		--move-every-us 2000
}

for kind in $kinds; do
	run_case "$kind" timeout "$tmo" "$teardown" --kinds "$kind" \
		"${budget[@]}"
	grep '^teardown: ' "$logdir/${SUITE//\//_}_$kind.log"
	usable "$kind"
done

# rxe0_uverbs: set $uverbs to the name of rxe0's uverbs device (a
# variable, not printed: a command substitution forks).
rxe0_uverbs() {
	local d n
	uverbs=
	for d in /sys/class/infiniband_verbs/uverbs*; do
		read -r n 2>/dev/null <"$d/ibdev" || continue
		[ "$n" = rxe0 ] && uverbs=${d##*/}
	done
}

# link_delete_once: rdma_xfer moves data from moving dma-bufs; rxe0 is
# deleted under it. rxe has no disassociate_ucontext, so the deletion
# waits, in uverbs' removal, for the process to close the device. That
# the delete met traffic in flight is shown, not assumed: once rxe0's
# uverbs device is gone (the delete is in that wait), rxe0's sent_pkts
# must still rise, with rdma_xfer's WRs outstanding; then rdma_xfer is
# killed, and must die of the kill (not have ended on an error before).
# Then rxe0 comes back on the same netdev and must be ACTIVE, with its
# GID 1 in place.
link_delete_once() {
	local netdev xpid dpid waited=no rc xrc i uverbs sent0 sent1
	local hw=/sys/class/infiniband/rxe0/ports/1/hw_counters
	netdev=$(rxe_netdev)
	[ -n "$netdev" ] || { echo "no rxe0 link"; return 1; }
	rxe0_uverbs
	[ -n "$uverbs" ] || { echo "no uverbs device of rxe0"; return 1; }
	"$xfer" --op write --size 256K --seconds 600 --depth 8 --mem dte \
		--move-every-us 1000 >/dev/null 2>&1 &
	xpid=$!
	# Past its set-up, into traffic.
	sleep "$slow"
	timeout $((50 * slow)) rdma link delete rxe0 &
	dpid=$!
	for ((i = 0; i < 50 * slow; i++)); do
		[ -e "/sys/class/infiniband_verbs/$uverbs" ] || break
		sleep 0.1
	done
	read -r sent0 2>/dev/null <"$hw/sent_pkts" || sent0=0
	sleep 1
	read -r sent1 2>/dev/null <"$hw/sent_pkts" || sent1=0
	kill -0 "$dpid" 2>/dev/null && waited=yes
	kill -9 "$xpid" 2>/dev/null
	wait "$xpid"
	xrc=$?
	wait "$dpid"
	rc=$?
	echo "link delete: exit $rc, waited for the process: $waited, packets sent while it waited: $((sent1 - sent0)), rdma_xfer's exit status $xrc"
	if [ -e "/sys/class/infiniband_verbs/$uverbs" ]; then
		echo "the delete never removed $uverbs"
		return 1
	fi
	[ "$rc" = 0 ] || return 1
	if [ "$waited" != yes ] || [ "$xrc" != 137 ] || ((sent1 <= sent0)); then
		echo "no traffic in flight through the delete: it must wait for rdma_xfer (waited: $waited), rxe0 send packets meanwhile (sent: $((sent1 - sent0))) and rdma_xfer die of the kill (exit status: $xrc; 137 if killed)"
		return 1
	fi
	[ ! -e /sys/class/infiniband/rxe0 ] || { echo "rxe0 still there"; return 1; }
	rdma link add rxe0 type rxe netdev "$netdev" || return 1
	rxe0_ready || return 1
	for _ in $(seq $((100 * slow))); do
		[ "$(cat /sys/module/dmabuf_test_exporter/refcnt)" = 0 ] && return 0
		sleep 0.2
	done
	echo "dmabuf_test_exporter refcnt $(cat /sys/module/dmabuf_test_exporter/refcnt)"
	return 1
}
link_delete() {
	run_case "link-delete-$1" link_delete_once
	grep '^link delete' "$logdir/${SUITE//\//_}_link-delete-$1.log"
	# After a failed case too: the rest of the run needs rxe0.
	rxe0_restore ||
		fail "link-delete-$1-restore" "cannot bring rxe0 back on $rxe0_netdev"
	usable "link-delete-$1"
}
if [ -n "${STRESS_SECONDS+x}" ]; then
	end=$((SECONDS + per_part)) i=0
	while :; do
		i=$((i + 1))
		link_delete "$i"
		[ "$SECONDS" -lt "$end" ] || break
	done
	echo "stress-teardown: link deletes: $i in $per_part s"
else
	for i in $(seq "$link_deletes"); do
		link_delete "$i"
	done
fi

expect_status usage-iters 2 'iters must be an integer from 1 to 1000' \
	"$teardown" --iters 1001
expect_status usage-kinds 2 "unknown --kinds entry 'reboot'" "$teardown" \
	--kinds reboot
expect_status usage-seconds 2 'seconds must be an integer from 1 to 86400' \
	"$teardown" --seconds 86401
expect_status usage-seconds-word 2 "seconds must be an integer .*'1h'" \
	"$teardown" --seconds 1h
expect_status usage-iters-seconds 2 'iters and --seconds exclude each other' \
	"$teardown" --seconds 5 --iters 1
expect_status usage-env 2 'STRESS_ITERS must be an integer' \
	env STRESS_ITERS=-3 "$teardown"
# The suite's own variables; its records of them go nowhere.
expect_status usage-suite-env 2 'STRESS_ITERS must be an integer' \
	env STRESS_ITERS=many RESULTS_FILE=/dev/null bash "${BASH_SOURCE[0]}"
expect_status usage-suite-seconds 2 \
	"STRESS_SECONDS must be an integer from 1 to 86400, not '-5'" \
	env STRESS_SECONDS=-5 RESULTS_FILE=/dev/null bash "${BASH_SOURCE[0]}"
expect_status usage-suite-seconds-empty 2 \
	"STRESS_SECONDS must be an integer from 1 to 86400, not ''" \
	env STRESS_SECONDS= RESULTS_FILE=/dev/null bash "${BASH_SOURCE[0]}"

unload_exporter
