#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Style check (STYLE.md section 8), in the spirit of curl's checksrc.pl: C sources and
headers indent with tabs, stay within 100 columns (tabs count 8), carry no trailing
whitespace and no C++ comments, and open with an SPDX line; every file ends with a
newline.

Usage: check-style.py ROOT
"""
import os
import re
import sys

DIRS = ("include", "lib", "tests", "examples", "bench")
EXTS = (".c", ".h", ".h.in")


def width(line):
    col = 0
    for ch in line:
        col = (col // 8 + 1) * 8 if ch == "\t" else col + 1
    return col


def strip_strings(line):
    return re.sub(r'"(\\.|[^"\\])*"', '""', re.sub(r"'(\\.|[^'\\])*'", "''", line))


def check(path, rel, problems):
    text = open(path, encoding="utf-8").read()
    if text and not text.endswith("\n"):
        problems.append(f"{rel}: no newline at end of file")
    lines = text.split("\n")
    if "SPDX-License-Identifier" not in "\n".join(lines[:3]) and "Generated" not in text[:200]:
        problems.append(f"{rel}:1: missing SPDX-License-Identifier")
    in_comment = False
    for n, line in enumerate(lines, 1):
        if line.rstrip() != line:
            problems.append(f"{rel}:{n}: trailing whitespace")
        if width(line) > 100:
            problems.append(f"{rel}:{n}: {width(line)} columns (max 100)")
        # Tabs indent; up to 7 spaces may follow them to align a continuation.
        if re.match(r"^\t* {8,}\S", line) and not in_comment:
            problems.append(f"{rel}:{n}: indented with spaces")
        code = strip_strings(line)
        if not in_comment and "//" in code.split("/*")[0] and "://" not in code:
            problems.append(f"{rel}:{n}: C++ comment")
        # Track block comments to allow " * " continuation lines.
        pos = 0
        while True:
            if in_comment:
                end = code.find("*/", pos)
                if end < 0:
                    break
                in_comment, pos = False, end + 2
            else:
                start = code.find("/*", pos)
                if start < 0:
                    break
                in_comment, pos = True, start + 2


def main():
    root = sys.argv[1]
    problems = []
    count = 0
    for d in DIRS:
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for f in sorted(files):
                if f.endswith(EXTS):
                    p = os.path.join(dirpath, f)
                    check(p, os.path.relpath(p, root), problems)
                    count += 1
    for p in problems:
        print(p)
    print(f"{count} files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
