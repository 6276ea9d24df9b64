"""Exports: every article a search matches, streamed as CSV or JSON Lines.

A researcher wants the whole result set as a table, not ten hits a page. An
export runs the query once (:func:`indexer.search.matches`: document numbers
only), then reads and writes one article at a time, so memory stays flat
however many articles match, up to ``NEWSINDEX_EXPORT_LIMIT``.

CSV is made for spreadsheets: RFC 4180 (comma, double quotes, CRLF rows, a
header row), UTF-8 with an optional byte-order mark (which Excel needs to
read UTF-8), and cells that start with ``= + - @``, a tab or a carriage
return prefixed with ``'`` as OWASP recommends against formula injection
(a headline such as ``=HYPERLINK(...)`` must not run in the reader's
spreadsheet). JSON Lines is for programs: one article per line, values as
they are, with the same fields as the API's hits.
"""
from __future__ import annotations

import csv
import html
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Iterator

from .config import Settings
from .live import reads_index
from .search import Hit, Matches, QueryError, SearchFilters, iso_datetime, matches

FORMATS = ("csv", "jsonl")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
#: What GET /api/search gives for each hit, in that order: the default columns.
HIT_FIELDS = ("id", "title", "source", "published", "first_seen", "last_changed", "url", "author", "language",
              "score", "title_html", "snippet_html")
#: On request only: the snippet as plain text (for spreadsheets), the whole text.
EXTRA_FIELDS = ("snippet", "body")
FIELDS = HIT_FIELDS + EXTRA_FIELDS
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP "CSV Injection"
CHUNK_CHARS = 64 * 1024  # written out in pieces of about this size
_MARK = re.compile(r"</?mark>")


@dataclass
class Export:
    """One export, ready to stream: what it holds and how to name it, then :meth:`chunks`."""

    format: str
    fields: tuple[str, ...]
    matches: Matches
    bom: bool
    guard_formulas: bool
    limit: int  # the most this export was allowed to write
    limit_setting: bool  # True when the limit is NEWSINDEX_EXPORT_LIMIT, not the caller's own

    @property
    def total(self) -> int:
        """Every article the search matches."""
        return self.matches.total

    @property
    def count(self) -> int:
        """The articles this export writes."""
        return len(self.matches.docnums)

    @property
    def truncated(self) -> bool:
        return self.count < self.total

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    def filename(self) -> str:
        """``newsindex-cocoa-bahia.csv``: the query's words, ASCII only (accents folded:
        ``Flüchtlinge`` gives ``fluchtlinge``), short."""
        folded = "".join(ch for ch in unicodedata.normalize("NFKD", self.matches.query.lower())
                         if not unicodedata.combining(ch))
        words = re.findall(r"[a-z0-9]+", folded.encode("ascii", "ignore").decode())
        slug = "-".join(words)[:60].strip("-") or "all"
        return f"newsindex-{slug}.{self.format}"

    def notice(self) -> str | None:
        """What a person must be told when the export does not hold every match."""
        if not self.truncated:
            return None
        why = (f"the export limit, NEWSINDEX_EXPORT_LIMIT, is {self.limit:,}; narrow the search with more "
               f"words, a source or a date range, or raise the limit" if self.limit_setting
               else f"as asked, limit {self.limit:,}")
        return f"exported the first {self.count:,} of {self.total:,} matching articles ({why})"

    def error_line(self, code: str, message: str) -> bytes:
        """The last line of an export cut short after its first bytes went out (the index turned
        out damaged): JSON Lines ``{"error": {"code": ..., "message": ...}}``, CSV one cell starting
        with ``#error`` (what the README and the API description promise a client can look for)."""
        if self.format == "jsonl":
            return (json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False) + "\n").encode()
        buffer = io.StringIO()
        csv.writer(buffer, dialect="excel", lineterminator="\r\n").writerow([f"#error {code}: {message}"])
        return buffer.getvalue().encode("utf-8", "replace")

    def chunks(self) -> Iterator[bytes]:
        """The file, as UTF-8 bytes in pieces of about 64 KB (a bad character becomes '?')."""
        hits = self.matches.hits(snippets=bool({"snippet", "snippet_html"} & set(self.fields)),
                                 body="body" in self.fields)
        rows = (row(hit, self.fields) for hit in hits)
        write = _csv_text if self.format == "csv" else _jsonl_text
        for text in write(rows, self.fields, self.bom, self.guard_formulas):
            yield text.encode("utf-8", "replace")


@reads_index
def export(index, query: str, filters: SearchFilters | None = None, sort: str = "relevance", *,
           format: str = "csv", fields: Iterable[str] | str | None = None, with_body: bool = False,
           bom: bool = False, guard_formulas: bool = True, limit: int | None = None,
           settings: Settings | None = None) -> Export:
    """Prepare an export of every article ``query`` matches (see :func:`indexer.search.matches`).

    ``fields`` (names or one comma-separated string) defaults to :data:`HIT_FIELDS`;
    ``with_body`` adds ``body``. ``limit`` may lower ``NEWSINDEX_EXPORT_LIMIT``, never raise
    it. Raises :class:`QueryError` naming the parameter at fault.
    """
    if format not in FORMATS:
        raise QueryError(f"format must be one of {', '.join(FORMATS)} (got {str(format)[:20]!r})", "format")
    chosen = parse_fields(fields)
    if with_body and "body" not in chosen:
        chosen += ("body",)
    settings = settings or Settings.load()
    most = settings.export_limit
    if limit is not None and not 1 <= limit <= most:
        raise QueryError(f"limit must be between 1 and {most:,} (NEWSINDEX_EXPORT_LIMIT; got {limit})", "limit")
    found = matches(index, query, filters, sort=sort, limit=limit or most, settings=settings)
    return Export(format=format, fields=chosen, matches=found, bom=bom, guard_formulas=guard_formulas,
                  limit=limit or most, limit_setting=limit is None)


def parse_fields(fields: Iterable[str] | str | None) -> tuple[str, ...]:
    """Field names as given (comma-separated or a list), checked, duplicates dropped; default HIT_FIELDS."""
    if fields is None:
        return HIT_FIELDS
    names = fields.split(",") if isinstance(fields, str) else [n for f in fields for n in str(f).split(",")]
    names = [n.strip() for n in names]
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        what = f"there is no field {unknown[0][:40]!r}" if unknown[0] else "a field name is empty"
        raise QueryError(f"fields: {what}; give comma-separated names from {', '.join(FIELDS)}", "fields")
    return tuple(dict.fromkeys(names))


def row(hit: Hit, fields: tuple[str, ...]) -> dict:
    """One article as a dict of the chosen fields, values as JSON has them (dates ISO 8601, UTC)."""
    values = hit.to_dict()
    out = {}
    for name in fields:
        if name == "snippet":
            out[name] = html.unescape(_MARK.sub("", hit.snippet_html))
        elif name == "body":
            out[name] = hit.body
        else:
            out[name] = values[name]
    return out


def guard_formula(value: str) -> str:
    """A cell a spreadsheet would run as a formula, made inert by a leading apostrophe (OWASP)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value, guard: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso_datetime(value) or ""
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return guard_formula(text) if guard else text


def _csv_text(rows: Iterator[dict], fields: tuple[str, ...], bom: bool, guard: bool) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if bom:
        buffer.write("\ufeff")
    writer.writerow(fields)
    for item in rows:
        writer.writerow([_cell(item[name], guard) for name in fields])
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _jsonl_text(rows: Iterator[dict], fields: tuple[str, ...], bom: bool, guard: bool) -> Iterator[str]:
    """JSON Lines never has a byte-order mark or guarded cells: it is read by programs."""
    pending: list[str] = []
    size = 0
    for item in rows:
        line = json.dumps(item, ensure_ascii=False) + "\n"
        pending.append(line)
        size += len(line)
        if size >= CHUNK_CHARS:
            yield "".join(pending)
            pending, size = [], 0
    yield "".join(pending)
