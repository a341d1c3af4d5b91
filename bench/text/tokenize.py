#!/usr/bin/env python3
"""Tokenisation throughput: kimochi-text's analyzer vs MeCab through fugashi, same IPADIC,
same text (the dev set's 335 utterances repeated), one core each. Also the agreement of the
two segmentations (same token boundaries).

    bench/text/.venv/bin/python bench/text/tokenize.py [repeats=100]

Times are CPU time of the working thread (ours from /proc/thread-self/schedstat, fugashi's
from time.process_time()), so the comparison holds on a busy shared machine; wall time is
printed beside it. Our figure excludes the one-off dictionary load (printed separately); fugashi's excludes
loading MeCab. Both loops do the same work per line: segment and expose each token's surface
and features (fugashi: `tagger(line)` builds node objects; `tagger.parse(line)` only the
MeCab output string, also shown).
"""
import json
import os
import subprocess
import sys
import tempfile
import time

from common import devset, example, mecab_args


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    unique = [row["text"] for row in devset()]
    lines = unique * repeats
    chars = sum(len(line) for line in lines)
    binary = example("tokenize")

    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        corpus = f.name
    try:
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            with open(corpus, encoding="utf-8") as stdin:
                out = subprocess.run([binary, "--bench"], stdin=stdin, capture_output=True, text=True, check=True)
            wall = time.perf_counter() - started
            runs.append((json.loads(out.stdout), wall))
        best = min(runs, key=lambda r: r[0]["cpu_seconds"])
        ours, wall = best
        load = wall - ours["seconds"]
    finally:
        os.unlink(corpus)

    import fugashi
    tagger = fugashi.GenericTagger(mecab_args())
    fugashi_nodes = []
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        tokens = 0
        for line in lines:
            for word in tagger(line):
                tokens += 1
                _ = word.feature
        fugashi_nodes.append((time.process_time() - cpu, time.perf_counter() - started, tokens))
    nodes_seconds, nodes_wall, nodes_tokens = min(fugashi_nodes)
    parse_runs = []
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        for line in lines:
            tagger.parse(line)
        parse_runs.append((time.process_time() - cpu, time.perf_counter() - started))
    parse_seconds, parse_wall = min(parse_runs)

    # Agreement on the unique lines: same sequence of surfaces.
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("\n".join(unique) + "\n")
        path = f.name
    try:
        with open(path, encoding="utf-8") as stdin:
            out = subprocess.run([binary], stdin=stdin, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(path)
    ours_segmented, current = [], []
    for row in out.splitlines():
        if row == "EOS":
            ours_segmented.append(current)
            current = []
        else:
            current.append(row.split("\t")[0])
    same_lines = 0
    same_tokens = total_tokens = 0
    for line, mine in zip(unique, ours_segmented):
        theirs = [w.surface for w in tagger(line)]
        same_lines += mine == theirs
        total_tokens += len(theirs)
        same_tokens += len(set(boundaries(mine)) & set(boundaries(theirs)))

    print(f"corpus: {len(lines)} lines, {chars} chars ({len(unique)} unique utterances x {repeats})")
    print("per CPU second of the one thread doing the work (wall time in brackets: the machine is shared)")
    print(f"{'system':34} {'tokens':>9} {'CPU s':>7} {'(wall s)':>9} {'tokens/s':>11} {'chars/s':>11}")
    rows = [
        ("kimochi-text (Rust, in process)", ours["tokens"], ours["cpu_seconds"], ours["seconds"]),
        ("MeCab via fugashi, tagger(line)", nodes_tokens, nodes_seconds, nodes_wall),
        ("MeCab via fugashi, parse(line)", nodes_tokens, parse_seconds, parse_wall),
    ]
    for name, tokens, seconds, wall_s in rows:
        print(f"{name:34} {tokens:>9} {seconds:>7.3f} {'(' + format(wall_s, '.3f') + ')':>9} "
              f"{tokens / seconds:>11.0f} {chars / seconds:>11.0f}")
    print(f"kimochi-text dictionary load (once per process): {load:.2f} s")
    print(f"segmentation agreement with MeCab: {same_lines}/{len(unique)} utterances identical, "
          f"{same_tokens}/{total_tokens} tokens with the same boundaries")


def boundaries(surfaces):
    out, at = [], 0
    for s in surfaces:
        out.append((at, at + len(s)))
        at += len(s)
    return out


if __name__ == "__main__":
    main()
