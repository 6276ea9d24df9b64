"""The records that flow from readers into the index.

Readers turn files into :class:`Article` records and never raise on bad input:
anything they cannot use becomes a :class:`Problem`, so one broken file never
stops a reindex and is never silently lost.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Article:
    """One news article, normalised: text cleaned, date in UTC.

    ``path`` is the file the article came from, relative to the source root;
    ingest uses it to tell a deleted file from one that could not be read this
    time (whose articles must be kept).
    """

    id: str
    body: str
    title: str = ""
    source: str = ""
    published: datetime | None = None  # timezone-aware, UTC
    author: str = ""
    url: str = ""
    topics: tuple[str, ...] = ()
    path: str = ""
    line: int | None = None
    #: ISO 639-1 code (a key of indexer.analysis.LANGUAGES) stated by the article's own data;
    #: None when it states none (or an unusable one): the indexer detects it from the text.
    language: str | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def content_hash(self) -> str:
        """A digest of everything that is indexed, so unchanged articles are skipped.

        ``path``/``line`` are left out: moving an article inside a file is not a change.
        A stated ``language`` is in: it decides how the text is analysed, so changing it
        must re-index the article. It is appended only when stated, so articles without
        one keep the digest they had before languages existed.
        """
        fields = [self.id, self.title, self.body, self.source,
                  self.published.isoformat() if self.published else None,
                  self.author, self.url, list(self.topics)]
        if self.language is not None:
            fields.append(self.language)
        payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        return hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Problem:
    """Input that could not be indexed, reported as ``file:line: reason``.

    ``whole_file`` marks a file that could not be read at all: the articles it
    held before are kept rather than deleted. The report labels each one
    (skipped, warning, ignored), so reasons do not repeat the label.
    """

    path: str
    reason: str
    line: int | None = None
    whole_file: bool = False
    warning: bool = False  # indexed anyway (e.g. cp1252 fallback); not counted as skipped
    ignored: bool = False  # not an article at all (an image, a PDF, an archive): counted apart
    replayed: bool = False  # recorded for a file this run skipped as unchanged, reported again
    article_id: str | None = None  # the skipped article's id, when it could be read (a JSON line's)

    @property
    def label(self) -> str:
        """How the report introduces it: what happened to the input."""
        return "ignored" if self.ignored else "warning" if self.warning else "skipped"

    def __str__(self) -> str:
        path = self.path if self.path.isprintable() else repr(self.path)[1:-1]  # a newline in a file name
        where = f"{path}:{self.line}" if self.line else path
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file of a source, announced before its articles (or instead of them when unchanged).

    ``size`` and ``mtime_ns`` are what the manifest records, so the next
    incremental run can skip a file that did not change without reading it.
    """

    path: str
    size: int
    mtime_ns: int
    unchanged: bool = False
