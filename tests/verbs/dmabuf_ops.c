/*
 * dmabuf_ops - the data paths beyond RC READ/WRITE/SEND on dma-buf
 * memory regions (rxe), case by case, for every dma-buf source.
 *
 * UC RDMA WRITE and SEND, UD SEND and RC SEND through an SRQ, with the
 * dma-buf MR as destination and as source; memory windows on a dma-buf
 * MR; ATOMIC_WRITE into one. Every byte is checked through the buffer's
 * own CPU mapping, bytes nothing should have written included. Test
 * exporter buffers are moved between the two directions of a case, so
 * the second one runs through rxe's refault.
 *
 * Memory windows: the uverbs core accepts only LOCAL_WRITE, REMOTE_READ,
 * REMOTE_WRITE, REMOTE_ATOMIC and RELAXED_ORDERING for a dma-buf MR
 * (drivers/infiniband/core/uverbs_std_types_mr.c, the access mask of
 * UVERBS_METHOD_REG_DMABUF_MR), so IBV_ACCESS_MW_BIND gets EINVAL before
 * rxe sees it; and rxe binds a window only to an MR with MW_BIND (C10-73,
 * rxe_mw.c). So no window can be bound to a dma-buf MR from user space:
 * the mw cases check that exactly that holds (registration refused, bind
 * completes with MW_BIND_ERR, the window's rkey reaches nothing), and the
 * mw-*-host cases show that the same steps on host memory work, so the
 * refusal is the dma-buf MR's.
 *
 * usage: dmabuf_ops [-d DEV] [-x GID_INDEX] [-l] [CASE...]
 *
 * Prints one line per case, "PASS name", "FAIL name: reason" or
 * "SKIP name: reason" (a source that is absent is skipped, not failed),
 * plus "# ..." lines with what was observed, and exits 1 if any case
 * failed, 2 on bad usage (an unknown case name included).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dmabuf_kit.h"

#define BUF_LEN		(64 * 1024)
/* Messages start off a page boundary and cross several. */
#define MSG_OFF		100
#define MSG_LEN		(40 * 1024 + 7)
#define SLOTS		4
/* UD receive buffers start this far into their page, so they cross one. */
#define UD_OFF		3000
#define SRQ_MSG		(16 * 1024)

static const char *src_name(int src)
{
	return src < 0 ? "host" : xfer_dmabuf_buf_ops[src].name;
}

/* What @b holds outside [@off, @off + @len) must still be zero. */
static int check_around(const struct xfer_buf *b, size_t off, size_t len,
			const char *when)
{
	return dk_check_zero(b, 0, off, when) ||
	       dk_check_zero(b, off + len, b->len - off - len, when) ? -1 : 0;
}

/* The completion of the receive the last message consumed on qp[1]. */
static int wait_recv(struct kit_pair *p, uint64_t wr_id, uint32_t len,
		     struct ibv_wc *wc, const char *what)
{
	if (kit_expect_wc(kit_wait_wc(p->cq[1], wc, KIT_WC_TIMEOUT_MS),
			  IBV_WC_SUCCESS, what))
		return -1;
	if (wc->wr_id != wr_id || wc->byte_len != len)
		return fail("%s: wr_id %" PRIu64 ", %u bytes; want %" PRIu64 ", %u",
			    what, (uint64_t)wc->wr_id, wc->byte_len, wr_id,
			    len);
	return 0;
}

/*
 * UC RDMA WRITE with immediate of @len bytes from @laddr/@lkey to
 * @raddr/@rkey: UC has no ACK, so the receive completion of the
 * immediate is what says the data is in.
 */
static int uc_write(struct kit_pair *p, uint64_t laddr, uint32_t lkey,
		    uint64_t raddr, uint32_t rkey, size_t len, uint32_t imm)
{
	struct ibv_sge sge = {
		.addr = laddr,
		.length = (uint32_t)len,
		.lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE_WITH_IMM,
		.imm_data = htonl(imm),
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	};
	struct ibv_wc wc;

	/* The receive completion counts the bytes written. */
	if (kit_post_recv(p, imm, 0, 0, 0) ||
	    kit_expect_wc(kit_post_wait(p, &wr, KIT_WC_TIMEOUT_MS),
			  IBV_WC_SUCCESS, "UC RDMA WRITE with immediate") ||
	    wait_recv(p, imm, (uint32_t)len, &wc,
		      "UC receive of the immediate"))
		return -1;
	if (wc.opcode != IBV_WC_RECV_RDMA_WITH_IMM || ntohl(wc.imm_data) != imm)
		return fail("UC receive: opcode %d, immediate %u; want %d, %u",
			    wc.opcode, ntohl(wc.imm_data),
			    IBV_WC_RECV_RDMA_WITH_IMM, imm);
	return 0;
}

/*
 * UC RDMA WRITE into the dma-buf MR, then, after a move, out of it into
 * host memory.
 */
static int case_uc_write(int src)
{
	struct dk_setup k;
	int rc;

	rc = dk_open(&k, src, BUF_LEN, KIT_ACC_RW, IBV_QPT_UC, 0);
	if (rc)
		return rc;
	xfer_pattern_fill(kit_host.addr, 1, MSG_LEN);
	if (uc_write(k.p, (uintptr_t)kit_host.addr, kit_host.mr->lkey,
		     k.b->iova + MSG_OFF, k.mr->rkey, MSG_LEN, 1) ||
	    dk_check_cpu(k.b, (char *)k.b->addr + MSG_OFF, 1, MSG_LEN,
			 "UC RDMA WRITE into the dma-buf") ||
	    check_around(k.b, MSG_OFF, MSG_LEN, "UC RDMA WRITE into the dma-buf"))
		return -1;

	dk_fill(k.b, MSG_OFF, 2, MSG_LEN);
	if (dk_move_if_dte(k.b))
		return -1;
	memset(kit_host.addr, 0, MSG_LEN);
	if (uc_write(k.p, k.b->iova + MSG_OFF, k.mr->lkey,
		     (uintptr_t)kit_host.addr, kit_host.mr->rkey, MSG_LEN, 2))
		return -1;
	return kit_check_pattern(kit_host.addr, 2, MSG_LEN,
				 "UC RDMA WRITE from the dma-buf");
}

/*
 * SEND from host memory into a dma-buf receive buffer, then, after a
 * move, from the dma-buf into host memory; on @type (UC or RC).
 */
static int send_both_ways(int src, enum ibv_qp_type type)
{
	char *host = kit_host.addr;
	struct dk_setup k;
	struct ibv_wc wc;
	int rc;

	rc = dk_open(&k, src, BUF_LEN, KIT_ACC_RW, type, 0);
	if (rc)
		return rc;
	xfer_pattern_fill(host, 3, MSG_LEN);
	if (kit_post_recv(k.p, 3, k.b->iova + MSG_OFF, MSG_LEN, k.mr->lkey) ||
	    kit_expect_wc(kit_rdma(k.p, IBV_WR_SEND, (uintptr_t)host,
				   kit_host.mr->lkey, 0, 0, MSG_LEN,
				   KIT_WC_TIMEOUT_MS),
			  IBV_WC_SUCCESS, "SEND into the dma-buf") ||
	    wait_recv(k.p, 3, MSG_LEN, &wc, "receive into the dma-buf") ||
	    dk_check_cpu(k.b, (char *)k.b->addr + MSG_OFF, 3, MSG_LEN,
			 "receive into the dma-buf") ||
	    check_around(k.b, MSG_OFF, MSG_LEN, "receive into the dma-buf"))
		return -1;

	dk_fill(k.b, MSG_OFF, 4, MSG_LEN);
	if (dk_move_if_dte(k.b))
		return -1;
	memset(host, 0, MSG_LEN);
	if (kit_post_recv(k.p, 4, (uintptr_t)host, MSG_LEN,
			  kit_host.mr->lkey) ||
	    kit_expect_wc(kit_rdma(k.p, IBV_WR_SEND, k.b->iova + MSG_OFF,
				   k.mr->lkey, 0, 0, MSG_LEN,
				   KIT_WC_TIMEOUT_MS),
			  IBV_WC_SUCCESS, "SEND from the dma-buf") ||
	    wait_recv(k.p, 4, MSG_LEN, &wc, "receive from the dma-buf"))
		return -1;
	return kit_check_pattern(host, 4, MSG_LEN, "SEND from the dma-buf");
}

static int case_uc_send(int src)
{
	return send_both_ways(src, IBV_QPT_UC);
}

/* A UD SEND of @len bytes at @laddr/@lkey to qp[1]. */
static int ud_send(struct kit_pair *p, uint64_t laddr, uint32_t lkey,
		   size_t len, const char *what)
{
	struct ibv_sge sge = {
		.addr = laddr,
		.length = (uint32_t)len,
		.lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_SEND,
		.wr.ud = {
			.ah = p->ah,
			.remote_qpn = p->qp[1]->qp_num,
			.remote_qkey = KIT_QKEY,
		},
	};

	return kit_expect_wc(kit_post_wait(p, &wr, KIT_WC_TIMEOUT_MS),
			     IBV_WC_SUCCESS, what);
}

/*
 * The GRH of a RoCE v2 datagram over IPv4 holds the IPv4 header in its
 * last 20 bytes: the destination address, the device's own here, is the
 * last 4 bytes of the GRH.
 */
static int check_grh(const struct xfer_buf *b, size_t off, const char *what)
{
	const uint8_t *gid = kit_dev.gid.raw;
	uint8_t dst[4];

	/* An IPv4-mapped GID is ::ffff:a.b.c.d; others carry an IPv6 GRH. */
	if (gid[10] != 0xff || gid[11] != 0xff)
		return 0;
	xfer_buf_cpu_begin(b, false);
	memcpy(dst, (const char *)b->addr + off + KIT_GRH_LEN - 4, 4);
	xfer_buf_cpu_end(b, false);
	if (memcmp(dst, gid + 12, 4))
		return fail("%s: the GRH's last 4 bytes are %u.%u.%u.%u, want the device's address %u.%u.%u.%u",
			    what, dst[0], dst[1], dst[2], dst[3], gid[12],
			    gid[13], gid[14], gid[15]);
	return 0;
}

/*
 * UD datagrams into dma-buf receive buffers that cross a page: the first
 * 40 bytes of each receive are the GRH, the payload follows it, nothing
 * lands past it. Then, after a move, datagrams from the dma-buf.
 */
static int case_ud(int src)
{
	size_t len = (size_t)xfer_mtu_bytes(kit_dev.port_attr.active_mtu);
	size_t slot_len, off;
	char *host = kit_host.addr, what[64];
	struct ibv_wc wc;
	struct dk_setup k;
	int rc;

	/* A payload of one MTU; with the GRH it must fit in a page. */
	if (len > 2048)
		len = 2048;
	slot_len = KIT_GRH_LEN + len;
	rc = dk_open(&k, src, (SLOTS + 1) * 4096, KIT_ACC_RW, IBV_QPT_UD, 0);
	if (rc)
		return rc;
	for (int i = 0; i < SLOTS; i++)
		if (kit_post_recv(k.p, i, k.b->iova + i * 4096 + UD_OFF,
				  slot_len, k.mr->lkey))
			return -1;
	for (int i = 0; i < SLOTS; i++) {
		off = i * 4096 + UD_OFF;
		xfer_pattern_fill(host, 10 + i, len);
		snprintf(what, sizeof(what), "UD SEND %d into the dma-buf", i);
		if (ud_send(k.p, (uintptr_t)host, kit_host.mr->lkey, len, what) ||
		    wait_recv(k.p, i, slot_len, &wc, what) ||
		    dk_check_cpu(k.b, (char *)k.b->addr + off + KIT_GRH_LEN,
				 10 + i, len, what) ||
		    check_grh(k.b, off, what))
			return -1;
		if (!(wc.wc_flags & IBV_WC_GRH))
			return fail("%s: the completion has no IBV_WC_GRH", what);
		/* Up to the next slot (or the end) nothing was written. */
		if (dk_check_zero(k.b, off + slot_len,
				  (i + 1) * 4096 + UD_OFF - off - slot_len,
				  what))
			return -1;
	}
	if (dk_check_zero(k.b, 0, UD_OFF, "before the first UD receive"))
		return -1;

	if (dk_move_if_dte(k.b))
		return -1;
	for (int i = 0; i < SLOTS; i++) {
		off = i * 4096 + UD_OFF;
		dk_fill(k.b, off, 20 + i, len);
		memset(host, 0, slot_len);
		snprintf(what, sizeof(what), "UD SEND %d from the dma-buf", i);
		if (kit_post_recv(k.p, 100 + i, (uintptr_t)host, slot_len,
				  kit_host.mr->lkey) ||
		    ud_send(k.p, k.b->iova + off, k.mr->lkey, len, what) ||
		    wait_recv(k.p, 100 + i, slot_len, &wc, what) ||
		    kit_check_pattern(host + KIT_GRH_LEN, 20 + i, len, what))
			return -1;
	}
	return 0;
}

/* RC SENDs received through an SRQ whose buffers are a dma-buf MR. */
static int case_srq(int src)
{
	char *host = kit_host.addr, what[64];
	struct dk_setup k;
	struct ibv_wc wc;
	int rc;

	rc = dk_open(&k, src, SLOTS * SRQ_MSG, KIT_ACC_RW, IBV_QPT_RC,
		     KIT_PAIR_SRQ);
	if (rc)
		return rc;
	for (int i = 0; i < SLOTS; i++)
		if (kit_post_recv(k.p, i, k.b->iova + i * SRQ_MSG, SRQ_MSG,
				  k.mr->lkey))
			return -1;
	for (int i = 0; i < SLOTS; i++) {
		/* The last receive runs through a refault. */
		if (i == SLOTS - 1 && dk_move_if_dte(k.b))
			return -1;
		xfer_pattern_fill(host, 30 + i, SRQ_MSG);
		snprintf(what, sizeof(what), "SEND %d through the SRQ", i);
		if (kit_expect_wc(kit_rdma(k.p, IBV_WR_SEND, (uintptr_t)host,
					   kit_host.mr->lkey, 0, 0, SRQ_MSG,
					   KIT_WC_TIMEOUT_MS),
				  IBV_WC_SUCCESS, what) ||
		    wait_recv(k.p, i, SRQ_MSG, &wc, what))
			return -1;
		if (wc.qp_num != k.p->qp[1]->qp_num)
			return fail("%s: completion for QP %u, want %u", what,
				    wc.qp_num, k.p->qp[1]->qp_num);
	}
	for (int i = 0; i < SLOTS; i++) {
		snprintf(what, sizeof(what), "SRQ receive buffer %d", i);
		if (dk_check_cpu(k.b, (char *)k.b->addr + i * SRQ_MSG, 30 + i,
				 SRQ_MSG, what))
			return -1;
	}
	return 0;
}

static int case_rc_send(int src)
{
	return send_both_ways(src, IBV_QPT_RC);
}

/* ------------------------------------------------------------------ */
/* Memory windows                                                      */

#define MW_LEN		(16 * 1024)
#define WIN_OFF		4096
#define WIN_LEN		8192

/*
 * Bind @mw over [@addr, @addr + WIN_LEN) of @mr for remote READ and
 * WRITE, posted on the responder, qp[1]: a type 2 window serves only the
 * QP that bound it, and remote accesses arrive there. *@rkey is the
 * window's rkey afterwards. Returns the completion status.
 */
static int bind_mw(struct kit_pair *p, struct ibv_mw *mw, struct ibv_mr *mr,
		   uint64_t addr, uint32_t *rkey)
{
	struct ibv_mw_bind_info info = {
		.mr = mr,
		.addr = addr,
		.length = WIN_LEN,
		.mw_access_flags = IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_REMOTE_WRITE,
	};
	struct ibv_mw_bind bind = {
		.send_flags = IBV_SEND_SIGNALED,
		.bind_info = info,
	};
	struct ibv_send_wr wr = {
		.opcode = IBV_WR_BIND_MW,
		.bind_mw = {
			.mw = mw,
			.rkey = ibv_inc_rkey(mw->rkey),
			.bind_info = info,
		},
	};
	struct ibv_wc wc;
	int err;

	if (mw->type == IBV_MW_TYPE_2) {
		*rkey = wr.bind_mw.rkey;
		return kit_post_wait_on(p, 1, &wr, KIT_WC_TIMEOUT_MS);
	}
	/* The library posts the bind and gives the window its new rkey. */
	err = ibv_bind_mw(p->qp[1], mw, &bind);
	if (err)
		xfer_die_err("ibv_bind_mw", err);
	*rkey = mw->rkey;
	return kit_wait_wc(p->cq[1], &wc, KIT_WC_TIMEOUT_MS);
}

/*
 * RDMA WRITE and READ through the window's rkey, or, with @beyond, an
 * RDMA WRITE that runs 8 bytes past the window's end (but not past the
 * MR's): a remote access error, and what lies beyond stays untouched. It
 * goes on the pair that bound the window, since a type 2 window serves
 * only that QP.
 */
static int use_window(struct kit_pair *p, const struct xfer_buf *b,
		      uint64_t win, uint32_t rkey, bool beyond)
{
	char *host = kit_host.addr;
	char *cpu = (char *)b->addr + WIN_OFF;
	int st, written;

	if (beyond)
		goto beyond;
	xfer_pattern_fill(host, 40, WIN_LEN);
	st = kit_rdma(p, IBV_WR_RDMA_WRITE, (uintptr_t)host, kit_host.mr->lkey,
		      win, rkey, WIN_LEN, KIT_WC_TIMEOUT_MS);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "RDMA WRITE through the window") ||
	    dk_check_cpu(b, cpu, 40, WIN_LEN, "RDMA WRITE through the window"))
		return -1;
	dk_fill(b, WIN_OFF, 41, WIN_LEN);
	memset(host, 0, WIN_LEN);
	st = kit_rdma(p, IBV_WR_RDMA_READ, (uintptr_t)host, kit_host.mr->lkey,
		      win, rkey, WIN_LEN, KIT_WC_TIMEOUT_MS);
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "RDMA READ through the window") ||
	    kit_check_pattern(host, 41, WIN_LEN, "RDMA READ through the window"))
		return -1;
	return dk_check_zero(b, 0, WIN_OFF, "before the window") ||
	       dk_check_zero(b, WIN_OFF + WIN_LEN, b->len - WIN_OFF - WIN_LEN,
			     "beyond the window") ? -1 : 0;

beyond:
	memset(host, 0xee, 16);
	st = kit_rdma(p, IBV_WR_RDMA_WRITE, (uintptr_t)host, kit_host.mr->lkey,
		      win + WIN_LEN - 8, rkey, 16, KIT_WC_TIMEOUT_MS);
	kit_note("RDMA WRITE across the window's end -> %s", kit_wc_name(st));
	written = dk_check_zero(b, WIN_OFF + WIN_LEN,
				b->len - WIN_OFF - WIN_LEN, "beyond the window");
	if (st == IBV_WC_REM_ACCESS_ERR && !written)
		return 0;
	return fail("RDMA WRITE across the window's end (inside the MR): %s, want %s%s",
		    kit_wc_name(st), ibv_wc_status_str(IBV_WC_REM_ACCESS_ERR),
		    written ? "; the bytes past the window were written" : "");
}

/*
 * The upper half of kit_host, zeroed, as a buffer of its own with an MR
 * that allows binding windows; the lower half stays the requester's.
 */
static int host_buf(struct xfer_buf *b, struct ibv_mr **mr)
{
	*b = kit_host;
	b->addr = (char *)kit_host.addr + KIT_HOST_LEN / 2;
	b->len = MW_LEN;
	b->iova = (uintptr_t)b->addr;
	memset(b->addr, 0, MW_LEN);
	*mr = ibv_reg_mr(kit_dev.pd, b->addr, MW_LEN,
			 KIT_ACC_RW | IBV_ACCESS_MW_BIND);
	if (!*mr)
		return fail("ibv_reg_mr(MW_BIND): %s", strerror(errno));
	return kit_track_mr(*mr);
}

/*
 * A memory window of @type on a buffer of source @src (-1: host memory). On host memory the bind works and the window gives
 * exactly its range; on a dma-buf the registration with MW_BIND is
 * refused, the bind to the MR without it fails, and the window's rkey
 * reaches nothing.
 */
static int mw_case(enum ibv_mw_type type, int src, bool beyond)
{
	int st, rc;
	struct kit_pair *p, *e;
	struct xfer_buf hbuf, *b;
	struct ibv_mr *mr, *bad;
	struct ibv_mw *mw = NULL;
	uint32_t rkey;

	if (src < 0) {
		rc = host_buf(&hbuf, &mr);
		b = &hbuf;
	} else {
		rc = dk_new_buf(src, MW_LEN, &b);
		if (!rc) {
			errno = 0;
			bad = ibv_reg_dmabuf_mr(kit_dev.pd, 0, MW_LEN, b->iova,
						b->fd,
						KIT_ACC_RW | IBV_ACCESS_MW_BIND);
			kit_note("ibv_reg_dmabuf_mr(access MW_BIND) on %s -> %s",
				 src_name(src), bad ? "registered" :
				 kit_errname(errno));
			if (bad) {
				kit_track_mr(bad);
				rc = fail("a dma-buf MR with MW_BIND registered; the uverbs core refused it so far: bind to it");
			} else if (errno != EINVAL) {
				rc = fail("ibv_reg_dmabuf_mr(MW_BIND): %s, want EINVAL",
					  kit_errname(errno));
			} else {
				rc = dk_new_mr(b, 0, MW_LEN, b->iova,
					       KIT_ACC_RW, &mr);
			}
		}
	}
	if (!rc)
		rc = kit_new_pair(IBV_QPT_RC, 0, &p);
	if (!rc)
		rc = kit_new_pair(IBV_QPT_RC, 0, &e);
	if (rc)
		goto out;
	mw = ibv_alloc_mw(kit_dev.pd, type);
	if (!mw) {
		rc = fail("ibv_alloc_mw(type %d): %s", type, strerror(errno));
		goto out;
	}
	st = bind_mw(p, mw, mr, b->iova + WIN_OFF, &rkey);
	kit_note("type %d window bound to a %s MR -> %s", type, src_name(src),
		 kit_wc_name(st));
	if (src < 0) {
		rc = kit_expect_wc(st, IBV_WC_SUCCESS, "binding the window");
		if (!rc)
			rc = use_window(p, b, b->iova + WIN_OFF, rkey, beyond);
		goto out;
	}
	rc = kit_expect_wc(st, IBV_WC_MW_BIND_ERR,
			   "binding a window to a dma-buf MR without MW_BIND");
	if (rc)
		goto out;
	/*
	 * Nothing was bound: the rkey the window would have had reaches
	 * nothing. On another pair: a failed bind puts its QP in error.
	 */
	xfer_pattern_fill(kit_host.addr, 42, WIN_LEN);
	st = kit_rdma(e, IBV_WR_RDMA_WRITE, (uintptr_t)kit_host.addr,
		      kit_host.mr->lkey, b->iova + WIN_OFF, rkey, WIN_LEN,
		      KIT_WC_TIMEOUT_MS);
	kit_note("RDMA WRITE through the unbound window's rkey -> %s",
		 kit_wc_name(st));
	rc = kit_expect_wc(st, IBV_WC_REM_ACCESS_ERR,
			   "RDMA WRITE through the unbound window");
	if (!rc)
		rc = dk_check_zero(b, 0, b->len, "after the refused accesses");
out:
	/* Windows go before the QPs and MRs they may be bound to. */
	if (mw && ibv_dealloc_mw(mw))
		xfer_die_err("ibv_dealloc_mw", errno);
	return rc;
}

static int case_mw1(int src)
{
	return mw_case(IBV_MW_TYPE_1, src, false);
}

static int case_mw2(int src)
{
	return mw_case(IBV_MW_TYPE_2, src, false);
}

static int case_mw_beyond(int type)
{
	return mw_case(type, -1, true);
}

/* ------------------------------------------------------------------ */
/* ATOMIC_WRITE                                                        */

/*
 * ATOMIC_WRITE stores 8 bytes with release semantics. rxe checks it
 * against IB_ACCESS_REMOTE_WRITE, of the QP and of the MR (rxe_resp.c):
 * an MR without it gets a remote access error. On I/O memory it cannot be
 * atomic and is refused the same way; the device then still serves a
 * fresh QP.
 */
static int case_atomic_write(int src)
{
	const uint64_t vals[] = {
		0x8877665544332211ULL, 0x0102030405060708ULL,
	};
	const size_t offs[] = { 8, 4096 + 16 };
	struct ibv_mr *ro;
	uint64_t ro_iova;
	struct kit_pair *e;
	struct dk_setup k;
	int rc, st;

	rc = kit_need_atomic_write();
	if (!rc)
		rc = dk_open(&k, src, 2 * 4096, KIT_ACC_RW, IBV_QPT_RC,
			     KIT_PAIR_ATOMIC_WRITE);
	if (rc)
		return rc;

	if (src == XFER_SRC_DTE_IOMEM) {
		st = kit_atomic_write(k.p, k.mr->rkey, k.b->iova + offs[0],
				      vals[0]);
		kit_note("ATOMIC_WRITE on I/O memory -> %s", kit_wc_name(st));
		if (kit_expect_wc(st, IBV_WC_REM_ACCESS_ERR,
				  "ATOMIC_WRITE on I/O memory") ||
		    dk_check_zero(k.b, 0, k.b->len,
				  "after the refused ATOMIC_WRITE") ||
		    kit_new_pair(IBV_QPT_RC, 0, &e))
			return -1;
		return dk_write_check_all(e, k.b, k.mr, 43);
	}

	/* First a word nothing touched, then one the CPU wrote. */
	dk_store_u64(k.b, offs[1], ~vals[1]);
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
		st = kit_atomic_write(k.p, k.mr->rkey, k.b->iova + offs[i],
				      vals[i]);
		if (kit_expect_wc(st, IBV_WC_SUCCESS, "ATOMIC_WRITE") ||
		    kit_expect_u64(dk_load_u64(k.b, offs[i]), vals[i],
				   "the value ATOMIC_WRITE stored"))
			return -1;
		if (i == 0 && dk_move_if_dte(k.b))
			return -1;
	}
	/* Nothing else changed: the 16 bytes stored, zeros around them. */
	if (dk_check_zero(k.b, 0, offs[0], "before the first word") ||
	    dk_check_zero(k.b, offs[0] + 8, offs[1] - offs[0] - 8,
			  "between the words") ||
	    dk_check_zero(k.b, offs[1] + 8, k.b->len - offs[1] - 8,
			  "after the second word"))
		return -1;

	/* An MR on the same buffer without REMOTE_WRITE refuses it. */
	ro_iova = xfer_dmabuf_iova(0);
	if (dk_new_mr(k.b, 0, 4096, ro_iova,
		      IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ, &ro) ||
	    kit_new_pair(IBV_QPT_RC, KIT_PAIR_ATOMIC_WRITE, &e))
		return -1;
	st = kit_atomic_write(e, ro->rkey, ro_iova + 64, vals[0]);
	kit_note("ATOMIC_WRITE into an MR without REMOTE_WRITE -> %s",
		 kit_wc_name(st));
	if (kit_expect_wc(st, IBV_WC_REM_ACCESS_ERR,
			  "ATOMIC_WRITE into an MR without REMOTE_WRITE"))
		return -1;
	return kit_expect_u64(dk_load_u64(k.b, 64), 0,
			      "the word the refused ATOMIC_WRITE aimed at");
}

static const struct kit_case tests[] = {
#define FOR_SOURCES(name, fn)						\
	{ name "-dte", fn, XFER_SRC_DTE },				\
	{ name "-dte-iomem", fn, XFER_SRC_DTE_IOMEM },			\
	{ name "-udmabuf", fn, XFER_SRC_UDMABUF },			\
	{ name "-heap", fn, XFER_SRC_HEAP }
	FOR_SOURCES("uc-write", case_uc_write),
	FOR_SOURCES("uc-send", case_uc_send),
	FOR_SOURCES("ud-send", case_ud),
	FOR_SOURCES("srq-recv", case_srq),
	FOR_SOURCES("rc-send", case_rc_send),
	{ "mw1-host", case_mw1, -1 },
	{ "mw2-host", case_mw2, -1 },
	{ "mw1-host-beyond-window", case_mw_beyond, IBV_MW_TYPE_1 },
	{ "mw2-host-beyond-window", case_mw_beyond, IBV_MW_TYPE_2 },
	FOR_SOURCES("mw1-refused", case_mw1),
	FOR_SOURCES("mw2-refused", case_mw2),
	FOR_SOURCES("atomic-write", case_atomic_write),
#undef FOR_SOURCES
};

int main(int argc, char **argv)
{
	kit_release_hook = dk_release;
	return kit_main("dmabuf_ops", argc, argv, tests, ARRAY_SIZE(tests));
}
