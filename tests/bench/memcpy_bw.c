/*
 * memcpy_bw: the CPU's memcpy bandwidth, the ceiling of a software RDMA
 * device whose data path is memcpy.
 *
 *   memcpy_bw [-t SECONDS] SIZE...     (default 0.3 s per size)
 *
 * For each SIZE, copies one SIZE-byte buffer into another for about
 * SECONDS and prints "bytes <TAB> MiB/s", the bytes copied per second.
 * Both buffers are written first, so no page fault is timed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	double secs = 0.3;
	int opt;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't')
			DIE("usage: memcpy_bw [-t SECONDS] SIZE...");
		secs = atof(optarg);
		if (secs <= 0)
			DIE("memcpy_bw: -t must be positive");
	}
	if (optind >= argc)
		DIE("usage: memcpy_bw [-t SECONDS] SIZE...");

	printf("bytes\tMiB_per_s\n");
	for (; optind < argc; optind++) {
		size_t size = strtoull(argv[optind], NULL, 0);
		unsigned long n = 0, batch;
		double t0, t;
		char *a, *b;

		if (!size)
			DIE("memcpy_bw: bad size '%s'", argv[optind]);
		a = aligned_alloc(4096, (size + 4095) & ~4095UL);
		b = aligned_alloc(4096, (size + 4095) & ~4095UL);
		if (!a || !b)
			DIE("memcpy_bw: out of memory");
		memset(a, 1, size);
		memset(b, 2, size);
		memcpy(b, a, size);	/* warm up */

		/*
		 * Read the clock once per batch of copies: in a UML guest a
		 * clock_gettime() is a real system call and costs more than a
		 * small copy. Batches grow until one takes a millisecond.
		 */
		batch = 1;
		t0 = now_ns();
		do {
			unsigned long i;
			double tb = now_ns();

			for (i = 0; i < batch; i++) {
				memcpy(b, a, size);
				/* Keep the copy from being optimized away. */
				__asm__ __volatile__("" : : "r"(b) : "memory");
			}
			n += batch;
			t = now_ns();
			if (t - tb < 1e6)
				batch *= 2;
			t -= t0;
		} while (t < secs * 1e9 || n < 4);
		printf("%zu\t%.1f\n", size, (double)n * size / (t / 1e9) / (1 << 20));
		fflush(stdout);
		free(a);
		free(b);
	}
	return 0;
}
