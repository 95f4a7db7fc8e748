/* SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB */
/*
 * Tracepoints of rxe's dma-buf MRs: each invalidation (move_notify) and
 * each refault, with the MR, its length and how long the event took; a
 * refault also says how much of that went to waiting for the exporter's
 * fences and how much to vmap.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM rxe

#if !defined(_RXE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _RXE_TRACE_H

#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(rxe_dmabuf_mapping,
		    TP_PROTO(u32 lkey, u64 length, u64 duration_ns, int err),
		    TP_ARGS(lkey, length, duration_ns, err),
		    TP_STRUCT__entry(__field(u32, lkey)
				     __field(u64, length)
				     __field(u64, duration_ns)
				     __field(int, err)),
		    TP_fast_assign(__entry->lkey = lkey;
				   __entry->length = length;
				   __entry->duration_ns = duration_ns;
				   __entry->err = err;),
		    TP_printk("lkey=0x%x length=%llu duration_ns=%llu err=%d",
			      __entry->lkey, __entry->length,
			      __entry->duration_ns, __entry->err)
);

DEFINE_EVENT(rxe_dmabuf_mapping, rxe_dmabuf_invalidate,
	     TP_PROTO(u32 lkey, u64 length, u64 duration_ns, int err),
	     TP_ARGS(lkey, length, duration_ns, err)
);

TRACE_EVENT(rxe_dmabuf_refault,
	    TP_PROTO(u32 lkey, u64 length, u64 duration_ns, u64 fence_ns,
		     u64 vmap_ns, int err),
	    TP_ARGS(lkey, length, duration_ns, fence_ns, vmap_ns, err),
	    TP_STRUCT__entry(__field(u32, lkey)
			     __field(u64, length)
			     __field(u64, duration_ns)
			     __field(u64, fence_ns)
			     __field(u64, vmap_ns)
			     __field(int, err)),
	    TP_fast_assign(__entry->lkey = lkey;
			   __entry->length = length;
			   __entry->duration_ns = duration_ns;
			   __entry->fence_ns = fence_ns;
			   __entry->vmap_ns = vmap_ns;
			   __entry->err = err;),
	    TP_printk("lkey=0x%x length=%llu duration_ns=%llu err=%d fence_ns=%llu vmap_ns=%llu",
		      __entry->lkey, __entry->length, __entry->duration_ns,
		      __entry->err, __entry->fence_ns, __entry->vmap_ns)
);

#endif /* _RXE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE rxe_trace
#include <trace/define_trace.h>
