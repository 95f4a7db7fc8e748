/*
 * dmabuf_kit - dma-buf buffers and MRs of the case-by-case tests; see
 * dmabuf_kit.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "dmabuf_kit.h"

static struct {
	struct xfer_buf buf[4];
	int nbufs;
} cx;

void dk_release(void)
{
	for (int i = cx.nbufs - 1; i >= 0; i--)
		xfer_dmabuf_close(&cx.buf[i]);
	memset(&cx, 0, sizeof(cx));
}

int dk_new_buf(int src, size_t size, struct xfer_buf **b)
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
	if (err == EOPNOTSUPP && src == XFER_SRC_UDMABUF &&
	    xfer_swiotlb_forced())
		return skip("udmabuf cannot serve CPU access under swiotlb=force (its sync bounces over what rxe wrote)");
	if (err == EOPNOTSUPP)
		return skip("%s buffers cannot be made on this kernel: %s",
			    name, strerror(err));
	if (err)
		return fail("cannot create a %zu-byte %s buffer: %s", size,
			    name, strerror(err));
	cx.nbufs++;
	return 0;
}

int dk_any_buf(size_t size, struct xfer_buf **b)
{
	static const int order[] = {
		XFER_SRC_DTE, XFER_SRC_HEAP, XFER_SRC_UDMABUF,
	};
	/* Why the sources tried first are absent is no news once one is. */
	size_t why_len = strlen(kit_why);
	int rc = KIT_SKIPPED;

	for (size_t i = 0; i < ARRAY_SIZE(order) && rc == KIT_SKIPPED; i++)
		rc = dk_new_buf(order[i], size, b);
	if (rc == KIT_SKIPPED)
		return skip("no dma-buf source at all (dte, heap, udmabuf)");
	if (!rc)
		kit_why[why_len] = 0;
	return rc;
}

int dk_new_mr(const struct xfer_buf *b, uint64_t offset, size_t len,
	      uint64_t iova, int access, struct ibv_mr **mr)
{
	*mr = ibv_reg_dmabuf_mr(kit_dev.pd, offset, len, iova, b->fd, access);
	if (!*mr)
		return fail("ibv_reg_dmabuf_mr(offset %" PRIu64 ", length %zu) on %s: %s",
			    offset, len, b->ops->name, strerror(errno));
	return kit_track_mr(*mr);
}

int dk_check_cpu(const struct xfer_buf *b, const void *cpu, uint64_t msg,
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

int dk_check_zero(const struct xfer_buf *b, size_t off, size_t len,
		  const char *when)
{
	const unsigned char *c = (const unsigned char *)b->addr + off;
	unsigned char got = 0;
	size_t i;

	/* The byte is read for the message inside the CPU access, too. */
	xfer_buf_cpu_begin(b, false);
	for (i = 0; i < len && !c[i]; i++)
		;
	if (i < len)
		got = c[i];
	xfer_buf_cpu_end(b, false);
	if (i < len)
		return fail("%s: byte %zu of the buffer is 0x%02x, want 0",
			    when, off + i, got);
	return 0;
}

void dk_fill(const struct xfer_buf *b, size_t off, uint64_t msg, size_t len)
{
	xfer_buf_cpu_begin(b, true);
	xfer_pattern_fill((char *)b->addr + off, msg, len);
	xfer_buf_cpu_end(b, true);
}

uint64_t dk_load_u64(const struct xfer_buf *b, size_t off)
{
	uint64_t v;

	xfer_buf_cpu_begin(b, false);
	memcpy(&v, (const char *)b->addr + off, sizeof(v));
	xfer_buf_cpu_end(b, false);
	return v;
}

void dk_store_u64(const struct xfer_buf *b, size_t off, uint64_t v)
{
	xfer_buf_cpu_begin(b, true);
	memcpy((char *)b->addr + off, &v, sizeof(v));
	xfer_buf_cpu_end(b, true);
}

int dk_write_to(struct kit_pair *p, struct ibv_mr *mr, uint64_t iova,
		size_t len)
{
	return kit_rdma(p, IBV_WR_RDMA_WRITE, (uintptr_t)kit_host.addr,
			kit_host.mr->lkey, iova, mr->rkey, len,
			KIT_WC_TIMEOUT_MS);
}

int dk_write_check(struct kit_pair *p, const struct xfer_buf *b,
		   struct ibv_mr *mr, uint64_t iova, const void *cpu,
		   size_t len, uint64_t msg)
{
	xfer_pattern_fill(kit_host.addr, msg, len);
	if (kit_expect_wc(dk_write_to(p, mr, iova, len), IBV_WC_SUCCESS,
			  "RDMA WRITE"))
		return -1;
	return dk_check_cpu(b, cpu, msg, len, "after RDMA WRITE");
}

int dk_write_check_all(struct kit_pair *p, const struct xfer_buf *b,
		       struct ibv_mr *mr, uint64_t msg)
{
	return dk_write_check(p, b, mr, b->iova, b->addr, b->len, msg);
}

int dk_open(struct dk_setup *s, int src, size_t len, int access,
	    enum ibv_qp_type type, int pair_flags)
{
	int rc = src < 0 ? dk_any_buf(len, &s->b) : dk_new_buf(src, len, &s->b);

	if (rc)
		return rc;
	if (dk_new_mr(s->b, 0, s->b->len, s->b->iova, access, &s->mr))
		return -1;
	return kit_new_pair(type, pair_flags, &s->p);
}

int dk_move_if_dte(const struct xfer_buf *b)
{
	int err;

	if (!xfer_dmabuf_src_is_dte(b->ops->src))
		return 0;
	err = xfer_dte_op(DTE_IOC_MOVE, b->fd, DTE_MOVE_WAIT);
	return err ? fail("DTE_IOC_MOVE: %s", strerror(err)) : 0;
}
