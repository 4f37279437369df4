#!/usr/bin/env python3
"""Builds an rpm-md repo of real RPMs with random payload for the download benchmark (scripts/bench.sh).

  gen_rpm_repo.py --out DIR --count N --mb MB [--seed S]

DIR/repo/Packages/*.rpm and DIR/repo/repodata: N packages (subpackages of one spec, built in one
rpmbuild run) of 1..2*MB MB each (MB on average) of random, uncompressed payload, so an RPM's
size is its payload's; createrepo_c writes the metadata. DIR/names.txt: the package names (for
`dnf download`); DIR/stamp: what built it (unchanged: reused as it is).
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile

from stamp import is_fresh, mark, stamp_for


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--mb", type=float, required=True, help="average package size in MB")
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args()
    stamp = stamp_for(__file__, a.count, a.mb, a.seed)
    if is_fresh(a.out, stamp):
        return
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    os.makedirs(a.out)
    rng = random.Random(a.seed)
    sizes = [max(1, int(rng.uniform(0.25, 1.75) * a.mb * 1000)) for _ in range(a.count)]  # KB
    names = [f"benchpkg{i:04d}" for i in range(a.count)]
    spec = ["Name: benchpkg", "Version: 1.0", "Release: 1.el7", "Summary: download benchmark",
            "License: MIT", "BuildArch: noarch",
            # random bytes do not compress: store them as they are, and build fast
            "%define _binary_payload w0.ufdio", "%define _build_id_links none", "%define debug_package %{nil}",
            "%define __os_install_post %{nil}", "%description", "Download benchmark packages.", "%install"]
    for name, kb in zip(names, sizes):
        spec.append(f"mkdir -p %{{buildroot}}/usr/share/{name} && head -c {kb}K /dev/urandom "
                    f">%{{buildroot}}/usr/share/{name}/payload.bin")
    for name in names:
        spec += [f"%package -n {name}", f"Summary: {name}", f"%description -n {name}", f"{name} payload.",
                 f"%files -n {name}", f"/usr/share/{name}"]
    with tempfile.TemporaryDirectory(dir=a.out) as top:
        with open(os.path.join(top, "bench.spec"), "w") as f:
            f.write("\n".join(spec) + "\n")
        subprocess.run(["rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}", "--define", "_rpmdir %{_topdir}/RPMS",
                        os.path.join(top, "bench.spec")], check=True, stdout=subprocess.DEVNULL)
        pkgs = os.path.join(a.out, "repo", "Packages")
        os.makedirs(pkgs)
        for root, _, files in os.walk(os.path.join(top, "RPMS")):
            for f in files:
                shutil.move(os.path.join(root, f), os.path.join(pkgs, f))
    subprocess.run(["createrepo_c", "--quiet", "--general-compress-type=gz", os.path.join(a.out, "repo")], check=True)
    total = sum(os.path.getsize(os.path.join(pkgs, f)) for f in os.listdir(pkgs))
    with open(os.path.join(a.out, "names.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    with open(os.path.join(a.out, "summary.txt"), "w") as f:
        f.write(f"{a.count} RPMs, {total} bytes ({total / 1e6:.0f} MB)\n")
    mark(a.out, stamp)


if __name__ == "__main__":
    sys.exit(main())
