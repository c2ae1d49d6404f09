"""Stroke data for the rare name characters that hanzi-writer-data lacks, composed from
components it has (a left radical cut from a real character keeps its written form).

Ops: ("L", base, k, comp): base's first k strokes as they are, comp fitted into the box of
the rest; ("R", base, k, comp): base's strokes from k on as they are, comp fitted into the box
of the first k; ("H", a, b, split) / ("V", a, b, split): a beside / above b, split at that
fraction. The result is written in the same order a person writes it (left/top first).
"""
from strokes import medians

SPEC = {
    "禤": ("L", "祝", 4, "睘"),
    "赟": ("V", "斌", "贝", 0.55),
    "珺": ("L", "玩", 4, "君"),
    "旻": ("V", "日", "文", 0.45),
    "翀": ("H", "中", "羽", 0.4),
    "犇": ("V", "牛", ("H", "牛", "牛", 0.5), 0.45),
    "骉": ("V", "马", ("H", "马", "马", 0.5), 0.45),
    "琤": ("L", "玩", 4, "争"),
    "玥": ("L", "玩", 4, "月"),
    "曌": ("V", ("H", "日", "月", 0.5), "空", 0.45),
    "燚": ("V", ("H", "火", "火", 0.5), ("H", "火", "火", 0.5), 0.5),
    "龑": ("V", "龍", "共", 0.6),
    "晞": ("L", "明", 4, "希"),
    "暐": ("L", "明", 4, "韋"),
    "瑀": ("L", "玩", 4, "禹"),
    "瑢": ("L", "玩", 4, "容"),
    "璟": ("L", "玩", 4, "景"),
    "瑨": ("L", "玩", 4, "晋"),
    "璠": ("L", "玩", 4, "番"),
    "翯": ("V", "羽", "高", 0.4),
    "翚": ("V", "羽", "军", 0.4),
    "焜": ("L", "灯", 4, "昆"),
    "暻": ("L", "明", 4, "景"),
    "旸": ("R", "杨", 4, "日"),
    "頔": ("H", "由", "頁", 0.4),
    "淏": ("L", "江", 3, "昊"),
    "沄": ("L", "江", 3, "云"),
    "嬿": ("L", "好", 3, "燕"),
    "婳": ("L", "好", 3, "画"),
    "嫄": ("L", "好", 3, "原"),
    "芃": ("L", "花", 3, "凡"),
    "堉": ("L", "地", 3, "育"),
    "崟": ("V", "山", "金", 0.4),
    "峣": ("L", "岭", 3, "尧"),
    "鋆": ("V", "均", "金", 0.5),
    "棨": ("V", ("H", "户", "攵", 0.5), "木", 0.55),
    "燁": ("L", "灯", 4, "華"),
    "煒": ("L", "灯", 4, "韋"),
    "祐": ("L", "祝", 4, "右"),
    "䶮": ("V", "龙", "天", 0.55),
    "㛃": ("L", "契", 6, "女"),
    "㵘": ("L", "江", 3, "淼"),
    "䜣": ("L", "说", 2, "斤"),
    "㻬": ("L", "玩", 4, "荼"),
    "㛹": ("L", "好", 3, "便"),
    "㑇": ("L", "们", 2, "刍"),
    "𠇔": ("L", "们", 2, "乇"),
    "𫖯": ("H", "兆", "页", 0.5),
    "𬀩": ("L", "明", 4, "韦"),
    "𬍤": ("L", "玩", 4, "寻"),
    "𬭚": ("L", "钟", 5, "享"),
    "𬳵": ("L", "驰", 3, "丕"),
    "𬶋": ("L", "鲜", 8, "句"),
    "𬇙": ("L", "江", 3, "贝"),
    "𫄧": ("L", "红", 3, "延"),
    "𫍯": ("L", "说", 2, "成"),
    "𫘝": ("L", "驰", 3, "夬"),
}


def bbox(strokes):
    xs = [x for s in strokes for x, _ in s]
    ys = [y for s in strokes for _, y in s]
    return min(xs), min(ys), max(xs), max(ys)


def fit(strokes, box):
    x0, y0, x1, y1 = bbox(strokes)
    bx0, by0, bx1, by1 = box
    sx = (bx1 - bx0) / max(1.0, x1 - x0)
    sy = (by1 - by0) / max(1.0, y1 - y0)
    return [[(bx0 + (x - x0) * sx, by0 + (y - y0) * sy) for x, y in s] for s in strokes]


def strokes_of(data_dir, spec):
    """Strokes (y down, 1024 box) of a character or a composition spec; None if unknown."""
    if isinstance(spec, str):
        m = medians(data_dir, spec)
        if m is not None:
            return m
        if spec in SPEC:
            return strokes_of(data_dir, SPEC[spec])
        return None
    op = spec[0]
    if op in ("L", "R"):
        _, base, k, comp = spec
        b, c = strokes_of(data_dir, base), strokes_of(data_dir, comp)
        if b is None or c is None:
            return None
        if op == "L":
            return b[:k] + fit(c, bbox(b[k:]))
        return fit(c, bbox(b[:k])) + b[k:]
    _, first, second, split = spec
    a, b = strokes_of(data_dir, first), strokes_of(data_dir, second)
    if a is None or b is None:
        return None
    lo, hi, gap = 100.0, 924.0, 20.0
    cut = lo + (hi - lo) * split
    if op == "H":
        return fit(a, (lo, lo, cut - gap, hi)) + fit(b, (cut + gap, lo, hi, hi))
    return fit(a, (lo, lo, hi, cut - gap)) + fit(b, (lo, cut + gap, hi, hi))
