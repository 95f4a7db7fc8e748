# What the clients suite (tests/guest/clients.sh) and the two-node MPI
# tests (tests/twonode.sh) make of Open MPI and UCX runs over rxe0.

# With UCX_IB_REG_METHODS=odp, UCX 1.13 and 1.14 crash at ucp_cleanup()
# when the lkey of the implicit ODP MR they registered is odd: teardown
# passes that memory handle where deregistration parameters are expected,
# the lkey becomes the field mask, and a memh of 0x1 is dereferenced. rxe
# keys are random, so it is a coin flip per process. The data has moved by
# then. Upstream removed this code in UCX 1.15 (commit de71ac6775). Such an
# exit is recognised by its status and its signature in UCX's own report,
# and recorded as a SKIP naming the bug, never as a PASS.
ucx_odp_crash='UCX 1.13 implicit-ODP teardown bug (SIGSEGV at 0x11 in uct_ib_md_close; gone since UCX 1.15, upstream commit de71ac6775)'

# ucx_known_crash STATUS LOG: STATUS is a SIGSEGV and LOG has the
# signature of the teardown bug above.
ucx_known_crash() {
	local log
	[ "$1" = 139 ] || return 1
	log=$(<"$2")
	[[ $log == *"Caught signal 11 (Segmentation fault: address not mapped to object at address 0x11)"* &&
	   $log == *uct_ib_md_close* ]]
}

# mpi_check_verified LOG MTU: mpi_check's output in LOG says every byte it
# moved was verified; sets mpi_volume to the bytes it moved and
# mpi_packets to the fewest packets of MTU bytes they take.
mpi_check_verified() {
	local line verified=
	mpi_volume=0
	while IFS= read -r line; do
		case $line in
		'mpi_check: send/recv: '* | 'mpi_check: put/get: '*)
			[[ $line =~ \ ([0-9]+)\ bytes$ ]] &&
				mpi_volume=$((mpi_volume + BASH_REMATCH[1])) ;;
		'mpi_check: PASS: '*' bytes verified')
			verified=${line#mpi_check: PASS: }
			verified=${verified%% *} ;;
		esac
	done <"$1"
	mpi_packets=$((mpi_volume / $2))
	[ -n "$verified" ] && ((mpi_volume > 0 && verified == mpi_volume)) || {
		echo "FAILED: mpi_check did not verify all ${mpi_volume} bytes it moved"; return 1; }
}
