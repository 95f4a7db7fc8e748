/*
 * odp_reg_race: register ODP MRs while the memory under them changes.
 *
 * An ODP MR's interval notifier is live from the moment the core creates
 * its umem, before rxe has attached its own state to it; an explicit MR
 * gets it at registration, each child of an implicit MR at the first
 * access to its 2 MiB. An invalidation in that window must find nothing
 * to unmap rather than a NULL pointer. This program makes such
 * invalidations as often as it can: one thread registers explicit ODP MRs
 * over a fixed range and prefetches them, and prefetches slots of an
 * implicit MR, which creates its children, while churn threads munmap and
 * mmap that range again, MADV_DONTNEED it and fork (write-protecting it for
 * COW), back to back.
 *
 * A registration may fail only with EFAULT (nothing mapped at that
 * moment), a prefetch only with EFAULT, ENOENT or EBUSY (the core gives up
 * faulting after a second of back-to-back invalidations, as mlx5's does);
 * anything else fails the run, as does a kernel splat (the guest's check). rxe must count
 * invalidations during the run, or the race was not run at all. Then a
 * verified RDMA WRITE through a fresh explicit MR and through the
 * implicit MR shows both still work.
 *
 * usage: odp_reg_race [-d DEV] [--seconds S]
 * Prints one summary line:
 *   odp_reg_race: seconds=S regs=N reg_efault=N prefetches=N
 *   prefetch_err=N remaps=N madvises=N forks=N odp_invalidations=N
 * and exits 0 on success, 1 on failure, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib_stress.h"

/* Four children of the implicit MR. */
#define RACE_LEN	(8UL << 20)
#define RACE_CHILD	(2UL << 20)
#define RACE_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_ON_DEMAND)

enum churn_kind { CHURN_REMAP, CHURN_MADVISE, CHURN_FORK, CHURN_COUNT };

static const char *const churn_names[CHURN_COUNT] = {
	"remaps", "madvises", "forks",
};

static char *range;
static atomic_bool stop;
static atomic_uint_fast64_t churns[CHURN_COUNT];

static void map_range(int flags)
{
	void *p = mmap(range, RACE_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);

	if (p == MAP_FAILED)
		xfer_die("mmap of %lu bytes: %s", RACE_LEN, strerror(errno));
	range = p;
}

static void *churn(void *arg)
{
	enum churn_kind kind = (enum churn_kind)(uintptr_t)arg;
	pid_t pid;

	while (!atomic_load(&stop)) {
		switch (kind) {
		case CHURN_REMAP:
			/* The range is gone for a moment, then new memory. */
			if (munmap(range, RACE_LEN))
				xfer_die("munmap: %s", strerror(errno));
			map_range(MAP_FIXED);
			break;
		case CHURN_MADVISE:
			/* EINVAL/ENOMEM: the remap thread has it unmapped. */
			madvise(range, RACE_LEN, MADV_DONTNEED);
			break;
		case CHURN_FORK:
			pid = fork();
			if (pid < 0)
				xfer_die("fork: %s", strerror(errno));
			if (!pid)
				_exit(0);
			if (waitpid(pid, NULL, 0) != pid)
				xfer_die("waitpid: %s", strerror(errno));
			break;
		default:
			break;
		}
		atomic_fetch_add(&churns[kind], 1);
	}
	return NULL;
}

static int prefetch(struct ibv_pd *pd, struct ibv_mr *mr, uint64_t addr,
		    uint32_t len)
{
	struct ibv_sge sge = {
		.addr = addr, .length = len, .lkey = mr->lkey,
	};

	return ibv_advise_mr(pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
			     IBV_ADVISE_MR_FLAG_FLUSH, &sge, 1);
}

/* Whether a prefetch in the race may end with @err (see above). */
static bool prefetch_may_fail(int err)
{
	return !err || err == EFAULT || err == ENOENT || err == EBUSY;
}

/* One verified RDMA WRITE from @p's source into @mr at @addr. */
static void write_through(struct xfer_dev *dev, struct ibv_mr *mr,
			  char *addr, uint64_t msg, const char *what)
{
	struct stress_pair p;
	struct ibv_wc wc;

	stress_pair_create(&p, dev, xfer_buf_ops_find("host"), 4096, 14);
	/* Aim the pair's destination at the ODP memory instead. */
	p.rkey = mr->rkey;
	p.dst = (uintptr_t)addr;
	xfer_pattern_fill((void *)(uintptr_t)p.src, msg, 4096);
	if (stress_post_write(&p, 1, 0, 4096))
		xfer_die("%s: posting the RDMA WRITE failed", what);
	if (stress_poll(p.req.cq, &wc, 1, STRESS_WC_TIMEOUT_S) != 1)
		xfer_die("%s: no completion", what);
	if (wc.status != IBV_WC_SUCCESS)
		xfer_die("%s: %s", what, ibv_wc_status_str(wc.status));
	if (xfer_pattern_diff(addr, msg, 4096) != 4096)
		xfer_die("%s: data differs", what);
	stress_ep_destroy(&p.req);
	stress_ep_destroy(&p.resp);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t regs = 0, reg_efault = 0, prefetches = 0, prefetch_err = 0;
	uint64_t seconds = 4, inval0, inval;
	pthread_t threads[CHURN_COUNT];
	const char *dev_name = NULL;
	struct ibv_mr *implicit, *mr;
	struct xfer_dev dev;
	double end;
	int c, err;

	xfer_prog = "odp_reg_race";
	while ((c = getopt_long(argc, argv, "d:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev_name = optarg;
			break;
		case 't':
			seconds = stress_parse_u64(optarg, "--seconds", 1,
						   XFER_MAX_SECONDS);
			break;
		case 'h':
			printf("usage: odp_reg_race [-d DEV] [--seconds S]\n");
			return 0;
		default:
			xfer_die_usage("unknown option");
		}
	}
	if (optind != argc)
		xfer_die_usage("unexpected argument '%s'", argv[optind]);

	xfer_dev_open(&dev, dev_name, 1);
	map_range(0);
	implicit = ibv_reg_mr(dev.pd, NULL, SIZE_MAX, RACE_ACCESS);
	if (!implicit)
		xfer_die("ibv_reg_mr(implicit ODP): %s", strerror(errno));
	inval0 = stress_counter(&dev, "odp_invalidations");

	for (int k = 0; k < CHURN_COUNT; k++)
		if (pthread_create(&threads[k], NULL, churn,
				   (void *)(uintptr_t)k))
			xfer_die("pthread_create failed");

	end = xfer_now() + (double)seconds;
	for (uint64_t i = 0; xfer_now() < end; i++) {
		char *slot = range + (i % (RACE_LEN / RACE_CHILD)) * RACE_CHILD;

		mr = ibv_reg_mr(dev.pd, range, RACE_LEN, RACE_ACCESS);
		if (!mr) {
			if (errno != EFAULT)
				xfer_die("ibv_reg_mr(ODP) in the race: %s",
					 strerror(errno));
			reg_efault++;
			continue;
		}
		regs++;
		err = prefetch(dev.pd, mr, (uintptr_t)range, RACE_LEN);
		prefetch_err += err != 0;
		if (!prefetch_may_fail(err))
			xfer_die("prefetch of the explicit MR: %s",
				 strerror(err));
		err = prefetch(dev.pd, implicit, (uintptr_t)slot, RACE_CHILD);
		prefetch_err += err != 0;
		if (!prefetch_may_fail(err))
			xfer_die("prefetch of the implicit MR: %s",
				 strerror(err));
		prefetches += 2;
		if (ibv_dereg_mr(mr))
			xfer_die("ibv_dereg_mr in the race: %s",
				 strerror(errno));
	}

	atomic_store(&stop, true);
	for (int k = 0; k < CHURN_COUNT; k++)
		pthread_join(threads[k], NULL);
	inval = stress_counter(&dev, "odp_invalidations") - inval0;

	printf("odp_reg_race: seconds=%" PRIu64 " regs=%" PRIu64
	       " reg_efault=%" PRIu64 " prefetches=%" PRIu64
	       " prefetch_err=%" PRIu64, seconds, regs, reg_efault,
	       prefetches, prefetch_err);
	for (int k = 0; k < CHURN_COUNT; k++)
		printf(" %s=%" PRIuFAST64, churn_names[k],
		       atomic_load(&churns[k]));
	printf(" odp_invalidations=%" PRIu64 "\n", inval);
	fflush(stdout);
	if (!regs || !inval)
		xfer_die("no registration (%" PRIu64 ") or no invalidation (%"
			 PRIu64 ") during the run: the race did not run",
			 regs, inval);

	mr = ibv_reg_mr(dev.pd, range, RACE_LEN, RACE_ACCESS);
	if (!mr)
		xfer_die("ibv_reg_mr(ODP) after the race: %s", strerror(errno));
	write_through(&dev, mr, range, 1, "explicit MR after the race");
	write_through(&dev, implicit, range + RACE_CHILD, 2,
		      "implicit MR after the race");
	ibv_dereg_mr(mr);
	ibv_dereg_mr(implicit);
	munmap(range, RACE_LEN);
	xfer_dev_close(&dev);
	return 0;
}
