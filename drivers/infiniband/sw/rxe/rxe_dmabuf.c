// SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB
/*
 * Dynamic dma-buf memory regions for rxe.
 *
 * rxe moves data with the CPU, so it reaches a dma-buf only through
 * dma_buf_vmap() and struct iosys_map: never through struct page, never
 * through a DMA address. It attaches dynamically and never pins: when the
 * exporter moves the buffer, move_notify() drops the MR's mapping and the
 * next access maps the buffer again (a "refault").
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
#include <linux/platform_device.h>
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
	struct iosys_map		map;
	/* Changed and read under resv only. */
	struct sg_table			*sgt;
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

/* Drop the MR's mapping; copies in flight on this MR finish first. */
static void rxe_dmabuf_unmap(struct rxe_mr_dmabuf *d)
{
	struct dma_buf *dmabuf = d->attach->dmabuf;

	dma_resv_assert_held(dmabuf->resv);

	if (!d->mapped)
		return;

	down_write(&d->map_sem);
	d->mapped = false;
	up_write(&d->map_sem);

	dma_buf_vunmap(dmabuf, &d->map);
	iosys_map_clear(&d->map);
	dma_buf_unmap_attachment(d->attach, d->sgt, DMA_BIDIRECTIONAL);
	d->sgt = NULL;
}

static void rxe_dmabuf_move_notify(struct dma_buf_attachment *attach)
{
	struct rxe_mr_dmabuf *d = attach->importer_priv;
	u64 start = ktime_get_ns();
	struct rxe_mr *mr;

	dma_resv_assert_held(attach->dmabuf->resv);

	/* Cleared by rxe_mr_dmabuf_release() before it detaches. */
	if (!d)
		return;

	mr = d->mr;
	rxe_dmabuf_unmap(d);
	rxe_counter_inc(to_rdev(mr->ibmr.device), RXE_CNT_DMABUF_INVALIDATIONS);
	trace_rxe_dmabuf_invalidate(mr->lkey, mr->ibmr.length,
				    ktime_get_ns() - start, 0);
}

static const struct dma_buf_attach_ops rxe_dmabuf_attach_ops = {
	/* A CPU copy engine cannot reach peer MMIO through the bus. */
	.allow_peer2peer = false,
	.move_notify = rxe_dmabuf_move_notify,
};

/*
 * Map the buffer for CPU access: map the attachment, so the exporter knows
 * the buffer is in use, wait for its move to finish, then vmap.
 */
static int rxe_dmabuf_map(struct rxe_mr_dmabuf *d)
{
	struct dma_buf *dmabuf = d->attach->dmabuf;
	struct rxe_mr *mr = d->mr;
	u64 start = ktime_get_ns();
	struct iosys_map map;
	struct sg_table *sgt;
	long remain;
	int err;

	dma_resv_assert_held(dmabuf->resv);

	sgt = dma_buf_map_attachment(d->attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		err = PTR_ERR(sgt);
		goto out;
	}

	remain = dma_resv_wait_timeout(dmabuf->resv, DMA_RESV_USAGE_KERNEL,
				       false,
				       msecs_to_jiffies(RXE_DMABUF_FENCE_TIMEOUT_MS));
	if (remain <= 0) {
		err = remain ? remain : -ETIMEDOUT;
		goto err_unmap;
	}

	err = dma_buf_vmap(dmabuf, &map);
	if (err)
		goto err_unmap;

	d->sgt = sgt;
	down_write(&d->map_sem);
	d->map = map;
	d->mapped = true;
	up_write(&d->map_sem);
	goto out;

err_unmap:
	dma_buf_unmap_attachment(d->attach, sgt, DMA_BIDIRECTIONAL);
out:
	rxe_counter_inc(to_rdev(mr->ibmr.device), err ? RXE_CNT_DMABUF_REFAULT_ERRORS :
					  RXE_CNT_DMABUF_REFAULTS);
	trace_rxe_dmabuf_refault(mr->lkey, mr->ibmr.length,
				 ktime_get_ns() - start, err);
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
 * @rxe: the device; its dma_dev is the importing device
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

	attach = dma_buf_dynamic_attach(dmabuf, &rxe->dma_dev->dev,
					&rxe_dmabuf_attach_ops, d);
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
	rxe_dmabuf_unmap(d);
	dma_resv_unlock(dmabuf->resv);

	dma_buf_detach(dmabuf, d->attach);
	dma_buf_put(dmabuf);
	kfree(d);
	mr->dmabuf = NULL;
}

/**
 * rxe_dma_device_add() - create the device rxe attaches dma-bufs with
 * @rxe: the rxe device
 *
 * rxe registers with the RDMA core without a DMA device, since it moves
 * data with the CPU. dma-buf exporters, however, map buffers for a real
 * DMA-capable device. This one has a 64-bit mask and no IOMMU: the
 * mappings it gets are valid and never dereferenced.
 *
 * Return: 0 or a negative errno.
 */
int rxe_dma_device_add(struct rxe_dev *rxe)
{
	struct platform_device_info info = {
		.name = "rxe_dma",
		.id = PLATFORM_DEVID_AUTO,
		.dma_mask = DMA_BIT_MASK(64),
	};
	struct platform_device *pdev;

	pdev = platform_device_register_full(&info);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	rxe->dma_dev = pdev;
	return 0;
}

void rxe_dma_device_del(struct rxe_dev *rxe)
{
	platform_device_unregister(rxe->dma_dev);
	rxe->dma_dev = NULL;
}
