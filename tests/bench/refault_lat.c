/*
 * refault_lat: how long the first access to a dma-buf MR takes after its
 * exporter moved the buffer.
 *
 *   refault_lat [-d DEV] [-g GID_INDEX] [-n COUNT] [-s BUF_BYTES] [-l LEN]
 *               (default rxe0, 1, 200, 1 MiB, 4096)
 *
 * A buffer of the test exporter is registered with ibv_reg_dmabuf_mr() and
 * written by RDMA WRITEs of LEN bytes over a loopback RC QP pair. COUNT
 * times: move the buffer (DTE_IOC_MOVE with DTE_MOVE_WAIT, so the copy is
 * done and the importer has been invalidated), then time one WRITE into
 * it, from posting to its completion: that WRITE refaults the mapping.
 * The same WRITE without a move before it is the baseline. Prints
 * tab-separated lines:
 *   case  count  median_us  p99_us  min_us
 * for "steady" (no move), "after_move" and "move" (the move ioctl itself).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

#define ACCESS (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ)

static void report(const char *name, double *v, int n)
{
	double p50, p99;

	p99 = quantile(v, n, 0.99);
	p50 = quantile(v, n, 0.5);
	printf("%s\t%d\t%.1f\t%.1f\t%.1f\n", name, n, p50 / 1e3, p99 / 1e3, v[0] / 1e3);
}

int main(int argc, char **argv)
{
	const char *dev = "rxe0";
	size_t bufsize = 1UL << 20, len = 4096;
	int count = 200, gid_index = 1, opt, fd, i, st, ret;
	double *steady, *after, *move, t;
	struct ibv_mr *src, *dst;
	struct loop l;
	void *sbuf;

	while ((opt = getopt(argc, argv, "d:g:n:s:l:")) != -1) {
		switch (opt) {
		case 'd': dev = optarg; break;
		case 'g': gid_index = atoi(optarg); break;
		case 'n': count = atoi(optarg); break;
		case 's': bufsize = strtoull(optarg, NULL, 0); break;
		case 'l': len = strtoull(optarg, NULL, 0); break;
		default:
			DIE("usage: refault_lat [-d DEV] [-g GID_INDEX] [-n COUNT] [-s BUF_BYTES] [-l LEN]");
		}
	}
	if (count < 1 || !len || !bufsize || len > bufsize)
		DIE("refault_lat: need COUNT >= 1 and 0 < LEN <= BUF_BYTES");

	steady = calloc(count, sizeof(double));
	after = calloc(count, sizeof(double));
	move = calloc(count, sizeof(double));
	sbuf = malloc(len);
	if (!steady || !after || !move || !sbuf)
		DIE("refault_lat: out of memory");
	memset(sbuf, 0xa5, len);

	loop_open(&l, dev);
	loop_connect(&l, 1, gid_index);
	src = ibv_reg_mr(l.pd, sbuf, len, ACCESS);
	if (!src)
		DIE("refault_lat: source MR: %s", strerror(errno));
	fd = dmabuf_alloc(SRC_DTE, bufsize);
	if (fd < 0)
		DIE("refault_lat: test exporter buffer of %zu bytes: %s", bufsize, strerror(-fd));
	dst = ibv_reg_dmabuf_mr(l.pd, 0, bufsize, 1UL << 40, fd, ACCESS);
	if (!dst)
		DIE("refault_lat: ibv_reg_dmabuf_mr: %s", strerror(errno));

	/* Map it once, then steady-state WRITEs. */
	if ((st = loop_write(&l, src, len, 1UL << 40, dst->rkey)))
		DIE("refault_lat: first WRITE: %s", ibv_wc_status_str(st));
	for (i = 0; i < count; i++) {
		t = now_ns();
		st = loop_write(&l, src, len, 1UL << 40, dst->rkey);
		steady[i] = now_ns() - t;
		if (st)
			DIE("refault_lat: WRITE: %s", ibv_wc_status_str(st));
	}
	for (i = 0; i < count; i++) {
		t = now_ns();
		ret = dte_move(fd);
		move[i] = now_ns() - t;
		if (ret)
			DIE("refault_lat: DTE_IOC_MOVE: %s", strerror(-ret));
		t = now_ns();
		st = loop_write(&l, src, len, 1UL << 40, dst->rkey);
		after[i] = now_ns() - t;
		if (st)
			DIE("refault_lat: WRITE after a move: %s", ibv_wc_status_str(st));
	}

	printf("case\tcount\tmedian_us\tp99_us\tmin_us\n");
	report("steady", steady, count);
	report("after_move", after, count);
	report("move", move, count);

	ibv_dereg_mr(dst);
	close(fd);
	ibv_dereg_mr(src);
	return 0;
}
