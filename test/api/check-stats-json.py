# SPDX-License-Identifier: MIT
"""Run a program that prints mi_stats_get_json's output (test-stats-json)
and check it with Python's json module: valid JSON, mimalloc's layout."""
import json
import subprocess
import sys

out = subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True).stdout
stats = json.loads(out)   # raises (the test fails) on invalid JSON
errors = []
if stats.get("version") != 4:
    errors.append("version is %r, not 4" % stats.get("version"))
for name in ("pages", "reserved", "committed", "threads", "malloc_huge", "segments"):
    entry = stats.get(name)
    if not isinstance(entry, dict) or set(entry) != {"total", "peak", "current"}:
        errors.append("%s is not a count {total, peak, current}: %r" % (name, entry))
for name in ("purged", "mmap_calls", "arena_count", "page_searches"):
    entry = stats.get(name)
    if not isinstance(entry, dict) or set(entry) != {"total"}:
        errors.append("%s is not a counter {total}: %r" % (name, entry))
if stats.get("reserved", {}).get("current", 0) <= 0:
    errors.append("nothing reserved")
if stats.get("malloc_huge", {}).get("current", 0) < 8 << 20:
    errors.append("the live 8 MiB block is not in malloc_huge")
for name in ("malloc_bins", "page_bins"):
    if not isinstance(stats.get(name), list) or len(stats[name]) != 74:
        errors.append("%s is not a list of 74 bins" % name)
for e in errors:
    print("check failed:", e, file=sys.stderr)
print("%d passed, %d failed" % (1 if not errors else 0, len(errors)))
sys.exit(1 if errors else 0)
