"""Segments over time: incremental runs, the merge policy, optimize, skipping unchanged files."""
from __future__ import annotations

import json

import pytest
from whoosh import index as whoosh_index

from indexer.ingest import optimize, reindex
from indexer.live import LiveIndex
from indexer.merge import MERGE_FACTOR
from indexer.search import batch_search, search
from indexer.store import IndexStore
from tests.conftest import many_records, write_jsonl

QUERIES = [("1", "cocoa prices"), ("2", "oil"), ("3", "bank rate cut"), ("4", "serial marker s77"),
           ("5", "coffee brazil exports"), ("6", "trade deficit")]


def ranking(index_dir):
    return list(batch_search(LiveIndex(index_dir), QUERIES, limit=200))


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Twelve daily runs (with an update and a deletion on the way), and the same articles built at once."""
    tmp_path = tmp_path_factory.mktemp("history")
    records = many_records(12 * 30)
    source = tmp_path / "feed"
    source.mkdir()
    index_dir = tmp_path / "daily"
    segment_counts = []
    for day in range(12):
        write_jsonl(source / f"day{day:02d}.jsonl", records[day * 30:(day + 1) * 30])
        if day == 6:  # a correction to an article of day 2, and an article taken down
            fixed = [dict(r, title="Xylograph erratum: " + r["title"]) if r["id"] == "r70" else r
                     for r in records[60:90] if r["id"] != "r71"]
            write_jsonl(source / "day02.jsonl", fixed)
        summary = reindex(index_dir, [source])
        assert summary.mode == ("full" if day == 0 else "incremental")
        segment_counts.append(len(LiveIndex(index_dir).current().segments))
    final = [r for r in records if r["id"] != "r71"]
    final = [dict(r, title="Xylograph erratum: " + r["title"]) if r["id"] == "r70" else r for r in final]
    once = tmp_path / "once"
    write_jsonl(tmp_path / "all" / "all.jsonl", final)
    reindex(once, [tmp_path / "all"])
    return {"daily": index_dir, "once": once, "segments": segment_counts, "source": source}


def test_daily_runs_merge_small_segments(history):
    counts = history["segments"]
    assert max(counts) <= MERGE_FACTOR  # ten small segments are merged into one
    assert counts[MERGE_FACTOR - 1] < counts[MERGE_FACTOR - 2]  # the run that made the tenth merged them
    gen = LiveIndex(history["daily"]).current()
    assert gen.corpus.count == 359
    assert sum(s.deleted_count() for s in gen.segments) <= 2  # merges dropped what was deleted


def test_daily_runs_rank_like_one_build(history):
    assert ranking(history["daily"]) == ranking(history["once"])
    assert search(LiveIndex(history["daily"]), "xylograph").total == 1
    assert LiveIndex(history["daily"]).current().corpus.document_number("r71") is None


def test_optimize_makes_one_segment_and_changes_no_answer(history, tmp_path):
    import shutil

    index_dir = tmp_path / "optimized"
    shutil.copytree(history["daily"], index_dir)
    before = ranking(index_dir)
    summary = optimize(index_dir)
    assert summary.mode == "optimize" and summary.articles == 359
    gen = LiveIndex(index_dir).current()
    assert len(gen.segments) == 1 and gen.segments[0].deleted_count() == 0
    assert not [p.name for p in gen.path.iterdir() if p.name.startswith(".")]  # no temporary file left
    assert ranking(index_dir) == before
    assert optimize(index_dir).mode == "unchanged"  # nothing left to do
    # stock Whoosh reads the merged segment too
    ix = whoosh_index.open_dir(str(gen.path))
    with ix.searcher() as s:
        assert s.doc_count() == 359 and s.document(id="r70")["title"].startswith("Xylograph erratum: ")


def test_an_unchanged_rerun_reads_no_file(history, monkeypatch):
    import indexer.readers as readers

    def fail(*args, **kwargs):
        raise AssertionError("an unchanged file was read")

    for extension in list(readers._READERS):
        monkeypatch.setitem(readers._READERS, extension, fail)
    summary = reindex(history["daily"], [history["source"]])
    assert summary.mode == "unchanged" and summary.unchanged == 359


def test_a_lost_manifest_loses_no_article(tmp_path):
    """Two sources; the manifest is damaged; a reindex of one of them must not drop the other."""
    a = write_jsonl(tmp_path / "a" / "a.jsonl", many_records(40)[:20]).parent
    b = write_jsonl(tmp_path / "b" / "b.jsonl", many_records(40)[20:]).parent
    index_dir = tmp_path / "index"
    reindex(index_dir, [a, b])
    store = IndexStore(index_dir)
    (index_dir / store.current_name() / "manifest.json").write_text("{damaged")
    summary = reindex(index_dir, [a])  # nothing rewritten or dropped; the manifest is written anew
    assert (summary.mode, summary.written, summary.unchanged, summary.deleted, summary.articles) == \
        ("incremental", 0, 20, 0, 40)
    write_jsonl(tmp_path / "a" / "a.jsonl", many_records(41)[:20] + many_records(41)[40:])  # one more in a
    summary = reindex(index_dir, [a])
    assert (summary.added, summary.deleted, summary.articles) == (1, 0, 41)
    manifest = json.loads((index_dir / store.current_name() / "manifest.json").read_text())
    assert sorted(manifest["files"]) == [str(a)]  # b's files are read once more next time b is named
    summary = reindex(index_dir, [b])  # b's file is read, found unchanged, and recorded again
    assert (summary.mode, summary.written, summary.unchanged, summary.articles) == ("incremental", 0, 20, 41)
    assert reindex(index_dir, [a, b]).mode == "unchanged"


def test_optimize_from_cron_prints_lines_not_a_crash(history, tmp_path):
    """In a log (no terminal, no --quiet) every merge phase has a line of its own."""
    import shutil

    from tests.conftest import run_cli

    index_dir = tmp_path / "cron"
    shutil.copytree(history["daily"], index_dir)
    done = run_cli("optimize", "--index", str(index_dir))
    assert done.returncode == 0, done.stderr
    assert "internal error" not in done.stderr
    assert "merging body (" in done.stderr and " terms)…" in done.stderr
    assert len(LiveIndex(index_dir).current().segments) == 1
    listed = run_cli("generations", "--index", str(index_dir))
    live = next(line for line in listed.stdout.splitlines() if line.startswith("*"))
    assert "optimize: 0 dropped" in live and "~0" not in live  # not read as added, updated, deleted

