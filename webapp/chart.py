"""The results page's bar chart of matching articles over time, laid out for a server-side SVG.

By month when the search returned a month facet (a from/to range of up to
about three years), otherwise by year. Periods without matches inside the
range get an empty slot, so the time axis is honest; every bar links to a
search filtered to its period.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from indexer.search import FacetValue, SearchResults

from .present import MONTHS

WIDTH, PLOT_HEIGHT, LABEL_ROW = 600, 96, 20
MAX_LABELS = 12
MIN_BAR_HEIGHT = 2  # a single article still shows
MAX_FILLED_YEARS = 80  # a wider span of years shows only the years with matches


@dataclass(frozen=True)
class Bar:
    period: str  # "1987" or "1987-03": the from and to of its link
    label: str  # axis label ("1987", "Mar"), "" when left out for space
    year_label: str  # second row under month bars: the year, at the first bar and each January
    title: str  # "March 1987: 51 articles"
    count: int
    slot_x: float  # the bar's whole column: its link's click target
    slot_width: float
    x: float
    y: float
    width: float
    height: float
    label_x: float


@dataclass(frozen=True)
class Chart:
    unit: str  # "year" or "month"
    bars: list[Bar]
    width: int = WIDTH
    baseline: int = PLOT_HEIGHT
    label_y: int = PLOT_HEIGHT + LABEL_ROW
    year_label_y: int = PLOT_HEIGHT + 2 * LABEL_ROW

    @property
    def height(self) -> int:
        return PLOT_HEIGHT + LABEL_ROW * (2 if self.unit == "month" else 1) + 4


def timeline(results: SearchResults | None, date_from: date | None = None,
             date_to: date | None = None) -> Chart | None:
    """The chart for these results, or None when there are fewer than two periods to compare."""
    if results is None or not results.total:
        return None
    if "month" in results.facets and date_from and date_to:
        unit, counts = "month", _months(results.facets["month"], date_from, date_to)
    else:
        unit, counts = "year", _years(results.facets.get("year", []))
    if len(counts) < 2:
        return None
    return Chart(unit, _layout(unit, counts))


def _months(facet: list[FacetValue], start: date, end: date) -> list[tuple[str, int]]:
    found = {f.value: f.count for f in facet}
    periods, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        periods.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return [(p, found.get(p, 0)) for p in periods]


def _years(facet: list[FacetValue]) -> list[tuple[str, int]]:
    found = {int(f.value): f.count for f in facet if f.value.isdigit()}
    if not found:
        return []
    first, last = min(found), max(found)
    years = range(first, last + 1) if last - first < MAX_FILLED_YEARS else sorted(found)
    return [(f"{y:04d}", found.get(y, 0)) for y in years]


def _layout(unit: str, counts: list[tuple[str, int]]) -> list[Bar]:
    slot = WIDTH / len(counts)
    bar_width = min(slot * 0.72, 56)
    tallest = max(count for _, count in counts) or 1
    label_every = -(-len(counts) // MAX_LABELS)
    bars = []
    for i, (period, count) in enumerate(counts):
        height = max(round(PLOT_HEIGHT * count / tallest, 1), MIN_BAR_HEIGHT) if count else 0
        starts_year = unit == "month" and (i == 0 or period.endswith("-01"))
        bars.append(Bar(
            period=period, label=_label(unit, period) if i % label_every == 0 else "",
            year_label=period[:4] if starts_year else "",
            title=f"{_long(unit, period)}: {count:,} article{'s' if count != 1 else ''}", count=count,
            slot_x=round(i * slot, 1), slot_width=round(slot, 1), x=round(i * slot + (slot - bar_width) / 2, 1),
            y=round(PLOT_HEIGHT - height, 1), width=round(bar_width, 1), height=height,
            label_x=round(i * slot + slot / 2, 1)))
    return bars


def _label(unit: str, period: str) -> str:
    """'1987', or 'Mar' for a month."""
    return period if unit == "year" else MONTHS[int(period[5:]) - 1][:3]


def _long(unit: str, period: str) -> str:
    if unit == "year":
        return period
    year, month = period.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"
