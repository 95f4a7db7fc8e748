// SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB
/*
 * On-demand paging for rxe user MRs, explicit and implicit.
 *
 * An ODP MR pins nothing. Its pages are found with hmm_range_fault() on
 * first access and dropped again when the kernel invalidates the range
 * (munmap, madvise, migration, COW after fork, swap). rxe is a virtual
 * DMA device, so the "DMA address" ib_umem_odp keeps for each page is
 * the page's kernel virtual address, tagged with its access rights.
 *
 * A copy must never race an invalidation: once the invalidation returns,
 * the page may be freed. Locking, outermost first: the umem's walk_lock
 * (one mapping walk at a time), umem_mutex, then the umem's copy_sem.
 *
 *  - Copies only ever try for copy_sem, for read: with it they check that
 *    the pages they need are mapped, copy and release it. Copies on one
 *    umem thus run concurrently and never wait for each other.
 *  - An invalidation takes umem_mutex, then copy_sem for write, which
 *    waits for the copies in flight, and unmaps. The rwsem's release and
 *    acquire order the unmap before any later copy's look at dma_list.
 *  - A copy that cannot get copy_sem (an invalidation holds or wants it)
 *    or finds a page missing maps under umem_mutex and copies before
 *    unlocking, so it always makes progress.
 *  - umem->private is set under umem_mutex once the umem is ready; an
 *    invalidation that runs earlier (the notifier is live as soon as the
 *    umem exists) finds it NULL and nothing mapped.
 *
 * An implicit MR (start 0, length U64_MAX) covers the whole address space;
 * it is backed by children of RXE_ODP_CHILD_SIZE bytes, created on first
 * access to a readable mapped address. An access to an address with no
 * readable VMA creates nothing, so a peer probing addresses makes the
 * kernel allocate only for memory the process has mapped readable. A child
 * whose range the process unmaps is freed again by a work item, so what
 * children hold follows what the process maps now, not all it ever mapped.
 * The children_sem of the MR keeps a child alive while it is in use:
 * taken for read around each lookup and use of one child, for write only
 * to take a child out of the MR. It nests outside umem_mutex and
 * mmap_lock. The notifier never takes it: it can run from reclaim, under
 * any allocation, a holder's of children_sem included.
 */

#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/sched/mm.h>
#include <linux/xarray.h>
#include <kunit/visibility.h>
#include <rdma/ib_umem_odp.h>

#include "rxe.h"
#include "rxe_loc.h"

#define CREATE_TRACE_POINTS
#include "rxe_odp_trace.h"

/* Address space covered by one child of an implicit MR. */
#define RXE_ODP_CHILD_SHIFT	21
#define RXE_ODP_CHILD_SIZE	BIT_ULL(RXE_ODP_CHILD_SHIFT)

/*
 * Bytes past a miss that are mapped along with it, as far as the CPU has
 * them mapped already. A copy moves one packet, so without this a message
 * into memory rxe has not mapped yet misses on every packet, where a NIC
 * faults the message in once. 64 pages: where the CPU has no pages there,
 * the extra walk is small beside the fault it follows.
 */
#define RXE_ODP_MAP_AHEAD	SZ_256K

struct rxe_mr_odp;

/* A umem's private data. */
struct rxe_odp_gate {
	/* Read: a copy using the pages. Write: an invalidation unmapping. */
	struct rw_semaphore	copy_sem;
	/*
	 * One mapping walk at a time: ib_umem_odp_map_dma_and_lock() has
	 * hmm_range_fault() fill the umem's pfn_list, shared by every
	 * caller, under mmap_lock only, and reads it back under umem_mutex.
	 * Two walks over one page could store a stale snapshot over a fresh
	 * one, and the unmap would then dirty the wrong page.
	 */
	struct mutex		walk_lock;
	/* A child's implicit MR, NULL for an explicit MR's umem. */
	struct rxe_mr_odp	*implicit;
};

struct rxe_mr_odp {
	/* Explicit: the MR's umem. Implicit: the root, no pages of its own. */
	struct ib_umem_odp	*umem;
	/* User address of the MR's first byte, for explicit MRs. */
	u64			start;
	/*
	 * Implicit: children by address >> RXE_ODP_CHILD_SHIFT, marked
	 * RXE_ODP_CHILD_UNMAPPED when the process unmapped part of them.
	 */
	struct xarray		children;
	/* Read: a child in use. Write: taking a child out. */
	struct rw_semaphore	children_sem;
	/* Frees the children marked unmapped that have no VMA left. */
	struct work_struct	reap_work;
	/*
	 * Implicit: the process's mm, held for new children and the reaper
	 * (the root umem holds no reference; only children's notifiers do).
	 */
	struct mm_struct	*mm;
};

#define RXE_ODP_CHILD_UNMAPPED	XA_MARK_1

static struct rxe_odp_gate *rxe_odp_gate_alloc(struct rxe_mr_odp *implicit)
{
	struct rxe_odp_gate *g = kzalloc(sizeof(*g), GFP_KERNEL);

	if (g) {
		init_rwsem(&g->copy_sem);
		mutex_init(&g->walk_lock);
		g->implicit = implicit;
	}
	return g;
}

static struct rxe_dev *rxe_odp_dev(struct ib_umem_odp *umem)
{
	return to_rdev(umem->umem.ibdev);
}

/* Have the reaper look at child @idx of @odp: its range lost a VMA. */
static void rxe_odp_reap_later(struct rxe_mr_odp *odp, unsigned long idx)
{
	xa_set_mark(&odp->children, idx, RXE_ODP_CHILD_UNMAPPED);
	/* It waits for mmap_lock and children_sem: not on a per-CPU pool. */
	queue_work(system_unbound_wq, &odp->reap_work);
}

/**
 * rxe_odp_invalidate() - unmap a range of a umem once no copy uses it
 * @mni: the umem's interval notifier
 * @range: the range the kernel invalidates
 * @cur_seq: the notifier's new sequence number
 *
 * Return: false when @range may not block and a lock is busy, else true.
 */
VISIBLE_IF_KUNIT bool rxe_odp_invalidate(struct mmu_interval_notifier *mni,
					 const struct mmu_notifier_range *range,
					 unsigned long cur_seq)
{
	struct ib_umem_odp *umem = container_of(mni, struct ib_umem_odp,
						notifier);
	bool blockable = mmu_notifier_range_blockable(range);
	u64 begin_ns = trace_rxe_odp_invalidate_enabled() ? ktime_get_ns() : 0;
	unsigned long start, end;
	struct rxe_odp_gate *g;

	if (blockable)
		mutex_lock(&umem->umem_mutex);
	else if (!mutex_trylock(&umem->umem_mutex))
		return false;

	g = umem->private;
	if (!g) {
		/* Not ready yet: nothing can be mapped. */
		mmu_interval_set_seq(mni, cur_seq);
		mutex_unlock(&umem->umem_mutex);
		return true;
	}

	if (!down_write_trylock(&g->copy_sem)) {
		if (!blockable) {
			mutex_unlock(&umem->umem_mutex);
			return false;
		}
		/* A copy is in flight: it finishes before the unmap. */
		rxe_counter_inc(rxe_odp_dev(umem),
				RXE_CNT_ODP_INVALIDATE_WAITS);
		down_write(&g->copy_sem);
	}

	mmu_interval_set_seq(mni, cur_seq);
	/* Whole entries: a huge page the range covers only part of too. */
	start = ALIGN_DOWN(max_t(u64, ib_umem_start(umem), range->start),
			   BIT_ULL(umem->page_shift));
	end = ALIGN(min_t(u64, ib_umem_end(umem), range->end),
		    BIT_ULL(umem->page_shift));
	ib_umem_odp_unmap_dma_pages(umem, start, end);

	up_write(&g->copy_sem);
	mutex_unlock(&umem->umem_mutex);

	/*
	 * Freeing a child removes its notifier, which waits for the
	 * invalidation in progress: this one. Leave it to the reaper.
	 */
	if (g->implicit && range->event == MMU_NOTIFY_UNMAP)
		rxe_odp_reap_later(g->implicit,
				   ib_umem_start(umem) >> RXE_ODP_CHILD_SHIFT);

	rxe_counter_inc(rxe_odp_dev(umem), RXE_CNT_ODP_INVALIDATIONS);
	/*
	 * Only when the event was on as the invalidation began: a
	 * tracepoint's arguments are evaluated even when it is off.
	 */
	if (begin_ns)
		trace_rxe_odp_invalidate(start, end - start,
					 ktime_get_ns() - begin_ns);
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(rxe_odp_invalidate);

static const struct mmu_interval_notifier_ops rxe_odp_mni_ops = {
	.invalidate = rxe_odp_invalidate,
};

/**
 * rxe_odp_mapped_bytes() - bytes from @va that a mapping of pages covers
 * @va: first byte wanted
 * @npages: pages mapped from the page that holds @va
 * @page_shift: log2 of the umem's page size
 *
 * Return: the number of bytes from @va to the end of the last page.
 */
VISIBLE_IF_KUNIT u64 rxe_odp_mapped_bytes(u64 va, int npages,
					  unsigned int page_shift)
{
	if (npages <= 0)
		return 0;
	return ((u64)npages << page_shift) - (va & (BIT_ULL(page_shift) - 1));
}
EXPORT_SYMBOL_IF_KUNIT(rxe_odp_mapped_bytes);

static u64 rxe_odp_access_mask(bool write)
{
	return ODP_READ_ALLOWED_BIT | (write ? ODP_WRITE_ALLOWED_BIT : 0);
}

/* The index in @umem's dma_list of the page that holds @va. */
static unsigned long rxe_odp_index(struct ib_umem_odp *umem, u64 va)
{
	return (va - ib_umem_start(umem)) >> umem->page_shift;
}

/* Whether every page of [va, va + len) is mapped with the access needed. */
static bool rxe_odp_present(struct ib_umem_odp *umem, u64 va, u64 len,
			    bool write)
{
	u64 mask = rxe_odp_access_mask(write);
	unsigned long idx = rxe_odp_index(umem, va);
	unsigned long last = rxe_odp_index(umem, va + len - 1);

	for (; idx <= last; idx++)
		if ((READ_ONCE(umem->dma_list[idx]) & mask) != mask)
			return false;
	return true;
}

typedef int (*rxe_odp_access_fn)(struct ib_umem_odp *umem, u64 va, u64 len,
				 void *arg);

static int rxe_odp_walk(struct ib_umem_odp *umem, u64 va, u64 len,
			bool write, bool fault, rxe_odp_access_fn fn, void *arg)
{
	int npages, err = 0;
	u64 mapped;

	while (len) {
		u64 begin_ns = 0;

		if (fault && trace_rxe_odp_fault_enabled())
			begin_ns = ktime_get_ns();
		npages = ib_umem_odp_map_dma_and_lock(umem, va, len,
						      rxe_odp_access_mask(write),
						      fault);
		if (npages < 0)
			return npages;
		lockdep_assert_held(&umem->umem_mutex);

		mapped = min(len, rxe_odp_mapped_bytes(va, npages,
						       umem->page_shift));
		if (begin_ns)
			trace_rxe_odp_fault(va, mapped,
					    ktime_get_ns() - begin_ns);
		if (fn && mapped)
			err = fn(umem, va, mapped, arg);
		mutex_unlock(&umem->umem_mutex);

		if (fault)
			rxe_counter_inc(rxe_odp_dev(umem),
					RXE_CNT_ODP_PAGE_FAULTS);
		if (err)
			return err;
		/*
		 * Nothing mapped at all: no VMA there when faulting. Without
		 * faulting the core skips absent pages and counts the whole
		 * range, so this only ends a prefetch of nothing.
		 */
		if (!mapped)
			return fault ? -EFAULT : 0;
		va += mapped;
		len -= mapped;
	}
	return 0;
}

static bool rxe_odp_mapped(struct ib_umem_odp *umem, u64 va)
{
	return READ_ONCE(umem->dma_list[rxe_odp_index(umem, va)]);
}

/*
 * Map without faulting the pages of [va, va + len) that are not mapped
 * yet, run by run, and leave mapped ones alone. munmap takes the VMA out
 * and downgrades mmap_lock before it invalidates the range: a walk in
 * between finds no VMA while pages are still mapped, and mapping over
 * them would make the core warn and overwrite the page entries that the
 * invalidation reads to dirty them. Under walk_lock no other walk maps an
 * entry; an invalidation clearing one only leaves it for a later walk.
 */
static int rxe_odp_map_absent(struct ib_umem_odp *umem, u64 va, u64 len,
			      bool write)
{
	u64 step = BIT_ULL(umem->page_shift);
	u64 end = va + len, run;
	int err;

	va = ALIGN_DOWN(va, step);
	while (va < end) {
		while (va < end && rxe_odp_mapped(umem, va))
			va += step;
		for (run = va; run < end && !rxe_odp_mapped(umem, run);
		     run += step)
			;
		if (run > va) {
			err = rxe_odp_walk(umem, va, min(run, end) - va, write,
					   false, NULL, NULL);
			if (err)
				return err;
		}
		va = run;
	}
	return 0;
}

/*
 * Map [va, va + len) and, with @fn, use it before anything can unmap it;
 * without @fault, map only what is absent (rxe_odp_map_absent()).
 */
static int rxe_odp_map_and_run(struct ib_umem_odp *umem, u64 va, u64 len,
			       bool write, bool fault,
			       rxe_odp_access_fn fn, void *arg)
{
	struct rxe_odp_gate *g = umem->private;
	int err;

	mutex_lock(&g->walk_lock);
	if (fault || fn)
		err = rxe_odp_walk(umem, va, len, write, fault, fn, arg);
	else
		err = rxe_odp_map_absent(umem, va, len, write);
	mutex_unlock(&g->walk_lock);
	return err;
}

/*
 * After a miss that ended at @va, map what the CPU already maps of the
 * next RXE_ODP_MAP_AHEAD bytes of @umem, for the packets that follow.
 * Nothing is faulted in: no page is allocated, dirtied or unshared that
 * the message may never reach, a hole is no error, and each page gets the
 * access the CPU has to it, so the copies' own check still decides.
 * Best effort: a copy that still misses faults as before.
 */
static void rxe_odp_map_ahead(struct ib_umem_odp *umem, u64 va)
{
	u64 end = min_t(u64, va + RXE_ODP_MAP_AHEAD, ib_umem_end(umem));

	if (va < end)
		rxe_odp_map_and_run(umem, va, end - va, false, false, NULL,
				    NULL);
}

/* Run @fn on [va, va + len) of one umem with its pages held mapped. */
static int rxe_odp_run(struct ib_umem_odp *umem, u64 va, u64 len, bool write,
		       rxe_odp_access_fn fn, void *arg)
{
	struct rxe_odp_gate *g = umem->private;
	int err;

	if (likely(down_read_trylock(&g->copy_sem))) {
		if (likely(rxe_odp_present(umem, va, len, write))) {
			err = fn(umem, va, len, arg);
			up_read(&g->copy_sem);
			return err;
		}
		up_read(&g->copy_sem);
	}
	err = rxe_odp_map_and_run(umem, va, len, write, true, fn, arg);
	if (!err)
		rxe_odp_map_ahead(umem, va + len);
	return err;
}

static struct ib_umem_odp *rxe_odp_new_umem(struct rxe_mr *mr, u64 va,
					    u64 len)
{
	struct rxe_mr_odp *odp = mr->odp;
	bool child = odp && odp->umem->is_implicit_odp;
	struct ib_umem_odp *umem;
	struct rxe_odp_gate *g;

	g = rxe_odp_gate_alloc(child ? odp : NULL);
	if (!g)
		return ERR_PTR(-ENOMEM);

	if (child)
		umem = ib_umem_odp_alloc_child(odp->umem, va, len,
					       &rxe_odp_mni_ops);
	else
		umem = ib_umem_odp_get(mr->ibmr.device, va, len, mr->access,
				       &rxe_odp_mni_ops);
	if (IS_ERR(umem)) {
		mutex_destroy(&g->walk_lock);
		kfree(g);
		return umem;
	}
	/* The notifier is live already: see rxe_odp_invalidate(). */
	mutex_lock(&umem->umem_mutex);
	umem->private = g;
	mutex_unlock(&umem->umem_mutex);
	return umem;
}

static void rxe_odp_free_umem(struct ib_umem_odp *umem)
{
	struct rxe_odp_gate *g = umem->private;

	/* Removes the notifier: no invalidation can run after this. */
	ib_umem_odp_release(umem);
	/* An implicit MR's root has none: it maps nothing itself. */
	if (g)
		mutex_destroy(&g->walk_lock);
	kfree(g);
}

/*
 * Whether a readable VMA of @mm intersects [start, end) now: a PROT_NONE
 * reservation or guard region has nothing a copy could reach either.
 */
static bool rxe_odp_range_readable(struct mm_struct *mm, u64 start, u64 end)
{
	struct vm_area_struct *vma;
	bool readable = false;

	if (!mmget_not_zero(mm))
		return false;
	mmap_read_lock(mm);
	for (vma = find_vma(mm, start); vma && vma->vm_start < end;
	     vma = find_vma(mm, vma->vm_end)) {
		if (vma->vm_flags & VM_READ) {
			readable = true;
			break;
		}
	}
	mmap_read_unlock(mm);
	/* The last reference would tear the mm down here: not under locks. */
	mmput_async(mm);
	return readable;
}

/*
 * The child of implicit @mr that covers @va, created on first use of a
 * mapped address. The caller holds children_sem for read while it uses it.
 */
static struct ib_umem_odp *rxe_odp_child(struct rxe_mr *mr, u64 va)
{
	struct rxe_mr_odp *odp = mr->odp;
	unsigned long idx = va >> RXE_ODP_CHILD_SHIFT;
	struct ib_umem_odp *child, *old;

	lockdep_assert_held_read(&odp->children_sem);
	child = xa_load(&odp->children, idx);
	if (child)
		return child;

	/*
	 * No user mapping can lie there, and a child at the very top of
	 * the address space would wrap around.
	 */
	if (va >= odp->mm->task_size)
		return ERR_PTR(-EFAULT);
	/*
	 * Make a child only where the process has memory, not wherever a
	 * peer points: a child stays until its range is unmapped.
	 */
	if (!rxe_odp_range_readable(odp->mm, va, va + 1))
		return ERR_PTR(-EFAULT);

	child = rxe_odp_new_umem(mr, (u64)idx << RXE_ODP_CHILD_SHIFT,
				 RXE_ODP_CHILD_SIZE);
	if (IS_ERR(child))
		return child;

	old = xa_cmpxchg(&odp->children, idx, NULL, child, GFP_KERNEL);
	if (old) {
		/* Lost a race to create it, or could not store it. */
		rxe_odp_free_umem(child);
		return xa_is_err(old) ? ERR_PTR(xa_err(old)) : old;
	}
	/*
	 * An unmap since the check above found no child to mark. munmap
	 * takes the VMA out before it invalidates, so checking again now
	 * that the child is in the xarray misses none.
	 */
	if (!rxe_odp_range_readable(odp->mm, ib_umem_start(child),
				    ib_umem_end(child)))
		rxe_odp_reap_later(odp, idx);
	return child;
}

/*
 * Free the children of an implicit MR that were marked unmapped and have
 * no readable VMA left. A child is looked at by its index alone until it
 * is out of the xarray: only then is it ours. One mapped again since the
 * check is freed too; the next access makes a new child.
 */
static void rxe_odp_reap_children(struct work_struct *work)
{
	struct rxe_mr_odp *odp = container_of(work, struct rxe_mr_odp,
					      reap_work);
	struct ib_umem_odp *child;
	unsigned long idx = 0;

	while (xa_find(&odp->children, &idx, ULONG_MAX,
		       RXE_ODP_CHILD_UNMAPPED)) {
		xa_clear_mark(&odp->children, idx, RXE_ODP_CHILD_UNMAPPED);
		if (!rxe_odp_range_readable(odp->mm,
					    (u64)idx << RXE_ODP_CHILD_SHIFT,
					    (u64)(idx + 1) << RXE_ODP_CHILD_SHIFT)) {
			/* Waits for the copies using it; new ones miss it. */
			down_write(&odp->children_sem);
			child = xa_erase(&odp->children, idx);
			up_write(&odp->children_sem);
			if (child) {
				rxe_odp_free_umem(child);
				rxe_counter_inc(rxe_odp_dev(odp->umem),
						RXE_CNT_ODP_CHILDREN_FREED);
			}
		}
		if (idx == ULONG_MAX)
			break;
		idx++;
	}
}

/*
 * Find the umem holding @iova of @mr, the user address it stands for and
 * how many bytes from there the umem covers.
 */
static struct ib_umem_odp *rxe_odp_lookup(struct rxe_mr *mr, u64 iova,
					  u64 *va, u64 *avail)
{
	struct rxe_mr_odp *odp = mr->odp;
	struct ib_umem_odp *umem;

	if (!odp->umem->is_implicit_odp) {
		*va = odp->start + (iova - mr->ibmr.iova);
		*avail = ib_umem_end(odp->umem) - *va;
		return odp->umem;
	}

	umem = rxe_odp_child(mr, iova);
	if (IS_ERR(umem))
		return umem;
	*va = iova;
	*avail = ib_umem_end(umem) - iova;
	return umem;
}

/*
 * Run @fn on [iova, iova + length) of @mr, umem by umem. Without @fn, only
 * map the range, faulting absent pages in if @fault.
 */
static int rxe_odp_mr_run(struct rxe_mr *mr, u64 iova, u64 length, bool write,
			  bool fault, rxe_odp_access_fn fn, void *arg)
{
	struct rxe_mr_odp *odp = mr->odp;
	bool implicit = odp->umem->is_implicit_odp;
	struct ib_umem_odp *umem;
	u64 va, avail, n = 0;
	int err = 0;

	while (length) {
		/* One child at a time: the reaper waits for no more. */
		if (implicit)
			down_read(&odp->children_sem);
		umem = rxe_odp_lookup(mr, iova, &va, &avail);
		if (IS_ERR(umem)) {
			err = PTR_ERR(umem);
		} else {
			n = min(length, avail);
			if (fn)
				err = rxe_odp_run(umem, va, n, write, fn, arg);
			else
				err = rxe_odp_map_and_run(umem, va, n, write,
							  fault, NULL, NULL);
		}
		if (implicit)
			up_read(&odp->children_sem);
		if (err)
			return err;
		iova += n;
		length -= n;
	}
	return 0;
}

static void *rxe_odp_va(struct ib_umem_odp *umem, u64 va)
{
	unsigned long idx = rxe_odp_index(umem, va);
	u64 offset = va & (BIT_ULL(umem->page_shift) - 1);

	return (void *)(uintptr_t)(umem->dma_list[idx] & ODP_DMA_ADDR_MASK) +
	       offset;
}

struct rxe_odp_copy {
	u8			*addr;
	enum rxe_mr_copy_dir	dir;
};

static int rxe_odp_copy_fn(struct ib_umem_odp *umem, u64 va, u64 len,
			   void *arg)
{
	struct rxe_odp_copy *c = arg;
	u64 page_size = BIT_ULL(umem->page_shift);
	u64 bytes;

	while (len) {
		bytes = min(len, page_size - (va & (page_size - 1)));
		if (c->dir == RXE_TO_MR_OBJ)
			memcpy(rxe_odp_va(umem, va), c->addr, bytes);
		else
			memcpy(c->addr, rxe_odp_va(umem, va), bytes);
		c->addr += bytes;
		va += bytes;
		len -= bytes;
	}
	return 0;
}

/**
 * rxe_odp_mr_copy() - copy between an ODP MR and a kernel buffer
 * @mr: the ODP MR, range already checked
 * @iova: first byte in the MR
 * @addr: kernel buffer
 * @length: bytes to copy
 * @dir: RXE_TO_MR_OBJ or RXE_FROM_MR_OBJ
 *
 * Return: 0, or -EFAULT when part of the range cannot be mapped (no VMA,
 * not the access needed, out of memory), which the requester reports as a
 * local protection error and the responder as a remote access error.
 */
int rxe_odp_mr_copy(struct rxe_mr *mr, u64 iova, void *addr,
		    unsigned int length, enum rxe_mr_copy_dir dir)
{
	struct rxe_odp_copy c = { .addr = addr, .dir = dir };

	return rxe_odp_mr_run(mr, iova, length, dir == RXE_TO_MR_OBJ, true,
			      rxe_odp_copy_fn, &c) ? -EFAULT : 0;
}

struct rxe_odp_atomic {
	int	opcode;
	u64	compare;
	u64	swap_add;
	u64	orig;
};

static int rxe_odp_atomic_fn(struct ib_umem_odp *umem, u64 va, u64 len,
			     void *arg)
{
	struct rxe_odp_atomic *a = arg;

	a->orig = rxe_atomic_op_va(rxe_odp_va(umem, va), a->opcode,
				   a->compare, a->swap_add);
	return 0;
}

/**
 * rxe_odp_do_atomic_op() - CMP_SWP or FETCH_ADD on an ODP MR
 * @mr: the ODP MR, range already checked
 * @iova: address of the 64-bit operand
 * @opcode: IB_OPCODE_RC_COMPARE_SWAP or IB_OPCODE_RC_FETCH_ADD
 * @compare: compare value of CMP_SWP
 * @swap_add: swap or add value
 * @orig_val: the operand's value before the operation
 *
 * Return: 0 or an enum resp_states error, as rxe_mr_do_atomic_op().
 */
int rxe_odp_do_atomic_op(struct rxe_mr *mr, u64 iova, int opcode,
			 u64 compare, u64 swap_add, u64 *orig_val)
{
	struct rxe_odp_atomic a = {
		.opcode = opcode,
		.compare = compare,
		.swap_add = swap_add,
	};

	if (iova & 7)
		return RESPST_ERR_MISALIGNED_ATOMIC;
	if (rxe_odp_mr_run(mr, iova, sizeof(u64), true, true,
			   rxe_odp_atomic_fn, &a))
		return RESPST_ERR_RKEY_VIOLATION;
	*orig_val = a.orig;
	return 0;
}

static int rxe_odp_atomic_write_fn(struct ib_umem_odp *umem, u64 va, u64 len,
				   void *arg)
{
	struct rxe_odp_atomic *a = arg;

	/* Visible only after all prior writes to the MR, IBA A19.4.2 */
	smp_store_release((u64 *)rxe_odp_va(umem, va), a->swap_add);
	return 0;
}

/**
 * rxe_odp_do_atomic_write() - ATOMIC_WRITE on an ODP MR
 * @mr: the ODP MR, range already checked
 * @iova: address of the 64-bit operand
 * @value: value to store
 *
 * Return: 0 or an enum resp_states error, as rxe_mr_do_atomic_write().
 */
int rxe_odp_do_atomic_write(struct rxe_mr *mr, u64 iova, u64 value)
{
	struct rxe_odp_atomic a = { .swap_add = value };

	if (iova & 7)
		return RESPST_ERR_MISALIGNED_ATOMIC;
	if (rxe_odp_mr_run(mr, iova, sizeof(u64), true, true,
			   rxe_odp_atomic_write_fn, &a))
		return RESPST_ERR_RKEY_VIOLATION;
	return 0;
}

/**
 * rxe_odp_prefetch() - map a range of an ODP MR ahead of its use
 * @mr: the ODP MR
 * @iova: first byte
 * @length: bytes
 * @write: map for writing too
 * @fault: fault absent pages in; if false, map only the pages present
 *
 * Return: 0 or a negative errno.
 */
int rxe_odp_prefetch(struct rxe_mr *mr, u64 iova, u64 length, bool write,
		     bool fault)
{
	if (mr_check_range(mr, iova, length))
		return -EINVAL;

	rxe_counter_inc(to_rdev(mr->ibmr.device), RXE_CNT_ODP_PREFETCHES);
	return rxe_odp_mr_run(mr, iova, length, write, fault, NULL, NULL);
}

/**
 * rxe_mr_init_odp() - register an on-demand paging MR
 * @rxe: the device
 * @start: user address of the MR; 0 with @length U64_MAX for implicit
 * @length: length of the MR
 * @iova: I/O virtual address of the MR
 * @access: IB access flags, including IB_ACCESS_ON_DEMAND
 * @mr: the MR to initialise
 *
 * Return: 0 or a negative errno.
 */
int rxe_mr_init_odp(struct rxe_dev *rxe, u64 start, u64 length, u64 iova,
		    int access, struct rxe_mr *mr)
{
	bool implicit = !start && length == U64_MAX;
	struct rxe_mr_odp *odp;
	struct ib_umem_odp *umem;

	rxe_mr_init(access, mr);

	if (implicit && iova)
		return -EINVAL;

	odp = kzalloc(sizeof(*odp), GFP_KERNEL);
	if (!odp)
		return -ENOMEM;
	xa_init(&odp->children);
	init_rwsem(&odp->children_sem);
	INIT_WORK(&odp->reap_work, rxe_odp_reap_children);

	/* The implicit root maps nothing itself: its children do. */
	if (implicit)
		umem = ib_umem_odp_alloc_implicit(&rxe->ib_dev, access);
	else
		umem = rxe_odp_new_umem(mr, start, length);
	if (IS_ERR(umem)) {
		kfree(odp);
		return PTR_ERR(umem);
	}
	odp->umem = umem;
	odp->start = start;
	if (implicit) {
		odp->mm = umem->umem.owning_mm;
		mmgrab(odp->mm);
	}

	mr->odp = odp;
	mr->ibmr.type = IB_MR_TYPE_USER;
	mr->ibmr.iova = iova;
	mr->ibmr.length = length;
	mr->state = RXE_MR_STATE_VALID;
	return 0;
}

/**
 * rxe_mr_odp_release() - release an ODP MR's umems
 * @mr: the MR; no copy can be in flight on it any more
 */
void rxe_mr_odp_release(struct rxe_mr *mr)
{
	struct rxe_mr_odp *odp = mr->odp;
	struct ib_umem_odp *child;
	unsigned long idx;

	/*
	 * The reaper may run meanwhile; once every child's notifier is gone,
	 * nothing queues it again.
	 */
	down_write(&odp->children_sem);
	xa_for_each(&odp->children, idx, child)
		rxe_odp_free_umem(child);
	xa_destroy(&odp->children);
	up_write(&odp->children_sem);
	cancel_work_sync(&odp->reap_work);
	rxe_odp_free_umem(odp->umem);
	if (odp->mm)
		mmdrop(odp->mm);
	kfree(odp);
	mr->odp = NULL;
}

/**
 * rxe_odp_init_caps() - report what on-demand paging rxe supports
 * @rxe: the device
 *
 * Every transport operation that touches an MR does so through the copy
 * paths of this file, so ODP MRs work with all of them.
 */
void rxe_odp_init_caps(struct rxe_dev *rxe)
{
	struct ib_odp_caps *caps = &rxe->attr.odp_caps;
	u32 rc = IB_ODP_SUPPORT_SEND | IB_ODP_SUPPORT_RECV |
		 IB_ODP_SUPPORT_WRITE | IB_ODP_SUPPORT_READ |
		 IB_ODP_SUPPORT_ATOMIC | IB_ODP_SUPPORT_SRQ_RECV;

	rxe->attr.kernel_cap_flags |= IBK_ON_DEMAND_PAGING;
	caps->general_caps = IB_ODP_SUPPORT | IB_ODP_SUPPORT_IMPLICIT;
	caps->per_transport_caps.rc_odp_caps = rc;
	caps->per_transport_caps.uc_odp_caps = IB_ODP_SUPPORT_SEND |
					       IB_ODP_SUPPORT_RECV |
					       IB_ODP_SUPPORT_WRITE |
					       IB_ODP_SUPPORT_SRQ_RECV;
	caps->per_transport_caps.ud_odp_caps = IB_ODP_SUPPORT_SEND |
					       IB_ODP_SUPPORT_RECV |
					       IB_ODP_SUPPORT_SRQ_RECV;
}
