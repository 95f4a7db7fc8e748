/*
 * rdma_xfer - move data over RC QPs, verify every byte, report bandwidth.
 *
 * Every message i carries its own pseudo-random pattern (xorshift64*
 * seeded from i), so data that is misplaced within a message, lands in the
 * wrong slot or is stale from an earlier message is caught, not just data
 * that is missing. Each side has depth slots of --size bytes; message i
 * uses slot i % depth on both sides and a slot is verified before it is
 * reused, so every message is checked, not only the last one.
 *
 * One protocol serves loopback and two-node mode alike. The requester
 * (client, or the first QP in loopback) issues the data operations; the
 * responder (server, or the second QP) owns the target or source slots.
 * The responder grants credits with small SENDs carrying "you may post
 * messages below N", so a slot is never overwritten before it was checked:
 *
 *  send, write_imm  the responder verifies on its receive completion (for
 *                   write_imm the immediate carries the message index).
 *  write            the target sees no completion, so the requester sends
 *                   a "written up to N" SEND after a batch of WRITEs. RC
 *                   executes requests in order, so when that SEND
 *                   completes at the responder the WRITEs before it have
 *                   landed, and it verifies them.
 *  read             the responder fills a source slot once the requester
 *                   reports, by "consumed up to N", that the message read
 *                   from it was verified; the requester verifies on its
 *                   READ completion.
 *
 * Loopback mode runs both roles on two QPs of one context in one process,
 * so it exercises the very code a two-node run uses. Timing covers the
 * whole verified transfer, including pattern generation and checking.
 *
 * --qps runs several such QP pairs side by side, each with buffers of its
 * own, all served by one thread; message i of pair q carries a pattern of
 * its own (seeded from i and q), so data crossing from one pair's buffers
 * into another's shows too.
 *
 * A timed run (--seconds) does not know its end in advance: at the
 * deadline each requester stops posting and tells its responder how many
 * messages there were (CTRL_END, or for send and write_imm, whose
 * responder takes only data receives, a zero-length SEND with immediate
 * END_IMM after the last message: every message before it has arrived).
 *
 * Every work request must complete exactly once. Each role keeps the
 * wr_id of every outstanding work request by queue slot; a completion of
 * anything else is counted as duplicated. At the end the QPs go to the
 * error state, which flushes the receives still queued, and whatever has
 * not completed then is counted as lost. Either fails the run.
 *
 * ODP churn that discards memory (madvise, remap) must never hit a slot
 * the protocol is using, so each side tells its struct xfer_slots when a
 * slot goes into use (before it is filled, posted, or credited or given
 * a receive that lets the peer write it) and when it is done with it
 * (after its message was verified, or completed for a source).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xfer.h"

#define NCTRL		16	/* control messages in flight per direction */
#define CTRL_SLOT	64	/* bytes per control buffer slot */

/*
 * wr_id: what a completion belongs to in the top byte, an index below:
 * the message for data, for control messages the control slot in the low
 * byte and above it how many were posted before, so that no two
 * outstanding-or-past control wr_ids are alike.
 */
enum wr_kind { WR_DATA = 1, WR_DATA_RECV, WR_CTRL_SEND, WR_CTRL_RECV };
#define WR_ID(kind, idx)	(((uint64_t)(kind) << 56) | (idx))
#define WR_KIND(id)		((unsigned int)((id) >> 56))
#define WR_IDX(id)		((id) & ((1ULL << 56) - 1))
#define CTRL_IDX(seq, slot)	((((seq) << 8) & ((1ULL << 56) - 1)) | (slot))
#define CTRL_SLOT_OF(idx)	((unsigned int)((idx) & 0xff))

enum ctrl_type { CTRL_WRITTEN = 1, CTRL_CONSUMED, CTRL_CREDIT, CTRL_END };

/* A timed run's end, for the responders of send and write_imm. */
#define END_IMM		0x454e4421u	/* "END!" */
/* A role's end while the requester has not decided it yet. */
#define END_UNKNOWN	UINT64_MAX
/* How long the QPs may take to flush their queues at the end. */
#define FLUSH_TIMEOUT_S	10
/* Duplicated completions reported one by one before going quiet. */
#define DUP_REPORTS	10

/* A control SEND, big-endian; counts are absolute so they can coalesce. */
struct ctrl_msg {
	uint32_t type;
	uint32_t reserved;
	uint64_t upto;		/* WRITTEN/CONSUMED: messages; CREDIT: limit */
	uint64_t verified;	/* messages the sender has verified so far */
	uint64_t vbytes;	/* bytes the sender has verified so far */
};

/*
 * struct role - one side of the protocol on one QP
 * @pair:     QP pair, which seeds the patterns with the message index
 * @end:      messages of this pair: --iters, or in a timed run
 *            END_UNKNOWN until the requester decides it
 * @end_sent: requester of a timed run: the end went to the responder
 * @out:      wr_id of the outstanding work request of each queue slot, 0
 *            when free: data sends, data receives (depth each), then the
 *            2 * NCTRL control slots
 * @wrs, @completions, @flushed, @duplicated: work requests posted,
 *            completions of outstanding ones (flushed: with
 *            IBV_WC_WR_FLUSH_ERR after the run), completions of none
 * @limit:    requester: peer's credit, may post messages below it
 * @notified: requester: last count sent in WRITTEN/CONSUMED
 * @filled:   read responder: messages whose source data is in place
 * @credited: responder: last limit sent in CREDIT
 * @done_msgs: requester: data completions; responder: messages arrived
 * @slots:    ownership of the data slots, with ODP churn that discards
 */
struct role {
	char name[24];
	unsigned int pair;
	bool requester;
	uint64_t end;
	bool end_sent;
	uint64_t *out;
	uint64_t wrs, completions, flushed, duplicated;
	uint64_t ctrl_recvs;
	struct xfer_ep ep;
	struct xfer_slots *slots;
	struct xfer_conn_info peer;
	uint64_t posted, limit, notified;
	uint64_t filled, credited, credited_verified;
	uint64_t done_msgs, verified, verified_bytes;
	uint64_t peer_verified, peer_vbytes;
	uint64_t ctrl_sent, ctrl_acked;
	bool done;
};

/*
 * The run's shared parameters; batch is how often control messages go.
 * @timed: the run ends at @deadline (requesters; set when traffic starts)
 */
static struct {
	enum xfer_op op;
	size_t size;
	uint64_t iters;
	uint32_t depth;
	uint32_t batch;
	bool busy_poll;
	bool slots;
	uint32_t qps;
	bool timed;
	double deadline;
} cfg;

static size_t slot_off(uint64_t msg)
{
	return (size_t)(msg % cfg.depth) * cfg.size;
}

static void *slot_ptr(struct role *r, uint64_t msg)
{
	return (char *)r->ep.data.addr + slot_off(msg);
}

/* The pattern of message @msg of @r's pair; pair 0 keeps the plain one. */
static uint64_t pattern_id(const struct role *r, uint64_t msg)
{
	return msg ^ ((uint64_t)r->pair << 48);
}

/* Message @msg's slot goes into use; waits for a churn of it to end. */
static void slot_get(struct role *r, uint64_t msg)
{
	if (r->slots && msg < r->end)
		xfer_slots_acquire(r->slots, msg % cfg.depth);
}

/* Done with message @msg's slot until it is got again. */
static void slot_put(struct role *r, uint64_t msg)
{
	if (r->slots)
		xfer_slots_release(r->slots, msg % cfg.depth);
}

/*
 * The CPU reaches a dma-buf only between a begin and an end of CPU access
 * (xfer_buf_cpu_begin/end). One bracket spans all the messages a step
 * fills or verifies, not each message: a bracket is two system calls into
 * the exporter, which in a UML guest take about as long as checking a
 * 64 KiB message, and they would weigh on dma-buf memory alone.
 */
static void verify_msg(struct role *r, uint64_t msg)
{
	uint64_t id = pattern_id(r, msg);

	/* The pattern id alone would not say which pair and message. */
	if (r->pair &&
	    xfer_pattern_diff(slot_ptr(r, msg), id, cfg.size) != cfg.size)
		fprintf(stderr, "rdma_xfer: %s: message %" PRIu64 " is wrong (pattern id 0x%" PRIx64 ")\n",
			r->name, msg, id);
	r->verified_bytes += xfer_pattern_check(slot_ptr(r, msg), id, cfg.size,
						msg % cfg.depth);
	r->verified++;
}

static void verify_one(struct role *r, uint64_t msg)
{
	xfer_buf_cpu_begin(&r->ep.data, false);
	verify_msg(r, msg);
	xfer_buf_cpu_end(&r->ep.data, false);
}

/* Fill messages [@first, @end), each slot already got. */
static void fill_msgs(struct role *r, uint64_t first, uint64_t end)
{
	if (first >= end)
		return;
	xfer_buf_cpu_begin(&r->ep.data, true);
	for (uint64_t msg = first; msg < end; msg++)
		xfer_pattern_fill(slot_ptr(r, msg), pattern_id(r, msg),
				  cfg.size);
	xfer_buf_cpu_end(&r->ep.data, true);
}

/* Where a role keeps wr_id @id while it is outstanding; -1 if none. */
static long acct_slot(uint64_t id)
{
	uint64_t idx = WR_IDX(id);

	switch (WR_KIND(id)) {
	case WR_DATA:
		return (long)(idx % cfg.depth);
	case WR_DATA_RECV:
		return (long)(cfg.depth + idx % cfg.depth);
	case WR_CTRL_SEND:
	case WR_CTRL_RECV:
		if (CTRL_SLOT_OF(idx) >= 2 * NCTRL)
			return -1;
		return (long)(2 * cfg.depth + CTRL_SLOT_OF(idx));
	}
	return -1;
}

/* The protocol never reuses a queue slot before its completion. */
static void acct_post(struct role *r, uint64_t id)
{
	long i = acct_slot(id);

	if (i < 0 || r->out[i])
		xfer_die("%s: internal error: posting wr_id 0x%" PRIx64 " over outstanding 0x%" PRIx64,
			 r->name, id, i < 0 ? 0 : r->out[i]);
	r->out[i] = id;
	r->wrs++;
}

/* False for a completion of no outstanding work request: counted. */
static bool acct_complete(struct role *r, const struct ibv_wc *wc)
{
	long i = acct_slot(wc->wr_id);

	if (i >= 0 && r->out[i] == wc->wr_id) {
		r->out[i] = 0;
		r->completions++;
		return true;
	}
	if (r->duplicated++ < DUP_REPORTS)
		fprintf(stderr, "rdma_xfer: %s: completion of wr_id 0x%" PRIx64 " (status %s), which is not outstanding\n",
			r->name, (uint64_t)wc->wr_id,
			ibv_wc_status_str(wc->status));
	return false;
}

static uint64_t acct_outstanding(const struct role *r)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < 2 * cfg.depth + 2 * NCTRL; i++)
		n += !!r->out[i];
	return n;
}

static void post_send(struct role *r, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad;
	int err;

	acct_post(r, wr->wr_id);
	err = ibv_post_send(r->ep.qp, wr, &bad);
	if (err)
		xfer_die_err("ibv_post_send", err);
}

static void post_recv(struct role *r, uint64_t wr_id, struct ibv_sge *sge)
{
	struct ibv_recv_wr wr = {
		.wr_id = wr_id,
		.sg_list = sge,
		.num_sge = sge ? 1 : 0,
	}, *bad;
	int err;

	acct_post(r, wr_id);
	err = ibv_post_recv(r->ep.qp, &wr, &bad);
	if (err)
		xfer_die_err("ibv_post_recv", err);
}

static void post_data(struct role *r, uint64_t msg)
{
	struct ibv_sge sge = {
		.addr = r->ep.data.iova + slot_off(msg),
		.length = (uint32_t)cfg.size,
		.lkey = r->ep.data.mr->lkey,
	};
	static const enum ibv_wr_opcode opcode[XFER_OP_COUNT] = {
		[XFER_OP_WRITE] = IBV_WR_RDMA_WRITE,
		[XFER_OP_WRITE_IMM] = IBV_WR_RDMA_WRITE_WITH_IMM,
		[XFER_OP_READ] = IBV_WR_RDMA_READ,
		[XFER_OP_SEND] = IBV_WR_SEND,
	};
	struct ibv_send_wr wr = {
		.wr_id = WR_ID(WR_DATA, msg),
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = opcode[cfg.op],
		.send_flags = IBV_SEND_SIGNALED,
		.imm_data = htonl((uint32_t)msg),
		.wr.rdma = {
			.remote_addr = r->peer.addr + slot_off(msg),
			.rkey = r->peer.rkey,
		},
	};

	post_send(r, &wr);
}

/* Receives for send/write_imm; write_imm needs no buffer, only the WQE. */
static void post_data_recv(struct role *r, uint64_t msg)
{
	struct ibv_sge sge = {
		.addr = r->ep.data.iova + slot_off(msg),
		.length = (uint32_t)cfg.size,
		.lkey = r->ep.data.mr->lkey,
	};

	post_recv(r, WR_ID(WR_DATA_RECV, msg),
		  cfg.op == XFER_OP_SEND ? &sge : NULL);
}

/* Control slots: [0, NCTRL) receive, [NCTRL, 2 * NCTRL) send. */
static struct ibv_sge ctrl_sge(struct role *r, unsigned int slot)
{
	return (struct ibv_sge){
		.addr = r->ep.ctrl.iova + slot * CTRL_SLOT,
		.length = sizeof(struct ctrl_msg),
		.lkey = r->ep.ctrl.mr->lkey,
	};
}

static void post_ctrl_recv(struct role *r, unsigned int slot)
{
	struct ibv_sge sge = ctrl_sge(r, slot);

	post_recv(r, WR_ID(WR_CTRL_RECV, CTRL_IDX(r->ctrl_recvs++, slot)),
		  &sge);
}

static bool ctrl_room(struct role *r)
{
	return r->ctrl_sent - r->ctrl_acked < NCTRL;
}

static void send_ctrl(struct role *r, enum ctrl_type type, uint64_t upto)
{
	unsigned int slot = NCTRL + r->ctrl_sent % NCTRL;
	struct ibv_sge sge = ctrl_sge(r, slot);
	struct ctrl_msg msg = {
		.type = htobe32(type),
		.upto = htobe64(upto),
		.verified = htobe64(r->verified),
		.vbytes = htobe64(r->verified_bytes),
	};
	struct ibv_send_wr wr = {
		.wr_id = WR_ID(WR_CTRL_SEND, CTRL_IDX(r->ctrl_sent, slot)),
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
	};

	memcpy((char *)r->ep.ctrl.addr + slot * CTRL_SLOT, &msg, sizeof(msg));
	post_send(r, &wr);
	r->ctrl_sent++;
}

/*
 * Tell the responder where a timed run ends. Its receive queue holds only
 * data receives for send and write_imm: a zero-length SEND with immediate
 * takes the next one, after every message, so the count goes unsaid.
 */
static void send_end(struct role *r)
{
	unsigned int slot = NCTRL + r->ctrl_sent % NCTRL;
	struct ibv_send_wr wr = {
		.wr_id = WR_ID(WR_CTRL_SEND, CTRL_IDX(r->ctrl_sent, slot)),
		.opcode = IBV_WR_SEND_WITH_IMM,
		.send_flags = IBV_SEND_SIGNALED,
		.imm_data = htonl(END_IMM),
	};

	r->end_sent = true;
	if (cfg.op == XFER_OP_WRITE || cfg.op == XFER_OP_READ) {
		send_ctrl(r, CTRL_END, r->end);
		return;
	}
	post_send(r, &wr);
	r->ctrl_sent++;
}

/* At the deadline a timed run ends after the messages posted so far. */
static void decide_end(struct role *r)
{
	if (cfg.timed && r->end == END_UNKNOWN && r->posted &&
	    xfer_now() >= cfg.deadline)
		r->end = r->posted;
}

/*
 * Post what the window allows, then the control message the peer needs.
 * Control messages are sent once a batch is ready, or early when the
 * requester can go no further without the peer, so neither side waits on
 * the other with something unsent.
 */
static void requester_post(struct role *r)
{
	uint64_t upto;
	bool blocked;

	decide_end(r);
	/* What the window allows: filled under one bracket, then posted. */
	upto = r->end < r->limit ? r->end : r->limit;
	if (upto > r->done_msgs + cfg.depth)
		upto = r->done_msgs + cfg.depth;
	for (uint64_t m = r->posted; m < upto; m++)
		slot_get(r, m);
	if (cfg.op != XFER_OP_READ)
		fill_msgs(r, r->posted, upto);
	while (r->posted < upto) {
		post_data(r, r->posted);
		/* Read by the churn thread: see pair_in_flight(). */
		__atomic_store_n(&r->posted, r->posted + 1, __ATOMIC_RELAXED);
	}
	if (!ctrl_room(r))
		return;
	/* Before any count that reaches the end, which the peer checks. */
	if (cfg.timed && r->end != END_UNKNOWN && !r->end_sent) {
		send_end(r);
		if (!ctrl_room(r))
			return;
	}
	blocked = r->posted == r->limit;
	if (cfg.op == XFER_OP_WRITE && r->posted > r->notified &&
	    (r->posted - r->notified >= cfg.batch ||
	     r->posted == r->end || blocked)) {
		send_ctrl(r, CTRL_WRITTEN, r->posted);
		r->notified = r->posted;
	} else if (cfg.op == XFER_OP_READ && r->done_msgs > r->notified &&
		   (r->done_msgs - r->notified >= cfg.batch ||
		    r->done_msgs == r->end ||
		    (blocked && r->done_msgs == r->posted))) {
		send_ctrl(r, CTRL_CONSUMED, r->done_msgs);
		r->notified = r->done_msgs;
	}
}

static void responder_post(struct role *r)
{
	uint64_t lim;
	bool final;

	if (!ctrl_room(r))
		return;
	if (cfg.op == XFER_OP_READ) {
		lim = r->filled;
		final = lim == r->end && r->credited < r->end;
	} else {
		lim = r->verified + cfg.depth;
		final = r->verified == r->end &&
			r->credited_verified < r->end;
	}
	if (lim >= r->credited + cfg.batch || final) {
		/* A credit lets the peer in; a read source is got at fill. */
		for (uint64_t m = r->credited;
		     cfg.op != XFER_OP_READ && m < lim; m++)
			slot_get(r, m);
		send_ctrl(r, CTRL_CREDIT, lim);
		r->credited = lim;
		r->credited_verified = r->verified;
	}
}

static void read_refill(struct role *r, uint64_t consumed)
{
	uint64_t want = consumed + cfg.depth;

	if (want > r->end)
		want = r->end;
	for (uint64_t m = r->filled; m < want; m++)
		slot_get(r, m);
	fill_msgs(r, r->filled, want);
	if (want > r->filled)
		r->filled = want;
}

static void handle_ctrl(struct role *r, const struct ibv_wc *wc)
{
	unsigned int slot = CTRL_SLOT_OF(WR_IDX(wc->wr_id));
	struct ctrl_msg msg;
	uint64_t upto;

	if (wc->byte_len != sizeof(msg))
		xfer_die("%s: control message of %u bytes, expected %zu",
			 r->name, wc->byte_len, sizeof(msg));
	memcpy(&msg, (char *)r->ep.ctrl.addr + slot * CTRL_SLOT, sizeof(msg));
	post_ctrl_recv(r, slot);
	upto = be64toh(msg.upto);
	r->peer_verified = be64toh(msg.verified);
	r->peer_vbytes = be64toh(msg.vbytes);

	switch (be32toh(msg.type)) {
	case CTRL_CREDIT:
		if (!r->requester)
			break;
		if (upto > r->limit)
			r->limit = upto;
		return;
	case CTRL_END:
		if (r->requester || !cfg.timed || r->end != END_UNKNOWN ||
		    upto < r->done_msgs || upto > r->credited)
			break;
		r->end = upto;
		if (cfg.op == XFER_OP_READ && r->filled > upto)
			r->filled = upto;
		return;
	case CTRL_WRITTEN:
		if (r->requester || upto > r->end || upto < r->done_msgs)
			break;
		if (upto == r->done_msgs)
			return;
		xfer_buf_cpu_begin(&r->ep.data, false);
		for (; r->done_msgs < upto; r->done_msgs++) {
			verify_msg(r, r->done_msgs);
			slot_put(r, r->done_msgs);
		}
		xfer_buf_cpu_end(&r->ep.data, false);
		return;
	case CTRL_CONSUMED:
		if (r->requester || upto > r->end || upto < r->done_msgs)
			break;
		for (; r->done_msgs < upto; r->done_msgs++)
			slot_put(r, r->done_msgs);
		read_refill(r, upto);
		return;
	}
	xfer_die("%s: unexpected control message type %u (count %" PRIu64 ")",
		 r->name, be32toh(msg.type), upto);
}

/* A receive for send/write_imm arrived: check it is the next message. */
static void handle_data_recv(struct role *r, const struct ibv_wc *wc)
{
	uint64_t msg = r->done_msgs;

	if (cfg.timed && r->end == END_UNKNOWN &&
	    wc->opcode == IBV_WC_RECV && (wc->wc_flags & IBV_WC_WITH_IMM) &&
	    !wc->byte_len && ntohl(wc->imm_data) == END_IMM) {
		r->end = msg;
		return;
	}
	if (cfg.op == XFER_OP_SEND) {
		if (wc->opcode != IBV_WC_RECV || WR_IDX(wc->wr_id) != msg ||
		    wc->byte_len != cfg.size)
			xfer_die("%s: receive %" PRIu64 " of %u bytes, expected message %" PRIu64 " of %zu bytes",
				 r->name, (uint64_t)WR_IDX(wc->wr_id),
				 wc->byte_len, msg, cfg.size);
	} else if (wc->opcode != IBV_WC_RECV_RDMA_WITH_IMM ||
		   !(wc->wc_flags & IBV_WC_WITH_IMM) ||
		   ntohl(wc->imm_data) != (uint32_t)msg) {
		xfer_die("%s: expected write_imm completion for message %" PRIu64 ", got opcode %d imm %u",
			 r->name, msg, wc->opcode, ntohl(wc->imm_data));
	}
	verify_one(r, msg);
	slot_put(r, msg);
	r->done_msgs++;
	if (msg + cfg.depth < r->end) {
		/* A SEND's receive lets the peer in before any credit. */
		if (cfg.op == XFER_OP_SEND)
			slot_get(r, msg + cfg.depth);
		post_data_recv(r, msg + cfg.depth);
	}
}

static void handle_wc(struct role *r, const struct ibv_wc *wc)
{
	static const char *const what[] = {
		[WR_DATA] = "data", [WR_DATA_RECV] = "data receive",
		[WR_CTRL_SEND] = "control send",
		[WR_CTRL_RECV] = "control receive",
	};
	unsigned int kind = WR_KIND(wc->wr_id);

	if (!acct_complete(r, wc))
		return;
	if (wc->status != IBV_WC_SUCCESS)
		xfer_die("%s: %s work completion %" PRIu64 " failed: %s (status %d, vendor error 0x%x)",
			 r->name, what[kind], (uint64_t)WR_IDX(wc->wr_id),
			 ibv_wc_status_str(wc->status), wc->status,
			 wc->vendor_err);

	switch (kind) {
	case WR_DATA:
		/* RC completes a send queue in order. */
		if (WR_IDX(wc->wr_id) != r->done_msgs)
			xfer_die("%s: completion for message %" PRIu64 ", expected %" PRIu64 " (one was lost or reordered)",
				 r->name, (uint64_t)WR_IDX(wc->wr_id),
				 r->done_msgs);
		if (cfg.op == XFER_OP_READ)
			verify_one(r, r->done_msgs);
		slot_put(r, r->done_msgs);
		/* Read by the churn thread: see pair_in_flight(). */
		__atomic_store_n(&r->done_msgs, r->done_msgs + 1,
				 __ATOMIC_RELAXED);
		break;
	case WR_DATA_RECV:
		handle_data_recv(r, wc);
		break;
	case WR_CTRL_SEND:
		r->ctrl_acked++;
		break;
	case WR_CTRL_RECV:
		handle_ctrl(r, wc);
		break;
	}
}

/* The reader checks what it read; otherwise the target checks. */
static bool role_verifies(const struct role *r)
{
	return r->requester == (cfg.op == XFER_OP_READ);
}

static bool role_done(const struct role *r)
{
	if (r->ctrl_sent != r->ctrl_acked || r->end == END_UNKNOWN)
		return false;
	if (r->requester)
		return r->done_msgs == r->end &&
		       (!cfg.timed || r->end_sent) &&
		       (cfg.op == XFER_OP_READ ? r->notified == r->end :
					    r->peer_verified == r->end);
	if (cfg.op == XFER_OP_READ)
		return r->done_msgs == r->end;
	return r->verified == r->end && r->credited_verified == r->end;
}

/* Post, reap completions, post again; returns completions handled. */
static int role_step(struct role *r)
{
	struct ibv_wc wc[16];
	int n, total = 0;

	if (r->done)
		return 0;
	do {
		if (r->requester)
			requester_post(r);
		else
			responder_post(r);
		n = ibv_poll_cq(r->ep.cq, 16, wc);
		if (n < 0)
			xfer_die_err("ibv_poll_cq", errno);
		for (int i = 0; i < n; i++)
			handle_wc(r, &wc[i]);
		total += n;
	} while (n);
	r->done = role_done(r);
	return total;
}

/*
 * A peer that exits closes the TCP connection: notice it while idle so the
 * survivor fails at once instead of after the idle timeout. Data on the
 * socket is the peer's end-of-run byte, so after it nothing more to watch.
 */
static void check_peer(int *sock)
{
	char c;
	ssize_t n = recv(*sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	if (!n)
		xfer_die("peer closed the connection before the transfer finished");
	if (n > 0)
		*sock = -1;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		xfer_die_err("recv", errno);
}

/* Sleep until a CQ event, the peer's socket or @ms, whichever is first. */
static void wait_event(struct xfer_dev *dev, int *sock, int ms)
{
	struct pollfd pfd[2] = {
		{ .fd = dev->chan->fd, .events = POLLIN },
		{ .fd = *sock, .events = POLLIN },
	};
	struct ibv_cq *cq;
	void *ctx;
	int n;

	if (cfg.busy_poll)
		pfd[0].fd = -1;
	n = poll(pfd, 2, cfg.busy_poll ? 0 : ms);
	if (n < 0 && errno != EINTR)
		xfer_die_err("poll", errno);
	if (n > 0 && pfd[1].revents)
		check_peer(sock);
	if (n > 0 && pfd[0].revents) {
		if (ibv_get_cq_event(dev->chan, &cq, &ctx))
			xfer_die_err("ibv_get_cq_event", errno);
		((struct xfer_ep *)ctx)->cq_events++;
	}
	if (cfg.busy_poll)
		sched_yield();
}

static void run(struct role **roles, int nroles, struct xfer_dev *dev,
		int sock)
{
	double last = xfer_now(), idle;
	int progress, i, err;

	for (;;) {
		bool all_done = true;

		progress = 0;
		for (i = 0; i < nroles; i++) {
			progress += role_step(roles[i]);
			all_done &= roles[i]->done;
		}
		if (all_done)
			return;
		if (progress) {
			last = xfer_now();
			continue;
		}
		idle = xfer_now() - last;
		if (idle > XFER_IDLE_TIMEOUT_S) {
			for (i = 0; i < nroles; i++)
				fprintf(stderr,
					"rdma_xfer: %s: posted %" PRIu64 " done %" PRIu64 " verified %" PRIu64 " end %" PRId64 " wrs %" PRIu64 " completions %" PRIu64 " duplicated %" PRIu64 "\n",
					roles[i]->name, roles[i]->posted,
					roles[i]->done_msgs, roles[i]->verified,
					roles[i]->end == END_UNKNOWN ? -1 :
					(int64_t)roles[i]->end, roles[i]->wrs,
					roles[i]->completions,
					roles[i]->duplicated);
			xfer_die("no completion for %d s", XFER_IDLE_TIMEOUT_S);
		}
		/*
		 * Arm, then look once more: a completion that arrived before
		 * the arm would otherwise raise no event.
		 */
		if (!cfg.busy_poll) {
			for (i = 0; i < nroles; i++) {
				if (roles[i]->done)
					continue;
				err = ibv_req_notify_cq(roles[i]->ep.cq, 0);
				if (err)
					xfer_die_err("ibv_req_notify_cq", err);
				progress += role_step(roles[i]);
			}
			if (progress) {
				last = xfer_now();
				continue;
			}
		}
		wait_event(dev, &sock,
			   (int)((XFER_IDLE_TIMEOUT_S - idle) * 1000) + 1);
	}
}
/*
 * Receives go up before the QP leaves INIT so nothing can arrive to an
 * empty queue. The responder's receive queue holds only one kind of WQE per
 * op, since a SEND or write_imm consumes whichever receive is first.
 */
static void role_init(struct role *r, struct xfer_dev *dev,
		      const struct buf_ops *mem, bool requester,
		      unsigned int pair)
{
	const char *what = requester ? "requester" : "responder";
	uint64_t first;

	memset(r, 0, sizeof(*r));
	r->requester = requester;
	r->pair = pair;
	r->end = cfg.timed ? END_UNKNOWN : cfg.iters;
	first = r->end < cfg.depth ? r->end : cfg.depth;
	if (cfg.qps > 1)
		snprintf(r->name, sizeof(r->name), "%s %u", what, pair);
	else
		snprintf(r->name, sizeof(r->name), "%s", what);
	r->out = calloc(2 * cfg.depth + 2 * NCTRL, sizeof(*r->out));
	if (!r->out)
		xfer_die_err("calloc", ENOMEM);
	xfer_ep_create(&r->ep, dev, mem, (size_t)cfg.depth * cfg.size,
		       2 * NCTRL * CTRL_SLOT, cfg.depth + NCTRL, cfg.depth);
	if (cfg.slots)
		r->slots = xfer_slots_new(r->ep.data.addr, cfg.size, cfg.depth);
	r->limit = cfg.depth;
	r->credited = cfg.depth;
	/* The first credit, implied by the depth, lets the peer in at once. */
	for (uint64_t i = 0; !requester && cfg.op != XFER_OP_READ && i < first;
	     i++)
		slot_get(r, i);
	if (requester || cfg.op == XFER_OP_WRITE || cfg.op == XFER_OP_READ) {
		for (unsigned int i = 0; i < NCTRL; i++)
			post_ctrl_recv(r, i);
	} else {
		for (uint64_t i = 0; i < first; i++)
			post_data_recv(r, i);
	}
	if (!requester && cfg.op == XFER_OP_READ) {
		read_refill(r, 0);
		r->credited = r->filled;
	}
}

static void role_destroy(struct role *r)
{
	xfer_ep_destroy(&r->ep);
	xfer_slots_free(r->slots);
	free(r->out);
}

static void set_cfg(const struct xfer_params *p, const struct xfer_opts *o)
{
	cfg.op = p->op;
	cfg.size = p->size;
	cfg.iters = p->iters;
	cfg.qps = p->qps;
	cfg.timed = p->seconds;
	cfg.depth = p->depth;
	cfg.batch = p->depth / 4 ? p->depth / 4 : 1;
	cfg.busy_poll = o->busy_poll;
	cfg.slots = xfer_churn_on(o->madvise_us) || xfer_churn_on(o->remap_us);
}

/*
 * After the run: move every QP to the error state, which flushes what is
 * still queued (the receives posted ahead), and take those completions.
 * A timed run may also see a credit that its requester, done, no longer
 * waited for complete successfully; any other status is an error, counted
 * in @failed. Whatever is outstanding after FLUSH_TIMEOUT_S never
 * completed; a last look after everything did catches a completion that
 * comes twice. Returns the work requests lost.
 */
static uint64_t flush_roles(struct role *roles, int nroles, uint64_t *failed)
{
	struct ibv_qp_attr attr = { .qp_state = IBV_QPS_ERR };
	double deadline = xfer_now() + FLUSH_TIMEOUT_S;
	struct ibv_wc wc[16];
	uint64_t left;
	int i, k, n, polled, err;
	bool last = false;

	for (i = 0; i < nroles; i++) {
		err = ibv_modify_qp(roles[i].ep.qp, &attr, IBV_QP_STATE);
		if (err)
			xfer_die_err("ibv_modify_qp(ERR)", err);
	}
	for (;;) {
		left = 0;
		polled = 0;
		for (i = 0; i < nroles; i++) {
			struct role *r = &roles[i];

			n = ibv_poll_cq(r->ep.cq, ARRAY_SIZE(wc), wc);
			if (n < 0)
				xfer_die_err("ibv_poll_cq", errno);
			for (k = 0; k < n; k++) {
				if (!acct_complete(r, &wc[k]))
					continue;
				if (wc[k].status == IBV_WC_WR_FLUSH_ERR) {
					r->flushed++;
				} else if (wc[k].status != IBV_WC_SUCCESS) {
					(*failed)++;
					fprintf(stderr, "rdma_xfer: %s: wr_id 0x%" PRIx64 " completed after the run with status %s\n",
						r->name, (uint64_t)wc[k].wr_id,
						ibv_wc_status_str(wc[k].status));
				}
			}
			polled += n;
			left += acct_outstanding(r);
		}
		if (polled)
			continue;
		if (last || (left && xfer_now() > deadline))
			break;
		if (!left)
			last = true;
		usleep(left ? 1000 : 20000);
	}
	for (i = 0; left && i < nroles; i++)
		for (uint32_t s = 0; s < 2 * cfg.depth + 2 * NCTRL; s++)
			if (roles[i].out[s])
				fprintf(stderr, "rdma_xfer: %s: wr_id 0x%" PRIx64 " never completed\n",
					roles[i].name, roles[i].out[s]);
	return left;
}

/*
 * What the summary line adds: for dma-buf memory the test exporter's
 * counters of the data buffers and rxe's dma-buf counters over the run;
 * for ODP memory rxe's ODP counters over the run and the churn issued.
 */
struct mem_report {
	uint64_t page_faults;	/* this process's, at the start */
	bool dte;
	bool counters;		/* the device has the dma-buf counters */
	uint64_t inval, refaults;
	struct xfer_churn *move, *evict;
	struct xfer_churn_probe probe;
	bool odp;		/* the device has the ODP counters */
	bool prefetch;
	uint64_t odp_faults, odp_inval, odp_prefetches;
	struct xfer_churn *odp_churn[3];
};

static const char *const odp_churn_names[] = {
	[XFER_CHURN_MADVISE] = "madvises",
	[XFER_CHURN_REMAP] = "remaps",
	[XFER_CHURN_FORK] = "forks",
};

static bool read_counters(const struct xfer_dev *dev, uint64_t *inval,
			  uint64_t *refaults)
{
	return !xfer_hw_counter(dev->name, "dmabuf_invalidations", inval) &&
	       !xfer_hw_counter(dev->name, "dmabuf_refaults", refaults);
}

static bool read_odp_counters(const struct xfer_dev *dev, uint64_t *faults,
			      uint64_t *inval, uint64_t *prefetches)
{
	return !xfer_hw_counter(dev->name, "odp_page_faults", faults) &&
	       !xfer_hw_counter(dev->name, "odp_invalidations", inval) &&
	       !xfer_hw_counter(dev->name, "odp_prefetches", prefetches);
}

/* Fault every data buffer in for writing, synchronously, before traffic. */
static void prefetch(struct role *roles, int nroles, struct xfer_dev *dev)
{
	int err;

	for (int i = 0; i < nroles; i++) {
		err = xfer_odp_advise(&roles[i].ep.data, dev->pd,
				      IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
				      IBV_ADVISE_MR_FLAG_FLUSH);
		if (err)
			xfer_die_err("ibv_advise_mr(PREFETCH_WRITE, FLUSH)", err);
	}
}

static void odp_report_start(struct mem_report *m, const struct xfer_opts *o,
			     struct role *roles, int nroles,
			     struct xfer_dev *dev)
{
	const uint64_t period[] = {
		[XFER_CHURN_MADVISE] = o->madvise_us,
		[XFER_CHURN_REMAP] = o->remap_us,
		[XFER_CHURN_FORK] = o->fork_us,
	};
	struct xfer_slots **slots = calloc(nroles, sizeof(*slots));
	int n;

	if (!slots)
		xfer_die_err("calloc", ENOMEM);
	m->odp = read_odp_counters(dev, &m->odp_faults, &m->odp_inval,
				   &m->odp_prefetches);
	m->prefetch = o->prefetch;
	if (o->prefetch)
		prefetch(roles, nroles, dev);
	for (int i = 0; i < nroles; i++)
		slots[i] = roles[i].slots;
	/* fork keeps every byte: it needs no slots lent to it. */
	for (size_t k = 0; k < ARRAY_SIZE(period); k++) {
		if (!xfer_churn_on(period[k]))
			continue;
		n = k == XFER_CHURN_FORK ? 0 : nroles;
		m->odp_churn[k] = xfer_odp_churn_start(k, period[k], slots, n);
	}
	free(slots);
}

/* Minor and major page faults of this process so far. */
static uint64_t page_faults(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		xfer_die_err("getrusage", errno);
	return (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
}

/*
 * Whether a data work request of the QP pair of buffer @i (a role) is
 * posted and not yet completed. The requester's counts tell for both
 * buffers of a pair: the source it reads and, in loopback, the target
 * it writes into. A server cannot see its peer's work requests, so it
 * asks no probe.
 */
static bool pair_in_flight(void *arg, int i)
{
	struct role *r = &((struct role *)arg)[i];

	if (!r->requester)
		r--;		/* loopback: the pair's requester comes first */
	return __atomic_load_n(&r->posted, __ATOMIC_RELAXED) >
	       __atomic_load_n(&r->done_msgs, __ATOMIC_RELAXED);
}

/*
 * The CPU mapping of a dma-buf faults a page in at its first touch, as
 * ibv_reg_mr() does for ordinary memory when it pins it: before the
 * timed run, so that the two compare alike. Each byte is written back
 * unchanged, so that the page is mapped writable (UML maps a page that
 * was only read without write access, and the first write faults again).
 */
static void prefault_dmabufs(struct role *roles, int nroles)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	for (int i = 0; i < nroles; i++) {
		struct xfer_buf *b = &roles[i].ep.data;
		volatile char *p = b->map;

		if (!p)
			continue;
		xfer_buf_cpu_begin(b, true);
		for (size_t off = 0; off < b->map_len; off += page)
			p[off] = p[off];
		xfer_buf_cpu_end(b, true);
	}
}

static void report_start(struct mem_report *m, const struct xfer_opts *o,
			 struct role *roles, int nroles, struct xfer_dev *dev)
{
	int *fds;

	memset(m, 0, sizeof(*m));
	if (o->mem->src >= 0)
		prefault_dmabufs(roles, nroles);
	m->page_faults = page_faults();
	if (o->mem->odp) {
		odp_report_start(m, o, roles, nroles, dev);
		return;
	}
	if (o->mem->src < 0)
		return;
	m->dte = xfer_dmabuf_src_is_dte(o->mem->src);
	m->counters = read_counters(dev, &m->inval, &m->refaults);
	fds = calloc(nroles, sizeof(*fds));
	if (!fds)
		xfer_die_err("calloc", ENOMEM);
	for (int i = 0; i < nroles; i++) {
		int err = 0;

		fds[i] = roles[i].ep.data.fd;
		if (o->fence_delay_us)
			err = xfer_dte_fence_delay(fds[i],
						   (uint32_t)o->fence_delay_us);
		if (err)
			xfer_die_err("DTE_IOC_FENCE_DELAY", err);
	}
	if (o->mode != XFER_SERVER)
		m->probe = (struct xfer_churn_probe){
			.busy = pair_in_flight,
			.arg = roles,
			.wait = o->churn_in_flight,
		};
	if (xfer_churn_on(o->move_us))
		m->move = xfer_churn_start(DTE_IOC_MOVE, o->move_us, fds, nroles,
					   &m->probe);
	if (xfer_churn_on(o->evict_us))
		m->evict = xfer_churn_start(DTE_IOC_EVICT, o->evict_us, fds,
					    nroles, &m->probe);
	free(fds);
}

static size_t odp_report_end(struct mem_report *m, struct xfer_dev *dev,
			     char *extra, size_t size)
{
	uint64_t faults, inval, prefetches, done;
	size_t n = 0;

	for (size_t k = 0; k < ARRAY_SIZE(m->odp_churn); k++) {
		if (!m->odp_churn[k])
			continue;
		done = xfer_churn_stop(m->odp_churn[k], NULL);
		xfer_info("issued %" PRIu64 " %s", done, odp_churn_names[k]);
		n += snprintf(extra + n, size - n, " %s=%" PRIu64,
			      odp_churn_names[k], done);
	}
	if (m->odp && read_odp_counters(dev, &faults, &inval, &prefetches)) {
		n += snprintf(extra + n, size - n,
			      " odp_faults=%" PRIu64 " odp_invalidations=%" PRIu64,
			      faults - m->odp_faults, inval - m->odp_inval);
		if (m->prefetch)
			n += snprintf(extra + n, size - n,
				      " odp_prefetches=%" PRIu64,
				      prefetches - m->odp_prefetches);
	}
	return n;
}

/*
 * Fills @extra for the summary line. Returns the pins the exporter counts
 * on the still registered buffers: rxe imports dynamically and must hold
 * none. Every move, eviction and restore (of an evicted buffer, by
 * whoever touched it next) adds one to a buffer's generation.
 */
static uint64_t report_end(struct mem_report *m, struct role *roles,
			   int nroles, struct xfer_dev *dev, char *extra,
			   size_t size)
{
	uint64_t moves = 0, evictions = 0, restores = 0, pins = 0;
	uint64_t inval, refaults, moves_busy = 0, evictions_busy = 0;
	uint64_t faults = page_faults() - m->page_faults;
	struct dte_stats st;
	size_t n = 0;
	int err;

	extra[0] = 0;
	n += odp_report_end(m, dev, extra, size);
	if (m->move)
		xfer_info("issued %" PRIu64 " moves",
			  xfer_churn_stop(m->move, &moves_busy));
	if (m->evict)
		xfer_info("issued %" PRIu64 " evictions",
			  xfer_churn_stop(m->evict, &evictions_busy));
	if (m->dte) {
		for (int i = 0; i < nroles; i++) {
			err = xfer_dte_stats(roles[i].ep.data.fd, &st);
			if (err)
				xfer_die_err("DTE_IOC_STATS", err);
			moves += st.moves;
			evictions += st.evictions;
			restores += st.generation - st.moves - st.evictions;
			pins += st.pins;
		}
		n += snprintf(extra + n, size - n,
			      " moves=%" PRIu64 " evictions=%" PRIu64 " restores=%" PRIu64 " pins=%" PRIu64,
			      moves, evictions, restores, pins);
	}
	if (m->counters && read_counters(dev, &inval, &refaults))
		n += snprintf(extra + n, size - n,
			      " invalidations=%" PRIu64 " refaults=%" PRIu64,
			      inval - m->inval, refaults - m->refaults);
	if (m->move && m->probe.busy)
		n += snprintf(extra + n, size - n, " moves_in_flight=%" PRIu64,
			      moves_busy);
	if (m->evict && m->probe.busy)
		n += snprintf(extra + n, size - n,
			      " evictions_in_flight=%" PRIu64, evictions_busy);
	snprintf(extra + n, size - n, " page_faults=%" PRIu64, faults);
	return pins;
}

static void end_barrier(int sock)
{
	char c = 'D';

	xfer_tcp_send(sock, &c, 1);
	xfer_tcp_recv(sock, &c, 1, "the end-of-run message");
	if (c != 'D')
		xfer_die("unexpected end-of-run message 0x%02x from peer",
			 (unsigned char)c);
}

/* Both roles of every pair in one process, two QPs each. */
static void setup_loopback(struct role *roles, struct xfer_dev *dev,
			   const struct xfer_opts *o)
{
	for (unsigned int q = 0; q < cfg.qps; q++) {
		struct role *req = &roles[2 * q], *resp = &roles[2 * q + 1];

		role_init(req, dev, o->mem, true, q);
		role_init(resp, dev, o->mem, false, q);
		xfer_ep_info(&resp->ep, &req->peer);
		xfer_ep_info(&req->ep, &resp->peer);
		xfer_ep_connect(&req->ep, &req->peer, o->p.mtu, cfg.depth);
		xfer_ep_connect(&resp->ep, &resp->peer, o->p.mtu, cfg.depth);
	}
}

/* The client's endpoints came after its hello; ours go back in order. */
static void setup_server(struct role *roles, struct xfer_dev *dev,
			 const struct xfer_opts *o, int sock)
{
	struct xfer_conn_info info;

	for (unsigned int q = 0; q < cfg.qps; q++) {
		role_init(&roles[q], dev, o->mem, false, q);
		xfer_recv_info(sock, &roles[q].peer);
	}
	for (unsigned int q = 0; q < cfg.qps; q++) {
		xfer_ep_connect(&roles[q].ep, &roles[q].peer, o->p.mtu,
				cfg.depth);
		xfer_ep_info(&roles[q].ep, &info);
		xfer_send_info(sock, &info);
	}
}

static int setup_client(struct role *roles, struct xfer_dev *dev,
			const struct xfer_opts *o)
{
	struct xfer_conn_info info;
	int sock;

	for (unsigned int q = 0; q < cfg.qps; q++)
		role_init(&roles[q], dev, o->mem, true, q);
	sock = xfer_tcp_connect(o->host, o->port);
	xfer_send_hello(sock, &o->p);
	for (unsigned int q = 0; q < cfg.qps; q++) {
		xfer_ep_info(&roles[q].ep, &info);
		xfer_send_info(sock, &info);
	}
	for (unsigned int q = 0; q < cfg.qps; q++) {
		xfer_recv_info(sock, &roles[q].peer);
		xfer_ep_connect(&roles[q].ep, &roles[q].peer, o->p.mtu,
				cfg.depth);
	}
	return sock;
}

int main(int argc, char **argv)
{
	struct role *roles, **rp;
	struct xfer_dev dev;
	struct xfer_opts o;
	struct mem_report mem;
	int nroles, stride, sock = -1;
	uint64_t pins, lost, failed = 0, msgs = 0, bytes = 0, verified = 0;
	uint64_t wrs = 0, completions = 0, flushed = 0, duplicated = 0;
	double t0, secs;
	char extra[512];

	xfer_parse_opts(argc, argv, &o);
	srand48(getpid() ^ (long)time(NULL));
	xfer_dev_open(&dev, o.dev, o.gid_index);
	/* A server takes the client's MTU; anyone else defaults to the port's. */
	if (o.mode != XFER_SERVER && !o.p.mtu)
		o.p.mtu = dev.port_attr.active_mtu;

	if (o.mode == XFER_SERVER) {
		sock = xfer_tcp_accept(o.port);
		xfer_recv_hello(sock, &o.p);
		xfer_check_params(&o.p);
		xfer_check_slot_churn(&o, &o.p, false);
	}
	set_cfg(&o.p, &o);
	if (cfg.size > dev.port_attr.max_msg_sz)
		xfer_die("--size %zu exceeds the maximum message size %u of %s",
			 cfg.size, dev.port_attr.max_msg_sz, dev.name);
	xfer_info("%s: op=%s size=%zu iters=%" PRIu64 " seconds=%u qps=%u depth=%u mtu=%d mem=%s",
		  xfer_mode_names[o.mode], xfer_op_names[cfg.op], cfg.size,
		  cfg.iters, o.p.seconds, cfg.qps, cfg.depth,
		  xfer_mtu_bytes(o.p.mtu), o.mem->name);

	/* In loopback, pair q is roles 2q (requester) and 2q + 1. */
	stride = o.mode == XFER_LOOPBACK ? 2 : 1;
	nroles = stride * cfg.qps;
	roles = calloc(nroles, sizeof(*roles));
	rp = calloc(nroles, sizeof(*rp));
	if (!roles || !rp)
		xfer_die_err("calloc", ENOMEM);
	for (int i = 0; i < nroles; i++)
		rp[i] = &roles[i];
	switch (o.mode) {
	case XFER_LOOPBACK:
		setup_loopback(roles, &dev, &o);
		break;
	case XFER_SERVER:
		setup_server(roles, &dev, &o, sock);
		break;
	case XFER_CLIENT:
		sock = setup_client(roles, &dev, &o);
		break;
	}

	report_start(&mem, &o, roles, nroles, &dev);
	t0 = xfer_now();
	cfg.deadline = t0 + o.p.seconds;
	run(rp, nroles, &dev, sock);
	secs = xfer_now() - t0;
	pins = report_end(&mem, roles, nroles, &dev, extra, sizeof(extra));
	if (sock >= 0) {
		end_barrier(sock);
		close(sock);
	}
	/* Only once both sides are done: the peer may still need our ACKs. */
	lost = flush_roles(roles, nroles, &failed);

	/*
	 * bytes is what this side moved or received; verified is what the
	 * checking side counted, this one or, via its last control message,
	 * the peer. In loopback the requesters' view stands for both.
	 */
	for (int i = 0; i < nroles; i++) {
		struct role *r = &roles[i];

		wrs += r->wrs;
		completions += r->completions;
		flushed += r->flushed;
		duplicated += r->duplicated;
		if (i % stride)
			continue;
		msgs += r->end;
		bytes += r->done_msgs * cfg.size;
		verified += role_verifies(r) ? r->verified_bytes :
					       r->peer_vbytes;
	}
	printf("rdma_xfer: op=%s size=%zu iters=%" PRIu64 " depth=%u qps=%u mode=%s bytes=%" PRIu64 " verified=%" PRIu64 " seconds=%.3f MB/s=%.1f wrs=%" PRIu64 " completions=%" PRIu64 " flushed=%" PRIu64 " lost=%" PRIu64 " duplicated=%" PRIu64 "%s\n",
	       xfer_op_names[cfg.op], cfg.size, msgs, cfg.depth, cfg.qps,
	       xfer_mode_names[o.mode], bytes, verified, secs,
	       bytes / secs / 1e6, wrs, completions, flushed, lost,
	       duplicated, extra);
	fflush(stdout);
	if (pins)
		xfer_die("the exporter counts %" PRIu64 " pins on the registered buffers; a dynamic importer must hold none",
			 pins);
	if (lost || duplicated)
		xfer_die("%" PRIu64 " work requests never completed and %" PRIu64 " completions were of none outstanding",
			 lost, duplicated);
	if (failed)
		xfer_die("%" PRIu64 " work requests failed after the run",
			 failed);
	if (wrs != completions)
		xfer_die("internal error: %" PRIu64 " work requests, %" PRIu64 " completions",
			 wrs, completions);

	for (int i = 0; i < nroles; i++)
		role_destroy(&roles[i]);
	free(rp);
	free(roles);
	xfer_dev_close(&dev);
	return 0;
}
