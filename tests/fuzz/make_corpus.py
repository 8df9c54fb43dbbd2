#!/usr/bin/env python3
"""Writes the decoder fuzzer's seed corpus from docs/PROTOCOL.md.

Each golden example in the protocol page becomes one binary file,
tests/fuzz/corpus/<message name>. wire_codec_test checks that the files, the
page and the encoder agree, so rerun this after changing a golden example:

    python3 tests/fuzz/make_corpus.py
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = re.compile(
    r"Golden bytes \(`tests/fuzz/corpus/(\w+)`\):\n\n```\n([0-9a-f]+)\n```")


def main():
    doc = (ROOT / "docs" / "PROTOCOL.md").read_text()
    corpus = ROOT / "tests" / "fuzz" / "corpus"
    corpus.mkdir(exist_ok=True)
    examples = GOLDEN.findall(doc)
    if not examples:
        sys.exit("make_corpus: no golden examples found in docs/PROTOCOL.md")
    for name, hex_bytes in examples:
        (corpus / name).write_bytes(bytes.fromhex(hex_bytes))
        print(f"make_corpus: wrote {name} ({len(hex_bytes) // 2} bytes)")


if __name__ == "__main__":
    main()
