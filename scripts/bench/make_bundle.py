#!/usr/bin/env python3
"""Makes an unsigned bundle directory from a payload tree, for the verify benchmark (scripts/bench.sh).

  make_bundle.py --tree TREE --out DIR --sums FILE

DIR gets every file of TREE (hard links: no copy) and a bundle.json listing each with its size
and SHA-256 in the shape repo/state/bundle_manifest.hpp validates (every repos/<id>/ a repo, every
.rpm a package); FILE gets the same digests in `sha256sum -c` form, relative to DIR. The caller
signs bundle.json (openssl cms, detached) into DIR/bundle.json.p7s.
"""

import argparse
import datetime
import hashlib
import json
import os
import shutil
import sys
import uuid


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tree", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sums", required=True)
    a = ap.parse_args()
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    files, packages, repos = [], [], {}
    for root, dirs, names in os.walk(a.tree):
        dirs.sort()
        for name in sorted(names):
            src = os.path.join(root, name)
            rel = os.path.relpath(src, a.tree).replace(os.sep, "/")
            dst = os.path.join(a.out, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.link(src, dst)
            h = hashlib.sha256()
            with open(src, "rb") as f:
                while block := f.read(1 << 20):
                    h.update(block)
            files.append({"path": rel, "size": os.path.getsize(src), "sha256": h.hexdigest()})
            parts = rel.split("/")
            if parts[0] == "repos" and len(parts) == 4 and name.endswith(".rpm"):
                repos[parts[1]] = {"id": parts[1], "name": parts[1], "path": f"repos/{parts[1]}", "gpgkeys": []}
                packages.append({"path": rel, "nevra": name[:-len(".rpm")], "repo": parts[1], "reason": "update"})
    # Every repo's metadata must be listed (the applier refuses a repo read unchecked): the
    # payload has none, so each repo gets a small stand-in repomd.xml.
    listed = {f["path"] for f in files}
    for rid in repos:
        rel = f"repos/{rid}/repodata/repomd.xml"
        if rel in listed:
            continue
        data = b"<repomd/>\n"
        os.makedirs(os.path.join(a.out, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(a.out, rel), "wb") as f:
            f.write(data)
        files.append({"path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    manifest = {
        "format": "ovirt-airgap-bundle/1",
        "id": str(uuid.uuid4()),
        "serial": int(now.timestamp()),
        "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expires": (now + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source_manifest": "bench",
        "roles": ["engine"],
        "target_versions": {},
        "repos": sorted(repos.values(), key=lambda r: r["id"]),
        "files": sorted(files, key=lambda f: f["path"]),
        "packages": sorted(packages, key=lambda p: p["path"]),
    }
    with open(os.path.join(a.out, "bundle.json"), "w") as f:
        f.write(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    with open(a.sums, "w") as f:
        for e in manifest["files"]:
            f.write(f"{e['sha256']}  {e['path']}\n")


if __name__ == "__main__":
    sys.exit(main())
