/*
 * TCP rendezvous of two-node mode: the client sends the run's parameters
 * and its QPs' information, the server answers with its own, and a last
 * byte each way ends the run. Every wait on the peer is bounded.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xfer.h"

static void set_timeout(int fd, int opt, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)))
		xfer_die_err("setsockopt", errno);
}

/*
 * Listen on @port, preferring a dual-stack IPv6 socket but falling back to
 * IPv4 because guest kernels are often built without IPv6.
 */
int xfer_tcp_accept(const char *port)
{
	struct addrinfo hints = {
		.ai_flags = AI_PASSIVE,
		.ai_socktype = SOCK_STREAM,
	};
	struct addrinfo *res, *ai;
	struct pollfd pfd;
	int lfd = -1, fd, one = 1, zero = 0, err, pass;

	err = getaddrinfo(NULL, port, &hints, &res);
	if (err)
		xfer_die("getaddrinfo(port %s): %s", port, gai_strerror(err));
	for (pass = 0; pass < 2 && lfd < 0; pass++) {
		for (ai = res; ai && lfd < 0; ai = ai->ai_next) {
			if ((ai->ai_family == AF_INET6) != (pass == 0))
				continue;
			lfd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
			if (lfd < 0) {
				err = errno;
				continue;
			}
			setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ai->ai_family == AF_INET6)
				setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY,
					   &zero, sizeof(zero));
			if (bind(lfd, ai->ai_addr, ai->ai_addrlen) ||
			    listen(lfd, 1)) {
				err = errno;
				close(lfd);
				lfd = -1;
			}
		}
	}
	freeaddrinfo(res);
	if (lfd < 0)
		xfer_die("cannot listen on port %s: %s", port, strerror(err));

	xfer_info("waiting for a client on port %s", port);
	pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
	err = poll(&pfd, 1, XFER_ACCEPT_TIMEOUT_S * 1000);
	if (err < 0)
		xfer_die_err("poll", errno);
	if (!err)
		xfer_die("no client connected within %d s", XFER_ACCEPT_TIMEOUT_S);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		xfer_die_err("accept", errno);
	close(lfd);
	set_timeout(fd, SO_RCVTIMEO, XFER_IDLE_TIMEOUT_S);
	set_timeout(fd, SO_SNDTIMEO, XFER_IDLE_TIMEOUT_S);
	return fd;
}

/* Retry for a while: the server may still be starting up. */
int xfer_tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	double deadline = xfer_now() + XFER_IDLE_TIMEOUT_S;
	int fd, err;

	err = getaddrinfo(host, port, &hints, &res);
	if (err)
		xfer_die("cannot resolve '%s' port %s: %s", host, port,
			 gai_strerror(err));
	for (;;) {
		for (ai = res; ai; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
			if (fd < 0) {
				err = errno;
				continue;
			}
			/* Linux bounds connect() by the send timeout. */
			set_timeout(fd, SO_SNDTIMEO, 5);
			if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
				goto connected;
			err = errno;
			close(fd);
		}
		if (xfer_now() > deadline)
			xfer_die("cannot connect to %s port %s: %s", host, port,
				 strerror(err));
		usleep(200 * 1000);
	}
connected:
	freeaddrinfo(res);
	set_timeout(fd, SO_RCVTIMEO, XFER_IDLE_TIMEOUT_S);
	set_timeout(fd, SO_SNDTIMEO, XFER_IDLE_TIMEOUT_S);
	return fd;
}

void xfer_tcp_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			xfer_die_err("send", errno);
		p += n;
		len -= n;
	}
}

void xfer_tcp_recv(int fd, void *buf, size_t len, const char *what)
{
	char *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			xfer_die("no %s from peer within %d s", what,
				 XFER_IDLE_TIMEOUT_S);
		if (n < 0)
			xfer_die_err("recv", errno);
		if (!n)
			xfer_die("peer closed the connection while waiting for %s",
				 what);
		p += n;
		len -= n;
	}
}

/*
 * Wire format: fixed-size big-endian records, so two hosts only need to
 * agree on this file, not on struct layout or byte order. Version 2 added
 * QP pairs and timed runs: the hello carries only parameters, and the QP
 * information of each pair follows it.
 */
#define XFER_MAGIC	0x52584652u	/* "RXFR" */
#define XFER_VERSION	2u

struct wire_info {
	uint32_t qpn, psn, rkey, rd_atom;
	uint64_t addr;
	uint8_t gid[16];
};

struct wire_hello {
	uint32_t magic, version;
	uint32_t op, depth, mtu, qps, seconds, reserved;
	uint64_t size, iters;
};

_Static_assert(sizeof(struct wire_info) == 40, "wire_info has padding");
_Static_assert(sizeof(struct wire_hello) == 48, "wire_hello has padding");

static void info_to_wire(const struct xfer_conn_info *in, struct wire_info *w)
{
	w->qpn = htobe32(in->qpn);
	w->psn = htobe32(in->psn);
	w->rkey = htobe32(in->rkey);
	w->rd_atom = htobe32(in->rd_atom);
	w->addr = htobe64(in->addr);
	memcpy(w->gid, in->gid.raw, sizeof(w->gid));
}

static void info_from_wire(const struct wire_info *w, struct xfer_conn_info *out)
{
	out->qpn = be32toh(w->qpn);
	out->psn = be32toh(w->psn);
	out->rkey = be32toh(w->rkey);
	out->rd_atom = be32toh(w->rd_atom);
	out->addr = be64toh(w->addr);
	memcpy(out->gid.raw, w->gid, sizeof(w->gid));
}

void xfer_send_hello(int fd, const struct xfer_params *p)
{
	struct wire_hello h = {
		.magic = htobe32(XFER_MAGIC),
		.version = htobe32(XFER_VERSION),
		.op = htobe32(p->op),
		.depth = htobe32(p->depth),
		.mtu = htobe32(p->mtu),
		.qps = htobe32(p->qps),
		.seconds = htobe32(p->seconds),
		.size = htobe64(p->size),
		.iters = htobe64(p->iters),
	};

	xfer_tcp_send(fd, &h, sizeof(h));
}

/* Parameters are range-checked by the caller, like command-line ones. */
void xfer_recv_hello(int fd, struct xfer_params *p)
{
	struct wire_hello h;

	xfer_tcp_recv(fd, &h, sizeof(h), "the client's parameters");
	if (be32toh(h.magic) != XFER_MAGIC || be32toh(h.version) != XFER_VERSION)
		xfer_die("peer is not an rdma_xfer client of protocol version %u",
			 XFER_VERSION);
	p->op = be32toh(h.op);
	p->depth = be32toh(h.depth);
	p->mtu = be32toh(h.mtu);
	p->qps = be32toh(h.qps);
	p->seconds = be32toh(h.seconds);
	p->size = be64toh(h.size);
	p->iters = be64toh(h.iters);
}

void xfer_send_info(int fd, const struct xfer_conn_info *info)
{
	struct wire_info w;

	info_to_wire(info, &w);
	xfer_tcp_send(fd, &w, sizeof(w));
}

void xfer_recv_info(int fd, struct xfer_conn_info *info)
{
	struct wire_info w;

	xfer_tcp_recv(fd, &w, sizeof(w), "the peer's QP information");
	info_from_wire(&w, info);
}
