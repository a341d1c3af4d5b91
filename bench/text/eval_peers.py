#!/usr/bin/env python3
"""Polarity accuracy of kimochi-text, oseti and pymlask on the kimochi dev set, side by side.

    python3 -m venv bench/text/.venv
    bench/text/.venv/bin/pip install fugashi ipadic mecab-python3 oseti pymlask
    bench/text/.venv/bin/python bench/text/eval_peers.py

Both peers run on MeCab with the same IPADIC (the `ipadic` package). Their outputs are mapped
to our four classes as generously as they allow:
- oseti: positive and negative words found across sentences — both: mixed, one: that side,
  none: neutral.
- pymlask: no emotion: neutral; POSITIVE/NEGATIVE orientation: that side; NEUTRAL orientation
  with both positive (yorokobi, suki, yasuragi) and negative (iya, aware, ikari, kowa, haji)
  emotions: mixed, otherwise neutral.
Also printed: accuracy on the utterances labelled positive or negative only (the peers' home
ground), and our per-kind F1 (the peers do not tag kimochi kinds).
"""
import json
import subprocess

from common import DEVSET, devset, example, mecab_args

POSITIVE_EMOTIONS = {"yorokobi", "suki", "yasuragi"}
NEGATIVE_EMOTIONS = {"iya", "aware", "ikari", "kowa", "haji"}
KINDS = ["expectation", "satisfaction", "dissatisfaction", "anxiety", "anger", "gratitude",
         "churn_intent", "advocacy", "gap"]


def ours(rows):
    binary = example("analyze")
    with open(DEVSET, encoding="utf-8") as f:
        out = subprocess.run([binary, "--tsv"], stdin=f, capture_output=True, text=True, check=True).stdout
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == len(rows)
    return [r["polarity"] for r in results], [set(r["kimochi"]) for r in results]


def oseti_polarities(rows):
    import oseti
    analyzer = oseti.Analyzer(mecab_args=mecab_args())
    out = []
    for row in rows:
        details = analyzer.analyze_detail(row["text"])
        pos = sum(len(d["positive"]) for d in details)
        neg = sum(len(d["negative"]) for d in details)
        out.append("mixed" if pos and neg else "positive" if pos else "negative" if neg else "neutral")
    return out


def mlask_polarities(rows):
    from mlask import MLAsk
    analyzer = MLAsk(mecab_args())
    out = []
    for row in rows:
        result = analyzer.analyze(row["text"])
        emotions = set(result["emotion"] or {})
        orientation = result.get("orientation")
        if not emotions:
            out.append("neutral")
        elif orientation == "POSITIVE":
            out.append("positive")
        elif orientation == "NEGATIVE":
            out.append("negative")
        elif emotions & POSITIVE_EMOTIONS and emotions & NEGATIVE_EMOTIONS:
            out.append("mixed")
        else:
            out.append("neutral")
    return out


def accuracy(rows, predicted, split, polar_only=False):
    pairs = [(r, p) for r, p in zip(rows, predicted) if split in ("all", r["split"])
             and (not polar_only or r["polarity"] in ("positive", "negative"))]
    return sum(r["polarity"] == p for r, p in pairs) / len(pairs), len(pairs)


def main():
    rows = devset()
    our_polarity, our_kinds = ours(rows)
    systems = [("kimochi-text", our_polarity), ("oseti", oseti_polarities(rows)),
               ("pymlask", mlask_polarities(rows))]
    print("Polarity accuracy (4 classes: positive/negative/neutral/mixed)")
    print(f"{'split':10} {'n':>4} " + " ".join(f"{name:>13}" for name, _ in systems))
    for split in ("dev", "heldout", "all"):
        n = accuracy(rows, our_polarity, split)[1]
        print(f"{split:10} {n:>4} " + " ".join(f"{accuracy(rows, p, split)[0]:>13.3f}" for _, p in systems))
    print("\nPolarity accuracy on utterances labelled positive or negative only")
    for split in ("dev", "heldout", "all"):
        n = accuracy(rows, our_polarity, split, True)[1]
        print(f"{split:10} {n:>4} " + " ".join(f"{accuracy(rows, p, split, True)[0]:>13.3f}" for _, p in systems))
    print("\nkimochi-text per-kind F1 (peers do not tag kinds)")
    for split in ("dev", "heldout"):
        f1s = []
        for kind in KINDS:
            tp = fp = fn = 0
            for row, kinds in zip(rows, our_kinds):
                if row["split"] != split:
                    continue
                gold, pred = kind in row["kimochi"], kind in kinds
                tp += gold and pred
                fp += pred and not gold
                fn += gold and not pred
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn) if tp + fn else 0.0
            f1s.append(2 * p * r / (p + r) if p + r else 0.0)
        print(f"{split:10} " + " ".join(f"{k}={f:.2f}" for k, f in zip(KINDS, f1s))
              + f"  macro-F1={sum(f1s) / len(f1s):.3f}")


if __name__ == "__main__":
    main()
