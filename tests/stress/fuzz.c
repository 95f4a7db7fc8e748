/*
 * fuzz - hostile input for the uverbs MR interfaces and the test exporter.
 *
 * A seeded random sequence of calls with invalid and extreme arguments:
 * dma-buf and host/ODP registrations, deregistration, advice, rereg (raw
 * too: the kernel's command, on every kind of MR with every access bit),
 * every test exporter ioctl with garbage, dma-buf sync and mmap, fds
 * closed (twice) under registered MRs, malformed raw uverbs commands, two
 * threads destroying one MR handle at once and an fd closed while another
 * thread registers it. Every call must succeed or return an errno, never
 * crash; where the inputs are definitely invalid the call must fail, and
 * with the errno the kernel documents (the exact errnos of
 * tests/verbs/dmabuf_reg, odp_test and rereg_ops, the exporter's uAPI
 * header) when the invalid inputs agree on one.
 *
 * A peer QP pair sends random opcodes (RDMA WRITE, WRITE with immediate,
 * READ, CMP_SWP, FETCH_ADD, ATOMIC_WRITE, FLUSH of either type at either
 * level) at the rkey of a random live MR, mostly inside it, sometimes
 * across or past its ends, and right after each successful rereg at that
 * MR, a FLUSH and an ATOMIC_WRITE among them. Each must complete with
 * success or IBV_WC_REM_ACCESS_ERR as the MR's current access, PD, kind
 * and range say (an ODP MR over memory that may not be there is not
 * judged). After the run every MR is gone, the exporter counts no
 * attachment and a fresh MR still moves verified data.
 *
 * usage: fuzz [--seed N] [--iters N] [--seconds S] [-d DEV] [-x GID_INDEX]
 *             [-v]
 *
 * Prints "fuzz: seed=N" first, so that a failure replays with --seed N;
 * "FAIL seed=N iter=I op=OP: ..." for each broken rule; a table of the
 * outcomes of every operation and a closing "fuzz: seed=..." summary.
 * Exits 0, 1 if any rule broke, 2 for bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "xfer.h"
#include "fuzz_rand.h"
#include "fuzz_uverbs.h"

#define PAGE		FUZZ_PAGE
#define NBUFS		8	/* dma-bufs the fuzzer keeps */
#define NMRS		16	/* MRs alive at once */
#define ARENA_PAGES	16	/* host memory MRs may cover */
#define MAX_FAILS	20	/* stop reporting after this many */
#define NERR		256	/* errno counters per operation */
/*
 * Resource caps, not validity limits: valid test exporter buffers up to
 * 2 MiB (a 1 GiB one per call would exhaust a 2 GiB guest), explicit ODP
 * MRs up to 4 GiB of address space (their page arrays are allocated at
 * registration) and fence delays up to 1 ms (a 60 s one stalls every
 * later move). Invalid values stay as extreme as they come.
 */
#define MAX_BUF_BYTES	(2ULL << 20)
#define MAX_ODP_LEN	(1ULL << 32)
#define MAX_DELAY_US	1000U
#define IOVA_BASE	(1ULL << 52)
/*
 * No 64-bit Linux has user addresses from here on (x86-64 with 5-level
 * paging ends a page below): an implicit ODP MR has no memory there.
 */
#define USER_VA_LIMIT	(1ULL << 56)
/* Attribute ids from here on are no REG_DMABUF_MR attribute. */
#define RAW_UNKNOWN_ATTR 32

#define LW	IBV_ACCESS_LOCAL_WRITE
#define RW	IBV_ACCESS_REMOTE_WRITE
#define RR	IBV_ACCESS_REMOTE_READ
#define RA	IBV_ACCESS_REMOTE_ATOMIC
#define ACC_RW	(LW | RW | RR)
/* What ib_check_mr_access() knows: bits 0-9 and the optional range. */
#define ACC_KNOWN	(0x3ffU | IBV_ACCESS_OPTIONAL_RANGE)
/* Flush, zero-based, hugetlb and the optional bits: the device's choice. */
#define ACC_DEVICE_CHOICE (IBV_ACCESS_ZERO_BASED | IBV_ACCESS_HUGETLB | \
			   IBV_ACCESS_FLUSH_GLOBAL | \
			   IBV_ACCESS_FLUSH_PERSISTENT | \
			   IBV_ACCESS_OPTIONAL_RANGE)
/* What the dma-buf registration method accepts. */
#define ACC_DMABUF	(LW | RW | RR | RA | IBV_ACCESS_RELAXED_ORDERING)
/* What the kernel pins pages for writing for (ib_access_writable()). */
#define ACC_WRITABLE	(LW | RW | RA | IBV_ACCESS_MW_BIND)

enum op {
	OP_REG_DMABUF, OP_REG_MR, OP_DEREG, OP_ADVISE, OP_REREG, OP_RAW_REREG,
	OP_DTE_IOCTL, OP_DMABUF_IOCTL, OP_MMAP, OP_CLOSE, OP_NEW_BUF,
	OP_RAW_REG, OP_RAW_DESTROY, OP_RACE_DEREG, OP_RACE_CLOSE_REG,
	OP_TRAFFIC, OP_COUNT
};

/* ------------------------------------------------------------------ */
/* What a call must do, and the bookkeeping of what calls did          */

enum ex_mode { EX_OK, EX_FAIL };

/*
 * struct expect - the rule a call's outcome is judged by
 * @mode:  EX_OK: must succeed; EX_FAIL: some input is definitely invalid
 * @errs:  with EX_FAIL, the errnos the invalid inputs give
 * @loose: some input's effect is not pinned down: with EX_OK any outcome
 *         passes, with EX_FAIL any errno (but not success)
 */
struct expect {
	enum ex_mode mode;
	int errs[8];
	int nerrs;
	bool loose;
	char why[256];
};

struct op_stats {
	uint64_t calls, ok, strict;
	uint64_t err[NERR];
};

static struct op_stats stats[OP_COUNT];
static const char *const op_names[OP_COUNT] = {
	[OP_REG_DMABUF] = "reg-dmabuf", [OP_REG_MR] = "reg-mr",
	[OP_DEREG] = "dereg", [OP_ADVISE] = "advise", [OP_REREG] = "rereg",
	[OP_RAW_REREG] = "raw-rereg", [OP_DTE_IOCTL] = "dte-ioctl",
	[OP_DMABUF_IOCTL] = "dmabuf-ioctl", [OP_MMAP] = "mmap",
	[OP_CLOSE] = "close", [OP_NEW_BUF] = "new-buf",
	[OP_RAW_REG] = "raw-reg", [OP_RAW_DESTROY] = "raw-destroy",
	[OP_RACE_DEREG] = "race-dereg",
	[OP_RACE_CLOSE_REG] = "race-close-reg", [OP_TRAFFIC] = "traffic",
};
/* Relative frequencies. */
static const unsigned int op_weight[OP_COUNT] = {
	[OP_REG_DMABUF] = 20, [OP_REG_MR] = 14, [OP_DEREG] = 10,
	[OP_ADVISE] = 10, [OP_REREG] = 2, [OP_RAW_REREG] = 8,
	[OP_DTE_IOCTL] = 14, [OP_DMABUF_IOCTL] = 4, [OP_MMAP] = 6,
	[OP_CLOSE] = 3, [OP_NEW_BUF] = 5, [OP_RAW_REG] = 6,
	[OP_RAW_DESTROY] = 4, [OP_RACE_DEREG] = 5, [OP_RACE_CLOSE_REG] = 4,
	[OP_TRAFFIC] = 10,
};

static uint64_t seed, iter, failures, sigbus_hits;
static bool verbose;
/* The call being made, for failure reports and a crash. */
static char desc[512];
static enum op cur_op;

static const char *errname(int err)
{
	static char buf[4][24];
	static int n;
	const char *s;

	if (!err)
		return "success";
	s = strerrorname_np(err);
	if (s)
		return s;
	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "errno %d", err);
	return buf[n];
}

__attribute__((format(printf, 1, 2)))
static void describe(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 1, 2)))
static void report(const char *fmt, ...)
{
	va_list ap;

	failures++;
	if (failures > MAX_FAILS)
		return;
	printf("FAIL seed=%" PRIu64 " iter=%" PRIu64 " op=%s: ", seed, iter,
	       op_names[cur_op]);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" [%s]\n", desc);
	fflush(stdout);
}

static void ex_init(struct expect *e)
{
	memset(e, 0, sizeof(*e));
	e->mode = EX_OK;
}

/* An input that is definitely invalid and gives @err (0: any errno). */
static void defect(struct expect *e, int err, const char *why)
{
	size_t len = strlen(e->why);
	bool known = false;

	e->mode = EX_FAIL;
	if (!err)
		e->loose = true;
	for (int i = 0; i < e->nerrs; i++)
		known |= e->errs[i] == err;
	if (err && !known && e->nerrs < (int)ARRAY_SIZE(e->errs))
		e->errs[e->nerrs++] = err;
	snprintf(e->why + len, sizeof(e->why) - len, "%s%s", len ? ", " : "",
		 why);
}

/* An input whose effect is not pinned down. */
static void maybe(struct expect *e)
{
	e->loose = true;
}

static bool ex_allows(const struct expect *e, int err)
{
	for (int i = 0; i < e->nerrs; i++)
		if (e->errs[i] == err)
			return true;
	return false;
}

static void count(enum op op, int err)
{
	stats[op].calls++;
	if (!err)
		stats[op].ok++;
	else
		stats[op].err[err > 0 && err < NERR ? err : 0]++;
}

/* Record outcome @err of the current call and judge it by @e. */
static int judge(const struct expect *e, int err)
{
	char want[96] = "";

	count(cur_op, err);
	if (verbose)
		printf("  %" PRIu64 " %s: %s -> %s\n", iter, op_names[cur_op],
		       desc, errname(err));
	for (int i = 0; i < e->nerrs; i++) {
		size_t len = strlen(want);

		snprintf(want + len, sizeof(want) - len, "%s%s", i ? "/" : "",
			 errname(e->errs[i]));
	}
	if (e->mode == EX_OK) {
		if (err && !e->loose)
			report("%s, want success", errname(err));
		else if (!e->loose)
			stats[cur_op].strict++;
	} else if (!err) {
		report("succeeded, want %s: %s", e->loose ? "an error" : want,
		       e->why);
	} else if (!e->loose && !ex_allows(e, err)) {
		report("%s, want %s: %s", errname(err), want, e->why);
	} else if (!e->loose) {
		stats[cur_op].strict++;
	}
	return err;
}

/* ------------------------------------------------------------------ */
/* The objects calls work on                                            */

static struct xfer_dev dev;
static struct ibv_pd *pd2;	/* a second PD: MRs of one are not the other's */
static int cmd_fd;
static bool have_src[XFER_SRC_COUNT];

/*
 * A dma-buf; @fd is -1 once closed while MRs still hold the buffer.
 * @maps_armed: DTE_IOC_FAIL_MAPS may still fail a map or a move of it
 * @fence_bad:  a move may have been failed so: its fence carries the
 *              error, and rxe's accesses fail, until a move succeeds
 */
struct fbuf {
	bool used;
	int fd;
	int src;
	uint64_t size;
	int nmrs;
	bool revoked;
	bool maps_armed;
	bool fence_bad;
};
static struct fbuf bufs[NBUFS];

/*
 * An MR: from libibverbs (@mr) or raw (@mr NULL, known by @handle only).
 * @slot is its dma-buf, -1 for host memory; @arena: explicit ODP, inside
 * the host arena, so advice over it must work; @mem_known: a dma-buf, or
 * host memory inside the arena or the read-only page, which a peer may
 * write into (the implicit MR: at arena addresses); @writable: registered
 * with an access that let the kernel pin its pages for writing.
 */
struct fmr {
	bool used;
	struct ibv_mr *mr;
	uint32_t handle, lkey, rkey;
	int slot;
	unsigned int access;
	bool odp, implicit, arena, mem_known, writable;
	uint64_t iova, len;
	struct ibv_pd *pd;
};
static struct fmr mrs[NMRS];

/* ARENA_PAGES read-write, a PROT_NONE guard page, a read-only page. */
static char *arena, *guard, *ro_page;
/* The end of our highest mapping: user addresses reach at least here. */
static uint64_t user_va_seen;

/* Open files that are not dma-bufs. */
static struct {
	const char *what;
	int fd;
} others[] = {
	{ "eventfd", -1 }, { "pipe", -1 }, { "socket", -1 },
	{ "/dev/null", -1 }, { "directory", -1 }, { "exporter chardev", -1 },
	{ "memfd", -1 }, { "regular file", -1 }, { "uverbs fd", -1 },
	{ "uverbs async fd", -1 },
};

static int fbuf_count_dte(void)
{
	int n = 0;

	for (int i = 0; i < NBUFS; i++)
		n += bufs[i].used && xfer_dmabuf_src_is_dte(bufs[i].src);
	return n;
}

/* A random open dma-buf slot, -1 if none. */
static int pick_buf(bool dte_only)
{
	int cand[NBUFS], n = 0;

	for (int i = 0; i < NBUFS; i++)
		if (bufs[i].used && bufs[i].fd >= 0 &&
		    (!dte_only || xfer_dmabuf_src_is_dte(bufs[i].src)))
			cand[n++] = i;
	return n ? cand[rnd(n)] : -1;
}

enum fd_class { FC_DMABUF, FC_NOT_OPEN, FC_NOT_DMABUF };

struct fd_pick {
	int fd;
	enum fd_class cls;
	int slot;		/* FC_DMABUF: the buffer */
	const char *what;
};

/* An fd number that is not open: nothing opens between this and its use. */
static int closed_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		xfer_die_err("open(/dev/null)", errno);
	close(fd);
	return fd;
}

/* A dma-buf with probability @pct percent, else any other kind of fd. */
static void pick_fd(struct fd_pick *p, unsigned int pct)
{
	static const struct {
		int fd;
		const char *what;
	} bad[] = {
		{ -1, "fd -1" }, { -2, "fd -2" }, { INT_MIN, "fd INT_MIN" },
		{ INT_MAX, "fd INT_MAX" }, { 1 << 20, "fd 2^20" },
		{ 65535, "fd 65535" },
	};

	p->slot = chance(pct) ? pick_buf(false) : -1;
	if (p->slot >= 0) {
		p->fd = bufs[p->slot].fd;
		p->cls = FC_DMABUF;
		p->what = xfer_dmabuf_buf_ops[bufs[p->slot].src].name;
		return;
	}
	switch (rnd(3)) {
	case 0:
		p->fd = closed_fd();
		p->cls = FC_NOT_OPEN;
		p->what = "closed fd";
		return;
	case 1: {
		int i = (int)rnd(ARRAY_SIZE(bad));

		p->fd = bad[i].fd;
		p->cls = FC_NOT_OPEN;
		p->what = bad[i].what;
		return;
	}
	default: {
		int i = (int)rnd(ARRAY_SIZE(others));

		p->fd = others[i].fd;
		p->cls = p->fd < 0 ? FC_NOT_OPEN : FC_NOT_DMABUF;
		p->what = others[i].what;
		return;
	}
	}
}

/* The fd's errno for an operation that needs a dma-buf, 0 if it is one. */
static int fd_defect(struct expect *e, const struct fd_pick *p)
{
	if (p->cls == FC_NOT_OPEN)
		defect(e, EBADF, p->what);
	else if (p->cls == FC_NOT_DMABUF)
		defect(e, EINVAL, p->what);
	return p->cls != FC_DMABUF;
}

/* For the exporter's controls: EBADF, EINVAL or 0 for one of its buffers. */
static void dte_fd_defects(struct expect *e, const struct fd_pick *p,
			   bool dte_buf)
{
	if (!fd_defect(e, p) && !dte_buf)
		defect(e, EINVAL, "a dma-buf of another exporter");
}

/*
 * The exporter counts one attachment per MR on the buffer, none pinned:
 * a refused or destroyed registration leaves nothing behind.
 */
static void check_attach(int slot)
{
	struct fbuf *b = slot >= 0 ? &bufs[slot] : NULL;
	struct dte_stats st;
	int err;

	if (!b || !b->used || b->fd < 0 || !xfer_dmabuf_src_is_dte(b->src))
		return;
	err = xfer_dte_stats(b->fd, &st);
	if (err) {
		report("DTE_IOC_STATS of a live buffer: %s", errname(err));
		return;
	}
	if (st.attachments != (uint64_t)b->nmrs || st.pins)
		report("the exporter counts %llu attachments and %llu pins, want %d and 0",
		       (unsigned long long)st.attachments,
		       (unsigned long long)st.pins, b->nmrs);
}

/*
 * A move of @b with @flags returned @err: while a failure is armed it may
 * have taken it and left a failed fence; a waited-for move that succeeded
 * unarmed left a good one.
 */
static void note_move(struct fbuf *b, uint32_t flags, int err)
{
	if (b->maps_armed)
		b->fence_bad = true;
	else if (!err && (flags & DTE_MOVE_WAIT))
		b->fence_bad = false;
}

static void buf_put(int slot)
{
	struct fbuf *b = &bufs[slot];

	if (b->fd < 0 && !b->nmrs)
		memset(b, 0, sizeof(*b));
}

static int mr_count(void)
{
	int n = 0;

	for (int i = 0; i < NMRS; i++)
		n += mrs[i].used;
	return n;
}

static struct fmr *mr_new(void)
{
	for (int i = 0; i < NMRS; i++)
		if (!mrs[i].used) {
			memset(&mrs[i], 0, sizeof(mrs[i]));
			mrs[i].used = true;
			return &mrs[i];
		}
	xfer_die("no free MR slot");
}

static struct fmr *pick_mr(void)
{
	int cand[NMRS], n = 0;

	for (int i = 0; i < NMRS; i++)
		if (mrs[i].used)
			cand[n++] = i;
	return n ? &mrs[cand[rnd(n)]] : NULL;
}

static struct ibv_mr *peer_mr;

/* A live MR of ours has @handle (the peer's own buffer's too). */
static bool handle_live(int64_t handle)
{
	if (peer_mr && peer_mr->handle == handle)
		return true;
	for (int i = 0; i < NMRS; i++)
		if (mrs[i].used && mrs[i].handle == handle)
			return true;
	return false;
}

/* The live record other than @except with @lkey, NULL if none. */
static struct fmr *mr_by_lkey(uint32_t lkey, const struct fmr *except)
{
	for (int i = 0; i < NMRS; i++)
		if (mrs[i].used && &mrs[i] != except && mrs[i].lkey == lkey)
			return &mrs[i];
	return NULL;
}

static bool lkey_live(uint32_t lkey)
{
	return mr_by_lkey(lkey, NULL);
}

/*
 * Two live MRs never share an lkey or a handle: if a new or changed MR's
 * key or handle is still on record, the record of an MR that is gone was
 * kept, and calls judged by it would be judged by the wrong MR.
 */
static void check_unique(const struct fmr *m)
{
	const struct fmr *o = mr_by_lkey(m->lkey, m);

	if (o)
		report("lkey 0x%x (handle %u) is on record for a live MR already (handle %u)",
		       m->lkey, m->handle, o->handle);
	for (int i = 0; i < NMRS; i++)
		if (mrs[i].used && &mrs[i] != m && mrs[i].handle == m->handle)
			report("handle %u (lkey 0x%x) is on record for a live MR already (lkey 0x%x)",
			       m->handle, m->lkey, mrs[i].lkey);
}

static struct fmr *track(struct ibv_mr *mr, uint32_t handle, uint32_t lkey,
			 uint32_t rkey, int slot, unsigned int access,
			 uint64_t iova, uint64_t len, struct ibv_pd *pd)
{
	struct fmr *m = mr_new();

	m->mr = mr;
	m->handle = handle;
	m->lkey = lkey;
	m->rkey = rkey;
	m->slot = slot;
	m->access = access;
	m->odp = access & IBV_ACCESS_ON_DEMAND;
	m->mem_known = slot >= 0;
	m->writable = access & ACC_WRITABLE;
	m->iova = iova;
	m->len = len;
	m->pd = pd;
	if (slot >= 0)
		bufs[slot].nmrs++;
	check_unique(m);
	return m;
}

/* Deregister @m, which must work whatever was done to it or its buffer. */
static void dereg(struct fmr *m)
{
	struct expect e;
	int slot = m->slot, err;

	ex_init(&e);
	describe("%s handle %u lkey 0x%x", m->mr ? "ibv_dereg_mr" :
		 "raw destroy", m->handle, m->lkey);
	if (m->mr)
		err = ibv_dereg_mr(m->mr);
	else
		err = chance(50) ? raw_destroy_mr_ioctl(cmd_fd, m->handle) :
			raw_destroy_mr_write(cmd_fd, m->handle);
	if (judge(&e, err) && m->mr)
		return;	/* libibverbs still owns it: leave it tracked */
	m->used = false;
	if (slot >= 0) {
		bufs[slot].nmrs--;
		check_attach(slot);
		buf_put(slot);
	}
}

/* Keep room for one more MR. */
static void make_room(void)
{
	if (mr_count() == NMRS)
		dereg(pick_mr());
}

/* ------------------------------------------------------------------ */
/* Argument generators                                                 */

static unsigned int rnd_access(void)
{
	static const unsigned int common[] = {
		0, LW, LW | RW, RR, LW | RR, ACC_RW, ACC_RW | RA, RW, RA,
	};

	switch (rnd(6)) {
	case 0:
		return (unsigned int)rnd64();
	case 1:
		return PICK(common) | 1U << rnd(32);
	case 2:
		return (unsigned int)rnd(0x400);
	case 3:
		return PICK(common);
	default:
		return ACC_RW;
	}
}

/* Access bits that every registration refuses with EINVAL. */
static void access_defects(struct expect *e, unsigned int access,
			   unsigned int known)
{
	if (access & ~known)
		defect(e, EINVAL, "undefined access bits");
	if ((access & (RW | RA)) && !(access & LW))
		defect(e, EINVAL, "remote write/atomic without local write");
}

/* An iova with @offset's page offset, or a mismatching or extreme one. */
static uint64_t rnd_iova(uint64_t offset)
{
	switch (rnd(6)) {
	case 0:
		return rnd_edge();
	case 1:
		return IOVA_BASE + rnd(1ULL << 30) * PAGE + rnd(PAGE);
	case 2:
		return (UINT64_MAX - rnd(3 * PAGE)) & ~(PAGE - 1);
	default:
		return IOVA_BASE + rnd(1ULL << 30) * PAGE + (offset & (PAGE - 1));
	}
}

static bool add_overflows(uint64_t a, uint64_t b)
{
	return a + b < a;
}

/* [addr, addr + len) lies inside the @size bytes at @base. */
static bool within(uint64_t addr, uint64_t len, const void *base,
		   uint64_t size)
{
	uint64_t b = (uintptr_t)base;

	return addr >= b && addr - b <= size && len <= size - (addr - b);
}

/* ------------------------------------------------------------------ */
/* Registrations                                                       */

static void op_reg_dmabuf(void)
{
	struct fd_pick f;
	struct expect e;
	uint64_t size, offset, length, iova;
	unsigned int access;
	struct ibv_mr *mr;
	int err;

	make_room();
	pick_fd(&f, 75);
	size = f.cls == FC_DMABUF ? bufs[f.slot].size : 65536;
	switch (rnd(5)) {
	case 0:
		offset = 0;
		break;
	case 1:
		offset = rnd(size / PAGE + 1) * PAGE;
		break;
	case 2:
		offset = rnd(size + 1);
		break;
	default:
		offset = chance(50) ? 0 : rnd_edge();
	}
	length = rnd_near(size - offset);
	iova = rnd_iova(offset);
	access = chance(60) ? ACC_RW : rnd_access();

	ex_init(&e);
	fd_defect(&e, &f);
	if (!length)
		defect(&e, EINVAL, "length 0");
	if (add_overflows(offset, length))
		defect(&e, EINVAL, "offset + length overflows");
	else if (f.cls == FC_DMABUF && offset + length > size)
		defect(&e, EINVAL, "beyond the buffer");
	if (length && add_overflows(iova, length - 1))
		defect(&e, EINVAL, "iova + length overflows");
	if ((offset ^ iova) & (PAGE - 1))
		defect(&e, EINVAL, "iova and offset differ in page offset");
	access_defects(&e, access, ACC_DMABUF);
	if (access & IBV_ACCESS_RELAXED_ORDERING)
		maybe(&e);
	if (f.cls == FC_DMABUF && bufs[f.slot].revoked)
		maybe(&e);

	describe("ibv_reg_dmabuf_mr(%s fd %d size 0x%" PRIx64 ", offset 0x%" PRIx64 ", length 0x%" PRIx64 ", iova 0x%" PRIx64 ", access 0x%x)",
		 f.what, f.fd, size, offset, length, iova, access);
	errno = 0;
	mr = ibv_reg_dmabuf_mr(dev.pd, offset, length, iova, f.fd, (int)access);
	err = mr ? 0 : errno ? errno : EIO;
	judge(&e, err);
	if (mr)
		track(mr, mr->handle, mr->lkey, mr->rkey,
		      f.cls == FC_DMABUF ? f.slot : -1, access, iova, length,
		      dev.pd);
	if (f.cls == FC_DMABUF)
		check_attach(f.slot);
}

enum addr_kind {
	AK_ARENA, AK_ARENA_UNALIGNED, AK_GUARD, AK_RO, AK_NULL, AK_LOW,
	AK_KERNEL, AK_NONCANON, AK_TOP, AK_IMPLICIT, AK_COUNT
};

static const char *const addr_names[AK_COUNT] = {
	"arena", "arena unaligned", "guard page", "read-only page", "NULL",
	"address 0x1000", "kernel address", "non-canonical address",
	"top page", "implicit",
};

static void op_reg_mr(void)
{
	enum addr_kind ak = (enum addr_kind)rnd(AK_COUNT);
	uint64_t addr, len, iova, arena_end = (uintptr_t)guard;
	bool odp = chance(50), implicit = false;
	unsigned int access = chance(50) ? ACC_RW : rnd_access();
	struct expect e;
	struct ibv_mr *mr;
	int err;

	make_room();
	switch (ak) {
	case AK_ARENA:
		addr = (uintptr_t)arena + rnd(ARENA_PAGES) * PAGE;
		break;
	case AK_ARENA_UNALIGNED:
		addr = (uintptr_t)arena + rnd(ARENA_PAGES * PAGE);
		break;
	case AK_GUARD:
		addr = (uintptr_t)guard;
		break;
	case AK_RO:
		addr = (uintptr_t)ro_page + rnd(2) * rnd(PAGE);
		break;
	case AK_NULL:
		addr = 0;
		break;
	case AK_LOW:
		addr = 0x1000;
		break;
	case AK_KERNEL:
		addr = 0xffff888000000000ULL;
		break;
	case AK_NONCANON:
		addr = 1ULL << 47;
		break;
	case AK_TOP:
		addr = FUZZ_TOP_PAGE;
		break;
	default:
		addr = 0;
		implicit = true;
	}
	if (implicit)
		len = SIZE_MAX;
	else if (ak == AK_ARENA || ak == AK_ARENA_UNALIGNED)
		len = rnd_near(arena_end - addr);
	else
		len = chance(50) ? rnd_near(PAGE) : rnd_edge();
	access = odp ? access | IBV_ACCESS_ON_DEMAND :
		 access & ~IBV_ACCESS_ON_DEMAND;
	/* See MAX_ODP_LEN; lengths from 2^40 fail cheaply, keep them. */
	if (odp && len > MAX_ODP_LEN && len < (1ULL << 40))
		len = MAX_ODP_LEN;
	iova = addr;
	if (chance(30))
		iova = implicit ? rnd_edge() : rnd_iova(addr);

	ex_init(&e);
	access_defects(&e, access, ACC_KNOWN);
	if (access & ACC_DEVICE_CHOICE)
		maybe(&e);
	if (!addr && len == SIZE_MAX) {
		if (!odp)
			defect(&e, EINVAL, "implicit range without ON_DEMAND");
		if (iova)
			defect(&e, EINVAL, "implicit range with an iova");
	} else {
		bool in_arena = within(addr, len, arena, ARENA_PAGES * PAGE);
		bool in_ro = within(addr, len, ro_page, PAGE);

		if (!len)
			defect(&e, EINVAL, "length 0");
		if (add_overflows(addr, len) || addr + len > FUZZ_TOP_PAGE) {
			defect(&e, EINVAL, "addr + length wraps");
			defect(&e, EOVERFLOW, "");
		}
		if ((addr ^ iova) & (PAGE - 1))
			defect(&e, EINVAL, "iova and address differ in page offset");
		if (!odp && len && !in_arena &&
		    !(in_ro && !(access & (LW | RW | RA | IBV_ACCESS_MW_BIND))))
			defect(&e, 0, "pinning memory that is not there");
		if (odp && !in_arena && !in_ro)
			maybe(&e);
		if (add_overflows(iova, len))
			maybe(&e);
	}

	describe("ibv_reg_mr_iova2(%s 0x%" PRIx64 ", length 0x%" PRIx64 ", iova 0x%" PRIx64 ", access 0x%x)",
		 addr_names[ak], addr, len, iova, access);
	errno = 0;
	mr = ibv_reg_mr_iova2(dev.pd, (void *)(uintptr_t)addr, len, iova,
			      access);
	err = mr ? 0 : errno ? errno : EIO;
	judge(&e, err);
	if (mr) {
		struct fmr *m = track(mr, mr->handle, mr->lkey, mr->rkey, -1,
				      access, iova, len, dev.pd);

		m->implicit = !addr && len == SIZE_MAX;
		m->mem_known = !m->implicit &&
			       (within(addr, len, arena, ARENA_PAGES * PAGE) ||
				within(addr, len, ro_page, PAGE));
		m->arena = odp && !m->implicit &&
			   within(addr, len, arena, ARENA_PAGES * PAGE);
	}
}

static void op_dereg(void)
{
	struct fmr *m = pick_mr();

	if (m)
		dereg(m);
}

/* ------------------------------------------------------------------ */
/* Advice and rereg                                                    */

/* What the record of @lkey says the MR is, for failure reports. */
static const char *mr_kind(uint32_t lkey)
{
	const struct fmr *m = mr_by_lkey(lkey, NULL);

	if (!m)
		return "no MR";
	if (m->slot >= 0)
		return "dma-buf MR";
	if (!m->odp)
		return "pinned MR";
	if (m->implicit)
		return "implicit ODP MR";
	return m->arena ? "ODP MR in the arena" : "ODP MR";
}

static void op_advise(void)
{
	struct fmr *m = pick_mr();
	uint32_t advice = (uint32_t)rnd(3), flags, nsge = 1;
	struct ibv_pd *pd = chance(90) ? dev.pd : pd2;
	struct ibv_sge sge[4];
	struct expect e;
	int err;

	if (chance(10))
		advice = (uint32_t)rnd_edge();
	flags = chance(70) ? IBV_ADVISE_MR_FLAG_FLUSH : 0;
	if (chance(10))
		flags = (uint32_t)rnd_edge();
	if (chance(15))
		nsge = (uint32_t)rnd(5);

	ex_init(&e);
	if (advice > IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT)
		defect(&e, EOPNOTSUPP, "unknown advice");
	if (flags & ~IBV_ADVISE_MR_FLAG_FLUSH)
		defect(&e, EINVAL, "unknown flag");
	if (!nsge)
		maybe(&e);
	for (uint32_t i = 0; i < nsge; i++) {
		struct fmr *t = chance(85) ? m : NULL;
		uint64_t base = t ? t->iova : rnd_edge();
		uint64_t mlen = t ? t->len : PAGE;

		sge[i].lkey = t ? t->lkey : (uint32_t)rnd64();
		if (!t && lkey_live(sge[i].lkey))
			sge[i].lkey ^= 0x5a5a00;
		if (!t && lkey_live(sge[i].lkey))
			return;
		switch (rnd(5)) {
		case 0:
			sge[i].addr = rnd_edge();
			break;
		case 1:
			sge[i].addr = base + rnd_near(mlen);
			break;
		default:
			sge[i].addr = base + (mlen > PAGE ? rnd(mlen / PAGE) *
					      PAGE : 0);
		}
		sge[i].length = (uint32_t)(chance(70) ? rnd_near(PAGE) :
					   rnd_edge());
		if (!t) {
			defect(&e, EINVAL, "lkey of no MR");
			continue;
		}
		if (!t->odp || t->pd != pd)
			defect(&e, EINVAL, !t->odp ? "not an ODP MR" :
			       "MR of another PD");
		if (advice == IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE &&
		    !(t->access & LW))
			defect(&e, EINVAL, "PREFETCH_WRITE without local write");
		/*
		 * Outside the MR (an implicit one too: past 2^64): refused
		 * now only if the prefetch is now.
		 */
		if (sge[i].addr < t->iova || sge[i].length > t->len ||
		    sge[i].addr - t->iova > t->len - sge[i].length) {
			if (flags & IBV_ADVISE_MR_FLAG_FLUSH)
				defect(&e, EINVAL, "range outside the MR");
			else
				maybe(&e);
		} else if ((flags & IBV_ADVISE_MR_FLAG_FLUSH) &&
			   t->implicit && sge[i].length &&
			   sge[i].addr + sge[i].length > user_va_seen) {
			/*
			 * An implicit MR stands for the user address space
			 * only: past its end there is nothing to prefetch,
			 * faulting or not. Where exactly it ends is the
			 * architecture's business.
			 */
			if (sge[i].addr >= USER_VA_LIMIT)
				defect(&e, EFAULT,
				       "beyond the user address space");
			else
				maybe(&e);
		} else if ((flags & IBV_ADVISE_MR_FLAG_FLUSH) && t->implicit &&
			   !within(sge[i].addr, sge[i].length, arena,
				   ARENA_PAGES * PAGE)) {
			/*
			 * rxe gives an implicit MR a child only where the
			 * process has memory (EFAULT elsewhere), faulting or
			 * not.
			 */
			maybe(&e);
		} else if ((flags & IBV_ADVISE_MR_FLAG_FLUSH) &&
			   (!t->arena || !sge[i].length) &&
			   advice != IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT) {
			/* Faulting memory that may not be there. */
			maybe(&e);
		}
	}

	describe("ibv_advise_mr(%s advice %u, flags 0x%x, %u sges, first lkey 0x%x (%s) addr 0x%" PRIx64 " length 0x%x)",
		 pd == dev.pd ? "pd" : "pd2", advice, flags, nsge,
		 nsge ? sge[0].lkey : 0, nsge ? mr_kind(sge[0].lkey) : "none",
		 nsge ? sge[0].addr : 0, nsge ? sge[0].length : 0);
	err = ibv_advise_mr(pd, (enum ibv_advise_mr_advice)advice, flags, sge,
			    nsge);
	judge(&e, err);
}

/* rdma-core's rxe provider has no rereg_mr: it must refuse, MR intact. */
static void op_rereg(void)
{
	struct fmr *m = pick_mr();
	struct expect e;
	int flags = (int)rnd(8), ret, err;

	if (!m || !m->mr)
		return;
	if (chance(10))
		flags = (int)rnd64();
	ex_init(&e);
	defect(&e, 0, "rxe's provider implements no rereg");
	describe("ibv_rereg_mr(lkey 0x%x, flags 0x%x)", m->lkey, flags);
	errno = 0;
	ret = ibv_rereg_mr(m->mr, flags, pd2, arena, PAGE, (int)rnd_access());
	err = ret ? (errno ? errno : EIO) : 0;
	judge(&e, err);
}

/* Every access bit there is, for rereg to set one at a time or all. */
static const unsigned int access_bits[] = {
	LW, RW, RR, RA, IBV_ACCESS_MW_BIND, IBV_ACCESS_ZERO_BASED,
	IBV_ACCESS_ON_DEMAND, IBV_ACCESS_HUGETLB, IBV_ACCESS_FLUSH_GLOBAL,
	IBV_ACCESS_FLUSH_PERSISTENT, IBV_ACCESS_RELAXED_ORDERING,
};

/* New access for a rereg of @m: one bit, one more, all, or anything. */
static unsigned int rnd_rereg_access(const struct fmr *m)
{
	unsigned int cur = m ? m->access : ACC_RW, bit = PICK(access_bits);
	unsigned int all = 0;

	for (size_t i = 0; i < ARRAY_SIZE(access_bits); i++)
		all |= access_bits[i];
	/* Remote write and atomic want local write; mostly they get it. */
	if ((bit & (RW | RA)) && chance(80))
		bit |= LW;
	switch (rnd(7)) {
	case 0:
	case 1:
		/* An ODP MR mostly stays one. */
		return bit | (chance(90) ? cur & IBV_ACCESS_ON_DEMAND : 0);
	case 2:
		return cur | bit;
	case 3:
		return all & ~(chance(50) ? PICK(access_bits) : 0);
	case 4:
		return (cur & ~(RW | RA)) | LW | RR;
	case 5:
		return cur;
	default:
		return rnd_access();
	}
}

/* A dma-buf MR if there is one, else any. */
static struct fmr *pick_dmabuf_mr(void)
{
	int cand[NMRS], n = 0;

	for (int i = 0; i < NMRS; i++)
		if (mrs[i].used && mrs[i].slot >= 0)
			cand[n++] = i;
	return n ? &mrs[cand[rnd(n)]] : pick_mr();
}

/*
 * What IBV_REREG_MR_CHANGE_ACCESS to @access refuses, in the order the
 * kernel checks: the core's ib_check_mr_access(), then rxe's rereg.
 */
static void rereg_access_defects(struct expect *e, const struct fmr *m,
				 unsigned int access, uint32_t flags)
{
	access_defects(e, access, ACC_KNOWN);
	if (m && m->slot >= 0 && (access & ~ACC_DMABUF))
		defect(e, EINVAL, "access a dma-buf MR cannot be registered with");
	/* HUGETLB is an ODP MR's only, and like ON_DEMAND is for good. */
	if ((access & IBV_ACCESS_ZERO_BASED) ||
	    ((access & IBV_ACCESS_HUGETLB) && !(m && m->odp)))
		defect(e, EOPNOTSUPP, "access rxe's MRs do not support");
	if (m && ((access ^ m->access) &
		  (IBV_ACCESS_ON_DEMAND | IBV_ACCESS_HUGETLB)))
		defect(e, EINVAL, "toggles ON_DEMAND or HUGETLB");
	/* Only a pinned MR has a umem, pinned read-only or not for good. */
	if (m && m->slot < 0 && !m->odp && !m->writable &&
	    (access & ACC_WRITABLE) &&
	    !(flags & IBV_REREG_MR_CHANGE_TRANSLATION))
		defect(e, EACCES, "a read-only umem made writable");
}

static void traffic_after_rereg(struct fmr *m);

/* The kernel's rereg (PD and access only on rxe), raw. */
static void op_raw_rereg(void)
{
	static const uint32_t some_flags[] = {
		IBV_REREG_MR_CHANGE_ACCESS, IBV_REREG_MR_CHANGE_ACCESS,
		IBV_REREG_MR_CHANGE_ACCESS | IBV_REREG_MR_CHANGE_PD,
		IBV_REREG_MR_CHANGE_PD, IBV_REREG_MR_CHANGE_TRANSLATION,
	};
	struct fmr *m = chance(40) ? pick_dmabuf_mr() : pick_mr();
	struct ibv_pd *pd = chance(50) ? pd2 : dev.pd;
	struct ib_uverbs_rereg_mr_resp resp;
	struct raw_rereg r = {
		.flags = PICK(some_flags),
		.start = (uintptr_t)arena,
		.length = PAGE,
		.hca_va = chance(80) ? (uintptr_t)arena : rnd_edge(),
		.pd_handle = chance(90) ? pd->handle : (uint32_t)rnd_edge(),
	};
	struct expect e;
	int err;

	if (chance(30))
		r.flags = (uint32_t)rnd(8);
	if (chance(5))
		r.flags = (uint32_t)rnd_edge();
	r.access = rnd_rereg_access(m);
	r.handle = m ? m->handle : (uint32_t)rnd_edge();
	if (!m && handle_live(r.handle))
		return;

	ex_init(&e);
	if (!r.flags)
		defect(&e, EINVAL, "no flags");
	else if (r.flags & ~7U)
		defect(&e, EOPNOTSUPP, "unknown flags");
	if ((r.flags & IBV_REREG_MR_CHANGE_TRANSLATION) &&
	    ((r.start ^ r.hca_va) & (PAGE - 1)))
		defect(&e, EINVAL, "page offset mismatch");
	if (!m) {
		defect(&e, ENOENT, "no such MR");
		defect(&e, EINVAL, "");
	}
	if (r.flags & IBV_REREG_MR_CHANGE_TRANSLATION)
		defect(&e, EOPNOTSUPP, "rxe cannot change translation");
	if (r.flags & IBV_REREG_MR_CHANGE_ACCESS)
		rereg_access_defects(&e, m, r.access, r.flags);
	if ((r.flags & IBV_REREG_MR_CHANGE_PD) &&
	    r.pd_handle != dev.pd->handle && r.pd_handle != pd2->handle) {
		defect(&e, ENOENT, "no such PD");
		defect(&e, EINVAL, "");
	}

	describe("raw rereg(%s handle %u, flags 0x%x, pd handle %u, access 0x%x, hca_va 0x%" PRIx64 ")",
		 m ? mr_kind(m->lkey) : "no MR", r.handle, r.flags,
		 r.pd_handle, r.access, r.hca_va);
	err = raw_rereg_mr(cmd_fd, &r, &resp);
	judge(&e, err);
	if (err || !m)
		return;
	if (r.flags & IBV_REREG_MR_CHANGE_PD)
		m->pd = r.pd_handle == pd2->handle ? pd2 : dev.pd;
	if (r.flags & IBV_REREG_MR_CHANGE_ACCESS)
		m->access = r.access;
	m->lkey = resp.lkey;
	m->rkey = resp.rkey;
	check_unique(m);
	traffic_after_rereg(m);
}

/* ------------------------------------------------------------------ */
/* The test exporter                                                   */

static union {
	struct dte_create create;
	struct dte_buf_op op;
	struct dte_fail_maps fail;
	struct dte_fence_delay delay;
	struct dte_stats stats;
	char raw[256];
} ioc_arg __attribute__((aligned(4096)));

static int exporter_fd(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		if (!strcmp(others[i].what, "exporter chardev"))
			return others[i].fd;
	return -1;
}

/* A command number of magic 0xB5 that the exporter does not know. */
static unsigned long unknown_cmd(void)
{
	static const unsigned long known[] = {
		DTE_IOC_CREATE, DTE_IOC_MOVE, DTE_IOC_EVICT, DTE_IOC_REVOKE,
		DTE_IOC_FAIL_MAPS, DTE_IOC_FENCE_DELAY, DTE_IOC_STATS,
	};
	unsigned long cmd;
	bool clash;

	do {
		unsigned long nr = rnd(3) ? rnd(10) : rnd(256);
		unsigned long size = rnd(2) ? PICK(known) >> _IOC_SIZESHIFT &
					      _IOC_SIZEMASK : rnd(1024);

		cmd = _IOC(rnd(4), DTE_IOC_MAGIC, nr, size);
		clash = false;
		for (size_t i = 0; i < ARRAY_SIZE(known); i++)
			clash |= cmd == known[i];
	} while (clash);
	return cmd;
}

static void add_buf(int fd, int src, uint64_t size)
{
	for (int i = 0; i < NBUFS; i++)
		if (!bufs[i].used) {
			bufs[i] = (struct fbuf){
				.used = true, .fd = fd, .src = src,
				.size = size,
			};
			return;
		}
	close(fd);
}

/*
 * A page followed by an unmapped one, made right before use so that no
 * mmap() can fill the hole. Not a PROT_NONE page: UML's copy_from_user()
 * reads those.
 */
static char *page_before_hole(void)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		xfer_die_err("mmap", errno);
	munmap(p + PAGE, PAGE);
	return p;
}

static void op_dte_ioctl(void)
{
	static const char *const names[] = {
		"CREATE", "MOVE", "EVICT", "REVOKE", "FAIL_MAPS", "FENCE_DELAY",
		"STATS", "unknown",
	};
	int dev_fd = exporter_fd(), which = (int)rnd(ARRAY_SIZE(names));
	unsigned long cmd = 0;
	void *arg = &ioc_arg;
	const char *argname = "valid";
	struct fd_pick f;
	struct expect e;
	bool out = false, bad_arg = false, dte_buf;
	char *edge = NULL;
	int target = dev_fd, err, rc;

	if (dev_fd < 0)
		return;
	memset(&ioc_arg, 0, sizeof(ioc_arg));
	pick_fd(&f, 85);
	dte_buf = f.cls == FC_DMABUF && xfer_dmabuf_src_is_dte(bufs[f.slot].src);
	ex_init(&e);

	switch (which) {
	case 0:
		cmd = DTE_IOC_CREATE;
		out = true;
		ioc_arg.create.size = chance(60) ? rnd(MAX_BUF_BYTES) + 1 :
				      rnd_edge();
		if (ioc_arg.create.size > MAX_BUF_BYTES &&
		    ioc_arg.create.size <= DTE_MAX_SIZE)
			ioc_arg.create.size = DTE_MAX_SIZE + rnd(PAGE) + 1;
		ioc_arg.create.flags = chance(80) ? 0 : chance(50) ?
				       DTE_CREATE_IOMEM : (uint32_t)rnd_edge();
		ioc_arg.create.fd = (int32_t)rnd64();
		if (!ioc_arg.create.size || ioc_arg.create.size > DTE_MAX_SIZE)
			defect(&e, EINVAL, "size out of range");
		if (ioc_arg.create.flags & ~DTE_CREATE_FLAGS)
			defect(&e, EINVAL, "unknown flags");
		if (ioc_arg.create.flags & DTE_CREATE_IOMEM)
			maybe(&e);	/* EOPNOTSUPP on UML */
		break;
	case 1:
	case 2:
	case 3:
		cmd = which == 1 ? DTE_IOC_MOVE : which == 2 ? DTE_IOC_EVICT :
		      DTE_IOC_REVOKE;
		/* Revocation ends a buffer's usefulness: rarely. */
		if (which == 3 && chance(70))
			cmd = DTE_IOC_MOVE;
		ioc_arg.op.fd = f.fd;
		ioc_arg.op.flags = chance(75) ? (cmd == DTE_IOC_MOVE ?
				   (uint32_t)rnd(2) : 0) : (uint32_t)rnd_edge();
		dte_fd_defects(&e, &f, dte_buf);
		if (ioc_arg.op.flags & ~(cmd == DTE_IOC_MOVE ? DTE_MOVE_WAIT :
					 0U))
			defect(&e, EINVAL, "unknown flags");
		if (dte_buf && bufs[f.slot].revoked) {
			if (cmd == DTE_IOC_REVOKE)
				maybe(&e);
			else
				defect(&e, ENODEV, "buffer revoked");
		}
		/* An armed failure: a waited-for move returns its error. */
		if (dte_buf && cmd == DTE_IOC_MOVE && bufs[f.slot].maps_armed)
			maybe(&e);
		break;
	case 4:
		cmd = DTE_IOC_FAIL_MAPS;
		ioc_arg.fail.fd = f.fd;
		ioc_arg.fail.count = chance(70) ? (uint32_t)rnd(3) :
				     (uint32_t)rnd_edge();
		ioc_arg.fail.error = chance(70) ? (int32_t)rnd(4095) + 1 :
				     (int32_t)rnd_edge();
		ioc_arg.fail.pad = chance(90) ? 0 : (uint32_t)rnd_edge();
		dte_fd_defects(&e, &f, dte_buf);
		if (ioc_arg.fail.pad)
			defect(&e, EINVAL, "pad not zero");
		if (ioc_arg.fail.error <= 0 || ioc_arg.fail.error > 4095)
			defect(&e, EINVAL, "error out of range");
		if (dte_buf && bufs[f.slot].revoked)
			defect(&e, ENODEV, "buffer revoked");
		break;
	case 5:
		cmd = DTE_IOC_FENCE_DELAY;
		ioc_arg.delay.fd = f.fd;
		ioc_arg.delay.delay_us = chance(70) ? (uint32_t)rnd(MAX_DELAY_US + 1) :
					 (uint32_t)rnd_edge();
		if (ioc_arg.delay.delay_us > MAX_DELAY_US &&
		    ioc_arg.delay.delay_us <= DTE_MAX_FENCE_DELAY_US)
			ioc_arg.delay.delay_us = DTE_MAX_FENCE_DELAY_US + 1;
		dte_fd_defects(&e, &f, dte_buf);
		if (ioc_arg.delay.delay_us > DTE_MAX_FENCE_DELAY_US)
			defect(&e, EINVAL, "delay out of range");
		if (dte_buf && bufs[f.slot].revoked)
			maybe(&e);
		break;
	case 6:
		cmd = DTE_IOC_STATS;
		out = true;
		ioc_arg.stats.fd = f.fd;
		ioc_arg.stats.pad = chance(90) ? 0 : (uint32_t)rnd_edge();
		dte_fd_defects(&e, &f, dte_buf);
		if (ioc_arg.stats.pad)
			defect(&e, EINVAL, "pad not zero");
		break;
	default:
		cmd = unknown_cmd();
		for (size_t i = 0; i < sizeof(ioc_arg.raw); i++)
			ioc_arg.raw[i] = (char)rnd64();
		ex_init(&e);
		defect(&e, ENOTTY, "unknown command");
		break;
	}
	/* A valid command on a file that is not the exporter's. */
	if (which != 7 && chance(5)) {
		/* The exporter's own device, opened a second time, is not one. */
		target = chance(50) || f.fd == exporter_fd() ? cmd_fd : f.fd;
		ex_init(&e);
		defect(&e, target == f.fd && f.cls == FC_NOT_OPEN ? EBADF : ENOTTY,
		       "not the exporter's device");
		if (target == f.fd && f.cls == FC_NOT_DMABUF)
			maybe(&e);	/* a socket, a pipe: their own ioctls */
	} else if (which != 7 && chance(12)) {
		/* Where the kernel cannot read or write the argument. */
		bad_arg = true;
		switch (rnd(out ? 4 : 3)) {
		case 0:
			arg = NULL;
			argname = "NULL";
			break;
		case 1:
			edge = page_before_hole();
			arg = edge + PAGE;
			argname = "unmapped";
			break;
		case 2:
			edge = page_before_hole();
			arg = edge + PAGE - 4;
			argname = "straddling an unmapped page";
			break;
		default:
			arg = ro_page;
			argname = "read-only page";
		}
		ex_init(&e);
		if (arg == ro_page)
			maybe(&e);	/* read, then maybe not written back */
		else
			defect(&e, EFAULT, "argument not accessible");
	}

	describe("ioctl(%s, DTE_IOC_%s 0x%lx, %s arg; fd field: %s %d)",
		 target == dev_fd ? "exporter" : target == cmd_fd ? "uverbs fd" :
		 f.what, names[which], cmd, argname, f.what, f.fd);
	rc = ioctl(target, cmd, arg);
	err = rc ? errno : 0;
	if (edge)
		munmap(edge, PAGE);
	judge(&e, err);
	if (!bad_arg && target == dev_fd && dte_buf && cmd == DTE_IOC_MOVE)
		note_move(&bufs[f.slot], ioc_arg.op.flags, err);
	if (err || bad_arg || target != dev_fd)
		return;
	if (cmd == DTE_IOC_CREATE) {
		add_buf(ioc_arg.create.fd, ioc_arg.create.flags ?
			XFER_SRC_DTE_IOMEM : XFER_SRC_DTE,
			(ioc_arg.create.size + PAGE - 1) & ~(PAGE - 1));
	} else if (cmd == DTE_IOC_REVOKE) {
		bufs[f.slot].revoked = true;
	} else if (cmd == DTE_IOC_FAIL_MAPS) {
		bufs[f.slot].maps_armed = ioc_arg.fail.count > 0;
	} else if (cmd == DTE_IOC_STATS) {
		if (ioc_arg.stats.attachments != (uint64_t)bufs[f.slot].nmrs ||
		    ioc_arg.stats.pins)
			report("the exporter counts %llu attachments and %llu pins, want %d and 0",
			       (unsigned long long)ioc_arg.stats.attachments,
			       (unsigned long long)ioc_arg.stats.pins,
			       bufs[f.slot].nmrs);
	}
	if (f.cls == FC_DMABUF)
		check_attach(f.slot);
}

/* dma-buf's own ioctls on every source's buffers. */
static void op_dmabuf_ioctl(void)
{
	int slot = pick_buf(false);
	struct dma_buf_sync sync;
	struct expect e;
	int err;

	if (slot < 0)
		return;
	ex_init(&e);
	if (chance(10)) {
		describe("DMA_BUF_SET_NAME(%s, NULL)",
			 xfer_dmabuf_buf_ops[bufs[slot].src].name);
		defect(&e, EFAULT, "NULL name");
		err = ioctl(bufs[slot].fd, DMA_BUF_SET_NAME_B, NULL) ? errno : 0;
		judge(&e, err);
		return;
	}
	sync.flags = chance(70) ? (rnd(2) ? DMA_BUF_SYNC_END :
				   DMA_BUF_SYNC_START) | (rnd(3) + 1) :
		     rnd_edge();
	if (sync.flags & ~DMA_BUF_SYNC_VALID_FLAGS_MASK)
		defect(&e, EINVAL, "unknown flags");
	if (!(sync.flags & DMA_BUF_SYNC_RW))
		defect(&e, EINVAL, "neither read nor write");
	/* An END without a START: udmabuf refuses it, others need not. */
	if (bufs[slot].revoked || ((sync.flags & DMA_BUF_SYNC_END) &&
				   !xfer_dmabuf_src_is_dte(bufs[slot].src)))
		maybe(&e);
	describe("DMA_BUF_IOCTL_SYNC(%s, flags 0x%llx)",
		 xfer_dmabuf_buf_ops[bufs[slot].src].name,
		 (unsigned long long)sync.flags);
	err = ioctl(bufs[slot].fd, DMA_BUF_IOCTL_SYNC, &sync) ? errno : 0;
	judge(&e, err);
	check_attach(slot);
}

/* ------------------------------------------------------------------ */
/* mmap, close, new buffers                                            */

static sigjmp_buf touch_env;
static volatile sig_atomic_t touching;

static void crash_handler(int sig)
{
	char msg[700];
	int n;

	if (touching)
		siglongjmp(touch_env, sig);
	n = snprintf(msg, sizeof(msg),
		     "FAIL seed=%" PRIu64 " iter=%" PRIu64 " op=%s: signal %d [%s]\n",
		     seed, iter, op_names[cur_op], sig, desc);
	if (write(STDOUT_FILENO, msg, (size_t)n) < 0)
		_exit(1);
	_exit(1);
}

/* Read and maybe write the first byte; the signal that hit it, or 0. */
static int touch(volatile char *p, bool write)
{
	int sig;

	touching = 1;
	sig = sigsetjmp(touch_env, 1);
	if (!sig) {
		char c = p[0];

		if (write)
			p[0] = c;
	}
	touching = 0;
	return sig;
}

static void op_mmap(void)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_WRITE,
	};
	int slot = pick_buf(false), prot = PICK(prots), sig;
	int flags = chance(80) ? MAP_SHARED : MAP_PRIVATE;
	uint64_t size, off, len;
	struct expect e;
	void *p;

	if (slot < 0)
		return;
	size = bufs[slot].size;
	switch (rnd(4)) {
	case 0:
		off = 0;
		break;
	case 1:
		off = rnd(size / PAGE + 2) * PAGE;
		break;
	default:
		off = rnd_edge();
	}
	len = rnd_near(size > off ? size - off : PAGE);

	ex_init(&e);
	if (!len)
		defect(&e, EINVAL, "length 0");
	if (off & (PAGE - 1))
		defect(&e, EINVAL, "unaligned offset");
	/* mmap's own limits: the address space, the page offset's range. */
	if (len >= (1ULL << 32) || off >= (1ULL << 40) ||
	    add_overflows(off, len)) {
		defect(&e, ENOMEM, "length or offset out of range");
		defect(&e, EINVAL, "");
		defect(&e, EOVERFLOW, "");
	} else if (len && off + len > ((size + PAGE - 1) & ~(PAGE - 1))) {
		defect(&e, EINVAL, "beyond the buffer");
	}
	if (flags == MAP_PRIVATE || bufs[slot].revoked)
		maybe(&e);

	describe("mmap(%s size 0x%" PRIx64 ", offset 0x%" PRIx64 ", length 0x%" PRIx64 ", prot %d, %s)",
		 xfer_dmabuf_buf_ops[bufs[slot].src].name, size, off, len,
		 prot, flags == MAP_SHARED ? "shared" : "private");
	p = mmap(NULL, len, prot, flags, bufs[slot].fd, (off_t)off);
	if (judge(&e, p == MAP_FAILED ? errno : 0))
		return;
	if (prot & PROT_READ) {
		sig = touch(p, prot & PROT_WRITE);
		if (sig) {
			sigbus_hits++;
			if (!bufs[slot].revoked)
				report("signal %d touching a mapping of a live buffer",
				       sig);
		}
	}
	munmap(p, len);
	check_attach(slot);
}

/* Close a buffer's fd, MRs or not, and maybe once more. */
static void op_close(void)
{
	int slot = pick_buf(false), fd;
	struct expect e;

	if (slot < 0)
		return;
	fd = bufs[slot].fd;
	ex_init(&e);
	describe("close(%s fd %d with %d MRs)",
		 xfer_dmabuf_buf_ops[bufs[slot].src].name, fd,
		 bufs[slot].nmrs);
	judge(&e, close(fd) ? errno : 0);
	bufs[slot].fd = -1;
	if (chance(50)) {
		ex_init(&e);
		defect(&e, EBADF, "closed already");
		describe("close(fd %d) again", fd);
		judge(&e, close(fd) ? errno : 0);
	}
	buf_put(slot);
}

static void new_buf(int src, uint64_t size)
{
	struct xfer_buf b;
	struct expect e;
	int err;

	ex_init(&e);
	describe("new %s buffer of %" PRIu64 " bytes",
		 xfer_dmabuf_buf_ops[src].name, size);
	err = xfer_dmabuf_open(&b, (enum xfer_dmabuf_src)src, size);
	if (judge(&e, err))
		return;
	munmap(b.map, b.map_len);
	add_buf(b.fd, src, b.map_len);
}

static void op_new_buf(void)
{
	static const uint64_t sizes[] = {
		1, PAGE - 1, PAGE, PAGE + 1, 3 * PAGE + 5, 65536, 1 << 20,
	};
	int srcs[XFER_SRC_COUNT], n = 0;

	for (int s = 0; s < XFER_SRC_COUNT; s++)
		if (have_src[s])
			srcs[n++] = s;
	if (!n)
		return;
	for (int i = 0; i < NBUFS; i++)
		if (!bufs[i].used) {
			/* Keep test exporter buffers in the majority. */
			int src = have_src[XFER_SRC_DTE] &&
				  (fbuf_count_dte() < 4 || chance(50)) ?
				  XFER_SRC_DTE : srcs[rnd(n)];

			new_buf(src, PICK(sizes));
			return;
		}
}

/* ------------------------------------------------------------------ */
/* Raw uverbs commands                                                 */

/* A raw dma-buf MR over the whole of @slot; 0 or an errno. */
static int raw_reg_whole(int slot, uint32_t *handle)
{
	struct raw_reg r = {
		.pd_handle = dev.pd->handle,
		.length = bufs[slot].size,
		.iova = IOVA_BASE,
		.fd = (uint32_t)bufs[slot].fd,
		.access = ACC_RW,
	};
	struct raw_cmd c;
	int err;

	raw_reg_build(&c, &r);
	err = raw_cmd_exec(cmd_fd, &c);
	if (!err) {
		*handle = (uint32_t)c.attrs[0].data;
		track(NULL, *handle, r.lkey, r.rkey, slot, ACC_RW, IOVA_BASE,
		      bufs[slot].size, dev.pd);
	}
	return err;
}

/* A well-formed registration with one or two things broken. */
static void op_raw_reg(void)
{
	static const char *const what[] = {
		"attribute dropped", "attribute duplicated", "attribute length",
		"attribute reserved bits", "attribute flags", "unknown attribute",
		"header reserved", "driver id", "unknown method",
		"PD handle", "key out pointer",
	};
	int slot = pick_buf(false), nmut = (int)rnd(3);
	unsigned int done = 0;
	struct raw_reg r;
	struct raw_cmd c;
	struct expect e;
	char muts[128] = "";
	int err;

	if (slot < 0)
		return;
	make_room();
	r = (struct raw_reg){
		.pd_handle = dev.pd->handle,
		.length = bufs[slot].size,
		.iova = IOVA_BASE,
		.fd = (uint32_t)bufs[slot].fd,
		.access = ACC_RW,
	};
	raw_reg_build(&c, &r);
	ex_init(&e);
	if (bufs[slot].revoked)
		maybe(&e);
	for (int i = 0; i < nmut; i++) {
		int m = (int)rnd(ARRAY_SIZE(what));
		/* The handle stays attrs[0], where the new handle comes back. */
		int a = 1 + (int)rnd(c.hdr.num_attrs - 1);
		struct ib_uverbs_attr *at = &c.attrs[a];
		size_t len = strlen(muts);

		/*
		 * Each kind of breakage once, and never a drop with a
		 * duplicate: the second could undo the first (drop the
		 * duplicate, set the PD handle back to a valid one), and the
		 * command would be well formed after all.
		 */
		if (done & (1u << m) ||
		    (m <= 1 && done & (1u << (1 - m))))
			continue;
		done |= 1u << m;

		snprintf(muts + len, sizeof(muts) - len, "%s%s", len ? ", " : "",
			 what[m]);
		switch (m) {
		case 0:
			/* The access flags may be left out (then 0). */
			if (at->attr_id == UVERBS_ATTR_REG_DMABUF_MR_ACCESS_FLAGS ||
			    at->attr_id >= RAW_UNKNOWN_ATTR)
				maybe(&e);
			else
				defect(&e, 0, "a mandatory attribute missing");
			memmove(at, at + 1, (c.hdr.num_attrs - a - 1) *
				sizeof(*at));
			c.hdr.num_attrs--;
			break;
		case 1:
			c.attrs[c.hdr.num_attrs++] = *at;
			/* Unknown ones are skipped before duplicates count. */
			if (at->attr_id >= RAW_UNKNOWN_ATTR)
				maybe(&e);
			else
				defect(&e, 0, "an attribute twice");
			break;
		case 2:
			at->len = (uint16_t)(rnd(2) ? rnd(17) : rnd64());
			maybe(&e);
			break;
		case 3:
			at->attr_data.reserved = (uint16_t)(rnd(0xffff) + 1);
			maybe(&e);
			break;
		case 4:
			at->flags = (uint16_t)rnd64();
			maybe(&e);
			break;
		case 5:
			raw_attr(&c, (uint16_t)(rnd(64) + RAW_UNKNOWN_ATTR),
				 (uint16_t)rnd(9), rnd64())->flags =
				(uint16_t)rnd(4);
			maybe(&e);
			break;
		case 6:
			c.hdr.reserved1 = rnd64() | 1;
			defect(&e, 0, "header reserved field set");
			break;
		case 7:
			c.hdr.driver_id = (uint32_t)rnd(64) + 1;
			if (c.hdr.driver_id == RDMA_DRIVER_RXE)
				c.hdr.driver_id = 0;
			defect(&e, EINVAL, "another driver's id");
			break;
		case 8:
			c.hdr.method_id = (uint16_t)(rnd(0xff00) + 0x100);
			defect(&e, 0, "no such method");
			break;
		case 9:
			at = &c.attrs[1];
			at->data = rnd_edge();
			if (at->attr_id == UVERBS_ATTR_REG_DMABUF_MR_PD_HANDLE &&
			    at->data != dev.pd->handle &&
			    at->data != pd2->handle)
				defect(&e, 0, "no such PD");
			else
				maybe(&e);
			break;
		default:
			for (int k = 1; k < c.hdr.num_attrs; k++)
				if (c.attrs[k].attr_id ==
				    UVERBS_ATTR_REG_DMABUF_MR_RESP_LKEY)
					c.attrs[k].data = rnd(2) ?
						(uintptr_t)ro_page : 0;
			defect(&e, EFAULT, "lkey not writable");
			break;
		}
	}
	describe("raw REG_DMABUF_MR(%s size 0x%" PRIx64 "; %s)",
		 xfer_dmabuf_buf_ops[bufs[slot].src].name, bufs[slot].size,
		 nmut ? muts : "well-formed");
	err = judge(&e, raw_cmd_exec(cmd_fd, &c));
	if (!err) {
		/* The handle attribute may have been dropped or moved. */
		uint32_t handle = (uint32_t)c.attrs[0].data;
		struct ibv_pd *pd = c.attrs[1].data == pd2->handle ? pd2 :
				    dev.pd;
		/* Without the access attribute the MR has no access at all. */
		unsigned int access = 0;

		for (int k = 1; k < c.hdr.num_attrs; k++)
			if (c.attrs[k].attr_id ==
			    UVERBS_ATTR_REG_DMABUF_MR_ACCESS_FLAGS)
				access = (unsigned int)c.attrs[k].data;
		track(NULL, handle, r.lkey, r.rkey, slot, access, IOVA_BASE,
		      bufs[slot].size, pd);
	}
	check_attach(slot);
}

/* Destroy a handle that is no MR of ours: must fail. */
static void op_raw_destroy(void)
{
	int64_t handle = chance(20) ? (int64_t)dev.pd->handle :
			 (int64_t)rnd_edge();
	bool by_write = chance(50);
	struct expect e;

	if (by_write)
		handle = (uint32_t)handle;
	if (handle_live(handle))
		return;
	ex_init(&e);
	defect(&e, ENOENT, "no such MR");
	defect(&e, EINVAL, "not an MR");
	describe("raw %s destroy of MR handle %" PRId64,
		 by_write ? "write" : "ioctl", handle);
	judge(&e, by_write ? raw_destroy_mr_write(cmd_fd, (uint32_t)handle) :
	      raw_destroy_mr_ioctl(cmd_fd, handle));
}

/* ------------------------------------------------------------------ */
/* Races                                                               */

struct racer {
	pthread_barrier_t *go;
	int kind;		/* 0 ioctl destroy, 1 write destroy, 2 move */
	uint32_t handle;
	int fd;
	uint32_t flags;
	int err;
};

static void *race_fn(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	switch (r->kind) {
	case 0:
		r->err = raw_destroy_mr_ioctl(cmd_fd, r->handle);
		break;
	case 1:
		r->err = raw_destroy_mr_write(cmd_fd, r->handle);
		break;
	default:
		r->err = xfer_dte_op(DTE_IOC_MOVE, r->fd, r->flags);
	}
	return NULL;
}

static void spawn(pthread_t *t, struct racer *r)
{
	int err = pthread_create(t, NULL, race_fn, r);

	if (err)
		xfer_die_err("pthread_create", err);
}

/*
 * Two destroys of one MR handle at once (and maybe a move of its buffer):
 * exactly one destroys it, the other finds it gone (ENOENT) or being
 * destroyed (EBUSY, the uobject's lock).
 */
static void op_race_dereg(void)
{
	int slot = pick_buf(false), nthreads = 2, err;
	struct racer r[3];
	pthread_barrier_t go;
	pthread_t t[3];
	struct expect e;
	uint32_t handle = 0;
	struct fmr *m;

	if (slot < 0)
		return;
	make_room();
	ex_init(&e);
	if (bufs[slot].revoked)
		maybe(&e);
	describe("raw REG_DMABUF_MR(%s size 0x%" PRIx64 ") to race on",
		 xfer_dmabuf_buf_ops[bufs[slot].src].name, bufs[slot].size);
	if (judge(&e, raw_reg_whole(slot, &handle)))
		return;
	for (int i = 0; i < 2; i++)
		r[i] = (struct racer){ .go = &go, .kind = (int)rnd(2),
				       .handle = handle };
	if (xfer_dmabuf_src_is_dte(bufs[slot].src) && chance(50))
		r[nthreads++] = (struct racer){
			.go = &go, .kind = 2, .fd = bufs[slot].fd,
			.flags = (uint32_t)rnd(2),
		};
	describe("destroy handle %u by %s and %s at once%s", handle,
		 r[0].kind ? "write" : "ioctl", r[1].kind ? "write" : "ioctl",
		 nthreads > 2 ? ", moving the buffer" : "");
	pthread_barrier_init(&go, NULL, (unsigned int)nthreads);
	for (int i = 0; i < nthreads; i++)
		spawn(&t[i], &r[i]);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);

	for (int i = 0; i < 2; i++)
		count(cur_op, r[i].err);
	if (!!r[0].err == !!r[1].err)
		report("destroys returned %s and %s, want one success",
		       errname(r[0].err), errname(r[1].err));
	else if ((err = r[0].err | r[1].err) != ENOENT && err != EBUSY)
		report("the losing destroy returned %s, want ENOENT or EBUSY",
		       errname(err));
	else
		stats[cur_op].strict++;
	if (nthreads > 2) {
		count(cur_op, r[2].err);
		if (r[2].err && !(bufs[slot].revoked && r[2].err == ENODEV) &&
		    !bufs[slot].maps_armed)
			report("a move during the destroys returned %s",
			       errname(r[2].err));
		note_move(&bufs[slot], r[2].flags, r[2].err);
	}
	for (int i = 0; i < NMRS; i++) {
		m = &mrs[i];
		if (!m->used || m->mr || m->handle != handle)
			continue;
		m->used = false;
		if (!r[0].err || !r[1].err)
			bufs[slot].nmrs--;
	}
	check_attach(slot);
}

struct reg_racer {
	pthread_barrier_t *go;
	int fd;
	uint64_t len;
	struct ibv_mr *mr;
	int err;
};

static void *reg_fn(void *arg)
{
	struct reg_racer *r = arg;

	pthread_barrier_wait(r->go);
	errno = 0;
	r->mr = ibv_reg_dmabuf_mr(dev.pd, 0, r->len, IOVA_BASE, r->fd, ACC_RW);
	r->err = r->mr ? 0 : errno ? errno : EIO;
	return NULL;
}

static void *close_fn(void *arg)
{
	struct reg_racer *r = arg;

	pthread_barrier_wait(r->go);
	r->err = close(r->fd) ? errno : 0;
	return NULL;
}

/* A registration through an fd that another thread closes meanwhile. */
static void op_race_close_reg(void)
{
	int slot = pick_buf(false), fd, err;
	struct reg_racer reg, cl;
	pthread_barrier_t go;
	pthread_t t[2];

	if (slot < 0)
		return;
	make_room();
	fd = fcntl(bufs[slot].fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		xfer_die_err("fcntl(F_DUPFD_CLOEXEC)", errno);
	reg = (struct reg_racer){ .go = &go, .fd = fd,
				  .len = bufs[slot].size };
	cl = (struct reg_racer){ .go = &go, .fd = fd };
	describe("ibv_reg_dmabuf_mr(%s dup fd %d) while closing it",
		 xfer_dmabuf_buf_ops[bufs[slot].src].name, fd);
	pthread_barrier_init(&go, NULL, 2);
	err = pthread_create(&t[0], NULL, reg_fn, &reg);
	if (!err)
		err = pthread_create(&t[1], NULL, close_fn, &cl);
	if (err)
		xfer_die_err("pthread_create", err);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	pthread_barrier_destroy(&go);

	count(cur_op, reg.err);
	count(cur_op, cl.err);
	if (cl.err)
		report("close returned %s", errname(cl.err));
	else if (reg.err && reg.err != EBADF &&
		 !(bufs[slot].revoked && reg.err))
		report("registration returned %s, want success or EBADF",
		       errname(reg.err));
	else
		stats[cur_op].strict++;
	if (reg.mr)
		track(reg.mr, reg.mr->handle, reg.mr->lkey, reg.mr->rkey, slot,
		      ACC_RW,
		      IOVA_BASE, bufs[slot].size, dev.pd);
	check_attach(slot);
}

/* ------------------------------------------------------------------ */
/* Peer traffic                                                        */

#define TRAFFIC_LEN	8192	/* the most a WRITE, READ or FLUSH covers */

/* The peer pair and its requester's buffer (peer_mr is above). */
static struct peer_pair peer;
static char *peer_buf;
static uint64_t peer_wr_id;

/* Addresses no process can map: an implicit ODP MR reaches nothing there. */
static const uint64_t non_user[] = {
	0xffff888000000000ULL, 0xfffffffffffff000ULL,
};

/* The completion of @wr_id on @cq within 10 s: its status, -1 if none. */
static int wait_wc(struct ibv_cq *cq, uint64_t wr_id)
{
	double end = xfer_now() + 10;
	struct ibv_wc wc;
	int n;

	for (;;) {
		n = ibv_poll_cq(cq, 1, &wc);
		if (n < 0)
			xfer_die_err("ibv_poll_cq", errno);
		if (n && wc.wr_id == wr_id)
			return wc.status;
		if (n) {
			report("a completion of wr_id %" PRIu64 " came (%s) while waiting for %" PRIu64,
			       (uint64_t)wc.wr_id, ibv_wc_status_str(wc.status),
			       wr_id);
			continue;
		}
		if (xfer_now() > end)
			return -1;
		usleep(100);
	}
}

static const char *wc_name(int st)
{
	return st < 0 ? "no completion" :
	       ibv_wc_status_str((enum ibv_wc_status)st);
}

/*
 * What @op at [@raddr, @raddr + @len) of @m completes with:
 * IBV_WC_SUCCESS, IBV_WC_REM_ACCESS_ERR, or -1 where that is not pinned
 * down (an ODP MR over memory that may not be there, a map failure the
 * exporter may still inject).
 */
static int traffic_want(const struct fmr *m, enum peer_op op, uint64_t raddr,
			uint32_t len)
{
	const struct peer_op_info *o = &peer_ops[op];
	const struct fbuf *b = m->slot >= 0 ? &bufs[m->slot] : NULL;
	bool whole_mr = o->flush_type && o->flush_level == IBV_FLUSH_MR;

	/* rxe's lookup_mr(), then its range check (a FLUSH of the MR none). */
	if (m->pd != dev.pd || (m->access & o->access) != o->access)
		return IBV_WC_REM_ACCESS_ERR;
	if (!whole_mr && (raddr < m->iova || len > m->len ||
			  raddr - m->iova > m->len - len))
		return IBV_WC_REM_ACCESS_ERR;
	/* An iova range that wraps past 2^64 (rxe took it): who knows. */
	if (add_overflows(m->iova, m->len - 1))
		return -1;
	if (b) {
		/* rxe has no pages of a dma-buf MR to write back. */
		if (o->flush_type == IBV_FLUSH_PERSISTENT)
			return IBV_WC_REM_ACCESS_ERR;
		if (!o->touches)
			return IBV_WC_SUCCESS;
		/* Nothing to map, or I/O memory that cannot be atomic. */
		if (b->revoked || (o->word && b->src == XFER_SRC_DTE_IOMEM))
			return IBV_WC_REM_ACCESS_ERR;
		return b->maps_armed || b->fence_bad ? -1 : IBV_WC_SUCCESS;
	}
	/* Pinned memory is there; ODP memory is never written back. */
	if (!m->odp || !o->touches)
		return IBV_WC_SUCCESS;
	/*
	 * IBV_ACCESS_HUGETLB over ordinary pages: every access fails where
	 * the kernel has huge pages (the core wants 2 MiB ones), not on UML.
	 */
	if (m->access & IBV_ACCESS_HUGETLB)
		return -1;
	if (m->implicit) {
		if (within(raddr, len, arena, ARENA_PAGES * PAGE))
			return IBV_WC_SUCCESS;
		return raddr >= USER_VA_LIMIT ? IBV_WC_REM_ACCESS_ERR : -1;
	}
	return m->arena ? IBV_WC_SUCCESS : -1;
}

/*
 * Where @len bytes of an op go at @m: mostly inside it, sometimes across
 * its end, before its start or anywhere; for the implicit MR inside the
 * arena or where no process has memory, for it reaches all the rest of
 * ours. 8-byte aligned for an atomic (the memory then is too).
 */
static uint64_t traffic_addr(const struct fmr *m, uint32_t len, bool word)
{
	uint64_t base = m->iova, span = m->len, a;

	if (m->implicit) {
		if (chance(15))
			return PICK(non_user);
		base = (uintptr_t)arena;
		span = ARENA_PAGES * PAGE;
	}
	switch (m->implicit ? 3 : rnd(8)) {
	case 0:
		a = base + span - len / 2;
		break;
	case 1:
		a = base - PAGE + rnd(PAGE);
		break;
	case 2:
		a = rnd_edge();
		break;
	default:
		a = base + (span > len ? rnd(span - len + 1) : 0);
	}
	return word ? a & ~7ULL : a;
}

/* Judge completion status @st of @op by @want (-1: not pinned down). */
static void judge_wc(int want, int st)
{
	count(cur_op, st);
	if (verbose)
		printf("  %" PRIu64 " %s: %s -> %s\n", iter, op_names[cur_op],
		       desc, wc_name(st));
	if (want < 0)
		return;
	if (st != want)
		report("%s, want %s", wc_name(st), wc_name(want));
	else
		stats[cur_op].strict++;
}

/*
 * @op from the peer at @m's rkey, judged. Only a READ or a FLUSH goes to
 * an MR over memory that is not known to be ours to overwrite.
 */
static void traffic(struct fmr *m, enum peer_op op)
{
	const struct peer_op_info *o;
	struct fbuf *b = m->slot >= 0 ? &bufs[m->slot] : NULL;
	struct peer_wr w;
	int st, err;

	if (!m->mem_known && !m->implicit && peer_ops[op].touches &&
	    op != PEER_READ)
		op = PEER_READ;
	o = &peer_ops[op];
	w = (struct peer_wr){
		.op = op,
		.wr_id = ++peer_wr_id,
		.rkey = m->rkey,
		.len = o->word ? 8 : 1 + (uint32_t)rnd(TRAFFIC_LEN),
		.laddr = (uintptr_t)peer_buf,
		.lkey = peer_mr->lkey,
		.compare_add = rnd64(),
		.swap = rnd64(),
		.imm = (uint32_t)rnd64(),
	};
	w.raddr = traffic_addr(m, w.len, o->word);
	/*
	 * A failure armed on a buffer whose fd is open: disarm it, and
	 * replace a failed fence with a good move.
	 */
	if (b && (b->maps_armed || b->fence_bad) && b->fd >= 0 &&
	    !b->revoked) {
		if (!xfer_dte_fail_maps(b->fd, 0, ENOMEM))
			b->maps_armed = false;
		if (!b->maps_armed)
			note_move(b, DTE_MOVE_WAIT,
				  xfer_dte_op(DTE_IOC_MOVE, b->fd,
					      DTE_MOVE_WAIT));
	}

	describe("peer %s of %u bytes at 0x%" PRIx64 " of %s lkey 0x%x (iova 0x%" PRIx64 ", length 0x%" PRIx64 ", access 0x%x%s)",
		 o->name, w.len, w.raddr, mr_kind(m->lkey), m->lkey, m->iova,
		 m->len, m->access, m->pd == dev.pd ? "" : ", on pd2");
	err = peer_post(&peer, &w);
	if (err) {
		report("posting: %s", errname(err));
		st = -1;
	} else {
		st = wait_wc(peer.cq[0], w.wr_id);
		judge_wc(traffic_want(m, op, w.raddr, w.len), st);
	}
	if (!st && op == PEER_WRITE_IMM) {
		st = wait_wc(peer.cq[1], w.wr_id);
		if (st)
			report("the receive of the immediate: %s", wc_name(st));
	}
	if (st) {
		err = peer_reset(&peer, &dev);
		if (err)
			xfer_die("resetting the peer QP pair after %s: %s: %s",
				 desc, peer.why, strerror(err));
	}
}

static void op_traffic(void)
{
	struct fmr *m = pick_mr();

	if (m)
		traffic(m, (enum peer_op)rnd(PEER_NOPS));
}

/* What a rereg just allowed or took away: a FLUSH, ATOMIC_WRITE, any. */
static void traffic_after_rereg(struct fmr *m)
{
	static const enum peer_op flushes[] = {
		PEER_FLUSH_P_RANGE, PEER_FLUSH_P_MR, PEER_FLUSH_G_RANGE,
		PEER_FLUSH_G_MR,
	};
	enum op op = cur_op;

	cur_op = OP_TRAFFIC;
	traffic(m, PICK(flushes));
	traffic(m, PEER_ATOMIC_WRITE);
	traffic(m, (enum peer_op)rnd(PEER_NOPS));
	cur_op = op;
}

static void setup_peer(void)
{
	int err;

	peer_buf = mmap(NULL, TRAFFIC_LEN, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (peer_buf == MAP_FAILED)
		xfer_die_err("mmap", errno);
	peer_mr = ibv_reg_mr(dev.pd, peer_buf, TRAFFIC_LEN,
			     IBV_ACCESS_LOCAL_WRITE);
	if (!peer_mr)
		xfer_die_err("ibv_reg_mr", errno);
	err = peer_open(&peer, &dev);
	if (err)
		xfer_die_err("a peer QP pair for every opcode", err);
}

static void teardown_peer(void)
{
	int err;

	peer_close(&peer);
	err = ibv_dereg_mr(peer_mr);
	if (err)
		xfer_die_err("ibv_dereg_mr", err);
	peer_mr = NULL;
	munmap(peer_buf, TRAFFIC_LEN);
}

/* ------------------------------------------------------------------ */
/* Setup, the final checks, main                                       */

static void open_others(void)
{
	int p[2], s[2];

	for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
		const char *w = others[i].what;
		int fd = -1;

		if (!strcmp(w, "eventfd")) {
			fd = eventfd(0, EFD_CLOEXEC);
		} else if (!strcmp(w, "pipe")) {
			if (!pipe2(p, O_CLOEXEC)) {
				close(p[1]);
				fd = p[0];
			}
		} else if (!strcmp(w, "socket")) {
			if (!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
					s)) {
				close(s[1]);
				fd = s[0];
			}
		} else if (!strcmp(w, "/dev/null")) {
			fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		} else if (!strcmp(w, "directory")) {
			fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		} else if (!strcmp(w, "exporter chardev")) {
			fd = open(DTE_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		} else if (!strcmp(w, "memfd")) {
			fd = memfd_create("fuzz", MFD_CLOEXEC);
			if (fd >= 0 && ftruncate(fd, 1 << 16))
				xfer_die_err("ftruncate", errno);
		} else if (!strcmp(w, "regular file")) {
			fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		} else if (!strcmp(w, "uverbs fd")) {
			fd = dev.ctx->cmd_fd;
		} else {
			fd = dev.ctx->async_fd;
		}
		if (fd < 0 && strcmp(w, "exporter chardev"))
			xfer_die("cannot open a %s: %s", w, strerror(errno));
		others[i].fd = fd;
	}
}

/*
 * The end of this process's highest mapping below the kernel's half (the
 * x86 vsyscall page lies there): user addresses reach at least that far.
 */
static uint64_t highest_mapping_end(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long long start, end;
	uint64_t top = 0;
	char line[512];

	if (!f)
		xfer_die_err("open /proc/self/maps", errno);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx", &start, &end) == 2 &&
		    end <= 1ULL << 63 && end > top)
			top = end;
	fclose(f);
	if (!top)
		xfer_die("no mapping in /proc/self/maps");
	return top;
}

/*
 * The arena, a guard page, the read-only page and a second guard page: a
 * range that runs past the read-only page must find nothing there to pin,
 * whatever the kernel happened to map next to it.
 */
static void setup_memory(void)
{
	char *m = mmap(NULL, (ARENA_PAGES + 3) * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		xfer_die_err("mmap", errno);
	memset(m, 0x5a, (ARENA_PAGES + 2) * PAGE);
	arena = m;
	guard = m + ARENA_PAGES * PAGE;
	ro_page = guard + PAGE;
	if (mprotect(guard, PAGE, PROT_NONE) ||
	    mprotect(ro_page, PAGE, PROT_READ) ||
	    mprotect(ro_page + PAGE, PAGE, PROT_NONE))
		xfer_die_err("mprotect", errno);
	user_va_seen = highest_mapping_end();
}

/* Which sources this kernel has, and a first buffer of each. */
static void setup_bufs(void)
{
	static const int srcs[] = {
		XFER_SRC_DTE, XFER_SRC_UDMABUF, XFER_SRC_HEAP, XFER_SRC_DTE,
		XFER_SRC_DTE,
	};
	static const uint64_t sizes[] = { 65536, PAGE, 3 * PAGE + 1, PAGE + 1,
					  1 << 20 };

	for (size_t i = 0; i < ARRAY_SIZE(srcs); i++) {
		struct xfer_buf b;
		int src = srcs[i], err;

		err = xfer_dmabuf_open(&b, (enum xfer_dmabuf_src)src, sizes[i]);
		if (err) {
			printf("# no %s buffers: %s\n",
			       xfer_dmabuf_buf_ops[src].name, strerror(err));
			continue;
		}
		have_src[src] = true;
		munmap(b.map, b.map_len);
		add_buf(b.fd, src, b.map_len);
	}
	if (!have_src[XFER_SRC_DTE] && !have_src[XFER_SRC_UDMABUF] &&
	    !have_src[XFER_SRC_HEAP])
		xfer_die("no dma-buf source at all (dte, udmabuf, heap)");
}

/* Post @wr and wait for its completion: the status, -1 if none came. */
static int post_wait(struct xfer_ep *ep, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad;
	struct ibv_wc wc;
	double end = xfer_now() + 10;
	int n, err;

	err = ibv_post_send(ep->qp, wr, &bad);
	if (err)
		xfer_die_err("ibv_post_send", err);
	while (!(n = ibv_poll_cq(ep->cq, 1, &wc))) {
		if (xfer_now() > end)
			return -1;
		usleep(200);
	}
	if (n < 0)
		xfer_die_err("ibv_poll_cq", errno);
	return wc.status;
}

/*
 * After all that: a fresh dma-buf MR takes an RDMA WRITE over a new QP
 * pair, and every byte arrives in the buffer.
 */
static int final_transfer(void)
{
	static const int order[] = {
		XFER_SRC_DTE, XFER_SRC_HEAP, XFER_SRC_UDMABUF,
	};
	const size_t len = 65536;
	struct xfer_ep req, resp;
	struct xfer_conn_info ri, si;
	struct xfer_buf b;
	struct ibv_mr *mr;
	struct ibv_sge sge;
	struct ibv_send_wr wr;
	size_t bad;
	int err = ENOENT, status, src = -1;

	for (size_t i = 0; i < ARRAY_SIZE(order) && err; i++) {
		src = order[i];
		err = xfer_dmabuf_open(&b, (enum xfer_dmabuf_src)src, len);
	}
	if (err) {
		printf("FAIL final: cannot create a buffer: %s\n", strerror(err));
		return -1;
	}
	mr = ibv_reg_dmabuf_mr(dev.pd, 0, len, b.iova, b.fd, ACC_RW);
	if (!mr) {
		printf("FAIL final: ibv_reg_dmabuf_mr: %s\n", strerror(errno));
		xfer_dmabuf_close(&b);
		return -1;
	}
	b.mr = mr;
	xfer_ep_create(&req, &dev, &xfer_host_buf_ops, len, PAGE, 16, 1);
	xfer_ep_create(&resp, &dev, &xfer_host_buf_ops, len, PAGE, 16, 1);
	xfer_ep_info(&req, &ri);
	xfer_ep_info(&resp, &si);
	xfer_ep_connect(&req, &si, IBV_MTU_1024, 1);
	xfer_ep_connect(&resp, &ri, IBV_MTU_1024, 1);

	xfer_pattern_fill(req.data.addr, 77, len);
	sge = (struct ibv_sge){
		.addr = (uintptr_t)req.data.addr,
		.length = (uint32_t)len,
		.lkey = req.data.mr->lkey,
	};
	wr = (struct ibv_send_wr){
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = b.iova, .rkey = mr->rkey },
	};
	status = post_wait(&req, &wr);
	xfer_buf_cpu_begin(&b, false);
	bad = xfer_pattern_diff(b.addr, 77, len);
	xfer_buf_cpu_end(&b, false);
	xfer_ep_destroy(&req);
	xfer_ep_destroy(&resp);
	xfer_dmabuf_close(&b);
	if (status != IBV_WC_SUCCESS) {
		printf("FAIL final: RDMA WRITE into a fresh %s MR: %s\n",
		       xfer_dmabuf_buf_ops[src].name,
		       status < 0 ? "no completion" :
		       ibv_wc_status_str((enum ibv_wc_status)status));
		return -1;
	}
	if (bad != len) {
		printf("FAIL final: byte %zu of %zu differs after the RDMA WRITE\n",
		       bad, len);
		return -1;
	}
	printf("# final: %zu bytes written into a fresh %s MR and verified\n",
	       len, xfer_dmabuf_buf_ops[src].name);
	return 0;
}

/* Every MR goes, every buffer shows no attachment, the device works. */
static int finish(void)
{
	uint64_t before = failures;
	struct dte_stats st;
	int rc = 0;

	/* First the QPs: the responder may still hold the MR it last used. */
	teardown_peer();
	cur_op = OP_DEREG;
	for (int i = 0; i < NMRS; i++)
		if (mrs[i].used)
			dereg(&mrs[i]);
	for (int i = 0; i < NBUFS; i++) {
		struct fbuf *b = &bufs[i];

		if (!b->used || b->fd < 0)
			continue;
		if (xfer_dmabuf_src_is_dte(b->src)) {
			if (xfer_dte_stats(b->fd, &st))
				report("DTE_IOC_STATS at the end failed");
			else if (st.attachments || st.pins)
				report("%llu attachments, %llu pins left at the end",
				       (unsigned long long)st.attachments,
				       (unsigned long long)st.pins);
		}
		close(b->fd);
	}
	if (failures != before)
		rc = -1;
	if (final_transfer())
		rc = -1;
	return rc;
}

static void print_summary(uint64_t iters, double secs)
{
	uint64_t calls = 0, strict = 0, all[NERR] = { 0 };
	char line[1024];
	size_t len;

	printf("# %-15s %8s %8s %8s  errnos\n", "op", "calls", "ok", "strict");
	for (int op = 0; op < OP_COUNT; op++) {
		const struct op_stats *s = &stats[op];

		len = 0;
		line[0] = 0;
		for (int err = 0; err < NERR; err++) {
			/* Traffic counts completion statuses, not errnos. */
			bool wc = op == OP_TRAFFIC;

			if (!s->err[err])
				continue;
			if (!wc)
				all[err] += s->err[err];
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						" %s=%" PRIu64,
						!err ? "other" : wc ?
						wc_name(err) : errname(err),
						s->err[err]);
			if (len >= sizeof(line))
				len = sizeof(line) - 1;
		}
		calls += s->calls;
		strict += s->strict;
		printf("# %-15s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %s\n",
		       op_names[op], s->calls, s->ok, s->strict, line);
	}
	len = 0;
	line[0] = 0;
	for (int err = 0; err < NERR; err++) {
		if (!all[err])
			continue;
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s:%" PRIu64,
					len ? "," : "", err ? errname(err) : "other",
					all[err]);
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
	}
	printf("fuzz: seed=%" PRIu64 " iterations=%" PRIu64 " calls=%" PRIu64 " strict=%" PRIu64 " sigbus=%" PRIu64 " fails=%" PRIu64 " seconds=%.1f errnos={%s}\n",
	       seed, iters, calls, strict, sigbus_hits, failures, secs, line);
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t min,
			  uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *s == '+')
		xfer_die_usage("invalid %s '%s': not a number", opt, s);
	if (v < min || v > max)
		xfer_die_usage("invalid %s '%s': must be between %" PRIu64 " and %" PRIu64,
			       opt, s, min, max);
	return v;
}

static enum op pick_op(void)
{
	unsigned int total = 0, r;

	for (int op = 0; op < OP_COUNT; op++)
		total += op_weight[op];
	r = (unsigned int)rnd(total);
	for (int op = 0; op < OP_COUNT; op++) {
		if (r < op_weight[op])
			return (enum op)op;
		r -= op_weight[op];
	}
	return OP_REG_DMABUF;
}

static void (*const op_fns[OP_COUNT])(void) = {
	[OP_REG_DMABUF] = op_reg_dmabuf, [OP_REG_MR] = op_reg_mr,
	[OP_DEREG] = op_dereg, [OP_ADVISE] = op_advise,
	[OP_REREG] = op_rereg, [OP_RAW_REREG] = op_raw_rereg,
	[OP_DTE_IOCTL] = op_dte_ioctl, [OP_DMABUF_IOCTL] = op_dmabuf_ioctl,
	[OP_MMAP] = op_mmap, [OP_CLOSE] = op_close, [OP_NEW_BUF] = op_new_buf,
	[OP_RAW_REG] = op_raw_reg, [OP_RAW_DESTROY] = op_raw_destroy,
	[OP_RACE_DEREG] = op_race_dereg,
	[OP_RACE_CLOSE_REG] = op_race_close_reg, [OP_TRAFFIC] = op_traffic,
};

static void usage(void)
{
	printf("usage: fuzz [--seed N] [--iters N] [--seconds S] [-d|--dev DEV]\n"
	       "            [-x|--gid-index N] [-v|--verbose]\n"
	       "Random invalid and extreme calls of the MR verbs and the test exporter.\n"
	       "Stops after --iters calls or --seconds, whichever comes first\n"
	       "(default: --iters 2000). The seed is printed first; --seed replays it.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "iters", required_argument, NULL, 'i' },
		{ "seconds", required_argument, NULL, 't' },
		{ "dev", required_argument, NULL, 'd' },
		{ "gid-index", required_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t iters = 0, seconds = 0;
	const char *devname = NULL;
	bool have_seed = false;
	int gid_index = 1, c;
	struct sigaction sa;
	double start, end;

	xfer_prog = "fuzz";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:x:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			seed = parse_u64("--seed", optarg, 0, UINT64_MAX);
			have_seed = true;
			break;
		case 'i':
			iters = parse_u64("--iters", optarg, 1, 1000000000);
			break;
		case 't':
			seconds = parse_u64("--seconds", optarg, 1, 86400);
			break;
		case 'd':
			devname = optarg;
			break;
		case 'x':
			gid_index = (int)parse_u64("--gid-index", optarg, 0,
						   255);
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage();
			return 0;
		case ':':
			xfer_die_usage("option '%s' needs an argument",
				       argv[optind - 1]);
		default:
			xfer_die_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		xfer_die_usage("unexpected argument '%s'", argv[optind]);
	if (!iters && !seconds)
		iters = 2000;
	if (!have_seed)
		seed = (uint64_t)time(NULL) * 1000003ULL ^ (uint64_t)getpid();
	printf("fuzz: seed=%" PRIu64 "\n", seed);
	fflush(stdout);
	if (sysconf(_SC_PAGESIZE) != (long)PAGE)
		xfer_die("the fuzzer assumes 4 KiB pages");
	fuzz_seed(seed);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = crash_handler;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	xfer_quiet = true;
	xfer_dev_open(&dev, devname, gid_index);
	cmd_fd = dev.ctx->cmd_fd;
	pd2 = ibv_alloc_pd(dev.ctx);
	if (!pd2)
		xfer_die_err("ibv_alloc_pd", errno);
	setup_memory();
	open_others();
	setup_bufs();
	setup_peer();

	start = xfer_now();
	end = seconds ? start + (double)seconds : 0;
	for (iter = 0; (!iters || iter < iters) && (!end || xfer_now() < end);
	     iter++) {
		cur_op = pick_op();
		desc[0] = 0;
		op_fns[cur_op]();
		if (failures > MAX_FAILS) {
			printf("FAIL seed=%" PRIu64 ": more than %d failures, stopping\n",
			       seed, MAX_FAILS);
			break;
		}
	}
	printf("# %" PRIu64 " iterations in %.1f s; finishing\n", iter,
	       xfer_now() - start);
	if (finish())
		failures += !failures;
	print_summary(iter, xfer_now() - start);
	ibv_dealloc_pd(pd2);
	xfer_dev_close(&dev);
	return failures ? XFER_EXIT_FAIL : 0;
}
