"""Facets: matches counted per source, language, year and (for a narrow range) month.

Counted over the whole result set with numpy (bincount), each facet ignoring its
own filter (:class:`~indexer.search.evaluate._Result`'s ``facet_masks``).
"""
from __future__ import annotations

import numpy as np

from ..engine import Corpus
from .evaluate import _Result
from .results import UNKNOWN_SOURCE, FacetValue, SearchFilters

MONTH_FACET_MAX_DAYS = 3 * 366  # months are counted for a date range up to this long
MONTH_FACET_MAX_YEARS = 3  # ... or when all matches fall within this many years


def _facets(corpus: Corpus, result: _Result, filters: SearchFilters) -> dict[str, list[FacetValue]]:
    src = np.bincount(corpus.source_codes[result.facet_masks["source"]], minlength=len(corpus.source_names))
    sources = sorted(((corpus.source_names[i], int(c)) for i, c in enumerate(src) if c),
                     key=lambda vc: (-vc[1], vc[0]))
    years = _value_counts(corpus.years[result.facet_masks["year"]])
    languages = sorted(((name, c) for name, c in _language_counts(corpus, result.facet_masks["language"]).items()
                        if c), key=lambda vc: (-vc[1], vc[0]))
    facets = {"source": [FacetValue(v or UNKNOWN_SOURCE, c) for v, c in sources],
              "language": [FacetValue(v, c) for v, c in languages],
              "year": [FacetValue(f"{y:04d}", c) for y, c in sorted(years.items())]}
    narrow_filter = filters.date_from and filters.date_to and \
        (filters.date_to - filters.date_from).days <= MONTH_FACET_MAX_DAYS
    matched_years = [int(f.value) for f in facets["year"]]
    narrow_matches = matched_years and max(matched_years) - min(matched_years) < MONTH_FACET_MAX_YEARS
    if narrow_filter or narrow_matches:
        months = _value_counts(corpus.months[result.mask])
        facets["month"] = [FacetValue(f"{m // 100:04d}-{m % 100:02d}", c) for m, c in sorted(months.items())]
    return facets


def _language_counts(corpus: Corpus, mask: np.ndarray) -> dict[str, int]:
    """Matches per language: the others' articles looked up, the commonest language by difference
    (an English archive with a few articles in other languages counts a few, not every match)."""
    present = list(corpus.languages())  # commonest first
    total = int(np.count_nonzero(mask))
    counts = {name: int(np.count_nonzero(mask[corpus.language_docs([name])])) for name in present[1:]}
    if present:
        counts[present[0]] = total - sum(counts.values())
    return counts


def _value_counts(values: np.ndarray) -> dict[int, int]:
    """Counts of the positive values (0 = undated), by bincount: Counter over a million is slow."""
    values = values[values > 0]
    if not len(values):
        return {}
    low = int(values.min())
    counts = np.bincount(values - low)
    present = np.flatnonzero(counts)
    return dict(zip((present + low).tolist(), counts[present].tolist()))
