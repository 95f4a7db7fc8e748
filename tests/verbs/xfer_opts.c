/*
 * Command line of rdma_xfer. Every bad argument exits with status 2 and a
 * message naming the option, before any device is touched.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xfer.h"

const char *const xfer_op_names[XFER_OP_COUNT] = {
	"write", "write_imm", "read", "send",
};

const char *const xfer_mode_names[] = { "loopback", "server", "client" };

static void usage(FILE *f)
{
	fprintf(f,
"usage: rdma_xfer [options]                 loopback: two RC QPs in one process\n"
"       rdma_xfer [options] --server        two-node, responder side\n"
"       rdma_xfer [options] --client HOST   two-node, requester side\n"
"\n"
"Moves --iters messages (or as many as --seconds allow) over each of --qps\n"
"RC QP pairs, verifies every byte of every message and prints one summary\n"
"line on stdout:\n"
"  rdma_xfer: op=OP size=N iters=N depth=N qps=N mode=MODE bytes=N verified=N\n"
"  seconds=S MB/s=R wrs=N completions=N flushed=N lost=N duplicated=N\n"
"where iters, bytes and verified add up all QP pairs, and wrs counts the\n"
"work requests this side posted, each of which must complete exactly once:\n"
"the receives still queued at the end complete as flushed once the QPs\n"
"are moved to the error state; lost counts those that never completed,\n"
"duplicated the completions of no outstanding work request (either fails\n"
"the run). Then, for test exporter memory, \" moves=N evictions=N\n"
"restores=N pins=N\" (restores of evicted buffers by any access; pins\n"
"counted before deregistration), and for any dma-buf memory, where the\n"
"device has the counters, \" invalidations=N refaults=N\" (rxe's counts\n"
"during the run). Move and eviction churn, in loopback and --client mode,\n"
"adds how many of its requests were made while a data work request on\n"
"their buffer was posted and not yet completed (\" moves_in_flight=N\n"
"evictions_in_flight=N\"; evicting an evicted buffer is a request too). ODP\n"
"memory adds the churn issued (\" madvises=N remaps=N forks=N\", those in\n"
"use) and rxe's \" odp_faults=N odp_invalidations=N\" during the run, and\n"
"\" odp_prefetches=N\" with --prefetch. Last come the page faults of this\n"
"process during the run (\" page_faults=N\"): its CPU access to the data\n"
"buffers, whose mapping a move, eviction or ODP churn unmaps.\n"
"\n"
"  -d, --dev NAME        RDMA device (default: the first one)\n"
"      --op OP           write|write_imm|read|send (default write)\n"
"  -s, --size BYTES      message size, K/M suffix allowed, max 1G (default 65536)\n"
"  -n, --iters N         messages per QP pair (default 1000)\n"
"      --seconds S       post messages for S seconds instead, 1..%d\n"
"      --qps N           QP pairs, each with buffers of its own, 1..%d\n"
"                        (default 1); one thread serves them all\n"
"  -t, --depth N         outstanding messages and buffer slots, 1..%d (default 16)\n"
"  -x, --gid-index N     local GID index (default 1: RoCEv2 IPv4 on rxe)\n"
"  -m, --mtu N           path MTU 256|512|1024|2048|4096 (default: the\n"
"                        port's active MTU, as perftest does)\n"
"      --mem KIND        data buffer memory: %s\n"
"                        (default host); dte and dte-iomem need the\n"
"                        dmabuf_test_exporter module; odp registers\n"
"                        each buffer for on-demand paging, odp-implicit\n"
"                        reaches plain memory through one implicit ODP\n"
"                        MR of the whole address space\n"
"      --dmabuf-offset N register the dma-buf MR N bytes into a larger\n"
"                        buffer (any N; the iova gets N's page offset)\n"
"      --close-fd        close the registered dma-buf fd right after\n"
"                        registration (a duplicate serves CPU access)\n"
"      --move-every-us N move the data buffers every N microseconds during\n"
"                        the run, taking turns (dte, dte-iomem); 0 moves\n"
"                        back to back (a buffer once its last copy is done),\n"
"                        as 0 churns back to back for every --*-every-us\n"
"      --evict-every-us N  the same with evictions\n"
"      --churn-in-flight hold each move or eviction until a data work\n"
"                        request on its buffer is posted and not yet\n"
"                        completed (loopback and --client)\n"
"      --fence-delay-us N  the test exporter signals each move's fence N\n"
"                        microseconds after its copy (up to 60 s), so every\n"
"                        refault after a move waits that long\n"
"      --madvise-every-us N  MADV_DONTNEED a data slot that is not in use\n"
"                        every N microseconds during the run (odp,\n"
"                        odp-implicit; --size a multiple of the page size)\n"
"      --remap-every-us N  the same with munmap and a fresh mmap at the\n"
"                        same address\n"
"      --fork-every-us N fork a child that exits at once every N\n"
"                        microseconds, write-protecting all memory for COW\n"
"                        (odp, odp-implicit)\n"
"      --prefetch        ibv_advise_mr(PREFETCH_WRITE, FLUSH) over the data\n"
"                        buffers before traffic (odp, odp-implicit)\n"
"      --server          wait for a client; it sends --op/--size/--iters/\n"
"                        --seconds/--qps/--depth/--mtu, the server's own\n"
"                        values are ignored; churn options are each side's\n"
"      --client HOST     connect to a server\n"
"  -p, --port P          TCP port for two-node mode (default 18515)\n"
"      --busy-poll       spin on the CQs instead of sleeping on CQ events\n"
"  -q, --quiet           print only the summary line and errors\n"
"  -h, --help            this text\n"
"\n"
"Exit status: 0 all data verified, 1 run-time failure (verbs error, failed\n"
"completion, data mismatch, timeout, a test exporter buffer pinned while\n"
"registered), 2 bad arguments.\n",
		XFER_MAX_SECONDS, XFER_MAX_QPS, XFER_MAX_DEPTH,
		xfer_buf_ops_names());
}

/* Parse a decimal count with an optional K/M/G (binary) suffix. */
static uint64_t parse_num(const char *opt, const char *s, bool suffix,
			  uint64_t min, uint64_t max)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!isdigit((unsigned char)*s) || end == s || errno)
		xfer_die_usage("invalid %s '%s': not a number", opt, s);
	if (suffix && *end && !end[1]) {
		switch (toupper((unsigned char)*end)) {
		case 'K':
			mult = 1ULL << 10;
			break;
		case 'M':
			mult = 1ULL << 20;
			break;
		case 'G':
			mult = 1ULL << 30;
			break;
		}
		if (mult > 1)
			end++;
	}
	if (*end)
		xfer_die_usage("invalid %s '%s': not a number", opt, s);
	if (v > max / mult || v * mult < min || v * mult > max)
		xfer_die_usage("invalid %s '%s': must be between %" PRIu64 " and %" PRIu64,
			       opt, s, min, max);
	return v * mult;
}

static enum ibv_mtu parse_mtu(const char *s)
{
	for (enum ibv_mtu m = IBV_MTU_256; m <= IBV_MTU_4096; m++) {
		char buf[8];

		snprintf(buf, sizeof(buf), "%d", xfer_mtu_bytes(m));
		if (!strcmp(s, buf))
			return m;
	}
	xfer_die_usage("invalid --mtu '%s': use 256, 512, 1024, 2048 or 4096", s);
}

static enum xfer_op parse_op(const char *s)
{
	for (int i = 0; i < XFER_OP_COUNT; i++)
		if (!strcmp(s, xfer_op_names[i]))
			return i;
	xfer_die_usage("unknown --op '%s': use write, write_imm, read or send", s);
}

/* getopt leaves a long option in argv, a short one only in optopt. */
static const char *opt_name(const char *arg, int opt)
{
	static char buf[3];

	if (!strncmp(arg, "--", 2) || opt <= 0 || opt > 255)
		return arg;
	snprintf(buf, sizeof(buf), "-%c", opt);
	return buf;
}

void xfer_parse_opts(int argc, char **argv, struct xfer_opts *o)
{
	enum {
		OPT_OP = 256, OPT_SERVER, OPT_CLIENT, OPT_MEM, OPT_BUSY,
		OPT_DMABUF_OFFSET, OPT_CLOSE_FD, OPT_MOVE, OPT_EVICT,
		OPT_FENCE_DELAY, OPT_CHURN_IN_FLIGHT,
		OPT_MADVISE, OPT_REMAP, OPT_FORK, OPT_PREFETCH, OPT_SECONDS,
		OPT_QPS,
	};
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "op", required_argument, NULL, OPT_OP },
		{ "size", required_argument, NULL, 's' },
		{ "iters", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, OPT_SECONDS },
		{ "qps", required_argument, NULL, OPT_QPS },
		{ "depth", required_argument, NULL, 't' },
		{ "gid-index", required_argument, NULL, 'x' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "dmabuf-offset", required_argument, NULL, OPT_DMABUF_OFFSET },
		{ "close-fd", no_argument, NULL, OPT_CLOSE_FD },
		{ "move-every-us", required_argument, NULL, OPT_MOVE },
		{ "evict-every-us", required_argument, NULL, OPT_EVICT },
		{ "fence-delay-us", required_argument, NULL, OPT_FENCE_DELAY },
		{ "churn-in-flight", no_argument, NULL, OPT_CHURN_IN_FLIGHT },
		{ "madvise-every-us", required_argument, NULL, OPT_MADVISE },
		{ "remap-every-us", required_argument, NULL, OPT_REMAP },
		{ "fork-every-us", required_argument, NULL, OPT_FORK },
		{ "prefetch", no_argument, NULL, OPT_PREFETCH },
		{ "server", no_argument, NULL, OPT_SERVER },
		{ "client", required_argument, NULL, OPT_CLIENT },
		{ "port", required_argument, NULL, 'p' },
		{ "busy-poll", no_argument, NULL, OPT_BUSY },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool server = false, offset = false, iters = false;
	int c;

	*o = (struct xfer_opts){
		.port = "18515",
		.mem = &xfer_host_buf_ops,
		.gid_index = 1,
		.p = {
			.op = XFER_OP_WRITE,
			.size = 65536,
			.iters = 1000,
			.depth = 16,
			.qps = 1,
		},
		.move_us = XFER_CHURN_OFF,
		.evict_us = XFER_CHURN_OFF,
		.madvise_us = XFER_CHURN_OFF,
		.remap_us = XFER_CHURN_OFF,
		.fork_us = XFER_CHURN_OFF,
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:s:n:t:x:m:p:qh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dev = optarg;
			break;
		case OPT_OP:
			o->p.op = parse_op(optarg);
			break;
		case 's':
			o->p.size = parse_num("--size", optarg, true, 1, XFER_MAX_SIZE);
			break;
		case 'n':
			o->p.iters = parse_num("--iters", optarg, false, 1,
					       XFER_MAX_ITERS);
			iters = true;
			break;
		case OPT_SECONDS:
			o->p.seconds = parse_num("--seconds", optarg, false, 1,
						 XFER_MAX_SECONDS);
			break;
		case OPT_QPS:
			o->p.qps = parse_num("--qps", optarg, false, 1,
					     XFER_MAX_QPS);
			break;
		case 't':
			o->p.depth = parse_num("--depth", optarg, false, 1,
					       XFER_MAX_DEPTH);
			break;
		case 'x':
			o->gid_index = parse_num("--gid-index", optarg, false,
						 0, 255);
			break;
		case 'm':
			o->p.mtu = parse_mtu(optarg);
			break;
		case OPT_MEM:
			o->mem = xfer_buf_ops_find(optarg);
			if (!o->mem)
				xfer_die_usage("unknown --mem '%s': use %s",
					       optarg, xfer_buf_ops_names());
			break;
		case OPT_DMABUF_OFFSET:
			xfer_dmabuf_cfg.offset = parse_num("--dmabuf-offset",
							   optarg, true, 0,
							   XFER_MAX_SIZE);
			offset = true;
			break;
		case OPT_CLOSE_FD:
			xfer_dmabuf_cfg.close_fd = true;
			break;
		case OPT_MOVE:
			o->move_us = parse_num("--move-every-us", optarg, false,
					       0, XFER_MAX_CHURN_US);
			break;
		case OPT_EVICT:
			o->evict_us = parse_num("--evict-every-us", optarg,
						false, 0, XFER_MAX_CHURN_US);
			break;
		case OPT_FENCE_DELAY:
			o->fence_delay_us = parse_num("--fence-delay-us", optarg,
						      false, 0,
						      DTE_MAX_FENCE_DELAY_US);
			break;
		case OPT_CHURN_IN_FLIGHT:
			o->churn_in_flight = true;
			break;
		case OPT_MADVISE:
			o->madvise_us = parse_num("--madvise-every-us", optarg,
						  false, 0, XFER_MAX_CHURN_US);
			break;
		case OPT_REMAP:
			o->remap_us = parse_num("--remap-every-us", optarg,
						false, 0, XFER_MAX_CHURN_US);
			break;
		case OPT_FORK:
			o->fork_us = parse_num("--fork-every-us", optarg,
					       false, 0, XFER_MAX_CHURN_US);
			break;
		case OPT_PREFETCH:
			o->prefetch = true;
			break;
		case OPT_SERVER:
			server = true;
			break;
		case OPT_CLIENT:
			o->host = optarg;
			break;
		case 'p':
			parse_num("--port", optarg, false, 1, 65535);
			o->port = optarg;
			break;
		case OPT_BUSY:
			o->busy_poll = true;
			break;
		case 'q':
			xfer_quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			xfer_die_usage("option '%s' needs an argument",
				       opt_name(argv[optind - 1], optopt));
		default:
			xfer_die_usage("unknown option '%s'",
				       opt_name(argv[optind - 1], optopt));
		}
	}
	if (optind < argc)
		xfer_die_usage("unexpected argument '%s'", argv[optind]);
	if (server && o->host)
		xfer_die_usage("--server and --client exclude each other");
	if (iters && o->p.seconds)
		xfer_die_usage("--iters and --seconds exclude each other");
	if (o->p.seconds)
		o->p.iters = 0;
	o->mode = server ? XFER_SERVER : o->host ? XFER_CLIENT : XFER_LOOPBACK;
	if ((offset || xfer_dmabuf_cfg.close_fd) && o->mem->src < 0)
		xfer_die_usage("%s needs dma-buf memory (--mem %s)",
			       offset ? "--dmabuf-offset" : "--close-fd",
			       xfer_buf_ops_names());
	if ((xfer_churn_on(o->move_us) || xfer_churn_on(o->evict_us) ||
	     o->fence_delay_us) && !xfer_dmabuf_src_is_dte(o->mem->src))
		xfer_die_usage("%s needs test exporter memory (--mem dte or dte-iomem)",
			       xfer_churn_on(o->move_us) ? "--move-every-us" :
			       xfer_churn_on(o->evict_us) ? "--evict-every-us" :
			       "--fence-delay-us");
	if (o->churn_in_flight && !xfer_churn_on(o->move_us) &&
	    !xfer_churn_on(o->evict_us))
		xfer_die_usage("--churn-in-flight needs --move-every-us or --evict-every-us");
	/* A server cannot see when its peer's work requests are in flight. */
	if (o->churn_in_flight && o->mode == XFER_SERVER)
		xfer_die_usage("--churn-in-flight needs loopback or --client mode");
	if ((xfer_churn_on(o->madvise_us) || xfer_churn_on(o->remap_us) ||
	     xfer_churn_on(o->fork_us) || o->prefetch) && !o->mem->odp)
		xfer_die_usage("%s needs ODP memory (--mem odp or odp-implicit)",
			       xfer_churn_on(o->madvise_us) ? "--madvise-every-us" :
			       xfer_churn_on(o->remap_us) ? "--remap-every-us" :
			       xfer_churn_on(o->fork_us) ? "--fork-every-us" :
			       "--prefetch");
	/* A server learns the size from its client and checks it then. */
	if (o->mode != XFER_SERVER)
		xfer_check_slot_churn(o, &o->p, true);
}

/*
 * Discarding a slot discards whole pages, and slot i starts at i * size:
 * only with the size a multiple of the page size are a slot's pages all
 * its own.
 */
void xfer_check_slot_churn(const struct xfer_opts *o,
			   const struct xfer_params *p, bool usage)
{
	long page = sysconf(_SC_PAGESIZE);
	const char *opt = xfer_churn_on(o->madvise_us) ?
			  "--madvise-every-us" : "--remap-every-us";

	if (!xfer_churn_on(o->madvise_us) && !xfer_churn_on(o->remap_us))
		return;
	if (p->size % (uint64_t)page == 0)
		return;
	if (usage)
		xfer_die_usage("%s needs --size to be a multiple of the page size (%ld)",
			       opt, page);
	xfer_die("%s needs a message size that is a multiple of the page size (%ld); the client asked for %" PRIu64,
		 opt, page, p->size);
}

/* The server takes its parameters from the wire: check them like argv. */
void xfer_check_params(const struct xfer_params *p)
{
	/* Exactly one of iters and seconds bounds the run. */
	if (p->op >= XFER_OP_COUNT || !p->size || p->size > XFER_MAX_SIZE ||
	    !p->iters == !p->seconds || p->iters > XFER_MAX_ITERS ||
	    p->seconds > XFER_MAX_SECONDS || !p->qps ||
	    p->qps > XFER_MAX_QPS || !p->depth ||
	    p->depth > XFER_MAX_DEPTH || !xfer_mtu_bytes(p->mtu))
		xfer_die("client sent invalid parameters (op %u size %" PRIu64 " iters %" PRIu64 " seconds %u qps %u depth %u mtu %u)",
			 p->op, p->size, p->iters, p->seconds, p->qps,
			 p->depth, p->mtu);
}
