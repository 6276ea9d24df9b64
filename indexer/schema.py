"""The index's fields, versioned together with the analyzer.

The schema is pickled into every index (Whoosh stores it in the TOC), so the
classes used here are module-level and their meaning is pinned by
``SCHEMA_VERSION`` + ``ANALYZER_VERSION``: change either and old indexes ask
for ``newsindex reindex --full`` instead of answering wrongly.
"""
from __future__ import annotations

from datetime import datetime, timezone

from whoosh import fields

from .analysis import ANALYZER_VERSION, NEWS_ANALYZER, NewsPositions
from .articles import Article

SCHEMA_VERSION = 3  # 2: newsindex codec (memory-mapped segments), generation columns, first_seen
# 3: each article's language (a ``language`` field, a per-document ``doc.lang`` column, text fields
#    analysed in it)


class SortableDate(fields.DATETIME):
    """A date that is stored and sortable (a column) but not indexed: nobody searches it by term,
    and a trie of microsecond timestamps would cost ~100 bytes per article."""

    indexed = False

class LanguageText(str):
    """A text field's value that knows the article's language (when it is not English).

    Whoosh hands a field only its value when it indexes it, never the rest of
    the document; this is how the article's language travels with the value to
    :class:`~indexer.analysis.NewsPositions` (and so stock Whoosh's own writer
    analyses a German article's headline as German, as newsindex's writer does).
    Never stored: :func:`to_document` stores the plain text (``_stored_<field>``).
    """

    __slots__ = ("lang",)

    def __new__(cls, text: str, lang: str) -> "LanguageText":
        value = super().__new__(cls, text)
        value.lang = lang
        return value


class NewsText(fields.TEXT):
    """TEXT with the news analyzer and its fast positions format."""

    def __init__(self, stored: bool = False, field_boost: float = 1.0):
        super().__init__(analyzer=NEWS_ANALYZER, phrase=True, stored=stored,
                         field_boost=field_boost)
        self.format = NewsPositions(field_boost=field_boost)


def build_schema() -> fields.Schema:
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=NewsText(stored=True),
        body=NewsText(stored=True),
        author=NewsText(stored=False),
        author_name=fields.STORED(),
        source=fields.ID(stored=True, sortable=True),  # exact, for facets and filters
        published=fields.DATETIME(stored=True, sortable=True),
        url=fields.STORED(),
        topics=fields.KEYWORD(stored=True, commas=True, lowercase=True, scorable=False),
        # when newsindex first indexed the article (kept by updates and full rebuilds), and when its
        # indexed content last changed: what feeds order by and report as an entry's `updated`
        first_seen=SortableDate(stored=True, sortable=True),
        last_changed=fields.STORED(),
        # the ISO 639-1 code the article was analysed in (stated by its data, or detected); search
        # reads it from the segments' doc.lang column, so it is stored for Whoosh's readers only
        language=fields.STORED(),
    )


def versions() -> dict[str, int]:
    return {"schema_version": SCHEMA_VERSION, "analyzer_version": ANALYZER_VERSION}


def to_document(article: Article, first_seen: datetime, last_changed: datetime, language: str = "en") -> dict:
    """Map an Article to Whoosh field values (dates naive UTC, as Whoosh expects).

    ``first_seen``/``last_changed`` (timezone-aware) are the index's own history of the article,
    kept by ingest; they are not part of the article's content. ``language`` is the code its text
    fields are analysed in (``article.language``, or what the writer detected).
    """
    doc = {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "source": article.source,
        "first_seen": _naive_utc(first_seen),
        "last_changed": _naive_utc(last_changed),
    }
    if article.author:
        doc["author"] = article.author
        doc["author_name"] = article.author
    if article.published is not None:
        exact = _naive_utc(article.published)
        # indexed by day (what date queries ask; ~100x fewer trie terms than by microsecond),
        # stored and sorted exactly (Whoosh's "_stored_<field>" convention)
        doc["published"] = exact.replace(hour=0, minute=0, second=0, microsecond=0)
        doc["_stored_published"] = exact
    if article.url:
        doc["url"] = article.url
    if article.topics:
        doc["topics"] = ",".join(t.replace(",", " ") for t in article.topics)
    doc["language"] = language
    if language != "en":  # English is the analyzer's default: plain strings, as before languages
        for name in ("title", "body", "author"):
            if doc.get(name):
                doc[f"_stored_{name}"] = doc[name]
                doc[name] = LanguageText(doc[name], language)
    return doc


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def published_from_stored(value: datetime | None) -> datetime | None:
    """Stored dates are naive UTC; hand them out timezone-aware."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc)
