"""Helpers shared by the readers: opening, decoding, cleaning, dates, limits.

Everything here turns bad input into :class:`~indexer.articles.Problem`
records instead of exceptions, because one unreadable file must never stop a
reindex (see :mod:`indexer.articles`).
"""
from __future__ import annotations

import codecs
import email.utils
import os
import re
import stat
import unicodedata
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

from dateutil import parser as dateparser

from ..analysis.languages import normalize_language
from ..articles import Problem

#: Largest text field an article may have; bigger ones are almost always a
#: broken export (a whole dump in one field) and would bloat the index.
MAX_FIELD_BYTES = 5 * 1024 * 1024

#: Largest single-article file (.txt, .md, .html) we read into memory.
MAX_FILE_BYTES = 50 * 1024 * 1024

#: How much of a file the binary sniffing looks at.
SNIFF_BYTES = 8192

_MB = 1024 * 1024

# Magic numbers of formats people drop into document folders by mistake.
_BINARY_MAGIC = (
    b"%PDF-", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"\xff\xd8\xff",
    b"PK\x03\x04", b"\x1f\x8b", b"\xfd7zXZ\x00", b"7z\xbc\xaf\x27\x1c",
    b"\x7fELF", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"SQLite format 3\x00",
    b"\x28\xb5\x2f\xfd", b"MZ\x90\x00", b"OggS", b"fLaC",
)
# Bytes that never occur in text: C0 controls except \t \n \v \f \r and ESC.
_NON_TEXT_BYTES = bytes(b for b in range(32) if b not in b"\t\n\x0b\x0c\r\x1b")
_TEXT_BYTES = bytes(b for b in range(256) if b not in _NON_TEXT_BYTES)

_CP1252_THEN_LATIN1 = "newsindex-latin1"


def _latin1_fallback(err: UnicodeDecodeError) -> tuple[str, int]:
    """Decode the five bytes cp1252 leaves undefined as Latin-1 (C1 controls).

    clean_text removes those controls later; this only keeps the rest of the
    line, so one odd byte does not lose the € and quotes around it.
    """
    return err.object[err.start:err.end].decode("latin-1"), err.end


codecs.register_error(_CP1252_THEN_LATIN1, _latin1_fallback)


def _control_table() -> dict[int, int | str | None]:
    """Build the str.translate table used by clean_text, once at import."""
    table: dict[int, int | str | None] = {c: None for c in range(32) if chr(c) not in "\t\n\r"}
    table.update({c: None for c in range(0x7F, 0xA0)})       # DEL and C1 controls
    table.update({c: None for c in range(0xD800, 0xE000)})   # lone surrogates (from JSON \ud800)
    table[0x85] = "\n"                                       # NEL
    table[ord("\r")] = "\n"
    table[0x2028] = "\n"                                     # LINE SEPARATOR
    table[0x2029] = "\n"                                     # PARAGRAPH SEPARATOR
    table[0xFEFF] = None                                     # stray BOM / ZWNBSP
    return table


_CONTROL_TABLE = _control_table()
_TRAILING_SPACE = re.compile(r"[ \t]+(?=\n)")


def clean_text(s: str) -> str:
    """Normalise text for indexing and display.

    Removes NUL and control characters (keeping newlines and tabs), lone
    surrogates and stray BOMs, turns every line ending into ``\\n``, applies
    NFC (so "é" typed two ways is one term), drops trailing spaces on each
    line and strips the ends. Runs on every field of every article, so it
    sticks to C-level string operations.
    """
    if not s:
        return s
    s = s.replace("\r\n", "\n").translate(_CONTROL_TABLE)
    if not s.isascii():
        s = unicodedata.normalize("NFC", s)
    if " \n" in s or "\t\n" in s:  # the regex is the slow part; most text needs none
        s = _TRAILING_SPACE.sub("", s)
    return s.strip()


def looks_binary(head: bytes) -> bool:
    """Guess whether a file is binary from its first bytes.

    Known magic numbers, more than 1 % NUL bytes (a single stray NUL in a
    short text file is not enough), or more than 5 % bytes that never occur
    in text (random or compressed data has 10 % of them: at a 10 % threshold
    it passed as cp1252 text half the time). UTF-16/32 text with a BOM has
    many NULs, so decode() checks for those BOMs before calling this.
    """
    sample = head[:SNIFF_BYTES]
    if not sample:
        return False
    if sample.startswith(_BINARY_MAGIC):
        return True
    nuls = sample.count(0)
    if nuls > 1 and nuls * 100 > len(sample):
        return True
    return len(sample.translate(None, _TEXT_BYTES)) * 20 > len(sample)


def decode_bytes(raw: bytes) -> tuple[str, bool]:
    """Decode UTF-8 (BOM stripped), else cp1252; the flag says a fallback was used."""
    try:
        return raw.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        return raw.removeprefix(codecs.BOM_UTF8).decode("cp1252", _CP1252_THEN_LATIN1), True


def _utf8_error(raw: bytes) -> str:
    """Describe where UTF-8 decoding fails, so the user can find the byte."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return f"byte 0x{raw[err.start]:02x} at offset {err.start}"
    return "unknown position"


def decode(raw: bytes, path: str) -> tuple[str | None, list[Problem]]:
    """Decode a whole file's bytes; None (plus a whole-file Problem) for binary files.

    UTF-16/32 with a BOM is accepted (Windows "Unicode" exports); otherwise
    UTF-8, falling back to cp1252 with a warning, because legacy news exports
    are mostly Windows-encoded and a wrong guess there costs a few characters,
    not the article.
    """
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(codec), []
            except UnicodeDecodeError as err:
                return None, [Problem(path, f"invalid {codec.upper()} text ({err.reason})",
                                      whole_file=True)]
    if looks_binary(raw):
        return None, [binary_problem(path)]
    text, fallback = decode_bytes(raw)
    if not fallback:
        return text, []
    return text, [Problem(path, f"not valid UTF-8 ({_utf8_error(raw)}); read as cp1252",
                          warning=True)]


def binary_problem(path: str) -> Problem:
    """The Problem for a file that is not text at all."""
    return Problem(path, "binary file", whole_file=True)


def open_binary(path: Path, rel: str, max_bytes: int | None = None
                ) -> tuple[BinaryIO | None, Problem | None]:
    """Open a regular file for reading without ever blocking or raising.

    Opens non-blocking first so a FIFO or device cannot hang the run, then
    checks it is a regular file (and not over ``max_bytes``) before any byte
    is read. Failures come back as a whole-file Problem carrying the OS reason.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as err:
        return None, os_problem(rel, err)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return None, Problem(rel, "not a regular file", whole_file=True)
        if max_bytes is not None and info.st_size > max_bytes:
            os.close(fd)
            return None, Problem(rel, f"file is {info.st_size / _MB:.1f} MB, over the "
                                      f"{max_bytes // _MB} MB limit", whole_file=True)
        return os.fdopen(fd, "rb"), None
    except OSError as err:
        os.close(fd)
        return None, os_problem(rel, err)


def read_bytes(path: Path, rel: str, max_bytes: int = MAX_FILE_BYTES
               ) -> tuple[bytes | None, Problem | None]:
    """Read a whole (size-limited) file; an empty file is a whole-file Problem.

    Empty files are treated as "could not read" rather than "no articles":
    a zero-byte file is usually one still being written or truncated by a
    crash, and dropping its previously indexed articles would lose data.
    """
    handle, problem = open_binary(path, rel, max_bytes)
    if handle is None:
        return None, problem
    try:
        with handle:
            raw = handle.read(max_bytes + 1)
    except OSError as err:
        return None, os_problem(rel, err)
    if len(raw) > max_bytes:  # grew after the size check
        return None, Problem(rel, f"file is over the {max_bytes // _MB} MB limit",
                             whole_file=True)
    if not raw.strip():
        return None, empty_file_problem(rel)
    return raw, None


def empty_file_problem(path: str) -> Problem:
    """The Problem for a file with nothing but whitespace in it."""
    return Problem(path, "empty file", whole_file=True)


def os_problem(path: str, err: OSError) -> Problem:
    """A whole-file Problem carrying the operating system's reason."""
    reason = err.strerror or str(err)
    return Problem(path, f"cannot read file: {reason}", whole_file=True)


def oversized_field(fields: dict[str, str]) -> str | None:
    """Name the first field over MAX_FIELD_BYTES, as a Problem reason, or None.

    Encoding to UTF-8 only happens for strings long enough to possibly be over
    the limit (a character is at most 4 bytes), so normal articles cost a
    length check per field.
    """
    for name, value in fields.items():
        if len(value) * 4 <= MAX_FIELD_BYTES:
            continue
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_FIELD_BYTES:
            return (f"field '{name}' is {size / _MB:.1f} MB, over the "
                    f"{MAX_FIELD_BYTES // _MB} MB limit")
    return None


#: Characters an id may not hold: C0 and C1 controls, DEL, and the Unicode line and paragraph
#: separators. An id is an address (``/articles/<id>``) and a line of a report; a newline or a
#: tab in one cannot be typed, printed or routed (werkzeug matches no newline in a path).
_ID_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def id_problem(article_id: str, what: str = "'id'", fix: str = "remove it from the id") -> str | None:
    """Why ``article_id`` cannot be an article's id (it holds a control character), or None.

    Only the id itself is checked: surrounding whitespace is trimmed as before, by the caller.
    """
    found = _ID_CONTROL.search(article_id)
    if found is None:
        return None
    return (f"{what} {article_id[:80]!r} contains a control character (U+{ord(found.group()):04X}), "
            f"which no link can address; {fix}")


_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2001, 2, 2)


def _hours(h: float) -> timezone:
    return timezone(timedelta(hours=h))


#: Time zone abbreviations news dates use, by UTC offset (standard and summer time are distinct
#: names). Ambiguous ones are in :data:`AMBIGUOUS_ZONES` instead; any other name is read as UTC
#: with a warning.
NEWS_ZONES: dict[str, timezone] = {
    **{name: timezone.utc for name in ("UTC", "UT", "GMT", "Z", "WET")},
    "WEST": _hours(1), "BST": _hours(1), "CET": _hours(1), "MET": _hours(1), "WAT": _hours(1),
    "CEST": _hours(2), "MEST": _hours(2), "EET": _hours(2), "CAT": _hours(2), "SAST": _hours(2),
    "EEST": _hours(3), "MSK": _hours(3), "TRT": _hours(3), "EAT": _hours(3), "MSD": _hours(4),
    "GST": _hours(4), "PKT": _hours(5), "NPT": _hours(5.75), "ICT": _hours(7), "WIB": _hours(7),
    "HKT": _hours(8), "SGT": _hours(8), "MYT": _hours(8), "PHT": _hours(8), "AWST": _hours(8),
    "WITA": _hours(8), "JST": _hours(9), "KST": _hours(9), "WIT": _hours(9), "ACST": _hours(9.5),
    "AEST": _hours(10), "ACDT": _hours(10.5), "AEDT": _hours(11), "NZST": _hours(12), "NZDT": _hours(13),
    # the North American ones as RFC 2822 (and so e-mail and RSS dates) defines them
    "HST": _hours(-10), "AKST": _hours(-9), "AKDT": _hours(-8), "PST": _hours(-8), "PDT": _hours(-7),
    "MST": _hours(-7), "MDT": _hours(-6), "CST": _hours(-6), "CDT": _hours(-5), "EST": _hours(-5),
    "EDT": _hours(-4), "AST": _hours(-4), "ADT": _hours(-3), "NST": _hours(-3.5), "NDT": _hours(-2.5),
    "BRT": _hours(-3), "ART": _hours(-3),
}
#: Abbreviations news uses for more than one zone: read as UTC, with a warning saying why.
AMBIGUOUS_ZONES: dict[str, str] = {"IST": "India, Ireland or Israel", "BDT": "Bangladesh or Brunei"}
#: "GMT+3" in a news date means three hours ahead of UTC, not POSIX's "UTC-3" that dateutil reads.
_GMT_OFFSET = re.compile(r"\b(?:GMT|UTC|UT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\b")


class _Zones:
    """dateutil's ``tzinfos``: the offsets of :data:`NEWS_ZONES`; others read as UTC and noted."""

    def __init__(self):
        self.note: str | None = None

    def __call__(self, name: str | None, offset: int | None):
        if offset is not None:  # a numeric offset wins over any name
            return timezone(timedelta(seconds=offset))
        if name is None:
            return None
        zone = NEWS_ZONES.get(name.upper())
        if zone is not None:
            return zone
        if name.upper() in AMBIGUOUS_ZONES:
            self.note = (f"time zone {name!r} is ambiguous ({AMBIGUOUS_ZONES[name.upper()]}); read as UTC: "
                         f"give an offset such as +05:30 instead")
        else:
            self.note = f"time zone {name!r} is not one newsindex knows; read as UTC: give an offset such as +03:00"
        return timezone.utc


def _lenient_parse(value: str) -> tuple[datetime | None, str | None]:
    """dateutil's free-form parser, but only when the text names a full date; and a note when
    its time zone had to be guessed.

    dateutil fills missing parts from a default (today), so "May" or "5"
    would become a real-looking date; parsing with two different defaults and
    comparing the dates rejects those.
    """
    zones = _Zones()
    value = _GMT_OFFSET.sub(lambda m: f"{m[1]}{int(m[2]):02d}{m[3] or '00'}", value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dateparser.UnknownTimezoneWarning)
        try:
            first = dateparser.parse(value, default=_DEFAULT_A, tzinfos=zones)
            second = dateparser.parse(value, default=_DEFAULT_B, tzinfos=zones)
        except (ValueError, OverflowError):
            return None, None
    if first.date() != second.date():
        return None, None
    return first, zones.note


def _rfc2822(value: str) -> datetime | None:
    """RFC 2822 dates ("Tue, 05 Mar 2024 10:00:00 GMT"), common in HTML meta; None when the
    zone is not one of RFC 2822's (the lenient parser knows more of them)."""
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else None


def parse_published(value: str | None) -> datetime | None:
    """Parse a publication date into an aware UTC datetime, or None (see :func:`parse_date`)."""
    return parse_date(value)[0]


def parse_date(value: str | None) -> tuple[datetime | None, str | None]:
    """A publication date as an aware UTC datetime (or None), and a note when its zone was guessed.

    Accepts ISO 8601 dates and datetimes (naive means UTC; a bare year or
    year-month means its first day), then RFC 2822 and other spelled-out
    dates (numeric ones month first, as dateutil reads them), with the zone
    abbreviations of :data:`NEWS_ZONES` (``10:00 MSK`` is 07:00 UTC); an
    unknown or ambiguous abbreviation is read as UTC and the note says so.
    ``datetime.fromisoformat`` handles nearly every real value and is fast,
    so the slower parsers only see the odd ones.
    """
    if not value or not value.strip():
        return None, None
    text = value.strip()
    note = None
    try:
        parsed: datetime | None = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = dateparser.isoparse(text)
        except (ValueError, OverflowError):
            parsed = _rfc2822(text)
            if parsed is None:
                parsed, note = _lenient_parse(text)
    if parsed is None:
        return None, None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc), note
    try:
        return parsed.astimezone(timezone.utc), note
    except (OverflowError, ValueError):  # e.g. 9999-12-31T23:00-05:00
        return None, None


_MAX_SHOWN_LANGUAGE = 40


def stated_language(value: object, path: str, line: int | None = None, where: str = "'language'"
                    ) -> tuple[str | None, Problem | None]:
    """The language an article's data states, as a LANGUAGES code, or None.

    Tags are normalised (``de-CH`` -> ``de``, ``pt_BR`` -> ``pt``). A value that
    names no supported language is a warning, not a reason to skip the
    article: the indexer detects the language from the text instead.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    code = normalize_language(value)
    if code is not None:
        return code, None
    if isinstance(value, str):
        shown = value if len(value) <= _MAX_SHOWN_LANGUAGE else value[:_MAX_SHOWN_LANGUAGE] + "..."
        reason = f"unknown language {shown!r} in {where}"
    else:
        reason = f"{where} must be a language code such as \"de\", got {json_type_name(value)}"
    return None, Problem(path, f"{reason}; detected from the text instead", line=line, warning=True)


def json_type_name(value: object) -> str:
    """Name a JSON value's type the way a user writing JSON would ("a number", "a list")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
