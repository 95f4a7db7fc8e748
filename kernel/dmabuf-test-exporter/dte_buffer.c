// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf_test_exporter: buffers and their placement.
 *
 * A buffer's contents live in a refcounted backing. A move copies them into
 * a new backing (dte_copy.c), fenced by a KERNEL fence in the buffer's
 * reservation object; the new backing becomes current at once, so importers
 * that map after a move get the new pages and must wait for that fence. An
 * eviction keeps the old backing aside as the saved copy, checksummed; the
 * next access restores it with the same fenced copy, which checks the sum.
 *
 * A move or an eviction first tells importers (move_notify, renamed
 * invalidate_mappings in 7.1: dte_invalidate_mappings()) and zaps user
 * mappings, and is refused if an importer still has the buffer pinned or
 * vmapped afterwards.
 */

#include <linux/dma-resv.h>
#include <linux/fcntl.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "dte_internal.h"

static void dte_buffer_free(struct kref *ref)
{
	kfree(container_of(ref, struct dte_buffer, ref));
}

void dte_buffer_put(struct dte_buffer *buf)
{
	kref_put(&buf->ref, dte_buffer_free);
}

/*
 * Start copying the contents into new pages and make those current at
 * once; @fail_error and @resv_fence as for dte_copy_locked(). Fails
 * without a change of state.
 */
static int dte_migrate_locked(struct dte_buffer *buf, int fail_error,
			      struct dma_fence **resv_fence)
{
	struct dte_backing *src = buf->cur ? buf->cur : buf->saved;
	struct dte_backing *dst;
	int ret;

	dma_resv_assert_held(buf->dmabuf->resv);

	dst = dte_backing_alloc(buf->nr_pages, false);
	if (IS_ERR(dst))
		return PTR_ERR(dst);
	ret = dte_copy_locked(buf, src, dst, fail_error, resv_fence);
	if (ret) {
		dte_backing_put(dst);
		return ret;
	}

	dte_backing_put(buf->cur);
	dte_backing_put(buf->saved);
	buf->cur = dst;
	buf->saved = NULL;
	buf->evicted = false;
	buf->generation++;
	return 0;
}

/**
 * dte_make_resident_locked - restore an evicted buffer
 * @buf: the buffer
 *
 * Caller holds the reservation lock. Afterwards &dte_buffer.cur is set, but
 * its contents are valid only once its fence has signalled.
 *
 * Such a restore, on behalf of a map, pin, vmap or page fault, is never
 * failed by DTE_IOC_FAIL_MAPS: its caller uses the pages at once, and
 * would not look at the fence (see dte_buffer_fail_maps()).
 *
 * Return: 0, -ENODEV if @buf is revoked, or an allocation error.
 */
int dte_make_resident_locked(struct dte_buffer *buf)
{
	dma_resv_assert_held(buf->dmabuf->resv);

	if (buf->revoked)
		return -ENODEV;
	if (buf->evicted)
		return dte_migrate_locked(buf, 0, NULL);
	return 0;
}

/**
 * dte_wait_resident_locked - restore a buffer and wait for its contents
 * @buf: the buffer
 * @intr: whether a signal may interrupt the wait
 *
 * For the callers that hand the pages to someone who does not wait for the
 * reservation fences (pin, vmap). Caller holds the reservation lock, which
 * the copy never takes.
 *
 * Return: 0, -ENODEV if @buf is revoked, an allocation error, -EINTR or
 * -ERESTARTSYS if interrupted, or the error of the copy: -EIO if the saved
 * copy it restored had changed, -ETIMEDOUT if others' fences it waited for
 * did not signal.
 */
int dte_wait_resident_locked(struct dte_buffer *buf, bool intr)
{
	struct dma_fence *fence;
	long ret;

	ret = dte_make_resident_locked(buf);
	if (ret)
		return ret;
	fence = buf->cur->fence;
	if (!fence)
		return 0;
	if (!intr)
		ret = dte_fence_wait_killable(fence);
	else
		ret = dma_fence_wait(fence, true);
	if (ret < 0)
		return ret;
	return dte_backing_status(buf->cur);
}

static struct dte_buffer *dte_buffer_of(struct dma_buf *dmabuf)
{
	if (!dmabuf || !dte_is_buffer(dmabuf))
		return NULL;
	return dmabuf->priv;
}

/**
 * dte_invalidate_locked - tell users that the pages are going away
 * @buf: the buffer, whose reservation lock is held
 *
 * Importers lose their mappings (move_notify), user space its PTEs. The
 * dma-buf core, though, keeps one kernel mapping for all vmap callers and
 * hands it out again without asking the exporter, so a vmap that an
 * importer keeps across move_notify would point at the old pages after a
 * move: the caller must then give up, with the pages in place. That the
 * importers have dropped their mappings is harmless: they map again.
 *
 * Return: 0, or -EBUSY if an importer still holds a vmap.
 */
static int dte_invalidate_locked(struct dte_buffer *buf)
{
	struct dma_buf *dmabuf = buf->dmabuf;

	dma_resv_assert_held(dmabuf->resv);

	dte_invalidate_mappings(dmabuf);
	unmap_mapping_range(dmabuf->file->f_mapping, 0, 0, 1);
	return dmabuf->vmapping_counter ? -EBUSY : 0;
}

/**
 * dte_is_buffer - whether a dma-buf comes from this exporter
 * @dmabuf: the dma-buf
 *
 * Return: true if @dmabuf was made by dte_buffer_create().
 */
bool dte_is_buffer(const struct dma_buf *dmabuf)
{
	return dmabuf->ops == &dte_dmabuf_ops;
}
EXPORT_SYMBOL_NS_GPL(dte_is_buffer, DTE_NS_EXPORTER);

/**
 * dte_buffer_create - create a buffer
 * @size: bytes, 1 to %DTE_MAX_SIZE; rounded up to whole pages
 * @flags: %DTE_CREATE_* flags
 *
 * The buffer starts zeroed, in pages that are not pinned: importers must be
 * able to handle move_notify.
 *
 * Return: a dma-buf holding one reference, or an ERR_PTR(): -EINVAL for a
 * bad size or unknown flags, -EOPNOTSUPP for %DTE_CREATE_IOMEM where I/O
 * memory accessors cannot reach RAM (UML), -ENOMEM, or -EINTR on a fatal
 * signal.
 */
struct dma_buf *dte_buffer_create(u64 size, u32 flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct dte_buffer *buf;
	struct dma_buf *dmabuf;
	struct dte_backing *backing;

	if (!size || size > DTE_MAX_SIZE || (flags & ~DTE_CREATE_FLAGS))
		return ERR_PTR(-EINVAL);
	/*
	 * Emulated I/O accessors (UML) reach only registered regions, never
	 * RAM: an importer's memcpy_toio() into such a buffer would WARN.
	 */
	if ((flags & DTE_CREATE_IOMEM) && IS_ENABLED(CONFIG_INDIRECT_IOMEM) &&
	    !IS_ENABLED(CONFIG_INDIRECT_IOMEM_FALLBACK))
		return ERR_PTR(-EOPNOTSUPP);
	size = PAGE_ALIGN(size);

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	kref_init(&buf->ref);
	buf->nr_pages = size >> PAGE_SHIFT;
	buf->flags = flags;
	buf->fence_context = dma_fence_context_alloc(1);
	init_waitqueue_head(&buf->delay_wq);
	INIT_LIST_HEAD(&buf->mappings);

	backing = dte_backing_alloc(buf->nr_pages, true);
	if (IS_ERR(backing)) {
		kfree(buf);
		return ERR_CAST(backing);
	}
	buf->cur = backing;

	exp_info.ops = &dte_dmabuf_ops;
	exp_info.size = size;
	exp_info.flags = O_RDWR | O_CLOEXEC;
	exp_info.priv = buf;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		dte_backing_put(backing);
		kfree(buf);
		return dmabuf;
	}
	buf->dmabuf = dmabuf;
	return dmabuf;
}
EXPORT_SYMBOL_NS_GPL(dte_buffer_create, DTE_NS_EXPORTER);

/**
 * dte_buffer_move - move a buffer to new pages
 * @dmabuf: a buffer of this exporter
 * @flags: %DTE_MOVE_WAIT to return only after the move's fence signalled
 *
 * Under the reservation lock: importers get move_notify and user mappings
 * are zapped, new pages become current (restoring an evicted buffer), and
 * a KERNEL fence for the copy into them goes into the reservation object.
 * The copy itself runs asynchronously, once the fences that were in the
 * reservation object have signalled. While dte_buffer_fail_maps() is
 * armed, the move takes one of its count and its fence signals with the
 * armed error, after the copy all the same.
 *
 * Return: 0; -EINVAL for a foreign dma-buf or unknown flags, -ENODEV if
 * revoked, -EBUSY if pinned, or vmapped by an importer that kept its vmap
 * across move_notify, -ENOMEM, -EINTR if interrupted (with %DTE_MOVE_WAIT
 * the move has then been done), or with %DTE_MOVE_WAIT: -ETIMEDOUT if the
 * fence did not signal within twice the largest fence delay, or the error
 * of the fence, the move being done: the copy's (see
 * dte_wait_resident_locked()) or the one dte_buffer_fail_maps() armed.
 */
int dte_buffer_move(struct dma_buf *dmabuf, u32 flags)
{
	struct dte_buffer *buf = dte_buffer_of(dmabuf);
	struct dma_fence *fence = NULL;
	int fail_error;
	long ret;

	if (!buf || (flags & ~DTE_MOVE_WAIT))
		return -EINVAL;

	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		return ret;
	if (buf->revoked) {
		ret = -ENODEV;
	} else if (buf->pins) {
		ret = -EBUSY;
	} else {
		/*
		 * Users first: once importers have dropped their mappings
		 * (their copies in flight done) and user PTEs are gone,
		 * nothing writes the old pages, and only then may the copy
		 * read them. Copying first loses writes that land meanwhile.
		 * Should the migration then fail, users just refault into
		 * the pages they had.
		 */
		fail_error = buf->fail_maps ? buf->fail_error : 0;
		ret = dte_invalidate_locked(buf);
		if (!ret)
			ret = dte_migrate_locked(buf, fail_error, &fence);
		if (!ret) {
			buf->moves++;
			if (fail_error) {
				buf->fail_maps--;
				buf->injected_map_failures++;
			}
		}
	}
	dma_resv_unlock(dmabuf->resv);

	if (!ret && (flags & DTE_MOVE_WAIT)) {
		ret = dma_fence_wait_timeout(fence, true,
					     2 * usecs_to_jiffies(DTE_MAX_FENCE_DELAY_US));
		/* Not -ERESTARTSYS: a restarted ioctl would move again. */
		if (ret < 0)
			ret = -EINTR;
		else if (!ret)
			ret = -ETIMEDOUT;
		else
			ret = min(dma_fence_get_status(fence), 0);
	}
	dma_fence_put(fence);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(dte_buffer_move, DTE_NS_EXPORTER);

/**
 * dte_buffer_evict - evict a buffer
 * @dmabuf: a buffer of this exporter
 *
 * Importers get move_notify and user mappings are zapped; the contents are
 * kept aside and restored into new pages by the next map, vmap, pin or page
 * fault. Once the fences that were in the reservation object have
 * signalled, a job checksums the saved copy; the restore checks the sum.
 * Evicting an evicted buffer does nothing.
 *
 * Return: 0; -EINVAL for a foreign dma-buf, -ENODEV if revoked, -EBUSY if
 * pinned, or vmapped by an importer that kept its vmap across move_notify,
 * -ENOMEM, or -EINTR if interrupted.
 */
int dte_buffer_evict(struct dma_buf *dmabuf)
{
	struct dte_buffer *buf = dte_buffer_of(dmabuf);
	int ret;

	if (!buf)
		return -EINVAL;

	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		return ret;
	if (buf->revoked) {
		ret = -ENODEV;
	} else if (buf->pins) {
		ret = -EBUSY;
	} else if (!buf->evicted) {
		ret = dte_invalidate_locked(buf);
		if (!ret)
			ret = dte_seal_locked(buf, buf->cur);
		if (!ret) {
			buf->saved = buf->cur;
			buf->cur = NULL;
			buf->evicted = true;
			buf->evictions++;
			buf->generation++;
		}
	}
	dma_resv_unlock(dmabuf->resv);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(dte_buffer_evict, DTE_NS_EXPORTER);

/**
 * dte_buffer_revoke - revoke a buffer for good
 * @dmabuf: a buffer of this exporter
 *
 * Importers get move_notify and user mappings are zapped; from then on maps
 * and vmaps fail with -ENODEV and page faults raise SIGBUS. The KERNEL
 * fence of the reservation object becomes one that has signalled with
 * -ENODEV, so that an importer that checks the fences before it vmaps (a
 * CPU importer: the dma-buf core WARNs when a vmap fails) knows without
 * trying. Mappings made before stay valid memory until dropped. Works on
 * pinned buffers too, as a device unplug would; revoking a revoked buffer
 * does nothing.
 *
 * Return: 0, -EINVAL for a foreign dma-buf, -ENOMEM with nothing changed,
 * or -EINTR if interrupted.
 */
int dte_buffer_revoke(struct dma_buf *dmabuf)
{
	struct dte_buffer *buf = dte_buffer_of(dmabuf);
	struct dma_fence *fence;
	int ret;

	if (!buf)
		return -EINVAL;

	fence = dte_fence_alloc();
	if (!fence)
		return -ENOMEM;
	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		goto out;
	if (!buf->revoked) {
		ret = dma_resv_reserve_fences(dmabuf->resv, 1);
		if (ret)
			goto unlock;
		buf->revoked = true;
		/* As an unplug would: a vmap kept is the importer's problem. */
		dte_invalidate_locked(buf);
		dte_backing_put(buf->cur);
		dte_backing_put(buf->saved);
		buf->cur = NULL;
		buf->saved = NULL;
		dte_fence_fail_locked(buf, fence, -ENODEV);
		fence = NULL;
	}
unlock:
	dma_resv_unlock(dmabuf->resv);
out:
	kfree(fence);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(dte_buffer_revoke, DTE_NS_EXPORTER);

/**
 * dte_buffer_fail_maps - make the next maps and moves fail
 * @dmabuf: a buffer of this exporter
 * @count: how many; 0 disarms
 * @error: the negative errno they fail with, -4095 to -1
 *
 * Each map_dma_buf call and each move (dte_buffer_move(), also of an
 * evicted buffer) takes one of @count until it is used up, and fails:
 *
 *  - a map_dma_buf call, a DMA importer's map, returns @error;
 *  - a move is done all the same, its copy included, but the fence it
 *    leaves in the reservation object as its KERNEL fence signals with
 *    @error once the copy is done. That is how a CPU importer, which never
 *    maps the attachment and checks the KERNEL fences' errors before it
 *    vmaps, meets a failure of the exporter. The next move that succeeds
 *    replaces that fence, and the buffer serves again. Importers that do
 *    not check fence errors, user mappings, pins and vmaps see the moved
 *    contents, as the failure is in the fence alone.
 *
 * The restore of an evicted buffer on behalf of a map, pin, vmap or page
 * fault takes none: its caller uses the pages at once, and a vmap that
 * fails makes the dma-buf core WARN. Each failure counts in
 * &dte_stats.injected_map_failures. Replaces any earlier setting.
 *
 * Return: 0; -EINVAL for a foreign dma-buf or a bad @error, -ENODEV if
 * revoked, or -EINTR if interrupted.
 */
int dte_buffer_fail_maps(struct dma_buf *dmabuf, u32 count, int error)
{
	struct dte_buffer *buf = dte_buffer_of(dmabuf);
	int ret;

	if (!buf || error >= 0 || error < -MAX_ERRNO)
		return -EINVAL;

	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		return ret;
	if (buf->revoked) {
		ret = -ENODEV;
	} else {
		buf->fail_maps = count;
		buf->fail_error = error;
	}
	dma_resv_unlock(dmabuf->resv);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(dte_buffer_fail_maps, DTE_NS_EXPORTER);

/**
 * dte_buffer_set_fence_delay - delay the copy fences of later moves
 * @dmabuf: a buffer of this exporter
 * @delay_us: microseconds between the end of a copy and its fence
 *	signalling, at most %DTE_MAX_FENCE_DELAY_US; applies to moves and
 *	restores started afterwards
 *
 * Return: 0; -EINVAL for a foreign dma-buf or a delay that is too long, or
 * -EINTR if interrupted.
 */
int dte_buffer_set_fence_delay(struct dma_buf *dmabuf, u32 delay_us)
{
	struct dte_buffer *buf = dte_buffer_of(dmabuf);
	int ret;

	if (!buf || delay_us > DTE_MAX_FENCE_DELAY_US)
		return -EINVAL;

	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		return ret;
	buf->delay_us = delay_us;
	dma_resv_unlock(dmabuf->resv);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(dte_buffer_set_fence_delay, DTE_NS_EXPORTER);

/**
 * dte_buffer_get_stats - read a buffer's counters
 * @dmabuf: a buffer of this exporter
 * @stats: filled in, except for @stats->fd and @stats->pad
 *
 * Return: 0, -EINVAL for a foreign dma-buf, or -EINTR if interrupted.
 */
int dte_buffer_get_stats(struct dma_buf *dmabuf, struct dte_stats *stats)
{
	struct dte_buffer *buf = dte_buffer_of(dmabuf);
	int ret;

	if (!buf)
		return -EINVAL;

	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		return ret;
	stats->attachments = buf->attachments;
	stats->dynamic_attachments = buf->dynamic_attachments;
	stats->maps = buf->maps;
	stats->unmaps = buf->unmaps;
	stats->vmaps = buf->vmaps;
	stats->vunmaps = buf->vunmaps;
	stats->pins = buf->pins;
	stats->moves = buf->moves;
	stats->evictions = buf->evictions;
	stats->injected_map_failures = buf->injected_map_failures;
	stats->nr_pages = buf->cur ? buf->cur->nr_pages : 0;
	stats->generation = buf->generation;
	stats->revoked = buf->revoked;
	stats->evicted = buf->evicted;
	dma_resv_unlock(dmabuf->resv);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(dte_buffer_get_stats, DTE_NS_EXPORTER);

/**
 * dte_buffer_corrupt_saved - change a byte of an evicted buffer's saved copy
 * @dmabuf: a buffer of this exporter
 * @offset: of the byte, less than the buffer's size
 *
 * For tests of the exporter itself: waits until the eviction is done with
 * the saved copy, then inverts one byte of it behind the exporter's back,
 * as a stray or lost write would.
 *
 * Return: 0; -EINVAL for a foreign dma-buf, a buffer that is not evicted or
 * an offset out of range, -ENODEV if revoked, or -EINTR if interrupted.
 */
int dte_buffer_corrupt_saved(struct dma_buf *dmabuf, u64 offset)
{
	struct dte_buffer *buf = dte_buffer_of(dmabuf);
	struct dte_backing *saved;
	u8 *vaddr;
	int ret;

	if (!buf || offset >= dmabuf->size)
		return -EINVAL;

	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		return ret;
	saved = buf->saved;
	if (buf->revoked)
		ret = -ENODEV;
	else if (!buf->evicted)
		ret = -EINVAL;
	else if (saved->fence)
		ret = dte_fence_wait_killable(saved->fence);
	if (!ret) {
		vaddr = kmap_local_page(saved->pages[offset >> PAGE_SHIFT]);
		vaddr[offset & ~PAGE_MASK] ^= 0xff;
		kunmap_local(vaddr);
	}
	dma_resv_unlock(dmabuf->resv);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(dte_buffer_corrupt_saved, DTE_NS_EXPORTER);
