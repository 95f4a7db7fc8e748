/*
 * Message patterns. Message i is the xorshift64* stream seeded from i, so
 * no two messages share a pattern and no byte repeats its neighbours':
 * stale, misplaced and shifted data all show. Byte k of a message is byte
 * k % 8, little-endian, of the stream's word k / 8, so two hosts of either
 * byte order agree on it.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <inttypes.h>
#include <string.h>

#include "xfer.h"

static uint64_t pattern_seed(uint64_t msg)
{
	uint64_t x = msg + 0x9e3779b97f4a7c15ULL;	/* splitmix64 */

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x ? x : 1;	/* xorshift must not start at zero */
}

static inline uint64_t pattern_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

void xfer_pattern_fill(void *dst, uint64_t msg, size_t len)
{
	unsigned char *p = dst;
	uint64_t s = pattern_seed(msg), w;
	size_t off;

	for (off = 0; off + 8 <= len; off += 8) {
		w = htole64(pattern_next(&s));
		memcpy(p + off, &w, 8);
	}
	for (w = pattern_next(&s); off < len; off++, w >>= 8)
		p[off] = (unsigned char)w;
}

__attribute__((noreturn))
static void pattern_mismatch(const unsigned char *p, uint64_t msg, size_t len,
			     uint64_t slot)
{
	uint64_t s = pattern_seed(msg), w = 0;
	size_t off, first = len, bad = 0;
	unsigned int exp = 0, got = 0;

	for (off = 0; off < len; off++) {
		unsigned int e;

		if (!(off % 8))
			w = pattern_next(&s);
		e = (w >> (8 * (off % 8))) & 0xff;
		if (p[off] == e)
			continue;
		if (!bad++) {
			first = off;
			exp = e;
			got = p[off];
		}
	}
	xfer_die("data mismatch in message %" PRIu64 " (slot %" PRIu64 ") at offset %zu: expected 0x%02x, got 0x%02x; %zu of %zu bytes differ",
		 msg, slot, first, exp, got, bad, len);
}

size_t xfer_pattern_diff(const void *src, uint64_t msg, size_t len)
{
	const unsigned char *p = src;
	uint64_t s = pattern_seed(msg), w, a;
	size_t off, i;

	for (off = 0; off + 8 <= len; off += 8) {
		w = htole64(pattern_next(&s));
		memcpy(&a, p + off, 8);
		if (a == w)
			continue;
		/* w holds the expected bytes in memory order. */
		for (i = 0; p[off + i] == ((const unsigned char *)&w)[i]; i++)
			;
		return off + i;
	}
	for (w = pattern_next(&s); off < len; off++, w >>= 8)
		if (p[off] != (unsigned char)w)
			return off;
	return len;
}

size_t xfer_pattern_check(const void *src, uint64_t msg, size_t len,
			  uint64_t slot)
{
	if (xfer_pattern_diff(src, msg, len) != len)
		pattern_mismatch(src, msg, len, slot);
	return len;
}
