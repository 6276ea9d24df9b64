"""Per-document checksums of the stored fields (``store.crc``, review 5 H1): damaged article text
is found before it is inflated and unpickled (a damaged pickle once asked for 17 GB), carried
through merges, and segments written before the section existed still read."""
from __future__ import annotations

import random
import zlib

import pytest

import indexer.segment as segment_module
from indexer.container import Container, ContainerError
from indexer.ingest import optimize, reindex
from indexer.live import LiveIndex
from indexer.segment import SegmentData
from indexer.store import IndexStore
from tests.conftest import SAMPLE, many_records, section_span, write_jsonl
from tests.conftest import cli_in_process as cli
from webapp import create_app


def _segments(index_dir):
    store = IndexStore(index_dir)
    return sorted((index_dir / store.current_name()).glob("MAIN_*.news"))


def _assert_crcs_match(path) -> int:
    """Every document's store.crc equals zlib.crc32 of its compressed bytes; returns the count."""
    data = SegmentData(path)
    try:
        stored = data.stored
        assert stored.crc is not None, f"{path.name} has no store.crc"
        assert len(stored.crc) == data.doc_count
        off = stored.off.astype(int)
        for d in range(data.doc_count):
            assert int(stored.crc[d]) == zlib.crc32(stored.data[off[d]:off[d + 1]]), d
            stored.get(d)
        data.check()
        return data.doc_count
    finally:
        data.close()


def _damage_record(path, docnum: int, seed: int = 7) -> None:
    """Overwrite bytes in the middle of one document's compressed stored record, in place."""
    data = SegmentData(path)
    start, end = int(data.stored.off[docnum]), int(data.stored.off[docnum + 1])
    data.close()
    base, _ = section_span(path, "store.data")
    rng = random.Random(seed)
    lo = start + (end - start) // 3
    n = min(40, end - lo)
    with open(path, "r+b") as f:
        f.seek(base + lo)
        old = f.read(n)
        new = bytes(rng.randrange(256) for _ in range(n))
        assert new != old
        f.seek(base + lo)
        f.write(new)


@pytest.fixture
def sample_index(tmp_path):
    reindex(tmp_path / "index", [SAMPLE])
    return tmp_path / "index"


def test_a_new_segment_has_a_checksum_per_document(sample_index):
    (segment,) = _segments(sample_index)
    assert _assert_crcs_match(segment) == LiveIndex(sample_index).current().corpus.count


def test_damaged_stored_bytes_fail_the_checksum_before_decoding(sample_index, monkeypatch):
    (segment,) = _segments(sample_index)
    _damage_record(segment, 5)
    called, real = [], zlib.decompressobj
    monkeypatch.setattr(segment_module.zlib, "decompressobj",
                        lambda *a, **k: called.append(1) or real(*a, **k))
    data = SegmentData(segment)
    with pytest.raises(ContainerError, match=r"stored fields of document 5 do not match their checksum"):
        data.stored_fields(5)
    data.stored_fields(4), data.stored_fields(6)  # the neighbours are intact
    data.check()  # O(terms + documents): it does not read the text (see SegmentData.check)
    data.close()


def test_damaged_article_is_503_on_its_pages_and_searches_and_exit_3(sample_index, capsys):
    client = create_app({"INDEX": str(sample_index), "TESTING": True, "CACHE_SIZE": 0}).test_client()
    corpus = LiveIndex(sample_index).current().corpus
    article_id = corpus.article_id(5)
    assert client.get(f"/api/articles/{article_id}").status_code == 200
    (segment,) = _segments(sample_index)
    _damage_record(segment, 5)
    for url in (f"/api/articles/{article_id}", f"/articles/{article_id}"):
        response = client.get(url)
        assert response.status_code == 503, (url, response.get_data(as_text=True)[:300])
    # a worker that opens the file after the damage (the app above sees "modified in place")
    client = create_app({"INDEX": str(sample_index), "TESTING": True, "CACHE_SIZE": 0}).test_client()
    api = client.get(f"/api/articles/{article_id}").get_json()["error"]
    assert api["code"] == "index_unreadable" and "checksum" in api["message"]
    assert client.get(f"/articles/{article_id}").status_code == 503
    statuses = {page: client.get("/api/search", query_string={"q": "*", "per_page": 100, "page": page,
                                                                "sort": "oldest"}).status_code
                for page in range(1, corpus.count // 100 + 2)}
    assert 500 not in statuses.values() and list(statuses.values()).count(503) == 1, statuses
    (bad_page,) = [page for page, status in statuses.items() if status == 503]
    result = cli(capsys, "search", "*", "--index", str(sample_index), "--sort", "oldest", "--limit", "100",
                 "--page", str(bad_page))
    assert result.returncode == 3, result.stderr
    assert "is damaged" in result.stderr and "checksum" in result.stderr
    assert "internal error" not in result.stderr


def _legacy_index(index_dir, monkeypatch, sources):
    """An index written as before store.crc existed."""
    monkeypatch.setattr(segment_module, "STORE_CRC", False)
    for source in sources:
        reindex(index_dir, [source])
    monkeypatch.setattr(segment_module, "STORE_CRC", True)
    return index_dir


def test_segments_without_checksums_still_read(tmp_path, monkeypatch):
    index_dir = _legacy_index(tmp_path / "index", monkeypatch, [SAMPLE])
    (segment,) = _segments(index_dir)
    assert "store.crc" not in Container(segment).sections
    data = SegmentData(segment)
    assert data.stored.crc is None and data.stored.crc_ok(0) is None
    assert all(data.stored_fields(d)["id"] for d in range(data.doc_count))
    data.check()
    data.close()
    client = create_app({"INDEX": str(index_dir), "TESTING": True, "CACHE_SIZE": 0}).test_client()
    hit = client.get("/api/search?q=cocoa").get_json()["hits"][0]
    assert client.get(f"/api/articles/{hit['id']}").status_code == 200
    reindex(index_dir, [SAMPLE], full=True)  # reindex --full rewrites it with checksums
    (segment,) = _segments(index_dir)
    _assert_crcs_match(segment)


def test_optimize_adds_checksums_to_segments_written_without_them(tmp_path, monkeypatch):
    source = tmp_path / "src"
    records = many_records(120)
    write_jsonl(source / "a.jsonl", records[:80])
    index_dir = tmp_path / "index"
    _legacy_index(index_dir, monkeypatch, [source])
    write_jsonl(source / "b.jsonl", records[80:])
    write_jsonl(source / "a.jsonl", records[:70])  # ten deleted from the first, legacy segment
    reindex(index_dir, [source])  # a second segment, with checksums
    segments = _segments(index_dir)
    assert len(segments) == 2
    assert sorted("store.crc" in Container(s).sections for s in segments) == [False, True]
    expected = {r["id"] for r in records[:70] + records[80:]}
    optimize(index_dir)
    (merged,) = _segments(index_dir)
    assert _assert_crcs_match(merged) == 110
    corpus = LiveIndex(index_dir).current().corpus
    assert {corpus.article_id(d) for d in range(corpus.count)} == set(expected)


def test_a_merge_carries_the_checksums_of_every_live_document(tmp_path, monkeypatch):
    import indexer.merge as merge

    monkeypatch.setattr(merge, "STORE_COPY_BYTES", 1000)
    source = tmp_path / "src"
    records = many_records(150)
    index_dir = tmp_path / "index"
    write_jsonl(source / "a.jsonl", records[:60])
    reindex(index_dir, [source])
    write_jsonl(source / "b.jsonl", records[60:150])
    write_jsonl(source / "a.jsonl", records[:60:2])  # every other one of the first deleted
    reindex(index_dir, [source])
    assert len(_segments(index_dir)) == 2
    optimize(index_dir)
    (merged,) = _segments(index_dir)
    assert _assert_crcs_match(merged) == 120


def test_a_merge_keeps_damage_already_in_an_input_detectable(tmp_path):
    """The crcs are carried, not recomputed: bytes damaged before a merge still fail after it."""
    source = tmp_path / "src"
    records = many_records(100)
    index_dir = tmp_path / "index"
    write_jsonl(source / "a.jsonl", records[:50])
    reindex(index_dir, [source])
    write_jsonl(source / "b.jsonl", records[50:])
    reindex(index_dir, [source])
    first = _segments(index_dir)
    assert len(first) == 2
    data = SegmentData(first[0])
    count = data.doc_count
    data.close()
    _damage_record(first[0], count - 1)
    optimize(index_dir)  # check() does not read the text, so the merge goes ahead
    (merged,) = _segments(index_dir)
    data = SegmentData(merged)
    bad = [d for d in range(data.doc_count) if not data.stored.crc_ok(d)]
    assert len(bad) == 1
    with pytest.raises(ContainerError, match="checksum"):
        data.stored_fields(bad[0])
    data.close()


def test_optimize_rewrites_a_lone_segment_written_without_checksums(tmp_path, monkeypatch):
    """One segment, no deletions, but built before stored checksums: optimize adds them."""
    source = tmp_path / "src"
    write_jsonl(source / "a.jsonl", many_records(40))
    index_dir = tmp_path / "index"
    _legacy_index(index_dir, monkeypatch, [source])
    (legacy,) = _segments(index_dir)
    assert "store.crc" not in Container(legacy).sections
    assert optimize(index_dir).mode == "optimize"
    (merged,) = _segments(index_dir)
    assert _assert_crcs_match(merged) == 40
    assert optimize(index_dir).mode == "unchanged"
