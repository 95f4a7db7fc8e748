/*
 * Shared pieces of the fault-injection and teardown-race programs
 * (faults.c, teardown.c): loopback QP pairs on one device, posting and
 * reaping RDMA WRITEs with a deadline, QP state, a bystander pair that
 * moves verified data while a victim pair is being broken, the rxe and
 * test exporter counters that prove what happened, and option parsing
 * that rejects bad values with exit status 2.
 */
#ifndef LIB_STRESS_H
#define LIB_STRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "xfer.h"

/* Seconds a work request may take before the run is declared hung. */
#define STRESS_WC_TIMEOUT_S	30
#define STRESS_MAX_WR		64
/* Transport retries of every pair: 7 would be infinite on rxe. */
#define STRESS_RETRY_CNT	6

/*
 * Two RC QPs of one device connected to each other: @req posts to @resp.
 * The keys and addresses of the data MRs are kept apart from the MRs so
 * WRs can still name them after a teardown case deregistered one.
 */
struct stress_pair {
	struct xfer_ep req;
	struct xfer_ep resp;
	uint32_t lkey;
	uint32_t rkey;
	uint64_t src;
	uint64_t dst;
};

/*
 * Both endpoints' data buffers of @len bytes from @ops, connected with
 * local ACK timeout exponent @timeout (4.096 us * 2^@timeout, 7 retries).
 */
void stress_pair_create(struct stress_pair *p, struct xfer_dev *dev,
			const struct buf_ops *ops, size_t len,
			uint8_t timeout);
/*
 * Destroy what xfer_ep_destroy() would, but each part only if still
 * there: a teardown case may already have destroyed a QP or deregistered
 * or released a buffer (fields set to NULL / -1).
 */
void stress_ep_destroy(struct xfer_ep *ep);

/*
 * Post one signalled RDMA WRITE of @len bytes from @req's data buffer at
 * @off to the same offset of @resp's. Returns 0 or the errno of
 * ibv_post_send() (a QP in error state may refuse).
 */
int stress_post_write(struct stress_pair *p, uint64_t wr_id, size_t off,
		      size_t len);
/*
 * Reap up to @n completions of @cq into @wc, waiting at most @timeout_s
 * seconds in all; returns how many arrived.
 */
int stress_poll(struct ibv_cq *cq, struct ibv_wc *wc, int n, int timeout_s);
/* Current state of @qp; exits 1 if it cannot be queried. */
enum ibv_qp_state stress_qp_state(struct ibv_qp *qp);
const char *stress_qp_state_str(enum ibv_qp_state s);

/*
 * One buffer-verified WRITE of @len bytes with message number @msg:
 * fill the source, post, expect IBV_WC_SUCCESS, check every byte at the
 * destination. Exits 1 on any failure; returns the bytes verified.
 */
uint64_t stress_verified_write(struct stress_pair *p, uint64_t msg,
			       size_t len);

/*
 * A thread moving test exporter buffers @fds (1 or 2) in turns, one move
 * every @period_us; a failed move exits 1. Pause returns once the thread
 * is between moves and will start none until resumed (the copy fence of
 * its last move may still be pending); stop returns the moves made.
 */
struct stress_mover;
struct stress_mover *stress_mover_start(const int *fds, int nfds,
					uint64_t period_us);
void stress_mover_pause(struct stress_mover *m);
void stress_mover_resume(struct stress_mover *m);
uint64_t stress_mover_stop(struct stress_mover *m);

/*
 * The bystander: a pair of its own on test exporter buffers that are
 * moved every @move_us by a churn thread, doing verified WRITEs from a
 * thread of its own until stopped. A failure exits 1, naming it.
 */
struct stress_bystander;
struct stress_bystander *stress_bystander_start(struct xfer_dev *dev,
						size_t len, uint64_t move_us);
/*
 * Stop moving the bystander's buffers and return once it has mapped
 * them again, so it makes no refault until resumed: for injection that
 * cannot tell its refaults from the victim's.
 */
void stress_bystander_pause(struct stress_bystander *b);
void stress_bystander_resume(struct stress_bystander *b);
/*
 * Stop, tear down; returns the bytes verified (at least one message) and
 * in @moves the moves made under its traffic.
 */
uint64_t stress_bystander_stop(struct stress_bystander *b, uint64_t *moves);

/* An rxe hw counter of @dev, fresh; exits 1 if it is missing. */
uint64_t stress_counter(const struct xfer_dev *dev, const char *name);
/* Test exporter stats of buffer @fd; exits 1 if the ioctl fails. */
void stress_dte_stats(int fd, struct dte_stats *st);
/*
 * Exit 1 unless buffer @fd has @attachments attachments, no pin and as
 * many unmaps as maps once nothing maps it (@attachments == 0).
 */
void stress_expect_released(int fd, uint64_t attachments, const char *what);
/* Reference count of a loaded module, -1 if it is not loaded. */
long stress_module_refcnt(const char *module);
/* Wait up to @timeout_s for @module's refcount to drop to @want. */
bool stress_module_refcnt_wait(const char *module, long want, int timeout_s);

/* Sleep @us microseconds, resuming after signals. */
void stress_usleep(uint64_t us);

/*
 * Parse a decimal in [@min, @max] for @what; anything else exits 2 with a
 * message naming @what.
 */
uint64_t stress_parse_u64(const char *s, const char *what, uint64_t min,
			  uint64_t max);
/*
 * A decimal from environment variable @name in [@min, @max], @def when
 * it is unset or empty; a bad value exits 2.
 */
uint64_t stress_env_u64(const char *name, uint64_t def, uint64_t min,
			uint64_t max);
/*
 * The bit mask of the entries of the comma-separated @list (or "all") in
 * @names[0..@count); an unknown entry exits 2.
 */
unsigned int stress_parse_kinds(const char *list, const char *const *names,
				int count);

/*
 * How long a program runs: @iters rounds over its kinds, or, when
 * @seconds is set (--seconds), rounds until that many seconds have
 * passed. The first round of a timed run is always run in full, so every
 * kind runs at least once however short the time.
 */
struct stress_budget {
	uint64_t iters;
	uint64_t seconds;
	double start;
};

/*
 * Check the options that set @b (@iters_given: --iters was on the command
 * line; both bound the run, so both at once exits 2) and start its clock.
 */
void stress_budget_start(struct stress_budget *b, bool iters_given);
/*
 * Whether a step (one case of one kind) of round @round, counted from 0,
 * may start: every step of the first @iters rounds of an untimed run; of
 * a timed run, every step of round 0, then each while time is left.
 */
bool stress_budget_step(const struct stress_budget *b, uint64_t round);
/* Seconds since stress_budget_start(). */
double stress_budget_elapsed(const struct stress_budget *b);

#endif /* LIB_STRESS_H */
