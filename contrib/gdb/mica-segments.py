# SPDX-License-Identifier: MIT
"""Where a live process's resident memory is, segment by segment and page
by page (gdb).

usage: gdb -p PID -batch -x contrib/gdb/mica-segments.py
       (the program must have mica's debug info: a -g build, or CPython
       built by contrib/cpython/build.sh, which compiles with -g)

Reads mica's arena table and segment headers through the debug info and the
process's /proc/PID/pagemap. For every arena unit (MI_SEGMENT_SIZE) with
resident pages, one line: the segment's kind, resident KiB, pages (spans) in
use, the resident KiB of its free slices, its dirty and purge masks and its
owner (tld 0: abandoned). "freed" is a unit given back to the arena and
still resident: an arena purge is pending. Then totals per kind, and the
pages in use by block size range: how many, their resident KiB, and the
bytes their blocks hold (used x block size; blocks freed by other threads
and not yet collected still count). Huge blocks allocated from the OS
outside the arenas are not shown. Stop the process where you want to look
(SIGSTOP, or a breakpoint) first. doc/benchmarks.md shows what it found.
"""
import struct

import gdb

inferior = gdb.selected_inferior()
pid = inferior.pid
# MI_SEGMENT_SIZE is a macro: a segment is as many slices as a word has bits,
# 32 KiB on 64-bit and 64 KiB on 32-bit (include/mica/geometry.h)
word_bits = 8 * int(gdb.parse_and_eval("sizeof(uintptr_t)"))
slice_size = (32 if word_bits == 64 else 64) * 1024
seg_size = slice_size * word_bits
small_max = slice_size // 4     # blocks of a small page (one slice)
medium_max = slice_size         # blocks of a medium page (4 slices)
pagemap = open(f"/proc/{pid}/pagemap", "rb")


def resident(addr, n):
    lo, hi = addr & ~4095, (addr + n + 4095) & ~4095
    pagemap.seek((lo >> 12) * 8)
    data = pagemap.read(((hi - lo) >> 12) * 8)
    return sum(1 for (v,) in struct.iter_unpack("<Q", data) if v >> 63) * 4096


def bits(x):
    return bin(x).count("1")


def arena_units():
    """(address, claimed) of every unit of every arena in mica's table"""
    arenas = gdb.parse_and_eval("mi_arenas")
    for a in range(int(gdb.parse_and_eval("mi_arena_count_"))):
        arena = arenas[a]
        start = int(arena["xstart"])
        if start == 0:
            continue
        for u in range(int(arena["unit_count"])):
            word = int(arena["xin_use"][u // word_bits])
            yield start + u * seg_size, (word >> (u % word_bits)) & 1


def size_range(b):
    for limit, name in ((128, "<= 128 B"), (512, "<= 512 B"), (1024, "<= 1 KiB"),
                        (small_max, "small, rest"), (medium_max, "medium")):
        if b <= limit:
            return name
    return "large"


def slices_in_use(s, seg, ranges):
    """resident KiB of a sliced segment's free slices; pages in use into `ranges`"""
    info, cap = int(seg["segment_info_size"]), int(seg["capacity"])
    free_rss, i = 0, 0
    while i < cap:
        page = seg["pages"][i]
        start = s + i * slice_size + (info if i == 0 else 0)
        if not int(page["segment_in_use"]):
            free_rss += resident(start, s + (i + 1) * slice_size - start)
            i += 1
            continue
        count = int(page["slice_count"]) or 1
        bsize = int(page["xblock_size"])
        r = ranges.setdefault(size_range(bsize), [0, 0, 0, 0])
        rss = resident(start, s + (i + count) * slice_size - start)
        r[0] += 1
        r[1] += rss
        r[2] += int(page["used"]) * bsize
        r[3] += rss if int(page["xheap"]) == 0 else 0
        i += count
    return free_rss


totals, ranges = {}, {}
skip_to = 0
for s, claimed in arena_units():
    if s < skip_to:
        continue   # the rest of a huge segment
    rss = resident(s, seg_size)
    if rss == 0:
        continue
    line = ""
    if not claimed:
        kind, free_rss = "freed", rss
    else:
        seg = gdb.parse_and_eval(f"*(mi_segment_t*){s}")
        kind = str(seg["page_kind"])
        if kind == "MI_PAGE_HUGE":
            skip_to = s + int(seg["segment_size"])
            rss = resident(s, int(seg["segment_size"]))
            free_rss = 0
        else:
            free_rss = slices_in_use(s, seg, ranges)
        line = (f" used {int(seg['used'])}/{int(seg['capacity'])} free-resident {free_rss >> 10}K"
                f" dirty {bits(int(seg['dirty_mask']))} purge {bits(int(seg['purge_mask']) | int(seg['purge_due']))}"
                f" tld {int(seg['tld']):#x}")
    print(f"{s:#x} {kind:15s} rss {rss >> 10:6d}K{line}")
    t = totals.setdefault(kind, [0, 0])
    t[0] += rss
    t[1] += free_rss
for kind, (rss, free_rss) in totals.items():
    print(f"total {kind}: resident {rss / 1048576:.1f} MiB, of it free {free_rss / 1048576:.1f} MiB")
print("pages in use, by block size (large: one block a page):")
for name, (n, rss, held, abandoned) in sorted(ranges.items(), key=lambda kv: -kv[1][1]):
    print(f"  {name:12s} {n:5d} pages, resident {rss >> 10:7d}K, in blocks {held >> 10:7d}K,"
          f" abandoned (no heap) {abandoned >> 10:6d}K")
