#!/usr/bin/env python3
"""Generates RPM-like payload trees for the pack and verify benchmarks (scripts/bench.sh).

  gen_payload.py --out DIR --mb N [--seed S]

DIR/tree/repos/<id>/Packages/<name>-<version>-<release>.<arch>.rpm: files of random content
(incompressible, like RPM payloads) whose sizes follow the mix of an EL7 + oVirt update set:
log-normal around a few hundred KB, 1 KB at least, with a few big ones (kernel, firmware,
java, ovirt-engine) up to 80 MB. DIR/stamp records what built it: an unchanged stamp means the
tree is reused as it is. DIR/summary.txt: files and bytes.
Python 3 standard library only.
"""

import argparse
import math
import os
import random
import shutil
import sys

from stamp import is_fresh, mark, stamp_for

MIN_SIZE = 1024
MAX_SIZE = 80 * 1000 * 1000
# Big packages every update set has, in MB, added first while they fit in the total.
BIG = [("linux-firmware", 80), ("kernel", 46), ("java-1.8.0-openjdk-headless", 33), ("ovirt-engine", 25),
       ("glibc-common", 12), ("qemu-kvm-ev", 10)]
REPOS = ["base", "updates", "ovirt-4.3", "epel"]
ARCHES = ["x86_64", "x86_64", "x86_64", "noarch", "noarch", "i686"]


def plan(total, rng):
    """[(repo, file name, size)] adding up to `total` bytes."""
    files, left, n = [], total, 0
    for name, mb in BIG:
        size = mb * 1000 * 1000
        if size * 4 > total:  # a small tree gets no giants: keep its mix like the big one's
            continue
        files.append((REPOS[n % len(REPOS)], f"{name}-1.0-1.el7.x86_64.rpm", size))
        left -= size
        n += 1
    while left > 0:
        # median ~250 KB, long tail: most RPMs are small, most bytes are in the big ones
        size = int(min(MAX_SIZE, max(MIN_SIZE, math.exp(rng.gauss(math.log(250e3), 1.8)))))
        size = min(size, max(left, MIN_SIZE))
        files.append((rng.choice(REPOS), f"pkg{n:05d}-{rng.randint(0, 9)}.{rng.randint(0, 30)}-"
                      f"{rng.randint(1, 20)}.el7.{rng.choice(ARCHES)}.rpm", size))
        left -= size
        n += 1
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--mb", type=int, required=True, help="total payload in MB (10^6 bytes)")
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    stamp = stamp_for(__file__, a.mb, a.seed)
    if is_fresh(a.out, stamp):
        return
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    rng = random.Random(a.seed)
    files = plan(a.mb * 1000 * 1000, rng)
    tree = os.path.join(a.out, "tree")
    block = 1 << 20
    for repo, name, size in files:
        d = os.path.join(tree, "repos", repo, "Packages")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            left = size
            while left > 0:
                n = min(block, left)
                f.write(os.urandom(n))
                left -= n
    total = sum(s for _, _, s in files)
    with open(os.path.join(a.out, "summary.txt"), "w") as f:
        f.write(f"{len(files)} files, {total} bytes ({total / 1e6:.0f} MB), largest {max(s for *_, s in files)} "
                f"bytes, median {sorted(s for *_, s in files)[len(files) // 2]} bytes\n")
    mark(a.out, stamp)


if __name__ == "__main__":
    sys.exit(main())
