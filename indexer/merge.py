"""Merging segments: the tiered policy of incremental runs, and ``newsindex optimize``.

A daily reindex of a thousand articles adds one small segment; left alone,
a year of them would make every query look a term up in hundreds of
segments. After each incremental run the policy merges small segments of
similar size, ten at a time (Lucene's tiered merging), and never touches a
segment above :data:`AUTO_MERGE_MAX_DOCS`: the big segments of a full build are
only rewritten by an explicit ``newsindex optimize``.

A merge drops deleted documents, maps every term of the inputs onto their
sorted union and re-inverts the postings with the writer's own
:func:`~indexer.segment.invert_field`, a bounded range of terms at a time; the
compressed stored fields are copied as they are (each keeps its dictionary).
Both stream into temporary files (:mod:`indexer.spool`) as they are produced,
so a merge's own memory stays bounded by a chunk, not by the size of the index.
"""
from __future__ import annotations

import math
import os
import zlib
from bisect import bisect_left
from pathlib import Path

import numpy as np
from whoosh.filedb.filestore import FileStorage

from .codec import INDEX_NAME, LENGTHS_COLUMN, NewsCodec, NewsSegment
from .container import StreamedSection
from .segment import (SPELL_FIELDS, SegmentData, files_section, invert_field, segment_filename,
                      stored_sections, write_segment)
from .spool import SectionSpool
from .writer import _doc_term_index, _new_segid, _write_whoosh_column

MERGE_FACTOR = 10  # segments of a tier merged together
AUTO_MERGE_MAX_DOCS = 200_000  # incremental runs never merge segments past this many articles
TOKENS_PER_CHUNK = 8_000_000  # postings re-inverted at once (bounds a merge's memory)
STORE_COPY_BYTES = 64 * 1024 * 1024  # compressed stored fields copied at once
_OFFSET_KEYS = {"doff": ("docs16", "docs32"), "foff": ("tf8", "tf16"), "poff": ("pos16", "pos32")}
_OFFSET_BITS = {"doff": 1, "foff": 2, "poff": 4}  # the flag saying a term's postings are in the wide section


def plan_merges(segments: list) -> list[list[int]]:
    """Indexes of segments to merge into one, tier by tier (at most one merge per tier).

    A tier holds segments of the same order of magnitude of live documents;
    a tier with :data:`MERGE_FACTOR` segments or more merges its smallest ones.
    """
    tiers: dict[int, list[int]] = {}
    for i, seg in enumerate(segments):
        live = seg.doc_count()
        if live > AUTO_MERGE_MAX_DOCS:
            continue
        tiers.setdefault(int(math.log10(max(live, 1))), []).append(i)
    merges = []
    for tier in sorted(tiers):
        members = sorted(tiers[tier], key=lambda i: segments[i].doc_count())
        if len(members) >= MERGE_FACTOR and \
                sum(segments[i].doc_count() for i in members[:MERGE_FACTOR]) <= AUTO_MERGE_MAX_DOCS * 2:
            merges.append(sorted(members[:MERGE_FACTOR]))
    return merges


def merge_segments(directory: str | os.PathLike, schema, segments: list, progress=None) -> NewsSegment:
    """Write one segment holding the live documents of ``segments`` (in their order)."""
    directory = Path(directory)
    datas = [SegmentData(directory / seg.data_filename()) for seg in segments]
    keep = []
    for seg, data in zip(segments, datas):
        live = np.ones(data.doc_count, dtype=bool)
        deleted = seg.deleted_array()
        if len(deleted):
            live[deleted] = False
        keep.append(live)
    new_numbers = []
    base = 0
    for live in keep:
        numbers = np.full(len(live), -1, dtype=np.int64)
        numbers[live] = base + np.arange(int(live.sum()))
        base += int(live.sum())
        new_numbers.append(numbers)
    n = base
    segment = NewsSegment(NewsCodec(), INDEX_NAME, doccount=n, segid=_new_segid(), fieldlengths={})
    fields = sorted({f for data in datas for f in data.field_names})
    sections: dict[str, np.ndarray] = {}
    spilled: list[Path] = []
    spool = SectionSpool(directory, spilled)
    try:
        for name in fields:
            sections.update(_merge_field(name, datas, new_numbers, spool, progress))
        return _finish(directory, schema, segments, datas, keep, new_numbers, segment, fields, sections, spool)
    finally:
        sections.clear()
        spool.close()
        for path in spilled:
            path.unlink(missing_ok=True)


def _finish(directory: Path, schema, segments: list, datas: list[SegmentData], keep: list[np.ndarray],
            new_numbers: list[np.ndarray], segment: NewsSegment, fields: list[str],
            sections: dict[str, np.ndarray], spool: SectionSpool) -> NewsSegment:
    """The per-document sections, the W3 columns and the stored fields after the merged fields;
    then the segment itself."""
    n = segment.doc_count_all()
    fields = [f for f in fields if f"{f}.df" in sections]
    storage = FileStorage(str(directory))
    column_files = []
    for name in [f for f, obj in schema.items() if obj.indexed and obj.scorable]:
        parts = [data.column(f"len.{name}")[live] if f"doc.len.{name}" in data.container
                 else np.zeros(int(live.sum()), dtype=np.uint8) for data, live in zip(datas, keep)]
        quantised = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint8)
        sections[f"doc.len.{name}"] = quantised
        from .codec import LENGTH_OF_BYTE
        total = int(LENGTH_OF_BYTE[quantised].sum())
        if total:
            segment._fieldlengths[name] = total
        column_files.append(_write_whoosh_column(storage, segment, f"_{name}_len", LENGTHS_COLUMN,
                                                 ((d, int(b)) for d, b in enumerate(quantised.tolist()) if b), n))
    for name, obj in schema.items():
        if obj.column_type:
            values = []
            default = obj.column_type.default_value()
            for seg, live, numbers in zip(segments, keep, new_numbers):
                column = _column_values(directory, seg, name, obj.column_type)
                for local in np.flatnonzero(live).tolist():
                    if column is not None and column[local] != default:
                        values.append((int(numbers[local]), column[local]))
            column_files.append(_write_whoosh_column(storage, segment, name, obj.column_type, values, n))
    sections["doc.id"] = _doc_term_index(sections, "id", n) if "id.df" in sections else np.zeros(n, "<u4")
    for column in ("published", "first_seen", "last_changed"):
        sections[f"doc.{column}"] = np.concatenate([d.column(column)[live] for d, live in zip(datas, keep)]
                                                   or [np.zeros(0)]).astype("<f8")
    sections["doc.hash"] = np.concatenate([d.column("hash").reshape(-1, 16)[live].reshape(-1)
                                           for d, live in zip(datas, keep)] or [np.zeros(0, np.uint8)])
    sources: dict[str, int] = {}
    files: dict[tuple[str, str], int] = {}
    languages: dict[str, int] = {}
    source_codes, file_codes, language_codes = [], [], []
    for data, live in zip(datas, keep):
        smap = np.array([sources.setdefault(s, len(sources)) for s in data.meta["sources"]] or [0], np.int64)
        fmap = np.array([files.setdefault(tuple(f), len(files)) for f in data.files] or [0], np.int64)
        lmap = np.array([languages.setdefault(lang, len(languages)) for lang in data.meta["languages"]] or [0],
                        np.int64)
        source_codes.append(smap[data.column("source")[live]])
        file_codes.append(fmap[data.column("file")[live]])
        language_codes.append(lmap[data.column("lang")[live]])
    sections["doc.source"] = np.concatenate(source_codes).astype("<u4") if source_codes else np.zeros(0, "<u4")
    sections["doc.file"] = np.concatenate(file_codes).astype("<u4") if file_codes else np.zeros(0, "<u4")
    sections["doc.lang"] = np.concatenate(language_codes).astype("u1") if language_codes else np.zeros(0, "u1")
    sections.update(_merged_store(datas, keep))
    meta = {"doc_count": n, "fields": fields, "segid": segment.segid,
            "boosts": {name: float(schema[name].format.field_boost) for name in fields},
            "sources": list(sources), "languages": list(languages)}
    sections["files.json"] = files_section([list(k) for k in files])
    write_segment(directory / segment_filename(INDEX_NAME, segment.segid), sections, meta)
    segment.files = sorted([segment.data_filename()] + column_files)
    return segment


def _column_values(directory: Path, segment, name: str, column) -> list | None:
    """Every value of a segment's W3 column (read through Whoosh's own column reader)."""
    filename = NewsCodec.column_filename(segment, name)
    path = directory / filename
    if not path.exists():
        return None
    f = FileStorage(str(directory), readonly=True).open_file(filename)
    try:
        reader = column.reader(f, 0, path.stat().st_size, segment.doc_count_all())
        return [reader[i] for i in range(segment.doc_count_all())]
    finally:
        f.close()


def _merge_field(name: str, datas: list[SegmentData], new_numbers: list[np.ndarray], spool: SectionSpool,
                 progress=None) -> dict[str, np.ndarray]:
    """One field of the merged segment, re-inverted a bounded range of terms at a time; each
    chunk goes to ``spool`` as soon as it is inverted, and the field's sections come back mapped."""
    tables = [(data.field(name), numbers) for data, numbers in zip(datas, new_numbers)
              if data.field(name) is not None]
    if not tables:
        return {}
    vocabulary = sorted({t for terms, _ in tables for t in terms.terms()})
    if progress:
        progress.phase(f"merging {name}", len(vocabulary))
    rank = {t: i for i, t in enumerate(vocabulary)}
    positional = tables[0][0].has_positions
    out = _FieldOutput(name, spool)
    lo_rank = 0
    while lo_rank < len(vocabulary):
        hi_rank = _chunk_end(tables, vocabulary, lo_rank)
        low, high = vocabulary[lo_rank], vocabulary[hi_rank - 1]
        term_ids, docs, positions, freqs = [], [], [], []
        for terms, numbers in tables:
            lo = bisect_left(terms._keys, low)
            hi = bisect_left(terms._keys, high + b"\x00")
            if lo >= hi:
                continue
            t, d, f, p = terms.range_postings(lo, hi)
            local_rank = np.array([rank[terms.term(i)] for i in range(lo, hi)], dtype=np.int64)
            new_docs = numbers[d]
            alive = new_docs >= 0
            if positional:
                alive_tokens = np.repeat(alive, f)
                term_ids.append(np.repeat(local_rank[t - lo], f)[alive_tokens])
                docs.append(np.repeat(new_docs, f)[alive_tokens])
                positions.append(p[alive_tokens])
            else:
                term_ids.append(local_rank[t - lo][alive])
                docs.append(new_docs[alive])
                freqs.append(f[alive])
        if term_ids and sum(len(t) for t in term_ids):
            tid = np.concatenate(term_ids)
            order = np.argsort(tid, kind="stable")  # segments in order: documents stay ascending
            chunk_terms = vocabulary[lo_rank:hi_rank]
            out.add(invert_field(name, (tid[order] - lo_rank).astype(np.int64),
                                 np.concatenate(docs)[order],
                                 np.concatenate(positions)[order] if positional else None,
                                 chunk_terms, freqs=None if positional else np.concatenate(freqs)[order]))
        if progress:
            progress.advance(hi_rank - lo_rank)
        lo_rank = hi_rank
    return out.finish()


def _chunk_end(tables, vocabulary: list[bytes], lo_rank: int) -> int:
    """The end of a range of terms from ``lo_rank`` holding about TOKENS_PER_CHUNK occurrences."""
    hi_rank = len(vocabulary)
    step = max(1, len(vocabulary) // 64)
    while True:
        candidate = min(len(vocabulary), lo_rank + step)
        tokens = 0
        for terms, _ in tables:
            lo = bisect_left(terms._keys, vocabulary[lo_rank])
            hi = bisect_left(terms._keys, vocabulary[candidate - 1] + b"\x00")
            tokens += int(terms.df[lo:hi].sum()) * (4 if terms.has_positions else 1)
        if tokens > TOKENS_PER_CHUNK or candidate == hi_rank:
            # never past the vocabulary: the first step may already overshoot the few terms left
            return candidate if tokens <= TOKENS_PER_CHUNK or step == 1 else \
                min(hi_rank, lo_rank + max(1, step // 2))
        step *= 2


class _FieldOutput:
    """One field's chunks appended to the spool as they come, rebased onto the chunks before them.

    The result is what concatenating every chunk at the end would give, byte for byte: each
    section is the chunks' arrays one after the other, except the per-term offsets, which point
    into the whole field (a term's postings start after all earlier chunks' postings of the
    same narrow or wide section, its bytes after all earlier chunks' terms). The offsets are
    4 bytes when every value of the whole field fits, else 8, as :func:`invert_field` chooses
    for one chunk; they are spooled as 8 and narrowed once the maximum is known.
    """

    def __init__(self, name: str, spool: SectionSpool):
        self.name, self.spool = name, spool
        self.keys: list[str] | None = None  # the chunks' sections, in invert_field's order
        self.offset_keys: list[str] = []
        self.totals = {key: 0 for key in ("docs16", "docs32", "tf8", "tf16", "pos16", "pos32")}
        self.maxima = {key: 0 for key in _OFFSET_KEYS}
        self.blob = 0

    def add(self, chunk: dict[str, np.ndarray]) -> None:
        name, spool = self.name, self.spool
        if self.keys is None:
            self.keys = list(chunk)
            self.offset_keys = [k for k in _OFFSET_KEYS if f"{name}.{k}" in chunk]
        flags = chunk[f"{name}.flags"]
        for key in self.offset_keys:
            narrow, wide = _OFFSET_KEYS[key]
            is_wide = (flags & _OFFSET_BITS[key]) > 0
            values = chunk[f"{name}.{key}"].astype(np.int64) + \
                np.where(is_wide, self.totals[wide], self.totals[narrow])
            self.maxima[key] = max(self.maxima[key], int(values.max(initial=0)))
            spool.append(f"{name}.{key}", values, "<u8")
        for key in self.totals:
            if f"{name}.{key}" in chunk:
                self.totals[key] += len(chunk[f"{name}.{key}"])
        spool.append(f"{name}.toff", chunk[f"{name}.toff"].astype(np.int64)[:-1] + self.blob, "<u8")
        self.blob += len(chunk[f"{name}.tblob"])
        for key in self.keys:
            if not self._rebased(key):
                spool.append(key, chunk[key])

    def _rebased(self, key: str) -> bool:
        short = key.split(".", 1)[1]
        return short in _OFFSET_KEYS or short == "toff"

    def finish(self) -> dict[str, np.ndarray]:
        """The field's sections, mapped, in the order the segment has always listed them:
        the chunks' own sections, then ``doff``/``foff``/``poff``, then ``toff``."""
        if self.keys is None:
            return {}
        name, spool = self.name, self.spool
        out = {key: spool.mapped(key) for key in self.keys if not self._rebased(key)}
        for key in self.offset_keys:
            out[f"{name}.{key}"] = spool.mapped(f"{name}.{key}", "<u4" if self.maxima[key] < 2**32 else "<u8")
        spool.append(f"{name}.toff", np.array([self.blob], dtype=np.int64), "<u8")
        out[f"{name}.toff"] = spool.mapped(f"{name}.toff", "<u4" if self.blob < 2**32 else "<u8")
        return out


def _merged_store(datas: list[SegmentData], keep: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The inputs' compressed stored fields, copied with their dictionaries renumbered.

    The compressed bytes (half of a segment) are a StreamedSection: written into the new segment
    straight from the inputs' mapped files, a run of consecutive live documents at a time (at
    most :data:`STORE_COPY_BYTES` at once), never gathered in memory or in a temporary file.

    Each document's checksum (``store.crc``) is carried from its input, not recomputed, so damage
    already in an input stays detectable in the output. An input written before the section
    existed gets its live documents' crcs computed from its bytes here (one zlib.crc32 per
    document, ~1 s per GB), so every merged segment has the section.
    """
    lengths, dict_ids, zdicts, copies, crcs = [], [], [], [], []
    for data, live in zip(datas, keep):
        store = data.stored
        first = len(zdicts)
        zdicts.extend(store.zdicts)
        off = store.off.astype(np.int64)
        docs = np.flatnonzero(live)
        lengths.append(off[docs + 1] - off[docs])
        runs = np.flatnonzero(np.diff(docs) != 1) + 1  # where a run of consecutive documents starts
        for run_start, run_end in zip(np.concatenate(([0], runs)).tolist(),
                                      np.concatenate((runs, [len(docs)])).tolist()):
            if run_start != run_end:
                copies.append((data, int(off[docs[run_start]]), int(off[docs[run_end - 1] + 1])))
        dict_ids.append(store.dict_ids[live].astype(np.int64) + first)
        if store.crc is not None:
            crcs.append(store.crc[docs].astype(np.int64))
        else:
            data_view, starts, ends = store.data, off[docs].tolist(), off[docs + 1].tolist()
            crcs.append(np.fromiter((zlib.crc32(data_view[a:b]) for a, b in zip(starts, ends)),
                                    dtype=np.int64, count=len(docs)))

    def pieces():
        for data, lo, hi in copies:
            blob = data.container["store.data"]
            for start in range(lo, hi, STORE_COPY_BYTES):
                yield blob[start:min(hi, start + STORE_COPY_BYTES)]

    all_lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    text = StreamedSection(np.dtype(np.uint8), int(all_lengths.sum()), pieces)
    ids = np.concatenate(dict_ids) if dict_ids else np.zeros(0, np.int64)
    all_crcs = np.concatenate(crcs) if crcs else np.zeros(0, np.int64)
    return stored_sections(all_lengths, text, ids, zdicts, all_crcs)


__all__ = ["AUTO_MERGE_MAX_DOCS", "MERGE_FACTOR", "SPELL_FIELDS", "merge_segments", "plan_merges"]
