/*
 * fuzz_rand.h - the fuzzer's random numbers, biased towards edge values.
 *
 * One generator, seeded once and drawn from by the main thread only: every
 * argument of every call follows from the seed, so "--seed N" replays a run
 * call for call (what the kernel does with concurrent calls may differ).
 */
#ifndef FUZZ_RAND_H
#define FUZZ_RAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FUZZ_PAGE	4096ULL
#define FUZZ_TOP_PAGE	(UINT64_MAX - FUZZ_PAGE + 1)

static uint64_t fuzz_rng_state;

static inline void fuzz_seed(uint64_t seed)
{
	fuzz_rng_state = seed;
}

/* splitmix64: every seed, 0 included, gives a full-period sequence. */
static inline uint64_t rnd64(void)
{
	uint64_t z = (fuzz_rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static inline uint64_t rnd(uint64_t n)
{
	return rnd64() % n;
}

/* True with probability @pct percent. */
static inline bool chance(unsigned int pct)
{
	return rnd(100) < pct;
}

#define PICK(arr)	((arr)[rnd(sizeof(arr) / sizeof((arr)[0]))])

/* The values most likely to find an off-by-one or an overflow. */
static const uint64_t fuzz_edges[] = {
	0, 1, 2, 7, 8, FUZZ_PAGE - 1, FUZZ_PAGE, FUZZ_PAGE + 1, 2 * FUZZ_PAGE,
	65536, 1ULL << 20, (1ULL << 20) + 1,
	(1ULL << 31) - 1, 1ULL << 31, (1ULL << 31) + 1,
	(1ULL << 32) - 1, 1ULL << 32, (1ULL << 32) + 1,
	(1ULL << 63) - 1, 1ULL << 63, (1ULL << 63) + 1,
	FUZZ_TOP_PAGE, UINT64_MAX - 1, UINT64_MAX,
	(uint64_t)-2, (uint64_t)INT32_MIN, (uint64_t)INT32_MAX,
	0xffffffffULL << 12,
};

/* An edge value, or a random one of random magnitude, or one nudged. */
static inline uint64_t rnd_edge(void)
{
	uint64_t v;

	switch (rnd(4)) {
	case 0:
	case 1:
		return PICK(fuzz_edges);
	case 2:
		v = rnd64();
		return v >> rnd(64);
	default:
		v = PICK(fuzz_edges);
		return v + rnd(5) - 2;
	}
}

/* A length near @n or near an edge. */
static inline uint64_t rnd_near(uint64_t n)
{
	switch (rnd(6)) {
	case 0:
		return n;
	case 1:
		return n + 1;
	case 2:
		return n - 1;
	case 3:
		return n ? rnd(n) + 1 : 0;
	case 4:
		return n + FUZZ_PAGE;
	default:
		return rnd_edge();
	}
}

#endif /* FUZZ_RAND_H */
