"""Request parameters to :func:`indexer.search.search` arguments, for the pages and the API.

Both read the same parameters with the same meaning and the same 400
messages, and the OpenAPI document describes them from the constants here,
so what the document promises is what is enforced, even where no search
runs (the search page with an empty q). What only a search can tell (from
after to, paging past the result window, a query it cannot run) is left to
the library, which raises :class:`~indexer.search.QueryError` naming the
parameter.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from indexer.analysis import LANGUAGES, normalize_language
from indexer.config import Settings
from indexer.live import LiveIndex
from indexer.query import normalize_query, strip_controls
from indexer.search import (MAX_RESULT_WINDOW, SORTS, QueryError, SearchFilters, SearchResults, parse_day, search,
                            source_key)

DEFAULT_SORT = "relevance"
CORRECT_CHOICES = ("on", "off")  # correct=off: the results of the query as typed, never a correction's
DEFAULT_CORRECT = "on"
#: from/to: a year, a month or a day (the library also reads them this way). Only days that
#: exist match (no 2024-04-31, 2023-02-29, year 0000), so every value the OpenAPI document allows
#: is accepted; years have four digits (0999, as the year facets write them).
_YEAR = "(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
_LEAP_YEAR = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)"
DATE_PATTERN = (rf"^({_YEAR}(-(0?[1-9]|1[0-2]))?"
                rf"|{_YEAR}-(0?[13578]|1[02])-(0?[1-9]|[12][0-9]|3[01])"
                rf"|{_YEAR}-(0?[469]|11)-(0?[1-9]|[12][0-9]|30)"
                rf"|{_YEAR}-0?2-(0?[1-9]|1[0-9]|2[0-8])"
                rf"|{_LEAP_YEAR}-0?2-29)?$")
INTEGER_PATTERN = re.compile(r"-?[0-9]+")
MAX_INTEGER_DIGITS = 9
MAX_PAGE = MAX_RESULT_WINDOW  # with per_page=1; pages past the window come back empty
URL_NAMES = {"date_from": "from", "date_to": "to"}


@dataclass(frozen=True)
class SearchParams:
    """One search as the request asked for it; ``date_from``/``date_to`` as typed, for forms and links."""

    query: str
    page: int
    per_page: int
    sort: str
    filters: SearchFilters
    date_from: str
    date_to: str
    default_per_page: int
    correct: str = DEFAULT_CORRECT

    @property
    def corrects(self) -> bool:
        return self.correct != "off"

    @property
    def sources(self) -> tuple[str, ...]:
        return self.filters.sources

    @property
    def languages(self) -> tuple[str, ...]:
        return self.filters.languages

    @property
    def filtered(self) -> bool:
        return bool(self.sources or self.date_from or self.date_to or self.languages)

    def run(self, index: LiveIndex, settings: Settings) -> SearchResults:
        return search(index, self.query, page=self.page, per_page=self.per_page,
                      filters=self.filters, sort=self.sort, correct=self.corrects, settings=settings)

    def url_args(self, **changes) -> dict:
        """Query-string arguments for this search with ``changes``, defaults left out.

        ``changes`` use the URL's names, except ``date_from``/``date_to`` for
        from/to. Any change but ``page`` starts again from the first page; a new ``q`` is
        corrected again unless ``correct`` is given too.
        """
        args = {"q": self.query, "page": self.page if set(changes) <= {"page"} else 1,
                "per_page": self.per_page, "sort": self.sort, "source": list(self.sources),
                "lang": list(self.languages), "from": self.date_from, "to": self.date_to,
                "correct": self.correct if "q" not in changes else DEFAULT_CORRECT}
        args.update({URL_NAMES.get(k, k): v for k, v in changes.items()})
        defaults = {"page": 1, "per_page": self.default_per_page, "sort": DEFAULT_SORT, "correct": DEFAULT_CORRECT}
        return {k: v for k, v in args.items() if v not in ("", [], (), None) and defaults.get(k) != v}

    def toggled_source(self, source: str) -> list[str]:
        """The sources with ``source`` added, or removed if the filter selects it (as typed or not)."""
        if self.filters.selects_source(source):
            return [s for s in self.sources if source_key(s) != source_key(source)]
        return [*self.sources, source]

    def unlisted_sources(self, listed: list[str]) -> list[str]:
        """Sources of the filter that none of the ``listed`` facet values matches (no article has them)."""
        keys = {source_key(value) for value in listed}
        return [s for s in self.sources if source_key(s) not in keys]

    def toggled_language(self, code: str) -> list[str]:
        """The language filter with ``code`` added, or removed if it was there."""
        if code in self.languages:
            return [c for c in self.languages if c != code]
        return [*self.languages, code]

    def covers(self, date_from: str, date_to: str) -> bool:
        """Whether the date filter is exactly this period (to mark it as the current one)."""
        return (self.filters.date_from, self.filters.date_to) == (
            parse_day(date_from, "from"), parse_day(date_to, "to", end=True))


def parse_search_args(args: MultiDict, settings: Settings) -> SearchParams:
    """Read and check q, page, per_page, sort, source and lang (repeatable), from, to and correct;
    ignore the rest.

    An empty q is valid: the library then lists every article the filters allow. Text
    is kept as the library reads it (control characters out), so pages never echo a NUL.
    """
    query = args.get("q", "")
    _check_query_length(query, settings)
    query = normalize_query(query)
    date_from, date_to = _date_text(args, "from"), _date_text(args, "to")
    return SearchParams(
        query=query,
        page=_whole_number(args, "page", 1, 1, MAX_PAGE),
        per_page=_whole_number(args, "per_page", settings.per_page, 1, settings.max_per_page),
        sort=_choice(args, "sort", DEFAULT_SORT, SORTS),
        filters=SearchFilters(sources=tuple(dict.fromkeys(strip_controls(s) for s in args.getlist("source")
                                                          if strip_controls(s))),
                              date_from=parse_day(date_from, "from"),
                              date_to=parse_day(date_to, "to", end=True),
                              languages=_languages(args)),
        date_from=date_from,
        date_to=date_to,
        default_per_page=settings.per_page,
        correct=_choice(args, "correct", DEFAULT_CORRECT, CORRECT_CHOICES),
    )


def article_id_arg(args: MultiDict) -> str:
    """The ``id`` of ``/articles?id=``, ``/api/articles?id=`` and ``/api/related?id=``: any id, as is."""
    article_id = args.get("id", "")
    if not article_id:
        raise QueryError("id is required: the article's id, percent-encoded like any query parameter", "id")
    return article_id


def highlight_query(args: MultiDict, settings: Settings) -> str | None:
    """The optional ``q`` whose terms an article view highlights."""
    query = args.get("q") or None
    if query:
        _check_query_length(query, settings)
    return normalize_query(query or "") or None


def typed_args(args: MultiDict) -> MultiDict:
    """The request's parameters as a form shows them back: as typed, without the control
    characters a page must never echo (in q they become spaces, as the search reads them)."""
    return MultiDict([(key, strip_controls(value, " " if key == "q" else ""))
                      for key, value in args.items(multi=True)])


def _check_query_length(query: str, settings: Settings) -> None:
    limit = settings.max_query_chars
    if len(query) > limit:
        raise QueryError(f"q is {len(query):,} characters long; the limit is {limit:,}: shorten the query", "q")


def _whole_number(args: MultiDict, name: str, default: int, lowest: int, highest: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not INTEGER_PATTERN.fullmatch(raw):
        raise QueryError(f"{name} must be a whole number (got {raw[:20]!r})", name)
    value = int(raw) if len(raw.lstrip("-")) <= MAX_INTEGER_DIGITS else None
    if value is None or not lowest <= value <= highest:
        raise QueryError(f"{name} must be between {lowest:,} and {highest:,} (got {raw[:20]})", name)
    return value


def _choice(args: MultiDict, name: str, default: str, choices: tuple[str, ...]) -> str:
    value = args.get(name, default)
    if value not in choices:
        raise QueryError(f"{name} must be one of {', '.join(choices)} (got {value[:20]!r})", name)
    return value


def _languages(args: MultiDict) -> tuple[str, ...]:
    """``lang`` (repeatable): ISO 639-1 codes of LANGUAGES, as the facet's links write them."""
    codes = args.getlist("lang")
    for code in codes:
        if code not in LANGUAGES:
            meant = normalize_language(code)  # "German", "de-AT": say which code to send
            hint = f": its code is {meant}" if meant else ""
            raise QueryError(f"lang must be a language code like en, de or fr (got {code[:20]!r}{hint})", "lang")
    return tuple(dict.fromkeys(codes))


def _date_text(args: MultiDict, name: str) -> str:
    value = args.get(name, "")
    if not re.fullmatch(DATE_PATTERN, value):
        raise QueryError(f"{name} must be a date like 2024, 2024-03 or 2024-03-01 (got {value[:40]!r})", name)
    return value

