// SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB
/*
 * KUnit tests of rxe's on-demand paging MRs: the mapping arithmetic, and
 * an invalidation that comes before the MR is ready.
 */

#include <kunit/test.h>
#include <linux/sizes.h>
#include <rdma/ib_umem_odp.h>

#include "rxe.h"
#include "rxe_loc.h"

static void rxe_odp_mapped_bytes_aligned(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, SZ_4K, rxe_odp_mapped_bytes(0x1000, 1, 12));
	KUNIT_EXPECT_EQ(test, 3 * SZ_4K, rxe_odp_mapped_bytes(0x1000, 3, 12));
}

static void rxe_odp_mapped_bytes_unaligned(struct kunit *test)
{
	/* The first page counts only from the byte asked for. */
	KUNIT_EXPECT_EQ(test, 1, rxe_odp_mapped_bytes(0x1fff, 1, 12));
	KUNIT_EXPECT_EQ(test, SZ_4K + 0x10,
			rxe_odp_mapped_bytes(0x1ff0, 2, 12));
	/* Huge pages: the offset is taken within the huge page. */
	KUNIT_EXPECT_EQ(test, SZ_2M - 0x1000,
			rxe_odp_mapped_bytes(0x201000, 1, 21));
}

static void rxe_odp_mapped_bytes_none(struct kunit *test)
{
	/* Nothing mapped, or an error count, covers nothing. */
	KUNIT_EXPECT_EQ(test, 0, rxe_odp_mapped_bytes(0x1000, 0, 12));
	KUNIT_EXPECT_EQ(test, 0, rxe_odp_mapped_bytes(0x1000, -EFAULT, 12));
}

/*
 * The core inserts a umem's interval notifier before rxe attaches its
 * copy lock to the umem: an invalidation in between has nothing to unmap
 * and must not touch what is not there yet.
 */
static void rxe_odp_invalidate_before_ready(struct kunit *test)
{
	struct mmu_notifier_range range = {
		.start = 0x10000,
		.end = 0x20000,
		.flags = MMU_NOTIFIER_RANGE_BLOCKABLE,
	};
	struct ib_umem_odp *umem;

	umem = kunit_kzalloc(test, sizeof(*umem), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, umem);
	mutex_init(&umem->umem_mutex);

	KUNIT_EXPECT_TRUE(test, rxe_odp_invalidate(&umem->notifier, &range,
						   42));
	KUNIT_EXPECT_EQ(test, umem->notifier.invalidate_seq, 42UL);
	KUNIT_EXPECT_FALSE(test, mutex_is_locked(&umem->umem_mutex));
}

static struct kunit_case rxe_odp_test_cases[] = {
	KUNIT_CASE(rxe_odp_mapped_bytes_aligned),
	KUNIT_CASE(rxe_odp_mapped_bytes_unaligned),
	KUNIT_CASE(rxe_odp_mapped_bytes_none),
	KUNIT_CASE(rxe_odp_invalidate_before_ready),
	{}
};

static struct kunit_suite rxe_odp_test_suite = {
	.name = "rxe_odp",
	.test_cases = rxe_odp_test_cases,
};

kunit_test_suite(rxe_odp_test_suite);

MODULE_DESCRIPTION("KUnit tests of rxe on-demand paging");
MODULE_LICENSE("Dual BSD/GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
