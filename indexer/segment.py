"""One segment's data on disk: term tables, postings, per-document columns, article text.

A segment is immutable once written (like Lucene's and Whoosh's): a reindex
adds new segments and marks deletions in the Whoosh TOC, and a merge writes a
new segment from old ones. Everything lives in one :mod:`container` file per
segment, ``MAIN_<segid>.news``, laid out so that search reads numpy arrays
straight from the memory map:

per indexed field ``f`` (terms sorted by their UTF-8 bytes, as Whoosh orders them)
    ``f.tblob`` / ``f.toff``  the terms, concatenated, and where each starts
    ``f.df``                  documents per term
    ``f.flags``               per term: DOCS32 | TF16 | POS32 (wider integers needed)
    ``f.doff`` ``f.foff`` ``f.poff``  where the term's postings start in the sections below
    ``f.docs16`` / ``f.docs32``  document numbers, delta-encoded per term (first = absolute)
    ``f.tf8`` / ``f.tf16``       term frequency per posting
    ``f.pos16`` / ``f.pos32``    positions of every occurrence, posting after posting
    ``f.tlen`` ``f.tsig``     for title/body: word length and letter counts (did-you-mean)

per document (``n`` = documents in the segment)
    ``doc.len.f``    Whoosh's length byte of each scorable field (BM25 norms)
    ``doc.published`` ``doc.first_seen``  UTC seconds (NaN: none)
    ``doc.source``   code into ``meta["sources"]``
    ``doc.lang``     code into ``meta["languages"]``: the ISO 639-1 code the article was analysed in
    ``doc.id``       index of the article id in the ``id`` field's term table
    ``doc.hash``     16-byte content digest, ``doc.file`` code into ``files.json`` (the
                     [root, path] of each source file, parsed only by reindexes)
                     (what an incremental reindex compares; the manifest is rebuilt from these)
    ``store.off`` ``store.data`` ``store.dict`` ``store.zoff`` ``store.zdicts``  each document's
                     stored fields, pickled and deflated with a dictionary sampled from the
                     segment (~2.3× smaller than the text; W3's plain per-document deflate
                     gets ~1.8×), and still one document per read
    ``store.crc``    zlib.crc32 of each document's compressed bytes, checked before they are
                     inflated (absent in segments written before it: read unchecked)

Deltas and frequencies fit 16 and 8 bits for nearly every term; the few that
do not are flagged per term and kept in the 32/16-bit sections.
"""
from __future__ import annotations

import bisect
import json
import pickle
import zlib
from pathlib import Path
from typing import Iterable

import numpy as np

from .container import Container, ContainerError, StreamedSection, write_container

DOCS32, TF16, POS32 = 1, 2, 4
ZLIB_LEVEL, ZLIB_WBITS, ZLIB_MEMLEVEL = 3, -15, 8
ZDICT_BYTES = 32 * 1024
# Each document's compressed stored fields carry a CRC32 (section ``store.crc``, zlib.crc32 of
# exactly the bytes ``store.off`` delimits), checked before they are inflated and unpickled: raw
# deflate has no checksum, and damaged bytes can inflate to a pickle that asks for gigabytes
# (review 5, H1). Segments written before the section existed read as before, unchecked, until
# ``reindex --full`` or ``optimize`` rewrites them. False only to simulate such segments in tests.
STORE_CRC = True
SPELL_FIELDS = ("title", "body")
_EMPTY32 = np.zeros(0, dtype=np.int32)
_DATE_FIELDS = ("published", "first_seen", "last_changed")  # the stored datetimes (indexer.schema)


def segment_filename(indexname: str, segid: str) -> str:
    return f"{indexname}_{segid}.news"


# ---------------------------------------------------------------------------- writing

def _exclusive_cumsum(values: np.ndarray) -> np.ndarray:
    out = np.zeros(len(values), dtype=np.int64)
    if len(values) > 1:
        np.cumsum(values[:-1], out=out[1:])
    return out


def _class_offsets(counts: np.ndarray, wide: np.ndarray) -> np.ndarray:
    """Where each term starts in its narrow or wide section (elements)."""
    narrow_off = _exclusive_cumsum(np.where(wide, 0, counts))
    wide_off = _exclusive_cumsum(np.where(wide, counts, 0))
    return np.where(wide, wide_off, narrow_off)


def _offset_dtype(values: np.ndarray) -> np.dtype:
    return np.dtype("<u4") if (len(values) == 0 or values.max() < 2**32) else np.dtype("<u8")


def letter_signature(word: str) -> int:
    """32 bits: sixteen 2-bit counts (0..3) of the word's letters, bucketed by code point.

    One edit changes these counts by at most 2 in total (a substitution removes
    one letter and adds one; bucketing and saturation only shrink differences),
    so a candidate correction whose counts differ by more than 2 × distance
    cannot be within that distance: most of the vocabulary is skipped without
    computing an edit distance.
    """
    counts = [0] * 16
    for ch in word:
        bucket = ord(ch) % 16
        counts[bucket] = min(counts[bucket] + 1, 3)
    value = 0
    for k, c in enumerate(counts):
        value |= c << (2 * k)
    return value


def signature_distance(signatures: np.ndarray, word_signature: int) -> np.ndarray:
    """Sum of absolute count differences between ``signatures`` and one word's (vectorised)."""
    total = np.zeros(len(signatures), dtype=np.int64)
    a = signatures.astype(np.int64)
    for k in range(16):
        total += np.abs(((a >> (2 * k)) & 3) - ((word_signature >> (2 * k)) & 3))
    return total


def spelling_arrays(terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(length, letter signature) of each alphabetic term; length 0 marks the others."""
    lengths = np.zeros(len(terms), dtype=np.uint8)
    signatures = np.zeros(len(terms), dtype=np.uint32)
    for i, term in enumerate(terms):
        if term.isalpha() and len(term) < 256:
            lengths[i] = len(term)
            signatures[i] = letter_signature(term)
    return lengths, signatures


def invert_field(field: str, term_ids: np.ndarray, docs: np.ndarray, positions: np.ndarray | None,
                 term_bytes: list[bytes], freqs: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The sections of one field from its token stream.

    ``term_ids``/``docs``/``positions`` are parallel, one entry per token, in
    document order and, within a document, position order (what analysis
    produces). For fields without positions, ``positions`` is None and each
    entry is a whole posting whose frequency is ``freqs`` (default 1).
    ``term_bytes[i]`` is term id ``i`` as UTF-8.
    """
    used = np.unique(term_ids)
    used_bytes = [term_bytes[i] for i in used.tolist()]
    order = sorted(range(len(used_bytes)), key=used_bytes.__getitem__)
    rank = np.empty(int(term_ids.max()) + 1 if len(term_ids) else 0, dtype=np.int32)
    rank[used[order]] = np.arange(len(order), dtype=np.int32)
    sorted_terms = [used_bytes[i] for i in order]

    # int32 throughout (a segment holds < 2**31 tokens): memory per token bounds a worker's peak
    ranks = rank[term_ids]
    by_term = np.argsort(ranks, kind="stable")
    r = ranks[by_term]
    del ranks
    d = docs[by_term].astype(np.int32, copy=False)
    n = len(r)
    new_posting = np.ones(n, dtype=bool)
    if n > 1:
        new_posting[1:] = (r[1:] != r[:-1]) | (d[1:] != d[:-1])
    pstart = np.flatnonzero(new_posting)
    del new_posting
    tf = np.diff(np.append(pstart, n)).astype(np.int32)
    if positions is None and freqs is not None:
        tf = np.add.reduceat(freqs[by_term].astype(np.int64), pstart).astype(np.int32) if n else tf
    prank, pdoc = r[pstart], d[pstart]
    del r, d
    new_term = np.ones(len(prank), dtype=bool)
    if len(prank) > 1:
        new_term[1:] = prank[1:] != prank[:-1]
    tstart = np.flatnonzero(new_term)
    df = np.diff(np.append(tstart, len(prank))).astype(np.int64)

    delta = pdoc.copy()
    if len(pdoc) > 1:
        delta[1:] -= pdoc[:-1]
    delta[tstart] = pdoc[tstart]
    term_of_posting = np.repeat(np.arange(len(df)), df)
    flags = np.zeros(len(df), dtype=np.uint8)
    if len(df):
        flags |= np.where(np.maximum.reduceat(delta, tstart) >= 2**16, DOCS32, 0).astype(np.uint8)
        flags |= np.where(np.maximum.reduceat(tf, tstart) >= 2**8, TF16, 0).astype(np.uint8)
    docs32 = (flags & DOCS32).astype(bool)
    tf16 = (flags & TF16).astype(bool)
    wide_docs, wide_tf = docs32[term_of_posting], tf16[term_of_posting]
    sections: dict[str, np.ndarray] = {
        f"{field}.df": df.astype("<u4"),
        f"{field}.docs16": delta[~wide_docs].astype("<u2"),
        f"{field}.docs32": delta[wide_docs].astype("<u4"),
        f"{field}.tf8": tf[~wide_tf].astype("u1"),
        f"{field}.tf16": tf[wide_tf].astype("<u2"),
    }
    doff = _class_offsets(df, docs32)
    foff = _class_offsets(df, tf16)
    sections[f"{field}.doff"] = doff.astype(_offset_dtype(doff))
    sections[f"{field}.foff"] = foff.astype(_offset_dtype(foff))
    if positions is not None:
        p = positions[by_term].astype(np.int32, copy=False)
        del by_term
        occurrences = np.add.reduceat(tf, tstart, dtype=np.int64) if len(df) else np.zeros(0, dtype=np.int64)
        if len(df):
            token_tstart = pstart[tstart]
            pos32 = np.maximum.reduceat(p, token_tstart) >= 2**16
            flags |= np.where(pos32, POS32, 0).astype(np.uint8)
        else:
            pos32 = np.zeros(0, dtype=bool)
        wide_pos = np.repeat(pos32, occurrences)
        sections[f"{field}.pos16"] = p[~wide_pos].astype("<u2")
        sections[f"{field}.pos32"] = p[wide_pos].astype("<u4")
        poff = _class_offsets(occurrences, pos32)
        sections[f"{field}.poff"] = poff.astype(_offset_dtype(poff))
    sections[f"{field}.flags"] = flags
    lengths = np.fromiter((len(t) for t in sorted_terms), dtype=np.int64, count=len(sorted_terms))
    toff = np.zeros(len(sorted_terms) + 1, dtype=np.int64)
    np.cumsum(lengths, out=toff[1:])
    sections[f"{field}.toff"] = toff.astype(_offset_dtype(toff))
    sections[f"{field}.tblob"] = np.frombuffer(b"".join(sorted_terms), dtype=np.uint8)
    if field in SPELL_FIELDS:
        tlen, tsig = spelling_arrays([t.decode("utf-8", "surrogatepass") for t in sorted_terms])
        sections[f"{field}.tlen"] = tlen
        sections[f"{field}.tsig"] = tsig.astype("<u4")
    return sections


class StoredWriter:
    """Stored fields of one segment: pickled, deflated against a dictionary from its first articles.

    Each document names its dictionary (``store.dict``), so a merge copies
    compressed documents from several segments as they are, never recompressing.
    """

    def __init__(self, sample_docs: int = 64):
        self._sample_docs = sample_docs
        self._pending: list[bytes] = []
        self._base = None
        self._zdict = b""
        self._chunks: list[bytes] = []
        self._lengths: list[int] = []
        self._crcs: list[int] = []

    def add(self, stored: dict) -> None:
        raw = pickle.dumps(stored, protocol=pickle.HIGHEST_PROTOCOL)
        if self._base is None:
            self._pending.append(raw)
            if len(self._pending) >= self._sample_docs:
                self._start()
            return
        self._compress(raw)

    def _start(self) -> None:
        self._zdict = b"".join(self._pending)[-ZDICT_BYTES:]
        self._base = zlib.compressobj(ZLIB_LEVEL, zlib.DEFLATED, ZLIB_WBITS, ZLIB_MEMLEVEL,
                                      zlib.Z_DEFAULT_STRATEGY, self._zdict)
        pending, self._pending = self._pending, []
        for raw in pending:
            self._compress(raw)

    def _compress(self, raw: bytes) -> None:
        co = self._base.copy()
        data = co.compress(raw) + co.flush()
        self._chunks.append(data)
        self._lengths.append(len(data))
        self._crcs.append(zlib.crc32(data))

    def sections(self) -> dict[str, np.ndarray]:
        if self._base is None:
            self._start()
        return stored_sections(self._lengths, self._chunks, np.zeros(len(self._lengths), dtype="<u2"),
                               [self._zdict], self._crcs)


def stored_sections(lengths, chunks, dict_ids: np.ndarray, zdicts: list[bytes],
                    crcs=None) -> dict[str, np.ndarray]:
    """The ``store.*`` sections. ``chunks``: each document's compressed bytes, or all of them as
    one array, or a StreamedSection (a merge copies them from its inputs into the new file).
    ``crcs``: zlib.crc32 of each document's compressed bytes (``store.crc``; left out when None or
    when :data:`STORE_CRC` is off)."""
    off = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.asarray(lengths, dtype=np.int64), out=off[1:])
    zoff = np.zeros(len(zdicts) + 1, dtype=np.int64)
    np.cumsum([len(z) for z in zdicts], out=zoff[1:])
    sections = {"store.off": off.astype("<u8"),
                "store.data": chunks if isinstance(chunks, (np.ndarray, StreamedSection))
                else np.frombuffer(b"".join(chunks), np.uint8),
                "store.dict": dict_ids.astype("<u2"),
                "store.zoff": zoff.astype("<u8"),
                "store.zdicts": np.frombuffer(b"".join(zdicts), dtype=np.uint8)}
    if crcs is not None and STORE_CRC:
        crcs = np.asarray(crcs, dtype=np.int64)
        if len(crcs) != len(lengths):
            raise ValueError(f"{len(crcs):,} stored-field checksums for {len(lengths):,} documents")
        sections["store.crc"] = crcs.astype("<u4")
    return sections


def files_section(files: list) -> np.ndarray:
    """The segment's source files as a JSON section (see ``SegmentData.files``)."""
    return np.frombuffer(json.dumps(files, ensure_ascii=True).encode("ascii"), dtype=np.uint8)


def write_segment(path: str | Path, sections: dict[str, np.ndarray], meta: dict) -> int:
    return write_container(path, sections, meta)


# ---------------------------------------------------------------------------- reading

class _TermKeys:
    """The sorted term table as a sequence of bytes, for :mod:`bisect`."""

    __slots__ = ("_blob", "_offs", "_n")

    def __init__(self, blob: memoryview, offs: memoryview):
        self._blob, self._offs, self._n = blob, offs, len(offs) - 1

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: int) -> bytes:
        return bytes(self._blob[self._offs[i]:self._offs[i + 1]])


def _as_memoryview(array: np.ndarray) -> memoryview:
    """A memoryview whose items index as Python ints (faster than numpy scalars)."""
    return memoryview(np.ascontiguousarray(array)).cast("B").cast(array.dtype.char) \
        if array.dtype.char in "BHILQ" else memoryview(array.tobytes())


class FieldTerms:
    """One field's term table and postings inside a segment file."""

    def __init__(self, data: Container, field: str, doc_count: int):
        self.field = field
        self.path = data.path
        self.doc_count = doc_count  # documents in the segment: what a decoded posting may name
        c = data
        self.df = c[f"{field}.df"]
        self.count = len(self.df)
        self.flags = c[f"{field}.flags"]
        self._blob = memoryview(c[f"{field}.tblob"])
        self._offs_np = c[f"{field}.toff"]
        self._offs = _as_memoryview(self._offs_np)
        self._keys = _TermKeys(self._blob, self._offs)
        self._doff, self._foff = c[f"{field}.doff"], c[f"{field}.foff"]
        self._docs = (c[f"{field}.docs16"], c[f"{field}.docs32"])
        self._tfs = (c[f"{field}.tf8"], c[f"{field}.tf16"])
        self.has_positions = f"{field}.poff" in c
        if self.has_positions:
            self._poff = c[f"{field}.poff"]
            self._pos = (c[f"{field}.pos16"], c[f"{field}.pos32"])
        self.tlen = c.get(f"{field}.tlen")
        self.tsig = c.get(f"{field}.tsig")

    # -- the dictionary --------------------------------------------------------------
    def term(self, i: int) -> bytes:
        return self._keys[i]

    def find(self, term: bytes) -> int:
        """The term's index, or -1."""
        i = bisect.bisect_left(self._keys, term)
        return i if i < self.count and self._keys[i] == term else -1

    def prefix_range(self, prefix: bytes) -> tuple[int, int]:
        lo = bisect.bisect_left(self._keys, prefix)
        hi = bisect.bisect_left(self._keys, prefix + b"\xff", lo)
        return lo, hi

    def terms(self, lo: int = 0, hi: int | None = None) -> Iterable[bytes]:
        keys = self._keys
        return (keys[i] for i in range(lo, self.count if hi is None else hi))

    # -- postings --------------------------------------------------------------------
    # Postings carry no checksum: decoding one is a slice and a cumsum, and hashing it would cost
    # more. Instead each decode checks, in O(1), that its slice lies inside the section and that
    # the documents it yields exist; what damage gets past that is found by Container.damage()
    # when a read fails (see indexer.live.raise_if_damaged).
    def docs(self, i: int) -> np.ndarray:
        """Segment-local document numbers of term ``i`` (int32, ascending)."""
        n = int(self.df[i])
        start = int(self._doff[i])
        deltas = self._docs[1 if self.flags[i] & DOCS32 else 0][start:start + n]
        if len(deltas) != n or start < 0:
            self._damaged(i, "documents")
        docs = np.cumsum(deltas, dtype=np.int32)
        if n and (docs[0] < 0 or docs[-1] >= self.doc_count):
            self._damaged(i, "document numbers")
        return docs

    def tfs(self, i: int) -> np.ndarray:
        n = int(self.df[i])
        start = int(self._foff[i])
        tfs = self._tfs[1 if self.flags[i] & TF16 else 0][start:start + n]
        if len(tfs) != n or start < 0:
            self._damaged(i, "frequencies")
        return tfs

    def _damaged(self, i: int, what: str):
        raise ContainerError(f"{self.path.name} is damaged: the {what} of term {i} of field "
                             f"{self.field!r} lie outside the file's sections")

    def range_postings(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """Every posting of terms ``lo..hi`` at once (for merges), in term then document order:
        (term index, document, frequency) per posting and the positions, posting after posting."""
        df = self.df[lo:hi].astype(np.int64)
        flags = self.flags[lo:hi]
        deltas = _gather(self._docs, (flags & DOCS32) > 0, self._doff[lo:hi].astype(np.int64), df)
        ends = np.cumsum(df)
        running = np.cumsum(deltas)
        before = np.where(ends - df > 0, running[np.maximum(ends - df - 1, 0)] if len(running) else 0, 0)
        docs = running - np.repeat(before, df)
        tfs = _gather(self._tfs, (flags & TF16) > 0, self._foff[lo:hi].astype(np.int64), df)
        terms = np.repeat(np.arange(lo, hi, dtype=np.int64), df)
        positions = None
        if self.has_positions:
            occurrences = np.add.reduceat(tfs, ends - df) if len(df) and len(tfs) else np.zeros(len(df), np.int64)
            occurrences = np.where(df > 0, occurrences, 0)
            positions = _gather(self._pos, (flags & POS32) > 0, self._poff[lo:hi].astype(np.int64), occurrences)
        return terms, docs, tfs, positions

    def positions(self, i: int, tfs: np.ndarray | None = None) -> np.ndarray:
        """Every position of term ``i``, posting after posting (lengths = ``tfs``)."""
        tfs = self.tfs(i) if tfs is None else tfs
        start, n = int(self._poff[i]), int(tfs.sum(dtype=np.int64))
        positions = self._pos[1 if self.flags[i] & POS32 else 0][start:start + n]
        if len(positions) != n or start < 0:
            self._damaged(i, "positions")
        return positions


class StoredReader:
    """Reads one document's stored fields: a slice of the map, inflated with its dictionary."""

    def __init__(self, container: Container):
        self.path = container.path
        self.off = container["store.off"]
        self.data = memoryview(container["store.data"])
        self.dict_ids = container["store.dict"]
        zoff, blob = container["store.zoff"].tolist(), container["store.zdicts"]
        self.zdicts = [blob[a:b].tobytes() for a, b in zip(zoff, zoff[1:])]
        # None in segments written before store.crc existed: they are read unchecked
        self.crc = container.get("store.crc")
        self._crc = None if self.crc is None else _as_memoryview(self.crc)

    def raw(self, docnum: int) -> tuple[bytes, int]:
        """The compressed bytes of one document and its dictionary number (for merges)."""
        return bytes(self.data[int(self.off[docnum]):int(self.off[docnum + 1])]), int(self.dict_ids[docnum])

    def crc_ok(self, docnum: int) -> bool | None:
        """Whether document ``docnum``'s compressed bytes match their ``store.crc`` (None: the
        segment has no checksums). A checksum outside the section counts as a mismatch."""
        if self._crc is None:
            return None
        start, end = int(self.off[docnum]), int(self.off[docnum + 1])
        return 0 <= docnum < len(self._crc) and zlib.crc32(self.data[start:end]) == self._crc[docnum]

    def get(self, docnum: int) -> dict:
        """One document's stored fields. Our writer only stores dicts of str, numbers and valid
        datetimes, so anything that fails to decode into one (zlib, pickle, UTF-8, a datetime whose
        fields are out of range: pickle does not check them) is damage, raised as ContainerError.
        When the segment has ``store.crc`` the compressed bytes are checked first (~1 µs for a
        few KB), so damaged bytes never reach the inflater or the unpickler."""
        try:
            crc_ok = self.crc_ok(docnum)
        except Exception as exc:  # noqa: BLE001 - offsets outside the map
            raise ContainerError(f"{self.path.name} is damaged: the stored fields of document {docnum} "
                                 f"lie outside the file ({type(exc).__name__}: {exc})") from None
        if crc_ok is False:
            raise ContainerError(f"{self.path.name} is damaged: the stored fields of document {docnum} "
                                 f"do not match their checksum")
        try:
            start, end = int(self.off[docnum]), int(self.off[docnum + 1])
            inflater = zlib.decompressobj(ZLIB_WBITS, zdict=self.zdicts[int(self.dict_ids[docnum])])
            fields = pickle.loads(inflater.decompress(self.data[start:end]) + inflater.flush())
            for key in _DATE_FIELDS:  # a TypeError too if it is not a dict of datetimes there
                value = fields.get(key)
                if value is not None:
                    value.replace()  # checks every field, as the constructor does (~0.2 µs)
        except Exception as exc:  # noqa: BLE001 - every way bytes fail to decode
            raise ContainerError(f"{self.path.name} is damaged: the stored fields of document {docnum} "
                                 f"do not decode ({type(exc).__name__}: {exc})") from None
        return fields


class SegmentData:
    """A segment file opened read-only (memory-mapped)."""

    def __init__(self, path: str | Path):
        self.container = Container(path)
        self.meta = self.container.meta
        self.doc_count = int(self.meta["doc_count"])
        self._fields: dict[str, FieldTerms | None] = {}
        self._files: list | None = None
        self.stored = StoredReader(self.container)

    def field(self, name: str) -> FieldTerms | None:
        try:
            return self._fields[name]
        except KeyError:
            pass
        terms = FieldTerms(self.container, name, self.doc_count) if f"{name}.df" in self.container else None
        self._fields[name] = terms
        return terms

    @property
    def field_names(self) -> list[str]:
        return list(self.meta["fields"])

    def column(self, name: str) -> np.ndarray:
        return self.container[f"doc.{name}"]

    @property
    def files(self) -> list[list[str]]:
        """[root, path] of each source file (``doc.file`` codes); read when a reindex asks, so an
        archive of a million small files costs workers nothing at start-up."""
        if self._files is None:
            self._files = json.loads(self.container["files.json"].tobytes()) if "files.json" in self.container \
                else []
        return self._files

    def stored_fields(self, docnum: int) -> dict:
        return self.stored.get(docnum)

    def article_id(self, docnum: int) -> str:
        return self.field("id").term(int(self.container["doc.id"][docnum])).decode("utf-8", "surrogatepass")

    def check(self, deep: bool = False) -> None:
        """Raise ContainerError if the segment's tables do not hang together: what damage (bit rot,
        a bad disk, bytes overwritten) leaves that opening the file does not notice. Run by the
        commands that read a whole generation (reindex, optimize, rollback, generations), never on
        the search path. The default costs O(terms + documents) in numpy: every offset table is
        recomputed from the counts and compared, every per-document code checked against what it
        indexes, the id postings decoded (one per document) and matched with ``doc.id``, the id
        terms decoded. ``deep`` also decodes every posting list of every field, in slices (for an
        error seen while merging: is it damage, or a bug?)."""
        try:
            self._check(deep)
        except ContainerError:
            raise
        except Exception as exc:  # noqa: BLE001 - numpy on arrays of the wrong shape or values
            raise ContainerError(f"{self.container.path.name} is damaged ({type(exc).__name__}: {exc})") from None

    def _check(self, deep: bool) -> None:
        name, n = self.container.path.name, self.doc_count

        def bad(what: str):
            raise ContainerError(f"{name} is damaged: {what}")

        for fname in self.field_names:
            terms = self.field(fname)
            if terms is None:
                continue
            count, df, flags = terms.count, terms.df.astype(np.int64), terms.flags
            toff = terms._offs_np.astype(np.int64)
            if len(flags) != count or len(toff) != count + 1 or len(terms._doff) != count \
                    or len(terms._foff) != count:
                bad(f"the term tables of field {fname!r} differ in length")
            if count and (toff[0] != 0 or toff[-1] != len(terms._blob) or np.any(np.diff(toff) < 0)):
                bad(f"the term offsets of field {fname!r} are out of order")
            if np.any(df > n):
                bad(f"a term of field {fname!r} is in more documents than the segment holds")
            for offsets, wide_flag, sections, what in ((terms._doff, DOCS32, terms._docs, "documents"),
                                                       (terms._foff, TF16, terms._tfs, "frequencies")):
                wide = (flags & wide_flag) > 0
                if not np.array_equal(offsets.astype(np.int64), _class_offsets(df, wide)) or \
                        int(df[~wide].sum()) != len(sections[0]) or int(df[wide].sum()) != len(sections[1]):
                    bad(f"the {what} table of field {fname!r} does not match its counts")
            if terms.has_positions and len(terms._poff) != count:
                bad(f"the positions table of field {fname!r} differs in length")
            if deep:
                self._check_postings(terms, bad)
        ids = self.field("id")
        doc_id = self.container["doc.id"]
        if len(doc_id) != n:
            bad("the id column has the wrong length")
        if ids is not None:
            if n and int(doc_id.max()) >= ids.count:
                bad("an article's id points outside the id terms")
            bytes(ids._blob).decode("utf-8", "surrogatepass")
            terms_of, docs, _, _ = ids.range_postings(0, ids.count)
            if len(docs) and (docs.min() < 0 or docs.max() >= n):
                bad("the id postings name documents the segment does not hold")
            if not np.array_equal(doc_id.astype(np.int64)[docs], terms_of):
                bad("the id postings and the id column disagree")
        files = self.files
        if not isinstance(files, list) or not all(isinstance(f, list) and len(f) == 2 for f in files):
            bad("its list of source files is damaged")
        codes = self.container.get("doc.file")
        if codes is not None and (len(codes) != n or (n and int(codes.max()) >= max(len(files), 1))):
            bad("an article's file code points outside its list of source files")
        hashes = self.container.get("doc.hash")
        if hashes is not None and len(hashes) != 16 * n:
            bad("the hash column has the wrong length")
        for column in ("doc.first_seen", "doc.last_changed", "doc.published"):
            if column in self.container and len(self.container[column]) != n:
                bad(f"the {column} column has the wrong length")
        off, stored = self.stored.off.astype(np.int64), self.stored
        if len(off) != n + 1 or (n and (off[0] != 0 or off[-1] != len(stored.data) or np.any(np.diff(off) < 0))):
            bad("the offsets of the stored articles are out of order")
        if len(stored.dict_ids) != n or (n and int(stored.dict_ids.max()) >= len(stored.zdicts)):
            bad("an article's compression dictionary does not exist")
        # Only the checksum table's length: verifying every crc would read all the article text
        # (~1.2 GB, ~1 s at a million articles) in a check meant to cost O(terms + documents);
        # each article's crc is verified when it is read instead, and a merge carries the crcs.
        if stored.crc is not None and len(stored.crc) != n:
            bad("the checksums of the stored articles have the wrong length")

    @staticmethod
    def _check_postings(terms: FieldTerms, bad, step: int = 65536) -> None:
        df = terms.df.astype(np.int64)
        for lo in range(0, terms.count, step):
            hi = min(lo + step, terms.count)
            if not df[lo:hi].sum():
                continue
            t, docs, tfs, positions = terms.range_postings(lo, hi)
            if len(docs) and (docs.min() < 0 or docs.max() >= terms.doc_count):
                bad(f"a posting of field {terms.field!r} names a document the segment does not hold")
            starts = np.cumsum(df[lo:hi]) - df[lo:hi]
            step_up = np.diff(docs) > 0
            if len(step_up):
                step_up[starts[(starts > 0) & (starts < len(docs))] - 1] = True
                if not step_up.all():
                    bad(f"the postings of field {terms.field!r} are out of order")
            if len(tfs) and tfs.min() < 1:
                bad(f"a posting of field {terms.field!r} has no occurrences")

    def close(self) -> None:
        self._fields.clear()
        self.container.close()


def _gather(sections: tuple[np.ndarray, np.ndarray], wide: np.ndarray, offsets: np.ndarray,
            counts: np.ndarray) -> np.ndarray:
    """Concatenate per-term blocks (``counts[i]`` values at ``offsets[i]`` of the narrow or wide
    section) in term order, as int64."""
    out = np.empty(int(counts.sum()), dtype=np.int64)
    dest = np.cumsum(counts) - counts
    for cls in (False, True):
        sel = np.flatnonzero(wide == cls)
        if not len(sel):
            continue
        c = counts[sel]
        total = int(c.sum())
        if not total:
            continue
        within = np.arange(total) - np.repeat(np.cumsum(c) - c, c)
        out[np.repeat(dest[sel], c) + within] = sections[int(cls)][np.repeat(offsets[sel], c) + within]
    return out


def positions_of(postings_tfs: np.ndarray, positions: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the postings at indexes ``wanted``: (posting index per position, position).

    ``positions`` holds every posting's positions back to back (``postings_tfs``
    long each); only the wanted postings' ranges are gathered.
    """
    if len(wanted) == 0:
        return _EMPTY32, _EMPTY32
    tfs = postings_tfs.astype(np.int64)
    starts = np.cumsum(tfs) - tfs
    counts = tfs[wanted]
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(wanted)), counts)
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    gathered = positions[np.repeat(starts[wanted], counts) + within]
    return owner, gathered.astype(np.int64)
