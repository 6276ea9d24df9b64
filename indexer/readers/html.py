"""Saved web pages (.html, .htm): one article per file, id = relative path.

Parsed with BeautifulSoup on lxml, never with regular expressions. Metadata
comes from what news sites publish for crawlers, most reliable first:

* title: og:title, twitter:title, the main content's first ``<h1>``,
  ``<title>`` (a trailing " | Site" is cut when it is the site's name);
* date: article:published_time, datePublished (meta or JSON-LD), a
  ``<time datetime>`` in the article, then date/pubdate/dc.date metas;
* source: og:site_name, application-name, JSON-LD publisher;
* author: meta author, article:author (unless a URL), JSON-LD author, the
  ``rel=author`` / ``itemprop=author`` element;
* url: ``<link rel=canonical>``, og:url;
* language: the ``lang`` of the main content element, ``<html lang>``,
  og:locale, JSON-LD inLanguage, ``Content-Language`` / ``dc.language``
  metas; the first one naming a supported language wins. When some are
  given but none is usable, a warning, and the indexer detects the language.

The body is JSON-LD ``articleBody`` when it is long enough to be the
article, else the text of the main content element, with navigation,
scripts, forms and other page furniture removed.
"""
from __future__ import annotations

import json
import warnings
from collections import deque
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from bs4 import (
    BeautifulSoup, CData, MarkupResemblesLocatorWarning, NavigableString, PageElement, Tag,
    XMLParsedAsHTMLWarning,
)
from bs4.dammit import EncodingDetector

from ..articles import Article, Problem
from .common import (
    binary_problem, clean_text, decode, looks_binary, oversized_field, parse_date,
    read_bytes, stated_language,
)

#: Page furniture that is never article text.
_DROP_TAGS = frozenset({"script", "style", "noscript", "template", "nav", "header", "footer",
                        "aside", "form", "iframe", "svg", "button"})
#: Elements that start a new line in the extracted text.
_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5",
                         "h6", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "table",
                         "tr", "figure", "figcaption", "address", "hr", "details", "summary"})
#: String types that are visible text (bs4 gives comments, scripts etc. their own types).
_TEXT_TYPES = frozenset({NavigableString, CData})
#: Elements _Page collects by tag name.
_INDEXED_TAGS = ("meta", "link", "script", "title", "h1", "article", "main", "p")
#: Marks block boundaries while extracting text; the input has no NUL after clean_text.
_BREAK = "\x00"
#: What goes around an element's text: a line break for blocks, a space for table cells.
_SEPARATORS = {**dict.fromkeys(_BLOCK_TAGS, _BREAK), "td": " ", "th": " "}
#: JSON-LD articleBody shorter than this is a teaser, not the article.
_MIN_LD_BODY_CHARS = 200
#: A byline element longer than this is a bio box, not a name.
_MAX_AUTHOR_CHARS = 200
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " · ", " :: ")
_DATE_METAS = ("article:published_time", "datepublished")
_LATE_DATE_METAS = ("date", "pubdate", "publishdate", "dc.date", "dc.date.issued")
#: Charset labels browsers read as windows-1252 (WHATWG Encoding Standard).
_CP1252_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii",
                  "windows-1252", "cp1252"}


def read_html(path: Path, rel: str) -> Iterator[Article | Problem]:
    """Read one saved web page as an article, reporting why when it cannot be used."""
    raw, problem = read_bytes(path, rel)
    if raw is None:
        yield problem  # type: ignore[misc]  # read_bytes returns one or the other
        return
    text, problems = _decode_html(raw, rel)
    yield from problems
    if text is None:
        return
    try:
        yield from parse_html(clean_text(text), rel)
    except Exception as err:  # noqa: BLE001 - hostile markup must not stop the run
        # bs4/lxml raise many kinds of errors (RecursionError on absurd nesting,
        # ValueError, ParserRejectedMarkup, ...); any of them only costs this file.
        yield Problem(rel, f"could not parse HTML: {type(err).__name__}: {err}"[:300],
                      whole_file=True)


def _decode_html(raw: bytes, rel: str) -> tuple[str | None, list[Problem]]:
    """Decode a page, honouring a declared non-UTF-8 charset before guessing cp1252."""
    declared = EncodingDetector.find_declared_encoding(raw, is_html=True)
    if declared and not declared.lower().startswith(("utf-8", "utf8", "utf-16", "utf-32")):
        if looks_binary(raw):
            return None, [binary_problem(rel)]
        try:
            raw.decode("utf-8")  # many pages declare latin-1 and are really UTF-8
        except UnicodeDecodeError:
            codec = "cp1252" if declared.lower() in _CP1252_LABELS else declared
            try:
                return raw.decode(codec), []
            except (LookupError, UnicodeDecodeError):
                pass
    return decode(raw, rel)


def parse_html(document: str, rel: str) -> Iterator[Article | Problem]:
    """Extract the article and its metadata from a page's (cleaned) markup."""
    page = _Page(_soup(document))
    meta = _meta_map(page)
    ld = _json_ld(page)
    landmark = page.main_article or page.first_role_main or page.first("main")
    site = meta.get("og:site_name") or meta.get("application-name") or _ld_name(ld.get("publisher"))
    title = _title(page, meta, ld, landmark, site)
    author = _author(page, meta, ld)
    dates = _date_candidates(meta, ld, landmark or page.soup)
    url = _canonical(page) or meta.get("og:url", "")
    body = _without_headline(_body(page, ld), title)
    if not body:
        yield Problem(rel, "no article text found")
        return
    too_big = oversized_field({"title": title, "body": body})
    if too_big:
        yield Problem(rel, too_big)
        return
    published, note, used = next(((d, n, text) for text in dates for d, n in [parse_date(text)] if d),
                                 (None, None, ""))
    if published is None and dates:
        yield Problem(rel, f"unrecognised date {dates[0][:80]!r}; indexed without a date",
                      warning=True)
    elif note:
        yield Problem(rel, f"date {used[:80]!r}: {note}", warning=True)
    language, problem = _language(page, meta, ld, landmark, rel)
    if problem:
        yield problem
    yield Article(id=rel, body=body, title=title, source=clean_text(site),
                  published=published, author=author, url=clean_text(url), path=rel,
                  language=language)


def _soup(document: str) -> BeautifulSoup:
    """Parse with lxml, silencing bs4's advice warnings (a page is a page here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(document, "lxml")


class _Page:
    """A parsed page with the elements the extractors need, found in one walk.

    bs4's ``find`` walks the whole tree through a slow matching layer; a
    dozen of them cost more than parsing, so the tree is walked once here.
    """

    def __init__(self, soup: BeautifulSoup) -> None:
        self.soup = soup
        self.by_name: dict[str, list[Tag]] = {name: [] for name in _INDEXED_TAGS}
        self.first_role_main: Tag | None = None
        self.first_article_body: Tag | None = None
        self.first_byline: Tag | None = None
        for node in soup.descendants:
            if isinstance(node, Tag):
                self._note(node)

    def _note(self, tag: Tag) -> None:
        """File one element under the lookups it can answer."""
        if tag.name in self.by_name:
            self.by_name[tag.name].append(tag)
        if not tag.attrs:
            return
        if self.first_role_main is None and _attr(tag, "role").lower() == "main":
            self.first_role_main = tag
        itemprops = _attr(tag, "itemprop").split()
        if self.first_article_body is None and "articleBody" in itemprops:
            self.first_article_body = tag
        if (self.first_byline is None and tag.name not in ("meta", "link")  # those have no text
                and ("author" in itemprops or "author" in _attr(tag, "rel").lower().split())):
            self.first_byline = tag

    @cached_property
    def main_article(self) -> Tag | None:
        """The ``<article>`` with the most text (pages also use it for teasers), or None."""
        articles = self.by_name["article"]
        return max(articles, key=lambda article: len(article.get_text())) if articles else None

    def all(self, name: str) -> list[Tag]:
        """Every element with this tag name (one of _INDEXED_TAGS), in document order."""
        return self.by_name[name]

    def first(self, name: str) -> Tag | None:
        """The first element with this tag name (one of _INDEXED_TAGS), or None."""
        tags = self.by_name[name]
        return tags[0] if tags else None


def _attr(tag: Tag, name: str) -> str:
    """An attribute as one stripped string ('' when absent), whatever bs4 made of it."""
    value = tag.get(name)
    if isinstance(value, list):
        value = " ".join(value)
    return value.strip() if isinstance(value, str) else ""


def _meta_map(page: _Page) -> dict[str, str]:
    """First non-empty content of each meta property/name/itemprop, keys lower-cased."""
    meta: dict[str, str] = {}
    for tag in page.all("meta"):
        content = _attr(tag, "content")
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = _attr(tag, attr).lower()
            if key:
                meta.setdefault(key, content)
    return meta


def _json_ld(page: _Page) -> dict[str, Any]:
    """The page's article object from JSON-LD, or {}.

    Broken JSON-LD is common and only optional metadata, so it is skipped
    without a Problem.
    """
    objects: list[dict[str, Any]] = []
    for script in page.all("script"):
        if _attr(script, "type").lower() != "application/ld+json":
            continue
        try:
            objects.extend(_ld_objects(json.loads(script.string or "")))
        except (ValueError, RecursionError):
            continue
    articles = [obj for obj in objects if _is_article(obj)]
    fallback = [obj for obj in objects if "articleBody" in obj or "datePublished" in obj]
    return (articles or fallback or [{}])[0]


def _ld_objects(data: Any) -> list[dict[str, Any]]:
    """Flatten top-level lists and ``@graph`` containers into plain objects."""
    found: list[dict[str, Any]] = []
    pending = deque([data])
    while pending:
        item = pending.popleft()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            found.append(item)
            graph = item.get("@graph")
            if isinstance(graph, list):
                pending.extend(graph)
    return found


def _is_article(obj: dict[str, Any]) -> bool:
    """Whether a JSON-LD object is an article (NewsArticle, BlogPosting, ...)."""
    types = obj.get("@type")
    names = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and t.endswith(("Article", "Posting")) for t in names)


def _ld_name(value: Any) -> str:
    """A name from a JSON-LD string, {"name": ...} object, or list of those."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        name = value.get("name")
        return name.strip() if isinstance(name, str) else ""
    if isinstance(value, list):
        return ", ".join(filter(None, map(_ld_name, value)))
    return ""


def _ld_str(value: Any) -> str:
    """A JSON-LD text value, taking the first of a list."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), "")
    return value.strip() if isinstance(value, str) else ""


def _title(page: _Page, meta: dict[str, str], ld: dict[str, Any],
           landmark: Tag | None, site: str) -> str:
    """The headline, from the most reliable source present, without a " | Site" tail."""
    h1 = (landmark.find("h1") if landmark else None) or page.first("h1")
    title_tag = page.first("title")
    candidates = (
        meta.get("og:title", ""), meta.get("twitter:title", ""),
        _inline_text(h1) if h1 else "",
        _inline_text(title_tag) if title_tag else "",
        _ld_str(ld.get("headline")),
    )
    title = next((clean_text(c) for c in candidates if c.strip()), "")
    return _strip_site_suffix(title, clean_text(site))


def _strip_site_suffix(title: str, site: str) -> str:
    """Cut " | Site" (or " - Site", ...) only when it is exactly the site's name."""
    if not site:
        return title
    for separator in _TITLE_SEPARATORS:
        tail = separator + site
        if len(title) > len(tail) and title.lower().endswith(tail.lower()):
            return title[:-len(tail)].rstrip()
    return title


def _author(page: _Page, meta: dict[str, str], ld: dict[str, Any]) -> str:
    """The byline, from meta, JSON-LD or the marked-up byline element."""
    article_author = meta.get("article:author", "")
    if article_author.lower().startswith(("http://", "https://", "www.")):
        article_author = ""
    candidates = [meta.get("author", ""), article_author, _ld_name(ld.get("author"))]
    byline = page.first_byline
    if byline:
        candidates.append(_inline_text(byline.find(attrs={"itemprop": "name"}) or byline))
    return next((clean_text(c) for c in candidates
                 if c.strip() and len(c) <= _MAX_AUTHOR_CHARS), "")


def _date_candidates(meta: dict[str, str], ld: dict[str, Any], scope: Tag) -> list[str]:
    """Every publication date the page states, most reliable first."""
    time_tag = scope.find("time", attrs={"datetime": True})
    candidates = [meta.get(name, "") for name in _DATE_METAS]
    candidates.append(_ld_str(ld.get("datePublished")))
    candidates.append(_attr(time_tag, "datetime") if time_tag else "")
    candidates += [meta.get(name, "") for name in _LATE_DATE_METAS]
    return [c for c in candidates if c]


def _language(page: _Page, meta: dict[str, str], ld: dict[str, Any], landmark: Tag | None,
              rel: str) -> tuple[str | None, Problem | None]:
    """The page's stated language, most specific first; a warning when only unusable ones are given.

    A Content-Language listing several languages ("de, en") names the audience,
    not the article's language, so it is not used.
    """
    html = page.soup.find("html")
    content = landmark or page.first_article_body
    candidates = [
        ("the article's lang attribute", _attr(content, "lang") if content else ""),
        ("<html lang>", (_attr(html, "lang") or _attr(html, "xml:lang")) if html else ""),
        ("og:locale", meta.get("og:locale", "")),
        ("JSON-LD inLanguage", _ld_language(ld.get("inLanguage"))),
        ("Content-Language", meta.get("content-language", "")),
        ("dc.language", meta.get("dc.language", "") or meta.get("language", "")),
    ]
    first_problem = None
    for where, value in candidates:
        if not value or "," in value:
            continue
        code, problem = stated_language(value, rel, where=where)
        if code:
            return code, None
        first_problem = first_problem or problem
    return None, first_problem


def _ld_language(value: Any) -> str:
    """JSON-LD inLanguage: a tag, or a Language object with a name or alternateName."""
    if isinstance(value, dict):
        value = value.get("alternateName") or value.get("name")
    return _ld_str(value)


def _canonical(page: _Page) -> str:
    """The href of ``<link rel=canonical>``, or ''."""
    for link in page.all("link"):
        if "canonical" in _attr(link, "rel").lower().split():
            return _attr(link, "href")
    return ""


def _body(page: _Page, ld: dict[str, Any]) -> str:
    """The article text: long JSON-LD articleBody, else the main content's text."""
    ld_body = clean_text(_ld_str(ld.get("articleBody")))
    if len(ld_body) >= _MIN_LD_BODY_CHARS:
        return ld_body
    for element in _content_candidates(page):
        text = _block_text(element)
        if text:
            return clean_text(text)
    return ""


def _without_headline(body: str, title: str) -> str:
    """The body without a first line that repeats the title (the ``<h1>`` inside ``<article>``):
    it would show the headline twice on the article page and open snippets with it."""
    first, _, rest = body.partition("\n")
    if title and rest.strip() and " ".join(first.split()).casefold() == " ".join(title.split()).casefold():
        return rest.lstrip("\n")
    return body


def _content_candidates(page: _Page) -> Iterator[Tag]:
    """Elements that may hold the article text, most specific first."""
    if page.first_article_body:
        yield page.first_article_body
    for element in (page.main_article, page.first_role_main, page.first("main")):
        if element:
            yield element
    densest = _densest_paragraph_parent(page)
    if densest:
        yield densest
    if page.soup.body:
        yield page.soup.body


def _densest_paragraph_parent(page: _Page) -> Tag | None:
    """The element whose direct ``<p>`` children hold the most text."""
    totals: dict[int, tuple[int, Tag]] = {}
    for paragraph in page.all("p"):
        parent = paragraph.parent
        if isinstance(parent, Tag):
            count, _ = totals.get(id(parent), (0, parent))
            totals[id(parent)] = (count + len(paragraph.get_text(strip=True)), parent)
    if not totals:
        return None
    return max(totals.values(), key=lambda pair: pair[0])[1]


def _block_text(element: Tag) -> str:
    """Text with one line per paragraph/heading/list item and whitespace collapsed.

    Walks the tree with an explicit stack, skipping page furniture, and never
    modifies it: bs4's own insert/decompose cost time proportional to the
    subtree, which turns quadratic on deeply nested pages.
    """
    pieces: list[str] = []
    stack: list[tuple[Iterator[PageElement], str]] = [(iter(element.contents), "")]
    while stack:
        children, closing = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            pieces.append(closing)
        elif isinstance(node, Tag):
            if node.name == "br":
                pieces.append(_BREAK)
            elif not _is_furniture(node):
                separator = _SEPARATORS.get(node.name, "")
                pieces.append(separator)
                stack.append((iter(node.contents), separator))
        elif type(node) in _TEXT_TYPES:  # not comments, doctypes, script/style strings
            pieces.append(node)
    lines = (" ".join(part.split()) for part in "".join(pieces).split(_BREAK))
    return "\n".join(line for line in lines if line)


def _is_furniture(tag: Tag) -> bool:
    """Navigation, scripts, forms and such: never article text.

    A form is kept when it holds paragraphs: some CMSs (ASP.NET) wrap the
    whole page in one ``<form>``.
    """
    if tag.name not in _DROP_TAGS:
        return False
    return not (tag.name == "form" and tag.find("p") is not None)


def _inline_text(element: Tag) -> str:
    """An element's text on one line, whitespace collapsed."""
    return " ".join(element.get_text(" ").split())
