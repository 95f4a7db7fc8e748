#!/bin/bash
# On-demand paging memory regions on rxe0. First the cases of
# tests/verbs/odp_test, one record per case (on QEMU with 2 MiB huge pages
# reserved, so that its huge-page cases run, and rdma-core's huge-page ODP
# tests after them); then rdma_xfer with every
# byte verified on explicit and implicit ODP memory, with the memory
# discarded (MADV_DONTNEED), replaced (munmap + mmap) and COW-protected
# (fork) under traffic, and prefetched before it.
SUITE=odp/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"
. "$RDG_TOP/tests/lib/xfer.sh"
. "$RDG_TOP/tests/lib/records.sh"
bin=$RDG_TOP/build/tests/verbs
xfer=$bin/rdma_xfer

# The huge-page cases need free 2 MiB pages; only the QEMU kernel has them
# (UML has no hugetlb), and there they must run, not skip.
if [ "$RDG_BACKEND" = qemu ]; then
	echo 8 > /proc/sys/vm/nr_hugepages
	read -r huge_free < <(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	if [ "${huge_free:-0}" -ge 4 ]; then
		pass huge-pages-reserved
	else
		fail huge-pages-reserved "HugePages_Free is ${huge_free:-absent} after asking for 8"
	fi
fi
record_lines odp_test "" "$bin/odp_test"

# rdma-core's huge-page ODP tests (IBV_ACCESS_HUGETLB), where there are
# huge pages: they skip without them.
if [ "$RDG_BACKEND" = qemu ]; then
	. "$RDG_TOP/tests/lib/pyverbs.sh"
	log=$RDG_RESULTS/pyverbs-odp-huge.log
	"$pyverbs_run_tests" --dev rxe0 --gid 1 -v \
		tests.test_odp.OdpTestCase.test_odp_rc_huge_traffic \
		tests.test_odp.OdpTestCase.test_odp_rc_huge_user_addr_traffic \
		> "$log" 2>&1
	echo "run_tests.py exit status $?" >> "$log"
	# No known failure, no allowed skip: with huge pages reserved above,
	# both must pass.
	/usr/bin/python3 "$RDG_TOP/tests/lib/unittest_results.py" "$SUITE" \
		"$log" /dev/null /dev/null >> "$RESULTS_FILE" ||
		fail pyverbs-odp-huge "could not parse $log"
fi

# xfer_case NAME MEM COND... -- ARGS...: one record. Nothing is pinned,
# so the run must have made rxe fault pages in.
xfer_case() {
	local name=$1 mem=$2
	shift 2
	run_case "$name" xfer_expect "odp_faults>0" "$@" --mem "$mem"
}

iters_of 200
for mem in odp odp-implicit; do
	for op in write write_imm read send; do
		xfer_case "xfer-$mem-$op" "$mem" -- --op "$op" --size 64K \
			--iters "$iters" --depth 8
	done
done

# Memory invalidated while traffic runs: rxe drops its mappings and
# faults the new pages in, and still every byte arrives. madvise and remap
# discard only slots the transfer is not using, then those get refilled;
# fork leaves the data alone but write-protects all of it. A fork of this
# process takes about 0.1 s on UML, so forks come back to back. Explicit
# MRs get the small messages, the implicit MR the large ones.
#
# QEMU forks every 20 ms (period_of), not 5: on two vCPUs under TCG a
# fork every 5 ms once kept the responder's fault from completing (a
# remote operation error, status 11, on fork-odp-send-64K; one run in
# three). ib_umem_odp_map_dma_and_lock() gives up with -EBUSY after
# HMM_RANGE_DEFAULT_TIMEOUT (1 s) of back-to-back invalidations, and the
# WQE fails, as it does on mlx5, whose page fault handler retries only
# its own -EAGAIN. An RNR NAK would let the requester retry instead, but
# not for the first packet of a SEND on an SRQ: that packet has already
# taken its receive WQE, and a retransmission would take another.
period_of 5000
fork_us=$period
for op in write read send; do
	for run in 64K:300:8:odp 1M:20:4:odp-implicit; do
		IFS=: read -r size iters depth mem <<<"$run"
		iters_of "$iters"
		for churn in madvise:2000:madvises remap:2000:remaps \
			"fork:$fork_us:forks"; do
			IFS=: read -r kind us field <<<"$churn"
			xfer_case "$kind-$mem-$op-$size" "$mem" "$field>0" \
				"odp_invalidations>0" -- --op "$op" \
				--size "$size" --iters "$iters" \
				--depth "$depth" --"$kind"-every-us "$us"
		done
	done
done

# Prefetched for writing before traffic: without invalidations the
# traffic itself faults nothing. The prefetch counts as one fault per
# buffer (two in loopback); the bound leaves room for a stray migration.
iters_of 200
xfer_case prefetch-odp-write odp "odp_prefetches>0" "odp_faults<=8" -- \
	--op write --size 64K --iters "$iters" --depth 8 --prefetch
xfer_case prefetch-odp-implicit-read odp-implicit "odp_prefetches>0" \
	"odp_faults<=8" -- --op read --size 64K --iters "$iters" \
	--depth 8 --prefetch

# ODP MRs registered, and children of an implicit MR created, while their
# range is unmapped and mapped again, discarded and COW-protected back to
# back: a new umem's notifier can fire before rxe has attached to it.
race=$RDG_TOP/build/tests/stress/odp_reg_race
run_case odp-reg-race "$race" --seconds 3
expect_status usage-odp-reg-race-seconds 2 "--seconds must be an integer" \
	"$race" --seconds 0

expect_status usage-madvise-host 2 'madvise-every-us.*ODP' "$xfer" \
	--madvise-every-us 1000
expect_status usage-prefetch-dte 2 'prefetch.*ODP' "$xfer" --mem dte \
	--prefetch
expect_status usage-odp-test-unknown-case 2 "unknown case 'no-such-case'" \
	"$bin/odp_test" explicit-write-read no-such-case
expect_status usage-remap-size 2 'remap-every-us.*page size' "$xfer" \
	--mem odp --size 1000 --remap-every-us 1000
