// SPDX-License-Identifier: GPL-2.0
/*
 * mpi_check: move data between two MPI ranks and verify every byte.
 *
 *   mpirun -np 2 ... mpi_check [--max-size BYTES]
 *
 * Two-sided: for each size from 1 byte to --max-size (default 16 MiB; each
 * power of two, and one byte less and one more up to 64 KiB, where MPI
 * libraries switch protocols), rank 0 sends a message to rank 1 and rank 1
 * sends one back. The receiver checks the received count, every byte of
 * the message, and that the bytes after it in the receive buffer were not
 * touched.
 *
 * One-sided: rank 1 exposes a window. Rank 0 writes into it with MPI_Put
 * and reads rank 1's own pattern back with MPI_Get, at several sizes and
 * at an odd offset, in fence epochs. Rank 1 checks what was put, and that
 * the window outside the range is untouched; rank 0 checks what it got.
 *
 * Every message carries its own pattern (a function of the size, the
 * direction and the byte's offset), so a byte that is stale, shifted or
 * from another message does not pass. The checker is tried on a corrupted
 * buffer before anything is sent: a check that cannot fail proves nothing.
 *
 * Prints one line per part and a verdict; exits 0 only if both ranks
 * verified every byte.
 */
#include <errno.h>
#include <inttypes.h>
#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD_LEN 64		/* bytes checked past a message's end */
#define POISON 0xa5		/* what a receive buffer holds before a receive */
#define WIN_OFFSET 3		/* an odd window offset for the one-sided part */

static int rank;
static uint64_t bytes_verified;

/* The byte at @offset of the message identified by @stream. */
static uint8_t pattern_byte(uint32_t stream, size_t offset)
{
	uint32_t x = (uint32_t)offset * 2654435761u ^ stream * 40503u;

	x ^= x >> 15;
	return (uint8_t)(x ^ x >> 8 ^ (uint32_t)(offset >> 16));
}

static void fill(uint8_t *buf, size_t len, uint32_t stream)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(stream, i);
}

/*
 * check() - @buf holds @len bytes of @stream's pattern followed by
 * @guard_len bytes of POISON. Unless @quiet, reports the first bad byte as
 * @what and counts @len verified bytes. Returns the number of bad bytes.
 */
static uint64_t check(const uint8_t *buf, size_t len, size_t guard_len,
		      uint32_t stream, const char *what, bool quiet)
{
	uint64_t bad = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t want = pattern_byte(stream, i);

		if (buf[i] == want)
			continue;
		if (!bad++ && !quiet)
			fprintf(stderr, "mpi_check: rank %d: %s: byte %zu of %zu is 0x%02x, expected 0x%02x\n",
				rank, what, i, len, buf[i], want);
	}
	for (size_t i = 0; i < guard_len; i++) {
		if (buf[len + i] == POISON)
			continue;
		if (!bad++ && !quiet)
			fprintf(stderr, "mpi_check: rank %d: %s: byte %zu past the end was overwritten (0x%02x)\n",
				rank, what, i, buf[len + i]);
	}
	if (!quiet)
		bytes_verified += len;
	return bad;
}

/* The checker must catch a changed byte and an overrun, or it proves nothing. */
static int check_the_checker(void)
{
	uint8_t buf[256 + GUARD_LEN];

	fill(buf, 256, 7);
	memset(buf + 256, POISON, GUARD_LEN);
	if (check(buf, 256, GUARD_LEN, 7, "self-test", true))
		return -1;
	buf[100] ^= 1;
	if (check(buf, 256, GUARD_LEN, 7, "self-test", true) != 1)
		return -1;
	buf[100] ^= 1;
	buf[256 + 5] = 0;
	if (check(buf, 256, GUARD_LEN, 7, "self-test", true) != 1)
		return -1;
	buf[256 + 5] = POISON;
	if (check(buf, 256, GUARD_LEN, 8, "self-test", true) == 0)
		return -1;	/* another message's pattern must not pass */
	return 0;
}

/* The sizes of the two-sided part, ascending, up to @max; returns how many. */
static size_t message_sizes(size_t *sizes, size_t room, size_t max)
{
	size_t n = 0;

	for (size_t p = 1; p <= max && n + 3 <= room; p *= 2) {
		if (p > 4 && p <= 65536)
			sizes[n++] = p - 1;
		sizes[n++] = p;
		if (p >= 2 && p <= 65536 && p + 1 <= max)
			sizes[n++] = p + 1;
	}
	return n;
}

static uint64_t two_sided(uint8_t *buf, size_t max)
{
	size_t sizes[128], n = message_sizes(sizes, 128, max);
	uint64_t bad = 0, volume = 0;

	for (size_t s = 0; s < n; s++) {
		size_t len = sizes[s];

		/* Rank 0 to rank 1, then back; the stream names size and direction. */
		for (int from = 0; from < 2; from++) {
			uint32_t stream = (uint32_t)(2 * s + from);
			char what[64];

			snprintf(what, sizeof(what), "%zu-byte message from rank %d", len, from);
			if (rank == from) {
				fill(buf, len, stream);
				MPI_Send(buf, (int)len, MPI_BYTE, 1 - rank, (int)s, MPI_COMM_WORLD);
			} else {
				MPI_Status status;
				int count;

				memset(buf, POISON, len + GUARD_LEN);
				MPI_Recv(buf, (int)len, MPI_BYTE, 1 - rank, (int)s, MPI_COMM_WORLD,
					 &status);
				MPI_Get_count(&status, MPI_BYTE, &count);
				if ((size_t)count != len) {
					fprintf(stderr, "mpi_check: rank %d: %s: received %d bytes\n",
						rank, what, count);
					bad++;
				}
				bad += check(buf, len, GUARD_LEN, stream, what, false);
			}
			volume += len;
		}
	}
	if (rank == 0)
		printf("mpi_check: send/recv: %zu sizes from 1 B to %zu B, both ways, %" PRIu64 " bytes\n",
		       n, sizes[n - 1], volume);
	return bad;
}

static uint64_t one_sided(uint8_t *buf, size_t max)
{
	const size_t lens[] = { 1, 4097, 65536, 1 << 20, max };
	size_t win_len = WIN_OFFSET + max + GUARD_LEN, prev = 0;
	uint64_t bad = 0, volume = 0;
	uint8_t *win_buf;
	MPI_Win win;

	MPI_Win_allocate((MPI_Aint)win_len, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &win_buf, &win);
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		size_t len = lens[l] < max ? lens[l] : max;
		uint32_t put_stream = (uint32_t)(1000 + 2 * l), get_stream = put_stream + 1;
		char what[64];

		if (len == prev)
			continue;
		prev = len;
		/* MPI_Put: rank 0's pattern into rank 1's window, past poison. */
		memset(win_buf, POISON, win_len);
		MPI_Win_fence(0, win);
		if (rank == 0) {
			fill(buf, len, put_stream);
			MPI_Put(buf, (int)len, MPI_BYTE, 1, WIN_OFFSET, (int)len, MPI_BYTE, win);
		}
		MPI_Win_fence(0, win);
		if (rank == 1) {
			snprintf(what, sizeof(what), "%zu bytes MPI_Put", len);
			for (size_t i = 0; i < WIN_OFFSET; i++) {
				if (win_buf[i] == POISON)
					continue;
				if (!bad++)
					fprintf(stderr, "mpi_check: rank 1: %s: window byte %zu before the target was overwritten\n",
						what, i);
			}
			bad += check(win_buf + WIN_OFFSET, len, GUARD_LEN, put_stream, what, false);
		}

		/* MPI_Get: rank 1's own pattern back into rank 0's poisoned buffer. */
		if (rank == 1)
			fill(win_buf + WIN_OFFSET, len, get_stream);
		MPI_Win_fence(0, win);
		if (rank == 0) {
			memset(buf, POISON, len + GUARD_LEN);
			MPI_Get(buf, (int)len, MPI_BYTE, 1, WIN_OFFSET, (int)len, MPI_BYTE, win);
		}
		MPI_Win_fence(0, win);
		if (rank == 0) {
			snprintf(what, sizeof(what), "%zu bytes MPI_Get", len);
			bad += check(buf, len, GUARD_LEN, get_stream, what, false);
		}
		volume += 2 * len;
	}
	MPI_Win_free(&win);
	if (rank == 0)
		printf("mpi_check: put/get: window offset %d, up to %zu B, %" PRIu64 " bytes\n",
		       WIN_OFFSET, max, volume);
	return bad;
}

static void usage(void)
{
	fprintf(stderr, "usage: mpirun -np 2 ... mpi_check [--max-size BYTES]\n");
}

int main(int argc, char **argv)
{
	uint64_t bad = 0, all_bad, verified;
	size_t max = 16 << 20;
	uint8_t *buf;
	int size;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "--max-size") && i + 1 < argc) {
			errno = 0;
			max = strtoull(argv[++i], &end, 0);
			if (errno || *end || !max || max > INT32_MAX - GUARD_LEN) {
				if (!rank)
					fprintf(stderr, "mpi_check: --max-size must be 1 to %d bytes, not '%s'\n",
						INT32_MAX - GUARD_LEN, argv[i]);
				MPI_Finalize();
				return 2;
			}
		} else {
			if (!rank)
				usage();
			MPI_Finalize();
			return 2;
		}
	}
	if (size != 2) {
		if (!rank)
			fprintf(stderr, "mpi_check: needs exactly 2 ranks, not %d\n", size);
		MPI_Finalize();
		return 2;
	}
	if (check_the_checker()) {
		fprintf(stderr, "mpi_check: rank %d: the byte checker failed its self-test\n", rank);
		MPI_Abort(MPI_COMM_WORLD, 3);
	}
	buf = malloc(max + GUARD_LEN);
	if (!buf) {
		fprintf(stderr, "mpi_check: rank %d: cannot allocate %zu bytes\n", rank, max);
		MPI_Abort(MPI_COMM_WORLD, 3);
	}

	bad += two_sided(buf, max);
	bad += one_sided(buf, max);
	free(buf);

	MPI_Allreduce(&bad, &all_bad, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
	MPI_Reduce(&bytes_verified, &verified, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
	if (rank == 0) {
		if (all_bad)
			printf("mpi_check: FAIL: %" PRIu64 " bad bytes\n", all_bad);
		else
			printf("mpi_check: PASS: %" PRIu64 " bytes verified\n", verified);
		fflush(stdout);
	}
	MPI_Finalize();
	return all_bad ? 1 : 0;
}
