"""Shared helpers for the text-engine benchmarks: paths, the dev set, building our examples."""
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEVSET = os.path.join(ROOT, "crates", "kimochi-text", "devset", "utterances.tsv")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def devset():
    rows = []
    with open(DEVSET, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            id_, split, polarity, kimochi, text = line.rstrip("\n").split("\t")
            rows.append({"id": int(id_), "split": split, "polarity": polarity,
                         "kimochi": set(filter(None, kimochi.split(","))), "text": text})
    return rows


def example(name):
    """Builds `cargo --example name` in release and returns the binary's path."""
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "kimochi-text", "--example", name],
                   cwd=ROOT, check=True, stdout=sys.stderr)
    return os.path.join(TARGET, "release", "examples", name)


def mecab_args():
    import ipadic
    return ipadic.MECAB_ARGS
