"""Inline SVG charts written as text: no plotting dependency, nothing fetched when the page opens.

Each function returns one ``<svg>`` element with ``role="img"`` and a ``<title>``, so a screen
reader (and a test) can tell the charts apart. Coordinates are rounded to 0.1 px to keep files small.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

FONT = 12
GRID = "#e3e6ea"
AXIS = "#5b6470"


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10^k) from low up to high."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _svg(width: float, height: float, title: str, body: list[str], css_class: str) -> str:
    return (
        f'<svg class="{css_class}" role="img" aria-label="{esc(title)}" viewBox="0 0 {_n(width)} '
        f'{_n(height)}" width="{_n(width)}" height="{_n(height)}"><title>{esc(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = FONT, extra: str = "") -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}"{extra}>{esc(text)}</text>'
    )


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    low: float | None = None
    high: float | None = None
    tooltip: str = ""


@dataclass(frozen=True)
class Series:
    label: str
    color: str
    points: list[Point] = field(default_factory=list)
    dashed: bool = False


@dataclass(frozen=True)
class LineChart:
    title: str
    x_label: str
    y_label: str
    series: list[Series]
    ideal: bool = False
    """Draw y = x (perfect scaling) as a dashed reference line."""
    x_marker: tuple[float, str] | None = None
    """A vertical line (value, label), e.g. the usable core count."""
    shade_beyond_marker: bool = True
    """Shade the region right of the marker (oversubscribed, for CPU-bound work)."""
    log_x: bool = False
    width: int = 640
    height: int = 320


@dataclass(frozen=True)
class _PlotArea:
    """Where a line chart draws its data, and how a value becomes a pixel there."""

    # Pixels are ints so that the frame's coordinates print as written (``x="52"``).
    left: int
    top: int
    width: int
    height: int
    x_hi: float
    """The largest x shown (data or marker); the scale pads past it on both sides."""
    y_hi: float
    log_x: bool
    scale_lo: float
    scale_hi: float
    """The x scale's ends, in log2 units when ``log_x``."""

    def fx(self, x: float) -> float:
        value = math.log2(max(x, 1.0)) if self.log_x else x
        return self.left + (value - self.scale_lo) / (self.scale_hi - self.scale_lo) * self.width

    def fy(self, y: float) -> float:
        return self.top + self.height - y / self.y_hi * self.height


def _plot_area(chart: LineChart, xs: list[float]) -> _PlotArea:
    left, right, top, bottom = 52, 190, 16, 44
    x_hi = max([*xs, chart.x_marker[0] if chart.x_marker else 1.0, 2.0])
    ys = [v for s in chart.series for p in s.points for v in (p.y, p.high or p.y)]
    y_hi = max([*ys, x_hi if chart.ideal else 1.0, 1.0]) * 1.08
    # Pad the x range so markers at the extremes (nudged sideways) stay inside the frame.
    if chart.log_x:
        lo, hi = -0.3, math.log2(x_hi) + 0.3
    else:
        pad = 0.5 if x_hi <= 12 else x_hi * 0.04
        lo, hi = 1.0 - pad, x_hi + pad
    width, height = chart.width - left - right, chart.height - top - bottom
    return _PlotArea(left, top, width, height, x_hi, y_hi, chart.log_x, scale_lo=lo, scale_hi=hi)


def _grid(area: _PlotArea, xs: list[float]) -> list[str]:
    """Horizontal lines at round speedups, vertical ones at the worker counts, with their labels."""
    left, top, pw, ph = area.left, area.top, area.width, area.height
    out = []
    for tick in nice_ticks(0, area.y_hi, 5):
        if tick > area.y_hi:
            continue
        y = area.fy(tick)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{_n(y)}" y2="{_n(y)}" stroke="{GRID}"/>')
        out.append(_text(left - 6, y + 4, f"{tick:g}×", "end"))
    for tick in _x_ticks(xs, area.x_hi, area.log_x):
        x = area.fx(tick)
        out.append(f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{top}" y2="{top + ph}" stroke="{GRID}"/>')
        out.append(_text(x, top + ph + 16, f"{tick:g}", "middle"))
    return out


def _x_marker(area: _PlotArea, value: float, label: str) -> list[str]:
    """The dashed vertical line (e.g. the usable cores) and its label, on whichever side has room."""
    top, ph = area.top, area.height
    mx = area.fx(value)
    room = area.left + area.width - mx > 8 * len(label)
    return [
        f'<line x1="{_n(mx)}" x2="{_n(mx)}" y1="{top}" y2="{top + ph}" stroke="#c98a1b" '
        'stroke-dasharray="4 3"/>',
        _text(
            mx + 4 if room else mx - 4,
            top + 13,
            label,
            "start" if room else "end",
            size=11,
            extra=' fill="#8a5a00"',
        ),
    ]


def line_chart(chart: LineChart) -> str:
    xs = [p.x for s in chart.series for p in s.points] or [1.0]
    area = _plot_area(chart, xs)
    left, top, pw, ph = area.left, area.top, area.width, area.height
    fx, fy = area.fx, area.fy
    body = [f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="{GRID}"/>']
    if chart.x_marker is not None and chart.shade_beyond_marker and chart.x_marker[0] < area.x_hi:
        mx = fx(chart.x_marker[0])
        body.append(
            f'<rect x="{_n(mx)}" y="{top}" width="{_n(left + pw - mx)}" height="{ph}" fill="#fbf3e4"/>'
        )
    body += _grid(area, xs)
    if chart.x_marker is not None:
        body += _x_marker(area, *chart.x_marker)
    if chart.ideal:
        end = min(area.x_hi, area.y_hi)
        body.append(
            f'<line x1="{_n(fx(1))}" y1="{_n(fy(1))}" x2="{_n(fx(end))}" y2="{_n(fy(end))}" '
            f'stroke="{AXIS}" stroke-dasharray="6 4"/>'
        )
    body.append(_text(left + pw / 2, chart.height - 8, chart.x_label, "middle"))
    body.append(
        _text(14, top + ph / 2, chart.y_label, "middle", extra=f' transform="rotate(-90 14 {top + ph / 2})"')
    )
    body += _series_marks(chart.series, fx, fy)
    body += _legend(chart, left + pw + 14, top)
    return _svg(chart.width, chart.height, chart.title, body, "chart line-chart")


def _x_ticks(xs: list[float], x_hi: float, log_x: bool) -> list[float]:
    if log_x:
        return [2.0**k for k in range(int(math.log2(x_hi)) + 1)]
    distinct = sorted(set(xs) | {1.0})
    if len(distinct) <= 12:
        return distinct
    return [t for t in nice_ticks(0, x_hi, 8) if t >= 1]


def _series_marks(
    series: list[Series], fx: Callable[[float], float], fy: Callable[[float], float]
) -> list[str]:
    """Lines, whiskers and markers; series sharing an x are nudged apart so none hides another."""
    out: list[str] = []
    count = len(series)
    for index, s in enumerate(series):
        dodge = (index - (count - 1) / 2) * 6
        pts = sorted(s.points, key=lambda p: p.x)
        if len(pts) > 1:
            path = " ".join(f"{_n(fx(p.x) + dodge)},{_n(fy(p.y))}" for p in pts)
            dash = ' stroke-dasharray="3 3"' if s.dashed else ""
            out.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2"{dash}/>')
        for p in pts:
            x = fx(p.x) + dodge
            if p.low is not None and p.high is not None:
                out.append(
                    f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(fy(p.low))}" y2="{_n(fy(p.high))}" '
                    f'stroke="{s.color}" stroke-width="1.5"/>'
                )
            tip = f"<title>{esc(p.tooltip)}</title>" if p.tooltip else ""
            out.append(
                f'<circle cx="{_n(x)}" cy="{_n(fy(p.y))}" r="4" fill="{s.color}" stroke="#fff">{tip}</circle>'
            )
    return out


def _legend(chart: LineChart, x: float, y: float) -> list[str]:
    out = []
    row = 0
    for s in chart.series:
        yy = y + 8 + row * 18
        out.append(f'<rect x="{_n(x)}" y="{_n(yy - 8)}" width="12" height="12" fill="{s.color}"/>')
        out.append(_text(x + 18, yy + 2, s.label))
        row += 1
    if chart.ideal:
        yy = y + 8 + row * 18
        out.append(
            f'<line x1="{_n(x)}" x2="{_n(x + 12)}" y1="{_n(yy - 2)}" y2="{_n(yy - 2)}" stroke="{AXIS}" '
            'stroke-dasharray="4 2"/>'
        )
        out.append(_text(x + 18, yy + 2, "ideal (speedup = workers)"))
    return out


@dataclass(frozen=True)
class Segment:
    name: str
    color: str


def stacked_bars(
    title: str,
    segments: Sequence[Segment],
    rows: Sequence[tuple[str, Sequence[float], str]],
    value_format: Callable[[float], str],
    width: int = 640,
) -> str:
    """Horizontal bars, one per (label, parts, note); parts follow ``segments`` in order.

    The note goes on its own line under the bar, so small parts stay readable as numbers.
    """
    left, right, row_h, top = 170, 24, 36, 30
    pw = width - left - right
    longest = max((sum(parts) for _, parts, _ in rows), default=0.0) or 1.0
    height = top + row_h * len(rows) + 22
    body = []
    lx = left
    for seg in segments:
        body.append(f'<rect x="{lx}" y="6" width="12" height="12" fill="{seg.color}"/>')
        body.append(_text(lx + 16, 16, seg.name, size=11))
        lx += 26 + int(len(seg.name) * 6.5)
    bottom = top + row_h * len(rows)
    for tick in nice_ticks(0, longest, 5):
        if tick > longest * 1.0001:
            continue
        x = left + tick / longest * pw
        body.append(f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{top - 4}" y2="{bottom}" stroke="{GRID}"/>')
        body.append(_text(x, bottom + 14, value_format(tick), "middle", size=11))
    for i, (label, parts, note) in enumerate(rows):
        y = top + i * row_h
        body.append(_text(left - 8, y + 14, label, "end"))
        x = float(left)
        for seg, value in zip(segments, parts, strict=True):
            w = max(0.0, value) / longest * pw
            if w > 0:
                body.append(
                    f'<rect x="{_n(x)}" y="{y + 3}" width="{_n(max(w, 0.8))}" height="14" fill="{seg.color}">'
                    f"<title>{esc(f'{label}: {seg.name} {value_format(value)}')}</title></rect>"
                )
            x += w
        if note:
            body.append(_text(left + 2, y + 29, note, size=11, extra=' fill="#52606d"'))
    return _svg(width, height, title, body, "chart bar-chart")


def heat_color(fraction: float) -> str:
    """White (idle) to deep blue (100 % busy)."""
    f = min(1.0, max(0.0, fraction))
    r, g, b = (round(255 + (c - 255) * f) for c in (21, 75, 160))
    return f"#{r:02x}{g:02x}{b:02x}"


def core_timeline(title: str, samples: Sequence[Sequence[float]], interval_s: float, width: int = 460) -> str:
    """Per-core busy fraction over time as a heat strip, with the summed busy cores above it."""
    cores = max((len(row) for row in samples), default=0)
    left, top, area_h = 62, 8, 46
    row_h = max(7, min(18, 150 // max(cores, 1)))
    pw = width - left - 10
    strip_top = top + area_h + 8
    height = strip_top + row_h * cores + 26
    n = len(samples)
    body: list[str] = []
    cell_w = pw / max(n, 1)
    body.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{area_h}" fill="#fff" stroke="{GRID}"/>')
    body.append(_text(left - 6, top + 10, f"{cores} cores", "end", size=10))
    body.append(_text(left - 6, top + area_h, "0", "end", size=10))
    one = top + area_h - area_h / max(cores, 1)
    body.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{_n(one)}" y2="{_n(one)}" stroke="#c98a1b" '
        'stroke-dasharray="3 3"/>'
    )
    body.append(_text(left - 6, one + 4, "1 core", "end", size=10))
    if n:
        pts = [f"{left},{top + area_h}"]
        for i, row in enumerate(samples):
            y = top + area_h - min(sum(row), cores) / max(cores, 1) * area_h
            pts += [f"{_n(left + i * cell_w)},{_n(y)}", f"{_n(left + (i + 1) * cell_w)},{_n(y)}"]
        pts.append(f"{left + pw},{top + area_h}")
        body.append(f'<polygon points="{" ".join(pts)}" fill="#9bb7e0" stroke="#154ba0"/>')
    for c in range(cores):
        y = strip_top + c * row_h
        body.append(_text(left - 6, y + row_h - 1, f"cpu{c}", "end", size=10))
        for i, row in enumerate(samples):
            value = row[c] if c < len(row) else 0.0
            body.append(
                f'<rect x="{_n(left + i * cell_w)}" y="{y}" width="{_n(cell_w + 0.3)}" height="{row_h - 1}" '
                f'fill="{heat_color(value)}"/>'
            )
    body.append(
        f'<rect x="{left}" y="{strip_top}" width="{pw}" height="{row_h * cores}" '
        f'fill="none" stroke="{GRID}"/>'
    )
    total = n * interval_s
    for tick in nice_ticks(0, total, 4):
        if tick > total + 1e-9:
            continue
        x = left + tick / max(total, 1e-9) * pw
        anchor = "end" if x > left + pw - 12 else "middle"
        body.append(_text(x, strip_top + row_h * cores + 14, f"{tick:g} s", anchor, size=10))
    return _svg(width, height, title, body, "chart timeline")
