/*
 * Loopback QP pairs, WRITEs with deadlines, the bystander pair and the
 * counters of lib_stress.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib_stress.h"

#define STRESS_CTRL_LEN	4096
#define STRESS_DEPTH	8

void stress_pair_create(struct stress_pair *p, struct xfer_dev *dev,
			const struct buf_ops *ops, size_t len,
			uint8_t timeout)
{
	struct xfer_conn_info ri, si;
	enum ibv_mtu mtu = dev->port_attr.active_mtu;

	xfer_ep_create(&p->req, dev, ops, len, STRESS_CTRL_LEN,
		       STRESS_MAX_WR, STRESS_DEPTH);
	xfer_ep_create(&p->resp, dev, ops, len, STRESS_CTRL_LEN,
		       STRESS_MAX_WR, STRESS_DEPTH);
	p->req.timeout = timeout;
	p->resp.timeout = timeout;
	/*
	 * A finite retry count: a requester whose responder QP was destroyed
	 * must complete its WRs (with a retry error), not retry forever.
	 */
	p->req.retry_cnt = STRESS_RETRY_CNT;
	p->resp.retry_cnt = STRESS_RETRY_CNT;
	xfer_ep_info(&p->req, &ri);
	xfer_ep_info(&p->resp, &si);
	xfer_ep_connect(&p->req, &si, mtu, STRESS_DEPTH);
	xfer_ep_connect(&p->resp, &ri, mtu, STRESS_DEPTH);
	p->lkey = p->req.data.mr->lkey;
	p->rkey = p->resp.data.mr->rkey;
	p->src = p->req.data.iova;
	p->dst = p->resp.data.iova;
}

void stress_ep_destroy(struct xfer_ep *ep)
{
	int err;

	if (ep->qp) {
		err = ibv_destroy_qp(ep->qp);
		if (err)
			xfer_die_err("ibv_destroy_qp", err);
		ep->qp = NULL;
	}
	if (ep->cq) {
		ibv_ack_cq_events(ep->cq, ep->cq_events);
		err = ibv_destroy_cq(ep->cq);
		if (err)
			xfer_die_err("ibv_destroy_cq", err);
		ep->cq = NULL;
	}
	/* The buf_ops free only what is still there. */
	if (ep->data.ops)
		ep->data.ops->free(&ep->data);
	if (ep->ctrl.ops)
		ep->ctrl.ops->free(&ep->ctrl);
	ep->data.ops = NULL;
	ep->ctrl.ops = NULL;
}

int stress_post_write(struct stress_pair *p, uint64_t wr_id, size_t off,
		      size_t len)
{
	struct ibv_sge sge = {
		.addr = p->src + off,
		.length = (uint32_t)len,
		.lkey = p->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = wr_id,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = p->dst + off, .rkey = p->rkey },
	};
	struct ibv_send_wr *bad;

	return ibv_post_send(p->req.qp, &wr, &bad);
}

void stress_usleep(uint64_t us)
{
	struct timespec ts = {
		.tv_sec = (time_t)(us / 1000000),
		.tv_nsec = (long)(us % 1000000) * 1000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Polling with short sleeps rather than completion events: the guest
 * may have a single CPU, which rxe's work items need more than we do.
 */
int stress_poll(struct ibv_cq *cq, struct ibv_wc *wc, int n, int timeout_s)
{
	double end = xfer_now() + timeout_s;
	int got = 0, r;

	while (got < n) {
		r = ibv_poll_cq(cq, n - got, wc + got);
		if (r < 0)
			xfer_die("ibv_poll_cq failed (%d)", r);
		got += r;
		if (!r) {
			if (xfer_now() > end)
				break;
			stress_usleep(200);
		}
	}
	return got;
}

enum ibv_qp_state stress_qp_state(struct ibv_qp *qp)
{
	struct ibv_qp_init_attr init;
	struct ibv_qp_attr attr;
	int err = ibv_query_qp(qp, &attr, IBV_QP_STATE, &init);

	if (err)
		xfer_die_err("ibv_query_qp", err);
	return attr.qp_state;
}

const char *stress_qp_state_str(enum ibv_qp_state s)
{
	static const char *const names[] = {
		[IBV_QPS_RESET] = "RESET", [IBV_QPS_INIT] = "INIT",
		[IBV_QPS_RTR] = "RTR", [IBV_QPS_RTS] = "RTS",
		[IBV_QPS_SQD] = "SQD", [IBV_QPS_SQE] = "SQE",
		[IBV_QPS_ERR] = "ERR",
	};

	return (unsigned int)s < ARRAY_SIZE(names) && names[s] ?
		names[s] : "unknown";
}

uint64_t stress_verified_write(struct stress_pair *p, uint64_t msg,
			       size_t len)
{
	struct ibv_wc wc;
	int err;

	xfer_buf_cpu_begin(&p->req.data, true);
	xfer_pattern_fill(p->req.data.addr, msg, len);
	xfer_buf_cpu_end(&p->req.data, true);
	err = stress_post_write(p, msg, 0, len);
	if (err)
		xfer_die_err("ibv_post_send", err);
	if (stress_poll(p->req.cq, &wc, 1, STRESS_WC_TIMEOUT_S) != 1)
		xfer_die("message %" PRIu64 ": no completion in %d s", msg,
			 STRESS_WC_TIMEOUT_S);
	if (wc.status != IBV_WC_SUCCESS || wc.wr_id != msg)
		xfer_die("message %" PRIu64 ": completion of wr %" PRIu64
			 " with status %s", msg, wc.wr_id,
			 ibv_wc_status_str(wc.status));
	xfer_buf_cpu_begin(&p->resp.data, false);
	xfer_pattern_check(p->resp.data.addr, msg, len, 0);
	xfer_buf_cpu_end(&p->resp.data, false);
	return len;
}

/*
 * A thread that moves test exporter buffers, in turns, until stopped; it
 * can pause. Not tests/verbs' xfer_churn: that one cannot pause, which
 * faults needs to keep the bystander's refaults out of an injection
 * window, and it waits for each move's copy fence before starting the
 * next, where these moves follow each other without waiting.
 *
 * Pausing is one state, changed only by compare-and-swap where the two
 * sides race: the thread moves only while it reads MOVER_RUN, and only
 * the thread turns MOVER_PAUSE_REQ into MOVER_PAUSED, between two moves.
 * So once pause() has seen MOVER_PAUSED no move is in progress, and none
 * starts until resume() stores MOVER_RUN; a resume() that comes between
 * the thread's read of MOVER_PAUSE_REQ and its swap makes the swap fail,
 * where separate "asked" and "idle" flags would let the thread report a
 * stale idle and move on.
 */
enum mover_state { MOVER_RUN, MOVER_PAUSE_REQ, MOVER_PAUSED };

struct stress_mover {
	pthread_t thread;
	int fds[2];
	int nfds;
	uint64_t period_us;
	atomic_bool stop;
	atomic_int state;	/* enum mover_state */
	uint64_t moves;
};

static void *mover_main(void *arg)
{
	struct stress_mover *m = arg;
	int s, err;

	while (!atomic_load(&m->stop)) {
		s = atomic_load(&m->state);
		if (s == MOVER_PAUSE_REQ) {
			atomic_compare_exchange_strong(&m->state, &s,
						       MOVER_PAUSED);
		} else if (s == MOVER_RUN) {
			err = xfer_dte_op(DTE_IOC_MOVE,
					  m->fds[m->moves % m->nfds], 0);
			if (err)
				xfer_die_err("DTE_IOC_MOVE", err);
			m->moves++;
		}
		stress_usleep(m->period_us);
	}
	return NULL;
}

struct stress_mover *stress_mover_start(const int *fds, int nfds,
					uint64_t period_us)
{
	struct stress_mover *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		xfer_die_err("calloc", ENOMEM);
	if (nfds < 1 || nfds > (int)ARRAY_SIZE(m->fds))
		xfer_die("stress_mover_start: %d buffers", nfds);
	memcpy(m->fds, fds, sizeof(*fds) * (size_t)nfds);
	m->nfds = nfds;
	m->period_us = period_us;
	atomic_init(&m->state, MOVER_RUN);
	err = pthread_create(&m->thread, NULL, mover_main, m);
	if (err)
		xfer_die_err("pthread_create", err);
	return m;
}

void stress_mover_pause(struct stress_mover *m)
{
	atomic_store(&m->state, MOVER_PAUSE_REQ);
	while (atomic_load(&m->state) != MOVER_PAUSED)
		stress_usleep(1000);
}

void stress_mover_resume(struct stress_mover *m)
{
	atomic_store(&m->state, MOVER_RUN);
}

uint64_t stress_mover_stop(struct stress_mover *m)
{
	uint64_t moves;

	atomic_store(&m->stop, true);
	pthread_join(m->thread, NULL);
	moves = m->moves;
	free(m);
	return moves;
}

struct stress_bystander {
	pthread_t thread;
	struct stress_mover *mover;
	struct stress_pair pair;
	size_t len;
	atomic_bool stop;
	atomic_uint_fast64_t msgs;
	uint64_t bytes;
};

static void *bystander_main(void *arg)
{
	struct stress_bystander *b = arg;
	uint64_t msg = 0;

	/* At least one message, however soon the stop comes. */
	do {
		b->bytes += stress_verified_write(&b->pair, msg++, b->len);
		atomic_store(&b->msgs, msg);
	} while (!atomic_load(&b->stop));
	return NULL;
}

struct stress_bystander *stress_bystander_start(struct xfer_dev *dev,
						size_t len, uint64_t move_us)
{
	struct stress_bystander *b = calloc(1, sizeof(*b));
	int err;

	if (!b)
		xfer_die_err("calloc", ENOMEM);
	b->len = len;
	stress_pair_create(&b->pair, dev, &xfer_dmabuf_buf_ops[XFER_SRC_DTE],
			   len, 14);
	b->mover = stress_mover_start((int[]){ b->pair.req.data.fd,
					       b->pair.resp.data.fd }, 2,
				      move_us);
	err = pthread_create(&b->thread, NULL, bystander_main, b);
	if (err)
		xfer_die_err("pthread_create", err);
	return b;
}

void stress_bystander_pause(struct stress_bystander *b)
{
	uint64_t m;

	stress_mover_pause(b->mover);
	/* The message after the last move has refaulted both buffers. */
	m = atomic_load(&b->msgs);
	while (atomic_load(&b->msgs) < m + 2)
		stress_usleep(1000);
}

void stress_bystander_resume(struct stress_bystander *b)
{
	stress_mover_resume(b->mover);
}

uint64_t stress_bystander_stop(struct stress_bystander *b, uint64_t *moves)
{
	uint64_t bytes;

	atomic_store(&b->stop, true);
	pthread_join(b->thread, NULL);
	*moves = stress_mover_stop(b->mover);
	stress_expect_released(b->pair.req.data.fd, 1, "bystander source");
	stress_expect_released(b->pair.resp.data.fd, 1,
			       "bystander destination");
	stress_ep_destroy(&b->pair.req);
	stress_ep_destroy(&b->pair.resp);
	bytes = b->bytes;
	free(b);
	return bytes;
}

/*
 * The RDMA core serves hw counters from a cache refreshed at most every
 * "lifespan" (10 ms by default): wait that out, or a read right after
 * another returns the old value.
 */
uint64_t stress_counter(const struct xfer_dev *dev, const char *name)
{
	uint64_t v = 0;
	int err;

	stress_usleep(50000);
	err = xfer_hw_counter(dev->name, name, &v);

	if (err)
		xfer_die("cannot read %s counter %s: %s", dev->name, name,
			 strerror(err));
	return v;
}

void stress_dte_stats(int fd, struct dte_stats *st)
{
	int err = xfer_dte_stats(fd, st);

	if (err)
		xfer_die_err("DTE_IOC_STATS", err);
}

void stress_expect_released(int fd, uint64_t attachments, const char *what)
{
	struct dte_stats st;

	stress_dte_stats(fd, &st);
	if (st.attachments != attachments || st.pins)
		xfer_die("%s buffer: %" PRIu64 " attachments and %" PRIu64
			 " pins, expected %" PRIu64 " and 0", what,
			 (uint64_t)st.attachments, (uint64_t)st.pins,
			 attachments);
	if (!attachments && st.maps != st.unmaps)
		xfer_die("%s buffer: %" PRIu64 " maps but %" PRIu64
			 " unmaps once no MR holds it", what,
			 (uint64_t)st.maps, (uint64_t)st.unmaps);
}

long stress_module_refcnt(const char *module)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", module);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Buffers go through delayed fput: the count drops shortly after close. */
bool stress_module_refcnt_wait(const char *module, long want, int timeout_s)
{
	double end = xfer_now() + timeout_s;

	while (stress_module_refcnt(module) != want) {
		if (xfer_now() > end)
			return false;
		stress_usleep(10000);
	}
	return true;
}

uint64_t stress_parse_u64(const char *s, const char *what, uint64_t min,
			  uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *s < '0' || *s > '9' || *end || errno || v < min ||
	    v > max)
		xfer_die_usage("%s must be an integer from %" PRIu64 " to %"
			       PRIu64 ", not '%s'", what, min, max, s);
	return v;
}

uint64_t stress_env_u64(const char *name, uint64_t def, uint64_t min,
			uint64_t max)
{
	const char *s = getenv(name);

	return s && *s ? stress_parse_u64(s, name, min, max) : def;
}

unsigned int stress_parse_kinds(const char *list, const char *const *names,
				int count)
{
	unsigned int mask = 0;
	char *copy, *tok, *save;
	int k;

	if (!strcmp(list, "all"))
		return (1U << count) - 1;
	copy = strdup(list);
	if (!copy)
		xfer_die_err("strdup", ENOMEM);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < count; k++)
			if (!strcmp(tok, names[k]))
				break;
		if (k == count)
			xfer_die_usage("unknown --kinds entry '%s'", tok);
		mask |= 1U << k;
	}
	free(copy);
	if (!mask)
		xfer_die_usage("--kinds is empty");
	return mask;
}

void stress_budget_start(struct stress_budget *b, bool iters_given)
{
	if (iters_given && b->seconds)
		xfer_die_usage("--iters and --seconds exclude each other");
	b->start = xfer_now();
}

bool stress_budget_step(const struct stress_budget *b, uint64_t round)
{
	if (!b->seconds)
		return round < b->iters;
	return !round || stress_budget_elapsed(b) < (double)b->seconds;
}

double stress_budget_elapsed(const struct stress_budget *b)
{
	return xfer_now() - b->start;
}
