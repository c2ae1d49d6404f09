#!/usr/bin/env bash
# make-font-subset.sh — regenerate assets/fonts/YKBSansSC-Regular.ttf, the CJK UI font
# embedded in ykb-terminal, and (with --bold) YKBSansSC-Bold.ttf, its bold weight for
# headings and buttons.
#
# NOT part of the build: the generated font is committed. Run this only to change the
# character set or to move to a newer source font, then commit the new .ttf.
#
# Source: Debian package fonts-noto-cjk, version 1:20220127+repack1-1 (Debian 12
#   "bookworm"), file /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc,
#   face "Noto Sans CJK SC" Regular, font version 2.004. Licence: SIL OFL 1.1
#   (assets/fonts/OFL.txt). Upstream: googlefonts/noto-cjk.
# Tool: fontTools (pip install 'fonttools==4.68.0' is what the committed file was made
#   with; any recent 4.x should give the same coverage).
#
# What it does:
#   1. picks the "Noto Sans CJK SC" Regular face out of the TTC;
#   2. subsets it to: ASCII, Latin-1, Latin Extended-A and pinyin letters, Greek,
#      Cyrillic, general punctuation, letterlike/number forms, arrows, math operators,
#      box drawing, geometric shapes, misc symbols, dingbats, enclosed alphanumerics,
#      CJK symbols & punctuation, kana, bopomofo, enclosed CJK, CJK compatibility,
#      fullwidth forms, every character that encodes in GB 2312, all of CJK Ext A and
#      U+4E00–U+9FFF that the font has, the unified ideographs among the CJK
#      compatibility ideographs, every supplementary-plane ideograph the SC face has,
#      and every character of tests/data/rare-name-chars.txt (the script fails if the
#      source lacks one of those);
#   3. drops hinting, vertical-layout tables/features and the per-locale (locl)
#      alternates (the app is zh-Hans only), and glyph names;
#   4. converts the CFF outlines to TrueType (glyf) quadratic outlines with cu2qu, since
#      the renderer is a pure-Rust rasterizer and glyf is its best-trodden path;
#   4b. adds simple polygon glyphs for ✔ U+2714, ✕ U+2715, ✗ U+2717, which Noto Sans CJK
#      lacks (skipped for any the source already has);
#   5. renames the family to "YKB Sans SC" so that the embedded font can never be
#      confused with a system-installed (full) Noto Sans CJK SC;
#   6. prints a coverage report and fails if a required range is not covered.
#
# The bold weight (--bold): the same steps on NotoSansCJK-Bold.ttc's "Noto Sans CJK SC"
#   Bold face, with a smaller character set — everything above except CJK Ext A, the
#   ideographs outside GB 2312 and the supplementary planes, but with every rare-name
#   character — since bold is for the UI's own headings and buttons and for names; a
#   character it lacks is drawn from the regular face.
#
# Usage: packaging/fonts/make-font-subset.sh [--bold] [SOURCE.ttc] [OUTPUT.ttf]
#        packaging/fonts/make-font-subset.sh --check [FONT.ttf]   (only step 6)
#   Needs: python3 with fontTools (pip install fonttools), fonts-noto-cjk installed
#   (apt-get install fonts-noto-cjk). Run from anywhere; paths are relative to the repo.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
rare="$repo/tests/data/rare-name-chars.txt"
check_only=0
weight=Regular
if [ "${1:-}" = "--bold" ]; then
    weight=Bold
    shift
fi
if [ "${1:-}" = "--check" ]; then
    check_only=1
    shift
    src=""
    out="${1:-$repo/assets/fonts/YKBSansSC-Regular.ttf}"
else
    src="${1:-/usr/share/fonts/opentype/noto/NotoSansCJK-$weight.ttc}"
    out="${2:-$repo/assets/fonts/YKBSansSC-$weight.ttf}"
fi

if [ "$check_only" = 0 ] && [ ! -f "$src" ]; then
    echo "error: $src not found; install it with: apt-get install fonts-noto-cjk" >&2
    exit 1
fi
python3 -c 'import fontTools' 2>/dev/null || {
    echo "error: python3 fontTools missing; install it with: pip install fonttools" >&2
    exit 1
}

[ "$check_only" = 1 ] || SRC="$src" OUT="$out" RARE="$rare" WEIGHT="$weight" python3 - <<'PY'
import os, sys, tempfile

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont, newTable
from fontTools.ttLib.tables._g_l_y_f import Glyph
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen

SRC, OUT, RARE = os.environ["SRC"], os.environ["OUT"], os.environ["RARE"]
WEIGHT = os.environ.get("WEIGHT", "Regular")
SOURCE_FAMILY = "Noto Sans CJK SC"
NEW_FAMILY = "YKB Sans SC"
NEW_PS_NAME = f"YKBSansSC-{WEIGHT}"
MAX_ERR = 1.0  # cu2qu tolerance in font units (UPM 1000)


def rare_chars(path):
    with open(path, encoding="utf-8") as f:
        return [c for line in f if not line.startswith("#") for c in line if not c.isspace()]


def gb2312_chars():
    out = set()
    for b1 in range(0xA1, 0xF8):
        for b2 in range(0xA1, 0xFF):
            try:
                out.add(ord(bytes([b1, b2]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return out


R = lambda a, b: set(range(a, b + 1))
RANGES = (
    R(0x0020, 0x007E)    # ASCII
    | R(0x00A0, 0x00FF)  # Latin-1 supplement (¥ ° × ÷ ·)
    | R(0x0100, 0x017F)  # Latin Extended-A (pinyin ā ē ī ō ū)
    | R(0x01CD, 0x01DC)  # pinyin ǎ ǐ ǒ ǔ ǖ ǘ ǚ ǜ
    | {0x01F9, 0x0251, 0x0261}  # ǹ ɑ ɡ (GB 2312 pinyin)
    | R(0x02C6, 0x02DD)  # spacing modifiers ˇ ˉ ˊ ˋ ˙
    | R(0x0391, 0x03C9)  # Greek
    | R(0x0401, 0x0451)  # Cyrillic (GB 2312 set)
    | R(0x2000, 0x206F)  # general punctuation (— … ‘ ’ “ ” ‰ ※)
    | R(0x20A0, 0x20CF)  # currency symbols (€)
    | R(0x2100, 0x218F)  # letterlike symbols, number forms (℃ № Ⅰ–Ⅻ)
    | R(0x2190, 0x21FF)  # arrows ← → ↑ ↓
    | R(0x2200, 0x22FF)  # mathematical operators
    | R(0x2300, 0x23FF)  # misc technical (⌒ ⏎ …)
    | R(0x2460, 0x24FF)  # enclosed alphanumerics ①–⑳ ⑴ ⒈ Ⓐ
    | R(0x2500, 0x259F)  # box drawing, block elements
    | R(0x25A0, 0x25FF)  # geometric shapes ● ○ ■ □ ▲ △ ◆ ◇
    | R(0x2600, 0x26FF)  # misc symbols ★ ☆ ☎ ♀ ♂
    | R(0x2700, 0x27BF)  # dingbats ✓ ✔ ✗ ✕ ❶–❿
    | R(0x2E80, 0x2FDF)  # CJK radicals supplement, Kangxi radicals
    | R(0x3000, 0x303F)  # CJK symbols & punctuation
    | R(0x3040, 0x30FF)  # hiragana, katakana (GB 2312 has them)
    | R(0x3100, 0x312F)  # bopomofo
    | R(0x31A0, 0x31BF)  # bopomofo extended
    | R(0x31C0, 0x31EF)  # CJK strokes
    | R(0x3200, 0x33FF)  # enclosed CJK letters/months, CJK compatibility (㎡ ㎏ ㎞)
    | R(0x3400, 0x4DBF)  # CJK Extension A
    | R(0x4E00, 0x9FFF)  # CJK Unified Ideographs
    | R(0xFA0E, 0xFA29)  # the unified ideographs inside the compatibility block
    | R(0xFE10, 0xFE1F)  # vertical forms
    | R(0xFE30, 0xFE4F)  # CJK compatibility forms
    | R(0xFF00, 0xFFEF)  # halfwidth & fullwidth forms
    | {0xFFFD}           # replacement character
)

# ---------------------------------------------------------------- 1. pick the face
coll = TTCollection(SRC)
face = None
for f in coll.fonts:
    name = f["name"]
    if name.getDebugName(1) == SOURCE_FAMILY and name.getDebugName(2) == WEIGHT:
        face = f
        break
if face is None:
    sys.exit(f"error: no '{SOURCE_FAMILY}' {WEIGHT} face in {SRC}")
src_version = face["name"].getDebugName(5)
cmap = face.getBestCmap()

rare = rare_chars(RARE)
missing_rare = [c for c in rare if ord(c) not in cmap]
if missing_rare:
    sys.exit("error: source font lacks rare-name characters: "
             + " ".join(f"{c} U+{ord(c):04X}" for c in missing_rare))

supplementary_ideographs = {c for c in cmap if 0x20000 <= c <= 0x3FFFF}
wanted = (RANGES | gb2312_chars() | supplementary_ideographs | {ord(c) for c in rare})
if WEIGHT == "Bold":
    ideographs = R(0x3400, 0x4DBF) | R(0x4E00, 0x9FFF) | R(0xFA0E, 0xFA29)
    wanted = ((RANGES - ideographs) | gb2312_chars() | {ord(c) for c in rare})
unicodes = sorted(c for c in wanted if c in cmap)

with tempfile.TemporaryDirectory() as tmp:
    face_path = os.path.join(tmp, "face.otf")
    face.recalcTimestamp = False
    face.save(face_path)  # single-face OTF out of the collection
    # keep head.modified from the source so that reruns are byte-identical
    font = TTFont(face_path, recalcTimestamp=False)

# ---------------------------------------------------------------- 2./3. subset
opts = subset.Options()
opts.hinting = False
opts.desubroutinize = True
opts.glyph_names = False
opts.notdef_outline = True
opts.recalc_bounds = True
opts.name_IDs = ["*"]
opts.name_languages = ["*"]
opts.layout_features = ["ccmp", "kern", "liga", "calt", "mark", "mkmk", "rlig", "clig"]
opts.drop_tables += ["VORG", "vhea", "vmtx", "BASE", "DSIG"]
sub = subset.Subsetter(options=opts)
sub.populate(unicodes=unicodes)
sub.subset(font)

# ---------------------------------------------------------------- 4. CFF -> glyf
glyph_order = font.getGlyphOrder()
glyph_set = font.getGlyphSet()
glyf = newTable("glyf")
glyf.glyphOrder = glyph_order
glyf.glyphs = {}
for gname in glyph_order:
    pen = TTGlyphPen(None)
    glyph_set[gname].draw(Cu2QuPen(pen, MAX_ERR, reverse_direction=True))
    try:
        glyf.glyphs[gname] = pen.glyph()
    except Exception:
        glyf.glyphs[gname] = Glyph()
font["loca"] = newTable("loca")
font["glyf"] = glyf
del font["CFF "]
font.sfntVersion = "\x00\x01\x00\x00"
font["head"].glyphDataFormat = 0
maxp = font["maxp"]
maxp.tableVersion = 0x00010000
for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
             "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
             "maxComponentElements", "maxPoints", "maxContours",
             "maxCompositePoints", "maxCompositeContours", "maxComponentDepth"):
    setattr(maxp, attr, 0)
maxp.maxZones = 1
post = font["post"]
post.formatType = 3.0
post.extraNames, post.mapping = [], {}
# left side bearings must equal xMin for glyf fonts
hmtx = font["hmtx"]
for gname in glyph_order:
    g = glyf.glyphs[gname]
    g.recalcBounds(glyf)
    adv, _ = hmtx.metrics[gname]
    hmtx.metrics[gname] = (adv, getattr(g, "xMin", 0))

# ---------------------------------------------------------------- 4b. extra symbols
# Noto Sans CJK has ✓ (U+2713) but not ✔ ✕ ✗. Those three are drawn here as plain
# polygons (original drawings, contributed under the same OFL 1.1 as the rest of the
# font), fullwidth like the font's other UI symbols (● ★: advance 1000, y -70..830).
# Each is one non-overlapping contour, so any rasterizer fills it the same way.
import math


def _isect(p, d, q, e):
    """Intersection of the lines p + s*d and q + t*e."""
    den = d[0] * e[1] - d[1] * e[0]
    s = ((q[0] - p[0]) * e[1] - (q[1] - p[1]) * e[0]) / den
    return (p[0] + s * d[0], p[1] + s * d[1])


def _stroke(p0, p1, w0, w1):
    """Edges of a straight stroke from p0 to p1, width w0 at p0 and w1 at p1.
    Returns (left edge, right edge) as (point, direction), left = left of p0->p1."""
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    n = math.hypot(dx, dy)
    nx, ny = -dy / n, dx / n
    l0 = (p0[0] + nx * w0 / 2, p0[1] + ny * w0 / 2)
    l1 = (p1[0] + nx * w1 / 2, p1[1] + ny * w1 / 2)
    r0 = (p0[0] - nx * w0 / 2, p0[1] - ny * w0 / 2)
    r1 = (p1[0] - nx * w1 / 2, p1[1] - ny * w1 / 2)
    return (l0, l1), (r0, r1)


def _line(edge):
    (a, b) = edge
    return a, (b[0] - a[0], b[1] - a[1])


def cross_glyph(a0, a1, wa0, wa1, b0, b1, wb0, wb1):
    """Outline of an X: stroke A bottom-left -> top-right, stroke B top-left ->
    bottom-right. Clockwise (TrueType outer contour)."""
    aL, aR = _stroke(a0, a1, wa0, wa1)  # aL: upper-left edge, aR: lower-right edge
    bL, bR = _stroke(b0, b1, wb0, wb1)  # bL: upper-right edge, bR: lower-left edge
    left = _isect(*_line(aL), *_line(bR))
    top = _isect(*_line(bL), *_line(aL))
    right = _isect(*_line(aR), *_line(bL))
    bottom = _isect(*_line(bR), *_line(aR))
    return [aL[0], left, bR[0], bL[0], top, aL[1], aR[1], right, bL[1], bR[1], bottom, aR[0]]


def check_glyph(tip0, v, tip1, w0, w1):
    """Heavy check mark: short arm tip0 -> v, long arm v -> tip1. Clockwise."""
    sL, sR = _stroke(tip0, v, w0, w0)   # short arm (going down-right): sL upper-right, sR lower-left
    lL, lR = _stroke(v, tip1, w1, w1)   # long arm (going up-right): lL upper-left, lR lower-right
    notch = _isect(*_line(sL), *_line(lL))
    bottom = _isect(*_line(sR), *_line(lR))
    return [bottom, sR[0], sL[0], notch, lL[1], lR[1]]


def times_glyph(scale):
    """U+00D7-like cross, scaled about the centre of the em box's x-height area."""
    c, h = (500, 380), 330 * scale
    w = 70 * scale
    return cross_glyph((c[0] - h, c[1] - h), (c[0] + h, c[1] + h), w, w,
                       (c[0] - h, c[1] + h), (c[0] + h, c[1] - h), w, w)


EXTRA = {
    0x2714: check_glyph((105, 400), (390, 20), (905, 760), 170, 160),   # ✔ HEAVY CHECK MARK
    0x2715: times_glyph(1.25),                                          # ✕ MULTIPLICATION X
    0x2717: cross_glyph((150, -10), (860, 790), 60, 110,                # ✗ BALLOT X
                        (175, 760), (845, -30), 120, 70),
}
cmap_tables = [t for t in font["cmap"].tables if t.isUnicode()]
for cp, pts in EXTRA.items():
    if cp in font.getBestCmap():
        continue
    gname = f"uni{cp:04X}"
    pen = TTGlyphPen(None)
    pts = [(round(x), round(y)) for x, y in pts]
    pen.moveTo(pts[0])
    for pt in pts[1:]:
        pen.lineTo(pt)
    pen.closePath()
    g = pen.glyph()
    g.recalcBounds(glyf)
    glyph_order.append(gname)
    glyf.glyphs[gname] = g
    hmtx.metrics[gname] = (1000, g.xMin)
    for t in cmap_tables:
        if t.format != 4 or cp <= 0xFFFF:
            t.cmap[cp] = gname
font.setGlyphOrder(glyph_order)
glyf.glyphOrder = glyph_order

# ---------------------------------------------------------------- 5. rename
name = font["name"]
for rec in list(name.names):
    if rec.nameID in (1, 3, 4, 6, 16, 17, 21, 22, 25):
        name.removeNames(nameID=rec.nameID)
name.setName(NEW_FAMILY, 1, 3, 1, 0x409)
name.setName(WEIGHT, 2, 3, 1, 0x409)
name.setName(f"{src_version.split(';')[0]};ykb-terminal subset;{NEW_PS_NAME}", 3, 3, 1, 0x409)
name.setName(f"{NEW_FAMILY} {WEIGHT}", 4, 3, 1, 0x409)
name.setName(NEW_PS_NAME, 6, 3, 1, 0x409)
name.setName(
    f"Modified Version (SIL OFL 1.1) of Noto Sans CJK SC {WEIGHT} ({src_version}): "
    "character subset for ykb-terminal, outlines converted from CFF to TrueType, "
    "hinting removed, glyphs for U+2714 U+2715 U+2717 added.", 10, 3, 1, 0x409)
# keep only Windows-platform names (mac-roman duplicates just add bytes)
name.names = [r for r in name.names if r.platformID == 3]

os.makedirs(os.path.dirname(OUT), exist_ok=True)
font.save(OUT, reorderTables=True)
print(f"wrote {OUT}")
PY

# ---------------------------------------------------------------- 6. verify
OUT="$out" RARE="$rare" WEIGHT="$weight" python3 - <<'PY'
import os, sys
from fontTools.ttLib import TTFont

OUT, RARE = os.environ["OUT"], os.environ["RARE"]
BOLD = os.environ.get("WEIGHT") == "Bold" or "Bold" in os.path.basename(OUT)
f = TTFont(OUT)
cm = set(f.getBestCmap())

gb = set()
for b1 in range(0xA1, 0xF8):
    for b2 in range(0xA1, 0xFF):
        try:
            gb.add(ord(bytes([b1, b2]).decode("gb2312")))
        except UnicodeDecodeError:
            pass
with open(RARE, encoding="utf-8") as fh:
    rare = {ord(c) for line in fh if not line.startswith("#") for c in line if not c.isspace()}
exta = set(range(0x3400, 0x4DC0))
uro = set(range(0x4E00, 0xA000))
symbols = {ord(c) for c in "←→↑↓✓✔✗✕★☆●○·①②③④⑤⑥⑦⑧⑨⑩¥°×÷…—"}
ascii_ = set(range(0x20, 0x7F))
latin1 = set(range(0xA0, 0x100))

fmt = "glyf" if "glyf" in f else ("CFF" if "CFF " in f else "?")
n = f["name"]
print(f"file            {OUT}")
print(f"size            {os.path.getsize(OUT)} bytes ({os.path.getsize(OUT) / 2**20:.2f} MiB)")
print(f"outlines        {fmt}")
print(f"family (ID 1)   {n.getDebugName(1)!r}; typographic family (ID 16) {n.getDebugName(16)!r}")
print(f"style (ID 2)    {n.getDebugName(2)!r}; full name {n.getDebugName(4)!r}; PS {n.getDebugName(6)!r}")
print(f"glyphs          {f['maxp'].numGlyphs}; mapped code points {len(cm)}")
bad = False
for label, want, total in (
        ("GB 2312", gb, len(gb)),
        ("CJK Ext A", exta, 6592),
        ("U+4E00-9FFF", uro, len(uro)),
        ("ASCII", ascii_, len(ascii_)),
        ("Latin-1", latin1, len(latin1)),
        ("gen. punct.", set(range(0x2000, 0x2070)), 0x70),
        ("CJK sym/punct", set(range(0x3000, 0x3040)), 0x40),
        ("fullwidth", set(range(0xFF00, 0xFFF0)), 0xF0),
        ("kiosk symbols", symbols, len(symbols)),
        ("rare-name list", rare, len(rare)),
        ("supplementary", {c for c in cm if c > 0xFFFF}, None)):
    got = len(want & cm)
    print(f"{label:15s} {got} / {total if total is not None else '-'}")
    if label in ("GB 2312", "ASCII", "kiosk symbols", "rare-name list") and got != total:
        bad = True
        print("   missing:", " ".join(f"U+{c:04X}" for c in sorted(want - cm)))
missing_exta = sorted(exta - cm)
if missing_exta and not BOLD:
    print("   Ext A not in source font:", " ".join(f"U+{c:04X}" for c in missing_exta))
if len(missing_exta) > 10 and not BOLD:  # U+4DB6..4DBF (Unicode 13) are absent from every candidate
    bad = True
sys.exit(1 if bad else 0)
PY
