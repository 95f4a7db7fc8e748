/*
 * reg_bench: how long memory registration takes, by kind and size.
 *
 *   reg_bench [-d DEV] [-g GID_INDEX] [-r REPS] [SIZE...]
 *                                  (default rxe0, 1, 5; sizes 1M 64M 1G)
 *
 * Kinds: "pinned" (ibv_reg_mr of populated anonymous memory), "odp"
 * (ibv_reg_mr with IBV_ACCESS_ON_DEMAND of the same memory), and
 * "dmabuf-exporter" / "dmabuf-heap" (ibv_reg_dmabuf_mr of a dma-buf of the
 * test exporter / the system heap). Each buffer is allocated once and
 * registered and deregistered REPS times (the largest size: at most 3).
 * After each registration, one 4 KiB loopback RDMA WRITE into the new MR
 * is timed too: a lazy registration (ODP, a dynamic dma-buf) pays for its
 * mapping there. Prints one tab-separated line per kind and size:
 *   kind  bytes  reps  reg_median_us  reg_min_us  first_write_median_us
 *   dereg_median_us
 * A kind that is not available prints "n/a" and the reason on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

#define ACCESS (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ)
#define MAX_REPS 100

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end || !v || s[0] == '-')
		DIE("reg_bench: bad size '%s' (a number with an optional K, M or G)", s);
	return v;
}

#define PROBE 4096
/* The iova of dma-buf MRs (ibv_reg_dmabuf_mr leaves mr->addr at the offset) */
#define DMABUF_IOVA (1ULL << 40)

static struct ibv_mr *probe_mr;

static int gid_index = 1;

/*
 * Time one RDMA WRITE to @iova of @mr, in ns; NAN if it failed (then the
 * QP pair, in the error state, is replaced).
 */
static double first_write(struct loop *l, struct ibv_mr *mr, uint64_t iova)
{
	double t = now_ns();
	int st = loop_write(l, probe_mr, PROBE, iova, mr->rkey);

	if (st) {
		fprintf(stderr, "reg_bench: first write failed: %s\n", ibv_wc_status_str(st));
		loop_reconnect(l, 1, gid_index);
		return NAN;
	}
	return now_ns() - t;
}

static void report(const char *kind, size_t size, int reps, double *reg, double *first,
		   double *dereg)
{
	double mn = reg[0];
	char fw[32];
	int i, nf;

	for (i = 1; i < reps; i++)
		if (reg[i] < mn)
			mn = reg[i];
	/* Failed first writes (NAN) are left out; all failed: n/a */
	for (i = 0, nf = 0; i < reps; i++)
		if (!isnan(first[i]))
			first[nf++] = first[i];
	if (nf)
		snprintf(fw, sizeof(fw), "%.1f", quantile(first, nf, 0.5) / 1e3);
	else
		snprintf(fw, sizeof(fw), "n/a");
	printf("%s\t%zu\t%d\t%.1f\t%.1f\t%s\t%.1f\n", kind, size, reps,
	       quantile(reg, reps, 0.5) / 1e3, mn / 1e3, fw, quantile(dereg, reps, 0.5) / 1e3);
	fflush(stdout);
}

static void bench_va(struct loop *l, size_t size, int reps, int odp)
{
	double reg[MAX_REPS], first[MAX_REPS], dereg[MAX_REPS], t;
	const char *kind = odp ? "odp" : "pinned";
	void *buf;
	int i;

	buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		DIE("mmap %zu: %s", size, strerror(errno));
	/* An application registers memory it has already written. */
	memset(buf, 0x5a, size);

	for (i = 0; i < reps; i++) {
		struct ibv_mr *mr;

		t = now_ns();
		mr = ibv_reg_mr(l->pd, buf, size, ACCESS | (odp ? IBV_ACCESS_ON_DEMAND : 0));
		reg[i] = now_ns() - t;
		if (!mr) {
			fprintf(stderr, "reg_bench: %s ibv_reg_mr of %zu bytes: %s\n",
				kind, size, strerror(errno));
			printf("%s\t%zu\t0\tn/a\tn/a\tn/a\tn/a\n", kind, size);
			munmap(buf, size);
			return;
		}
		first[i] = first_write(l, mr, (uintptr_t)buf);
		t = now_ns();
		ibv_dereg_mr(mr);
		dereg[i] = now_ns() - t;
	}
	munmap(buf, size);
	report(kind, size, reps, reg, first, dereg);
}

static void bench_dmabuf(struct loop *l, size_t size, int reps, enum dmabuf_src src)
{
	double reg[MAX_REPS], first[MAX_REPS], dereg[MAX_REPS], t;
	char kind[32];
	int i, fd;

	snprintf(kind, sizeof(kind), "dmabuf-%s", dmabuf_src_name(src));
	fd = dmabuf_alloc(src, size);
	if (fd < 0) {
		fprintf(stderr, "reg_bench: %s: allocating %zu bytes: %s\n", kind, size, strerror(-fd));
		printf("%s\t%zu\t0\tn/a\tn/a\tn/a\tn/a\n", kind, size);
		return;
	}
	for (i = 0; i < reps; i++) {
		struct ibv_mr *mr;

		t = now_ns();
		mr = ibv_reg_dmabuf_mr(l->pd, 0, size, DMABUF_IOVA, fd, ACCESS);
		reg[i] = now_ns() - t;
		if (!mr) {
			fprintf(stderr, "reg_bench: %s ibv_reg_dmabuf_mr of %zu bytes: %s\n",
				kind, size, strerror(errno));
			printf("%s\t%zu\t0\tn/a\tn/a\tn/a\tn/a\n", kind, size);
			close(fd);
			return;
		}
		first[i] = first_write(l, mr, DMABUF_IOVA);
		t = now_ns();
		ibv_dereg_mr(mr);
		dereg[i] = now_ns() - t;
	}
	close(fd);
	report(kind, size, reps, reg, first, dereg);
}

int main(int argc, char **argv)
{
	const char *dev = "rxe0";
	size_t sizes[16], max = 0;
	int reps = 5, nsizes = 0, opt, i;
	struct loop l;

	while ((opt = getopt(argc, argv, "d:g:r:")) != -1) {
		switch (opt) {
		case 'd': dev = optarg; break;
		case 'g': gid_index = atoi(optarg); break;
		case 'r':
			reps = atoi(optarg);
			if (reps < 1 || reps > MAX_REPS)
				DIE("reg_bench: -r must be 1..%d", MAX_REPS);
			break;
		default:
			DIE("usage: reg_bench [-d DEV] [-g GID_INDEX] [-r REPS] [SIZE...]");
		}
	}
	for (; optind < argc && nsizes < 16; optind++)
		sizes[nsizes++] = parse_size(argv[optind]);
	if (!nsizes) {
		sizes[nsizes++] = 1UL << 20;
		sizes[nsizes++] = 64UL << 20;
		sizes[nsizes++] = 1UL << 30;
	}
	for (i = 0; i < nsizes; i++)
		if (sizes[i] > max)
			max = sizes[i];

	loop_open(&l, dev);
	loop_connect(&l, 1, gid_index);
	probe_mr = ibv_reg_mr(l.pd, calloc(1, PROBE), PROBE, ACCESS);
	if (!probe_mr)
		DIE("reg_bench: source MR: %s", strerror(errno));
	printf("kind\tbytes\treps\treg_median_us\treg_min_us\tfirst_write_median_us\tdereg_median_us\n");
	for (i = 0; i < nsizes; i++) {
		int r = sizes[i] == max && max >= (256UL << 20) && reps > 3 ? 3 : reps;

		bench_va(&l, sizes[i], r, 0);
		bench_va(&l, sizes[i], r, 1);
		bench_dmabuf(&l, sizes[i], r, SRC_DTE);
		bench_dmabuf(&l, sizes[i], r, SRC_HEAP);
	}
	return 0;
}
