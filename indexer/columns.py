"""Per-generation document columns: what every search needs per article, written once.

A generation's segments each know their own documents; search wants one
array over all of them (global document numbers, as Whoosh numbers them:
segment after segment in TOC order). Rather than have every web worker build
those arrays at start-up in its private memory, the reindex that publishes a
generation writes them into ``columns.news`` beside the TOC, and workers
memory-map it (shared through the page cache):

``live``            1 for documents not deleted
``inorm.<field>``   BM25F field weight / length normalisation, per text field
``timestamp``       published, UTC seconds (NaN: undated); ``year``, ``month`` (yyyymm)
``first_seen``      when newsindex first indexed the article
``source``          code into ``meta["sources"]``
``lang``            code into ``meta["languages"]`` (ISO 639-1 codes): the article's language
``id_rank``         rank of the article id among all ids: ties in ranking are broken by it,
                    so the same files give the same order however they were built

It is derived data: rebuilt from the segments whenever it is missing or stale.
"""
from __future__ import annotations

import heapq
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .codec import LENGTH_OF_BYTE
from .container import Container, ContainerError, write_container
from .segment import SegmentData

COLUMNS_FILE = "columns.news"
COLUMNS_VERSION = 2  # 2: lang
# BM25F parameters (Robertson & Zaragoza 2009). Common defaults, not tuned to any
# test collection: the headline weighted double, b as in Lucene/Anserini for text.
FIELD_WEIGHT = {"title": 2.0, "body": 1.0, "author": 1.0}
FIELD_B = {"title": 0.5, "body": 0.75, "author": 0.75}
TEXT_FIELDS = tuple(FIELD_WEIGHT)
_MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z: what datetime can hold


def _years_months(timestamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dated = ~np.isnan(timestamps)
    days = np.zeros(len(timestamps), dtype="datetime64[s]")
    days[dated] = timestamps[dated].astype("datetime64[s]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    return (np.where(dated, years, 0).astype("<i2"),
            np.where(dated, years * 100 + months, 0).astype("<i4"))


def build_columns(directory: str | os.PathLike, segments: list, datas: list[SegmentData]) -> Path:
    """Write ``columns.news`` for a generation whose TOC lists ``segments`` (with deletions)."""
    directory = Path(directory)
    sizes = [d.doc_count for d in datas]
    total = int(sum(sizes))
    live = np.ones(total, dtype=np.uint8)
    bases = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
    for seg, base in zip(segments, bases.tolist()):
        deleted = seg.deleted_array()
        if len(deleted):
            live[base + deleted] = 0
    alive = live.astype(bool)
    count = int(alive.sum())
    sections: dict[str, np.ndarray] = {"live": live}
    avg = {}
    for name in TEXT_FIELDS:
        lengths = np.concatenate([LENGTH_OF_BYTE[d.column(f"len.{name}")] if f"doc.len.{name}" in d.container
                                  else np.zeros(d.doc_count, dtype=np.float32) for d in datas]) \
            if datas else np.zeros(0, dtype=np.float32)
        avg[name] = max(float(lengths[alive].mean()) if count else 1.0, 1.0)
        norm = (1 - FIELD_B[name]) + FIELD_B[name] * lengths / avg[name]
        sections[f"inorm.{name}"] = (FIELD_WEIGHT[name] / norm).astype("<f4")
    timestamps = np.concatenate([d.column("published") for d in datas]) if datas else np.zeros(0)
    sections["timestamp"] = timestamps.astype("<f8")
    sections["year"], sections["month"] = _years_months(timestamps)
    sections["first_seen"] = (np.concatenate([d.column("first_seen") for d in datas]) if datas
                              else np.zeros(0)).astype("<f8")
    names: dict[str, int] = {}
    codes = []
    for d in datas:
        remap = np.array([names.setdefault(s, len(names)) for s in d.meta["sources"]] or [0], dtype=np.int64)
        codes.append(remap[d.column("source")])
    sections["source"] = (np.concatenate(codes) if codes else np.zeros(0)).astype("<u4")
    languages: dict[str, int] = {}
    lang_codes = []
    for d in datas:
        remap = np.array([languages.setdefault(lang, len(languages)) for lang in d.meta["languages"]] or [0],
                         dtype=np.int64)
        lang_codes.append(remap[d.column("lang")])
    sections["lang"] = (np.concatenate(lang_codes) if lang_codes else np.zeros(0)).astype("u1")
    sections["id_rank"] = _id_ranks(datas, bases, alive)
    meta = {"version": COLUMNS_VERSION, "segments": _signature(segments),
            "bases": bases.tolist(), "articles": count, "avg_length": avg, "sources": list(names),
            "languages": list(languages)}
    path = directory / COLUMNS_FILE
    write_container(path, sections, meta)
    return path


def _signature(segments: list) -> list:
    return [[s.segid, s.doc_count_all(), s.deleted_count()] for s in segments]


def _id_ranks(datas: list[SegmentData], bases: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Rank of each live document's article id (deleted documents rank last)."""
    ranks = np.full(len(alive), np.iinfo(np.uint32).max, dtype="<u4")

    def ids_of(data: SegmentData, base: int):
        terms = data.field("id")
        if terms is None:
            return
        for i in range(terms.count):  # already sorted within the segment
            for doc in terms.docs(i).tolist():
                if alive[base + doc]:
                    yield terms.term(i), base + doc

    merged = heapq.merge(*(ids_of(d, int(b)) for d, b in zip(datas, bases)))
    docs = np.fromiter((doc for _, doc in merged), dtype=np.int64)
    ranks[docs] = np.arange(len(docs), dtype=np.uint32)
    return ranks


class GenerationColumns:
    """``columns.news`` of one generation, memory-mapped."""

    def __init__(self, directory: str | os.PathLike):
        self.container = Container(Path(directory) / COLUMNS_FILE)
        c = self.container
        self.meta = c.meta
        self.live = c["live"].view(bool)
        self.size = len(self.live)
        self.count = int(self.meta["articles"])
        self.inv_norm = {name: c[f"inorm.{name}"] for name in TEXT_FIELDS}
        self.timestamps = c["timestamp"]
        self.years = c["year"]
        self.months = c["month"]
        self.first_seen = c["first_seen"]
        self.source_codes = c["source"]
        self.source_names: list[str] = list(self.meta["sources"])
        self.lang_codes = c["lang"]
        self.lang_names: list[str] = list(self.meta["languages"])
        self.id_rank = c["id_rank"]
        self.bases: list[int] = list(self.meta["bases"])
        self._check()

    def _check(self) -> None:
        """Every value within what the writer writes, checked once at open (a few vectorised passes:
        ~15 ms at a million articles): a file damaged before it was opened would otherwise give
        wrong answers, or allocations sized from garbage (a source code of 3 billion)."""
        n = self.size
        problems = []
        if any(len(a) != n for a in (self.timestamps, self.years, self.months, self.first_seen,
                                     self.source_codes, self.lang_codes, self.id_rank,
                                     *self.inv_norm.values())):
            problems.append("columns of different lengths")
        elif n:
            live = self.container["live"]
            if live.max() > 1 or int(np.count_nonzero(live)) != self.count:
                problems.append("the live flags do not add up")
            if self.source_codes.max() >= max(len(self.source_names), 1) or \
                    self.lang_codes.max() >= max(len(self.lang_names), 1):
                problems.append("a source or language code names none")
            ranks = self.id_rank[self.live]
            if len(ranks) and ranks.max() >= n:
                problems.append("an id rank is out of range")
            for name, times in (("timestamp", self.timestamps), ("first_seen", self.first_seen)):
                dated = times[~np.isnan(times)]
                if len(dated) and (dated.min() < -_MAX_SECONDS or dated.max() > _MAX_SECONDS):
                    problems.append(f"a {name} is out of range")
            if any(not np.isfinite(v).all() or (v < 0).any() for v in self.inv_norm.values()):
                problems.append("a length norm is not a number")
        if problems:
            self.container.close()
            raise ContainerError(f"{self.container.path} is damaged: {'; '.join(problems)}")

    def matches(self, segments: list) -> bool:
        """Were these columns written for exactly these segments and deletions?"""
        return self.meta.get("version") == COLUMNS_VERSION and self.meta.get("segments") == _signature(segments)

    def published(self, docnum: int) -> datetime | None:
        value = float(self.timestamps[docnum])
        return None if np.isnan(value) else datetime.fromtimestamp(value, tz=timezone.utc)

    def close(self) -> None:
        self.container.close()
