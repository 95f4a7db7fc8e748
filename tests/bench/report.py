#!/usr/bin/python3
"""Turn the raw results of tests/bench/guest-bench.sh into a report.

usage: report.py RESULTS_DIR [GUEST_DIR]

Reads GUEST_DIR/{env.txt,memcpy.tsv,reg.tsv,refault.tsv,refault_trace.tsv,
bw.tsv} (GUEST_DIR defaults to RESULTS_DIR/guest) and writes
RESULTS_DIR/report.md, RESULTS_DIR/bw.png (bandwidth against message size)
and RESULTS_DIR/ratio.png (each configuration over pinned).

Every figure is a benchmark, never a pass/fail test: the report says where
each target stands, with the spread that the numbers have.
"""
import csv
import os
import random
import statistics
import sys
from collections import defaultdict

CONFIG_LABELS = {
    "pinned": "pinned MR",
    "odp": "ODP MR",
    "udmabuf": "dma-buf (udmabuf)",
    "heap": "dma-buf (system heap)",
    "exporter": "dma-buf (test exporter)",
    "move10ms": "test exporter, move every 10 ms",
    "move1ms": "test exporter, move every 1 ms",
}
SHORT = {
    "pinned": "pinned",
    "odp": "ODP",
    "udmabuf": "udmabuf",
    "heap": "heap",
    "exporter": "exporter",
    "move10ms": "move/10ms",
    "move1ms": "move/1ms",
}
DMABUF = ("udmabuf", "heap", "exporter")
# (configurations, smallest message size, target ratio to pinned)
TARGETS = [
    (DMABUF, 65536, 0.97, "dma-buf MR >= 0.97 of pinned at 64 KiB and above"),
    (("odp",), 65536, 0.95, "ODP MR >= 0.95 of pinned at 64 KiB and above"),
    (("move10ms",), 65536, 0.85,
     "dma-buf MR moved every 10 ms >= 0.85 of pinned at 64 KiB and above"),
]


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def read_env(path):
    env = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("\t")
                env[k] = v
    return env


def fnum(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def size_str(n):
    n = int(n)
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} B"


def median(v):
    return statistics.median(v) if v else None


def fmt(v, nd=2):
    return "n/a" if v is None else f"{v:.{nd}f}"


def bandwidth(rows):
    """bw[tool][size][cfg] = [per-round MiB/s]; ratio[...] = [per-round ratio]."""
    per_round = defaultdict(dict)
    for r in rows:
        per_round[(r["tool"], int(r["bytes"]), r["round"])][r["config"]] = fnum(r["bw_MiBps"])
    bw = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    ratio = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    failed = defaultdict(int)
    for (tool, size, _), cfgs in per_round.items():
        ref = cfgs.get("pinned")
        for cfg, v in cfgs.items():
            if v is None or v <= 0:
                failed[(tool, size, cfg)] += 1
                continue
            bw[tool][size][cfg].append(v)
            if ref:
                ratio[tool][size][cfg].append(v / ref)
    moves = defaultdict(list)
    for r in rows:
        m, secs, rf = fnum(r.get("moves")), fnum(r.get("mover_s")), fnum(r.get("refaults"))
        if m and secs:
            moves[(r["tool"], int(r["bytes"]), r["config"])].append((m, secs, rf))
    return bw, ratio, failed, moves


def bootstrap_median_ci(v, n=2000, alpha=0.05):
    """Median of v and a bootstrap (1 - alpha) confidence interval of it."""
    rng = random.Random(12345)
    meds = sorted(statistics.median(rng.choices(v, k=len(v))) for _ in range(n))
    return (statistics.median(v), meds[int(alpha / 2 * n)], meds[int((1 - alpha / 2) * n) - 1])


def pooled(ratio, tools, sizes, cfg, min_size):
    return [x for t in tools for s in sizes if s >= min_size for x in ratio[t][s][cfg]]


def per_page_costs(refault, trace):
    """{buffer bytes: (move us/page, refault us/page)} from refault_lat's
    "move" case (the exporter's move, waited for) and rxe's tracepoint."""
    move = {int(r["buf_bytes"]): float(r["median_us"]) / (int(r["buf_bytes"]) / 4096)
            for r in refault if r["case"] == "move" and fnum(r.get("median_us"))}
    by = defaultdict(list)
    for r in trace:
        if r.get("err") == "0" and fnum(r.get("length")):
            by[int(r["buf_bytes"])].append(float(r["duration_ns"]) / 1e3 / (int(r["length"]) / 4096))
    return {b: (move[b], statistics.median(by[b])) for b in move if by.get(b)}


def interp_cost(costs, buf):
    """Per-page (move, refault) cost for a buffer of buf bytes: linear in
    log2(size) between the measured buffer sizes, flat outside them."""
    import math
    pts = sorted(costs.items())
    if not pts:
        return None
    if buf <= pts[0][0]:
        return pts[0][1]
    for (b0, c0), (b1, c1) in zip(pts, pts[1:]):
        if buf <= b1:
            t = (math.log2(buf) - math.log2(b0)) / (math.log2(b1) - math.log2(b0))
            return tuple(x0 + t * (x1 - x0) for x0, x1 in zip(c0, c1))
    return pts[-1][1]


def plot(path_bw, path_ratio, tools, sizes, configs, bw, ratio, memcpy):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (apt-get install python3-matplotlib): no plot"

    styles = {"pinned": ("k", "o", "-"), "odp": ("tab:blue", "s", "-"),
              "udmabuf": ("tab:green", "^", "-"), "heap": ("tab:olive", "v", "-"),
              "exporter": ("tab:purple", "D", "-"),
              "move10ms": ("tab:orange", "x", "--"), "move1ms": ("tab:red", "+", "--")}
    fig, axes = plt.subplots(1, len(tools), figsize=(5.2 * len(tools), 4.6), squeeze=False)
    for ax, tool in zip(axes[0], tools):
        for cfg in configs:
            xs = [s for s in sizes if bw[tool][s][cfg]]
            ys = [median(bw[tool][s][cfg]) for s in xs]
            if xs:
                c, m, ls = styles.get(cfg, (None, ".", "-"))
                ax.plot(xs, ys, color=c, marker=m, linestyle=ls, label=CONFIG_LABELS.get(cfg, cfg))
        xs = [s for s in sizes if s in memcpy]
        if xs:
            ax.plot(xs, [memcpy[s] for s in xs], color="grey", linestyle=":",
                    label="memcpy (ceiling)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(sizes)
        ax.set_xticklabels([size_str(s).replace(" ", "") for s in sizes], rotation=45)
        ax.set_title(tool)
        ax.set_xlabel("message size")
        ax.set_ylabel("MiB/s (median)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="lower right")
    fig.suptitle("rxe bandwidth by memory type (median of interleaved runs)")
    fig.tight_layout()
    fig.savefig(path_bw, dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(tools), figsize=(5.2 * len(tools), 4.2), squeeze=False)
    for ax, tool in zip(axes[0], tools):
        for cfg in configs:
            if cfg == "pinned":
                continue
            xs = [s for s in sizes if ratio[tool][s][cfg]]
            if not xs:
                continue
            ys = [median(ratio[tool][s][cfg]) for s in xs]
            lo = [ys[i] - min(ratio[tool][s][cfg]) for i, s in enumerate(xs)]
            hi = [max(ratio[tool][s][cfg]) - ys[i] for i, s in enumerate(xs)]
            c, m, ls = styles.get(cfg, (None, ".", "-"))
            ax.errorbar(xs, ys, yerr=[lo, hi], color=c, marker=m, linestyle=ls,
                        capsize=2, label=CONFIG_LABELS.get(cfg, cfg))
        for y in (0.97, 0.95, 0.85):
            ax.axhline(y, color="grey", linewidth=0.6, linestyle=":")
        ax.axhline(1.0, color="k", linewidth=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes)
        ax.set_xticklabels([size_str(s).replace(" ", "") for s in sizes], rotation=45)
        ax.set_title(tool)
        ax.set_xlabel("message size")
        ax.set_ylabel("bandwidth / pinned (median, min-max)")
        ax.grid(True, alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path_ratio, dpi=110)
    plt.close(fig)
    return None


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: report.py RESULTS_DIR [GUEST_DIR]")
    outdir = sys.argv[1]
    gdir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(outdir, "guest")
    env = read_env(os.path.join(gdir, "env.txt"))
    rows = read_tsv(os.path.join(gdir, "bw.tsv"))
    memcpy = {int(r["bytes"]): float(r["MiB_per_s"]) for r in read_tsv(os.path.join(gdir, "memcpy.tsv"))}
    reg = read_tsv(os.path.join(gdir, "reg.tsv"))
    refault = read_tsv(os.path.join(gdir, "refault.tsv"))
    trace = read_tsv(os.path.join(gdir, "refault_trace.tsv"))

    tools = [t for t in env.get("tools", "").split() if any(r["tool"] == t for r in rows)]
    configs = [c for c in env.get("configs", "").split() if any(r["config"] == c for r in rows)]
    sizes = sorted({int(r["bytes"]) for r in rows})
    bw, ratio, failed, moves = bandwidth(rows)
    reps = env.get("reps", "?")

    L = []
    L.append("# rxe benchmark: pinned, ODP and dma-buf MRs")
    L.append("")
    L.append(f"Kernel {env.get('kernel', '?')} ({env.get('flavor', '?')} flavour) in a "
             f"{env.get('backend', '?')} guest with {env.get('cpus', '?')} CPU(s) and "
             f"{int(env.get('mem_kib', 0) or 0) // 1024} MiB; rxe0 on veth0 (MTU "
             f"{env.get('netdev_mtu', '?')}), RDMA MTU 4096, loopback (server and client on "
             f"rxe0). {env.get('start', '')} to {env.get('end', '(unfinished)')}."
             + (" **Quick run (BENCH_QUICK=1): few rounds and sizes.**" if env.get("quick") == "1" else ""))
    load = read_tsv(os.path.join(outdir, "host-load.tsv"))
    if load:
        l1 = [float(r["load1"]) for r in load]
        L.append("")
        henv = read_env(os.path.join(outdir, "host.txt"))
        L.append(f"Host: {henv.get('cpus', '?')} CPUs; 1-minute load average during the run "
                 f"{statistics.mean(l1):.1f} on average, {max(l1):.1f} at most (the guest's own "
                 f"load is about 1). Other work on the host shows up as noise in every figure.")
    L.append("")
    L.append(f"Bandwidth: perftest `-D {env.get('duration_s', '?')}` (time-based) runs; every round "
             f"runs every configuration once per tool and size, back to back (order reversed every "
             f"other round), {reps} rounds. A ratio is a configuration's bandwidth over the pinned "
             f"MR's in the same round; the table gives the median over rounds and, in brackets, "
             f"the lowest and highest round. All figures are benchmarks, not pass/fail tests.")
    L.append("")

    # Targets: every ratio of a configuration at the sizes a target covers
    # (all tools, all rounds) pooled; the median and a bootstrap 95%
    # confidence interval of it decide, so that noise is not mistaken for
    # a result either way.
    L.append("## Targets")
    L.append("")
    L.append("Each target pools the per-round ratios of all three tools at the sizes it covers; "
             "*median [95% CI]* is their median and a bootstrap confidence interval of it. "
             "**met**: the whole interval is at or above the target; **not met**: the whole "
             "interval is below; **not resolved**: the interval straddles the target, i.e. this "
             "run's noise is larger than the distance to the target.")
    L.append("")
    L.append("| target | configuration | ratios | median [95% CI] | worst tool/size (median) | status |")
    L.append("|---|---|---|---|---|---|")
    verdicts = {}
    for cfgs, min_size, goal, text in TARGETS:
        for cfg in cfgs:
            if cfg not in configs:
                continue
            v = pooled(ratio, tools, sizes, cfg, min_size)
            if len(v) < 3:
                L.append(f"| {text} | {SHORT[cfg]} | {len(v)} | n/a | n/a | not measured |")
                continue
            med, lo, hi = bootstrap_median_ci(v)
            cells = sorted((median(ratio[t][sz][cfg]), t, sz) for t in tools for sz in sizes
                           if sz >= min_size and ratio[t][sz][cfg])
            w = cells[0]
            status = "met" if lo >= goal else "not met" if hi < goal else "not resolved"
            verdicts[cfg] = (status, med, lo, hi, goal)
            L.append(f"| {text} | {SHORT[cfg]} | {len(v)} | {med:.3f} [{lo:.3f}-{hi:.3f}] | "
                     f"{w[1]} {size_str(w[2])} ({w[0]:.3f}) | **{status}** |")
    # registration target
    regd = {(r["kind"], int(r["bytes"])): r for r in reg}
    gib = 1 << 30
    p = fnum(regd.get(("pinned", gib), {}).get("reg_median_us"))
    for kind, label in (("dmabuf-exporter", "test exporter"), ("dmabuf-heap", "system heap")):
        d = fnum(regd.get((kind, gib), {}).get("reg_median_us"))
        text = "ibv_reg_dmabuf_mr of 1 GiB >= 10x faster than pinned ibv_reg_mr"
        if p and d:
            sp = p / d
            verdicts["reg-" + kind] = sp
            L.append(f"| {text} | {label} | {regd[(kind, gib)]['reps']} | {sp:.0f}x (pinned "
                     f"{p / 1e3:.1f} ms, dma-buf {d / 1e3:.3f} ms) | | "
                     f"**{'met' if sp >= 10 else 'not met'}** |")
        else:
            L.append(f"| {text} | {label} | 0 | n/a | | not measured |")
    L.append("")

    # Bandwidth tables
    L.append("## Bandwidth")
    L.append("")
    hdr = ["size", "pinned MiB/s", "memcpy MiB/s", "pinned/memcpy"] + \
        [f"{SHORT[c]} / pinned" for c in configs if c != "pinned"]
    for tool in tools:
        L.append(f"### {tool}")
        L.append("")
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "---|" * len(hdr))
        for s in sizes:
            pb = median(bw[tool][s]["pinned"])
            mc = memcpy.get(s)
            row = [size_str(s), fmt(pb, 1), fmt(mc, 0),
                   f"{pb / mc:.3f}" if pb and mc else "n/a"]
            for c in configs:
                if c == "pinned":
                    continue
                rs = ratio[tool][s][c]
                cell = "n/a"
                if rs:
                    cell = f"{median(rs):.3f} [{min(rs):.2f}-{max(rs):.2f}]"
                nf = failed.get((tool, s, c), 0)
                if nf:
                    cell += f" ({nf} failed)"
                row.append(cell)
            L.append("| " + " | ".join(row) + " |")
        L.append("")
    L.append("![bandwidth against message size](bw.png)")
    L.append("")
    L.append("![ratio to pinned](ratio.png)")
    L.append("")

    # Moves under migration
    mv_cfgs = [c for c in configs if c.startswith("move")]
    if mv_cfgs:
        L.append("## Under migration")
        L.append("")
        L.append("What the client's mover thread achieved (perftest's own report; the server "
                 "moved its buffer too), the refaults rxe counted on the device meanwhile (both "
                 "sides), and what a CPU-time model predicts. perftest's buffer is 2 x the "
                 "message size (at least 8 KiB) on each side; each move of it costs the "
                 "exporter's move (allocate new pages, copy, fence) and, at the next access, "
                 "rxe's refault (map and vmap the whole buffer), both per page as measured "
                 "below (refault_lat's move time and the tracepoint; interpolated in buffer "
                 "size). On one CPU, the predicted ratio is the CPU time that the moves of both "
                 "sides leave to rxe: 1 - 2 x (move + refault) / interval achieved.")
        L.append("")
        L.append("| tool | size | config | interval achieved (ms) | refaults/s (device) | "
                 "ratio measured | ratio predicted |")
        L.append("|---|---|---|---|---|---|---|")
        costs = per_page_costs(refault, trace)
        for tool in tools:
            for sz in sizes:
                for c in mv_cfgs:
                    v = moves.get((tool, sz, c))
                    if not v:
                        continue
                    ivl = median([secs / m for m, secs, _ in v])
                    rfs = [rf / secs for m, secs, rf in v if rf is not None]
                    meas = median(ratio[tool][sz][c]) if ratio[tool][sz][c] else None
                    pred = None
                    buf = 2 * max(sz, 4096)
                    cost = interp_cost(costs, buf)
                    if cost:
                        per_move = (buf / 4096) * (cost[0] + cost[1]) / 1e6
                        pred = max(0.0, 1 - 2 * per_move / ivl)
                    L.append(f"| {tool} | {size_str(sz)} | {SHORT[c]} | {ivl * 1e3:.2f} | "
                             f"{median(rfs) if rfs else float('nan'):.0f} | {fmt(meas, 3)} | "
                             f"{fmt(pred, 2)} |")
        L.append("")

    # Registration
    L.append("## Registration time")
    L.append("")
    if reg:
        L.append("Median of repeated registrations of the same buffer (pinned and ODP: anonymous "
                 "memory written beforehand; dma-buf: test exporter or system heap buffer). "
                 "*First write* is one 4 KiB loopback RDMA WRITE into the new MR right after "
                 "registering it, where a lazy registration pays for its mapping.")
        L.append("")
        L.append("| kind | size | reps | register (ms) | first write (ms) | deregister (ms) |")
        L.append("|---|---|---|---|---|---|")
        for r in reg:
            def ms(k):
                v = fnum(r.get(k))
                return "n/a" if v is None else f"{v / 1e3:.3f}"
            L.append(f"| {r['kind']} | {size_str(r['bytes'])} | {r['reps']} | "
                     f"{ms('reg_median_us')} | {ms('first_write_median_us')} | "
                     f"{ms('dereg_median_us')} |")
        L.append("")
    else:
        L.append("Not measured.")
        L.append("")

    # Refault latency
    L.append("## Refault latency")
    L.append("")
    if refault:
        L.append("`refault_lat`: the test exporter moves a registered buffer (and waits for its "
                 "copy); then one 4 KiB loopback RDMA WRITE into it is timed from post to "
                 "completion. *steady* is the same WRITE without a move before it.")
        L.append("")
        L.append("| buffer | case | count | median (us) | p99 (us) | min (us) |")
        L.append("|---|---|---|---|---|---|")
        for r in refault:
            L.append(f"| {size_str(r['buf_bytes'])} | {r['case']} | {r['count']} | "
                     f"{r['median_us']} | {r['p99_us']} | {r['min_us']} |")
        L.append("")
    if trace:
        L.append("rxe's tracepoint `rxe:rxe_dmabuf_refault` (time rxe spent remapping, in the "
                 "kernel) during those runs:")
        L.append("")
        L.append("| buffer | refaults | median (us) | p99 (us) | errors |")
        L.append("|---|---|---|---|---|")
        by = defaultdict(list)
        errs = defaultdict(int)
        for r in trace:
            by[int(r["buf_bytes"])].append(float(r["duration_ns"]) / 1e3)
            if r["err"] not in ("0", ""):
                errs[int(r["buf_bytes"])] += 1
        for b in sorted(by):
            v = sorted(by[b])
            p99 = v[min(len(v) - 1, max(0, int(0.99 * len(v) + 0.999999) - 1))]
            L.append(f"| {size_str(b)} | {len(v)} | {statistics.median(v):.1f} | {p99:.1f} | "
                     f"{errs[b]} |")
        L.append("")
    if not refault and not trace:
        L.append("Not measured.")
        L.append("")

    # memcpy
    if memcpy:
        L.append("## memcpy in the guest (the ceiling)")
        L.append("")
        L.append("| size | MiB/s |")
        L.append("|---|---|")
        for s in sorted(memcpy):
            L.append(f"| {size_str(s)} | {memcpy[s]:.0f} |")
        L.append("")

    notes_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
    if os.path.exists(notes_path):
        with open(notes_path) as f:
            L.append(f.read().rstrip())
        L.append("")

    err = plot(os.path.join(outdir, "bw.png"), os.path.join(outdir, "ratio.png"),
               tools, sizes, configs, bw, ratio, memcpy)
    if err:
        L.append(f"*{err}*")
        L.append("")
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
