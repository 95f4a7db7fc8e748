// SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB
/*
 * KUnit tests of the placement rules of rxe's dma-buf MRs.
 */

#include <kunit/test.h>
#include <linux/sizes.h>

#include "rxe.h"
#include "rxe_loc.h"

static void rxe_dmabuf_range_valid(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 0,
			rxe_dmabuf_check_range(0, SZ_4K, 0, SZ_4K));
	KUNIT_EXPECT_EQ(test, 0,
			rxe_dmabuf_check_range(SZ_4K, SZ_4K, 0x1000, SZ_8K));
	/* The last byte of the buffer. */
	KUNIT_EXPECT_EQ(test, 0,
			rxe_dmabuf_check_range(SZ_8K - 1, 1, 0xfff, SZ_8K));
	/* iova may end at the very top of the address space. */
	KUNIT_EXPECT_EQ(test, 0,
			rxe_dmabuf_check_range(0, SZ_4K, U64_MAX - SZ_4K + 1,
					       SZ_4K));
}

static void rxe_dmabuf_range_empty(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, -EINVAL,
			rxe_dmabuf_check_range(0, 0, 0, SZ_4K));
}

static void rxe_dmabuf_range_beyond_buffer(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, -EINVAL,
			rxe_dmabuf_check_range(0, SZ_8K, 0, SZ_4K));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			rxe_dmabuf_check_range(SZ_4K, 1, 0, SZ_4K));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			rxe_dmabuf_check_range(SZ_4K - 1, 2, 0xfff, SZ_4K));
}

static void rxe_dmabuf_range_overflow(struct kunit *test)
{
	/* offset + length wraps and would look small. */
	KUNIT_EXPECT_EQ(test, -EINVAL,
			rxe_dmabuf_check_range(U64_MAX - 10, 20, 0, SZ_4K));
	/* iova + length wraps. */
	KUNIT_EXPECT_EQ(test, -EINVAL,
			rxe_dmabuf_check_range(0, SZ_4K, U64_MAX - 10, SZ_4K));
}

static struct kunit_case rxe_dmabuf_test_cases[] = {
	KUNIT_CASE(rxe_dmabuf_range_valid),
	KUNIT_CASE(rxe_dmabuf_range_empty),
	KUNIT_CASE(rxe_dmabuf_range_beyond_buffer),
	KUNIT_CASE(rxe_dmabuf_range_overflow),
	{}
};

static struct kunit_suite rxe_dmabuf_test_suite = {
	.name = "rxe_dmabuf",
	.test_cases = rxe_dmabuf_test_cases,
};

kunit_test_suite(rxe_dmabuf_test_suite);

MODULE_DESCRIPTION("KUnit tests of rxe dma-buf MRs");
MODULE_LICENSE("Dual BSD/GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
