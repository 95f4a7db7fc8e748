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
 * refusal is the dma-buf MR's. They also hold rxe to the window's own
 * range, which may be less than its MR's: an RDMA WRITE across the
 * window's start or end, or a READ across its end, fails with a remote
 * access error and moves no byte, for type 1, type 2 and zero-based
 * type 2 windows.
 *
 * usage: dmabuf_ops [-d DEV] [-x GID_INDEX] [-l] [CASE...]
 *
 * Prints one line per case, "PASS name", "FAIL name: reason" or
 * "SKIP name: reason" (a source that is absent is skipped, not failed),
 * plus "# ..." lines with what was observed, and exits 1 if any case
 * failed, 2 on bad usage (an unknown case name included).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (kit_write_imm(k.p, (uintptr_t)kit_host.addr, kit_host.mr->lkey,
			  k.b->iova + MSG_OFF, k.mr->rkey, MSG_LEN, 1))
		return fail("UC RDMA WRITE into the dma-buf");
	if (dk_check_cpu(k.b, (char *)k.b->addr + MSG_OFF, 1, MSG_LEN,
			 "UC RDMA WRITE into the dma-buf") ||
	    check_around(k.b, MSG_OFF, MSG_LEN, "UC RDMA WRITE into the dma-buf"))
		return -1;

	dk_fill(k.b, MSG_OFF, 2, MSG_LEN);
	if (dk_move_if_dte(k.b))
		return -1;
	memset(kit_host.addr, 0, MSG_LEN);
	if (kit_write_imm(k.p, k.b->iova + MSG_OFF, k.mr->lkey,
			  (uintptr_t)kit_host.addr, kit_host.mr->rkey, MSG_LEN,
			  2))
		return fail("UC RDMA WRITE from the dma-buf");
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
	    kit_wait_recv(k.p, 3, MSG_LEN, &wc, "receive into the dma-buf") ||
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
	    kit_wait_recv(k.p, 4, MSG_LEN, &wc, "receive from the dma-buf"))
		return -1;
	return kit_check_pattern(host, 4, MSG_LEN, "SEND from the dma-buf");
}

static int case_uc_send(int src)
{
	return send_both_ways(src, IBV_QPT_UC);
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
		if (kit_expect_wc(kit_ud_send(k.p, (uintptr_t)host,
					      kit_host.mr->lkey, len),
				  IBV_WC_SUCCESS, what) ||
		    kit_wait_recv(k.p, i, slot_len, &wc, what) ||
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
		    kit_expect_wc(kit_ud_send(k.p, k.b->iova + off,
					      k.mr->lkey, len),
				  IBV_WC_SUCCESS, what) ||
		    kit_wait_recv(k.p, 100 + i, slot_len, &wc, what) ||
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
		    kit_wait_recv(k.p, i, SRQ_MSG, &wc, what))
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
/* An access across an edge of the window: half inside, half outside. */
#define EDGE_LEN	16

/*
 * Bind @mw over [@addr, @addr + WIN_LEN) of @mr for remote READ and
 * WRITE, plus @access (IBV_ACCESS_ZERO_BASED), posted on the responder,
 * qp[1]: a type 2 window serves only the QP that bound it, and remote
 * accesses arrive there. *@rkey is the window's rkey afterwards. Returns
 * the completion status.
 */
static int bind_mw(struct kit_pair *p, struct ibv_mw *mw, struct ibv_mr *mr,
		   uint64_t addr, unsigned int access, uint32_t *rkey)
{
	struct ibv_mw_bind_info info = {
		.mr = mr,
		.addr = addr,
		.length = WIN_LEN,
		.mw_access_flags = IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_REMOTE_WRITE | access,
	};
	struct ibv_mw_bind bind = {
		.wr_id = kit_next_wr_id(),
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
		return kit_verbs_failed("ibv_bind_mw", err);
	*rkey = mw->rkey;
	return kit_wait_wc(p->cq[1], bind.wr_id, &wc, KIT_WC_TIMEOUT_MS);
}

/* What a case does through a window on host memory. */
enum mw_use {
	MW_USE_ALL,		/* RDMA WRITE, then READ, all of it */
	MW_WRITE_PAST_END,	/* RDMA WRITE across its end */
	MW_WRITE_BEFORE,	/* RDMA WRITE across its start */
	MW_READ_PAST_END,	/* RDMA READ across its end */
};

/*
 * RDMA WRITE and READ of the whole window at @win, its first byte as
 * the requester names it; the bytes around it stay zero.
 */
static int use_all(struct kit_pair *p, const struct xfer_buf *b,
		   uint64_t win, uint32_t rkey)
{
	char *host = kit_host.addr;
	char *cpu = (char *)b->addr + WIN_OFF;
	int st;

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
	return check_around(b, WIN_OFF, WIN_LEN, "around the window");
}

/*
 * @op of EDGE_LEN bytes at @raddr, across an edge of the window but
 * inside its MR: rxe must check the window's own range, not just the
 * MR's, so a remote access error, and nothing moves either way: the MR's
 * buffer stays all zero, the requester's bytes keep their 0xee. Every
 * way it went wrong is reported.
 */
static int expect_refused(struct kit_pair *p, const struct xfer_buf *b,
			  enum ibv_wr_opcode op, uint64_t raddr,
			  uint32_t rkey, const char *what)
{
	const unsigned char *host = kit_host.addr;
	size_t i;
	int st, rc;

	memset(kit_host.addr, 0xee, EDGE_LEN);
	st = kit_rdma(p, op, (uintptr_t)host, kit_host.mr->lkey, raddr, rkey,
		      EDGE_LEN, KIT_WC_TIMEOUT_MS);
	kit_note("%s (%d bytes at 0x%" PRIx64 ") -> %s", what, EDGE_LEN, raddr,
		 kit_wc_name(st));
	rc = kit_expect_wc(st, IBV_WC_REM_ACCESS_ERR, what);
	if (dk_check_zero(b, 0, b->len, what))
		rc = -1;
	for (i = 0; i < EDGE_LEN && host[i] == 0xee; i++)
		;
	if (i < EDGE_LEN)
		rc = fail("%s: byte %zu of the requester's buffer is 0x%02x, want 0xee",
			  what, i, host[i]);
	return rc;
}

/* @use through the window at @win (0 for a zero-based one). */
static int use_window(struct kit_pair *p, const struct xfer_buf *b,
		      uint64_t win, uint32_t rkey, enum mw_use use)
{
	const uint64_t end = win + WIN_LEN - EDGE_LEN / 2;
	const uint64_t start = win - EDGE_LEN / 2;

	switch (use) {
	case MW_USE_ALL:
		return use_all(p, b, win, rkey);
	case MW_WRITE_PAST_END:
		return expect_refused(p, b, IBV_WR_RDMA_WRITE, end, rkey,
				      "RDMA WRITE across the window's end");
	case MW_WRITE_BEFORE:
		return expect_refused(p, b, IBV_WR_RDMA_WRITE, start, rkey,
				      "RDMA WRITE across the window's start");
	case MW_READ_PAST_END:
		return expect_refused(p, b, IBV_WR_RDMA_READ, end, rkey,
				      "RDMA READ across the window's end");
	}
	return fail("no such use of a window: %d", use);
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
 * A window of @type on host memory, zero based (type 2 only: C10-75
 * forbids it for type 1) or not, over [WIN_OFF, WIN_OFF + WIN_LEN) of
 * its MR: the bind works and the window gives exactly its range. The
 * refused accesses each end the QP, so a case makes one.
 */
static int mw_host(enum ibv_mw_type type, bool zero_based, enum mw_use use)
{
	struct kit_pair *p;
	struct xfer_buf b;
	struct ibv_mr *mr;
	struct ibv_mw *mw;
	uint32_t rkey;
	int st;

	if (host_buf(&b, &mr) || kit_new_pair(IBV_QPT_RC, 0, &p) ||
	    kit_new_mw(type, &mw))
		return -1;
	st = bind_mw(p, mw, mr, b.iova + WIN_OFF,
		     zero_based ? IBV_ACCESS_ZERO_BASED : 0, &rkey);
	kit_note("type %d %swindow bound to a host MR -> %s", type,
		 zero_based ? "zero-based " : "", kit_wc_name(st));
	if (kit_expect_wc(st, IBV_WC_SUCCESS, "binding the window"))
		return -1;
	return use_window(p, &b, zero_based ? 0 : b.iova + WIN_OFF, rkey, use);
}

static int case_mw1_host(int use)
{
	return mw_host(IBV_MW_TYPE_1, false, use);
}

static int case_mw2_host(int use)
{
	return mw_host(IBV_MW_TYPE_2, false, use);
}

static int case_mw2_zero_based_host(int use)
{
	return mw_host(IBV_MW_TYPE_2, true, use);
}

/*
 * A window of @type on a buffer of source @src: the registration with
 * MW_BIND is refused, the bind to the MR without it fails, and the
 * window's rkey reaches nothing.
 */
static int mw_refused(enum ibv_mw_type type, int src)
{
	struct ibv_mr *mr, *bad;
	struct kit_pair *p, *e;
	struct xfer_buf *b;
	struct ibv_mw *mw;
	uint32_t rkey;
	int st, rc;

	rc = dk_new_buf(src, MW_LEN, &b);
	if (rc)
		return rc;
	errno = 0;
	bad = ibv_reg_dmabuf_mr(kit_dev.pd, 0, MW_LEN, b->iova, b->fd,
				KIT_ACC_RW | IBV_ACCESS_MW_BIND);
	kit_note("ibv_reg_dmabuf_mr(access MW_BIND) on %s -> %s",
		 src_name(src), bad ? "registered" : kit_errname(errno));
	if (bad) {
		kit_track_mr(bad);
		return fail("a dma-buf MR with MW_BIND registered; the uverbs core refused it so far: bind to it");
	}
	if (errno != EINVAL)
		return fail("ibv_reg_dmabuf_mr(MW_BIND): %s, want EINVAL",
			    kit_errname(errno));
	if (dk_new_mr(b, 0, MW_LEN, b->iova, KIT_ACC_RW, &mr) ||
	    kit_new_pair(IBV_QPT_RC, 0, &p) ||
	    kit_new_pair(IBV_QPT_RC, 0, &e) || kit_new_mw(type, &mw))
		return -1;
	st = bind_mw(p, mw, mr, b->iova + WIN_OFF, 0, &rkey);
	kit_note("type %d window bound to a %s MR -> %s", type, src_name(src),
		 kit_wc_name(st));
	if (kit_expect_wc(st, IBV_WC_MW_BIND_ERR,
			  "binding a window to a dma-buf MR without MW_BIND"))
		return -1;
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
	if (kit_expect_wc(st, IBV_WC_REM_ACCESS_ERR,
			  "RDMA WRITE through the unbound window"))
		return -1;
	return dk_check_zero(b, 0, b->len, "after the refused accesses");
}

static int case_mw1_refused(int src)
{
	return mw_refused(IBV_MW_TYPE_1, src);
}

static int case_mw2_refused(int src)
{
	return mw_refused(IBV_MW_TYPE_2, src);
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
#define MW_USES(name, fn)						\
	{ name, fn, MW_USE_ALL },					\
	{ name "-beyond-window", fn, MW_WRITE_PAST_END },		\
	{ name "-before-window", fn, MW_WRITE_BEFORE },			\
	{ name "-read-beyond-window", fn, MW_READ_PAST_END }
	MW_USES("mw1-host", case_mw1_host),
	MW_USES("mw2-host", case_mw2_host),
	MW_USES("mw2-host-zero-based", case_mw2_zero_based_host),
	FOR_SOURCES("mw1-refused", case_mw1_refused),
	FOR_SOURCES("mw2-refused", case_mw2_refused),
	FOR_SOURCES("atomic-write", case_atomic_write),
#undef MW_USES
#undef FOR_SOURCES
};

int main(int argc, char **argv)
{
	kit_release_hook = dk_release;
	return kit_main("dmabuf_ops", argc, argv, tests, ARRAY_SIZE(tests));
}
