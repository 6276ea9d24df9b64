"""Trends over time: how many articles match each query, per year, month, week or day.

What a date histogram in Kibana gives, over the archive: one series per
query, every period between the first and the last present (empty ones as
0, Elasticsearch's ``min_doc_count: 0`` with ``extended_bounds``), in UTC.
Each series also comes per 1,000 articles of the period, counted with the
same filters, so a growing archive does not look like a growing topic.

Periods are whole calendar units: years, months, ISO weeks (Monday to
Sunday, keyed ``2024-W09``) and days. The range is the date filter when
given, otherwise the first and last dated match of any series. Undated
articles belong to no period; each series says how many there were, so
``sum(counts) + undated == total`` always holds.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from .config import Settings
from .live import reads_index
from .search import QueryError, SearchFilters, matches

INTERVALS = ("year", "month", "week", "day")
AUTO = "auto"
MAX_QUERIES = 5  # series on one chart, and q values in one request
MAX_BUCKETS = 10_000  # Elasticsearch's search.max_buckets is 65,536; a chart needs far fewer
AUTO_MAX_BUCKETS = 120  # "auto" picks the finest interval with at most this many periods
PER = 1000
_EPOCH = date(1970, 1, 1)


@dataclass
class Bucket:
    key: str  # "1987", "1987-03", "1987-W09", "1987-03-02"
    start: date  # first day of the period
    end: date  # last day of the period


@dataclass
class Series:
    query: str
    total: int  # every match, dated or not
    undated: int
    counts: list[int]  # one per bucket
    per_1000: list[float | None]  # per 1,000 articles of the period; None where it has none
    notices: list[str]


@dataclass
class Histogram:
    interval: str
    buckets: list[Bucket]
    articles: list[int]  # every article of each period under the filters: the normalisation base
    series: list[Series]
    generation: str
    built: str | None

    def to_dict(self) -> dict:
        """The JSON of GET /api/histogram."""
        return {
            "interval": self.interval,
            "buckets": [{"key": b.key, "from": b.start.isoformat(), "to": b.end.isoformat()} for b in self.buckets],
            "articles": self.articles,
            "series": [{"query": s.query, "total": s.total, "undated": s.undated, "counts": s.counts,
                        "per_1000": s.per_1000, "notices": s.notices} for s in self.series],
        }


@reads_index
def histogram(index, queries: list[str], interval: str = AUTO, filters: SearchFilters | None = None,
              settings: Settings | None = None) -> Histogram:
    """Counts of the articles each of ``queries`` matches per ``interval`` (one of INTERVALS, or auto)."""
    if not queries:
        raise QueryError("give at least one query (q); an empty q counts every article", "q")
    if len(queries) > MAX_QUERIES:
        raise QueryError(f"at most {MAX_QUERIES} queries can be compared at once (got {len(queries)})", "q")
    if interval not in (*INTERVALS, AUTO):
        raise QueryError(f"interval must be one of {', '.join((AUTO, *INTERVALS))} "
                         f"(got {str(interval)[:20]!r})", "interval")
    filters = filters or SearchFilters()
    found = [matches(index, q, filters, sort=None, settings=settings) for q in queries]
    everything = matches(index, "", filters, sort=None, settings=settings)
    days = [_days(m.published()) for m in found]
    first, last = _range(days, filters)
    if interval == AUTO:
        interval = auto_interval(first, last)
    keys, buckets = _bucketing(interval, first, last)
    base = _count(keys(_days(everything.published())), len(buckets))
    series = []
    for query_matches, query_days in zip(found, days):
        counts = _count(keys(query_days), len(buckets))
        series.append(Series(
            query=query_matches.query, total=query_matches.total,
            undated=int(np.isnan(query_matches.published()).sum()), counts=counts,
            per_1000=[round(PER * c / n, 3) if n else None for c, n in zip(counts, base)],
            notices=query_matches.notices))
    return Histogram(interval=interval, buckets=buckets, articles=base, series=series,
                     generation=everything.generation, built=everything.built)


def auto_interval(first: date | None, last: date | None) -> str:
    """The finest interval that shows the range in at most AUTO_MAX_BUCKETS periods."""
    if first is None or last is None:
        return "year"
    for interval in ("day", "week", "month"):
        if _bucket_count(interval, first, last) <= AUTO_MAX_BUCKETS:
            return interval
    return "year"


def _days(timestamps: np.ndarray) -> np.ndarray:
    """UTC days since 1970-01-01 of the dated ones (undated dropped)."""
    dated = timestamps[~np.isnan(timestamps)]
    return np.floor(dated / 86400).astype(np.int64)


def _range(days: list[np.ndarray], filters: SearchFilters) -> tuple[date | None, date | None]:
    dated = [d for d in days if len(d)]
    first = filters.date_from or (_EPOCH + timedelta(days=int(min(d.min() for d in dated))) if dated else None)
    last = filters.date_to or (_EPOCH + timedelta(days=int(max(d.max() for d in dated))) if dated else None)
    return first, last


def _bucket_count(interval: str, first: date, last: date) -> int:
    if interval == "year":
        return last.year - first.year + 1
    if interval == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    if interval == "week":
        return (_monday(last) - _monday(first)).days // 7 + 1
    return (last - first).days + 1


def _bucketing(interval: str, first: date | None, last: date | None):
    """(days -> bucket numbers, buckets) for the range; no buckets when nothing is dated."""
    if first is None or last is None:
        return (lambda days: days[:0]), []
    count = _bucket_count(interval, first, last)
    if count > MAX_BUCKETS:
        raise QueryError(f"by {interval} from {first} to {last} makes {count:,} periods; the most is "
                         f"{MAX_BUCKETS:,}: choose a longer interval or a shorter date range", "interval")
    if interval == "day":
        origin = (first - _EPOCH).days
        buckets = [Bucket(d.isoformat(), d, d) for d in (first + timedelta(days=i) for i in range(count))]
        return (lambda days: days - origin), buckets
    if interval == "week":
        monday = _monday(first)
        origin = (monday - _EPOCH).days
        buckets = []
        for i in range(count):
            start = monday + timedelta(weeks=i)
            year, week, _ = start.isocalendar()
            buckets.append(Bucket(f"{year:04d}-W{week:02d}", start, start + timedelta(days=6)))
        return (lambda days: (days - origin) // 7), buckets
    dates = lambda days: days.astype("datetime64[D]")  # noqa: E731
    if interval == "month":
        origin = first.year * 12 + first.month - 1
        buckets = []
        for i in range(count):
            year, month = divmod(origin + i, 12)
            start = date(year, month + 1, 1)
            end = date(year + (month == 11), (month + 1) % 12 + 1, 1) - timedelta(days=1)
            buckets.append(Bucket(f"{year:04d}-{month + 1:02d}", start, end))
        return (lambda days: dates(days).astype("datetime64[M]").astype(np.int64) + 1970 * 12 - origin), buckets
    buckets = [Bucket(f"{y:04d}", date(y, 1, 1), date(y, 12, 31)) for y in range(first.year, last.year + 1)]
    return (lambda days: dates(days).astype("datetime64[Y]").astype(np.int64) + 1970 - first.year), buckets


def _count(bucket_numbers: np.ndarray, buckets: int) -> list[int]:
    inside = bucket_numbers[(bucket_numbers >= 0) & (bucket_numbers < buckets)]
    return np.bincount(inside, minlength=buckets).astype(int).tolist() if buckets else []


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
