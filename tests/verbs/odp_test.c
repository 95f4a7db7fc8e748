/*
 * odp_test - on-demand paging memory regions on an RDMA device (rxe),
 * case by case.
 *
 * An ODP MR pins nothing: the device faults pages in on first access and
 * drops them when the kernel invalidates the range. The cases check that
 * data lands in the memory the process sees now, not in pages it had
 * before: after munmap and a fresh mmap, MADV_DONTNEED, fork's COW
 * protection; that an access to an address with no memory fails with an
 * error completion instead of hanging; prefetch through ibv_advise_mr();
 * atomics, UD, UC and SRQ receives on ODP memory; and the registrations
 * and advice the kernel must refuse, with their errno. Explicit MRs and
 * the implicit MR (the whole address space) both get most cases.
 *
 * Data moves over loopback QP pairs. The requester's own buffer is plain
 * pinned memory unless a case says otherwise, so what is tested is the
 * ODP MR on the other end; every transfer is checked byte by byte through
 * the CPU.
 *
 * usage: odp_test [-d DEV] [-x GID_INDEX] [CASE...]
 *
 * Prints one line per case, "PASS name", "FAIL name: reason" or
 * "SKIP name: reason", plus "# ..." lines with what was observed (errnos,
 * counters, times), and exits 1 if any case failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rdma/ib_user_verbs.h>

#include "fuzz_uverbs.h"
#include "kit.h"

/* An access to missing memory must fail well within this. */
#define ERR_TIMEOUT_MS	10000
#define REGION_LEN	(256 * 1024)	/* most cases' ODP region */
/* rxe backs an implicit MR with children of this many bytes each. */
#define RXE_CHILD_SIZE	(2ULL << 20)

#define ACC_RW		KIT_ACC_RW
#define ACC_ALL		KIT_ACC_ALL

/* kit_main() refuses any other page size. */
static const size_t page = 4096;

/* A range of ODP memory and the MR that reaches it at iova == address. */
struct region {
	char *addr;
	size_t len;
	struct ibv_mr *mr;
};

/* What a case set up, released after it whatever its outcome. */
static struct {
	struct {
		void *addr;
		size_t len;
	} map[80];
	int nmaps;
	/* The case's implicit MR and its access flags, made on first use. */
	struct ibv_mr *implicit;
	int implicit_access;
} cx;

/*
 * The core caches a port's counters for RDMA_HW_STATS_DEFAULT_LIFESPAN
 * (10 ms) after a read: a read that comes sooner gets the old values, so
 * reads are spaced further apart than that.
 */
#define COUNTER_SPACING_S	0.025

static int counter(const char *name, uint64_t *val)
{
	static double last;
	double wait = last + COUNTER_SPACING_S - xfer_now();
	int err;

	if (wait > 0)
		usleep((useconds_t)(wait * 1e6) + 1);
	err = xfer_hw_counter(kit_dev.name, name, val);
	last = xfer_now();

	return err ? fail("hw counter %s of %s: %s", name, kit_dev.name,
			  strerror(err)) : 0;
}

/* ------------------------------------------------------------------ */
/* Memory                                                              */

/* Unmap [p, p + len) after the case. */
static void track_map(void *p, size_t len)
{
	if (cx.nmaps == (int)ARRAY_SIZE(cx.map))
		xfer_die("a case wants more than %zu mappings",
			 ARRAY_SIZE(cx.map));
	cx.map[cx.nmaps].addr = p;
	cx.map[cx.nmaps].len = len;
	cx.nmaps++;
}

/* @len bytes of fresh anonymous memory, near @hint if it is free. */
static int new_map(size_t len, void *hint, char **addr)
{
	void *p = mmap(hint, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return fail("mmap of %zu bytes: %s", len, strerror(errno));
	track_map(p, len);
	*addr = p;
	return 0;
}

static int implicit_mr(int access, struct ibv_mr **mr)
{
	if (cx.implicit && cx.implicit_access != access)
		xfer_die("a case wants two implicit MRs");
	if (!cx.implicit) {
		cx.implicit = ibv_reg_mr(kit_dev.pd, NULL, SIZE_MAX,
					 access | IBV_ACCESS_ON_DEMAND);
		if (!cx.implicit)
			return fail("ibv_reg_mr(implicit ODP, access 0x%x): %s",
				    access, strerror(errno));
		cx.implicit_access = access;
		kit_track_mr(cx.implicit);
	}
	*mr = cx.implicit;
	return 0;
}

/*
 * Never-touched memory of @len bytes reached through an explicit ODP MR
 * of its own, or through the case's implicit MR.
 */
static int new_region(bool implicit, size_t len, int access, void *hint,
		      struct region *r)
{
	r->len = len;
	if (new_map(len, hint, &r->addr))
		return -1;
	if (implicit)
		return implicit_mr(access, &r->mr);
	r->mr = ibv_reg_mr(kit_dev.pd, r->addr, len, access | IBV_ACCESS_ON_DEMAND);
	if (!r->mr)
		return fail("ibv_reg_mr(ODP, %zu bytes, access 0x%x): %s", len,
			    access, strerror(errno));
	return kit_track_mr(r->mr);
}

static int check_zero(const void *p, size_t len, const char *what)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i])
			return fail("%s: byte %zu of %zu is 0x%02x, want 0",
				    what, i, len, c[i]);
	return 0;
}

/* The kit released the MRs; the mappings are the program's own. */
static void release_maps(void)
{
	/* munmap of a range a case already unmapped is harmless. */
	for (int i = cx.nmaps - 1; i >= 0; i--)
		munmap(cx.map[i].addr, cx.map[i].len);
	memset(&cx, 0, sizeof(cx));
}

/* ------------------------------------------------------------------ */
/* Transfers                                                           */

/* RDMA WRITE @len bytes of the pinned buffer to @raddr of @mr. */
static int write_to(struct kit_pair *p, struct ibv_mr *mr, uint64_t raddr,
		    size_t len, int ms)
{
	return kit_rdma(p, IBV_WR_RDMA_WRITE, (uintptr_t)kit_host.addr,
		       kit_host.mr->lkey, raddr, mr->rkey, len, ms);
}

/* RDMA READ @len bytes at @raddr of @mr into the pinned buffer. */
static int read_from(struct kit_pair *p, struct ibv_mr *mr, uint64_t raddr,
		     size_t len)
{
	return kit_rdma(p, IBV_WR_RDMA_READ, (uintptr_t)kit_host.addr,
		       kit_host.mr->lkey, raddr, mr->rkey, len, KIT_WC_TIMEOUT_MS);
}

/*
 * RDMA WRITE pattern @msg into [off, off + len) of @r, then find it there
 * through the CPU.
 */
static int write_check(struct kit_pair *p, const struct region *r, size_t off,
		       size_t len, uint64_t msg)
{
	xfer_pattern_fill(kit_host.addr, msg, len);
	if (kit_expect_wc(write_to(p, r->mr, (uintptr_t)r->addr + off, len,
			       KIT_WC_TIMEOUT_MS),
		      IBV_WC_SUCCESS, "RDMA WRITE"))
		return -1;
	return kit_check_pattern(r->addr + off, msg, len, "after RDMA WRITE");
}

/* RDMA READ [off, off + len) of @r into the pinned buffer. */
static int read_back(struct kit_pair *p, const struct region *r, size_t off,
		     size_t len)
{
	memset(kit_host.addr, 0xa5, len);
	return kit_expect_wc(read_from(p, r->mr, (uintptr_t)r->addr + off, len),
			 IBV_WC_SUCCESS, "RDMA READ");
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */

static int expect_caps(const char *what, uint64_t got, uint64_t want)
{
	kit_note("caps: %s 0x%" PRIx64 " (want 0x%" PRIx64 ")", what, got, want);
	if (got != want)
		return fail("%s is 0x%" PRIx64 ", want 0x%" PRIx64, what, got,
			    want);
	return 0;
}

static int case_caps(int unused)
{
	const uint32_t rc = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV |
			    IBV_ODP_SUPPORT_WRITE | IBV_ODP_SUPPORT_READ |
			    IBV_ODP_SUPPORT_ATOMIC | IBV_ODP_SUPPORT_SRQ_RECV;
	const uint32_t uc = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV |
			    IBV_ODP_SUPPORT_WRITE | IBV_ODP_SUPPORT_SRQ_RECV;
	const uint32_t ud = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV |
			    IBV_ODP_SUPPORT_SRQ_RECV;
	struct ibv_device_attr_ex attr;
	const struct ibv_odp_caps *c = &attr.odp_caps;
	int err;

	(void)unused;
	memset(&attr, 0, sizeof(attr));
	err = ibv_query_device_ex(kit_dev.ctx, NULL, &attr);
	if (err)
		return fail("ibv_query_device_ex: %s", strerror(err));
	if (expect_caps("general_caps", c->general_caps,
			IBV_ODP_SUPPORT | IBV_ODP_SUPPORT_IMPLICIT) ||
	    expect_caps("rc_odp_caps", c->per_transport_caps.rc_odp_caps, rc) ||
	    expect_caps("uc_odp_caps", c->per_transport_caps.uc_odp_caps, uc) ||
	    expect_caps("ud_odp_caps", c->per_transport_caps.ud_odp_caps, ud))
		return -1;
	return 0;
}

/*
 * RDMA WRITE into never-touched memory: rxe must fault every page in
 * (the CPU never did), and odp_page_faults counts it. Then RDMA READ of
 * what the CPU wrote over it.
 */
static int case_write_read(int implicit)
{
	struct kit_pair *p;
	struct region r;
	uint64_t f0, f1;

	if (new_region(implicit, REGION_LEN, ACC_RW, NULL, &r) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p) || counter("odp_page_faults", &f0) ||
	    write_check(p, &r, 0, r.len, 1) || counter("odp_page_faults", &f1))
		return -1;
	kit_note("%s: RDMA WRITE of %zu bytes into untouched memory: odp_page_faults +%" PRIu64,
	     implicit ? "implicit" : "explicit", r.len, f1 - f0);
	if (f1 == f0)
		return fail("odp_page_faults did not grow");

	xfer_pattern_fill(r.addr, 2, r.len);
	if (read_back(p, &r, 0, r.len))
		return -1;
	return kit_check_pattern(kit_host.addr, 2, r.len, "RDMA READ");
}

/*
 * ODP memory on the requester's side: the source of an RDMA WRITE (the
 * CPU wrote it, rxe has not seen it) and the target of an RDMA READ and
 * of a receive (never touched).
 */
static int case_local(int implicit)
{
	struct ibv_mr *hmr = kit_host.mr;
	struct region src, dst, rcv;
	struct ibv_wc wc;
	struct kit_pair *p;
	int st;

	if (new_region(implicit, REGION_LEN, ACC_RW, NULL, &src) ||
	    new_region(implicit, REGION_LEN, ACC_RW, NULL, &dst) ||
	    new_region(implicit, REGION_LEN, ACC_RW, NULL, &rcv) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p))
		return -1;

	xfer_pattern_fill(src.addr, 3, src.len);
	memset(kit_host.addr, 0, src.len);
	st = kit_rdma(p, IBV_WR_RDMA_WRITE, (uintptr_t)src.addr, src.mr->lkey,
		     (uintptr_t)kit_host.addr, hmr->rkey, src.len, KIT_WC_TIMEOUT_MS);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "RDMA WRITE from ODP memory") ||
	    kit_check_pattern(kit_host.addr, 3, src.len, "RDMA WRITE from ODP memory"))
		return -1;

	xfer_pattern_fill(kit_host.addr, 4, dst.len);
	st = kit_rdma(p, IBV_WR_RDMA_READ, (uintptr_t)dst.addr, dst.mr->lkey,
		     (uintptr_t)kit_host.addr, hmr->rkey, dst.len, KIT_WC_TIMEOUT_MS);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "RDMA READ into ODP memory") ||
	    kit_check_pattern(dst.addr, 4, dst.len, "RDMA READ into ODP memory"))
		return -1;

	/* A SEND from ODP memory into an ODP receive buffer. */
	if (kit_post_recv(p, 0, (uintptr_t)rcv.addr, rcv.len, rcv.mr->lkey))
		return -1;
	xfer_pattern_fill(src.addr, 5, src.len);
	st = kit_rdma(p, IBV_WR_SEND, (uintptr_t)src.addr, src.mr->lkey, 0, 0,
		     src.len, KIT_WC_TIMEOUT_MS);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "SEND from ODP memory") ||
	    kit_wait_recv(p, 0, rcv.len, &wc, "receive into ODP memory"))
		return -1;
	return kit_check_pattern(rcv.addr, 5, rcv.len, "receive into ODP memory");
}

/*
 * Memory the CPU wrote, so every page is present and writable, that rxe
 * has not mapped yet: a transfer over it may miss once per umem it
 * reaches (the implicit MR's region may straddle two children), not once
 * per packet. rxe copies a packet at a time (1 KiB at the kit's MTU), and
 * one fault for each of them would cost REGION_LEN / 4 KiB = 64 faults.
 */
#define PRESENT_MAX_FAULTS	2

static int present_faults(int implicit, const char *what, uint64_t f0)
{
	uint64_t f1;

	if (counter("odp_page_faults", &f1))
		return -1;
	kit_note("%s: %s of %d KiB of CPU-written memory: odp_page_faults +%" PRIu64,
		 implicit ? "implicit" : "explicit", what, REGION_LEN / 1024,
		 f1 - f0);
	if (f1 - f0 > PRESENT_MAX_FAULTS)
		return fail("%s faulted %" PRIu64 " times, want at most %d: rxe faults per packet",
			    what, f1 - f0, PRESENT_MAX_FAULTS);
	return 0;
}

/*
 * The responder's target of an RDMA WRITE and source of an RDMA READ, and
 * the requester's source of an RDMA WRITE, each in memory the CPU wrote.
 */
static int case_present(int implicit)
{
	struct ibv_mr *hmr = kit_host.mr;
	struct region tgt, rsrc, lsrc;
	struct kit_pair *p;
	uint64_t f0;
	int st;

	if (new_region(implicit, REGION_LEN, ACC_RW, NULL, &tgt) ||
	    new_region(implicit, REGION_LEN, ACC_RW, NULL, &rsrc) ||
	    new_region(implicit, REGION_LEN, ACC_RW, NULL, &lsrc) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p))
		return -1;
	memset(tgt.addr, 0x5a, tgt.len);
	xfer_pattern_fill(rsrc.addr, 7, rsrc.len);
	xfer_pattern_fill(lsrc.addr, 8, lsrc.len);

	if (counter("odp_page_faults", &f0) ||
	    write_check(p, &tgt, 0, tgt.len, 6) ||
	    present_faults(implicit, "RDMA WRITE into it", f0))
		return -1;

	if (counter("odp_page_faults", &f0) ||
	    read_back(p, &rsrc, 0, rsrc.len) ||
	    kit_check_pattern(kit_host.addr, 7, rsrc.len, "RDMA READ") ||
	    present_faults(implicit, "RDMA READ from it", f0))
		return -1;

	memset(kit_host.addr, 0, lsrc.len);
	if (counter("odp_page_faults", &f0))
		return -1;
	st = kit_rdma(p, IBV_WR_RDMA_WRITE, (uintptr_t)lsrc.addr, lsrc.mr->lkey,
		      (uintptr_t)kit_host.addr, hmr->rkey, lsrc.len,
		      KIT_WC_TIMEOUT_MS);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "RDMA WRITE from ODP memory") ||
	    kit_check_pattern(kit_host.addr, 8, lsrc.len,
			      "RDMA WRITE from ODP memory"))
		return -1;
	return present_faults(implicit, "RDMA WRITE from it", f0);
}

#define SCATTER_REGIONS	64
#define SCATTER_LEN	(64 * 1024)
/* Hints 1 GiB and 17 pages apart: every region in a child of its own. */
#define SCATTER_BASE	(1ULL << 38)
#define SCATTER_STEP	((1ULL << 30) + 17 * 4096)

/*
 * One implicit MR reaches memory scattered over the address space: the
 * first region straddles a boundary of rxe's children. Every region is
 * written, then all are checked, so no write landed in another's place.
 */
static int case_scattered(int unused)
{
	struct region r[SCATTER_REGIONS];
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	struct kit_pair *p;
	uint64_t f0, f1;
	char what[64];
	void *hint;

	(void)unused;
	for (int i = 0; i < SCATTER_REGIONS; i++) {
		hint = (void *)(uintptr_t)(SCATTER_BASE + i * SCATTER_STEP);
		if (!i)
			hint = (char *)hint + RXE_CHILD_SIZE - SCATTER_LEN / 2;
		if (new_region(true, SCATTER_LEN, ACC_RW, hint, &r[i]))
			return -1;
		if ((uintptr_t)r[i].addr < lo)
			lo = (uintptr_t)r[i].addr;
		if ((uintptr_t)r[i].addr > hi)
			hi = (uintptr_t)r[i].addr;
	}
	if (kit_new_pair(IBV_QPT_RC, 0, &p) || counter("odp_page_faults", &f0))
		return -1;
	for (int i = 0; i < SCATTER_REGIONS; i++) {
		xfer_pattern_fill(kit_host.addr, 100 + i, SCATTER_LEN);
		snprintf(what, sizeof(what), "RDMA WRITE into region %d at %p",
			 i, (void *)r[i].addr);
		if (kit_expect_wc(write_to(p, r[i].mr, (uintptr_t)r[i].addr,
				       SCATTER_LEN, KIT_WC_TIMEOUT_MS),
			      IBV_WC_SUCCESS, what))
			return -1;
	}
	for (int i = 0; i < SCATTER_REGIONS; i++) {
		snprintf(what, sizeof(what), "region %d at %p", i,
			 (void *)r[i].addr);
		if (kit_check_pattern(r[i].addr, 100 + i, SCATTER_LEN, what))
			return -1;
	}
	if (counter("odp_page_faults", &f1))
		return -1;
	kit_note("implicit-scattered: %d regions of %d KiB from %p to %p, odp_page_faults +%" PRIu64,
	     SCATTER_REGIONS, SCATTER_LEN / 1024, (void *)lo, (void *)hi,
	     f1 - f0);
	if (hi - lo < (uintptr_t)SCATTER_REGIONS * RXE_CHILD_SIZE)
		kit_note("implicit-scattered: mmap ignored the hints; the regions are closer than hoped");
	if (f1 - f0 < SCATTER_REGIONS)
		return fail("odp_page_faults grew by %" PRIu64 " for %d regions",
			    f1 - f0, SCATTER_REGIONS);
	return 0;
}

/*
 * An RDMA WRITE to @raddr, which has no memory behind it, through @mr on
 * pair @p (which goes to error with it): a remote access error, in
 * bounded time.
 */
static int expect_access_error(struct kit_pair *p, struct ibv_mr *mr,
			       uint64_t raddr, size_t len, const char *what)
{
	double t0, secs;
	int st;

	xfer_pattern_fill(kit_host.addr, 7, len);
	t0 = xfer_now();
	st = write_to(p, mr, raddr, len, ERR_TIMEOUT_MS);
	secs = xfer_now() - t0;
	kit_note("%s: RDMA WRITE to 0x%" PRIx64 " -> %s after %.3f s", what, raddr,
	     kit_wc_name(st), secs);
	return kit_expect_wc(st, IBV_WC_REM_ACCESS_ERR, what);
}

/*
 * Memory for the cases that punch holes: far from where mmap() puts
 * things by itself, so that nothing the library maps (a CQ ring, say)
 * lands in a hole. A write there would corrupt it, which is no test of
 * anything. The QPs that write into a hole are made before it opens.
 */
#define HOLE_HINT	((void *)(uintptr_t)(1ULL << 39))

/* Map the hole at @addr again; EEXIST means something took it. */
static int refill_hole(char *addr, size_t len, int flags)
{
	void *m = mmap(addr, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);

	if (m == MAP_FAILED)
		return fail("mmap over the hole at %p: %s", (void *)addr,
			    strerror(errno));
	if (m != addr)
		return fail("mmap over the hole at %p landed at %p",
			    (void *)addr, m);
	return 0;
}

/*
 * Through the implicit MR, RDMA WRITEs to memory that was unmapped, and
 * running from mapped into unmapped memory, fail; the device keeps
 * serving fresh QPs and the same MR.
 */
static int case_unmapped(int unused)
{
	const size_t half = SCATTER_LEN / 2;
	struct kit_pair *p, *e1, *e2;
	struct region r, r2;

	(void)unused;
	if (new_region(true, SCATTER_LEN, ACC_RW, HOLE_HINT, &r) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p) || kit_new_pair(IBV_QPT_RC, 0, &e1) ||
	    kit_new_pair(IBV_QPT_RC, 0, &e2) || write_check(p, &r, 0, r.len, 8))
		return -1;
	if (munmap(r.addr + half, half))
		return fail("munmap: %s", strerror(errno));
	if (expect_access_error(e1, r.mr, (uintptr_t)r.addr + half, half,
				"write to unmapped memory") ||
	    expect_access_error(e2, r.mr, (uintptr_t)r.addr, r.len,
				"write running into unmapped memory") ||
	    write_check(p, &r, 0, half, 9) ||
	    refill_hole(r.addr + half, half, MAP_FIXED_NOREPLACE))
		return -1;
	if (new_region(true, SCATTER_LEN, ACC_RW, NULL, &r2) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p))
		return -1;
	return write_check(p, &r2, 0, r2.len, 10) ||
	       write_check(p, &r, 0, r.len, 11);
}

/*
 * Through the implicit MR, addresses no process can map: the lowest page,
 * a kernel address and the top of the address space, where a child of
 * the implicit MR would wrap around. Each fails alone.
 */
static int case_non_user(int unused)
{
	static const uint64_t addrs[] = {
		0x1000, 0xffff888000000000ULL, 0xfffffffffffff000ULL,
	};
	struct ibv_mr *mr;
	struct region r;
	struct kit_pair *p;

	(void)unused;
	if (implicit_mr(ACC_RW, &mr))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(addrs); i++)
		if (kit_new_pair(IBV_QPT_RC, 0, &p) ||
		    expect_access_error(p, mr, addrs[i], 4096,
					"write to a non-user address"))
			return -1;
	if (new_region(true, SCATTER_LEN, ACC_RW, NULL, &r) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p))
		return -1;
	return write_check(p, &r, 0, r.len, 12);
}

/*
 * Part of an explicit ODP MR unmapped: writes there fail, the rest of
 * the MR still works, and once the hole is mapped again (fresh pages at
 * the same address) the MR reaches the new pages.
 */
static int case_munmap_remap(int unused)
{
	const size_t off = REGION_LEN / 4, len = REGION_LEN / 4;
	struct kit_pair *p, *e1, *e2;
	struct region r;

	(void)unused;
	if (new_region(false, REGION_LEN, ACC_RW, HOLE_HINT, &r) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p) || kit_new_pair(IBV_QPT_RC, 0, &e1) ||
	    kit_new_pair(IBV_QPT_RC, 0, &e2) || write_check(p, &r, 0, r.len, 13))
		return -1;
	if (munmap(r.addr + off, len))
		return fail("munmap: %s", strerror(errno));
	if (expect_access_error(e1, r.mr, (uintptr_t)r.addr + off, len,
				"write into the unmapped part") ||
	    expect_access_error(e2, r.mr, (uintptr_t)r.addr + off - 4096,
				8192, "write across into the unmapped part") ||
	    write_check(p, &r, 0, off, 14) ||
	    write_check(p, &r, off + len, r.len - off - len, 15))
		return -1;

	/* Nothing was mapped since the munmap: MAP_FIXED replaces nothing. */
	if (refill_hole(r.addr + off, len, MAP_FIXED) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p))
		return -1;
	/* Fresh pages read zero; then the MR writes into them. */
	if (read_back(p, &r, off, len) ||
	    check_zero(kit_host.addr, len, "RDMA READ of the remapped part") ||
	    write_check(p, &r, off, len, 16) ||
	    write_check(p, &r, 0, r.len, 17))
		return -1;
	return 0;
}

/*
 * MADV_DONTNEED drops pages rxe had mapped: an RDMA READ of the range
 * must find the zero pages the kernel gives instead, not the old data,
 * and odp_invalidations counts the drop. Writes refault afterwards.
 */
static int case_madvise(int implicit)
{
	const size_t off = REGION_LEN / 4, len = REGION_LEN / 2;
	static char expect[REGION_LEN];
	struct region r;
	struct kit_pair *p;
	uint64_t i0, i1;

	if (new_region(implicit, REGION_LEN, ACC_RW, NULL, &r) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p) || write_check(p, &r, 0, r.len, 16) ||
	    counter("odp_invalidations", &i0))
		return -1;
	if (madvise(r.addr + off, len, MADV_DONTNEED))
		return fail("madvise(MADV_DONTNEED): %s", strerror(errno));
	if (counter("odp_invalidations", &i1))
		return -1;
	kit_note("madvise: MADV_DONTNEED of %zu bytes: odp_invalidations +%" PRIu64,
	     len, i1 - i0);
	if (i1 == i0)
		return fail("odp_invalidations did not grow");

	if (read_back(p, &r, 0, r.len))
		return -1;
	/* What is left of message 16 around the hole must be intact. */
	xfer_pattern_fill(expect, 16, r.len);
	if (memcmp(kit_host.addr, expect, off) ||
	    memcmp((char *)kit_host.addr + off + len, expect + off + len,
		   r.len - off - len))
		return fail("RDMA READ: the data around the discarded range changed");
	if (check_zero((char *)kit_host.addr + off, len,
		       "RDMA READ of the discarded range"))
		return -1;
	if (write_check(p, &r, off, len, 18) || read_back(p, &r, 0, r.len))
		return -1;
	return kit_check_pattern((char *)kit_host.addr + off, 18, len,
			     "RDMA READ after refilling the discarded range");
}

/*
 * fork write-protects the parent's pages for COW, and rxe must drop its
 * writable mappings of them. While the child lives, the parent's next
 * write to a page gives it a copy: the CPU's for the first half of the
 * region, rxe's own fault for the second. An RDMA WRITE must land in the
 * parent's copies; the child must still see the old data in its pages,
 * the ones rxe had mapped before the fork.
 */
static int case_fork(int implicit)
{
	struct region r;
	struct kit_pair *p;
	uint64_t i0, i1;
	int go[2], status;
	char c = 'g';
	pid_t pid;

	if (new_region(implicit, REGION_LEN, ACC_RW, NULL, &r) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p) || write_check(p, &r, 0, r.len, 20) ||
	    counter("odp_invalidations", &i0))
		return -1;
	if (pipe(go))
		return fail("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!pid) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(xfer_pattern_diff(r.addr, 20, r.len) == r.len ? 0 : 1);
	}
	close(go[0]);

	if (counter("odp_invalidations", &i1))
		goto fail_child;
	kit_note("fork: odp_invalidations +%" PRIu64, i1 - i0);
	if (i1 == i0) {
		kit_why_add("fork did not invalidate: odp_invalidations unchanged");
		goto fail_child;
	}
	/* volatile: storing what is there must still write, to break COW. */
	for (size_t off = 0; off < r.len / 2; off += page)
		((volatile char *)r.addr)[off] = r.addr[off];
	if (write_check(p, &r, 0, r.len, 21))
		goto fail_child;
	if (write(go[1], &c, 1) != 1) {
		kit_why_add("write to the child: %s", strerror(errno));
		goto fail_child;
	}
	close(go[1]);
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return fail("the child's pages changed under it (status 0x%x): the RDMA WRITE went to pages the parent no longer has",
			    status);
	/* The child is gone; the parent's pages are its own again. */
	return write_check(p, &r, 0, r.len, 22);

fail_child:
	close(go[1]);
	waitpid(pid, &status, 0);
	return -1;
}

static uint64_t load_u64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * FETCH_ADD on never-touched memory (it reads zero), then FETCH_ADD and
 * CMP_SWP, matching and not, on a value the CPU stored; the second
 * operand sits on another page, also never touched before.
 */
static int case_atomics(int implicit)
{
	const uint64_t v0 = 0x1122334455667788ULL, add = 0x1000000010ULL;
	const uint64_t swap = 0x0123456789abcdefULL;
	const size_t off = 64, off2 = 4096 + 8;
	struct region r;
	struct kit_pair *p;
	uint64_t orig;
	int st;

	if (new_region(implicit, 2 * 4096, ACC_ALL, NULL, &r) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p))
		return -1;
	st = kit_atomic(p, IBV_WR_ATOMIC_FETCH_AND_ADD, r.mr->rkey,
		    (uintptr_t)r.addr + off2, add, 0, &orig);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "FETCH_ADD on untouched memory") ||
	    kit_expect_u64(orig, 0, "FETCH_ADD's original value on untouched memory") ||
	    kit_expect_u64(load_u64(r.addr + off2), add, "the sum on untouched memory"))
		return -1;

	memcpy(r.addr + off, &v0, sizeof(v0));
	st = kit_atomic(p, IBV_WR_ATOMIC_FETCH_AND_ADD, r.mr->rkey,
		    (uintptr_t)r.addr + off, add, 0, &orig);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "FETCH_ADD") ||
	    kit_expect_u64(orig, v0, "FETCH_ADD's original value") ||
	    kit_expect_u64(load_u64(r.addr + off), v0 + add, "the sum"))
		return -1;
	st = kit_atomic(p, IBV_WR_ATOMIC_CMP_AND_SWP, r.mr->rkey,
		    (uintptr_t)r.addr + off, v0 + add, swap, &orig);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "CMP_SWP") ||
	    kit_expect_u64(orig, v0 + add, "CMP_SWP's original value") ||
	    kit_expect_u64(load_u64(r.addr + off), swap, "the swapped value"))
		return -1;
	st = kit_atomic(p, IBV_WR_ATOMIC_CMP_AND_SWP, r.mr->rkey,
		    (uintptr_t)r.addr + off, v0, 7, &orig);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "CMP_SWP that does not match") ||
	    kit_expect_u64(orig, swap, "its original value") ||
	    kit_expect_u64(load_u64(r.addr + off), swap,
		       "the value after a compare that failed"))
		return -1;

	/* Discarded under rxe: the next atomic must see the zero page. */
	if (madvise(r.addr, r.len, MADV_DONTNEED))
		return fail("madvise(MADV_DONTNEED): %s", strerror(errno));
	st = kit_atomic(p, IBV_WR_ATOMIC_FETCH_AND_ADD, r.mr->rkey,
		    (uintptr_t)r.addr + off, 1, 0, &orig);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "FETCH_ADD after MADV_DONTNEED") ||
	    kit_expect_u64(orig, 0, "FETCH_ADD's original value after MADV_DONTNEED") ||
	    kit_expect_u64(load_u64(r.addr + off), 1,
		       "the sum after MADV_DONTNEED"))
		return -1;
	return 0;
}

/* ATOMIC_WRITE of 8 bytes into never-touched, then CPU-written memory. */
static int case_atomic_write(int implicit)
{
	const uint64_t vals[] = {
		0x8877665544332211ULL, 0x0102030405060708ULL,
	};
	struct region r;
	struct kit_pair *p;
	int rc = kit_need_atomic_write();

	if (rc)
		return rc;
	rc = kit_new_pair(IBV_QPT_RC, KIT_PAIR_ATOMIC_WRITE, &p);
	if (rc)
		return rc;
	if (new_region(implicit, 2 * 4096, ACC_ALL, NULL, &r))
		return -1;
	memcpy(r.addr + 4096 + 16, &vals[0], sizeof(vals[0]));
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
		/* First an untouched page, then one the CPU wrote. */
		char *dst = r.addr + (i ? 4096 + 16 : 8);

		if (kit_expect_wc(kit_atomic_write(p, r.mr->rkey, (uintptr_t)dst,
					       vals[i]),
			      IBV_WC_SUCCESS, "ATOMIC_WRITE") ||
		    kit_expect_u64(load_u64(dst), vals[i],
			       "the value ATOMIC_WRITE stored"))
			return -1;
	}
	return 0;
}

#define RECV_SLOTS	4

/* Receive buffers start this far into their page, so they cross a page. */
#define UD_RECV_OFF	3000

/*
 * UD datagrams into never-touched ODP receive buffers, each across a
 * page boundary, sent half from pinned and half from ODP memory.
 */
static int case_ud(int implicit)
{
	size_t len = (size_t)xfer_mtu_bytes(kit_dev.port_attr.active_mtu);
	struct region rcv, src;
	struct ibv_wc wc;
	struct kit_pair *p;
	char what[64];
	int st;

	if (len > 2048)
		len = 2048;
	if (new_region(implicit, (RECV_SLOTS + 1) * 4096, ACC_RW, NULL,
		       &rcv) ||
	    new_region(implicit, RECV_SLOTS * 4096, ACC_RW, NULL, &src) ||
	    kit_new_pair(IBV_QPT_UD, 0, &p))
		return -1;
	for (int i = 0; i < RECV_SLOTS; i++)
		if (kit_post_recv(p, i,
			      (uintptr_t)rcv.addr + i * 4096 + UD_RECV_OFF,
			      KIT_GRH_LEN + len, rcv.mr->lkey))
			return -1;
	for (int i = 0; i < RECV_SLOTS; i++) {
		bool odp = i & 1;
		char *buf = odp ? src.addr + i * 4096 : (char *)kit_host.addr;

		xfer_pattern_fill(buf, 30 + i, len);
		snprintf(what, sizeof(what), "UD SEND %d from %s memory", i,
			 odp ? "ODP" : "pinned");
		st = kit_ud_send(p, (uintptr_t)buf,
				 odp ? src.mr->lkey : kit_host.mr->lkey, len);
		if (kit_expect_wc(st, IBV_WC_SUCCESS, what))
			return -1;
		snprintf(what, sizeof(what), "UD receive %d", i);
		if (kit_wait_recv(p, i, KIT_GRH_LEN + len, &wc, what) ||
		    kit_check_pattern(rcv.addr + i * 4096 + UD_RECV_OFF +
				      KIT_GRH_LEN, 30 + i, len, what))
			return -1;
	}
	return 0;
}

/*
 * A SEND into a receive posted on ODP memory that was unmapped since:
 * the receive completes with a local protection error (its WQE is well
 * formed, its memory is gone) and the sender gets a remote operational
 * error NAK.
 */
static int case_recv_unmapped(int implicit)
{
	struct kit_pair *p;
	struct region r;

	if (new_region(implicit, REGION_LEN, ACC_RW, NULL, &r) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p))
		return -1;
	if (munmap(r.addr, r.len))
		return fail("munmap: %s", strerror(errno));
	return kit_send_into_unreachable(p, (uintptr_t)r.addr, r.mr->lkey,
					 "unmapped ODP memory");
}

/* Slab memory in use, from /proc/meminfo, in KiB. */
static int slab_kib(uint64_t *kib)
{
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");
	int found = 0;

	if (!f)
		return fail("/proc/meminfo: %s", strerror(errno));
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "Slab: %" SCNu64 " kB", kib) == 1;
	fclose(f);
	return found ? 0 : fail("no Slab line in /proc/meminfo");
}

#define PROBES		2048
/*
 * 2048 children would take 37 MiB (measured: each holds the dma_list and
 * pfn_list of 512 pages); what else the slab does meanwhile stays well
 * under this.
 */
#define PROBE_SLACK_KIB	8192

/*
 * 2 MiB-aligned address space of @slots children's worth that the process
 * may use: reserved PROT_NONE and, unless @keep, released again. (A fixed
 * address could lie beyond the user address space, which is smaller on
 * UML, and never reach a child at all.) Returns its first aligned slot.
 */
static int reserve_slots(uint64_t slots, bool keep, uint64_t *base)
{
	size_t len = (slots + 1) * RXE_CHILD_SIZE;
	void *hole = mmap(NULL, len, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (hole == MAP_FAILED)
		return fail("mmap of a %zu-byte hole: %s", len, strerror(errno));
	if (keep)
		track_map(hole, len);
	else
		munmap(hole, len);
	*base = ((uintptr_t)hole + RXE_CHILD_SIZE - 1) & ~(RXE_CHILD_SIZE - 1);
	return 0;
}

enum { PROBE_UNMAPPED, PROBE_PROT_NONE };

/*
 * A peer that writes to random unmapped addresses of an implicit MR must
 * not make the kernel allocate for each: UC RDMA WRITEs (no NAK, the QP
 * stays up) to PROBES distinct 2 MiB slots with no VMA (PROBE_UNMAPPED),
 * or inside a PROT_NONE reservation (PROBE_PROT_NONE: a VMA no copy can
 * read), leave the kernel's slab memory where it was, and the MR still
 * serves mapped memory.
 */
static int case_implicit_probe(int kind)
{
	uint64_t before, after, grown, base;
	struct kit_pair *p;
	struct region r;
	unsigned char vec;

	/* Twice what is probed: allocations since may have reused some. */
	if (reserve_slots(2 * PROBES, kind == PROBE_PROT_NONE, &base) ||
	    new_region(true, REGION_LEN, ACC_RW, NULL, &r) ||
	    kit_new_pair(IBV_QPT_UC, 0, &p) ||
	    kit_write_imm(p, (uintptr_t)kit_host.addr, kit_host.mr->lkey,
			  (uintptr_t)r.addr, r.mr->rkey, 64, 1) ||
	    slab_kib(&before))
		return -1;
	for (uint64_t i = 0, n = 0; n < PROBES; i++) {
		uint64_t addr = base + i * RXE_CHILD_SIZE;

		if (i == 2 * PROBES)
			return fail("only %" PRIu64 " of %d slots are unmapped",
				    n, 2 * PROBES);
		/* mincore() fails with ENOMEM exactly where nothing is mapped. */
		if (kind == PROBE_UNMAPPED &&
		    (!mincore((void *)(uintptr_t)addr, page, &vec) ||
		     errno != ENOMEM))
			continue;
		if (kit_expect_wc(write_to(p, r.mr, addr, 64, ERR_TIMEOUT_MS),
				  IBV_WC_SUCCESS, "UC RDMA WRITE to nowhere"))
			return -1;
		n++;
	}
	/* The last write is in once a later one with immediate completes. */
	xfer_pattern_fill(kit_host.addr, 12, 64);
	if (kit_write_imm(p, (uintptr_t)kit_host.addr, kit_host.mr->lkey,
			  (uintptr_t)r.addr, r.mr->rkey, 64, 2) ||
	    slab_kib(&after))
		return -1;
	grown = after > before ? after - before : 0;
	kit_note("implicit-probe: %d %s slots written, slab %" PRIu64
		 " -> %" PRIu64 " KiB", PROBES,
		 kind == PROBE_UNMAPPED ? "unmapped" : "PROT_NONE", before, after);
	if (grown > PROBE_SLACK_KIB)
		return fail("slab grew by %" PRIu64 " KiB for %d writes to %s addresses",
			    grown, PROBES,
			    kind == PROBE_UNMAPPED ? "unmapped" : "PROT_NONE");
	return kit_check_pattern(r.addr, 12, 64, "UC RDMA WRITE after the probes");
}

#define CHURN_SLOTS	2048
/* How long the kernel's work item may take to free the children. */
#define REAP_TIMEOUT_MS	10000

/*
 * What an implicit MR holds follows what the process maps now, not all it
 * ever mapped: a page mapped in each of CHURN_SLOTS distinct 2 MiB slots,
 * written by the peer (which makes its child) and unmapped again, leaves
 * every one of those children freed (counter odp_children_freed) and the
 * slab where it was; the MR still serves mapped memory.
 */
static int case_implicit_churn(int unused)
{
	uint64_t before, after, grown, base, freed0, freed = 0;
	uint64_t written = 0;
	struct kit_pair *p;
	struct region r;
	char what[64];

	(void)unused;
	if (reserve_slots(2 * CHURN_SLOTS, false, &base) ||
	    new_region(true, REGION_LEN, ACC_RW, NULL, &r) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p) ||
	    write_check(p, &r, 0, 64, 11) ||
	    counter("odp_children_freed", &freed0) || slab_kib(&before))
		return -1;
	for (uint64_t i = 0; written < CHURN_SLOTS; i++) {
		char *addr = (char *)(uintptr_t)(base + i * RXE_CHILD_SIZE);
		char *m;

		if (i == 2 * CHURN_SLOTS)
			return fail("only %" PRIu64 " of %d slots could be mapped",
				    written, 2 * CHURN_SLOTS);
		m = mmap(addr, page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (m == MAP_FAILED && errno == EEXIST)
			continue;	/* something of the process's own lies there */
		if (m != addr)
			return fail("mmap of a page at %p: %s", (void *)addr,
				    m == MAP_FAILED ? strerror(errno) : "moved");
		snprintf(what, sizeof(what), "RDMA WRITE to slot %" PRIu64, i);
		xfer_pattern_fill(kit_host.addr, 100 + i, 64);
		if (kit_expect_wc(write_to(p, r.mr, (uintptr_t)m, 64,
					   KIT_WC_TIMEOUT_MS),
				  IBV_WC_SUCCESS, what) ||
		    kit_check_pattern(m, 100 + i, 64, what))
			return -1;
		munmap(m, page);
		written++;
	}
	/* The work item frees them in the background. */
	for (double end = xfer_now() + REAP_TIMEOUT_MS / 1e3;;) {
		if (counter("odp_children_freed", &freed))
			return -1;
		if (freed - freed0 >= CHURN_SLOTS || xfer_now() > end)
			break;
	}
	if (slab_kib(&after) || write_check(p, &r, 0, 64, 12))
		return -1;
	grown = after > before ? after - before : 0;
	kit_note("implicit-churn: %d slots mapped, written and unmapped: %" PRIu64
		 " children freed, slab %" PRIu64 " -> %" PRIu64 " KiB",
		 CHURN_SLOTS, freed - freed0, before, after);
	if (grown > PROBE_SLACK_KIB)
		return fail("slab grew by %" PRIu64 " KiB for %d slots mapped and unmapped",
			    grown, CHURN_SLOTS);
	if (freed - freed0 < CHURN_SLOTS)
		return fail("%" PRIu64 " of the %d children of unmapped slots were freed",
			    freed - freed0, CHURN_SLOTS);
	return 0;
}

/*
 * An implicit MR outlives the process that registered it when another
 * process holds the device file: here a fork registers it, sends its keys
 * home and exits without touching it, so no child umem ever held its mm.
 * rxe must not use the dead process's mm then: a peer's WRITE at the MR
 * completes with a remote access error (there is nothing to reach), and
 * the kernel logs nothing (KASAN sees any use of the freed mm). The MR
 * is libibverbs' in the fork only: it is destroyed by its handle.
 */
static int case_implicit_owner_exited(int unused)
{
	uint32_t keys[2] = { 0, 0 };	/* handle, rkey */
	struct kit_pair *p;
	int fds[2], status, err;
	ssize_t got;
	pid_t pid;

	(void)unused;
	if (kit_new_pair(IBV_QPT_RC, 0, &p))
		return -1;
	if (pipe(fds))
		return fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (pid == 0) {
		struct ibv_mr *mr = ibv_reg_mr(kit_dev.pd, NULL, SIZE_MAX,
					       ACC_RW | IBV_ACCESS_ON_DEMAND);

		if (mr) {
			keys[0] = mr->handle;
			keys[1] = mr->rkey;
		}
		_exit(write(fds[1], keys, sizeof(keys)) == sizeof(keys) &&
		      mr ? 0 : 1);
	}
	close(fds[1]);
	got = read(fds[0], keys, sizeof(keys));
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid: %s", strerror(errno));
	if (got != sizeof(keys) || !WIFEXITED(status) || WEXITSTATUS(status))
		return fail("the fork could not register an implicit ODP MR (status 0x%x)",
			    status);
	if (kit_expect_wc(kit_rdma(p, IBV_WR_RDMA_WRITE,
				   (uintptr_t)kit_host.addr, kit_host.mr->lkey,
				   (uintptr_t)kit_host.addr, keys[1], 64,
				   ERR_TIMEOUT_MS),
			  IBV_WC_REM_ACCESS_ERR,
			  "RDMA WRITE at an implicit MR of an exited process"))
		return -1;
	err = raw_destroy_mr_write(kit_dev.ctx->cmd_fd, keys[0]);
	return err ? fail("destroying the MR by its handle: %s", strerror(err)) : 0;
}

#define HUGE_LEN	(2UL << 20)

enum { HUGE_FLAG, HUGE_NO_FLAG, HUGE_IMPLICIT };

/*
 * ODP memory in a 2 MiB hugetlb page. With IBV_ACCESS_HUGETLB the core
 * keeps one entry per 2 MiB page (page_shift 21), so rxe's copy paths
 * must offset within pages larger than PAGE_SIZE; without it, or through
 * an implicit MR's child, 4 KiB entries point into the huge page. The
 * peer WRITEs the whole page from an odd offset in messages that start
 * and end mid-page, READs each back, every byte checked both ways, and
 * rxe faulted the page in (odp_page_faults rises).
 */
static int case_huge(int kind)
{
	const size_t chunk = KIT_HOST_LEN - 4096 + 13;
	char *addr = mmap(NULL, HUGE_LEN, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	uint64_t f0, f1, msg = 60;
	struct kit_pair *p;
	struct region r = { .addr = addr, .len = HUGE_LEN };
	char what[64];
	int access;

	/* A kernel without hugetlb pages (UML) knows no huge page size. */
	if (addr == MAP_FAILED && errno == EINVAL)
		return skip("this kernel has no huge pages (CONFIG_HUGETLBFS)");
	if (addr == MAP_FAILED && errno == ENOMEM)
		return skip("no free 2 MiB huge page (reserve some: /proc/sys/vm/nr_hugepages)");
	if (addr == MAP_FAILED)
		return fail("mmap(MAP_HUGETLB, 2 MiB): %s", strerror(errno));
	track_map(addr, HUGE_LEN);
	if (kind == HUGE_IMPLICIT) {
		if (implicit_mr(ACC_RW, &r.mr))
			return -1;
	} else {
		access = ACC_RW | IBV_ACCESS_ON_DEMAND |
			 (kind == HUGE_FLAG ? IBV_ACCESS_HUGETLB : 0);
		r.mr = ibv_reg_mr(kit_dev.pd, addr, HUGE_LEN, access);
		if (!r.mr)
			return fail("ibv_reg_mr(ODP, huge page, access 0x%x): %s",
				    access, strerror(errno));
		kit_track_mr(r.mr);
	}
	if (kit_new_pair(IBV_QPT_RC, 0, &p) ||
	    counter("odp_page_faults", &f0))
		return -1;
	for (size_t off = 37, len; off < HUGE_LEN; off += len, msg++) {
		len = HUGE_LEN - off < chunk ? HUGE_LEN - off : chunk;
		snprintf(what, sizeof(what), "RDMA READ of [%zu, +%zu)", off, len);
		if (write_check(p, &r, off, len, msg) ||
		    read_back(p, &r, off, len) ||
		    kit_check_pattern(kit_host.addr, msg, len, what))
			return -1;
	}
	if (counter("odp_page_faults", &f1))
		return -1;
	kit_note("huge: %" PRIu64 " ODP faults", f1 - f0);
	if (f1 == f0)
		return fail("odp_page_faults did not rise: rxe did not fault the huge page in");
	return 0;
}

#define SRQ_MSG		(16 * 1024)

/* RC SENDs into never-touched ODP buffers posted on an SRQ. */
static int case_srq(int implicit)
{
	struct ibv_wc wc;
	struct region rcv;
	struct kit_pair *p;
	char what[64];
	int st;

	if (new_region(implicit, RECV_SLOTS * SRQ_MSG, ACC_RW, NULL, &rcv) ||
	    kit_new_pair(IBV_QPT_RC, KIT_PAIR_SRQ, &p))
		return -1;
	for (int i = 0; i < RECV_SLOTS; i++)
		if (kit_post_recv(p, i, (uintptr_t)rcv.addr + i * SRQ_MSG, SRQ_MSG,
			      rcv.mr->lkey))
			return -1;
	for (int i = 0; i < RECV_SLOTS; i++) {
		xfer_pattern_fill(kit_host.addr, 40 + i, SRQ_MSG);
		snprintf(what, sizeof(what), "SEND %d", i);
		st = kit_rdma(p, IBV_WR_SEND, (uintptr_t)kit_host.addr,
			     kit_host.mr->lkey, 0, 0, SRQ_MSG, KIT_WC_TIMEOUT_MS);
		if (kit_expect_wc(st, IBV_WC_SUCCESS, what))
			return -1;
		snprintf(what, sizeof(what), "SRQ receive %d", i);
		if (kit_wait_recv(p, i, SRQ_MSG, &wc, what) ||
		    kit_check_pattern(rcv.addr + i * SRQ_MSG, 40 + i, SRQ_MSG,
				  what))
			return -1;
	}
	return 0;
}

/*
 * UC RDMA WRITE with immediate into never-touched ODP memory: UC has no
 * ACK, so the receive completion of the immediate says the data is in.
 */
static int case_uc(int implicit)
{
	struct region r;
	struct kit_pair *p;

	if (new_region(implicit, REGION_LEN, ACC_RW, NULL, &r) ||
	    kit_new_pair(IBV_QPT_UC, 0, &p))
		return -1;
	xfer_pattern_fill(kit_host.addr, 50, r.len);
	if (kit_write_imm(p, (uintptr_t)kit_host.addr, kit_host.mr->lkey,
			  (uintptr_t)r.addr, r.mr->rkey, r.len, 50))
		return fail("UC RDMA WRITE with immediate into ODP memory");
	return kit_check_pattern(r.addr, 50, r.len, "after UC RDMA WRITE");
}

/* ------------------------------------------------------------------ */
/* Prefetch                                                            */

static int advise(struct ibv_mr *mr, uint64_t addr, size_t len,
		  enum ibv_advise_mr_advice advice, uint32_t flags)
{
	struct ibv_sge sge = {
		.addr = addr,
		.length = (uint32_t)len,
		.lkey = mr->lkey,
	};

	return ibv_advise_mr(kit_dev.pd, advice, flags, &sge, 1);
}

static const char *advice_name(enum ibv_advise_mr_advice advice)
{
	switch (advice) {
	case IBV_ADVISE_MR_ADVICE_PREFETCH:
		return "PREFETCH";
	case IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE:
		return "PREFETCH_WRITE";
	case IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT:
		return "PREFETCH_NO_FAULT";
	}
	return "unknown advice";
}

enum prefetch_kind {
	PF_WRITE,		/* PREFETCH_WRITE + FLUSH: no fault after */
	PF_WRITE_IMPLICIT,	/* the same through the implicit MR */
	PF_READ,		/* PREFETCH + FLUSH: reads free, writes fault */
	PF_NO_FAULT,		/* NO_FAULT, untouched: maps nothing */
	PF_NO_FAULT_PRESENT,	/* NO_FAULT, CPU-written: maps it */
	PF_ASYNC,		/* PREFETCH_WRITE without FLUSH */
};

static const struct prefetch_case {
	enum ibv_advise_mr_advice advice;
	uint32_t flags;
	bool implicit, touch;
	bool write_faults;	/* the RDMA WRITE after it must fault */
} prefetch_cases[] = {
	[PF_WRITE] = { IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
		       IBV_ADVISE_MR_FLAG_FLUSH, false, false, false },
	[PF_WRITE_IMPLICIT] = { IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
				IBV_ADVISE_MR_FLAG_FLUSH, true, false, false },
	[PF_READ] = { IBV_ADVISE_MR_ADVICE_PREFETCH,
		      IBV_ADVISE_MR_FLAG_FLUSH, false, false, true },
	[PF_NO_FAULT] = { IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT,
			  IBV_ADVISE_MR_FLAG_FLUSH, false, false, true },
	[PF_NO_FAULT_PRESENT] = { IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT,
				  IBV_ADVISE_MR_FLAG_FLUSH, false, true,
				  false },
	[PF_ASYNC] = { IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, 0, false, false,
		       false },
};

/* Wait up to 5 s for the asynchronous prefetch to have run. */
static int wait_prefetch(uint64_t p0, uint64_t *p1)
{
	double end = xfer_now() + 5;

	do {
		if (counter("odp_prefetches", p1))
			return -1;
		if (*p1 != p0)
			return 0;
		usleep(1000);
	} while (xfer_now() < end);
	return fail("odp_prefetches did not grow within 5 s of an asynchronous prefetch");
}

/*
 * Advice on ODP memory, then an RDMA WRITE over it: whether the write
 * still faults tells what the advice mapped. odp_page_faults counts
 * prefetches that fault too, so the baseline is taken after the advice.
 */
static int case_prefetch(int kind)
{
	const struct prefetch_case *t = &prefetch_cases[kind];
	uint64_t p0, p1, f0, f1;
	struct region r;
	struct kit_pair *p;
	int err;

	if (new_region(t->implicit, REGION_LEN, ACC_RW, NULL, &r) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p))
		return -1;
	if (t->touch)
		memset(r.addr, 0x5a, r.len);
	if (counter("odp_prefetches", &p0))
		return -1;
	err = advise(r.mr, (uintptr_t)r.addr, r.len, t->advice, t->flags);
	kit_note("%s: ibv_advise_mr(%s, %s) -> %s", t->implicit ? "implicit" : "explicit",
	     advice_name(t->advice), t->flags ? "FLUSH" : "async",
	     kit_errname(err));
	if (err)
		return fail("ibv_advise_mr(%s): %s", advice_name(t->advice),
			    strerror(err));
	if (t->flags & IBV_ADVISE_MR_FLAG_FLUSH) {
		if (counter("odp_prefetches", &p1))
			return -1;
		if (p1 == p0)
			return fail("odp_prefetches did not grow");
	} else if (wait_prefetch(p0, &p1)) {
		return -1;
	}

	if (kind == PF_READ) {
		/* Mapped for reading: the zero pages, read without a fault. */
		if (counter("odp_page_faults", &f0) ||
		    read_back(p, &r, 0, r.len) || counter("odp_page_faults", &f1) ||
		    check_zero(kit_host.addr, r.len, "RDMA READ after PREFETCH"))
			return -1;
		kit_note("prefetch-read: RDMA READ after PREFETCH: odp_page_faults +%" PRIu64,
		     f1 - f0);
		if (f1 != f0)
			return fail("the RDMA READ after PREFETCH faulted");
	}
	if (counter("odp_page_faults", &f0) || write_check(p, &r, 0, r.len, 60) ||
	    counter("odp_page_faults", &f1))
		return -1;
	kit_note("%s: RDMA WRITE after it: odp_page_faults +%" PRIu64,
	     advice_name(t->advice), f1 - f0);
	if (t->write_faults && f1 == f0)
		return fail("the RDMA WRITE did not fault: the advice mapped the memory for writing");
	if (!t->write_faults && f1 != f0 && kind != PF_ASYNC)
		return fail("the RDMA WRITE faulted %" PRIu64 " times: the advice did not map the memory for writing",
			    f1 - f0);
	/* The asynchronous prefetch may still be running: no fault check. */
	return 0;
}

enum bad_advice {
	BAD_NON_ODP, BAD_LKEY, BAD_ADVICE, BAD_FLAG, BAD_NO_LOCAL_WRITE,
	BAD_RANGE,
};

static const struct {
	int want;		/* errno; 0 for "any error, report it" */
} bad_advice_want[] = {
	[BAD_NON_ODP] = { EINVAL },
	[BAD_LKEY] = { EINVAL },
	[BAD_ADVICE] = { EOPNOTSUPP },
	[BAD_FLAG] = { EINVAL },
	[BAD_NO_LOCAL_WRITE] = { EINVAL },
	[BAD_RANGE] = { EINVAL },
};

/* Advice that must be refused, with the errno expected. */
static int case_bad_advice(int kind)
{
	enum ibv_advise_mr_advice advice = IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE;
	uint32_t flags = IBV_ADVISE_MR_FLAG_FLUSH;
	int want = bad_advice_want[kind].want, err;
	struct ibv_sge sge;
	struct region r;

	if (new_region(false, REGION_LEN,
		       kind == BAD_NO_LOCAL_WRITE ? IBV_ACCESS_REMOTE_READ :
		       ACC_RW, NULL, &r))
		return -1;
	sge = (struct ibv_sge){
		.addr = (uintptr_t)r.addr,
		.length = (uint32_t)r.len,
		.lkey = r.mr->lkey,
	};
	switch (kind) {
	case BAD_NON_ODP:
		sge.addr = (uintptr_t)kit_host.addr;
		sge.lkey = kit_host.mr->lkey;
		break;
	case BAD_LKEY:
		sge.lkey = r.mr->lkey ^ 0x5a5a00;
		break;
	case BAD_ADVICE:
		advice = (enum ibv_advise_mr_advice)42;
		break;
	case BAD_FLAG:
		flags |= 1U << 7;
		break;
	case BAD_RANGE:
		sge.length += 4096;
		break;
	}
	err = ibv_advise_mr(kit_dev.pd, advice, flags, &sge, 1);
	kit_note("advise: %s -> %s", kind == BAD_NON_ODP ? "non-ODP MR" :
	     kind == BAD_LKEY ? "bad lkey" : kind == BAD_ADVICE ?
	     "advice 42" : kind == BAD_FLAG ? "flag 1<<7" :
	     kind == BAD_NO_LOCAL_WRITE ? "PREFETCH_WRITE without LOCAL_WRITE" :
	     "range beyond the MR", kit_errname(err));
	if (!err)
		return fail("accepted, want %s", kit_errname(want));
	if (want && err != want)
		return fail("%s (%s), want %s", kit_errname(err), strerror(err),
			    kit_errname(want));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Registrations that must fail                                        */

enum bad_reg {
	REG_IMPLICIT_IOVA, REG_LENGTH_WRAPS, REG_SIZE_MAX_START, REG_ZERO_LEN,
	REG_ZERO_LEN_UNALIGNED, REG_PINNED_ZERO_LEN_UNALIGNED,
	REG_IMPLICIT_PINNED,
};

static const struct {
	const char *what;
	int want;
} bad_regs[] = {
	[REG_IMPLICIT_IOVA] = { "implicit range with iova 0x200000", EINVAL },
	[REG_LENGTH_WRAPS] = { "addr + length wraps past 2^64", EOVERFLOW },
	/* libibverbs refuses this one itself, before the kernel sees it. */
	[REG_SIZE_MAX_START] = { "length SIZE_MAX from a nonzero address",
				 EINVAL },
	[REG_ZERO_LEN] = { "length 0", EINVAL },
	/*
	 * A zero-length range inside a page spans that page for the core,
	 * so only rxe's own check of the length refuses these two.
	 */
	[REG_ZERO_LEN_UNALIGNED] = { "length 0 at 0x13 into a page", EINVAL },
	[REG_PINNED_ZERO_LEN_UNALIGNED] = {
		"length 0 at 0x13 into a page, without ON_DEMAND", EINVAL },
	[REG_IMPLICIT_PINNED] = { "the implicit range without ON_DEMAND",
				  EINVAL },
};

static int case_bad_reg(int kind)
{
	int access = ACC_RW | IBV_ACCESS_ON_DEMAND, err;
	uint64_t len, iova;
	struct ibv_mr *mr;
	char *addr;

	if (new_map(2 * 4096, NULL, &addr))
		return -1;
	iova = (uintptr_t)addr;
	switch (kind) {
	case REG_IMPLICIT_IOVA:
		addr = NULL;
		len = SIZE_MAX;
		iova = 0x200000;
		break;
	case REG_LENGTH_WRAPS:
		len = UINT64_MAX - (uintptr_t)addr + 1 + 2 * 4096;
		break;
	case REG_SIZE_MAX_START:
		len = SIZE_MAX;
		break;
	case REG_ZERO_LEN:
		len = 0;
		break;
	case REG_ZERO_LEN_UNALIGNED:
	case REG_PINNED_ZERO_LEN_UNALIGNED:
		/* ibv_reg_mr(pd, addr + 0x13, 0, LOCAL_WRITE [| ON_DEMAND]) */
		access = IBV_ACCESS_LOCAL_WRITE;
		if (kind == REG_ZERO_LEN_UNALIGNED)
			access |= IBV_ACCESS_ON_DEMAND;
		addr += 0x13;
		iova = (uintptr_t)addr;
		len = 0;
		break;
	case REG_IMPLICIT_PINNED:
	default:
		addr = NULL;
		len = SIZE_MAX;
		iova = 0;
		access &= ~IBV_ACCESS_ON_DEMAND;
		break;
	}
	errno = 0;
	mr = ibv_reg_mr_iova(kit_dev.pd, addr, len, iova, access);
	err = errno;
	kit_note("reg: %s: ibv_reg_mr_iova(addr %p, length 0x%" PRIx64 ", iova 0x%" PRIx64 ", access 0x%x) -> %s",
	     bad_regs[kind].what, (void *)addr, len, iova, access,
	     mr ? "registered" : kit_errname(err));
	if (mr) {
		kit_track_mr(mr);
		return fail("registered, want %s", kit_errname(bad_regs[kind].want));
	}
	if (err != bad_regs[kind].want)
		return fail("%s (%s), want %s", kit_errname(err), strerror(err),
			    kit_errname(bad_regs[kind].want));
	return 0;
}

/*
 * munmap takes a VMA out of the tree and downgrades mmap_lock before it
 * invalidates the range. A walk that does not fault (PREFETCH_NO_FAULT,
 * rxe's map-ahead) in that window finds no VMA while rxe still maps the
 * pages: it must leave them alone, not map over them (the core then
 * WARNs in ib_umem_odp_map_dma_and_lock(), and the walk overwrites the
 * page entries the invalidation reads). One thread prefetches the whole
 * MR without faulting, back to back, while this one maps, faults in and
 * unmaps its slots. A warning taints the kernel (W): the case fails on a
 * new one. Only an SMP guest can overlap the two.
 */
struct no_fault_loop {
	struct ibv_mr	*mr;
	char		*addr;
	size_t		len;
	volatile bool	stop;
	int		err;
	unsigned long	prefetches;
};

static void *no_fault_prefetcher(void *arg)
{
	struct no_fault_loop *l = arg;

	while (!l->stop) {
		/* A slot may be unmapped right now: that is no error. */
		if (advise(l->mr, (uintptr_t)l->addr, l->len,
			   IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT,
			   IBV_ADVISE_MR_FLAG_FLUSH) && errno != EFAULT) {
			l->err = errno;
			break;
		}
		l->prefetches++;
	}
	return NULL;
}

static int kernel_tainted(unsigned long *taint)
{
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");
	int n;

	if (!f)
		return fail("/proc/sys/kernel/tainted: %s", strerror(errno));
	n = fscanf(f, "%lu", taint);
	fclose(f);
	return n == 1 ? 0 : fail("/proc/sys/kernel/tainted unreadable");
}

#define TAINT_WARN_BIT	(1UL << 9)

static int case_no_fault_races_munmap(int unused)
{
	const size_t slot = 4 * 4096, nslots = 64;
	struct no_fault_loop l = { .len = slot * nslots };
	unsigned long taint0, taint1, rounds = 0;
	struct region r;
	pthread_t tid;
	double end;
	int err = 0;

	(void)unused;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return skip("one CPU: nothing runs beside the unmapping thread");
	if (kernel_tainted(&taint0) ||
	    new_region(false, l.len, ACC_RW, HOLE_HINT, &r))
		return -1;
	l.mr = r.mr;
	l.addr = r.addr;
	if (pthread_create(&tid, NULL, no_fault_prefetcher, &l))
		return fail("pthread_create failed");
	end = xfer_now() + 5;
	while (!err && xfer_now() < end) {
		for (size_t i = 0; i < nslots && !err; i++) {
			char *s = r.addr + i * slot;

			memset(s, 0x5a, slot);
			/* Mapped by rxe, so an unmap has entries to find. */
			if (advise(r.mr, (uintptr_t)s, slot,
				   IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
				   IBV_ADVISE_MR_FLAG_FLUSH))
				err = fail("prefetch of slot %zu: %s", i,
					   strerror(errno));
			else if (munmap(s, slot))
				err = fail("munmap: %s", strerror(errno));
			else if (mmap(s, slot, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				      -1, 0) == MAP_FAILED)
				err = fail("mmap(MAP_FIXED): %s", strerror(errno));
		}
		rounds++;
	}
	l.stop = true;
	pthread_join(tid, NULL);
	if (err)
		return err;
	if (l.err)
		return fail("prefetch without faulting: %s", strerror(l.err));
	kit_note("%lu rounds of %zu slots unmapped, %lu prefetches without faulting",
		 rounds, nslots, l.prefetches);
	if (kernel_tainted(&taint1))
		return -1;
	if ((taint1 & TAINT_WARN_BIT) && !(taint0 & TAINT_WARN_BIT))
		return fail("the kernel warned (dmesg: umem_odp.c, ib_umem_odp_map_dma_and_lock?)");
	return 0;
}

/*
 * An explicit ODP MR whose iova is not the address of its memory: a peer
 * names the MR's bytes by iova, and every access must land at address +
 * (raddr - iova). Below: the iova lies under the address; above: 1 TiB
 * over it. The MR starts 64 bytes into its first page, so that a
 * translation from the page's start instead of the MR's misses too.
 * rxe must translate before it looks a page up: a prefetch by iova, RDMA
 * WRITE and READ, FETCH_ADD and ATOMIC_WRITE.
 */
enum { IOVA_BELOW, IOVA_ABOVE };

static int case_iova(int kind)
{
	const size_t map_len = 4 * 4096, skip = 64, len = map_len - skip;
	const size_t off = 4096;	/* an 8-byte aligned operand */
	const uint64_t add = 0x10000000001ULL, word = 0x5a5a0123456789a5ULL;
	struct kit_pair *p, *e, *aw;
	struct ibv_mr *mr;
	uint64_t iova, orig;
	char *map, *addr;
	int st;

	if (new_map(map_len, NULL, &map))
		return -1;
	addr = map + skip;
	iova = kind == IOVA_BELOW ? 0x10000 + skip :
				    (uintptr_t)addr + (1ULL << 40);
	mr = ibv_reg_mr_iova(kit_dev.pd, addr, len, iova,
			     ACC_ALL | IBV_ACCESS_ON_DEMAND);
	if (!mr)
		return fail("ibv_reg_mr_iova(ODP, addr %p, iova 0x%" PRIx64 "): %s",
			    (void *)addr, iova, strerror(errno));
	if (kit_track_mr(mr) || kit_new_pair(IBV_QPT_RC, 0, &p) ||
	    kit_new_pair(IBV_QPT_RC, 0, &e))
		return -1;
	kit_note("iova: %p registered at iova 0x%" PRIx64, (void *)addr, iova);

	st = advise(mr, iova, len, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
		    IBV_ADVISE_MR_FLAG_FLUSH);
	if (st)
		return fail("prefetch of the MR by its iova: %s", strerror(st));

	xfer_pattern_fill(kit_host.addr, 31, len);
	if (kit_expect_wc(write_to(p, mr, iova, len, KIT_WC_TIMEOUT_MS),
			  IBV_WC_SUCCESS, "RDMA WRITE at the iova") ||
	    kit_check_pattern(addr, 31, len, "the memory after RDMA WRITE"))
		return -1;
	xfer_pattern_fill(addr, 32, len);
	memset(kit_host.addr, 0xa5, len);
	if (kit_expect_wc(read_from(p, mr, iova, len), IBV_WC_SUCCESS,
			  "RDMA READ at the iova") ||
	    kit_check_pattern(kit_host.addr, 32, len, "RDMA READ"))
		return -1;

	memset(addr + off, 0, sizeof(uint64_t));
	st = kit_atomic(p, IBV_WR_ATOMIC_FETCH_AND_ADD, mr->rkey, iova + off,
			add, 0, &orig);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "FETCH_ADD at the iova") ||
	    kit_expect_u64(orig, 0, "FETCH_ADD's original value") ||
	    kit_expect_u64(load_u64(addr + off), add, "the sum in memory"))
		return -1;

	st = kit_need_atomic_write();
	if (st == KIT_SKIPPED) {
		kit_note("iova: no ATOMIC_WRITE on this device");
	} else if (st || kit_new_pair(IBV_QPT_RC, KIT_PAIR_ATOMIC_WRITE, &aw) ||
		   kit_expect_wc(kit_atomic_write(aw, mr->rkey, iova + off + 8,
						  word),
				 IBV_WC_SUCCESS, "ATOMIC_WRITE at the iova") ||
		   kit_expect_u64(load_u64(addr + off + 8), word,
				  "the value ATOMIC_WRITE stored")) {
		return -1;
	}

	/* The address itself is outside the MR, unless the ranges overlap. */
	if (kind == IOVA_ABOVE)
		return expect_access_error(e, mr, (uintptr_t)addr, 8,
					   "RDMA WRITE at the address, not the iova");
	return expect_access_error(e, mr, iova + len, 8,
				   "RDMA WRITE one past the MR");
}

/* ------------------------------------------------------------------ */

static const struct kit_case tests[] = {
	{ "caps", case_caps, 0 },
	{ "explicit-write-read", case_write_read, false },
	{ "implicit-write-read", case_write_read, true },
	{ "explicit-local", case_local, false },
	{ "implicit-local", case_local, true },
	{ "explicit-present-faults-once", case_present, false },
	{ "implicit-present-faults-once", case_present, true },
	{ "implicit-scattered", case_scattered, 0 },
	{ "implicit-unmapped", case_unmapped, 0 },
	{ "implicit-non-user-address", case_non_user, 0 },
	{ "explicit-munmap-remap", case_munmap_remap, 0 },
	{ "explicit-madvise-zeros", case_madvise, false },
	{ "implicit-madvise-zeros", case_madvise, true },
	{ "explicit-fork-cow", case_fork, false },
	{ "implicit-fork-cow", case_fork, true },
	{ "explicit-atomics", case_atomics, false },
	{ "implicit-atomics", case_atomics, true },
	{ "explicit-atomic-write", case_atomic_write, false },
	{ "implicit-atomic-write", case_atomic_write, true },
	{ "explicit-ud-recv", case_ud, false },
	{ "implicit-ud-recv", case_ud, true },
	{ "explicit-srq-recv", case_srq, false },
	{ "implicit-srq-recv", case_srq, true },
	{ "explicit-recv-unmapped", case_recv_unmapped, false },
	{ "implicit-recv-unmapped", case_recv_unmapped, true },
	{ "implicit-probe-unmapped", case_implicit_probe, PROBE_UNMAPPED },
	{ "implicit-probe-prot-none", case_implicit_probe, PROBE_PROT_NONE },
	{ "implicit-unmapped-children-freed", case_implicit_churn, 0 },
	{ "implicit-owner-exited", case_implicit_owner_exited, 0 },
	{ "explicit-huge-hugetlb-access", case_huge, HUGE_FLAG },
	{ "explicit-huge", case_huge, HUGE_NO_FLAG },
	{ "implicit-huge", case_huge, HUGE_IMPLICIT },
	{ "explicit-iova-below-address", case_iova, IOVA_BELOW },
	{ "explicit-iova-above-address", case_iova, IOVA_ABOVE },
	{ "explicit-uc-write-imm", case_uc, false },
	{ "implicit-uc-write-imm", case_uc, true },
	{ "prefetch-write", case_prefetch, PF_WRITE },
	{ "prefetch-write-implicit", case_prefetch, PF_WRITE_IMPLICIT },
	{ "prefetch-read", case_prefetch, PF_READ },
	{ "prefetch-no-fault", case_prefetch, PF_NO_FAULT },
	{ "prefetch-no-fault-present", case_prefetch, PF_NO_FAULT_PRESENT },
	{ "prefetch-async", case_prefetch, PF_ASYNC },
	{ "explicit-no-fault-prefetch-races-munmap", case_no_fault_races_munmap, 0 },
	{ "advise-non-odp-mr", case_bad_advice, BAD_NON_ODP },
	{ "advise-bad-lkey", case_bad_advice, BAD_LKEY },
	{ "advise-unknown-advice", case_bad_advice, BAD_ADVICE },
	{ "advise-unknown-flag", case_bad_advice, BAD_FLAG },
	{ "advise-write-without-local-write", case_bad_advice,
	  BAD_NO_LOCAL_WRITE },
	{ "advise-beyond-mr", case_bad_advice, BAD_RANGE },
	{ "reg-implicit-iova", case_bad_reg, REG_IMPLICIT_IOVA },
	{ "reg-length-wraps", case_bad_reg, REG_LENGTH_WRAPS },
	{ "reg-size-max-nonzero-start", case_bad_reg, REG_SIZE_MAX_START },
	{ "reg-zero-length", case_bad_reg, REG_ZERO_LEN },
	{ "reg-zero-length-unaligned", case_bad_reg, REG_ZERO_LEN_UNALIGNED },
	{ "reg-pinned-zero-length-unaligned", case_bad_reg,
	  REG_PINNED_ZERO_LEN_UNALIGNED },
	{ "reg-implicit-pinned", case_bad_reg, REG_IMPLICIT_PINNED },
};

int main(int argc, char **argv)
{
	kit_release_hook = release_maps;
	return kit_main("odp_test", argc, argv, tests, ARRAY_SIZE(tests));
}
