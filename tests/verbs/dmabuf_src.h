/*
 * dmabuf_src.h - dma-buf buffers of the four sources the tests use, with no
 * RDMA library attached: creation, CPU access brackets and the test
 * exporter's controls. xfer_dmabuf.c builds verbs buffers on them;
 * tests/clients/fi_dmabuf.c registers them with libfabric.
 *
 * Every call returns 0 or an errno, so that a caller can tell an absent
 * source or an expected refusal from a failure.
 */
#ifndef DMABUF_SRC_H
#define DMABUF_SRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmabuf_test_exporter.h"

/* Ordered as rdma_xfer's --mem names and the buf_ops that select them. */
enum xfer_dmabuf_src {
	XFER_SRC_DTE,		/* the test exporter: dynamic, movable */
	XFER_SRC_DTE_IOMEM,	/* the same, vmap'ed as I/O memory */
	XFER_SRC_UDMABUF,	/* udmabuf over a sealed memfd: static */
	XFER_SRC_HEAP,		/* the system dma-heap: static */
	XFER_SRC_COUNT
};

/* The DTE_IOC_* controls apply to this source's buffers. */
bool xfer_dmabuf_src_is_dte(int src);
/* Whether the kernel bounces every DMA mapping (swiotlb=force). */
bool xfer_swiotlb_forced(void);
/*
 * A dma-buf of @size bytes (a multiple of the page size) from @src in
 * *@fd: ENOENT (or ENODEV, ENXIO) when the source is absent, EOPNOTSUPP
 * when it exists but cannot make this kind of buffer here.
 */
int xfer_dmabuf_create(enum xfer_dmabuf_src src, size_t size, int *fd);
/* DMA_BUF_IOCTL_SYNC with @flags, retried on EINTR and EAGAIN. */
int xfer_dmabuf_sync(int fd, uint64_t flags);

/* The test exporter's buffer controls. */
int xfer_dte_op(unsigned long cmd, int fd, uint32_t flags);
int xfer_dte_fail_maps(int fd, uint32_t count, int error);
int xfer_dte_fence_delay(int fd, uint32_t delay_us);
int xfer_dte_stats(int fd, struct dte_stats *st);

#endif
