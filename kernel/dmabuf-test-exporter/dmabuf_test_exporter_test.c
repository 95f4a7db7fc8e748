// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite of dmabuf_test_exporter: an in-kernel dynamic importer that
 * checks move_notify, fences, pins, injected failures, revocation and the
 * counters. A module of its own, so loading the exporter runs no tests.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/iosys-map.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "dmabuf_test_exporter.h"
#include "dte_compat.h"

#define DTE_TEST_PAGES 5
#define DTE_TEST_SIZE (DTE_TEST_PAGES * PAGE_SIZE)
#define DTE_TEST_WAIT (10 * HZ)
/* Long enough for an unhindered copy of DTE_TEST_SIZE to finish. */
#define DTE_TEST_SETTLE (HZ / 10)

/**
 * struct dte_test_importer - the importer each test case starts with
 * @dev: a device with a 64-bit DMA mask
 * @dmabuf: a DTE_TEST_SIZE buffer
 * @attach: its dynamic attachment
 * @notified: move_notify calls
 * @notified_unlocked: move_notify calls without the reservation lock held
 */
struct dte_test_importer {
	struct device *dev;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	unsigned int notified;
	unsigned int notified_unlocked;
};

static bool dte_test_resv_held(struct dma_resv *resv)
{
#ifdef CONFIG_LOCKDEP
	return dma_resv_held(resv);
#else
	return dma_resv_is_locked(resv);
#endif
}

static void dte_test_move_notify(struct dma_buf_attachment *attach)
{
	struct dte_test_importer *imp = attach->importer_priv;

	if (!dte_test_resv_held(attach->dmabuf->resv))
		imp->notified_unlocked++;
	imp->notified++;
}

static const struct dma_buf_attach_ops dte_test_attach_ops = {
	.allow_peer2peer = false,
	DTE_INVALIDATE_OP(dte_test_move_notify),
};

static int dte_test_init(struct kunit *test)
{
	struct dte_test_importer *imp;
	struct dma_buf_attachment *attach;
	struct device *dev;

	imp = kunit_kzalloc(test, sizeof(*imp), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, imp);

	dev = kunit_device_register(test, "dte-test-importer");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	dev->dma_mask = &dev->coherent_dma_mask;
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)),
			0);
	imp->dev = dev;

	imp->dmabuf = dte_buffer_create(DTE_TEST_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp->dmabuf);
	test->priv = imp;

	attach = dma_buf_dynamic_attach(imp->dmabuf, dev, &dte_test_attach_ops,
					imp);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	imp->attach = attach;
	return 0;
}

static void dte_test_exit(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;

	if (!imp)
		return;
	if (imp->attach)
		dma_buf_detach(imp->dmabuf, imp->attach);
	if (imp->dmabuf)
		dma_buf_put(imp->dmabuf);
	/* Release now, not from the delayed fput work after the test. */
	flush_delayed_fput();
}

static struct dte_stats dte_test_stats(struct kunit *test,
				       struct dma_buf *dmabuf)
{
	struct dte_stats stats = {};

	KUNIT_EXPECT_EQ(test, dte_buffer_get_stats(dmabuf, &stats), 0);
	return stats;
}

/*
 * The test importer never writes through its mapping, so it maps for
 * DMA_TO_DEVICE: with bounce buffering (swiotlb=force, as in the QEMU
 * guest) the unmap of a DMA_BIDIRECTIONAL mapping copies the stale bounce
 * buffer back over the pages, and a later check would find that, not
 * what the exporter did.
 */
static struct sg_table *dte_test_map(struct dma_buf_attachment *attach)
{
	struct sg_table *sgt;

	dma_resv_lock(attach->dmabuf->resv, NULL);
	sgt = dma_buf_map_attachment(attach, DMA_TO_DEVICE);
	dma_resv_unlock(attach->dmabuf->resv);
	return sgt;
}

static void dte_test_unmap(struct dma_buf_attachment *attach,
			   struct sg_table *sgt)
{
	dma_resv_lock(attach->dmabuf->resv, NULL);
	dma_buf_unmap_attachment(attach, sgt, DMA_TO_DEVICE);
	dma_resv_unlock(attach->dmabuf->resv);
}

static u8 dte_test_byte(size_t i, u8 seed)
{
	return (u8)(i * 31 + (i >> 12) + seed);
}

static void dte_test_fill(struct kunit *test, struct dma_buf *dmabuf, u8 seed)
{
	struct iosys_map map;
	size_t i;
	u8 *data;

	data = kunit_kmalloc(test, dmabuf->size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, data);
	for (i = 0; i < dmabuf->size; i++)
		data[i] = dte_test_byte(i, seed);

	KUNIT_ASSERT_EQ(test, dma_buf_vmap_unlocked(dmabuf, &map), 0);
	iosys_map_memcpy_to(&map, 0, data, dmabuf->size);
	dma_buf_vunmap_unlocked(dmabuf, &map);
	kunit_kfree(test, data);
}

/* Whether the @size bytes at @map are what fill wrote. */
static bool dte_test_check_map(struct kunit *test, struct iosys_map *map,
			       size_t size, u8 seed)
{
	bool same = true;
	size_t i;
	u8 *data;

	data = kunit_kmalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, data);
	iosys_map_memcpy_from(data, map, 0, size);
	for (i = 0; i < size && same; i++)
		same = data[i] == dte_test_byte(i, seed);
	kunit_kfree(test, data);
	return same;
}

/* Whether the contents, read through a new vmap, are what fill wrote. */
static bool dte_test_check(struct kunit *test, struct dma_buf *dmabuf,
			   u8 seed)
{
	struct iosys_map map;
	bool same;

	KUNIT_ASSERT_EQ(test, dma_buf_vmap_unlocked(dmabuf, &map), 0);
	same = dte_test_check_map(test, &map, dmabuf->size, seed);
	dma_buf_vunmap_unlocked(dmabuf, &map);
	return same;
}

static bool dte_test_kernel_fences_signaled(struct dma_buf *dmabuf)
{
	return dma_resv_test_signaled(dmabuf->resv, DMA_RESV_USAGE_KERNEL);
}

static long dte_test_wait_kernel_fences(struct dma_buf *dmabuf)
{
	return dma_resv_wait_timeout(dmabuf->resv, DMA_RESV_USAGE_KERNEL,
				     false, DTE_TEST_WAIT);
}

/* A reference to the (only) KERNEL fence of @dmabuf, or NULL. */
static struct dma_fence *dte_test_kernel_fence(struct dma_buf *dmabuf)
{
	struct dma_fence *fence, *found = NULL;
	struct dma_resv_iter cursor;

	dma_resv_lock(dmabuf->resv, NULL);
	dma_resv_for_each_fence(&cursor, dmabuf->resv, DMA_RESV_USAGE_KERNEL,
				fence) {
		dma_fence_put(found);
		found = dma_fence_get(fence);
	}
	dma_resv_unlock(dmabuf->resv);
	return found;
}

/*
 * The first error among the KERNEL fences of @dmabuf that have signalled,
 * as a CPU importer (rxe) checks it before it vmaps; 0 if none failed.
 */
static int dte_test_fence_error_locked(struct dma_buf *dmabuf)
{
	struct dma_resv_iter cursor;
	struct dma_fence *fence;
	int status;

	dma_resv_assert_held(dmabuf->resv);

	dma_resv_for_each_fence(&cursor, dmabuf->resv, DMA_RESV_USAGE_KERNEL,
				fence) {
		status = dma_fence_get_status(fence);
		if (status < 0)
			return status;
	}
	return 0;
}

static int dte_test_fence_error(struct dma_buf *dmabuf)
{
	int ret;

	dma_resv_lock(dmabuf->resv, NULL);
	ret = dte_test_fence_error_locked(dmabuf);
	dma_resv_unlock(dmabuf->resv);
	return ret;
}

static void dte_test_create_validation(struct kunit *test)
{
	struct dma_buf *dmabuf;
	struct dte_stats stats;

	KUNIT_EXPECT_EQ(test, PTR_ERR(dte_buffer_create(0, 0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dte_buffer_create(DTE_MAX_SIZE + 1, 0)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dte_buffer_create(PAGE_SIZE, 1U << 7)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dte_buffer_create(PAGE_SIZE, ~0U)),
			-EINVAL);

	dmabuf = dte_buffer_create(1, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	KUNIT_EXPECT_EQ(test, dmabuf->size, PAGE_SIZE);
	stats = dte_test_stats(test, dmabuf);
	KUNIT_EXPECT_EQ(test, stats.nr_pages, 1);
	KUNIT_EXPECT_EQ(test, stats.generation, 0);
	dma_buf_put(dmabuf);

	dmabuf = dte_buffer_create(PAGE_SIZE + 1, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	KUNIT_EXPECT_EQ(test, dmabuf->size, 2 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, dte_is_buffer(dmabuf));
	dma_buf_put(dmabuf);
}

static void dte_test_bad_requests(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dma_buf *dmabuf = imp->dmabuf;
	struct dte_stats before, after;

	before = dte_test_stats(test, dmabuf);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(dmabuf, 1U << 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, dte_buffer_fail_maps(dmabuf, 1, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, dte_buffer_fail_maps(dmabuf, 1, 5), -EINVAL);
	KUNIT_EXPECT_EQ(test, dte_buffer_fail_maps(dmabuf, 1, -4096), -EINVAL);
	KUNIT_EXPECT_EQ(test,
			dte_buffer_set_fence_delay(dmabuf,
						   DTE_MAX_FENCE_DELAY_US + 1),
			-EINVAL);
	after = dte_test_stats(test, dmabuf);
	KUNIT_EXPECT_MEMEQ(test, &before, &after, sizeof(before));
	KUNIT_EXPECT_EQ(test, imp->notified, 0);

	/* Nothing armed: the map succeeds. */
	dte_test_unmap(imp->attach, dte_test_map(imp->attach));
	KUNIT_EXPECT_EQ(test, dte_test_stats(test, dmabuf).injected_map_failures,
			0);
}

static void dte_test_attach_counts(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dte_stats stats;

	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.attachments, 1);
	KUNIT_EXPECT_EQ(test, stats.dynamic_attachments, 1);
	KUNIT_EXPECT_EQ(test, stats.pins, 0);
	KUNIT_EXPECT_EQ(test, stats.maps, 0);

	dma_buf_detach(imp->dmabuf, imp->attach);
	imp->attach = NULL;
	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.attachments, 0);
	KUNIT_EXPECT_EQ(test, stats.dynamic_attachments, 0);
}

static void dte_test_move_notify_once(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dte_stats stats;

	KUNIT_ASSERT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	KUNIT_EXPECT_EQ(test, imp->notified, 1);
	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.moves, 1);
	KUNIT_EXPECT_EQ(test, stats.generation, 1);

	KUNIT_ASSERT_EQ(test, dte_buffer_move(imp->dmabuf, DTE_MOVE_WAIT), 0);
	KUNIT_EXPECT_EQ(test, imp->notified, 2);
	KUNIT_EXPECT_TRUE(test, dte_test_kernel_fences_signaled(imp->dmabuf));

	KUNIT_ASSERT_EQ(test, dte_buffer_evict(imp->dmabuf), 0);
	KUNIT_EXPECT_EQ(test, imp->notified, 3);
	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.evictions, 1);
	KUNIT_EXPECT_EQ(test, stats.evicted, 1);
	KUNIT_EXPECT_EQ(test, stats.nr_pages, 0);
	KUNIT_EXPECT_EQ(test, stats.generation, 3);

	/* Already evicted: nothing to tell anyone. */
	KUNIT_ASSERT_EQ(test, dte_buffer_evict(imp->dmabuf), 0);
	KUNIT_EXPECT_EQ(test, imp->notified, 3);
	KUNIT_EXPECT_EQ(test, dte_test_stats(test, imp->dmabuf).evictions, 1);

	KUNIT_ASSERT_EQ(test, dte_buffer_revoke(imp->dmabuf), 0);
	KUNIT_EXPECT_EQ(test, imp->notified, 4);
	KUNIT_ASSERT_EQ(test, dte_buffer_revoke(imp->dmabuf), 0);
	KUNIT_EXPECT_EQ(test, imp->notified, 4);

	KUNIT_EXPECT_EQ(test, imp->notified_unlocked, 0);
}

static void dte_test_move_new_backing(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct sg_table *before, *after;
	struct dte_stats stats;

	before = dte_test_map(imp->attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, before);
	KUNIT_ASSERT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	KUNIT_EXPECT_EQ(test, imp->notified, 1);

	/* The old mapping is still held, so its pages cannot be reused. */
	after = dte_test_map(imp->attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, after);
	KUNIT_EXPECT_NE(test, sg_dma_address(before->sgl),
			sg_dma_address(after->sgl));
	KUNIT_EXPECT_EQ(test, dte_test_wait_kernel_fences(imp->dmabuf) > 0,
			true);

	dte_test_unmap(imp->attach, before);
	dte_test_unmap(imp->attach, after);
	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.maps, 2);
	KUNIT_EXPECT_EQ(test, stats.unmaps, 2);
}

static void dte_test_move_preserves_contents(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct sg_table *sgt;

	dte_test_fill(test, imp->dmabuf, 7);
	KUNIT_ASSERT_EQ(test, dte_buffer_set_fence_delay(imp->dmabuf, 50000),
			0);
	KUNIT_ASSERT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);

	/* As a dynamic importer: map, then wait for the KERNEL fence. */
	sgt = dte_test_map(imp->attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_FALSE(test, dte_test_kernel_fences_signaled(imp->dmabuf));
	KUNIT_EXPECT_GT(test, dte_test_wait_kernel_fences(imp->dmabuf), 0);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 7));
	dte_test_unmap(imp->attach, sgt);

	/* Moves queued behind a delayed copy still carry the contents. */
	KUNIT_ASSERT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	KUNIT_ASSERT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	KUNIT_ASSERT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	KUNIT_EXPECT_GT(test, dte_test_wait_kernel_fences(imp->dmabuf), 0);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 7));
	KUNIT_EXPECT_EQ(test, dte_test_stats(test, imp->dmabuf).moves, 4);
	KUNIT_EXPECT_EQ(test, imp->notified, 4);
}

static void dte_test_evict_restore(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dte_stats stats;
	struct sg_table *sgt;

	dte_test_fill(test, imp->dmabuf, 3);
	KUNIT_ASSERT_EQ(test, dte_buffer_evict(imp->dmabuf), 0);
	KUNIT_ASSERT_EQ(test, dte_buffer_set_fence_delay(imp->dmabuf, 20000),
			0);

	sgt = dte_test_map(imp->attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.evicted, 0);
	KUNIT_EXPECT_EQ(test, stats.nr_pages, DTE_TEST_PAGES);
	KUNIT_EXPECT_EQ(test, stats.generation, 2);
	KUNIT_EXPECT_EQ(test, stats.moves, 0);
	KUNIT_EXPECT_GT(test, dte_test_wait_kernel_fences(imp->dmabuf), 0);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 3));
	dte_test_unmap(imp->attach, sgt);

	/* A vmap restores too, and waits for the copy itself. */
	KUNIT_ASSERT_EQ(test, dte_buffer_evict(imp->dmabuf), 0);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 3));
	KUNIT_EXPECT_TRUE(test, dte_test_kernel_fences_signaled(imp->dmabuf));
	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.generation, 4);
	KUNIT_EXPECT_EQ(test, stats.evictions, 2);
	KUNIT_EXPECT_EQ(test, imp->notified, 2);
}

static void dte_test_pin_blocks_move(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dte_stats before, after;

	dma_resv_lock(imp->dmabuf->resv, NULL);
	KUNIT_EXPECT_EQ(test, dma_buf_pin(imp->attach), 0);
	dma_resv_unlock(imp->dmabuf->resv);

	before = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, before.pins, 1);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, 0), -EBUSY);
	KUNIT_EXPECT_EQ(test, dte_buffer_evict(imp->dmabuf), -EBUSY);
	after = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_MEMEQ(test, &before, &after, sizeof(before));
	KUNIT_EXPECT_EQ(test, imp->notified, 0);

	dma_resv_lock(imp->dmabuf->resv, NULL);
	dma_buf_unpin(imp->attach);
	dma_resv_unlock(imp->dmabuf->resv);

	KUNIT_EXPECT_EQ(test, dte_test_stats(test, imp->dmabuf).pins, 0);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	KUNIT_EXPECT_EQ(test, imp->notified, 1);
}

static void dte_test_injected_map_failures(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dte_stats stats;
	struct sg_table *sgt;
	int i;

	KUNIT_ASSERT_EQ(test, dte_buffer_fail_maps(imp->dmabuf, 3, -EIO), 0);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, PTR_ERR(dte_test_map(imp->attach)), -EIO);
	sgt = dte_test_map(imp->attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	dte_test_unmap(imp->attach, sgt);

	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.injected_map_failures, 3);
	KUNIT_EXPECT_EQ(test, stats.maps, 1);
	KUNIT_EXPECT_EQ(test, stats.unmaps, 1);

	/* A new setting replaces the old one; 0 disarms. */
	KUNIT_ASSERT_EQ(test, dte_buffer_fail_maps(imp->dmabuf, 5, -ENOMEM), 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dte_test_map(imp->attach)), -ENOMEM);
	KUNIT_ASSERT_EQ(test, dte_buffer_fail_maps(imp->dmabuf, 0, -ENOMEM), 0);
	sgt = dte_test_map(imp->attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	dte_test_unmap(imp->attach, sgt);
	KUNIT_EXPECT_EQ(test,
			dte_test_stats(test, imp->dmabuf).injected_map_failures,
			4);
}

static void dte_test_revoke(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dte_stats stats;
	struct sg_table *sgt;

	sgt = dte_test_map(imp->attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_ASSERT_EQ(test, dte_buffer_revoke(imp->dmabuf), 0);
	KUNIT_EXPECT_EQ(test, imp->notified, 1);

	KUNIT_EXPECT_EQ(test, PTR_ERR(dte_test_map(imp->attach)), -ENODEV);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, 0), -ENODEV);
	KUNIT_EXPECT_EQ(test, dte_buffer_evict(imp->dmabuf), -ENODEV);
	KUNIT_EXPECT_EQ(test, dte_buffer_fail_maps(imp->dmabuf, 1, -EIO),
			-ENODEV);
	dma_resv_lock(imp->dmabuf->resv, NULL);
	KUNIT_EXPECT_EQ(test, dma_buf_pin(imp->attach), -ENODEV);
	dma_resv_unlock(imp->dmabuf->resv);

	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.revoked, 1);
	KUNIT_EXPECT_EQ(test, stats.nr_pages, 0);
	KUNIT_EXPECT_EQ(test, stats.maps, 1);
	KUNIT_EXPECT_EQ(test, stats.pins, 0);
	KUNIT_EXPECT_EQ(test, stats.injected_map_failures, 0);

	/* The mapping from before stays valid until the importer drops it. */
	dte_test_unmap(imp->attach, sgt);
	KUNIT_EXPECT_EQ(test, dte_test_stats(test, imp->dmabuf).unmaps, 1);
	KUNIT_EXPECT_EQ(test, imp->notified, 1);
}

static void dte_test_static_attach(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dma_buf_attachment *attach;
	struct dte_stats stats;
	struct sg_table *sgt;

	dte_test_fill(test, imp->dmabuf, 11);
	KUNIT_ASSERT_EQ(test, dte_buffer_evict(imp->dmabuf), 0);
	KUNIT_ASSERT_EQ(test, dte_buffer_set_fence_delay(imp->dmabuf, 20000),
			0);

	/*
	 * The core pins and maps at attach (6.12), or at each map (6.16 on,
	 * see dte_compat.h); the pin waits for the restore.
	 */
	attach = dma_buf_attach(imp->dmabuf, imp->dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	if (DTE_CORE_MAPS_STATIC_AT_ATTACH) {
		KUNIT_EXPECT_TRUE(test,
				  dte_test_kernel_fences_signaled(imp->dmabuf));
		stats = dte_test_stats(test, imp->dmabuf);
		KUNIT_EXPECT_EQ(test, stats.pins, 1);
		KUNIT_EXPECT_EQ(test, stats.maps, 1);
		KUNIT_EXPECT_EQ(test, stats.evicted, 0);
	} else {
		stats = dte_test_stats(test, imp->dmabuf);
		KUNIT_EXPECT_EQ(test, stats.pins, 0);
		KUNIT_EXPECT_EQ(test, stats.maps, 0);
		KUNIT_EXPECT_EQ(test, stats.evicted, 1);
	}
	KUNIT_EXPECT_EQ(test, stats.attachments, 2);
	KUNIT_EXPECT_EQ(test, stats.dynamic_attachments, 1);

	sgt = dma_buf_map_attachment_unlocked(attach, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_TRUE(test, dte_test_kernel_fences_signaled(imp->dmabuf));
	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.pins, 1);
	KUNIT_EXPECT_EQ(test, stats.maps, 1);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, 0), -EBUSY);
	KUNIT_EXPECT_EQ(test, dte_buffer_evict(imp->dmabuf), -EBUSY);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 11));
	dma_buf_unmap_attachment_unlocked(attach, sgt, DMA_BIDIRECTIONAL);

	dma_buf_detach(imp->dmabuf, attach);
	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.attachments, 1);
	KUNIT_EXPECT_EQ(test, stats.pins, 0);
	KUNIT_EXPECT_EQ(test, stats.unmaps, 1);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	/* The static importer never heard of any move. */
	KUNIT_EXPECT_EQ(test, imp->notified, 2);
}

static void dte_test_vmap_iomem(struct kunit *test)
{
	struct dma_buf *dmabuf;
	struct iosys_map map;
	struct dte_stats stats;

	dmabuf = dte_buffer_create(PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	KUNIT_ASSERT_EQ(test, dma_buf_vmap_unlocked(dmabuf, &map), 0);
	KUNIT_EXPECT_FALSE(test, map.is_iomem);
	dma_buf_vunmap_unlocked(dmabuf, &map);
	dma_buf_put(dmabuf);

	dmabuf = dte_buffer_create(3 * PAGE_SIZE, DTE_CREATE_IOMEM);
	if (IS_ENABLED(CONFIG_INDIRECT_IOMEM) &&
	    !IS_ENABLED(CONFIG_INDIRECT_IOMEM_FALLBACK)) {
		KUNIT_EXPECT_EQ(test, PTR_ERR(dmabuf), -EOPNOTSUPP);
		kunit_skip(test, "I/O memory accessors cannot reach RAM here");
	}
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);

	KUNIT_ASSERT_EQ(test, dma_buf_vmap_unlocked(dmabuf, &map), 0);
	KUNIT_EXPECT_TRUE(test, map.is_iomem);
	dma_buf_vunmap_unlocked(dmabuf, &map);

	dte_test_fill(test, dmabuf, 5);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(dmabuf, DTE_MOVE_WAIT), 0);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, dmabuf, 5));
	stats = dte_test_stats(test, dmabuf);
	KUNIT_EXPECT_EQ(test, stats.vmaps, 3);
	KUNIT_EXPECT_EQ(test, stats.vunmaps, 3);
	dma_buf_put(dmabuf);
}

static void dte_test_move_wait(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	ktime_t start;

	KUNIT_ASSERT_EQ(test, dte_buffer_set_fence_delay(imp->dmabuf, 100000),
			0);
	start = ktime_get();
	KUNIT_ASSERT_EQ(test, dte_buffer_move(imp->dmabuf, DTE_MOVE_WAIT), 0);
	KUNIT_EXPECT_GE(test, ktime_us_delta(ktime_get(), start), 100000);
	KUNIT_EXPECT_TRUE(test, dte_test_kernel_fences_signaled(imp->dmabuf));
}

static void dte_test_release_signals_fence(struct kunit *test)
{
	struct dma_buf *dmabuf;
	struct dma_fence *fence;

	dmabuf = dte_buffer_create(PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	KUNIT_ASSERT_EQ(test,
			dte_buffer_set_fence_delay(dmabuf,
						   DTE_MAX_FENCE_DELAY_US),
			0);
	KUNIT_ASSERT_EQ(test, dte_buffer_move(dmabuf, 0), 0);
	fence = dte_test_kernel_fence(dmabuf);
	KUNIT_ASSERT_NOT_NULL(test, fence);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(fence));

	dma_buf_put(dmabuf);
	flush_delayed_fput();
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(fence, false, 5 * HZ), 0);
	dma_fence_put(fence);
}

struct dte_test_mover {
	struct dma_buf *dmabuf;
	bool stop;
	struct completion stopped;
	unsigned int moves;
	unsigned int evictions;
	unsigned int busy;
	int err;
};

/*
 * Stops on @stop rather than on kthread_stop(), which would interrupt a
 * DTE_MOVE_WAIT in progress like a signal.
 */
static int dte_test_mover_fn(void *data)
{
	struct dte_test_mover *mover = data;
	unsigned int i;
	int ret;

	for (i = 0; !READ_ONCE(mover->stop); i++) {
		if (i % 3 == 2) {
			ret = dte_buffer_evict(mover->dmabuf);
			mover->evictions += !ret;
		} else {
			ret = dte_buffer_move(mover->dmabuf,
					      i % 2 ? DTE_MOVE_WAIT : 0);
			mover->moves += !ret;
		}
		/* Refused while the importer's check holds a vmap. */
		mover->busy += ret == -EBUSY;
		if (ret && ret != -EBUSY && !mover->err)
			mover->err = ret;
		usleep_range(50, 150);
	}
	complete(&mover->stopped);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/* An importer refaulting while another thread moves and evicts. */
static void dte_test_concurrent_importer(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dte_test_mover mover = { .dmabuf = imp->dmabuf };
	struct task_struct *thread;
	struct dte_stats stats;
	struct sg_table *sgt;
	int i;

	init_completion(&mover.stopped);
	dte_test_fill(test, imp->dmabuf, 21);
	KUNIT_ASSERT_EQ(test, dte_buffer_set_fence_delay(imp->dmabuf, 100), 0);
	thread = kthread_run(dte_test_mover_fn, &mover, "dte-test-mover");
	KUNIT_ASSERT_FALSE(test, IS_ERR(thread));

	for (i = 0; i < 100; i++) {
		sgt = dte_test_map(imp->attach);
		KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(sgt));
		if (IS_ERR_OR_NULL(sgt))
			break;
		KUNIT_EXPECT_GT(test, dte_test_wait_kernel_fences(imp->dmabuf),
				0);
		KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 21));
		dte_test_unmap(imp->attach, sgt);
	}
	WRITE_ONCE(mover.stop, true);
	wait_for_completion(&mover.stopped);
	kthread_stop(thread);

	KUNIT_EXPECT_EQ(test, mover.err, 0);
	KUNIT_EXPECT_GT(test, mover.moves, 0);
	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.moves, mover.moves);
	KUNIT_EXPECT_EQ(test, stats.evictions, mover.evictions);
	/* A refused move or eviction has told importers all the same. */
	KUNIT_EXPECT_EQ(test, imp->notified,
			mover.moves + mover.evictions + mover.busy);
	KUNIT_EXPECT_EQ(test, imp->notified_unlocked, 0);
	KUNIT_EXPECT_EQ(test, stats.maps, stats.unmaps);
	KUNIT_EXPECT_EQ(test, stats.vmaps, stats.vunmaps);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 21));
}

/*
 * An importer that keeps a kernel mapping across move_notify: the dma-buf
 * core would hand its cached address out again after a move, so moves and
 * evictions are refused while it lasts, and the buffer stays as it was.
 */
static void dte_test_vmap_blocks_move(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dte_stats before, after;
	struct iosys_map map;

	dte_test_fill(test, imp->dmabuf, 17);
	KUNIT_ASSERT_EQ(test, dma_buf_vmap_unlocked(imp->dmabuf, &map), 0);

	before = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, 0), -EBUSY);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, DTE_MOVE_WAIT),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, dte_buffer_evict(imp->dmabuf), -EBUSY);
	after = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_MEMEQ(test, &before, &after, sizeof(before));
	/* Asked first, so that importers can drop their vmaps. */
	KUNIT_EXPECT_EQ(test, imp->notified, 3);

	/* The kept mapping and a new one still show the same pages. */
	KUNIT_EXPECT_TRUE(test, dte_test_check_map(test, &map,
						   imp->dmabuf->size, 17));
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 17));
	dma_buf_vunmap_unlocked(imp->dmabuf, &map);

	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, DTE_MOVE_WAIT), 0);
	KUNIT_EXPECT_EQ(test, dte_buffer_evict(imp->dmabuf), 0);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 17));
	KUNIT_EXPECT_EQ(test, dte_test_stats(test, imp->dmabuf).moves, 1);
}

/**
 * struct dte_test_vmapper - an importer that reaches the buffer only
 * through a vmap, which it drops on move_notify (as rxe does)
 * @map: the vmap
 * @mapped: whether @map is held
 * @notified: move_notify calls
 */
struct dte_test_vmapper {
	struct iosys_map map;
	bool mapped;
	unsigned int notified;
};

static void dte_test_vmapper_notify(struct dma_buf_attachment *attach)
{
	struct dte_test_vmapper *v = attach->importer_priv;

	dma_resv_assert_held(attach->dmabuf->resv);

	v->notified++;
	if (v->mapped)
		dma_buf_vunmap(attach->dmabuf, &v->map);
	v->mapped = false;
}

static const struct dma_buf_attach_ops dte_test_vmapper_ops = {
	.allow_peer2peer = false,
	DTE_INVALIDATE_OP(dte_test_vmapper_notify),
};

static int dte_test_vmapper_map(struct dma_buf *dmabuf,
				struct dte_test_vmapper *v)
{
	int ret;

	dma_resv_lock(dmabuf->resv, NULL);
	ret = dma_buf_vmap(dmabuf, &v->map);
	v->mapped = !ret;
	dma_resv_unlock(dmabuf->resv);
	return ret;
}

/*
 * Map as a CPU importer (rxe) does: wait for the KERNEL fences, give up if
 * one of them failed, and only then vmap, which must not fail.
 */
static int dte_test_cpu_map(struct kunit *test, struct dma_buf *dmabuf,
			    struct dte_test_vmapper *v)
{
	long ret;

	dma_resv_lock(dmabuf->resv, NULL);
	ret = dma_resv_wait_timeout(dmabuf->resv, DMA_RESV_USAGE_KERNEL,
				    false, DTE_TEST_WAIT);
	if (ret <= 0)
		ret = ret ? ret : -ETIMEDOUT;
	else
		ret = dte_test_fence_error_locked(dmabuf);
	if (!ret) {
		ret = dma_buf_vmap(dmabuf, &v->map);
		KUNIT_EXPECT_EQ(test, ret, 0);
		v->mapped = !ret;
	}
	dma_resv_unlock(dmabuf->resv);
	return ret;
}

static void dte_test_vmapper_unmap(struct dma_buf *dmabuf,
				   struct dte_test_vmapper *v)
{
	dma_resv_lock(dmabuf->resv, NULL);
	if (v->mapped)
		dma_buf_vunmap(dmabuf, &v->map);
	v->mapped = false;
	dma_resv_unlock(dmabuf->resv);
}

/* Moves and evictions go ahead when importers drop their vmaps in time. */
static void dte_test_vmap_dropped_on_notify(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dma_buf_attachment *attach;
	struct dte_test_vmapper *v;
	struct dte_stats stats;

	v = kunit_kzalloc(test, sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	attach = dma_buf_dynamic_attach(imp->dmabuf, imp->dev,
					&dte_test_vmapper_ops, v);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	dte_test_fill(test, imp->dmabuf, 19);

	KUNIT_EXPECT_EQ(test, dte_test_vmapper_map(imp->dmabuf, v), 0);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	KUNIT_EXPECT_FALSE(test, v->mapped);
	KUNIT_EXPECT_EQ(test, dte_test_vmapper_map(imp->dmabuf, v), 0);
	if (v->mapped)
		KUNIT_EXPECT_TRUE(test, dte_test_check_map(test, &v->map,
							   DTE_TEST_SIZE, 19));

	KUNIT_EXPECT_EQ(test, dte_buffer_evict(imp->dmabuf), 0);
	KUNIT_EXPECT_FALSE(test, v->mapped);
	KUNIT_EXPECT_EQ(test, dte_test_vmapper_map(imp->dmabuf, v), 0);
	if (v->mapped)
		KUNIT_EXPECT_TRUE(test, dte_test_check_map(test, &v->map,
							   DTE_TEST_SIZE, 19));

	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.moves, 1);
	KUNIT_EXPECT_EQ(test, stats.evictions, 1);
	KUNIT_EXPECT_EQ(test, stats.evicted, 0);
	KUNIT_EXPECT_EQ(test, v->notified, 2);
	KUNIT_EXPECT_EQ(test, imp->notified, 2);

	dma_resv_lock(imp->dmabuf->resv, NULL);
	if (v->mapped)
		dma_buf_vunmap(imp->dmabuf, &v->map);
	v->mapped = false;
	dma_resv_unlock(imp->dmabuf->resv);
	dma_buf_detach(imp->dmabuf, attach);
}

/*
 * A CPU importer (rxe) attaches with a device that does no DMA and has no
 * DMA mask: it may attach, vmap and follow moves; only a DMA map, which
 * would need the mask, is refused.
 */
static void dte_test_cpu_importer(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dma_buf_attachment *attach;
	struct dte_test_vmapper *v;
	struct dte_stats stats;
	struct device *dev;

	dev = kunit_device_register(test, "dte-test-cpu-importer");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	/* Like rxe's ib_device; KUnit gives its devices a mask. */
	dev->dma_mask = NULL;
	v = kunit_kzalloc(test, sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	attach = dma_buf_dynamic_attach(imp->dmabuf, dev,
					&dte_test_vmapper_ops, v);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	dte_test_fill(test, imp->dmabuf, 31);

	KUNIT_EXPECT_EQ(test, dte_test_vmapper_map(imp->dmabuf, v), 0);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	KUNIT_EXPECT_FALSE(test, v->mapped);
	KUNIT_EXPECT_EQ(test, dte_test_vmapper_map(imp->dmabuf, v), 0);
	if (v->mapped)
		KUNIT_EXPECT_TRUE(test, dte_test_check_map(test, &v->map,
							   DTE_TEST_SIZE, 31));
	dma_resv_lock(imp->dmabuf->resv, NULL);
	if (v->mapped)
		dma_buf_vunmap(imp->dmabuf, &v->map);
	v->mapped = false;
	dma_resv_unlock(imp->dmabuf->resv);

	KUNIT_EXPECT_EQ(test, PTR_ERR(dte_test_map(attach)), -EINVAL);
	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.attachments, 2);
	KUNIT_EXPECT_EQ(test, stats.dynamic_attachments, 2);
	KUNIT_EXPECT_EQ(test, stats.maps, 0);
	KUNIT_EXPECT_EQ(test, stats.moves, 1);
	dma_buf_detach(imp->dmabuf, attach);
}

/* A fence of another device's work on the buffer. */
struct dte_test_fence {
	struct dma_fence base;
	spinlock_t lock;	/* the fence's */
};

static_assert(offsetof(struct dte_test_fence, base) == 0);

static const char *dte_test_fence_name(struct dma_fence *fence)
{
	return "dte-test";
}

static const struct dma_fence_ops dte_test_fence_ops = {
	.get_driver_name = dte_test_fence_name,
	.get_timeline_name = dte_test_fence_name,
};

static void dte_test_fence_done(void *fence)
{
	dma_fence_signal(fence);
	dma_fence_put(fence);
}

/*
 * An unsignalled fence added to @dmabuf's reservation object with @usage;
 * signalled, if the test has not, and dropped when the test ends.
 */
static struct dma_fence *dte_test_add_fence(struct kunit *test,
					    struct dma_buf *dmabuf,
					    enum dma_resv_usage usage)
{
	struct dte_test_fence *f;
	int ret;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	spin_lock_init(&f->lock);
	dma_fence_init(&f->base, &dte_test_fence_ops, &f->lock,
		       dma_fence_context_alloc(1), 1);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							dte_test_fence_done,
							&f->base), 0);

	dma_resv_lock(dmabuf->resv, NULL);
	ret = dma_resv_reserve_fences(dmabuf->resv, 1);
	if (!ret)
		dma_resv_add_fence(dmabuf->resv, &f->base, usage);
	dma_resv_unlock(dmabuf->resv);
	KUNIT_ASSERT_EQ(test, ret, 0);
	return &f->base;
}

/*
 * Others' work on the old pages may still be running when a move is asked
 * for: the copy starts only once their fences, of any usage, signalled.
 * So does the checksum of an eviction.
 */
static void dte_test_move_after_fences(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dma_fence *write, *bookkeep, *copy, *seal;

	dte_test_fill(test, imp->dmabuf, 13);
	write = dte_test_add_fence(test, imp->dmabuf, DMA_RESV_USAGE_WRITE);
	bookkeep = dte_test_add_fence(test, imp->dmabuf,
				      DMA_RESV_USAGE_BOOKKEEP);

	KUNIT_ASSERT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	copy = dte_test_kernel_fence(imp->dmabuf);
	KUNIT_ASSERT_NOT_NULL(test, copy);
	KUNIT_EXPECT_EQ(test, dma_fence_wait_timeout(copy, false,
						     DTE_TEST_SETTLE), 0);
	dma_fence_signal(write);
	KUNIT_EXPECT_EQ(test, dma_fence_wait_timeout(copy, false,
						     DTE_TEST_SETTLE), 0);
	dma_fence_signal(bookkeep);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(copy, false,
						     DTE_TEST_WAIT), 0);
	KUNIT_EXPECT_EQ(test, dma_fence_get_status(copy), 1);
	KUNIT_EXPECT_GE(test, ktime_compare(copy->timestamp,
					    bookkeep->timestamp), 0);
	dma_fence_put(copy);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 13));

	write = dte_test_add_fence(test, imp->dmabuf, DMA_RESV_USAGE_WRITE);
	KUNIT_ASSERT_EQ(test, dte_buffer_evict(imp->dmabuf), 0);
	seal = dte_test_kernel_fence(imp->dmabuf);
	KUNIT_ASSERT_NOT_NULL(test, seal);
	KUNIT_EXPECT_EQ(test, dma_fence_wait_timeout(seal, false,
						     DTE_TEST_SETTLE), 0);
	dma_fence_signal(write);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(seal, false,
						     DTE_TEST_WAIT), 0);
	KUNIT_EXPECT_EQ(test, dma_fence_get_status(seal), 1);
	dma_fence_put(seal);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 13));
}

/*
 * The saved copy of an evicted buffer is checksummed once the copy that
 * filled it is done, even if the eviction came first.
 */
static void dte_test_evict_during_copy(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dma_fence *restore;
	struct sg_table *sgt;

	dte_test_fill(test, imp->dmabuf, 29);
	KUNIT_ASSERT_EQ(test, dte_buffer_set_fence_delay(imp->dmabuf, 20000),
			0);
	KUNIT_ASSERT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	KUNIT_ASSERT_EQ(test, dte_buffer_evict(imp->dmabuf), 0);

	sgt = dte_test_map(imp->attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	restore = dte_test_kernel_fence(imp->dmabuf);
	KUNIT_EXPECT_NOT_NULL(test, restore);
	if (restore) {
		KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(restore, false,
							     DTE_TEST_WAIT),
				0);
		KUNIT_EXPECT_EQ(test, dma_fence_get_status(restore), 1);
		dma_fence_put(restore);
	}
	dte_test_unmap(imp->attach, sgt);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 29));
}

/*
 * A saved copy changed behind the exporter's back (a lost or stray write)
 * fails its restore: the restore fence carries -EIO, and whoever waits for
 * the restore itself (a pin, a vmap, a page fault) fails.
 */
static void dte_test_checksum_catches_corruption(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dma_fence *restore;
	struct sg_table *sgt;
	int ret;

	dte_test_fill(test, imp->dmabuf, 23);
	KUNIT_EXPECT_EQ(test, dte_buffer_corrupt_saved(imp->dmabuf, 0),
			-EINVAL);
	KUNIT_ASSERT_EQ(test, dte_buffer_evict(imp->dmabuf), 0);
	KUNIT_EXPECT_EQ(test, dte_buffer_corrupt_saved(imp->dmabuf,
						       DTE_TEST_SIZE),
			-EINVAL);
	KUNIT_ASSERT_EQ(test, dte_buffer_corrupt_saved(imp->dmabuf,
						       3 * PAGE_SIZE + 17),
			0);

	sgt = dte_test_map(imp->attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	restore = dte_test_kernel_fence(imp->dmabuf);
	KUNIT_EXPECT_NOT_NULL(test, restore);
	if (restore) {
		KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(restore, false,
							     DTE_TEST_WAIT),
				0);
		KUNIT_EXPECT_EQ(test, dma_fence_get_status(restore), -EIO);
		dma_fence_put(restore);
	}
	dma_resv_lock(imp->dmabuf->resv, NULL);
	ret = dma_buf_pin(imp->attach);
	KUNIT_EXPECT_EQ(test, ret, -EIO);
	if (!ret)
		dma_buf_unpin(imp->attach);
	dma_resv_unlock(imp->dmabuf->resv);
	dte_test_unmap(imp->attach, sgt);

	/* The next move copies what is there, the changed byte included. */
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, DTE_MOVE_WAIT), 0);
	KUNIT_EXPECT_FALSE(test, dte_test_check(test, imp->dmabuf, 23));
	KUNIT_EXPECT_EQ(test, dte_test_stats(test, imp->dmabuf).pins, 0);
}

/*
 * A move failed by dte_buffer_fail_maps() is done, copy included, but the
 * KERNEL fence that stands for it signals with the error once the copy is
 * done; the next move's fence replaces it. Maps and vmaps are not failed.
 */
static void dte_test_fail_maps_move(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dma_fence *fence;
	struct dte_stats stats;
	struct sg_table *sgt;

	dte_test_fill(test, imp->dmabuf, 37);
	KUNIT_ASSERT_EQ(test, dte_buffer_set_fence_delay(imp->dmabuf, 50000),
			0);
	KUNIT_ASSERT_EQ(test, dte_buffer_fail_maps(imp->dmabuf, 1, -EIO), 0);
	KUNIT_ASSERT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	KUNIT_EXPECT_EQ(test, imp->notified, 1);
	fence = dte_test_kernel_fence(imp->dmabuf);
	KUNIT_ASSERT_NOT_NULL(test, fence);
	/* Not before the copy, which the fence's waiters wait for. */
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(fence));
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(fence, false,
						     DTE_TEST_WAIT), 0);
	KUNIT_EXPECT_EQ(test, dma_fence_get_status(fence), -EIO);
	dma_fence_put(fence);
	KUNIT_EXPECT_EQ(test, dte_test_fence_error(imp->dmabuf), -EIO);
	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.moves, 1);
	KUNIT_EXPECT_EQ(test, stats.generation, 1);
	KUNIT_EXPECT_EQ(test, stats.injected_map_failures, 1);

	/* Used up: a map succeeds, and the contents did move. */
	sgt = dte_test_map(imp->attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	dte_test_unmap(imp->attach, sgt);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 37));

	/* The next move clears the error. */
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, DTE_MOVE_WAIT), 0);
	KUNIT_EXPECT_EQ(test, dte_test_fence_error(imp->dmabuf), 0);
	fence = dte_test_kernel_fence(imp->dmabuf);
	KUNIT_ASSERT_NOT_NULL(test, fence);
	KUNIT_EXPECT_EQ(test, dma_fence_get_status(fence), 1);
	dma_fence_put(fence);

	/* Maps and moves share the count; a waiting move returns the error. */
	KUNIT_ASSERT_EQ(test, dte_buffer_fail_maps(imp->dmabuf, 3, -ENOMEM),
			0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dte_test_map(imp->attach)), -ENOMEM);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, DTE_MOVE_WAIT),
			-ENOMEM);
	KUNIT_EXPECT_EQ(test, dte_test_fence_error(imp->dmabuf), -ENOMEM);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, DTE_MOVE_WAIT), 0);
	KUNIT_EXPECT_EQ(test, dte_test_fence_error(imp->dmabuf), 0);

	/* Disarmed: the move succeeds. */
	KUNIT_ASSERT_EQ(test, dte_buffer_fail_maps(imp->dmabuf, 1, -EIO), 0);
	KUNIT_ASSERT_EQ(test, dte_buffer_fail_maps(imp->dmabuf, 0, -EIO), 0);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, DTE_MOVE_WAIT), 0);

	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.moves, 6);
	KUNIT_EXPECT_EQ(test, stats.injected_map_failures, 4);
	KUNIT_EXPECT_EQ(test, imp->notified, 6);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 37));
}

/*
 * An eviction takes none of the count, nor does the restore a vmap or a
 * pin makes (their callers use the pages at once); a move that restores
 * takes one.
 */
static void dte_test_fail_maps_restore(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dte_stats stats;
	int ret;

	dte_test_fill(test, imp->dmabuf, 41);
	KUNIT_ASSERT_EQ(test, dte_buffer_fail_maps(imp->dmabuf, 1, -EIO), 0);
	KUNIT_ASSERT_EQ(test, dte_buffer_evict(imp->dmabuf), 0);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 41));
	KUNIT_EXPECT_EQ(test, dte_test_fence_error(imp->dmabuf), 0);

	KUNIT_ASSERT_EQ(test, dte_buffer_evict(imp->dmabuf), 0);
	dma_resv_lock(imp->dmabuf->resv, NULL);
	ret = dma_buf_pin(imp->attach);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (!ret)
		dma_buf_unpin(imp->attach);
	dma_resv_unlock(imp->dmabuf->resv);
	KUNIT_EXPECT_EQ(test, dte_test_fence_error(imp->dmabuf), 0);
	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.evicted, 0);
	KUNIT_EXPECT_EQ(test, stats.injected_map_failures, 0);

	KUNIT_ASSERT_EQ(test, dte_buffer_evict(imp->dmabuf), 0);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, DTE_MOVE_WAIT),
			-EIO);
	KUNIT_EXPECT_EQ(test, dte_test_fence_error(imp->dmabuf), -EIO);
	stats = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, stats.evicted, 0);
	KUNIT_EXPECT_EQ(test, stats.moves, 1);
	KUNIT_EXPECT_EQ(test, stats.injected_map_failures, 1);
	KUNIT_EXPECT_TRUE(test, dte_test_check(test, imp->dmabuf, 41));
}

/*
 * Revocation replaces the KERNEL fence with one that has signalled with
 * -ENODEV, even while a move's copy is still in flight.
 */
static void dte_test_revoke_fence(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dma_fence *copy, *fence;

	KUNIT_ASSERT_EQ(test, dte_buffer_set_fence_delay(imp->dmabuf, 1000000),
			0);
	KUNIT_ASSERT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	copy = dte_test_kernel_fence(imp->dmabuf);
	KUNIT_ASSERT_NOT_NULL(test, copy);

	KUNIT_ASSERT_EQ(test, dte_buffer_revoke(imp->dmabuf), 0);
	fence = dte_test_kernel_fence(imp->dmabuf);
	KUNIT_ASSERT_NOT_NULL(test, fence);
	KUNIT_EXPECT_PTR_NE(test, fence, copy);
	KUNIT_EXPECT_TRUE(test, dma_fence_is_signaled(fence));
	KUNIT_EXPECT_EQ(test, dma_fence_get_status(fence), -ENODEV);
	KUNIT_EXPECT_EQ(test, fence->context, copy->context);
	KUNIT_EXPECT_TRUE(test, dte_test_kernel_fences_signaled(imp->dmabuf));
	KUNIT_EXPECT_EQ(test, dte_test_fence_error(imp->dmabuf), -ENODEV);
	dma_fence_put(fence);

	/* Revoking again adds nothing; the copy still finishes. */
	KUNIT_ASSERT_EQ(test, dte_buffer_revoke(imp->dmabuf), 0);
	KUNIT_EXPECT_EQ(test, dte_test_fence_error(imp->dmabuf), -ENODEV);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(copy, false,
						     DTE_TEST_WAIT), 0);
	KUNIT_EXPECT_EQ(test, dma_fence_get_status(copy), 1);
	dma_fence_put(copy);
}

/*
 * A CPU importer (rxe) never maps: it meets a failed move and a revocation
 * in the KERNEL fence, and never asks for a vmap that would fail (the
 * dma-buf core WARNs on those).
 */
static void dte_test_cpu_importer_failures(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dma_buf_attachment *attach;
	struct dte_test_vmapper *v;
	struct dte_stats before, after;
	struct device *dev;

	dev = kunit_device_register(test, "dte-test-cpu-importer");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	dev->dma_mask = NULL;
	v = kunit_kzalloc(test, sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	attach = dma_buf_dynamic_attach(imp->dmabuf, dev,
					&dte_test_vmapper_ops, v);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	dte_test_fill(test, imp->dmabuf, 43);

	KUNIT_EXPECT_EQ(test, dte_test_cpu_map(test, imp->dmabuf, v), 0);
	KUNIT_EXPECT_EQ(test, dte_buffer_fail_maps(imp->dmabuf, 1, -EIO), 0);
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	KUNIT_EXPECT_FALSE(test, v->mapped);
	before = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, dte_test_cpu_map(test, imp->dmabuf, v), -EIO);
	KUNIT_EXPECT_EQ(test, dte_test_cpu_map(test, imp->dmabuf, v), -EIO);
	after = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, after.vmaps, before.vmaps);
	KUNIT_EXPECT_EQ(test, after.injected_map_failures, 1);

	/* The next move serves again, with the contents. */
	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	KUNIT_EXPECT_EQ(test, dte_test_cpu_map(test, imp->dmabuf, v), 0);
	if (v->mapped)
		KUNIT_EXPECT_TRUE(test, dte_test_check_map(test, &v->map,
							   DTE_TEST_SIZE, 43));
	dte_test_vmapper_unmap(imp->dmabuf, v);

	KUNIT_EXPECT_EQ(test, dte_test_cpu_map(test, imp->dmabuf, v), 0);
	KUNIT_EXPECT_EQ(test, dte_buffer_revoke(imp->dmabuf), 0);
	KUNIT_EXPECT_FALSE(test, v->mapped);
	before = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, dte_test_cpu_map(test, imp->dmabuf, v), -ENODEV);
	after = dte_test_stats(test, imp->dmabuf);
	KUNIT_EXPECT_EQ(test, after.vmaps, before.vmaps);
	KUNIT_EXPECT_EQ(test, after.vunmaps, after.vmaps);
	KUNIT_EXPECT_EQ(test, v->notified, 3);
	dte_test_vmapper_unmap(imp->dmabuf, v);
	dma_buf_detach(imp->dmabuf, attach);
}

/*
 * A failed move's fence may sit behind someone else's fence in the
 * reservation object, where the next fence of the exporter does not take
 * its place but that of the other, signalled one: it is replaced all the
 * same. (With CONFIG_DEBUG_MUTEXES every reservation reallocates the list
 * and drops the signalled fences, so there the failed one goes anyway.)
 */
static void dte_test_fail_maps_behind_fence(struct kunit *test)
{
	struct dte_test_importer *imp = test->priv;
	struct dma_fence *write;

	write = dte_test_add_fence(test, imp->dmabuf, DMA_RESV_USAGE_WRITE);
	KUNIT_ASSERT_EQ(test, dte_buffer_fail_maps(imp->dmabuf, 1, -EIO), 0);
	KUNIT_ASSERT_EQ(test, dte_buffer_move(imp->dmabuf, 0), 0);
	dma_fence_signal(write);
	KUNIT_EXPECT_GT(test, dte_test_wait_kernel_fences(imp->dmabuf), 0);
	KUNIT_EXPECT_EQ(test, dte_test_fence_error(imp->dmabuf), -EIO);

	KUNIT_EXPECT_EQ(test, dte_buffer_move(imp->dmabuf, DTE_MOVE_WAIT), 0);
	KUNIT_EXPECT_EQ(test, dte_test_fence_error(imp->dmabuf), 0);
}

static struct kunit_case dte_test_cases[] = {
	KUNIT_CASE(dte_test_create_validation),
	KUNIT_CASE(dte_test_bad_requests),
	KUNIT_CASE(dte_test_attach_counts),
	KUNIT_CASE(dte_test_move_notify_once),
	KUNIT_CASE(dte_test_move_new_backing),
	KUNIT_CASE(dte_test_move_preserves_contents),
	KUNIT_CASE(dte_test_evict_restore),
	KUNIT_CASE(dte_test_pin_blocks_move),
	KUNIT_CASE(dte_test_injected_map_failures),
	KUNIT_CASE(dte_test_revoke),
	KUNIT_CASE(dte_test_static_attach),
	KUNIT_CASE(dte_test_vmap_iomem),
	KUNIT_CASE(dte_test_move_wait),
	KUNIT_CASE(dte_test_release_signals_fence),
	KUNIT_CASE(dte_test_concurrent_importer),
	KUNIT_CASE(dte_test_vmap_blocks_move),
	KUNIT_CASE(dte_test_vmap_dropped_on_notify),
	KUNIT_CASE(dte_test_cpu_importer),
	KUNIT_CASE(dte_test_move_after_fences),
	KUNIT_CASE(dte_test_evict_during_copy),
	KUNIT_CASE(dte_test_checksum_catches_corruption),
	KUNIT_CASE(dte_test_fail_maps_move),
	KUNIT_CASE(dte_test_fail_maps_restore),
	KUNIT_CASE(dte_test_revoke_fence),
	KUNIT_CASE(dte_test_cpu_importer_failures),
	KUNIT_CASE(dte_test_fail_maps_behind_fence),
	{}
};

static struct kunit_suite dte_test_suite = {
	.name = "dmabuf_test_exporter",
	.init = dte_test_init,
	.exit = dte_test_exit,
	.test_cases = dte_test_cases,
};

kunit_test_suite(dte_test_suite);

MODULE_DESCRIPTION("KUnit tests of dmabuf_test_exporter, as a dynamic importer");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DTE_NS_DMA_BUF);
MODULE_IMPORT_NS(DTE_NS_EXPORTER);
