/* SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB */
/*
 * Tracepoints of rxe's ODP MRs: each invalidation of a mapped range and
 * each fault that maps pages in, with the range and how long it took, so
 * that their cost can be measured from inside the kernel. A duration
 * includes the wait for umem_mutex and, for an invalidation, for the
 * copies inside the copy gate to leave.
 *
 * They form a system of their own, apart from rxe's dma-buf events, so
 * that events/rxe_odp/enable turns on exactly the ODP ones.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM rxe_odp

#if !defined(_RXE_ODP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _RXE_ODP_TRACE_H

#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(rxe_odp_range,
		    TP_PROTO(u64 start, u64 length, u64 duration_ns),
		    TP_ARGS(start, length, duration_ns),
		    TP_STRUCT__entry(__field(u64, start)
				     __field(u64, length)
				     __field(u64, duration_ns)),
		    TP_fast_assign(__entry->start = start;
				   __entry->length = length;
				   __entry->duration_ns = duration_ns;),
		    TP_printk("start=0x%llx length=%llu duration_ns=%llu",
			      __entry->start, __entry->length,
			      __entry->duration_ns)
);

/* An mmu_interval_notifier invalidation of [start, start + length). */
DEFINE_EVENT(rxe_odp_range, rxe_odp_invalidate,
	     TP_PROTO(u64 start, u64 length, u64 duration_ns),
	     TP_ARGS(start, length, duration_ns)
);

/*
 * A fault that mapped [start, start + length) for a copy or a prefetch;
 * a prefetch with IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT is not one.
 */
DEFINE_EVENT(rxe_odp_range, rxe_odp_fault,
	     TP_PROTO(u64 start, u64 length, u64 duration_ns),
	     TP_ARGS(start, length, duration_ns)
);

#endif /* _RXE_ODP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE rxe_odp_trace
#include <trace/define_trace.h>
