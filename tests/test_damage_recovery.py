"""Recovering from a damaged segment file (review 4, D3 and D4): what the 503 and the CLI
recommend must work, and damage already in a file (bit rot) is damage everywhere, never a 500."""
from __future__ import annotations

import json
import pickle
import zlib

import pytest

from indexer.container import Container
from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.segment import ZLIB_WBITS
from indexer.store import IndexStore
from tests.conftest import SAMPLE
from tests.conftest import cli_in_process as cli
from tests.conftest import overwrite, section_span, write_jsonl
from webapp import create_app


def _segments(index_dir, generation=None):
    store = IndexStore(index_dir)
    return sorted((index_dir / (generation or store.current_name())).glob("MAIN_*.news"))


def _wombat_index(tmp_path):
    """(source, index) of five articles: gen-000001."""
    source = tmp_path / "src"
    write_jsonl(source / "a.jsonl", [{"id": f"a{i}", "title": "Wombat", "body": f"Wombats {i}."} for i in range(5)])
    reindex(tmp_path / "index", [source])
    return source, tmp_path / "index"


def _add_an_otter(source) -> None:
    write_jsonl(source / "b.jsonl", [{"id": "b0", "title": "Otter", "body": "Otters."}])


def _damage_id_postings(path) -> None:
    """What the reviewer's 400 random bytes did: the id field's posting offsets are garbage."""
    start, size = section_span(path, "id.doff")
    overwrite(path, start, b"\x7f" * size)


def _bad_stored_date(path, docnum: int = 0) -> None:
    """Rewrite one article's stored ``published`` so its seconds are 61 (as flipped bits can), the
    compressed bytes the same length: a pickle that loads, a datetime that does not check."""
    container = Container(path)
    off, dict_ids = container["store.off"], container["store.dict"]
    zoff, blob = container["store.zoff"].tolist(), container["store.zdicts"]
    zdict = blob[zoff[int(dict_ids[docnum])]:zoff[int(dict_ids[docnum]) + 1]].tobytes()
    start, end = int(off[docnum]), int(off[docnum + 1])
    raw = container["store.data"][start:end].tobytes()
    container.close()
    data_offset, _ = section_span(path, "store.data")
    inflater = zlib.decompressobj(ZLIB_WBITS, zdict=zdict)
    fields = pickle.loads(inflater.decompress(raw) + inflater.flush())
    good = fields["first_seen"]
    state = bytearray(pickle.dumps(good, protocol=pickle.HIGHEST_PROTOCOL))
    payload = good.__reduce__()[1][0]
    where = state.index(payload)
    damaged = bytearray(payload)
    damaged[6] = 61  # second
    state[where:where + len(payload)] = damaged
    fields["first_seen"] = pickle.loads(bytes(state))  # pickle does not check the fields
    with pytest.raises(ValueError):
        fields["first_seen"].replace()
    fields["body"] = (fields.get("body") or "")[:-200]  # room for the bytes the change costs
    deflater = zlib.compressobj(9, zlib.DEFLATED, ZLIB_WBITS, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
    new = deflater.compress(pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL)) + deflater.flush()
    assert len(new) <= end - start, "the re-compressed article must fit where it was"
    # a shorter stream followed by the old bytes inflates the same (the rest is unused data)
    overwrite(path, data_offset + start, new)
    if "store.crc" in Container(path).sections:  # re-checksummed, so the date check is what fails
        crc_start, _ = section_span(path, "store.crc")
        overwrite(path, crc_start + 4 * docnum, zlib.crc32(new + raw[len(new):]).to_bytes(4, "little"))


@pytest.fixture
def sample_index(tmp_path):
    reindex(tmp_path / "index", [SAMPLE])
    return tmp_path / "index"


def _ids(index_dir) -> set[str]:
    return set(LiveIndex(index_dir).current().corpus.article_ids())


# ---------------------------------------------------------------------------- reindex --full (D3)

def test_full_reindex_rebuilds_a_one_generation_index_with_a_damaged_id_field(sample_index, capsys):
    before = _ids(sample_index)
    (segment,) = _segments(sample_index)
    _damage_id_postings(segment)
    result = cli(capsys, "reindex", "--full", "--index", str(sample_index), str(SAMPLE))
    assert result.returncode == 0, result.stderr
    assert "internal error" not in result.stderr
    assert "is damaged" in result.stderr and "first_seen starts over for every article" in result.stderr
    assert _ids(sample_index) == before
    assert LiveIndex(sample_index).current().name == "gen-000002"


def test_full_reindex_carries_first_seen_from_an_older_generation_that_is_not_damaged(tmp_path, capsys):
    source, index_dir = _wombat_index(tmp_path)
    first = {d: LiveIndex(index_dir).current().corpus.first_seen[d] for d in range(5)}
    reindex(index_dir, [source], full=True)  # gen-2: its own files (a full build shares nothing)
    (segment,) = _segments(index_dir)
    _damage_id_postings(segment)
    result = cli(capsys, "reindex", "--full", "--index", str(index_dir), str(source))
    assert result.returncode == 0, result.stderr
    assert "first_seen is carried over from gen-000001" in result.stderr
    corpus = LiveIndex(index_dir).current().corpus
    assert {d: corpus.first_seen[d] for d in range(5)} == first


# ---------------------------------------------------------------------------- incremental (D3)

def test_incremental_reindex_on_a_damaged_live_generation_builds_on_an_older_one(tmp_path, capsys):
    source, index_dir = _wombat_index(tmp_path)
    reindex(index_dir, [source], full=True)
    (segment,) = _segments(index_dir)
    _damage_id_postings(segment)
    _add_an_otter(source)
    result = cli(capsys, "reindex", "--index", str(index_dir), str(source))
    assert result.returncode == 0, result.stderr
    assert "building on gen-000001" in result.stderr and "internal error" not in result.stderr
    assert _ids(index_dir) == {f"a{i}" for i in range(5)} | {"b0"}
    # the new generation does not share the damaged file
    assert all(p.stat().st_ino != segment.stat().st_ino for p in _segments(index_dir))


def test_building_on_an_older_generation_never_drops_what_the_damaged_one_added_silently(tmp_path, capsys):
    """Sources reindexed separately: gen 2 added articles from source B; gen 2 is damaged; a run
    given only source A must not build on gen 1 and lose B's new articles while calling B kept."""
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    write_jsonl(dir_a / "a.jsonl", [{"id": f"a{i}", "title": "Wombat", "body": f"Wombats {i}."} for i in range(5)])
    write_jsonl(dir_b / "b.jsonl", [{"id": f"b{i}", "title": "Otter", "body": f"Otters {i}."} for i in range(5)])
    index_dir = tmp_path / "index"
    reindex(index_dir, [dir_a, dir_b])
    write_jsonl(dir_b / "c.jsonl", [{"id": f"c{i}", "title": "Quoll", "body": f"Quolls {i}."} for i in range(3)])
    reindex(index_dir, [dir_b])  # gen 2: its own new segment holds the three quolls
    live = IndexStore(index_dir).current_name()
    newest = max(_segments(index_dir, live), key=lambda p: p.stat().st_mtime_ns)
    _damage_id_postings(newest)
    refused = cli(capsys, "reindex", "--index", str(index_dir), str(dir_a))
    assert refused.returncode == 3 and "internal error" not in refused.stderr
    assert f"lacks what {live} added since" in refused.stderr and str(dir_b) in refused.stderr
    assert IndexStore(index_dir).current_name() == live  # nothing changed
    given = cli(capsys, "reindex", "--index", str(index_dir), str(dir_a), str(dir_b))
    assert given.returncode == 0, given.stderr
    assert _ids(index_dir) == {f"a{i}" for i in range(5)} | {f"b{i}" for i in range(5)} | {f"c{i}" for i in range(3)}


def test_incremental_reindex_without_an_older_generation_rebuilds_or_says_so(sample_index, capsys):
    """No older generation: the same as a generation damaged at opening (rebuilt from the
    sources, saying so); never an internal error."""
    (segment,) = _segments(sample_index)
    _damage_id_postings(segment)
    result = cli(capsys, "reindex", "--index", str(sample_index), str(SAMPLE))
    assert result.returncode == 0, result.stderr
    assert "is damaged" in result.stderr and "rebuilt from the sources" in result.stderr
    assert "internal error" not in result.stderr


def test_an_incremental_reindex_never_builds_on_an_older_generation_sharing_the_damaged_file(tmp_path, capsys):
    source, index_dir = _wombat_index(tmp_path)
    _add_an_otter(source)
    reindex(index_dir, [source])  # gen-2 shares gen-1's segment by a hard link
    shared = _segments(index_dir, "gen-000001")[0]
    assert shared.stat().st_nlink == 2
    _damage_id_postings(shared)
    result = cli(capsys, "reindex", "--index", str(index_dir), str(source))
    assert result.returncode == 0, result.stderr
    assert "building on" not in result.stderr and "rebuilt from the sources" in result.stderr
    assert _ids(index_dir) == {f"a{i}" for i in range(5)} | {"b0"}


# ---------------------------------------------------------------------------- optimize, rollback (D3)

def test_optimize_on_a_damaged_generation_exits_3_with_the_damage(tmp_path, capsys):
    source, index_dir = _wombat_index(tmp_path)
    _add_an_otter(source)
    reindex(index_dir, [source])  # two segments: optimize has work to do
    start, size = section_span(_segments(index_dir)[0], "body.doff")
    overwrite(_segments(index_dir)[0], start, b"\xff" * size)
    result = cli(capsys, "optimize", "--index", str(index_dir))
    assert result.returncode == 3, result.stderr
    assert "is damaged" in result.stderr and "reindex --full" in result.stderr
    assert "internal error" not in result.stderr


def test_rollback_refuses_a_generation_that_shares_the_damaged_file(tmp_path, capsys):
    source, index_dir = _wombat_index(tmp_path)
    _add_an_otter(source)
    reindex(index_dir, [source])
    _damage_id_postings(_segments(index_dir, "gen-000001")[0])
    result = cli(capsys, "rollback", "--index", str(index_dir))
    assert result.returncode == 3, result.stderr  # damage: exit 3, as everywhere else
    assert "gen-000001 cannot be served" in result.stderr and "is damaged" in result.stderr
    assert IndexStore(index_dir).current_name() == "gen-000002"
    listing = cli(capsys, "generations", "--index", str(index_dir))
    assert "damaged" in listing.stdout


# ---------------------------------------------------------------------------- exports (D4)

def test_export_damaged_before_the_first_byte_answers_503(sample_index):
    client = create_app({"INDEX": str(sample_index), "TESTING": True, "CACHE_SIZE": 0}).test_client()
    assert client.get("/api/export?q=cocoa").status_code == 200
    (segment,) = _segments(sample_index)
    start, size = section_span(segment, "store.data")
    overwrite(segment, start, bytes(range(256)) * (size // 256))
    response = client.get("/api/export?q=*")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "index_unreadable"


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_export_damaged_mid_stream_ends_with_an_error_line(sample_index, file_format, monkeypatch):
    import indexer.exports as exports

    monkeypatch.setattr(exports, "CHUNK_CHARS", 200)  # many chunks: the first goes out before the damage
    client = create_app({"INDEX": str(sample_index), "TESTING": True, "CACHE_SIZE": 0}).test_client()
    response = client.get(f"/api/export?q=*&format={file_format}&sort=oldest", buffered=False)
    assert response.status_code == 200
    expected = int(response.headers["X-Export-Count"])
    body = iter(response.response)
    first = next(body)
    (segment,) = _segments(sample_index)
    start, size = section_span(segment, "store.data")
    overwrite(segment, start, bytes(range(256)) * (size // 256))
    text = (first + b"".join(body)).decode("utf-8")
    last = text.rstrip("\r\n").splitlines()[-1]
    if file_format == "jsonl":
        error = json.loads(last)["error"]
        assert error["code"] == "index_unreadable" and "is damaged" in error["message"]
        rows = len(text.splitlines()) - 1
    else:
        assert last.lstrip('"').startswith("#error index_unreadable: ") and "is damaged" in last
        rows = len(text.rstrip("\r\n").split("\r\n")) - 2
    assert rows < expected


def test_cli_export_damaged_mid_stream_exits_3_and_writes_no_file(sample_index, tmp_path, capsys):
    (segment,) = _segments(sample_index)
    for docnum in (40, 41):
        _bad_stored_date(segment, docnum)
    target = tmp_path / "x.csv"
    result = cli(capsys, "export", "*", "--index", str(sample_index), "-o", str(target))
    assert result.returncode == 3, result.stderr
    assert "is damaged" in result.stderr and "nothing was written" in result.stderr
    assert "internal error" not in result.stderr and not target.exists()
    assert not list(tmp_path.glob(".x.csv.*"))
    out = cli(capsys, "export", "*", "--index", str(sample_index), "--sort", "oldest")
    assert out.returncode == 3 and "cut short" in out.stderr


# ---------------------------------------------------------------------------- a bad stored date (D4.3)

def test_a_stored_date_out_of_range_is_damage_503_and_exit_3(sample_index, capsys):
    (segment,) = _segments(sample_index)
    corpus = LiveIndex(sample_index).current().corpus
    article_id = corpus.article_id(0)
    _bad_stored_date(segment, 0)
    client = create_app({"INDEX": str(sample_index), "TESTING": True, "CACHE_SIZE": 0}).test_client()
    response = client.get(f"/api/articles/{article_id}")
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "index_unreadable"
    total = client.get("/api/search?q=*&per_page=1").get_json()["total"]
    statuses = {}
    for page in range(1, total // 100 + 2):  # the reviewer's query, every page of it
        statuses[page] = client.get(f"/api/search?q=*&per_page=100&page={page}&sort=oldest").status_code
    assert 500 not in statuses.values() and 503 in statuses.values(), statuses
    (bad_page,) = [page for page, status in statuses.items() if status == 503]
    result = cli(capsys, "search", "*", "--index", str(sample_index), "--sort", "oldest", "--limit", "100",
                 "--page", str(bad_page))
    assert result.returncode == 3 and "is damaged" in result.stderr, result.stderr
    assert "internal error" not in result.stderr


def test_a_real_server_answers_503_json_for_an_export_of_a_damaged_segment(sample_index):
    """D4.1: through gunicorn, an export whose first rows hit the damage is a JSON 503, not
    gunicorn's HTML 500 (the first chunk is produced before the response starts)."""
    from tests.servers import Server, fetch

    with Server(sample_index, workers=1) as server:
        assert fetch(server.url + "api/export?q=oil").status == 200
        (segment,) = _segments(sample_index)
        start, size = section_span(segment, "store.data")
        overwrite(segment, start, bytes(range(256)) * (size // 256))
        reply = fetch(server.url + "api/export?q=*")
        assert reply.status == 503, reply.body[:300]
        assert json.loads(reply.body)["error"]["code"] == "index_unreadable"


@pytest.mark.parametrize("section, data", [("source", b"\xff"), ("first_seen", b"\x7f"), ("live", b"\x07")])
def test_a_columns_file_damaged_before_it_is_opened_is_damage(sample_index, capsys, section, data):
    """columns.news holds per-article codes, dates and flags: garbage there is found when the file
    opens (503, exit 3), not as an IndexError, a 24 GiB allocation or a wrong answer."""
    path = sample_index / IndexStore(sample_index).current_name() / "columns.news"
    start, size = section_span(path, section)
    overwrite(path, start, data * size)
    result = cli(capsys, "search", "--index", str(sample_index), "cocoa")
    assert result.returncode == 3 and "internal error" not in result.stderr
    assert "columns.news is damaged" in result.stderr
    client = create_app({"INDEX": str(sample_index), "TESTING": True}).test_client()
    response = client.get("/api/search?q=cocoa")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "index_unreadable"
    assert client.get("/search?q=cocoa").status_code == 503
