#!/usr/bin/python3
"""The report of tests/bench/odp-qps.sh: several QPs on one ODP MR, the
6.12 series' ODP copy path against upstream's (kept by the 7.3 series).

usage: report_odp_qps.py DIR

DIR holds one directory per guest (BASE-BOOT, with base.txt, env.txt and
qps.tsv). In each round of a guest, the ODP run's bandwidth is divided by
the pinned run's at the same point (QPs, tool, size): a base's ratio is the
median of those over all its rounds and guests, so that nothing outside
rxe's ODP path (the rest of the kernel, the guest's speed) enters it. The
6.12/7.3 column is the ratio of the two bases' ratios: above 1, the 6.12
copy path loses less to pinned memory than upstream's does.
Writes DIR/report.md."""
import glob
import os
import statistics
import sys

from bench_data import fnum, read_env, read_tsv, size_str

BASES = ("6.12", "7.3")


def collect(top):
    """{(base, qps, tool, bytes): [odp/pinned per round]}, the guests' envs,
    {(base, qps, tool, bytes, config): [bandwidth]}, ODP faults per run,
    {(base, qps, tool, bytes): failed runs} and the guests that failed
    (left out: a splat or a crash says nothing about bandwidth)."""
    ratios, bws, faults, envs, failed, bad_guests = {}, {}, {}, {}, {}, []
    for gdir in sorted(glob.glob(os.path.join(top, "*-*"))):
        meta = read_env(os.path.join(gdir, "base.txt"))
        base = meta.get("base")
        if base not in BASES:
            continue
        if meta.get("rc") != "0":
            bad_guests.append((os.path.basename(gdir), meta.get("rc", "?")))
            continue
        envs[os.path.basename(gdir)] = read_env(os.path.join(gdir, "env.txt"))
        rounds = {}
        for r in read_tsv(os.path.join(gdir, "qps.tsv")):
            point = (base, int(r["qps"]), r["tool"], int(r["bytes"]))
            bw = fnum(r["bw_MiBps"])
            if bw is None:
                failed[point] = failed.get(point, 0) + 1
                continue
            bws.setdefault(point + (r["config"],), []).append(bw)
            faults.setdefault((base, r["config"]), []).append(fnum(r["odp_faults"]))
            rounds.setdefault((r["round"],) + point, {})[r["config"]] = bw
        for key, got in rounds.items():
            if got.get("pinned") and "odp" in got:
                ratios.setdefault(key[1:], []).append(got["odp"] / got["pinned"])
    return ratios, bws, faults, envs, failed, bad_guests


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, spec):
    return "n/a" if x is None else format(x, spec)


def main():
    top = sys.argv[1]
    ratios, bws, faults, envs, failed, bad_guests = collect(top)
    points = sorted({k[1:] for k in ratios})
    L = ["# Several QPs on one ODP MR: the 6.12 copy path against upstream's", ""]
    L.append("Each guest (QEMU, TCG) ran perftest loopback on rxe0, all QPs of a run sharing one "
             "buffer and one MR, pinned and ODP back to back in each round. "
             "Bandwidth is never compared across the two kernels; each kernel's ODP bandwidth "
             "is taken over its own pinned bandwidth in the same round. "
             "On 6.12, copies into and out of one ODP MR hold a per-umem rwsem for read and run "
             "at once; upstream (7.3) holds the umem's mutex across each copy.")
    L.append("")
    L.append("| guest | kernel | vCPUs | rounds | run (s) |")
    L.append("|---|---|---|---|---|")
    for name, env in sorted(envs.items()):
        L.append(f"| {name} | {env.get('kernel', '?')} | {env.get('cpus', '?')} | "
                 f"{env.get('reps', '?')} | {env.get('duration_s', '?')} |")
    for name, rc in bad_guests:
        L.append(f"| {name} | **failed (exit {rc}), left out** | | | |")
    L.append("")
    L.append("ODP/pinned: median over all rounds of all guests of a base, [min, max] in "
             "brackets. 6.12/7.3: the ratio of the two medians. Failed: runs of the point "
             "(either memory type) that measured nothing, 6.12 / 7.3; a round with one is "
             "left out of the ratios.")
    L.append("")
    L.append("| QPs | tool | size | pinned 6.12 (MiB/s) | pinned 7.3 (MiB/s) "
             "| ODP/pinned 6.12 | ODP/pinned 7.3 | 6.12/7.3 | failed |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for qps, tool, size in points:
        cells = []
        for b in BASES:
            cells.append(fmt(med(bws.get((b, qps, tool, size, "pinned"), [])), ".0f"))
        rs = []
        for b in BASES:
            xs = ratios.get((b, qps, tool, size), [])
            rs.append(med(xs))
            cells.append(f"{fmt(med(xs), '.2f')} [{fmt(min(xs, default=None), '.2f')}, "
                         f"{fmt(max(xs, default=None), '.2f')}]")
        both = rs[0] / rs[1] if rs[0] is not None and rs[1] else None
        cells.append(fmt(both, ".2f"))
        cells.append(" / ".join(str(failed.get((b, qps, tool, size), 0)) for b in BASES))
        L.append(f"| {qps} | {tool} | {size_str(size)} | " + " | ".join(cells) + " |")
    L.append("")
    L.append("ODP page faults per run (rxe0's odp_page_faults), median. perftest --odp registers "
             "with IBV_ACCESS_ON_DEMAND, which fails on a device without ODP, so the odp runs are "
             "ODP MRs either way; what the faults show is where each path maps perftest's buffer, "
             "which is written before it is registered: 6.12 faults on the first access (and "
             "maps ahead), 7.3 maps the pages present at registration (upstream's "
             "rxe_odp_init_pages()) and faults nothing after.")
    L.append("")
    L.append("| kernel | pinned | odp |")
    L.append("|---|---|---|")
    for b in BASES:
        row = []
        for c in ("pinned", "odp"):
            xs = [x for x in faults.get((b, c), []) if x is not None]
            row.append(fmt(med(xs), ".0f"))
        L.append(f"| {b} | " + " | ".join(row) + " |")
    L.append("")
    with open(os.path.join(top, "report.md"), "w") as f:
        f.write("\n".join(L))
    if bad_guests:
        print("report_odp_qps.py: guests failed and were left out: " +
              " ".join(n for n, _ in bad_guests), file=sys.stderr)
    if not points:
        print("report_odp_qps.py: no run measured both memory types", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
