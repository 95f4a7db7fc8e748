# Helpers shared by the guest suites that move data with rdma_xfer and
# use the test exporter. Source after tests/lib/result.sh; $xfer names the
# rdma_xfer binary.

# QEMU runs under TCG, many times slower than UML: its cases get a quarter
# of the iterations and their churn a quarter as often (its point is SMP
# concurrency, not volume). At UML's churn periods a TCG guest spent most
# of a case restoring evicted buffers, and once a fork every 5 ms kept an
# ODP fault from completing (tests/guest/odp.sh).
qemu_slowdown=$([ "$RDG_BACKEND" = qemu ] && echo 4 || echo 1)
# iters_of N: set $iters to N iterations scaled to this backend, at least 2.
# period_of US: set $period to a churn period of US microseconds scaled to
# this backend. Both set a variable rather than print: a command
# substitution forks, and a fork costs 0.1-0.4 s in a TCG guest.
iters_of() { iters=$(($1 / qemu_slowdown)); ((iters > 2)) || iters=2; }
period_of() { period=$(($1 * qemu_slowdown)); }

# xfer_expect COND... -- ARGS...: rdma_xfer ARGS exits 0, its summary line
# says every byte it moved was verified, and each COND (FIELD OP NUMBER,
# e.g. "moves>0") holds for the summary's FIELD=value words, which are
# left in the associative array xfer_summary.
declare -A xfer_summary=()
xfer_expect() {
	local conds=() out line word key
	local -n field=xfer_summary
	field=()
	while [ "$1" != -- ]; do conds+=("$1"); shift; done
	shift
	out=$("$xfer" "$@" 2>&1)
	local rc=$?
	echo "$out"
	[ "$rc" = 0 ] || return "$rc"
	# A loop, not grep: a fork costs 70 ms or more in a slow guest.
	while IFS= read -r line; do
		[[ $line == 'rdma_xfer: op='* ]] && break
	done <<<"$out"
	[[ $line == 'rdma_xfer: op='* ]] || return 1
	for word in $line; do
		[[ $word == *=* ]] && field[${word%%=*}]=${word#*=}
	done
	conds+=("verified==${field[size]:-0}*${field[iters]:-0}")
	for cond in "${conds[@]}"; do
		key=${cond%%[<>=!]*}
		if [[ ! ${field[$key]} =~ ^[0-9]+$ ]] || ! (( field[$key] ${cond#"$key"} )); then
			echo "summary fails $cond (${key}=${field[$key]:-missing})"
			return 1
		fi
	done
}

# exporter_unloads: whether dmabuf_test_exporter unloads, i.e. no buffer,
# attachment or mapping leaked. Buffers are released through delayed
# fput: give them a moment.
exporter_unloads() {
	for _ in 1 2 3 4 5; do
		modprobe -r dmabuf_test_exporter 2>/dev/null && return 0
		sleep 1
	done
	return 1
}

# unload_exporter: record whether dmabuf_test_exporter unloads.
unload_exporter() {
	if exporter_unloads; then
		pass modprobe-r
	else
		fail modprobe-r "dmabuf_test_exporter stays loaded: $(lsmod | grep '^dmabuf_test_exporter ')"
	fi
}
