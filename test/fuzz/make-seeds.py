#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of fuzz-ops (test/fuzz/corpus/): one small input
per kind of operation and a few that mix them. The opcode numbers and
argument layouts are those of fuzz-ops.c's run_op. Rerun after changing
them: python3 test/fuzz/make-seeds.py"""
import os
import struct

(MALLOC, ZALLOC, CALLOC, REALLOC, REZALLOC, ALIGNED, HEAP_MALLOC, FREE, FREE_REMOTE,
 HEAP_NEW, HEAP_DELETE, HEAP_DESTROY, REWRITE, OPTION, COLLECT, HEAP_COLLECT) = range(16)

def op(code, slot, *args):
    """an opcode, its slot byte, then 2-byte (big-endian) or 1-byte arguments"""
    out = bytes([code, slot])
    for a in args:
        out += struct.pack(">H", a) if isinstance(a, int) else a
    return out

SMALL, MEDIUM, LARGE, HUGE = 0x0030, 0x8100, 0xc400, 0xe003   # see size_of()

seeds = {
    "malloc-free": op(MALLOC, 1, SMALL) + op(MALLOC, 2, 0x0000) + op(FREE, 1) + op(MALLOC, 1, 0x03ff),
    "zero": op(ZALLOC, 1, SMALL) + op(CALLOC, 2, 0x0710) + op(ZALLOC, 3, MEDIUM),
    "realloc": op(MALLOC, 1, SMALL) + op(REALLOC, 1, MEDIUM) + op(REALLOC, 1, 0x0008) + op(REZALLOC, 1, LARGE)
               + op(REALLOC, 1, 0x0000),
    "aligned": op(ALIGNED, 1, SMALL, b"\x06") + op(ALIGNED, 2, 0x0001, b"\x14") + op(ALIGNED, 3, MEDIUM, b"\x0c"),
    "heaps": op(HEAP_NEW, 0) + op(HEAP_NEW, 1) + op(HEAP_MALLOC, 5, 0x0100) + op(HEAP_MALLOC, 6, 0x0101)
             + op(REALLOC, 5, MEDIUM) + op(HEAP_DELETE, 0) + op(HEAP_DESTROY, 1) + op(FREE, 5),
    "remote": op(MALLOC, 1, SMALL) + op(MALLOC, 2, LARGE) + op(FREE_REMOTE, 1) + op(FREE_REMOTE, 2)
              + op(MALLOC, 1, SMALL),
    "huge": op(MALLOC, 1, HUGE) + op(REWRITE, 1) + op(REALLOC, 1, SMALL) + op(FREE, 1),
    "options": op(OPTION, 1) + op(MALLOC, 1, MEDIUM) + op(FREE, 1) + op(COLLECT, 1) + op(OPTION, 3)
               + op(HEAP_NEW, 2) + op(HEAP_COLLECT, 6),
    # heap 0 samples every allocation (OPTION with bit 2: a guarded sample rate)
    "guarded": op(HEAP_NEW, 0) + op(OPTION, 5) + op(HEAP_MALLOC, 1, SMALL) + op(HEAP_MALLOC, 2, MEDIUM)
               + op(REWRITE, 1) + op(REALLOC, 2, SMALL) + op(FREE, 1) + op(HEAP_MALLOC, 3, 0x0100)
               + op(FREE_REMOTE, 2) + op(HEAP_DESTROY, 0),
}

here = os.path.dirname(os.path.abspath(__file__))
os.makedirs(os.path.join(here, "corpus"), exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(here, "corpus", name), "wb") as f:
        f.write(data)
