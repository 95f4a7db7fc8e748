/*
 * rereg_ops - the rereg matrix: what the kernel's rereg makes of an MR's
 * access, and what a peer can then do at the MR's rkey (rxe).
 *
 * libibverbs' ibv_rereg_mr() refuses dma-buf MRs, but the kernel takes
 * the raw write() command IB_USER_VERBS_CMD_REREG_MR on any MR. For each
 * kind of MR - pinned host memory, an explicit and the implicit ODP MR,
 * and a dma-buf MR of each source (udmabuf, the system heap, the test
 * exporter; an absent one is skipped) - every row below sets the MR's
 * access with IBV_REREG_MR_CHANGE_ACCESS: each access bit alone (an ODP
 * MR keeps ON_DEMAND; the ON_DEMAND row toggles it), remote write and
 * atomic with and without the LOCAL_WRITE they need, the set of
 * ibv_reg_dmabuf_mr(), the set rxe supports, and every bit. The errno
 * must be exactly:
 *
 *   EINVAL      remote write or atomic without LOCAL_WRITE (the core's
 *               ib_check_mr_access()); on a dma-buf MR any bit that
 *               ibv_reg_dmabuf_mr() itself refuses (all but LOCAL_WRITE,
 *               REMOTE_WRITE, REMOTE_READ, REMOTE_ATOMIC and
 *               RELAXED_ORDERING); ON_DEMAND added or dropped, or
 *               HUGETLB added to an ODP MR (both are how it was built)
 *   EOPNOTSUPP  ZERO_BASED, which rxe's MRs do not support, or HUGETLB on
 *               an MR that is not ODP
 *   success     anything else, with the MR's keys unchanged
 *
 * Each row starts from the full remote access (LOCAL_WRITE, REMOTE_WRITE,
 * REMOTE_READ, REMOTE_ATOMIC): a refused rereg must leave exactly that, a
 * granted one exactly the new bits. Then the peer (an RC QP pair on
 * rxe0, loopback, whose responder QP grants everything) sends at the MR's
 * rkey every opcode that names a remote address: RDMA WRITE, WRITE with
 * immediate, READ, CMP_SWP, FETCH_ADD, ATOMIC_WRITE and FLUSH, PERSISTENT
 * and GLOBAL, at RANGE and MR level. Each completes with success if the
 * MR's access has the bit it needs, else with IBV_WC_REM_ACCESS_ERR; a
 * PERSISTENT FLUSH at a dma-buf MR fails so whatever the access (rxe has
 * no pages of it to write back). What a successful op moved is checked
 * byte for byte through the CPU (an atomic's original value and the new
 * one in memory), and a refused op must have moved nothing. After a
 * failed op the pair gets new QPs. Test exporter buffers are moved after
 * each rereg, so every row runs through a refault.
 *
 * Also: FLUSH_PERSISTENT at registration of a pinned MR of ordinary
 * (not persistent) memory is refused with EINVAL.
 *
 * usage: rereg_ops [-d DEV] [-x GID_INDEX] [-l] [CASE...]
 *
 * Prints one line per case, "PASS name", "FAIL name: reason" or
 * "SKIP name: reason", plus a "# ..." line per row with the rereg's errno
 * and each opcode's outcome (ok, refused, or what came instead), and
 * exits 1 if any case failed, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_kit.h"
#include "fuzz_uverbs.h"

#define LW		IBV_ACCESS_LOCAL_WRITE
#define RW		IBV_ACCESS_REMOTE_WRITE
#define RR		IBV_ACCESS_REMOTE_READ
#define RA		IBV_ACCESS_REMOTE_ATOMIC
#define FG		IBV_ACCESS_FLUSH_GLOBAL
#define FP		IBV_ACCESS_FLUSH_PERSISTENT
#define RELAXED		IBV_ACCESS_RELAXED_ORDERING
#define ODP		IBV_ACCESS_ON_DEMAND
/* What ibv_reg_dmabuf_mr() accepts. */
#define ACC_DMABUF	(KIT_ACC_ALL | RELAXED)

#define MR_LEN		(4 * 4096)
/* WRITE, READ and the FLUSH range: from off a page across two more. */
#define DATA_OFF	100
#define DATA_LEN	(2 * 4096 + 13)
/* The atomics' word, on a page of its own. */
#define WORD_OFF	(3 * 4096 + 64)
#define V0		0x1122334455667788ULL
#define V1		0x0123456789abcdefULL
#define ADD		0x1000000010ULL

enum kind { PINNED, ODP_EXPLICIT, ODP_IMPLICIT, DMABUF };

/*
 * struct target - the MR under test
 * @b:      its memory, CPU side (host memory has fd -1: no brackets)
 * @mode:   ON_DEMAND for an ODP MR: a rereg must keep it
 * @access: what the MR has now, as far as the reregs said
 */
struct target {
	const char *name;
	struct xfer_buf *b;
	struct ibv_mr *mr;
	bool dmabuf;
	unsigned int mode;
	unsigned int access;
	struct peer_pair peer;
	int bad;		/* checks that failed */
	char first[sizeof(kit_why)];	/* the first of them */
};

static const struct row {
	const char *name;
	unsigned int access;
} rows[] = {
	{ "none", 0 },
	{ "LOCAL_WRITE", LW },
	{ "REMOTE_WRITE", LW | RW },
	{ "REMOTE_WRITE-without-LOCAL_WRITE", RW },
	{ "REMOTE_READ", RR },
	{ "REMOTE_ATOMIC", LW | RA },
	{ "REMOTE_ATOMIC-without-LOCAL_WRITE", RA },
	{ "MW_BIND", IBV_ACCESS_MW_BIND },
	{ "ZERO_BASED", IBV_ACCESS_ZERO_BASED },
	{ "ON_DEMAND-toggled", ODP },
	{ "HUGETLB", IBV_ACCESS_HUGETLB },
	{ "FLUSH_GLOBAL", FG },
	{ "FLUSH_PERSISTENT", FP },
	{ "RELAXED_ORDERING", RELAXED },
	{ "dma-buf-set", ACC_DMABUF },
	{ "rxe-set", KIT_ACC_ALL | IBV_ACCESS_MW_BIND | FG | FP | RELAXED },
	{ "all", KIT_ACC_ALL | IBV_ACCESS_MW_BIND | IBV_ACCESS_ZERO_BASED |
		 ODP | IBV_ACCESS_HUGETLB | FG | FP | RELAXED },
};

/* Host memory of the running case, unmapped after it. */
static struct xfer_buf host_mem;

static void release(void)
{
	if (host_mem.addr)
		xfer_host_buf_ops.free(&host_mem);
	memset(&host_mem, 0, sizeof(host_mem));
	dk_release();
}

/*
 * Record a failed check and go on: a matrix reports all it finds, each
 * on a "#" line, and the first in its FAIL line.
 */
__attribute__((format(printf, 2, 3)))
static void bad(struct target *t, const char *fmt, ...)
{
	char msg[sizeof(kit_why)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!t->bad++)
		snprintf(t->first, sizeof(t->first), "%s", msg);
	kit_note("%s: FAILED: %s", t->name, msg);
}

/*
 * A kit helper failed and put why into kit_why after its first @mark
 * bytes: a failed check of that, taken out of kit_why again.
 */
static void bad_why(struct target *t, size_t mark)
{
	const char *why = kit_why + mark;

	if (mark && !strncmp(why, "; ", 2))
		why += 2;
	bad(t, "%s", why);
	kit_why[mark] = 0;
}

/* ------------------------------------------------------------------ */
/* Rereg                                                               */

/* The access a row asks of @t: an ODP MR keeps ON_DEMAND unless toggled. */
static unsigned int row_access(const struct target *t, const struct row *r)
{
	return r->access == ODP ? ODP ^ t->mode : r->access | t->mode;
}

static int want_errno(const struct target *t, unsigned int access)
{
	if ((access & (RW | RA)) && !(access & LW))
		return EINVAL;
	if (t->dmabuf && (access & ~ACC_DMABUF))
		return EINVAL;
	if ((access & IBV_ACCESS_ZERO_BASED) ||
	    ((access & IBV_ACCESS_HUGETLB) && !(t->mode & ODP)))
		return EOPNOTSUPP;
	if ((access ^ t->mode) & (ODP | IBV_ACCESS_HUGETLB))
		return EINVAL;
	return 0;
}

/* The raw rereg of @t to @access: its errno, or -1 if the keys changed. */
static int rereg(struct target *t, unsigned int access)
{
	struct raw_rereg r = {
		.handle = t->mr->handle,
		.flags = IBV_REREG_MR_CHANGE_ACCESS,
		.access = access,
	};
	struct ib_uverbs_rereg_mr_resp resp;
	int err;

	err = raw_rereg_mr(kit_dev.ctx->cmd_fd, &r, &resp);
	if (err)
		return err;
	t->access = access;
	if (resp.lkey != t->mr->lkey || resp.rkey != t->mr->rkey) {
		bad(t, "rereg to access 0x%x changed the keys: lkey 0x%x rkey 0x%x, were 0x%x 0x%x",
		    access, resp.lkey, resp.rkey, t->mr->lkey, t->mr->rkey);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The peer's opcodes                                                  */

/* Whether @op at @t must succeed now. */
static bool allowed(const struct target *t, enum peer_op op)
{
	const struct peer_op_info *o = &peer_ops[op];

	if (t->dmabuf && o->flush_type == IBV_FLUSH_PERSISTENT)
		return false;
	return (t->access & o->access) == o->access;
}

/*
 * @op at @t's rkey with message number @msg; the status of its
 * completion, or a KIT_WC_* code. A WRITE with immediate that succeeds
 * must also complete its receive with the immediate and the length.
 */
static int post_op(struct target *t, enum peer_op op, uint32_t msg)
{
	const struct peer_op_info *o = &peer_ops[op];
	struct peer_wr w = {
		.op = op,
		.wr_id = kit_next_wr_id(),
		.rkey = t->mr->rkey,
		.raddr = t->b->iova + (o->word ? WORD_OFF : DATA_OFF),
		.len = o->word ? 8 : DATA_LEN,
		.laddr = (uintptr_t)kit_host.addr,
		.lkey = kit_host.mr->lkey,
		.compare_add = op == PEER_CMP_SWP ? V0 :
			       op == PEER_FETCH_ADD ? ADD : V1,
		.swap = V1,
		.imm = msg,
	};
	struct ibv_wc wc;
	int st, err;

	if (op == PEER_WRITE || op == PEER_WRITE_IMM)
		xfer_pattern_fill(kit_host.addr, msg, DATA_LEN);
	else
		memset(kit_host.addr, 0xa5, DATA_LEN);
	err = peer_post(&t->peer, &w);
	if (err)
		return kit_verbs_failed("posting", err);
	st = kit_wait_wc(t->peer.cq[0], w.wr_id, &wc, KIT_WC_TIMEOUT_MS);
	if (st != IBV_WC_SUCCESS || op != PEER_WRITE_IMM)
		return st;
	st = kit_wait_wc(t->peer.cq[1], w.wr_id, &wc, KIT_WC_TIMEOUT_MS);
	if (st != IBV_WC_SUCCESS)
		bad(t, "the receive of a WRITE with immediate: %s",
		    kit_wc_name(st));
	else if (wc.opcode != IBV_WC_RECV_RDMA_WITH_IMM ||
		 be32toh(wc.imm_data) != msg || wc.byte_len != DATA_LEN)
		bad(t, "the receive of a WRITE with immediate: opcode %d, immediate %u, %u bytes; want %d, %u, %u",
		    wc.opcode, be32toh(wc.imm_data), wc.byte_len,
		    IBV_WC_RECV_RDMA_WITH_IMM, msg, DATA_LEN);
	return st;
}

/*
 * What @op did to the MR, primed with pattern @before and V0: a WRITE
 * that @done left pattern @msg, an atomic its new value and the original
 * in kit_host, a READ brought @before; anything refused left it all.
 */
static void check_op(struct target *t, enum peer_op op, bool done,
		     uint64_t before, uint64_t msg, const char *what)
{
	uint64_t data = before, word = V0, orig;
	char *cpu = (char *)t->b->addr;
	size_t mark = strlen(kit_why);

	if (done && (op == PEER_WRITE || op == PEER_WRITE_IMM))
		data = msg;
	if (done && (op == PEER_CMP_SWP || op == PEER_ATOMIC_WRITE))
		word = V1;
	if (done && op == PEER_FETCH_ADD)
		word = V0 + ADD;
	if (dk_check_cpu(t->b, cpu + DATA_OFF, data, DATA_LEN, what))
		bad_why(t, mark);
	if (kit_expect_u64(dk_load_u64(t->b, WORD_OFF), word,
			   "the word in the MR"))
		bad_why(t, mark);
	if (done && op == PEER_READ &&
	    kit_check_pattern(kit_host.addr, before, DATA_LEN, what))
		bad_why(t, mark);
	memcpy(&orig, kit_host.addr, sizeof(orig));
	if (done && (op == PEER_CMP_SWP || op == PEER_FETCH_ADD) &&
	    orig != V0)
		bad(t, "%s returned 0x%" PRIx64 ", want 0x%" PRIx64, what,
		    orig, (uint64_t)V0);
}

/*
 * Every opcode at @t once, each judged by @t's access, into @out (one
 * "TAG:outcome" each); a failed one gets the pair new QPs. -1 if
 * it cannot have them.
 */
static int all_ops(struct target *t, const char *row, char *out,
		   size_t outlen)
{
	static uint32_t msg = 1;
	size_t n = 0;

	for (int op = 0; op < PEER_NOPS; op++) {
		const struct peer_op_info *o = &peer_ops[op];
		int want = allowed(t, op) ? IBV_WC_SUCCESS :
			   IBV_WC_REM_ACCESS_ERR;
		uint32_t before = msg++, m = msg++;
		size_t mark = strlen(kit_why);
		char what[160];
		int st, err;

		snprintf(what, sizeof(what), "%s after rereg to %s",
			 o->name, row);
		dk_fill(t->b, DATA_OFF, before, DATA_LEN);
		dk_store_u64(t->b, WORD_OFF, V0);
		st = post_op(t, op, m);
		n += (size_t)snprintf(out + n, outlen - n, " %s:%s", o->tag,
				      st == IBV_WC_SUCCESS ? "ok" :
				      st == IBV_WC_REM_ACCESS_ERR ? "refused" :
				      kit_wc_name(st));
		if (n >= outlen)
			n = outlen - 1;
		if (st != want) {
			kit_why_add("%s: %s (status %d), want %s", what,
				    kit_wc_name(st), st,
				    ibv_wc_status_str(want));
			bad_why(t, mark);
		}
		kit_why[mark] = 0;
		check_op(t, op, st == IBV_WC_SUCCESS, before, m, what);
		if (st == IBV_WC_SUCCESS)
			continue;
		err = peer_reset(&t->peer, &kit_dev);
		if (err) {
			bad(t, "new QPs after %s: %s: %s", what,
			    t->peer.why, strerror(err));
			return -1;
		}
	}
	return 0;
}

/* One row: back to the full access, the rereg, every opcode. */
static int run_row(struct target *t, const struct row *r)
{
	const unsigned int base = KIT_ACC_ALL | t->mode;
	unsigned int access = row_access(t, r);
	int want = want_errno(t, access), err;
	char ops[256] = "";

	err = rereg(t, base);
	if (err) {
		bad(t, "rereg back to access 0x%x before row %s: %s", base,
		    r->name, err < 0 ? "keys changed" : kit_errname(err));
		return -1;
	}
	err = rereg(t, access);
	if (err >= 0 && err != want)
		bad(t, "rereg to %s (access 0x%x): %s, want %s", r->name,
		    access, kit_errname(err), kit_errname(want));
	if (dk_move_if_dte(t->b))
		return -1;
	if (all_ops(t, r->name, ops, sizeof(ops)))
		return -1;
	kit_note("%s %s: rereg to 0x%x -> %s;%s", t->name, r->name, access,
		 err < 0 ? "keys changed" : kit_errname(err), ops);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */

/* The matrix on @t, whose MR has KIT_ACC_ALL | t->mode now. */
static int matrix(struct target *t)
{
	int rc = kit_need_atomic_write(), err;

	if (rc)
		return rc;
	t->access = KIT_ACC_ALL | t->mode;
	err = peer_open(&t->peer, &kit_dev);
	if (err) {
		peer_close(&t->peer);
		return fail("a QP pair for every opcode: %s", strerror(err));
	}
	for (size_t i = 0; i < ARRAY_SIZE(rows) && !rc; i++)
		rc = run_row(t, &rows[i]);
	/* Before the kit deregisters the MR the responder last used. */
	peer_close(&t->peer);
	if (t->bad)
		return fail("%d checks failed, the first: %s", t->bad,
			    t->first);
	return rc;
}

/* Pinned, explicit or implicit ODP: plain anonymous memory. */
static int case_host(int kind)
{
	static const char *const names[] = {
		[PINNED] = "pinned", [ODP_EXPLICIT] = "explicit ODP",
		[ODP_IMPLICIT] = "implicit ODP",
	};
	struct target t = {
		.name = names[kind],
		.b = &host_mem,
		.mode = kind == PINNED ? 0 : ODP,
	};
	int access = KIT_ACC_ALL | t.mode;

	host_mem.ops = &xfer_host_buf_ops;
	host_mem.ops->alloc(&host_mem, MR_LEN);
	if (kind == ODP_IMPLICIT)
		t.mr = ibv_reg_mr(kit_dev.pd, NULL, SIZE_MAX, access);
	else
		t.mr = ibv_reg_mr(kit_dev.pd, host_mem.addr, MR_LEN, access);
	if (!t.mr)
		return fail("ibv_reg_mr(%s, access 0x%x): %s", t.name, access,
			    strerror(errno));
	kit_track_mr(t.mr);
	return matrix(&t);
}

static int case_dmabuf(int src)
{
	struct target t = {
		.name = xfer_dmabuf_buf_ops[src].name,
		.dmabuf = true,
	};
	int rc = dk_new_buf(src, MR_LEN, &t.b);

	if (rc)
		return rc;
	if (dk_new_mr(t.b, 0, MR_LEN, t.b->iova, KIT_ACC_ALL, &t.mr))
		return -1;
	return matrix(&t);
}

/* FLUSH_PERSISTENT on memory that is not persistent: refused at once. */
static int case_reg_persistent(int unused)
{
	const int access = KIT_ACC_ALL | FP;
	struct ibv_mr *mr;

	(void)unused;
	host_mem.ops = &xfer_host_buf_ops;
	host_mem.ops->alloc(&host_mem, MR_LEN);
	errno = 0;
	mr = ibv_reg_mr(kit_dev.pd, host_mem.addr, MR_LEN, access);
	kit_note("ibv_reg_mr(ordinary memory, access 0x%x) -> %s", access,
		 mr ? "registered" : kit_errname(errno));
	if (mr) {
		kit_track_mr(mr);
		return fail("registered, want EINVAL");
	}
	if (errno != EINVAL)
		return fail("%s, want EINVAL", kit_errname(errno));
	return 0;
}

static const struct kit_case tests[] = {
	{ "rereg-pinned", case_host, PINNED },
	{ "rereg-odp-explicit", case_host, ODP_EXPLICIT },
	{ "rereg-odp-implicit", case_host, ODP_IMPLICIT },
	{ "rereg-udmabuf", case_dmabuf, XFER_SRC_UDMABUF },
	{ "rereg-heap", case_dmabuf, XFER_SRC_HEAP },
	{ "rereg-dte", case_dmabuf, XFER_SRC_DTE },
	{ "reg-pinned-flush-persistent", case_reg_persistent, 0 },
};

int main(int argc, char **argv)
{
	kit_release_hook = release;
	return kit_main("rereg_ops", argc, argv, tests, ARRAY_SIZE(tests));
}
