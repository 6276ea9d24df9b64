"""What changed since the live generation: the planning half of a reindex.

Every article in the index carries, in its segment, its content hash, the
file it came from and when it was first indexed (:mod:`indexer.segment`), and
each generation's manifest records every source file's size and modification
time. So an incremental run:

* skips a file whose size and mtime are unchanged without reading it (its
  articles stay as they are): an unchanged rerun over a million articles only
  ``stat``\\ s the files;
* reads the other files and compares each article with the index by id:
  new ones are added; changed ones, and ones that moved to another file, are
  written again (the old version deleted); identical ones are left alone;
* deletes the articles whose file under the given sources vanished or no
  longer holds them, except for files that could not be read this time.

Because the bookkeeping lives in the segments, a lost or damaged manifest
costs one full read of the sources and nothing else: every article is then
compared with the index by hash, and nothing is rewritten or dropped.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .articles import Article, Problem, SourceFile
from .engine import Corpus
from .errors import DeletionsRefused
from .readers import read_source
from .store import Manifest
from .writer import Entry

LOOKUPS_BEFORE_TABLE = 20_000  # past this many id lookups, one table of every id is cheaper


@dataclass(frozen=True)
class Indexed:
    """One article as the live generation holds it."""

    docnum: int
    digest: str
    root: str
    path: str
    first_seen: float
    last_changed: float


class IndexedArticles:
    """The live generation's articles by id, read from its segments (nothing to load for a new index)."""

    def __init__(self, corpus: Corpus | None):
        self.corpus = corpus
        self._table: dict[str, int] | None = None
        self._lookups = 0
        self._files = [data.files for data in corpus.datas] if corpus else []

    def __len__(self) -> int:
        return self.corpus.count if self.corpus else 0

    def get(self, article_id: str) -> Indexed | None:
        if self.corpus is None:
            return None
        self._lookups += 1
        if self._table is None and self._lookups > LOOKUPS_BEFORE_TABLE:
            self._table = self._build_table()
        docnum = self._table.get(article_id) if self._table is not None \
            else self.corpus.document_number(article_id)
        return None if docnum is None else self.describe(docnum)

    def describe(self, docnum: int) -> Indexed:
        s, local = self.corpus.locate(docnum)
        data = self.corpus.datas[s]
        root, path = self._files[s][int(data.column("file")[local])]
        return Indexed(docnum, data.column("hash")[16 * local:16 * local + 16].tobytes().hex(), root, path,
                       float(data.column("first_seen")[local]), float(data.column("last_changed")[local]))

    def _build_table(self) -> dict[str, int]:
        table: dict[str, int] = {}
        for s, data in enumerate(self.corpus.datas):
            base = int(self.corpus.bases[s])
            ids = data.field("id")
            if ids is None:
                continue
            id_of_doc = data.column("id").tolist()
            live = self.corpus.live[base:base + data.doc_count]
            for local in np.flatnonzero(live).tolist():
                table[ids.term(id_of_doc[local]).decode("utf-8", "surrogatepass")] = base + local
        return table

    def file_keys(self) -> list[tuple[np.ndarray, list[tuple[str, str]]]]:
        """Per segment: the live global docnums and the (root, path) of each one's file code."""
        out = []
        for s, data in enumerate(self.corpus.datas if self.corpus else []):
            base = int(self.corpus.bases[s])
            out.append((base, data.column("file"), self.corpus.live[base:base + data.doc_count],
                        [tuple(f) for f in self._files[s]]))
        return out

    def count_by_file(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for _, codes, live, files in self.file_keys():
            per_code = np.bincount(codes[live], minlength=len(files))
            for key, n in zip(files, per_code.tolist()):
                if n:
                    counts[key] = counts.get(key, 0) + n
        return counts

    def article_id(self, docnum: int) -> str:
        return self.corpus.article_id(docnum)


@dataclass
class Plan:
    """The outcome of reading the sources: what was written, what stays, what goes."""

    written: int = 0  # articles handed to the writer
    replaced: list[int] = field(default_factory=list)  # docnums whose article was written again
    seen: set[str] = field(default_factory=set)  # ids read this run
    files: dict[tuple[str, str], tuple[int, int, list]] = field(default_factory=dict)  # -> size, mtime, problems
    unchanged_files: set[tuple[str, str]] = field(default_factory=set)
    failed_files: set[tuple[str, str]] = field(default_factory=set)  # (root, path) unreadable
    partly_read: set[tuple[str, str]] = field(default_factory=set)  # files with an entry of unknown id skipped
    holding: list[Problem] = field(default_factory=list)  # those entries: what to fix to let deletions through
    unread_ids: set[str] = field(default_factory=set)  # ids of entries skipped this run (their copies stay)
    problems: list[Problem] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def read_sources(roots: list[str], indexed: IndexedArticles, base: Manifest, full: bool,
                 progress, write: Callable[[Entry], None]) -> Plan:
    """Read what changed under ``roots`` and hand every article to write to ``write``."""
    plan = Plan()
    now = run_time(indexed)
    where_seen: dict[str, str] = {}
    counts = indexed.count_by_file() if (indexed.corpus is not None and not full) else {}
    stats: dict[tuple[str, str], bool] = {}
    progress.phase("reading", None)
    for root in roots:
        known = {} if full else base.files_under(root)

        def unchanged(rel: str, size: int, mtime_ns: int, known=known) -> bool:
            return known.get(rel, (None, None))[:2] == (size, mtime_ns)

        for item in read_source(root, unchanged):
            if isinstance(item, SourceFile):
                key = (root, item.path)
                if item.unchanged:
                    problems = known[item.path][2]
                    plan.files[key] = (item.size, item.mtime_ns, problems)
                    plan.unchanged_files.add(key)
                    plan.unchanged += counts.get(key, 0)
                    progress.advance(counts.get(key, 0))
                    for recorded in problems:  # reported again: bad input is never silent
                        _problem(plan, root, Problem(item.path, *recorded, replayed=True))
                else:
                    plan.files[key] = (item.size, item.mtime_ns, [])
                continue
            if isinstance(item, Problem):
                _problem(plan, root, item)
                if not (item.whole_file or item.warning or item.ignored):
                    if item.article_id is not None:
                        plan.unread_ids.add(item.article_id)
                    else:  # which article it was is unknown: none of the file's goes
                        plan.partly_read.add((root, item.path))
                        plan.holding.append(item)
                continue
            progress.advance()
            if item.id in where_seen:
                _problem(plan, root, Problem(item.path, f"duplicate id {item.id!r} (first seen at "
                                                        f"{where_seen[item.id]})", item.line))
                continue
            digest = item.content_hash()
            previous = indexed.get(item.id)
            moved = previous is not None and (previous.root, previous.path) != (root, item.path)
            if moved and not full and previous.root in roots and _still_holds(previous, base, stats):
                _problem(plan, root, Problem(item.path, f"duplicate id {item.id!r} (already indexed from "
                                                        f"{previous.path}, which is unchanged)",
                                             item.line))
                continue
            where_seen[item.id] = item.where
            plan.seen.add(item.id)
            first_seen = last_changed = now
            if previous is None:
                plan.added += 1
            else:
                first_seen = previous.first_seen  # kept by updates, moves and full rebuilds
                if previous.digest == digest:
                    last_changed = previous.last_changed
                if previous.digest == digest and not moved:
                    plan.unchanged += 1
                    if not full:
                        continue
                else:  # changed, or moved to another file: written again so the index knows its file
                    plan.updated += 1
                    if not full:
                        plan.replaced.append(previous.docnum)
            write(Entry(item, digest, root, first_seen, last_changed))
            plan.written += 1
    return plan


def run_time(indexed: IndexedArticles) -> float:
    """One "now" for the run, after every article already indexed (even if the clock stepped
    back), so a feed ordered by first_seen puts this run's new articles first; in microseconds,
    as the index keeps dates."""
    latest = 0.0
    if indexed.corpus is not None and indexed.corpus.size:
        seen = indexed.corpus.first_seen
        latest = float(np.nanmax(seen)) if not np.isnan(seen).all() else 0.0
    return round(max(time.time(), latest + 0.001), 6)


def _problem(plan: Plan, root: str, problem: Problem) -> None:
    plan.problems.append(problem)
    if problem.whole_file:
        plan.failed_files.add((root, problem.path))
    recorded = plan.files.get((root, problem.path))
    if recorded is not None and not problem.replayed:  # remembered with its file, for the runs that skip it
        recorded[2].append([problem.reason, problem.line, problem.whole_file, problem.warning, problem.ignored])


def _still_holds(previous: Indexed, base: Manifest, stats: dict) -> bool:
    """Is the file ``previous`` was indexed from still there, unchanged (so the id is taken)?

    Asked only for files under this run's sources: an id indexed from a source
    this run does not name moves to the file that has it now.
    """
    key = (previous.root, previous.path)
    if key not in stats:
        known = base.files_under(previous.root).get(previous.path)
        try:
            info = os.stat(os.path.join(previous.root, previous.path)) if os.path.isdir(previous.root) \
                else os.stat(previous.root)
            stats[key] = known is not None and known[:2] == (info.st_size, info.st_mtime_ns)
        except OSError:
            stats[key] = False
    return stats[key]


@dataclass
class Deletions:
    """What an incremental run deletes, and what it keeps because it could not read it."""

    gone: list[int] = field(default_factory=list)  # docnums
    per_root: dict[str, int] = field(default_factory=dict)  # articles each source loses
    kept_unreadable: int = 0  # not read again, kept: their file, or an entry of it, was unreadable


def deletions(indexed: IndexedArticles, roots: list[str], plan: Plan) -> Deletions:
    """The articles gone from the sources: under one of ``roots``, from a file that is not
    unchanged, and whose id was not read again.

    Kept instead: an article whose entry could not be read this time (a body that is not text,
    an empty body: its id is known); every article of a file that could not be read, or that
    has an entry whose id cannot be read (a line of bad JSON, a text file cut to its headline),
    since which article that was is not known. Losing nothing outweighs deleting at once what
    the file no longer holds: the run after the input is fixed deletes it then. A file's
    entries that are always skipped (an export's empty bodies) hold up nothing else.
    """
    wanted = set(roots)
    replaced = set(plan.replaced)
    result = Deletions()
    for base, codes, live, files in indexed.file_keys():
        check = np.array([f[0] in wanted and f not in plan.unchanged_files for f in files] or [False])
        unread = np.array([_unreadable(plan.failed_files, f[0], f[1]) or f in plan.partly_read
                           for f in files] or [False])
        candidates = np.flatnonzero(live & check[codes])
        for local in candidates.tolist():
            docnum = base + local
            if docnum in replaced:
                continue
            article_id = indexed.article_id(docnum)
            if article_id in plan.seen:
                continue
            if unread[codes[local]] or article_id in plan.unread_ids:
                result.kept_unreadable += 1
                continue
            result.gone.append(docnum)
            root = files[int(codes[local])][0]
            result.per_root[root] = result.per_root.get(root, 0) + 1
    return result


def _unreadable(failed: set[tuple[str, str]], root: str, path: str) -> bool:
    """Was ``path`` (or a directory above it) unreadable this run? Then keep its articles."""
    if (root, path) in failed or (root, ".") in failed:
        return True
    parts = path.split("/")
    return any((root, "/".join(parts[:i])) in failed for i in range(1, len(parts)))


def roots_emptied(indexed: IndexedArticles, left_out: list[str], removed: set[int]) -> set[str]:
    """Of ``left_out`` (sources the index holds that this run did not read), those none of whose
    articles stay: each one found again under a source read now (a folder that moved) or deleted.
    Such a source is no longer one the index holds, so no run should say it kept it."""
    if not left_out or indexed.corpus is None:
        return set()
    removed_docnums = np.fromiter(removed, dtype=np.int64, count=len(removed))
    remaining = dict.fromkeys(left_out, 0)
    for base, codes, live, files in indexed.file_keys():
        alive = live.copy()
        inside = removed_docnums[(removed_docnums >= base) & (removed_docnums < base + len(live))]
        alive[inside - base] = False
        for (root, _), n in zip(files, np.bincount(codes[alive], minlength=len(files)).tolist()):
            if root in remaining:
                remaining[root] += n
    return {root for root, n in remaining.items() if n == 0}


def articles_by_root(indexed: IndexedArticles) -> dict[str, int]:
    counts: dict[str, int] = {}
    for (root, _), n in indexed.count_by_file().items():
        counts[root] = counts.get(root, 0) + n
    return counts


def check_losses(indexed: IndexedArticles, roots: list[str], plan: Plan, full: bool,
                 lost: dict[str, int]) -> None:
    """Refuse (DeletionsRefused) a run that would drop a source's articles wholesale.

    A source losing all its articles, or more than half, is far more often an
    unmounted disk, an emptied folder or a mistyped path than an editor's
    decision; the user confirms the latter with ``--allow-deletes``. A ``--full``
    rebuild loses every article it does not read again, other sources' included.
    """
    if indexed.corpus is None:
        return
    held = articles_by_root(indexed)
    if full:
        lost = {}
        for base, codes, live, files in indexed.file_keys():
            for local in np.flatnonzero(live).tolist():
                if indexed.article_id(base + local) not in plan.seen:
                    root = files[int(codes[local])][0]
                    lost[root] = lost.get(root, 0) + 1
    losses = [(root, n, held.get(root, 0)) for root, n in sorted(lost.items())
              if n and (n == held.get(root, 0) or 2 * n > held.get(root, 0))]
    if not losses:
        return
    parts = []
    for root, n, had in losses:
        if root not in roots:
            parts.append(f"{root} is not among the sources of this --full rebuild, so its {had:,} "
                         f"article{'s' if had != 1 else ''} would be dropped")
        else:
            share = "all of them" if n == had else "more than half"
            parts.append(f"it would delete {n:,} of the {had:,} articles from {root} ({share}: is the "
                         f"folder empty, moved or not mounted?)")
    advice = "give every source" if any(root not in roots for root, _, _ in losses) else "check the source"
    raise DeletionsRefused(f"this reindex was stopped: {'; '.join(parts)}. Nothing was changed; "
                           f"{advice}, or if the articles are gone on purpose, run again with --allow-deletes")


__all__ = ["Article", "Indexed", "IndexedArticles", "Plan", "articles_by_root", "check_losses", "deletions",
           "read_sources"]
