/*
 * teardown: tear resources down while RDMA WRITEs and exporter moves are
 * in flight, and check that everything is released and the device still
 * works.
 *
 * Each iteration of a kind connects a QP pair on test exporter buffers (or
 * ODP memory), starts moving both buffers every millisecond, posts
 * TD_DEPTH WRITEs, waits until a random 1 to TD_DEPTH - 1 of them have
 * completed and then, with the others in flight:
 *
 *   dereg        deregisters the requester's (odd iterations: the
 *                responder's) data MR while its buffer is being moved
 *   destroy-qp   destroys the requester's (odd: the responder's) QP
 *   close-fd     closes and unmaps both dma-bufs: the MRs must hold them
 *   exit         (in a child) exits with everything still registered
 *   kill         SIGKILLs a child in the middle of its traffic (which
 *                keeps TD_DEPTH WRITEs posted)
 *   odp-munmap   munmaps the requester's (odd: the responder's) ODP buffer
 *   odp-kill     SIGKILLs a child doing traffic on ODP MRs
 *
 * Every completion must carry a status the specification allows after
 * that teardown (counted: success, the access error, retry exceeded,
 * flushes), in order: successes, at most one error, then flushes. A
 * deregistered buffer must have no attachment as soon as ibv_dereg_mr()
 * returns; after each iteration the test exporter's module reference count
 * is back where it was (every buffer released), and after each round (one
 * iteration of every selected kind) three verified WRITEs on a fresh pair
 * show the device still works. A hang is a failure: every wait has a
 * deadline.
 *
 * The race is only tested when WRs are still outstanding at the teardown:
 * the completions are taken just before it, and an iteration that found
 * some missing counts as mid-flight. Every kind must tear down mid-flight
 * at least once, however few iterations its budget gave it (QEMU's runs
 * are short): a kind that has not by the end of the run goes on until it
 * has, and fails if TD_MID_FLIGHT_S more seconds pass without one.
 *
 * A run is --iters rounds, or with --seconds, rounds until the time is up
 * (the first in full), then those extra iterations; the summary gives the
 * iterations of each kind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib_stress.h"

#define TD_DEPTH	8
#define TD_SIZE		(256 * 1024)
#define TD_MOVE_US	1000
#define TD_MODULE	"dmabuf_test_exporter"
/* Seconds a killed or exiting child may take to release everything. */
#define TD_RELEASE_S	20
/*
 * Seconds a kind may go on after its budget to tear down mid-flight once.
 * An iteration takes 0.1-0.5 s on UML and 1-4 s on QEMU; mid-flight ones
 * are the rule (in make test's runs on both, every iteration but one).
 */
#define TD_MID_FLIGHT_S		60

enum td_kind {
	DEREG,
	DESTROY_QP,
	CLOSE_FD,
	EXIT,
	KILL,
	ODP_MUNMAP,
	ODP_KILL,
	KIND_COUNT
};

static const char *const kind_names[KIND_COUNT] = {
	"dereg", "destroy-qp", "close-fd", "exit", "kill", "odp-munmap",
	"odp-kill",
};

/* Completions seen, by what they mean after a teardown. */
struct td_totals {
	uint64_t iters;
	uint64_t success;
	uint64_t access_err;	/* LOC_PROT_ERR or REM_ACCESS_ERR */
	uint64_t retry_exc;
	uint64_t bad_lkey;	/* LOC_QP_OP_ERR: see one_in_process() */
	uint64_t flushed;
	uint64_t unreported;	/* WRs of a destroyed QP or a dead child */
	uint64_t mid_flight;	/* iterations with WRs outstanding at it */
	uint64_t outstanding;	/* WRs outstanding at the teardowns */
};

static struct td_totals totals[KIND_COUNT];

static void usage(FILE *f)
{
	fprintf(f,
"usage: teardown [options]\n"
"Tears MRs, QPs, dma-bufs and processes down under traffic and exporter\n"
"moves; checks completion statuses, released attachments and the module\n"
"reference count. Needs rxe and dmabuf_test_exporter.\n"
"  -d, --dev NAME     RDMA device (default: the first one)\n"
"  -k, --kinds LIST   comma-separated kinds, or all (default):\n"
"                     dereg,destroy-qp,close-fd,exit,kill,odp-munmap,odp-kill\n"
"  -n, --iters N      iterations per kind, 1..1000 (default:\n"
"                     $STRESS_ITERS, else 10)\n"
"  -t, --seconds S    instead of --iters: go round the kinds until S\n"
"                     seconds, 1..%d, have passed; each runs at least once\n",
		XFER_MAX_SECONDS);
}

static bool kind_is_odp(enum td_kind k)
{
	return k == ODP_MUNMAP || k == ODP_KILL;
}

static const struct buf_ops *kind_ops(enum td_kind k)
{
	return kind_is_odp(k) ? &xfer_odp_buf_ops :
				&xfer_dmabuf_buf_ops[XFER_SRC_DTE];
}

/*
 * Traffic of one iteration: the pair, the churn over its buffers, and
 * the completions of its WRITEs reaped so far.
 */
struct td_traffic {
	struct stress_pair p;
	struct stress_mover *churn;
	int fds[2];
	struct ibv_wc wc[TD_DEPTH];
	int reaped;
};

static void traffic_start(struct td_traffic *tr, struct xfer_dev *dev,
			  enum td_kind k)
{
	int err;

	memset(tr, 0, sizeof(*tr));
	stress_pair_create(&tr->p, dev, kind_ops(k), TD_SIZE, 14);
	if (!kind_is_odp(k)) {
		tr->fds[0] = tr->p.req.data.fd;
		tr->fds[1] = tr->p.resp.data.fd;
		tr->churn = stress_mover_start(tr->fds, 2, TD_MOVE_US);
	}
	for (int i = 0; i < TD_DEPTH; i++) {
		err = stress_post_write(&tr->p, (uint64_t)i, 0, TD_SIZE);
		if (err)
			xfer_die_err("ibv_post_send", err);
	}
}

static void traffic_stop_churn(struct td_traffic *tr)
{
	if (tr->churn)
		stress_mover_stop(tr->churn);
	tr->churn = NULL;
}

/* Reap up to @n more completions, waiting at most @timeout_s. */
static void reap_more(struct td_traffic *tr, int n, int timeout_s)
{
	tr->reaped += stress_poll(tr->p.req.cq, tr->wc + tr->reaped, n,
				  timeout_s);
}

/* Completions reaped before the teardown, from @from on, must be successes. */
static void expect_success(const struct td_traffic *tr, int from,
			   enum td_kind k)
{
	for (int i = from; i < tr->reaped; i++)
		if (tr->wc[i].status != IBV_WC_SUCCESS)
			xfer_die("%s: WR %" PRIu64 " completed with %s before the teardown",
				 kind_names[k], tr->wc[i].wr_id,
				 ibv_wc_status_str(tr->wc[i].status));
}

/*
 * Wait until a random 1 to TD_DEPTH - 1 of the WRITEs have completed:
 * the teardown then comes while the others are on the wire, at a point
 * that varies from one iteration to the next. Nothing is torn down yet:
 * they must have succeeded.
 */
static void wait_some(struct td_traffic *tr, enum td_kind k)
{
	int want = 1 + (int)(lrand48() % (TD_DEPTH - 1));

	reap_more(tr, want, STRESS_WC_TIMEOUT_S);
	if (tr->reaped != want)
		xfer_die("%s: %d of %d WRs completed in %d s", kind_names[k],
			 tr->reaped, want, STRESS_WC_TIMEOUT_S);
	expect_success(tr, 0, k);
}

/*
 * Just before the teardown: take the completions already there; returns
 * how many WRs are outstanding, which the teardown then races with.
 */
static int outstanding(struct td_traffic *tr, enum td_kind k)
{
	int before = tr->reaped;

	reap_more(tr, TD_DEPTH - tr->reaped, 0);
	expect_success(tr, before, k);
	return TD_DEPTH - tr->reaped;
}

static void count_outstanding(enum td_kind k, int n)
{
	totals[k].outstanding += (uint64_t)n;
	if (n)
		totals[k].mid_flight++;
}

/*
 * Reap the rest of the completions of the TD_DEPTH WRITEs and check them
 * all, in order, and their statuses: successes, then flushes with at most
 * one error of @errs among
 * them (a WR sent in full but not yet acknowledged when a later one
 * failed is flushed before that one's error).
 * @all: every WR must complete (false once the requester QP is gone).
 */
static void reap(struct td_traffic *tr, enum td_kind k,
		 const enum ibv_wc_status *errs, int nerrs, bool all)
{
	struct td_totals *t = &totals[k];
	const struct ibv_wc *wc = tr->wc;
	bool done = false, errored = false;
	int n;

	reap_more(tr, TD_DEPTH - tr->reaped, all ? STRESS_WC_TIMEOUT_S : 1);
	n = tr->reaped;
	if (all && n != TD_DEPTH)
		xfer_die("%s: %d of %d WRs completed in %d s", kind_names[k],
			 n, TD_DEPTH, STRESS_WC_TIMEOUT_S);
	t->unreported += (uint64_t)(TD_DEPTH - n);
	for (int i = 0; i < n; i++) {
		enum ibv_wc_status s = wc[i].status;
		bool known = false;

		if (wc[i].wr_id != (uint64_t)i)
			xfer_die("%s: completion %d is of WR %" PRIu64,
				 kind_names[k], i, wc[i].wr_id);
		if (s == IBV_WC_SUCCESS && !done) {
			t->success++;
			continue;
		}
		done = true;
		if (s == IBV_WC_WR_FLUSH_ERR) {
			t->flushed++;
			continue;
		}
		for (int e = 0; e < nerrs; e++)
			known |= s == errs[e];
		if (!known || errored)
			xfer_die("%s: WR %d completed with %s%s", kind_names[k],
				 i, ibv_wc_status_str(s),
				 errored ? " after another error" :
				 s == IBV_WC_SUCCESS ? " after a flush" : "");
		errored = true;
		if (s == IBV_WC_RETRY_EXC_ERR)
			t->retry_exc++;
		else if (s == IBV_WC_LOC_QP_OP_ERR)
			t->bad_lkey++;
		else
			t->access_err++;
	}
}

static void dereg_data(struct xfer_buf *buf, const char *what)
{
	int err = ibv_dereg_mr(buf->mr);

	if (err)
		xfer_die_err("ibv_dereg_mr", err);
	buf->mr = NULL;
	/* Detached as soon as the call returns, moves or not. */
	if (buf->fd >= 0)
		stress_expect_released(buf->fd, 0, what);
}

static void destroy_qp(struct xfer_ep *ep)
{
	int err = ibv_destroy_qp(ep->qp);

	if (err)
		xfer_die_err("ibv_destroy_qp", err);
	ep->qp = NULL;
}

/* Release what the case left; the exporter must see no attachment. */
static void traffic_end(struct td_traffic *tr)
{
	struct xfer_ep *eps[] = { &tr->p.req, &tr->p.resp };

	traffic_stop_churn(tr);
	for (size_t i = 0; i < ARRAY_SIZE(eps); i++)
		if (eps[i]->qp)
			destroy_qp(eps[i]);
	for (size_t i = 0; i < ARRAY_SIZE(eps); i++)
		if (eps[i]->data.mr && eps[i]->data.fd >= 0 &&
		    eps[i]->data.ops->src >= 0)
			dereg_data(&eps[i]->data, "torn down");
	stress_ep_destroy(&tr->p.req);
	stress_ep_destroy(&tr->p.resp);
}

static void one_in_process(struct xfer_dev *dev, enum td_kind k,
			   uint64_t iter)
{
	/*
	 * Stock rxe fails a WR whose lkey no longer names an MR (copy_data()
	 * finds none: -EINVAL) with LOC_QP_OP_ERR rather than the
	 * LOC_PROT_ERR of IBA 10.8.3.3 / 11.6.2; accepted, counted apart.
	 */
	static const enum ibv_wc_status loc_dereg[] = {
		IBV_WC_LOC_PROT_ERR, IBV_WC_LOC_QP_OP_ERR,
	};
	static const enum ibv_wc_status loc[] = { IBV_WC_LOC_PROT_ERR };
	static const enum ibv_wc_status rem[] = { IBV_WC_REM_ACCESS_ERR };
	static const enum ibv_wc_status retry[] = { IBV_WC_RETRY_EXC_ERR };
	bool odd = iter & 1;
	struct td_traffic tr;
	struct xfer_ep *ep;

	traffic_start(&tr, dev, k);
	ep = odd ? &tr.p.resp : &tr.p.req;
	wait_some(&tr, k);
	/* The churn uses the descriptors close-fd closes: stopped first. */
	if (k == CLOSE_FD)
		traffic_stop_churn(&tr);
	count_outstanding(k, outstanding(&tr, k));

	switch (k) {
	case DEREG:
		dereg_data(&ep->data, "deregistered");
		if (odd)
			reap(&tr, k, rem, 1, true);
		else
			reap(&tr, k, loc_dereg, 2, true);
		break;
	case DESTROY_QP:
		destroy_qp(ep);
		/* A requester that lost its peer retries, then gives up. */
		reap(&tr, k, retry, 1, odd);
		break;
	case CLOSE_FD:
		for (int i = 0; i < 2; i++) {
			struct xfer_buf *b = i ? &tr.p.resp.data :
						 &tr.p.req.data;

			munmap(b->map, b->map_len);
			close(b->fd);
			b->map = NULL;
			b->addr = NULL;
			b->fd = -1;
		}
		/* The MRs hold the buffers: nothing may fail. */
		reap(&tr, k, NULL, 0, true);
		break;
	case ODP_MUNMAP:
		if (munmap(ep->data.addr, ep->data.len))
			xfer_die_err("munmap", errno);
		ep->data.addr = NULL;
		reap(&tr, k, odd ? rem : loc, 1, true);
		break;
	default:
		xfer_die("%s is not an in-process kind", kind_names[k]);
	}
	traffic_end(&tr);
}

/*
 * The child of exit and kill: its own device context and traffic. For
 * exit, it waits for some of its WRITEs to complete (wait_some()), writes
 * to @ready the count of those still outstanding and exits. For kill, it
 * reaps and reposts forever, so at least TD_DEPTH - 1 WRITEs are always
 * outstanding, and writes that count at its first completion.
 */
static void __attribute__((noreturn)) child_main(const char *dev_name,
						 enum td_kind k, bool do_exit,
						 int ready)
{
	struct xfer_dev dev;
	struct td_traffic tr;
	struct ibv_wc wc;
	uint64_t next = TD_DEPTH;
	unsigned char n;
	int err;

	xfer_quiet = true;
	xfer_dev_open(&dev, dev_name, 1);
	traffic_start(&tr, &dev, k);
	if (do_exit) {
		wait_some(&tr, k);
		n = (unsigned char)outstanding(&tr, k);
		if (write(ready, &n, 1) != 1)
			xfer_die_err("write", errno);
		_exit(0);
	}
	for (;;) {
		if (stress_poll(tr.p.req.cq, &wc, 1, STRESS_WC_TIMEOUT_S) != 1)
			xfer_die("child: no completion in %d s",
				 STRESS_WC_TIMEOUT_S);
		if (wc.status != IBV_WC_SUCCESS)
			xfer_die("child: WR %" PRIu64 " completed with %s",
				 wc.wr_id, ibv_wc_status_str(wc.status));
		err = stress_post_write(&tr.p, next++, 0, TD_SIZE);
		if (err)
			xfer_die_err("ibv_post_send", err);
		if (ready >= 0) {
			n = TD_DEPTH - 1;
			if (write(ready, &n, 1) != 1)
				xfer_die_err("write", errno);
			close(ready);
			ready = -1;
		}
	}
}

/*
 * Wait for @pid's byte on @fd, the WRs it has outstanding: it is in
 * traffic. Its set-up takes from a fraction of a second on UML to
 * seconds on QEMU; a fixed delay would act in set-up on one and late on
 * the other.
 */
static int wait_ready(int fd, pid_t pid, enum td_kind k)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned char c;
	int n;

	do {
		n = poll(&pfd, 1, STRESS_WC_TIMEOUT_S * 1000);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		xfer_die_err("poll", errno);
	if (n && read(fd, &c, 1) == 1)
		return c;
	kill(pid, SIGKILL);
	if (n)
		xfer_die("%s: the child ended before its traffic started",
			 kind_names[k]);
	xfer_die("%s: the child had no completion in %d s", kind_names[k],
		 STRESS_WC_TIMEOUT_S);
}

static void one_child(const char *dev_name, enum td_kind k)
{
	bool do_exit = k == EXIT;
	long base = stress_module_refcnt(TD_MODULE);
	int status, ready[2], out;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC))
		xfer_die_err("pipe2", errno);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		xfer_die_err("fork", errno);
	if (!pid) {
		close(ready[0]);
		srand48(getpid());
		child_main(dev_name, k, do_exit, ready[1]);
	}
	close(ready[1]);
	out = wait_ready(ready[0], pid, k);
	if (!do_exit) {
		/* In traffic, then 0-200 ms more: WRs are always in flight. */
		stress_usleep((uint64_t)(lrand48() % 200000));
		if (kill(pid, SIGKILL))
			xfer_die_err("kill", errno);
	}
	close(ready[0]);
	if (waitpid(pid, &status, 0) != pid)
		xfer_die_err("waitpid", errno);
	if (do_exit && !(WIFEXITED(status) && !WEXITSTATUS(status)))
		xfer_die("exit: the child failed (status %#x)", status);
	if (!do_exit && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
		xfer_die("%s: the child ended before the kill (status %#x)",
			 kind_names[k], status);
	count_outstanding(k, out);
	totals[k].unreported += (uint64_t)(do_exit ? out : TD_DEPTH);
	if (!kind_is_odp(k) &&
	    !stress_module_refcnt_wait(TD_MODULE, base, TD_RELEASE_S))
		xfer_die("%s: %s refcount is %ld %d s after the child died, was %ld",
			 kind_names[k], TD_MODULE,
			 stress_module_refcnt(TD_MODULE), TD_RELEASE_S, base);
}

/* Three verified WRITEs on a fresh pair: the device survived. */
static void check_device(struct xfer_dev *dev)
{
	struct stress_pair p;

	stress_pair_create(&p, dev, &xfer_host_buf_ops, TD_SIZE, 14);
	for (uint64_t m = 0; m < 3; m++)
		stress_verified_write(&p, m, TD_SIZE);
	stress_ep_destroy(&p.req);
	stress_ep_destroy(&p.resp);
}

/*
 * One iteration of kind @k; the exporter's module reference count must
 * then come back to where it was.
 */
static void one_iteration(struct xfer_dev *dev, const char *dev_name,
			  enum td_kind k)
{
	struct td_totals *t = &totals[k];
	long base = stress_module_refcnt(TD_MODULE);

	if (k == EXIT || k == KILL || k == ODP_KILL)
		one_child(dev_name, k);
	else
		one_in_process(dev, k, t->iters);
	if (!stress_module_refcnt_wait(TD_MODULE, base, TD_RELEASE_S))
		xfer_die("%s: %s refcount %ld, was %ld before the iteration",
			 kind_names[k], TD_MODULE,
			 stress_module_refcnt(TD_MODULE), base);
	t->iters++;
}

/*
 * Iterations of kind @k, after the budgeted ones, until one tears down
 * mid-flight or TD_MID_FLIGHT_S have passed; returns how many it ran.
 */
static uint64_t until_mid_flight(struct xfer_dev *dev, const char *dev_name,
				 enum td_kind k)
{
	double end = xfer_now() + TD_MID_FLIGHT_S;
	uint64_t extra = 0;

	while (!totals[k].mid_flight && xfer_now() < end) {
		one_iteration(dev, dev_name, k);
		extra++;
	}
	return extra;
}

/* One iteration of every kind in @kinds, while @b allows. */
static void run_round(struct xfer_dev *dev, const char *dev_name,
		      const struct stress_budget *b, uint64_t round,
		      unsigned int kinds)
{
	for (int k = 0; k < KIND_COUNT; k++) {
		if (!(kinds & (1U << k)))
			continue;
		if (!stress_budget_step(b, round))
			return;
		one_iteration(dev, dev_name, k);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "kinds", required_argument, NULL, 'k' },
		{ "iters", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dev_name = NULL;
	unsigned int kinds = (1U << KIND_COUNT) - 1;
	struct stress_budget budget = { 0 };
	bool iters_given = false;
	struct xfer_dev dev;
	uint64_t round, iters = 0, extra[KIND_COUNT] = { 0 };
	bool extras = false;
	int c;

	xfer_prog = "teardown";
	budget.iters = stress_env_u64("STRESS_ITERS", 10, 1, 1000);
	while ((c = getopt_long(argc, argv, "d:k:n:t:h", opts, NULL)) != -1) {
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
							1000);
			iters_given = true;
			break;
		case 't':
			budget.seconds = stress_parse_u64(optarg, "--seconds", 1,
							  XFER_MAX_SECONDS);
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
	if (stress_module_refcnt(TD_MODULE) < 0)
		xfer_die("%s is not loaded", TD_MODULE);
	/*
	 * Open the exporter's device now (the stats of no buffer): it is
	 * kept open, and would otherwise count against the first iteration.
	 */
	xfer_dte_stats(-1, &(struct dte_stats){ 0 });
	xfer_dev_open(&dev, dev_name, 1);
	for (round = 0; stress_budget_step(&budget, round); round++) {
		run_round(&dev, dev_name, &budget, round, kinds);
		check_device(&dev);
	}
	for (int k = 0; k < KIND_COUNT; k++) {
		if (!(kinds & (1U << k)))
			continue;
		extra[k] = until_mid_flight(&dev, dev_name, k);
		extras |= extra[k] != 0;
	}
	if (extras)
		check_device(&dev);

	for (int k = 0; k < KIND_COUNT; k++) {
		struct td_totals *t = &totals[k];

		if (!(kinds & (1U << k)))
			continue;
		iters += t->iters;
		printf("teardown: kind=%s iters=%" PRIu64 " extra_iters=%" PRIu64
		       " mid_flight=%" PRIu64
		       " outstanding=%" PRIu64 " success=%" PRIu64
		       " access_err=%" PRIu64 " loc_qp_op_err=%" PRIu64
		       " retry_exc=%" PRIu64 " flushed=%" PRIu64
		       " unreported=%" PRIu64 "\n",
		       kind_names[k], t->iters, extra[k], t->mid_flight,
		       t->outstanding,
		       t->success, t->access_err, t->bad_lkey, t->retry_exc,
		       t->flushed, t->unreported);
	}
	printf("teardown: iters=%" PRIu64 " seconds=%.1f\n", iters,
	       stress_budget_elapsed(&budget));
	fflush(stdout);
	/* Teardowns that all came after the WRs were done raced nothing. */
	for (int k = 0; k < KIND_COUNT; k++) {
		struct td_totals *t = &totals[k];

		if ((kinds & (1U << k)) && !t->mid_flight)
			xfer_die("%s: none of %" PRIu64 " teardowns came with WRs outstanding (%" PRIu64 " of them in %d s more, to get one)",
				 kind_names[k], t->iters, extra[k],
				 TD_MID_FLIGHT_S);
	}
	xfer_dev_close(&dev);
	return 0;
}
