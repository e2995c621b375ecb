#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The rules of Buildroot's utils/check-package that apply to mica's package
files, written from their documentation (Buildroot manual, "Coding style" and
"Adding new packages"; the rule names are those of utils/checkpackagelib/).

usage: check-package.py TREE            check TREE/package/mica/* and TREE/*
       check-package.py --selftest TREE break each rule once and show it fails
Prints one line per problem and exits 1 if there is any.
"""
import hashlib
import os
import re
import sys

# --- rules common to every file (checkpackagelib/lib.py) -------------------


def common(name, lines):
    errs = []
    for i, line in enumerate(lines, 1):
        if line != line.rstrip():
            errs.append(f"{name}:{i}: TrailingSpace")
        if i > 1 and line.strip() == "" and lines[i - 2].strip() == "":
            errs.append(f"{name}:{i}: ConsecutiveEmptyLines")
    return errs


def eof(name, text):
    errs = []
    if not text.endswith("\n"):
        errs.append(f"{name}: NewlineAtEof")
    elif text.endswith("\n\n"):
        errs.append(f"{name}: EmptyLastLine")
    return errs


# --- Config.in (checkpackagelib/lib_config.py) ------------------------------

TOP_LEVEL = ["choice", "comment", "config", "endchoice", "endif", "endmenu",
             "if", "menu", "menuconfig", "source"]
INDENTED = ["bool", "default", "depends", "help", "prompt", "select", "string"]
ORDER = {"bool": 1, "prompt": 1, "string": 1, "default": 2, "depends": 3,
         "select": 4, "help": 5}


def check_config(name, lines):
    errs = []
    state = 0
    in_help = False
    first_help = False
    for i, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped == "" or stripped.startswith("#"):
            continue
        word = stripped.split()[0]
        if in_help and word not in TOP_LEVEL:
            # help text: <tab><2 spaces>, at most 62 columns; the first
            # line starts with text (HelpText)
            fmt = r"^\t  \S.{,61}$" if first_help else r"^\t  .{,62}$"
            first_help = False
            if not re.match(fmt, line.rstrip()) and \
                    not re.match(r"^(http|https|git)://\S*$", stripped):
                errs.append(f"{name}:{i}: HelpText: <tab><2 spaces><62 chars>")
            continue
        in_help = False
        if word in TOP_LEVEL:
            state = 0
            if line != line.lstrip():
                errs.append(f"{name}:{i}: Indent: '{word}' should not be indented")
            continue
        if word in INDENTED and not line.startswith("\t" + word):
            errs.append(f"{name}:{i}: Indent: '{word}' should be indented with one tab")
        if word in ORDER:
            if state > ORDER[word]:
                errs.append(f"{name}:{i}: AttributesOrder: type, default, depends on, select, help")
            state = ORDER[word]
        if re.match(r"^\tdefault n$", line.split("#")[0].rstrip()):
            errs.append(f"{name}:{i}: NoDefaultN")
        if stripped == "help":
            in_help = True
            first_help = True
    return errs


# --- the package's .mk (checkpackagelib/lib_mk.py) --------------------------

CONDITIONAL = re.compile(r"^\s*(ifdef|ifeq|ifndef|ifneq|else|endif)\b")
START_COND = re.compile(r"^\s*(ifdef|ifeq|ifndef|ifneq)\b")


def check_mk(name, lines, pkg):
    errs = []
    # PackageHeader: 80 hashes, '#', '# <name>', '#', 80 hashes, blank
    for n, want in ((1, "#" * 80), (2, "#"), (4, "#"), (5, "#" * 80), (6, "")):
        if len(lines) < n or lines[n - 1].rstrip() != want:
            errs.append(f"{name}:{n}: PackageHeader: should be {want or 'a blank line'!r}")
    if len(lines) < 3 or lines[2].rstrip() != f"# {pkg}":
        errs.append(f"{name}:3: PackageHeader: should be '# {pkg}'")
    in_define = backslash = False
    cond = 0
    set_unconditionally = set()
    for i, line in enumerate(lines, 1):
        if re.match(r"^\s*define\s", line):
            in_define = True
            continue
        if re.match(r"^\s*endef\b", line):
            in_define = False
            continue
        expect_tab = in_define or backslash
        if not backslash and CONDITIONAL.match(line):
            expect_tab = False
        prev_backslash = backslash
        backslash = bool(re.match(r"^[^#].*\\$", line))
        if prev_backslash and line.strip() == "":
            errs.append(f"{name}:{i - 1}: TrailingBackslash")
        if re.match(r"^.*(  |\t ?)\\$", line.rstrip()):
            errs.append(f"{name}:{i}: SpaceBeforeBackslash")
        if re.match(r"^[^#].*[^$]\$\{\w+\}", line.rstrip()):
            errs.append(f"{name}:{i}: VariableWithBraces: use $() not ${{}}")
        if line.strip() != "" and not (in_define and line.lstrip().startswith("#")):
            if expect_tab and not line.startswith("\t"):
                errs.append(f"{name}:{i}: Indent: expected indent with tabs")
            if not expect_tab and line.startswith("\t"):
                errs.append(f"{name}:{i}: Indent: unexpected indent with tabs")
        if in_define:
            continue
        # TypoInPackageVariable: every variable set here is the package's
        m = re.match(r"^([A-Z0-9_]+_[A-Z0-9_]+)\s*(\+=|:=|\?=|=)", line)
        if m and not re.search(rf"(HOST_)?{pkg.upper()}_[A-Z0-9_]+", m.group(1)) \
                and m.group(1) != "TARGET_FINALIZE_HOOKS":
            errs.append(f"{name}:{i}: TypoInPackageVariable: {m.group(1)} -> *{pkg.upper()}*")
        # the manual's "Writing rules: the .mk file": one space around =
        a = re.match(r"^([A-Z0-9_]+)(\s*)(\+=|:=|\?=|=)(\s*)", line)
        if a and (a.group(2) != " " or (a.group(4) != " " and line[a.end():] != "")):
            errs.append(f"{name}:{i}: assignment: one space on each side of {a.group(3)}")
        if START_COND.match(line):
            cond += 1
            continue
        if re.match(r"^\s*endif\b", line):
            cond -= 1
            continue
        if a:
            var, op = a.group(1), a.group(3)
            # OverriddenVariable: _CONF_OPTS/_DEPENDENCIES only appended
            # under a condition; no plain re-assignment of a variable set
            if cond and op in ("=", ":=") and re.search(r"_(CONF_OPTS|DEPENDENCIES)$", var):
                errs.append(f"{name}:{i}: OverriddenVariable: conditional override of {var}")
            if not cond and op in ("=", ":=") and var in set_unconditionally:
                errs.append(f"{name}:{i}: OverriddenVariable: unconditional override of {var}")
            if not cond:
                set_unconditionally.add(var)
            # UselessFlag: a default value set again
            if not cond and re.search(r"_(INSTALL_STAGING\s*=\s*NO|INSTALL_TARGET\s*=\s*YES|"
                                      r"INSTALL_IMAGES\s*=\s*NO)", line):
                errs.append(f"{name}:{i}: UselessFlag: useless default value")
    return errs


# --- the .hash file (checkpackagelib/lib_hash.py; manual, "The .hash file") -

HASH_LEN = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}


def check_hash(name, lines, srcdir):
    errs = []
    for i, line in enumerate(lines, 1):
        if line.strip() == "" or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 3:
            errs.append(f"{name}:{i}: HashNumberOfFields: expected 3 fields")
            continue
        if line != "  ".join(fields):
            errs.append(f"{name}:{i}: HashSpaces: separate fields with two spaces")
        kind, digest, fname = fields
        if kind not in HASH_LEN or not re.fullmatch(rf"[0-9a-f]{{{HASH_LEN.get(kind, 0)}}}", digest):
            errs.append(f"{name}:{i}: HashType: bad {kind} hash")
            continue
        path = os.path.join(srcdir, fname)
        if os.path.isfile(path):
            real = hashlib.new(kind, open(path, "rb").read()).hexdigest()
            if real != digest:
                errs.append(f"{name}:{i}: {fname}: {kind} {digest} but the file has {real}")
        elif "/" not in fname and not fname.endswith((".tar.gz", ".tar.xz", ".tar.bz2")):
            errs.append(f"{name}:{i}: {fname}: no such file in {srcdir}")
    if not any(l.startswith("sha256  ") and l.endswith("  LICENSE") for l in lines):
        errs.append(f"{name}: no sha256 line for LICENSE")
    return errs


# --- driver ----------------------------------------------------------------


def check_text(kind, name, text, srcdir):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    errs = common(name, lines) + eof(name, text)
    if kind == "config":
        errs += check_config(name, lines)
    elif kind == "mk":
        errs += check_mk(name, lines, "mica")
    elif kind == "hash":
        errs += check_hash(name, lines, srcdir)
    return errs


def files(tree):
    pkg = os.path.join(tree, "package", "mica")
    return [("config", os.path.join(pkg, "Config.in")), ("mk", os.path.join(pkg, "mica.mk")),
            ("hash", os.path.join(pkg, "mica.hash")), ("config", os.path.join(tree, "Config.in")),
            ("other", os.path.join(tree, "external.mk")), ("other", os.path.join(tree, "external.desc"))]


# One breakage per rule: (file kind, description, text -> broken text, the
# rule that must then report). Each must turn a clean file into a failure.
BREAKS = [
    ("config", "tab replaced by spaces", lambda t: t.replace("\tbool \"mica\"", "    bool \"mica\""), "Indent"),
    ("config", "config indented", lambda t: t.replace("config BR2_PACKAGE_MICA\n", "\tconfig BR2_PACKAGE_MICA\n"), "Indent"),
    ("config", "help line of 63 columns", lambda t: t.replace("\t  Link a program", "\t  " + "x" * 63 + "\n\t  Link a program"), "HelpText"),
    ("config", "help indented by one space", lambda t: t.replace("\t  Link a program", "\t Link a program"), "HelpText"),
    ("config", "depends before default", lambda t: t.replace("\tbool\n\t# the architectures", "\tbool\n\tdepends on BR2_USE_MMU\n\t# the architectures"), "AttributesOrder"),
    ("config", "default n", lambda t: t.replace("\tbool \"mica\"\n", "\tbool \"mica\"\n\tdefault n\n"), "NoDefaultN"),
    ("config", "trailing space", lambda t: t.replace("bool \"mica\"", "bool \"mica\" "), "TrailingSpace"),
    ("config", "two empty lines", lambda t: t.replace("\n\nconfig BR2_PACKAGE_MICA\n", "\n\n\nconfig BR2_PACKAGE_MICA\n"), "ConsecutiveEmptyLines"),
    ("mk", "header of 79 hashes", lambda t: t.replace("#" * 80 + "\n#\n# mica", "#" * 79 + "\n#\n# mica", 1), "PackageHeader"),
    ("mk", "variable without prefix", lambda t: t + "MCIA_FOO = 1\n", "TypoInPackageVariable"),
    ("mk", "no space before =", lambda t: t.replace("MICA_LICENSE = MIT", "MICA_LICENSE= MIT"), "assignment"),
    ("mk", "conditional CONF_OPTS =", lambda t: t.replace("MICA_CONF_OPTS += -DMI_LIBC_MUSL=ON", "MICA_CONF_OPTS = -DMI_LIBC_MUSL=ON"), "OverriddenVariable"),
    ("mk", "space-indented continuation", lambda t: t.replace("\t-DMI_BUILD_OBJECT=OFF", "    -DMI_BUILD_OBJECT=OFF"), "Indent"),
    ("mk", "two spaces before backslash", lambda t: t.replace("-DMI_BUILD_TESTS=OFF \\", "-DMI_BUILD_TESTS=OFF  \\"), "SpaceBeforeBackslash"),
    ("mk", "INSTALL_TARGET = YES", lambda t: t + "MICA_INSTALL_TARGET = YES\n", "UselessFlag"),
    ("mk", "${} variable", lambda t: t.replace("$(BR2_EXTERNAL_MICA_PATH)", "${BR2_EXTERNAL_MICA_PATH}"), "VariableWithBraces"),
    ("mk", "empty last line", lambda t: t + "\n", "EmptyLastLine"),
    ("hash", "one space between fields", lambda t: t.replace("sha256  ", "sha256 "), "HashSpaces"),
    ("hash", "wrong LICENSE hash", lambda t: re.sub(r"[0-9a-f]{64}", "0" * 64, t), "LICENSE"),
    ("hash", "short hash", lambda t: re.sub(r"([0-9a-f]{63})[0-9a-f]", r"\1", t), "HashType"),
]


def main():
    args = sys.argv[1:]
    selftest = bool(args) and args[0] == "--selftest"
    if selftest:
        args = args[1:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    tree = args[0]
    srcdir = os.path.normpath(os.path.join(tree, "..", ".."))
    errs = []
    texts = {}
    for kind, path in files(tree):
        text = open(path).read()
        texts.setdefault(kind, text)
        errs += check_text(kind, os.path.relpath(path, tree), text, srcdir)
    if not selftest:
        for e in errs:
            print(e)
        print(f"check-package: {len(files(tree))} files, {len(errs)} problems")
        return 1 if errs else 0
    if errs:
        print("selftest needs clean files first:", *errs, sep="\n")
        return 1
    bad = 0
    for kind, what, breaker, rule in BREAKS:
        broken = breaker(texts[kind])
        found = [e for e in check_text(kind, kind, broken, srcdir) if rule in e]
        if broken == texts[kind] or not found:
            print(f"selftest: {what}: NOT caught ({rule})")
            bad += 1
        else:
            print(f"selftest: {what}: caught: {found[0]}")
    print(f"check-package selftest: {len(BREAKS) - bad} of {len(BREAKS)} breakages caught")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
