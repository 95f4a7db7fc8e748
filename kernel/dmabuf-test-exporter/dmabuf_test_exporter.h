/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * In-kernel interface of dmabuf_test_exporter, for tests of dma-buf
 * importers (such as the exporter's own KUnit suite). The symbols live in
 * the DMABUF_TEST_EXPORTER namespace: MODULE_IMPORT_NS(DTE_NS_EXPORTER),
 * with dte_compat.h, imports it on 6.12 and 7.3 alike.
 */
#ifndef _DMABUF_TEST_EXPORTER_H
#define _DMABUF_TEST_EXPORTER_H

#include <linux/types.h>

#include "uapi/dmabuf_test_exporter.h"

struct dma_buf;

struct dma_buf *dte_buffer_create(u64 size, u32 flags);
bool dte_is_buffer(const struct dma_buf *dmabuf);
int dte_buffer_move(struct dma_buf *dmabuf, u32 flags);
int dte_buffer_evict(struct dma_buf *dmabuf);
int dte_buffer_revoke(struct dma_buf *dmabuf);
int dte_buffer_fail_maps(struct dma_buf *dmabuf, u32 count, int error);
int dte_buffer_set_fence_delay(struct dma_buf *dmabuf, u32 delay_us);
int dte_buffer_get_stats(struct dma_buf *dmabuf, struct dte_stats *stats);
int dte_buffer_corrupt_saved(struct dma_buf *dmabuf, u64 offset);

#endif /* _DMABUF_TEST_EXPORTER_H */
