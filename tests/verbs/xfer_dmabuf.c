/*
 * dma-buf memory for rdma_xfer and dmabuf_reg: the four sources (the test
 * exporter, plain and as I/O memory, udmabuf and the system dma-heap),
 * their registration with ibv_reg_dmabuf_mr(), CPU access brackets and the
 * test exporter's controls.
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
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "xfer.h"

#define UDMABUF_PATH	"/dev/udmabuf"
#define HEAP_PATH	"/dev/dma_heap/system"

/*
 * MR iovas start far above any user address, each MR in a 4 GiB window of
 * its own: a driver that took an iova for a CPU address, or mixed up two
 * MRs, cannot land on valid data by chance.
 */
#define IOVA_BASE	(1ULL << 52)
#define IOVA_WINDOW	(1ULL << 32)

struct xfer_dmabuf_cfg xfer_dmabuf_cfg;

/* Opened on first use and kept: the churn thread issues ioctls on it. */
static int dte_dev = -1;

/* 0 or the errno of opening the device or of the ioctl. */
static int dte_ioctl(unsigned long cmd, void *arg)
{
	if (dte_dev < 0) {
		dte_dev = open(DTE_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		if (dte_dev < 0)
			return errno;
	}
	return ioctl(dte_dev, cmd, arg) ? errno : 0;
}

bool xfer_dmabuf_src_is_dte(int src)
{
	return src == XFER_SRC_DTE || src == XFER_SRC_DTE_IOMEM;
}

static int dte_create(size_t size, uint32_t flags, int *fd)
{
	struct dte_create c = { .size = size, .flags = flags, .fd = -1 };
	int err = dte_ioctl(DTE_IOC_CREATE, &c);

	if (!err)
		*fd = c.fd;
	return err;
}

bool xfer_swiotlb_forced(void)
{
	char line[4096];
	FILE *f = fopen("/proc/cmdline", "r");
	bool forced = false;

	if (f) {
		forced = fgets(line, sizeof(line), f) &&
			 strstr(line, "swiotlb=force");
		fclose(f);
	}
	return forced;
}

/*
 * udmabuf refuses a memfd that could shrink under it, hence the seal.
 *
 * With every DMA mapping bounced (swiotlb=force), 6.12's udmabuf cannot
 * serve CPU access: its begin_cpu_access syncs a mapping it made for its
 * own misc device, which copies the stale bounce buffer over whatever an
 * importer wrote since. Such buffers are reported as unavailable.
 */
static int udmabuf_create(size_t size, int *fd)
{
	struct udmabuf_create c = {
		.flags = UDMABUF_FLAGS_CLOEXEC,
		.size = size,
	};
	int dev, memfd, err = 0;

	if (xfer_swiotlb_forced())
		return EOPNOTSUPP;
	dev = open(UDMABUF_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return errno;
	memfd = memfd_create("xfer-udmabuf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0) {
		err = errno;
		goto out_dev;
	}
	if (ftruncate(memfd, size) ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		err = errno;
		goto out;
	}
	c.memfd = memfd;
	*fd = ioctl(dev, UDMABUF_CREATE, &c);
	if (*fd < 0)
		err = errno;
out:
	close(memfd);
out_dev:
	close(dev);
	return err;
}

static int heap_create(size_t size, int *fd)
{
	struct dma_heap_allocation_data d = {
		.len = size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap, err = 0;

	heap = open(HEAP_PATH, O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		return errno;
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d))
		err = errno;
	else
		*fd = (int)d.fd;
	close(heap);
	return err;
}

static int dmabuf_create(enum xfer_dmabuf_src src, size_t size, int *fd)
{
	switch (src) {
	case XFER_SRC_DTE:
		return dte_create(size, 0, fd);
	case XFER_SRC_DTE_IOMEM:
		return dte_create(size, DTE_CREATE_IOMEM, fd);
	case XFER_SRC_UDMABUF:
		return udmabuf_create(size, fd);
	case XFER_SRC_HEAP:
		return heap_create(size, fd);
	case XFER_SRC_COUNT:
		break;
	}
	return EINVAL;
}

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
	err = dmabuf_create(src, size, &fd);
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
	struct dma_buf_sync sync = { .flags = flags };

	if (buf->fd < 0)
		return;
	while (ioctl(buf->fd, DMA_BUF_IOCTL_SYNC, &sync))
		if (errno != EINTR && errno != EAGAIN)
			xfer_die_err("DMA_BUF_IOCTL_SYNC", errno);
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

int xfer_dte_op(unsigned long cmd, int fd, uint32_t flags)
{
	struct dte_buf_op op = { .fd = fd, .flags = flags };

	return dte_ioctl(cmd, &op);
}

int xfer_dte_fail_maps(int fd, uint32_t count, int error)
{
	struct dte_fail_maps f = { .fd = fd, .count = count, .error = error };

	return dte_ioctl(DTE_IOC_FAIL_MAPS, &f);
}

int xfer_dte_fence_delay(int fd, uint32_t delay_us)
{
	struct dte_fence_delay d = { .fd = fd, .delay_us = delay_us };

	return dte_ioctl(DTE_IOC_FENCE_DELAY, &d);
}

int xfer_dte_stats(int fd, struct dte_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->fd = fd;
	return dte_ioctl(DTE_IOC_STATS, st);
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
