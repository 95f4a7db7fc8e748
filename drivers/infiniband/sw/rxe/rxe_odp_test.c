// SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB
/*
 * KUnit tests of the mapping arithmetic of rxe's on-demand paging MRs.
 */

#include <kunit/test.h>
#include <linux/sizes.h>

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

static struct kunit_case rxe_odp_test_cases[] = {
	KUNIT_CASE(rxe_odp_mapped_bytes_aligned),
	KUNIT_CASE(rxe_odp_mapped_bytes_unaligned),
	KUNIT_CASE(rxe_odp_mapped_bytes_none),
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
