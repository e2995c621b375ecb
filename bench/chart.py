#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Draw bench/run.sh's time and peak-RSS ratios as grouped bars.

usage: chart.py [-i RESULTS] [-o PNG] [--baseline ALLOC] [--no-time W,W...]
                [--title TEXT]

Reads the raw figures of bench/run.sh (build-bench/results.txt: one run a
line, "workload allocator round seconds KiB status minor-faults"), takes the
median of each workload and allocator over its successful runs, as run.sh
does, and draws two panels: each workload's median wall time and median
peak RSS as a ratio to the baseline allocator's (default mimalloc), one bar
per allocator. The scale is logarithmic and the bars start at 1 (as fast or
as small as the baseline), so a bar going up is worse than the baseline and
one going down is better. Workloads named by --no-time have no time bars
(their runs take milliseconds). Needs matplotlib (Debian: python3-matplotlib;
it belongs to /usr/bin/python3, which need not be the python3 on PATH).
"""
import argparse
import math
import os
import statistics
import sys


def read_results(path):
    """(workloads, allocators, {(workload, allocator): (seconds, KiB)})"""
    works, allocs, runs = [], [], {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) < 6:
                continue
            work, alloc, _, secs, kib, status = fields[:6]
            if work not in works:
                works.append(work)
            if alloc not in allocs:
                allocs.append(alloc)
            if status == "ok":
                runs.setdefault((work, alloc), []).append((float(secs), float(kib)))
    medians = {key: (statistics.median(t for t, _ in v), statistics.median(k for _, k in v))
               for key, v in runs.items()}
    return works, allocs, medians


def ratio(medians, work, alloc, base, idx):
    """alloc's median over base's on work (idx 0: time, 1: RSS), or None"""
    a, b = medians.get((work, alloc)), medians.get((work, base))
    if a is None or b is None or a[idx] <= 0 or b[idx] <= 0:
        return None
    return a[idx] / b[idx]


def log_ticks(lo, hi):
    """1-2-5 ticks between lo and hi, always including 1"""
    ticks = []
    for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            t = m * 10.0 ** e
            if lo <= t <= hi:
                ticks.append(t)
    return sorted(set(ticks + [1.0]))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Chart bench/run.sh's ratios to a baseline allocator.")
    ap.add_argument("-i", "--input", default=os.path.join(os.path.dirname(here), "build-bench", "results.txt"),
                    help="raw results of bench/run.sh (default: build-bench/results.txt)")
    ap.add_argument("-o", "--output", default="bench-ratios.png", help="PNG to write")
    ap.add_argument("--baseline", default="mimalloc", help="allocator the ratios are to (default mimalloc)")
    ap.add_argument("--no-time", default="", help="comma-separated workloads without time bars")
    ap.add_argument("--title", default="", help="first line of the title")
    args = ap.parse_args()

    try:
        import matplotlib
        matplotlib.use("Agg")   # no display needed
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
    except ImportError:
        sys.exit("chart.py: matplotlib is missing (Debian: apt-get install python3-matplotlib)")

    works, allocs, medians = read_results(args.input)
    base = args.baseline
    if base not in allocs:
        sys.exit(f"chart.py: no runs of the baseline '{base}' in {args.input}")
    others = [a for a in allocs if a != base]
    if not works or not others:
        sys.exit(f"chart.py: nothing to compare in {args.input}")
    no_time = set(w for w in args.no_time.split(",") if w)

    fig, axes = plt.subplots(2, 1, figsize=(max(8.0, 1.3 * len(works)), 8.5), sharex=True)
    width = 0.8 / len(others)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    panels = ((0, f"wall time / {base}"), (1, f"peak RSS / {base}"))
    for ax, (idx, label) in zip(axes, panels):
        values = []
        for j, alloc in enumerate(others):
            xs, ys = [], []
            for i, work in enumerate(works):
                r = None if (idx == 0 and work in no_time) else ratio(medians, work, alloc, base, idx)
                if r is not None:
                    xs.append(i - 0.4 + width * (j + 0.5))
                    ys.append(r)
            values += ys
            # bars grow from 1, up (worse than the baseline) or down (better)
            ax.bar(xs, [y - 1 for y in ys], width, bottom=1, label=alloc, color=colors[j % len(colors)])
        ax.set_yscale("log")
        lo = min(values + [0.5]) / 1.25
        hi = max(values + [2.0]) * 1.25
        ax.set_ylim(lo, hi)
        ax.yaxis.set_major_locator(FixedLocator(log_ticks(lo, hi)))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.axhline(1, color="black", linewidth=0.8)
        ax.grid(axis="y", alpha=0.3)
        ax.set_ylabel(label + " (log)")
        if idx == 0:
            for i, work in enumerate(works):
                if work in no_time:
                    ax.text(i, 1, "(no time:\nRSS only)", ha="center", va="center", fontsize=8, color="gray")
    axes[1].set_xticks(range(len(works)))
    axes[1].set_xticklabels(works, rotation=20)
    axes[0].legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))   # outside: bars stay visible
    title = f"Ratio of each allocator's median to {base}'s (below 1: better)"
    fig.suptitle(f"{args.title}\n{title}" if args.title else title)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110, bbox_inches="tight")
    print(f"chart.py: wrote {args.output}")


if __name__ == "__main__":
    main()
