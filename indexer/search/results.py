"""The result types of the search API and the error it raises: what callers hold.

The CLI, the pages, the JSON API, feeds and exports all build on these plain
dataclasses. They hold no index state, so results can be cached and turned
into JSON (``to_dict()``); nothing here knows how a query is evaluated.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime

from ..errors import UsageError

SORTS = ("relevance", "newest", "oldest")
MAX_RESULT_WINDOW = 10_000  # results past this are not paged to: such pages come back empty, with a notice
UNKNOWN_SOURCE = "(no source)"  # facet value (and filter value) for articles without a source


class QueryError(UsageError):
    """A request that cannot be run as given; ``param`` names the culprit."""

    code = "bad_request"

    def __init__(self, message: str, param: str = "q"):
        super().__init__(message)
        self.param = param


def source_key(name: str) -> str:
    """How a source filter matches: without case and runs of spaces (``le monde`` is ``Le  Monde``);
    :data:`UNKNOWN_SOURCE` stands for the articles without a source."""
    return "" if name == UNKNOWN_SOURCE else " ".join(name.casefold().split())


@dataclass(frozen=True)
class SearchFilters:
    sources: tuple[str, ...] = ()
    date_from: date | None = None  # inclusive, UTC days
    date_to: date | None = None  # inclusive
    author: str | None = None
    languages: tuple[str, ...] = ()  # ISO 639-1 codes (parse_language): only articles in these

    def selects_source(self, name: str) -> bool:
        """Whether the source filter keeps articles of ``name`` (as the search matches it)."""
        return source_key(name) in {source_key(s) for s in self.sources}


@dataclass
class Hit:
    id: str
    title: str
    source: str
    published: datetime | None
    url: str | None
    author: str | None
    score: float
    title_html: str
    snippet_html: str
    first_seen: datetime | None = None  # when newsindex first indexed it (an update keeps it)
    last_changed: datetime | None = None  # when its indexed content last changed
    body: str | None = None  # the whole text, only when asked for (exports); never in to_dict()
    language: str = "en"  # the ISO 639-1 code it was analysed in

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "source": self.source,
                "published": iso_datetime(self.published), "url": self.url, "author": self.author,
                "language": self.language, "score": self.score, "title_html": self.title_html,
                "snippet_html": self.snippet_html,
                "first_seen": iso_datetime(self.first_seen), "last_changed": iso_datetime(self.last_changed)}


def iso_datetime(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, or None."""
    return value.isoformat().replace("+00:00", "Z") if value else None


@dataclass
class FacetValue:
    value: str
    count: int


@dataclass
class SearchResults:
    query: str
    total: int
    page: int
    per_page: int
    sort: str
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    suggestion: str | None = None
    corrected_from: str | None = None  # set when nothing matched and the suggestion was searched
    notices: list[str] = field(default_factory=list)
    parsed: str = ""
    partial: bool = False  # the search ran out of time: some alternatives were not evaluated

    @property
    def pages(self) -> int:
        return max(1, math.ceil(min(self.total, MAX_RESULT_WINDOW) / self.per_page))

    def to_dict(self) -> dict:
        """The JSON shape shared by `newsindex search --json` and GET /api/search."""
        return {
            "query": self.query, "total": self.total, "page": self.page,
            "per_page": self.per_page, "pages": self.pages, "sort": self.sort,
            "took_ms": self.took_ms,
            "hits": [hit.to_dict() for hit in self.hits],
            "facets": {name: [{"value": f.value, "count": f.count} for f in values]
                       for name, values in self.facets.items()},
            "suggestion": self.suggestion, "corrected_from": self.corrected_from,
            "notices": self.notices, "partial": self.partial,
        }


@dataclass
class ArticleView:
    id: str
    title: str
    body: str
    source: str
    published: datetime | None
    url: str | None
    author: str | None
    topics: list[str]
    title_html: str
    body_html: str
    language: str = "en"  # the ISO 639-1 code it was analysed in

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "body": self.body, "source": self.source,
                "published": iso_datetime(self.published), "url": self.url, "author": self.author,
                "language": self.language, "topics": self.topics, "title_html": self.title_html,
                "body_html": self.body_html}
