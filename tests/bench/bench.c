/*
 * Shared helpers of the benchmark programs; see bench.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "dmabuf_test_exporter.h"
#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double quantile(double *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(p * n + 0.999999);
	if (i > 0)
		i--;
	if (i >= n)
		i = n - 1;
	return v[i];
}

const char *dmabuf_src_name(enum dmabuf_src src)
{
	switch (src) {
	case SRC_DTE: return "exporter";
	case SRC_HEAP: return "heap";
	case SRC_UDMABUF: return "udmabuf";
	}
	return "?";
}

static int dte_dev = -1;

static int dte_open(void)
{
	if (dte_dev < 0)
		dte_dev = open(DTE_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	return dte_dev < 0 ? -errno : 0;
}

int dte_move(int fd)
{
	struct dte_buf_op op = { .fd = fd, .flags = DTE_MOVE_WAIT };
	int ret = dte_open();

	if (ret)
		return ret;
	return ioctl(dte_dev, DTE_IOC_MOVE, &op) ? -errno : 0;
}

int dmabuf_alloc(enum dmabuf_src src, size_t size)
{
	int ret, fd, dev, memfd;

	switch (src) {
	case SRC_DTE: {
		struct dte_create c = { .size = size };

		ret = dte_open();
		if (ret)
			return ret;
		return ioctl(dte_dev, DTE_IOC_CREATE, &c) ? -errno : c.fd;
	}
	case SRC_HEAP: {
		struct dma_heap_allocation_data d = {
			.len = size, .fd_flags = O_RDWR | O_CLOEXEC,
		};

		dev = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		if (dev < 0)
			return -errno;
		ret = ioctl(dev, DMA_HEAP_IOCTL_ALLOC, &d) ? -errno : (int)d.fd;
		close(dev);
		return ret;
	}
	case SRC_UDMABUF: {
		struct udmabuf_create c = {
			.flags = UDMABUF_FLAGS_CLOEXEC, .size = size,
		};

		memfd = memfd_create("bench", MFD_ALLOW_SEALING | MFD_CLOEXEC);
		if (memfd < 0)
			return -errno;
		if (ftruncate(memfd, size) || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
			ret = -errno;
			close(memfd);
			return ret;
		}
		dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
		if (dev < 0) {
			ret = -errno;
			close(memfd);
			return ret;
		}
		c.memfd = memfd;
		fd = ioctl(dev, UDMABUF_CREATE, &c);
		ret = fd < 0 ? -errno : fd;
		close(dev);
		close(memfd);
		return ret;
	}
	}
	return -EINVAL;
}

void loop_open(struct loop *l, const char *devname)
{
	struct ibv_device **list;
	int i, n;

	memset(l, 0, sizeof(*l));
	list = ibv_get_device_list(&n);
	if (!list || !n)
		DIE("no RDMA device");
	for (i = 0; i < n; i++)
		if (!devname || !strcmp(ibv_get_device_name(list[i]), devname))
			break;
	if (i == n)
		DIE("no RDMA device %s", devname);
	l->ctx = ibv_open_device(list[i]);
	if (!l->ctx)
		DIE("ibv_open_device: %s", strerror(errno));
	ibv_free_device_list(list);
	l->pd = ibv_alloc_pd(l->ctx);
	if (!l->pd)
		DIE("ibv_alloc_pd: %s", strerror(errno));
}

void loop_connect(struct loop *l, int port, int gid_index)
{
	struct ibv_port_attr pattr;
	union ibv_gid gid;
	int i;

	l->cq = ibv_create_cq(l->ctx, 64, NULL, NULL, 0);
	if (!l->cq)
		DIE("ibv_create_cq: %s", strerror(errno));
	if (ibv_query_port(l->ctx, port, &pattr) || ibv_query_gid(l->ctx, port, gid_index, &gid))
		DIE("query port %d / gid %d: %s", port, gid_index, strerror(errno));

	for (i = 0; i < 2; i++) {
		struct ibv_qp_init_attr ia = {
			.send_cq = l->cq, .recv_cq = l->cq, .qp_type = IBV_QPT_RC,
			.cap = { .max_send_wr = 16, .max_recv_wr = 16,
				 .max_send_sge = 1, .max_recv_sge = 1 },
		};

		l->qp[i] = ibv_create_qp(l->pd, &ia);
		if (!l->qp[i])
			DIE("ibv_create_qp: %s", strerror(errno));
	}
	for (i = 0; i < 2; i++) {
		struct ibv_qp_attr a = {
			.qp_state = IBV_QPS_INIT, .port_num = port, .pkey_index = 0,
			.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
					   IBV_ACCESS_REMOTE_READ,
		};

		if (ibv_modify_qp(l->qp[i], &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
				  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
			DIE("QP to INIT: %s", strerror(errno));
		memset(&a, 0, sizeof(a));
		a.qp_state = IBV_QPS_RTR;
		a.path_mtu = pattr.active_mtu;
		a.dest_qp_num = l->qp[!i]->qp_num;
		a.rq_psn = 0;
		a.max_dest_rd_atomic = 1;
		a.min_rnr_timer = 12;
		a.ah_attr.is_global = 1;
		a.ah_attr.grh.dgid = gid;
		a.ah_attr.grh.sgid_index = gid_index;
		a.ah_attr.grh.hop_limit = 64;
		a.ah_attr.port_num = port;
		if (ibv_modify_qp(l->qp[i], &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
				  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
				  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
			DIE("QP to RTR: %s", strerror(errno));
		memset(&a, 0, sizeof(a));
		a.qp_state = IBV_QPS_RTS;
		a.timeout = 14;
		a.retry_cnt = 7;
		a.rnr_retry = 7;
		a.sq_psn = 0;
		a.max_rd_atomic = 1;
		if (ibv_modify_qp(l->qp[i], &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
				  IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
				  IBV_QP_MAX_QP_RD_ATOMIC))
			DIE("QP to RTS: %s", strerror(errno));
	}
}

void loop_reconnect(struct loop *l, int port, int gid_index)
{
	ibv_destroy_qp(l->qp[0]);
	ibv_destroy_qp(l->qp[1]);
	ibv_destroy_cq(l->cq);
	loop_connect(l, port, gid_index);
}

int loop_write(struct loop *l, struct ibv_mr *src, size_t len, uint64_t raddr, uint32_t rkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)src->addr, .length = len, .lkey = src->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 1, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE, .send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	}, *bad;
	struct ibv_wc wc;
	int n;

	if (ibv_post_send(l->qp[0], &wr, &bad))
		DIE("ibv_post_send: %s", strerror(errno));
	do {
		n = ibv_poll_cq(l->cq, 1, &wc);
	} while (n == 0);
	if (n < 0)
		DIE("ibv_poll_cq failed");
	return wc.status;
}
