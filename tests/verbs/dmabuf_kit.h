/*
 * dmabuf_kit - dma-buf buffers and MRs for the case-by-case tests
 * dmabuf_reg and dmabuf_ops, on top of kit.h.
 *
 * Buffers and MRs made here are released after each case (set
 * kit_release_hook to dk_release). A source that is absent makes the case
 * KIT_SKIPPED, with the reason. The CPU reaches a buffer only through its
 * own mapping, bracketed for CPU access, so data that went anywhere else
 * is never mistaken for data that arrived.
 */
#ifndef DMABUF_KIT_H
#define DMABUF_KIT_H

#include "kit.h"

/* Close the case's buffers; for kit_release_hook. */
void dk_release(void);

/* A buffer of @src of @size bytes, or why the case cannot have one. */
int dk_new_buf(int src, size_t size, struct xfer_buf **b);
/* The first source present, preferring the one with the most controls. */
int dk_any_buf(size_t size, struct xfer_buf **b);
/* Register [@offset, @offset + @len) of @b at @iova; fails the case. */
int dk_new_mr(const struct xfer_buf *b, uint64_t offset, size_t len,
	      uint64_t iova, int access, struct ibv_mr **mr);

/* Check pattern @msg at @cpu inside @b, bracketed for CPU access. */
int dk_check_cpu(const struct xfer_buf *b, const void *cpu, uint64_t msg,
		 size_t len, const char *when);
/* Check that [@off, @off + @len) of @b is all zero. */
int dk_check_zero(const struct xfer_buf *b, size_t off, size_t len,
		  const char *when);
/* Fill [@off, @off + @len) of @b with pattern @msg through the CPU. */
void dk_fill(const struct xfer_buf *b, size_t off, uint64_t msg, size_t len);
uint64_t dk_load_u64(const struct xfer_buf *b, size_t off);
void dk_store_u64(const struct xfer_buf *b, size_t off, uint64_t v);

/* RDMA WRITE @len bytes of kit_host to @iova of @mr. */
int dk_write_to(struct kit_pair *p, struct ibv_mr *mr, uint64_t iova,
		size_t len);
/*
 * RDMA WRITE pattern @msg from kit_host into @len bytes of @mr at @iova,
 * then find it at @cpu through the buffer's mapping.
 */
int dk_write_check(struct kit_pair *p, const struct xfer_buf *b,
		   struct ibv_mr *mr, uint64_t iova, const void *cpu,
		   size_t len, uint64_t msg);
/* The same over a whole buffer registered at offset 0. */
int dk_write_check_all(struct kit_pair *p, const struct xfer_buf *b,
		       struct ibv_mr *mr, uint64_t msg);

/* How most cases start: a buffer, an MR over all of it, a QP pair. */
struct dk_setup {
	struct xfer_buf *b;
	struct ibv_mr *mr;
	struct kit_pair *p;
};

/*
 * @src -1 takes any source; KIT_SKIPPED if the source is absent. The pair
 * is of @type, made with kit_new_pair()'s @pair_flags.
 */
int dk_open(struct dk_setup *s, int src, size_t len, int access,
	    enum ibv_qp_type type, int pair_flags);

/*
 * The test exporter moves @b to new pages and waits for the copy, so the
 * MRs on it must refault on their next access; other sources stay.
 */
int dk_move_if_dte(const struct xfer_buf *b);

#endif /* DMABUF_KIT_H */
