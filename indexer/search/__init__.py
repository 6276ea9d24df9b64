"""Search: one library API for the CLI, the pages and the JSON API.

``search()`` parses the query (never raising on odd input), evaluates it over
the live generation with BM25F (title weighted), applies filters, counts
facets over the whole result set, sorts, pages, and returns plain dataclasses
with highlighted, HTML-safe title and snippet for each hit.

Ranking: BM25F over title and body. RM3 pseudo-relevance feedback (terms
from the top documents re-weight a plain-word query) is off by default: on
held-out test collections it helped one in six (``settings.feedback``). Recency
is a sort option, never a hidden ranking factor.

Languages: every article was indexed in its own language, so a query is
analysed once per language the index holds and each analysis is evaluated
over the articles of its languages only (:mod:`.evaluate`). Languages whose
analysis of the query is identical (most words, in most languages) are one
evaluation, so an archive in one language searches exactly as before.
``lang:de`` in the query, or the ``languages`` filter, restricts the search
to those languages and analyses the query only their way.

Import from here (``from indexer.search import search``); the modules, one job each:

  api         the entry points: search, batch_search, get_article, has_article, related, index_info,
              warm, prepare, matches (every match, in order: feeds, exports, trends)
  results     the result types (SearchResults, Hit, ...), SearchFilters, QueryError
  filters     paging and sort checks, parse_day / parse_language, filter masks
  evaluate    a query over the archive: per language group, combined, filtered
  evaluator   one query in one language (words, phrases, prefix*, fields), the cost budget
  feedback    RM3 pseudo-relevance feedback
  languages   which languages a query searches, grouped by analysis; their notices
  terms       reading the parsed query: text nodes, prefixes, stopwords
  ranking     one page of results in order (top-k)
  facets      matches counted per source, language, year, month
  hits        Hit objects, highlighted
  didyoumean  when to suggest a corrected query, and whether it finds more
"""
from __future__ import annotations

from .api import (MATCH_SORTS, Matches, batch_search, get_article, has_article, index_info, matches, prepare,
                  related, search, warm)
from .didyoumean import SUGGEST_BELOW
from .evaluate import SMALL_GROUP_SHARE
from .evaluator import MAX_PREFIX_TERMS, MIN_PREFIX_CHARS
from .facets import MONTH_FACET_MAX_DAYS, MONTH_FACET_MAX_YEARS
from .feedback import FEEDBACK_DOCS, FEEDBACK_MIN_TERMS, FEEDBACK_ORIGINAL_WEIGHT, FEEDBACK_TERMS
from .filters import parse_day, parse_language
from .languages import VOCABULARY_SHARE
from .ranking import SAMPLE_FOR_THRESHOLD
from .results import (MAX_RESULT_WINDOW, SORTS, UNKNOWN_SOURCE, ArticleView, FacetValue, Hit, QueryError,
                      SearchFilters, SearchResults, iso_datetime, source_key)
from .terms import NOT_TEXT_FIELDS

__all__ = [
    # the API
    "search", "batch_search", "get_article", "has_article", "related", "index_info", "warm", "prepare", "matches",
    "parse_day", "parse_language",
    # what it returns and raises
    "SearchResults", "Hit", "FacetValue", "ArticleView", "Matches", "SearchFilters", "QueryError",
    "iso_datetime", "source_key",
    # limits and settings of the search
    "SORTS", "MATCH_SORTS", "MAX_RESULT_WINDOW", "UNKNOWN_SOURCE", "MAX_PREFIX_TERMS", "MIN_PREFIX_CHARS",
    "FEEDBACK_MIN_TERMS", "FEEDBACK_DOCS", "FEEDBACK_TERMS", "FEEDBACK_ORIGINAL_WEIGHT", "SUGGEST_BELOW",
    "MONTH_FACET_MAX_DAYS", "MONTH_FACET_MAX_YEARS", "NOT_TEXT_FIELDS", "SMALL_GROUP_SHARE",
    "VOCABULARY_SHARE", "SAMPLE_FOR_THRESHOLD",
]
