"""Input readers: real files in tmp_path, the bundled seed article, the BBC corpus."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.articles import Article, Problem
from indexer.readers import SUPPORTED_EXTENSIONS, read_source
from indexer.readers.common import MAX_FIELD_BYTES, clean_text, parse_published

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "index_data" / "articles" / "000_1faf3d478d7b600d.txt"
BBC = (REPO / ".." / "shared" / "data" / "bbc-news").resolve()
UTC = timezone.utc


def read_all(root: Path) -> tuple[list[Article], list[Problem]]:
    """Everything read_source yields for root, split by kind."""
    items = list(read_source(root))
    assert all(isinstance(item, (Article, Problem)) for item in items)
    return ([i for i in items if isinstance(i, Article)],
            [i for i in items if isinstance(i, Problem)])


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def jsonl(path: Path, lines: list[object]) -> Path:
    """Write lines: dicts/lists as JSON, strings verbatim."""
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    return write(path, text + "\n")


def only_article(root: Path) -> Article:
    articles, problems = read_all(root)
    assert [p for p in problems if not p.warning] == []
    assert len(articles) == 1
    return articles[0]


# --- plain text and Markdown -------------------------------------------------------------


def test_seed_article_layout():
    article = only_article(SEED)
    assert article.title == ("Zelenskyy Urges NATO Protection for Ukrainian Territories "
                             "to End 'Hot Phase' of War")
    assert article.source == "ICARO Media Group"
    assert article.body.startswith("Zelenskyy Calls for NATO Protection to End 'Hot Phase' of War\n"
                                   "In a recent interview")
    assert "#" not in article.body
    assert (article.id, article.path, article.line) == (SEED.name, SEED.name, None)


def test_bbc_layout_headline_blank_line_body(tmp_path):
    write(tmp_path / "business" / "001.txt",
          "Ad sales boost Time Warner profit\n\n"
          "Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn (£600m).\n\n"
          "The firm, which is now one of the biggest investors in Google, benefited.\n")
    article = only_article(tmp_path)
    assert article.title == "Ad sales boost Time Warner profit"
    assert article.source == ""
    assert article.body.startswith("Quarterly profits at US media giant")
    assert article.body.endswith("benefited.")
    assert article.id == article.path == "business/001.txt"


def test_real_bbc_corpus():
    if not BBC.is_dir():
        pytest.skip(f"needs the shared BBC data at {BBC} (not in a plain clone)")
    articles, problems = read_all(BBC)
    assert len(articles) == 2225
    assert all(a.title and a.body for a in articles)
    assert all(a.source == "" for a in articles)  # no BBC line 2 is mistaken for a publisher
    assert len({a.id for a in articles}) == 2225
    assert [(p.path, p.warning) for p in problems] == [("sport/199.txt", True)]
    assert "cp1252" in problems[0].reason
    first = next(a for a in articles if a.id == "business/001.txt")
    assert first.title == "Ad sales boost Time Warner profit"
    assert first.body.startswith("Quarterly profits")
    assert "£" in next(a for a in articles if a.id == "sport/199.txt").body


def test_front_matter_wins_over_guessing(tmp_path):
    write(tmp_path / "a.md", "---\n"
                             'title: "The Real Title"\n'
                             "source: Wire Service\n"
                             "date: 2024-05-06T10:30:00+02:00\n"
                             "author: Jo Bloggs\n"
                             "url: https://example.com/a\n"
                             "tags: [Politics, economy, Politics]\n"
                             "id: story-42\n"
                             "unknown: ignored\n"
                             "---\n"
                             "A line that looks like a headline\n"
                             "Short Name\n"
                             "The body text.\n")
    article = only_article(tmp_path)
    assert article.id == "story-42"
    assert article.title == "The Real Title"
    assert article.source == "Wire Service"
    assert article.author == "Jo Bloggs"
    assert article.url == "https://example.com/a"
    assert article.published == datetime(2024, 5, 6, 8, 30, tzinfo=UTC)
    assert article.topics == ("Politics", "economy")
    assert article.body == "A line that looks like a headline\nShort Name\nThe body text."


def test_front_matter_yaml_list_and_guessed_title(tmp_path):
    write(tmp_path / "a.md", "---\ntopics:\n  - one\n  - two\n---\n# Heading Title\n\nBody.\n")
    article = only_article(tmp_path)
    assert (article.title, article.body, article.topics) == ("Heading Title", "Body.", ("one", "two"))


def test_unclosed_front_matter_is_text_with_a_warning(tmp_path):
    write(tmp_path / "a.md", "---\nTitle\n\nBody text.\n")
    articles, problems = read_all(tmp_path)
    assert [(a.title, a.body) for a in articles] == [("Title", "Body text.")]
    assert [p.warning for p in problems] == [True]
    assert "closing '---'" in problems[0].reason


@pytest.mark.parametrize("line2", [
    "This is a sentence.",                      # sentence punctuation
    "Said the minister:",
    "An unusually long second line that goes well past sixty characters in total",
    "one two three four five six seven eight nine",  # too many words
    "## A subheading",
])
def test_line_two_that_is_not_a_publisher_stays_in_the_body(tmp_path, line2):
    write(tmp_path / "a.txt", f"Headline\n{line2}\nMore body.\n")
    article = only_article(tmp_path)
    assert article.source == ""
    assert article.body.startswith(line2.lstrip("# "))


def test_publisher_needs_body_after_it(tmp_path):
    write(tmp_path / "a.txt", "Headline\nShort Name\n")
    article = only_article(tmp_path)
    assert (article.title, article.source, article.body) == ("Headline", "", "Short Name")


def test_markdown_headings_are_unmarked(tmp_path):
    write(tmp_path / "a.md", "# Title #\n\nIntro.\n\n## Section two\nText with #hashtag.\n")
    article = only_article(tmp_path)
    assert article.title == "Title"
    assert article.body == "Intro.\n\nSection two\nText with #hashtag."


def test_headline_only_is_an_empty_body(tmp_path):
    write(tmp_path / "a.txt", "Just a headline\n\n")
    articles, problems = read_all(tmp_path)
    assert articles == []
    assert [(p.path, p.reason, p.whole_file) for p in problems] == [
        ("a.txt", "empty body", False)]


def test_cp1252_fallback(tmp_path):
    write(tmp_path / "a.txt", "Café prices\n\nA € 5 coffee “quoted”.\n".encode("cp1252"))
    articles, problems = read_all(tmp_path)
    assert [(a.title, a.body) for a in articles] == [("Café prices", "A € 5 coffee “quoted”.")]
    assert [(p.path, p.warning, p.whole_file) for p in problems] == [("a.txt", True, False)]
    assert "not valid UTF-8" in problems[0].reason and "cp1252" in problems[0].reason


def test_nul_and_control_characters_are_removed(tmp_path):
    write(tmp_path / "a.txt", b"\xef\xbb\xbfTitle\x07 here\r\n\r\nBody\x00 text\x1b with\tTab   \r\n"
                              b"cafe\xcc\x81 end\rlast")
    article = only_article(tmp_path)
    assert article.title == "Title here"
    assert article.body == "Body text with\tTab\ncafé end\nlast"


def test_clean_text():
    assert clean_text("a\x00b\x01c\x7f\x85d\u2028e\r\nf\rg") == "abc\nd\ne\nf\ng"
    assert clean_text("  x  \n\t y \t\n") == "x\n\t y"
    assert clean_text("e\u0301 \ufeff\ud800") == "é"
    assert clean_text("") == ""


# --- JSON Lines and JSON -------------------------------------------------------------------


def test_jsonl_good_and_bad_lines(tmp_path):
    jsonl(tmp_path / "feed.jsonl", [
        {"id": "a1", "title": " First ", "body": "Body one.", "source": "Reuters",
         "author": ["Ann", " ", "Bob"], "url": "https://x/a1", "extra": {"ignored": True}},
        "",
        '{"id": "a2", "body": "x" "y"}',
        ["not", "an", "object"],
        {"title": "no id", "body": "text"},
        {"id": "a5", "body": "   \n "},
        {"id": "a6", "body": "text", "topics": ["ok", 3]},
        {"id": 7, "body": "Int id.", "tags": "Single, Double"},
        {"id": "a8", "body": 12},
        {"id": "a9", "body": "text", "author": {"name": "x"}},
        {"id": True, "body": "text"},
        {"id": " ", "body": "text"},
        {"id": "a12", "body": "text", "topics": [" b ", "a", "b", ""], "tags": ["a", "c"]},
        "   ",
        {"id": "a14"},
    ])
    articles, problems = read_all(tmp_path)
    assert [(a.id, a.line) for a in articles] == [("a1", 1), ("7", 8), ("a12", 13)]
    first = articles[0]
    assert (first.title, first.body, first.source, first.author, first.url, first.path) == (
        "First", "Body one.", "Reuters", "Ann, Bob", "https://x/a1", "feed.jsonl")
    assert articles[1].topics == ("Single", "Double")  # a string is comma-separated, as in front matter
    assert articles[2].topics == ("b", "a", "c")
    assert [(p.line, p.reason) for p in problems] == [
        (3, "invalid JSON: Expecting ',' delimiter at column 26"),
        (4, "expected a JSON object, got a list"),
        (5, "missing 'id'"),
        (6, "empty 'body'"),
        (7, "'topics' must be a list of strings"),
        (9, "'body' must be a string, got a number"),
        (10, "'author' must be a string or a list of strings, got an object"),
        (11, "'id' must be a string or an integer, got a boolean"),
        (12, "empty 'id'"),
        (15, "missing 'body'"),
    ]
    assert not any(p.whole_file or p.warning for p in problems)
    assert str(problems[0]) == "feed.jsonl:3: invalid JSON: Expecting ',' delimiter at column 26"


@pytest.mark.parametrize("bad_id, shown", [
    ("d\n15", "U+000A"), ("tab\tid", "U+0009"), ("nul\x00", "U+0000"), ("del\x7f", "U+007F"),
    ("nel\x85x", "U+0085"), ("ls\u2028x", "U+2028"), ("\x1b[31mred", "U+001B"),
])
def test_ids_with_control_characters_are_skipped_with_the_reason(tmp_path, bad_id, shown):
    """A link or an API address cannot carry a control character, so such an id is refused, never
    cleaned into another id (``del\x7f`` must not quietly become ``del``)."""
    jsonl(tmp_path / "feed.jsonl", [{"id": bad_id, "body": "text"}, {"id": " padded\n", "body": "text"}])
    articles, problems = read_all(tmp_path)
    assert [a.id for a in articles] == ["padded"]  # whitespace around an id is trimmed, as ever
    assert [(p.line, p.whole_file, p.warning) for p in problems] == [(1, False, False)]
    assert problems[0].reason == (f"'id' {bad_id!r} contains a control character ({shown}), which no "
                                  "link can address; remove it from the id")


def test_file_names_and_front_matter_ids_with_control_characters_are_skipped(tmp_path):
    write(tmp_path / "line\nbreak.txt", "Title\n\nBody text.")
    write(tmp_path / "front.md", "---\nid: a\tb\n---\nTitle\n\nBody text.")
    write(tmp_path / "tab\there.html", "<html><head><title>T</title></head><body><p>Body text.</p></body></html>")
    write(tmp_path / "fine.txt", "Title\n\nBody text.")
    articles, problems = read_all(tmp_path)
    assert [a.id for a in articles] == ["fine.txt"]
    assert sorted((p.path, p.reason) for p in problems) == [
        ("front.md", "the id 'a\\tb' contains a control character (U+0009), which no link can address; "
                     "remove it from the id"),
        ("line\nbreak.txt", "the file name 'line\\nbreak.txt' contains a control character (U+000A), which "
                            "no link can address; rename the file"),
        ("tab\there.html", "the file name 'tab\\there.html' contains a control character (U+0009), which "
                           "no link can address; rename the file"),
    ]
    assert not any(p.whole_file or p.warning for p in problems)


def test_jsonl_field_over_the_size_limit(tmp_path):
    jsonl(tmp_path / "big.jsonl", [
        {"id": "big", "body": "x" * (MAX_FIELD_BYTES + 1024 * 1024)},
        {"id": "ok", "body": "small"},
    ])
    articles, problems = read_all(tmp_path)
    assert [a.id for a in articles] == ["ok"]
    assert [(p.line, p.reason) for p in problems] == [
        (1, "field 'body' is 6.0 MB, over the 5 MB limit")]


def test_jsonl_dates(tmp_path):
    jsonl(tmp_path / "d.jsonl", [
        {"id": "zone", "body": "b", "published": "2024-03-05T10:00:00+02:00"},
        {"id": "zulu", "body": "b", "published": "2024-03-05T10:00:00Z"},
        {"id": "naive", "body": "b", "published": "1987-02-26T15:01:01.790"},
        {"id": "day", "body": "b", "published": "2024-03-05"},
        {"id": "bad", "body": "b", "published": "next tuesday-ish"},
        {"id": "none", "body": "b", "published": None},
        {"id": "num", "body": "b", "published": 20240305},
    ])
    articles, problems = read_all(tmp_path)
    dates = {a.id: a.published for a in articles}
    assert dates == {
        "zone": datetime(2024, 3, 5, 8, 0, tzinfo=UTC),
        "zulu": datetime(2024, 3, 5, 10, 0, tzinfo=UTC),
        "naive": datetime(1987, 2, 26, 15, 1, 1, 790000, tzinfo=UTC),
        "day": datetime(2024, 3, 5, tzinfo=UTC),
        "bad": None,
        "none": None,
    }
    assert [(p.line, p.reason, p.warning) for p in problems] == [
        (5, "unrecognised date 'next tuesday-ish'; indexed without a date", True),
        (7, "'published' must be a string, got a number", False),
    ]


def test_zone_abbreviations_are_read_or_reported(tmp_path):
    """10:00 MSK is 07:00 UTC; a zone that names several places is read as UTC, and says so."""
    jsonl(tmp_path / "z.jsonl", [
        {"id": "moscow", "body": "b", "published": "5 March 2024 10:00 MSK"},
        {"id": "india", "body": "b", "published": "5 March 2024 10:00 IST"},
        {"id": "nowhere", "body": "b", "published": "5 March 2024 10:00 QQT"},
    ])
    write(tmp_path / "front.md", "---\ntitle: T\npublished: 5 March 2024 10:00 IST\n---\nBody.\n")
    articles, problems = read_all(tmp_path)
    assert {a.id: a.published for a in articles} == {
        "moscow": datetime(2024, 3, 5, 7, 0, tzinfo=UTC), "india": datetime(2024, 3, 5, 10, 0, tzinfo=UTC),
        "nowhere": datetime(2024, 3, 5, 10, 0, tzinfo=UTC), "front.md": datetime(2024, 3, 5, 10, 0, tzinfo=UTC)}
    assert [(p.path, p.line, p.warning) for p in problems] == [
        ("front.md", None, True), ("z.jsonl", 2, True), ("z.jsonl", 3, True)]
    assert "'IST' is ambiguous (India, Ireland or Israel); read as UTC" in problems[0].reason
    assert "'QQT' is not one newsindex knows; read as UTC" in problems[2].reason


def test_invalid_json_names_the_column_and_nothing_of_python(tmp_path):
    jsonl(tmp_path / "c.jsonl", ['{"id": "a", "body": "x\ty"}', '{"id": 1' + "0" * 5000 + ', "body": "x"}'])
    _, problems = read_all(tmp_path)
    assert [(p.line, p.reason) for p in problems] == [
        (1, "invalid JSON: Invalid control character at column 23"),  # not "… at at column 23"
        (2, "invalid JSON: a number of 5,001 digits at column 8 (at most 4,300)")]


def test_invalid_json_points_where_the_line_breaks_off(tmp_path):
    """A truncated line and an unterminated string are reported where they break off, not at
    the line's newline (which the parser would call line 2, column 1)."""
    line = json.dumps({"id": "t", "title": "Cut", "body": "A body long enough to be cut short."})
    (tmp_path / "cut.jsonl").write_text(line[:-1] + "\n" + line[:40] + "\r\n", encoding="utf-8")
    _, problems = read_all(tmp_path)
    assert [(p.line, p.reason) for p in problems] == [
        (1, f"invalid JSON: Expecting ',' delimiter at column {len(line)}"),
        (2, "invalid JSON: Unterminated string starting at column 37")]


@pytest.mark.parametrize("value, expected", [
    ("2024-03-05T10:00:00-05:00", datetime(2024, 3, 5, 15, 0, tzinfo=UTC)),
    ("2024-03-05 10:00", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
    ("20240305T100000Z", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
    ("2024-03", datetime(2024, 3, 1, tzinfo=UTC)),
    ("Tue, 05 Mar 2024 10:00:00 GMT", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
    ("Tue, 05 Mar 2024 10:00:00 EST", datetime(2024, 3, 5, 15, 0, tzinfo=UTC)),
    ("March 5, 2024", datetime(2024, 3, 5, tzinfo=UTC)),
    ("5 March 2024 10:00 MSK", datetime(2024, 3, 5, 7, 0, tzinfo=UTC)),  # Moscow is UTC+3
    ("Tue, 05 Mar 2024 10:00:00 MSK", datetime(2024, 3, 5, 7, 0, tzinfo=UTC)),
    ("5 March 2024 10:00 GMT+3", datetime(2024, 3, 5, 7, 0, tzinfo=UTC)),  # not POSIX's UTC-3
    ("5 March 2024 10:00 AEDT", datetime(2024, 3, 4, 23, 0, tzinfo=UTC)),
    ("5 March 2024 10:00 IST", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),  # ambiguous: UTC, and a note
    ("May", None),                      # dateutil would fill in the rest from today
    ("12", None),
    ("0000-01-01", None),
    ("10000-01-01", None),
    ("9999-12-31T23:00:00-05:00", None),  # past year 9999 in UTC
    ("garbage", None),
    ("", None),
    (None, None),
])
def test_parse_published(value, expected):
    assert parse_published(value) == expected


def test_json_object_and_array(tmp_path):
    write(tmp_path / "one.json", json.dumps({"id": "solo", "body": "Solo body.", "title": "Solo"},
                                            indent=2))
    write(tmp_path / "many.json", json.dumps([
        {"id": "m1", "body": "One."},
        "oops",
        {"id": "m3", "body": "Three.", "published": "never"},
        {"id": "m4"},
    ], indent=2))
    articles, problems = read_all(tmp_path)
    assert [(a.id, a.path, a.line) for a in articles] == [
        ("m1", "many.json", None), ("m3", "many.json", None), ("solo", "one.json", None)]
    assert [(p.path, p.line, p.reason, p.warning) for p in problems] == [
        ("many.json", None, "item 2: expected a JSON object, got a string", False),
        ("many.json", None, "item 3: unrecognised date 'never'; indexed without a date", True),
        ("many.json", None, "item 4: missing 'body'", False),
    ]


def test_json_that_is_really_json_lines(tmp_path):
    jsonl(tmp_path / "lines.json", [{"id": "l1", "body": "One."}, "{broken", {"id": "l3", "body": "3"}])
    articles, problems = read_all(tmp_path)
    assert [(a.id, a.line) for a in articles] == [("l1", 1), ("l3", 3)]
    assert [(p.line, p.reason.split(":")[0]) for p in problems] == [(2, "invalid JSON")]


def test_broken_json_document_is_a_whole_file_problem(tmp_path):
    write(tmp_path / "broken.json", '{\n  "id": "x",\n  "body": "never closed"\n')
    articles, problems = read_all(tmp_path)
    assert articles == []
    assert [(p.whole_file, p.reason) for p in problems] == [
        (True, "invalid JSON: Expecting ',' delimiter at line 4 column 1")]


def test_jsonl_cp1252_lines_warn_once(tmp_path):
    lines = [b'{"id": "u", "body": "caf\xc3\xa9"}', b'{"id": "w1", "body": "caf\xe9"}',
             b'{"id": "w2", "body": "\x93q\x94"}']
    write(tmp_path / "mixed.jsonl", b"\n".join(lines))
    articles, problems = read_all(tmp_path)
    assert [a.body for a in articles] == ["café", "café", "“q”"]
    assert [(p.line, p.warning) for p in problems] == [(2, True)]


def test_jsonl_with_bom_crlf_and_no_final_newline(tmp_path):
    write(tmp_path / "w.jsonl", b'\xef\xbb\xbf{"id": "1", "body": "a"}\r\n{"id": "2", "body": "b"}')
    articles, problems = read_all(tmp_path)
    assert ([a.id for a in articles], problems) == (["1", "2"], [])


# --- files that cannot be read ------------------------------------------------------------


@pytest.mark.parametrize("name, content", [
    ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
    ("blob.jsonl", b"\x00\x01\x02\x03" * 1000),
    ("blob.html", b"<html>" + b"\x00" * 200),
    ("archive.json", b"PK\x03\x04" + b"\x00" * 100),
])
def test_binary_files_are_skipped(tmp_path, name, content):
    write(tmp_path / name, content)
    articles, problems = read_all(tmp_path)
    assert articles == []
    assert [(p.path, p.reason, p.whole_file) for p in problems] == [
        (name, "binary file", True)]


@pytest.mark.parametrize("name", ["empty.txt", "empty.jsonl", "empty.json", "empty.html"])
def test_zero_byte_files(tmp_path, name):
    write(tmp_path / name, b"")
    articles, problems = read_all(tmp_path)
    assert articles == []
    assert [(p.path, p.reason, p.whole_file) for p in problems] == [
        (name, "empty file", True)]


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop reading")
    path = write(tmp_path / "secret.txt", "Title\n\nBody\n")
    path.chmod(0)
    try:
        articles, problems = read_all(tmp_path)
    finally:
        path.chmod(0o644)
    assert articles == []
    assert [(p.path, p.whole_file) for p in problems] == [("secret.txt", True)]
    assert "Permission denied" in problems[0].reason


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_and_dangling_link_are_problems_not_hangs(tmp_path):
    os.mkfifo(tmp_path / "pipe.jsonl")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    articles, problems = read_all(tmp_path)
    assert articles == []
    assert [(p.path, p.reason, p.whole_file) for p in problems] == [
        ("gone.txt", "cannot read file: No such file or directory", True),
        ("pipe.jsonl", "not a regular file", True),
    ]


def test_links_out_of_the_source_are_not_read_links_inside_it_are(tmp_path):
    """Whoever can drop a link into a source folder must not get /etc/passwd indexed and served;
    links that stay inside the source (a tidier layout of its own files) are followed."""
    source, elsewhere = tmp_path / "source", tmp_path / "elsewhere"
    write(source / "2024" / "one.txt", "One\n\nThe first article, about rye.\n")
    write(elsewhere / "two.txt", "Two\n\nAn article outside the source, about oats.\n")
    (source / "latest").symlink_to(source / "2024")  # inside: read once, under its real name
    (source / ".drafts").mkdir()
    write(source / ".drafts" / "three.txt", "Three\n\nA draft, about spelt.\n")
    (source / "draft.txt").symlink_to(source / ".drafts" / "three.txt")  # hidden target: the link is read
    (source / "passwd.txt").symlink_to("/etc/passwd")
    (source / "other").symlink_to(elsewhere)
    (source / "two.txt").symlink_to(elsewhere / "two.txt")
    (source / "sneaky").symlink_to(source / ".." / "elsewhere")
    articles, problems = read_all(source)
    assert sorted(a.id for a in articles) == ["2024/one.txt", "draft.txt"]
    assert [(p.path, p.reason) for p in problems if p.ignored] == [
        ("latest", "a link to 2024, which is read under its own name")]
    outside = {p.path: p for p in problems if not p.ignored}
    assert set(outside) == {"other", "passwd.txt", "sneaky", "two.txt"}
    assert all(p.whole_file and "outside the source; not read" in p.reason for p in outside.values())
    assert f"symbolic link to {elsewhere}" in outside["other"].reason
    assert "symbolic link to /etc/passwd" in outside["passwd.txt"].reason


def test_unsupported_extension(tmp_path):
    write(tmp_path / "export.csv", "id,body\n1,text\n")
    write(tmp_path / "noext", "text")
    articles, problems = read_all(tmp_path)
    assert articles == []
    assert [(p.path, p.reason, p.whole_file, p.ignored) for p in problems] == [
        ("export.csv", "unsupported file type '.csv' (expected .jsonl, .json, .txt, .md, .html, "
                       ".htm)", True, False),
        ("noext", "unsupported file type '(none)' (expected .jsonl, .json, .txt, .md, .html, "
                  ".htm)", True, False),
    ]
    assert SUPPORTED_EXTENSIONS == (".jsonl", ".json", ".txt", ".md", ".html", ".htm")


def test_pictures_pdfs_and_archives_are_ignored_not_skipped(tmp_path):
    """Files that are plainly not articles are reported apart ("ignored"), not as skipped input."""
    write(tmp_path / "report.PDF", b"%PDF-1.4")
    write(tmp_path / "photos" / "quay.jpg", b"\xff\xd8\xff" + bytes(100))
    write(tmp_path / "backup.tar.gz", b"\x1f\x8b" + bytes(100))
    write(tmp_path / "story.txt", "Title\n\nBody\n")
    articles, problems = read_all(tmp_path)
    assert [a.id for a in articles] == ["story.txt"]
    assert [(p.path, p.reason, p.ignored, p.label) for p in problems] == [
        ("backup.tar.gz", "not an article (.gz file)", True, "ignored"),
        ("photos/quay.jpg", "not an article (.jpg file)", True, "ignored"),
        ("report.PDF", "not an article (.pdf file)", True, "ignored"),
    ]
    assert not any(p.whole_file or p.warning for p in problems)


# --- directory walking ---------------------------------------------------------------------


def test_hidden_files_and_documentation_are_skipped(tmp_path):
    write(tmp_path / "a.txt", "Title\n\nBody\n")
    write(tmp_path / ".hidden.txt", "Title\n\nBody\n")
    write(tmp_path / ".git" / "x.txt", "Title\n\nBody\n")
    write(tmp_path / "README.TXT", "About\n\nthis corpus\n")
    write(tmp_path / "readme.md", "About\n\nthis corpus\n")
    write(tmp_path / "LICENSE", "MIT")
    write(tmp_path / "sub" / "License.txt", "MIT\n\nterms\n")
    articles, problems = read_all(tmp_path)
    assert ([a.id for a in articles], problems) == (["a.txt"], [])
    # Named explicitly, a README is read like any file.
    assert only_article(tmp_path / "README.TXT").id == "README.TXT"


def test_nested_directory_order_and_ids(tmp_path):
    body = "Headline\n\nBody.\n"
    for rel in ["b.txt", "a/z.md", "a/b/c.htm", "A.TXT", "a.txt", "c/feed.JSONL", "a/b.txt"]:
        content = (json.dumps({"id": "j1", "body": "x"}) + "\n" if rel.endswith("JSONL")
                   else "<p>Body.</p>" if rel.endswith("htm") else body)
        write(tmp_path / rel, content)
    first = list(read_source(tmp_path))
    assert first == list(read_source(tmp_path))
    assert [(a.id, a.path) for a in first] == [
        ("A.TXT", "A.TXT"), ("a/b/c.htm", "a/b/c.htm"), ("a/b.txt", "a/b.txt"),
        ("a/z.md", "a/z.md"), ("a.txt", "a.txt"), ("b.txt", "b.txt"), ("j1", "c/feed.JSONL")]


def test_directory_link_loop_is_reported_once(tmp_path):
    write(tmp_path / "a" / "x.txt", "Title\n\nBody\n")
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a")
    articles, problems = read_all(tmp_path)
    assert [a.id for a in articles] == ["a/x.txt"]
    assert [(p.path, p.ignored, p.reason) for p in problems] == [
        ("a/loop", True, "a link to a, which is read under its own name")]


def test_missing_root_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        list(read_source(tmp_path / "nope"))


# --- HTML ----------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head>
<title>Storm hits coast | Daily Planet</title>
<meta property="og:title" content="Storm hits coast &amp; town | Daily Planet">
<meta property="og:site_name" content="Daily Planet">
<meta name="author" content="Lois Lane">
<meta property="article:published_time" content="2024-03-05T10:00:00+02:00">
<meta property="og:url" content="https://planet.example/og">
<link rel="canonical" href="https://planet.example/storm">
<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "1999-01-01"}</script>
<script>var tracking = "TRACKER";</script>
<style>p { color: red }</style>
</head><body>
<nav><a href="/">Home</a> <a href="/news">NAVLINK</a></nav>
<header><h1>Daily Planet</h1></header>
<article>
 <header><h1>Storm   hits
   coast</h1><time datetime="2024-03-04">yesterday</time></header>
 <p>The storm   arrived
    at dawn.</p>
 <script>document.write("LEAK")</script>
 <h2>Damage</h2>
 <p>Roofs were <b>torn</b> off.<br>Trees fell.</p>
 <!-- COMMENT -->
 <aside>Related: ASIDE story</aside>
 <ul><li>One</li><li>Two</li></ul>
 <form><button>SUBSCRIBE</button></form>
</article>
<footer>FOOTER text</footer>
</body></html>
"""


def test_html_metadata_and_clean_body(tmp_path):
    write(tmp_path / "storm.html", PAGE)
    article = only_article(tmp_path)
    assert article.id == "storm.html"
    assert article.title == "Storm hits coast & town"
    assert article.source == "Daily Planet"
    assert article.author == "Lois Lane"
    assert article.url == "https://planet.example/storm"
    assert article.published == datetime(2024, 3, 5, 8, 0, tzinfo=UTC)
    assert article.body == ("The storm arrived at dawn.\nDamage\nRoofs were torn off.\n"
                            "Trees fell.\nOne\nTwo")


def test_html_json_ld_metadata(tmp_path):
    long_body = "Paragraph one of the article. " * 10
    write(tmp_path / "ld.htm", f"""<html><head>
<title>Budget passes - LD News</title>
<script type="application/ld+json">{{not json at all</script>
<script type="application/ld+json">{json.dumps({"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "name": "Not this"},
        {"@type": ["NewsArticle"], "headline": "LD headline", "articleBody": long_body,
         "datePublished": ["2020-01-02T03:04:05-01:00"],
         "author": [{"@type": "Person", "name": "Ann"}, {"name": "Bob"}, "Cy"],
         "publisher": {"@type": "Organization", "name": "LD News"}}]})}</script>
</head><body><nav>menu</nav><p>Short DOM text.</p></body></html>""")
    article = only_article(tmp_path)
    assert article.title == "Budget passes"
    assert article.source == "LD News"
    assert article.author == "Ann, Bob, Cy"
    assert article.published == datetime(2020, 1, 2, 4, 4, 5, tzinfo=UTC)
    assert article.body == long_body.strip()


def test_html_fallbacks_for_date_author_and_body(tmp_path):
    write(tmp_path / "a.html", """<html><head><title>Plain page</title>
<meta name="DC.date.issued" content="Tue, 05 Mar 2024 10:00:00 GMT">
<meta property="article:author" content="https://example.com/people/ann">
</head><body>
<div class="menu"><a>Home</a></div>
<div class="story"><p>First paragraph of the story.</p><p>Second paragraph.</p></div>
<div class="byline"><span rel="author">By Ann Author</span></div>
</body></html>""")
    article = only_article(tmp_path)
    assert article.title == "Plain page"
    assert article.author == "By Ann Author"
    assert article.published == datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    assert article.body == "First paragraph of the story.\nSecond paragraph."


def test_html_declared_charset(tmp_path):
    write(tmp_path / "latin.html", '<html><head><meta charset="iso-8859-1"></head>'
                                   '<body><p>Café € 5</p></body></html>'.encode("cp1252"))
    assert only_article(tmp_path).body == "Café € 5"  # declared, so no warning


def test_html_unrecognised_date_warns(tmp_path):
    write(tmp_path / "a.html", '<meta name="date" content="someday"><p>Text.</p>')
    articles, problems = read_all(tmp_path)
    assert [a.published for a in articles] == [None]
    assert [(p.reason, p.warning) for p in problems] == [
        ("unrecognised date 'someday'; indexed without a date", True)]


def test_html_without_article_text(tmp_path):
    write(tmp_path / "a.html", "<html><head><title>Only chrome</title><script>x()</script></head>"
                               "<body><nav>Home</nav><footer>(c)</footer></body></html>")
    articles, problems = read_all(tmp_path)
    assert articles == []
    assert [(p.reason, p.whole_file) for p in problems] == [("no article text found", False)]


def test_xhtml_and_url_like_pages_do_not_warn(tmp_path):
    write(tmp_path / "x.html", '<?xml version="1.0" encoding="utf-8"?>'
                               '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>XHTML</p></body></html>')
    write(tmp_path / "u.html", "https://example.com/page")
    articles, _ = read_all(tmp_path)
    assert [a.body for a in articles] == ["https://example.com/page", "XHTML"]


def test_deeply_nested_html_does_not_crash(tmp_path):
    depth = 20_000  # twenty times Python's recursion limit
    write(tmp_path / "deep.html", "<html><head><title>Deep</title></head><body>" + "<div>" * depth
          + "<p>Deep text.</p>" + "</div>" * depth + "</body></html>")
    article = only_article(tmp_path)
    assert (article.title, article.body) == ("Deep", "Deep text.")


# --- robustness ----------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.lists(st.one_of(st.text(max_size=20), st.integers(), st.none(), st.booleans(),
                       st.dictionaries(st.sampled_from(["id", "body", "title", "published", "tags",
                                                        "author", "source", "url"]),
                                       st.one_of(st.text(max_size=20), st.integers(), st.none(),
                                                 st.lists(st.text(max_size=5), max_size=3)))),
             max_size=4).map(lambda v: "\n".join(json.dumps(x) for x in v).encode()),
))
def test_readers_never_raise(tmp_path, content):
    for ext in SUPPORTED_EXTENSIONS:
        path = write(tmp_path / f"fuzz{ext}", content)
        items = list(read_source(path))
        assert items  # something is always said about a file
        for item in items:
            if isinstance(item, Article):
                assert item.id and item.body.strip()
                assert item.published is None or item.published.tzinfo is UTC
            else:
                assert item.reason and item.path == path.name


def test_every_line_of_a_large_jsonl_is_read_in_order(tmp_path):
    """Streaming keeps every line and its number (how fast it reads is bench/build.py's business)."""
    records = [{"id": f"r{i}", "title": f"Title {i}", "body": "Some body text here.\n" * 40,
                "published": "1987-02-26T15:01:01.790", "source": "Reuters",
                "topics": ["grain", "wheat"]} for i in range(3_000)]
    jsonl(tmp_path / "docs.jsonl", records)
    articles, problems = read_all(tmp_path)
    assert problems == []
    assert [(a.id, a.line) for a in articles] == [(f"r{i}", i + 1) for i in range(3_000)]
    assert articles[-1].published == datetime(1987, 2, 26, 15, 1, 1, 790000, tzinfo=UTC)


def test_html_headline_is_not_repeated_as_the_first_line_of_the_body(tmp_path):
    write(tmp_path / "greve.html", """<!doctype html><html lang="fr"><head><title>Grève | Le Site</title></head>
<body><article><h1>Les cheminots en grève contre la réforme</h1>
<p>Les syndicats appellent à la grève lundi.</p><p>La réforme sera votée mardi.</p></article></body></html>""")
    article = only_article(tmp_path)
    assert article.title == "Les cheminots en grève contre la réforme"
    assert article.body == "Les syndicats appellent à la grève lundi.\nLa réforme sera votée mardi."


def test_a_report_line_never_holds_a_raw_control_character():
    """A file name with a newline would split the report's line (and fake another one)."""
    assert str(Problem("nl\nname.txt", "the file name holds a control character", line=3)) == \
        "nl\\nname.txt:3: the file name holds a control character"


def test_two_links_to_one_hidden_folder_read_it_once_and_say_where(tmp_path):
    """A hidden folder is read only through links to it: through the first by name, and the
    second says which name it was read under (not a "loop")."""
    write(tmp_path / ".hidden" / "h.txt", "Hidden\n\nAn article about einkorn.\n")
    (tmp_path / "hid").symlink_to(tmp_path / ".hidden")
    (tmp_path / "aaa").symlink_to(tmp_path / ".hidden")
    articles, problems = read_all(tmp_path)
    assert [a.id for a in articles] == ["aaa/h.txt"]
    assert [(p.path, p.warning, p.reason) for p in problems] == [
        ("hid", True, "the same folder as aaa (a link), read there; not read again")]
