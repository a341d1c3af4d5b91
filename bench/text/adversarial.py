#!/usr/bin/env python3
"""Bad input does not slow the engine: thirteen kinds of hostile text, each at or past the 16 KiB
bound (repeated characters, random kana and kanji, Zalgo marks, zero-width characters between
every letter, HTML/script, emoji, digits, long-vowel runs, random code points, thousands of tiny sentences), analysed in a
loop by the release `analyze` example; prints analyses per CPU second and the time per KiB.

    bench/text/.venv/bin/python bench/text/adversarial.py   (any python3 works)
"""
import json
import os
import random
import subprocess
import tempfile

from common import example


def lines():
    random.seed(1)
    kana = [chr(c) for c in range(0x3041, 0x3094)]
    kanji = [chr(c) for c in range(0x4E00, 0x4E00 + 2000)]

    def any_char():
        while True:
            c = random.randint(0x20, 0x2FFFF)
            if not 0xD800 <= c <= 0xDFFF and c not in (0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029):
                return chr(c)

    return [
        "あ" * 20000,
        "".join(random.choice(kana) for _ in range(8000)),
        "".join(random.choice(kanji) for _ in range(8000)),
        ("a" + "\u0301" * 50) * 400,
        "\u200b".join("満足していません") * 500,
        "<script>alert('満足')</script>" * 800,
        "😡" * 5000,
        "1234567890" * 2000,
        "ー" * 20000,
        "".join(any_char() for _ in range(6000)),
        "良いと思って注文しました。" * 700,
        "良い。" * 3000,
        "丁寧にありがとう。" * 900,
    ]


def main():
    binary = example("analyze")
    text = lines()
    kib = sum(min(len(t.encode()), 16384) for t in text) / 1024 / len(text)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("\n".join(text) + "\n")
        path = f.name
    try:
        with open(path, encoding="utf-8") as stdin:
            out = json.loads(subprocess.run([binary, "--bench"], stdin=stdin, capture_output=True,
                                            text=True, check=True).stdout)
    finally:
        os.unlink(path)
    per_second = out["per_cpu_second"]
    print(f"{len(text)} hostile inputs of {kib:.1f} KiB analysed on average: {per_second} analyses per CPU second, "
          f"{1e3 / per_second:.2f} ms each, {1e3 / per_second / kib:.3f} ms per KiB")


if __name__ == "__main__":
    main()
