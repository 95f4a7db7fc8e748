/*
 * dma-buf memory for rdma_xfer and dmabuf_reg: buffers of the four
 * sources of dmabuf_src.c, their registration with ibv_reg_dmabuf_mr()
 * and CPU access brackets.
 *
 * The low-level calls return an errno so that dmabuf_reg can tell an
 * absent source or an expected refusal from a failure; the buf_ops on top
 * exit like the host backing does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "xfer.h"

/*
 * MR iovas start far above any user address, each MR in a 4 GiB window of
 * its own: a driver that took an iova for a CPU address, or mixed up two
 * MRs, cannot land on valid data by chance.
 */
#define IOVA_BASE	(1ULL << 52)
#define IOVA_WINDOW	(1ULL << 32)

struct xfer_dmabuf_cfg xfer_dmabuf_cfg;

uint64_t xfer_dmabuf_iova(uint64_t offset)
{
	static uint64_t windows;

	return IOVA_BASE + windows++ * IOVA_WINDOW + offset;
}

int xfer_dmabuf_open(struct xfer_buf *buf, enum xfer_dmabuf_src src,
		     size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int fd = -1, err;
	void *p;

	size = (size + page - 1) / page * page;
	err = xfer_dmabuf_create(src, size, &fd);
	if (err)
		return err;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = errno;
		close(fd);
		return err;
	}
	*buf = (struct xfer_buf){
		.ops = &xfer_dmabuf_buf_ops[src],
		.addr = p,
		.len = size,
		.iova = xfer_dmabuf_iova(0),
		.fd = fd,
		.map = p,
		.map_len = size,
	};
	return 0;
}

void xfer_dmabuf_close(struct xfer_buf *buf)
{
	if (buf->mr) {
		int err = ibv_dereg_mr(buf->mr);

		if (err)
			xfer_die_err("ibv_dereg_mr", err);
	}
	if (buf->map)
		munmap(buf->map, buf->map_len);
	if (buf->fd >= 0)
		close(buf->fd);
	buf->mr = NULL;
	buf->map = NULL;
	buf->addr = NULL;
	buf->fd = -1;
}

/*
 * Without the brackets an exporter with caches to flush, or a move still
 * copying, could show the CPU stale data; START also waits for the
 * buffer's fences.
 */
static void cpu_sync(const struct xfer_buf *buf, uint64_t flags)
{
	int err;

	if (buf->fd < 0)
		return;
	err = xfer_dmabuf_sync(buf->fd, flags);
	if (err)
		xfer_die_err("DMA_BUF_IOCTL_SYNC", err);
}

void xfer_buf_cpu_begin(const struct xfer_buf *buf, bool write)
{
	cpu_sync(buf, DMA_BUF_SYNC_START |
		 (write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ));
}

void xfer_buf_cpu_end(const struct xfer_buf *buf, bool write)
{
	cpu_sync(buf, DMA_BUF_SYNC_END |
		 (write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ));
}

/* A dma-buf polls readable once its KERNEL and WRITE fences signalled. */
int xfer_dmabuf_wait_idle(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	double end = xfer_now() + ms / 1e3;
	int n, left;

	for (;;) {
		left = (int)((end - xfer_now()) * 1e3);
		n = poll(&pfd, 1, left > 0 ? left : 0);
		if (n > 0)
			return 0;
		if (!n)
			return ETIMEDOUT;
		if (errno != EINTR)
			return errno;
	}
}

int xfer_hw_counter(const char *dev, const char *name, uint64_t *val)
{
	char path[256];
	unsigned long long v;
	int err = 0;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/%d/hw_counters/%s",
		 dev, XFER_PORT_NUM, name);
	f = fopen(path, "re");
	if (!f)
		return errno;
	if (fscanf(f, "%llu", &v) == 1)
		*val = v;
	else
		err = EIO;
	fclose(f);
	return err;
}

/*
 * The buffer is xfer_dmabuf_cfg.offset plus @len bytes, so that an offset
 * MR sits inside a larger buffer; its iova has the offset's page offset,
 * as the uverbs core requires.
 */
static void dmabuf_alloc(struct xfer_buf *buf, size_t len)
{
	int src = buf->ops->src;
	uint64_t off = xfer_dmabuf_cfg.offset;
	int err = xfer_dmabuf_open(buf, src, off + len);

	if (err == ENOENT || err == ENODEV || err == ENXIO)
		xfer_die("no %s dma-buf source here: %s%s",
			 buf->ops->name, strerror(err),
			 xfer_dmabuf_src_is_dte(src) ?
			 " (modprobe dmabuf_test_exporter)" : "");
	if (err)
		xfer_die("cannot create a %" PRIu64 "-byte %s dma-buf: %s",
			 off + len, buf->ops->name, strerror(err));
	buf->offset = off;
	buf->addr = (char *)buf->map + off;
	buf->len = len;
	buf->iova = xfer_dmabuf_iova(off);
}

/*
 * With close_fd the registered descriptor goes at once: the MR must hold
 * the buffer by itself. CPU access brackets and exporter controls still
 * need a descriptor, so a duplicate taken before registration stays.
 */
static void dmabuf_reg(struct xfer_buf *buf, struct ibv_pd *pd, int access)
{
	int keep = -1;

	if (xfer_dmabuf_cfg.close_fd) {
		keep = fcntl(buf->fd, F_DUPFD_CLOEXEC, 0);
		if (keep < 0)
			xfer_die_err("fcntl(F_DUPFD_CLOEXEC)", errno);
	}
	buf->mr = ibv_reg_dmabuf_mr(pd, buf->offset, buf->len, buf->iova,
				    buf->fd, access);
	if (!buf->mr)
		xfer_die_err("ibv_reg_dmabuf_mr", errno);
	if (keep >= 0) {
		close(buf->fd);
		buf->fd = keep;
	}
}

#define DMABUF_OPS(s, n) {			\
	.name = (n),				\
	.src = (s),				\
	.alloc = dmabuf_alloc,			\
	.reg = dmabuf_reg,			\
	.free = xfer_dmabuf_close,		\
}

const struct buf_ops xfer_dmabuf_buf_ops[XFER_SRC_COUNT] = {
	[XFER_SRC_DTE] = DMABUF_OPS(XFER_SRC_DTE, "dte"),
	[XFER_SRC_DTE_IOMEM] = DMABUF_OPS(XFER_SRC_DTE_IOMEM, "dte-iomem"),
	[XFER_SRC_UDMABUF] = DMABUF_OPS(XFER_SRC_UDMABUF, "udmabuf"),
	[XFER_SRC_HEAP] = DMABUF_OPS(XFER_SRC_HEAP, "heap"),
};
