"""Atom 1.0 feeds (RFC 4287) for any search: how a media monitor follows a standing query.

Entries are the newest matches by the time newsindex *first indexed* them
(``first_seen``), not by their ``published`` date: an article added today
with an old date still reaches the reader, and an update keeps its place and
its entry id (only ``updated`` changes). The XML is built as an element tree
by lxml, which does all the escaping; no markup is ever assembled by hand.

Beside the Atom elements the feed carries OpenSearch 1.1's ``totalResults``,
``itemsPerPage``, ``startIndex`` and ``Query``, as search engines' feeds do.

The library does not know the site's addresses: the caller passes
:class:`FeedLinks` (the web app builds them from its routes, so the CLI's
``--format atom`` and ``/search.atom`` print the same feed).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from lxml import etree

import indexer

from .analysis import LANGUAGES
from .live import reads_index
from .search import Hit, Matches, SearchFilters, iso_datetime, matches

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
MEDIA_TYPE = "application/atom+xml"
FEED_ENTRIES = 50
#: Entry and feed ids are name-based UUIDs (RFC 4122 §4.3) in this namespace: stable, and
#: independent of the address the site is reached at.
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:newsindex:atom")
SOURCE_SCHEME = "urn:newsindex:source"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # XML 1.0 Char


class FeedLinks(Protocol):
    """Absolute addresses on the site, for the feed's links."""

    def feed(self) -> str:
        """This feed (``rel="self"``)."""

    def results(self) -> str:
        """The same search as a results page (``rel="alternate"``)."""

    def article(self, article_id: str) -> str:
        """An article's page, the query's words highlighted."""


@dataclass
class Feed:
    """A rendered feed and the index state it was made from (for HTTP validators)."""

    xml: bytes
    generation: str
    built: str | None
    entries: int
    total: int


@reads_index
def atom_feed(index, query: str, filters: SearchFilters | None, links: FeedLinks,
              entries: int = FEED_ENTRIES, settings=None) -> Feed:
    """The Atom feed of ``query`` under ``filters``: its ``entries`` newest matches by first_seen."""
    filters = filters or SearchFilters()
    found = matches(index, query, filters, sort="first_seen", limit=min(entries, FEED_ENTRIES),
                    settings=settings)
    return Feed(xml=_render(found, filters, links), generation=found.generation, built=found.built,
                entries=len(found.docnums), total=found.total)


def feed_title(query: str, filters: SearchFilters) -> str:
    """``newsindex: cocoa -bahia (Reuters; from 1987-03-01 to 1987-05-31)``."""
    narrowed = []
    if filters.sources:
        narrowed.append(", ".join(filters.sources))
    if filters.languages:
        narrowed.append("in " + _language_names(filters.languages))
    if filters.date_from or filters.date_to:
        narrowed.append(" ".join(part for part in (
            f"from {filters.date_from}" if filters.date_from else "",
            f"to {filters.date_to}" if filters.date_to else "") if part))
    if filters.author:
        narrowed.append(f"by {filters.author}")
    return f"newsindex: {query.strip() or 'all articles'}" + (f" ({'; '.join(narrowed)})" if narrowed else "")


def entry_id(hit: Hit) -> str:
    """Stable for an article across updates and rebuilds; unique to this index's copy of it."""
    seen = iso_datetime(hit.first_seen) or ""
    return uuid.uuid5(ID_NAMESPACE, f"article\n{hit.id}\n{seen}").urn


def feed_id(query: str, filters: SearchFilters) -> str:
    key = "\n".join(["feed", query.strip(), ",".join(sorted(filters.sources)), str(filters.date_from or ""),
                     str(filters.date_to or ""), filters.author or ""])
    if filters.languages:  # appended only when given: the ids of feeds without it stay as they were
        key += "\nlang:" + ",".join(sorted(filters.languages))
    return uuid.uuid5(ID_NAMESPACE, key).urn


def _render(found: Matches, filters: SearchFilters, links: FeedLinks) -> bytes:
    built = datetime.fromisoformat(found.built) if found.built else datetime.now(timezone.utc)
    hits = list(found.hits(snippets=True))
    updated = max((_updated(hit, built) for hit in hits), default=built)

    feed = etree.Element(_atom("feed"), nsmap={None: ATOM, "opensearch": OPENSEARCH})
    _text(feed, "id", feed_id(found.query, filters))
    _text(feed, "title", feed_title(found.query, filters))
    _text(feed, "subtitle", f"The newest of {found.total:,} matching article{'s' if found.total != 1 else ''}, "
                            f"by when newsindex first indexed them (at most {FEED_ENTRIES}).")
    _text(feed, "updated", _date(updated))
    _link(feed, links.feed(), "self", MEDIA_TYPE)
    _link(feed, links.results(), "alternate", "text/html")
    author = etree.SubElement(feed, _atom("author"))
    _text(author, "name", "newsindex")
    generator = _text(feed, "generator", "newsindex")
    generator.set("version", indexer.__version__)
    _opensearch(feed, found)
    for hit in hits:
        _entry(feed, hit, built, links)
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _opensearch(feed, found: Matches) -> None:
    etree.SubElement(feed, f"{{{OPENSEARCH}}}totalResults").text = str(found.total)
    etree.SubElement(feed, f"{{{OPENSEARCH}}}itemsPerPage").text = str(FEED_ENTRIES)
    etree.SubElement(feed, f"{{{OPENSEARCH}}}startIndex").text = "1"
    query = etree.SubElement(feed, f"{{{OPENSEARCH}}}Query")
    query.set("role", "request")
    query.set("searchTerms", _clean(found.query))


def _entry(feed, hit: Hit, built: datetime, links: FeedLinks) -> None:
    entry = etree.SubElement(feed, _atom("entry"))
    entry.set(XML_LANG, hit.language)  # the article's language, for readers' fonts, hyphenation, speech
    _text(entry, "id", entry_id(hit))
    _text(entry, "title", hit.title or "(untitled)")
    _text(entry, "updated", _date(_updated(hit, built)))
    if hit.published:
        _text(entry, "published", _date(hit.published))
    _link(entry, links.article(hit.id), "alternate", "text/html")
    if hit.url and hit.url.lower().startswith(("http://", "https://")):
        _link(entry, hit.url, "related", "text/html", title="The original article")
    if hit.author:
        author = etree.SubElement(entry, _atom("author"))
        _text(author, "name", hit.author)
    if hit.source:
        category = etree.SubElement(entry, _atom("category"))
        category.set("term", _clean(hit.source))
        category.set("scheme", SOURCE_SCHEME)
        category.set("label", _clean(f"Source: {hit.source}"))
    summary = _text(entry, "summary", hit.snippet_html)  # escaped text with <mark>s: type html
    summary.set("type", "html")


def _language_names(codes) -> str:
    return ", ".join(LANGUAGES[code].name if code in LANGUAGES else code for code in codes)


def _updated(hit: Hit, built: datetime) -> datetime:
    return hit.last_changed or hit.first_seen or built


def _atom(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def _text(parent, name: str, value: str):
    element = etree.SubElement(parent, _atom(name))
    element.text = _clean(value)
    return element


def _link(parent, href: str, rel: str, media_type: str, title: str | None = None) -> None:
    link = etree.SubElement(parent, _atom("link"))
    link.set("rel", rel)
    link.set("type", media_type)
    link.set("href", _clean(href))
    if title:
        link.set("title", title)


def _date(value: datetime) -> str:
    """RFC 3339 in UTC, as Atom requires."""
    return iso_datetime(value.astimezone(timezone.utc))


def _clean(text: str) -> str:
    """Only characters XML 1.0 can carry (ingest already drops the rest; this is the last guard)."""
    return _NOT_XML.sub("", text or "")
