"""Property tests: any query and any article text are handled safely (issue 5, "Prove it holds").

* Queries: any string through ``indexer.query.parse`` never raises; through
  ``indexer.search.search`` it returns results or a ``QueryError`` (message +
  ``param``) and nothing else; through ``python -m indexer search`` (a real
  process) it exits 0 or 3 with one line on stderr and never a traceback.
  Every ``*_html`` field is escaped text plus ``<mark>``/``</mark>`` only.
* Article text: any text JSON can carry indexes through ``reindex`` from a
  JSONL file, is found by a word it contains, highlights safely, and
  ``get_article`` gives back exactly the cleaned text.

One real index (sample articles + hostile ones) serves the query properties.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from indexer.config import Settings
from indexer.analysis import analyze
from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.query import ParsedQuery, parse
from indexer.readers.common import clean_text, id_problem
from indexer.search import QueryError, get_article, search
from tests.conftest import REPO, SAMPLE, write_jsonl

MAX_QUERY_CHARS = Settings.load().max_query_chars  # 2,000 unless NEWSINDEX_MAX_QUERY_CHARS says otherwise

# --------------------------------------------------------------------------- helpers

_MARK_TAG = re.compile(r"</?mark>")
_ESCAPED_TEXT = re.compile(r"(?:[^&<>]|&(?:amp|lt|gt);)*", re.S)


def assert_safe_html(fragment: str, plain: str | None = None) -> None:
    """``fragment`` is escaped text with balanced, unnested, non-empty ``<mark>`` tags only.

    With ``plain``, removing the tags and unescaping must give ``plain`` back exactly.
    """
    assert isinstance(fragment, str)
    open_at = None
    for m in _MARK_TAG.finditer(fragment):
        if m.group() == "<mark>":
            assert open_at is None, f"nested <mark> in {fragment!r}"
            open_at = m.end()
        else:
            assert open_at is not None, f"</mark> without <mark> in {fragment!r}"
            assert m.start() > open_at, f"empty <mark></mark> in {fragment!r}"
            open_at = None
    assert open_at is None, f"unclosed <mark> in {fragment!r}"
    text = _MARK_TAG.sub("", fragment)
    assert _ESCAPED_TEXT.fullmatch(text), f"unescaped markup in {fragment!r}"
    if plain is not None:
        assert html.unescape(text) == plain


def assert_results_safe(results, index: LiveIndex) -> None:
    # what --json and the API send: JSON that encodes as UTF-8 (no lone surrogates echoed back)
    json.dumps(results.to_dict(), ensure_ascii=False).encode("utf-8")
    assert all(n.encode("utf-8") for n in results.notices)
    assert results.total >= len(results.hits)
    for hit in results.hits:
        assert_safe_html(hit.title_html, hit.title)
        assert_safe_html(hit.snippet_html)
        # the snippet shows only article text (plus the ellipses and spaces it adds)
        body = _body(index, hit.id)
        shown = html.unescape(_MARK_TAG.sub("", hit.snippet_html)).replace("…", " ")
        for piece in shown.split():
            assert piece in body, (hit.id, piece)


_BODIES: dict[tuple[str, str], str] = {}


def _body(index: LiveIndex, article_id: str) -> str:
    key = (str(index.store.root), article_id)
    if key not in _BODIES:
        _BODIES[key] = get_article(index, article_id).body
    return _BODIES[key]


# Articles written to break escaping, highlighting, analysis and layout.
HOSTILE_ARTICLES = [
    {"id": "h-script", "title": "<script>alert('x')</script> cocoa <b>bold</b>",
     "body": "Cocoa <script>alert(document.cookie)</script> prices &amp; &lt;mark&gt; rose. "
             "<img src=x onerror=alert(1)> A second sentence about cocoa & sugar."},
    {"id": "h-marks", "title": "Literal <mark>tags</mark> and </mark> in a title",
     "body": "The text holds <mark>fake marks</mark>, a stray </mark> and <mark> too, "
             "around the word cocoa and the word nato."},
    {"id": "h-rtl", "title": "\u202eRTL override \u05e9\u05dc\u05d5\u05dd \u0633\u0644\u0627\u0645",
     "body": "\u0627\u0644\u0643\u0627\u0643\u0627\u0648 cocoa \u202bembedded\u202c \u05e9\u05dc\u05d5\u05dd "
             "\u200fmarks\u200e and \u2066isolates\u2069 nato."},
    {"id": "h-emoji", "title": "Emoji 👩‍👩‍👧‍👦 🇺🇦 cocoa 🍫",
     "body": "Family 👩‍👩‍👧‍👦 flag 🇺🇦 keycap 1️⃣ skin 👍🏽 and cocoa 🍫 beans. " * 20},
    {"id": "h-cjk", "title": "可可价格 上涨 ココア 코코아",
     "body": "可可价格今天上涨。日本のココア市場。한국 코코아 시장 cocoa 北约 nato。" * 10},
    {"id": "h-combining", "title": "Z̷̢̛a̸͎͐l̶̰̈g̵̣̿ȯ̷͜ cafe\u0301 café",
     "body": "Combining: cafe\u0301 vs café, n\u0303, Z̷̢̛a̸͎͐l̶̰̈g̵̣̿ȯ̷͜ text about cocoa." * 5},
    {"id": "h-huge-word", "title": "A huge word",
     "body": "cocoa " + "x" * 20_000 + " nato " + "ab-" * 3000 + "end " + "9," * 2000 + "1"},
    {"id": "h-controls", "title": "Controls\x00\x01\x07\x1b[31m red\u0085 nel\u2028line",
     "body": "NUL\x00byte BEL\x07 ESC\x1b[0m C1\x9b form\x0cfeed vertical\x0btab cocoa "
             "\ufeffbom \u200bzero\u200cwidth\u200djoiner \ud800lone surrogate nato."},
    {"id": "h-operators", "title": "OR AND NOT title:cocoa source:x published:1987",
     "body": 'Words that look like syntax: OR AND NOT ( ) " title:nato -cocoa +war nego* a* '
             '|| && ~ ^ : \\ / ; { } [ ] cocoa.'},
    {"id": "h-long", "title": "A long article where the match is far away",
     "body": ("Filler sentence number one about nothing in particular. " * 4000)
             + "Finally the word zyzzyva appears here with cocoa and nato. "
             + ("Closing filler sentence. " * 200)},
    {"id": "<script>id&amp;\"'", "title": "Odd id", "body": "An article with an odd id about cocoa."},
    # every field populated, so every field the query language names has something to match
    {"id": "h-every-field", "title": "Every field: cocoa talks at NATO", "body": "Cocoa and nato, said Smith.",
     "author": ["Jane Smith", "Omar Haddad"], "source": "Full Wire", "published": "2024-05-02T10:00:00Z",
     "url": "https://example.com/every-field", "topics": ["cocoa", "nato"], "language": "en"},
]


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> LiveIndex:
    base = tmp_path_factory.mktemp("props")
    source = base / "articles"
    shutil.copytree(SAMPLE, source)
    write_jsonl(source / "hostile.jsonl", HOSTILE_ARTICLES)
    summary = reindex(base / "index", [source])
    assert summary.skipped == 0, [str(p) for p in summary.problems]
    assert summary.articles == 301 + len(HOSTILE_ARTICLES)
    return LiveIndex(base / "index")


# --------------------------------------------------------------------------- query strategies

# Every code point, lone surrogates included (a library caller can pass any str).
ANY_CHAR = st.characters(exclude_categories=())
SYNTAX = ["cocoa", "Cocoa", "COCOA", "nato", "zelenskyy", "Zelensky", "negociations", "hot", "phase",
          "war", "the", "of", "a", "OR", "AND", "NOT", "|", "||", "&", "&&", "-", "+", "(", ")", '"',
          "\u201c", "\u201d", "\u201e", "title:", "body:", "author:", "source:", "site:", "by:",
          "published:", "date:", "year:", "text:", "published:1987", "published:1987-03..1987-05",
          "published:2024..", "published:..1987", "published:9999-99", "published:0000",
          "published:1987-02-30", "published:..", "source:reuters", 'source:"ICARO Media Group"',
          "author:smith", 'by:"Jane Smith"', "author:haddad", "title:cocoa", "body:nato", "text:cocoa",
          "site:full", "date:2024-05", "year:2024", "author:nobody",
          "nego*", "a*", "*", "**", "c*", "co*", "~", "^", ":", "::", "?", "!", "\\", "/", "<mark>",
          "</mark>", "<script>", "&amp;", "&", "'", "’", "U.S.", "1,750", "5.93", "cease-fire",
          "ceasefire", "Zelenskyy's", "café", "cafe\u0301", "可可", "ココア", "👩‍👩‍👧‍👦", "\u202e",
          "\u200b", "\x00", "\ud800", "\udfff", "\t", "\n", "x" * 70, "9" * 40, "..", "-\"cease fire\""]
TOKEN = st.one_of(st.sampled_from(SYNTAX), st.text(ANY_CHAR, max_size=8))
STRUCTURED = st.lists(TOKEN, max_size=40).flatmap(
    lambda parts: st.sampled_from([" ".join(parts), "".join(parts)]))
NEAR_LIMIT = st.builds(lambda piece, n: (piece * n)[:n], st.text(ANY_CHAR, min_size=1, max_size=12)
                       | st.sampled_from(SYNTAX), st.integers(MAX_QUERY_CHARS - 50, MAX_QUERY_CHARS + 60))
ANY_QUERY = st.one_of(st.text(ANY_CHAR, max_size=MAX_QUERY_CHARS + 100), STRUCTURED, NEAR_LIMIT)


# --------------------------------------------------------------------------- queries

@settings(max_examples=400, deadline=None)
@given(ANY_QUERY)
def test_parse_never_raises(text):
    parsed = parse(text)
    assert isinstance(parsed, ParsedQuery)
    assert isinstance(str(parsed), str)
    assert all(isinstance(n, str) and n for n in parsed.notices)


def _run_search(index, query, **kwargs):
    try:
        return search(index, query, cache=False, **kwargs)
    except QueryError as exc:
        assert str(exc).strip(), "a QueryError must say what to change"
        assert "\n" not in str(exc)
        assert exc.param in ("q", "page", "per_page", "sort", "from", "to", "source")
        return None


@settings(max_examples=300, deadline=None)
@given(query=ANY_QUERY, sort=st.sampled_from(["relevance", "newest", "oldest"]),
       per_page=st.sampled_from([10, 100]))
@example(query="\ud800 cocoa \udcff", sort="relevance", per_page=10)  # lone surrogates were echoed back
@example(query="155,221 bags", sort="relevance", per_page=10)
def test_any_query_through_the_library(live, query, sort, per_page):
    results = _run_search(live, query, sort=sort, per_page=per_page)
    if results is None:
        return
    assert_results_safe(results, live)
    if results.suggestion is not None:
        assert isinstance(results.suggestion, str) and results.suggestion.strip()
    # the article page highlights the same query safely
    for hit in results.hits[:3]:
        view = get_article(live, hit.id, query=query)
        assert_safe_html(view.title_html, view.title)
        assert_safe_html(view.body_html, view.body)


@pytest.mark.parametrize("query", [
    "cocoa", "script", "mark", "alert", "amp", "lt", "cocoa sugar script", '"cocoa prices"',
    "zyzzyva", "nato", "可可", "ココア", "café", "cafe", "x" * 64, "OR", "title:cocoa", "1,750",
    "<mark>", "&amp;", "\u202e", "👩", "source:reuters cocoa", "fake marks", "stray",
])
def test_hostile_articles_highlight_safely(live, query):
    results = _run_search(live, query, per_page=100)
    assert results is not None
    assert_results_safe(results, live)
    for hit in results.hits:
        view = get_article(live, hit.id, query=query)
        assert_safe_html(view.title_html, view.title)
        assert_safe_html(view.body_html, view.body)


def test_every_field_of_the_query_language_on_a_fully_populated_article(live):
    """author:, by:, title:, body:, text:, source:, site:, published:, date:, year: on an article that
    has every field (a KeyError on author: once answered 500 whenever an article had an author)."""
    for query in ["author:smith", 'by:"Jane Smith"', "author:haddad cocoa", "title:cocoa nato",
                  "body:smith", "text:smith", "source:full", 'site:"Full Wire"', "published:2024-05",
                  "date:2024-05-02", "year:2024 cocoa"]:
        found = search(live, query, per_page=100, cache=False)
        assert "h-every-field" in [h.id for h in found.hits], query
    assert search(live, "author:nobody", cache=False).total == 0
    assert search(live, "author:smith", cache=False).hits[0].author == "Jane Smith, Omar Haddad"


def test_far_match_in_a_long_article_is_shown(live):
    results = search(live, "zyzzyva")
    assert [h.id for h in results.hits] == ["h-long"]
    assert "<mark>zyzzyva</mark>" in results.hits[0].snippet_html


def test_query_over_the_limit_is_a_query_error(live):
    with pytest.raises(QueryError) as err:
        search(live, "cocoa " * 400)
    assert err.value.param == "q" and "2,000" in str(err.value)


# --------------------------------------------------------------------------- the CLI

def _cli_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSINDEX_")}
    return {**env, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}


# argv cannot hold NUL; everything else goes, including bytes that are not UTF-8
# (a shell passes those through, and Python sees them as surrogate escapes).
CLI_CHAR = st.characters(exclude_categories=(), exclude_characters="\x00")
CLI_QUERY = st.one_of(st.text(CLI_CHAR, max_size=MAX_QUERY_CHARS + 50),
                      STRUCTURED.map(lambda q: q.replace("\x00", "")),
                      NEAR_LIMIT.map(lambda q: q.replace("\x00", "")))  # argv cannot carry a NUL


def _argv_bytes(query: str) -> bytes:
    """How a shell would hand the query over: UTF-8, lone surrogates as the raw bytes they stand for."""
    return query.encode("utf-8", "surrogateescape") if _escapable(query) else \
        query.encode("utf-8", "surrogatepass")


def _escapable(query: str) -> bool:
    try:
        query.encode("utf-8", "surrogateescape")
        return True
    except UnicodeEncodeError:
        return False


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(query=CLI_QUERY, as_json=st.booleans())
@example(query="\udcff\udcfe cocoa", as_json=False)  # bytes that are not UTF-8, as a shell passes them
@example(query="coco\udcff", as_json=True)
@example(query="<mRK>", as_json=False)  # did-you-mean: "showing results for “<mark>”", as typed
def test_any_query_through_the_cli(live, query, as_json):
    index_dir = live.store.root
    argv = [sys.executable.encode(), b"-m", b"indexer", b"search", b"--index", os.fsencode(index_dir),
            *([b"--json"] if as_json else []), b"--", _argv_bytes(query)]
    proc = subprocess.run(argv, capture_output=True, env=_cli_env(), cwd=REPO, timeout=60)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr
    if not query.strip():
        # nothing to search for at all: a usage error, as for a missing argument
        assert proc.returncode == 2, stderr
        assert "the QUERY is missing" in stderr
        return
    assert proc.returncode in (0, 2), stderr  # 2: a query it cannot run (too long, a*), as any usage error
    if proc.returncode == 2:
        assert len(stderr.strip().splitlines()) == 1, stderr
        assert stderr.startswith("error: ") and "internal error" not in stderr
        return
    assert stderr == "", stderr
    stdout = proc.stdout.decode("utf-8")  # valid UTF-8, whatever came in
    if as_json:
        data = json.loads(stdout)
        for hit in data["hits"]:
            assert_safe_html(hit["title_html"], hit["title"])
            assert_safe_html(hit["snippet_html"])
    else:
        assert re.search(r"^\d[\d,]* results? \(", stdout, re.M), stdout
        # marks are for HTML; the terminal shows plain text (h-marks' own literal tags aside, and
        # the notes, which quote the query as typed or corrected: "<mRK>" becomes "<mark>")
        plain = "\n".join(line for line in stdout.splitlines() if not line.startswith("note: "))
        for literal in ("<mark>tags</mark>", "<mark>fake marks</mark>", "stray </mark>", "and <mark> too"):
            plain = plain.replace(literal, "")
        assert "<mark>" not in plain


# --------------------------------------------------------------------------- article text

# Text JSON can carry (lone surrogates are written as \\ud800 escapes and removed by cleaning).
_WEIRD = ["<script>alert(1)</script>", "<mark>", "</mark>", "&amp;", "&lt;", "&", "<", ">",
          "\x00", "\x01", "\x1b[31m", "\x7f", "\x85", "\x9b", "\u2028", "\u2029", "\ufeff",
          "\u200b", "\u200d", "\u202e", "\u2066", "\r\n", "\r", "\t", "\v", "\f",
          "\ud800", "\udfff", "e\u0301", "\u0301", "Z̷̢̛a̸͎͐", "👩‍👩‍👧‍👦", "🇺🇦", "可可价格", "ココア",
          "코코아", "\u05e9\u05dc\u05d5\u05dd", "\u0633\u0644\u0627\u0645", "ﷺ", "ǅ", "İ", "ß", "ﬁ",
          "cease-fire", "Zelenskyy's", "U.S.", "1,750", "5.93", "OR", "AND", "NOT", "title:x",
          "the", "of", "a", "cocoa", "Cocoa", "NATO", "x" * 65, "y" * 3000, "-", "'", '"', "...", "…"]
PIECE = st.one_of(st.sampled_from(_WEIRD), st.text(ANY_CHAR, max_size=12),
                  st.from_regex(r"[A-Za-z]{1,12}", fullmatch=True))
ARTICLE_TEXT = st.lists(PIECE, max_size=30).flatmap(
    lambda parts: st.sampled_from([" ".join(parts), "".join(parts), "\n".join(parts)]))
ARTICLE = st.fixed_dictionaries({"title": ARTICLE_TEXT, "body": ARTICLE_TEXT},
                                optional={"id_tail": st.text(ANY_CHAR, max_size=10),
                                          "author": ARTICLE_TEXT, "source": ARTICLE_TEXT})


def _findable_word(text: str) -> str | None:
    """A surface word of ``text`` that the index holds a term for, as a user would type it."""
    for token in analyze(text):
        if token.joined:
            continue
        word = text[token.start:token.end]
        if word.upper() in ("OR", "AND", "NOT"):
            continue  # operators when typed bare; found with quotes (below)
        return word
    return None


@settings(max_examples=100, deadline=None)
@given(st.lists(ARTICLE, min_size=1, max_size=8))
@example([{"title": "", "body": "1,750"}])  # thousands separators must be searchable as typed
@example([{"title": "", "body": "A可可价格"}, {"title": "", "body": "用iPhone拍照"}])  # Latin inside CJK
@example([{"title": "", "body": "可" * 65 + "价"}])  # CJK runs longer than 64 characters
def test_any_article_text_indexes_searches_and_round_trips(articles):
    records = []
    for i, a in enumerate(articles):
        record = {"id": f"{i}-{a.get('id_tail', '')}", "title": a["title"], "body": a["body"]}
        for key in ("author", "source"):
            if key in a:
                record[key] = a[key]
        records.append(record)
    # what the reader sees: JSON turns an escaped surrogate pair back into one character
    records = [json.loads(json.dumps(r)) for r in records]
    with tempfile.TemporaryDirectory(prefix="props-") as tmp:
        source = write_jsonl(Path(tmp) / "in.jsonl", records)
        summary = reindex(Path(tmp) / "index", [source])
        # an id holding a control character is refused (no link can address it), never cleaned
        expected = [r for r in records if clean_text(r["body"]) and id_problem(r["id"].strip()) is None]
        assert summary.skipped == len(records) - len(expected), [str(p) for p in summary.problems]
        assert all("empty 'body'" in p.reason or "contains a control character" in p.reason
                   for p in summary.problems if not p.warning)
        assert summary.articles == len(expected)
        event(f"{len(expected)} of {len(records)} articles indexed")
        if not expected:
            return
        index = LiveIndex(Path(tmp) / "index")
        for record in expected:
            article_id = clean_text(record["id"])
            view = get_article(index, article_id)
            assert view is not None, article_id
            assert view.body == clean_text(record["body"])
            assert view.title == clean_text(record["title"])
            assert view.author == (clean_text(record.get("author", "")) or None)
            assert view.source == clean_text(record.get("source", ""))
            word = _findable_word(view.body)
            event("article with a findable word" if word else "article without a findable word")
            if word is None:
                continue
            for query in (word, f'"{word}"'):
                results = search(index, query, per_page=100, cache=False)
                assert article_id in [h.id for h in results.hits], (query, results.notices)
                for hit in results.hits:
                    assert_safe_html(hit.title_html, hit.title)
                    assert_safe_html(hit.snippet_html)
                hit = next(h for h in results.hits if h.id == article_id)
                assert "<mark>" in hit.snippet_html + hit.title_html, (query, hit.snippet_html)
                marked = get_article(index, article_id, query=query)
                assert_safe_html(marked.title_html, view.title)
                assert_safe_html(marked.body_html, view.body)
                assert "<mark>" in marked.body_html, query
        index.close()


def test_cjk_runs_and_latin_words_inside_them_are_found(tmp_path):
    records = [{"id": "long-run", "body": "可" * 70 + "价格上涨"},  # over the 64-character word limit
               {"id": "mixed", "body": "今天用iPhone拍照。"},  # no spaces around the Latin word
               {"id": "korean", "body": "NATO의 회의가 열렸다"},
               {"id": "year", "body": "2024年的可可"}]
    index_dir = tmp_path / "index"
    reindex(index_dir, [write_jsonl(tmp_path / "in.jsonl", records)])
    live = LiveIndex(index_dir)
    for query, expected in [("价格", "long-run"), ("iPhone", "mixed"), ("拍照", "mixed"),
                            ("NATO", "korean"), ("2024", "year"), ("可可", "year")]:
        hits = [h.id for h in search(live, query).hits]
        assert expected in hits, (query, hits)
        hit = next(h for h in search(live, query).hits if h.id == expected)
        assert "<mark>" in hit.snippet_html, (query, hit.snippet_html)
