"""Request checks and filters: paging and sort checked, dates and languages parsed,
the source and date filters as masks over the archive.

Apart from evaluation because the CLI and the web parameters parse dates and
languages with the same functions (a bad value is a :class:`QueryError` naming
its parameter), and the query's ``published:`` field reads dates as they do.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import numpy as np

from ..analysis import normalize_language
from ..engine import Corpus
from .results import SORTS, QueryError, SearchFilters, source_key


def _check_paging(page, per_page, sort, most: int) -> tuple[int, int, str]:
    try:
        page, per_page = int(page), int(per_page)
    except (TypeError, ValueError):
        raise QueryError("page and per_page must be whole numbers", "page") from None
    if page < 1:
        raise QueryError(f"page must be 1 or more (got {page})", "page")
    if not 1 <= per_page <= most:
        raise QueryError(f"per_page must be between 1 and {most} (got {per_page})", "per_page")
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)} (got {sort!r})", "sort")
    return page, per_page, sort


def _check_filters(filters: SearchFilters) -> None:
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise QueryError(f"from ({filters.date_from}) is after to ({filters.date_to})", "from")


def parse_day(value: str | None, param: str, end: bool = False, label: str | None = None) -> date | None:
    """'2024', '2024-03' or '2024-03-01' as a day (the first, or with end=True the last).

    ``param`` is the request parameter blamed on failure; ``label`` what the message calls it.
    """
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", value)
    try:
        if not m:
            raise ValueError
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
        if day:
            return date(year, int(month), int(day))
        if month:
            first = date(year, int(month), 1)
            if not end:
                return first
            return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return date(year, 12, 31) if end else date(year, 1, 1)
    except ValueError:
        raise QueryError(f"{label or param} must be a date like 2024, 2024-03 or 2024-03-01 "
                         f"(got {value[:40]!r})", param) from None


def parse_language(value: str, param: str) -> str:
    """A language filter's value (``de``, ``de-AT``, ``German``) as its ISO 639-1 code."""
    code = normalize_language(value)
    if code is None:
        raise QueryError(f"{param} must be a language code like en, de or fr (got {str(value)[:40]!r})", param)
    return code


def _filter_masks(corpus: Corpus, filters: SearchFilters, notices: list[str] | None = None):
    """(source mask, date mask), None where the filter is not set; a source named in the
    filter that no article has gets a notice (it would otherwise just empty the results)."""
    source_mask = date_mask = None
    if filters.sources:
        keys = corpus.memo("source_keys", lambda c: [source_key(name) for name in c.source_names])
        wanted = {source_key(name) for name in filters.sources}
        source_mask = np.isin(corpus.source_codes, [i for i, key in enumerate(keys) if key in wanted])
        known = set(keys)
        unknown = [name for name in filters.sources if source_key(name) not in known]
        if unknown and notices is not None:
            notices.append(f"no article has the source {', '.join(f'“{name}”' for name in unknown)}; "
                           f"the sources facet lists those the archive has")
    if filters.date_from or filters.date_to:
        date_mask = _date_mask(corpus, filters.date_from, filters.date_to)
    return source_mask, date_mask


def _date_mask(corpus: Corpus, start: date | None, end: date | None) -> np.ndarray:
    ts = corpus.timestamps
    mask = ~np.isnan(ts)
    if start:
        mask &= ts >= datetime(start.year, start.month, start.day, tzinfo=timezone.utc).timestamp()
    if end:
        nxt = end + timedelta(days=1)
        mask &= ts < datetime(nxt.year, nxt.month, nxt.day, tzinfo=timezone.utc).timestamp()
    return mask


def _all_of(mask: np.ndarray, *filters: np.ndarray | None) -> np.ndarray:
    """``mask`` narrowed by the filters given (None: no such filter; then ``mask`` itself)."""
    for other in filters:
        if other is not None:
            mask = mask & other
    return mask
