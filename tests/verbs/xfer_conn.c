/*
 * Device, buffer and RC QP setup for rdma_xfer, and its error exits.
 * Everything here exits on failure, naming the call that failed, so the
 * transfer logic can stay about moving and checking data.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "xfer.h"

bool xfer_quiet;
const char *xfer_prog = "rdma_xfer";

double xfer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void xfer_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", xfer_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(XFER_EXIT_FAIL);
}

void xfer_die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", xfer_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", xfer_prog);
	exit(XFER_EXIT_USAGE);
}

void xfer_die_err(const char *call, int err)
{
	xfer_die("%s failed: %s", call, strerror(err ? err : EIO));
}

void xfer_info(const char *fmt, ...)
{
	va_list ap;

	if (xfer_quiet)
		return;
	fprintf(stderr, "%s: ", xfer_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Host memory: anonymous mmap() rather than malloc() so large buffers are
 * page aligned and zero filled without touching every page up front.
 */
static void host_alloc(struct xfer_buf *buf, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		xfer_die("cannot allocate %zu bytes of buffer memory: %s",
			 len, strerror(errno));
	buf->addr = p;
	buf->len = len;
	buf->iova = (uintptr_t)p;
	buf->fd = -1;
	buf->mr = NULL;
}

static void host_reg(struct xfer_buf *buf, struct ibv_pd *pd, int access)
{
	buf->mr = ibv_reg_mr(pd, buf->addr, buf->len, access);
	if (!buf->mr)
		xfer_die_err("ibv_reg_mr", errno);
}

static void host_free(struct xfer_buf *buf)
{
	if (buf->mr) {
		int err = ibv_dereg_mr(buf->mr);

		if (err)
			xfer_die_err("ibv_dereg_mr", err);
		buf->mr = NULL;
	}
	if (buf->addr)
		munmap(buf->addr, buf->len);
	buf->addr = NULL;
}

const struct buf_ops xfer_host_buf_ops = {
	.name = "host",
	.src = -1,
	.alloc = host_alloc,
	.reg = host_reg,
	.free = host_free,
};

/* Host memory first, then its ODP registrations, then the dma-buf sources. */
static const struct buf_ops *buf_ops_at(size_t i)
{
	static const struct buf_ops *const host[] = {
		&xfer_host_buf_ops, &xfer_odp_buf_ops,
		&xfer_odp_implicit_buf_ops,
	};

	if (i < ARRAY_SIZE(host))
		return host[i];
	i -= ARRAY_SIZE(host);
	return i < XFER_SRC_COUNT ? &xfer_dmabuf_buf_ops[i] : NULL;
}

const struct buf_ops *xfer_buf_ops_find(const char *name)
{
	const struct buf_ops *ops;

	for (size_t i = 0; (ops = buf_ops_at(i)); i++)
		if (!strcmp(ops->name, name))
			return ops;
	return NULL;
}

const char *xfer_buf_ops_names(void)
{
	static char names[128];
	const struct buf_ops *ops;
	size_t n = 0;

	if (names[0])
		return names;
	for (size_t i = 0; (ops = buf_ops_at(i)); i++)
		n += snprintf(names + n, sizeof(names) - n, "%s%s",
			      i ? "|" : "", ops->name);
	return names;
}

int xfer_mtu_bytes(enum ibv_mtu mtu)
{
	return mtu >= IBV_MTU_256 && mtu <= IBV_MTU_4096 ? 128 << mtu : 0;
}

/*
 * An unknown --dev is a usage error (exit 2), but only once we know there
 * are devices at all: with none, every name is unknown and the real problem
 * is the missing device (exit 1).
 */
static struct ibv_device *pick_device(struct ibv_device **list, int num,
				      const char *name)
{
	char avail[256] = "";
	size_t n = 0;

	if (num <= 0)
		xfer_die("no RDMA device found (is the rxe module loaded and an rxe link added?)");
	if (!name)
		return list[0];
	for (int i = 0; i < num; i++) {
		if (!strcmp(ibv_get_device_name(list[i]), name))
			return list[i];
		if (n < sizeof(avail))
			n += snprintf(avail + n, sizeof(avail) - n, "%s%s",
				      i ? " " : "", ibv_get_device_name(list[i]));
	}
	xfer_die_usage("unknown device '%s' (available: %s)", name, avail);
}

void xfer_dev_open(struct xfer_dev *dev, const char *name, int gid_index)
{
	struct ibv_device **list;
	struct ibv_device *ibdev;
	char gid_str[INET6_ADDRSTRLEN];
	int num = 0, err;

	memset(dev, 0, sizeof(*dev));
	list = ibv_get_device_list(&num);
	if (!list) {
		/* libibverbs says ENOSYS when there is no RDMA subsystem. */
		if (errno == ENOSYS || errno == ENOENT)
			xfer_die("no RDMA device found (ibv_get_device_list: %s)",
				 strerror(errno));
		xfer_die_err("ibv_get_device_list", errno);
	}
	ibdev = pick_device(list, num, name);
	snprintf(dev->name, sizeof(dev->name), "%s", ibv_get_device_name(ibdev));
	dev->ctx = ibv_open_device(ibdev);
	if (!dev->ctx)
		xfer_die_err("ibv_open_device", errno);
	ibv_free_device_list(list);

	err = ibv_query_device(dev->ctx, &dev->attr);
	if (err)
		xfer_die_err("ibv_query_device", err);
	err = ibv_query_port(dev->ctx, XFER_PORT_NUM, &dev->port_attr);
	if (err)
		xfer_die_err("ibv_query_port", err);
	if (dev->port_attr.state != IBV_PORT_ACTIVE)
		xfer_die("%s port %d is not active (state %s); is its netdev up?",
			 dev->name, XFER_PORT_NUM,
			 ibv_port_state_str(dev->port_attr.state));
	if (gid_index >= dev->port_attr.gid_tbl_len)
		xfer_die("GID index %d out of range: %s port %d has %d GIDs",
			 gid_index, dev->name, XFER_PORT_NUM,
			 dev->port_attr.gid_tbl_len);
	dev->gid_index = gid_index;
	err = ibv_query_gid(dev->ctx, XFER_PORT_NUM, gid_index, &dev->gid);
	if (err)
		xfer_die_err("ibv_query_gid", errno ? errno : err);
	if (!dev->gid.global.subnet_prefix && !dev->gid.global.interface_id)
		xfer_die("GID index %d of %s port %d is empty; does the netdev have an IPv4 address? (see --gid-index)",
			 gid_index, dev->name, XFER_PORT_NUM);

	dev->pd = ibv_alloc_pd(dev->ctx);
	if (!dev->pd)
		xfer_die_err("ibv_alloc_pd", errno);
	dev->chan = ibv_create_comp_channel(dev->ctx);
	if (!dev->chan)
		xfer_die_err("ibv_create_comp_channel", errno);

	inet_ntop(AF_INET6, dev->gid.raw, gid_str, sizeof(gid_str));
	xfer_info("device %s port %d gid[%d] %s active_mtu %d",
		  dev->name, XFER_PORT_NUM, gid_index, gid_str,
		  xfer_mtu_bytes(dev->port_attr.active_mtu));
}

void xfer_dev_close(struct xfer_dev *dev)
{
	int err;

	err = ibv_destroy_comp_channel(dev->chan);
	if (err)
		xfer_die_err("ibv_destroy_comp_channel", err);
	err = ibv_dealloc_pd(dev->pd);
	if (err)
		xfer_die_err("ibv_dealloc_pd", err);
	err = ibv_close_device(dev->ctx);
	if (err)
		xfer_die_err("ibv_close_device", errno ? errno : err);
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/*
 * @max_wr bounds both queues: each side posts at most depth data WRs plus
 * a fixed number of control messages, and the CQ takes both queues' worth.
 */
void xfer_ep_create(struct xfer_ep *ep, struct xfer_dev *dev,
		    const struct buf_ops *ops, size_t data_len,
		    size_t ctrl_len, uint32_t max_wr, uint32_t depth)
{
	struct ibv_qp_init_attr init = {
		.qp_type = IBV_QPT_RC,
		.cap = {
			.max_send_wr = max_wr,
			.max_recv_wr = max_wr,
			.max_send_sge = 1,
			.max_recv_sge = 1,
		},
	};
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = XFER_PORT_NUM,
		.qp_access_flags = IBV_ACCESS_LOCAL_WRITE |
				   IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_REMOTE_ATOMIC,
	};
	/* Atomics are the QP's to allow but not rdma_xfer's data MR's. */
	int data_access = attr.qp_access_flags & ~IBV_ACCESS_REMOTE_ATOMIC;
	int err;

	memset(ep, 0, sizeof(*ep));
	ep->dev = dev;
	if (max_wr > (uint32_t)dev->attr.max_qp_wr)
		xfer_die("%s supports at most %d work requests per queue, %u needed (lower --depth)",
			 dev->name, dev->attr.max_qp_wr, max_wr);
	if (2 * max_wr > (uint32_t)dev->attr.max_cqe)
		xfer_die("%s supports at most %d CQ entries, %u needed (lower --depth)",
			 dev->name, dev->attr.max_cqe, 2 * max_wr);

	ep->data.ops = ops;
	ops->alloc(&ep->data, data_len);
	ops->reg(&ep->data, dev->pd, data_access);
	/* Control messages never leave this program: plain host memory. */
	ep->ctrl.ops = &xfer_host_buf_ops;
	ep->ctrl.ops->alloc(&ep->ctrl, ctrl_len);
	ep->ctrl.ops->reg(&ep->ctrl, dev->pd, IBV_ACCESS_LOCAL_WRITE);

	ep->cq = ibv_create_cq(dev->ctx, 2 * max_wr, ep, dev->chan, 0);
	if (!ep->cq)
		xfer_die_err("ibv_create_cq", errno);
	init.send_cq = ep->cq;
	init.recv_cq = ep->cq;
	ep->qp = ibv_create_qp(dev->pd, &init);
	if (!ep->qp)
		xfer_die_err("ibv_create_qp", errno);
	err = ibv_modify_qp(ep->qp, &attr, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			    IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
	if (err)
		xfer_die_err("ibv_modify_qp(INIT)", err);

	ep->psn = (uint32_t)lrand48() & 0xffffff;
	ep->timeout = 14;
	ep->retry_cnt = 7;
	/* The QP attributes are 8 bits wide. */
	ep->rd_atom = min_u32(min_u32(depth, 255),
			      (uint32_t)dev->attr.max_qp_rd_atom);
	if (!ep->rd_atom)
		ep->rd_atom = 1;
}

void xfer_ep_info(const struct xfer_ep *ep, struct xfer_conn_info *info)
{
	info->qpn = ep->qp->qp_num;
	info->psn = ep->psn;
	info->rkey = ep->data.mr->rkey;
	info->rd_atom = ep->rd_atom;
	info->addr = ep->data.iova;
	info->gid = ep->dev->gid;
}

/* INIT -> RTR -> RTS towards @peer; RoCE needs a GRH, hence is_global. */
void xfer_ep_connect(struct xfer_ep *ep, const struct xfer_conn_info *peer,
		     enum ibv_mtu mtu, uint32_t depth)
{
	struct xfer_dev *dev = ep->dev;
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = mtu,
		.dest_qp_num = peer->qpn,
		.rq_psn = peer->psn,
		.max_dest_rd_atomic = (uint8_t)ep->rd_atom,
		.min_rnr_timer = 12,
		.ah_attr = {
			.is_global = 1,
			.dlid = dev->port_attr.lid,
			.port_num = XFER_PORT_NUM,
			.grh = {
				.dgid = peer->gid,
				.sgid_index = (uint8_t)dev->gid_index,
				.hop_limit = 64,
			},
		},
	};
	uint32_t rd;
	int err;

	if (mtu > dev->port_attr.active_mtu)
		xfer_die("--mtu %d is larger than the active MTU %d of %s port %d",
			 xfer_mtu_bytes(mtu), xfer_mtu_bytes(dev->port_attr.active_mtu),
			 dev->name, XFER_PORT_NUM);
	err = ibv_modify_qp(ep->qp, &attr, IBV_QP_STATE | IBV_QP_AV |
			    IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			    IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
			    IBV_QP_MIN_RNR_TIMER);
	if (err)
		xfer_die_err("ibv_modify_qp(RTR)", err);

	/* Never have more READs in flight than the responder can take. */
	rd = min_u32(min_u32(depth, peer->rd_atom),
		     min_u32((uint32_t)dev->attr.max_qp_init_rd_atom, 255));
	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_RTS;
	attr.timeout = ep->timeout;
	attr.retry_cnt = ep->retry_cnt;
	attr.rnr_retry = 7;	/* retry forever: flow control, not failure */
	attr.sq_psn = ep->psn;
	attr.max_rd_atomic = (uint8_t)(rd ? rd : 1);
	err = ibv_modify_qp(ep->qp, &attr, IBV_QP_STATE | IBV_QP_TIMEOUT |
			    IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			    IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
	if (err)
		xfer_die_err("ibv_modify_qp(RTS)", err);
}

void xfer_ep_destroy(struct xfer_ep *ep)
{
	int err;

	err = ibv_destroy_qp(ep->qp);
	if (err)
		xfer_die_err("ibv_destroy_qp", err);
	/* ibv_destroy_cq() waits for every event it handed out to be acked. */
	ibv_ack_cq_events(ep->cq, ep->cq_events);
	err = ibv_destroy_cq(ep->cq);
	if (err)
		xfer_die_err("ibv_destroy_cq", err);
	ep->data.ops->free(&ep->data);
	ep->ctrl.ops->free(&ep->ctrl);
}
