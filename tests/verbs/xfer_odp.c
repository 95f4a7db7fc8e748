/*
 * On-demand paging memory for rdma_xfer and odp_test: plain anonymous
 * memory that the device maps page by page on first access instead of
 * pinning it at registration.
 *
 *   odp           each buffer gets an explicit ODP MR of its own
 *   odp-implicit  one implicit ODP MR per PD covers the whole address
 *                 space; buffers are plain mmap()ed memory that the MR's
 *                 keys reach at their virtual addresses
 *
 * Both allocate like host memory (anonymous mmap(), nothing touched), so
 * the first access of every page is a fault the device has to take.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "xfer.h"

/* Advice goes in 1 GiB pieces: an SGE's length is 32 bits. */
#define ADVISE_CHUNK	(1ULL << 30)

static void odp_reg(struct xfer_buf *buf, struct ibv_pd *pd, int access)
{
	buf->mr = ibv_reg_mr(pd, buf->addr, buf->len,
			     access | IBV_ACCESS_ON_DEMAND);
	if (!buf->mr)
		xfer_die_err("ibv_reg_mr(IBV_ACCESS_ON_DEMAND)", errno);
}

static void odp_alloc(struct xfer_buf *buf, size_t len)
{
	xfer_host_buf_ops.alloc(buf, len);
}

/* Deregisters the buffer's own MR, then unmaps: the host way. */
static void odp_free(struct xfer_buf *buf)
{
	xfer_host_buf_ops.free(buf);
}

const struct buf_ops xfer_odp_buf_ops = {
	.name = "odp",
	.src = -1,
	.odp = true,
	.alloc = odp_alloc,
	.reg = odp_reg,
	.free = odp_free,
};

/*
 * One implicit MR per PD, shared by every buffer of the PD: registering
 * the whole address space once per buffer would only test that several
 * implicit MRs can coexist, not that one serves many buffers.
 */
static struct implicit_mr {
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	int access;
	unsigned int users;
} implicit_mrs[4];

static void implicit_reg(struct xfer_buf *buf, struct ibv_pd *pd, int access)
{
	struct implicit_mr *im = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(implicit_mrs) && !im; i++)
		if (implicit_mrs[i].pd == pd)
			im = &implicit_mrs[i];
	for (size_t i = 0; i < ARRAY_SIZE(implicit_mrs) && !im; i++)
		if (!implicit_mrs[i].pd)
			im = &implicit_mrs[i];
	if (!im)
		xfer_die("implicit ODP MRs on more than %zu PDs",
			 ARRAY_SIZE(implicit_mrs));
	if (!im->mr) {
		/* Start 0 and length SIZE_MAX make it implicit; iova is 0. */
		im->mr = ibv_reg_mr(pd, NULL, SIZE_MAX,
				    access | IBV_ACCESS_ON_DEMAND);
		if (!im->mr)
			xfer_die_err("ibv_reg_mr(implicit ODP)", errno);
		im->pd = pd;
		im->access = access;
	} else if (im->access != access) {
		xfer_die("buffers of one PD want implicit ODP MRs with access 0x%x and 0x%x",
			 im->access, access);
	}
	im->users++;
	buf->mr = im->mr;
}

static void implicit_free(struct xfer_buf *buf)
{
	struct ibv_mr *mr = buf->mr;
	int err;

	/* The MR is shared: the host backing must not deregister it. */
	buf->mr = NULL;
	xfer_host_buf_ops.free(buf);
	if (!mr)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(implicit_mrs); i++) {
		struct implicit_mr *im = &implicit_mrs[i];

		if (im->mr != mr || --im->users)
			continue;
		err = ibv_dereg_mr(mr);
		if (err)
			xfer_die_err("ibv_dereg_mr(implicit ODP)", err);
		memset(im, 0, sizeof(*im));
	}
}

const struct buf_ops xfer_odp_implicit_buf_ops = {
	.name = "odp-implicit",
	.src = -1,
	.odp = true,
	.alloc = odp_alloc,
	.reg = implicit_reg,
	.free = implicit_free,
};

int xfer_odp_advise(const struct xfer_buf *buf, struct ibv_pd *pd,
		    enum ibv_advise_mr_advice advice, uint32_t flags)
{
	struct ibv_sge sge;
	size_t off;
	int err;

	for (off = 0; off < buf->len; off += ADVISE_CHUNK) {
		sge = (struct ibv_sge){
			.addr = buf->iova + off,
			.length = (uint32_t)(buf->len - off < ADVISE_CHUNK ?
					     buf->len - off : ADVISE_CHUNK),
			.lkey = buf->mr->lkey,
		};
		err = ibv_advise_mr(pd, advice, flags, &sge, 1);
		if (err)
			return err;
	}
	return 0;
}
