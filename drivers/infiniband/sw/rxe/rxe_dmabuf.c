// SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB
/*
 * Dynamic dma-buf memory regions for rxe.
 *
 * rxe moves data with the CPU: it is a CPU importer. It reaches a dma-buf
 * only through dma_buf_vmap() and struct iosys_map: never through struct
 * page, never through a DMA address, and it never maps the attachment for
 * DMA. A DMA mapping for a device that does no DMA is not free: with bounce
 * buffering (swiotlb=force, confidential guests) its unmap copies the stale
 * bounce buffer back over what rxe wrote through the vmap, and on
 * non-coherent platforms it invalidates cache lines rxe dirtied.
 *
 * The attachment tells the exporter who uses the buffer. To an exporter that
 * can move its buffer (one with a pin op) rxe attaches dynamically, so the
 * exporter may move it at any time: move_notify() drops the MR's vmap and
 * the next access maps the buffer again (a "refault"). To one that cannot,
 * rxe attaches statically: there is nothing to invalidate. The dma-buf core
 * DMA-maps an attachment at attach time only when importer and exporter
 * differ in this, so neither kind is ever mapped. The attachment is made
 * with the ib_device's own struct device, the device that represents rxe;
 * an exporter that refuses such an importer fails the registration cleanly.
 * As nothing is ever mapped, the dma-buf core never pins the buffer for rxe
 * either, with or without CONFIG_DMABUF_MOVE_NOTIFY (it pins a dynamic
 * exporter's buffer in dma_buf_map_attachment() only).
 *
 * A refault waits for the exporter's KERNEL fences and fails if one of them
 * signalled an error (a move that failed, a revoked buffer): the dma-buf
 * core WARNs when an exporter's vmap fails, so rxe asks for a vmap only of
 * a buffer whose last move succeeded.
 *
 * The limit of that guarantee: an exporter may pin a buffer for as long as
 * it is vmapped (the DRM VRAM helpers and many GPU drivers do). With such
 * an exporter the buffer stays put from rxe's first access until the next
 * move_notify() or the MR's deregistration, as with any vmap user.
 *
 * CPU-access brackets: dma_buf_begin_cpu_access() and
 * dma_buf_end_cpu_access() are not called. They may not be called with
 * the resv lock held, which move_notify() and the refault hold, so they
 * cannot bracket the life of a mapping; and the exporters of this kernel
 * act on the whole buffer in them (udmabuf syncs its entire sg_table, the
 * system heap invalidates its entire vmap range and syncs every mapped
 * attachment), while waiting for implicit fences without a bound, so
 * bracketing each packet's copy would cost the buffer's size per packet
 * and could hang the QP. Copies through the vmap are therefore coherent
 * with other CPU users of the buffer, and with devices only where DMA is
 * cache-coherent (x86 and most servers); exporters order their own moves
 * with KERNEL fences, which every refault waits for.
 *
 * Locking, outermost first: the buffer's dma_resv lock, then the MR's
 * map_sem.
 *
 *  - The mapping is created and destroyed only with the resv lock held,
 *    and published or retracted with map_sem held for write.
 *  - A copy holds map_sem for read while it uses the mapping. Copies on one
 *    MR run concurrently; move_notify() waits only for the copies in flight
 *    on the MR it invalidates; nothing is serialised across MRs.
 *  - A copy that finds no mapping takes the resv lock, maps, and copies
 *    before unlocking, so a buffer that keeps moving cannot starve it.
 */

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/iosys-map.h>
#include <kunit/visibility.h>

#include "rxe.h"
#include "rxe_loc.h"

#define CREATE_TRACE_POINTS
#include "rxe_trace.h"

/*
 * The exporter signals a KERNEL fence when a move has finished copying.
 * Waiting longer than this turns into an error completion, not a hang.
 */
#define RXE_DMABUF_FENCE_TIMEOUT_MS	5000

MODULE_IMPORT_NS(DMA_BUF);

struct rxe_mr_dmabuf {
	struct rxe_mr			*mr;
	struct dma_buf_attachment	*attach;
	/* Offset of the MR's first byte in the dma-buf. */
	u64				offset;
	struct rw_semaphore		map_sem;
	/* Changed under resv and map_sem (write); read under either. */
	bool				mapped;
	/* Mapped at least once: the next map is a refault. Under resv. */
	bool				was_mapped;
	struct iosys_map		map;
};

/**
 * rxe_dmabuf_check_range() - validate a dma-buf MR's placement
 * @offset: offset of the MR in the dma-buf
 * @length: length of the MR
 * @iova: I/O virtual address the MR is registered at
 * @size: size of the dma-buf
 *
 * The uverbs core has already checked that @offset and @iova share their
 * offset into a page.
 *
 * Return: 0, or -EINVAL when the MR is empty, does not fit in the buffer or
 * its address range wraps.
 */
VISIBLE_IF_KUNIT int rxe_dmabuf_check_range(u64 offset, u64 length, u64 iova,
					    size_t size)
{
	u64 end;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(offset, length, &end) || end > size)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &end))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(rxe_dmabuf_check_range);

enum rxe_dmabuf_unmapped {
	RXE_DMABUF_NOT_MAPPED,
	RXE_DMABUF_UNMAPPED,
	/* ... after waiting for a copy in flight. */
	RXE_DMABUF_UNMAPPED_AFTER_COPY,
};

/*
 * Drop the MR's mapping of @dmabuf; copies in flight on this MR finish
 * first. The buffer is the caller's, not d->attach's: move_notify() can
 * come as soon as dma_buf_dynamic_attach() has listed the attachment,
 * before rxe_mr_init_dmabuf() has stored it in d->attach.
 */
static enum rxe_dmabuf_unmapped rxe_dmabuf_unmap(struct rxe_mr_dmabuf *d,
						 struct dma_buf *dmabuf)
{
	enum rxe_dmabuf_unmapped ret = RXE_DMABUF_UNMAPPED;

	dma_resv_assert_held(dmabuf->resv);

	if (!d->mapped)
		return RXE_DMABUF_NOT_MAPPED;

	if (!down_write_trylock(&d->map_sem)) {
		ret = RXE_DMABUF_UNMAPPED_AFTER_COPY;
		down_write(&d->map_sem);
	}
	d->mapped = false;
	up_write(&d->map_sem);

	dma_buf_vunmap(dmabuf, &d->map);
	iosys_map_clear(&d->map);
	return ret;
}

/*
 * Counted are the invalidations that dropped a mapping, and among them
 * those that had to wait for a copy: a move_notify() of a buffer rxe has
 * not mapped since the last one costs nothing.
 */
static void rxe_dmabuf_move_notify(struct dma_buf_attachment *attach)
{
	struct rxe_mr_dmabuf *d = attach->importer_priv;
	enum rxe_dmabuf_unmapped unmapped;
	u64 start = ktime_get_ns();
	struct rxe_dev *rxe;
	struct rxe_mr *mr;

	dma_resv_assert_held(attach->dmabuf->resv);

	/* Cleared by rxe_mr_dmabuf_release() before it detaches. */
	if (!d)
		return;

	mr = d->mr;
	rxe = to_rdev(mr->ibmr.device);
	unmapped = rxe_dmabuf_unmap(d, attach->dmabuf);
	if (unmapped == RXE_DMABUF_NOT_MAPPED)
		return;
	rxe_counter_inc(rxe, RXE_CNT_DMABUF_INVALIDATIONS);
	if (unmapped == RXE_DMABUF_UNMAPPED_AFTER_COPY)
		rxe_counter_inc(rxe, RXE_CNT_DMABUF_INVALIDATE_WAITS);
	trace_rxe_dmabuf_invalidate(mr->lkey, mr->ibmr.length,
				    ktime_get_ns() - start, 0);
}

static const struct dma_buf_attach_ops rxe_dmabuf_attach_ops = {
	/* A CPU copy engine cannot reach peer MMIO through the bus. */
	.allow_peer2peer = false,
	.move_notify = rxe_dmabuf_move_notify,
};

/*
 * A move that failed signals its fence with an error: the buffer holds
 * nothing usable then, and rxe must not vmap it (the dma-buf core takes a
 * failed vmap for an exporter bug and WARNs). The caller has waited for
 * the fences.
 */
static int rxe_dmabuf_move_error(struct dma_resv *resv)
{
	struct dma_resv_iter cursor;
	struct dma_fence *fence;
	int status;

	dma_resv_assert_held(resv);

	dma_resv_for_each_fence(&cursor, resv, DMA_RESV_USAGE_KERNEL, fence) {
		status = dma_fence_get_status(fence);
		if (status < 0)
			return status;
	}
	return 0;
}

/*
 * Map the buffer for CPU access: wait for the exporter's move to finish,
 * check that it succeeded, then vmap.
 */
static int rxe_dmabuf_map(struct rxe_mr_dmabuf *d)
{
	struct dma_buf *dmabuf = d->attach->dmabuf;
	u64 start = ktime_get_ns(), fenced, vmapped = 0;
	struct rxe_mr *mr = d->mr;
	struct iosys_map map;
	long remain;
	int err;

	dma_resv_assert_held(dmabuf->resv);

	remain = dma_resv_wait_timeout(dmabuf->resv, DMA_RESV_USAGE_KERNEL,
				       false,
				       msecs_to_jiffies(RXE_DMABUF_FENCE_TIMEOUT_MS));
	fenced = ktime_get_ns();
	if (remain <= 0) {
		err = remain ? remain : -ETIMEDOUT;
		goto out;
	}
	err = rxe_dmabuf_move_error(dmabuf->resv);
	if (err)
		goto out;

	err = dma_buf_vmap(dmabuf, &map);
	vmapped = ktime_get_ns();
	if (err)
		goto out;

	down_write(&d->map_sem);
	d->map = map;
	d->mapped = true;
	up_write(&d->map_sem);
out:
	/* The first map of an MR is its lazy registration, not a refault. */
	if (err)
		rxe_counter_inc(to_rdev(mr->ibmr.device),
				RXE_CNT_DMABUF_REFAULT_ERRORS);
	else if (d->was_mapped)
		rxe_counter_inc(to_rdev(mr->ibmr.device),
				RXE_CNT_DMABUF_REFAULTS);
	d->was_mapped |= !err;
	trace_rxe_dmabuf_refault(mr->lkey, mr->ibmr.length,
				 ktime_get_ns() - start,
				 fenced - start,
				 vmapped ? vmapped - fenced : 0, err);
	return err;
}

typedef int (*rxe_dmabuf_access_fn)(struct iosys_map *map, size_t offset,
				    void *arg);

/*
 * Run @fn on a valid CPU mapping of @mr at @iova, refaulting first if the
 * exporter moved the buffer. The caller has checked the range.
 */
static int rxe_dmabuf_access(struct rxe_mr *mr, u64 iova,
			     rxe_dmabuf_access_fn fn, void *arg)
{
	struct rxe_mr_dmabuf *d = mr->dmabuf;
	size_t offset = d->offset + (iova - mr->ibmr.iova);
	struct dma_resv *resv = d->attach->dmabuf->resv;
	int err = 0;

	down_read(&d->map_sem);
	if (likely(d->mapped)) {
		err = fn(&d->map, offset, arg);
		up_read(&d->map_sem);
		return err;
	}
	up_read(&d->map_sem);

	dma_resv_lock(resv, NULL);
	if (!d->mapped)
		err = rxe_dmabuf_map(d);
	if (!err)
		err = fn(&d->map, offset, arg);
	dma_resv_unlock(resv);

	return err;
}

struct rxe_dmabuf_copy {
	void			*addr;
	unsigned int		length;
	enum rxe_mr_copy_dir	dir;
};

static int rxe_dmabuf_copy_fn(struct iosys_map *map, size_t offset, void *arg)
{
	struct rxe_dmabuf_copy *c = arg;

	if (c->dir == RXE_TO_MR_OBJ)
		iosys_map_memcpy_to(map, offset, c->addr, c->length);
	else
		iosys_map_memcpy_from(c->addr, map, offset, c->length);
	return 0;
}

/**
 * rxe_dmabuf_mr_copy() - copy between a dma-buf MR and a kernel buffer
 * @mr: the dma-buf MR, range already checked
 * @iova: first byte in the MR
 * @addr: kernel buffer
 * @length: bytes to copy
 * @dir: RXE_TO_MR_OBJ or RXE_FROM_MR_OBJ
 *
 * Return: 0, or -EFAULT when the buffer cannot be mapped (revoked, map
 * failure, fence timeout: the refault tracepoint says which), which the
 * requester reports as a local protection error and the responder as a
 * remote access error.
 */
int rxe_dmabuf_mr_copy(struct rxe_mr *mr, u64 iova, void *addr,
		       unsigned int length, enum rxe_mr_copy_dir dir)
{
	struct rxe_dmabuf_copy c = {
		.addr = addr,
		.length = length,
		.dir = dir,
	};

	return rxe_dmabuf_access(mr, iova, rxe_dmabuf_copy_fn, &c) ? -EFAULT : 0;
}

struct rxe_dmabuf_atomic {
	int	opcode;
	u64	compare;
	u64	swap_add;
	u64	orig;
	int	status;
};

/*
 * Atomics need plain CPU memory: on I/O memory they could not be made
 * atomic against the device's other users, so they get a remote access
 * error.
 */
static u64 *rxe_dmabuf_atomic_va(struct iosys_map *map, size_t offset,
				 int *status)
{
	if (map->is_iomem) {
		*status = RESPST_ERR_RKEY_VIOLATION;
		return NULL;
	}
	if (offset & 7) {
		*status = RESPST_ERR_MISALIGNED_ATOMIC;
		return NULL;
	}
	*status = 0;
	return map->vaddr + offset;
}

static int rxe_dmabuf_atomic_fn(struct iosys_map *map, size_t offset,
				void *arg)
{
	struct rxe_dmabuf_atomic *a = arg;
	u64 *va = rxe_dmabuf_atomic_va(map, offset, &a->status);

	if (va)
		a->orig = rxe_atomic_op_va(va, a->opcode, a->compare,
					   a->swap_add);
	return 0;
}

/**
 * rxe_dmabuf_do_atomic_op() - CMP_SWP or FETCH_ADD on a dma-buf MR
 * @mr: the dma-buf MR, range already checked
 * @iova: address of the 64-bit operand
 * @opcode: IB_OPCODE_RC_COMPARE_SWAP or IB_OPCODE_RC_FETCH_ADD
 * @compare: compare value of CMP_SWP
 * @swap_add: swap or add value
 * @orig_val: the operand's value before the operation
 *
 * Return: 0 or an enum resp_states error, as rxe_mr_do_atomic_op().
 */
int rxe_dmabuf_do_atomic_op(struct rxe_mr *mr, u64 iova, int opcode,
			    u64 compare, u64 swap_add, u64 *orig_val)
{
	struct rxe_dmabuf_atomic a = {
		.opcode = opcode,
		.compare = compare,
		.swap_add = swap_add,
	};

	if (rxe_dmabuf_access(mr, iova, rxe_dmabuf_atomic_fn, &a))
		return RESPST_ERR_RKEY_VIOLATION;
	if (!a.status)
		*orig_val = a.orig;
	return a.status;
}

static int rxe_dmabuf_atomic_write_fn(struct iosys_map *map, size_t offset,
				      void *arg)
{
	struct rxe_dmabuf_atomic *a = arg;
	u64 *va = rxe_dmabuf_atomic_va(map, offset, &a->status);

	if (va)
		/* Visible only after all prior writes to the MR, IBA A19.4.2 */
		smp_store_release(va, a->swap_add);
	return 0;
}

/**
 * rxe_dmabuf_do_atomic_write() - ATOMIC_WRITE on a dma-buf MR
 * @mr: the dma-buf MR, range already checked
 * @iova: address of the 64-bit operand
 * @value: value to store
 *
 * Return: 0 or an enum resp_states error, as rxe_mr_do_atomic_write().
 */
int rxe_dmabuf_do_atomic_write(struct rxe_mr *mr, u64 iova, u64 value)
{
	struct rxe_dmabuf_atomic a = { .swap_add = value };

	if (rxe_dmabuf_access(mr, iova, rxe_dmabuf_atomic_write_fn, &a))
		return RESPST_ERR_RKEY_VIOLATION;
	return a.status;
}

/**
 * rxe_mr_init_dmabuf() - register a dma-buf MR without mapping it
 * @rxe: the device; its ib_device is the importer
 * @offset: offset of the MR in the dma-buf
 * @length: length of the MR
 * @iova: I/O virtual address of the MR
 * @fd: the dma-buf file descriptor; it may be closed once this returns
 * @access: IB access flags
 * @mr: the MR to initialise
 *
 * The buffer is attached dynamically and mapped on first access, so
 * registration costs the same for any buffer size.
 *
 * Return: 0, -EBADF for a closed fd, -EINVAL for an fd that is not a
 * dma-buf or a range that does not fit, or another negative errno.
 */
int rxe_mr_init_dmabuf(struct rxe_dev *rxe, u64 offset, u64 length, u64 iova,
		       int fd, int access, struct rxe_mr *mr)
{
	struct dma_buf_attachment *attach;
	struct rxe_mr_dmabuf *d;
	struct dma_buf *dmabuf;
	int err;

	rxe_mr_init(access, mr);

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	err = rxe_dmabuf_check_range(offset, length, iova, dmabuf->size);
	if (err)
		goto err_put;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d) {
		err = -ENOMEM;
		goto err_put;
	}
	d->mr = mr;
	d->offset = offset;
	init_rwsem(&d->map_sem);

	/*
	 * Attach the way the exporter is: dynamically to one that can move
	 * its buffer, which then invalidates rxe's mapping through
	 * move_notify(); statically to one that cannot, which has nothing to
	 * invalidate. The dma-buf core maps an attachment for DMA when the
	 * two differ, and never otherwise: rxe, which does no DMA, never gets
	 * a DMA mapping of a buffer.
	 */
	if (dma_buf_is_dynamic(dmabuf))
		attach = dma_buf_dynamic_attach(dmabuf, &rxe->ib_dev.dev,
						&rxe_dmabuf_attach_ops, d);
	else
		attach = dma_buf_attach(dmabuf, &rxe->ib_dev.dev);
	if (IS_ERR(attach)) {
		err = PTR_ERR(attach);
		goto err_free;
	}
	d->attach = attach;

	mr->dmabuf = d;
	mr->ibmr.type = IB_MR_TYPE_USER;
	mr->ibmr.iova = iova;
	mr->ibmr.length = length;
	mr->state = RXE_MR_STATE_VALID;
	return 0;

err_free:
	kfree(d);
err_put:
	dma_buf_put(dmabuf);
	return err;
}

/**
 * rxe_mr_dmabuf_release() - detach a dma-buf MR from its buffer
 * @mr: the MR; no copy can be in flight on it any more
 *
 * The importer's private pointer is cleared under the resv lock before
 * detaching, so a move_notify() that races with this is a no-op.
 */
void rxe_mr_dmabuf_release(struct rxe_mr *mr)
{
	struct rxe_mr_dmabuf *d = mr->dmabuf;
	struct dma_buf *dmabuf = d->attach->dmabuf;

	dma_resv_lock(dmabuf->resv, NULL);
	d->attach->importer_priv = NULL;
	rxe_dmabuf_unmap(d, dmabuf);
	dma_resv_unlock(dmabuf->resv);

	dma_buf_detach(dmabuf, d->attach);
	dma_buf_put(dmabuf);
	kfree(d);
	mr->dmabuf = NULL;
}
