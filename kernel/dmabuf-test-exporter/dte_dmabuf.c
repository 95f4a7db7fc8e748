// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf_test_exporter: the dma_buf_ops of a buffer, and its user mappings.
 *
 * The exporter is dynamic (it has pin/unpin): dynamic importers get mappings
 * that go stale on move_notify (invalidate_mappings from 7.1), and must wait
 * for the KERNEL fences of the reservation object before touching a new
 * mapping. The dma-buf core pins the buffer for static importers (from
 * attach to detach before 6.16, while mapped since), which a move or
 * eviction then refuses.
 */

#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "dte_internal.h"

/*
 * Any device may attach: a CPU importer (rxe) attaches with a device that
 * does no DMA and has no DMA mask, and reaches the pages only by vmap.
 * Such a device cannot map the attachment for DMA (see dte_map_dma_buf()).
 */
static int dte_attach(struct dma_buf *dmabuf,
		      struct dma_buf_attachment *attach)
{
	struct dte_buffer *buf = dmabuf->priv;

	dma_resv_lock(dmabuf->resv, NULL);
	buf->attachments++;
	if (dte_attachment_is_dynamic(attach))
		buf->dynamic_attachments++;
	dma_resv_unlock(dmabuf->resv);
	return 0;
}

static void dte_detach(struct dma_buf *dmabuf,
		       struct dma_buf_attachment *attach)
{
	struct dte_buffer *buf = dmabuf->priv;

	dma_resv_lock(dmabuf->resv, NULL);
	buf->attachments--;
	if (dte_attachment_is_dynamic(attach))
		buf->dynamic_attachments--;
	dma_resv_unlock(dmabuf->resv);
}

/*
 * The dma-buf core calls this for static attachments, and a dynamic
 * importer may pin for good. Either way the pages must hold the contents
 * when this returns, because the holder will not wait for fences.
 */
static int dte_pin(struct dma_buf_attachment *attach)
{
	struct dte_buffer *buf = attach->dmabuf->priv;
	int ret;

	dma_resv_assert_held(attach->dmabuf->resv);

	ret = dte_wait_resident_locked(buf, true);
	if (ret)
		return ret;
	buf->pins++;
	return 0;
}

static void dte_unpin(struct dma_buf_attachment *attach)
{
	struct dte_buffer *buf = attach->dmabuf->priv;

	dma_resv_assert_held(attach->dmabuf->resv);

	if (!WARN_ON(!buf->pins))
		buf->pins--;
}

static struct sg_table *dte_map_dma_buf(struct dma_buf_attachment *attach,
					enum dma_data_direction dir)
{
	struct dte_buffer *buf = attach->dmabuf->priv;
	struct dte_backing *backing;
	struct dte_mapping *map;
	int ret;

	dma_resv_assert_held(attach->dmabuf->resv);

	/* Without a mask dma_map_sgtable() would WARN for the importer. */
	if (!attach->dev->dma_mask) {
		dev_warn_ratelimited(attach->dev,
				     "%s: DMA map for a device without a DMA mask\n",
				     KBUILD_MODNAME);
		return ERR_PTR(-EINVAL);
	}
	if (buf->revoked)
		return ERR_PTR(-ENODEV);
	if (buf->fail_maps) {
		buf->fail_maps--;
		buf->injected_map_failures++;
		return ERR_PTR(buf->fail_error);
	}
	/* No wait for the restore: the fence is in the reservation object. */
	ret = dte_make_resident_locked(buf);
	if (ret)
		return ERR_PTR(ret);
	backing = buf->cur;

	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table_from_pages_segment(&map->sgt, backing->pages,
						backing->nr_pages, 0,
						backing->nr_pages << PAGE_SHIFT,
						dma_get_max_seg_size(attach->dev),
						GFP_KERNEL);
	if (ret)
		goto err_free;
	ret = dma_map_sgtable(attach->dev, &map->sgt, dir, 0);
	if (ret)
		goto err_table;

	map->backing = dte_backing_get(backing);
	map->attach = attach;
	map->dir = dir;
	list_add(&map->node, &buf->mappings);
	buf->maps++;
	return &map->sgt;

err_table:
	sg_free_table(&map->sgt);
err_free:
	kfree(map);
	return ERR_PTR(ret);
}

static void dte_unmap_dma_buf(struct dma_buf_attachment *attach,
			      struct sg_table *sgt,
			      enum dma_data_direction dir)
{
	struct dte_mapping *map = container_of(sgt, struct dte_mapping, sgt);
	struct dte_buffer *buf = attach->dmabuf->priv;

	dma_resv_assert_held(attach->dmabuf->resv);

	list_del(&map->node);
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	dte_backing_put(map->backing);
	kfree(map);
	buf->unmaps++;
}

static void dte_release(struct dma_buf *dmabuf)
{
	struct dte_buffer *buf = dmabuf->priv;

	WARN_ON(buf->vmap_backing || !list_empty(&buf->mappings));

	/* Delayed fences signal now: nobody may be left waiting for them. */
	WRITE_ONCE(buf->dying, true);
	wake_up_all(&buf->delay_wq);

	dte_backing_put(buf->cur);
	dte_backing_put(buf->saved);
	buf->cur = NULL;
	buf->saved = NULL;
	buf->dmabuf = NULL;
	dte_buffer_put(buf);
}

static void dte_sync_mappings(struct dte_buffer *buf,
			      enum dma_data_direction dir, bool for_cpu)
{
	struct dte_mapping *map;

	dma_resv_assert_held(buf->dmabuf->resv);

	list_for_each_entry(map, &buf->mappings, node) {
		if (for_cpu)
			dma_sync_sgtable_for_cpu(map->attach->dev, &map->sgt,
						 dir);
		else
			dma_sync_sgtable_for_device(map->attach->dev,
						    &map->sgt, dir);
	}
}

static int dte_begin_cpu_access(struct dma_buf *dmabuf,
				enum dma_data_direction dir)
{
	int ret;

	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		return ret;
	dte_sync_mappings(dmabuf->priv, dir, true);
	dma_resv_unlock(dmabuf->resv);
	return 0;
}

static int dte_end_cpu_access(struct dma_buf *dmabuf,
			      enum dma_data_direction dir)
{
	int ret;

	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		return ret;
	dte_sync_mappings(dmabuf->priv, dir, false);
	dma_resv_unlock(dmabuf->resv);
	return 0;
}

/*
 * Note that the dma-buf core WARNs on any vmap failure, a revoked buffer
 * included: importers should wait for the KERNEL fences and check their
 * errors before they vmap (a revocation leaves one that failed), or map
 * first, which fails cleanly.
 */
static int dte_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct dte_buffer *buf = dmabuf->priv;
	void *vaddr;
	int ret;

	dma_resv_assert_held(dmabuf->resv);

	/* A kernel mapping holder does not wait for fences: wait here. */
	ret = dte_wait_resident_locked(buf, false);
	if (ret)
		return ret;
	vaddr = vmap(buf->cur->pages, buf->cur->nr_pages, VM_MAP, PAGE_KERNEL);
	if (!vaddr)
		return -ENOMEM;

	buf->vmap_backing = dte_backing_get(buf->cur);
	buf->vmap_vaddr = vaddr;
	buf->vmaps++;
	if (buf->flags & DTE_CREATE_IOMEM)
		iosys_map_set_vaddr_iomem(map, (void __iomem __force *)vaddr);
	else
		iosys_map_set_vaddr(map, vaddr);
	return 0;
}

static void dte_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct dte_buffer *buf = dmabuf->priv;

	dma_resv_assert_held(dmabuf->resv);

	if (WARN_ON(!buf->vmap_backing))
		return;
	vunmap(buf->vmap_vaddr);
	dte_backing_put(buf->vmap_backing);
	buf->vmap_backing = NULL;
	buf->vmap_vaddr = NULL;
	buf->vunmaps++;
}

/*
 * Only a fatal signal ends the wait early; a kernel-mode fault then gets
 * SIGBUS (an -EFAULT for its copy), since returning VM_FAULT_NOPAGE would
 * make it refault forever.
 */
static vm_fault_t dte_fault_wait(struct vm_fault *vmf, struct dma_fence *fence)
{
	if (!dte_fence_wait_killable(fence) || (vmf->flags & FAULT_FLAG_USER))
		return VM_FAULT_NOPAGE;
	return VM_FAULT_SIGBUS;
}

/*
 * Maps the current backing's page. A move zaps the PTEs under the
 * reservation lock, which is also held here, so no PTE outlives a move.
 * The reservation lock may be taken under mmap_lock: dma-resv primes
 * lockdep with that order.
 */
static vm_fault_t dte_vm_fault(struct vm_fault *vmf)
{
	struct dte_buffer *buf = vmf->vma->vm_private_data;
	struct dma_resv *resv = buf->dmabuf->resv;
	struct dte_backing *backing;
	struct dma_fence *fence;
	vm_fault_t ret;
	int err;

	dma_resv_lock(resv, NULL);
	err = dte_make_resident_locked(buf);
	if (err) {
		ret = err == -ENODEV ? VM_FAULT_SIGBUS : vmf_error(err);
		goto out;
	}
	backing = buf->cur;
	if (vmf->pgoff >= backing->nr_pages) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	/*
	 * The new pages must not be seen before the copy into them is done.
	 * Wait unlocked, then let the access fault again.
	 */
	fence = backing->fence;
	if (fence && !dma_fence_is_signaled(fence)) {
		dma_fence_get(fence);
		dma_resv_unlock(resv);
		ret = dte_fault_wait(vmf, fence);
		dma_fence_put(fence);
		return ret;
	}
	/* A restore that found its saved copy changed: no silent garbage. */
	if (dte_backing_status(backing)) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	ret = vmf_insert_pfn(vmf->vma, vmf->address,
			     page_to_pfn(backing->pages[vmf->pgoff]));
out:
	dma_resv_unlock(resv);
	return ret;
}

static const struct vm_operations_struct dte_vm_ops = {
	.fault = dte_vm_fault,
};

/*
 * The VMA's file is the dma-buf's own, with its own address space, so a
 * move can zap exactly this buffer's PTEs with unmap_mapping_range().
 */
static int dte_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	/* A private mapping would want copy-on-write of PFN-mapped pages. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;

	vma->vm_ops = &dte_vm_ops;
	vma->vm_private_data = dmabuf->priv;
	vm_flags_set(vma, VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	return 0;
}

const struct dma_buf_ops dte_dmabuf_ops = {
	.attach = dte_attach,
	.detach = dte_detach,
	.pin = dte_pin,
	.unpin = dte_unpin,
	.map_dma_buf = dte_map_dma_buf,
	.unmap_dma_buf = dte_unmap_dma_buf,
	.release = dte_release,
	.begin_cpu_access = dte_begin_cpu_access,
	.end_cpu_access = dte_end_cpu_access,
	.mmap = dte_mmap,
	.vmap = dte_vmap,
	.vunmap = dte_vunmap,
};
