// SPDX-License-Identifier: GPL-2.0
/*
 * odp_cost: what an ODP fault and an ODP invalidation cost in rxe.
 *
 * Fault: ibv_advise_mr(PREFETCH_WRITE, FLUSH) over resident pages runs
 * rxe's fault path (hmm_range_fault, map) for every page: time per page.
 * Invalidation: madvise(MADV_DONTNEED) on memory an ODP MR has mapped,
 * and the same on identical memory without an MR. Seen from here, rxe's
 * share of the madvise is lost in the cost of freeing the pages (the two
 * differ by more from run to run than rxe adds), so the kernel measures it
 * itself: run this with the rxe_odp tracepoints enabled and read their
 * duration_ns (tests/bench/guest-bench.sh does).
 *
 * usage: odp_cost [DEV] [MiB] [ROUNDS]
 */
#include <infiniband/verbs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *dev_name = argc > 1 ? argv[1] : "rxe0";
	size_t len = (argc > 2 ? strtoul(argv[2], NULL, 0) : 16) << 20;
	int rounds = argc > 3 ? atoi(argv[3]) : 11, i, n;
	size_t pages = len / 4096;
	double *fault, *inval, *plain, t;
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	char *a, *b;

	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), dev_name))
			ctx = ibv_open_device(list[i]);
	if (!ctx || !(pd = ibv_alloc_pd(ctx))) {
		fprintf(stderr, "odp_cost: cannot open %s\n", dev_name);
		return 1;
	}
	a = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mr = ibv_reg_mr(pd, a, len, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_ON_DEMAND);
	fault = calloc(rounds, sizeof(*fault));
	inval = calloc(rounds, sizeof(*inval));
	plain = calloc(rounds, sizeof(*plain));
	if (a == MAP_FAILED || b == MAP_FAILED || !mr || !fault || !inval ||
	    !plain) {
		perror("odp_cost: setup");
		return 1;
	}
	for (i = 0; i < rounds; i++) {
		struct ibv_sge sge = {
			.addr = (uintptr_t)a, .length = len, .lkey = mr->lkey,
		};

		memset(a, i, len);
		memset(b, i, len);
		t = now_us();
		if (ibv_advise_mr(pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
				  IBV_ADVISE_MR_FLAG_FLUSH, &sge, 1)) {
			perror("odp_cost: ibv_advise_mr");
			return 1;
		}
		fault[i] = (now_us() - t) / pages;
		/* Alternate which goes first: the second runs warmer. */
		if (i & 1) {
			t = now_us();
			madvise(b, len, MADV_DONTNEED);
			plain[i] = now_us() - t;
		}
		t = now_us();
		madvise(a, len, MADV_DONTNEED);
		inval[i] = now_us() - t;
		if (!(i & 1)) {
			t = now_us();
			madvise(b, len, MADV_DONTNEED);
			plain[i] = now_us() - t;
		}
	}
	qsort(fault, rounds, sizeof(*fault), cmp);
	qsort(inval, rounds, sizeof(*inval), cmp);
	qsort(plain, rounds, sizeof(*plain), cmp);
	printf("odp_cost: %zu MiB (%zu pages), %d rounds, medians:\n",
	       len >> 20, pages, rounds);
	printf("  fault (prefetch of resident pages): %.3f us/page\n",
	       fault[rounds / 2]);
	printf("  madvise with ODP MR mapped: %.1f us, without MR: %.1f us\n",
	       inval[rounds / 2], plain[rounds / 2]);
	ibv_dereg_mr(mr);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	return 0;
}
