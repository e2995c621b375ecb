# SPDX-License-Identifier: MIT
"""Time Python workloads on several CPython builds, interleaved.

usage: python3 bench/cpython/run.py [-r ROUNDS] [-s SCALE] [-m PYTHONMALLOC]
                                     [-w NAME,NAME... | -w threaded]
                                     NAME=PYTHON NAME=PYTHON ...

Every round runs every workload of workloads.py once on every build, the
builds' order rotating from round to round, so the machine's drifts hit all
alike. Reported per workload and build: median wall time and median peak
RSS (the child's ru_maxrss, from wait4), and both as ratios to the first
build. A run that fails or prints a wrong result is reported and makes the
script exit 1; slowness never does. See doc/benchmarks.md.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ["churn", "dicts-strings", "json", "threads"]
# -w threaded: the multi-threaded set, for free-threaded builds
THREADED = ["threads", "mt-churn", "mt-dict", "thread-churn"]


def run_once(python, workload, scale, malloc):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONMALLOC"] = malloc
    t0 = time.perf_counter()
    proc = subprocess.Popen([python, os.path.join(HERE, "workloads.py"), workload, str(scale)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    ok = proc.returncode == 0 and out.strip().endswith(b"ok")
    return ok, elapsed, usage.ru_maxrss, out.decode(errors="replace").strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-r", "--rounds", type=int, default=7)
    ap.add_argument("-s", "--scale", type=float, default=1.0)
    ap.add_argument("-m", "--malloc", default="mimalloc")
    ap.add_argument("-w", "--workloads", default=",".join(WORKLOADS),
                    help="comma-separated names from workloads.py, or 'threaded' (%s)" % ",".join(THREADED))
    ap.add_argument("builds", nargs="+", metavar="NAME=PYTHON")
    args = ap.parse_args()
    builds = [b.split("=", 1) for b in args.builds]
    workloads = THREADED if args.workloads == "threaded" else args.workloads.split(",")
    times = {(w, n): [] for w in workloads for n, _ in builds}
    rss = {(w, n): [] for w in workloads for n, _ in builds}
    failed = []
    for rnd in range(args.rounds):
        order = builds[rnd % len(builds):] + builds[:rnd % len(builds)]
        for w in workloads:
            for name, python in order:
                ok, t, kb, out = run_once(python, w, args.scale, args.malloc)
                if not ok:
                    failed.append(f"{w} on {name}: {out[-200:]}")
                    continue
                times[(w, name)].append(t)
                rss[(w, name)].append(kb)
        print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr)
    base = builds[0][0]
    print(f"PYTHONMALLOC={args.malloc}, scale {args.scale}, {args.rounds} rounds interleaved; "
          f"ratios are to {base} (below 1: less time or memory than {base})\n")
    head = "| workload | " + " | ".join(f"{n} time (s) | {n} peak RSS (MiB)" for n, _ in builds)
    head += " | " + " | ".join(f"{n}/{base} time | {n}/{base} RSS" for n, _ in builds[1:]) + " |"
    print(head)
    print("|" + " --- |" * (head.count("|") - 1))
    for w in workloads:
        med = {n: (statistics.median(times[(w, n)]) if times[(w, n)] else float("nan"),
                   statistics.median(rss[(w, n)]) / 1024 if rss[(w, n)] else float("nan"))
               for n, _ in builds}
        row = f"| {w} | " + " | ".join(f"{med[n][0]:.3f} | {med[n][1]:.1f}" for n, _ in builds)
        row += " | " + " | ".join(f"{med[n][0] / med[base][0]:.3f} | {med[n][1] / med[base][1]:.3f}"
                                  for n, _ in builds[1:]) + " |"
        print(row)
    for f in failed:
        print("FAILED:", f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
