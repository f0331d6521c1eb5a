#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Symbol-list test: the exported symbols of libpfse.so, the names in lib/libpfse.map and
the PFSE_API declarations in include/pfse/*.h must be the same set, and every name must
start with pfse_. abidiff treats some changes as harmless; this test does not.

Usage: check-symbols.py --lib LIB --map MAP --headers DIR
"""
import argparse
import glob
import os
import re
import subprocess
import sys


def map_symbols(path):
    text = open(path).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names, nodes = [], {}
    for node, body in re.findall(r"([\w.]+)\s*\{(.*?)\}", text, flags=re.S):
        glob_part = body.split("local:")[0].replace("global:", "")
        syms = [s.strip() for s in glob_part.split(";") if s.strip()]
        for s in syms:
            if "*" in s or "?" in s:
                sys.exit(f"map: wildcard '{s}' in node {node}")
        nodes[node] = syms
        names += syms
    dups = {n for n in names if names.count(n) > 1}
    if dups:
        sys.exit(f"map: listed more than once: {sorted(dups)}")
    return set(names), nodes


def header_symbols(directory):
    names = set()
    for h in sorted(glob.glob(os.path.join(directory, "*.h")) +
                    glob.glob(os.path.join(directory, "*.h.in"))):
        text = re.sub(r"/\*.*?\*/", "", open(h).read(), flags=re.S)
        # Drop preprocessor lines (with their continuations): the PFSE_API definition
        # itself is not a declaration.
        text = re.sub(r"^\s*#(?:[^\n]*\\\n)*[^\n]*", "", text, flags=re.M)
        for decl in re.findall(r"\bPFSE_API\b([^;{]*?)\(", text, flags=re.S):
            m = re.search(r"(\w+)\s*$", decl)
            if m:
                names.add(m.group(1))
    return names


def lib_symbols(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    names, versions = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        kind, name = parts[1], parts[2]
        if kind == "A":  # version-node definitions (PFSE_0.1, EXPERIMENTAL)
            versions.add(name)
            continue
        names.add(name.split("@")[0])
    return names, versions


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--map", required=True)
    ap.add_argument("--headers", required=True)
    a = ap.parse_args()

    in_map, nodes = map_symbols(a.map)
    in_hdr = header_symbols(a.headers)
    in_lib, versions = lib_symbols(a.lib)
    ok = True
    for label, s in (("map", in_map), ("headers", in_hdr), ("library", in_lib)):
        bad = sorted(n for n in s if not n.startswith("pfse_"))
        if bad:
            print(f"{label}: names without the pfse_ prefix: {bad}")
            ok = False
    for a_label, a_set, b_label, b_set in (("library", in_lib, "map", in_map),
                                           ("map", in_map, "library", in_lib),
                                           ("headers", in_hdr, "map", in_map),
                                           ("map", in_map, "headers", in_hdr)):
        extra = sorted(a_set - b_set)
        if extra:
            print(f"in {a_label} but not in {b_label}: {extra}")
            ok = False
    if set(nodes) - versions:
        print(f"map nodes missing from the library: {sorted(set(nodes) - versions)}")
        ok = False
    print(f"{len(in_lib)} exported symbols; map nodes: {', '.join(nodes)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
