/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * dmabuf_test_exporter: a dynamic dma-buf exporter, backed by system pages,
 * that moves, evicts and revokes its buffers on command so that importers'
 * move_notify and refault paths can be tested without special hardware.
 *
 * All ioctls are issued on DTE_DEVICE_PATH. Every buffer operation names its
 * buffer by a dma-buf file descriptor:
 *   EBADF   the descriptor is not open
 *   EINVAL  it is not a dma-buf, or a dma-buf of another exporter; or a
 *           flag, size or value is out of range, or a pad field is not zero
 *   ENODEV  MOVE, EVICT or FAIL_MAPS on a revoked buffer
 *   EBUSY   MOVE or EVICT of a buffer an importer has pinned, or has a
 *           kernel mapping (vmap) of that it did not drop on move_notify
 *   ENOTTY  unknown ioctl
 * A request that fails leaves the buffer as it was (a MOVE or EVICT refused
 * with EBUSY has told importers to drop their mappings: they map again).
 *
 * A move's copy, and the checksum an eviction takes of the saved copy,
 * start only once the fences already in the buffer's reservation object
 * have signalled. The restore checks that sum: if the saved copy changed,
 * the kernel log says so, the restore fence carries an error, and page
 * faults on the restored pages raise SIGBUS until the next move.
 *
 * Failures reach importers that never map the attachment (CPU importers,
 * which use only vmap) through the KERNEL fence of the reservation object:
 * after REVOKE it is one that signalled with -ENODEV, after a move that
 * DTE_IOC_FAIL_MAPS failed one that signals with its error. Such an
 * importer checks the fences' errors before it vmaps.
 */
#ifndef _UAPI_DMABUF_TEST_EXPORTER_H
#define _UAPI_DMABUF_TEST_EXPORTER_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define DTE_DEVICE_PATH "/dev/dmabuf_test_exporter"
#define DTE_IOC_MAGIC 0xB5

/* Largest buffer DTE_IOC_CREATE accepts, in bytes: 1 GiB. */
#define DTE_MAX_SIZE 0x40000000ULL
/* Largest delay DTE_IOC_FENCE_DELAY accepts, in microseconds. */
#define DTE_MAX_FENCE_DELAY_US 60000000U

/**
 * struct dte_create - DTE_IOC_CREATE argument
 * @size: in: bytes, 1..DTE_MAX_SIZE, rounded up to a multiple of the page size
 * @flags: in: DTE_CREATE_*
 * @fd: out: a new O_RDWR dma-buf file descriptor, close-on-exec
 */
struct dte_create {
	__u64 size;
	__u32 flags;
	__s32 fd;
};

/*
 * vmap presents the buffer as I/O memory (struct iosys_map.is_iomem).
 * EOPNOTSUPP where I/O memory accessors cannot reach RAM (UML).
 */
#define DTE_CREATE_IOMEM 0x1U
#define DTE_CREATE_FLAGS (DTE_CREATE_IOMEM)

/**
 * struct dte_buf_op - DTE_IOC_MOVE, DTE_IOC_EVICT and DTE_IOC_REVOKE argument
 * @fd: the buffer
 * @flags: DTE_MOVE_WAIT for DTE_IOC_MOVE; must be 0 otherwise
 */
struct dte_buf_op {
	__s32 fd;
	__u32 flags;
};

/*
 * MOVE returns only once the move's fence has signalled: ETIMEDOUT if it
 * did not in twice DTE_MAX_FENCE_DELAY_US (or the copy gave up waiting for
 * others' fences), EIO if the copy restored a saved copy that had changed,
 * the armed error if DTE_IOC_FAIL_MAPS failed the move. The move is done
 * in all three cases.
 */
#define DTE_MOVE_WAIT 0x1U

/**
 * struct dte_fail_maps - DTE_IOC_FAIL_MAPS argument
 * @fd: the buffer
 * @count: fail this many of the next map_dma_buf calls and moves, in
 *	whatever order they come (0 disarms); replaces an earlier setting
 * @error: with -@error; a positive errno, 1..4095
 * @pad: must be 0
 *
 * A map_dma_buf call (a DMA importer's map) that takes one of @count
 * returns -@error. A MOVE that takes one (also one that restores an
 * evicted buffer) moves the buffer all the same, but its KERNEL fence in
 * the reservation object signals with -@error once the copy is done: a CPU
 * importer, which never maps, sees that error before it would vmap and
 * fails the access. The next MOVE that succeeds replaces that fence, and
 * the buffer serves again. The failure is in the fence alone: mmap, and
 * importers that ignore fence errors, see the moved contents. A restore
 * made by a page fault, a pin or a vmap takes none.
 */
struct dte_fail_maps {
	__s32 fd;
	__u32 count;
	__s32 error;
	__u32 pad;
};

/**
 * struct dte_fence_delay - DTE_IOC_FENCE_DELAY argument
 * @fd: the buffer
 * @delay_us: the copy fence of later moves and restores signals this long
 *	after its copy finished; at most DTE_MAX_FENCE_DELAY_US
 */
struct dte_fence_delay {
	__s32 fd;
	__u32 delay_us;
};

/**
 * struct dte_stats - DTE_IOC_STATS argument
 * @fd: in: the buffer
 * @pad: in: must be 0
 * @attachments: attachments now
 * @dynamic_attachments: attachments now whose importer handles move_notify
 * @maps: successful map_dma_buf calls since create
 * @unmaps: unmap_dma_buf calls since create
 * @vmaps: vmap calls that reached the exporter since create
 * @vunmaps: vunmap calls that reached the exporter since create
 * @pins: pins now
 * @moves: moves since create
 * @evictions: evictions since create
 * @injected_map_failures: map_dma_buf calls and moves failed by
 *	DTE_IOC_FAIL_MAPS
 * @nr_pages: pages of the current backing (0 while evicted or revoked)
 * @generation: incremented by every move, eviction and restore
 * @revoked: 1 once revoked
 * @evicted: 1 while evicted
 */
struct dte_stats {
	__s32 fd;
	__u32 pad;
	__u64 attachments;
	__u64 dynamic_attachments;
	__u64 maps;
	__u64 unmaps;
	__u64 vmaps;
	__u64 vunmaps;
	__u64 pins;
	__u64 moves;
	__u64 evictions;
	__u64 injected_map_failures;
	__u64 nr_pages;
	__u64 generation;
	__u32 revoked;
	__u32 evicted;
};

#define DTE_IOC_CREATE      _IOWR(DTE_IOC_MAGIC, 0, struct dte_create)
#define DTE_IOC_MOVE        _IOW(DTE_IOC_MAGIC, 1, struct dte_buf_op)
#define DTE_IOC_EVICT       _IOW(DTE_IOC_MAGIC, 2, struct dte_buf_op)
#define DTE_IOC_REVOKE      _IOW(DTE_IOC_MAGIC, 3, struct dte_buf_op)
#define DTE_IOC_FAIL_MAPS   _IOW(DTE_IOC_MAGIC, 4, struct dte_fail_maps)
#define DTE_IOC_FENCE_DELAY _IOW(DTE_IOC_MAGIC, 5, struct dte_fence_delay)
#define DTE_IOC_STATS       _IOWR(DTE_IOC_MAGIC, 6, struct dte_stats)

#endif /* _UAPI_DMABUF_TEST_EXPORTER_H */
