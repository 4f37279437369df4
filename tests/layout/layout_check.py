#!/usr/bin/env python3
"""The library's layout, checked: what docs/architecture.md promises a newcomer.

- Every source of the library lives in a component folder, repo/<component>/, and is listed
  in that folder's CMakeLists.txt (explicit lists: a file left out would never be built).
- A header named *_private.hpp is its component's own: nothing outside repo/<component>/
  includes it but that component's tests in tests/repo/<component>/.
- Includes go down, never up or sideways: a file of library target T includes only headers of
  T itself or of the airgap_* targets T links, directly or through them (target_link_libraries).
- Every `#include "repo/..."` names a file that exists.
Prints one line per finding and exits 1 when there is any."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
os.chdir(root)
findings = []
include_re = re.compile(r'^\s*#\s*include\s+"(repo/[^"]+)"', re.M)


def cmake_commands(text, name):
    """The argument lists of every NAME(...) call in a CMakeLists.txt, comments stripped."""
    text = re.sub(r"#[^\n]*", "", text)
    return [m.group(1).split() for m in re.finditer(name + r"\(([^)]*)\)", text)]


# Targets, their sources and their airgap_* links, from repo/<component>/CMakeLists.txt.
target_of_file = {}
links = {}
folder_targets = {}
for folder in sorted(os.listdir("repo")):
    path = os.path.join("repo", folder)
    if not os.path.isdir(path):
        if folder.endswith((".cpp", ".hpp")):
            findings.append(f"repo/{folder}: not in a component folder")
        continue
    cmake = os.path.join(path, "CMakeLists.txt")
    if not os.path.exists(cmake):
        findings.append(f"{path}: no CMakeLists.txt")
        continue
    text = open(cmake).read()
    for args in cmake_commands(text, "add_library"):
        name, sources = args[0], [a for a in args[1:] if a.endswith(".cpp") and "$" not in a]
        folder_targets.setdefault(folder, []).append(name)
        links.setdefault(name, set())
        for s in sources:
            target_of_file[os.path.join(path, s)] = name
    for args in cmake_commands(text, "target_link_libraries"):
        links.setdefault(args[0], set()).update(a for a in args[1:] if a.startswith("airgap_"))
    for f in sorted(os.listdir(path)):
        full = os.path.join(path, f)
        if f.endswith(".cpp") and full not in target_of_file:
            findings.append(f"{full}: not listed in {cmake}")

# A header belongs to the target of the source with its stem, else to its folder's first target.
for folder, targets in folder_targets.items():
    for f in os.listdir(os.path.join("repo", folder)):
        if f.endswith(".hpp"):
            stem = f[: -len(".hpp")].removesuffix("_private")
            source = os.path.join("repo", folder, stem + ".cpp")
            target_of_file[os.path.join("repo", folder, f)] = target_of_file.get(source, targets[0])


def closure(target):
    seen, todo = set(), [target]
    while todo:
        t = todo.pop()
        if t not in seen:
            seen.add(t)
            todo.extend(links.get(t, ()))
    return seen


reachable = {t: closure(t) for t in links}

for top in ("repo", "cli", "bundler", "applier", "tests"):
    for dirpath, _, files in os.walk(top):
        if dirpath.startswith("tests/data"):
            continue
        for f in files:
            if not f.endswith((".cpp", ".hpp")):
                continue
            src = os.path.join(dirpath, f)
            for inc in include_re.findall(open(src, encoding="utf-8").read()):
                if not os.path.exists(inc):
                    findings.append(f"{src}: includes {inc}, which does not exist")
                    continue
                component = inc.split("/")[1]
                if inc.endswith("_private.hpp") and not (
                        src.startswith(f"repo/{component}/") or src.startswith(f"tests/repo/{component}/")):
                    findings.append(f"{src}: includes {inc}, private to repo/{component}/")
                mine, theirs = target_of_file.get(src), target_of_file.get(inc)
                if mine and theirs and theirs not in reachable[mine]:
                    findings.append(f"{src}: includes {inc} of {theirs}, which {mine} does not link")

for line in findings:
    print(line)
sys.exit(1 if findings else 0)
