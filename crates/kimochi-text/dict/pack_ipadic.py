#!/usr/bin/env python3
"""Packs the IPADIC source shipped by Debian's `mecab-ipadic` package into the compact,
gzip-compressed files that kimochi-text embeds (dict/ipadic/). Standard library only.

    apt-get install -y mecab-ipadic
    python3 crates/kimochi-text/dict/pack_ipadic.py [/usr/share/mecab/dic/ipadic]

Output is deterministic (sorted entries, gzip mtime 0), so re-running it on the same source
gives byte-identical files. Readings and pronunciations are dropped: the engine needs the
surface, context id, cost, part of speech, conjugation and base form only.
"""
import glob
import gzip
import os
import struct
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/mecab/dic/ipadic"
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ipadic")
if not os.path.isfile(os.path.join(src, "matrix.def")):
    sys.exit(f"no IPADIC source at {src}: run `apt-get install -y mecab-ipadic` first")
os.makedirs(out, exist_ok=True)


def gz_write(path, data):
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
            f.write(data)


feats = {}
rows = []
for path in sorted(glob.glob(os.path.join(src, "*.csv"))):
    with open(path, encoding="euc-jp") as f:
        for line in f:
            p = line.rstrip("\n").split(",")
            surface, left, right, cost = p[0], int(p[1]), int(p[2]), int(p[3])
            # IPADIC uses one context id for both sides; the format relies on it.
            assert left == right, (path, line)
            feat = ",".join(p[4:10])
            rows.append((surface, left, cost, feat, p[10]))
for feat in sorted({r[3] for r in rows}):
    feats[feat] = len(feats)
rows.sort(key=lambda r: (r[0].encode("utf-8"), r[1], r[2], r[3], r[4]))

lines = []
for surface, ctx, cost, feat, base in rows:
    # Base form as an edit of the surface: "" = same, "<n><suffix>" = drop n chars then append
    # suffix, "=<base>" = unrelated spelling.
    if base == surface:
        b = ""
    else:
        k = 0
        while k < min(len(surface), len(base)) and surface[k] == base[k]:
            k += 1
        b = f"{len(surface) - k}{base[k:]}" if k > 0 else "=" + base
    lines.append(f"{surface}\t{ctx}\t{cost}\t{feats[feat]}\t{b}")
gz_write(os.path.join(out, "lex.tsv.gz"), ("\n".join(lines) + "\n").encode("utf-8"))
with open(os.path.join(out, "feats.tsv"), "w", encoding="utf-8") as f:
    for feat in feats:
        f.write(feat + "\n")

with open(os.path.join(src, "matrix.def")) as f:
    n_left, n_right = map(int, f.readline().split())
    vals = [0] * (n_left * n_right)
    for line in f:
        if line.strip():
            a, b, c = map(int, line.split())
            vals[a * n_right + b] = c
# Rows are similar to the row before them: storing the difference compresses 25% better.
delta = []
for a in range(n_left):
    for b in range(n_right):
        prev = vals[(a - 1) * n_right + b] if a > 0 else 0
        delta.append((vals[a * n_right + b] - prev) & 0xFFFF)
gz_write(
    os.path.join(out, "matrix.bin.gz"),
    struct.pack("<HH", n_left, n_right) + struct.pack(f"<{len(delta)}H", *delta),
)

for name in ("char.def", "unk.def"):
    with open(os.path.join(src, name), encoding="euc-jp") as f:
        text = f.read()
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        f.write(text)
print(f"{len(rows)} entries, {len(feats)} feature sets, matrix {n_left}x{n_right} -> {out}")
