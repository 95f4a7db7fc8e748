/*
 * fuzz_uverbs.h - raw uverbs commands on a context's command fd, and the
 * peer QP pair that tries every remote opcode at an MR.
 *
 * libibverbs frees its struct ibv_mr in ibv_dereg_mr() and keeps no MR the
 * kernel does not know, so it cannot issue two destroys of one MR handle
 * or a registration with malformed attributes; and its ibv_rereg_mr()
 * refuses what the kernel's rereg command may still take (dma-buf MRs).
 * These helpers talk to the kernel directly: MRs they create are unknown
 * to libibverbs and are destroyed with them too.
 *
 * The fuzzer (tests/stress/fuzz.c) and the rereg matrix
 * (tests/verbs/rereg_ops.c) share them: both judge what an MR's access
 * lets a peer do after a raw rereg, with the same opcodes.
 */
#ifndef FUZZ_UVERBS_H
#define FUZZ_UVERBS_H

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/ib_user_verbs.h>
#include <rdma/rdma_user_ioctl_cmds.h>

#include "xfer.h"

#define RAW_REG_NATTRS	9

/* An ioctl command with room for the attributes of any method used here. */
struct raw_cmd {
	struct ib_uverbs_ioctl_hdr hdr;
	struct ib_uverbs_attr attrs[RAW_REG_NATTRS + 2];
};

/* The kernel takes only commands naming the device's driver. */
static inline void raw_cmd_init(struct raw_cmd *c, uint16_t object,
				uint16_t method)
{
	memset(c, 0, sizeof(*c));
	c->hdr.object_id = object;
	c->hdr.method_id = method;
	c->hdr.driver_id = RDMA_DRIVER_RXE;
}

/* Inline data of up to 8 bytes, or an IDR handle when @len is 0. */
static inline struct ib_uverbs_attr *raw_attr(struct raw_cmd *c, uint16_t id,
					      uint16_t len, uint64_t data)
{
	struct ib_uverbs_attr *a = &c->attrs[c->hdr.num_attrs++];

	a->attr_id = id;
	a->len = len;
	a->data = data;
	return a;
}

/* 0 or the errno of the ioctl. */
static inline int raw_cmd_exec(int cmd_fd, struct raw_cmd *c)
{
	c->hdr.length = (uint16_t)(sizeof(c->hdr) +
				   c->hdr.num_attrs * sizeof(c->attrs[0]));
	return ioctl(cmd_fd, RDMA_VERBS_IOCTL, c) ? errno : 0;
}

/* UVERBS_METHOD_MR_DESTROY of handle @handle: 0 or an errno. */
static inline int raw_destroy_mr_ioctl(int cmd_fd, int64_t handle)
{
	struct raw_cmd c;

	raw_cmd_init(&c, UVERBS_OBJECT_MR, UVERBS_METHOD_MR_DESTROY);
	raw_attr(&c, UVERBS_ATTR_DESTROY_MR_HANDLE, 0, (uint64_t)handle);
	return raw_cmd_exec(cmd_fd, &c);
}

/* A legacy write() command of @len bytes at @w: 0 or an errno. */
static inline int raw_write_cmd(int cmd_fd, const void *w, size_t len)
{
	ssize_t n = write(cmd_fd, w, len);

	if (n < 0)
		return errno;
	return n == (ssize_t)len ? 0 : EIO;
}

/* The legacy write() command IB_USER_VERBS_CMD_DEREG_MR: 0 or an errno. */
static inline int raw_destroy_mr_write(int cmd_fd, uint32_t handle)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_dereg_mr cmd;
	} w = {
		.hdr = {
			.command = IB_USER_VERBS_CMD_DEREG_MR,
			.in_words = sizeof(w) / 4,
		},
		.cmd = { .mr_handle = handle },
	};

	return raw_write_cmd(cmd_fd, &w, sizeof(w));
}

/* Arguments of a raw REG_DMABUF_MR; the keys come back in @lkey, @rkey. */
struct raw_reg {
	uint32_t pd_handle;
	uint64_t offset, length, iova;
	uint32_t fd, access;
	uint32_t lkey, rkey;
};

/*
 * Fill @c with a well-formed REG_DMABUF_MR of @r; the handle attribute is
 * attrs[0], where the kernel writes the new handle.
 */
static inline void raw_reg_build(struct raw_cmd *c, struct raw_reg *r)
{
	raw_cmd_init(c, UVERBS_OBJECT_MR, UVERBS_METHOD_REG_DMABUF_MR);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_HANDLE, 0, 0);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_PD_HANDLE, 0, r->pd_handle);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_OFFSET, 8, r->offset);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_LENGTH, 8, r->length);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_IOVA, 8, r->iova);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_FD, 4, r->fd);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_ACCESS_FLAGS, 4, r->access);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_RESP_LKEY, 4,
		 (uintptr_t)&r->lkey);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_RESP_RKEY, 4,
		 (uintptr_t)&r->rkey);
}

/*
 * Arguments of the legacy write() command IB_USER_VERBS_CMD_REREG_MR;
 * @flags are IBV_REREG_MR_CHANGE_*.
 */
struct raw_rereg {
	uint32_t handle, flags, pd_handle, access;
	uint64_t start, length, hca_va;
};

/* The raw rereg of @r: 0 or an errno; the MR's keys come back in @resp. */
static inline int raw_rereg_mr(int cmd_fd, const struct raw_rereg *r,
			       struct ib_uverbs_rereg_mr_resp *resp)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_rereg_mr cmd;
	} w = {
		.hdr = {
			.command = IB_USER_VERBS_CMD_REREG_MR,
			.in_words = sizeof(w) / 4,
			.out_words = sizeof(*resp) / 4,
		},
		.cmd = {
			.response = (uintptr_t)resp,
			.mr_handle = r->handle,
			.flags = r->flags,
			.start = r->start,
			.length = r->length,
			.hca_va = r->hca_va,
			.pd_handle = r->pd_handle,
			.access_flags = r->access,
		},
	};

	return raw_write_cmd(cmd_fd, &w, sizeof(w));
}

/* ------------------------------------------------------------------ */
/* The peer                                                            */

/*
 * Every RC opcode that names a remote address: what a peer holding an
 * MR's rkey can try on it.
 */
enum peer_op {
	PEER_WRITE, PEER_WRITE_IMM, PEER_READ, PEER_CMP_SWP, PEER_FETCH_ADD,
	PEER_ATOMIC_WRITE, PEER_FLUSH_P_RANGE, PEER_FLUSH_P_MR,
	PEER_FLUSH_G_RANGE, PEER_FLUSH_G_MR, PEER_NOPS
};

/*
 * struct peer_op_info - one opcode
 * @tag:     a short name for tables of outcomes
 * @access:  the access bit the MR must have (rxe's lookup_mr())
 * @word:    8 bytes at an 8-byte aligned address: the atomics
 * @touches: reads or writes the MR's memory, so needs it there; a FLUSH
 *           only checks the range (and a PERSISTENT one writes back the
 *           CPU caches of a pinned MR's pages, which are always there)
 * @flush_type, @flush_level: IBV_FLUSH_*, for a FLUSH (@flush_type set)
 */
struct peer_op_info {
	const char *name, *tag;
	unsigned int access;
	bool word, touches;
	uint8_t flush_type, flush_level;
};

static const struct peer_op_info peer_ops[PEER_NOPS] = {
	[PEER_WRITE] = { "RDMA WRITE", "W", IBV_ACCESS_REMOTE_WRITE,
			 false, true, 0, 0 },
	[PEER_WRITE_IMM] = { "RDMA WRITE with immediate", "WI",
			     IBV_ACCESS_REMOTE_WRITE, false, true, 0, 0 },
	[PEER_READ] = { "RDMA READ", "R", IBV_ACCESS_REMOTE_READ, false, true,
			0, 0 },
	[PEER_CMP_SWP] = { "CMP_SWP", "CS", IBV_ACCESS_REMOTE_ATOMIC, true,
			   true, 0, 0 },
	[PEER_FETCH_ADD] = { "FETCH_ADD", "FA", IBV_ACCESS_REMOTE_ATOMIC, true,
			     true, 0, 0 },
	[PEER_ATOMIC_WRITE] = { "ATOMIC_WRITE", "AW", IBV_ACCESS_REMOTE_WRITE,
				true, true, 0, 0 },
	[PEER_FLUSH_P_RANGE] = { "FLUSH PERSISTENT, RANGE", "FPr",
				 IBV_ACCESS_FLUSH_PERSISTENT, false, false,
				 IBV_FLUSH_PERSISTENT, IBV_FLUSH_RANGE },
	[PEER_FLUSH_P_MR] = { "FLUSH PERSISTENT, MR", "FPm",
			      IBV_ACCESS_FLUSH_PERSISTENT, false, false,
			      IBV_FLUSH_PERSISTENT, IBV_FLUSH_MR },
	[PEER_FLUSH_G_RANGE] = { "FLUSH GLOBAL, RANGE", "FGr",
				 IBV_ACCESS_FLUSH_GLOBAL, false, false,
				 IBV_FLUSH_GLOBAL, IBV_FLUSH_RANGE },
	[PEER_FLUSH_G_MR] = { "FLUSH GLOBAL, MR", "FGm",
			      IBV_ACCESS_FLUSH_GLOBAL, false, false,
			      IBV_FLUSH_GLOBAL, IBV_FLUSH_MR },
};

#define PEER_DEPTH	16
/* The responder grants everything: only the MR decides. */
#define PEER_RESP_ACCESS (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			  IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC | \
			  IBV_ACCESS_FLUSH_GLOBAL | \
			  IBV_ACCESS_FLUSH_PERSISTENT)
#define PEER_SEND_OPS	(IBV_QP_EX_WITH_RDMA_WRITE | \
			 IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM | \
			 IBV_QP_EX_WITH_RDMA_READ | \
			 IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP | \
			 IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD | \
			 IBV_QP_EX_WITH_ATOMIC_WRITE | IBV_QP_EX_WITH_FLUSH)

/*
 * struct peer_pair - two connected RC QPs of one device, loopback:
 * qp[0] (@qpx) sends every enum peer_op, qp[1] responds. A remote error
 * leaves both in the error state: peer_reset() makes new ones.
 */
struct peer_pair {
	struct ibv_cq *cq[2];
	struct ibv_qp *qp[2];
	struct ibv_qp_ex *qpx;
	uint32_t resets;
	char why[64];
};

static inline int peer_modify(struct ibv_qp *qp, struct ibv_qp_attr *a,
			      int mask)
{
	return ibv_modify_qp(qp, a, mask) ? errno ? errno : EIO : 0;
}

/* INIT, RTR towards @dest, RTS; RoCE needs a GRH, hence is_global. */
static inline int peer_qp_up(struct ibv_qp *qp, const struct xfer_dev *dev,
			     unsigned int access, uint32_t dest, uint32_t psn)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = XFER_PORT_NUM,
		.qp_access_flags = access,
	};
	int err;

	err = peer_modify(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
	if (err)
		return err;
	a = (struct ibv_qp_attr){
		.qp_state = IBV_QPS_RTR,
		.path_mtu = dev->port_attr.active_mtu < IBV_MTU_1024 ?
			    dev->port_attr.active_mtu : IBV_MTU_1024,
		.dest_qp_num = dest,
		.rq_psn = psn,
		.max_dest_rd_atomic = 4,
		.min_rnr_timer = 12,
		.ah_attr = {
			.is_global = 1,
			.port_num = XFER_PORT_NUM,
			.grh = {
				.dgid = dev->gid,
				.sgid_index = (uint8_t)dev->gid_index,
				.hop_limit = 64,
			},
		},
	};
	err = peer_modify(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
	if (err)
		return err;
	/* 6 retries: rxe takes 7 for "forever", a lost reply would hang. */
	a = (struct ibv_qp_attr){
		.qp_state = IBV_QPS_RTS,
		.sq_psn = psn,
		.timeout = 14,
		.retry_cnt = 6,
		.rnr_retry = 6,
		.max_rd_atomic = 4,
	};
	return peer_modify(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			   IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			   IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC);
}

/*
 * New QPs in place of the pair's, on the same CQs, connected to each
 * other: 0 or an errno, and in @p->why what failed. A QP that saw a
 * remote error is not reset but replaced (as the kit replaces a pair):
 * rxe may still move it to ERR after a reset, from a timer or a reply
 * in flight, and nothing addressed to the old QP numbers reaches the
 * new ones. What the old QPs completed is dropped from the CQs.
 */
static inline int peer_reset(struct peer_pair *p, const struct xfer_dev *dev)
{
	uint32_t psn = (p->resets++ * 0x9e3779U + 1) & 0xffffff;
	struct ibv_wc wc;
	int err;

	for (int i = 0; i < 2; i++) {
		if (p->qp[i] && ibv_destroy_qp(p->qp[i])) {
			snprintf(p->why, sizeof(p->why), "destroying QP %d", i);
			return errno ? errno : EIO;
		}
		p->qp[i] = NULL;
	}
	p->qpx = NULL;
	for (int i = 0; i < 2; i++)
		while (ibv_poll_cq(p->cq[i], 1, &wc) > 0)
			;
	for (int i = 0; i < 2; i++) {
		struct ibv_qp_init_attr_ex init = {
			.qp_type = IBV_QPT_RC,
			.send_cq = p->cq[i],
			.recv_cq = p->cq[i],
			.cap = {
				.max_send_wr = PEER_DEPTH,
				.max_recv_wr = PEER_DEPTH,
				.max_send_sge = 1,
				.max_recv_sge = 1,
			},
			.comp_mask = IBV_QP_INIT_ATTR_PD,
			.pd = dev->pd,
		};

		if (!i) {
			init.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
			init.send_ops_flags = PEER_SEND_OPS;
		}
		p->qp[i] = ibv_create_qp_ex(dev->ctx, &init);
		if (!p->qp[i]) {
			snprintf(p->why, sizeof(p->why), "creating QP %d", i);
			return errno ? errno : EIO;
		}
	}
	p->qpx = ibv_qp_to_qp_ex(p->qp[0]);
	if (!p->qpx) {
		snprintf(p->why, sizeof(p->why), "no extended QP");
		return EOPNOTSUPP;
	}
	for (int i = 0; i < 2; i++) {
		err = peer_qp_up(p->qp[i], dev, i ? PEER_RESP_ACCESS :
				 IBV_ACCESS_LOCAL_WRITE, p->qp[!i]->qp_num,
				 psn);
		if (err) {
			snprintf(p->why, sizeof(p->why),
				 "QP %d to INIT, RTR, RTS", i);
			return err;
		}
	}
	return 0;
}

/* Destroy what peer_open() made, as far as it got. */
static inline void peer_close(struct peer_pair *p)
{
	for (int i = 0; i < 2; i++)
		if (p->qp[i] && ibv_destroy_qp(p->qp[i]))
			xfer_die_err("ibv_destroy_qp", errno);
	for (int i = 0; i < 2; i++)
		if (p->cq[i] && ibv_destroy_cq(p->cq[i]))
			xfer_die_err("ibv_destroy_cq", errno);
	memset(p, 0, sizeof(*p));
}

/* A connected pair on @dev's PD: 0, or an errno (then peer_close()). */
static inline int peer_open(struct peer_pair *p, const struct xfer_dev *dev)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < 2; i++) {
		p->cq[i] = ibv_create_cq(dev->ctx, 2 * PEER_DEPTH, NULL, NULL,
					 0);
		if (!p->cq[i])
			return errno ? errno : EIO;
	}
	return peer_reset(p, dev);
}

/*
 * struct peer_wr - one signalled work request of qp[0]
 * @raddr, @len: where at @rkey (@len is 8 for the atomics)
 * @laddr, @lkey: the local buffer: the source of a WRITE, the
 *         destination of a READ, where an atomic puts the original value
 * @compare_add, @swap: the atomics' operands; ATOMIC_WRITE writes
 *         @compare_add
 * @imm:   WRITE with immediate: the immediate, and first a receive
 *         without SGE on qp[1], with @wr_id too
 */
struct peer_wr {
	enum peer_op op;
	uint64_t wr_id;
	uint32_t rkey;
	uint64_t raddr;
	uint32_t len;
	uint64_t laddr;
	uint32_t lkey;
	uint64_t compare_add, swap;
	uint32_t imm;
};

/* Post @w; its completions are the caller's to wait for. 0 or errno. */
static inline int peer_post(struct peer_pair *p, const struct peer_wr *w)
{
	const struct peer_op_info *o = &peer_ops[w->op];
	struct ibv_qp_ex *q = p->qpx;
	struct ibv_recv_wr rwr = { .wr_id = w->wr_id }, *bad;
	int err;

	if (w->op == PEER_WRITE_IMM) {
		err = ibv_post_recv(p->qp[1], &rwr, &bad);
		if (err)
			return err;
	}
	ibv_wr_start(q);
	q->wr_id = w->wr_id;
	q->wr_flags = IBV_SEND_SIGNALED;
	switch (w->op) {
	case PEER_WRITE:
		ibv_wr_rdma_write(q, w->rkey, w->raddr);
		break;
	case PEER_WRITE_IMM:
		ibv_wr_rdma_write_imm(q, w->rkey, w->raddr, htobe32(w->imm));
		break;
	case PEER_READ:
		ibv_wr_rdma_read(q, w->rkey, w->raddr);
		break;
	case PEER_CMP_SWP:
		ibv_wr_atomic_cmp_swp(q, w->rkey, w->raddr, w->compare_add,
				      w->swap);
		break;
	case PEER_FETCH_ADD:
		ibv_wr_atomic_fetch_add(q, w->rkey, w->raddr, w->compare_add);
		break;
	case PEER_ATOMIC_WRITE:
		ibv_wr_atomic_write(q, w->rkey, w->raddr, &w->compare_add);
		break;
	default:
		ibv_wr_flush(q, w->rkey, w->raddr, w->len, o->flush_type,
			     o->flush_level);
		break;
	}
	/* A FLUSH and ATOMIC_WRITE carry no local data. */
	if (!o->flush_type && w->op != PEER_ATOMIC_WRITE)
		ibv_wr_set_sge(q, w->lkey, w->laddr, w->len);
	return ibv_wr_complete(q);
}

#endif /* FUZZ_UVERBS_H */
