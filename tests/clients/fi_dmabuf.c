// SPDX-License-Identifier: GPL-2.0
/*
 * fi_dmabuf: libfabric RMA into and out of a dma-buf memory region, every
 * byte verified, through the libfabric API alone.
 *
 *   fi_dmabuf [-p PROVIDER] [-d DOMAIN] [-s BYTES] [-n ITERATIONS]
 *             [-m MOVE_US [-e EVICT_EVERY]] [-c write|read:OFFSET] SOURCE
 *
 * SOURCE is where the target memory comes from:
 *   dte      a dma-buf of the test exporter (kernel/dmabuf-test-exporter)
 *   udmabuf  a dma-buf of /dev/udmabuf over a sealed memfd
 *   heap     a dma-buf of the system dma-heap (/dev/dma_heap/system)
 *   memory   ordinary anonymous memory (with FI_VERBS_USE_ODP=1, the
 *            verbs provider registers it as an ODP MR)
 *
 * Two RDM endpoints of one domain (by default "verbs;ofi_rxm" on rxe0) in
 * one process: the initiator writes into the target's memory region with
 * fi_write() and reads it back with fi_read(); the target endpoint only
 * makes progress. A dma-buf target is registered with fi_mr_regattr() and
 * FI_MR_DMABUF (struct fi_mr_dmabuf: fd, offset, len, base_addr), inside
 * guard bytes, at an offset of a page and 3 bytes into the buffer; its
 * base_addr is NULL, so the region's RMA addresses start at that offset,
 * where this process maps nothing: a provider that fell back to
 * registering a CPU address could not register it, and the data can
 * reach the buffer's pages only through a dma-buf registration.
 *
 * Each iteration:
 *   1. the source buffer gets the iteration's write pattern, the target
 *      region its complement (so that no byte left unwritten passes);
 *   2. fi_write() of the whole region;
 *   3. the CPU checks every byte of the region, through its mapping of
 *      the dma-buf, and the guard bytes around it;
 *   4. the CPU fills the region with the iteration's read pattern, and
 *      the read-back buffer (pinned memory) with its complement;
 *   5. fi_read() of the whole region into the read-back buffer;
 *   6. every byte of the read-back buffer, and its guard, is checked.
 * Each pattern is a function of the iteration, the direction and the
 * byte's offset: a stale, shifted or misplaced byte does not pass.
 *
 * -m MOVE_US: a thread of its own moves a test exporter buffer to new
 * pages every MOVE_US microseconds while the transfers run, and evicts it
 * instead every EVICT_EVERY-th time (default 4); the run fails unless the
 * buffer was both moved and evicted. With a test exporter buffer the run
 * also checks the exporter's own account: while registered, the region
 * is the buffer's one attachment and a dynamic one (an importer that
 * handles move_notify); once the region is closed, no attachment is left.
 *
 * -c write:OFFSET or read:OFFSET flips byte OFFSET of the target region
 * after the first fi_write(), or of the read-back buffer after the first
 * fi_read(): the run must then fail, which shows that the checks see a
 * bad byte.
 *
 * Prints what it registered (the region's key, which rxe's tracepoints
 * name as lkey) and a verdict; exits 0 only if every byte was verified,
 * 1 on any failure, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>

#include "dmabuf_src.h"

#define FI_DMABUF_VERSION	FI_VERSION(1, 20)	/* FI_MR_DMABUF */
#define GUARD_BYTE		0x5a
#define GUARD_LEN		4096
#define TARGET_OFFSET_EXTRA	3	/* past the first page: not aligned */
#define CQ_TIMEOUT_S		60

enum source { SRC_DTE, SRC_UDMABUF, SRC_HEAP, SRC_MEMORY };

/* The dma-buf sources (dmabuf_src.h) of all but ordinary memory. */
static const enum xfer_dmabuf_src dmabuf_sources[] = {
	[SRC_DTE] = XFER_SRC_DTE,
	[SRC_UDMABUF] = XFER_SRC_UDMABUF,
	[SRC_HEAP] = XFER_SRC_HEAP,
};

static const char *const source_names[] = {
	[SRC_DTE] = "dte",
	[SRC_UDMABUF] = "udmabuf",
	[SRC_HEAP] = "heap",
	[SRC_MEMORY] = "memory",
};

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("fi_dmabuf: FAILED: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void die_fi(const char *call, int ret)
{
	die("%s: %s (%d)", call, fi_strerror(-ret), ret);
}

/* The byte at @offset of the pattern identified by @stream. */
static uint8_t pattern_byte(uint32_t stream, size_t offset)
{
	uint32_t x = (uint32_t)offset * 2654435761u ^ stream * 40503u;

	x ^= x >> 15;
	return (uint8_t)(x ^ x >> 8 ^ (uint32_t)(offset >> 16));
}

/* Fill @buf with @stream's pattern, or with its complement if @poison. */
static void fill(uint8_t *buf, size_t len, uint32_t stream, bool poison)
{
	uint8_t flip = poison ? 0xff : 0;

	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(stream, i) ^ flip;
}

/* @buf holds @stream's pattern; else report the first bad byte and die. */
static void check(const uint8_t *buf, size_t len, uint32_t stream,
		  const char *what)
{
	size_t first = 0, bad = 0;

	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern_byte(stream, i) && !bad++)
			first = i;
	if (bad)
		die("%s: byte %zu of %zu is 0x%02x, expected 0x%02x (%zu bad bytes)",
		    what, first, len, buf[first], pattern_byte(stream, first),
		    bad);
}

/* @len bytes at @buf are still GUARD_BYTE: nothing wrote outside a region. */
static void check_guard(const uint8_t *buf, size_t len, const char *what)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != GUARD_BYTE)
			die("%s: guard byte %zu of %zu is 0x%02x: something wrote outside the region",
			    what, i, len, buf[i]);
}

/* --- the target memory ------------------------------------------------ */

/*
 * @map is the CPU's view of the whole buffer, @size long; the region is
 * @len bytes at @offset in it, reached by RMA at @addr with @mr's key.
 */
struct target {
	enum source src;
	int fd;			/* the dma-buf; -1 for ordinary memory */
	uint8_t *map;
	size_t size;
	size_t offset;
	size_t len;
	uint64_t addr;
	struct fid_mr *mr;
};

/*
 * The CPU accesses a dma-buf inside DMA_BUF_IOCTL_SYNC brackets: START
 * waits for a move in progress to finish, and an exporter with caches to
 * manage flushes them.
 */
static void cpu_sync(const struct target *t, uint64_t flags)
{
	int err;

	if (t->fd < 0)
		return;
	err = xfer_dmabuf_sync(t->fd, flags);
	if (err)
		die("DMA_BUF_IOCTL_SYNC: %s", strerror(err));
}

static void cpu_begin(const struct target *t, bool write)
{
	cpu_sync(t, DMA_BUF_SYNC_START |
		 (write ? DMA_BUF_SYNC_RW : DMA_BUF_SYNC_READ));
}

static void cpu_end(const struct target *t, bool write)
{
	cpu_sync(t, DMA_BUF_SYNC_END |
		 (write ? DMA_BUF_SYNC_RW : DMA_BUF_SYNC_READ));
}

static void dte_stats(int fd, struct dte_stats *st)
{
	int err = xfer_dte_stats(fd, st);

	if (err)
		die("DTE_IOC_STATS: %s", strerror(err));
}

static void target_alloc(struct target *t, enum source src, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	t->src = src;
	t->offset = page + TARGET_OFFSET_EXTRA;
	t->len = len;
	t->size = (t->offset + len + GUARD_LEN + page - 1) / page * page;
	t->fd = -1;
	if (src != SRC_MEMORY) {
		int err = xfer_dmabuf_create(dmabuf_sources[src], t->size,
					     &t->fd);

		if (err)
			die("a %zu-byte %s dma-buf: %s%s", t->size,
			    source_names[src], strerror(err),
			    src == SRC_DTE ? " (modprobe dmabuf_test_exporter)" : "");
	}
	t->map = mmap(NULL, t->size, PROT_READ | PROT_WRITE,
		      t->fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED,
		      t->fd, 0);
	if (t->map == MAP_FAILED)
		die("mmap of the %zu-byte %s buffer: %s", t->size,
		    source_names[src], strerror(errno));
	cpu_begin(t, true);
	memset(t->map, GUARD_BYTE, t->size);
	cpu_end(t, true);
}

/*
 * A dma-buf through fi_mr_regattr(FI_MR_DMABUF) with base_addr NULL: the
 * region's RMA address is its offset in the buffer (the verbs provider
 * registers it at iova base_addr + offset). Ordinary memory through
 * fi_mr_reg() at its virtual address.
 */
static void target_register(struct target *t, struct fid_domain *domain)
{
	uint64_t access = FI_REMOTE_WRITE | FI_REMOTE_READ;
	int ret;

	if (t->fd < 0) {
		ret = fi_mr_reg(domain, t->map + t->offset, t->len, access, 0,
				0, 0, &t->mr, NULL);
		if (ret)
			die_fi("fi_mr_reg of the target", ret);
		t->addr = (uintptr_t)(t->map + t->offset);
		printf("fi_dmabuf: target: %zu bytes of ordinary memory, registered with fi_mr_reg() at %p\n",
		       t->len, (void *)(t->map + t->offset));
	} else {
		struct fi_mr_dmabuf dmabuf;
		struct fi_mr_attr attr;

		/* Zeroed whole: ofi_rxm reads this union as an iovec too. */
		memset(&dmabuf, 0, sizeof(dmabuf));
		dmabuf.fd = t->fd;
		dmabuf.offset = t->offset;
		dmabuf.len = t->len;
		dmabuf.base_addr = NULL;
		memset(&attr, 0, sizeof(attr));
		attr.dmabuf = &dmabuf;
		attr.iov_count = 1;
		attr.access = access;
		attr.iface = FI_HMEM_SYSTEM;
		ret = fi_mr_regattr(domain, &attr, FI_MR_DMABUF, &t->mr);
		if (ret)
			die_fi("fi_mr_regattr(FI_MR_DMABUF) of the target", ret);
		t->addr = t->offset;
		printf("fi_dmabuf: target: %s dma-buf of %zu bytes, registered with fi_mr_regattr(FI_MR_DMABUF): fd %d, offset %zu, len %zu, base_addr NULL\n",
		       source_names[t->src], t->size, t->fd, t->offset,
		       t->len);
	}
	printf("fi_dmabuf: target MR key 0x%" PRIx64 ", RMA address 0x%" PRIx64 "\n",
	       fi_mr_key(t->mr), t->addr);
}

/* --- the exporter's mover --------------------------------------------- */

struct mover {
	pthread_t thread;
	int fd;
	unsigned int period_us;
	unsigned int evict_every;
	atomic_bool stop;
	/* Written by the thread, read after the join. */
	uint64_t moves;
	uint64_t evictions;
	uint64_t busy;
	int err;
	const char *failed;
};

/*
 * Move (DTE_MOVE_WAIT: the ioctl returns once the copy is done) or evict
 * the buffer every period. EBUSY is the exporter refusing a buffer an
 * importer holds mapped for a moment: it is counted and the next period
 * tries again. Any other error stops the thread and fails the run.
 */
static void *mover_run(void *arg)
{
	struct mover *m = arg;
	struct timespec period = {
		.tv_sec = m->period_us / 1000000,
		.tv_nsec = (long)(m->period_us % 1000000) * 1000,
	};
	uint64_t n = 0;

	while (!atomic_load(&m->stop)) {
		bool evict = ++n % m->evict_every == 0;
		int err;

		nanosleep(&period, NULL);
		err = xfer_dte_op(evict ? DTE_IOC_EVICT : DTE_IOC_MOVE, m->fd,
				  evict ? 0 : DTE_MOVE_WAIT);
		if (!err) {
			if (evict)
				m->evictions++;
			else
				m->moves++;
		} else if (err == EBUSY) {
			m->busy++;
		} else {
			m->err = err;
			m->failed = evict ? "DTE_IOC_EVICT" : "DTE_IOC_MOVE";
			break;
		}
	}
	return NULL;
}

static void mover_start(struct mover *m)
{
	int err = pthread_create(&m->thread, NULL, mover_run, m);

	if (err)
		die("pthread_create: %s", strerror(err));
}

static void mover_stop(struct mover *m)
{
	atomic_store(&m->stop, true);
	pthread_join(m->thread, NULL);
	printf("fi_dmabuf: mover: %" PRIu64 " moves, %" PRIu64 " evictions, %" PRIu64 " refused busy, one every %u us\n",
	       m->moves, m->evictions, m->busy, m->period_us);
	if (m->failed)
		die("%s: %s", m->failed, strerror(m->err));
	if (!m->moves || !m->evictions)
		die("the buffer was not both moved and evicted during the transfers");
}

/* --- the endpoints ---------------------------------------------------- */

struct peer {
	const char *name;
	struct fid_ep *ep;
	struct fid_cq *cq;
	struct fid_av *av;
	fi_addr_t other;	/* the other endpoint, in this one's AV */
};

static void peer_open(struct peer *p, const char *name, struct fi_info *info,
		      struct fid_domain *domain)
{
	struct fi_cq_attr cq_attr = { .format = FI_CQ_FORMAT_CONTEXT };
	struct fi_av_attr av_attr = { .type = FI_AV_UNSPEC };
	int ret;

	p->name = name;
	ret = fi_cq_open(domain, &cq_attr, &p->cq, NULL);
	if (ret)
		die_fi("fi_cq_open", ret);
	ret = fi_av_open(domain, &av_attr, &p->av, NULL);
	if (ret)
		die_fi("fi_av_open", ret);
	ret = fi_endpoint(domain, info, &p->ep, NULL);
	if (ret)
		die_fi("fi_endpoint", ret);
	ret = fi_ep_bind(p->ep, &p->av->fid, 0);
	if (ret)
		die_fi("fi_ep_bind(av)", ret);
	ret = fi_ep_bind(p->ep, &p->cq->fid, FI_TRANSMIT | FI_RECV);
	if (ret)
		die_fi("fi_ep_bind(cq)", ret);
	ret = fi_enable(p->ep);
	if (ret)
		die_fi("fi_enable", ret);
}

/* Each endpoint's address into the other's address vector. */
static void peers_introduce(struct peer *a, struct peer *b)
{
	struct peer *from[2] = { a, b }, *to[2] = { b, a };

	for (int i = 0; i < 2; i++) {
		char name[256];
		size_t len = sizeof(name);
		int ret = fi_getname(&from[i]->ep->fid, name, &len);

		if (ret)
			die_fi("fi_getname", ret);
		ret = fi_av_insert(to[i]->av, name, 1, &to[i]->other, 0, NULL);
		if (ret != 1)
			die_fi("fi_av_insert", ret < 0 ? ret : -FI_EINVAL);
	}
}

static void peer_close(struct peer *p)
{
	fi_close(&p->ep->fid);
	fi_close(&p->av->fid);
	fi_close(&p->cq->fid);
}

/*
 * Read @p's CQ once; 1 if it held the completion of @ctx. Any other
 * completion, or an error completion, fails the run.
 */
static int cq_poll(struct peer *p, void *ctx)
{
	struct fi_cq_entry entry;
	struct fi_cq_err_entry err = { 0 };
	ssize_t ret = fi_cq_read(p->cq, &entry, 1);

	if (ret == -FI_EAGAIN)
		return 0;
	if (ret == -FI_EAVAIL) {
		fi_cq_readerr(p->cq, &err, 0);
		die("%s endpoint: error completion: %s (%d, provider error %d: %s)",
		    p->name, fi_strerror(err.err), err.err, err.prov_errno,
		    fi_cq_strerror(p->cq, err.prov_errno, err.err_data, NULL, 0));
	}
	if (ret < 0)
		die_fi("fi_cq_read", (int)ret);
	if (entry.op_context != ctx)
		die("%s endpoint: unexpected completion (context %p)", p->name,
		    entry.op_context);
	return 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Wait for @ctx's completion on @a, reading @b's CQ too: ofi_rxm makes
 * progress, connection setup included, only when its endpoint's CQ is
 * read, and the target endpoint has nothing else to do.
 */
static void wait_completion(struct peer *a, struct peer *b, void *ctx,
			    const char *what)
{
	double deadline = now() + CQ_TIMEOUT_S;

	while (!cq_poll(a, ctx)) {
		cq_poll(b, NULL);
		if (now() > deadline)
			die("%s: no completion in %d s", what, CQ_TIMEOUT_S);
	}
}

/* --- the transfers ---------------------------------------------------- */

struct run {
	struct peer init, targ;
	struct target t;
	uint8_t *src, *dst;	/* pinned: the write's source, the read's sink */
	struct fid_mr *src_mr, *dst_mr;
	size_t len;
	unsigned int iters;
	int corrupt_write, corrupt_read;	/* -c: an offset, or -1 */
};

static uint8_t *pinned_alloc(struct fid_domain *domain, size_t len,
			     uint64_t access, struct fid_mr **mr)
{
	void *buf;
	int ret;

	if (posix_memalign(&buf, (size_t)sysconf(_SC_PAGESIZE), len))
		die("posix_memalign of %zu bytes failed", len);
	ret = fi_mr_reg(domain, buf, len, access, 0, 0, 0, mr, NULL);
	if (ret)
		die_fi("fi_mr_reg", ret);
	return buf;
}

enum rma_op { RMA_WRITE, RMA_READ };

/*
 * fi_write() the pinned source buffer into the whole target region, or
 * fi_read() the region into the read-back buffer, and wait for the
 * completion. A post is retried while the provider says -FI_EAGAIN, as
 * ofi_rxm does until its connection to the target is up.
 */
static void rma(struct run *r, enum rma_op op)
{
	const char *what = op == RMA_WRITE ? "fi_write" : "fi_read";
	double deadline = now() + CQ_TIMEOUT_S;
	uint64_t key = fi_mr_key(r->t.mr);
	struct fi_context2 ctx;
	ssize_t ret;

	for (;;) {
		if (op == RMA_WRITE)
			ret = fi_write(r->init.ep, r->src, r->len,
				       fi_mr_desc(r->src_mr), r->init.other,
				       r->t.addr, key, &ctx);
		else
			ret = fi_read(r->init.ep, r->dst, r->len,
				      fi_mr_desc(r->dst_mr), r->init.other,
				      r->t.addr, key, &ctx);
		if (ret != -FI_EAGAIN)
			break;
		cq_poll(&r->init, NULL);
		cq_poll(&r->targ, NULL);
		if (now() > deadline)
			die("%s: still -FI_EAGAIN after %d s", what, CQ_TIMEOUT_S);
	}
	if (ret)
		die_fi(what, (int)ret);
	wait_completion(&r->init, &r->targ, &ctx, what);
}

static void iteration(struct run *r, unsigned int i)
{
	struct target *t = &r->t;
	uint8_t *region = t->map + t->offset;
	uint32_t wstream = 2 * i + 1, rstream = 2 * i + 2;

	fill(r->src, r->len, wstream, false);
	cpu_begin(t, true);
	fill(region, r->len, wstream, true);
	cpu_end(t, true);
	rma(r, RMA_WRITE);

	cpu_begin(t, true);
	if (r->corrupt_write >= 0 && i == 0)
		region[r->corrupt_write] ^= 0x01;
	check(region, r->len, wstream, "target region after fi_write");
	check_guard(t->map, t->offset, "before the target region");
	check_guard(region + r->len, t->size - t->offset - r->len,
		    "after the target region");
	fill(region, r->len, rstream, false);
	cpu_end(t, true);

	fill(r->dst, r->len, rstream, true);
	memset(r->dst + r->len, GUARD_BYTE, GUARD_LEN);
	rma(r, RMA_READ);
	if (r->corrupt_read >= 0 && i == 0)
		r->dst[r->corrupt_read] ^= 0x01;
	check(r->dst, r->len, rstream, "read-back buffer after fi_read");
	check_guard(r->dst + r->len, GUARD_LEN, "after the read-back buffer");
}

/* --- main --------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: fi_dmabuf [-p PROVIDER] [-d DOMAIN] [-s BYTES] [-n ITERATIONS]\n"
		"                 [-m MOVE_US [-e EVICT_EVERY]] [-c write|read:OFFSET]\n"
		"                 dte|udmabuf|heap|memory\n");
	exit(2);
}

static unsigned long number(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || !v) {
		fprintf(stderr, "fi_dmabuf: bad %s '%s'\n", what, s);
		usage();
	}
	return v;
}

/* A byte offset for -c: a number from 0 up. */
static int offset(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < 0 || v > INT32_MAX) {
		fprintf(stderr, "fi_dmabuf: bad offset '%s'\n", s);
		usage();
	}
	return (int)v;
}

static struct fi_info *get_info(const char *prov, const char *domain)
{
	struct fi_info *hints = fi_allocinfo(), *info;
	int ret;

	if (!hints)
		die("fi_allocinfo failed");
	hints->ep_attr->type = FI_EP_RDM;
	hints->caps = FI_RMA;
	hints->mode = FI_CONTEXT | FI_CONTEXT2;
	hints->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_VIRT_ADDR |
				      FI_MR_ALLOCATED | FI_MR_PROV_KEY;
	hints->fabric_attr->prov_name = strdup(prov);
	hints->domain_attr->name = strdup(domain);
	ret = fi_getinfo(FI_DMABUF_VERSION, NULL, NULL, 0, hints, &info);
	if (ret)
		die("fi_getinfo(%s, domain %s, FI_EP_RDM, FI_RMA): %s (%d)",
		    prov, domain, fi_strerror(-ret), ret);
	fi_freeinfo(hints);
	return info;
}

int main(int argc, char **argv)
{
	const char *prov = "verbs;ofi_rxm", *domain_name = "rxe0";
	struct run r = { .len = 1 << 20, .iters = 8, .corrupt_write = -1,
			 .corrupt_read = -1 };
	struct mover m = { .evict_every = 4 };
	struct fid_fabric *fabric;
	struct fid_domain *domain;
	struct fi_info *info;
	struct dte_stats st;
	enum source src;
	int opt, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "p:d:s:n:m:e:c:")) != -1) {
		switch (opt) {
		case 'p':
			prov = optarg;
			break;
		case 'd':
			domain_name = optarg;
			break;
		case 's':
			r.len = number(optarg, "size");
			break;
		case 'n':
			r.iters = (unsigned int)number(optarg, "iteration count");
			break;
		case 'm':
			m.period_us = (unsigned int)number(optarg, "move period");
			break;
		case 'e':
			m.evict_every = (unsigned int)number(optarg, "eviction interval");
			break;
		case 'c':
			if (!strncmp(optarg, "write:", 6))
				r.corrupt_write = offset(optarg + 6);
			else if (!strncmp(optarg, "read:", 5))
				r.corrupt_read = offset(optarg + 5);
			else
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	for (src = SRC_DTE; src <= SRC_MEMORY; src++)
		if (!strcmp(argv[optind], source_names[src]))
			break;
	if (src > SRC_MEMORY)
		usage();
	if (m.period_us && src != SRC_DTE) {
		fprintf(stderr, "fi_dmabuf: -m moves a test exporter (dte) buffer only\n");
		usage();
	}
	if ((r.corrupt_write >= 0 && (size_t)r.corrupt_write >= r.len) ||
	    (r.corrupt_read >= 0 && (size_t)r.corrupt_read >= r.len)) {
		fprintf(stderr, "fi_dmabuf: -c offset outside the %zu-byte region\n", r.len);
		usage();
	}

	info = get_info(prov, domain_name);
	if (r.len > info->ep_attr->max_msg_size)
		die("%zu bytes is more than the endpoint's max_msg_size %zu",
		    r.len, info->ep_attr->max_msg_size);
	printf("fi_dmabuf: provider %s, fabric %s, domain %s, FI_EP_RDM, API %u.%u\n",
	       info->fabric_attr->prov_name, info->fabric_attr->name,
	       info->domain_attr->name, FI_MAJOR(FI_DMABUF_VERSION),
	       FI_MINOR(FI_DMABUF_VERSION));
	ret = fi_fabric(info->fabric_attr, &fabric, NULL);
	if (ret)
		die_fi("fi_fabric", ret);
	ret = fi_domain(fabric, info, &domain, NULL);
	if (ret)
		die_fi("fi_domain", ret);
	peer_open(&r.init, "initiator", info, domain);
	peer_open(&r.targ, "target", info, domain);
	peers_introduce(&r.init, &r.targ);

	r.src = pinned_alloc(domain, r.len, FI_WRITE, &r.src_mr);
	r.dst = pinned_alloc(domain, r.len + GUARD_LEN, FI_READ, &r.dst_mr);
	target_alloc(&r.t, src, r.len);
	target_register(&r.t, domain);

	if (m.period_us) {
		m.fd = r.t.fd;
		mover_start(&m);
	}
	for (unsigned int i = 0; i < r.iters; i++)
		iteration(&r, i);
	if (m.period_us)
		mover_stop(&m);

	if (src == SRC_DTE) {
		dte_stats(r.t.fd, &st);
		printf("fi_dmabuf: exporter, registered: %llu attachments (%llu dynamic), %llu moves, %llu evictions, %llu maps, %llu vmaps\n",
		       st.attachments, st.dynamic_attachments, st.moves,
		       st.evictions, st.maps, st.vmaps);
		if (st.attachments != 1 || st.dynamic_attachments != 1)
			die("the exporter does not see the region as its buffer's one dynamic attachment");
		if (st.moves < m.moves || st.evictions < m.evictions)
			die("the exporter counted fewer moves or evictions than were made");
	}
	ret = fi_close(&r.t.mr->fid);
	if (ret)
		die_fi("fi_close of the target region", ret);
	if (src == SRC_DTE) {
		dte_stats(r.t.fd, &st);
		if (st.attachments)
			die("the closed region left %llu attachments on the buffer",
			    st.attachments);
	}
	printf("fi_dmabuf: PASS: %u x %zu bytes written into the %s region and read back, every byte verified\n",
	       r.iters, r.len, source_names[src]);

	fi_close(&r.src_mr->fid);
	fi_close(&r.dst_mr->fid);
	peer_close(&r.init);
	peer_close(&r.targ);
	fi_close(&domain->fid);
	fi_close(&fabric->fid);
	fi_freeinfo(info);
	munmap(r.t.map, r.t.size);
	if (r.t.fd >= 0)
		close(r.t.fd);
	free(r.src);
	free(r.dst);
	return 0;
}
