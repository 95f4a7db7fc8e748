/*
 * dmabuf_reg - dma-buf memory regions on an RDMA device (rxe), case by case.
 *
 * Registration from every dma-buf source, every invalid registration with
 * its exact errno, and what a dynamic importer must survive: the fd closed
 * after registration, several MRs on one buffer, fork, revocation, a map
 * that fails, a move whose fence does not signal in time, and atomics.
 * Data moves over loopback RC QP pairs and is checked through the
 * buffer's own CPU mapping, so a transfer that went anywhere else fails.
 *
 * usage: dmabuf_reg [-d DEV] [-x GID_INDEX] [CASE...]
 *
 * Prints one line per case, "PASS name", "FAIL name: reason" or
 * "SKIP name: reason" (a source that is absent is skipped, not failed),
 * plus "# ..." lines with measurements, and exits 1 if any case failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xfer.h"

#define SKIPPED		2
#define HOST_LEN	(1 << 20)	/* each QP's host data buffer */
#define WC_TIMEOUT_MS	10000
/* rxe gives up on a move's fence after 5 s; the exporter holds it 10 s. */
#define FENCE_DELAY_US	10000000
#define RXE_FENCE_WAIT_S 5.0
/*
 * 4.096 us << 21 = 8.6 s: the requester must not retransmit into a
 * responder that is still waiting for the fence, or it would end with a
 * retry error instead of the responder's verdict.
 */
#define LONG_ACK_TIMEOUT 21

#define ACC_RW		(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ)
#define ACC_ALL		(ACC_RW | IBV_ACCESS_REMOTE_ATOMIC)

static struct xfer_dev dev;
static size_t page;
static char why[512];

/* Record why a case failed; -1, for "return fail(...)". */
#define fail(...) (snprintf(why, sizeof(why), __VA_ARGS__), -1)
/* The same for a case that cannot run here. */
#define skip(...) (snprintf(why, sizeof(why), __VA_ARGS__), SKIPPED)

/* Two RC QPs connected to each other, each with host memory of its own. */
struct pair {
	struct xfer_ep req, resp;
};

/* What a case set up, released after it whatever its outcome. */
static struct {
	struct pair pair[3];
	int npairs;
	struct xfer_buf buf[2];
	int nbufs;
	struct ibv_mr *mr[8];
	int nmrs;
} cx;

static const char *errname(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ 0, "success" }, { EINVAL, "EINVAL" }, { EBADF, "EBADF" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { EFAULT, "EFAULT" },
		{ ENODEV, "ENODEV" }, { EPERM, "EPERM" }, { EACCES, "EACCES" },
		{ ENOMEM, "ENOMEM" }, { ERANGE, "ERANGE" },
		{ EOVERFLOW, "EOVERFLOW" }, { ENOENT, "ENOENT" },
	};
	static char buf[32];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].err == err)
			return names[i].name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

static const char *wc_name(int status)
{
	return status < 0 ? "no completion in time" :
	       ibv_wc_status_str((enum ibv_wc_status)status);
}

__attribute__((format(printf, 1, 2)))
static void note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static struct pair *new_pair(uint8_t timeout)
{
	struct pair *p = &cx.pair[cx.npairs];
	struct xfer_conn_info req, resp;

	if (cx.npairs == (int)ARRAY_SIZE(cx.pair))
		xfer_die("a case wants more than %zu QP pairs",
			 ARRAY_SIZE(cx.pair));
	xfer_ep_create(&p->req, &dev, &xfer_host_buf_ops, HOST_LEN, page, 16, 1);
	xfer_ep_create(&p->resp, &dev, &xfer_host_buf_ops, HOST_LEN, page, 16,
		       1);
	cx.npairs++;
	p->req.timeout = timeout;
	p->resp.timeout = timeout;
	xfer_ep_info(&p->req, &req);
	xfer_ep_info(&p->resp, &resp);
	xfer_ep_connect(&p->req, &resp, IBV_MTU_1024, 1);
	xfer_ep_connect(&p->resp, &req, IBV_MTU_1024, 1);
	return p;
}

/* A buffer of @src of @size bytes, or why the case cannot have one. */
static int new_buf(int src, size_t size, struct xfer_buf **b)
{
	const char *name = xfer_dmabuf_buf_ops[src].name;
	int err;

	if (cx.nbufs == (int)ARRAY_SIZE(cx.buf))
		xfer_die("a case wants more than %zu buffers",
			 ARRAY_SIZE(cx.buf));
	*b = &cx.buf[cx.nbufs];
	err = xfer_dmabuf_open(*b, src, size);
	if (err == ENOENT || err == ENODEV || err == ENXIO)
		return skip("no %s source: %s%s", name, strerror(err),
			    xfer_dmabuf_src_is_dte(src) ?
			    " (dmabuf_test_exporter not loaded)" : "");
	if (err == EOPNOTSUPP)
		return skip("%s buffers cannot be made on this kernel: %s",
			    name, strerror(err));
	if (err)
		return fail("cannot create a %zu-byte %s buffer: %s", size,
			    name, strerror(err));
	cx.nbufs++;
	return 0;
}

/* The first source present, preferring the one with the most controls. */
static int any_buf(size_t size, struct xfer_buf **b)
{
	static const int order[] = {
		XFER_SRC_DTE, XFER_SRC_HEAP, XFER_SRC_UDMABUF,
	};
	int rc = SKIPPED;

	for (size_t i = 0; i < ARRAY_SIZE(order) && rc == SKIPPED; i++)
		rc = new_buf(order[i], size, b);
	if (rc == SKIPPED)
		return skip("no dma-buf source at all (dte, heap, udmabuf)");
	return rc;
}

static int new_mr(const struct xfer_buf *b, uint64_t offset, size_t len,
		  uint64_t iova, int access, struct ibv_mr **mr)
{
	if (cx.nmrs == (int)ARRAY_SIZE(cx.mr))
		xfer_die("a case wants more than %zu MRs", ARRAY_SIZE(cx.mr));
	*mr = ibv_reg_dmabuf_mr(dev.pd, offset, len, iova, b->fd, access);
	if (!*mr)
		return fail("ibv_reg_dmabuf_mr(offset %" PRIu64 ", length %zu) on %s: %s",
			    offset, len, b->ops->name, strerror(errno));
	cx.mr[cx.nmrs++] = *mr;
	return 0;
}

static void dereg(struct ibv_mr *mr)
{
	int err;

	for (int i = 0; i < cx.nmrs; i++)
		if (cx.mr[i] == mr)
			cx.mr[i] = NULL;
	err = ibv_dereg_mr(mr);
	if (err)
		xfer_die_err("ibv_dereg_mr", err);
}

/* QPs first: a QP left in error may still hold its last MR. */
static void release_all(void)
{
	for (int i = cx.npairs - 1; i >= 0; i--) {
		xfer_ep_destroy(&cx.pair[i].req);
		xfer_ep_destroy(&cx.pair[i].resp);
	}
	for (int i = cx.nmrs - 1; i >= 0; i--)
		if (cx.mr[i])
			dereg(cx.mr[i]);
	for (int i = cx.nbufs - 1; i >= 0; i--)
		xfer_dmabuf_close(&cx.buf[i]);
	memset(&cx, 0, sizeof(cx));
}

/* Post @wr on the requester; its completion status, -1 if none came. */
static int post_wait(struct pair *p, struct ibv_send_wr *wr, int ms)
{
	struct ibv_send_wr *bad;
	struct ibv_wc wc;
	double end;
	int n, err;

	wr->send_flags |= IBV_SEND_SIGNALED;
	err = ibv_post_send(p->req.qp, wr, &bad);
	if (err)
		xfer_die_err("ibv_post_send", err);
	end = xfer_now() + ms / 1e3;
	while (!(n = ibv_poll_cq(p->req.cq, 1, &wc))) {
		if (xfer_now() > end)
			return -1;
		usleep(200);
	}
	if (n < 0)
		xfer_die_err("ibv_poll_cq", errno);
	return wc.status;
}

static int rdma_ms(struct pair *p, enum ibv_wr_opcode op, uint64_t laddr,
		   uint32_t lkey, uint64_t raddr, uint32_t rkey, size_t len,
		   int ms)
{
	struct ibv_sge sge = {
		.addr = laddr,
		.length = (uint32_t)len,
		.lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = op,
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	};

	return post_wait(p, &wr, ms);
}

/* RDMA WRITE @len bytes of the requester's host buffer to @iova. */
static int write_to(struct pair *p, struct ibv_mr *mr, uint64_t iova,
		    size_t len)
{
	return rdma_ms(p, IBV_WR_RDMA_WRITE, (uintptr_t)p->req.data.addr,
		       p->req.data.mr->lkey, iova, mr->rkey, len,
		       WC_TIMEOUT_MS);
}

static int expect_wc(int got, enum ibv_wc_status want, const char *what)
{
	if (got == (int)want)
		return 0;
	return fail("%s: %s (status %d), want %s", what, wc_name(got), got,
		    ibv_wc_status_str(want));
}

/* Check pattern @msg at @cpu inside @b, bracketed for CPU access. */
static int check_cpu(const struct xfer_buf *b, const void *cpu, uint64_t msg,
		     size_t len, const char *when)
{
	size_t bad;

	xfer_buf_cpu_begin(b, false);
	bad = xfer_pattern_diff(cpu, msg, len);
	xfer_buf_cpu_end(b, false);
	if (bad != len)
		return fail("%s: byte %zu of %zu differs from the pattern",
			    when, bad, len);
	return 0;
}

/*
 * RDMA WRITE pattern @msg from host memory into @len bytes of @mr at
 * @iova, then find it at @cpu through the buffer's mapping.
 */
static int write_check(struct pair *p, const struct xfer_buf *b,
		       struct ibv_mr *mr, uint64_t iova, const void *cpu,
		       size_t len, uint64_t msg)
{
	xfer_pattern_fill(p->req.data.addr, msg, len);
	if (expect_wc(write_to(p, mr, iova, len), IBV_WC_SUCCESS,
		      "RDMA WRITE"))
		return -1;
	return check_cpu(b, cpu, msg, len, "after RDMA WRITE");
}

/* The same over a whole buffer registered at offset 0. */
static int write_check_all(struct pair *p, const struct xfer_buf *b,
			   struct ibv_mr *mr, uint64_t msg)
{
	return write_check(p, b, mr, b->iova, b->addr, b->len, msg);
}

static int stats(const struct xfer_buf *b, struct dte_stats *st)
{
	int err = xfer_dte_stats(b->fd, st);

	return err ? fail("DTE_IOC_STATS: %s", strerror(err)) : 0;
}

static int dte_ctl(int err, const char *what)
{
	return err ? fail("%s: %s", what, strerror(err)) : 0;
}

#define KIT_LEN		(64 * 1024)

/* How most cases start: a buffer, an MR over all of it, a QP pair. */
struct kit {
	struct xfer_buf *b;
	struct ibv_mr *mr;
	struct pair *p;
};

/* @src -1 takes any source; SKIPPED if the source is absent. */
static int kit_open(struct kit *k, int src, size_t len, int access,
		    uint8_t timeout)
{
	int rc = src < 0 ? any_buf(len, &k->b) : new_buf(src, len, &k->b);

	if (rc)
		return rc;
	if (new_mr(k->b, 0, k->b->len, k->b->iova, access, &k->mr))
		return -1;
	k->p = new_pair(timeout);
	return 0;
}

/* A kit on the test exporter whose MR is mapped: a write went through. */
static int kit_mapped(struct kit *k, uint8_t timeout)
{
	int rc = kit_open(k, XFER_SRC_DTE, KIT_LEN, ACC_RW, timeout);

	return rc ? rc : write_check_all(k->p, k->b, k->mr, 8);
}

/*
 * Registration from @src, an RDMA WRITE into the MR found through the
 * mapping, and an RDMA READ of what the CPU wrote there.
 */
static int case_reg(int src)
{
	void *host;
	struct kit k;
	int rc;

	rc = kit_open(&k, src, KIT_LEN, ACC_RW, 14);
	if (rc)
		return rc;
	if (write_check_all(k.p, k.b, k.mr, 1))
		return -1;

	xfer_buf_cpu_begin(k.b, true);
	xfer_pattern_fill(k.b->addr, 2, KIT_LEN);
	xfer_buf_cpu_end(k.b, true);
	host = k.p->req.data.addr;
	if (expect_wc(rdma_ms(k.p, IBV_WR_RDMA_READ, (uintptr_t)host,
			      k.p->req.data.mr->lkey, k.b->iova, k.mr->rkey,
			      KIT_LEN, WC_TIMEOUT_MS),
		      IBV_WC_SUCCESS, "RDMA READ"))
		return -1;
	if (xfer_pattern_diff(host, 2, KIT_LEN) != KIT_LEN)
		return fail("RDMA READ: byte %zu differs from what the CPU wrote",
			    xfer_pattern_diff(host, 2, KIT_LEN));
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
		rc = any_buf(BAD_BUF_LEN, &b);
		if (rc)
			return rc;
		fd = b->fd;
	} else if (bad_fd(t->fd, &fd)) {
		return -1;
	}
	errno = 0;
	mr = ibv_reg_dmabuf_mr(dev.pd, t->offset, t->length, t->iova, fd,
			       t->access);
	err = errno;
	if (t->fd == FD_FILE || t->fd == FD_PIPE)
		close(fd);
	note("%s: ibv_reg_dmabuf_mr(offset 0x%" PRIx64 ", length 0x%" PRIx64 ", iova 0x%" PRIx64 ", access 0x%x) -> %s",
	     t->name, t->offset, t->length, t->iova, t->access,
	     mr ? "registered" : errname(err));
	if (mr) {
		dereg(mr);
		return fail("registered, want %s", errname(t->want));
	}
	if (err != t->want)
		return fail("%s (%s), want %s", errname(err), strerror(err),
			    errname(t->want));
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
	struct kit k;
	int keep, rc;

	rc = kit_open(&k, src, KIT_LEN, ACC_RW, 14);
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

	xfer_pattern_fill(k.p->req.data.addr, 3, KIT_LEN);
	if (expect_wc(write_to(k.p, k.mr, b->iova, KIT_LEN), IBV_WC_SUCCESS,
		      "RDMA WRITE after close"))
		return -1;
	b->map = mmap(NULL, b->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      keep, 0);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return fail("mmap of the duplicate: %s", strerror(errno));
	}
	b->addr = b->map;
	return check_cpu(b, b->addr, 3, KIT_LEN, "through the duplicate");
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
	struct pair *p;
	int rc;

	(void)unused;
	rc = any_buf(len, &b);
	if (rc)
		return rc;
	for (size_t i = 0; i < ARRAY_SIZE(regions); i++) {
		iova[i] = xfer_dmabuf_iova(regions[i].offset);
		if (new_mr(b, regions[i].offset, regions[i].len, iova[i],
			   ACC_RW, &mr[i]))
			return -1;
	}
	p = new_pair(14);
	for (size_t i = 0; i < ARRAY_SIZE(regions); i++) {
		xfer_pattern_fill(p->req.data.addr, 10 + i, regions[i].len);
		if (expect_wc(write_to(p, mr[i], iova[i], regions[i].len),
			      IBV_WC_SUCCESS, "RDMA WRITE"))
			return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(regions); i++) {
		char what[64];

		snprintf(what, sizeof(what), "MR at offset %" PRIu64,
			 regions[i].offset);
		c = (const unsigned char *)b->addr + regions[i].offset;
		if (check_cpu(b, c, 10 + i, regions[i].len, what))
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
 * mapping; every attachment and mapping goes away with the MRs.
 */
static int case_pins(int unused)
{
	struct dte_stats st;
	struct ibv_mr *mr2;
	struct kit k;
	int rc;

	(void)unused;
	rc = kit_open(&k, XFER_SRC_DTE, KIT_LEN, ACC_RW, 14);
	if (rc)
		return rc;
	if (stats(k.b, &st) ||
	    expect_stat(st.attachments, 1, "attachments after registration") ||
	    expect_stat(st.dynamic_attachments, 1,
			"dynamic_attachments after registration") ||
	    expect_stat(st.pins, 0, "pins after registration") ||
	    expect_stat(st.maps, 0, "maps after registration (rxe maps on first access)"))
		return -1;

	if (write_check_all(k.p, k.b, k.mr, 4) || stats(k.b, &st) ||
	    expect_stat(st.pins, 0, "pins while mapped"))
		return -1;
	if (!st.maps)
		return fail("no map_dma_buf call after an RDMA WRITE");
	if (dte_ctl(xfer_dte_op(DTE_IOC_MOVE, k.b->fd, DTE_MOVE_WAIT),
		    "DTE_IOC_MOVE") ||
	    write_check_all(k.p, k.b, k.mr, 5) || stats(k.b, &st) ||
	    expect_stat(st.pins, 0, "pins after a move and a refault"))
		return -1;

	if (new_mr(k.b, 4096, 4096, xfer_dmabuf_iova(4096), ACC_RW, &mr2) ||
	    stats(k.b, &st) ||
	    expect_stat(st.dynamic_attachments, 2,
			"dynamic_attachments with two MRs"))
		return -1;
	dereg(k.mr);
	dereg(mr2);
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
	struct kit k;
	int rc, status;
	pid_t pid;

	(void)unused;
	rc = kit_open(&k, -1, KIT_LEN, ACC_RW, 14);
	if (rc)
		return rc;
	if (write_check_all(k.p, k.b, k.mr, 6))
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
	return write_check_all(k.p, k.b, k.mr, 7);
}

enum { REVOKE_REMOTE, REVOKE_LOCAL, REVOKE_RECOVER };

/*
 * A revoked buffer fails every access that reaches it: as the target of
 * an RDMA WRITE at the responder (remote access error), as its source at
 * the requester (local protection error). Afterwards the device still
 * serves a fresh buffer, MR and QPs.
 */
static int case_revoke(int how)
{
	bool local = how == REVOKE_LOCAL;
	struct xfer_buf *host;
	struct kit k;
	int rc, st;

	rc = kit_mapped(&k, 14);
	if (!rc)
		rc = dte_ctl(xfer_dte_op(DTE_IOC_REVOKE, k.b->fd, 0),
			     "DTE_IOC_REVOKE");
	if (rc)
		return rc;
	host = &k.p->resp.data;
	if (local)
		st = rdma_ms(k.p, IBV_WR_RDMA_WRITE, k.b->iova, k.mr->lkey,
			     (uintptr_t)host->addr, host->mr->rkey, 4096,
			     WC_TIMEOUT_MS);
	else
		st = write_to(k.p, k.mr, k.b->iova, 4096);
	note("revoke: RDMA WRITE %s the revoked MR -> %s",
	     local ? "from" : "into", wc_name(st));
	if (local)
		return expect_wc(st, IBV_WC_LOC_PROT_ERR,
				 "RDMA WRITE from the revoked MR");
	if (expect_wc(st, IBV_WC_REM_ACCESS_ERR,
		      "RDMA WRITE into the revoked MR"))
		return -1;
	/* A failure says which step of the fresh setup went wrong. */
	return how == REVOKE_RECOVER ? kit_mapped(&k, 14) : 0;
}

/* One failed map is one error completion; the next map succeeds. */
static int case_map_failure(int unused)
{
	struct dte_stats st;
	struct kit k;
	int rc, wc;

	(void)unused;
	rc = kit_mapped(&k, 14);
	if (rc)
		return rc;
	if (dte_ctl(xfer_dte_fail_maps(k.b->fd, 1, EIO), "DTE_IOC_FAIL_MAPS") ||
	    dte_ctl(xfer_dte_op(DTE_IOC_MOVE, k.b->fd, 0), "DTE_IOC_MOVE"))
		return -1;
	wc = write_to(k.p, k.mr, k.b->iova, 4096);
	note("map-failure: RDMA WRITE whose map fails -> %s", wc_name(wc));
	if (expect_wc(wc, IBV_WC_REM_ACCESS_ERR, "RDMA WRITE whose map fails") ||
	    stats(k.b, &st) ||
	    expect_stat(st.injected_map_failures, 1, "injected_map_failures"))
		return -1;
	/* The QP went to error with the failed request: a new pair. */
	return write_check_all(new_pair(14), k.b, k.mr, 9);
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
	struct kit k;
	bool counted;
	int rc, wc;

	(void)unused;
	rc = kit_mapped(&k, LONG_ACK_TIMEOUT);
	if (rc)
		return rc;
	counted = !xfer_hw_counter(dev.name, "dmabuf_refault_errors", &errs0);
	if (dte_ctl(xfer_dte_fence_delay(k.b->fd, FENCE_DELAY_US),
		    "DTE_IOC_FENCE_DELAY") ||
	    dte_ctl(xfer_dte_op(DTE_IOC_MOVE, k.b->fd, 0), "DTE_IOC_MOVE"))
		return -1;
	t0 = xfer_now();
	wc = write_to(k.p, k.mr, k.b->iova, 4096);
	secs = xfer_now() - t0;
	note("fence-timeout: RDMA WRITE behind a %d s fence -> %s after %.2f s",
	     FENCE_DELAY_US / 1000000, wc_name(wc), secs);

	/* Bound the case: the fence signals before anything is torn down. */
	rc = xfer_dmabuf_wait_idle(k.b->fd, FENCE_DELAY_US / 1000 + 5000);
	if (rc)
		return fail("the move's fence did not signal: %s", strerror(rc));
	if (expect_wc(wc, IBV_WC_REM_ACCESS_ERR, "RDMA WRITE behind the fence"))
		return -1;
	if (secs < RXE_FENCE_WAIT_S - 0.5 ||
	    secs > FENCE_DELAY_US / 1e6 - 0.5)
		return fail("the error came after %.2f s, want about %.0f s",
			    secs, RXE_FENCE_WAIT_S);
	if (counted &&
	    (xfer_hw_counter(dev.name, "dmabuf_refault_errors", &errs1) ||
	     errs1 == errs0))
		return fail("dmabuf_refault_errors did not count the timeout");
	if (dte_ctl(xfer_dte_fence_delay(k.b->fd, 0), "DTE_IOC_FENCE_DELAY"))
		return -1;
	return write_check_all(new_pair(14), k.b, k.mr, 10);
}

static int atomic(struct pair *p, enum ibv_wr_opcode op, struct ibv_mr *mr,
		  uint64_t iova, uint64_t compare_add, uint64_t swap,
		  uint64_t *orig)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)p->req.data.addr,
		.length = sizeof(*orig),
		.lkey = p->req.data.mr->lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = op,
		.wr.atomic = {
			.remote_addr = iova,
			.compare_add = compare_add,
			.swap = swap,
			.rkey = mr->rkey,
		},
	};
	int st;

	memset(p->req.data.addr, 0xa5, sizeof(*orig));
	st = post_wait(p, &wr, WC_TIMEOUT_MS);
	memcpy(orig, p->req.data.addr, sizeof(*orig));
	return st;
}

static uint64_t cpu_u64(const struct xfer_buf *b, size_t off)
{
	uint64_t v;

	xfer_buf_cpu_begin(b, false);
	memcpy(&v, (const char *)b->addr + off, sizeof(v));
	xfer_buf_cpu_end(b, false);
	return v;
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
	struct pair *p;
	uint64_t orig;
	struct kit k;
	int rc, st;

	rc = kit_open(&k, src, 4096, ACC_ALL, 14);
	if (rc)
		return rc;
	b = k.b;
	mr = k.mr;
	p = k.p;
	xfer_buf_cpu_begin(b, true);
	memcpy((char *)b->addr + off, &v0, sizeof(v0));
	xfer_buf_cpu_end(b, true);

	st = atomic(p, IBV_WR_ATOMIC_FETCH_AND_ADD, mr, b->iova + off, add, 0,
		    &orig);
	if (src == XFER_SRC_DTE_IOMEM) {
		note("atomics-dte-iomem: FETCH_ADD -> %s", wc_name(st));
		if (expect_wc(st, IBV_WC_REM_ACCESS_ERR, "FETCH_ADD on I/O memory"))
			return -1;
		return expect_stat(cpu_u64(b, off), v0,
				   "the operand after a refused FETCH_ADD");
	}
	if (expect_wc(st, IBV_WC_SUCCESS, "FETCH_ADD") ||
	    expect_stat(orig, v0, "FETCH_ADD's original value") ||
	    expect_stat(cpu_u64(b, off), v0 + add, "the sum"))
		return -1;

	st = atomic(p, IBV_WR_ATOMIC_CMP_AND_SWP, mr, b->iova + off, v0 + add,
		    swap, &orig);
	if (expect_wc(st, IBV_WC_SUCCESS, "CMP_SWP") ||
	    expect_stat(orig, v0 + add, "CMP_SWP's original value") ||
	    expect_stat(cpu_u64(b, off), swap, "the swapped value"))
		return -1;

	st = atomic(p, IBV_WR_ATOMIC_CMP_AND_SWP, mr, b->iova + off, v0, 7,
		    &orig);
	if (expect_wc(st, IBV_WC_SUCCESS, "CMP_SWP that does not match") ||
	    expect_stat(orig, swap, "its original value") ||
	    expect_stat(cpu_u64(b, off), swap,
			"the value after a compare that failed"))
		return -1;
	return 0;
}

static const struct test {
	const char *name;
	int (*fn)(int arg);
	int arg;
} tests[] = {
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
	{ "map-failure", case_map_failure, 0 },
	{ "fence-timeout", case_fence_timeout, 0 },
	{ "atomics-dte", case_atomics, XFER_SRC_DTE },
	{ "atomics-dte-iomem", case_atomics, XFER_SRC_DTE_IOMEM },
};

static bool wanted(const char *name, char **names, int n)
{
	if (!n)
		return true;
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

static int run_case(const char *name, int (*fn)(int), int arg)
{
	int rc;

	why[0] = 0;
	rc = fn(arg);
	release_all();
	if (!rc)
		printf("PASS %s\n", name);
	else if (rc == SKIPPED)
		printf("SKIP %s: %s\n", name, why);
	else
		printf("FAIL %s: %s\n", name, why);
	fflush(stdout);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "gid-index", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *devname = NULL;
	int gid_index = 1, failed = 0, ran = 0, c;
	size_t i;

	xfer_prog = "dmabuf_reg";
	while ((c = getopt_long(argc, argv, "d:x:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			devname = optarg;
			break;
		case 'x':
			gid_index = atoi(optarg);
			break;
		case 'h':
			printf("usage: dmabuf_reg [-d|--dev DEV] [-x|--gid-index N] [CASE...]\n"
			       "Runs the named cases, or all; prints PASS, FAIL or SKIP per case.\n");
			return 0;
		default:
			xfer_die_usage("bad option '%s'", argv[optind - 1]);
		}
	}
	argv += optind;
	argc -= optind;

	page = (size_t)sysconf(_SC_PAGESIZE);
	if (page != 4096)
		xfer_die("the cases assume 4 KiB pages, not %zu", page);
	srand48(getpid() ^ (long)time(NULL));
	xfer_quiet = true;
	xfer_dev_open(&dev, devname, gid_index);

	for (i = 0; i < ARRAY_SIZE(bad_regs); i++) {
		if (!wanted(bad_regs[i].name, argv, argc))
			continue;
		ran++;
		failed += run_case(bad_regs[i].name, case_bad_reg, (int)i) < 0;
	}
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		if (!wanted(tests[i].name, argv, argc))
			continue;
		ran++;
		failed += run_case(tests[i].name, tests[i].fn, tests[i].arg) < 0;
	}
	if (!ran)
		xfer_die_usage("no case matches the names given");
	xfer_dev_close(&dev);
	return failed ? XFER_EXIT_FAIL : 0;
}
