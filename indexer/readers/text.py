"""Plain-text and Markdown articles (.txt, .md): one article per file.

The id is the file's path relative to the source root. An optional front
matter block (first line ``---``, ``key: value`` lines, closing ``---``)
gives the metadata explicitly: ``title``, ``source``, ``published`` (or
``date``), ``author``, ``url``, ``id``, ``topics`` (or ``tags``; comma
separated, ``[a, b]``, or a YAML ``- item`` list) and ``language`` (or ``lang``:
a tag such as ``de`` or ``pt-BR``; one naming no supported language is a
warning, and the language is detected from the text).

Without front matter the layout is guessed, covering the two layouts in the
archive: the seed articles (headline, publisher line, body) and the BBC
corpus (headline, blank line, body). Line 2 is taken as the publisher only
when it looks like a name (see :func:`_looks_like_publisher`); otherwise it
is body. Markdown heading markers (``## ``) are removed, the heading text
kept as its own line.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..articles import Article, Problem
from .common import clean_text, decode, oversized_field, parse_date, read_bytes, stated_language

_HEADING = re.compile(r"^[ ]{0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_FENCE = "---"
_FRONT_MATTER_KEYS = {"title", "source", "published", "date", "author", "url", "id",
                      "topics", "tags", "language", "lang"}
_LIST_KEYS = {"topics", "tags"}
_PUBLISHER_MAX_CHARS = 60
_PUBLISHER_MAX_WORDS = 8
_SENTENCE_END = tuple('.!?:;,"”…')


def read_text(path: Path, rel: str) -> Iterator[Article | Problem]:
    """Read one .txt/.md article, reporting why when it cannot be used."""
    raw, problem = read_bytes(path, rel)
    if raw is None:
        yield problem  # type: ignore[misc]  # read_bytes returns one or the other
        return
    text, problems = decode(raw, rel)
    yield from problems
    if text is not None:
        yield from parse_text(clean_text(text), rel)


def parse_text(text: str, rel: str) -> Iterator[Article | Problem]:
    """Split cleaned file text into metadata and body and build the Article."""
    meta, rest, closed = _front_matter(text)
    if not closed:
        yield Problem(rel, "front matter has no closing '---'; read as plain text", warning=True)
    if meta.get("title"):
        title, source, body = meta["title"], "", rest
    else:
        title, source, body = _guess_layout(rest, guess_source="source" not in meta)
    title, body = _unmark_headings(title).strip(), _unmark_headings(body).strip()
    if not body:
        yield Problem(rel, "empty body")
        return
    too_big = oversized_field({"title": title, "body": body})
    if too_big:
        yield Problem(rel, too_big)
        return
    date_text = meta.get("published") or meta.get("date") or ""
    published, note = parse_date(date_text)
    if date_text and published is None:
        yield Problem(rel, f"unrecognised date {date_text[:80]!r}; indexed without a date",
                      warning=True)
    elif note:
        yield Problem(rel, f"date {date_text[:80]!r}: {note}", warning=True)
    key = "language" if meta.get("language") else "lang"
    language, problem = stated_language(meta.get(key), rel, where=f"front matter '{key}:'")
    if problem:
        yield problem
    yield Article(
        id=meta.get("id") or rel, body=body, title=title,
        source=meta.get("source", source), published=published,
        author=meta.get("author", ""), url=meta.get("url", ""),
        topics=_topics(meta.get("topics", ""), meta.get("tags", "")), path=rel,
        language=language,
    )


def _front_matter(text: str) -> tuple[dict[str, str], str, bool]:
    """Split off a leading ``---`` block: (lower-cased keys, rest of text, closed).

    Without a block: ({}, text, True). An opening ``---`` never closed gives
    ({}, text after it, False): the caller warns, since the writer meant
    front matter and the keys will show up as text.
    """
    if text.split("\n", 1)[0].strip() != _FENCE:
        return {}, text, True
    lines = text.split("\n")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == _FENCE), None)
    if end is None:
        return {}, "\n".join(lines[1:]), False
    return _front_matter_fields(lines[1:end]), "\n".join(lines[end + 1:]), True


def _front_matter_fields(lines: list[str]) -> dict[str, str]:
    """``key: value`` lines, and YAML ``- item`` lists under topics/tags (kept comma-joined)."""
    meta: dict[str, str] = {}
    key = ""
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("- ") and key in _LIST_KEYS:
            item = _unquote(stripped[2:].strip())
            meta[key] = f"{meta[key]},{item}" if meta[key] else item
        elif ":" in stripped and not stripped.startswith("#"):
            name, _, value = stripped.partition(":")
            key = name.strip().lower()
            if key in _FRONT_MATTER_KEYS:
                meta[key] = _unquote(value.strip())
    return meta


def _unquote(value: str) -> str:
    """Remove one pair of matching YAML quotes."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value


def _topics(*values: str) -> tuple[str, ...]:
    """Topics from ``a, b`` or ``[a, b]`` values: stripped, unquoted, unique, in order."""
    names: list[str] = []
    for value in values:
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            value = value[1:-1]
        names.extend(_unquote(part.strip()) for part in value.split(","))
    return tuple(dict.fromkeys(name for name in names if name))


def _guess_layout(text: str, guess_source: bool) -> tuple[str, str, str]:
    """(headline, publisher, body) for a file without a front-matter title."""
    lines = text.strip("\n").split("\n")
    headline, rest = lines[0], lines[1:]
    if guess_source and rest and _looks_like_publisher(rest[0], rest[1:]):
        return headline, rest[0].strip(), "\n".join(rest[1:])
    return headline, "", "\n".join(rest)


def _looks_like_publisher(line: str, following: list[str]) -> bool:
    """Whether line 2 is a short name such as "ICARO Media Group" rather than text.

    A publisher line is short, is not a sentence or a heading, and has body
    text after it; anything else stays in the body, where being wrong costs
    nothing.
    """
    line = line.strip()
    return (
        bool(line)
        and len(line) <= _PUBLISHER_MAX_CHARS
        and len(line.split()) <= _PUBLISHER_MAX_WORDS
        and not line.endswith(_SENTENCE_END)
        and not line.startswith("#")
        and any(other.strip() for other in following)
    )


def _unmark_headings(text: str) -> str:
    """Turn ``## Heading ##`` lines into ``Heading``."""
    return _HEADING.sub(r"\1", text) if "#" in text else text
