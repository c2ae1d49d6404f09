#!/usr/bin/env python3
"""Write zinnia training shards from hanzi-writer-data: GB 2312 levels 1 and 2 plus the rare
name characters (tests/data/rare-name-chars.txt; those the data lacks are composed, see
compose.py).

zinnia_learn trains one linear classifier per character against every sample in its file, so
its time grows with the square of the character count. The shards split the characters by
stroke count; each shard also carries negatives from the neighbouring stroke counts and a few
from every other count, and train-model.sh keeps only each shard's own classifiers.

usage: make-training.py DATA_DIR RARE_FILE OUT_DIR [SAMPLES] [SEED]
"""
import os
import random
import sys

from compose import strokes_of
from strokes import gb2312, perturb, rare_names, resample, sexp

SHARD = 650


def main():
    data, rare, out = sys.argv[1:4]
    k = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 20261202)
    chars = list(dict.fromkeys(gb2312(1) + gb2312(2) + rare_names(rare)))
    shapes = {}
    for ch in chars:
        s = strokes_of(data, ch)
        if s:
            shapes[ch] = s
    missing = [c for c in chars if c not in shapes]
    if any(c in rare_names(rare) for c in missing):
        sys.exit("rare name characters without strokes: " + "".join(missing))
    by_count = {}
    for ch, s in shapes.items():
        by_count.setdefault(len(s), []).append(ch)
    # Consecutive stroke counts into shards of about SHARD characters.
    shards, cur = [], []
    for n in sorted(by_count):
        cur.extend(by_count[n])
        if len(cur) >= SHARD:
            shards.append(cur)
            cur = []
    if cur:
        shards.append(cur)
    os.makedirs(out, exist_ok=True)
    samples = {}
    for ch, s in shapes.items():
        samples[ch] = [[resample(x, 20) for x in s]] + [perturb(s, rng) for _ in range(k)]
    for i, own in enumerate(shards):
        counts = {len(shapes[c]) for c in own}
        lo, hi = min(counts), max(counts)
        neg = []
        for n, cs in by_count.items():
            if lo <= n <= hi:
                continue
            near = n in (lo - 1, hi + 1)
            pick = list(cs)
            rng.shuffle(pick)
            neg.extend(pick[: 150 if near else 4])
        with open(os.path.join(out, "shard-%02d.s" % i), "w", encoding="utf-8") as f:
            for ch in own + neg:
                for s in samples[ch]:
                    f.write(sexp(ch, s) + "\n")
        with open(os.path.join(out, "shard-%02d.own" % i), "w", encoding="utf-8") as f:
            f.write("\n".join(own) + "\n")
        print("shard %02d: strokes %d-%d, %d own, %d negative" % (i, lo, hi, len(own), len(neg)))
    print("%d characters, %d samples each" % (len(shapes), k + 1))


if __name__ == "__main__":
    main()
