"""A small SVG writer for the report's charts: per-series histograms on a log axis.

Each series (a backend, device and dtype) is one row; its values are counted in bins of equal
width in log10 (``per_decade`` bins per decade, so decades are bin edges and a pass line at 1
never splits a bin). Values below the axis (including exact zeros) go to an underflow bin left
of the axis, values above it and infinities to an overflow bin on the right. A bar's height is
its count relative to the row's largest bin. The output is a standalone, well-formed
``<svg>`` element meant to be inlined in HTML.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#2ca02c", "#ff7f0e", "#393b79", "#637939", "#843c39")
FAIL_FILL = "#d62728"


@dataclass(frozen=True)
class LogAxis:
    """Maps [lo, hi] (decade bounds) linearly in log10 onto pixels [x0, x1]."""

    lo: float
    hi: float
    x0: float
    x1: float

    def __post_init__(self) -> None:
        if not (0 < self.lo < self.hi) or self.x1 <= self.x0:
            raise ValueError(f"bad log axis: lo={self.lo} hi={self.hi} x0={self.x0} x1={self.x1}")

    def x(self, value: float) -> float:
        """Pixel position of ``value`` (clamped to the axis)."""
        t = (math.log10(value) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        return self.x0 + min(max(t, 0.0), 1.0) * (self.x1 - self.x0)

    def decades(self) -> list[float]:
        a, b = round(math.log10(self.lo)), round(math.log10(self.hi))
        return [10.0 ** k for k in range(a, b + 1)]


def decade_range(values: Sequence[float | None], *, include: Sequence[float] = (),
                 floor: float = 1e-8, ceil: float = 1e4) -> tuple[float, float]:
    """The smallest decade-aligned [lo, hi] holding every positive finite value and
    ``include``, clipped to [floor, ceil]; always at least one decade wide."""
    pos = [v for v in list(values) + list(include)
           if v is not None and math.isfinite(v) and v > 0]
    if not pos:
        return (max(floor, 0.1), min(ceil, 10.0))
    # The exponents stay within float64's range: a ULP count near its maximum (an error
    # beside an exact zero, whose ULP is subnormal) would make 10.0 ** 309 overflow.
    lo = max(10.0 ** max(math.floor(math.log10(min(pos))), -307), floor)
    hi = min(10.0 ** min(math.ceil(math.log10(max(pos))), 308), ceil)
    if hi <= lo:
        hi = lo * 10.0
    return lo, hi


def bin_counts(values: Sequence[float | None], lo: float, hi: float,
               per_decade: int) -> tuple[int, list[int], int]:
    """(underflow, counts per bin, overflow); None values are not counted."""
    n_bins = round(math.log10(hi / lo)) * per_decade
    counts = [0] * n_bins
    under = over = 0
    for v in values:
        if v is None or math.isnan(v):
            continue
        if v < lo:
            under += 1
        elif v > hi:
            over += 1
        else:
            k = math.floor((math.log10(v) - math.log10(lo)) * per_decade + 1e-9)
            counts[min(k, n_bins - 1)] += 1
    return under, counts, over


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    colour: str = ""


def fmt_decade(v: float) -> str:
    k = round(math.log10(v))
    return {0: "1", 1: "10", 2: "100", -1: "0.1", -2: "0.01"}.get(k, f"1e{k}")


RIGHT, GUTTER, ROW_H, TOP, BOTTOM = 12, 30, 24, 22, 46
PLOT_W = 400  # the axis and both gutters; the label margin is added to the left of it
CHAR_W = 6.4  # a generous average advance of 11px sans-serif, so labels are never cut


def label_margin(series: Sequence[Series]) -> int:
    """Left margin wide enough for the longest row label and its count."""
    longest = max((len(s.label) + len(f" n={len(s.values)}") for s in series), default=10)
    return int(min(max(12 + CHAR_W * longest, 100), 420))


def histogram_rows(series: Sequence[Series], *, lo: float, hi: float, per_decade: int = 2,
                   pass_line: float | None = None, title: str = "", x_label: str = "",
                   plot_width: int = PLOT_W) -> str:
    """One histogram row per series on a shared log axis; bins at or beyond ``pass_line``
    are filled in the failure colour. Returns an ``<svg>`` element as text."""
    left = label_margin(series)
    width = left + plot_width + RIGHT
    height = TOP + ROW_H * max(len(series), 1) + BOTTOM
    axis = LogAxis(lo, hi, left + GUTTER, width - RIGHT - GUTTER)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             f'<text x="{left}" y="14" class="ct">{escape(title)}</text>']
    parts += _grid(axis, height, pass_line)
    for i, s in enumerate(series):
        colour = s.colour or PALETTE[i % len(PALETTE)]
        parts += _row(s, axis, TOP + i * ROW_H, colour, per_decade, pass_line, left)
    parts += _ticks(axis, height)
    if x_label:
        parts.append(f'<text x="{(axis.x0 + axis.x1) / 2:.1f}" y="{height - 3}" '
                     f'text-anchor="middle" class="cl">{escape(x_label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _grid(axis: LogAxis, height: int, pass_line: float | None) -> list[str]:
    out = []
    for d in axis.decades():
        x = axis.x(d)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{height - BOTTOM}" '
                   f'stroke="#ddd" stroke-width="1"/>')
    if pass_line is not None:
        x = axis.x(pass_line)
        out.append(f'<line class="pass-line" x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" '
                   f'y2="{height - BOTTOM + 4}" stroke="{FAIL_FILL}" stroke-width="1.5" '
                   f'stroke-dasharray="4 2"><title>pass line: ratio = '
                   f'{fmt_decade(pass_line)}</title></line>')
    return out


def _ticks(axis: LogAxis, height: int) -> list[str]:
    # The underflow and overflow labels sit a line lower than the decades, which they adjoin.
    y = height - BOTTOM + 14
    out = [f'<text x="{axis.x0 - GUTTER / 2:.1f}" y="{y + 12}" text-anchor="middle" class="tk">'
           f'&lt;{fmt_decade(axis.lo)}</text>',
           f'<text x="{axis.x1 + GUTTER / 2:.1f}" y="{y + 12}" text-anchor="middle" class="tk">'
           f'&gt;{fmt_decade(axis.hi)}</text>']
    out += [f'<text x="{axis.x(d):.1f}" y="{y}" text-anchor="middle" class="tk">'
            f'{fmt_decade(d)}</text>' for d in axis.decades()]
    return out


def _row(s: Series, axis: LogAxis, y: float, colour: str, per_decade: int,
         pass_line: float | None, left: int) -> list[str]:
    under, counts, over = bin_counts(s.values, axis.lo, axis.hi, per_decade)
    n = under + sum(counts) + over
    peak = max([under, over, *counts, 1])
    bar_h = ROW_H - 6
    out = [f'<text x="{left - 6}" y="{y + ROW_H / 2 + 4:.1f}" text-anchor="end" class="rl">'
           f'{escape(s.label)} <tspan class="rn">n={n}</tspan></text>',
           f'<line x1="{axis.x0 - GUTTER}" y1="{y + ROW_H - 2}" x2="{axis.x1 + GUTTER}" '
           f'y2="{y + ROW_H - 2}" stroke="#bbb" stroke-width="0.5"/>']
    step = (axis.x1 - axis.x0) / len(counts)
    edges = [axis.lo * 10.0 ** (k / per_decade) for k in range(len(counts) + 1)]
    bins = [(axis.x0 - GUTTER + 2, GUTTER - 4, under, f"below {fmt_decade(axis.lo)}", False)]
    for k, c in enumerate(counts):
        failing = pass_line is not None and edges[k] >= pass_line * (1 - 1e-12)
        bins.append((axis.x0 + k * step + 0.5, step - 1, c,
                     f"[{edges[k]:.3g}, {edges[k + 1]:.3g}]", failing))
    over_failing = pass_line is not None and axis.hi >= pass_line
    bins.append((axis.x1 + 2, GUTTER - 4, over, f"above {fmt_decade(axis.hi)} or infinite",
                 over_failing))
    for x, w, c, where, failing in bins:
        if c == 0:
            continue
        h = max(bar_h * c / peak, 4.0)  # a lone outlier must stay visible
        fill = FAIL_FILL if failing else colour
        out.append(f'<rect class="bar" x="{x:.1f}" y="{y + ROW_H - 2 - h:.1f}" width="{w:.1f}" '
                   f'height="{h:.1f}" fill="{fill}"><title>{escape(s.label)}: {c} of {n} '
                   f'{where}</title></rect>')
    return out
