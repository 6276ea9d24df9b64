"""Formatting for the pages: numbers, dates, article paragraphs, page numbers, code spans.

Plain functions (no Flask), registered as Jinja filters by :mod:`webapp.pages`.
"""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from indexer.analysis import LANGUAGES

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
_INDENTED = re.compile(r"[ \t]{2,}\S")
_MARK_TAG = re.compile(r"</?mark>")
_CODE_SPAN = re.compile(r"`([^`]+)`")


def number(value: int) -> str:
    return f"{value:,}"


def long_date(value: datetime | None) -> str:
    """'1 June 1987' (the same in every locale)."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}" if value else ""


def iso_date(value: datetime | None) -> str:
    return value.date().isoformat() if value else ""


def paragraphs(body_html: str) -> list[Markup]:
    """An article body (escaped text with <mark>s) as paragraphs.

    Wire stories are hard-wrapped at ~65 characters with an indented first
    line per paragraph; other sources put one paragraph on a line, or
    separate them with blank lines. Wrapped lines are joined. A mark that a
    paragraph break cuts in two is closed and reopened, so the HTML stays
    well formed.
    """
    lines = body_html.split("\n")
    indented = any(_INDENTED.match(line) for line in lines[1:])
    blank_separated = any(not line.strip() for line in lines)
    groups: list[list[str]] = []
    for line in lines:
        starts_paragraph = (not line.strip() or (indented and _INDENTED.match(line))
                            or not (indented or blank_separated))
        if starts_paragraph or not groups:
            groups.append([])
        if line.strip():
            groups[-1].append(line.strip())
    return _balance_marks([" ".join(group) for group in groups if group])


def _balance_marks(texts: list[str]) -> list[Markup]:
    balanced, open_mark = [], False
    for text in texts:
        if open_mark:
            text = "<mark>" + text
        tags = _MARK_TAG.findall(text)
        open_mark = bool(tags) and tags[-1] == "<mark>"
        balanced.append(Markup(text + ("</mark>" if open_mark else "")))  # the library escaped all but <mark>
    return balanced


def page_numbers(current: int, pages: int, around: int = 2) -> list[int | None]:
    """Page links to show: the first, the last and ``around`` either side of the current; None for a gap."""
    shown = sorted({1, pages, *range(max(1, current - around), min(pages, current + around) + 1)})
    numbers: list[int | None] = []
    for n in shown:
        if numbers and n - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(n)
    return numbers


def language_name(code: str) -> str:
    """'German' for de (the English name: the site's own language is English)."""
    return LANGUAGES[code].name if code in LANGUAGES else code


def external_url(url: str | None) -> str | None:
    """The article's original address if it is a web address (never javascript: or data:)."""
    try:
        scheme = urlsplit(url or "").scheme.lower()
    except ValueError:  # e.g. an unclosed [ in the host
        return None
    return url if scheme in ("http", "https") else None


def message(text: str) -> Markup:
    """A library message (a clause as the CLI prints it, which may start with a parameter's
    name, so its case is kept) ended with a full stop, `backticked` commands as <code>."""
    text = str(text)
    sentence = text + ("" if text.endswith((".", "?", "!")) else ".")
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(sentence))))  # escaped first
