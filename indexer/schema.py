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

SCHEMA_VERSION = 2  # 2: content_hash, source_root and source_path stored with each article

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
        # what the manifest records for each article, kept with it so that a damaged
        # manifest.json can be rebuilt from the index itself (indexer.generations)
        content_hash=fields.STORED(),
        source_root=fields.STORED(),
        source_path=fields.STORED(),
    )


def versions() -> dict[str, int]:
    return {"schema_version": SCHEMA_VERSION, "analyzer_version": ANALYZER_VERSION}


def to_document(article: Article) -> dict:
    """Map an Article to Whoosh field values (dates naive UTC, as Whoosh expects)."""
    doc = {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "source": article.source,
        "content_hash": article.content_hash(),
        "source_root": article.source_root,
        "source_path": article.path,
    }
    if article.author:
        doc["author"] = article.author
        doc["author_name"] = article.author
    if article.published is not None:
        doc["published"] = article.published.astimezone(timezone.utc).replace(tzinfo=None)
    if article.url:
        doc["url"] = article.url
    if article.topics:
        doc["topics"] = ",".join(t.replace(",", " ") for t in article.topics)
    return doc


def published_from_stored(value: datetime | None) -> datetime | None:
    """Stored dates are naive UTC; hand them out timezone-aware."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc)


def published_values(reader) -> list[datetime | None]:
    """The ``published`` column for every document number (None where undated).

    Read from the sortable column, not stored fields: one array read instead
    of unpickling every document.
    """
    field = reader.schema["published"]
    count = reader.doc_count_all()
    if not reader.has_column("published"):
        return [None] * count
    column = reader.column_reader("published", translate=False)
    missing = field.column_type.default_value()
    return [None if raw == missing else published_from_stored(field.from_column_value(raw))
            for raw in (column[i] for i in range(count))]
