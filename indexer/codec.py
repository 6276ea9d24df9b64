"""Whoosh's side of newsindex's segments: the one module that reaches into Whoosh internals.

Whoosh stays the index: every generation is a Whoosh index (a TOC naming the
schema and the segments, deletions kept in the segments) that the stock
``whoosh.index.open_dir`` opens and the stock searcher queries. What changes
is the *codec*, Whoosh's documented extension point for how a segment stores
its terms and postings (as in Lucene): :class:`NewsCodec` keeps Whoosh's W3
columns (field lengths, sortable columns) and swaps its pickled, zlib'd
128-posting blocks for :mod:`indexer.segment`'s memory-mapped numpy arrays,
which search reads without decoding anything into private memory, and which
take ~0.85 KB per article where W3's blocks take ~3.3 KB (see bench/README.md).

Stock Whoosh reads these segments through :class:`NewsTermsReader` and
:class:`NewsPerDocReader` (the usual Matcher/TermInfo API), so queries from
``whoosh.qparser`` give the same results as on an index Whoosh wrote itself;
``tests/test_codec.py`` checks exactly that.

Everything here depends on the pinned whoosh-reloaded 2.7.5;
:func:`check_whoosh` verifies the assumptions at import and
:func:`self_check` decodes a known posting list both ways when an index is
opened, so a Whoosh that behaves differently fails with a clear message
instead of answering wrongly.
"""
from __future__ import annotations

import os
from array import array
from bisect import bisect_left
from pathlib import Path

import numpy as np
from whoosh.codec import base
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3PerDocReader, W3Segment, W3TermInfo
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC
from whoosh.matching import ListMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import _length_byte_cache, byte_to_length, length_to_byte

from .errors import IndexUnreadable
from .segment import FieldTerms, SegmentData, segment_filename

INDEX_NAME = "MAIN"
_LENGTH_BYTES = np.asarray(_length_byte_cache, dtype=np.int64)
LENGTH_OF_BYTE = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)


def length_bytes(lengths: np.ndarray) -> np.ndarray:
    """Whoosh's ``length_to_byte`` for a whole array of field lengths."""
    out = np.searchsorted(_LENGTH_BYTES, np.asarray(lengths, dtype=np.int64), side="left")
    return np.minimum(out, 255).astype(np.uint8)


def check_whoosh() -> None:
    """The Whoosh internals this module relies on behave as it expects."""
    probe = np.array([0, 1, 2, 3, 27, 100, 5000, 106373, 106374, 10**7])
    expected = [length_to_byte(int(v)) for v in probe]
    if length_bytes(probe).tolist() != expected or LENGTH_OF_BYTE[length_bytes(probe)].tolist() != \
            [float(byte_to_length(b)) for b in expected]:
        raise IndexUnreadable("this Whoosh quantises field lengths differently from whoosh-reloaded "
                              "2.7.5, which newsindex needs; reinstall newsindex's pinned dependencies")
    if LENGTHS_COLUMN.writer is None or not hasattr(W3PerDocReader, "_cached_reader"):
        raise IndexUnreadable("this Whoosh lacks the W3 column API newsindex needs; "
                              "reinstall newsindex's pinned dependencies")


check_whoosh()


# ------------------------------------------------------------------------ the codec

class NewsCodec(W3Codec):
    """W3 with newsindex's term tables and postings (written only by :mod:`indexer.writer`)."""

    def terms_reader(self, storage, segment):
        return NewsTermsReader(storage, segment)

    def per_document_reader(self, storage, segment):
        return NewsPerDocReader(storage, segment)

    def field_writer(self, storage, segment):
        raise NotImplementedError("newsindex segments are written by indexer.writer, not Whoosh's writer")

    def new_segment(self, storage, indexname):
        return NewsSegment(self, indexname)


class NewsSegment(W3Segment):
    """A W3 segment whose terms and postings live in ``MAIN_<segid>.news``."""

    def __init__(self, codec, indexname, doccount=0, segid=None, deleted=None,
                 fieldlengths: dict | None = None):
        super().__init__(codec, indexname, doccount, segid, deleted)
        self._fieldlengths = dict(fieldlengths or {})
        self.files: list[str] = []  # every file of the segment, set by the writer

    def data_filename(self) -> str:
        return segment_filename(self.indexname, self.segid)

    def deleted_array(self) -> np.ndarray:
        return np.fromiter(sorted(self._deleted or ()), dtype=np.int64)


def open_segment_data(storage, segment) -> SegmentData:
    path = Path(storage.folder) / segment.data_filename()
    return SegmentData(path)


# ------------------------------------------------------------------------ reading as Whoosh

class NewsPerDocReader(W3PerDocReader):
    """W3's per-document reader (columns, lengths, deletions) with our stored fields."""

    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        self._data = open_segment_data(storage, segment)

    def stored_fields(self, docnum):
        return self._data.stored_fields(docnum)

    def close(self):
        super().close()
        self._data.close()


def _term_info(terms: FieldTerms, i: int, lengths: np.ndarray | None, boost: float) -> W3TermInfo:
    docs = terms.docs(i)
    tfs = terms.tfs(i).astype(np.float64)
    info = W3TermInfo()
    weights = tfs * boost
    info._weight = float(weights.sum())
    info._df = len(docs)
    info._maxweight = float(weights.max()) if len(weights) else 0.0
    info._minid, info._maxid = (int(docs[0]), int(docs[-1])) if len(docs) else (None, None)
    if lengths is not None and len(docs):
        actual = LENGTH_OF_BYTE[lengths[docs]]
        present = actual[actual > 0]
        info._minlength = int(present.min()) if len(present) else None
        info._maxlength = int(present.max()) if len(present) else 0
    else:
        info._minlength, info._maxlength = None, 0
    # what W3 would hand back after a round trip through its byte-quantised TermInfo
    info._minlength = byte_to_length(0 if info._minlength is None else length_to_byte(info._minlength))
    info._maxlength = byte_to_length(length_to_byte(info._maxlength))
    info._weight = float(np.float32(info._weight))
    info._maxweight = float(np.float32(info._maxweight))
    return info


class _Cursor(base.FieldCursor):
    def __init__(self, reader: "NewsTermsReader", fieldname: str, fieldobj):
        self._terms = reader._field(fieldname)
        self._reader, self._fieldname, self._fieldobj = reader, fieldname, fieldobj
        self._i = 0

    def first(self):
        self._i = 0
        return self.text()

    def find(self, term):
        if not isinstance(term, bytes):
            term = self._fieldobj.to_bytes(term)
        self._i = bisect_left(self._terms._keys, term) if self._terms else 0
        return self.text()

    def next(self):
        self._i += 1
        return self.text()

    def is_valid(self):
        return self._terms is not None and self._i < self._terms.count

    def text(self):
        return self._fieldobj.from_bytes(self._terms.term(self._i)) if self.is_valid() else None

    def term_info(self):
        if not self.is_valid():
            return None
        return self._reader._info(self._fieldname, self._i)


class NewsTermsReader(base.TermsReader):
    """The stock Matcher/TermInfo API over a segment's numpy term tables and postings."""

    def __init__(self, storage, segment):
        self._data = open_segment_data(storage, segment)
        self._schema_boosts: dict[str, float] = {}
        self._formats: dict[str, object] = {}
        self._lengths: dict[str, np.ndarray | None] = {}
        self._names = sorted(self._data.field_names)

    def _field(self, fieldname) -> FieldTerms | None:
        return self._data.field(fieldname) if fieldname in self._names else None

    def _lengths_of(self, fieldname) -> np.ndarray | None:
        if fieldname not in self._lengths:
            key = f"len.{fieldname}"
            self._lengths[fieldname] = self._data.column(key) if f"doc.{key}" in self._data.container else None
        return self._lengths[fieldname]

    def _boost(self, fieldname) -> float:
        return float(self._data.meta.get("boosts", {}).get(fieldname, 1.0))

    def _info(self, fieldname, i) -> W3TermInfo:
        return _term_info(self._field(fieldname), i, self._lengths_of(fieldname), self._boost(fieldname))

    def _find(self, fieldname, tbytes) -> int:
        terms = self._field(fieldname)
        return terms.find(tbytes) if terms is not None else -1

    def __contains__(self, term):
        fieldname, tbytes = term
        return self._find(fieldname, tbytes) >= 0

    def cursor(self, fieldname, fieldobj):
        return _Cursor(self, fieldname, fieldobj)

    def indexed_field_names(self):
        return list(self._names)

    def terms(self):
        for name in self._names:
            for tbytes in self._field(name).terms():
                yield name, tbytes

    def terms_from(self, fieldname, prefix):
        for name in self._names:
            if name < fieldname:
                continue
            terms = self._field(name)
            lo = bisect_left(terms._keys, prefix) if name == fieldname else 0
            for tbytes in terms.terms(lo):
                yield name, tbytes

    def items(self):
        for name, tbytes in self.terms():
            yield (name, tbytes), self._info(name, self._find(name, tbytes))

    def items_from(self, fieldname, prefix):
        for name, tbytes in self.terms_from(fieldname, prefix):
            yield (name, tbytes), self._info(name, self._find(name, tbytes))

    def term_info(self, fieldname, tbytes):
        i = self._find(fieldname, tbytes)
        if i < 0:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return self._info(fieldname, i)

    def frequency(self, fieldname, tbytes):
        i = self._find(fieldname, tbytes)
        if i < 0:
            raise KeyError((fieldname, tbytes))  # as W3's hash lookup does; readers turn it into 0
        return self._info(fieldname, i).weight()

    def doc_frequency(self, fieldname, tbytes):
        i = self._find(fieldname, tbytes)
        if i < 0:
            raise KeyError((fieldname, tbytes))
        return int(self._field(fieldname).df[i])

    def matcher(self, fieldname, tbytes, format_, scorer=None):
        i = self._find(fieldname, tbytes)
        if i < 0:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        terms = self._field(fieldname)
        ids, weights, values = whoosh_postings(terms, i, format_)
        return ListMatcher(ids, weights, values, format_, scorer=scorer, term=(fieldname, tbytes),
                           terminfo=self._info(fieldname, i))

    def close(self):
        self._data.close()


def whoosh_postings(terms: FieldTerms, i: int, format_) -> tuple[list, array, list]:
    """A term's postings as Whoosh's matchers hold them: ids, weights, encoded values."""
    docs = terms.docs(i)
    tfs = terms.tfs(i)
    weights = array("f", (tfs.astype(np.float64) * format_.field_boost).tolist())
    if terms.has_positions and format_.supports("positions"):
        positions = terms.positions(i, tfs).astype(np.int64)
        bounds = np.concatenate(([0], np.cumsum(tfs, dtype=np.int64))).tolist()
        values = [format_.encode(positions[a:b].tolist()) for a, b in zip(bounds, bounds[1:])]
    elif format_.fixed_value_size() == 0:
        values = [b""] * len(docs)
    else:
        from whoosh.system import pack_uint
        values = [pack_uint(int(f)) for f in tfs.tolist()]
    return docs.tolist(), weights, values


# ------------------------------------------------------------------------ TOC

def write_toc(directory: str | os.PathLike, schema, segments: list, generation: int) -> None:
    """Write the Whoosh TOC (schema + segments, deletions included) of a generation directory."""
    storage = FileStorage(str(directory))
    TOC(schema, segments, generation).write(storage, INDEX_NAME)


def read_toc(directory: str | os.PathLike):
    """(schema, segments, TOC generation) of the generation directory, as stock Whoosh reads it."""
    storage = FileStorage(str(directory), readonly=True)
    toc = TOC.read(storage, INDEX_NAME)
    return toc.schema, toc.segments, toc.generation


def self_check(directory: str | os.PathLike, segment, data: SegmentData) -> None:
    """Decode one posting list with numpy and through stock Whoosh; they must agree.

    Run when a generation is opened: a Whoosh whose internals moved would
    otherwise make search silently wrong.
    """
    if not isinstance(segment, NewsSegment):
        raise IndexUnreadable(f"the index in {directory} has a segment newsindex did not write "
                              f"({type(segment).__name__}); rebuild it with `newsindex reindex --full SOURCE`")
    field = next((f for f in ("body", "title", "id") if data.field(f) is not None and data.field(f).count), None)
    if field is None:
        return
    terms = data.field(field)
    i = terms.count // 2
    storage = FileStorage(str(directory), readonly=True)
    reader = NewsTermsReader(storage, segment)
    try:
        from .schema import build_schema
        fmt = build_schema()[field].format
        matcher = reader.matcher(field, terms.term(i), fmt)
        ids, freqs = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            freqs.append(fmt.decode_frequency(matcher.value()) if terms.has_positions else int(matcher.weight()))
            matcher.next()
    finally:
        reader.close()
    if ids != terms.docs(i).tolist() or freqs != terms.tfs(i).tolist():
        raise IndexUnreadable(f"the index in {directory} reads differently through Whoosh than through "
                              f"newsindex (term {terms.term(i)!r} of {field}); reinstall newsindex's pinned "
                              f"dependencies, or rebuild with `newsindex reindex --full SOURCE`")
