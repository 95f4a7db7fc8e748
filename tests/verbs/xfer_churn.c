/*
 * Buffer churn for rdma_xfer: a thread that, at a fixed period while
 * traffic runs, makes rxe drop its mappings of the data buffers so that it
 * has to map them again mid-transfer.
 *
 *   move, evict     test exporter dma-bufs: move_notify, then a refault
 *   madvise, remap  ODP memory: MADV_DONTNEED, or munmap and a fresh mmap
 *                   at the same address, of one data slot; the mmu
 *                   notifier invalidates, and the next access faults in
 *                   fresh zero pages
 *   fork            ODP memory: a child that exits at once; fork
 *                   write-protects the parent's pages for COW, which
 *                   invalidates every device mapping of them
 *
 * madvise and remap destroy a slot's contents, so they only take slots
 * the transfer lends them (struct xfer_slots); fork keeps every byte and
 * runs at any moment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xfer.h"

/* Longer than any copy of a 1 GiB buffer should take, even under KASAN. */
#define CHURN_IDLE_TIMEOUT_MS	30000

/* Lent to a churn thread: RESERVED until it takes it, then CHURN. */
enum slot_state { SLOT_IDLE, SLOT_BUSY, SLOT_RESERVED, SLOT_CHURN };

/*
 * @waiting:  churn threads waiting for a slot to be released
 * @reserved: slots in SLOT_RESERVED; a release reserves its slot while
 *            fewer are reserved than threads wait
 * @next:     where the search for an idle slot starts, so that churn
 *            goes round the buffer rather than hitting one slot
 */
struct xfer_slots {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *base;
	size_t slot_len;
	uint32_t nslots;
	uint32_t next;
	unsigned int waiting;
	unsigned int reserved;
	unsigned char state[];
};

/*
 * @kind: enum xfer_odp_churn for ODP churn, -1 for the test exporter's
 *        @cmd
 */
struct xfer_churn {
	pthread_t thread;
	int kind;
	unsigned long cmd;
	struct timespec period;
	bool back_to_back;
	int *fds;
	struct xfer_slots **slots;
	int n;
	atomic_bool stop;
	struct xfer_churn_probe probe;
	/* Written by the thread, read after the join. */
	uint64_t done;
	uint64_t busy;
	int err;
	const char *failed;
};

static const char *churn_name(unsigned long cmd)
{
	return cmd == DTE_IOC_MOVE ? "DTE_IOC_MOVE" : "DTE_IOC_EVICT";
}

struct xfer_slots *xfer_slots_new(void *base, size_t slot_len,
				  uint32_t nslots)
{
	struct xfer_slots *s = calloc(1, sizeof(*s) + nslots);

	if (!s)
		xfer_die_err("calloc", ENOMEM);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->base = base;
	s->slot_len = slot_len;
	s->nslots = nslots;
	return s;
}

void xfer_slots_free(struct xfer_slots *s)
{
	if (!s)
		return;
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void xfer_slots_acquire(struct xfer_slots *s, uint32_t slot)
{
	pthread_mutex_lock(&s->lock);
	while (s->state[slot] == SLOT_RESERVED || s->state[slot] == SLOT_CHURN)
		pthread_cond_wait(&s->cond, &s->lock);
	s->state[slot] = SLOT_BUSY;
	pthread_mutex_unlock(&s->lock);
}

void xfer_slots_release(struct xfer_slots *s, uint32_t slot)
{
	pthread_mutex_lock(&s->lock);
	if (s->waiting > s->reserved) {
		s->state[slot] = SLOT_RESERVED;
		s->reserved++;
		pthread_cond_broadcast(&s->cond);
	} else {
		s->state[slot] = SLOT_IDLE;
	}
	pthread_mutex_unlock(&s->lock);
}

/* Take a reserved slot, else an idle one, else wait; -1 once stopped. */
static int slots_take(struct xfer_slots *s, atomic_bool *stop)
{
	int slot = -1;
	uint32_t i, k;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		for (i = 0; i < s->nslots && slot < 0; i++)
			if (s->state[i] == SLOT_RESERVED) {
				s->reserved--;
				slot = (int)i;
			}
		for (i = 0; i < s->nslots && slot < 0; i++) {
			k = (s->next + i) % s->nslots;
			if (s->state[k] == SLOT_IDLE)
				slot = (int)k;
		}
		if (slot >= 0 || atomic_load(stop))
			break;
		s->waiting++;
		pthread_cond_wait(&s->cond, &s->lock);
		s->waiting--;
	}
	if (slot >= 0) {
		s->state[slot] = SLOT_CHURN;
		s->next = (uint32_t)(slot + 1) % s->nslots;
	}
	pthread_mutex_unlock(&s->lock);
	return slot;
}

static void slots_give_back(struct xfer_slots *s, int slot)
{
	pthread_mutex_lock(&s->lock);
	s->state[slot] = SLOT_IDLE;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Wake a churn thread waiting for a slot, so that it sees the stop. */
static void slots_wake(struct xfer_slots *s)
{
	pthread_mutex_lock(&s->lock);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Discard one slot's pages. A failure exits at once rather than being
 * reported at the end: a remap that failed halfway leaves a hole in the
 * buffer that the transfer would run into.
 */
static void discard(enum xfer_odp_churn kind, struct xfer_slots *s, int slot)
{
	char *addr = s->base + (size_t)slot * s->slot_len;
	void *p;

	if (kind == XFER_CHURN_MADVISE) {
		if (madvise(addr, s->slot_len, MADV_DONTNEED))
			xfer_die_err("madvise(MADV_DONTNEED)", errno);
		return;
	}
	if (munmap(addr, s->slot_len))
		xfer_die_err("munmap", errno);
	/*
	 * Not MAP_FIXED: another thread may have mapped something into the
	 * hole since the munmap, and MAP_FIXED would silently replace it.
	 */
	p = mmap(addr, s->slot_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		xfer_die_err("mmap(MAP_FIXED_NOREPLACE) of a data slot", errno);
	if (p != addr)
		xfer_die("mmap of a data slot at %p landed at %p", addr, p);
}

/* The child exits at once: fork's COW protection is the whole point. */
static void fork_once(void)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		xfer_die_err("fork", errno);
	if (!pid)
		_exit(0);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			xfer_die_err("waitpid", errno);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		xfer_die("forked child ended with status 0x%x", status);
}

/* One ODP churn; false once stopped while waiting for a slot. */
static bool odp_churn_once(struct xfer_churn *c, uint64_t i)
{
	struct xfer_slots *s;
	int slot;

	if (c->kind == XFER_CHURN_FORK) {
		fork_once();
		return true;
	}
	s = c->slots[i % c->n];
	slot = slots_take(s, &c->stop);
	if (slot < 0)
		return false;
	discard(c->kind, s, slot);
	slots_give_back(s, slot);
	return true;
}

/*
 * Counts a request on buffer @i made while transfers on it are in flight;
 * with @probe.wait, holds it until they are. Yielding rather than
 * sleeping: the transfer then runs until it waits for a completion, which
 * is when its work requests are in flight. False once stopped.
 */
static bool probe_busy(struct xfer_churn *c, int i)
{
	bool busy;

	while (!(busy = c->probe.busy(c->probe.arg, i)) && c->probe.wait) {
		if (atomic_load(&c->stop))
			return false;
		sched_yield();
	}
	c->busy += busy;
	return true;
}

/*
 * A move starts an asynchronous copy and each copy of a buffer queues
 * behind the previous one; were moves issued faster than copies finish,
 * copies and their pages would pile up without bound. So a buffer is
 * moved again only once its last copy is done, which the thread waits for
 * just before, leaving rxe the whole period to meet an unfinished copy.
 */
static bool dte_churn_once(struct xfer_churn *c, uint64_t i)
{
	int fd = c->fds[i % c->n], err;

	if (c->cmd == DTE_IOC_MOVE) {
		err = xfer_dmabuf_wait_idle(fd, CHURN_IDLE_TIMEOUT_MS);
		if (err) {
			c->err = err;
			c->failed = "waiting for the last move";
			return false;
		}
	}
	if (c->probe.busy && !probe_busy(c, (int)(i % c->n)))
		return false;
	err = xfer_dte_op(c->cmd, fd, 0);
	if (err) {
		c->err = err;
		c->failed = churn_name(c->cmd);
		return false;
	}
	return true;
}

static void *churn_thread(void *arg)
{
	struct xfer_churn *c = arg;
	bool ok;

	for (uint64_t i = 0; !atomic_load(&c->stop); i++) {
		/*
		 * Back to back still yields: on a guest with one CPU the
		 * transfer must get its turn, or nothing would be churned.
		 */
		if (c->back_to_back)
			sched_yield();
		else
			nanosleep(&c->period, NULL);
		if (atomic_load(&c->stop))
			break;
		ok = c->kind < 0 ? dte_churn_once(c, i) : odp_churn_once(c, i);
		if (!ok)
			break;
		c->done++;
	}
	return NULL;
}

static struct xfer_churn *churn_new(uint64_t period_us, int n)
{
	struct xfer_churn *c = calloc(1, sizeof(*c));

	if (n < 0)
		xfer_die("churn over %d buffers is not supported", n);
	if (!c)
		xfer_die_err("calloc", ENOMEM);
	c->fds = calloc(n + 1, sizeof(*c->fds));
	c->slots = calloc(n + 1, sizeof(*c->slots));
	if (!c->fds || !c->slots)
		xfer_die_err("calloc", ENOMEM);
	c->period.tv_sec = period_us / 1000000;
	c->period.tv_nsec = (long)(period_us % 1000000) * 1000;
	c->back_to_back = !period_us;
	c->n = n;
	atomic_init(&c->stop, false);
	return c;
}

static void churn_run(struct xfer_churn *c)
{
	int err = pthread_create(&c->thread, NULL, churn_thread, c);

	if (err)
		xfer_die_err("pthread_create", err);
}

struct xfer_churn *xfer_churn_start(unsigned long cmd, uint64_t period_us,
				    const int *fds, int nfds,
				    const struct xfer_churn_probe *probe)
{
	struct xfer_churn *c = churn_new(period_us, nfds);

	if (nfds < 1)
		xfer_die("churn over %d buffers is not supported", nfds);
	c->kind = -1;
	c->cmd = cmd;
	if (probe)
		c->probe = *probe;
	memcpy(c->fds, fds, nfds * sizeof(*fds));
	churn_run(c);
	return c;
}

struct xfer_churn *xfer_odp_churn_start(enum xfer_odp_churn kind,
					uint64_t period_us,
					struct xfer_slots *const *slots, int n)
{
	struct xfer_churn *c = churn_new(period_us, n);

	if (kind != XFER_CHURN_FORK && n < 1)
		xfer_die("slot churn needs at least one buffer");
	c->kind = (int)kind;
	memcpy(c->slots, slots, n * sizeof(*slots));
	churn_run(c);
	return c;
}

uint64_t xfer_churn_stop(struct xfer_churn *c, uint64_t *busy)
{
	uint64_t done;
	int err;

	atomic_store(&c->stop, true);
	for (int i = 0; c->kind >= 0 && i < c->n; i++)
		slots_wake(c->slots[i]);
	err = pthread_join(c->thread, NULL);
	if (err)
		xfer_die_err("pthread_join", err);
	if (c->err)
		xfer_die("%s failed after %" PRIu64 " requests: %s",
			 c->failed, c->done, strerror(c->err));
	done = c->done;
	if (busy)
		*busy = c->busy;
	free(c->fds);
	free(c->slots);
	free(c);
	return done;
}
