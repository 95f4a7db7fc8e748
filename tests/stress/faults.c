/*
 * faults: make rxe's dma-buf refault fail, and check that each failure
 * fails exactly the work request that hit it.
 *
 * A victim QP pair on test exporter buffers makes one verified WRITE (both
 * MRs mapped), then one of its buffers - the requester's source ("local")
 * or the responder's destination ("remote") - is made to refault and the
 * refault to fail, by one of:
 *
 *   fail-maps      DTE_IOC_FAIL_MAPS(1, ENOMEM), then a move: the exporter
 *                  moves the buffer but its move's KERNEL fence signals
 *                  with -ENOMEM. rxe is a CPU importer that never maps the
 *                  attachment, so a failed move is how an exporter's
 *                  failure reaches it: its refault checks the fences'
 *                  errors before it asks for a vmap
 *   fence-timeout  the buffer is moved with a copy fence that signals after
 *                  rxe's 5 s fence timeout
 *   revoke         the buffer is revoked while three WRITEs are in flight
 *                  (the exporter leaves a KERNEL fence failed with -ENODEV).
 *                  That they were is checked: the completions already there
 *                  are taken just before the revocation, and the error
 *                  must be on one of the WRITEs posted before it. A
 *                  revocation that came after the three had completed
 *                  (the WRITE after it must fail all the same) raced
 *                  nothing: the case is made again, and fails if none of
 *                  FAULTS_REVOKE_TRIES revocations came mid-flight
 *
 * There is no failslab or fail_page_alloc kind: rxe's refault allocates
 * nothing of its own (it never maps the attachment, so there is no sg
 * table and no DMA mapping to allocate). The only allocations on its path
 * are inside the exporter's vmap (the restore of an evicted buffer, the
 * vmap area), and 6.12's dma_buf_vmap() WARNs on any vmap failure of an
 * exporter, by design: an injection there would test only that WARN (and
 * the splat would fail the run).
 *
 * Each case checks: the first WRITE after the injection completes with
 * IBV_WC_LOC_PROT_ERR (local) or IBV_WC_REM_ACCESS_ERR (remote), as
 * rxe_dmabuf.c maps a refault error, the WRITEs behind it with
 * IBV_WC_WR_FLUSH_ERR (a revocation may first let some succeed); exactly
 * one failure was injected (for fail-maps, the exporter's
 * injected_map_failures rose by one) and rxe's dmabuf_refault_errors
 * counter rose; the requester QP is in the error state and the responder
 * QP too for a remote access error (class C, IBA 9.9.3.1.3) but not for a
 * local one; both buffers have one attachment and no pin until
 * deregistration and none, with as many unmaps as maps, after it. A
 * bystander QP pair on buffers of its own, moved every 2 ms, does verified
 * WRITEs all along.
 *
 * A run is --iters rounds over the selected kinds, both sides each, or
 * with --seconds, rounds until the time is up (the first in full); the
 * summary gives the cases run of each kind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib_stress.h"

#define FAULTS_WRS		3
/* Longer than RXE_DMABUF_FENCE_TIMEOUT_MS (5 s). */
#define FAULTS_FENCE_DELAY_US	6500000U
/*
 * Revocations per case to get one while WRITEs are outstanding. Most
 * first ones are: in make test's runs on UML and QEMU, all but one in
 * twenty.
 */
#define FAULTS_REVOKE_TRIES	10

enum fault_kind {
	FAIL_MAPS,
	FENCE_TIMEOUT,
	REVOKE,
	KIND_COUNT
};

static const char *const kind_names[KIND_COUNT] = {
	"fail-maps", "fence-timeout", "revoke",
};

enum side { LOCAL, REMOTE };
static const char *const side_names[] = { "local", "remote" };

struct kind_totals {
	unsigned int cases;
	uint64_t injected;
	uint64_t wr_errors;		/* the expected error status */
	uint64_t flushed;
	uint64_t successes;		/* WRs done before a revocation */
	uint64_t refault_errors;
	uint64_t late;			/* revocations after every WR was done */
};

static struct kind_totals totals[KIND_COUNT];
static struct xfer_dev dev;
static struct stress_bystander *bystander;
static size_t msg_size = 256 * 1024;

static void usage(FILE *f)
{
	fprintf(f,
"usage: faults [options]\n"
"Makes a victim QP pair's dma-buf MRs fail to refault and checks the\n"
"error completions, QP states and exporter attachments; a bystander\n"
"pair moves verified data all along. Needs root, rxe and\n"
"dmabuf_test_exporter.\n"
"  -d, --dev NAME     RDMA device (default: the first one)\n"
"  -k, --kinds LIST   comma-separated kinds, or all (default):\n"
"                     fail-maps,fence-timeout,revoke\n"
"  -n, --iters N      cases per kind and side, 1..100 (default:\n"
"                     $STRESS_ITERS, else 1)\n"
"  -t, --seconds S    instead of --iters: go round the kinds until S\n"
"                     seconds, 1..%d, have passed; each runs at least once\n"
"  -s, --size BYTES   victim WRITE size, 4096..4194304 (default 262144)\n",
		XFER_MAX_SECONDS);
}

/*
 * Make @buf refault on its next access, and that refault fail. For
 * fail-maps the move comes after the arming: it takes the armed failure,
 * and its fence carries the error, which the refault finds once the copy
 * is done (DTE_MOVE_WAIT would return that error: not used).
 */
static void prepare(enum fault_kind k, struct xfer_buf *buf)
{
	int err = 0;

	switch (k) {
	case FAIL_MAPS:
		err = xfer_dte_fail_maps(buf->fd, 1, ENOMEM);
		if (!err)
			err = xfer_dte_op(DTE_IOC_MOVE, buf->fd, 0);
		break;
	case FENCE_TIMEOUT:
		err = xfer_dte_fence_delay(buf->fd, FAULTS_FENCE_DELAY_US);
		if (!err)
			err = xfer_dte_op(DTE_IOC_MOVE, buf->fd, 0);
		break;
	case REVOKE:
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

/*
 * Post the WRITEs; for revoke, revoke @target while they are in flight,
 * after 0-2 ms: the completions already there just before it go to @wc,
 * and their number is returned (0 for the other kinds).
 */
static int post_writes(struct stress_pair *p, enum fault_kind k,
		       struct xfer_buf *target, int first, int n,
		       struct ibv_wc *wc)
{
	int err, done;

	for (int i = first; i < first + n; i++) {
		err = stress_post_write(p, (uint64_t)i, 0, msg_size);
		if (err)
			xfer_die_err("ibv_post_send", err);
	}
	if (k != REVOKE || first)
		return 0;
	stress_usleep((uint64_t)(lrand48() % 2000));
	done = stress_poll(p->req.cq, wc, n, 0);
	err = xfer_dte_op(DTE_IOC_REVOKE, target->fd, 0);
	if (err)
		xfer_die_err("DTE_IOC_REVOKE", err);
	return done;
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
 * The failures injected since @st0, taken before prepare(): for fail-maps
 * the exporter counts them.
 */
static uint64_t injected_since(enum fault_kind k, int fd,
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
	case KIND_COUNT:
		break;
	}
	return 0;
}

/*
 * One case; returns false for a revocation that came after every WRITE
 * had completed (checked all the same, but it raced nothing).
 */
static bool run_case(enum fault_kind k, enum side side)
{
	struct kind_totals *t = &totals[k];
	enum ibv_wc_status want = side == LOCAL ? IBV_WC_LOC_PROT_ERR :
						  IBV_WC_REM_ACCESS_ERR;
	struct ibv_wc wc[FAULTS_WRS + 1];
	struct dte_stats st0, st1;
	struct stress_pair p;
	struct xfer_buf *target;
	uint64_t err0, errs, injected;
	int n, err, err_at, posted = FAULTS_WRS, done_before;
	double t0 = xfer_now();

	/* The responder may spend 5 s in a fence wait: no retransmission. */
	stress_pair_create(&p, &dev, &xfer_dmabuf_buf_ops[XFER_SRC_DTE],
			   msg_size, 20);
	target = side == LOCAL ? &p.req.data : &p.resp.data;

	stress_verified_write(&p, 1, msg_size);
	stress_dte_stats(target->fd, &st0);
	prepare(k, target);
	err0 = stress_counter(&dev, "dmabuf_refault_errors");
	done_before = post_writes(&p, k, target, 0, FAULTS_WRS, wc);
	n = done_before + stress_poll(p.req.cq, wc + done_before,
				      FAULTS_WRS - done_before,
				      STRESS_WC_TIMEOUT_S);
	injected = injected_since(k, target->fd, &st0);
	if (n != FAULTS_WRS)
		xfer_die("%s %s: %d of %d WRs completed in %d s",
			 kind_names[k], side_names[side], n, FAULTS_WRS,
			 STRESS_WC_TIMEOUT_S);
	errs = stress_counter(&dev, "dmabuf_refault_errors") - err0;
	err_at = check_wcs(wc, FAULTS_WRS, want, k, t);

	/* A revocation after the last WRITE: the next one must fail. */
	if (k == REVOKE && err_at == FAULTS_WRS) {
		post_writes(&p, k, target, FAULTS_WRS, 1, NULL);
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
	if (k == FAIL_MAPS && st1.moves != st0.moves + 1)
		xfer_die("fail-maps: the exporter made %" PRIu64
			 " moves, expected 1",
			 (uint64_t)(st1.moves - st0.moves));

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
	if (k == REVOKE)
		printf("faults: %s %s: %d of %d WRs not completed just before the revocation\n",
		       kind_names[k], side_names[side],
		       FAULTS_WRS - done_before, FAULTS_WRS);
	printf("faults: %s %s: WR %d %s, %d flushed, refault_errors +%" PRIu64
	       ", injected %" PRIu64 ", %.1f s\n", kind_names[k],
	       side_names[side], err_at, ibv_wc_status_str(want),
	       posted - err_at - 1, errs, injected, xfer_now() - t0);
	fflush(stdout);
	/* The error hit a WR that was outstanding when the revocation came. */
	if (k == REVOKE && err_at >= FAULTS_WRS) {
		t->late++;
		return false;
	}
	return true;
}

/*
 * Case @k, @side; a revocation that raced nothing is made again, up to
 * FAULTS_REVOKE_TRIES times.
 */
static void run_case_mid_flight(enum fault_kind k, enum side side)
{
	for (int tries = 1; !run_case(k, side); tries++)
		if (tries == FAULTS_REVOKE_TRIES)
			xfer_die("%s %s: none of %d revocations came while WRs were outstanding",
				 kind_names[k], side_names[side], tries);
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
			run_case_mid_flight(k, side);
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
		       " late=%" PRIu64 "\n", kind_names[k], t->cases,
		       t->injected, t->wr_errors, t->flushed, t->successes,
		       t->refault_errors, t->late);
	}
	printf("faults: bystander verified=%" PRIu64 " moves=%" PRIu64 "\n",
	       bytes, moves);
	printf("faults: cases=%u seconds=%.1f\n", cases,
	       stress_budget_elapsed(&budget));
	xfer_dev_close(&dev);
	return 0;
}
