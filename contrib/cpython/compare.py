# SPDX-License-Identifier: MIT
"""Compare two runs of CPython's regression suite test by test.

usage: python compare.py MICA.xml VENDORED.xml

Each argument is regrtest's --junit-xml output; the .log next to it (the
run's console output) gives the per-file summary, which also names test
files that crashed or timed out before writing any test case. Prints the
counts of each run, every test case and every test file whose outcome
differs, and exits 1 if something fails with mica that does not fail with
the vendored allocator (a failure in both runs is reported, not counted:
check that it fails the same way, in the two logs).
"""
import re
import sys
import xml.etree.ElementTree as ET

FAILED = ("failure", "error")
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def cases(path):
    """test case id -> 'pass' | 'skip' | 'failure' | 'error'"""
    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = "pass"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "skip" if child.tag == "skipped" else child.tag
        # parametrised names may print an object's address, which differs
        # from run to run
        out[ADDRESS.sub("0x...", case.get("name"))] = outcome
    return out


def file_summary(log_path):
    """test file -> its group in regrtest's final summary ('failed',
    'skipped', 'env changed', 'resource denied', 'crashed', ...); files not
    named there passed."""
    groups = {}
    group = None
    header = re.compile(r"^(?:\d+|All \d+) (?:tests?|test files?) (.+?)(?: \(.*\))?:$")
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return groups
    for line in lines:
        m = header.match(line)
        if m:
            group = m.group(1)
            continue
        if group and line.startswith("    "):
            for name in line.split():
                groups[name] = group
        elif not line.strip() or line.startswith("=="):
            group = None
    return groups


def main(mica_xml, vendored_xml):
    runs = {}
    for which, path in (("mica", mica_xml), ("vendored", vendored_xml)):
        runs[which] = (cases(path), file_summary(path[:-4] + ".log"))
        counts = {}
        for outcome in runs[which][0].values():
            counts[outcome] = counts.get(outcome, 0) + 1
        print(f"{which}: {len(runs[which][0])} test cases:",
              ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    (mc, mf), (vc, vf) = runs["mica"], runs["vendored"]
    worse = []
    for name in sorted(set(mc) | set(vc)):
        a, b = mc.get(name, "absent"), vc.get(name, "absent")
        if a == b:
            continue
        print(f"  case {name}: mica {a}, vendored {b}")
        if a in FAILED and b not in FAILED:
            worse.append(name)
    for name in sorted(set(mf) | set(vf)):
        a, b = mf.get(name, "passed"), vf.get(name, "passed")
        if a != b:
            print(f"  file {name}: mica {a}, vendored {b}")
            if a in ("failed", "crashed", "timed out") or "fail" in a:
                if not ("fail" in b or b in ("crashed", "timed out")):
                    worse.append(name)
        elif "fail" in a or a in ("crashed", "timed out"):
            print(f"  file {name}: {a} in both runs (compare the logs)")
    if worse:
        print(f"{len(worse)} fail with mica only:", " ".join(worse))
        return 1
    print("no test fails with mica that passes with the vendored allocator")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
