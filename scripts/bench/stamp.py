"""The stamp every bench data generator leaves in its output dir: a hash of the generator's own
source and its arguments. An unchanged stamp means the data is reused as it is."""
import hashlib
import os


def stamp_for(script, *args):
    """The stamp of `script` (a generator's __file__) run with `args`."""
    me = open(script, "rb").read()
    return hashlib.sha256(me + "".join(f"|{a}" for a in args).encode()).hexdigest()


def is_fresh(out, stamp):
    """Does OUT hold data made by exactly this generator and these arguments?"""
    path = os.path.join(out, "stamp")
    return os.path.exists(path) and open(path).read().strip() == stamp


def mark(out, stamp):
    """Record, last, that OUT is complete: a half-made dir never carries the stamp."""
    with open(os.path.join(out, "stamp"), "w") as f:
        f.write(stamp + "\n")
