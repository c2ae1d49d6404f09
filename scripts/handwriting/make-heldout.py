#!/usr/bin/env python3
"""The handwriting bench's held-out set (benches/data/handwriting-heldout.json): 400 random
GB 2312 level-1 characters and every rare name character, each written once with a
perturbation drawn from a seed the training never uses (train-model.sh draws from its own).

usage: make-heldout.py DATA_DIR RARE_FILE OUT.json
"""
import json
import random
import sys

from compose import strokes_of
from strokes import gb2312, perturb, rare_names

SEED = 15_04_2026


def main():
    data, rare, out = sys.argv[1:4]
    rng = random.Random(SEED)
    level1 = gb2312(1)
    rng.shuffle(level1)
    sets = {"gb2312-level1-400": level1[:400], "rare-names": rare_names(rare)}
    doc = {"seed": SEED, "box": 1024, "sets": {}}
    for name, chars in sets.items():
        rows = []
        for ch in chars:
            s = strokes_of(data, ch)
            if s is None:
                sys.exit("no strokes for " + ch)
            rows.append({"char": ch, "strokes": [[list(p) for p in st] for st in perturb(s, rng)]})
        doc["sets"][name] = rows
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))


if __name__ == "__main__":
    main()
