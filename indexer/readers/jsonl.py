"""JSON Lines (.jsonl) and JSON (.json) article files.

``.jsonl`` holds one JSON object a line and is streamed, because exports run
to hundreds of megabytes. ``.json`` holds one object or an array of objects
and is parsed whole; when it does not parse as a whole but its first line is
a JSON value on its own, it is really JSON Lines with the wrong extension
and is read as such.

Fields: ``id`` and ``body`` are required; ``title``, ``source``, ``url``
(strings), ``author`` (string or list of strings), ``published`` (ISO 8601,
see :func:`~indexer.readers.common.parse_date`), ``topics``/``tags``
(list of strings, or one string of comma-separated names as in front
matter) and ``language`` or ``lang`` (a language tag such as ``de`` or
``pt-BR``) are optional; other keys are ignored. A field of the wrong type
skips the article with a Problem naming the field, except the language: one
that names no supported language is a warning, and the indexer detects the
language from the text.
"""
from __future__ import annotations

import codecs
import json
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from ..articles import Article, Problem
from .common import (
    SNIFF_BYTES, binary_problem, clean_text, decode, decode_bytes, empty_file_problem,
    json_type_name, looks_binary, open_binary, os_problem, oversized_field, parse_date,
    id_problem, read_bytes, stated_language,
)

_MB = 1024 * 1024

#: A .json file is parsed in one piece; past this size it must be .jsonl.
MAX_JSON_BYTES = 256 * _MB

#: Longest .jsonl line read; longer ones are skipped without loading them whole.
#: Several fields may each be near MAX_FIELD_BYTES, so this is well above it.
MAX_LINE_BYTES = 64 * _MB

_STRING_FIELDS = ("body", "title", "source", "url", "published")

#: Longer "published" values are not dates; don't hand them to the slow parsers.
_MAX_DATE_CHARS = 80


class _Invalid(Exception):
    """An article-level validation failure; the message is the Problem reason."""


def read_jsonl(path: Path, rel: str) -> Iterator[Article | Problem]:
    """Stream a JSON Lines file, one Article or Problem per non-blank line."""
    handle, problem = open_binary(path, rel)
    if handle is None:
        yield problem  # type: ignore[misc]  # open_binary returns one or the other
        return
    with handle:
        try:
            head = handle.peek(SNIFF_BYTES)[:SNIFF_BYTES]
        except OSError as err:
            yield os_problem(rel, err)
            return
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            yield Problem(rel, "UTF-16 text; JSON Lines must be UTF-8", whole_file=True)
            return
        if looks_binary(head):
            yield binary_problem(rel)
            return
        yield from _parse_lines(_decoded_lines(handle, rel), rel)


def _decoded_lines(handle: BinaryIO, rel: str) -> Iterator[tuple[int, str] | Problem]:
    """Number and decode a file's lines, reporting what cannot be read as it goes.

    A non-UTF-8 line is read as cp1252; the warning is given once per file (at
    the first such line) so a legacy-encoded export does not flood the report.
    """
    warned = False
    number = 0
    try:
        for number, raw in enumerate(_bounded_lines(handle), start=1):
            if raw is None:
                yield Problem(rel, f"line is over {MAX_LINE_BYTES // _MB} MB", line=number)
                continue
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                text, _ = decode_bytes(raw)
                if not warned:
                    warned = True
                    yield Problem(rel, "not valid UTF-8; read as cp1252 (this line and any "
                                       "later such lines)", line=number, warning=True)
            yield number, text
    except OSError as err:
        yield Problem(rel, f"cannot read file after line {number}: {err.strerror or err}",
                      whole_file=True)


def _bounded_lines(handle: BinaryIO) -> Iterator[bytes | None]:
    """Yield lines, or None for a line over MAX_LINE_BYTES (skipped, never held whole)."""
    while True:
        line = handle.readline(MAX_LINE_BYTES)
        if not line:
            return
        if len(line) < MAX_LINE_BYTES or line.endswith(b"\n"):
            yield line
            continue
        while line and not line.endswith(b"\n"):  # drain the rest of the long line
            line = handle.readline(MAX_LINE_BYTES)
        yield None


def _parse_lines(lines: Iterable[tuple[int, str] | Problem], rel: str
                 ) -> Iterator[Article | Problem]:
    """Parse numbered JSON Lines; blank lines are ignored, a file of none is reported."""
    seen_content = False
    for item in lines:
        if isinstance(item, Problem):
            seen_content = True
            yield item
            continue
        number, text = item
        if text.strip():
            seen_content = True
            yield from _parse_line(text, rel, number)
    if not seen_content:
        yield empty_file_problem(rel)


def _parse_line(text: str, rel: str, number: int) -> Iterator[Article | Problem]:
    """Turn one JSON Lines line into an Article (plus warnings) or a Problem."""
    text = text.rstrip("\r\n")  # the parser would point at the line's end as a line 2, column 1
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        yield Problem(rel, f"invalid JSON: {_syntax(err)}", line=number)
        return
    except (ValueError, RecursionError) as err:  # e.g. an integer of 5,000 digits
        yield Problem(rel, f"invalid JSON: {_describe(err, text)}", line=number)
        return
    yield from _to_article(value, rel, number, prefix="")


def read_json(path: Path, rel: str) -> Iterator[Article | Problem]:
    """Read a .json file: one object, an array of objects, or (fallback) JSON Lines."""
    raw, problem = read_bytes(path, rel, MAX_JSON_BYTES)
    if raw is None:
        yield problem  # type: ignore[misc]
        return
    text, problems = decode(raw, rel)
    yield from problems
    if text is None:
        return
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        if _first_line_is_json(text):
            yield from _parse_lines(enumerate(text.split("\n"), start=1), rel)
        else:
            yield Problem(rel, f"invalid JSON: {_syntax(err, with_line=True)}",
                          whole_file=True)
        return
    except (ValueError, RecursionError) as err:
        yield Problem(rel, f"invalid JSON: {_describe(err, text)}", whole_file=True)
        return
    if isinstance(value, list):
        if not value:
            yield empty_file_problem(rel)
        for index, item in enumerate(value, start=1):
            yield from _to_article(item, rel, None, prefix=f"item {index}: ")
    else:
        yield from _to_article(value, rel, None, prefix="")


def _syntax(err: json.JSONDecodeError, with_line: bool = False) -> str:
    """The parser's message and where: its messages end in a dangling "at" ("Invalid control
    character at", "Unterminated string starting at"), which the position completes."""
    message = err.msg[:-3] if err.msg.endswith(" at") else err.msg
    return f"{message} at {f'line {err.lineno} ' if with_line else ''}column {err.colno}"


_LONG_NUMBER = re.compile(r"-?[0-9]{%d,}" % (sys.get_int_max_str_digits() + 1))


def _describe(err: Exception, text: str) -> str:
    """A short reason for a JSON error that is not a plain syntax error, with where it is."""
    if isinstance(err, RecursionError):
        return "nested too deeply"
    number = _LONG_NUMBER.search(text)
    if number:  # Python refuses to read integers this long (a denial-of-service guard)
        line = text.count("\n", 0, number.start()) + 1
        column = number.start() - (text.rfind("\n", 0, number.start()) + 1) + 1
        where = f"line {line} column {column}" if "\n" in text.strip() else f"column {column}"
        return (f"a number of {len(number.group().lstrip('-')):,} digits at {where} "
                f"(at most {sys.get_int_max_str_digits():,})")
    return str(err)


def _first_line_is_json(text: str) -> bool:
    """Whether the first non-blank line parses alone, i.e. the file is JSON Lines."""
    for line in text.splitlines():
        if line.strip():
            try:
                json.loads(line)
            except (ValueError, RecursionError):
                return False
            return True
    return False


def _to_article(value: Any, rel: str, line: int | None, prefix: str
                ) -> Iterator[Article | Problem]:
    """Validate one decoded JSON value and build its Article, or report why not."""
    if not isinstance(value, dict):
        yield Problem(rel, f"{prefix}expected a JSON object, got {_json_type(value)}", line=line)
        return
    try:
        article, warnings = _build(value, rel, line)
    except _Invalid as err:
        yield Problem(rel, f"{prefix}{err}", line=line, article_id=_readable_id(value))
        return
    for warning in warnings:
        yield Problem(rel, f"{prefix}{warning}", line=line, warning=True)
    yield article


def _build(obj: dict[str, Any], rel: str, line: int | None) -> tuple[Article, list[str]]:
    """Build an Article from a JSON object (plus warnings); raises _Invalid with the reason to report."""
    article_id = _id(obj.get("id"))
    if obj.get("body") is None:
        raise _Invalid("missing 'body'")
    raw = {name: _optional_str(obj, name) for name in _STRING_FIELDS}
    raw["author"] = _author(obj.get("author"))
    too_big = oversized_field(raw)
    if too_big:
        raise _Invalid(too_big)
    body = clean_text(raw["body"])
    if not body:
        raise _Invalid("empty 'body'")
    published, warning = _published(raw["published"])
    warnings = [warning] if warning else []
    key = "language" if obj.get("language") is not None else "lang"
    language, problem = stated_language(obj.get(key), rel, line, where=f"'{key}'")
    if problem:
        warnings.append(problem.reason)
    return Article(
        id=article_id, body=body,
        title=clean_text(raw["title"]), source=clean_text(raw["source"]),
        url=clean_text(raw["url"]), author=raw["author"], published=published,
        topics=_topics(obj), path=rel, line=line, language=language,
    ), warnings


def _readable_id(obj: dict[str, Any]) -> str | None:
    """The id of an object skipped for another reason, when the id itself is sound: a reindex then
    keeps that article's indexed copy and deletes nothing else of its file on its account."""
    try:
        return _id(obj.get("id"))
    except _Invalid:
        return None


def _id(value: Any) -> str:
    """The article id as a non-empty string; ints are accepted (common in exports)."""
    if value is None:
        raise _Invalid("missing 'id'")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Invalid(f"'id' must be a string or an integer, got {_json_type(value)}")
    text = str(value)
    problem = id_problem(text.strip())  # before clean_text, which would drop some of them silently
    if problem:
        raise _Invalid(problem)
    text = clean_text(text)
    if not text:
        raise _Invalid("empty 'id'")
    return text


def _optional_str(obj: dict[str, Any], name: str) -> str:
    """A string field, '' when absent or null."""
    value = obj.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Invalid(f"'{name}' must be a string, got {_json_type(value)}")
    return value


def _author(value: Any) -> str:
    """One author string; a list of names is joined with ', '."""
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(name for name in map(clean_text, value) if name)
    raise _Invalid(f"'author' must be a string or a list of strings{_got(value)}")


def _topics(obj: dict[str, Any]) -> tuple[str, ...]:
    """Topics from 'topics' and its alias 'tags': stripped, non-empty, unique, in order."""
    names: list[str] = []
    for key in ("topics", "tags"):
        value = obj.get(key)
        if value is None:
            continue
        if isinstance(value, str):  # "ukraine, nato", as front matter writes them
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Invalid(f"'{key}' must be a list of strings{_got(value)}")
        names.extend(value)
    cleaned = (clean_text(name) for name in names)
    return tuple(dict.fromkeys(name for name in cleaned if name))


def _published(text: str) -> tuple[datetime | None, str | None]:
    """The parsed date, or None plus a warning when a date was given but not understood."""
    text = text.strip()
    if not text:
        return None, None
    parsed, note = parse_date(text) if len(text) <= _MAX_DATE_CHARS else (None, None)
    if parsed is None:
        shown = text if len(text) <= _MAX_DATE_CHARS else text[:_MAX_DATE_CHARS] + "..."
        return None, f"unrecognised date {shown!r}; indexed without a date"
    return parsed, f"date {text!r}: {note}" if note else None


def _got(value: Any) -> str:
    """', got a number' etc.; empty for a list, whose problem is its items."""
    return "" if isinstance(value, list) else f", got {_json_type(value)}"


_json_type = json_type_name
