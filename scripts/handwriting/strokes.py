#!/usr/bin/env python3
"""Perturbed handwriting samples from the stroke median lines of hanzi-writer-data.

Shared by train-model.sh (zinnia training file) and make-heldout.py (the bench's test set).
Coordinates: the data's 1024 box has y up with the baseline at 900; samples are returned in
the terminal's convention, a 1024 x 1024 box with y down.
"""
import json
import math
import os
import random

BOX = 1024


def gb2312(level):
    """GB 2312 characters of level 1 (3755) or level 2 (3008)."""
    rows = range(0xB0, 0xD8) if level == 1 else range(0xD8, 0xF8)
    out = []
    for hi in rows:
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return out


def rare_names(path):
    chars = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("#"):
            continue
        chars.extend(c for c in line if not c.isspace())
    return list(dict.fromkeys(chars))


def medians(data_dir, ch):
    path = os.path.join(data_dir, ch + ".json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        med = json.load(f)["medians"]
    return [[(float(x), 900.0 - float(y)) for x, y in stroke] for stroke in med]


def resample(stroke, step):
    """Points every `step` units along the polyline, as a finger on a touch panel gives them."""
    out = [stroke[0]]
    for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
        d = math.hypot(x1 - x0, y1 - y0)
        n = max(1, int(d / step))
        for i in range(1, n + 1):
            t = i / n
            out.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
    return out


def trim(stroke, start, end):
    """Stroke-length noise: cut (negative) or extend (positive) each end by a fraction."""
    if len(stroke) < 2:
        return stroke
    s = list(stroke)
    (ax, ay), (bx, by) = s[0], s[1]
    s[0] = (ax + (ax - bx) * start, ay + (ay - by) * start)
    (ax, ay), (bx, by) = s[-1], s[-2]
    s[-1] = (ax + (ax - bx) * end, ay + (ay - by) * end)
    return s


def perturb(strokes, rng, strength=1.0):
    """One writer's version of a character: scale, slant, rotation, offset, per-stroke shift,
    stroke-length noise and point jitter."""
    sx = rng.uniform(0.7, 1.1)
    sy = sx * rng.uniform(0.85, 1.15)
    shear = rng.uniform(-0.2, 0.2) * strength
    rot = rng.uniform(-0.12, 0.12) * strength
    cx, cy = BOX / 2, BOX / 2
    tx = rng.uniform(-80, 80) * strength
    ty = rng.uniform(-80, 80) * strength
    jitter = rng.uniform(4, 14) * strength
    cr, sr = math.cos(rot), math.sin(rot)
    out = []
    for stroke in strokes:
        dx = rng.gauss(0, 18 * strength)
        dy = rng.gauss(0, 18 * strength)
        s = trim(stroke, rng.uniform(-0.3, 0.2) * strength, rng.uniform(-0.3, 0.2) * strength)
        s = resample(s, rng.uniform(12, 30))
        pts = []
        for x, y in s:
            x, y = x - cx, y - cy
            x, y = x + shear * y, y
            x, y = x * cr - y * sr, x * sr + y * cr
            x, y = x * sx + cx + tx + dx, y * sy + cy + ty + dy
            x += rng.gauss(0, jitter)
            y += rng.gauss(0, jitter)
            pts.append((min(BOX - 1, max(0, round(x))), min(BOX - 1, max(0, round(y)))))
        out.append(pts)
    return out


def sexp(ch, strokes):
    body = " ".join("(" + " ".join("(%d %d)" % p for p in s) + ")" for s in strokes)
    return "(character (value %s) (width %d) (height %d) (strokes %s))" % (ch, BOX, BOX, body)
