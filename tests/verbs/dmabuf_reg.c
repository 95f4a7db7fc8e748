/*
 * dmabuf_reg - dma-buf memory regions on an RDMA device (rxe), case by case.
 *
 * Registration from every dma-buf source, every invalid registration with
 * its exact errno, and what a dynamic importer must survive: the fd closed
 * after registration, several MRs on one buffer, fork, revocation, a map
 * that fails, a move whose fence does not signal in time, and atomics.
 * Data moves over loopback RC QP pairs (kit.h) and is checked through the
 * buffer's own CPU mapping, so a transfer that went anywhere else fails.
 * What each data path does on dma-buf MRs is dmabuf_ops' part.
 *
 * usage: dmabuf_reg [-d DEV] [-x GID_INDEX] [-l] [CASE...]
 *
 * Prints one line per case, "PASS name", "FAIL name: reason" or
 * "SKIP name: reason" (a source that is absent is skipped, not failed),
 * plus "# ..." lines with measurements, and exits 1 if any case failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dmabuf_kit.h"

/* rxe gives up on a move's fence after 5 s; the exporter holds it 10 s. */
#define FENCE_DELAY_US	10000000
#define RXE_FENCE_WAIT_S 5.0

#define ACC_RW		KIT_ACC_RW
#define ACC_ALL		KIT_ACC_ALL
#define SETUP_LEN	(64 * 1024)

static int stats(const struct xfer_buf *b, struct dte_stats *st)
{
	int err = xfer_dte_stats(b->fd, st);

	return err ? fail("DTE_IOC_STATS: %s", strerror(err)) : 0;
}

static int dte_ctl(int err, const char *what)
{
	return err ? fail("%s: %s", what, strerror(err)) : 0;
}

/* An RC setup of @len bytes on @src (-1: any source). */
static int rc_open(struct dk_setup *k, int src, size_t len, int access)
{
	return dk_open(k, src, len, access, IBV_QPT_RC, 0);
}

/* A setup on the test exporter whose MR is mapped: a write went through. */
static int setup_mapped(struct dk_setup *k, int pair_flags)
{
	int rc = dk_open(k, XFER_SRC_DTE, SETUP_LEN, ACC_RW, IBV_QPT_RC,
			 pair_flags);

	return rc ? rc : dk_write_check_all(k->p, k->b, k->mr, 8);
}

/* A fresh RC pair, then an RDMA WRITE through it checked via the CPU. */
static int fresh_pair_write(struct dk_setup *k, uint64_t msg)
{
	struct kit_pair *p;

	return kit_new_pair(IBV_QPT_RC, 0, &p) ||
	       dk_write_check_all(p, k->b, k->mr, msg) ? -1 : 0;
}

/*
 * Registration from @src, an RDMA WRITE into the MR found through the
 * mapping, and an RDMA READ of what the CPU wrote there.
 */
static int case_reg(int src)
{
	void *host = kit_host.addr;
	struct dk_setup k;
	int rc;

	rc = rc_open(&k, src, SETUP_LEN, ACC_RW);
	if (rc)
		return rc;
	if (dk_write_check_all(k.p, k.b, k.mr, 1))
		return -1;

	xfer_buf_cpu_begin(k.b, true);
	xfer_pattern_fill(k.b->addr, 2, SETUP_LEN);
	xfer_buf_cpu_end(k.b, true);
	if (kit_expect_wc(kit_rdma(k.p, IBV_WR_RDMA_READ, (uintptr_t)host,
			      kit_host.mr->lkey, k.b->iova, k.mr->rkey,
			      SETUP_LEN, KIT_WC_TIMEOUT_MS),
		      IBV_WC_SUCCESS, "RDMA READ"))
		return -1;
	if (xfer_pattern_diff(host, 2, SETUP_LEN) != SETUP_LEN)
		return fail("RDMA READ: byte %zu differs from what the CPU wrote",
			    xfer_pattern_diff(host, 2, SETUP_LEN));
	return 0;
}

#define BAD_BUF_LEN	(16 * 1024)
#define TOP_PAGE	0xfffffffffffff000ULL

enum bad_fd { FD_BUF, FD_MINUS1, FD_CLOSED, FD_FILE, FD_PIPE };

/* Registrations that must fail, on a 16 KiB buffer unless @fd says. */
static const struct bad_reg {
	const char *name;
	enum bad_fd fd;
	uint64_t offset, length, iova;
	int access, want;
} bad_regs[] = {
	{ "bad-fd-minus1", FD_MINUS1, 0, 4096, 0, ACC_RW, EBADF },
	{ "bad-fd-closed", FD_CLOSED, 0, 4096, 0, ACC_RW, EBADF },
	{ "fd-regular-file", FD_FILE, 0, 4096, 0, ACC_RW, EINVAL },
	{ "fd-pipe", FD_PIPE, 0, 4096, 0, ACC_RW, EINVAL },
	{ "zero-length", FD_BUF, 0, 0, 0, ACC_RW, EINVAL },
	{ "beyond-buffer", FD_BUF, 4096, BAD_BUF_LEN, 4096, ACC_RW, EINVAL },
	{ "beyond-buffer-by-one", FD_BUF, 1, BAD_BUF_LEN, 1, ACC_RW, EINVAL },
	{ "offset-length-overflow", FD_BUF, TOP_PAGE, 8192, 0, ACC_RW,
	  EINVAL },
	{ "iova-length-overflow", FD_BUF, 0, 8192, TOP_PAGE, ACC_RW, EINVAL },
	{ "page-offset-mismatch", FD_BUF, 0, 4096, 0x10008, ACC_RW, EINVAL },
	{ "page-offset-mismatch-offset", FD_BUF, 8, 4096, 0x10000, ACC_RW,
	  EINVAL },
	{ "access-on-demand", FD_BUF, 0, 4096, 0,
	  ACC_RW | IBV_ACCESS_ON_DEMAND, EINVAL },
	{ "access-mw-bind", FD_BUF, 0, 4096, 0, ACC_RW | IBV_ACCESS_MW_BIND,
	  EINVAL },
	{ "access-remote-write-without-local", FD_BUF, 0, 4096, 0,
	  IBV_ACCESS_REMOTE_WRITE, EINVAL },
};

static int bad_fd(enum bad_fd kind, int *fd)
{
	int p[2];

	switch (kind) {
	case FD_MINUS1:
		*fd = -1;
		return 0;
	case FD_CLOSED:
		/* Nothing opens in between, so the number stays unused. */
		*fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (*fd < 0 || close(*fd))
			return fail("cannot make a closed fd: %s",
				    strerror(errno));
		return 0;
	case FD_FILE:
		*fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		return *fd < 0 ? fail("open(/proc/self/exe): %s",
				      strerror(errno)) : 0;
	case FD_PIPE:
		if (pipe2(p, O_CLOEXEC))
			return fail("pipe2: %s", strerror(errno));
		close(p[1]);
		*fd = p[0];
		return 0;
	case FD_BUF:
		break;
	}
	return fail("no such fd kind %d", kind);
}

static int case_bad_reg(int idx)
{
	const struct bad_reg *t = &bad_regs[idx];
	struct xfer_buf *b = NULL;
	struct dte_stats st;
	struct ibv_mr *mr;
	int fd, rc, err;

	if (t->fd == FD_BUF) {
		rc = dk_any_buf(BAD_BUF_LEN, &b);
		if (rc)
			return rc;
		fd = b->fd;
	} else if (bad_fd(t->fd, &fd)) {
		return -1;
	}
	errno = 0;
	mr = ibv_reg_dmabuf_mr(kit_dev.pd, t->offset, t->length, t->iova, fd,
			       t->access);
	err = errno;
	if (t->fd == FD_FILE || t->fd == FD_PIPE)
		close(fd);
	kit_note("%s: ibv_reg_dmabuf_mr(offset 0x%" PRIx64 ", length 0x%" PRIx64 ", iova 0x%" PRIx64 ", access 0x%x) -> %s",
	     t->name, t->offset, t->length, t->iova, t->access,
	     mr ? "registered" : kit_errname(err));
	if (mr) {
		kit_dereg(mr);
		return fail("registered, want %s", kit_errname(t->want));
	}
	if (err != t->want)
		return fail("%s (%s), want %s", kit_errname(err), strerror(err),
			    kit_errname(t->want));
	/* A refusal must not leave an attachment behind. */
	if (b && xfer_dmabuf_src_is_dte(b->ops->src)) {
		if (stats(b, &st))
			return -1;
		if (st.attachments)
			return fail("refused, but %llu attachments remain",
				    (unsigned long long)st.attachments);
	}
	return 0;
}

/*
 * The fd goes right after registration and the CPU mapping made through
 * it too; the MR must hold the buffer by itself. The data is then found
 * through a mapping of a duplicate taken before the close.
 */
static int case_close_fd(int src)
{
	struct xfer_buf *b;
	struct dk_setup k;
	int keep, rc;

	rc = rc_open(&k, src, SETUP_LEN, ACC_RW);
	if (rc)
		return rc;
	b = k.b;
	keep = fcntl(b->fd, F_DUPFD_CLOEXEC, 0);
	if (keep < 0)
		return fail("dup: %s", strerror(errno));
	munmap(b->map, b->map_len);
	close(b->fd);
	b->fd = keep;
	b->map = NULL;

	xfer_pattern_fill(kit_host.addr, 3, SETUP_LEN);
	if (kit_expect_wc(dk_write_to(k.p, k.mr, b->iova, SETUP_LEN), IBV_WC_SUCCESS,
		      "RDMA WRITE after close"))
		return -1;
	b->map = mmap(NULL, b->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      keep, 0);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return fail("mmap of the duplicate: %s", strerror(errno));
	}
	b->addr = b->map;
	return dk_check_cpu(b, b->addr, 3, SETUP_LEN, "through the duplicate");
}

/* Page-aligned, unaligned, page-crossing and up to the buffer's end. */
static const struct {
	uint64_t offset, len;
} regions[] = {
	{ 0, 4096 },
	{ 4096 + 100, 3000 },
	{ 3 * 4096 + 4000, 5000 },
	{ 6 * 4096 + 8, 2 * 4096 - 8 },
};

static int case_multi_mr(int unused)
{
	size_t len = 8 * 4096, bad = 0;
	struct ibv_mr *mr[ARRAY_SIZE(regions)];
	uint64_t iova[ARRAY_SIZE(regions)];
	const unsigned char *c;
	struct xfer_buf *b;
	struct kit_pair *p;
	int rc;

	(void)unused;
	rc = dk_any_buf(len, &b);
	if (rc)
		return rc;
	for (size_t i = 0; i < ARRAY_SIZE(regions); i++) {
		iova[i] = xfer_dmabuf_iova(regions[i].offset);
		if (dk_new_mr(b, regions[i].offset, regions[i].len, iova[i],
			   ACC_RW, &mr[i]))
			return -1;
	}
	if (kit_new_pair(IBV_QPT_RC, 0, &p))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(regions); i++) {
		xfer_pattern_fill(kit_host.addr, 10 + i, regions[i].len);
		if (kit_expect_wc(dk_write_to(p, mr[i], iova[i], regions[i].len),
			      IBV_WC_SUCCESS, "RDMA WRITE"))
			return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(regions); i++) {
		char what[64];

		snprintf(what, sizeof(what), "MR at offset %" PRIu64,
			 regions[i].offset);
		c = (const unsigned char *)b->addr + regions[i].offset;
		if (dk_check_cpu(b, c, 10 + i, regions[i].len, what))
			return -1;
	}
	/* What no MR covers must still be zero. */
	xfer_buf_cpu_begin(b, false);
	c = b->addr;
	for (size_t off = 0, i = 0; off < len; off++) {
		while (i < ARRAY_SIZE(regions) &&
		       off >= regions[i].offset + regions[i].len)
			i++;
		if (i < ARRAY_SIZE(regions) && off >= regions[i].offset)
			continue;
		bad += c[off] != 0;
	}
	xfer_buf_cpu_end(b, false);
	return bad ? fail("%zu bytes outside every MR were written", bad) : 0;
}

static int expect_stat(uint64_t got, uint64_t want, const char *what)
{
	if (got == want)
		return 0;
	return fail("%s is %" PRIu64 ", want %" PRIu64, what, got, want);
}

/*
 * rxe attaches dynamically and never pins, before, during and after
 * access; it reaches the buffer through vmap alone and never maps the
 * attachment for DMA (so the dma-buf core has no map at which to pin it,
 * with or without CONFIG_DMABUF_MOVE_NOTIFY); every attachment and vmap
 * goes away with the MRs.
 */
static int case_pins(int unused)
{
	struct dte_stats st;
	struct ibv_mr *mr2;
	struct dk_setup k;
	int rc;

	(void)unused;
	rc = rc_open(&k, XFER_SRC_DTE, SETUP_LEN, ACC_RW);
	if (rc)
		return rc;
	if (stats(k.b, &st) ||
	    expect_stat(st.attachments, 1, "attachments after registration") ||
	    expect_stat(st.dynamic_attachments, 1,
			"dynamic_attachments after registration") ||
	    expect_stat(st.pins, 0, "pins after registration") ||
	    expect_stat(st.maps, 0, "maps after registration (rxe maps on first access)"))
		return -1;

	if (dk_write_check_all(k.p, k.b, k.mr, 4) || stats(k.b, &st) ||
	    expect_stat(st.pins, 0, "pins while mapped") ||
	    expect_stat(st.maps, 0, "map_dma_buf calls after an RDMA WRITE"))
		return -1;
	if (!st.vmaps)
		return fail("no vmap call after an RDMA WRITE");
	if (dte_ctl(xfer_dte_op(DTE_IOC_MOVE, k.b->fd, DTE_MOVE_WAIT),
		    "DTE_IOC_MOVE") ||
	    dk_write_check_all(k.p, k.b, k.mr, 5) || stats(k.b, &st) ||
	    expect_stat(st.pins, 0, "pins after a move and a refault") ||
	    expect_stat(st.maps, 0, "map_dma_buf calls after a refault"))
		return -1;

	if (dk_new_mr(k.b, 4096, 4096, xfer_dmabuf_iova(4096), ACC_RW, &mr2) ||
	    stats(k.b, &st) ||
	    expect_stat(st.dynamic_attachments, 2,
			"dynamic_attachments with two MRs"))
		return -1;
	kit_dereg(k.mr);
	kit_dereg(mr2);
	if (stats(k.b, &st) ||
	    expect_stat(st.attachments, 0, "attachments after deregistration") ||
	    expect_stat(st.dynamic_attachments, 0,
			"dynamic_attachments after deregistration") ||
	    expect_stat(st.maps - st.unmaps, 0,
			"mappings left after deregistration") ||
	    expect_stat(st.vmaps - st.vunmaps, 0,
			"vmaps left after deregistration"))
		return -1;
	return 0;
}

/* A child that inherits the MR's process and exits must not harm it. */
static int case_fork(int unused)
{
	struct dk_setup k;
	int rc, status;
	pid_t pid;

	(void)unused;
	rc = rc_open(&k, -1, SETUP_LEN, ACC_RW);
	if (rc)
		return rc;
	if (dk_write_check_all(k.p, k.b, k.mr, 6))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!pid)
		_exit(0);
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return fail("child ended with status 0x%x", status);
	return dk_write_check_all(k.p, k.b, k.mr, 7);
}

enum { REVOKE_REMOTE, REVOKE_LOCAL, REVOKE_RECOVER, REVOKE_RECV };

/*
 * A revoked buffer fails every access that reaches it: as the target of
 * an RDMA WRITE at the responder (remote access error), as its source at
 * the requester (local protection error), as a receive's buffer (local
 * protection error, the sender a remote operational error). Afterwards
 * the device still serves a fresh buffer, MR and QPs.
 */
static int case_revoke(int how)
{
	bool local = how == REVOKE_LOCAL;
	struct xfer_buf *host = &kit_host;
	struct dk_setup k;
	int rc, st;

	rc = setup_mapped(&k, 0);
	if (!rc)
		rc = dte_ctl(xfer_dte_op(DTE_IOC_REVOKE, k.b->fd, 0),
			     "DTE_IOC_REVOKE");
	if (rc)
		return rc;
	if (how == REVOKE_RECV)
		return kit_send_into_unreachable(k.p, k.b->iova, k.mr->lkey,
						 "the revoked MR");
	if (local)
		st = kit_rdma(k.p, IBV_WR_RDMA_WRITE, k.b->iova, k.mr->lkey,
			     (uintptr_t)host->addr, host->mr->rkey, 4096,
			     KIT_WC_TIMEOUT_MS);
	else
		st = dk_write_to(k.p, k.mr, k.b->iova, 4096);
	kit_note("revoke: RDMA WRITE %s the revoked MR -> %s",
	     local ? "from" : "into", kit_wc_name(st));
	if (local)
		return kit_expect_wc(st, IBV_WC_LOC_PROT_ERR,
				 "RDMA WRITE from the revoked MR");
	if (kit_expect_wc(st, IBV_WC_REM_ACCESS_ERR,
		      "RDMA WRITE into the revoked MR"))
		return -1;
	/* A failure says which step of the fresh setup went wrong. */
	return how == REVOKE_RECOVER ? setup_mapped(&k, 0) : 0;
}

/*
 * What rxe wrote through its CPU mapping is still there once the MR is
 * gone. A DMA mapping of the attachment would lose it where the DMA API
 * bounces (swiotlb=force: the unmap copies the stale bounce buffer back),
 * which the QEMU guest boots with.
 */
static int case_write_dereg(int src)
{
	struct dk_setup k;
	int rc;

	rc = rc_open(&k, src, SETUP_LEN, ACC_RW);
	if (rc)
		return rc;
	xfer_pattern_fill(kit_host.addr, 11, k.b->len);
	if (kit_expect_wc(dk_write_to(k.p, k.mr, k.b->iova, k.b->len),
			  IBV_WC_SUCCESS, "RDMA WRITE"))
		return -1;
	kit_dereg(k.mr);
	return dk_check_cpu(k.b, k.b->addr, 11, k.b->len,
			    "after the MR's deregistration");
}

/*
 * A move that fails (DTE_IOC_FAIL_MAPS: rxe never maps the attachment, so
 * the exporter fails its next move, whose fence carries the error) fails
 * the next access with one error completion; after the next move, which
 * succeeds, the buffer serves again.
 */
static int case_map_failure(int unused)
{
	struct dte_stats st;
	struct dk_setup k;
	int rc, wc;

	(void)unused;
	rc = setup_mapped(&k, 0);
	if (rc)
		return rc;
	if (dte_ctl(xfer_dte_fail_maps(k.b->fd, 1, EIO), "DTE_IOC_FAIL_MAPS") ||
	    dte_ctl(xfer_dte_op(DTE_IOC_MOVE, k.b->fd, 0), "DTE_IOC_MOVE"))
		return -1;
	wc = dk_write_to(k.p, k.mr, k.b->iova, 4096);
	kit_note("map-failure: RDMA WRITE after a failed move -> %s",
		 kit_wc_name(wc));
	if (kit_expect_wc(wc, IBV_WC_REM_ACCESS_ERR,
			  "RDMA WRITE after a failed move") ||
	    stats(k.b, &st) ||
	    expect_stat(st.injected_map_failures, 1, "injected_map_failures"))
		return -1;
	/* The QP went to error with the failed request: a new pair. */
	if (dte_ctl(xfer_dte_op(DTE_IOC_MOVE, k.b->fd, DTE_MOVE_WAIT),
		    "DTE_IOC_MOVE after the failed one"))
		return -1;
	return fresh_pair_write(&k, 9);
}

/*
 * rxe waits a bounded time for a move's fence: with the fence held
 * longer, the access fails instead of hanging. The fence then signals and
 * the buffer serves again.
 */
static int case_fence_timeout(int unused)
{
	uint64_t errs0 = 0, errs1 = 0;
	double t0, secs;
	struct dk_setup k;
	bool counted;
	int rc, wc;

	(void)unused;
	rc = setup_mapped(&k, KIT_PAIR_LONG_ACK);
	if (rc)
		return rc;
	counted = !xfer_hw_counter(kit_dev.name, "dmabuf_refault_errors", &errs0);
	if (dte_ctl(xfer_dte_fence_delay(k.b->fd, FENCE_DELAY_US),
		    "DTE_IOC_FENCE_DELAY") ||
	    dte_ctl(xfer_dte_op(DTE_IOC_MOVE, k.b->fd, 0), "DTE_IOC_MOVE"))
		return -1;
	t0 = xfer_now();
	wc = dk_write_to(k.p, k.mr, k.b->iova, 4096);
	secs = xfer_now() - t0;
	kit_note("fence-timeout: RDMA WRITE behind a %d s fence -> %s after %.2f s",
	     FENCE_DELAY_US / 1000000, kit_wc_name(wc), secs);

	/* Bound the case: the fence signals before anything is torn down. */
	rc = xfer_dmabuf_wait_idle(k.b->fd, FENCE_DELAY_US / 1000 + 5000);
	if (rc)
		return fail("the move's fence did not signal: %s", strerror(rc));
	if (kit_expect_wc(wc, IBV_WC_REM_ACCESS_ERR, "RDMA WRITE behind the fence"))
		return -1;
	if (secs < RXE_FENCE_WAIT_S - 0.5 ||
	    secs > FENCE_DELAY_US / 1e6 - 0.5)
		return fail("the error came after %.2f s, want about %.0f s",
			    secs, RXE_FENCE_WAIT_S);
	if (counted &&
	    (xfer_hw_counter(kit_dev.name, "dmabuf_refault_errors", &errs1) ||
	     errs1 == errs0))
		return fail("dmabuf_refault_errors did not count the timeout");
	if (dte_ctl(xfer_dte_fence_delay(k.b->fd, 0), "DTE_IOC_FENCE_DELAY"))
		return -1;
	return fresh_pair_write(&k, 10);
}

/*
 * FETCH_ADD and CMP_SWP (matching and not) on plain memory; on I/O
 * memory they cannot be atomic, so rxe refuses them.
 */
static int case_atomics(int src)
{
	const uint64_t v0 = 0x1122334455667788ULL, add = 0x1000000010ULL;
	const uint64_t swap = 0x0123456789abcdefULL;
	const size_t off = 64;
	struct xfer_buf *b;
	struct ibv_mr *mr;
	struct kit_pair *p;
	uint64_t orig;
	struct dk_setup k;
	int rc, st;

	rc = rc_open(&k, src, 4096, ACC_ALL);
	if (rc)
		return rc;
	b = k.b;
	mr = k.mr;
	p = k.p;
	xfer_buf_cpu_begin(b, true);
	memcpy((char *)b->addr + off, &v0, sizeof(v0));
	xfer_buf_cpu_end(b, true);

	st = kit_atomic(p, IBV_WR_ATOMIC_FETCH_AND_ADD, mr->rkey, b->iova + off, add, 0,
		    &orig);
	if (src == XFER_SRC_DTE_IOMEM) {
		kit_note("atomics-dte-iomem: FETCH_ADD -> %s", kit_wc_name(st));
		if (kit_expect_wc(st, IBV_WC_REM_ACCESS_ERR, "FETCH_ADD on I/O memory"))
			return -1;
		return expect_stat(dk_load_u64(b, off), v0,
				   "the operand after a refused FETCH_ADD");
	}
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "FETCH_ADD") ||
	    expect_stat(orig, v0, "FETCH_ADD's original value") ||
	    expect_stat(dk_load_u64(b, off), v0 + add, "the sum"))
		return -1;

	st = kit_atomic(p, IBV_WR_ATOMIC_CMP_AND_SWP, mr->rkey, b->iova + off, v0 + add,
		    swap, &orig);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "CMP_SWP") ||
	    expect_stat(orig, v0 + add, "CMP_SWP's original value") ||
	    expect_stat(dk_load_u64(b, off), swap, "the swapped value"))
		return -1;

	st = kit_atomic(p, IBV_WR_ATOMIC_CMP_AND_SWP, mr->rkey, b->iova + off, v0, 7,
		    &orig);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "CMP_SWP that does not match") ||
	    expect_stat(orig, swap, "its original value") ||
	    expect_stat(dk_load_u64(b, off), swap,
			"the value after a compare that failed"))
		return -1;
	return 0;
}

static const struct kit_case tests[] = {
	{ "reg-dte", case_reg, XFER_SRC_DTE },
	{ "reg-dte-iomem", case_reg, XFER_SRC_DTE_IOMEM },
	{ "reg-udmabuf", case_reg, XFER_SRC_UDMABUF },
	{ "reg-heap", case_reg, XFER_SRC_HEAP },
	{ "close-fd-after-reg", case_close_fd, XFER_SRC_DTE },
	{ "close-fd-after-reg-heap", case_close_fd, XFER_SRC_HEAP },
	{ "multi-mr-offsets", case_multi_mr, 0 },
	{ "pins-attachments", case_pins, 0 },
	{ "fork", case_fork, 0 },
	{ "revoke-remote-write", case_revoke, REVOKE_REMOTE },
	{ "revoke-local-source", case_revoke, REVOKE_LOCAL },
	{ "revoke-then-fresh-mr", case_revoke, REVOKE_RECOVER },
	{ "revoke-recv", case_revoke, REVOKE_RECV },
	{ "write-dereg-dte", case_write_dereg, XFER_SRC_DTE },
	{ "write-dereg-udmabuf", case_write_dereg, XFER_SRC_UDMABUF },
	{ "write-dereg-heap", case_write_dereg, XFER_SRC_HEAP },
	{ "map-failure", case_map_failure, 0 },
	{ "fence-timeout", case_fence_timeout, 0 },
	{ "atomics-dte", case_atomics, XFER_SRC_DTE },
	{ "atomics-dte-iomem", case_atomics, XFER_SRC_DTE_IOMEM },
	{ "atomics-udmabuf", case_atomics, XFER_SRC_UDMABUF },
	{ "atomics-heap", case_atomics, XFER_SRC_HEAP },
};

int main(int argc, char **argv)
{
	struct kit_case cases[ARRAY_SIZE(bad_regs) + ARRAY_SIZE(tests)];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(bad_regs); i++)
		cases[n++] = (struct kit_case){
			bad_regs[i].name, case_bad_reg, (int)i,
		};
	for (size_t i = 0; i < ARRAY_SIZE(tests); i++)
		cases[n++] = tests[i];
	kit_release_hook = dk_release;
	return kit_main("dmabuf_reg", argc, argv, cases, n);
}
