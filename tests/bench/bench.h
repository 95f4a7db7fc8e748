/*
 * Shared helpers of the benchmark programs in tests/bench: time, dma-buf
 * allocation from the three sources, and a loopback RC QP pair on one
 * device.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <infiniband/verbs.h>

#define DIE(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Sort @v in place and return its p-quantile (0..1), nearest rank. */
double quantile(double *v, size_t n, double p);

/* dma-buf sources */
enum dmabuf_src { SRC_DTE, SRC_HEAP, SRC_UDMABUF };
const char *dmabuf_src_name(enum dmabuf_src src);
/* A new dma-buf of @size bytes, or -errno. */
int dmabuf_alloc(enum dmabuf_src src, size_t size);
/* Move a test-exporter buffer and wait for the copy; 0 or -errno. */
int dte_move(int fd);

/* An RC QP connected to a second RC QP on the same port (loopback). */
struct loop {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp[2];
};

/* Open @devname (NULL: the first device); only ctx and pd. */
void loop_open(struct loop *l, const char *devname);
/* Create and connect the QP pair on @port with GID index @gid_index. */
void loop_connect(struct loop *l, int port, int gid_index);
/* Replace the QP pair and CQ, e.g. after a QP went to the error state. */
void loop_reconnect(struct loop *l, int port, int gid_index);
/* Post one signalled RDMA WRITE on qp[0] and wait for its completion; 0 or a WC status. */
int loop_write(struct loop *l, struct ibv_mr *src, size_t len, uint64_t raddr, uint32_t rkey);

#endif
