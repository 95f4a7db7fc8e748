/*
 * fuzz_uverbs.h - raw uverbs commands on a context's command fd.
 *
 * libibverbs frees its struct ibv_mr in ibv_dereg_mr() and keeps no MR the
 * kernel does not know, so it cannot issue two destroys of one MR handle
 * or a registration with malformed attributes. These helpers talk to the
 * kernel directly: MRs they create are unknown to libibverbs and are
 * destroyed with them too.
 */
#ifndef FUZZ_UVERBS_H
#define FUZZ_UVERBS_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/ib_user_verbs.h>
#include <rdma/rdma_user_ioctl_cmds.h>

#define RAW_REG_NATTRS	9

/* An ioctl command with room for the attributes of any method used here. */
struct raw_cmd {
	struct ib_uverbs_ioctl_hdr hdr;
	struct ib_uverbs_attr attrs[RAW_REG_NATTRS + 2];
};

/* The kernel takes only commands naming the device's driver. */
static inline void raw_cmd_init(struct raw_cmd *c, uint16_t object,
				uint16_t method)
{
	memset(c, 0, sizeof(*c));
	c->hdr.object_id = object;
	c->hdr.method_id = method;
	c->hdr.driver_id = RDMA_DRIVER_RXE;
}

/* Inline data of up to 8 bytes, or an IDR handle when @len is 0. */
static inline struct ib_uverbs_attr *raw_attr(struct raw_cmd *c, uint16_t id,
					      uint16_t len, uint64_t data)
{
	struct ib_uverbs_attr *a = &c->attrs[c->hdr.num_attrs++];

	a->attr_id = id;
	a->len = len;
	a->data = data;
	return a;
}

/* 0 or the errno of the ioctl. */
static inline int raw_cmd_exec(int cmd_fd, struct raw_cmd *c)
{
	c->hdr.length = (uint16_t)(sizeof(c->hdr) +
				   c->hdr.num_attrs * sizeof(c->attrs[0]));
	return ioctl(cmd_fd, RDMA_VERBS_IOCTL, c) ? errno : 0;
}

/* UVERBS_METHOD_MR_DESTROY of handle @handle: 0 or an errno. */
static inline int raw_destroy_mr_ioctl(int cmd_fd, int64_t handle)
{
	struct raw_cmd c;

	raw_cmd_init(&c, UVERBS_OBJECT_MR, UVERBS_METHOD_MR_DESTROY);
	raw_attr(&c, UVERBS_ATTR_DESTROY_MR_HANDLE, 0, (uint64_t)handle);
	return raw_cmd_exec(cmd_fd, &c);
}

/* The legacy write() command IB_USER_VERBS_CMD_DEREG_MR: 0 or an errno. */
static inline int raw_destroy_mr_write(int cmd_fd, uint32_t handle)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_dereg_mr cmd;
	} w = {
		.hdr = {
			.command = IB_USER_VERBS_CMD_DEREG_MR,
			.in_words = sizeof(w) / 4,
		},
		.cmd = { .mr_handle = handle },
	};
	ssize_t n = write(cmd_fd, &w, sizeof(w));

	if (n < 0)
		return errno;
	return n == (ssize_t)sizeof(w) ? 0 : EIO;
}

/* Arguments of a raw REG_DMABUF_MR; the keys come back in @lkey, @rkey. */
struct raw_reg {
	uint32_t pd_handle;
	uint64_t offset, length, iova;
	uint32_t fd, access;
	uint32_t lkey, rkey;
};

/*
 * Fill @c with a well-formed REG_DMABUF_MR of @r; the handle attribute is
 * attrs[0], where the kernel writes the new handle.
 */
static inline void raw_reg_build(struct raw_cmd *c, struct raw_reg *r)
{
	raw_cmd_init(c, UVERBS_OBJECT_MR, UVERBS_METHOD_REG_DMABUF_MR);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_HANDLE, 0, 0);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_PD_HANDLE, 0, r->pd_handle);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_OFFSET, 8, r->offset);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_LENGTH, 8, r->length);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_IOVA, 8, r->iova);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_FD, 4, r->fd);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_ACCESS_FLAGS, 4, r->access);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_RESP_LKEY, 4,
		 (uintptr_t)&r->lkey);
	raw_attr(c, UVERBS_ATTR_REG_DMABUF_MR_RESP_RKEY, 4,
		 (uintptr_t)&r->rkey);
}

#endif /* FUZZ_UVERBS_H */
