#!/usr/bin/env bash
# Rewrites the rpmdb of ROOT (sqlite, /var/lib/rpm) the way EL7's rpm 4.11 lays it out in
# Berkeley DB, so that tests read a CentOS 7 rpmdb without a CentOS 7 machine:
#
#   tests/el7/make-bdb-rpmdb.sh ROOT
#
# - Packages: a hash keyed by the header's instance number (native uint32), the header blob
#   as value, key 0 holding the highest instance in use;
# - the indexes rpm 4.11 keeps (Name, Basenames, Group, Requirename, Providename, Conflictname,
#   Obsoletename, Triggername, Dirnames, Installtid, Sigmd5, Sha1header): btrees keyed by the
#   tag's value, each value a run of (instance, index in the tag) native uint32 pairs.
# Headers are read with python3-rpm (librpm), the files written with Perl's DB_File
# (libdb 5.3, the Berkeley DB EL7 uses). ROOT's rpmdb.sqlite is removed.
set -euo pipefail
root=$(realpath "${1:?usage: make-bdb-rpmdb.sh ROOT}")
dbdir="$root/var/lib/rpm"
[ -f "$dbdir/rpmdb.sqlite" ] || { echo "make-bdb-rpmdb.sh: no $dbdir/rpmdb.sqlite" >&2; exit 1; }
records=$(mktemp)
trap 'rm -f "$records"' EXIT

# Debian's python3 carries the rpm module; a python3 earlier in PATH may not.
/usr/bin/python3 - "$root" >"$records" <<'EOF'
import struct, sys
import rpm

rpm.addMacro("_dbpath", "/var/lib/rpm")
ts = rpm.TransactionSet(sys.argv[1])
ts.setVSFlags(rpm._RPMVSF_NOSIGNATURES | rpm._RPMVSF_NODIGESTS)
indexes = {}  # (db, key bytes) -> value bytes

def add(db, key, instance, index):
    if isinstance(key, str):
        key = key.encode()
    if key:
        k = (db, key)
        indexes[k] = indexes.get(k, b"") + struct.pack("=II", instance, index)

def values(h, tag):
    v = h[tag]
    if v is None:
        return []
    return v if isinstance(v, list) else [v]

highest = 0
mi = ts.dbMatch()
for h in mi:
    inst = mi.instance()
    highest = max(highest, inst)
    print("Packages", struct.pack("=I", inst).hex(), h.unload().hex(), sep="\t")
    add("Name", h["name"], inst, 0)
    add("Group", h["group"] or "", inst, 0)
    for db, tag in (("Requirename", "requirename"), ("Providename", "providename"),
                    ("Conflictname", "conflictname"), ("Obsoletename", "obsoletename"),
                    ("Triggername", "triggername"), ("Basenames", "basenames"),
                    ("Dirnames", "dirnames")):
        for i, v in enumerate(values(h, tag)):
            add(db, v, inst, i)
    if h["installtid"]:
        add("Installtid", struct.pack("=I", values(h, "installtid")[0]), inst, 0)
    if h["sigmd5"]:
        add("Sigmd5", h["sigmd5"], inst, 0)
    add("Sha1header", h["sha1header"] or "", inst, 0)
print("Packages", struct.pack("=I", 0).hex(), struct.pack("=I", highest).hex(), sep="\t")
for (db, key), value in sorted(indexes.items()):
    print(db, key.hex(), value.hex(), sep="\t")
for db in ("Name", "Basenames", "Group", "Requirename", "Providename", "Conflictname",
           "Obsoletename", "Triggername", "Dirnames", "Installtid", "Sigmd5", "Sha1header"):
    print(db, sep="\t")  # a line with no key: the file exists even when no package fills it
EOF

rm -f "$dbdir"/rpmdb.sqlite*
perl -MDB_File -MFcntl -e '
    my $dir = shift;
    my %db;
    while (my $line = <STDIN>) {
        chomp $line;
        my ($name, $key, $value) = split /\t/, $line;
        unless ($db{$name}) {
            my %h;
            tie %h, "DB_File", "$dir/$name", O_RDWR | O_CREAT, 0644, $name eq "Packages" ? $DB_HASH : $DB_BTREE
                or die "make-bdb-rpmdb.sh: $dir/$name: $!\n";
            $db{$name} = \%h;
        }
        $db{$name}{pack("H*", $key)} = pack("H*", $value) if defined $key;
    }
    untie %$_ for values %db;
' "$dbdir" <"$records"
