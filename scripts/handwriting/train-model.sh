#!/bin/sh
# Reproduces assets/handwriting/ykb-zh_CN.model: zinnia's own trainer on perturbed strokes
# from hanzi-writer-data (Make Me a Hanzi). Needs python3, npm, and Debian's zinnia-utils.
#   scripts/handwriting/train-model.sh [WORK_DIR]
# Takes about 15-30 minutes on one core; shards are trained one after another.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${1:-$(mktemp -d)}
version=2.0.1
mkdir -p "$work"
cd "$work"
if [ ! -d package ]; then
    npm pack "hanzi-writer-data@$version" >/dev/null
    tar xzf "hanzi-writer-data-$version.tgz"
fi
python3 "$here/make-training.py" "$work/package" "$repo/tests/data/rare-name-chars.txt" "$work/shards"
: > model.txt
for s in shards/shard-*.s; do
    base=${s%.s}
    [ -f "$base.model.txt" ] || nice zinnia_learn "$s" "$base.model" >/dev/null
    # Keep this shard's own classifiers (the first field of each line is the character).
    awk 'NR == FNR { own[$0] = 1; next } ($1 in own)' "$base.own" "$base.model.txt" >> model.txt
done
# Weights below 0.005 are dropped: half the size, the same accuracy on held-out strokes.
zinnia_convert -c 0.005 model.txt ykb-zh_CN.model
mkdir -p "$repo/assets/handwriting"
cp ykb-zh_CN.model "$repo/assets/handwriting/ykb-zh_CN.model"
wc -l model.txt
ls -l "$repo/assets/handwriting/ykb-zh_CN.model"
