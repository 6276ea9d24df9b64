"""Scoring over Whoosh's postings with numpy: BM25F, exact phrases, facets.

Whoosh stores the index; this module reads its postings block by block into
numpy arrays (cached per generation) and does the arithmetic there. Whoosh's
own matchers score one posting at a time in Python, which is where its
search time goes (Whoosh #469); over arrays a whole result set is scored,
counted and faceted in well under a millisecond on a news archive.

Everything here is per *generation*: a :class:`Corpus` is built once for an
opened generation (document lengths, live-document mask, source and date
columns) and thrown away with it.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.util.numeric import byte_to_length

from .analysis import term_positions
from .schema import published_values

TEXT_FIELDS = ("title", "body")
# BM25F parameters (Robertson & Zaragoza 2009). Common defaults, not tuned to
# any test collection: k1 as in Lucene/Anserini, the headline weighted double.
K1 = 1.2
FIELD_WEIGHT = {"title": 2.0, "body": 1.0}
FIELD_B = {"title": 0.5, "body": 0.75}
POSTINGS_CACHE_BYTES = 256 * 2**20  # decoded postings kept per generation
DOC_TERMS_CACHE = 4096
_LENGTH_TABLE = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)


@dataclass(frozen=True)
class Postings:
    docs: np.ndarray  # int32 document numbers, ascending, live only
    tfs: np.ndarray  # float32 term frequencies, aligned with docs
    keys: np.ndarray  # int64 docnum << 32 | position, for exact phrases

    @property
    def nbytes(self) -> int:
        return self.docs.nbytes + self.tfs.nbytes + self.keys.nbytes + 200


EMPTY = Postings(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64))


class Corpus:
    """Per-generation arrays and cached postings for one opened searcher."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.leaves = list(self.reader.leaf_readers())  # [(segment reader, docnum offset)]
        self.size = self.reader.doc_count_all()
        self.live = np.ones(self.size, dtype=bool)
        if self.reader.has_deletions():
            self.live[:] = False
            self.live[np.fromiter(self.reader.all_doc_ids(), dtype=np.int64)] = True
        self.count = int(self.live.sum())
        self.lengths = {f: self._field_lengths(f) for f in TEXT_FIELDS}
        self.avg_length = {f: max(float(self.lengths[f][self.live].mean()) if self.count else 1.0, 1.0)
                           for f in TEXT_FIELDS}
        self.norm = {f: (1 - FIELD_B[f]) + FIELD_B[f] * self.lengths[f] / self.avg_length[f]
                     for f in TEXT_FIELDS}
        self._load_columns()
        self._cache: OrderedDict = OrderedDict()
        self._cache_bytes = 0
        self._memo: dict = {}
        self._doc_terms: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    # -- per-document columns ---------------------------------------------------
    def _field_lengths(self, field: str) -> np.ndarray:
        out = np.zeros(self.size, dtype=np.float32)
        for leaf, offset in self.leaves:
            n = leaf.doc_count_all()
            try:  # fast path: the quantised length bytes of the whole segment at once
                column = leaf._perdoc._cached_reader("_%s_L" % field, None)
                raw = np.frombuffer(bytes(column[i] for i in range(n)), dtype=np.uint8) if column else None
            except (AttributeError, TypeError):
                raw = None
            if raw is not None:
                out[offset:offset + n] = _LENGTH_TABLE[raw]
            else:
                out[offset:offset + n] = [leaf.doc_field_length(i, field, 0) or 0 for i in range(n)]
        return out

    def _load_columns(self) -> None:
        sources = self.reader.column_reader("source") if self.reader.has_column("source") else None
        names: dict[str, int] = {}
        codes = np.zeros(self.size, dtype=np.int32)
        if sources is not None:
            for i in range(self.size):
                codes[i] = names.setdefault(sources[i], len(names))
        self.source_names = list(names)
        self.source_codes = codes
        dates = published_values(self.reader)
        self.dates = dates
        self.timestamps = np.array([d.timestamp() if d else np.nan for d in dates], dtype=np.float64)
        self.years = np.array([d.year if d else 0 for d in dates], dtype=np.int32)
        self.months = np.array([d.year * 100 + d.month if d else 0 for d in dates], dtype=np.int32)

    # -- postings -------------------------------------------------------------------
    def postings(self, field: str, term: str) -> Postings:
        """All live postings of a term in a field: documents, frequencies, position keys."""
        key = (field, term)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        result = self._read_postings(field, term)
        with self._lock:
            self._cache[key] = result
            self._cache_bytes += result.nbytes
            while self._cache_bytes > POSTINGS_CACHE_BYTES and len(self._cache) > 1:
                _, dropped = self._cache.popitem(last=False)
                self._cache_bytes -= dropped.nbytes
        return result

    def _read_postings(self, field: str, term: str) -> Postings:
        parts = [_leaf_postings(leaf.postings(field, term), offset)
                 for leaf, offset in self.leaves if (field, term) in leaf]
        if not parts:
            return EMPTY
        docs = np.concatenate([p[0] for p in parts])
        tfs = np.concatenate([p[1] for p in parts])
        keys = np.concatenate([p[2] for p in parts])
        if not self.live.all():
            keep = self.live[docs]
            docs, tfs = docs[keep], tfs[keep]
            keys = keys[self.live[keys >> 32]]
        return Postings(docs.astype(np.int32), tfs, keys)

    def position_keys(self, field: str, term: str, wanted: np.ndarray) -> np.ndarray:
        """``docnum << 32 | position`` of every occurrence of ``term`` in the ``wanted`` documents."""
        keys = self.postings(field, term).keys
        return keys[np.isin(keys >> 32, wanted)]

    def doc_frequency(self, term: str) -> int:
        """Documents with ``term`` in any text field."""
        title, body = self.postings("title", term), self.postings("body", term)
        if len(title.docs) == 0:
            return len(body.docs)
        return len(np.union1d(title.docs, body.docs))

    def idf(self, term: str) -> float:
        df = self.doc_frequency(term)
        n = max(self.count, 1)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def term_scores(self, term: str, fields=TEXT_FIELDS, weight: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """BM25F of one term: (matching docs, their scores) — fields combined before saturation."""
        parts = [(f, self.postings(f, term)) for f in fields]
        parts = [(f, p) for f, p in parts if len(p.docs)]
        if not parts:
            return EMPTY.docs, EMPTY.tfs
        if len(parts) == 1:
            f, p = parts[0]
            docs, pseudo_tf = p.docs, FIELD_WEIGHT[f] * p.tfs / self.norm[f][p.docs]
        else:
            docs = np.union1d(*(p.docs for _, p in parts))
            pseudo_tf = np.zeros(len(docs), dtype=np.float32)
            for f, p in parts:
                idx = np.searchsorted(docs, p.docs)
                pseudo_tf[idx] += FIELD_WEIGHT[f] * p.tfs / self.norm[f][p.docs]
        scores = weight * self.idf(term) * pseudo_tf * (K1 + 1) / (pseudo_tf + K1)
        return docs, scores.astype(np.float32)

    def memo(self, key: str, factory):
        """A value derived from this generation, computed once (e.g. the spelling vocabulary)."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        value = factory(self)
        with self._lock:
            return self._memo.setdefault(key, value)

    def doc_terms(self, docnum: int) -> dict[str, int]:
        """Term frequencies of one article (title and body), for feedback and "more like this"."""
        with self._lock:
            hit = self._doc_terms.get(docnum)
            if hit is not None:
                self._doc_terms.move_to_end(docnum)
                return hit
        fields = self.searcher.stored_fields(docnum)
        text = (fields.get("title") or "") + "\n" + (fields.get("body") or "")
        tf = {term: len(positions) for term, positions in term_positions(text).items()}
        with self._lock:
            self._doc_terms[docnum] = tf
            if len(self._doc_terms) > DOC_TERMS_CACHE:
                self._doc_terms.popitem(last=False)
        return tf


def _leaf_postings(matcher, offset: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(docnums, frequencies, position keys) of one segment's postings for a term.

    Reads W3LeafMatcher's blocks directly, each decoded once for all three
    (whoosh-reloaded is pinned exactly); other matchers use the public API.
    """
    ids: list = []
    values: list = []
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            if matcher._ids is None:
                matcher._read_ids()
            if matcher._values is None:
                matcher._read_values()
            ids.extend(matcher._ids)
            values.extend(matcher._values)
            matcher._next_block()
            if matcher._atend:
                break
    else:
        while matcher.is_active():
            ids.append(matcher.id())
            values.append(matcher.value())
            matcher.next()
    docs = np.array(ids, dtype=np.int64) + offset
    counts = np.fromiter((len(v) >> 2 for v in values), dtype=np.int64, count=len(values))
    positions = np.frombuffer(b"".join(values), dtype="<u4").astype(np.int64)
    keys = (np.repeat(docs, counts) << 32) | positions
    return docs, counts.astype(np.float32), keys
