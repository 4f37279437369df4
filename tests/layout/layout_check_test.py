#!/usr/bin/env python3
"""layout_check.py against a small tree made to break each rule once, and the same tree mended:
the checker must name every break and pass the mended tree."""
import os
import subprocess
import sys
import tempfile

checker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layout_check.py")


def write(root, path, text):
    os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
    with open(os.path.join(root, path), "w") as f:
        f.write(text)


def run(root):
    r = subprocess.run([sys.executable, checker, root], capture_output=True, text=True)
    return r.returncode, sorted(r.stdout.splitlines())


with tempfile.TemporaryDirectory() as root:
    write(root, "repo/low/CMakeLists.txt", "# the bottom\nadd_library(airgap_low STATIC\n  low.cpp\n)\n")
    write(root, "repo/low/low.hpp", "")
    write(root, "repo/low/low.cpp", '#include "repo/low/low.hpp"\n')
    write(root, "repo/high/CMakeLists.txt",
          "add_library(airgap_high STATIC high.cpp)\ntarget_link_libraries(airgap_high PUBLIC airgap_low)\n")
    write(root, "repo/high/high.hpp", '#include "repo/low/low.hpp"\n')
    write(root, "repo/high/detail_private.hpp", "")
    write(root, "repo/high/high.cpp", '#include "repo/high/high.hpp"\n#include "repo/high/detail_private.hpp"\n')
    write(root, "tests/repo/high/test_high.cpp", '#include "repo/high/detail_private.hpp"\n')
    write(root, "applier/main.cpp", '#include "repo/high/high.hpp"\n')
    code, lines = run(root)
    assert (code, lines) == (0, []), (code, lines)

    # Now break each rule once.
    write(root, "repo/low/low.cpp", '#include "repo/low/low.hpp"\n#include "repo/high/high.hpp"\n')
    write(root, "applier/main.cpp", '#include "repo/high/high.hpp"\n#include "repo/high/detail_private.hpp"\n')
    write(root, "repo/high/forgotten.cpp", "")
    write(root, "repo/loose.cpp", "")
    write(root, "bundler/main.cpp", '#include "repo/high/gone.hpp"\n')
    code, lines = run(root)
    expected = sorted([
        "repo/loose.cpp: not in a component folder",
        "repo/high/forgotten.cpp: not listed in repo/high/CMakeLists.txt",
        "repo/low/low.cpp: includes repo/high/high.hpp of airgap_high, which airgap_low does not link",
        "applier/main.cpp: includes repo/high/detail_private.hpp, private to repo/high/",
        "bundler/main.cpp: includes repo/high/gone.hpp, which does not exist",
    ])
    assert (code, lines) == (1, expected), (code, lines)
print("layout_check: each broken rule named, the mended tree passes")
