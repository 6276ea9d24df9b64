"""The "Compare over time" line chart, laid out for a server-side SVG (no JavaScript).

One line per query over the histogram's periods, counts or per 1,000
articles of the period. Lines differ by colour *and* dash pattern, and by
marker shape where there are few enough periods for markers, so they can be
told apart without colour; every marker has a title and links to that
query's results in its period. A period without any article breaks a
normalised line instead of drawing it at zero.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from indexer.trends import Histogram

from .present import MONTHS

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 10, 46  # room for the y labels and two rows of x labels
MAX_LABELS = 12
TICKS = 4  # grid lines above the baseline
MAX_MARKERS = 60  # periods; beyond, only the lines (the table below has every number)
MARKERS = ("circle", "square", "triangle", "diamond", "cross")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str  # "oil, March 1987: 21 articles (122.8 per 1,000)"
    date_from: str
    date_to: str


@dataclass(frozen=True)
class Line:
    number: int  # 1..5: the CSS class series-N
    query: str
    label: str  # the query, or "all articles"
    total: int
    path: str  # SVG path data; "M" starts a new piece after a gap
    points: list[Point]
    marker: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    text: str
    context: str  # second row: the year (or month and year for days), where it changes


@dataclass(frozen=True)
class TrendChart:
    interval: str
    normalised: bool
    lines: list[Line]
    y_ticks: list[Tick]
    x_labels: list[XLabel]
    markers: bool
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM
    label_y: int = HEIGHT - BOTTOM + 18
    context_y: int = HEIGHT - BOTTOM + 36

    @property
    def unit(self) -> str:
        return "articles per 1,000 of the period" if self.normalised else "matching articles"


def trend_chart(result: Histogram, normalised: bool) -> TrendChart | None:
    """The chart, or None when there is no dated period to draw."""
    buckets = result.buckets
    if not buckets:
        return None
    values = [[v for v in (s.per_1000 if normalised else s.counts)] for s in result.series]
    highest = max((v for row in values for v in row if v is not None), default=0)
    step = nice_ceiling(highest / TICKS)
    top = TICKS * (max(1, math.ceil(step)) if not normalised else step)  # whole-number ticks for counts
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / len(buckets)

    def x_of(i: int) -> float:
        return round(LEFT + (i + 0.5) * slot, 1)

    def y_of(value: float) -> float:
        return round(TOP + plot_height * (1 - value / top), 1)

    lines = []
    for number, (series, row) in enumerate(zip(result.series, values), 1):
        label = series.query.strip() or "all articles"
        pieces: list[list[str]] = [[]]  # runs of periods with a value; a gap starts a new one
        points = []
        for i, (bucket, value) in enumerate(zip(buckets, row)):
            if value is None:
                pieces.append([])
                continue
            x, y = x_of(i), y_of(value)
            pieces[-1].append(f"{x},{y}")
            count = series.counts[i]
            rate = series.per_1000[i]
            points.append(Point(x, y, f"{label}, {period_name(result.interval, bucket.key)}: {count:,} "
                                      f"article{'s' if count != 1 else ''}"
                                      + (f" ({rate:,.1f} per 1,000)" if rate is not None else ""),
                                bucket.start.isoformat(), bucket.end.isoformat()))
        lines.append(Line(number, series.query, label, series.total, _path(pieces), points,
                          MARKERS[(number - 1) % len(MARKERS)]))
    ticks = [Tick(y_of(top * k / TICKS), _number(top * k / TICKS)) for k in range(TICKS + 1)]
    return TrendChart(result.interval, normalised, lines, ticks, _x_labels(result, x_of),
                      markers=len(buckets) <= MAX_MARKERS)


def _path(pieces: list[list[str]]) -> str:
    """SVG path data; a lone point is drawn as a zero-length segment (a dot, with round caps)."""
    parts = []
    for piece in pieces:
        if piece:
            parts.append(f"M{piece[0]} " + " ".join(f"L{p}" for p in (piece[1:] or piece)))
    return " ".join(parts)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above ``value`` (1 for nothing)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power + 1e-9:
            return step * power
    return 10 * power


def period_name(interval: str, key: str) -> str:
    """'1987', 'March 1987', 'week 9 of 1987', '2 March 1987'."""
    if interval == "month":
        return f"{MONTHS[int(key[5:7]) - 1]} {key[:4]}"
    if interval == "week":
        return f"week {int(key[6:])} of {key[:4]}"
    if interval == "day":
        return f"{int(key[8:])} {MONTHS[int(key[5:7]) - 1]} {key[:4]}"
    return key


def _x_labels(result: Histogram, x_of) -> list[XLabel]:
    every = -(-len(result.buckets) // MAX_LABELS)
    labels, last_context = [], None
    for i, bucket in enumerate(result.buckets):
        if i % every:
            continue
        key = bucket.key
        if result.interval == "year":
            text, context = key, ""
        elif result.interval == "month":
            text, context = MONTHS[int(key[5:7]) - 1][:3], key[:4]
        elif result.interval == "week":
            text, context = f"W{key[6:]}", key[:4]
        else:
            text, context = str(int(key[8:])), f"{MONTHS[int(key[5:7]) - 1][:3]} {key[:4]}"
        labels.append(XLabel(x_of(i), text, context if context != last_context else ""))
        last_context = context
    return labels


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}".rstrip("0").rstrip(".")
