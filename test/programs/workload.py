# SPDX-License-Identifier: MIT
# Allocation-heavy Python workload for test/programs/python.sh.
#
# Run with PYTHONMALLOC=malloc so that every object comes from malloc (mica
# under the preload). Checks its own results against closed-form answers
# (an AssertionError exits non-zero) and prints a deterministic report that
# python.sh also compares with a run on glibc's malloc.
import collections
import concurrent.futures
import hashlib
import json
import random
import sys
import threading

report = []


def out(name, value):
    report.append("%s %s" % (name, value))


# --- dicts and lists: a few MB of small objects ------------------------------
N = 200_000
d = {}
for i in range(N):
    d["key-%d" % i] = [i, i * i, str(i)]
assert len(d) == N
assert sum(v[0] for v in d.values()) == N * (N - 1) // 2
assert sum(v[1] for v in d.values()) == (N - 1) * N * (2 * N - 1) // 6
for i in range(0, N, 2):          # delete half, grow it back: table resizes
    del d["key-%d" % i]
assert len(d) == N // 2
for i in range(0, N, 2):
    d["key-%d" % i] = (i,)
assert len(d) == N
out("dict", sum(len(v) for v in d.values()))
del d

# --- strings: build, join, split, replace, encode -----------------------------
words = ["w%05d" % (i * 7919 % 100_000) for i in range(100_000)]
text = " ".join(words)
assert len(text) == 100_000 * 6 + 99_999
assert text.split(" ") == words
up = text.upper().replace("W", "<>")
assert up.count("<>") == 100_000
blob = up.encode("utf-8") * 8       # ~5.6 MB bytes
assert len(blob) == 8 * (100_000 * 7 + 99_999)
out("strings", hashlib.sha256(blob).hexdigest()[:16])
parts = []
for i in range(50_000):            # many reallocs of a growing str
    parts.append(chr(0x41 + i % 26) * (i % 17))
s = "".join(parts)
assert len(s) == sum(i % 17 for i in range(50_000))
out("join", len(s))

# --- sorting: ints, tuples, strings, with a key -------------------------------
rng = random.Random(12345)
nums = [rng.randrange(1_000_000) for _ in range(300_000)]
srt = sorted(nums)
assert all(srt[i] <= srt[i + 1] for i in range(len(srt) - 1))
assert collections.Counter(srt) == collections.Counter(nums)
recs = [(rng.randrange(100), "n%06d" % rng.randrange(10**6), i) for i in range(100_000)]
recs.sort(key=lambda r: (r[0], r[1]))
assert all((recs[i][0], recs[i][1]) <= (recs[i + 1][0], recs[i + 1][1]) for i in range(len(recs) - 1))
out("sort", "%d %d %d" % (srt[0], srt[len(srt) // 2], srt[-1]))
out("sort-recs", hashlib.sha256(repr(recs[:1000]).encode()).hexdigest()[:16])
del nums, srt, recs

# --- json round trip of a nested document -------------------------------------
doc = {
    "items": [
        {"id": i, "name": "item-%d" % i, "tags": ["t%d" % (i % 7), "u%d" % (i % 11)],
         "price": i * 0.25, "ok": i % 3 == 0, "none": None,
         "nested": {"a": [i, [i + 1, {"b": str(i)}]]}}
        for i in range(30_000)
    ],
    "unicode": "\u00e9\u4e2d\U0001f600" * 1000,
}
enc = json.dumps(doc, sort_keys=True)
dec = json.loads(enc)
assert dec == doc
enc2 = json.dumps(dec, separators=(",", ":"), ensure_ascii=False)
assert json.loads(enc2) == doc
out("json", "%d %s" % (len(enc), hashlib.sha256(enc.encode()).hexdigest()[:16]))
del doc, dec, enc, enc2

# --- a thread pool: objects made in one thread, freed in another --------------
def work(seed):
    r = random.Random(seed)
    local = {}
    for j in range(20_000):
        k = r.randrange(5_000)
        local.setdefault(k, []).append("x" * (j % 64))
    # return many objects: they are freed by the main thread
    return [(k, len(v), sum(map(len, v))) for k, v in sorted(local.items())]


with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
    results = list(pool.map(work, range(32)))
assert len(results) == 32
for res in results:
    assert sum(n for _, n, _ in res) == 20_000
total = sum(t for res in results for _, _, t in res)
# every worker appends j % 64 characters for j in range(20000)
assert total == 32 * sum(j % 64 for j in range(20_000))
out("threads", "%d %s" % (total, hashlib.sha256(repr(results).encode()).hexdigest()[:16]))
del results

# threads that hand lists to each other through a queue
import queue
q = queue.Queue(maxsize=64)
got = []


def producer(n):
    for i in range(n):
        q.put([i] * 50 + ["p%d" % i])
    q.put(None)


def consumer():
    count = 0
    while True:
        item = q.get()
        if item is None:
            break
        count += len(item)
    got.append(count)


ths = [threading.Thread(target=producer, args=(20_000,)), threading.Thread(target=consumer)]
for t in ths:
    t.start()
for t in ths:
    t.join()
assert got == [20_000 * 51]
out("queue", got[0])

print("\n".join(report))
print("workload ok")
sys.stdout.flush()
