"""Hand-written SVG charts for the report page: lines over dates (linear or log), areas, bars and a histogram.

Each function returns one ``<svg>`` element as text, drawn completely on the server side, so the page shows its
charts with JavaScript off, in print, and in any browser. Line charts carry their scale in ``data-*`` attributes
so the page's script can put a crosshair and a tooltip on them; every bar carries its tooltip text in
``data-tip`` (and a ``<title>``, the browser's own tooltip).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

Fmt = Callable[[float], str]


@dataclass(frozen=True, slots=True)
class Box:
    """The plotting area inside a `width` × `height` viewBox."""

    width: int = 900
    height: int = 300
    left: int = 72
    right: int = 16
    top: int = 14
    bottom: int = 28

    @property
    def x0(self) -> int:
        return self.left

    @property
    def x1(self) -> int:
        return self.width - self.right

    @property
    def y0(self) -> int:  # bottom in pixels
        return self.height - self.bottom

    @property
    def y1(self) -> int:  # top in pixels
        return self.top


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 × 10^k steps) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        hi = lo + (abs(lo) * 0.1 or 1.0)
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    v = first
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    if ticks and ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def date_ticks(first: date, last: date, most: int = 8) -> list[tuple[int, str]]:
    """Tick positions (date ordinals) and labels: days, or month starts every 1–60 months, whatever fits `most`."""
    d0, d1 = first.toordinal(), last.toordinal()
    if d1 - d0 < 120:  # days: every day, or every week (or few weeks) from the first day on
        step = max(1, math.ceil((d1 - d0 + 1) / most))
        if step > 1:
            step = 7 * math.ceil(step / 7)
        return [(d, date.fromordinal(d).strftime("%b %d")) for d in range(d0, d1 + 1, step)]
    starts = [
        date(y, m, 1) for y in range(first.year, last.year + 1) for m in range(1, 13) if first < date(y, m, 1) <= last
    ]
    for every in (1, 2, 3, 6, 12, 24, 60, 120):
        picked = [d for d in starts if (d.year * 12 + d.month - 1) % every == 0]
        if len(picked) <= most:
            label = "%b %Y" if every < 12 else "%Y"
            return [(d.toordinal(), d.strftime(label)) for d in picked]
    return []


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _svg_open(box: Box, label: str, css: str, extra: str = "") -> str:
    return (
        f'<svg class="chart {css}" viewBox="0 0 {box.width} {box.height}" role="img" aria-label="{escape(label)}"'
        f' preserveAspectRatio="xMidYMid meet"{extra}>'
    )


def line_chart(
    xs: Sequence[int],
    ys: Sequence[float],
    *,
    label: str,
    fmt: Fmt,
    series: str,
    log: bool = False,
    area: bool = False,
    css: str = "",
    box: Box | None = None,
    zero_line: bool = False,
) -> str:
    """`ys` over date ordinals `xs` as a path (an area down to 0 when `area`); log y when `log` (all ys > 0)."""
    box = box or Box()
    if not xs:
        return _svg_open(box, label, css) + _empty(box, "no trades") + "</svg>"
    lo, hi = min(ys), max(ys)
    if area or zero_line:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if log:
        if lo <= 0:
            return _svg_open(box, label, css) + _empty(box, "log scale needs positive values") + "</svg>"
        ticks = [t for t in nice_ticks(lo, hi, 5) if t > 0]
        tick_lo = min([lo, *ticks])
        ty = (math.log(tick_lo), math.log(max([hi, *ticks])))
        to_y: Callable[[float], float] = math.log
    else:
        ticks = nice_ticks(lo, hi, 5)
        ty = (min([lo, *ticks]), max([hi, *ticks]))

        def to_y(v: float) -> float:
            return v

    x0, x1 = xs[0], xs[-1] if xs[-1] > xs[0] else xs[0] + 1
    span_y = (ty[1] - ty[0]) or 1.0

    def px(x: float) -> float:
        return box.x0 + (x - x0) / (x1 - x0) * (box.x1 - box.x0)

    def py(v: float) -> float:
        return box.y0 - (to_y(v) - ty[0]) / span_y * (box.y0 - box.y1)

    attrs = (
        f' data-series="{series}" data-log="{int(log)}" data-x0="{x0}" data-x1="{x1}" data-px0="{box.x0}"'
        f' data-px1="{box.x1}" data-y0="{ty[0]!r}" data-y1="{ty[1]!r}" data-py0="{box.y0}" data-py1="{box.y1}"'
    )
    out = [_svg_open(box, label, css, attrs)]
    out.append('<g class="grid">')
    for t in ticks:
        y = py(t)
        out.append(f'<line x1="{box.x0}" x2="{box.x1}" y1="{_f(y)}" y2="{_f(y)}"/>')
        out.append(f'<text class="ylab" x="{box.x0 - 6}" y="{_f(y + 4)}">{escape(fmt(t))}</text>')
    for d, text in date_ticks(date.fromordinal(x0), date.fromordinal(x1)):
        x = px(d)
        out.append(f'<line class="v" x1="{_f(x)}" x2="{_f(x)}" y1="{box.y1}" y2="{box.y0}"/>')
        out.append(f'<text class="xlab" x="{_f(x)}" y="{box.height - 8}">{escape(text)}</text>')
    out.append("</g>")
    if zero_line and not log and ty[0] < 0 < ty[1]:
        out.append(f'<line class="zero" x1="{box.x0}" x2="{box.x1}" y1="{_f(py(0))}" y2="{_f(py(0))}"/>')
    points = " ".join(f"{_f(px(x))},{_f(py(y))}" for x, y in zip(xs, ys, strict=True))
    if area:
        base = _f(py(0.0))
        out.append(f'<path class="area" d="M{_f(px(xs[0]))},{base} L{points} L{_f(px(xs[-1]))},{base} Z"/>')
    out.append(f'<path class="line" d="M{points}"/>')
    out.append(f'<rect class="hover" x="{box.x0}" y="{box.y1}" width="{box.x1 - box.x0}" height="{box.y0 - box.y1}"/>')
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Bar:
    value: float
    tip: str
    css: str = ""


def bar_chart(
    groups: Sequence[tuple[str, Sequence[Bar]]],
    *,
    label: str,
    fmt: Fmt,
    legend: Sequence[tuple[str, str]] = (),
    box: Box | None = None,
) -> str:
    """Vertical bars, one group per category (e.g. a year: its return and its max drawdown), around zero."""
    box = box or Box(height=260)
    values = [b.value for _, bars in groups for b in bars]
    if not values:
        return _svg_open(box, label, "bars") + _empty(box, "no trades") + "</svg>"
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values), 5)
    lo, hi = min([0.0, *values, *ticks]), max([0.0, *values, *ticks])
    span = (hi - lo) or 1.0

    def py(v: float) -> float:
        return box.y0 - (v - lo) / span * (box.y0 - box.y1)

    out = [_svg_open(box, label, "bars")]
    out.append('<g class="grid">')
    for t in ticks:
        out.append(f'<line x1="{box.x0}" x2="{box.x1}" y1="{_f(py(t))}" y2="{_f(py(t))}"/>')
        out.append(f'<text class="ylab" x="{box.x0 - 6}" y="{_f(py(t) + 4)}">{escape(fmt(t))}</text>')
    out.append("</g>")
    slot = (box.x1 - box.x0) / len(groups)
    per = max(len(bars) for _, bars in groups)
    width = min(46.0, slot * 0.8 / per)
    zero = py(0.0)
    step = max(1, math.ceil(len(groups) / 16))  # at most ~16 category labels
    for i, (name, bars) in enumerate(groups):
        left = box.x0 + slot * i + (slot - width * len(bars)) / 2
        for j, bar in enumerate(bars):
            y = py(bar.value)
            top, height = min(y, zero), max(abs(zero - y), 0.5)
            tip = escape(bar.tip)
            out.append(
                f'<rect class="bar {bar.css}" x="{_f(left + j * width)}" y="{_f(top)}" width="{_f(width * 0.92)}"'
                f' height="{_f(height)}" data-tip="{tip}"><title>{tip}</title></rect>'
            )
        if i % step == 0:
            out.append(
                f'<text class="xlab" x="{_f(box.x0 + slot * (i + 0.5))}" y="{box.height - 8}">{escape(name)}</text>'
            )
    out.append(f'<line class="zero" x1="{box.x0}" x2="{box.x1}" y1="{_f(zero)}" y2="{_f(zero)}"/>')
    for k, (css, text) in enumerate(legend):
        x = box.x0 + 8 + k * 150
        out.append(f'<rect class="bar {css}" x="{x}" y="{box.y1}" width="10" height="10"/>')
        out.append(f'<text class="legend" x="{x + 14}" y="{box.y1 + 9}">{escape(text)}</text>')
    out.append("</svg>")
    return "".join(out)


def histogram(values: Sequence[float], *, label: str, fmt: Fmt, bins: int = 24, box: Box | None = None) -> str:
    """How many trades fell in each P/L bucket; losses red, gains green (a bucket never straddles zero)."""
    box = box or Box(width=560, height=260, left=44)
    if not values:
        return _svg_open(box, label, "bars") + _empty(box, "no trades") + "</svg>"
    lo, hi = min(values), max(values)
    ticks = nice_ticks(lo, hi, bins)
    edges = ticks if len(ticks) >= 2 else [lo - 1, hi + 1]
    counts = [0] * (len(edges) - 1)
    for v in values:  # bucket k holds edges[k] <= v < edges[k + 1]; the top edge belongs to the last bucket
        counts[min(max(bisect_right(edges, v) - 1, 0), len(counts) - 1)] += 1
    top = max(counts)
    cticks = [t for t in nice_ticks(0, top, 4) if float(t).is_integer()]
    cmax = max([top, *cticks]) or 1
    span = edges[-1] - edges[0]

    def px(v: float) -> float:
        return box.x0 + (v - edges[0]) / span * (box.x1 - box.x0)

    def py(c: float) -> float:
        return box.y0 - c / cmax * (box.y0 - box.y1)

    out = [_svg_open(box, label, "bars")]
    out.append('<g class="grid">')
    for t in cticks:
        out.append(f'<line x1="{box.x0}" x2="{box.x1}" y1="{_f(py(t))}" y2="{_f(py(t))}"/>')
        out.append(f'<text class="ylab" x="{box.x0 - 6}" y="{_f(py(t) + 4)}">{int(t)}</text>')
    labels = nice_ticks(edges[0], edges[-1], 5)
    for t in labels:
        if edges[0] <= t <= edges[-1]:
            out.append(f'<text class="xlab" x="{_f(px(t))}" y="{box.height - 8}">{escape(fmt(t))}</text>')
    out.append("</g>")
    for k, c in enumerate(counts):
        if not c:
            continue
        a, b = edges[k], edges[k + 1]
        css = "neg" if b <= 0 else "pos"
        tip = escape(f"{fmt(a)} to {fmt(b)}: {c} trade{'s' if c != 1 else ''}")
        out.append(
            f'<rect class="bar {css}" x="{_f(px(a) + 0.5)}" y="{_f(py(c))}" width="{_f(max(px(b) - px(a) - 1, 0.5))}"'
            f' height="{_f(py(0) - py(c))}" data-tip="{tip}"><title>{tip}</title></rect>'
        )
    out.append(f'<line class="zero" x1="{box.x0}" x2="{box.x1}" y1="{_f(py(0))}" y2="{_f(py(0))}"/>')
    if edges[0] < 0 < edges[-1]:
        out.append(f'<line class="zero v" x1="{_f(px(0))}" x2="{_f(px(0))}" y1="{box.y1}" y2="{box.y0}"/>')
    out.append("</svg>")
    return "".join(out)


def hbar_chart(rows: Sequence[tuple[str, float, str, str]], *, label: str, box: Box | None = None) -> str:
    """Horizontal bars (label, value ≥ 0, text at the bar's end, css class), e.g. exits by reason."""
    box = box or Box(width=560, height=40 + 34 * max(len(rows), 1), left=110, right=150)
    if not rows:
        return _svg_open(box, label, "bars") + _empty(box, "no trades") + "</svg>"
    top = max(v for _, v, _, _ in rows) or 1.0
    out = [_svg_open(box, label, "bars")]
    for i, (name, value, text, css) in enumerate(rows):
        y = box.y1 + 6 + i * 34
        w = value / top * (box.x1 - box.x0)
        tip = escape(f"{name}: {text}")
        out.append(f'<text class="ylab" x="{box.x0 - 8}" y="{y + 16}">{escape(name)}</text>')
        out.append(
            f'<rect class="bar {css}" x="{box.x0}" y="{y}" width="{_f(max(w, 1.0))}" height="22"'
            f' data-tip="{tip}"><title>{tip}</title></rect>'
        )
        out.append(f'<text class="val" x="{_f(box.x0 + max(w, 1.0) + 6)}" y="{y + 16}">{escape(text)}</text>')
    out.append("</svg>")
    return "".join(out)


def _empty(box: Box, text: str) -> str:
    return f'<text class="empty" x="{box.width / 2:.0f}" y="{box.height / 2:.0f}">{escape(text)}</text>'
