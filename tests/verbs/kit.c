/*
 * kit - the case runner and loopback QP pairs of the case-by-case verbs
 * tests; see kit.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rdma/ib_user_verbs.h>

#include "kit.h"

#define QP_DEPTH	16

struct xfer_dev kit_dev;
struct xfer_buf kit_host;
char kit_why[1024];
void (*kit_release_hook)(void);

/* What the kit set up for the running case. */
static struct {
	struct kit_pair pair[6];
	int npairs;
	struct ibv_mr *mr[16];
	int nmrs;
	struct ibv_mw *mw[4];
	int nmws;
} cx;

static uint64_t next_wr_id = KIT_SEND_WR_ID_BASE;

void kit_why_add(const char *fmt, ...)
{
	size_t n = strlen(kit_why);
	va_list ap;

	if (n && n + 2 < sizeof(kit_why)) {
		memcpy(kit_why + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(kit_why + n, sizeof(kit_why) - n, fmt, ap);
	va_end(ap);
}

const char *kit_errname(int err)
{
	/* One message may name several: a few buffers, used in turn. */
	static char bufs[4][24];
	static unsigned int next;
	const char *name = err ? strerrorname_np(err) : "success";
	char *buf;

	if (name)
		return name;
	buf = bufs[next++ % ARRAY_SIZE(bufs)];
	snprintf(buf, sizeof(bufs[0]), "errno %d", err);
	return buf;
}

const char *kit_wc_name(int status)
{
	switch (status) {
	case KIT_WC_TIMEOUT:
		return "no completion in time";
	case KIT_WC_STRAY:
		return "a completion of another work request";
	case KIT_WC_VERBS_ERR:
		return "posting or polling failed";
	}
	return ibv_wc_status_str((enum ibv_wc_status)status);
}

void kit_note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int kit_expect_wc(int got, enum ibv_wc_status want, const char *what)
{
	if (got == (int)want)
		return 0;
	return fail("%s: %s (status %d), want %s", what, kit_wc_name(got), got,
		    ibv_wc_status_str(want));
}

int kit_expect_u64(uint64_t got, uint64_t want, const char *what)
{
	if (got == want)
		return 0;
	return fail("%s is 0x%" PRIx64 ", want 0x%" PRIx64, what, got, want);
}

int kit_check_pattern(const void *p, uint64_t msg, size_t len,
		      const char *what)
{
	size_t bad = xfer_pattern_diff(p, msg, len);

	if (bad != len)
		return fail("%s: byte %zu of %zu differs from the pattern",
			    what, bad, len);
	return 0;
}

/* ------------------------------------------------------------------ */
/* QP pairs                                                            */

static int qp_init(struct ibv_qp *qp, enum ibv_qp_type type)
{
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = XFER_PORT_NUM,
	};
	int mask = IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT;

	if (type == IBV_QPT_UD) {
		attr.qkey = KIT_QKEY;
		mask |= IBV_QP_QKEY;
	} else {
		attr.qp_access_flags = IBV_ACCESS_LOCAL_WRITE |
				       IBV_ACCESS_REMOTE_WRITE;
		if (type == IBV_QPT_RC)
			attr.qp_access_flags |= IBV_ACCESS_REMOTE_READ |
						IBV_ACCESS_REMOTE_ATOMIC;
		mask |= IBV_QP_ACCESS_FLAGS;
	}
	return ibv_modify_qp(qp, &attr, mask);
}

/* RTR towards @dest, then RTS; RoCE needs a GRH, hence is_global. */
static int qp_connect(struct ibv_qp *qp, enum ibv_qp_type type,
		      uint32_t dest, uint32_t psn, int flags)
{
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = IBV_MTU_1024,
		.dest_qp_num = dest,
		.rq_psn = psn,
		.max_dest_rd_atomic = 4,
		.min_rnr_timer = 12,
		.ah_attr = {
			.is_global = 1,
			.port_num = XFER_PORT_NUM,
			.grh = {
				.dgid = kit_dev.gid,
				.sgid_index = (uint8_t)kit_dev.gid_index,
				.hop_limit = 64,
			},
		},
	};
	int mask = IBV_QP_STATE;
	int err;

	if (kit_dev.port_attr.active_mtu < attr.path_mtu)
		attr.path_mtu = kit_dev.port_attr.active_mtu;
	if (type != IBV_QPT_UD)
		mask |= IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			IBV_QP_RQ_PSN;
	if (type == IBV_QPT_RC)
		mask |= IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER;
	err = ibv_modify_qp(qp, &attr, mask);
	if (err)
		return err;

	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_RTS;
	attr.sq_psn = psn;
	mask = IBV_QP_STATE | IBV_QP_SQ_PSN;
	if (type == IBV_QPT_RC) {
		attr.timeout = flags & KIT_PAIR_LONG_ACK ? 21 : 14;
		attr.retry_cnt = 7;
		attr.rnr_retry = 7;	/* flow control, not failure */
		attr.max_rd_atomic = 4;
		mask |= IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			IBV_QP_MAX_QP_RD_ATOMIC;
	}
	return ibv_modify_qp(qp, &attr, mask);
}

static int create_qp(struct kit_pair *p, int i, int flags)
{
	struct ibv_qp_init_attr_ex init = {
		.qp_type = p->type,
		.send_cq = p->cq[i],
		.recv_cq = p->cq[i],
		.srq = i == 1 ? p->srq : NULL,
		.cap = {
			.max_send_wr = QP_DEPTH,
			.max_recv_wr = QP_DEPTH,
			.max_send_sge = 2,
			.max_recv_sge = 2,
		},
		.comp_mask = IBV_QP_INIT_ATTR_PD,
		.pd = kit_dev.pd,
	};
	bool ex = i == 0 && (flags & KIT_PAIR_ATOMIC_WRITE);

	if (ex) {
		init.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
		init.send_ops_flags = IBV_QP_EX_WITH_ATOMIC_WRITE |
				      IBV_QP_EX_WITH_RDMA_WRITE;
	}
	p->qp[i] = ibv_create_qp_ex(kit_dev.ctx, &init);
	if (!p->qp[i])
		return errno ? errno : EIO;
	if (ex) {
		p->qpx = ibv_qp_to_qp_ex(p->qp[0]);
		if (!p->qpx)
			return EOPNOTSUPP;
	}
	return 0;
}

static void destroy_pair(struct kit_pair *p)
{
	int err = 0;

	/* QPs first: a QP still holds its CQs, SRQ and last MRs. */
	for (int i = 0; i < 2 && !err; i++)
		if (p->qp[i])
			err = ibv_destroy_qp(p->qp[i]);
	if (err)
		xfer_die_err("ibv_destroy_qp", err);
	if (p->ah)
		err = ibv_destroy_ah(p->ah);
	if (err)
		xfer_die_err("ibv_destroy_ah", err);
	if (p->srq)
		err = ibv_destroy_srq(p->srq);
	if (err)
		xfer_die_err("ibv_destroy_srq", err);
	for (int i = 0; i < 2 && !err; i++)
		if (p->cq[i])
			err = ibv_destroy_cq(p->cq[i]);
	if (err)
		xfer_die_err("ibv_destroy_cq", err);
	memset(p, 0, sizeof(*p));
}

int kit_new_pair(enum ibv_qp_type type, int flags, struct kit_pair **out)
{
	struct kit_pair *p = &cx.pair[cx.npairs];
	struct ibv_srq_init_attr srq = {
		.attr = { .max_wr = QP_DEPTH, .max_sge = 1 },
	};
	struct ibv_ah_attr ah = {
		.is_global = 1,
		.port_num = XFER_PORT_NUM,
		.grh = {
			.dgid = kit_dev.gid,
			.sgid_index = (uint8_t)kit_dev.gid_index,
			.hop_limit = 64,
		},
	};
	uint32_t psn = (uint32_t)lrand48() & 0xffffff;
	int err;

	if (cx.npairs == (int)ARRAY_SIZE(cx.pair))
		xfer_die("a case wants more than %zu QP pairs",
			 ARRAY_SIZE(cx.pair));
	cx.npairs++;
	p->type = type;
	for (int i = 0; i < 2; i++) {
		p->cq[i] = ibv_create_cq(kit_dev.ctx, 2 * QP_DEPTH, NULL, NULL,
					 0);
		if (!p->cq[i])
			return fail("ibv_create_cq: %s", strerror(errno));
	}
	if (flags & KIT_PAIR_SRQ) {
		p->srq = ibv_create_srq(kit_dev.pd, &srq);
		if (!p->srq)
			return fail("ibv_create_srq: %s", strerror(errno));
	}
	for (int i = 0; i < 2; i++) {
		err = create_qp(p, i, flags);
		if (err && i == 0 && (flags & KIT_PAIR_ATOMIC_WRITE))
			return skip("cannot create a QP with IBV_QP_EX_WITH_ATOMIC_WRITE: %s",
				    strerror(err));
		if (err)
			return fail("ibv_create_qp_ex: %s", strerror(err));
		err = qp_init(p->qp[i], type);
		if (err)
			return fail("ibv_modify_qp(INIT): %s", strerror(err));
	}
	for (int i = 0; i < 2; i++) {
		err = qp_connect(p->qp[i], type, p->qp[!i]->qp_num, psn, flags);
		if (err)
			return fail("ibv_modify_qp(RTR/RTS): %s", strerror(err));
	}
	if (type == IBV_QPT_UD) {
		p->ah = ibv_create_ah(kit_dev.pd, &ah);
		if (!p->ah)
			return fail("ibv_create_ah: %s", strerror(errno));
	}
	*out = p;
	return 0;
}

int kit_track_mr(struct ibv_mr *mr)
{
	if (cx.nmrs == (int)ARRAY_SIZE(cx.mr))
		xfer_die("a case wants more than %zu MRs", ARRAY_SIZE(cx.mr));
	cx.mr[cx.nmrs++] = mr;
	return 0;
}

int kit_new_mw(enum ibv_mw_type type, struct ibv_mw **mw)
{
	if (cx.nmws == (int)ARRAY_SIZE(cx.mw))
		xfer_die("a case wants more than %zu windows",
			 ARRAY_SIZE(cx.mw));
	*mw = ibv_alloc_mw(kit_dev.pd, type);
	if (!*mw)
		return fail("ibv_alloc_mw(type %d): %s", type,
			    strerror(errno));
	cx.mw[cx.nmws++] = *mw;
	return 0;
}

void kit_dereg(struct ibv_mr *mr)
{
	int err;

	for (int i = 0; i < cx.nmrs; i++)
		if (cx.mr[i] == mr)
			cx.mr[i] = NULL;
	err = ibv_dereg_mr(mr);
	if (err)
		xfer_die_err("ibv_dereg_mr", err);
}

/*
 * Windows first, before the QPs and MRs they may be bound to; then QPs:
 * a QP left in error may still hold its last MR.
 */
static void release_all(void)
{
	int err;

	for (int i = cx.nmws - 1; i >= 0; i--) {
		err = ibv_dealloc_mw(cx.mw[i]);
		if (err)
			xfer_die_err("ibv_dealloc_mw", err);
	}
	for (int i = cx.npairs - 1; i >= 0; i--)
		destroy_pair(&cx.pair[i]);
	for (int i = cx.nmrs - 1; i >= 0; i--)
		if (cx.mr[i])
			kit_dereg(cx.mr[i]);
	memset(&cx, 0, sizeof(cx));
	if (kit_release_hook)
		kit_release_hook();
}

/* ------------------------------------------------------------------ */
/* Work requests                                                       */

uint64_t kit_next_wr_id(void)
{
	return next_wr_id++;
}

int kit_verbs_failed(const char *call, int err)
{
	kit_why_add("%s: %s (%s)", call, kit_errname(err), strerror(err));
	return KIT_WC_VERBS_ERR;
}

int kit_wait_wc(struct ibv_cq *cq, uint64_t wr_id, struct ibv_wc *wc,
		int ms)
{
	double end = xfer_now() + ms / 1e3;
	struct ibv_wc got;
	int n, strays = 0;

	for (;;) {
		n = ibv_poll_cq(cq, 1, &got);
		if (n < 0) {
			/* No errno: the provider's own negative value. */
			kit_why_add("ibv_poll_cq returned %d", n);
			return KIT_WC_VERBS_ERR;
		}
		if (n && got.wr_id == wr_id) {
			*wc = got;
			return strays ? KIT_WC_STRAY : (int)got.status;
		}
		if (n) {
			/* Drain up to ours: the next wait finds its own. */
			if (!strays++)
				kit_why_add("waiting for wr_id %#" PRIx64 ", a completion of wr_id %#" PRIx64 " came (%s, opcode %d)",
					    wr_id, (uint64_t)got.wr_id,
					    ibv_wc_status_str(got.status),
					    got.opcode);
			continue;
		}
		if (xfer_now() > end)
			break;
		usleep(100);
	}
	if (!strays)
		return KIT_WC_TIMEOUT;
	kit_why_add("%d stray completions, and none of wr_id %#" PRIx64 " in %d ms",
		    strays, wr_id, ms);
	return KIT_WC_STRAY;
}

int kit_wait_recv(struct kit_pair *p, uint64_t wr_id, size_t len,
		  struct ibv_wc *wc, const char *what)
{
	if (kit_expect_wc(kit_wait_wc(p->cq[1], wr_id, wc, KIT_WC_TIMEOUT_MS),
			  IBV_WC_SUCCESS, what))
		return -1;
	if (wc->byte_len != len)
		return fail("%s: %u bytes received, want %zu", what,
			    wc->byte_len, len);
	return 0;
}

int kit_post_wait_on(struct kit_pair *p, int side, struct ibv_send_wr *wr,
		     int ms)
{
	struct ibv_send_wr *bad;
	struct ibv_wc wc;
	int err;

	wr->wr_id = kit_next_wr_id();
	wr->send_flags |= IBV_SEND_SIGNALED;
	err = ibv_post_send(p->qp[side], wr, &bad);
	if (err)
		return kit_verbs_failed("ibv_post_send", err);
	return kit_wait_wc(p->cq[side], wr->wr_id, &wc, ms);
}

int kit_post_wait(struct kit_pair *p, struct ibv_send_wr *wr, int ms)
{
	return kit_post_wait_on(p, 0, wr, ms);
}

/* Post @wr on qp[0] with one SGE of @len bytes at @laddr/@lkey. */
static int post_sge(struct kit_pair *p, struct ibv_send_wr *wr,
		    uint64_t laddr, uint32_t lkey, size_t len, int ms)
{
	struct ibv_sge sge = {
		.addr = laddr,
		.length = (uint32_t)len,
		.lkey = lkey,
	};

	wr->sg_list = &sge;
	wr->num_sge = 1;
	return kit_post_wait(p, wr, ms);
}

int kit_rdma(struct kit_pair *p, enum ibv_wr_opcode op, uint64_t laddr,
	     uint32_t lkey, uint64_t raddr, uint32_t rkey, size_t len, int ms)
{
	struct ibv_send_wr wr = {
		.opcode = op,
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	};

	return post_sge(p, &wr, laddr, lkey, len, ms);
}

int kit_ud_send(struct kit_pair *p, uint64_t laddr, uint32_t lkey,
		size_t len)
{
	struct ibv_send_wr wr = {
		.opcode = IBV_WR_SEND,
		.wr.ud = {
			.ah = p->ah,
			.remote_qpn = p->qp[1]->qp_num,
			.remote_qkey = KIT_QKEY,
		},
	};

	return post_sge(p, &wr, laddr, lkey, len, KIT_WC_TIMEOUT_MS);
}

int kit_write_imm(struct kit_pair *p, uint64_t laddr, uint32_t lkey,
		  uint64_t raddr, uint32_t rkey, size_t len, uint32_t imm)
{
	struct ibv_send_wr wr = {
		.opcode = IBV_WR_RDMA_WRITE_WITH_IMM,
		.imm_data = htonl(imm),
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	};
	struct ibv_wc wc;

	if (kit_post_recv(p, imm, 0, 0, 0) ||
	    kit_expect_wc(post_sge(p, &wr, laddr, lkey, len,
				   KIT_WC_TIMEOUT_MS),
			  IBV_WC_SUCCESS, "RDMA WRITE with immediate") ||
	    kit_wait_recv(p, imm, len, &wc, "receive of the immediate"))
		return -1;
	if (wc.opcode != IBV_WC_RECV_RDMA_WITH_IMM ||
	    !(wc.wc_flags & IBV_WC_WITH_IMM) || ntohl(wc.imm_data) != imm)
		return fail("receive of the immediate: opcode %d, flags %#x, immediate %u; want %d, IBV_WC_WITH_IMM, %u",
			    wc.opcode, wc.wc_flags, ntohl(wc.imm_data),
			    IBV_WC_RECV_RDMA_WITH_IMM, imm);
	return 0;
}

int kit_post_recv(struct kit_pair *p, uint64_t wr_id, uint64_t addr,
		  size_t len, uint32_t lkey)
{
	struct ibv_sge sge = {
		.addr = addr,
		.length = (uint32_t)len,
		.lkey = lkey,
	};
	struct ibv_recv_wr wr = {
		.wr_id = wr_id,
		.sg_list = &sge,
		.num_sge = len ? 1 : 0,
	}, *bad;
	int err;

	if (p->srq)
		err = ibv_post_srq_recv(p->srq, &wr, &bad);
	else
		err = ibv_post_recv(p->qp[1], &wr, &bad);
	return err ? fail("posting a receive: %s", strerror(err)) : 0;
}

int kit_send_into_unreachable(struct kit_pair *p, uint64_t addr,
			      uint32_t lkey, const char *what)
{
	uint64_t recv_id = kit_next_wr_id();
	struct ibv_wc wc;
	int st, rst;

	if (kit_post_recv(p, recv_id, addr, 4096, lkey))
		return -1;
	st = kit_rdma(p, IBV_WR_SEND, (uintptr_t)kit_host.addr,
		      kit_host.mr->lkey, 0, 0, 4096, KIT_WC_TIMEOUT_MS);
	rst = kit_wait_wc(p->cq[1], recv_id, &wc, KIT_WC_TIMEOUT_MS);
	kit_note("SEND into a receive on %s -> receive %s, send %s", what,
		 kit_wc_name(rst), kit_wc_name(st));
	if (kit_expect_wc(rst, IBV_WC_LOC_PROT_ERR, "the receive"))
		return -1;
	return kit_expect_wc(st, IBV_WC_REM_OP_ERR, "the SEND");
}

int kit_atomic(struct kit_pair *p, enum ibv_wr_opcode op, uint32_t rkey,
	       uint64_t raddr, uint64_t compare_add, uint64_t swap,
	       uint64_t *orig)
{
	struct ibv_send_wr wr = {
		.opcode = op,
		.wr.atomic = {
			.remote_addr = raddr,
			.compare_add = compare_add,
			.swap = swap,
			.rkey = rkey,
		},
	};
	int st;

	memset(kit_host.addr, 0xa5, sizeof(*orig));
	st = post_sge(p, &wr, (uintptr_t)kit_host.addr, kit_host.mr->lkey,
		      sizeof(*orig), KIT_WC_TIMEOUT_MS);
	memcpy(orig, kit_host.addr, sizeof(*orig));
	return st;
}

int kit_atomic_write(struct kit_pair *p, uint32_t rkey, uint64_t raddr,
		     uint64_t value)
{
	uint64_t wr_id = kit_next_wr_id();
	struct ibv_wc wc;
	int err;

	ibv_wr_start(p->qpx);
	p->qpx->wr_id = wr_id;
	p->qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_atomic_write(p->qpx, rkey, raddr, &value);
	err = ibv_wr_complete(p->qpx);
	if (err)
		return kit_verbs_failed("ibv_wr_complete(ATOMIC_WRITE)", err);
	return kit_wait_wc(p->cq[0], wr_id, &wc, KIT_WC_TIMEOUT_MS);
}

int kit_need_atomic_write(void)
{
	struct ibv_device_attr_ex attr;
	int err;

	memset(&attr, 0, sizeof(attr));
	err = ibv_query_device_ex(kit_dev.ctx, NULL, &attr);
	if (err)
		return fail("ibv_query_device_ex: %s", strerror(err));
	if (!(attr.device_cap_flags_ex & IB_UVERBS_DEVICE_ATOMIC_WRITE))
		return skip("%s does not report IB_UVERBS_DEVICE_ATOMIC_WRITE",
			    kit_dev.name);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The runner                                                          */

static const struct kit_case *find_case(const char *name,
					const struct kit_case *cases,
					size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(cases[i].name, name))
			return &cases[i];
	return NULL;
}

static bool wanted(const char *name, char **names, int n)
{
	if (!n)
		return true;
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

static int run_case(const struct kit_case *t)
{
	int rc;

	kit_why[0] = 0;
	rc = t->fn(t->arg);
	release_all();
	if (!rc)
		printf("PASS %s\n", t->name);
	else if (rc == KIT_SKIPPED)
		printf("SKIP %s: %s\n", t->name, kit_why);
	else
		printf("FAIL %s: %s\n", t->name, kit_why);
	fflush(stdout);
	return rc;
}

static int parse_gid_index(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 255)
		xfer_die_usage("bad --gid-index '%s' (want 0-255)", s);
	return (int)v;
}

int kit_main(const char *prog, int argc, char **argv,
	     const struct kit_case *cases, size_t ncases)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "gid-index", required_argument, NULL, 'x' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *devname = NULL;
	int gid_index = 1, failed = 0, c;
	size_t page;

	xfer_prog = prog;
	while ((c = getopt_long(argc, argv, "d:x:lh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			devname = optarg;
			break;
		case 'x':
			gid_index = parse_gid_index(optarg);
			break;
		case 'l':
			for (size_t i = 0; i < ncases; i++)
				puts(cases[i].name);
			return 0;
		case 'h':
			printf("usage: %s [-d|--dev DEV] [-x|--gid-index N] [-l|--list] [CASE...]\n"
			       "Runs the named cases, or all; prints PASS, FAIL or SKIP per case.\n",
			       prog);
			return 0;
		default:
			xfer_die_usage("bad option '%s'", argv[optind - 1]);
		}
	}
	argv += optind;
	argc -= optind;
	/* A misspelt name must not pass for a case that ran. */
	for (int i = 0; i < argc; i++)
		if (!find_case(argv[i], cases, ncases))
			xfer_die_usage("unknown case '%s' (--list names them)",
				       argv[i]);

	page = (size_t)sysconf(_SC_PAGESIZE);
	if (page != 4096)
		xfer_die("the cases assume 4 KiB pages, not %zu", page);
	srand48(getpid() ^ (long)time(NULL));
	xfer_quiet = true;
	xfer_dev_open(&kit_dev, devname, gid_index);
	kit_host.ops = &xfer_host_buf_ops;
	kit_host.ops->alloc(&kit_host, KIT_HOST_LEN);
	kit_host.ops->reg(&kit_host, kit_dev.pd, KIT_ACC_ALL);

	for (size_t i = 0; i < ncases; i++)
		if (wanted(cases[i].name, argv, argc))
			failed += run_case(&cases[i]) < 0;

	kit_host.ops->free(&kit_host);
	xfer_dev_close(&kit_dev);
	return failed ? XFER_EXIT_FAIL : 0;
}
