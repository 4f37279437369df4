#!/usr/bin/env python3
"""Generates the benchmark's synthetic EL7-like world: rpm-md repos at real scale and an installed root.

Layout of OUT (reused by scripts/bench.sh while the stamp matches this file and the arguments):
  repos/{base,updates,epel}/   repodata; Packages/ holds real RPMs of the installed set (all: --all-rpms)
  root/                        installroot with a real rpmdb (/var/lib/rpm, ~/.rpmdb links to it)
  manifest.yaml                bundle manifest with file:// baseurls (epel limited by includepkgs)
  yum.repos.d/bench.repo       the same repos for dnf; dnf.conf: dnf's settings for the run
  summary.txt                  sizes; stamp: what built it

How, and why (measured on this project's 2-core build machine):
- Real RPMs are needed for the installed root (rpm --justdb fills the rpmdb from RPM files), so
  its ~1,500 packages are built with rpmbuild: one spec with up to 1,500 %package subpackages
  per run (1,500 subpackages in one spec take ~9 s on an
  idle machine, 6,000 take ~48 s - superlinear - hence chunks of 1,500, run in parallel).
- The repos' metadata is written directly (primary/filelists/other.xml from the same model the
  specs come from, exactly what createrepo_c would extract from those headers), and
  createrepo_c's modifyrepo_c records it in repomd.xml with its checksums. Building all 30,000+
  RPMs costs ~18 ms of CPU each (~5 min on 2 idle cores, but well over an hour on a loaded
  one), while writing their metadata takes seconds; resolution reads only the metadata.
  --all-rpms builds every package as a real RPM and runs createrepo_c instead, for benchmarks
  that need the files (download, pack).
File lists are large and realistic through %ghost entries, which need no file in the buildroot:
each real RPM carries one small README as payload.

Python 3 standard library only. Deterministic for a given --seed and --scale.
"""

import argparse
import concurrent.futures
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from xml.sax.saxutils import escape as xesc

from stamp import is_fresh, mark, stamp_for

# ---------------------------------------------------------------------------------------------
# Model: a source (one version line of a project) has binary templates (Bt); a Bt built at one
# version and arch is a package. Dependencies point at Bts, so the generator knows which package
# provides each requirement and can build a dependency-closed installed set.
# ---------------------------------------------------------------------------------------------

EPEL_INCLUDE = ["ansible", "ansible-doc", "epel-release", "facter", "golang*", "hiera", "libtomcrypt",
                "libtommath", "nbdkit*", "ovirt-guest-agent*", "puppet", "python2-crypto", "python2-ecdsa",
                "python-ordereddict", "ruby-augeas", "rubygem-rgen", "ruby-shadow"]


class Bt:
    __slots__ = ("name", "arches", "deps", "provides", "files", "soname", "src", "kind", "obsoletes", "idx")

    def __init__(self, name, arches, kind, src):
        self.name = name
        self.arches = arches  # ("x86_64",), ("x86_64", "i686") or ("noarch",)
        self.kind = kind
        self.src = src
        self.deps = []  # (kind, target Bt or None, text)
        self.provides = []  # extra provides, arch-neutral text ("pkgconfig(x) = %V", "perl(A::B)")
        self.files = []  # %ghost paths; "%LIB%" is replaced by lib64 or lib
        self.soname = None  # "libfoo.so.1" for libraries
        self.obsoletes = []
        self.idx = 0


class Src:
    __slots__ = ("name", "epoch", "versions", "bts", "repo")

    def __init__(self, name, repo, epoch, version, release):
        self.name = name
        self.repo = repo
        self.epoch = epoch
        self.versions = [(version, release)]  # base (or first) version, then updates
        self.bts = []


def evr(epoch, v, r):
    return f"{epoch}:{v}-{r}" if epoch else f"{v}-{r}"


class World:
    def __init__(self, seed, scale):
        self.rnd = random.Random(seed)
        self.scale = scale
        self.words = set()
        self.srcs = []  # every source, any repo
        self.libs = []  # library Bts usable by soname (base), lowest first
        self.multilib = []  # the subset of libs built for i686 too
        self.apps, self.pys, self.perls, self.datas = [], [], [], []
        self.core = {}

    # --- names and versions ------------------------------------------------------------------
    def word(self):
        cons = "bcdfghjklmnprstvwxz"
        vows = "aeiou"
        while True:
            n = self.rnd.choice((2, 2, 3))
            w = "".join(self.rnd.choice(cons) + self.rnd.choice(vows) for _ in range(n))
            if self.rnd.random() < 0.3:
                w += self.rnd.choice("nrstlkm")
            if w not in self.words:
                self.words.add(w)
                return w

    def version(self):
        r = self.rnd
        return f"{r.randint(0, 9)}.{r.randint(0, 30)}.{r.randint(0, 20)}", f"{r.randint(1, 12)}.el7"

    def src(self, name, repo="base"):
        v, rel = self.version()
        epoch = self.rnd.choice((1, 2)) if self.rnd.random() < 0.05 else 0
        s = Src(name, repo, epoch, v, rel)
        self.srcs.append(s)
        return s

    def bt(self, s, name, arches, kind):
        b = Bt(name, arches, kind, s)
        s.bts.append(b)
        return b

    def pick(self, pool, n, skew=2.0):
        """n distinct picks, lower (more basic) entries far more often: a few libs are used by all."""
        if not pool:
            return []
        n = min(n, len(pool))
        out, seen = [], set()  # a list, not a set: the order must not depend on addresses
        while len(out) < n:
            x = pool[int(len(pool) * (self.rnd.random() ** skew))]
            if x not in seen:
                seen.add(x)
                out.append(x)
        return out

    # --- the hand-made core every EL7 system has ------------------------------------------------
    def make_core(self):
        c = self.core

        def one(name, arches, kind="core", files=(), provides=(), version=None):
            s = self.src(name)
            if version:
                s.versions = [version]
                s.epoch = 0
            b = self.bt(s, name, arches, kind)
            b.files += list(files)
            b.provides += list(provides)
            c[name] = b
            return b

        one("filesystem", ("x86_64",), files=["/usr/share/filesystem/lang-exceptions"])
        one("setup", ("noarch",), files=["/etc/passwd", "/etc/group", "/etc/services"])
        bash = one("bash", ("x86_64",), files=["/bin/bash", "/bin/sh", "/usr/bin/sh", "/etc/skel/.bashrc"])
        glibc = one("glibc", ("x86_64", "i686"), files=["/sbin/ldconfig", "/%LIB%/libc.so.6", "/%LIB%/libm.so.6",
                                                          "/%LIB%/libpthread.so.0", "/%LIB%/libdl.so.2"])
        glibc.soname = "libc.so.6"
        for extra in ("libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1"):
            glibc.provides.append("@SONAME@" + extra)
        for ver in ("GLIBC_2.2.5", "GLIBC_2.14", "GLIBC_2.17"):
            glibc.provides.append(f"@SONAME@libc.so.6({ver})")
        one("glibc-common", ("x86_64",), files=["/usr/bin/locale", "/usr/bin/iconv"])
        glibc.deps.append(("name", c["glibc-common"], None))
        one("coreutils", ("x86_64",), files=["/usr/bin/ls", "/usr/bin/cp", "/usr/bin/mv", "/bin/ls"])
        one("systemd", ("x86_64",), files=["/usr/bin/systemctl", "/usr/lib/systemd/systemd",
                                           "/usr/lib/systemd/systemd-sysv-install"])
        one("shadow-utils", ("x86_64",), files=["/usr/sbin/useradd", "/usr/sbin/groupadd"])
        one("pkgconfig", ("x86_64",), files=["/usr/bin/pkg-config"])
        one("chkconfig", ("x86_64",), files=["/sbin/chkconfig"])
        py = one("python", ("x86_64",), files=["/usr/bin/python", "/usr/bin/python2", "/usr/bin/python2.7"],
                 provides=["python(abi) = 2.7", "python2 = %V"], version=("2.7.5", "89.el7"))
        pyl = one("python-libs", ("x86_64",), files=["/usr/libexec/platform-python",
                                                     "/usr/lib64/python2.7/site.py"])
        pyl.soname = "libpython2.7.so.1.0"
        py.deps += [("name", pyl, None), ("soname", pyl, None), ("soname", glibc, None)]
        # rpmbuild adds this to anything owning files under python2.7/ even with AutoReqProv: no
        pyl.deps.append(("prov", py, "python(abi) = 2.7"))
        pl = one("perl", ("x86_64",), files=["/usr/bin/perl", "/usr/share/perl5/strict.pm"],
                 provides=["perl(:MODULE_COMPAT_5.16.3)", "perl(strict)", "perl(warnings)", "perl(Carp)",
                           "perl(Exporter)", "perl(vars)", "perl(constant)"], version=("5.16.3", "299.el7_9"))
        pl.deps += [("soname", glibc, None), ("file", bash, "/bin/sh")]
        for name in ("coreutils", "systemd", "shadow-utils", "pkgconfig", "chkconfig", "bash", "glibc-common"):
            c[name].deps.append(("soname", glibc, None))
        c["systemd"].deps += [("file", bash, "/bin/sh"), ("name", c["coreutils"], None)]
        one("grubby", ("x86_64",), files=["/usr/sbin/grubby", "/usr/sbin/new-kernel-pkg"])
        one("dracut", ("x86_64",), files=["/usr/bin/dracut", "/usr/lib/dracut/dracut-functions.sh"],
            version=("033", "572.el7"))
        one("linux-firmware", ("noarch",), files=[f"/usr/lib/firmware/fw{i}.bin" for i in range(40)],
            version=("20200421", "80.git78c0348.el7_9"))
        for name in ("grubby", "dracut"):
            c[name].deps += [("soname", glibc, None), ("file", bash, "/bin/sh")]
        self.libs.append(glibc)
        self.libs.append(pyl)

    def make_kernel(self):
        # Installonly: dnf and yum install a newer kernel beside the running one.
        s = self.src("kernel")
        s.versions = [("3.10.0", "1160.el7")]
        s.epoch = 0
        k = self.bt(s, "kernel", ("x86_64",), "kernel")
        k.files += ["/boot/vmlinuz-%V.x86_64", "/boot/System.map-%V.x86_64", "/lib/modules/%V.x86_64/modules.dep"]
        k.files += [f"/lib/modules/%V.x86_64/kernel/drivers/m{i}.ko.xz" for i in range(60)]
        c = self.core
        k.deps += [("post", c["bash"], "/bin/sh"), ("name_ge", c["dracut"], "033-360"),
                   ("name_ge", c["linux-firmware"], "20190429-72"), ("name_ge", c["grubby"], None),
                   ("name", c["coreutils"], None), ("name", c["systemd"], None)]
        tl = self.bt(s, "kernel-tools-libs", ("x86_64",), "lib")
        tl.soname = "libcpupower.so.0"
        tl.files += ["/usr/%LIB%/libcpupower.so.0", "/usr/%LIB%/libcpupower.so.0.0.1"]
        tl.deps += [("soname", c["glibc"], None), ("post", c["glibc"], "/sbin/ldconfig")]
        t = self.bt(s, "kernel-tools", ("x86_64",), "app")
        t.files += ["/usr/bin/cpupower", "/usr/bin/turbostat", "/usr/lib/systemd/system/cpupower.service"]
        t.deps += [("soname", tl, None), ("name_isa_eq", tl, None), ("soname", c["glibc"], None),
                   ("file", c["bash"], "/bin/sh")]
        self.core["kernel"] = k
        # updates carry six later kernels, as CentOS 7's updates repo does.
        s.versions += [("3.10.0", f"1160.{n}.el7") for n in (2, 6, 11, 15, 21, 25)]
        return s

    # --- the bulk -------------------------------------------------------------------------------
    def lib_deps(self, b, pool, lo, hi):
        b.deps.append(("soname", self.core["glibc"], None))
        if self.rnd.random() < 0.5:
            b.deps.append(("prov", self.core["glibc"], "@SONAME@libc.so.6(GLIBC_2.14)"))
        for t in self.pick(pool, self.rnd.randint(lo, hi)):
            b.deps.append(("soname", t, None))

    def make_lib_source(self, multilib, repo="base", pool=None, name=None):
        w = name or self.word()
        s = self.src(f"lib{w}", repo)
        arches = ("x86_64", "i686") if multilib else ("x86_64",)
        lib = self.bt(s, f"lib{w}", arches, "lib")
        lib.soname = f"lib{w}.so.{self.rnd.randint(0, 6)}"
        lib.files += [f"/usr/%LIB%/{lib.soname}", f"/usr/%LIB%/{lib.soname}.%V"]
        lib.files += [f"/usr/share/doc/lib{w}/{d}" for d in ("COPYING", "NEWS", "AUTHORS")[: self.rnd.randint(1, 3)]]
        base_pool = pool if pool is not None else (self.multilib if multilib else self.libs)
        self.lib_deps(lib, base_pool, 3, 10)
        lib.deps.append(("post", self.core["glibc"], "/sbin/ldconfig"))
        dev = self.bt(s, f"lib{w}-devel", arches, "devel")
        dev.provides.append(f"pkgconfig({w}) = %VER")
        dev.files += [f"/usr/%LIB%/lib{w}.so", f"/usr/%LIB%/pkgconfig/{w}.pc"]
        dev.files += [f"/usr/include/{w}/h{i}.h" for i in range(self.rnd.randint(2, 25))]
        dev.deps += [("name_isa_eq", lib, None), ("soname", lib, None), ("file", self.core["pkgconfig"],
                                                                          "/usr/bin/pkg-config")]
        for t in lib.deps:
            if t[0] == "soname" and t[1].src is not self.core["glibc"].src and self.rnd.random() < 0.4:
                for tb in t[1].src.bts:
                    if tb.kind == "devel":
                        dev.deps.append(("prov", tb, f"pkgconfig({tb.name[3:-6]})"))
        if self.rnd.random() < 0.3:
            tools = self.bt(s, f"lib{w}-tools", ("x86_64",), "app")
            tools.files += [f"/usr/bin/{w}-{x}" for x in ("info", "dump", "conv")[: self.rnd.randint(1, 3)]]
            tools.deps += [("soname", lib, None), ("name_isa_eq", lib, None)]
            self.lib_deps(tools, self.libs, 1, 4)
            self.apps.append(tools)
        if self.rnd.random() < 0.2:
            st = self.bt(s, f"lib{w}-static", ("x86_64",), "devel")
            st.files += [f"/usr/%LIB%/lib{w}.a"]
            st.deps += [("name_isa_eq", dev, None)]
        return s, lib

    def make_app_source(self, repo="base", name=None, libpool=None, simple=False):
        r = self.rnd
        w = name or self.word()
        libpool = libpool if libpool is not None else self.libs
        s = self.src(w, repo)
        app = self.bt(s, w, ("x86_64",), "app")
        app.files += [f"/usr/bin/{w}"] + [f"/usr/bin/{w}-{i}" for i in range(r.randint(0, 4))]
        app.files += [f"/etc/{w}/{w}.conf", f"/usr/share/man/man1/{w}.1.gz"]
        app.files += [f"/usr/share/{w}/f{i}" for i in range(r.randint(3, 60))]
        self.lib_deps(app, libpool, 4, 12)
        if r.random() < 0.5:
            app.deps.append(("file", self.core["bash"], "/bin/sh"))
        if r.random() < 0.2:
            app.deps.append(("post", self.core["systemd"], None))
            app.files.append(f"/usr/lib/systemd/system/{w}.service")
        if r.random() < 0.05:
            app.deps.append(("file", self.core["systemd"], "/usr/lib/systemd/systemd-sysv-install"))
        if r.random() < 0.05:
            app.deps.append(("file", self.core["python-libs"], "/usr/libexec/platform-python"))
        if r.random() < 0.1 and self.datas:
            d = self.pick(self.datas, 1)[0]
            app.deps.append(("file", d, d.files[0]))
        if simple:  # EPEL's included packages: includepkgs would hide -common, -libs siblings
            self.apps.append(app)
            return s, app
        if r.random() < 0.4:
            com = self.bt(s, f"{w}-common", ("noarch",), "common")
            com.files += [f"/usr/share/{w}/common/c{i}" for i in range(r.randint(2, 30))]
            app.deps.append(("name_eq", com, None))
        if r.random() < 0.3:
            doc = self.bt(s, f"{w}-doc", ("noarch",), "doc")
            doc.files += [f"/usr/share/doc/{w}/html/p{i}.html" for i in range(r.randint(5, 80))]
        if r.random() < 0.15:
            lib = self.bt(s, f"{w}-libs", ("x86_64",), "lib")
            lib.soname = f"lib{w}-core.so.{r.randint(0, 3)}"
            lib.files += [f"/usr/%LIB%/{lib.soname}"]
            self.lib_deps(lib, libpool, 1, 5)
            app.deps += [("soname", lib, None), ("name_isa_eq", lib, None)]
            if r.random() < 0.5:
                dev = self.bt(s, f"{w}-devel", ("x86_64",), "devel")
                dev.files += [f"/usr/include/{w}/api.h", f"/usr/%LIB%/lib{w}-core.so"]
                dev.deps += [("name_isa_eq", lib, None)]
        self.apps.append(app)
        return s, app

    def make_py_source(self, repo="base", name=None, pool=None):
        w = name or self.word()
        s = self.src(name or f"python-{w}", repo)
        b = self.bt(s, s.name, ("noarch",), "py")
        mod = w.replace("-", "_")
        if not name:
            b.provides.append(f"python2-{w} = %V")
        b.files += [f"/usr/lib/python2.7/site-packages/{mod}/m{i}.py{x}"
                    for i in range(self.rnd.randint(2, 25)) for x in ("", "c", "o")]
        b.deps.append(("prov", self.core["python"], "python(abi) = 2.7"))
        if self.rnd.random() < 0.3:
            b.deps.append(("file", self.core["python"], "/usr/bin/python"))
        for t in self.pick(pool if pool is not None else self.pys, self.rnd.randint(3, 10)):
            b.deps.append(("name", t, None))
        self.pys.append(b)
        return s, b

    def make_perl_source(self, repo="base"):
        a, c = self.word().capitalize(), self.word().capitalize()
        s = self.src(f"perl-{a}-{c}", repo)
        b = self.bt(s, s.name, ("noarch",), "perl")
        mods = [f"{a}::{c}"] + [f"{a}::{c}::{self.word().capitalize()}" for _ in range(self.rnd.randint(0, 3))]
        b.provides += [f"perl({m}) = %VER" for m in mods[:1]] + [f"perl({m})" for m in mods[1:]]
        b.files += [f"/usr/share/perl5/vendor_perl/{m.replace('::', '/')}.pm" for m in mods]
        b.files += [f"/usr/share/man/man3/{m}.3pm.gz" for m in mods]
        b.deps += [("prov", self.core["perl"], "perl(:MODULE_COMPAT_5.16.3)"),
                   ("prov", self.core["perl"], "perl(strict)"), ("prov", self.core["perl"], "perl(warnings)")]
        for t in self.pick(self.perls, self.rnd.randint(3, 10)):
            b.deps.append(("prov", t, t.provides[0].split(" ")[0]))
        self.perls.append(b)
        return s, b

    def make_data_source(self):
        w = self.word()
        s = self.src(f"{w}-data")
        b = self.bt(s, s.name, ("noarch",), "data")
        # The first file is what apps require: filelists.xml is the only place that lists it.
        b.files += [f"/usr/share/{w}/data/main.dat"] + [f"/usr/share/{w}/data/d{i}.dat" for i in
                                                         range(self.rnd.randint(5, 100))]
        self.datas.append(b)
        return s, b


def build_world(seed, scale):
    w = World(seed, scale)
    r = w.rnd
    n = lambda x: max(3, int(x * scale))  # noqa: E731
    w.make_core()
    for _ in range(n(500)):
        w.make_data_source()
    n_lib, n_multi = n(1800), n(450)
    for i in range(n_lib):
        s, lib = w.make_lib_source(multilib=i < n_multi)
        w.libs.append(lib)
        if i < n_multi:
            w.multilib.append(lib)
    w.multilib.insert(0, w.core["glibc"])
    for _ in range(n(2500)):
        w.make_py_source()
    for _ in range(n(2000)):
        w.make_perl_source()
    for _ in range(n(3500)):
        w.make_app_source()
    kernel_src = w.make_kernel()
    ovirt = {}
    for name in ("ovirt-engine", "ovirt-engine-setup", "vdsm", "ovirt-host", "ovirt-node-ng-image-update"):
        s, app = w.make_app_source(name=name)
        ovirt[name] = app
    base_srcs = [s for s in w.srcs if s.repo == "base"]

    # EPEL: the packages ovirt-release43 lets through (includepkgs), in an old and a new version,
    # with dependencies only on base and on each other; then thousands that nothing may use.
    epel = {}
    for name in ("libtommath", "libtomcrypt"):
        s, lib = w.make_lib_source(multilib=False, repo="epel", pool=w.libs[:50], name=name[3:])
        epel[name] = lib
    epel["libtomcrypt"].deps.append(("soname", epel["libtommath"], None))
    for name in ("python2-crypto", "python2-ecdsa", "python-ordereddict"):
        s, b = w.make_py_source(repo="epel", name=name, pool=w.pys[:200])
        epel[name] = b
    epel["python2-crypto"].deps.append(("soname", epel["libtomcrypt"], None))
    s, ans = w.make_py_source(repo="epel", name="ansible", pool=w.pys[:200])
    ans.deps += [("name", epel["python2-crypto"], None), ("name", epel["python2-ecdsa"], None)]
    doc = w.bt(s, "ansible-doc", ("noarch",), "doc")
    doc.files += [f"/usr/share/doc/ansible-doc/html/m{i}.html" for i in range(200)]
    doc.deps.append(("name_eq", ans, None))
    epel["ansible"] = ans
    s, nbd = w.make_app_source(repo="epel", name="nbdkit", libpool=w.libs[:100], simple=True)
    for plug in ("nbdkit-plugin-python2", "nbdkit-basic-plugins", "nbdkit-plugin-vddk"):
        b = w.bt(s, plug, ("x86_64",), "app")
        b.files += [f"/usr/%LIB%/nbdkit/plugins/{plug}.so"]
        b.deps += [("name_isa_eq", nbd, None), ("soname", w.core["glibc"], None)]
        if "python" in plug:
            b.deps.append(("soname", w.core["python-libs"], None))
    epel["nbdkit"] = nbd
    for name in ("facter", "hiera", "ruby-augeas", "ruby-shadow", "rubygem-rgen", "ovirt-guest-agent-common",
                 "golang"):
        s, app = w.make_app_source(repo="epel", name=name, libpool=w.libs[:100], simple=True)
        epel[name] = app
    epel["golang"].src.bts[0].deps.append(("name", w.core["bash"], None))
    s, pup = w.make_app_source(repo="epel", name="puppet", libpool=w.libs[:100], simple=True)
    pup.deps += [("name", epel["facter"], None), ("name", epel["hiera"], None), ("name", epel["ruby-augeas"], None),
                 ("name", epel["ruby-shadow"], None)]
    epel["puppet"] = pup
    s = w.src("epel-release", "epel")
    s.versions = [("7", "12")]
    s.epoch = 0
    rel = w.bt(s, "epel-release", ("noarch",), "core")
    rel.files += ["/etc/yum.repos.d/epel.repo", "/etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-7"]
    epel["epel-release"] = rel
    included_srcs = list(dict.fromkeys(b.src for b in epel.values()))  # ordered, for determinism
    for s in included_srcs:  # a newer version of each included package (installed ones get upgraded)
        v, rel_ = s.versions[0]
        s.versions.append((bump(v, 1), "1.el7"))
    epel_libs = list(w.libs)
    for _ in range(n(900)):
        s, lib = w.make_lib_source(multilib=False, repo="epel", pool=epel_libs)
        epel_libs.append(lib)
    for _ in range(n(1500)):
        w.make_py_source(repo="epel")
    for _ in range(n(800)):
        w.make_perl_source(repo="epel")
    for _ in range(n(1800)):
        w.make_app_source(repo="epel", libpool=epel_libs)
    return w, base_srcs, kernel_src, ovirt, epel, included_srcs


def bump(v, major):
    parts = v.split(".")
    if major:
        parts[0] = str(int(parts[0]) + 1) if parts[0].isdigit() else parts[0] + ".1"
    else:
        parts[-1] = str(int(parts[-1]) + 1) if parts[-1].isdigit() else parts[-1] + ".1"
    return ".".join(parts)


# ---------------------------------------------------------------------------------------------
# Concrete packages
# ---------------------------------------------------------------------------------------------

class Pkg:
    __slots__ = ("bt", "arch", "epoch", "version", "release", "repo", "gen", "requires", "post", "provides",
                 "obsoletes", "files", "providers")

    @property
    def name(self):
        return self.bt.name

    def nevra(self):
        e = f"{self.epoch}:" if self.epoch else ""
        return f"{self.name}-{e}{self.version}-{self.release}.{self.arch}"


ISA = {"x86_64": "(x86-64)", "i686": "(x86-32)"}


def provider_arch(target, req_arch, kind):
    if target.arches == ("noarch",):
        return "noarch"
    if req_arch == "i686" and "i686" in target.arches and kind in ("soname", "name_isa_eq", "prov_soname"):
        return "i686"
    return "x86_64"


def soname_dep(soname, arch):
    """libfoo.so.1 -> libfoo.so.1()(64bit); libc.so.6(GLIBC_2.14) -> libc.so.6(GLIBC_2.14)(64bit)."""
    if arch != "x86_64":
        return soname
    return soname + ("(64bit)" if "(" in soname else "()(64bit)")


def make_pkg(bt, arch, gen, repo, ver_of, extra_deps=()):
    """ver_of(src) -> (epoch, version, release) of the generation this package is built with."""
    p = Pkg()
    p.bt, p.arch, p.repo, p.gen = bt, arch, repo, gen
    p.epoch, p.version, p.release = ver_of(bt.src)
    V = evr(p.epoch, p.version, p.release)
    p.requires, p.post, p.providers = [], [], []
    lib = "lib64" if arch in ("x86_64", "noarch") else "lib"
    p.files = [f.replace("%LIB%", lib).replace("%V", f"{p.version}-{p.release}") for f in bt.files]
    p.provides = []
    for pr in bt.provides:
        pr = pr.replace("%VER", p.version).replace("%V", V)
        if pr.startswith("@SONAME@"):
            if arch == "noarch":
                continue
            pr = soname_dep(pr[8:], arch)
        p.provides.append(pr)
    if bt.soname and arch != "noarch":
        p.provides.append(soname_dep(bt.soname, arch))
    p.obsoletes = list(bt.obsoletes)
    for kind, t, text in list(bt.deps) + list(extra_deps):
        soname_like = kind == "soname" or (kind == "prov" and text.startswith("@SONAME@"))
        pa = provider_arch(t, arch, "soname" if soname_like else kind)
        if kind == "soname":
            if arch == "noarch":
                s = t.name
            else:
                s = soname_dep(t.soname, arch)
            p.requires.append(s)
        elif kind == "name":
            p.requires.append(t.name)
        elif kind == "name_isa_eq":
            isa = ISA.get(arch, "")
            p.requires.append(f"{t.name}{isa} = {V}")
        elif kind == "name_eq":
            p.requires.append(f"{t.name} = {V}")
        elif kind == "name_ge":
            te, tv, tr = ver_of(t.src)
            p.requires.append(f"{t.name} >= {text or tv}")
        elif kind == "name_ge_isa":
            p.requires.append(f"{t.name}{ISA[arch]} >= {evr(*ver_of(t.src))}")
        elif kind == "file":
            p.requires.append(text)
        elif kind == "prov":
            if text.startswith("@SONAME@"):
                if arch == "noarch":
                    continue
                p.requires.append(soname_dep(text[8:], arch))
            else:
                p.requires.append(text)
        elif kind == "post":
            p.post.append(text or t.name)
        p.providers.append((t.name, pa))
    return p


# ---------------------------------------------------------------------------------------------
# Spec rendering and building
# ---------------------------------------------------------------------------------------------

def spec_for(chunk_name, pkgs):
    # The payload (one README per package) is written by Python into SOURCES and copied by one
    # cp: a shell command per package costs a fork each, which dominates on a busy machine.
    out = [f"Name: {chunk_name}", "Version: 1", "Release: 1", "Summary: synthetic benchmark packages",
           "License: MIT", "AutoReqProv: no",
           "%global debug_package %{nil}", "%global __os_install_post %{nil}", "%global _build_id_links none",
           "%description", "Synthetic packages for ovirt-airgap's benchmark.", "%install",
           "cp -a %{_sourcedir}/tree/. %{buildroot}/"]
    for p in pkgs:
        out.append(f"%package -n {p.name}")
        if p.epoch:
            out.append(f"Epoch: {p.epoch}")
        out += [f"Version: {p.version}", f"Release: {p.release}", f"Summary: {p.name} (synthetic)",
                f"URL: https://example.org/{p.bt.src.name}"]
        if p.arch == "noarch":
            out.append("BuildArch: noarch")
        out += [f"Provides: {x}" for x in p.provides]
        out += [f"Requires: {x}" for x in p.requires]
        out += [f"Requires(post): {x}" for x in p.post]
        out += [f"Obsoletes: {x}" for x in p.obsoletes]
        out += [f"%description -n {p.name}", f"{p.name}: a synthetic {p.bt.kind} package.",
                f"%files -n {p.name}", f"/usr/share/doc/{p.name}.{p.arch}/README"]
        out += [f"%ghost {f}" for f in p.files]
    return "\n".join(out) + "\n"


def rpmbuild(job):
    """Builds one chunk and moves its RPMs into DEST/Packages; returns the chunk's name."""
    workdir, chunk, target, pkgs, dest = job
    top = os.path.join(workdir, chunk)
    for p in pkgs:
        d = os.path.join(top, "SOURCES", "tree", "usr", "share", "doc", f"{p.name}.{p.arch}")
        os.makedirs(d)
        with open(os.path.join(d, "README"), "w") as f:
            f.write(f"{p.nevra()}: synthetic package of ovirt-airgap's benchmark ({p.bt.src.name}).\n")
    path = os.path.join(top, chunk + ".spec")
    with open(path, "w") as f:
        f.write(spec_for(chunk, pkgs))
    cmd = ["rpmbuild", "-bb", "--quiet", "--target", target, "--define", f"_topdir {top}",
           "--define", "_binary_payload w1.gzdio", "--define", "_buildhost bench.example.org", path]
    # rpm 4.18 builds packages with OpenMP threads that spin while they wait: on a busy machine
    # that triples rpmbuild's CPU time. One thread per rpmbuild; chunks run in parallel instead.
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="passive")
    cmd[1:1] = ["--define", "_smp_build_nthreads 1"]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(f"rpmbuild {chunk} failed:\n{res.stdout[-3000:]}")
    for d, _, files in os.walk(os.path.join(top, "RPMS")):
        for f in files:
            shutil.move(os.path.join(d, f), os.path.join(dest, "Packages", f))
    shutil.rmtree(top)
    return chunk


def build_rpms(out, pkgs, jobs):
    """Builds real RPMs of pkgs into out/repos/<repo>/Packages: one rpmbuild per chunk of <= 1,500."""
    chunks = {}
    for p in pkgs:
        target = "i686" if p.arch == "i686" else "x86_64"
        chunks.setdefault((p.repo, target, p.gen), []).append(p)
    # Build trees are thousands of small files written once: tmpfs saves most of the kernel time.
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    workdir = tempfile.mkdtemp(prefix="bench-rpmbuild-", dir=shm or out)
    work = []
    for (repo, target, gen), part in sorted(chunks.items()):
        for i in range(0, len(part), 1500):
            name = f"bench-{repo}-{target}-g{gen}-{i // 1500}"
            work.append((workdir, name, target, part[i:i + 1500], os.path.join(out, "repos", repo)))
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
            list(ex.map(rpmbuild, work))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return len(work)


# createrepo_c's rule for the files primary.xml lists (the rest only in filelists.xml)
PRIMARY_FILE = re.compile(r"^(.*bin/.*|/etc/.*|/usr/lib/sendmail)$")
FLAGS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}


def dep_entry(text, pre=False):
    parts = text.split(" ")
    attrs = f'name="{xesc(parts[0])}"'
    if len(parts) == 3:
        e, vr = parts[2].split(":", 1) if ":" in parts[2] else ("0", parts[2])
        v, rel = vr.rsplit("-", 1) if "-" in vr else (vr, None)
        attrs += f' flags="{FLAGS[parts[1]]}" epoch="{e}" ver="{xesc(v)}"' + (f' rel="{xesc(rel)}"' if rel else "")
    if pre:
        attrs += ' pre="1"'
    return f"<rpm:entry {attrs}/>"


def write_repodata(rdir, pkgs):
    """Writes primary/filelists/other.xml for pkgs as createrepo_c would from their headers (rpm's
    automatic name = EVR and name(arch) = EVR provides included, rpmlib() requires left out, as
    createrepo_c does), then lets createrepo_c's modifyrepo_c record them in repomd.xml."""
    tmp = tempfile.mkdtemp(prefix="md-", dir=rdir)
    subprocess.run(["createrepo_c", "--quiet", "--no-database", tmp], check=True)
    n = len(pkgs)
    pri = [f'<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" '
           f'xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="{n}">\n']
    fil = [f'<?xml version="1.0" encoding="UTF-8"?>\n<filelists xmlns="http://linux.duke.edu/metadata/filelists" '
           f'packages="{n}">\n']
    oth = [f'<?xml version="1.0" encoding="UTF-8"?>\n<otherdata xmlns="http://linux.duke.edu/metadata/other" '
           f'packages="{n}">\n']
    for p in pkgs:
        V = evr(p.epoch, p.version, p.release)
        pkgid = hashlib.sha256(("synthetic " + p.nevra()).encode()).hexdigest()
        ver = f'<version epoch="{p.epoch}" ver="{xesc(p.version)}" rel="{xesc(p.release)}"/>'
        files = [f"/usr/share/doc/{p.name}.{p.arch}/README"] + p.files
        href = f"Packages/{p.name}-{p.version}-{p.release}.{p.arch}.rpm"
        size = 6000 + 40 * len(files) + 60 * (len(p.requires) + len(p.provides))
        prov = [f"{p.name} = {V}"] + ([f"{p.name}{ISA[p.arch]} = {V}"] if p.arch in ISA else []) + p.provides
        x = [f'<package type="rpm">\n  <name>{p.name}</name>\n  <arch>{p.arch}</arch>\n  {ver}\n'
             f'  <checksum type="sha256" pkgid="YES">{pkgid}</checksum>\n'
             f'  <summary>{p.name} (synthetic)</summary>\n'
             f'  <description>{p.name}: a synthetic {p.bt.kind} package.</description>\n'
             f'  <packager></packager>\n  <url>https://example.org/{p.bt.src.name}</url>\n'
             f'  <time file="1764000000" build="1764000000"/>\n'
             f'  <size package="{size}" installed="{60 * len(files)}" archive="{size - 1000}"/>\n'
             f'  <location href="{href}"/>\n  <format>\n    <rpm:license>MIT</rpm:license>\n'
             f'    <rpm:vendor></rpm:vendor>\n    <rpm:group>Unspecified</rpm:group>\n'
             f'    <rpm:buildhost>bench.example.org</rpm:buildhost>\n'
             f'    <rpm:sourcerpm>{p.bt.src.name}-{p.version}-{p.release}.src.rpm</rpm:sourcerpm>\n'
             f'    <rpm:header-range start="4504" end="{size - 1500}"/>\n    <rpm:provides>\n']
        x += [f"      {dep_entry(d)}\n" for d in dict.fromkeys(prov)]
        x.append("    </rpm:provides>\n")
        reqs = [d for d in dict.fromkeys(p.requires) if d not in p.post]
        if any(d.startswith("libc.so.6(GLIBC") for d in reqs):  # createrepo_c keeps only versioned libc
            reqs = [d for d in reqs if d not in ("libc.so.6", "libc.so.6()(64bit)")]
        if reqs or p.post:
            x.append("    <rpm:requires>\n")
            x += [f"      {dep_entry(d, pre=True)}\n" for d in dict.fromkeys(p.post)]
            x += [f"      {dep_entry(d)}\n" for d in reqs]
            x.append("    </rpm:requires>\n")
        if p.obsoletes:
            x.append("    <rpm:obsoletes>\n")
            x += [f"      {dep_entry(d)}\n" for d in p.obsoletes]
            x.append("    </rpm:obsoletes>\n")
        x += [f"    <file>{xesc(f)}</file>\n" for f in files if PRIMARY_FILE.match(f)]
        x.append("  </format>\n</package>\n")
        pri.append("".join(x))
        fil.append(f'<package pkgid="{pkgid}" name="{p.name}" arch="{p.arch}">\n  {ver}\n'
                   + "".join(f"  <file>{xesc(f)}</file>\n" for f in files) + "</package>\n")
        oth.append(f'<package pkgid="{pkgid}" name="{p.name}" arch="{p.arch}">\n  {ver}\n</package>\n')
    pri.append("</metadata>\n")
    fil.append("</filelists>\n")
    oth.append("</otherdata>\n")
    for mdtype, parts in (("primary", pri), ("filelists", fil), ("other", oth)):
        path = os.path.join(tmp, f"{mdtype}.xml")
        with open(path, "w") as f:
            f.writelines(parts)
        subprocess.run(["modifyrepo_c", "--mdtype", mdtype, "--compress-type", "gz", path,
                        os.path.join(tmp, "repodata")], check=True, stderr=subprocess.DEVNULL)
    os.rename(os.path.join(tmp, "repodata"), os.path.join(rdir, "repodata"))
    shutil.rmtree(tmp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--scale", type=float, default=1.0, help="1.0: >30,000 packages; 0.1 for a smoke run")
    ap.add_argument("--installed", type=int, default=1500, help="packages in the installed root")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--all-rpms", action="store_true",
                    help="build a real RPM for every package and index them with createrepo_c (slow)")
    a = ap.parse_args()
    t0 = time.time()
    out = os.path.abspath(a.out)
    stamp = stamp_for(__file__, a.scale, a.installed, a.seed, a.all_rpms)
    if is_fresh(out, stamp):
        print(f"bench data: reusing {out}")
        return 0
    if os.path.exists(out) and os.listdir(out):
        # Only ever replace what this generator made (a half-made dir has the marker, not the stamp).
        if not (os.path.exists(os.path.join(out, "stamp")) or os.path.exists(os.path.join(out, ".bench-data"))):
            print(f"gen_repos.py: {out} exists and is not benchmark data; choose another --out", file=sys.stderr)
            return 1
        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, ".bench-data"), "w").close()

    w, base_srcs, kernel_src, ovirt, epel, included_srcs = build_world(a.seed, a.scale)
    r = w.rnd

    # --- updates: ~20% of base sources get one to three newer builds --------------------------
    upd_gens = {}  # src -> number of update generations (versions[1:])
    renames = []  # (old Bt, new Bt)
    core_names = set(w.core)
    ovirt_srcs = {b.src for b in ovirt.values()}
    candidates = [s for s in base_srcs if s is not kernel_src and s.name not in ("python", "perl")]
    pythons_single = [s for s in candidates if len(s.bts) == 1 and s.bts[0].kind == "py"]
    for s in candidates:
        if r.random() >= 0.2 and s not in ovirt_srcs:
            continue
        v, rel = s.versions[0]
        g = r.choice((1, 1, 1, 2, 2, 3))
        if r.random() < 0.6:  # a rebuild with a fix: release grows
            head = rel.split(".el7")[0]
            vs = [(v, f"{head}.el7_9")] + [(v, f"{head}.el7_9.{i}") for i in range(1, g)]
        else:  # a rebase: version grows
            vs = [(bump(v, 0), f"{i}.el7") for i in range(1, g + 1)]
        s.versions += vs
        upd_gens[s] = g
    upd_gens[kernel_src] = len(kernel_src.versions) - 1

    # --- the installed root: a dependency-closed set of base (and included EPEL) packages ----
    first_ver = lambda s: (s.epoch, *s.versions[0])  # noqa: E731

    def first_packages(srcs, repo):
        """The first version of every binary of `srcs` in `repo`: as a list and by (name, arch)."""
        pkgs, by_key = [], {}
        for s in srcs:
            for b in s.bts:
                for arch in b.arches:
                    p = make_pkg(b, arch, 0, repo, first_ver)
                    pkgs.append(p)
                    by_key[(b.name, arch)] = p
        return pkgs, by_key

    base_pkgs, by_key_base = first_packages(base_srcs, "base")
    epel_pkgs, epel_old = first_packages(included_srcs, "epel")
    upd_pkgs = []
    installable = dict(by_key_base)
    installable.update(epel_old)

    installed = {}

    def install(key):
        stack = [key]
        while stack:
            k = stack.pop()
            if k in installed:
                continue
            p = installable[k]
            installed[k] = p
            for pk in p.providers:
                if pk not in installable:
                    raise RuntimeError(f"generator bug: {p.nevra()} needs {pk}, which no installable package is")
                stack.append(pk)

    for name in core_names:
        for arch in w.core[name].arches:
            if (name, arch) in installable and name not in ("kernel",):
                install((name, arch))
    install(("kernel", "x86_64"))
    for name in ("kernel-tools", "ovirt-engine", "ovirt-engine-setup"):
        install((name, "x86_64"))
    for name in ("ansible", "python2-crypto", "nbdkit", "nbdkit-plugin-python2", "nbdkit-basic-plugins", "puppet",
                 "epel-release", "python-ordereddict"):
        install((name, "noarch") if (name, "noarch") in installable else (name, "x86_64"))
    # A few i686 libraries (with their i686 dependencies), as 32-bit software on EL7 brings in.
    for lib in w.pick(w.multilib[1:], max(2, a.installed // 300), skew=3.0):
        install((lib.name, "i686"))
    roots = [p for p in base_pkgs if p.bt.kind in ("app", "py", "perl", "lib", "common") and p.arch != "i686"]
    r.shuffle(roots)
    for p in roots:
        if len(installed) >= a.installed:
            break
        install((p.name, p.arch))

    # --- renames (Obsoletes) of a few installed single-package python sources -----------------
    inst_srcs = {p.bt.src for p in installed.values()}
    for s in [s for s in pythons_single if s in inst_srcs and s not in upd_gens][: max(2, a.installed // 150)]:
        old = s.bts[0]
        ns = Src("python2-" + old.name[len("python-"):], "updates", s.epoch, bump(s.versions[0][0], 0), "1.el7")
        nb = Bt(ns.name, ("noarch",), "py", ns)
        ns.bts.append(nb)
        V = evr(ns.epoch, *ns.versions[0])
        nb.obsoletes.append(f"{old.name} < {V}")
        nb.provides += [f"{old.name} = {V}"]
        nb.files = [f.replace("site-packages/", "site-packages/n_") for f in old.files]
        nb.deps = list(old.deps)
        renames.append((old, nb))
        w.srcs.append(ns)
        upd_pkgs.append(make_pkg(nb, "noarch", 1, "updates", first_ver))

    # --- updated builds; a few pull in a library that nothing installed has yet ----------------
    not_installed_libs = [b for b in w.libs if (b.name, "x86_64") not in installed and b.src.repo == "base"
                          and len(b.arches) == 1]
    new_dep_count = 0
    for s, g in upd_gens.items():
        extra = []
        if not_installed_libs and r.random() < 0.06 and any(
                (b.name, "x86_64") in installed for b in s.bts):
            extra = [("soname", r.choice(not_installed_libs), None)]
            new_dep_count += 1
        for gi in range(1, g + 1):
            ver_of = lambda t, gi=gi: (t.epoch, *t.versions[min(gi, upd_gens.get(t, 0))])  # noqa: E731
            for b in s.bts:
                for arch in b.arches:
                    # the new dependency goes to what is installed, or nothing would pull it in
                    e = list(extra) if (b.name, arch) in installed and arch == "x86_64" else []
                    if arch == "x86_64":
                        # Updates built together require each other's new builds, as rebuilt
                        # stacks do: "libfoo(x86-64) >= 1.2-3.el7_9".
                        e += [("name_ge_isa", t, None) for k, t, _ in b.deps if k == "soname"
                              and t.src in upd_gens and "x86_64" in t.arches and r.random() < 0.3]
                    upd_pkgs.append(make_pkg(b, arch, gi, "updates", ver_of, e))

    # --- EPEL: newer builds of the included packages, newer copies of some installed base
    # packages (which includepkgs must keep out), and the bulk -----------------------------------
    for s in included_srcs:
        for b in s.bts:
            for arch in b.arches:
                epel_pkgs.append(make_pkg(b, arch, 1, "epel", lambda t: (t.epoch, *t.versions[-1])))
    shadow = [p for p in installed.values() if p.repo == "base" and len(p.bt.src.bts) == 1
              and p.bt.kind in ("py", "perl", "lib") and p.arch != "i686" and p.bt.name not in core_names]
    for p in w.pick(shadow, max(5, a.installed // 25), skew=1.0):
        s = p.bt.src
        e_ver = lambda t, s=s: (t.epoch, bump(t.versions[-1][0], 1), "1.el7") if t is s else (  # noqa: E731
            t.epoch, *t.versions[0])
        epel_pkgs.append(make_pkg(p.bt, p.arch, 9, "epel", e_ver))
    for s in w.srcs:
        if s.repo == "epel" and s not in included_srcs:
            for b in s.bts:
                for arch in b.arches:
                    epel_pkgs.append(make_pkg(b, arch, 0, "epel", first_ver))
    print(f"bench data: model of {len(base_pkgs)} base, {len(upd_pkgs)} updates, {len(epel_pkgs)} epel packages, "
          f"{len(installed)} installed ({time.time() - t0:.1f} s)", flush=True)

    # --- the installed root's packages first: it needs real RPM files ------------------------
    # the second kernel (and its tools) from updates: two kernels installed, as on a real host
    kern2 = [p for p in upd_pkgs if p.name in ("kernel", "kernel-tools", "kernel-tools-libs") and p.gen == 1]
    inst_list = sorted(installed.values(), key=lambda p: p.nevra())
    inst_pkgs = [p for p in inst_list if not (p.name in ("kernel-tools", "kernel-tools-libs") and p.gen == 0)]
    inst_pkgs += kern2
    everything = base_pkgs + upd_pkgs + epel_pkgs
    t1 = time.time()
    for repo in ("base", "updates", "epel"):
        os.makedirs(os.path.join(out, "repos", repo, "Packages"))
    n_runs = build_rpms(out, everything if a.all_rpms else inst_pkgs, a.jobs)
    print(f"bench data: {n_runs} rpmbuild runs in {time.time() - t1:.1f} s (load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus)", flush=True)

    t2 = time.time()
    for repo in ("base", "updates", "epel"):
        rdir = os.path.join(out, "repos", repo)
        if a.all_rpms:
            subprocess.run(["createrepo_c", "--quiet", "--no-database", "--workers", str(a.jobs), rdir], check=True)
        else:
            write_repodata(rdir, [p for p in everything if p.repo == repo])
    print(f"bench data: repodata in {time.time() - t2:.1f} s", flush=True)

    # --- the installed root: the same RPM files, into a real rpmdb -----------------------------
    t3 = time.time()
    root = os.path.join(out, "root")
    os.makedirs(os.path.join(root, "var/lib/rpm"))
    os.makedirs(os.path.join(root, "root"))
    os.makedirs(os.path.join(root, "etc"))
    # Debian's rpm keeps its database in ~/.rpmdb; dnf --installroot follows that inside the root.
    os.symlink("../var/lib/rpm", os.path.join(root, "root/.rpmdb"))
    with open(os.path.join(root, "etc/os-release"), "w") as f:
        f.write('NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\n'
                'PRETTY_NAME="CentOS Linux 7 (Core)"\n')
    files = []
    for p in inst_pkgs:
        fname = f"{p.name}-{p.version}-{p.release}.{p.arch}.rpm"
        files.append(os.path.join(out, "repos", p.repo, "Packages", fname))
    # (Debian's rpm warns that it should not install packages; into this private root it must.)
    subprocess.run(["rpm", "--root", root, "--define", "_dbpath /var/lib/rpm", "-i", "--justdb", "--nodeps",
                    "--noscripts", "--notriggers", "--replacefiles", "--ignoresize", "--nosignature", "--nodigest"]
                   + files, check=True, stderr=subprocess.DEVNULL)
    print(f"bench data: rpmdb of {len(files)} packages in {time.time() - t3:.1f} s", flush=True)

    # --- manifest, dnf's reposdir and config ---------------------------------------------------
    repos = [("bench-base", "Synthetic CentOS 7 base", "base", None),
             ("bench-updates", "Synthetic CentOS 7 updates", "updates", None),
             ("bench-epel", "Synthetic EPEL 7 (limited as ovirt-release43 does)", "epel", EPEL_INCLUDE)]
    with open(os.path.join(out, "manifest.yaml"), "w") as f:
        f.write("# Generated by scripts/bench/gen_repos.py: the benchmark's synthetic world.\n")
        f.write('name: bench-synthetic\nreleasever: "7"\nbasearch: x86_64\nrepos:\n')
        for rid, title, d, inc in repos:
            f.write(f"  - id: {rid}\n    name: {title}\n    baseurl: file://{out}/repos/{d}\n    gpgcheck: 0\n")
            if inc:
                f.write(f"    includepkgs: [{', '.join(inc)}]\n")
        f.write("roles:\n  engine: {roots: [ovirt-engine, ovirt-engine-setup]}\n"
                "  host:   {roots: [ovirt-host, vdsm]}\n  node:   {roots: [ovirt-node-ng-image-update]}\n")
    os.makedirs(os.path.join(out, "yum.repos.d"))
    with open(os.path.join(out, "yum.repos.d", "bench.repo"), "w") as f:
        for rid, title, d, inc in repos:
            f.write(f"[{rid}]\nname={title}\nbaseurl=file://{out}/repos/{d}\nenabled=1\ngpgcheck=0\n")
            if inc:
                f.write(f"includepkgs={','.join(inc)}\n")
            f.write("\n")
    with open(os.path.join(out, "dnf.conf"), "w") as f:
        f.write("[main]\n# yum's behaviour on EL7, spelled out so the host's dnf.conf does not matter\n"
                "gpgcheck=0\ninstallonly_limit=3\nbest=True\nobsoletes=True\nclean_requirements_on_remove=True\n"
                "skip_if_unavailable=False\ninstall_weak_deps=False\nmetadata_expire=-1\n")

    def du(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)

    lines = [f"generated in {time.time() - t0:.0f} s (scale {a.scale}, seed {a.seed})"]
    for repo, pk in (("base", base_pkgs), ("updates", upd_pkgs), ("epel", epel_pkgs)):
        md = os.path.join(out, "repos", repo, "repodata")
        sizes = {f.split("-", 1)[1]: os.path.getsize(os.path.join(md, f)) for f in os.listdir(md) if "-" in f}
        arches = {}
        for p in pk:
            arches[p.arch] = arches.get(p.arch, 0) + 1
        lines.append(f"repo {repo}: {len(pk)} packages ({', '.join(f'{k} {v}' for k, v in sorted(arches.items()))}), "
                     f"rpms {du(os.path.join(out, 'repos', repo, 'Packages')) / 1e6:.0f} MB, "
                     + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sorted(sizes.items())))
    total = len(base_pkgs) + len(upd_pkgs) + len(epel_pkgs)
    nreq = [len(p.requires) + len(p.post) for p in base_pkgs + upd_pkgs + epel_pkgs]
    nfiles = sum(len(p.files) + 1 for p in base_pkgs + upd_pkgs + epel_pkgs)
    lines.append(f"total: {total} packages, {nfiles} files, requires per package: mean "
                 f"{sum(nreq) / len(nreq):.1f}, max {max(nreq)}")
    lines.append(f"installed root: {len(files)} packages ({sum(1 for p in inst_list if p.arch == 'i686')} i686, "
                 f"2 kernels); updates of installed sources with a new dependency: {new_dep_count}; "
                 f"renames (Obsoletes): {len(renames)}; epel copies of installed base packages: "
                 f"{max(5, a.installed // 25)}")
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join("bench data: " + x for x in lines))
    mark(out, stamp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
