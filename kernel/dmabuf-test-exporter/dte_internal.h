/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dmabuf_test_exporter internals shared by its source files.
 */
#ifndef _DTE_INTERNAL_H
#define _DTE_INTERNAL_H

#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "dmabuf_test_exporter.h"
#include "dte_compat.h"

/**
 * struct dte_backing - one set of pages that holds (or will hold) a
 * buffer's contents
 * @ref: held by the buffer while current or saved, by each sg mapping and
 *	vmap made from it, and by each copy reading or writing it; so an
 *	importer that is slow to drop an old mapping never sees freed pages
 * @nr_pages: number of pages
 * @pages: the pages, order 0; poisoned when freed
 * @fence: the last job on @pages: the copy that fills them or, once they
 *	are kept aside by an eviction, the seal that checksums them; NULL if
 *	they were born zeroed. The contents are valid once it has signalled
 *	without an error.
 * @csum: crc32 of the contents, written by the seal
 * @sealed: a seal was queued: a copy out of this backing checks @csum
 */
struct dte_backing {
	struct kref ref;
	pgoff_t nr_pages;
	struct page **pages;
	struct dma_fence *fence;
	u32 csum;
	bool sealed;
};

/**
 * struct dte_mapping - an sg_table handed to an importer by map_dma_buf
 * @sgt: the table; its address is what the importer gets
 * @backing: the pages it maps
 * @attach: the attachment it was made for
 * @dir: the direction it was mapped with
 * @node: in &dte_buffer.mappings
 */
struct dte_mapping {
	struct sg_table sgt;
	struct dte_backing *backing;
	struct dma_buf_attachment *attach;
	enum dma_data_direction dir;
	struct list_head node;
};

/**
 * struct dte_buffer - the exporter's private part of a dma-buf
 * @ref: held by the dma-buf and by each copy in flight, so a copy can still
 *	reach @dying and @delay_wq after the dma-buf has been released
 * @dmabuf: the dma-buf; valid until its release
 * @nr_pages: size in pages
 * @flags: DTE_CREATE_* flags
 * @fence_context: timeline of this buffer's fences: its jobs', and those
 *	left by failed moves and revocation
 * @dying: set on release so that jobs finish at once
 * @delay_wq: woken when @dying is set, and for a job waiting for others'
 *	fences when one signals
 *
 * The remaining fields are protected by the dma-buf's reservation lock.
 *
 * @fence_seqno: sequence number of the last fence of @fence_context
 * @cur: current backing; NULL while evicted or revoked
 * @saved: the contents while evicted, sealed
 * @vmap_backing: backing of the kernel mapping, if any (the dma-buf core
 *	keeps at most one)
 * @vmap_vaddr: address of the kernel mapping
 * @mappings: &dte_mapping list of the sg tables importers hold
 * @revoked: revoked for good
 * @evicted: contents are only in @saved
 * @fail_maps: number of map_dma_buf calls and moves still to fail
 * @fail_error: negative errno they fail with
 * @delay_us: delay of later copy fences
 * @attachments: attachments now
 * @dynamic_attachments: dynamic attachments now
 * @pins: pins now
 * @maps: successful map_dma_buf calls
 * @unmaps: unmap_dma_buf calls
 * @vmaps: vmap calls
 * @vunmaps: vunmap calls
 * @moves: moves
 * @evictions: evictions
 * @injected_map_failures: map_dma_buf calls and moves failed on purpose
 * @generation: bumped by every move, eviction and restore
 */
struct dte_buffer {
	struct kref ref;
	struct dma_buf *dmabuf;
	pgoff_t nr_pages;
	u32 flags;
	u64 fence_context;
	bool dying;
	wait_queue_head_t delay_wq;

	u64 fence_seqno;
	struct dte_backing *cur;
	struct dte_backing *saved;
	struct dte_backing *vmap_backing;
	void *vmap_vaddr;
	struct list_head mappings;
	bool revoked;
	bool evicted;
	u32 fail_maps;
	int fail_error;
	u32 delay_us;

	u64 attachments;
	u64 dynamic_attachments;
	u64 pins;
	u64 maps;
	u64 unmaps;
	u64 vmaps;
	u64 vunmaps;
	u64 moves;
	u64 evictions;
	u64 injected_map_failures;
	u64 generation;
};

extern const struct dma_buf_ops dte_dmabuf_ops;

/* dte_copy.c */
struct dte_backing *dte_backing_alloc(pgoff_t nr_pages, bool zero);
struct dte_backing *dte_backing_get(struct dte_backing *backing);
void dte_backing_put(struct dte_backing *backing);
int dte_backing_status(struct dte_backing *backing);
int dte_copy_locked(struct dte_buffer *buf, struct dte_backing *src,
		    struct dte_backing *dst, int fail_error,
		    struct dma_fence **resv_fence);
int dte_seal_locked(struct dte_buffer *buf, struct dte_backing *backing);
int dte_fence_wait_killable(struct dma_fence *fence);
struct dma_fence *dte_fence_alloc(void);
void dte_fence_fail_locked(struct dte_buffer *buf, struct dma_fence *fence,
			   int error);
int dte_copy_init(void);
void dte_copy_exit(void);

/* dte_buffer.c */
void dte_buffer_put(struct dte_buffer *buf);
int dte_make_resident_locked(struct dte_buffer *buf);
int dte_wait_resident_locked(struct dte_buffer *buf, bool intr);

#endif /* _DTE_INTERNAL_H */
