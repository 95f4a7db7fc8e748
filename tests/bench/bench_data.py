"""Readers of the bench's raw results, shared by report.py and
report_clients.py."""
import csv
import os


def read_tsv(path):
    """The rows of a tab-separated file with a header, [] if it is absent."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def read_env(path):
    """A file of KEY<tab>VALUE lines as a dict, {} if it is absent."""
    env = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("\t")
                env[k] = v
    return env


def fnum(v):
    """v as a float, None if it is not a number."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def size_str(n):
    """A byte count in the largest binary unit that divides it."""
    n = int(n)
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} B"
