# SPDX-License-Identifier: MIT
"""Where a live process's resident memory is, segment by segment (gdb).

usage: gdb -p PID -batch -x contrib/gdb/mica-segments.py
       (the program must have mica's debug info: a -g build, or CPython
       built by contrib/cpython/build.sh, which compiles with -g)

Reads mica's segment headers through the debug info and the process's
/proc/PID/pagemap: for every MI_SEGMENT_SIZE unit of each arena-sized
anonymous mapping that has resident pages, one line with the segment's kind,
resident KiB, pages (spans) in use, the resident KiB of its free units, and
its dirty and purge masks; then totals per kind. "freed" is a unit whose
segment went back to the arena (cookie 0) and is still resident: an arena
purge is pending. Stop the process where you want to look (SIGSTOP, or a
breakpoint) first. doc/benchmarks.md shows what it found on CPython.
"""
import struct

import gdb

inferior = gdb.selected_inferior()
pid = inferior.pid
# MI_SEGMENT_SIZE is a macro: a segment is as many slices as a word has bits,
# 32 KiB on 64-bit and 64 KiB on 32-bit (include/mica/geometry.h)
slices = 8 * int(gdb.parse_and_eval("sizeof(uintptr_t)"))
slice_size = (32 if slices == 64 else 64) * 1024
seg_size = slice_size * slices
pagemap = open(f"/proc/{pid}/pagemap", "rb")


def resident(addr, n):
    pagemap.seek((addr >> 12) * 8)
    data = pagemap.read((n >> 12) * 8)
    return sum(1 for (v,) in struct.iter_unpack("<Q", data) if v >> 63) * 4096


def arenas():
    for line in open(f"/proc/{pid}/maps"):
        f = line.split()
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        if len(f) == 5 and hi - lo >= 16 * seg_size:   # anonymous and arena-sized
            yield lo, hi


def bits(x):
    return bin(x).count("1")


totals = {}
for lo, hi in arenas():
    print(f"mapping {lo:#x}-{hi:#x}")
    for s in range((lo + seg_size - 1) & ~(seg_size - 1), hi, seg_size):
        rss = resident(s, seg_size)
        if rss == 0:
            continue
        seg = gdb.parse_and_eval(f"*(mi_segment_t*){s}")
        if int(seg["cookie"]) == 0:
            kind, free_rss, line = "freed", rss, ""
        else:
            kind = str(seg["page_kind"])
            cap, shift = int(seg["capacity"]), int(seg["page_shift"])
            unit = slice_size if kind == "MI_PAGE_SLICED" else 1 << shift
            if kind == "MI_PAGE_SLICED":
                smap = int(seg["slice_map"])
                free = [i for i in range(1, cap) if not (smap >> i) & 1]
            elif kind == "MI_PAGE_HUGE":
                free = []
            else:
                free = [i for i in range(cap) if not int(seg["pages"][i]["segment_in_use"])]
            free_rss = sum(resident(s + i * unit, unit) for i in free)
            line = (f" used {int(seg['used'])}/{cap} free-resident {free_rss >> 10}K"
                    f" dirty {bits(int(seg['dirty_mask']))} purge {bits(int(seg['purge_mask']) | int(seg['purge_due']))}")
        print(f"{s:#x} {kind:15s} rss {rss >> 10:6d}K{line}")
        t = totals.setdefault(kind, [0, 0])
        t[0] += rss
        t[1] += free_rss
for kind, (rss, free_rss) in totals.items():
    print(f"total {kind}: resident {rss / 1048576:.1f} MiB, of it free {free_rss / 1048576:.1f} MiB")
