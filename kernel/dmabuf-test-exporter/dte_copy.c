// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf_test_exporter: backings, and the jobs that copy and check them.
 *
 * Every change of placement is a job on a workqueue, fenced by a KERNEL
 * fence in the buffer's reservation object: a copy fills a new backing
 * (move, restore); a seal checksums the backing an eviction keeps aside,
 * and the copy that restores it checks that sum, so that a write that
 * landed in the saved copy, or one that never made it there, shows.
 *
 * A job runs only after the jobs before it on the same buffer (its fences
 * signal in order) and after every fence others had put in the reservation
 * object when it was queued: their work may still be writing the pages.
 *
 * A move can be failed on purpose (DTE_IOC_FAIL_MAPS): its copy runs all
 * the same, but the fence it leaves in the reservation object signals
 * with the error, right after the copy's own. And a revocation leaves a
 * fence that has already signalled with -ENODEV. So an importer that
 * checks the KERNEL fences' errors before it uses the pages (a CPU
 * importer such as rxe, which never maps the attachment) learns of the
 * failure without asking for a vmap, which the dma-buf core would take for
 * an exporter bug were it to fail.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32.h>
#include <linux/dma-resv.h>
#include <linux/highmem.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "dte_internal.h"

/*
 * How long a job waits for others' fences, in all. A fence that has not
 * signalled by then belongs to a hung device: the job goes ahead, and its
 * own fence carries -ETIMEDOUT to say that the contents may be torn.
 */
#define DTE_DEPS_TIMEOUT (10 * HZ)

/* Freed pages are filled with this, so a stale access reads nonsense. */
#define DTE_POISON 0x6d

/* The fence of a job. */
struct dte_fence {
	struct dma_fence base;
	spinlock_t lock;	/* the fence's; lives exactly as long */
};

/*
 * The default dma_fence release frees the fence pointer with kfree_rcu(),
 * which is the whole allocation only if the fence comes first.
 */
static_assert(offsetof(struct dte_fence, base) == 0);

/**
 * struct dte_job - a copy or a seal, queued or running
 * @work: runs the job
 * @cb: queues @work once @after signalled; then wakes it for each of @deps
 * @buf: the buffer, for its release-time hurry
 * @src: the backing read
 * @dst: the backing written by a copy; NULL for a seal of @src
 * @after: the fence of the job before, on the same buffer, or NULL
 * @deps: others' fences that were in the reservation object
 * @nr_deps: number of @deps
 * @fence: signalled once the job is done and @delay_us has passed; the
 *	fence of the backing it fills or seals
 * @fail_fence: for a move failed on purpose, the fence that stands for the
 *	move in the reservation object: signalled right after @fence, with
 *	@fence's error or else @fail_error; NULL otherwise
 * @fail_error: the negative errno of @fail_fence
 * @delay_us: how long after the job to signal @fence
 */
struct dte_job {
	struct work_struct work;
	struct dma_fence_cb cb;
	struct dte_buffer *buf;
	struct dte_backing *src;
	struct dte_backing *dst;
	struct dma_fence *after;
	struct dma_fence **deps;
	unsigned int nr_deps;
	struct dma_fence *fence;
	struct dma_fence *fail_fence;
	int fail_error;
	u32 delay_us;
};

static struct workqueue_struct *dte_wq;

static const char *dte_fence_get_driver_name(struct dma_fence *fence)
{
	return KBUILD_MODNAME;
}

static const char *dte_fence_get_timeline_name(struct dma_fence *fence)
{
	return "copy";
}

static const struct dma_fence_ops dte_fence_ops = {
	.get_driver_name = dte_fence_get_driver_name,
	.get_timeline_name = dte_fence_get_timeline_name,
};

/**
 * dte_fence_alloc - allocate a fence for dte_fence_fail_locked()
 *
 * Allocated apart, so that a request can fail for want of memory before it
 * changes anything.
 *
 * Return: the fence, not initialised (kfree() it if unused), or NULL.
 */
struct dma_fence *dte_fence_alloc(void)
{
	struct dte_fence *fence = kzalloc(sizeof(*fence), GFP_KERNEL);

	return fence ? &fence->base : NULL;
}

/* The next fence of the buffer's timeline. */
static void dte_fence_init_locked(struct dte_buffer *buf,
				  struct dma_fence *base)
{
	struct dte_fence *fence = container_of(base, struct dte_fence, base);

	dma_resv_assert_held(buf->dmabuf->resv);

	spin_lock_init(&fence->lock);
	dma_fence_init(&fence->base, &dte_fence_ops, &fence->lock,
		       buf->fence_context, ++buf->fence_seqno);
}

/*
 * Make @fence the buffer's KERNEL fence in the reservation object, which
 * has a free slot reserved. dma_resv_add_fence() takes the place of an
 * older fence of ours or of any signalled fence, whichever comes first, so
 * an older one of ours can stay behind someone else's signalled fence:
 * that is replaced too, lest a failed move's error outlive the moves after
 * it. Each of our fences completes after the ones before it (a job runs
 * after the one before; a revocation ends every use of the pages), as
 * dma_resv_replace_fences() asks.
 */
static void dte_fence_publish_locked(struct dte_buffer *buf,
				     struct dma_fence *fence)
{
	struct dma_resv *resv = buf->dmabuf->resv;

	dma_resv_add_fence(resv, fence, DMA_RESV_USAGE_KERNEL);
	dma_resv_replace_fences(resv, buf->fence_context, fence,
				DMA_RESV_USAGE_KERNEL);
}

/**
 * dte_fence_fail_locked - leave a failed fence in the reservation object
 * @buf: the buffer, whose reservation lock is held
 * @fence: from dte_fence_alloc(); this function takes it over
 * @error: the negative errno it carries
 *
 * @fence becomes the next fence of the buffer's timeline, signalled at once
 * with @error, and replaces the buffer's KERNEL fence, so that importers
 * that check the fences' errors before they touch the pages see @error
 * without trying. It may signal before an older fence of the timeline that
 * it replaces, a copy still in flight: that copy's users hold that fence
 * itself. The caller has reserved a fence slot.
 */
void dte_fence_fail_locked(struct dte_buffer *buf, struct dma_fence *fence,
			   int error)
{
	dte_fence_init_locked(buf, fence);
	dma_fence_set_error(fence, error);
	dma_fence_signal(fence);
	dte_fence_publish_locked(buf, fence);
	dma_fence_put(fence);
}

/**
 * dte_fence_wait_killable - wait for a fence that is known to signal
 * @fence: the fence
 *
 * Sleeps uninterruptibly, in slices so that a long fence delay does not
 * look like a hung task, and gives up only on a fatal signal.
 *
 * Return: 0 once @fence has signalled, -EINTR on a fatal signal.
 */
int dte_fence_wait_killable(struct dma_fence *fence)
{
	while (dma_fence_wait_timeout(fence, false, HZ) == 0)
		if (fatal_signal_pending(current))
			return -EINTR;
	return 0;
}

/*
 * Every holder of a backing holds a reference, so nobody may read the
 * pages after this; if someone does anyway, the poison shows it.
 */
static void dte_backing_free(struct kref *ref)
{
	struct dte_backing *backing = container_of(ref, struct dte_backing, ref);
	pgoff_t i;

	if (backing->pages) {
		for (i = 0; i < backing->nr_pages && backing->pages[i]; i++) {
			memset_page(backing->pages[i], 0, DTE_POISON,
				    PAGE_SIZE);
			__free_page(backing->pages[i]);
		}
		kvfree(backing->pages);
	}
	dma_fence_put(backing->fence);
	kfree(backing);
}

struct dte_backing *dte_backing_get(struct dte_backing *backing)
{
	kref_get(&backing->ref);
	return backing;
}

void dte_backing_put(struct dte_backing *backing)
{
	if (backing)
		kref_put(&backing->ref, dte_backing_free);
}

/**
 * dte_backing_alloc - allocate a backing
 * @nr_pages: its size
 * @zero: whether it must start zeroed; if not, a copy must fill it
 *
 * Allocation may run with the reservation lock held (restore from a map or
 * a page fault): that is allowed, dma-resv primes lockdep with
 * resv -> fs_reclaim. A user-sized buffer must fail rather than wake the
 * OOM killer, hence __GFP_RETRY_MAYFAIL.
 *
 * Return: the backing, -ENOMEM, or -EINTR on a fatal signal.
 */
struct dte_backing *dte_backing_alloc(pgoff_t nr_pages, bool zero)
{
	gfp_t gfp = GFP_HIGHUSER | __GFP_RETRY_MAYFAIL | __GFP_NOWARN;
	struct dte_backing *backing;
	pgoff_t i;

	if (zero)
		gfp |= __GFP_ZERO;

	backing = kzalloc(sizeof(*backing), GFP_KERNEL);
	if (!backing)
		return ERR_PTR(-ENOMEM);
	kref_init(&backing->ref);
	backing->nr_pages = nr_pages;
	backing->pages = kvcalloc(nr_pages, sizeof(*backing->pages),
				  GFP_KERNEL);
	if (!backing->pages)
		goto err;

	for (i = 0; i < nr_pages; i++) {
		backing->pages[i] = alloc_page(gfp);
		if (!backing->pages[i])
			goto err;
		if (fatal_signal_pending(current)) {
			dte_backing_put(backing);
			return ERR_PTR(-EINTR);
		}
		cond_resched();
	}
	return backing;

err:
	dte_backing_put(backing);
	return ERR_PTR(-ENOMEM);
}

/**
 * dte_backing_status - whether a backing's contents may be handed out
 * @backing: the backing
 *
 * Return: 0 if the job that filled @backing is done, or none did; -EAGAIN
 * while it runs; the job's error if it failed (-EIO: the saved copy it
 * restored had changed).
 */
int dte_backing_status(struct dte_backing *backing)
{
	int status;

	if (!backing->fence)
		return 0;
	status = dma_fence_get_status(backing->fence);
	if (!status)
		return -EAGAIN;
	return status < 0 ? status : 0;
}

static u32 dte_page_crc(u32 crc, struct page *page)
{
	void *vaddr = kmap_local_page(page);

	crc = crc32_le(crc, vaddr, PAGE_SIZE);
	kunmap_local(vaddr);
	return crc;
}

/* Checksum the contents an eviction keeps aside. */
static void dte_job_seal(struct dte_job *job)
{
	struct dte_backing *src = job->src;
	u32 crc = ~0U;
	pgoff_t i;

	for (i = 0; i < src->nr_pages && !READ_ONCE(job->buf->dying); i++) {
		crc = dte_page_crc(crc, src->pages[i]);
		cond_resched();
	}
	src->csum = crc;
}

/*
 * Copy, and if the source is a saved copy, check that what arrived is
 * what was sealed. Return: 0, or -EIO if it is not.
 */
static int dte_job_copy(struct dte_job *job)
{
	struct dte_backing *src = job->src, *dst = job->dst;
	u32 crc = ~0U;
	pgoff_t i;

	for (i = 0; i < dst->nr_pages && !READ_ONCE(job->buf->dying); i++) {
		copy_highpage(dst->pages[i], src->pages[i]);
		if (src->sealed)
			crc = dte_page_crc(crc, dst->pages[i]);
		cond_resched();
	}
	if (!src->sealed || READ_ONCE(job->buf->dying) || crc == src->csum)
		return 0;
	pr_err("restore of a %lu-page buffer: its saved copy changed while evicted (crc32 %08x, sealed %08x)\n",
	       (unsigned long)src->nr_pages, crc, src->csum);
	return -EIO;
}

static void dte_job_dep_signalled(struct dma_fence *fence,
				  struct dma_fence_cb *cb)
{
	struct dte_job *job = container_of(cb, struct dte_job, cb);

	wake_up_all(&job->buf->delay_wq);
}

/*
 * Wait for others' fences, bounded by DTE_DEPS_TIMEOUT, and no longer once
 * the buffer is released. Interruptible only to stay out of the hung task
 * detector's sight.
 *
 * Return: 0, or -ETIMEDOUT if one did not signal in time.
 */
static int dte_job_wait_deps(struct dte_job *job)
{
	unsigned long deadline = jiffies + DTE_DEPS_TIMEOUT;
	struct dte_buffer *buf = job->buf;
	struct dma_fence *dep;
	unsigned int i;
	long left;

	for (i = 0; i < job->nr_deps; i++) {
		dep = job->deps[i];
		if (dma_fence_add_callback(dep, &job->cb,
					   dte_job_dep_signalled))
			continue;
		left = max_t(long, (long)(deadline - jiffies), 0);
		wait_event_interruptible_timeout(buf->delay_wq,
						 dma_fence_is_signaled(dep) ||
						 READ_ONCE(buf->dying),
						 left);
		dma_fence_remove_callback(dep, &job->cb);
		if (!dma_fence_is_signaled(dep) && !READ_ONCE(buf->dying)) {
			pr_warn_ratelimited("a fence of %s did not signal in %d s; moving on\n",
					    dep->ops->get_driver_name(dep),
					    DTE_DEPS_TIMEOUT / HZ);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

static void dte_job_free(struct dte_job *job)
{
	unsigned int i;

	for (i = 0; i < job->nr_deps; i++)
		dma_fence_put(job->deps[i]);
	kfree(job->deps);
	dma_fence_put(job->after);
	dma_fence_put(job->fence);
	dma_fence_put(job->fail_fence);
	dte_backing_put(job->src);
	dte_backing_put(job->dst);
	dte_buffer_put(job->buf);
	kfree(job);
}

/*
 * The fence signalling critical section: no allocation and no reservation
 * lock in here, so nothing that waits for the fence can deadlock with it.
 *
 * Once the buffer is released nobody can see its pages any more (every
 * attachment, vmap and mmap holds the dma-buf), so the work is skipped and
 * the delay cut short: the fence still signals, marked cancelled.
 */
static void dte_job_work(struct work_struct *work)
{
	struct dte_job *job = container_of(work, struct dte_job, work);
	struct dte_buffer *buf = job->buf;
	ktime_t delay = ns_to_ktime((u64)job->delay_us * NSEC_PER_USEC);
	int late, err = 0;
	bool cookie;

	late = dte_job_wait_deps(job);

	cookie = dma_fence_begin_signalling();
	if (job->dst)
		err = dte_job_copy(job);
	else
		dte_job_seal(job);
	if (!err)
		err = late;
	if (job->delay_us)
		wait_event_interruptible_hrtimeout(buf->delay_wq,
						   READ_ONCE(buf->dying),
						   delay);
	if (READ_ONCE(buf->dying))
		err = -ECANCELED;
	if (err)
		dma_fence_set_error(job->fence, err);
	dma_fence_signal(job->fence);
	if (job->fail_fence) {
		dma_fence_set_error(job->fail_fence, err ? err : job->fail_error);
		dma_fence_signal(job->fail_fence);
	}
	dma_fence_end_signalling(cookie);

	dte_job_free(job);
}

static void dte_job_after_signalled(struct dma_fence *fence,
				    struct dma_fence_cb *cb)
{
	struct dte_job *job = container_of(cb, struct dte_job, cb);

	queue_work(dte_wq, &job->work);
}

/*
 * Others' unsignalled fences in the reservation object, of every usage: a
 * move is memory management, which waits for BOOKKEEP fences too (as TTM
 * does before it moves a buffer). The buffer's own fences are left out: a
 * job is queued only once the one before it signalled, and so no worker
 * ever sleeps waiting for another.
 */
static int dte_job_get_deps_locked(struct dte_buffer *buf,
				   struct dte_job *job)
{
	struct dma_fence **fences;
	unsigned int i, n, count;
	int ret;

	ret = dma_resv_get_fences(buf->dmabuf->resv, DMA_RESV_USAGE_BOOKKEEP,
				  &count, &fences);
	if (ret)
		return ret;
	for (i = n = 0; i < count; i++) {
		if (fences[i]->context == buf->fence_context ||
		    dma_fence_is_signaled(fences[i]))
			dma_fence_put(fences[i]);
		else
			fences[n++] = fences[i];
	}
	if (!n) {
		kfree(fences);
		fences = NULL;
	}
	job->deps = fences;
	job->nr_deps = n;
	return 0;
}

/*
 * Queue a job that reads @src, after the job that last wrote or sealed it,
 * and that copies it into @dst (which then belongs to the job's fence) or,
 * without @dst, seals it. Its fence becomes the KERNEL fence of the
 * reservation object, or with @fail_error a fence that signals right after
 * it with @fail_error does. A reference to that fence goes to @resv_fence
 * if not NULL. Fails without a change of state.
 */
static int dte_job_queue_locked(struct dte_buffer *buf,
				struct dte_backing *src,
				struct dte_backing *dst, int fail_error,
				struct dma_fence **resv_fence)
{
	struct dma_resv *resv = buf->dmabuf->resv;
	struct dte_backing *target = dst ? dst : src;
	struct dma_fence *fail_fence = NULL;
	struct dte_fence *fence;
	struct dte_job *job;
	int ret;

	dma_resv_assert_held(resv);

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	fence = kzalloc(sizeof(*fence), GFP_KERNEL);
	if (fail_error)
		fail_fence = dte_fence_alloc();
	if (!job || !fence || (fail_error && !fail_fence)) {
		ret = -ENOMEM;
		goto err;
	}
	ret = dte_job_get_deps_locked(buf, job);
	if (ret)
		goto err;
	ret = dma_resv_reserve_fences(resv, 1);
	if (ret)
		goto err;

	dte_fence_init_locked(buf, &fence->base);
	INIT_WORK(&job->work, dte_job_work);
	kref_get(&buf->ref);
	job->buf = buf;
	job->src = dte_backing_get(src);
	job->dst = dst ? dte_backing_get(dst) : NULL;
	job->after = src->fence ? dma_fence_get(src->fence) : NULL;
	job->fence = &fence->base;
	job->delay_us = dst ? buf->delay_us : 0;
	if (fail_fence) {
		/* Later on the timeline, so it replaces the copy's fence. */
		dte_fence_init_locked(buf, fail_fence);
		job->fail_fence = fail_fence;
		job->fail_error = fail_error;
	}

	dma_fence_put(target->fence);
	target->fence = dma_fence_get(job->fence);
	if (!dst)
		src->sealed = true;
	dte_fence_publish_locked(buf, fail_fence ? fail_fence : job->fence);
	if (resv_fence)
		*resv_fence = dma_fence_get(fail_fence ? fail_fence :
					    job->fence);

	if (!job->after ||
	    dma_fence_add_callback(job->after, &job->cb,
				   dte_job_after_signalled))
		queue_work(dte_wq, &job->work);
	return 0;

err:
	if (job) {
		while (job->nr_deps)
			dma_fence_put(job->deps[--job->nr_deps]);
		kfree(job->deps);
	}
	kfree(fail_fence);
	kfree(fence);
	kfree(job);
	return ret;
}

/**
 * dte_copy_locked - start copying one backing into another
 * @buf: the buffer, whose reservation lock is held
 * @src: the contents
 * @dst: new pages, not yet visible to anyone
 * @fail_error: 0, or the negative errno of a move failed on purpose
 * @resv_fence: if not NULL, gets a reference to the fence that the copy
 *	leaves in the reservation object
 *
 * @dst's contents are valid once its fence has signalled without an
 * error. That fence becomes the new KERNEL fence of the reservation object;
 * with @fail_error, a fence that signals right after it, with its error or
 * else @fail_error, does instead. Whoever waits for the reservation object
 * then waits for the copy all the same, and finds the move failed if it
 * checks; @dst itself, its fence and the page faults, pins and vmaps that
 * wait for that fence know nothing of @fail_error.
 *
 * Return: 0, or -ENOMEM with nothing changed.
 */
int dte_copy_locked(struct dte_buffer *buf, struct dte_backing *src,
		    struct dte_backing *dst, int fail_error,
		    struct dma_fence **resv_fence)
{
	return dte_job_queue_locked(buf, src, dst, fail_error, resv_fence);
}

/**
 * dte_seal_locked - start checksumming a backing kept aside
 * @buf: the buffer, whose reservation lock is held
 * @backing: its contents, which nobody may write any more
 *
 * The sum is taken once others' fences and the copy that filled @backing
 * are done; the copy that restores @backing checks it.
 *
 * Return: 0, or -ENOMEM with nothing changed.
 */
int dte_seal_locked(struct dte_buffer *buf, struct dte_backing *backing)
{
	return dte_job_queue_locked(buf, backing, NULL, 0, NULL);
}

int dte_copy_init(void)
{
	/*
	 * Unbound: a job may sleep for its fence delay. Reclaim never waits
	 * for these fences, so no rescuer is needed.
	 */
	dte_wq = alloc_workqueue(KBUILD_MODNAME, WQ_UNBOUND, 0);
	return dte_wq ? 0 : -ENOMEM;
}

void dte_copy_exit(void)
{
	/*
	 * Every buffer has been released by now (each holds a module
	 * reference), so the jobs left are hurried and finish promptly.
	 */
	destroy_workqueue(dte_wq);
}
