"""Scoring over memory-mapped segments with numpy: BM25F, exact phrases, term statistics.

A :class:`Corpus` is one opened generation: its segments' term tables and
postings (:mod:`indexer.segment`) and the generation's document columns
(:mod:`indexer.columns`), all memory-mapped. Reading a term's postings is a
binary search in each segment's term table plus a cumulative sum over its
16-bit deltas; nothing is decoded ahead and nothing per document is built in
the worker, so a worker starts in milliseconds and every worker on the
machine shares one copy of the index through the page cache.

Document numbers are global, as Whoosh numbers them: segment after segment
in TOC order.

Every article was analysed in its own language (the ``lang`` column); terms
are shared across languages, so a term's postings may hold articles of
several languages, and a search that analyses its query per language
restricts each analysis to its languages with :meth:`Corpus.language_mask`.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .analysis import rules, word_analyzer
from .columns import FIELD_WEIGHT, TEXT_FIELDS as SCORED_FIELDS, GenerationColumns
from .segment import FieldTerms, SegmentData, positions_of

TEXT_FIELDS = ("title", "body")  # what an unqualified word is searched in
K1 = 1.2
POSTINGS_CACHE_BYTES = 32 * 2**20  # recently decoded postings kept per generation
DOC_TERMS_CACHE = 1024
LANGUAGE_MASKS_CACHED = 16  # article masks of the languages (and sets of them) searched lately
_EMPTY_DOCS = np.zeros(0, dtype=np.int32)
_EMPTY_TFS = np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class Postings:
    docs: np.ndarray  # int32 global document numbers, ascending, live only
    tfs: np.ndarray  # float32 term frequencies, aligned with docs

    @property
    def nbytes(self) -> int:
        return self.docs.nbytes + self.tfs.nbytes + 200


EMPTY = Postings(_EMPTY_DOCS, _EMPTY_TFS)


def intersect_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values two ascending arrays share (binary search of the smaller in the larger:
    numpy's intersect1d sorts both, ~30x slower on the long lists of common words)."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a) or not len(b):
        return a[:0]
    idx = np.searchsorted(b, a)
    idx[idx == len(b)] = len(b) - 1
    return a[b[idx] == a]


def count_common(a: np.ndarray, b: np.ndarray) -> int:
    """How many values two ascending arrays share (the smaller searched in the larger)."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return 0
    idx = np.searchsorted(b, a)
    idx[idx == len(b)] = len(b) - 1
    return int(np.count_nonzero(b[idx] == a))


class Corpus:
    """One generation, opened for searching (see the module docstring)."""

    def __init__(self, directory: str | Path, segments: list, datas: list[SegmentData],
                 columns: GenerationColumns):
        self.directory = Path(directory)
        self.segments = segments
        self.datas = datas
        self.columns = columns
        self.bases = np.asarray(columns.bases[:len(datas)], dtype=np.int64)
        self.size = columns.size
        self.live = columns.live
        self.count = columns.count
        self.inv_norm = columns.inv_norm
        self.timestamps = columns.timestamps
        self.years = columns.years
        self.months = columns.months
        self.first_seen = columns.first_seen
        self.source_codes = columns.source_codes
        self.source_names = columns.source_names
        self.lang_codes = columns.lang_codes
        self.lang_names = columns.lang_names
        self.id_rank = columns.id_rank
        self._has_deletions = [s.deleted_count() > 0 for s in segments]
        self._cache: OrderedDict = OrderedDict()
        self._cache_bytes = 0
        self._memo: dict = {}
        self._doc_terms: OrderedDict = OrderedDict()
        self._language_masks: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    # -- terms and postings --------------------------------------------------------
    def _occurrences(self, field: str, term: str):
        """(segment number, its term table, term index) wherever ``term`` occurs in ``field``."""
        key = term.encode("utf-8", "surrogatepass")
        found = []
        for s, data in enumerate(self.datas):
            terms = data.field(field)
            if terms is None:
                continue
            i = terms.find(key)
            if i >= 0:
                found.append((s, terms, i))
        return found

    def postings(self, field: str, term: str) -> Postings:
        """All live postings of a term in a field: global documents and frequencies."""
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
        docs, tfs = [], []
        for s, terms, i in self._occurrences(field, term):
            d = terms.docs(i)
            f = terms.tfs(i)
            d = d + np.int32(self.bases[s])
            if self._has_deletions[s]:
                keep = self.live[d]
                d, f = d[keep], f[keep]
            docs.append(d)
            tfs.append(f)
        if not docs:
            return EMPTY
        if len(docs) == 1:
            return Postings(docs[0], tfs[0].astype(np.float32))
        return Postings(np.concatenate(docs), np.concatenate(tfs).astype(np.float32))

    def position_keys(self, field: str, term: str, wanted: np.ndarray) -> np.ndarray:
        """``docnum << 32 | position`` of every occurrence of ``term`` in the ``wanted`` documents."""
        parts = []
        for s, terms, i in self._occurrences(field, term):
            base = int(self.bases[s])
            lo, hi = np.searchsorted(wanted, [base, base + self.datas[s].doc_count])
            if lo == hi:
                continue
            local = (wanted[lo:hi] - base).astype(np.int32)
            docs = terms.docs(i)
            idx = np.searchsorted(docs, local)
            idx[idx == len(docs)] = len(docs) - 1
            hit = docs[idx] == local
            if not hit.any():
                continue
            tfs = terms.tfs(i)
            owner, positions = positions_of(tfs, terms.positions(i, tfs), idx[hit])
            global_docs = local[hit].astype(np.int64)[owner] + base
            parts.append((global_docs << 32) | positions)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def doc_frequency(self, term: str, mask: np.ndarray | None = None) -> int:
        """Documents with ``term`` in the headline or the body (only those in ``mask``, if given)."""
        title, body = self.postings("title", term), self.postings("body", term)
        if mask is not None:
            title_docs, body_docs = title.docs[mask[title.docs]], body.docs[mask[body.docs]]
            return len(title_docs) + len(body_docs) - count_common(title_docs, body_docs)
        return len(title.docs) + len(body.docs) - count_common(title.docs, body.docs)

    def term_languages(self, term: str) -> set[str]:
        """The languages of the articles with ``term`` in the headline or the body (one read of
        its postings, where a language mask each would compute and cache a mask per language)."""
        docs = np.concatenate([self.postings("title", term).docs, self.postings("body", term).docs])
        return {self.lang_names[code] for code in np.unique(self.lang_codes[docs]).tolist()}

    def raw_doc_frequency(self, field: str, term: str) -> int:
        """Documents with ``term`` in ``field`` by the term tables alone (deleted ones included)."""
        return sum(int(terms.df[i]) for _, terms, i in self._occurrences(field, term))

    def idf(self, term: str) -> float:
        df = self.doc_frequency(term)
        n = max(self.count, 1)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def term_scores(self, term: str, fields=TEXT_FIELDS, weight: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """BM25F of one term: (matching docs, their scores), fields combined before saturation.

        The documents come back in no particular order (callers scatter them).
        """
        parts = []
        for f in fields:
            p = self.postings(f, term)
            if len(p.docs):
                parts.append((p.docs, p.tfs * self.inv_norm[f][p.docs]))
        if not parts:
            return _EMPTY_DOCS, _EMPTY_TFS
        parts.sort(key=lambda part: -len(part[0]))
        docs, pseudo_tf = parts[0][0], parts[0][1]
        for other_docs, other_tf in parts[1:]:
            idx = np.searchsorted(docs, other_docs)
            idx[idx == len(docs)] = len(docs) - 1
            found = docs[idx] == other_docs
            pseudo_tf = pseudo_tf.copy()
            pseudo_tf[idx[found]] += other_tf[found]
            if not found.all():
                docs = np.concatenate((docs, other_docs[~found]))
                pseudo_tf = np.concatenate((pseudo_tf, other_tf[~found]))
        scale = np.float32(weight * self.idf(term) * (K1 + 1))
        return docs, (scale * pseudo_tf / (pseudo_tf + np.float32(K1))).astype(np.float32)

    def term_scores_among(self, term: str, docs: np.ndarray, fields=TEXT_FIELDS,
                          weight: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`term_scores` for the few documents ``docs`` (sorted): (indexes into ``docs``
        that hold the term, their scores). Each posting list is binary-searched for them,
        so a handful of articles cost a handful whatever the term's frequency."""
        pseudo_tf = np.zeros(len(docs), dtype=np.float32)
        for f in fields:
            p = self.postings(f, term)
            if not len(p.docs) or not len(docs):
                continue
            idx = np.searchsorted(p.docs, docs)
            idx[idx == len(p.docs)] = len(p.docs) - 1
            hit = np.flatnonzero(p.docs[idx] == docs)
            pseudo_tf[hit] += p.tfs[idx[hit]] * self.inv_norm[f][docs[hit]]
        found = np.flatnonzero(pseudo_tf)
        if not len(found):
            return found, _EMPTY_TFS
        tf = pseudo_tf[found]
        scale = np.float32(weight * self.idf(term) * (K1 + 1))
        return found, (scale * tf / (tf + np.float32(K1))).astype(np.float32)

    def prefix_terms(self, field: str, prefix: str, limit: int,
                     mask: np.ndarray | None = None) -> tuple[dict[str, int], int]:
        """The ``limit`` commonest terms of ``field`` starting with ``prefix`` (term -> document
        frequency), and how many terms start with it (the largest count in any segment).

        Only the commonest few of each segment's range are decoded, so ``co*`` over a
        million articles costs what ``cocoa*`` does. With ``mask`` (the articles of the
        languages searched) and more candidates than ``limit``, the commonest are counted
        among those articles only, so English words do not crowd out a German prefix.
        """
        key = prefix.encode("utf-8", "surrogatepass")
        candidates: set[str] = set()
        total = 0
        for data in self.datas:
            terms = data.field(field)
            if terms is None:
                continue
            lo, hi = terms.prefix_range(key)
            total = max(total, hi - lo)
            picks = range(lo, hi)
            if hi - lo > 4 * limit:
                picks = (lo + np.argpartition(-terms.df[lo:hi].astype(np.int64), 4 * limit)[:4 * limit]).tolist()
            candidates.update(terms.term(i).decode("utf-8", "surrogatepass") for i in picks)
        if mask is not None and len(candidates) > limit:
            frequencies = {term: int(np.count_nonzero(mask[self.postings(field, term).docs]))
                           for term in candidates}
            frequencies = {term: df for term, df in frequencies.items() if df}
        else:
            frequencies = {term: self.raw_doc_frequency(field, term) for term in candidates}
        best = sorted(frequencies, key=lambda t: (-frequencies[t], t))[:limit]
        return {term: frequencies[term] for term in best}, total

    # -- languages ------------------------------------------------------------------
    def languages(self) -> dict[str, int]:
        """Live articles per language code, commonest first."""
        def count(corpus: "Corpus") -> dict[str, int]:
            counts = np.bincount(corpus.lang_codes[corpus.live], minlength=len(corpus.lang_names))
            return dict(sorted(((name, int(n)) for name, n in zip(corpus.lang_names, counts.tolist()) if n),
                               key=lambda item: (-item[1], item[0])))
        return self.memo("languages", count)

    def language_of(self, docnum: int) -> str:
        return self.lang_names[int(self.lang_codes[docnum])] if self.lang_names else "en"

    def language_mask(self, langs) -> np.ndarray | None:
        """Articles in one of ``langs`` (codes), or None when that is every article's language."""
        wanted = frozenset(langs)
        if wanted >= set(self.languages()):
            return None
        return self._language_arrays(wanted)[0]

    def language_docs(self, langs) -> np.ndarray:
        """The document numbers (sorted, deleted ones included) of the articles in ``langs``."""
        return self._language_arrays(frozenset(langs))[1]

    def _language_arrays(self, wanted: frozenset) -> tuple[np.ndarray, np.ndarray]:
        codes = tuple(i for i, name in enumerate(self.lang_names) if name in wanted)
        with self._lock:
            found = self._language_masks.get(codes)
            if found is not None:
                self._language_masks.move_to_end(codes)
                return found
        mask = np.isin(self.lang_codes, codes)
        found = (mask, np.flatnonzero(mask))
        with self._lock:
            self._language_masks[codes] = found
            if len(self._language_masks) > LANGUAGE_MASKS_CACHED:
                self._language_masks.popitem(last=False)
        return found

    def field_terms(self, field: str) -> list[tuple[int, FieldTerms]]:
        """(segment number, term table) of every segment that indexes ``field``."""
        return [(s, d.field(field)) for s, d in enumerate(self.datas) if d.field(field) is not None]

    # -- documents --------------------------------------------------------------------
    def locate(self, docnum: int) -> tuple[int, int]:
        """(segment number, document number inside it)."""
        s = int(np.searchsorted(self.bases, docnum, side="right")) - 1
        return s, docnum - int(self.bases[s])

    def stored_fields(self, docnum: int) -> dict:
        s, local = self.locate(docnum)
        return self.datas[s].stored_fields(local)

    def article_id(self, docnum: int) -> str:
        s, local = self.locate(docnum)
        return self.datas[s].article_id(local)

    def article_ids(self) -> list[str]:
        """The ids of every live article, in document order."""
        return [self.article_id(d) for d in np.flatnonzero(self.live).tolist()]

    def document_number(self, article_id: str) -> int | None:
        """The live document holding ``article_id``, or None."""
        for s, terms, i in self._occurrences("id", article_id):
            for doc in (terms.docs(i) + int(self.bases[s])).tolist():
                if self.live[doc]:
                    return doc
        return None

    def memo(self, key: str, factory):
        """A value derived from this generation, computed once (e.g. the spelling index)."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        value = factory(self)
        with self._lock:
            return self._memo.setdefault(key, value)

    def doc_terms(self, docnum: int) -> dict[str, int]:
        """Term frequencies of one article (title and body) analysed in its language, for feedback
        and "more like this"; the stopwords other languages index (flagged) are left out."""
        with self._lock:
            hit = self._doc_terms.get(docnum)
            if hit is not None:
                self._doc_terms.move_to_end(docnum)
                return hit
        fields = self.stored_fields(docnum)
        text = (fields.get("title") or "") + "\n" + (fields.get("body") or "")
        lang = self.language_of(docnum)
        analyze_one = word_analyzer(lang)
        tf: dict[str, int] = {}
        for word in rules(lang).word_re.findall(text):
            for e in analyze_one(word).emissions:
                if not e.stopword:
                    tf[e.term] = tf.get(e.term, 0) + 1
        with self._lock:
            self._doc_terms[docnum] = tf
            if len(self._doc_terms) > DOC_TERMS_CACHE:
                self._doc_terms.popitem(last=False)
        return tf

    def release(self) -> None:
        """Forget the caches; the maps themselves close when the last array over them is gone
        (a request still running on this generation keeps what it reads valid)."""
        with self._lock:
            self._cache.clear()
            self._memo.clear()
            self._doc_terms.clear()
            self._language_masks.clear()


assert set(TEXT_FIELDS) <= set(SCORED_FIELDS) and set(FIELD_WEIGHT) == set(SCORED_FIELDS)
