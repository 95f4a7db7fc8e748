"""The report's section on UCX and Open MPI (tests/bench/clients-bench.sh):
bandwidth with UCX's default (pinned) registration and with
UCX_IB_REG_METHODS=odp, and their ratio, from GUEST_DIR/{ucx,mpi}.tsv.

Also runs alone: python3 report_clients.py GUEST_DIR prints the section.
"""
import os
import statistics
import sys
from collections import defaultdict

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
from bench_data import fnum, read_env, read_tsv, size_str  # noqa: E402


def _read_rows(path):
    """The rows of path, None when it is absent (that client did not run)."""
    return read_tsv(path) if os.path.exists(path) else None


def summarize(rows, key):
    """{key(row): summary}: each mode's median MiB/s, the per-round ratios
    odp/pinned, the ODP runs' median ODP faults, their crashes at exit and
    the failed runs of either mode."""
    by = defaultdict(lambda: {"bw": defaultdict(dict), "faults": [], "crash": 0,
                              "odp_runs": 0, "failed": 0})
    for r in rows:
        s = by[key(r)]
        bw = fnum(r["MiBps"])
        if r["status"].startswith("failed") or bw is None:
            s["failed"] += 1
        else:
            s["bw"][r["round"]][r["mode"]] = bw
        if r["mode"] == "odp":
            s["odp_runs"] += 1
            s["crash"] += r["status"] == "teardown-crash"
            f = fnum(r.get("odp_faults"))
            if f is not None:
                s["faults"].append(f)
    out = {}
    for k, s in by.items():
        pin = [m["pinned"] for m in s["bw"].values() if "pinned" in m]
        odp = [m["odp"] for m in s["bw"].values() if "odp" in m]
        ratios = [m["odp"] / m["pinned"] for m in s["bw"].values()
                  if m.get("pinned") and "odp" in m]
        out[k] = {
            "pinned": statistics.median(pin) if pin else None,
            "odp": statistics.median(odp) if odp else None,
            "ratios": ratios,
            "faults": statistics.median(s["faults"]) if s["faults"] else None,
            "crash": s["crash"], "odp_runs": s["odp_runs"], "failed": s["failed"],
        }
    return out


def _row(label, s):
    def f(v):
        return "n/a" if v is None else f"{v:.1f}"
    rs = s["ratios"]
    ratio = (f"{statistics.median(rs):.3f} [{min(rs):.2f}-{max(rs):.2f}]" if rs else "n/a")
    faults = "n/a" if s["faults"] is None else f"{s['faults']:.0f}"
    notes = []
    if s["crash"]:
        notes.append(f"{s['crash']} of {s['odp_runs']} ODP runs crashed at exit")
    if s["failed"]:
        notes.append(f"{s['failed']} runs failed")
    return (f"| {label} | {f(s['pinned'])} | {f(s['odp'])} | {ratio} | {faults} | "
            f"{'; '.join(notes)} |")


def section(gdir):
    """The report's lines, or [] when clients-bench.sh did not run."""
    ucx = _read_rows(os.path.join(gdir, "ucx.tsv"))
    mpi = _read_rows(os.path.join(gdir, "mpi.tsv"))
    if ucx is None and mpi is None:
        return []
    env = read_env(os.path.join(gdir, "clients-env.txt"))
    vol = fnum(env.get("volume_bytes"))
    L = ["## UCX and Open MPI: pinned against ODP registration", ""]
    volume = f"about {vol / (1 << 20):.0f} MiB" if vol else "about the same volume"
    L.append(
        f"UCX {env.get('ucx') or '?'} (`ucx_perftest`, client and server on rxe0) and "
        f"{env.get('mpi') or 'Open MPI'} over UCX (`mpirun --mca pml ucx`, two ranks, "
        "NetPIPE's `NPopenmpi` ping-pong of one message size), UCX restricted to rxe0's RC "
        "transport (`UCX_TLS=rc_v,self`). *pinned* is UCX's default registration; *ODP* is "
        "`UCX_IB_REG_METHODS=odp` (one implicit ODP MR for the process). Each run moves "
        f"{volume}")
    L[-1] += (
        f"; {env.get('reps', '?')} rounds, both modes back to back in each (the order "
        "reversed every other round). MiB/s: the median over rounds (UCX's and NetPIPE's "
        "MB/s and Mbit/s are 2^20-based; NetPIPE's figure is the message size over half the "
        "round trip, the best of its 3 trials). *ODP / pinned*: the median of each round's "
        "ratio, lowest and highest round in brackets. *ODP faults*: rxe's odp_page_faults "
        "during an ODP run (median); 0 means the data went through UCX's own pinned bounce "
        "buffers (eager protocol), not through the ODP MR, and that ratio says nothing "
        "about ODP. UCX 1.13 may crash at exit with ODP (SIGSEGV in uct_ib_md_close, after "
        "every byte moved and its figures were printed; gone since UCX 1.15): such a run's "
        "figures count, and the last column says how many.")
    L.append("")
    L.append("| client | size | pinned MiB/s | ODP MiB/s | ODP / pinned | ODP faults | notes |")
    L.append("|---|---|---|---|---|---|---|")
    if ucx:
        s = summarize(ucx, lambda r: (r["test"], int(r["bytes"])))
        tests = list(dict.fromkeys(r["test"] for r in ucx))
        for t in tests:
            for sz in sorted(b for tt, b in s if tt == t):
                L.append(_row(f"ucx_perftest {t} | {size_str(sz)}", s[(t, sz)]))
    if mpi:
        s = summarize(mpi, lambda r: int(r["bytes"]))
        for sz in sorted(s):
            L.append(_row(f"MPI NPopenmpi | {size_str(sz)}", s[sz]))
    for rows, what in ((ucx, "ucx_perftest"), (mpi, "MPI NPopenmpi")):
        if rows == []:
            L.append(f"| {what} | not measured: see output.log | | | | | |")
    L.append("")
    return L


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: report_clients.py GUEST_DIR")
    print("\n".join(section(sys.argv[1])))
