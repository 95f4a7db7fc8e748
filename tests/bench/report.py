#!/usr/bin/python3
"""Turn the raw results of tests/bench/guest-bench.sh into a report.

usage: report.py RESULTS_DIR [GUEST_DIR [BASE_DIR]]

Reads GUEST_DIR/{env.txt,memcpy.tsv,reg.tsv,refault.tsv,refault_trace.tsv,
odp_trace.tsv,bw.tsv,ucx.tsv,mpi.tsv} (GUEST_DIR defaults to
RESULTS_DIR/guest) and writes RESULTS_DIR/report.md, RESULTS_DIR/bw.png
(bandwidth against message size) and RESULTS_DIR/ratio.png (each
configuration over pinned). BASE_DIR holds
the same job's results on another revision's kernel (make bench
BENCH_BASE=REV, with BASE_DIR/rev.txt): the report then compares the two,
ratio to pinned against ratio to pinned, refault against refault.

Every figure is a benchmark, never a pass/fail test: the report says where
each target stands, with the spread that the numbers have.
"""
import os
import random
import statistics
import sys
from collections import defaultdict

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
import report_clients  # noqa: E402
from bench_data import fnum, read_env, read_tsv, size_str  # noqa: E402

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


def refault_breakdown(trace):
    """{buffer bytes: (count, errors, median total, fence, vmap in us)} from
    the refault tracepoint; fence and vmap are None for a kernel whose
    tracepoint has no breakdown."""
    by = defaultdict(list)
    errs = defaultdict(int)
    for r in trace:
        b = int(r["buf_bytes"])
        if r["err"] not in ("0", ""):
            errs[b] += 1
            continue
        by[b].append(tuple(fnum(r.get(k)) for k in ("duration_ns", "fence_ns", "vmap_ns")))
    out = {}
    for b, rows in by.items():
        cols = []
        for i in range(3):
            v = [x[i] / 1e3 for x in rows if x[i] is not None]
            cols.append(statistics.median(v) if v else None)
        out[b] = (len(rows), errs[b], *cols)
    for b in errs:
        out.setdefault(b, (0, errs[b], None, None, None))
    return out


def base_section(base_dir, tools, sizes, ratio, trace):
    """The before/after comparison with another revision's kernel."""
    rev = read_env(os.path.join(base_dir, "rev.txt"))
    benv = read_env(os.path.join(base_dir, "env.txt"))
    name = f"`{rev.get('rev', '?')}` ({rev.get('commit', '?')})"
    _, bratio, _, _ = bandwidth(read_tsv(os.path.join(base_dir, "bw.tsv")))
    btrace = read_tsv(os.path.join(base_dir, "refault_trace.tsv"))
    L = ["## Before and after", ""]
    L.append(f"The same job on the bench kernel of {name}: this checkout's kernel with that "
             f"revision's kernel/patches and drivers/ (tests/bench/base-kernel.sh), booted "
             f"after this run's guest, {benv.get('start', '?')}. Bandwidth of two boots is "
             f"never compared directly: each memory type's ratio to the pinned MR of its own "
             f"round is.")
    L.append("")
    cfgs = [c for c in CONFIG_LABELS if c != "pinned"
            and any(bratio[t][s][c] for t in tools for s in sizes)]
    if cfgs:
        L.append("| tool | size | memory | ratio to pinned, before | after | after / before |")
        L.append("|---|---|---|---|---|---|")
        for c in cfgs:
            for t in tools:
                for sz in sizes:
                    b, a = bratio[t][sz][c], ratio[t][sz][c]
                    if not b or not a:
                        continue
                    L.append(f"| {t} | {size_str(sz)} | {SHORT[c]} | "
                             f"{median(b):.3f} [{min(b):.2f}-{max(b):.2f}] | "
                             f"{median(a):.3f} [{min(a):.2f}-{max(a):.2f}] | "
                             f"{median(a) / median(b):.3f} |")
        L.append("")
    before, after = refault_breakdown(btrace), refault_breakdown(trace)
    if before or after:
        L.append("Refault, in the kernel (tracepoint `rxe:rxe_dmabuf_refault`, median in us; "
                 "a kernel whose tracepoint has no breakdown shows n/a for its parts):")
        L.append("")
        L.append("| buffer | before: total | fence wait | vmap | after: total | fence wait | "
                 "vmap | after / before |")
        L.append("|---|---|---|---|---|---|---|---|")
        for b in sorted(set(before) | set(after)):
            cb = before.get(b, (0, 0, None, None, None))
            ca = after.get(b, (0, 0, None, None, None))
            quot = f"{ca[2] / cb[2]:.2f}" if ca[2] and cb[2] else "n/a"
            L.append(f"| {size_str(b)} | {fmt(cb[2], 1)} | {fmt(cb[3], 1)} | {fmt(cb[4], 1)} | "
                     f"{fmt(ca[2], 1)} | {fmt(ca[3], 1)} | {fmt(ca[4], 1)} | {quot} |")
        L.append("")
    return L


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
    fig, axes = plt.subplots(1, len(tools), figsize=(5.2 * len(tools), 5.4), squeeze=False)
    for ax, tool in zip(axes[0], tools):
        for cfg in configs:
            xs = [s for s in sizes if bw[tool][s][cfg]]
            ys = [median(bw[tool][s][cfg]) for s in xs]
            if xs:
                c, m, ls = styles.get(cfg, (None, ".", "-"))
                ax.plot(xs, ys, color=c, marker=m, linestyle=ls, label=CONFIG_LABELS.get(cfg, cfg))
        if memcpy:
            ax.axhline(memcpy[max(memcpy)], color="grey", linestyle=":",
                       label=f"memcpy of {size_str(max(memcpy))} (ceiling)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(sizes)
        ax.set_xticklabels([size_str(s).replace(" ", "") for s in sizes], rotation=45)
        ax.set_title(tool)
        ax.set_xlabel("message size")
        ax.set_ylabel("MiB/s (median)")
        ax.grid(True, which="both", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    fig.suptitle("rxe bandwidth by memory type (median of interleaved runs)")
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.savefig(path_bw, dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(tools), figsize=(5.2 * len(tools), 5.2), squeeze=False)
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
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8)
    fig.suptitle("bandwidth over the pinned MR's, same round (median, min-max over rounds); "
                 "dotted: targets 0.97, 0.95, 0.85")
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.savefig(path_ratio, dpi=110)
    plt.close(fig)
    return None


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: report.py RESULTS_DIR [GUEST_DIR [BASE_DIR]]")
    outdir = sys.argv[1]
    gdir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(outdir, "guest")
    base_dir = sys.argv[3] if len(sys.argv) > 3 else None
    env = read_env(os.path.join(gdir, "env.txt"))
    rows = read_tsv(os.path.join(gdir, "bw.tsv"))
    memcpy = {int(r["bytes"]): float(r["MiB_per_s"]) for r in read_tsv(os.path.join(gdir, "memcpy.tsv"))}
    reg = read_tsv(os.path.join(gdir, "reg.tsv"))
    refault = read_tsv(os.path.join(gdir, "refault.tsv"))
    trace = read_tsv(os.path.join(gdir, "refault_trace.tsv"))
    odp_trace = read_tsv(os.path.join(gdir, "odp_trace.tsv"))

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

    # Targets. A ratio from one round is noisy, so a target is judged on
    # the ratios of all tools and rounds at one message size pooled, with a
    # bootstrap 95% confidence interval of their median: met when the
    # interval is at or above the target, not met when it is below, not
    # resolved when it straddles the target. Sizes are not pooled together:
    # the cost of migration grows with the size.
    L.append("## Targets")
    L.append("")
    L.append(f"A target is judged at each message size it covers on the ratios of all "
             f"{len(tools)} tools and all {reps} rounds, by their median and a bootstrap 95% "
             "confidence interval of it: **met** when the interval is at or above the target, "
             "**not met** when it is below, **unresolved** when it straddles the target (this "
             "run's noise is larger than the distance to the target). A target is met overall "
             "when it is met at every size it covers. *Pooled* judges all the sizes' ratios "
             "together, the better figure where the cost does not depend on the size (memory "
             "that does not move).")
    L.append("")
    L.append("| target | memory | per message size: median [95% CI] verdict | pooled | overall |")
    L.append("|---|---|---|---|---|")
    for cfgs, min_size, goal, text in TARGETS:
        for cfg in cfgs:
            if cfg not in configs:
                continue
            cells, verdicts = [], []
            for sz in sizes:
                if sz < min_size:
                    continue
                v = [x for t in tools for x in ratio[t][sz][cfg]]
                if len(v) < 3:
                    cells.append(f"{size_str(sz)}: n/a")
                    continue
                med, lo, hi = bootstrap_median_ci(v)
                verdict = "met" if lo >= goal else "not met" if hi < goal else "unresolved"
                verdicts.append((verdict, sz))
                cells.append(f"{size_str(sz)}: {med:.3f} [{lo:.2f}-{hi:.2f}] {verdict}")
            if not verdicts:
                overall = "not measured"
            elif all(vd == "met" for vd, _ in verdicts):
                overall = "met"
            elif any(vd == "not met" for vd, _ in verdicts):
                overall = "not met at " + ", ".join(size_str(sz) for vd, sz in verdicts
                                                    if vd == "not met")
            else:
                overall = "unresolved at " + ", ".join(size_str(sz) for vd, sz in verdicts
                                                       if vd != "met")
            v = pooled(ratio, tools, sizes, cfg, min_size)
            pool = "n/a"
            if len(v) >= 3:
                med, lo, hi = bootstrap_median_ci(v)
                verdict = "met" if lo >= goal else "not met" if hi < goal else "unresolved"
                pool = f"{len(v)} ratios: {med:.3f} [{lo:.3f}-{hi:.3f}] {verdict}"
            L.append(f"| {text} | {SHORT[cfg]} | {'<br>'.join(cells)} | {pool} | **{overall}** |")
    # registration target
    regd = {(r["kind"], int(r["bytes"])): r for r in reg}
    gib = 1 << 30
    pin = regd.get(("pinned", gib), {})
    p = fnum(pin.get("reg_median_us"))
    for kind, label in (("dmabuf-exporter", "test exporter"), ("dmabuf-heap", "system heap")):
        d = fnum(regd.get((kind, gib), {}).get("reg_median_us"))
        fw = fnum(regd.get((kind, gib), {}).get("first_write_median_us"))
        pfw = fnum(pin.get("first_write_median_us"))
        text = "ibv_reg_dmabuf_mr of 1 GiB >= 10x faster than pinned ibv_reg_mr"
        if p and d:
            sp = p / d
            first = ""
            if fw is not None and pfw is not None:
                first = (f"<br>but the first 4 KiB WRITE into it then takes {fw / 1e3:.1f} ms "
                         f"(pinned MR: {pfw / 1e3:.2f} ms): the mapping is made there")
            L.append(f"| {text} | {label} | {sp:.0f}x: pinned {p / 1e3:.1f} ms, dma-buf "
                     f"{d / 1e3:.3f} ms{first} | | **{'met' if sp >= 10 else 'not met'}** |")
        else:
            L.append(f"| {text} | {label} | n/a | | not measured |")
    L.append("")
    noise = [abs(x - 1) for t in tools for sz in sizes if sz >= 65536
             for c in ("odp",) + DMABUF if c in configs for x in ratio[t][sz][c]]
    if noise:
        L.append(f"Noise: the single-round ratios of the memory types that do not move (ODP and "
                 f"the three dma-buf sources) at 64 KiB and above are within "
                 f"{100 * statistics.median(noise):.0f} % of 1 for half of the rounds and within "
                 f"{100 * sorted(noise)[int(0.9 * len(noise))]:.0f} % for 90 % of them.")
        L.append("")

    # Bandwidth tables
    L.append("## Bandwidth")
    L.append("")
    ceiling = memcpy.get(max(memcpy)) if memcpy else None
    if ceiling:
        L.append(f"The physical ceiling is the guest's memcpy bandwidth for a buffer far larger "
                 f"than the caches ({size_str(max(memcpy))}): {ceiling:.0f} MiB/s; *pinned / "
                 f"memcpy* is rxe's fraction of it. rxe copies each payload twice in loopback "
                 f"and computes a CRC over it, on the same CPU as both perftest processes.")
        L.append("")
    hdr = ["size", "pinned MiB/s", "pinned / memcpy"] + \
        [f"{SHORT[c]} / pinned" for c in configs if c != "pinned"]
    for tool in tools:
        L.append(f"### {tool}")
        L.append("")
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "---|" * len(hdr))
        for s in sizes:
            pb = median(bw[tool][s]["pinned"])
            row = [size_str(s), fmt(pb, 1),
                   f"{pb / ceiling:.3f}" if pb and ceiling else "n/a"]
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
                 "kernel) during those runs, and its parts: the wait for the exporter's "
                 "kernel fences (the move's copy), and `dma_buf_vmap()` of the whole buffer; "
                 "*other* is the rest (locking, bookkeeping). Medians in us, each column on "
                 "its own, so the parts need not add up to the total exactly.")
        L.append("")
        L.append("| buffer | refaults | total | p99 | fence wait | vmap | other | errors |")
        L.append("|---|---|---|---|---|---|---|---|")
        parts = refault_breakdown(trace)
        for b in sorted(parts):
            n, nerr, total, fence, vmap = parts[b]
            v = sorted(fnum(r["duration_ns"]) / 1e3 for r in trace
                       if int(r["buf_bytes"]) == b and r["err"] == "0")
            p99 = v[min(len(v) - 1, max(0, int(0.99 * len(v) + 0.999999) - 1))] if v else None
            other = total - fence - vmap if None not in (total, fence, vmap) else None
            L.append(f"| {size_str(b)} | {n} | {fmt(total, 1)} | {fmt(p99, 1)} | "
                     f"{fmt(fence, 1)} | {fmt(vmap, 1)} | {fmt(other, 1)} | {nerr} |")
        L.append("")
    if not refault and not trace:
        L.append("Not measured.")
        L.append("")

    L.append("## ODP fault and invalidation cost")
    L.append("")
    if odp_trace:
        L.append("`odp_cost` prefetches a resident, ODP-registered buffer (a fault that maps "
                 "every page) and then drops it with madvise(MADV_DONTNEED) (an invalidation), "
                 "round after round. rxe's tracepoints `rxe_odp:rxe_odp_fault` and "
                 "`rxe_odp:rxe_odp_invalidate` time each in the kernel: the fault from the "
                 "start of the mapping until the pages are held, the invalidation from the "
                 "notifier's entry until the copy gate reopens.")
        L.append("")
        L.append("| buffer | event | count | median (us) | median per 4 KiB page (us) |")
        L.append("|---|---|---|---|---|")
        by = defaultdict(list)
        for r in odp_trace:
            if fnum(r.get("length")):
                by[(int(r["buf_bytes"]), r["event"])].append(
                    (float(r["duration_ns"]) / 1e3, int(r["length"]) / 4096))
        for (b, ev) in sorted(by):
            v = by[(b, ev)]
            L.append(f"| {size_str(b)} | {ev} | {len(v)} | "
                     f"{statistics.median(us for us, _ in v):.1f} | "
                     f"{statistics.median(us / pages for us, pages in v):.4f} |")
        L.append("")
    else:
        L.append("Not measured.")
        L.append("")

    L.extend(report_clients.section(gdir))

    if base_dir:
        L.extend(base_section(base_dir, tools, sizes, ratio, trace))

    # memcpy
    if memcpy:
        L.append("## memcpy in the guest")
        L.append("")
        L.append("memcpy_bw copies one buffer of each size into another, over and over: up to "
                 "a few hundred KiB both stay in the CPU's caches, which is why those figures "
                 "are far above the memory bandwidth that the largest size shows.")
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

    # (clients-bench.sh alone measures no perftest bandwidth to plot)
    err = plot(os.path.join(outdir, "bw.png"), os.path.join(outdir, "ratio.png"),
               tools, sizes, configs, bw, ratio, memcpy) if tools else None
    if err:
        L.append(f"*{err}*")
        L.append("")
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
