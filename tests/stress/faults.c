/*
 * faults: inject failures into rxe's dma-buf refault path and check that
 * each one fails exactly the work request that hit it.
 *
 * A victim QP pair on test exporter buffers makes one verified WRITE (both
 * MRs mapped), then one of its buffers - the requester's source ("local")
 * or the responder's destination ("remote") - is made to refault and the
 * refault to fail, by one of:
 *
 *   fail-maps      the exporter fails the next map_dma_buf (DTE_IOC_FAIL_MAPS)
 *   fence-timeout  the buffer is moved with a copy fence that signals after
 *                  rxe's 5 s fence timeout
 *   revoke         the buffer is revoked while three WRITEs are in flight
 *   failslab       the kernel's failslab fails the exporter's sg-table
 *                  allocation (kmalloc-64) made on rxe's behalf
 *   failpage       fail_page_alloc fails a page allocation of the
 *                  exporter's restore of an evicted buffer (WRITEs of
 *                  one page for this kind)
 *
 * The last two cannot be aimed at one call: both filter on the task, and
 * rxe refaults from its work items, so every unbound kworker is marked
 * make-it-fail for the window of one WRITE and the injection is limited to
 * one failure (see arm() for why nothing finer is used). When it lands
 * elsewhere (no refault error, the WRITEs succeed) the case is retried, up
 * to FAULTS_ATTEMPTS times. The kernel log of each attempt is read back
 * from /dev/kmsg: a failslab failure that failed the refault must show
 * dte_map_dma_buf in its stack dump, and one that missed must not.
 *
 * Each case checks: the first WRITE after the injection completes with
 * IBV_WC_LOC_PROT_ERR (local) or IBV_WC_REM_ACCESS_ERR (remote), as
 * rxe_dmabuf.c maps a refault error, the WRITEs behind it with
 * IBV_WC_WR_FLUSH_ERR (a revocation may first let some succeed); exactly
 * one failure was injected and rxe's dmabuf_refault_errors counter rose;
 * the requester QP is in the error state and the responder QP too for a
 * remote access error (class C, IBA 9.9.3.1.3) but not for a local one;
 * both buffers have one attachment and no pin until deregistration and
 * none, with as many unmaps as maps, after it. A bystander QP pair on
 * buffers of its own, moved every 2 ms, does verified WRITEs all along.
 *
 * A run is --iters rounds over the selected kinds, both sides each, or
 * with --seconds, rounds until the time is up (the first in full); the
 * summary gives the cases run of each kind.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib_stress.h"

#define FAULTS_WRS		3
#define FAULTS_ATTEMPTS		20
/* Longer than RXE_DMABUF_FENCE_TIMEOUT_MS (5 s). */
#define FAULTS_FENCE_DELAY_US	6500000U
/* The failslab cache of struct dte_mapping, the exporter's sg_table. */
#define FAULTS_SLAB		"kmalloc-64"
/* Where that allocation is made: in failslab's stack dumps. */
#define FAULTS_MAP_FN		"dte_map_dma_buf"
#define DEBUGFS			"/sys/kernel/debug"

enum fault_kind {
	FAIL_MAPS,
	FENCE_TIMEOUT,
	REVOKE,
	FAILSLAB,
	FAILPAGE,
	KIND_COUNT
};

static const char *const kind_names[KIND_COUNT] = {
	"fail-maps", "fence-timeout", "revoke", "failslab", "failpage",
};

enum side { LOCAL, REMOTE };
static const char *const side_names[] = { "local", "remote" };

struct kind_totals {
	unsigned int cases;
	unsigned int misses;		/* injections that hit elsewhere */
	uint64_t injected;
	uint64_t wr_errors;		/* the expected error status */
	uint64_t flushed;
	uint64_t successes;		/* WRs done before a revocation */
	uint64_t refault_errors;
	/* failslab, failpage: the kernel log of their attempts */
	unsigned int notices;		/* "FAULT_INJECTION" notices */
	unsigned int in_map;		/* attempts with FAULTS_MAP_FN dumped */
};

static struct kind_totals totals[KIND_COUNT];
static struct xfer_dev dev;
static struct stress_bystander *bystander;
static size_t msg_size = 256 * 1024;
static int kmsg_fd = -1;

static void usage(FILE *f)
{
	fprintf(f,
"usage: faults [options]\n"
"Injects refault failures into a victim QP pair's dma-buf MRs and checks\n"
"the error completions, QP states and exporter attachments; a bystander\n"
"pair moves verified data all along. Needs root, rxe, debugfs and\n"
"dmabuf_test_exporter.\n"
"  -d, --dev NAME     RDMA device (default: the first one)\n"
"  -k, --kinds LIST   comma-separated kinds, or all (default):\n"
"                     fail-maps,fence-timeout,revoke,failslab,failpage\n"
"  -n, --iters N      cases per kind and side, 1..100 (default:\n"
"                     $STRESS_ITERS, else 1)\n"
"  -t, --seconds S    instead of --iters: go round the kinds until S\n"
"                     seconds, 1..%d, have passed; each runs at least once\n"
"  -s, --size BYTES   victim WRITE size, 4096..4194304 (default 262144)\n",
		XFER_MAX_SECONDS);
}

static void write_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "we");

	if (!f || fputs(val, f) < 0 || fclose(f))
		xfer_die("cannot write '%s' to %s: %s", val, path,
			 strerror(errno));
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v;

	if (!f || fscanf(f, "%ld", &v) != 1)
		xfer_die("cannot read %s: %s", path, strerror(errno));
	fclose(f);
	return v;
}

/*
 * Set make-it-fail of every kworker (@val 1: unbound ones only, where
 * rxe_wq's work runs); returns how many were set.
 */
static int mark_kworkers(int val)
{
	const char *prefix = val ? "kworker/u" : "kworker/";
	char path[300], comm[64];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc");
	FILE *f;

	if (!d)
		xfer_die_err("opendir(/proc)", errno);
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (strncmp(comm, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/make-it-fail",
			 de->d_name);
		f = fopen(path, "we");
		/* A kworker may exit under us. */
		if (f && fprintf(f, "%d\n", val) > 0 && !fclose(f))
			n++;
		else if (f)
			fclose(f);
	}
	closedir(d);
	return n;
}

/* The fault attribute's debugfs directory, also its name in notices. */
static const char *attr_name(enum fault_kind k)
{
	return k == FAILSLAB ? "failslab" : "fail_page_alloc";
}

static const char *attr_dir(enum fault_kind k)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), DEBUGFS "/%s", attr_name(k));
	return dir;
}

static void attr_write(enum fault_kind k, const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", attr_dir(k), name);
	write_file(path, val);
}

/*
 * One failure, of any kworker, of a sleeping allocation.
 *
 * Marking every unbound kworker is blunt: the one failure may go to
 * unrelated work that allocates in the window (it is then a miss, and
 * retried), and a kworker created after the marking is not armed (a miss
 * too). The precise tools are not available: the stack-trace filter
 * (require-start/require-end on the exporter's .text) needs
 * CONFIG_FAULT_INJECTION_STACKTRACE_FILTER, and fail_function needs
 * CONFIG_FAIL_FUNCTION and a function marked ALLOW_ERROR_INJECTION; the
 * debug kernels have neither, and UML cannot have the latter. So the
 * window is kept short (the bystander is paused, one WRITE's refault),
 * the injection is limited to one failure, and each attempt's kernel log
 * says where it went: failslab dumps the stack of its failure
 * (verbose=2: one dump per attempt, read back at once) to show that it
 * was the exporter's map; fail_page_alloc is silent for the __GFP_NOWARN
 * allocations of the restore, so it only gives the notice (verbose=1)
 * and its proof is the "times" count and the refault error.
 */
static void arm(enum fault_kind k)
{
	if (k == FAILSLAB) {
		write_file("/sys/kernel/slab/" FAULTS_SLAB "/failslab", "1");
		attr_write(k, "cache-filter", "Y");
	} else {
		attr_write(k, "ignore-gfp-highmem", "N");
		attr_write(k, "min-order", "0");
	}
	attr_write(k, "ignore-gfp-wait", "N");
	attr_write(k, "task-filter", "Y");
	attr_write(k, "interval", "1");
	attr_write(k, "space", "0");
	attr_write(k, "verbose", k == FAILSLAB ? "2" : "1");
	attr_write(k, "times", "1");
	if (!mark_kworkers(1))
		xfer_die("no unbound kworker to mark make-it-fail");
	attr_write(k, "probability", "100");
}

/* Returns the failures injected since arm(). */
static uint64_t disarm(enum fault_kind k)
{
	char path[128];
	long left;

	attr_write(k, "probability", "0");
	mark_kworkers(0);
	snprintf(path, sizeof(path), "%s/times", attr_dir(k));
	left = read_long(path);
	attr_write(k, "times", "1");
	if (k == FAILSLAB)
		write_file("/sys/kernel/slab/" FAULTS_SLAB "/failslab", "0");
	return left < 1 ? (uint64_t)(1 - left) : 0;
}

/*
 * Reading the kernel log of one attempt: each read of /dev/kmsg returns
 * one record from this descriptor's own position, so what other readers
 * do does not matter, and records overwritten in the ring before they are
 * read make read() fail with EPIPE, which is reported, where counting
 * lines of dmesg before and after goes wrong once the ring wraps.
 */
static void kmsg_mark(void)
{
	if (kmsg_fd < 0) {
		kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (kmsg_fd < 0)
			xfer_die_err("open(/dev/kmsg)", errno);
	}
	/* Past the last record: read() returns only later ones. */
	if (lseek(kmsg_fd, 0, SEEK_END) < 0)
		xfer_die_err("lseek(/dev/kmsg)", errno);
}

struct kmsg_counts {
	unsigned int notices;	/* of kind @k's fault attribute */
	bool in_map;		/* a record names FAULTS_MAP_FN */
	bool lost;		/* records were overwritten before reading */
};

/* What the kernel logged since kmsg_mark(). */
static void kmsg_scan(enum fault_kind k, struct kmsg_counts *c)
{
	char rec[8192], name[64];
	ssize_t n;

	memset(c, 0, sizeof(*c));
	/* The notice is one record; its second line names the attribute. */
	snprintf(name, sizeof(name), "name %s,", attr_name(k));
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE) {
			c->lost = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			xfer_die_err("read(/dev/kmsg)", errno);
		rec[n] = 0;
		if (strstr(rec, "FAULT_INJECTION: forcing a failure") &&
		    strstr(rec, name))
			c->notices++;
		if (strstr(rec, FAULTS_MAP_FN))
			c->in_map = true;
	}
}

static bool kind_uses_kworkers(enum fault_kind k)
{
	return k == FAILSLAB || k == FAILPAGE;
}

/* Make @buf refault on its next access, and that refault fail. */
static void prepare(enum fault_kind k, struct xfer_buf *buf)
{
	int err = 0;

	switch (k) {
	case FAIL_MAPS:
		err = xfer_dte_op(DTE_IOC_MOVE, buf->fd, DTE_MOVE_WAIT);
		if (!err)
			err = xfer_dte_fail_maps(buf->fd, 1, ENOMEM);
		break;
	case FENCE_TIMEOUT:
		err = xfer_dte_fence_delay(buf->fd, FAULTS_FENCE_DELAY_US);
		if (!err)
			err = xfer_dte_op(DTE_IOC_MOVE, buf->fd, 0);
		break;
	case REVOKE:
		break;
	case FAILSLAB:
		err = xfer_dte_op(DTE_IOC_MOVE, buf->fd, DTE_MOVE_WAIT);
		break;
	case FAILPAGE:
		err = xfer_dte_op(DTE_IOC_EVICT, buf->fd, 0);
		break;
	case KIND_COUNT:
		break;
	}
	if (err)
		xfer_die("preparing %s: exporter ioctl failed: %s",
			 kind_names[k], strerror(err));
}

static void destroy_qps(struct stress_pair *p)
{
	struct xfer_ep *eps[] = { &p->req, &p->resp };
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(eps); i++) {
		err = ibv_destroy_qp(eps[i]->qp);
		if (err)
			xfer_die_err("ibv_destroy_qp", err);
		eps[i]->qp = NULL;
	}
}

/*
 * Tear the victim down in the order that lets each step be checked: no
 * QP, then one attachment per buffer; no MR, then none.
 */
static void victim_destroy(struct stress_pair *p)
{
	struct xfer_buf *bufs[] = { &p->req.data, &p->resp.data };
	int err;

	destroy_qps(p);
	for (size_t i = 0; i < ARRAY_SIZE(bufs); i++)
		stress_expect_released(bufs[i]->fd, 1, "victim");
	for (size_t i = 0; i < ARRAY_SIZE(bufs); i++) {
		err = ibv_dereg_mr(bufs[i]->mr);
		if (err)
			xfer_die_err("ibv_dereg_mr", err);
		bufs[i]->mr = NULL;
		stress_expect_released(bufs[i]->fd, 0, "victim");
	}
	stress_ep_destroy(&p->req);
	stress_ep_destroy(&p->resp);
}

static void expect_qp_state(struct ibv_qp *qp, enum ibv_qp_state want,
			    const char *who)
{
	/* The responder moves to the error state after sending its NAK. */
	double end = xfer_now() + 2;
	enum ibv_qp_state s;

	while ((s = stress_qp_state(qp)) != want && xfer_now() < end)
		stress_usleep(1000);
	if (s != want)
		xfer_die("%s QP is %s, expected %s", who,
			 stress_qp_state_str(s), stress_qp_state_str(want));
}

/* Post the WRITEs; for revoke, revoke @target while they are in flight. */
static void post_writes(struct stress_pair *p, enum fault_kind k,
			struct xfer_buf *target, int first, int n)
{
	/*
	 * fail_page_alloc's one failure must reach the responder's
	 * restore: one-packet WRITEs keep the requester from allocating
	 * new socket buffer slabs first, whose opportunistic high-order
	 * attempt would take it (and fall back to a smaller order).
	 */
	size_t len = k == FAILPAGE ? 4096 : msg_size;
	int err;

	for (int i = first; i < first + n; i++) {
		err = stress_post_write(p, (uint64_t)i, 0, len);
		if (err)
			xfer_die_err("ibv_post_send", err);
	}
	if (k == REVOKE && !first) {
		stress_usleep((uint64_t)(lrand48() % 2000));
		err = xfer_dte_op(DTE_IOC_REVOKE, target->fd, 0);
		if (err)
			xfer_die_err("DTE_IOC_REVOKE", err);
	}
}

/*
 * Check the completions @wc[0..n) of WRs 0..n-1, in order: successes
 * (revoke only), then exactly one @want among flushes. A flush may come
 * before the error: a WR the requester had sent in full but that was not
 * yet acknowledged when a later one failed is flushed with the QP.
 * Returns the index of the error, or n if every WR succeeded.
 */
static int check_wcs(const struct ibv_wc *wc, int n, enum ibv_wc_status want,
		     enum fault_kind k, struct kind_totals *t)
{
	int err_at = n;
	bool done = false;	/* past the successes */

	for (int i = 0; i < n; i++) {
		enum ibv_wc_status s = wc[i].status;

		if (wc[i].wr_id != (uint64_t)i)
			xfer_die("completion %d is of WR %" PRIu64
				 ", expected in order", i, wc[i].wr_id);
		if (s == IBV_WC_SUCCESS && !done) {
			t->successes++;
			continue;
		}
		done = true;
		if (s == IBV_WC_WR_FLUSH_ERR) {
			t->flushed++;
		} else if (s == want && err_at == n) {
			err_at = i;
			t->wr_errors++;
		} else {
			xfer_die("%s: WR %d completed with %s, expected %s",
				 kind_names[k], i, ibv_wc_status_str(s),
				 err_at == n ? ibv_wc_status_str(want) :
				 "a flush after the error");
		}
	}
	if (done && err_at == n)
		xfer_die("%s: WRs flushed without an error completion",
			 kind_names[k]);
	return err_at;
}

/*
 * The failures injected into attempt's WRITEs; for the kworker kinds
 * this disarms the injection.
 */
static uint64_t attempt_injected(enum fault_kind k, int fd,
				 const struct dte_stats *st0)
{
	struct dte_stats st;

	switch (k) {
	case FAIL_MAPS:
		stress_dte_stats(fd, &st);
		return st.injected_map_failures - st0->injected_map_failures;
	case FENCE_TIMEOUT:
	case REVOKE:
		/* The delayed fence, the revocation: made sure by prepare(). */
		return 1;
	case FAILSLAB:
	case FAILPAGE:
		return disarm(k);
	case KIND_COUNT:
		break;
	}
	return 0;
}

/*
 * Check what the kernel logged of a kworker kind's attempt, @hit or
 * missed, with @injected failures (at most one): no notice of a failure
 * the "times" count did not see; a failslab failure that failed the
 * refault was the exporter's map allocation, and one that did not fail
 * it was not (or rxe lost a map error).
 */
static void check_attempt_log(enum fault_kind k, enum side side, bool hit,
			      uint64_t injected, const struct kmsg_counts *c)
{
	const char *lost = c->lost ?
		" (kernel log records were overwritten before they were read)" :
		"";

	if (c->notices > injected)
		xfer_die("%s %s: %u failure notices in the kernel log, %" PRIu64
			 " failures injected", kind_names[k], side_names[side],
			 c->notices, injected);
	if (k != FAILSLAB)
		return;
	if (hit && (c->notices != 1 || !c->in_map))
		xfer_die("failslab %s: refault failed; log: %u notices, %s"
			 FAULTS_MAP_FN "%s", side_names[side], c->notices,
			 c->in_map ? "" : "no ", lost);
	if (!hit && c->in_map)
		xfer_die("failslab %s: " FAULTS_MAP_FN
			 " failed, but every WR succeeded", side_names[side]);
}

static void run_case(enum fault_kind k, enum side side)
{
	struct kind_totals *t = &totals[k];
	enum ibv_wc_status want = side == LOCAL ? IBV_WC_LOC_PROT_ERR :
						  IBV_WC_REM_ACCESS_ERR;
	struct ibv_wc wc[FAULTS_WRS + 1];
	struct kmsg_counts log = { 0 };
	struct dte_stats st0, st1;
	struct stress_pair p;
	struct xfer_buf *target;
	uint64_t err0, errs, injected = 0, msg = 1;
	int attempt, n, err, err_at = FAULTS_WRS, posted = FAULTS_WRS;
	unsigned int notices = 0;
	bool hit = false;
	double t0 = xfer_now();

	/* The responder may spend 5 s in a fence wait: no retransmission. */
	stress_pair_create(&p, &dev, &xfer_dmabuf_buf_ops[XFER_SRC_DTE],
			   msg_size, 20);
	target = side == LOCAL ? &p.req.data : &p.resp.data;

	for (attempt = 1; attempt <= FAULTS_ATTEMPTS; attempt++) {
		stress_verified_write(&p, msg++, msg_size);
		prepare(k, target);
		stress_dte_stats(target->fd, &st0);
		err0 = stress_counter(&dev, "dmabuf_refault_errors");
		if (kind_uses_kworkers(k)) {
			stress_bystander_pause(bystander);
			kmsg_mark();
			arm(k);
		}
		post_writes(&p, k, target, 0, FAULTS_WRS);
		n = stress_poll(p.req.cq, wc, FAULTS_WRS,
				STRESS_WC_TIMEOUT_S);
		injected = attempt_injected(k, target->fd, &st0);
		if (kind_uses_kworkers(k)) {
			kmsg_scan(k, &log);
			stress_bystander_resume(bystander);
		}
		if (n != FAULTS_WRS)
			xfer_die("%s %s: %d of %d WRs completed in %d s",
				 kind_names[k], side_names[side], n,
				 FAULTS_WRS, STRESS_WC_TIMEOUT_S);
		errs = stress_counter(&dev, "dmabuf_refault_errors") - err0;
		err_at = check_wcs(wc, FAULTS_WRS, want, k, t);
		hit = err_at < FAULTS_WRS || errs;
		if (kind_uses_kworkers(k)) {
			check_attempt_log(k, side, hit, injected, &log);
			notices += log.notices;
			t->notices += log.notices;
			t->in_map += log.in_map;
		}
		if (hit || !kind_uses_kworkers(k))
			break;
		/* The one failure went to another allocation: again. */
		t->misses++;
		xfer_info("%s %s: attempt %d: %" PRIu64
			  " failure injected elsewhere (%u notices), retrying",
			  kind_names[k], side_names[side], attempt, injected,
			  log.notices);
	}
	if (attempt > FAULTS_ATTEMPTS)
		xfer_die("%s %s: no injection reached the refault path in %d attempts",
			 kind_names[k], side_names[side], FAULTS_ATTEMPTS);

	/* A revocation after the last WRITE: the next one must fail. */
	if (k == REVOKE && err_at == FAULTS_WRS) {
		post_writes(&p, k, target, FAULTS_WRS, 1);
		if (stress_poll(p.req.cq, wc + FAULTS_WRS, 1,
				STRESS_WC_TIMEOUT_S) != 1)
			xfer_die("revoke: no completion of the WR after it");
		posted++;
		errs = stress_counter(&dev, "dmabuf_refault_errors") - err0;
		/* Checked again with the new one: count those once. */
		t->successes -= FAULTS_WRS;
		err_at = check_wcs(wc, posted, want, k, t);
	}
	if (err_at >= posted)
		xfer_die("%s %s: every WR succeeded", kind_names[k],
			 side_names[side]);
	if (k != REVOKE && err_at)
		xfer_die("%s %s: WR %d failed, expected the first", kind_names[k],
			 side_names[side], err_at);
	/* The refault error is the injected failure, not one of its own. */
	if (injected != 1)
		xfer_die("%s %s: %" PRIu64 " failures injected, expected 1",
			 kind_names[k], side_names[side], injected);
	/* One refault fails; the QP is in error before another is tried. */
	if (errs != 1 && k != REVOKE)
		xfer_die("%s %s: dmabuf_refault_errors rose by %" PRIu64
			 ", expected 1", kind_names[k], side_names[side], errs);
	if (!errs)
		xfer_die("%s %s: dmabuf_refault_errors did not rise",
			 kind_names[k], side_names[side]);
	stress_dte_stats(target->fd, &st1);
	if (k == REVOKE && !st1.revoked)
		xfer_die("revoke: the buffer is not revoked");

	expect_qp_state(p.req.qp, IBV_QPS_ERR, "requester");
	expect_qp_state(p.resp.qp, side == REMOTE ? IBV_QPS_ERR : IBV_QPS_RTS,
			"responder");

	if (k == FENCE_TIMEOUT) {
		if (xfer_dmabuf_wait_idle(target->fd,
					  FAULTS_FENCE_DELAY_US / 1000 + 5000))
			xfer_die("fence-timeout: the delayed fence never signalled");
		err = xfer_dte_fence_delay(target->fd, 0);
		if (err)
			xfer_die_err("DTE_IOC_FENCE_DELAY", err);
	}
	victim_destroy(&p);

	t->cases++;
	t->injected += injected;
	t->refault_errors += errs;
	printf("faults: %s %s: WR %d %s, %d flushed, refault_errors +%" PRIu64
	       ", injected %" PRIu64 ", attempts %d", kind_names[k],
	       side_names[side], err_at, ibv_wc_status_str(want),
	       posted - err_at - 1, errs, injected, attempt);
	if (kind_uses_kworkers(k))
		printf(", notices %u%s", notices,
		       k == FAILSLAB ? ", in " FAULTS_MAP_FN : "");
	printf(", %.1f s\n", xfer_now() - t0);
	fflush(stdout);
}

/* Both sides of every kind in @kinds, while @b allows; returns the cases. */
static unsigned int run_round(const struct stress_budget *b, uint64_t round,
			      unsigned int kinds)
{
	unsigned int cases = 0;

	for (int k = 0; k < KIND_COUNT; k++) {
		if (!(kinds & (1U << k)))
			continue;
		for (int side = LOCAL; side <= REMOTE; side++) {
			if (!stress_budget_step(b, round))
				return cases;
			run_case(k, side);
			cases++;
		}
	}
	return cases;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "kinds", required_argument, NULL, 'k' },
		{ "iters", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dev_name = NULL;
	unsigned int kinds = (1U << KIND_COUNT) - 1;
	struct stress_budget budget = { 0 };
	bool iters_given = false;
	uint64_t bytes, moves, round;
	unsigned int cases = 0;
	int c;

	xfer_prog = "faults";
	budget.iters = stress_env_u64("STRESS_ITERS", 1, 1, 100);
	while ((c = getopt_long(argc, argv, "d:k:n:t:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev_name = optarg;
			break;
		case 'k':
			kinds = stress_parse_kinds(optarg, kind_names,
						   KIND_COUNT);
			break;
		case 'n':
			budget.iters = stress_parse_u64(optarg, "--iters", 1,
							100);
			iters_given = true;
			break;
		case 't':
			budget.seconds = stress_parse_u64(optarg, "--seconds", 1,
							  XFER_MAX_SECONDS);
			break;
		case 's':
			msg_size = stress_parse_u64(optarg, "--size", 4096,
						    4 << 20);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			xfer_die_usage("bad option");
		}
	}
	if (optind < argc)
		xfer_die_usage("unexpected argument '%s'", argv[optind]);

	stress_budget_start(&budget, iters_given);

	srand48(getpid());
	xfer_dev_open(&dev, dev_name, 1);
	bystander = stress_bystander_start(&dev, 64 * 1024, 2000);
	for (round = 0; stress_budget_step(&budget, round); round++)
		cases += run_round(&budget, round, kinds);
	bytes = stress_bystander_stop(bystander, &moves);

	for (int k = 0; k < KIND_COUNT; k++) {
		struct kind_totals *t = &totals[k];

		if (!(kinds & (1U << k)))
			continue;
		printf("faults: kind=%s cases=%u injected=%" PRIu64
		       " wr_errors=%" PRIu64 " flushed=%" PRIu64
		       " succeeded_first=%" PRIu64 " refault_errors=%" PRIu64
		       " misses=%u", kind_names[k], t->cases, t->injected,
		       t->wr_errors, t->flushed, t->successes,
		       t->refault_errors, t->misses);
		if (kind_uses_kworkers((enum fault_kind)k))
			printf(" notices=%u in_map=%u", t->notices,
			       t->in_map);
		printf("\n");
	}
	printf("faults: bystander verified=%" PRIu64 " moves=%" PRIu64 "\n",
	       bytes, moves);
	printf("faults: cases=%u seconds=%.1f\n", cases,
	       stress_budget_elapsed(&budget));
	xfer_dev_close(&dev);
	return 0;
}
