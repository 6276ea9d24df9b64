"""Writing segments: analysis of whole batches with numpy, then one segment file per batch run.

Whoosh's own writer adds postings one at a time in Python and pickles them
in 128-posting blocks; at a million articles that is most of an hour. Here a
batch of articles is tokenised with one regex pass per field, every surface
word is mapped to its cached analysis (``analyze_word``) through a dict, and
the rest (positions, term ids, inversion into sorted postings) is a handful of
numpy operations over the whole batch. The result is the same postings
Whoosh's writer would produce (``tests/test_codec.py`` compares them through
stock Whoosh), written as an :mod:`indexer.segment` file plus Whoosh's W3
columns, and described by a :class:`~indexer.codec.NewsSegment` for the TOC.

Languages: each article is analysed in its own language, the one its data
states (``Article.language``) or else the one :func:`~indexer.language.detect_language`
finds in its title and body (the configured default when unsure). A batch is
tokenised one language at a time, each with its own :class:`WordTable`; all
tables share one term numbering, so a term is one posting list whatever
language produced it (BM25 statistics are per analysed term) and search tells
the languages apart by the per-document ``doc.lang`` column.
"""
from __future__ import annotations

import math
import os
import random
from datetime import datetime, timezone
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh.filedb.filestore import FileStorage

from .analysis import rules, word_analyzer
from .articles import Article
from .memory import release_memory
from .codec import INDEX_NAME, LENGTHS_COLUMN, NewsCodec, NewsSegment, length_bytes
from .language import detect_language
from .schema import NewsText, to_document
from .segment import StoredWriter, files_section, invert_field, segment_filename, write_segment

BATCH_DOCS = 256  # articles analysed together (numpy call overhead vs. memory)


@dataclass(frozen=True)
class Entry:
    """One article on its way into a segment, with what ingest knows about it."""

    article: Article
    digest: str  # hex content hash
    root: str  # the source root it came from
    first_seen: float  # when newsindex first indexed this article id (UTC epoch seconds)
    last_changed: float  # when its indexed content last changed (UTC epoch seconds)
    language: str | None = None  # the language to analyse it in, when already settled; else detected


class TermIds:
    """Term bytes -> small ints, for one segment (all fields share the numbering)."""

    def __init__(self) -> None:
        self.ids: dict[bytes, int] = {}
        self.terms: list[bytes] = []

    def __call__(self, term: bytes) -> int:
        i = self.ids.get(term)
        if i is None:
            i = self.ids[term] = len(self.terms)
            self.terms.append(term)
        return i


class WordTable:
    """Surface words -> their analysis in one language as arrays, so a batch's tokens are built by numpy.

    For word id ``w``: ``width[w]`` positions, and emissions
    ``start[w] .. start[w] + count[w]`` of (term id, position offset).
    """

    def __init__(self, term_ids: TermIds, lang: str = "en"):
        self.term_ids = term_ids
        self.lang = lang
        self._analyze = word_analyzer(lang)
        self._findall = rules(lang).word_re.findall
        self.ids: dict[str, int] = {}
        self.width = array("i")
        self.start = array("q")
        self.count = array("i")
        self.emit_term = array("i")
        self.emit_offset = array("i")

    def add(self, word: str) -> int:
        wid = self.ids.get(word)
        if wid is not None:
            return wid
        analysis = self._analyze(word)
        wid = self.ids[word] = len(self.width)
        self.width.append(analysis.width)
        self.start.append(len(self.emit_term))
        self.count.append(len(analysis.emissions))
        for e in analysis.emissions:
            self.emit_term.append(self.term_ids(e.term.encode("utf-8", "surrogatepass")))
            self.emit_offset.append(e.offset)
        return wid

    def tokens(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(doc index, term id, position) of every token of ``texts``, and each text's length.

        The length is what Whoosh records for BM25: the number of terms emitted.
        """
        ids = self.ids
        findall = self._findall
        wids: list[int] = []
        counts = np.zeros(len(texts), dtype=np.int64)
        for i, text in enumerate(texts):
            words = findall(text) if text else ()
            try:
                found = [ids[w] for w in words]
            except KeyError:
                for w in words:
                    if w not in ids:
                        self.add(w)
                found = [ids[w] for w in words]
            wids.extend(found)
            counts[i] = len(found)
        if not wids:
            empty = np.zeros(0, dtype=np.int32)
            return empty, empty, empty, np.zeros(len(texts), dtype=np.int64)
        w = np.array(wids, dtype=np.int32)
        width = np.frombuffer(self.width, dtype=np.int32)[w]
        word_doc = np.repeat(np.arange(len(texts), dtype=np.int32), counts)
        ends = np.cumsum(width, dtype=np.int64)
        word_pos = ends - width
        first_word = np.cumsum(counts) - counts
        has_words = counts > 0
        doc_base = np.zeros(len(texts), dtype=np.int64)
        doc_base[has_words] = word_pos[first_word[has_words]]
        word_pos -= doc_base[word_doc]
        n_emit = np.frombuffer(self.count, dtype=np.int32)[w].astype(np.int64)
        total = int(n_emit.sum())
        token_word = np.repeat(np.arange(len(w)), n_emit)
        k = np.arange(total) - np.repeat(np.cumsum(n_emit) - n_emit, n_emit)
        e = np.frombuffer(self.start, dtype=np.int64)[w][token_word] + k
        terms = np.frombuffer(self.emit_term, dtype=np.int32)[e]
        positions = (word_pos[token_word] + np.frombuffer(self.emit_offset, dtype=np.int32)[e]).astype(np.int32)
        docs = word_doc[token_word]
        lengths = np.bincount(docs, minlength=len(texts)).astype(np.int64)
        return docs, terms, positions, lengths


class WordTables:
    """One :class:`WordTable` per analysis (language rules), all numbering terms alike."""

    def __init__(self) -> None:
        self.term_ids = TermIds()
        self._tables: dict[str, WordTable] = {}

    def __call__(self, lang: str) -> WordTable:
        table = self._tables.get(lang)
        if table is None:
            shared = rules(lang).lang  # Chinese, Japanese, Korean share English's rules and table
            table = self._tables.get(shared) or WordTable(self.term_ids, shared)
            self._tables[lang] = self._tables[shared] = table
        return table


def _tokens_by_language(words: WordTables, texts: list[str], langs: list[str]):
    """:meth:`WordTable.tokens` of a batch whose texts are in ``langs`` (one per text).

    One language (the usual batch) is one call; otherwise each language's texts
    are tokenised by their table and the tokens put back in document order.
    """
    distinct = dict.fromkeys(langs)
    if len(distinct) == 1:
        return words(langs[0]).tokens(texts)
    lengths = np.zeros(len(texts), dtype=np.int64)
    parts = []
    for lang in distinct:
        where = np.array([i for i, l in enumerate(langs) if l == lang], dtype=np.int32)
        docs, terms, positions, group_lengths = words(lang).tokens([texts[i] for i in where.tolist()])
        lengths[where] = group_lengths
        parts.append((where[docs], terms, positions))
    docs = np.concatenate([p[0] for p in parts])
    order = np.argsort(docs, kind="stable")  # each text's tokens stay in position order
    return (docs[order], np.concatenate([p[1] for p in parts])[order],
            np.concatenate([p[2] for p in parts])[order], lengths)


@dataclass
class _FieldStream:
    docs: list = field(default_factory=list)
    terms: list = field(default_factory=list)
    positions: list = field(default_factory=list)
    freqs: list = field(default_factory=list)
    lengths: list = field(default_factory=list)


class SegmentBuilder:
    """Collects articles for one segment and writes it (see the module docstring).

    ``words`` may be shared by the segments a process builds one after the
    other, so each surface word is analysed once per process and language; the
    terms of the other fields (ids, dates: unique per article) are numbered per
    segment. ``default_language`` is what an article whose language is neither
    stated nor detectable is analysed in (``NEWSINDEX_LANGUAGE``).
    """

    def __init__(self, schema, words: WordTables | None = None, default_language: str = "en"):
        self.schema = schema
        self.text_fields = [n for n, f in schema.items() if isinstance(f, NewsText)]
        self.other_fields = [n for n, f in schema.items() if f.indexed and not isinstance(f, NewsText)]
        self.scorable = [n for n, f in schema.items() if f.indexed and f.scorable]
        self.words = words or WordTables()
        self.default_language = default_language
        self.term_ids = TermIds()
        self.tokens = 0
        self.streams = {n: _FieldStream() for n in self.text_fields + self.other_fields}
        self.stored = StoredWriter()
        self.columns: dict[str, list] = {n: [] for n, f in schema.items() if f.column_type}
        self.doc_count = 0
        self.published: list[float] = []
        self.first_seen: list[float] = []
        self.last_changed: list[float] = []
        self.sources: dict[str, int] = {}
        self.source_codes: list[int] = []
        self.files: dict[tuple[str, str], int] = {}
        self.file_codes: list[int] = []
        self.languages: dict[str, int] = {}
        self.language_codes: list[int] = []
        self.digests = bytearray()
        self._pending: list[tuple[Entry, dict]] = []

    def __len__(self) -> int:
        return self.doc_count + len(self._pending)

    def add(self, entry: Entry) -> None:
        article = entry.article
        lang = entry.language or article.language or \
            detect_language(article.title, article.body, self.default_language)
        self._pending.append((entry, to_document(article, _utc(entry.first_seen), _utc(entry.last_changed),
                                                 lang)))
        if len(self._pending) >= BATCH_DOCS:
            self._flush()

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        base = self.doc_count
        langs = [doc["language"] for _, doc in batch]
        for name in self.text_fields:
            texts = [doc.get(name) or "" for _, doc in batch]
            docs, terms, positions, lengths = _tokens_by_language(self.words, texts, langs)
            stream = self.streams[name]
            stream.docs.append(docs + base)
            stream.terms.append(terms)
            stream.positions.append(positions)
            stream.lengths.append(lengths)
            self.tokens += len(terms)
        for name in self.other_fields:
            fieldobj = self.schema[name]
            stream = self.streams[name]
            docs, terms, freqs, lengths = [], [], [], []
            for i, (_, doc) in enumerate(batch):
                value = doc.get(name)
                length = 0
                if value is not None:
                    for tbytes, freq, _weight, _value in fieldobj.index(value):
                        docs.append(base + i)
                        terms.append(self.term_ids(tbytes))
                        freqs.append(freq)
                        length += freq
                lengths.append(length)
            stream.docs.append(np.array(docs, dtype=np.int32))
            stream.terms.append(np.array(terms, dtype=np.int32))
            stream.freqs.append(np.array(freqs, dtype=np.int64))
            stream.lengths.append(np.array(lengths, dtype=np.int64))
        for i, (entry, doc) in enumerate(batch):
            docnum = base + i
            # stored values and columns as Whoosh's add_document takes them ("_stored_<name>" wins)
            names = sorted(n for n in doc if not n.startswith("_") and doc[n] is not None)
            self.stored.add({n: doc.get(f"_stored_{n}", doc[n]) for n in names if self.schema[n].stored})
            for name, values in self.columns.items():
                if doc.get(name) is not None:
                    values.append((docnum, self.schema[name].to_column_value(doc.get(f"_stored_{name}", doc[name]))))
            article = entry.article
            self.published.append(article.published.timestamp() if article.published else math.nan)
            self.first_seen.append(entry.first_seen)
            self.last_changed.append(entry.last_changed)
            self.source_codes.append(self.sources.setdefault(article.source, len(self.sources)))
            self.file_codes.append(self.files.setdefault((entry.root, article.path), len(self.files)))
            self.language_codes.append(self.languages.setdefault(doc["language"], len(self.languages)))
            self.digests += bytes.fromhex(entry.digest)
        self.doc_count += len(batch)

    def write(self, directory: str | os.PathLike) -> NewsSegment:
        """Write the segment's files into ``directory``; returns its TOC entry."""
        self._flush()
        directory = Path(directory)
        segment = NewsSegment(NewsCodec(), INDEX_NAME, doccount=self.doc_count,
                              segid=_new_segid(), fieldlengths={})
        n = self.doc_count
        sections: dict[str, np.ndarray] = {}
        field_names = []
        for name, stream in self.streams.items():
            if not stream.terms or not sum(len(t) for t in stream.terms):
                continue
            field_names.append(name)
            # concatenated once, and the batches let go at once: a worker's peak is one field's tokens
            docs, stream.docs = np.concatenate(stream.docs), []
            terms, stream.terms = np.concatenate(stream.terms), []
            if stream.positions:
                positions, stream.positions = np.concatenate(stream.positions), []
                sections.update(invert_field(name, terms, docs, positions, self.words.term_ids.terms))
                del positions
            else:
                freqs, stream.freqs = np.concatenate(stream.freqs), []
                sections.update(invert_field(name, terms, docs, None, self.term_ids.terms, freqs=freqs))
            del docs, terms
        storage = FileStorage(str(directory))
        self._column_files: list[str] = []
        for name in self.scorable:
            lengths = np.concatenate(self.streams[name].lengths) if self.streams[name].lengths \
                else np.zeros(n, dtype=np.int64)
            segment._fieldlengths[name] = int(lengths.sum())
            if not segment._fieldlengths[name]:
                del segment._fieldlengths[name]
            quantised = length_bytes(lengths)
            sections[f"doc.len.{name}"] = quantised
            self._column_files.append(_write_whoosh_column(
                storage, segment, f"_{name}_len", LENGTHS_COLUMN,
                ((d, int(b)) for d, b in enumerate(quantised.tolist()) if b), n))
        for name, values in self.columns.items():
            self._column_files.append(_write_whoosh_column(storage, segment, name,
                                                           self.schema[name].column_type, values, n))
        id_terms = sections.get("id.df")
        sections["doc.id"] = _doc_term_index(sections, "id", n) if id_terms is not None \
            else np.zeros(n, dtype="<u4")
        sections["doc.published"] = np.array(self.published, dtype="<f8")
        sections["doc.first_seen"] = np.array(self.first_seen, dtype="<f8")
        sections["doc.last_changed"] = np.array(self.last_changed, dtype="<f8")
        sections["doc.source"] = np.array(self.source_codes, dtype="<u4")
        sections["doc.file"] = np.array(self.file_codes, dtype="<u4")
        sections["doc.lang"] = np.array(self.language_codes, dtype="u1")
        sections["doc.hash"] = np.frombuffer(bytes(self.digests), dtype=np.uint8)
        sections.update(self.stored.sections())
        meta = {"doc_count": n, "fields": field_names, "segid": segment.segid,
                "boosts": {name: float(self.schema[name].format.field_boost) for name in field_names},
                "sources": list(self.sources), "languages": list(self.languages)}
        sections["files.json"] = files_section([list(k) for k in self.files])
        write_segment(directory / segment_filename(INDEX_NAME, segment.segid), sections, meta)
        segment.files = sorted([segment.data_filename()] + self._column_files)
        return segment


def _doc_term_index(sections: dict, field_name: str, n: int) -> np.ndarray:
    """For each document, the index of its (single) term in ``field_name``'s table."""
    df = sections[f"{field_name}.df"].astype(np.int64)
    flags = sections[f"{field_name}.flags"]
    out = np.zeros(n, dtype="<u4")
    wide = (flags & 1).astype(bool)
    for cls, data in ((False, sections[f"{field_name}.docs16"]), (True, sections[f"{field_name}.docs32"])):
        terms = np.flatnonzero(wide == cls)
        counts = df[terms]
        if not len(terms):
            continue
        term_of = np.repeat(terms, counts)
        values = data.astype(np.int64)
        starts = np.cumsum(counts) - counts
        running = np.cumsum(values)
        before = np.where(starts > 0, running[np.maximum(starts - 1, 0)], 0)
        docs = running - np.repeat(before, counts)
        out[docs] = term_of
    return out


def _write_whoosh_column(storage, segment, name, column, values, doccount) -> str:
    """A W3 column file exactly as Whoosh's per-document writer makes it; returns its name."""
    filename = NewsCodec.column_filename(segment, name)
    f = storage.create_file(filename)
    writer = column.writer(f)
    for docnum, value in values:
        writer.add(docnum, value)
    writer.finish(doccount)
    f.close()
    return filename


def _utc(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc)


def _new_segid() -> str:
    return "".join(random.SystemRandom().choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(16))


SEGMENT_TOKENS = 16_000_000  # a segment is written once its analysed tokens reach this (~1 GB peak)


class SegmentSink:
    """Entries in, segment files out, in this process (small runs; each parallel worker)."""

    def __init__(self, directory: str | os.PathLike, schema, segment_tokens: int = SEGMENT_TOKENS,
                 default_language: str = "en"):
        self.directory = Path(directory)
        self.schema = schema
        self.segment_tokens = segment_tokens
        self.default_language = default_language
        self.words = WordTables()
        self.builder: SegmentBuilder | None = None
        self.segments: list[NewsSegment] = []
        self.added = 0

    def add(self, entry: Entry) -> None:
        if self.builder is None:
            self.builder = SegmentBuilder(self.schema, self.words, self.default_language)
        self.builder.add(entry)
        self.added += 1
        if self.builder.tokens >= self.segment_tokens:
            self._write()

    def _write(self) -> None:
        if self.builder is not None and len(self.builder):
            self.segments.append(self.builder.write(self.directory))
        self.builder = None
        release_memory()

    def finish(self) -> list[NewsSegment]:
        self._write()
        return self.segments

    def cancel(self) -> None:
        self.builder = None
