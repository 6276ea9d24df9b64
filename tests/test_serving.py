"""What a long-running reader holds, and what it does when Whoosh is not the Whoosh it expects."""
from __future__ import annotations

import os

import pytest

import indexer.codec as codec
from indexer.errors import IndexUnreadable
from indexer.ingest import reindex
from indexer.search import search
from indexer.store import LiveIndex
from tests.conftest import write_jsonl
from webapp import create_app


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def maps_of(path) -> int:
    """Memory maps of files under ``path`` held by this process."""
    with open("/proc/self/maps", encoding="utf-8") as f:
        return sum(1 for line in f if str(path) in line)


@pytest.mark.slow
def test_a_reader_holds_no_more_files_after_200_reindexes(tmp_path):
    """Every reindex makes a new generation; a server that follows them closes the ones it leaves."""
    source = tmp_path / "feed"
    index_dir = tmp_path / "index"
    write_jsonl(source / "day0.jsonl", [{"id": "a0", "title": "Opening", "body": "Wombats at dawn."}])
    reindex(index_dir, [source])
    live = LiveIndex(index_dir)
    assert search(live, "wombat", cache=False).total == 1

    def mapped_files() -> int:  # the live generation's segment files and its columns file
        return len(live.current().segments) + 1

    baseline_files, baseline_maps = open_files() - mapped_files(), maps_of(index_dir) - mapped_files()
    for day in range(1, 201):
        write_jsonl(source / f"day{day % 7}.jsonl",
                    [{"id": f"a{day % 7}", "title": f"Day {day}", "body": f"Wombats seen on day {day}."}])
        reindex(index_dir, [source])
        found = search(live, "wombat", cache=False)
        assert found.total == min(day + 1, 7) and live.current().name == f"gen-{day + 1:06d}"
    # what the reader holds is the live generation's files, whatever it saw before
    assert open_files() - mapped_files() <= baseline_files
    assert maps_of(index_dir) - mapped_files() <= baseline_maps


def test_a_whoosh_that_quantises_lengths_differently_is_refused(monkeypatch):
    monkeypatch.setattr(codec, "length_to_byte", lambda length: 0)  # as if Whoosh's internals moved
    with pytest.raises(IndexUnreadable, match="reinstall newsindex's pinned dependencies"):
        codec.check_whoosh()


def test_a_whoosh_that_reads_postings_differently_answers_503_not_500(tmp_path, monkeypatch):
    """The self-check decodes one posting list with numpy and through stock Whoosh's matcher when
    a generation is opened; if they disagree the index is refused with a clear message."""
    from whoosh.matching import ListMatcher

    source = write_jsonl(tmp_path / "src" / "a.jsonl",
                         [{"id": f"n{i}", "title": "Wombat news", "body": f"Wombats, story {i}."} for i in range(5)])
    reindex(tmp_path / "index", [source.parent])
    real_id = ListMatcher.id
    monkeypatch.setattr(ListMatcher, "id", lambda self: real_id(self) + 1)
    with pytest.raises(IndexUnreadable, match="reads differently through Whoosh"):
        LiveIndex(tmp_path / "index").current()
    client = create_app({"INDEX": str(tmp_path / "index"), "TESTING": True}).test_client()
    response = client.get("/api/search?q=wombat")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "index_unreadable"
    assert "reinstall newsindex's pinned dependencies" in response.json["error"]["message"]
    monkeypatch.undo()
    assert client.get("/api/search?q=wombat").json["total"] == 5
