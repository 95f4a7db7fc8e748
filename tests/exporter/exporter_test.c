// SPDX-License-Identifier: GPL-2.0-only
/*
 * User-space test of the dmabuf_test_exporter uAPI: every ioctl with valid
 * and invalid input (exact errno, state unchanged after a refusal), and
 * mmap following moves, evictions and revocation.
 *
 * Prints one line per case, "PASS name", "FAIL name: reason" or
 * "SKIP name: reason", and exits non-zero if any case failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/udmabuf.h>

#include "dmabuf_test_exporter.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SKIPPED 2
typedef __u8 u8;
typedef __u32 u32;
typedef __u64 u64;

static int dev_fd = -1;
static long page_size;
static char why[512];

/* Record why a case failed; -1, for "return fail(...)". */
#define fail(...) (snprintf(why, sizeof(why), __VA_ARGS__), -1)
/* The same for a case that cannot run here. */
#define skip(...) (snprintf(why, sizeof(why), __VA_ARGS__), SKIPPED)

static const char *errname(int err)
{
	static char buf[4][32];
	static int next;
	char *s = buf[next++ % 4];

	switch (err) {
	case 0: return "success";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case ENODEV: return "ENODEV";
	case EBUSY: return "EBUSY";
	case ENOTTY: return "ENOTTY";
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case EINTR: return "EINTR";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	snprintf(s, 32, "errno %d", err);
	return s;
}

/* 0 if a call that returns 0 or an errno returned @want, else fail(). */
static int expect_err(int got, int want, const char *call)
{
	if (got == want)
		return 0;
	return fail("%s: got %s, want %s", call, errname(got), errname(want));
}

#define EXPECT_ERR(call, want) expect_err((call), (want), #call)
#define EXPECT_OK(call) expect_err((call), 0, #call)

static int xioctl(unsigned long cmd, void *arg)
{
	return ioctl(dev_fd, cmd, arg) ? errno : 0;
}

static int dte_create(u64 size, u32 flags, int *fd)
{
	struct dte_create c = { .size = size, .flags = flags, .fd = -1 };
	int err = xioctl(DTE_IOC_CREATE, &c);

	*fd = err ? -1 : c.fd;
	return err;
}

static int buf_op(unsigned long cmd, int fd, u32 flags)
{
	struct dte_buf_op op = { .fd = fd, .flags = flags };

	return xioctl(cmd, &op);
}

static int dte_move(int fd, u32 flags)
{
	return buf_op(DTE_IOC_MOVE, fd, flags);
}

static int dte_evict(int fd)
{
	return buf_op(DTE_IOC_EVICT, fd, 0);
}

static int dte_revoke(int fd)
{
	return buf_op(DTE_IOC_REVOKE, fd, 0);
}

static int dte_fail_maps(int fd, u32 count, __s32 error, u32 pad)
{
	struct dte_fail_maps f = {
		.fd = fd, .count = count, .error = error, .pad = pad,
	};

	return xioctl(DTE_IOC_FAIL_MAPS, &f);
}

static int dte_fence_delay(int fd, u32 delay_us)
{
	struct dte_fence_delay d = { .fd = fd, .delay_us = delay_us };

	return xioctl(DTE_IOC_FENCE_DELAY, &d);
}

static int dte_stats(int fd, struct dte_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->fd = fd;
	return xioctl(DTE_IOC_STATS, st);
}

/* Every buffer ioctl with a given fd, for the fd-validation cases. */
static int all_buf_ioctls(int fd, int want)
{
	struct dte_stats st;

	if (EXPECT_ERR(dte_move(fd, 0), want))
		return -1;
	if (EXPECT_ERR(dte_move(fd, DTE_MOVE_WAIT), want))
		return -1;
	if (EXPECT_ERR(dte_evict(fd), want))
		return -1;
	if (EXPECT_ERR(dte_revoke(fd), want))
		return -1;
	if (EXPECT_ERR(dte_fail_maps(fd, 1, EIO, 0), want))
		return -1;
	if (EXPECT_ERR(dte_fence_delay(fd, 1000), want))
		return -1;
	if (EXPECT_ERR(dte_stats(fd, &st), want))
		return -1;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static u8 pattern(size_t i, unsigned int seed)
{
	return (u8)(i * 131 + (i >> 10) * 7 + seed);
}

static void fill(u8 *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern(i, seed);
}

/* 0 if every byte matches, else fail() with the first difference. */
static int verify(const u8 *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pattern(i, seed))
			return fail("byte %zu is 0x%02x, want 0x%02x", i, p[i],
				    pattern(i, seed));
	return 0;
}

static void *map_buf(int fd, size_t len, int flags, off_t off)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, off);
}

#define STAT(f) { #f, offsetof(struct dte_stats, f) }
static const struct {
	const char *name;
	size_t offset;
} stat_u64[] = {
	STAT(attachments), STAT(dynamic_attachments), STAT(maps),
	STAT(unmaps), STAT(vmaps), STAT(vunmaps), STAT(pins), STAT(moves),
	STAT(evictions), STAT(injected_map_failures), STAT(nr_pages),
	STAT(generation),
};

/* Stats must be equal after a refused request. */
static int same_stats(const struct dte_stats *a, const struct dte_stats *b)
{
	unsigned int i;
	u64 x, y;

	for (i = 0; i < ARRAY_SIZE(stat_u64); i++) {
		memcpy(&x, (const char *)a + stat_u64[i].offset, sizeof(x));
		memcpy(&y, (const char *)b + stat_u64[i].offset, sizeof(y));
		if (x != y)
			return fail("state changed: %s %llu -> %llu",
				    stat_u64[i].name, (unsigned long long)x,
				    (unsigned long long)y);
	}
	if (a->revoked != b->revoked || a->evicted != b->evicted)
		return fail("state changed: revoked %u -> %u, evicted %u -> %u",
			    a->revoked, b->revoked, a->evicted, b->evicted);
	return 0;
}

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(sigbus_jmp, 1);
}

/* Whether touching *p raises SIGBUS. */
static bool touch_sigbus(u8 *p, bool write)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	bool faulted = false;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(sigbus_jmp, 1) == 0) {
		/* Atomics: the compiler may not drop the access. */
		if (write)
			__atomic_store_n(p, 0x5a, __ATOMIC_RELAXED);
		else
			(void)__atomic_load_n(p, __ATOMIC_RELAXED);
	} else {
		faulted = true;
	}
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

/* ---- cases ---- */

static int case_create(void)
{
	struct dte_stats st;
	int fd, fl;
	off_t end;

	if (EXPECT_OK(dte_create(1, 0, &fd)))
		return -1;
	if (fd < 0)
		return fail("no fd");
	end = lseek(fd, 0, SEEK_END);
	if (end != page_size)
		return fail("size 1 gave %lld bytes, want %ld",
			    (long long)end, page_size);
	fl = fcntl(fd, F_GETFD);
	if (!(fl >= 0 && (fl & FD_CLOEXEC)))
		return fail("fd is not close-on-exec");
	fl = fcntl(fd, F_GETFL);
	if (!(fl >= 0 && (fl & O_ACCMODE) == O_RDWR))
		return fail("fd is not O_RDWR");
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (!(st.nr_pages == 1 && st.generation == 0 && st.moves == 0 &&
	      st.evictions == 0 && st.attachments == 0 && st.maps == 0 &&
	      st.vmaps == 0 && st.pins == 0 && !st.revoked && !st.evicted))
		return fail("fresh buffer has nr_pages %llu generation %llu",
			    (unsigned long long)st.nr_pages,
			    (unsigned long long)st.generation);
	close(fd);

	if (EXPECT_OK(dte_create(page_size + 1, 0, &fd)))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (st.nr_pages != 2)
		return fail("size page+1 gave %llu pages",
			    (unsigned long long)st.nr_pages);
	close(fd);

	if (EXPECT_OK(dte_create(5 * page_size, 0, &fd)))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (st.nr_pages != 5)
		return fail("5 pages gave %llu",
			    (unsigned long long)st.nr_pages);
	close(fd);
	return 0;
}

/* The kernel-side effect (an I/O memory vmap) is KUnit's to check. */
static int case_create_iomem(void)
{
	size_t len = 5 * page_size;
	struct dte_stats st;
	u8 *p;
	int fd, err;

	err = dte_create(len, DTE_CREATE_IOMEM, &fd);
	if (err == EOPNOTSUPP)
		return skip("I/O memory accessors cannot reach RAM here (UML)");
	if (EXPECT_OK(err))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (st.nr_pages != 5)
		return fail("5 pages gave %llu",
			    (unsigned long long)st.nr_pages);
	p = map_buf(fd, len, MAP_SHARED, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	fill(p, len, 12);
	if (EXPECT_OK(dte_move(fd, 0)))
		return -1;
	if (verify(p, len, 12))
		return -1;
	munmap(p, len);
	close(fd);
	return 0;
}

static int case_create_invalid(void)
{
	static const struct { u64 size; u32 flags; } bad[] = {
		{ 0, 0 },
		{ DTE_MAX_SIZE + 1, 0 },
		{ DTE_MAX_SIZE + 4096, 0 },
		{ (u64)-1, 0 },
		{ (u64)-1 - 100, 0 },
		{ 4096, 1U << 1 },
		{ 4096, 1U << 31 },
		{ 4096, ~0U },
		{ 0, DTE_CREATE_IOMEM },
	};
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int err = dte_create(bad[i].size, bad[i].flags, &fd);

		if (!err)
			close(fd);
		if (err != EINVAL)
			return fail("size %llu flags 0x%x: got %s, want EINVAL",
				    (unsigned long long)bad[i].size, bad[i].flags,
				    errname(err));
	}
	return 0;
}

static int case_closed_fd(void)
{
	int fd;

	if (EXPECT_OK(dte_create(page_size, 0, &fd)))
		return -1;
	close(fd);
	if (all_buf_ioctls(fd, EBADF))
		return -1;
	return all_buf_ioctls(-1, EBADF);
}

static int case_regular_file(void)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	int ret;

	if (fd < 0)
		fd = memfd_create("dte-regular", MFD_CLOEXEC);
	if (fd < 0)
		return fail("no regular file: %s", strerror(errno));
	ret = all_buf_ioctls(fd, EINVAL);
	close(fd);
	return ret;
}

static int case_device_fd(void)
{
	return all_buf_ioctls(dev_fd, EINVAL);
}

static int case_foreign_dmabuf(void)
{
	struct udmabuf_create uc = { .flags = UDMABUF_FLAGS_CLOEXEC };
	int memfd, udev, fd, ret;

	udev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (udev < 0)
		return skip("/dev/udmabuf: %s", strerror(errno));
	memfd = memfd_create("dte-foreign", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0)
		return fail("memfd_create: %s", strerror(errno));
	if (ftruncate(memfd, 2 * page_size))
		return fail("ftruncate: %s",
			    strerror(errno));
	if (fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK))
		return fail("F_ADD_SEALS: %s",
			    strerror(errno));
	uc.memfd = memfd;
	uc.size = 2 * page_size;
	fd = ioctl(udev, UDMABUF_CREATE, &uc);
	close(udev);
	close(memfd);
	if (fd < 0)
		return fail("UDMABUF_CREATE: %s", strerror(errno));
	ret = all_buf_ioctls(fd, EINVAL);
	close(fd);
	return ret;
}

static int case_bad_flags(void)
{
	struct dte_stats before, after;
	int fd;

	if (EXPECT_OK(dte_create(4 * page_size, 0, &fd)))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &before)))
		return -1;
	if (EXPECT_ERR(dte_move(fd, 1U << 1), EINVAL))
		return -1;
	if (EXPECT_ERR(dte_move(fd, ~0U), EINVAL))
		return -1;
	if (EXPECT_ERR(buf_op(DTE_IOC_EVICT, fd, DTE_MOVE_WAIT), EINVAL))
		return -1;
	if (EXPECT_ERR(buf_op(DTE_IOC_EVICT, fd, 1U << 4), EINVAL))
		return -1;
	if (EXPECT_ERR(buf_op(DTE_IOC_REVOKE, fd, DTE_MOVE_WAIT), EINVAL))
		return -1;
	if (EXPECT_ERR(buf_op(DTE_IOC_REVOKE, fd, 1U << 9), EINVAL))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &after)))
		return -1;
	close(fd);
	return same_stats(&before, &after);
}

static int case_fail_maps(void)
{
	struct dte_stats before, after;
	int fd;

	if (EXPECT_OK(dte_create(page_size, 0, &fd)))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &before)))
		return -1;
	if (EXPECT_ERR(dte_fail_maps(fd, 1, 0, 0), EINVAL))
		return -1;
	if (EXPECT_ERR(dte_fail_maps(fd, 1, -EIO, 0), EINVAL))
		return -1;
	if (EXPECT_ERR(dte_fail_maps(fd, 1, 4096, 0), EINVAL))
		return -1;
	if (EXPECT_ERR(dte_fail_maps(fd, 1, 0x7fffffff, 0), EINVAL))
		return -1;
	if (EXPECT_ERR(dte_fail_maps(fd, 1, EIO, 1), EINVAL))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &after)))
		return -1;
	if (same_stats(&before, &after))
		return -1;

	if (EXPECT_OK(dte_fail_maps(fd, 3, EIO, 0)))
		return -1;
	if (EXPECT_OK(dte_fail_maps(fd, 1, ENOMEM, 0)))
		return -1;
	if (EXPECT_OK(dte_fail_maps(fd, 1, 4095, 0)))
		return -1;
	if (EXPECT_OK(dte_fail_maps(fd, 1, 1, 0)))
		return -1;
	if (EXPECT_OK(dte_fail_maps(fd, (u32)-1, EIO, 0)))
		return -1;
	if (EXPECT_OK(dte_fail_maps(fd, 0, EIO, 0)))
		return -1;
	/* Nobody mapped, so nothing failed. */
	if (EXPECT_OK(dte_stats(fd, &after)))
		return -1;
	close(fd);
	if (!(after.injected_map_failures == 0 && after.maps == 0))
		return fail("injected_map_failures %llu without any importer",
			    (unsigned long long)after.injected_map_failures);
	return 0;
}

static int expect_counts(int fd, u64 moves, u64 injected, const char *when)
{
	struct dte_stats st;

	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (st.moves != moves || st.injected_map_failures != injected)
		return fail("%s: moves %llu injected_map_failures %llu, want %llu and %llu",
			    when, (unsigned long long)st.moves,
			    (unsigned long long)st.injected_map_failures,
			    (unsigned long long)moves,
			    (unsigned long long)injected);
	return 0;
}

/*
 * FAIL_MAPS fails moves too: the move is done, copy included, but its
 * fence carries the error (which MOVE_WAIT returns) until the next move
 * replaces it. The contents move all the same: mmap sees them.
 */
static int case_fail_maps_move(void)
{
	size_t len = 8 * page_size;
	u8 *p;
	int fd;

	if (EXPECT_OK(dte_create(len, 0, &fd)))
		return -1;
	p = map_buf(fd, len, MAP_SHARED, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	fill(p, len, 16);

	if (EXPECT_OK(dte_fail_maps(fd, 1, ENOMEM, 0)))
		return -1;
	if (EXPECT_ERR(dte_move(fd, DTE_MOVE_WAIT), ENOMEM))
		return -1;
	if (expect_counts(fd, 1, 1, "after a failed move"))
		return -1;
	if (verify(p, len, 16))
		return -1;
	/* Used up: the next move succeeds. */
	if (EXPECT_OK(dte_move(fd, DTE_MOVE_WAIT)))
		return -1;

	/* Without MOVE_WAIT, and one after the other. */
	if (EXPECT_OK(dte_fail_maps(fd, 2, EIO, 0)))
		return -1;
	if (EXPECT_OK(dte_move(fd, 0)))
		return -1;
	if (EXPECT_ERR(dte_move(fd, DTE_MOVE_WAIT), EIO))
		return -1;
	if (EXPECT_OK(dte_move(fd, DTE_MOVE_WAIT)))
		return -1;
	if (expect_counts(fd, 5, 3, "after two failed moves"))
		return -1;

	/* Disarmed. */
	if (EXPECT_OK(dte_fail_maps(fd, 1, EIO, 0)) ||
	    EXPECT_OK(dte_fail_maps(fd, 0, EIO, 0)))
		return -1;
	if (EXPECT_OK(dte_move(fd, DTE_MOVE_WAIT)))
		return -1;
	if (expect_counts(fd, 6, 3, "after a disarmed move"))
		return -1;
	if (verify(p, len, 16))
		return -1;
	munmap(p, len);
	close(fd);
	return 0;
}

/*
 * An eviction, and a restore by a page fault, take none of the count; a
 * move that restores an evicted buffer takes one.
 */
static int case_fail_maps_restore(void)
{
	size_t len = 4 * page_size;
	struct dte_stats st;
	u8 *p;
	int fd;

	if (EXPECT_OK(dte_create(len, 0, &fd)))
		return -1;
	p = map_buf(fd, len, MAP_SHARED, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	fill(p, len, 17);

	if (EXPECT_OK(dte_fail_maps(fd, 1, EIO, 0)))
		return -1;
	if (EXPECT_OK(dte_evict(fd)))
		return -1;
	if (touch_sigbus(p, false))
		return fail("SIGBUS restoring by a page fault");
	if (verify(p, len, 17))
		return -1;
	if (expect_counts(fd, 0, 0, "after a restore by a page fault"))
		return -1;

	if (EXPECT_OK(dte_evict(fd)))
		return -1;
	if (EXPECT_ERR(dte_move(fd, DTE_MOVE_WAIT), EIO))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (st.evicted || st.moves != 1 || st.injected_map_failures != 1)
		return fail("after a failed restoring move: evicted %u moves %llu injected_map_failures %llu",
			    st.evicted, (unsigned long long)st.moves,
			    (unsigned long long)st.injected_map_failures);
	if (verify(p, len, 17))
		return -1;
	munmap(p, len);
	close(fd);
	return 0;
}

static int case_fence_delay_invalid(void)
{
	struct dte_stats before, after;
	int fd;

	if (EXPECT_OK(dte_create(page_size, 0, &fd)))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &before)))
		return -1;
	if (EXPECT_ERR(dte_fence_delay(fd, DTE_MAX_FENCE_DELAY_US + 1), EINVAL))
		return -1;
	if (EXPECT_ERR(dte_fence_delay(fd, (u32)-1), EINVAL))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &after)))
		return -1;
	if (same_stats(&before, &after))
		return -1;
	if (EXPECT_OK(dte_fence_delay(fd, DTE_MAX_FENCE_DELAY_US)))
		return -1;
	if (EXPECT_OK(dte_fence_delay(fd, 0)))
		return -1;
	close(fd);
	return 0;
}

static int case_stats_pad(void)
{
	struct dte_stats st;
	int fd;

	if (EXPECT_OK(dte_create(page_size, 0, &fd)))
		return -1;
	memset(&st, 0, sizeof(st));
	st.fd = fd;
	st.pad = 1;
	if (EXPECT_ERR(xioctl(DTE_IOC_STATS, &st), EINVAL))
		return -1;
	close(fd);
	return 0;
}

static int case_unknown_ioctl(void)
{
	struct { u64 a, b, c; } big = { 0 };
	struct dte_stats st;
	int fd;

	if (EXPECT_OK(dte_create(page_size, 0, &fd)))
		return -1;
	if (EXPECT_ERR(xioctl(_IO(DTE_IOC_MAGIC, 7), NULL), ENOTTY))
		return -1;
	if (EXPECT_ERR(xioctl(_IOWR(DTE_IOC_MAGIC, 99, struct dte_stats), &st),
		       ENOTTY))
		return -1;
	/* A known number with the wrong size is another command. */
	if (EXPECT_ERR(xioctl(_IOWR(DTE_IOC_MAGIC, 0, big), &big), ENOTTY))
		return -1;
	if (EXPECT_ERR(xioctl(_IOW(DTE_IOC_MAGIC, 6, struct dte_stats), &st),
		       ENOTTY))
		return -1;
	if (EXPECT_ERR(xioctl(_IOWR('x', 6, struct dte_stats), &st), ENOTTY))
		return -1;
	close(fd);
	return 0;
}

static int case_bad_pointer(void)
{
	if (EXPECT_ERR(xioctl(DTE_IOC_CREATE, NULL), EFAULT))
		return -1;
	if (EXPECT_ERR(xioctl(DTE_IOC_MOVE, NULL), EFAULT))
		return -1;
	if (EXPECT_ERR(xioctl(DTE_IOC_STATS, (void *)16), EFAULT))
		return -1;
	return 0;
}

static int case_mmap_move(void)
{
	size_t len = 16 * page_size;
	struct dte_stats st;
	u8 *p;
	int fd;

	if (EXPECT_OK(dte_create(len, 0, &fd)))
		return -1;
	p = map_buf(fd, len, MAP_SHARED, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	fill(p, len, 1);

	if (EXPECT_OK(dte_move(fd, 0)))
		return -1;
	if (verify(p, len, 1))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (!(st.moves == 1 && st.generation == 1 && st.nr_pages == 16))
		return fail("after a move: moves %llu generation %llu",
			    (unsigned long long)st.moves,
			    (unsigned long long)st.generation);

	fill(p, len, 2);
	if (EXPECT_OK(dte_move(fd, DTE_MOVE_WAIT)))
		return -1;
	if (verify(p, len, 2))
		return -1;
	fill(p, len, 3);
	if (EXPECT_OK(dte_move(fd, 0)))
		return -1;
	if (EXPECT_OK(dte_move(fd, 0)))
		return -1;
	if (EXPECT_OK(dte_move(fd, DTE_MOVE_WAIT)))
		return -1;
	if (verify(p, len, 3))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (!(st.moves == 5 && st.generation == 5))
		return fail("after 5 moves: moves %llu generation %llu",
			    (unsigned long long)st.moves,
			    (unsigned long long)st.generation);
	munmap(p, len);
	close(fd);
	return 0;
}

static int case_mmap_fresh_zeroed(void)
{
	size_t len = 8 * page_size, i;
	u8 *p;
	int fd;

	if (EXPECT_OK(dte_create(len, 0, &fd)))
		return -1;
	p = map_buf(fd, len, MAP_SHARED, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	for (i = 0; i < len; i++)
		if (p[i])
			return fail("byte %zu of a new buffer is 0x%02x", i, p[i]);
	munmap(p, len);
	close(fd);
	return 0;
}

static int case_mmap_offset(void)
{
	size_t len = 8 * page_size;
	u8 *whole, *part;
	int fd;

	if (EXPECT_OK(dte_create(len, 0, &fd)))
		return -1;
	whole = map_buf(fd, len, MAP_SHARED, 0);
	if (whole == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	part = map_buf(fd, 3 * page_size, MAP_SHARED, 2 * page_size);
	if (part == MAP_FAILED)
		return fail("mmap at offset: %s", strerror(errno));
	fill(whole, len, 9);
	if (EXPECT_OK(dte_move(fd, 0)))
		return -1;
	if (memcmp(part, whole + 2 * page_size, 3 * page_size))
		return fail("offset mapping differs from the whole mapping after a move");
	part[5] = 0xa5;
	if (EXPECT_OK(dte_move(fd, DTE_MOVE_WAIT)))
		return -1;
	if (whole[2 * page_size + 5] != 0xa5)
		return fail("a write through the offset mapping was lost");
	/* Past the end of the buffer: refused by the dma-buf core. */
	if (!(map_buf(fd, 2 * page_size, MAP_SHARED, 7 * page_size) ==
	      MAP_FAILED && errno == EINVAL))
		return fail("mapping past the end: %s", strerror(errno));
	munmap(part, 3 * page_size);
	munmap(whole, len);
	close(fd);
	return 0;
}

static int case_mmap_private(void)
{
	void *p;
	int fd;

	if (EXPECT_OK(dte_create(page_size, 0, &fd)))
		return -1;
	p = map_buf(fd, page_size, MAP_PRIVATE, 0);
	close(fd);
	if (!(p == MAP_FAILED && errno == EINVAL))
		return fail("MAP_PRIVATE: %s, want EINVAL",
			    p == MAP_FAILED ? strerror(errno) : "mapped");
	return 0;
}

static int case_move_delayed_fault(void)
{
	size_t len = 4 * page_size;
	const unsigned int delay_ms = 200;
	double start, took;
	u8 *p;
	int fd;

	if (EXPECT_OK(dte_create(len, 0, &fd)))
		return -1;
	p = map_buf(fd, len, MAP_SHARED, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	fill(p, len, 4);
	if (EXPECT_OK(dte_fence_delay(fd, delay_ms * 1000)))
		return -1;
	start = now_ms();
	if (EXPECT_OK(dte_move(fd, 0)))
		return -1;
	/* The fault waits for the copy fence before mapping new pages. */
	if (verify(p, len, 4))
		return -1;
	took = now_ms() - start;
	if (took < delay_ms)
		return fail("first touch after the move took %.1f ms, fence delay is %u ms",
			    took, delay_ms);
	munmap(p, len);
	close(fd);
	return 0;
}

static int case_move_wait_delay(void)
{
	const unsigned int delay_ms = 300;
	double start, took;
	int fd;

	if (EXPECT_OK(dte_create(4 * page_size, 0, &fd)))
		return -1;
	if (EXPECT_OK(dte_fence_delay(fd, delay_ms * 1000)))
		return -1;
	start = now_ms();
	if (EXPECT_OK(dte_move(fd, DTE_MOVE_WAIT)))
		return -1;
	took = now_ms() - start;
	if (took < delay_ms)
		return fail("MOVE_WAIT took %.1f ms, fence delay is %u ms",
			    took, delay_ms);
	if (took >= 30000)
		return fail("MOVE_WAIT took %.1f ms", took);

	/* Without MOVE_WAIT the ioctl does not wait. */
	start = now_ms();
	if (EXPECT_OK(dte_move(fd, 0)))
		return -1;
	took = now_ms() - start;
	if (took >= delay_ms)
		return fail("MOVE without WAIT took %.1f ms", took);

	if (EXPECT_OK(dte_fence_delay(fd, 0)))
		return -1;
	close(fd);
	return 0;
}

static int case_evict_mmap(void)
{
	size_t len = 8 * page_size;
	struct dte_stats st;
	u8 *p;
	int fd;

	if (EXPECT_OK(dte_create(len, 0, &fd)))
		return -1;
	p = map_buf(fd, len, MAP_SHARED, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	fill(p, len, 5);

	if (EXPECT_OK(dte_evict(fd)))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (!(st.evicted == 1 && st.nr_pages == 0 && st.evictions == 1 &&
	      st.generation == 1))
		return fail("after evict: evicted %u nr_pages %llu evictions %llu generation %llu",
			    st.evicted, (unsigned long long)st.nr_pages,
			    (unsigned long long)st.evictions,
			    (unsigned long long)st.generation);

	/* Evicting again changes nothing. */
	if (EXPECT_OK(dte_evict(fd)))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (!(st.evictions == 1 && st.generation == 1))
		return fail("second evict: evictions %llu generation %llu",
			    (unsigned long long)st.evictions,
			    (unsigned long long)st.generation);

	/* A touch restores. */
	if (verify(p, len, 5))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (!(st.evicted == 0 && st.nr_pages == 8 && st.generation == 2 &&
	      st.moves == 0))
		return fail("after restore: evicted %u nr_pages %llu generation %llu moves %llu",
			    st.evicted, (unsigned long long)st.nr_pages,
			    (unsigned long long)st.generation,
			    (unsigned long long)st.moves);

	/* A move of an evicted buffer restores it as well. */
	fill(p, len, 6);
	if (EXPECT_OK(dte_evict(fd)))
		return -1;
	if (EXPECT_OK(dte_move(fd, DTE_MOVE_WAIT)))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (!(st.evicted == 0 && st.nr_pages == 8 && st.moves == 1 &&
	      st.generation == 4))
		return fail("move after evict: evicted %u nr_pages %llu moves %llu generation %llu",
			    st.evicted, (unsigned long long)st.nr_pages,
			    (unsigned long long)st.moves,
			    (unsigned long long)st.generation);
	if (verify(p, len, 6))
		return -1;

	/* Evict with a delayed restore fence; writes wait for it too. */
	if (EXPECT_OK(dte_fence_delay(fd, 50000)))
		return -1;
	if (EXPECT_OK(dte_evict(fd)))
		return -1;
	p[0] = 0x42;
	if (p[0] != 0x42)
		return fail("write after restore lost");
	p[0] = pattern(0, 6);
	if (verify(p, len, 6))
		return -1;
	munmap(p, len);
	close(fd);
	return 0;
}

/*
 * An eviction right behind a move whose copy is still running: the saved
 * copy is checksummed once that copy is done, so the restore finds the
 * contents whole (a sum taken too early fails the restore: SIGBUS).
 */
static int case_evict_during_move(void)
{
	size_t len = 16 * page_size;
	struct dte_stats st;
	int fd, i;
	u8 *p;

	if (EXPECT_OK(dte_create(len, 0, &fd)))
		return -1;
	p = map_buf(fd, len, MAP_SHARED, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	fill(p, len, 8);
	if (EXPECT_OK(dte_fence_delay(fd, 30000)))
		return -1;
	for (i = 0; i < 3; i++) {
		if (EXPECT_OK(dte_move(fd, 0)) || EXPECT_OK(dte_evict(fd)))
			return -1;
		if (touch_sigbus(p + len - 1, false))
			return fail("round %d: restore after evict: SIGBUS", i);
		if (verify(p, len, 8))
			return -1;
	}
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (!(st.moves == 3 && st.evictions == 3 && st.evicted == 0))
		return fail("moves %llu evictions %llu evicted %u",
			    (unsigned long long)st.moves,
			    (unsigned long long)st.evictions, st.evicted);
	munmap(p, len);
	close(fd);
	return 0;
}

static int case_revoke(void)
{
	size_t len = 4 * page_size;
	struct dte_stats before, after;
	u8 *p, *q;
	int fd;

	if (EXPECT_OK(dte_create(len, 0, &fd)))
		return -1;
	p = map_buf(fd, len, MAP_SHARED, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	fill(p, len, 7);
	if (touch_sigbus(p, false))
		return fail("SIGBUS before revoke");

	if (EXPECT_OK(dte_revoke(fd)))
		return -1;
	if (!touch_sigbus(p, false))
		return fail("no SIGBUS reading a revoked buffer");
	if (!touch_sigbus(p + len - 1, true))
		return fail("no SIGBUS writing a revoked buffer");

	if (EXPECT_OK(dte_stats(fd, &before)))
		return -1;
	if (!(before.revoked == 1 && before.nr_pages == 0))
		return fail("after revoke: revoked %u nr_pages %llu", before.revoked,
			    (unsigned long long)before.nr_pages);
	if (EXPECT_ERR(dte_move(fd, 0), ENODEV))
		return -1;
	if (EXPECT_ERR(dte_move(fd, DTE_MOVE_WAIT), ENODEV))
		return -1;
	if (EXPECT_ERR(dte_evict(fd), ENODEV))
		return -1;
	if (EXPECT_ERR(dte_fail_maps(fd, 1, EIO, 0), ENODEV))
		return -1;
	/* Bad flags are still bad flags. */
	if (EXPECT_ERR(dte_move(fd, 1U << 3), EINVAL))
		return -1;
	/* Revoking again and reading or tuning a revoked buffer work. */
	if (EXPECT_OK(dte_revoke(fd)))
		return -1;
	if (EXPECT_OK(dte_fence_delay(fd, 1000)))
		return -1;
	if (EXPECT_OK(dte_stats(fd, &after)))
		return -1;
	if (same_stats(&before, &after))
		return -1;

	/* A new mapping of a revoked buffer faults too. */
	q = map_buf(fd, page_size, MAP_SHARED, 0);
	if (q == MAP_FAILED)
		return fail("mmap after revoke: %s", strerror(errno));
	if (!touch_sigbus(q, false))
		return fail("no SIGBUS on a new mapping");
	munmap(q, page_size);
	munmap(p, len);
	close(fd);
	return 0;
}

/* The kernel faults the mapping in for read() and write() too. */
static int case_syscall_io(void)
{
	size_t len = 4 * page_size;
	u8 *p, *copy;
	int fd, mfd;

	if (EXPECT_OK(dte_create(len, 0, &fd)))
		return -1;
	p = map_buf(fd, len, MAP_SHARED, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	mfd = memfd_create("dte-io", MFD_CLOEXEC);
	if (mfd < 0)
		return fail("memfd_create: %s", strerror(errno));
	copy = malloc(len);
	if (!copy)
		return fail("out of memory");

	fill(p, len, 14);
	if (EXPECT_OK(dte_fence_delay(fd, 50000)))
		return -1;
	if (EXPECT_OK(dte_move(fd, 0)))
		return -1;
	/* Reads the mapping in kernel mode, behind a delayed fence. */
	if (pwrite(mfd, p, len, 0) != (ssize_t)len)
		return fail("pwrite from the mapping: %s", strerror(errno));
	if (pread(mfd, copy, len, 0) != (ssize_t)len)
		return fail("pread: %s", strerror(errno));
	if (verify(copy, len, 14))
		return -1;

	if (EXPECT_OK(dte_evict(fd)))
		return -1;
	fill(copy, len, 15);
	if (pwrite(mfd, copy, len, 0) != (ssize_t)len)
		return fail("pwrite: %s", strerror(errno));
	/* Writes the mapping in kernel mode, restoring it first. */
	if (pread(mfd, p, len, 0) != (ssize_t)len)
		return fail("pread into the mapping: %s", strerror(errno));
	if (EXPECT_OK(dte_move(fd, DTE_MOVE_WAIT)))
		return -1;
	if (verify(p, len, 15))
		return -1;

	/* Revoked: the kernel's access fails cleanly. */
	if (EXPECT_OK(dte_revoke(fd)))
		return -1;
	if (pwrite(mfd, p, len, 0) != -1 || errno != EFAULT)
		return fail("pwrite from a revoked mapping: %s, want EFAULT",
			    strerror(errno));
	free(copy);
	close(mfd);
	munmap(p, len);
	close(fd);
	return 0;
}

static int case_close_after_mmap(void)
{
	size_t len = 6 * page_size;
	u8 *p;
	int fd, ctl;

	if (EXPECT_OK(dte_create(len, 0, &fd)))
		return -1;
	p = map_buf(fd, len, MAP_SHARED, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	ctl = dup(fd);
	if (ctl < 0)
		return fail("dup: %s", strerror(errno));
	close(fd);
	fill(p, len, 8);
	if (EXPECT_OK(dte_move(ctl, 0)))
		return -1;
	if (verify(p, len, 8))
		return -1;

	/* No descriptor at all: the mapping keeps the buffer alive. */
	close(ctl);
	fill(p, len, 10);
	if (verify(p, len, 10))
		return -1;
	munmap(p, len);
	return 0;
}

static int case_many_buffers(void)
{
	int fds[64], i, n;

	for (n = 0; n < 64; n++)
		if (dte_create((n + 1) * page_size, 0, &fds[n]))
			break;
	for (i = 0; i < n; i++) {
		if (i % 3 == 0)
			dte_move(fds[i], 0);
		else if (i % 3 == 1)
			dte_evict(fds[i]);
		close(fds[i]);
	}
	if (n != 64)
		return fail("only %d buffers", n);
	return 0;
}

static void on_sigalrm(int sig)
{
	(void)sig;
}

/* A signal ends MOVE_WAIT's wait with EINTR; the move itself is done. */
static int case_move_wait_eintr(void)
{
	struct sigaction sa = { .sa_handler = on_sigalrm }, old;
	struct dte_stats st;
	double start, took;
	int fd, err;

	if (EXPECT_OK(dte_create(page_size, 0, &fd)))
		return -1;
	if (EXPECT_OK(dte_fence_delay(fd, 3000000)))
		return -1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	start = now_ms();
	ualarm(200000, 0);
	err = dte_move(fd, DTE_MOVE_WAIT);
	took = now_ms() - start;
	ualarm(0, 0);
	sigaction(SIGALRM, &old, NULL);
	if (EXPECT_ERR(err, EINTR))
		return -1;
	if (took >= 2500)
		return fail("MOVE_WAIT returned only after %.1f ms", took);
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (st.moves != 1 || st.generation != 1)
		return fail("interrupted move: moves %llu generation %llu",
			    (unsigned long long)st.moves,
			    (unsigned long long)st.generation);
	close(fd);
	return 0;
}

/*
 * Closing a buffer whose copy fence is delayed by a minute must signal the
 * fence at once; otherwise unloading the module at the end would wait.
 */
static int case_close_with_delayed_fence(void)
{
	u8 *p;
	int fd;

	if (EXPECT_OK(dte_create(2 * page_size, 0, &fd)))
		return -1;
	p = map_buf(fd, 2 * page_size, MAP_SHARED, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	fill(p, 2 * page_size, 13);
	munmap(p, 2 * page_size);
	if (EXPECT_OK(dte_fence_delay(fd, DTE_MAX_FENCE_DELAY_US)))
		return -1;
	if (EXPECT_OK(dte_move(fd, 0)))
		return -1;
	if (EXPECT_OK(dte_move(fd, 0)))
		return -1;
	close(fd);
	return 0;
}

struct stress {
	int fd;
	unsigned int iterations;
	unsigned int moves;
	int err;
};

static void *stress_mover(void *arg)
{
	struct stress *s = arg;
	struct dte_stats st;
	unsigned int i;
	int err;

	for (i = 0; i < s->iterations && !s->err; i++) {
		switch (i % 4) {
		case 0:
		case 1:
			err = dte_move(s->fd, i % 2 ? DTE_MOVE_WAIT : 0);
			if (!err)
				s->moves++;
			break;
		case 2:
			err = dte_evict(s->fd);
			break;
		default:
			err = dte_stats(s->fd, &st);
			break;
		}
		if (err)
			s->err = err;
	}
	return NULL;
}

/* Moves and evictions from two threads while a third writes and reads. */
static int case_concurrent(void)
{
	size_t len = 32 * page_size, pg;
	struct stress s[2];
	pthread_t th[2];
	struct dte_stats st;
	unsigned int round, moves = 0;
	u8 *p;
	int fd, i;

	if (EXPECT_OK(dte_create(len, 0, &fd)))
		return -1;
	p = map_buf(fd, len, MAP_SHARED, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	if (EXPECT_OK(dte_fence_delay(fd, 200)))
		return -1;
	for (i = 0; i < 2; i++) {
		s[i] = (struct stress){ .fd = fd, .iterations = 400 };
		if (pthread_create(&th[i], NULL, stress_mover, &s[i]))
			return fail("pthread_create failed");
	}
	for (round = 0; round < 200; round++) {
		for (pg = 0; pg < len / page_size; pg++)
			memset(p + pg * page_size, (int)(round + pg) & 0xff,
			       page_size);
		for (pg = 0; pg < len; pg++)
			if (p[pg] != ((round + pg / page_size) & 0xff))
				break;
		if (pg < len)
			break;
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		moves += s[i].moves;
	}
	if (round != 200)
		return fail("round %u: byte %zu is 0x%02x, want 0x%02x",
			    round, pg, p[pg],
			    (unsigned int)((round + pg / page_size) & 0xff));
	if (s[0].err && !s[1].err)
		return fail("a mover failed: %s / %s",
			    errname(s[0].err), errname(s[1].err));
	if (EXPECT_OK(dte_stats(fd, &st)))
		return -1;
	if (st.moves != moves)
		return fail("moves %llu, threads counted %u",
			    (unsigned long long)st.moves, moves);
	munmap(p, len);
	close(fd);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} cases[] = {
	{ "create", case_create },
	{ "create-iomem", case_create_iomem },
	{ "create-invalid", case_create_invalid },
	{ "closed-fd-ebadf", case_closed_fd },
	{ "regular-file-einval", case_regular_file },
	{ "device-fd-einval", case_device_fd },
	{ "foreign-dmabuf-einval", case_foreign_dmabuf },
	{ "bad-flags", case_bad_flags },
	{ "fail-maps", case_fail_maps },
	{ "fail-maps-move", case_fail_maps_move },
	{ "fail-maps-restore", case_fail_maps_restore },
	{ "fence-delay-invalid", case_fence_delay_invalid },
	{ "stats-pad", case_stats_pad },
	{ "unknown-ioctl", case_unknown_ioctl },
	{ "bad-pointer", case_bad_pointer },
	{ "mmap-fresh-zeroed", case_mmap_fresh_zeroed },
	{ "mmap-move", case_mmap_move },
	{ "mmap-offset", case_mmap_offset },
	{ "mmap-private", case_mmap_private },
	{ "move-delayed-fault", case_move_delayed_fault },
	{ "move-wait-delay", case_move_wait_delay },
	{ "move-wait-eintr", case_move_wait_eintr },
	{ "evict-mmap", case_evict_mmap },
	{ "evict-during-move", case_evict_during_move },
	{ "revoke-sigbus", case_revoke },
	{ "syscall-io", case_syscall_io },
	{ "close-after-mmap", case_close_after_mmap },
	{ "many-buffers", case_many_buffers },
	{ "close-with-delayed-fence", case_close_with_delayed_fence },
	{ "concurrent", case_concurrent },
};

int main(int argc, char **argv)
{
	int failed = 0, ret;
	unsigned int i;

	(void)argc;
	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);

	dev_fd = open(DTE_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev_fd < 0) {
		printf("FAIL open-device: %s: %s\n", DTE_DEVICE_PATH,
		       strerror(errno));
		return 1;
	}
	printf("PASS open-device\n");

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		why[0] = '\0';
		ret = cases[i].fn();
		if (ret == SKIPPED) {
			printf("SKIP %s: %s\n", cases[i].name, why);
		} else if (ret) {
			printf("FAIL %s: %s\n", cases[i].name, why);
			failed++;
		} else {
			printf("PASS %s\n", cases[i].name);
		}
	}
	close(dev_fd);
	return failed ? 1 : 0;
}
