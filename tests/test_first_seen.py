"""first_seen / last_changed: the index's own history of each article (issue 11).

Feeds order entries by when newsindex first indexed an article, so an update
must keep first_seen (and change last_changed), a full rebuild must keep
both, and a later run's new articles must come after every earlier one.
"""
from __future__ import annotations

import json

import pytest

from indexer.changes import IndexedArticles
from indexer.config import Settings
from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.search import search
from indexer.store import IndexStore, Manifest
from tests.conftest import write_jsonl

RECORDS = [
    {"id": "a", "title": "Wombat census begins", "body": "Rangers count wombats.", "published": "2020-01-01"},
    {"id": "b", "title": "Wombat census ends", "body": "Rangers counted wombats.", "published": "2020-02-01"},
]


def history(index_dir) -> dict[str, tuple[float, float]]:
    """(first_seen, last_changed) of every article, as its segment records it."""
    corpus = LiveIndex(index_dir).current().corpus
    indexed = IndexedArticles(corpus)
    return {corpus.article_id(d): (indexed.describe(d).first_seen, indexed.describe(d).last_changed)
            for d in range(corpus.size) if corpus.live[d]}


def hits_by_id(index_dir) -> dict:
    return {h.id: h for h in search(LiveIndex(index_dir), "wombat", per_page=100, cache=False).hits}


def test_first_seen_is_kept_by_updates_and_full_rebuilds(tmp_path):
    source = write_jsonl(tmp_path / "src" / "a.jsonl", RECORDS)
    index_dir = tmp_path / "index"
    reindex(index_dir, [source.parent])
    first = history(index_dir)
    assert first["a"][0] == first["b"][0] == first["a"][1]  # one time per run, first_seen = last_changed

    write_jsonl(source, [RECORDS[0], {**RECORDS[1], "body": "Rangers counted 42 wombats."},
                         {"id": "c", "title": "Wombat found", "body": "An old wombat story.",
                          "published": "1999-05-05"}])
    summary = reindex(index_dir, [source.parent])
    assert (summary.added, summary.updated, summary.unchanged) == (1, 1, 1)
    second = history(index_dir)
    assert second["a"] == first["a"]  # unchanged: untouched
    assert second["b"][0] == first["b"][0] and second["b"][1] > first["b"][1]  # updated: first_seen kept
    assert second["c"][0] > max(v[0] for v in first.values())  # new: after everything seen before

    reindex(index_dir, [source.parent], full=True)
    assert history(index_dir) == second  # a full rebuild keeps the history
    # so does the rebuild a new NEWSINDEX_LANGUAGE forces, and it counts articles as --full does
    german = reindex(index_dir, [source.parent], settings=Settings.load(environ={"NEWSINDEX_LANGUAGE": "de"}))
    assert german.mode == "full" and (german.added, german.unchanged) == (0, 3)
    assert history(index_dir) == second

    hits = hits_by_id(index_dir)  # and the index hands it out with each hit
    for article_id, (first_seen, last_changed) in second.items():
        assert hits[article_id].first_seen.timestamp() == pytest.approx(first_seen, abs=1e-6)
        assert hits[article_id].last_changed.timestamp() == pytest.approx(last_changed, abs=1e-6)
        assert hits[article_id].to_dict()["first_seen"].endswith("Z")


def test_a_new_article_is_seen_after_earlier_ones_even_if_the_clock_went_back(tmp_path, monkeypatch):
    import indexer.changes

    source = write_jsonl(tmp_path / "src" / "a.jsonl", RECORDS[:1])
    index_dir = tmp_path / "index"
    future = 4_000_000_000.0  # 2096: as if an earlier run had a clock far ahead
    monkeypatch.setattr(indexer.changes.time, "time", lambda: future)
    reindex(index_dir, [source.parent])
    monkeypatch.undo()
    assert history(index_dir)["a"][0] == future
    write_jsonl(source, RECORDS)
    reindex(index_dir, [source.parent])
    assert history(index_dir)["b"][0] > future


def test_a_manifest_of_the_old_layout_is_read_as_unknown_files(tmp_path):
    """Per-article manifests (before segments kept that) mean: read every file once, lose nothing."""
    assert Manifest.from_json({"roots": ["/x"], "articles": {"a": ["hash", 0, "a.jsonl"]}}).files == {}
    source = write_jsonl(tmp_path / "src" / "a.jsonl", RECORDS)
    index_dir = tmp_path / "index"
    reindex(index_dir, [source.parent])
    before = history(index_dir)
    store = IndexStore(index_dir)
    (store.root / store.current_name() / "manifest.json").write_text(
        json.dumps({"roots": [str(source.parent)], "articles": {"a": ["x", 0, "a.jsonl"]}}))
    summary = reindex(index_dir, [source.parent])  # nothing rewritten; a manifest of files written
    assert (summary.mode, summary.unchanged, summary.written) == ("incremental", 2, 0)
    assert history(index_dir) == before
    assert reindex(index_dir, [source.parent]).mode == "unchanged"
