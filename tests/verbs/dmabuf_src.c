/*
 * dma-buf buffers of the test exporter (plain and as I/O memory), udmabuf
 * and the system dma-heap, with no RDMA library attached (dmabuf_src.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "dmabuf_src.h"

#define UDMABUF_PATH	"/dev/udmabuf"
#define HEAP_PATH	"/dev/dma_heap/system"

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

int xfer_dmabuf_create(enum xfer_dmabuf_src src, size_t size, int *fd)
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

int xfer_dmabuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync))
		if (errno != EINTR && errno != EAGAIN)
			return errno;
	return 0;
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
