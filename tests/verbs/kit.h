/*
 * kit - what the case-by-case verbs tests share (dmabuf_reg, dmabuf_ops,
 * odp_test): the case runner, loopback QP pairs of every type, posting
 * and waiting for work requests, and result reporting.
 *
 * A case is a function returning 0 (pass), -1 (fail, reason in kit_why)
 * or KIT_SKIPPED (cannot run here, reason in kit_why); fail() and skip()
 * record the reason. kit_main() parses the common command line, opens the
 * device, runs the named cases (all by default) and prints one line per
 * case, "PASS name", "FAIL name: reason" or "SKIP name: reason", plus
 * "# ..." lines (kit_note()) with what was measured. What a case set up
 * through the kit (QP pairs, MRs) is released after it whatever its
 * outcome, then kit_release_hook runs for the program's own resources.
 *
 * Data moves between the two QPs of a pair: qp[0] requests, qp[1]
 * responds or receives. The requester's side is kit_host, plain pinned
 * memory, unless a case says otherwise, so what is tested is the memory
 * on the other end.
 */
#ifndef KIT_H
#define KIT_H

#include <stdio.h>

#include "xfer.h"

#define KIT_SKIPPED		2
#define KIT_WC_TIMEOUT_MS	10000
#define KIT_HOST_LEN		(1 << 20)
#define KIT_QKEY		0x11111111
/* A UD receive starts with the 40-byte GRH (RoCE: the IP header in it). */
#define KIT_GRH_LEN		40

#define KIT_ACC_RW	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ)
#define KIT_ACC_ALL	(KIT_ACC_RW | IBV_ACCESS_REMOTE_ATOMIC)

/*
 * What kit_wait_wc() and the kit_post_*() helpers return instead of a
 * completion status; the reason is in kit_why.
 */
#define KIT_WC_TIMEOUT		(-1)	/* no completion in time */
#define KIT_WC_STRAY		(-2)	/* another WR's completion came */
#define KIT_WC_VERBS_ERR	(-3)	/* posting or polling failed */
/*
 * The kit numbers the work requests it posts from here up; a case
 * numbers its receives below it, so the two never meet on a CQ.
 */
#define KIT_SEND_WR_ID_BASE	(1ULL << 32)

extern struct xfer_dev kit_dev;
/* The requester's pinned buffer, KIT_HOST_LEN bytes, KIT_ACC_ALL. */
extern struct xfer_buf kit_host;
extern char kit_why[1024];
/* Called after each case, once the kit released what it tracks. */
extern void (*kit_release_hook)(void);

/*
 * Add a reason to kit_why, after those already there: a helper that
 * fails keeps its detail when its caller then gives up with its own.
 */
__attribute__((format(printf, 1, 2)))
void kit_why_add(const char *fmt, ...);
/* Record why a case failed; -1, for "return fail(...)". */
#define fail(...) (kit_why_add(__VA_ARGS__), -1)
/* The same for a case that cannot run here. */
#define skip(...) (kit_why_add(__VA_ARGS__), KIT_SKIPPED)

struct kit_case {
	const char *name;
	int (*fn)(int arg);
	int arg;
};

/*
 * Runs @cases (those named on the command line, or all) as @prog; exits
 * 2 on bad usage, including a case name that is not in @cases. Returns
 * the exit status: 1 if any case failed, else 0.
 */
int kit_main(const char *prog, int argc, char **argv,
	     const struct kit_case *cases, size_t ncases);

/* "EINVAL" for EINVAL; good for a few calls in one message. */
const char *kit_errname(int err);
/* An ibv_wc_status, or one of the KIT_WC_* above. */
const char *kit_wc_name(int status);
__attribute__((format(printf, 1, 2)))
void kit_note(const char *fmt, ...);
int kit_expect_wc(int got, enum ibv_wc_status want, const char *what);
int kit_expect_u64(uint64_t got, uint64_t want, const char *what);
int kit_check_pattern(const void *p, uint64_t msg, size_t len,
		      const char *what);

/*
 * Two connected QPs of one type.
 * @qpx: qp[0] as an extended QP, when made with KIT_PAIR_ATOMIC_WRITE
 * @srq: qp[1]'s shared receive queue, with KIT_PAIR_SRQ
 * @ah:  UD only: the path to the device's own GID
 */
struct kit_pair {
	enum ibv_qp_type type;
	struct ibv_cq *cq[2];
	struct ibv_qp *qp[2];
	struct ibv_qp_ex *qpx;
	struct ibv_srq *srq;
	struct ibv_ah *ah;
};

enum {
	KIT_PAIR_SRQ = 1,
	KIT_PAIR_ATOMIC_WRITE = 2,
	/*
	 * An ACK timeout of 4.096 us << 21 = 8.6 s: a requester that must
	 * not retransmit into a responder stalled for seconds.
	 */
	KIT_PAIR_LONG_ACK = 4,
};

/*
 * A connected pair of @type; KIT_PAIR_ATOMIC_WRITE may make it
 * KIT_SKIPPED when the library or device cannot create such a QP.
 */
int kit_new_pair(enum ibv_qp_type type, int flags, struct kit_pair **out);
/* Deregister @mr after the case; returns 0. */
int kit_track_mr(struct ibv_mr *mr);
/* Deregister a tracked MR now. */
void kit_dereg(struct ibv_mr *mr);
/* A memory window of @type, deallocated after the case before its QPs. */
int kit_new_mw(enum ibv_mw_type type, struct ibv_mw **mw);

/*
 * Work requests. Each helper below posts one signalled WR with a wr_id
 * of its own and waits for that WR's completion: its status, or a
 * KIT_WC_* code with the reason in kit_why. A failure to post is such a
 * code too, so that a case which provokes one fails alone.
 */

/* The wr_id for the next WR a case posts by itself. */
uint64_t kit_next_wr_id(void);
/* Record that verbs call @call failed with @err: KIT_WC_VERBS_ERR. */
int kit_verbs_failed(const char *call, int err);
/*
 * The completion of WR @wr_id on @cq: its status, KIT_WC_TIMEOUT if none
 * came in @ms, KIT_WC_STRAY if a completion of another WR came first (a
 * late one of a WR that timed out, a receive on qp[1]'s CQ).
 */
int kit_wait_wc(struct ibv_cq *cq, uint64_t wr_id, struct ibv_wc *wc,
		int ms);
/*
 * The completion of receive @wr_id on qp[1]: 0 if it succeeded with
 * @len bytes, else the case fails, naming @what.
 */
int kit_wait_recv(struct kit_pair *p, uint64_t wr_id, size_t len,
		  struct ibv_wc *wc, const char *what);
/* Post @wr on qp[@side] with a fresh wr_id; its completion status. */
int kit_post_wait_on(struct kit_pair *p, int side, struct ibv_send_wr *wr,
		     int ms);
/* The same on the requester, qp[0]. */
int kit_post_wait(struct kit_pair *p, struct ibv_send_wr *wr, int ms);
/* One-SGE work request @op from @laddr to @raddr (0 for SEND). */
int kit_rdma(struct kit_pair *p, enum ibv_wr_opcode op, uint64_t laddr,
	     uint32_t lkey, uint64_t raddr, uint32_t rkey, size_t len, int ms);
/* A UD SEND of @len bytes at @laddr/@lkey to qp[1]: its status. */
int kit_ud_send(struct kit_pair *p, uint64_t laddr, uint32_t lkey,
		size_t len);
/*
 * RDMA WRITE with immediate @imm of @len bytes from @laddr/@lkey to
 * @raddr/@rkey, consuming a receive without SGE (wr_id @imm) posted on
 * qp[1] first. Both must complete, the receive with @imm and @len bytes:
 * on UC, which has no ACK, that receive is what says the data is in.
 * 0, or the case fails.
 */
int kit_write_imm(struct kit_pair *p, uint64_t laddr, uint32_t lkey,
		  uint64_t raddr, uint32_t rkey, size_t len, uint32_t imm);
/*
 * One receive of @len bytes at @addr (no SGE for @len 0) on qp[1], or on
 * its SRQ when it has one; @wr_id below KIT_SEND_WR_ID_BASE.
 */
int kit_post_recv(struct kit_pair *p, uint64_t wr_id, uint64_t addr,
		  size_t len, uint32_t lkey);
/*
 * A SEND of 4 KiB of kit_host into one receive on qp[1] at @addr/@lkey,
 * memory the receive cannot reach (@what names it): the receive must
 * complete with a local protection error (its WQE is well formed, its
 * memory is not there) and the SEND with the responder's remote
 * operational error. 0, or the case fails.
 */
int kit_send_into_unreachable(struct kit_pair *p, uint64_t addr,
			      uint32_t lkey, const char *what);
/* CMP_SWP or FETCH_ADD at @raddr; the original value lands in @orig. */
int kit_atomic(struct kit_pair *p, enum ibv_wr_opcode op, uint32_t rkey,
	       uint64_t raddr, uint64_t compare_add, uint64_t swap,
	       uint64_t *orig);
/* ATOMIC_WRITE of @value at @raddr through p->qpx: its status. */
int kit_atomic_write(struct kit_pair *p, uint32_t rkey, uint64_t raddr,
		     uint64_t value);
/* 0 if the device can do ATOMIC_WRITE, else KIT_SKIPPED or -1 and why. */
int kit_need_atomic_write(void);

#endif /* KIT_H */
