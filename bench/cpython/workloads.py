# SPDX-License-Identifier: MIT
"""Python workloads for comparing CPython's allocators (bench/cpython/run.py).

usage: python workloads.py NAME [SCALE]

Each workload allocates in the patterns real programs do and checks its own
result (a wrong answer exits 1, so a broken allocator cannot look fast).
Prints "NAME ok". The driver times the process and reads its peak RSS.
"""
import json
import queue
import sys
import threading


def churn(scale):
    """Object churn: short-lived instances, tuples and lists in waves, some
    kept alive across waves (a generational pattern)."""
    class Node:
        __slots__ = ("key", "value", "next")

        def __init__(self, key, value, nxt):
            self.key, self.value, self.next = key, value, nxt

    keep = []
    total = 0
    for wave in range(int(80 * scale)):
        head = None
        for i in range(20000):
            head = Node(i, (i, wave, [i] * (i % 7)), head)
        n = 0
        while head is not None:
            n += head.key
            head = head.next
        total += n
        keep.append([(wave, j, str(j)) for j in range(2000)])
        if len(keep) > 8:
            keep.pop(0)
    return total == int(80 * scale) * (19999 * 20000 // 2)


def dicts_strings(scale):
    """Dicts keyed by fresh strings, string building, split and join."""
    ok = True
    for rnd in range(int(12 * scale)):
        d = {}
        for i in range(50000):
            k = "key-%d-%d" % (rnd, i)
            d[k] = k.upper() + ":" + str(i * i)
        text = ";".join(d.values())
        parts = text.split(";")
        ok &= len(parts) == 50000 and parts[7] == ("KEY-%d-7:49" % rnd)
        inv = {v: k for k, v in d.items()}
        ok &= len(inv) == 50000
        s = []
        for w in parts[:20000]:
            s.append(w.lower().replace(":", "="))
        ok &= "".join(s).count("=") == 20000
    return ok


def json_roundtrip(scale):
    """json.dumps and json.loads of a nested document, many times."""
    doc = {"users": [{"id": i, "name": "user%d" % i, "tags": ["t%d" % (i % 13), "x"],
                      "score": i * 0.5, "active": i % 3 == 0, "meta": {"n": i, "s": str(i)}}
                     for i in range(3000)]}
    text = json.dumps(doc)
    ok = True
    for _ in range(int(60 * scale)):
        back = json.loads(text)
        ok &= back["users"][2999]["meta"]["s"] == "2999"
        text = json.dumps(back)
    return ok and len(text) > 100000


def threads(scale):
    """Four producers build objects that four consumers take apart and drop:
    every block is freed by a thread other than the one that made it."""
    q = queue.Queue(maxsize=64)
    per_producer = int(1600 * scale)
    sums = []
    lock = threading.Lock()

    def produce(p):
        for i in range(per_producer):
            q.put([{"p": p, "i": i, "v": list(range(i % 50))} for _ in range(50)])

    def consume():
        s = 0
        while True:
            batch = q.get()
            if batch is None:
                break
            for item in batch:
                s += len(item["v"])
        with lock:
            sums.append(s)

    consumers = [threading.Thread(target=consume) for _ in range(4)]
    producers = [threading.Thread(target=produce, args=(p,)) for p in range(4)]
    for t in consumers + producers:
        t.start()
    for t in producers:
        t.join()
    for _ in consumers:
        q.put(None)
    for t in consumers:
        t.join()
    want = 4 * 50 * sum(i % 50 for i in range(per_producer))
    return sum(sums) == want


def in_threads(n, fn, *args):
    """Run fn(i, *args) in n threads at once; their results, in order."""
    results = [None] * n

    def run(i):
        results[i] = fn(i, *args)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return results


def mt_churn(scale):
    """churn in two threads at once (parallel in the free-threaded build:
    each thread allocates from its own heaps)."""
    return all(in_threads(2, lambda i, s: churn(s), scale / 2))


def mt_dict(scale):
    """Two threads insert fresh string keys into one shared dict, read the
    other's keys and delete their own: in the free-threaded build the dict's
    reads are lock-free, so the memory of replaced keys tables is reused
    only after a grace period (QSBR)."""
    shared = {}
    n = int(300000 * scale)

    def work(t, _):
        ok = True
        for rnd in range(6):
            mine = ["%d-%d-%d" % (t, rnd, i) for i in range(n // 6)]
            for k in mine:
                shared[k] = [k]
            for i in range(0, len(mine), 7):
                v = shared.get("%d-%d-%d" % (1 - t, rnd, i))
                ok &= v is None or v[0] == "%d-%d-%d" % (1 - t, rnd, i)
            for k in mine:
                ok &= shared.pop(k)[0] == k
        return ok

    return all(in_threads(2, work, None)) and not shared


def thread_churn(scale):
    """Short-lived threads, two at a time, each building objects and exiting
    while half of them are still alive (kept by the main thread, dropped
    later): their heaps are abandoned and reclaimed by the next threads."""
    kept = []
    ok = True

    def work(i, _):
        objs = [{"i": i, "j": j, "s": str(j) * 3} for j in range(3000)]
        return objs[::2]

    for rnd in range(int(300 * scale)):
        for objs in in_threads(2, work, None):
            ok &= len(objs) == 1500 and objs[-1]["s"] == "2998" * 3
            kept.append(objs)
        if len(kept) > 16:
            del kept[:8]
    return ok


WORKLOADS = {"churn": churn, "dicts-strings": dicts_strings, "json": json_roundtrip, "threads": threads,
             "mt-churn": mt_churn, "mt-dict": mt_dict, "thread-churn": thread_churn}

if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in WORKLOADS:
        sys.exit(__doc__ + "workloads: " + " ".join(WORKLOADS))
    scale = float(sys.argv[2]) if len(sys.argv) == 3 else 1.0
    if not WORKLOADS[sys.argv[1]](scale):
        print(sys.argv[1], "WRONG RESULT")
        sys.exit(1)
    print(sys.argv[1], "ok")
