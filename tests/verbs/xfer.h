/*
 * Shared pieces of rdma_xfer:
 *
 *   rdma_xfer.c     the transfer protocol and main()
 *   xfer_opts.c     command line
 *   xfer_pattern.c  per-message data patterns and their verification
 *   xfer_conn.c     error exits, host buffers, device and RC QP setup
 *   xfer_dmabuf.c   dma-buf buffers: registration, CPU access
 *   dmabuf_src.c    dma-buf sources and the test exporter's controls,
 *                   with no RDMA library (dmabuf_src.h)
 *   xfer_odp.c      on-demand paging buffers: explicit and implicit ODP
 *                   MRs, prefetch
 *   xfer_churn.c    a thread that moves or evicts buffers during traffic,
 *                   or discards, remaps or COW-protects ODP memory
 *   xfer_tcp.c      TCP rendezvous of two-node mode
 *
 * dmabuf_reg, the dma-buf registration test, and odp_test, the on-demand
 * paging test, share all but rdma_xfer.c, xfer_opts.c, xfer_churn.c and
 * xfer_tcp.c.
 *
 * The transfer logic only sees struct xfer_ep and struct xfer_buf; how
 * memory is obtained and registered lives behind struct buf_ops.
 */
#ifndef XFER_H
#define XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <infiniband/verbs.h>

#include "dmabuf_src.h"

/* Exit codes: 1 for anything that went wrong at run time, 2 for bad usage. */
#define XFER_EXIT_FAIL		1
#define XFER_EXIT_USAGE		2

/* Seconds without any completion before a run is declared stuck. */
#define XFER_IDLE_TIMEOUT_S	30
/* A server may be started well before its client (e.g. a second guest). */
#define XFER_ACCEPT_TIMEOUT_S	120

#define XFER_PORT_NUM		1

#define XFER_MAX_SIZE		(1ULL << 30)
#define XFER_MAX_DEPTH		1024
#define XFER_MAX_ITERS		UINT32_MAX
/* Most QP pairs of one run, and the longest timed run: a day. */
#define XFER_MAX_QPS		64
#define XFER_MAX_SECONDS	86400
/*
 * Longest period of any --*-every-us churn option: one minute. A period
 * of 0 churns back to back; XFER_CHURN_OFF means no churn of that kind.
 */
#define XFER_MAX_CHURN_US	60000000ULL
#define XFER_CHURN_OFF		UINT64_MAX

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

extern bool xfer_quiet;
/* Program name that prefixes every message. */
extern const char *xfer_prog;

__attribute__((noreturn, format(printf, 1, 2)))
void xfer_die(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2)))
void xfer_die_usage(const char *fmt, ...);
/* @call failed with errno value @err: print both and exit 1. */
__attribute__((noreturn))
void xfer_die_err(const char *call, int err);
/* Informational message on stderr, silenced by --quiet. */
__attribute__((format(printf, 1, 2)))
void xfer_info(const char *fmt, ...);

struct xfer_buf;

/**
 * struct buf_ops - how data buffers are obtained and registered
 * @name:  value of --mem selecting this backing
 * @src:   enum xfer_dmabuf_src of a dma-buf backing, -1 for host memory
 * @odp:   host memory registered for on-demand paging: rxe pins nothing
 *         and faults pages in on access, so the ODP churn and --prefetch
 *         apply
 * @alloc: map @len bytes at buf->addr, zero filled; sets buf->iova, buf->fd;
 *         buf->ops is already set
 * @reg:   register the whole buffer with @pd, sets buf->mr
 * @free:  deregister (if registered) and release everything
 *
 * Failures exit through xfer_die_err() naming the failing call, so the
 * callers never handle errors.
 */
struct buf_ops {
	const char *name;
	int src;
	bool odp;
	void (*alloc)(struct xfer_buf *buf, size_t len);
	void (*reg)(struct xfer_buf *buf, struct ibv_pd *pd, int access);
	void (*free)(struct xfer_buf *buf);
};

/**
 * struct xfer_buf - one registered buffer
 * @addr:    CPU mapping, where patterns are written and checked
 * @iova:    address a peer puts in RDMA WRITE/READ work requests; equal to
 *           @addr for host memory, but a dma-buf MR may choose another one
 * @fd:      dma-buf file descriptor for CPU access brackets and exporter
 *           controls, -1 for anonymous memory
 * @map:     dma-buf only: mapping of the whole buffer; @addr is @map plus
 *           @offset
 * @map_len: dma-buf only: size of the whole buffer
 * @offset:  dma-buf only: where the MR starts in the buffer
 */
struct xfer_buf {
	const struct buf_ops *ops;
	void *addr;
	size_t len;
	uint64_t iova;
	struct ibv_mr *mr;
	int fd;
	void *map;
	size_t map_len;
	uint64_t offset;
};

extern const struct buf_ops xfer_host_buf_ops;
/* --mem odp and odp-implicit (xfer_odp.c). */
extern const struct buf_ops xfer_odp_buf_ops;
extern const struct buf_ops xfer_odp_implicit_buf_ops;
/*
 * ibv_advise_mr() over the whole of ODP buffer @buf, in pieces an SGE can
 * hold: 0 or the errno of the first piece that failed.
 */
int xfer_odp_advise(const struct xfer_buf *buf, struct ibv_pd *pd,
		    enum ibv_advise_mr_advice advice, uint32_t flags);
/* NULL when @name is not a known backing. */
const struct buf_ops *xfer_buf_ops_find(const char *name);
/* Names of all backings, for --help and error messages. */
const char *xfer_buf_ops_names(void);

/**
 * struct xfer_dev - the opened device, port and GID shared by endpoints
 * @chan: one completion channel for every CQ, so loopback mode can sleep
 *        on both of its QPs at once
 */
struct xfer_dev {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_comp_channel *chan;
	struct ibv_device_attr attr;
	struct ibv_port_attr port_attr;
	union ibv_gid gid;
	int gid_index;
	char name[IBV_SYSFS_NAME_MAX];
};

/* What a peer needs to reach an endpoint and its data buffer. */
struct xfer_conn_info {
	uint32_t qpn;
	uint32_t psn;
	uint32_t rkey;
	uint32_t rd_atom;	/* max_dest_rd_atomic the endpoint accepts */
	uint64_t addr;
	union ibv_gid gid;
};

/**
 * struct xfer_ep - one RC QP with its CQ, data buffer and control buffer
 * @cq_events: CQ events taken with ibv_get_cq_event() and not yet acked
 * @timeout:   local ACK timeout exponent, 14 unless changed before
 *             xfer_ep_connect(): a responder may stall for seconds on a
 *             dma-buf whose move has not finished
 */
struct xfer_ep {
	struct xfer_dev *dev;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct xfer_buf data;
	struct xfer_buf ctrl;
	uint32_t psn;
	uint32_t rd_atom;
	unsigned int cq_events;
	uint8_t timeout;
	/*
	 * Transport retries; rxe takes 7 to mean "retry forever", which a
	 * test that destroys the peer's QP cannot use.
	 */
	uint8_t retry_cnt;
};

/*
 * Parameters of a run that both sides of a two-node run must share.
 * @iters: messages per QP pair, 0 in a timed run
 * @qps:   QP pairs, each with data buffers of its own
 * @seconds: a timed run: the requester posts until then, 0 otherwise
 */
struct xfer_params {
	uint32_t op;
	uint32_t depth;
	uint32_t mtu;		/* enum ibv_mtu, 0 for the port's active MTU */
	uint32_t qps;
	uint32_t seconds;
	uint64_t size;
	uint64_t iters;
};

enum xfer_op {
	XFER_OP_WRITE,
	XFER_OP_WRITE_IMM,
	XFER_OP_READ,
	XFER_OP_SEND,
	XFER_OP_COUNT
};
extern const char *const xfer_op_names[XFER_OP_COUNT];

enum xfer_mode { XFER_LOOPBACK, XFER_SERVER, XFER_CLIENT };
extern const char *const xfer_mode_names[];

/*
 * @move_us, @evict_us: churn periods of the test exporter.
 * @fence_delay_us: delay of the test exporter's move fences, 0 for none.
 * @madvise_us, @remap_us, @fork_us: churn periods of ODP memory.
 * Every period is XFER_CHURN_OFF for none, 0 for back to back.
 * @prefetch: prefetch ODP data buffers for writing before traffic.
 * @churn_in_flight: issue each move or eviction only while a data work
 *	request on its buffer is in flight.
 */
struct xfer_opts {
	const char *dev;
	const char *host;
	const char *port;
	const struct buf_ops *mem;
	struct xfer_params p;
	uint64_t move_us;
	uint64_t evict_us;
	uint64_t fence_delay_us;
	uint64_t madvise_us;
	uint64_t remap_us;
	uint64_t fork_us;
	int gid_index;
	enum xfer_mode mode;
	bool busy_poll;
	bool prefetch;
	bool churn_in_flight;
};

static inline bool xfer_churn_on(uint64_t period_us)
{
	return period_us != XFER_CHURN_OFF;
}

/* Exits 2 on any bad argument, 0 after --help. */
void xfer_parse_opts(int argc, char **argv, struct xfer_opts *o);
/*
 * --madvise-every-us and --remap-every-us need a page-multiple size: exits
 * 2 (@usage) or 1 (a size a client sent) otherwise.
 */
void xfer_check_slot_churn(const struct xfer_opts *o,
			   const struct xfer_params *p, bool usage);
/* Exits 1 when parameters a client sent are out of range. */
void xfer_check_params(const struct xfer_params *p);

void xfer_pattern_fill(void *dst, uint64_t msg, size_t len);
/* Offset of the first byte that differs from the pattern, @len if none. */
size_t xfer_pattern_diff(const void *src, uint64_t msg, size_t len);
/* Returns the bytes checked; a mismatch exits 1 with the details. */
size_t xfer_pattern_check(const void *src, uint64_t msg, size_t len,
			  uint64_t slot);

double xfer_now(void);

void xfer_dev_open(struct xfer_dev *dev, const char *name, int gid_index);
void xfer_dev_close(struct xfer_dev *dev);

void xfer_ep_create(struct xfer_ep *ep, struct xfer_dev *dev,
		    const struct buf_ops *ops, size_t data_len,
		    size_t ctrl_len, uint32_t max_wr, uint32_t depth);
void xfer_ep_info(const struct xfer_ep *ep, struct xfer_conn_info *info);
void xfer_ep_connect(struct xfer_ep *ep, const struct xfer_conn_info *peer,
		     enum ibv_mtu mtu, uint32_t depth);
void xfer_ep_destroy(struct xfer_ep *ep);

int xfer_mtu_bytes(enum ibv_mtu mtu);

int xfer_tcp_accept(const char *port);
int xfer_tcp_connect(const char *host, const char *port);
void xfer_tcp_send(int fd, const void *buf, size_t len);
void xfer_tcp_recv(int fd, void *buf, size_t len, const char *what);
/*
 * Two-node rendezvous: the client sends its parameters, then both sides
 * send the information of their p->qps endpoints, in pair order.
 */
void xfer_send_hello(int fd, const struct xfer_params *p);
void xfer_recv_hello(int fd, struct xfer_params *p);
void xfer_send_info(int fd, const struct xfer_conn_info *info);
void xfer_recv_info(int fd, struct xfer_conn_info *info);

/* dma-buf memory (xfer_dmabuf.c, on the sources of dmabuf_src.c). */
/* --mem backings of the dma-buf sources, indexed by source; .name names it. */
extern const struct buf_ops xfer_dmabuf_buf_ops[XFER_SRC_COUNT];

/* How the dma-buf backings place and register buffers; set before alloc. */
struct xfer_dmabuf_cfg {
	uint64_t offset;	/* MR start within a larger buffer */
	bool close_fd;		/* close the registered fd at once */
};
extern struct xfer_dmabuf_cfg xfer_dmabuf_cfg;

/*
 * Create a dma-buf of at least @size bytes, mapped shared at buf->map for
 * the CPU; buf->addr is buf->map and buf->len the rounded size. Returns 0
 * or an errno: ENOENT (or ENODEV, ENXIO) when the source is absent,
 * EOPNOTSUPP when it exists but cannot make this kind of buffer here.
 */
int xfer_dmabuf_open(struct xfer_buf *buf, enum xfer_dmabuf_src src,
		     size_t size);
/* Deregister (if registered; exits 1 if that fails), unmap and close. */
void xfer_dmabuf_close(struct xfer_buf *buf);
/* A fresh iova with the page offset of @offset, for one more MR. */
uint64_t xfer_dmabuf_iova(uint64_t offset);
/* Bracket CPU access to a dma-buf; no-ops for host memory. */
void xfer_buf_cpu_begin(const struct xfer_buf *buf, bool write);
void xfer_buf_cpu_end(const struct xfer_buf *buf, bool write);
/* Wait up to @ms for the buffer's kernel fences: 0 or ETIMEDOUT. */
int xfer_dmabuf_wait_idle(int fd, int ms);

/* An rxe port counter from sysfs: 0 or an errno. */
int xfer_hw_counter(const char *dev, const char *name, uint64_t *val);

/*
 * xfer_churn.c: move or evict test exporter buffers, or discard, remap or
 * COW-protect ODP memory, from a thread.
 */
struct xfer_churn;
/*
 * struct xfer_churn_probe - asks whether transfers are in flight on a buffer
 * @busy: called from the churn thread just before each request on buffer
 *        @i (the index in @fds); true while work requests that read or
 *        write it are posted and not yet completed
 * @arg:  passed to @busy
 * @wait: hold each request until @busy says so
 */
struct xfer_churn_probe {
	bool (*busy)(void *arg, int i);
	void *arg;
	bool wait;
};
/*
 * @cmd is DTE_IOC_MOVE or DTE_IOC_EVICT; takes turns over @fds (copied).
 * A @period_us of 0 issues requests back to back. With a @probe (or NULL),
 * the requests made while it said busy are counted.
 */
struct xfer_churn *xfer_churn_start(unsigned long cmd, uint64_t period_us,
				    const int *fds, int nfds,
				    const struct xfer_churn_probe *probe);
/*
 * Stop and free; exits 1 if any request failed. Returns requests made,
 * and in @busy (if not NULL) those made while the probe said busy.
 */
uint64_t xfer_churn_stop(struct xfer_churn *c, uint64_t *busy);

/*
 * struct xfer_slots - who may touch each data slot of one buffer
 *
 * MADV_DONTNEED and a remap destroy a slot's contents, so the churn
 * thread may only take a slot the transfer does not use: one whose last
 * message was verified (or sent) and that was not handed out again. The
 * transfer acquires a slot before anything may write or read it (a fill,
 * a post, a credit or a receive that lets the peer in) and releases it
 * once it is done with it. A churn thread that finds no idle slot waits
 * for the next release, which then goes to it, and an acquire of that
 * slot waits until the churn is done: the discarded slot is refilled.
 */
struct xfer_slots;
/* @nslots slots of @slot_len bytes from @base; all idle. */
struct xfer_slots *xfer_slots_new(void *base, size_t slot_len,
				  uint32_t nslots);
void xfer_slots_free(struct xfer_slots *s);
/* Wait for a churn of @slot to finish, then own it. Idempotent. */
void xfer_slots_acquire(struct xfer_slots *s, uint32_t slot);
void xfer_slots_release(struct xfer_slots *s, uint32_t slot);

enum xfer_odp_churn {
	XFER_CHURN_MADVISE,	/* MADV_DONTNEED of an idle slot */
	XFER_CHURN_REMAP,	/* munmap + mmap at the same address */
	XFER_CHURN_FORK,	/* fork a child that exits at once */
};
/* Takes turns over @slots (copied); fork needs no slots (@n may be 0). */
struct xfer_churn *xfer_odp_churn_start(enum xfer_odp_churn kind,
					uint64_t period_us,
					struct xfer_slots *const *slots, int n);

#endif /* XFER_H */
