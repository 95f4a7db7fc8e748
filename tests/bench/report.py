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
        m, rf = fnum(r.get("moves")), fnum(r.get("refaults"))
        if m is not None:
            moves[(r["tool"], int(r["bytes"]), r["config"])].append((m, rf))
    return bw, ratio, failed, moves


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
    L.append("")
    L.append(f"Bandwidth: perftest `-D {env.get('duration_s', '?')}` (time-based) runs; every round "
             f"runs every configuration once per tool and size, back to back (order reversed every "
             f"other round), {reps} rounds. A ratio is a configuration's bandwidth over the pinned "
             f"MR's in the same round; the table gives the median over rounds and, in brackets, "
             f"the lowest and highest round. All figures are benchmarks, not pass/fail tests.")
    L.append("")

    # Targets
    L.append("## Targets")
    L.append("")
    L.append("| target | measured | status |")
    L.append("|---|---|---|")
    target_notes = []
    for cfgs, min_size, goal, text in TARGETS:
        worst = None
        cells = []
        for cfg in cfgs:
            for tool in tools:
                for s in sizes:
                    if s < min_size or not ratio[tool][s][cfg]:
                        continue
                    m = median(ratio[tool][s][cfg])
                    cells.append((m, cfg, tool, s))
        if not cells:
            L.append(f"| {text} | not measured | n/a |")
            continue
        cells.sort()
        worst = cells[0]
        below = [c for c in cells if c[0] < goal]
        med_all = median([c[0] for c in cells])
        status = "met" if not below else f"not met in {len(below)} of {len(cells)} cases"
        L.append(f"| {text} | median {med_all:.3f}, lowest {worst[0]:.3f} "
                 f"({SHORT[worst[1]]}, {worst[2]}, {size_str(worst[3])}) | {status} |")
        if below:
            target_notes.append((text, below))
    # registration target
    regd = {(r["kind"], int(r["bytes"])): r for r in reg}
    gib = 1 << 30
    p = fnum(regd.get(("pinned", gib), {}).get("reg_median_us"))
    dte = fnum(regd.get(("dmabuf-exporter", gib), {}).get("reg_median_us"))
    heap = fnum(regd.get(("dmabuf-heap", gib), {}).get("reg_median_us"))
    if p and dte:
        sp = p / dte
        extra = f"; heap dma-buf {p / heap:.1f}x" if heap else ""
        L.append(f"| ibv_reg_dmabuf_mr of 1 GiB >= 10x faster than pinned ibv_reg_mr | "
                 f"pinned {p / 1e3:.1f} ms, test exporter dma-buf {dte / 1e3:.2f} ms: "
                 f"{sp:.0f}x{extra} | {'met' if sp >= 10 else 'not met'} |")
    else:
        L.append("| ibv_reg_dmabuf_mr of 1 GiB >= 10x faster than pinned ibv_reg_mr | "
                 "not measured | n/a |")
    L.append("")
    for text, below in target_notes:
        shown = ", ".join(f"{SHORT[c]} {t} {size_str(s)}: {m:.3f}" for m, c, t, s in below[:8])
        more = f" and {len(below) - 8} more" if len(below) > 8 else ""
        L.append(f"- *{text}*: below in {shown}{more}.")
    if target_notes:
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
        L.append("Moves per second and refaults per second of the client's buffer (the server "
                 "moves its own buffer as well); refaults are rxe's device-wide "
                 "`dmabuf_refaults` counter over the client's run.")
        L.append("")
        L.append("| tool | size | config | moves/s (client) | refaults/s (device) |")
        L.append("|---|---|---|---|---|")
        dur = fnum(env.get("duration_s")) or 1
        for tool in tools:
            for s in sizes:
                for c in mv_cfgs:
                    v = moves.get((tool, s, c))
                    if not v:
                        continue
                    mvs = median([m for m, _ in v])
                    rfs = [rf for _, rf in v if rf is not None]
                    L.append(f"| {tool} | {size_str(s)} | {SHORT[c]} | {mvs / dur:.0f} | "
                             f"{(median(rfs) / dur) if rfs else float('nan'):.0f} |")
        L.append("")
        L.append("A perftest run lasts longer than its measured interval (setup, connection), so "
                 "the rates above are upper bounds.")
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
