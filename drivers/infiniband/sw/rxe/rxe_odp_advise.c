// SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB
/*
 * ibv_advise_mr() for rxe: prefetch ranges of ODP MRs, so that the first
 * access does not pay for the page faults.
 */

#include <rdma/ib_umem_odp.h>
#include <rdma/uverbs_ioctl.h>

#include "rxe.h"
#include "rxe_loc.h"

struct rxe_prefetch_sge {
	struct rxe_mr	*mr;
	u64		addr;
	u32		length;
};

struct rxe_prefetch_work {
	struct work_struct	work;
	bool			write;
	bool			fault;
	u32			num_sge;
	struct rxe_prefetch_sge	sge[] __counted_by(num_sge);
};

/* Look up and hold the MRs of @sg_list; all must be ODP MRs of @pd. */
static int rxe_prefetch_get_mrs(struct ib_pd *pd, bool write,
				struct ib_sge *sg_list, u32 num_sge,
				struct rxe_prefetch_sge *sge)
{
	int access = write ? IB_ACCESS_LOCAL_WRITE : 0;
	u32 i;

	for (i = 0; i < num_sge; i++) {
		sge[i].mr = lookup_mr(to_rpd(pd), access, sg_list[i].lkey,
				      RXE_LOOKUP_LOCAL);
		if (!sge[i].mr || !sge[i].mr->odp) {
			if (sge[i].mr)
				rxe_put(sge[i].mr);
			while (i--)
				rxe_put(sge[i].mr);
			return -EINVAL;
		}
		sge[i].addr = sg_list[i].addr;
		sge[i].length = sg_list[i].length;
	}
	return 0;
}

/* Prefetch every range, then drop the MRs; return the first error. */
static int rxe_prefetch(struct rxe_prefetch_sge *sge, u32 num_sge,
			bool write, bool fault)
{
	int err = 0, ret;
	u32 i;

	for (i = 0; i < num_sge; i++) {
		ret = rxe_odp_prefetch(sge[i].mr, sge[i].addr, sge[i].length,
				       write, fault);
		if (ret && !err)
			err = ret;
		rxe_put(sge[i].mr);
	}
	return err;
}

static void rxe_prefetch_work_fn(struct work_struct *work)
{
	struct rxe_prefetch_work *w =
		container_of(work, struct rxe_prefetch_work, work);

	/* Advice is a hint: an asynchronous failure has no one to tell. */
	rxe_prefetch(w->sge, w->num_sge, w->write, w->fault);
	kfree(w);
}

/**
 * rxe_ib_advise_mr() - the advise_mr verb
 * @pd: protection domain of the MRs
 * @advice: PREFETCH, PREFETCH_WRITE or PREFETCH_NO_FAULT
 * @flags: IB_UVERBS_ADVISE_MR_FLAG_FLUSH to prefetch before returning
 * @sg_list: the ranges, by lkey
 * @num_sge: number of ranges
 * @attrs: unused
 *
 * Return: 0, -EOPNOTSUPP for other advice, -EINVAL for an lkey that is not
 * an ODP MR of @pd (or lacks write access for PREFETCH_WRITE), or the
 * first error of a synchronous prefetch.
 */
int rxe_ib_advise_mr(struct ib_pd *pd, enum ib_uverbs_advise_mr_advice advice,
		     u32 flags, struct ib_sge *sg_list, u32 num_sge,
		     struct uverbs_attr_bundle *attrs)
{
	bool write = advice == IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE;
	bool fault = advice != IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT;
	struct rxe_prefetch_work *w;
	int err;

	switch (advice) {
	case IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH:
	case IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE:
	case IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT:
		break;
	default:
		return -EOPNOTSUPP;
	}

	w = kzalloc(struct_size(w, sge, num_sge), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	w->num_sge = num_sge;
	w->write = write;
	w->fault = fault;

	err = rxe_prefetch_get_mrs(pd, write, sg_list, num_sge, w->sge);
	if (err)
		goto out_free;

	if (!(flags & IB_UVERBS_ADVISE_MR_FLAG_FLUSH)) {
		INIT_WORK(&w->work, rxe_prefetch_work_fn);
		queue_work(system_unbound_wq, &w->work);
		return 0;
	}

	err = rxe_prefetch(w->sge, num_sge, write, fault);
out_free:
	kfree(w);
	return err;
}
