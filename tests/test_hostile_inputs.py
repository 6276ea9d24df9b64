"""A corpus of hostile files through the real CLI (issue 5, "Prove it holds").

Binary files, zero-byte files, a 50 MB file, files over the size limit,
invalid UTF-8, 100,000 levels of nested HTML, JSON of the wrong types and
shapes, a JSON Lines file with a 10 MB line, a directory symlink loop (ignored), a
FIFO, a link to /dev/zero, a dangling link, file names that are not UTF-8,
and a file that vanishes between listing and reading: each is reported as
``file[:line]: reason`` on stderr and counted in the summary's skipped count
(or warned about and indexed, where the README says so); every good article
beside them is indexed; and a second run over the same corpus writes nothing.

tests/test_readers.py covers the readers one by one; this is end to end.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from indexer.errors import DeletionsRefused
from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.search import get_article, search
from indexer.store import IndexStore
from tests.conftest import SAMPLE, run_cli, write_jsonl

MB = 1024 * 1024

# (path, line or None, reason fragment, warning?) for every problem the corpus must produce
EXPECTED = [
    ("array.json", None, "item 2: expected a JSON object, got a number", False),
    ("array.json", None, "item 3: missing 'body'", False),
    ("bad-utf8.jsonl", 2, "not valid UTF-8; read as cp1252", True),
    ("binary/archive.json", None, "binary file", False),
    ("binary/image.txt", None, "binary file", False),
    ("binary/random.html", None, "binary file", False),
    ("binary/random.txt", None, "binary file", False),
    ("binary/zeros.jsonl", None, "binary file", False),
    ("dangling.txt", None, "cannot read file: No such file or directory", False),
    ("devzero.txt", None, "symbolic link to /dev/zero, outside the source; not read (give that path as "
                          "a source of its own to index it)", False),
    ("empty/empty.html", None, "empty file", False),
    ("empty/empty.json", None, "empty file", False),
    ("empty/empty.jsonl", None, "empty file", False),
    ("empty/empty.txt", None, "empty file", False),
    ("empty/whitespace.md", None, "empty file", False),
    ("fifo.txt", None, "not a regular file", False),
    ("huge/fifty-mb.txt", None, "field 'body' is 50.0 MB, over the 5 MB limit", False),
    ("huge/over-limit.md", None, "file is 50.0 MB, over the 50 MB limit", False),
    ("latin1.txt", None, "not valid UTF-8 (byte 0xe9 at offset 19); read as cp1252", True),
    ("long-line.jsonl", 2, "field 'body' is 9.5 MB, over the 5 MB limit", False),
    ("long-line.jsonl", 3, "invalid JSON: Expecting value at column 1", False),
    ("types.jsonl", 1, "'id' must be a string or an integer, got a list", False),
    ("types.jsonl", 2, "'body' must be a string, got a number", False),
    ("types.jsonl", 3, "'published' must be a string, got a number", False),
    ("types.jsonl", 4, "'id' must be a string or an integer, got a boolean", False),
    ("types.jsonl", 5, "'body' must be a string, got an object", False),
    ("types.jsonl", 6, "'author' must be a string or a list of strings, got a number", False),
    ("types.jsonl", 7, "'tags' must be a list of strings", False),
    ("types.jsonl", 8, "'id' must be a string or an integer, got a number", False),
    ("types.jsonl", 9, "missing 'id'", False),
    ("types.jsonl", 10, "empty 'body'", False),
    ("types.jsonl", 11, "expected a JSON object, got a list", False),
    ("types.jsonl", 12, "expected a JSON object, got a string", False),
    ("types.jsonl", 13, "expected a JSON object, got null", False),
    ("types.jsonl", 14, "'body' must be a string, got a number", False),  # NaN
    ("types.jsonl", 15, "invalid JSON: ", False),  # an integer of 5,000 digits
    ("types.jsonl", 16, "invalid JSON: nested too deeply", False),
    ("types.jsonl", 17, "invalid JSON: ", False),
    ("types.jsonl", 19, "duplicate id 'types-good'", False),
    ("unsupported.csv", None, "unsupported file type '.csv'", False),
]
# files that are not articles at all: counted as ignored, listed with --verbose, never an error
IGNORED = [("loop/again", None, "a link to the source folder itself; not read again", False),
           ("picture.jpg", None, "not an article (.jpg file)", False),
           ("unsupported.pdf", None, "not an article (.pdf file)", False)]

# id -> a word only that good article contains
GOOD = {
    "good.txt": "quinoa", "good-front-matter.md": "sorghum", "good.html": "millet",
    "good-one": "teff", "types-good": "spelt", "before-long": "amaranth", "after-long": "emmer",
    "array-good": "fonio", "latin1.txt": "barley", "utf8-ok": "einkorn", "cp1252-line": "triticale",
    "nested/deep.html": "kamut", "bad\ufffdname.txt": "buckwheat", "loop/inside.txt": "farro",
}


def build_corpus(root: Path) -> Path:
    """The hostile corpus beside the bundled sample articles (which must all still go in)."""
    shutil.copytree(SAMPLE, root)

    def put(rel: str, data: bytes | str) -> Path:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    # good articles, one per format, among the bad ones
    put("good.txt", "Good headline\n\nA good article about quinoa farming.\n")
    put("good-front-matter.md", "---\ntitle: Front matter\npublished: 2024-03-01\n---\nSorghum prices rose.\n")
    put("good.html", "<html><head><title>Grain page</title></head><body><article><h1>Grain</h1>"
                     "<p>An article about millet.</p><script>alert('no millet here')</script>"
                     "</article></body></html>")
    write_jsonl(root / "good.jsonl", [{"id": "good-one", "title": "Teff", "body": "Teff harvest news."}])
    # binary files, one of them with a supported extension and no magic number at all
    put("binary/image.txt", b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
    put("binary/random.txt", os.urandom(64 * 1024))
    put("binary/random.html", os.urandom(16 * 1024))
    put("binary/archive.json", b"PK\x03\x04" + os.urandom(2048))
    with open(put("binary/zeros.jsonl", b""), "wb") as f:  # 60 MB of NULs, sparse
        f.truncate(60 * MB)
    put("unsupported.pdf", b"%PDF-1.4\n")
    put("unsupported.csv", "id,body\n1,articles in a format newsindex does not read\n")
    put("picture.jpg", b"\xff\xd8\xff\xe0" + os.urandom(512))
    # zero bytes and nothing but whitespace
    for name in ("empty.txt", "empty.jsonl", "empty.json", "empty.html"):
        put(f"empty/{name}", b"")
    put("empty/whitespace.md", " \n\t\n")
    # size: exactly 50 MB of real text (read, then refused as a field), and one byte over the limit
    line = b"Fifty megabytes of one article that nobody should index, line after line.\n"
    with open(put("huge/fifty-mb.txt", b""), "wb") as f:
        f.write(line * (50 * MB // len(line)) + b"x" * (50 * MB % len(line)))
    with open(put("huge/over-limit.md", b""), "wb") as f:
        f.truncate(50 * MB + 1)
    # encodings
    put("latin1.txt", b"Latin headline\n\nCaf\xe9 cr\xe8me \x93quoted\x94 text about barley.\n")
    put("bad-utf8.jsonl", b'{"id": "utf8-ok", "body": "einkorn caf\xc3\xa9"}\n'
                          b'{"id": "cp1252-line", "body": "triticale na\xefve"}\n')
    # deeply nested HTML: still one (findable) article, and no crash
    put("nested/deep.html", "<html><body>" + "<div>" * 100_000 + "deep nested text about kamut"
        + "</div>" * 100_000 + "</body></html>")
    # JSON of the wrong types and shapes
    bad_records = [{"id": [1], "body": "x"}, {"id": "t2", "body": 5},
                   {"id": "t3", "body": "ok", "published": 5}, {"id": True, "body": "x"},
                   {"id": "t5", "body": {"a": 1}}, {"id": "t6", "body": "ok", "author": 7},
                   {"id": "t7", "body": "ok", "tags": [1, 2]}, {"id": 1.5, "body": "x"},
                   {"body": "no id"}, {"id": "t10", "body": " \x00\t\r\n "},
                   [1, 2, 3], "just a string", None]
    lines = [json.dumps(r) for r in bad_records]
    lines += ['{"id": "t14", "body": NaN}', '{"id": 1' + "0" * 5000 + ', "body": "x"}',
              "[" * 100_000 + "]" * 100_000, '{"id": "t17", "body": "unterminated',
              json.dumps({"id": "types-good", "body": "A good line among bad ones, about spelt."}),
              json.dumps({"id": "types-good", "body": "The same id again."})]
    put("types.jsonl", "\n".join(lines) + "\n")
    put("array.json", json.dumps([{"id": "array-good", "body": "fonio"}, 5, {"id": "no-body"}]))
    # a 10 MB line between two good ones, then a 10 MB line that is not JSON
    put("long-line.jsonl", "\n".join([
        json.dumps({"id": "before-long", "body": "the line before the long one, about amaranth"}),
        json.dumps({"id": "long", "body": "word " * 2_000_000}),
        "x" * 10 * MB,
        json.dumps({"id": "after-long", "body": "the line after the long ones, about emmer"})]) + "\n")
    # file system oddities
    (root / "loop").mkdir()
    put("loop/inside.txt", "Inside a loop\n\nAn article about farro.\n")
    (root / "loop" / "again").symlink_to("..")  # walking it would never end
    os.mkfifo(root / "fifo.txt")  # reading it would block forever
    (root / "devzero.txt").symlink_to("/dev/zero")  # reading it would never end
    (root / "dangling.txt").symlink_to(root / "nowhere.txt")
    bad_name = os.fsencode(root) + b"/bad\xffname.txt"  # not UTF-8: a common legacy archive name
    with open(bad_name, "wb") as f:
        f.write(b"Odd name\n\nAn article in a file whose name is not UTF-8, about buckwheat.\n")
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("hostile") / "corpus")


def parse_report(stderr: str, labels: tuple[str, ...] = ("skipped: ", "warning: ")
                 ) -> list[tuple[str, int | None, str, bool]]:
    problems = []
    for line in stderr.splitlines():
        if not line.startswith(labels):
            continue
        label, _, rest = line.partition(": ")
        where, _, reason = rest.partition(": ")
        path, _, number = where.partition(":")
        problems.append((path, int(number) if number else None, reason, label == "warning"))
    return problems


def assert_report_matches(problems, expected=EXPECTED) -> None:
    assert len(problems) == len(expected), "\n".join(map(str, problems))
    for got, (path, line, fragment, warning) in zip(sorted(problems, key=_key), sorted(expected, key=_key)):
        assert (got[0], got[1], got[3]) == (path, line, warning), (got, path)
        assert fragment in got[2], (got, fragment)


def _key(problem) -> tuple:
    return problem[0], problem[1] or 0, problem[2][:12]


def test_hostile_corpus_end_to_end(corpus, tmp_path):
    index_dir = tmp_path / "index"
    result = run_cli("reindex", "--verbose", "--json", "--index", str(index_dir), str(corpus), timeout=300)
    assert result.returncode == 1, result.stderr  # 1: some input was skipped, and said so
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    summary = json.loads(result.stdout)
    problems = parse_report(result.stderr)
    assert_report_matches(problems)
    assert_report_matches(parse_report(result.stderr, ("ignored: ",)), IGNORED)
    skipped = sum(1 for p in EXPECTED if not p[3])
    assert summary["skipped"] == skipped and summary["warnings"] == len(EXPECTED) - skipped
    assert len(summary["problems"]) == len(EXPECTED)
    assert (summary["ignored"], summary["ignored_files"]) == (3, ["loop/again", "picture.jpg", "unsupported.pdf"])

    # every good article went in: the 301 sample articles and each one planted among the bad
    assert summary["articles"] == summary["added"] == 301 + len(GOOD)
    live = LiveIndex(index_dir)
    for article_id, word in GOOD.items():
        hits = [h.id for h in search(live, word, per_page=100).hits]
        assert article_id in hits, (word, hits)
    good = get_article(live, "good.html")  # the <h1> is the title, not repeated as the body's first line
    assert (good.title, good.body) == ("Grain", "An article about millet.")
    assert get_article(live, "latin1.txt").body == "Café crème “quoted” text about barley."
    assert get_article(live, "huge/fifty-mb.txt") is None

    # nothing else is lost: a second run over the same corpus writes nothing, says the same
    gen = IndexStore(index_dir).current_name()
    files = {p.name: p.stat().st_mtime_ns for p in (index_dir / gen).iterdir()}
    again = run_cli("reindex", "--verbose", "--index", str(index_dir), str(corpus), timeout=300)
    assert again.returncode == 1, again.stderr
    assert again.stdout.startswith(f"Nothing changed: {301 + len(GOOD)} articles")
    assert f"skipped {skipped}" in again.stdout
    assert sorted(parse_report(again.stderr)) == sorted(problems)
    assert IndexStore(index_dir).current_name() == gen
    assert {p.name: p.stat().st_mtime_ns for p in (index_dir / gen).iterdir()} == files


def test_problem_list_is_capped_without_verbose(tmp_path):
    """The first 20 problems, then a count; ignored files only counted (a small corpus: the cap is
    about the report, not about what the problems are)."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "lines.jsonl").write_text("".join(f'{{"id": "x{n}" "body": "broken"}}\n' for n in range(25))
                                        + '{"id": "ok", "body": "One good line about quinoa."}\n')
    (source / "latin1.txt").write_bytes(b"Latin headline\n\nCaf\xe9 text about barley.\n")  # a warning
    for name in ("a.jpg", "b.pdf"):
        (source / name).write_bytes(b"\x00" * 64)
    result = run_cli("reindex", "--index", str(tmp_path / "index"), str(source))
    assert result.returncode == 1
    shown = parse_report(result.stderr)
    assert len(shown) == 20
    assert "... and 6 more (--verbose lists them all)" in result.stderr
    assert "skipped 25 · warnings 1 · ignored 2 (not articles; --verbose lists them)" in result.stdout
    assert "ignored: " not in result.stderr
    assert "ignored: " not in result.stderr


def test_file_that_vanishes_between_listing_and_reading(tmp_path, monkeypatch, capsys):
    """Listed, then gone before it is opened: reported, its indexed articles kept; the next run deletes them."""
    import indexer.readers as readers
    from indexer.cli import main

    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "stays.txt").write_text("Stays\n\nAn article about rye.\n")
    (source / "vanishes.txt").write_text("Vanishes\n\nAn article about oats.\n")
    (source / "sub" / "a.txt").write_text("In a directory\n\nAn article about hops.\n")
    index_dir = tmp_path / "index"
    reindex(index_dir, [source])

    real_list = readers._list_directory

    def list_then_delete(directory, rel, visited):
        entries, problem = real_list(directory, rel, visited)
        if rel == "":  # the race: the file and a directory disappear right after the listing
            (source / "vanishes.txt").unlink(missing_ok=True)
            shutil.rmtree(source / "sub", ignore_errors=True)
        return entries, problem

    monkeypatch.setattr(readers, "_list_directory", list_then_delete)
    with pytest.raises(SystemExit) as exit_info:
        main(["reindex", "--index", str(index_dir), str(source)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1, err
    assert "skipped: vanishes.txt: cannot read file: No such file or directory" in err
    assert "skipped: sub: cannot read directory: No such file or directory" in err
    live = LiveIndex(index_dir)
    assert live.current().searcher().doc_count() == 3  # kept: unreadable is not deleted
    monkeypatch.undo()
    # once the file is really gone (no race), the next run deletes its articles (2 of 3: it says so)
    summary = reindex(index_dir, [source], allow_deletes=True)
    assert (summary.deleted, summary.skipped) == (2, 0)
    assert [h.id for h in search(LiveIndex(index_dir), "rye").hits] == ["stays.txt"]


def test_source_path_that_is_not_utf8(tmp_path):
    """A source directory whose own name is not UTF-8: indexed, then re-read without changes."""
    source = Path(os.fsdecode(os.fsencode(tmp_path) + b"/archiv\xe9"))
    source.mkdir()
    (source / "a.txt").write_text("Headline\n\nAn article about chia.\n")
    index_dir = tmp_path / "index"
    first = run_cli("reindex", "--index", str(index_dir), str(source))
    assert first.returncode == 0, first.stderr
    again = run_cli("reindex", "--index", str(index_dir), str(source))
    assert again.returncode == 0 and again.stdout.startswith("Nothing changed"), again.stderr
    (source / "a.txt").unlink()
    with pytest.raises(DeletionsRefused, match="would delete 1 of the 1 articles from .*archiv"):
        reindex(index_dir, [source])  # an emptied source looks like an unmounted one
    gone = reindex(index_dir, [source], allow_deletes=True)
    assert gone.deleted == 1 and gone.articles == 0


def test_fifo_as_the_source_itself_does_not_hang(tmp_path):
    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)
    result = run_cli("reindex", "--index", str(tmp_path / "index"), str(fifo), timeout=60)
    assert result.returncode == 1
    assert "skipped: in.jsonl: not a regular file\n" in result.stderr
    assert "Traceback" not in result.stderr
