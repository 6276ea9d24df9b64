"""What a long-running reader holds, and what it does when Whoosh is not the Whoosh it expects."""
from __future__ import annotations

import os

import pytest

import indexer.codec as codec
from indexer.errors import IndexUnreadable
from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.search import search
from tests.conftest import overwrite, section_span, write_jsonl
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


# ------------------------------------------------- damage under a running server (issue L7)

DAMAGE_QUERIES = ["huge", "oil", "cocoa prices", "coffee -brazil", '"interest rates"', "nego*", "wheat",
                  "grain", "sugar", "bank", "trade", "japan", "title:wheat", "gold OR silver"]


def _sample_index(tmp_path):
    from tests.conftest import SAMPLE

    reindex(tmp_path / "index", [SAMPLE])
    return tmp_path / "index"


def _segment(index_dir):
    (path,) = sorted(index_dir.glob("gen-*/MAIN_*.news"))
    return path


def _assert_unreadable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "index_unreadable" and set(response.get_json()) == {"error"}
    assert "is damaged" in error["message"] and "reindex --full" in error["message"]
    assert "rollback" in error["message"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_postings_damaged_under_a_running_app_answer_503_not_500(tmp_path):
    """The offsets of every body posting list overwritten while the app has the segment mapped."""
    index_dir = _sample_index(tmp_path)
    client = create_app({"INDEX": str(index_dir), "TESTING": True, "CACHE_SIZE": 0}).test_client()
    assert client.get("/api/search?q=oil").status_code == 200
    segment = _segment(index_dir)
    start, size = section_span(segment, "body.doff")
    overwrite(segment, start, b"\xff" * size)
    _assert_unreadable(client.get("/api/search?q=huge"))
    page = client.get("/search?q=huge")
    assert page.status_code == 503 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "is damaged" in text and "Traceback" not in text


def test_stored_fields_damaged_under_a_running_app_answer_503_not_500(tmp_path):
    index_dir = _sample_index(tmp_path)
    client = create_app({"INDEX": str(index_dir), "TESTING": True, "CACHE_SIZE": 0}).test_client()
    article_id = client.get("/api/search?q=cocoa").get_json()["hits"][0]["id"]
    segment = _segment(index_dir)
    start, count = section_span(segment, "store.data")
    overwrite(segment, start, bytes(range(256)) * (count // 256))
    _assert_unreadable(client.get(f"/api/articles/{article_id}"))
    assert client.get(f"/articles/{article_id}").status_code == 503


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_bytes_flipped_in_a_live_segment_never_give_a_500(tmp_path, seed):
    """What the reviewer did: 400 random bytes of the live MAIN_*.news overwritten under the app."""
    import random

    index_dir = _sample_index(tmp_path)
    client = create_app({"INDEX": str(index_dir), "TESTING": True, "CACHE_SIZE": 0}).test_client()
    for query in DAMAGE_QUERIES:
        assert client.get("/api/search", query_string={"q": query}).status_code == 200
    segment = _segment(index_dir)
    rng, size = random.Random(seed), segment.stat().st_size
    for _ in range(400):
        overwrite(segment, rng.randrange(size), bytes([rng.randrange(256)]))
    statuses = []
    for query in DAMAGE_QUERIES:
        response = client.get("/api/search", query_string={"q": query})
        statuses.append(response.status_code)
        if response.status_code != 200:
            _assert_unreadable(response)
    assert 503 in statuses, statuses  # 400 bytes of 100 KB always hit some posting list read


def test_a_real_server_answers_503_for_a_segment_damaged_under_it(tmp_path):
    """Through gunicorn: the worker has the segment mapped before it is damaged."""
    import json

    from tests.servers import Server, fetch

    index_dir = _sample_index(tmp_path)
    with Server(index_dir, workers=1) as server:
        assert fetch(server.url + "api/search?q=oil").status == 200
        segment = _segment(index_dir)
        start, size = section_span(segment, "body.doff")
        overwrite(segment, start, b"\xff" * size)
        reply = fetch(server.url + "api/search?q=huge")
        assert reply.status == 503, reply.body[:300]
        body = json.loads(reply.body)
        assert body["error"]["code"] == "index_unreadable" and "reindex --full" in body["error"]["message"]
        assert b"Traceback" not in reply.body
