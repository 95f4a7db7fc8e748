/*
 * Buffer churn for rdma_xfer: a thread that moves or evicts test exporter
 * buffers at a fixed period while traffic runs, so that rxe has to drop
 * its mappings (move_notify) and map again (refault) mid-transfer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xfer.h"

/* Longer than any copy of a 1 GiB buffer should take, even under KASAN. */
#define CHURN_IDLE_TIMEOUT_MS	30000

struct xfer_churn {
	pthread_t thread;
	unsigned long cmd;
	struct timespec period;
	int fds[2];
	int nfds;
	atomic_bool stop;
	/* Written by the thread, read after the join. */
	uint64_t done;
	int err;
	const char *failed;
};

static const char *churn_name(unsigned long cmd)
{
	return cmd == DTE_IOC_MOVE ? "DTE_IOC_MOVE" : "DTE_IOC_EVICT";
}

/*
 * A move starts an asynchronous copy and each copy of a buffer queues
 * behind the previous one; were moves issued faster than copies finish,
 * copies and their pages would pile up without bound. So a buffer is
 * moved again only once its last copy is done, which the thread waits for
 * just before, leaving rxe the whole period to meet an unfinished copy.
 */
static void *churn_thread(void *arg)
{
	struct xfer_churn *c = arg;
	int fd, err;

	for (uint64_t i = 0; !atomic_load(&c->stop); i++) {
		nanosleep(&c->period, NULL);
		if (atomic_load(&c->stop))
			break;
		fd = c->fds[i % c->nfds];
		if (c->cmd == DTE_IOC_MOVE) {
			err = xfer_dmabuf_wait_idle(fd, CHURN_IDLE_TIMEOUT_MS);
			if (err) {
				c->err = err;
				c->failed = "waiting for the last move";
				break;
			}
		}
		err = xfer_dte_op(c->cmd, fd, 0);
		if (err) {
			c->err = err;
			c->failed = churn_name(c->cmd);
			break;
		}
		c->done++;
	}
	return NULL;
}

struct xfer_churn *xfer_churn_start(unsigned long cmd, uint64_t period_us,
				    const int *fds, int nfds)
{
	struct xfer_churn *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		xfer_die_err("calloc", ENOMEM);
	if (nfds < 1 || nfds > (int)ARRAY_SIZE(c->fds))
		xfer_die("churn over %d buffers is not supported", nfds);
	c->cmd = cmd;
	c->period.tv_sec = period_us / 1000000;
	c->period.tv_nsec = (long)(period_us % 1000000) * 1000;
	memcpy(c->fds, fds, nfds * sizeof(*fds));
	c->nfds = nfds;
	atomic_init(&c->stop, false);
	err = pthread_create(&c->thread, NULL, churn_thread, c);
	if (err)
		xfer_die_err("pthread_create", err);
	return c;
}

uint64_t xfer_churn_stop(struct xfer_churn *c)
{
	uint64_t done;
	int err;

	atomic_store(&c->stop, true);
	err = pthread_join(c->thread, NULL);
	if (err)
		xfer_die_err("pthread_join", err);
	if (c->err)
		xfer_die("%s failed after %" PRIu64 " requests: %s",
			 c->failed, c->done, strerror(c->err));
	done = c->done;
	free(c);
	return done;
}
