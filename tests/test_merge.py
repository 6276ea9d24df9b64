"""A merge's segment, checked against its inputs: what streaming the merge must not change.

A merge re-inverts each field a bounded range of terms at a time and appends
every chunk, rebased, to temporary files (indexer/spool.py); the stored
fields are copied run by run. These tests build a real index of several
segments with deleted articles (the bundled sample and a second source,
reindexed incrementally) and check that

* the merged segment is byte for byte the same however the terms are chunked
  (one chunk per field is what concatenating everything in memory gave),
* every term's postings and positions, every document's stored fields and
  columns equal those of the inputs, renumbered past the deleted articles,
* no temporary file is left, whether the merge succeeds or fails.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import indexer.merge as merge
from indexer.codec import read_toc
from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.segment import SegmentData, segment_filename
from indexer.spool import SectionSpool
from tests.conftest import SAMPLE, many_records, write_jsonl


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """The live generation of an index with several segments, some of them with deletions."""
    tmp = tmp_path_factory.mktemp("segmented")
    records = many_records(200)
    feed = tmp / "feed"
    index_dir = tmp / "index"
    for day in range(5):
        write_jsonl(feed / f"day{day}.jsonl", records[day * 30:(day + 1) * 30])
        reindex(index_dir, [SAMPLE, feed] if day else [SAMPLE])
    write_jsonl(feed / "day1.jsonl", [r for r in records[30:60] if r["id"] not in ("r33", "r40")])
    write_jsonl(feed / "day3.jsonl", [dict(r, title="Erratum: " + r["title"]) if r["id"] == "r95" else r
                                      for r in records[90:120]])
    write_jsonl(feed / "day5.jsonl", records[150:170])
    reindex(index_dir, [SAMPLE, feed])
    gen = LiveIndex(index_dir).current()
    assert len(gen.segments) >= 3 and sum(s.deleted_count() for s in gen.segments) >= 3
    return index_dir / gen.name


def _merge(source, target, monkeypatch, tokens_per_chunk=None):
    """Merge a copy of the generation; with ``tokens_per_chunk``, in chunks that small, and the
    stored fields copied a kilobyte at a time."""
    shutil.copytree(source, target)
    monkeypatch.setattr(merge, "_new_segid", lambda: "fixedsegid000000")
    if tokens_per_chunk:
        monkeypatch.setattr(merge, "TOKENS_PER_CHUNK", tokens_per_chunk)
        monkeypatch.setattr(merge, "STORE_COPY_BYTES", 1000)
    schema, segments, _ = read_toc(target)
    merged = merge.merge_segments(target, schema, segments)
    return segments, merged


def test_the_merged_segment_does_not_depend_on_the_chunking(segmented, tmp_path, monkeypatch):
    _, whole = _merge(segmented, tmp_path / "whole", monkeypatch)
    for tokens in (5000, 100, 1):
        _, chunked = _merge(segmented, tmp_path / f"chunked{tokens}", monkeypatch, tokens)
        assert chunked.files == whole.files
        for name in whole.files:
            assert (tmp_path / f"chunked{tokens}" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), \
                (tokens, name)


def test_the_merged_segment_holds_the_live_postings_and_documents_of_its_inputs(segmented, tmp_path,
                                                                               monkeypatch):
    segments, merged = _merge(segmented, tmp_path / "merged", monkeypatch, tokens_per_chunk=300)
    directory = tmp_path / "merged"
    inputs = [SegmentData(directory / seg.data_filename()) for seg in segments]
    out = SegmentData(directory / segment_filename("MAIN", merged.segid))
    numbers, base = [], 0
    for seg, data in zip(segments, inputs):
        mapping = np.full(data.doc_count, -1)
        live = np.setdiff1d(np.arange(data.doc_count), seg.deleted_array())
        mapping[live] = base + np.arange(len(live))
        base += len(live)
        numbers.append(mapping)
    assert out.doc_count == base == merged.doc_count_all()
    for field in out.field_names:
        expected: dict[bytes, dict[int, tuple[int, list[int]]]] = {}
        for data, mapping in zip(inputs, numbers):
            terms = data.field(field)
            if terms is None:
                continue
            for i in range(terms.count):
                docs, tfs = terms.docs(i), terms.tfs(i)
                positions = terms.positions(i, tfs).tolist() if terms.has_positions else None
                at = 0
                for doc, tf in zip(docs.tolist(), tfs.tolist()):
                    if mapping[doc] >= 0:
                        expected.setdefault(terms.term(i), {})[int(mapping[doc])] = \
                            (tf, positions[at:at + tf] if positions is not None else None)
                    at += tf
        terms = out.field(field)
        got = {}
        for i in range(terms.count):
            docs, tfs = terms.docs(i), terms.tfs(i)
            positions = terms.positions(i, tfs).tolist() if terms.has_positions else None
            bounds = np.concatenate(([0], np.cumsum(tfs, dtype=np.int64))).tolist()
            got[terms.term(i)] = {d: (tf, positions[a:b] if positions is not None else None)
                                  for d, tf, a, b in zip(docs.tolist(), tfs.tolist(), bounds, bounds[1:])}
        assert got == expected, field
        assert list(got) == sorted(got)  # the term table stays sorted by bytes
    for seg, data, mapping in zip(segments, inputs, numbers):
        for local in np.flatnonzero(mapping >= 0).tolist():
            new = int(mapping[local])
            assert out.stored_fields(new) == data.stored_fields(local)
            assert out.article_id(new) == data.article_id(local)
            for column in ("published", "first_seen", "last_changed"):
                np.testing.assert_array_equal(out.column(column)[new], data.column(column)[local])
            assert out.column("hash")[16 * new:16 * new + 16].tobytes() == \
                data.column("hash")[16 * local:16 * local + 16].tobytes()


def test_no_temporary_file_is_left_when_a_merge_fails(segmented, tmp_path, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(merge, "write_segment", full_disk)
    with pytest.raises(OSError):
        _merge(segmented, tmp_path / "failed", monkeypatch, tokens_per_chunk=300)
    assert not [p.name for p in (tmp_path / "failed").iterdir() if p.name.startswith(".")]


def test_spooled_offsets_are_narrowed_only_when_they_fit(tmp_path):
    spilled = []
    spool = SectionSpool(tmp_path, spilled)
    spool.append("a", np.array([1, 2], np.int64), "<u8")
    spool.append("a", np.array([2**32 - 1], np.int64), "<u8")
    spool.append("b", np.array([2**32], np.int64), "<u8")
    narrowed = spool.mapped("a", "<u4")
    assert narrowed.dtype.str == "<u4" and narrowed.tolist() == [1, 2, 2**32 - 1]
    wide = spool.mapped("b")
    assert wide.dtype.str == "<u8" and wide.tolist() == [2**32]
    with pytest.raises(ValueError):
        spool.append("b", np.array([1], np.uint8))
    spool.close()
    assert all(p.name.startswith(".merge-") and p.name.endswith(".tmp") for p in spilled)
    del narrowed, wide
    for p in spilled:
        p.unlink()


def test_a_field_with_offsets_past_4_gb_keeps_8_byte_offsets(tmp_path):
    """What invert_field would do for a field that large: the whole field decides the width."""
    spool = SectionSpool(tmp_path, [])
    out = merge._FieldOutput("f", spool)
    chunk = {"f.df": np.array([1], "<u4"), "f.docs16": np.array([0], "<u2"), "f.docs32": np.zeros(0, "<u4"),
             "f.tf8": np.array([1], "u1"), "f.tf16": np.zeros(0, "<u2"), "f.doff": np.array([0], "<u4"),
             "f.foff": np.array([0], "<u4"), "f.flags": np.zeros(1, np.uint8), "f.toff": np.array([0, 1], "<u4"),
             "f.tblob": np.frombuffer(b"a", np.uint8)}
    out.add(chunk)
    out.totals["docs16"] = 2**32  # as if the chunks before held 4 G deltas
    out.add(dict(chunk, **{"f.tblob": np.frombuffer(b"b", np.uint8)}))
    sections = out.finish()
    assert list(sections) == ["f.df", "f.docs16", "f.docs32", "f.tf8", "f.tf16", "f.flags", "f.tblob",
                              "f.doff", "f.foff", "f.toff"]
    assert sections["f.doff"].dtype.str == "<u8" and sections["f.doff"].tolist() == [0, 2**32]
    assert sections["f.foff"].dtype.str == "<u4" and sections["f.foff"].tolist() == [0, 1]
    assert sections["f.toff"].dtype.str == "<u4" and sections["f.toff"].tolist() == [0, 1, 2]
    spool.close()


def test_a_streamed_section_is_written_as_an_array_would_be(tmp_path):
    """What a merge writes straight from its inputs reads back as the same array would, and a
    producer that yields more or less than it announced leaves no file behind."""
    from indexer.container import Container, StreamedSection, write_container

    values = np.arange(1000, dtype="<u4")
    streamed = StreamedSection(np.dtype("<u4"), 1000, lambda: (values[i:i + 64] for i in range(0, 1000, 64)))
    write_container(tmp_path / "a.news", {"x": np.ones(3, np.uint8), "s": streamed, "y": values[:5]})
    write_container(tmp_path / "b.news", {"x": np.ones(3, np.uint8), "s": values, "y": values[:5]})
    assert (tmp_path / "a.news").read_bytes() == (tmp_path / "b.news").read_bytes()
    assert np.array_equal(Container(tmp_path / "a.news")["s"], values)
    short = StreamedSection(np.dtype("<u4"), 1001, lambda: iter([values]))
    with pytest.raises(ValueError, match="1,000 values written, 1,001 announced"):
        write_container(tmp_path / "c.news", {"s": short})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.news", "b.news"]
