/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dmabuf_test_exporter: what differs between the two kernels it is built
 * for, Debian's 6.12 (the guests') and 7.3 (the mainline base, kernel/7.3).
 * Each shim names the upstream change that made it necessary; on 6.12 the
 * exporter preprocesses to what it was before the shims. Everything else it
 * uses (dma_buf_export(), the dma_buf_ops it fills, pin/unpin, map/unmap,
 * vmap/vunmap, dma_resv_*, dma_fence_*) is the same in both, and so are
 * the reservation lock rules: the exporter calls the invalidation with the
 * lock held, and the core calls its pin, map and vmap ops with it held.
 */
#ifndef _DTE_COMPAT_H
#define _DTE_COMPAT_H

#include <linux/dma-buf.h>
#include <linux/module.h>
#include <linux/version.h>

/*
 * Symbol namespaces are string literals since v6.13, cdd30ebb1b9f
 * ("module: Convert symbol namespace to string literal"); before,
 * EXPORT_SYMBOL_NS_GPL() and MODULE_IMPORT_NS() stringified a bare word,
 * and either spelling is wrong on the other kernel. The sources name the
 * namespaces they export to and import with these.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define DTE_NS_DMA_BUF		"DMA_BUF"
#define DTE_NS_EXPORTER		"DMABUF_TEST_EXPORTER"
#else
#define DTE_NS_DMA_BUF		DMA_BUF
#define DTE_NS_EXPORTER		DMABUF_TEST_EXPORTER
#endif

/*
 * Whether the importer gave dma_buf_attach_ops, a dynamic attachment: it
 * maps under the reservation lock and follows moves. v6.16's de68b17d5d07
 * ("dma-buf: dma-buf: stop mapping sg_tables on attach v2") made
 * dma_buf_attachment_is_dynamic() private to dma-buf.c, with this body.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
static inline bool dte_attachment_is_dynamic(struct dma_buf_attachment *attach)
{
	return !!attach->importer_ops;
}
#else
#define dte_attachment_is_dynamic(attach) dma_buf_attachment_is_dynamic(attach)
#endif

/*
 * The same commit moved the pin and map of a static importer of a dynamic
 * exporter from dma_buf_attach(), cached for every map, to each
 * dma_buf_map_attachment(), undone by the unmap. Only the KUnit suite's
 * expectations depend on it.
 */
#define DTE_CORE_MAPS_STATIC_AT_ATTACH \
	(LINUX_VERSION_CODE < KERNEL_VERSION(6, 16, 0))

/*
 * v7.1 renamed the exporter's call that tells importers their mappings go
 * stale, 95308225e5ba ("dma-buf: Rename dma_buf_move_notify() to
 * dma_buf_invalidate_mappings()"), and the importer's callback it calls
 * ("dma-buf: Rename .move_notify() callback to a clearer identifier"). The
 * exporter still calls it under the reservation lock. 7.1 also dropped
 * CONFIG_DMABUF_MOVE_NOTIFY, behaving as the guests' =y always: the core
 * never pins a dynamic importer's mappings.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 1, 0)
#define dte_invalidate_mappings(dmabuf)	dma_buf_invalidate_mappings(dmabuf)
#define DTE_INVALIDATE_OP(fn)		.invalidate_mappings = (fn)
#else
#define dte_invalidate_mappings(dmabuf)	dma_buf_move_notify(dmabuf)
#define DTE_INVALIDATE_OP(fn)		.move_notify = (fn)
#endif

#endif /* _DTE_COMPAT_H */
