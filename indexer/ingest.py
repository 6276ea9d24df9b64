"""Reindexing: read sources, work out what changed, write a new generation, switch.

An incremental run (see :mod:`indexer.changes`) skips unchanged files,
compares the other articles with the index by content hash, writes new and
changed ones into new segments, and marks deleted ones in the old segments,
which it shares with the live generation by hard links and never rewrites.
Nothing changed means nothing is written at all. ``full=True`` rebuilds from
scratch beside the live index. Either way readers keep serving the old
generation until the new one is complete (see :mod:`indexer.store`).

A run that would delete more than half of a source's articles (an unmounted
disk, an emptied folder) stops before writing anything unless
``allow_deletes`` is given; so does a forced full rebuild that would drop
sources the index holds but this run does not name.
"""
from __future__ import annotations

import os
import shutil
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Protocol

from whoosh.filedb.filestore import FileStorage

from .articles import Problem
from .changes import IndexedArticles, Plan, articles_by_root, deletions, read_sources
from .codec import read_toc, write_toc
from .columns import build_columns
from .merge import merge_segments, plan_merges
from .errors import (BadSetting, IndexUnreadable, IndexVersionMismatch, IndexWriteFailed, NewsindexError,
                     SourceNotFound, WouldDropArticles)
from .language import default_language
from .parallel import ParallelSegmentSink
from .schema import build_schema, versions
from .segment import SegmentData
from .store import IndexStore, LiveIndex, Manifest, describe_os_error
from .writer import SEGMENT_TOKENS, Entry, SegmentSink

PARALLEL_THRESHOLD = 2000  # below this, starting worker processes costs more than it saves


class Progress(Protocol):
    """How ingest reports progress; the CLI draws bars or prints lines."""

    def phase(self, name: str, total: int | None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def note(self, message: str) -> None: ...
    def close(self) -> None: ...


class SilentProgress:
    def phase(self, name: str, total: int | None) -> None: pass
    def advance(self, n: int = 1) -> None: pass
    def note(self, message: str) -> None: pass
    def close(self) -> None: pass


@dataclass
class ReindexSummary:
    mode: str  # "full", "incremental" or "unchanged" (nothing written)
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: int = 0
    warnings: int = 0
    written: int = 0
    articles: int = 0  # in the index afterwards
    seconds: float = 0.0
    generation: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Articles read per second over the whole run."""
        seen = self.added + self.updated + self.unchanged
        return seen / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.skipped else 0

    def as_dict(self) -> dict:
        return {"mode": self.mode, "added": self.added, "updated": self.updated,
                "deleted": self.deleted, "unchanged": self.unchanged, "skipped": self.skipped,
                "warnings": self.warnings, "written": self.written, "articles": self.articles,
                "seconds": round(self.seconds, 3), "articles_per_second": round(self.rate, 1),
                "generation": self.generation}


def resolve_sources(sources: Iterable[str | os.PathLike]) -> list[str]:
    roots = []
    for source in sources:
        path = Path(source).expanduser()
        if not path.exists():
            raise SourceNotFound(f"source {source} does not exist; give a file or a directory of articles")
        root = str(path.resolve())
        if root not in roots:
            roots.append(root)
    if not roots:
        raise SourceNotFound("no source given; name a file or directory of articles to index")
    return roots


def reindex(index_dir: str | os.PathLike, sources: Iterable[str | os.PathLike], *,
            full: bool = False, workers: int = 1, wait: bool = False, allow_deletes: bool = False,
            progress: Progress | None = None, command: str = "",
            segment_tokens: int = SEGMENT_TOKENS) -> ReindexSummary:
    """Bring the index at ``index_dir`` up to date with ``sources``.

    ``segment_tokens`` bounds each new segment (and so each worker's memory).
    """
    started = time.perf_counter()
    progress = progress or SilentProgress()
    roots = resolve_sources(sources)
    default = _default_language()
    store = IndexStore(index_dir)
    with store.lock(wait=wait, command=command,
                    on_wait=lambda who: progress.note(f"waiting for the running reindex ({who})")) as leftover:
        if leftover:
            progress.note(f"a previous reindex (pid {leftover.get('pid', '?')}) did not finish; "
                          f"cleaning up after it")
        try:
            live = store.current_name()
        except IndexUnreadable as exc:  # a damaged pointer: rebuild rather than refuse forever
            progress.note(f"{exc}: rebuilding in full")
            store.pointer.unlink()
            live = None
        removed = store.remove_stale(keep=live)
        if removed and not leftover:
            progress.note(f"removed {len(removed)} unfinished generation(s) left by an interrupted reindex")
        base, indexed, full, manifest_ok = _load_base(store, live, full, roots, allow_deletes, progress, default)
        run = _GenerationRun(store, live, full, base, workers, progress, segment_tokens, default)
        try:
            plan = read_sources(roots, indexed, base, full, progress, run.add)
            gone, lost = ([], {}) if full else deletions(indexed, roots, plan)
            if not allow_deletes:
                _refuse_mass_deletion(indexed, lost)
            summary = ReindexSummary(mode="full" if full else "incremental", added=plan.added,
                                     updated=plan.updated, unchanged=plan.unchanged,
                                     deleted=len(gone) if not full else len(indexed) - plan.updated - plan.unchanged,
                                     problems=plan.problems)
            summary.skipped = sum(1 for p in plan.problems if not p.warning)
            summary.warnings = len(plan.problems) - summary.skipped
            if not full and not plan.written and not gone and manifest_ok:
                run.discard()
                summary.mode = "unchanged"
                summary.generation = live
                summary.articles = len(indexed)
            else:
                summary.articles = run.commit(plan, gone, summary, started, roots)
        except BaseException:
            run.discard()
            raise
    summary.seconds = time.perf_counter() - started
    progress.close()
    return summary


def optimize(index_dir: str | os.PathLike, *, wait: bool = False, progress: Progress | None = None,
             command: str = "") -> ReindexSummary:
    """Merge every segment of the live generation into one (dropping deleted articles).

    A new generation like any reindex: searches keep answering from the old
    one until the switch. Worth it after many incremental runs; nothing to do
    when the index is a single segment without deletions.
    """
    started = time.perf_counter()
    progress = progress or SilentProgress()
    store = IndexStore(index_dir)
    with store.lock(wait=wait, command=command,
                    on_wait=lambda who: progress.note(f"waiting for the running reindex ({who})")):
        generation = LiveIndex(store.root).current()
        live, segments = generation.name, generation.segments
        summary = ReindexSummary(mode="optimize", unchanged=generation.corpus.count, generation=live,
                                 articles=generation.corpus.count)
        store.remove_stale(keep=live)
        if len(segments) <= 1 and not any(seg.deleted_count() for seg in segments):
            summary.mode = "unchanged"
        else:
            run = _GenerationRun(store, live, False, store.read_manifest(live), 1, progress,
                                 default_language=generation.meta.get("default_language") or "en")
            try:
                gen = run._directory()
                _, segments, _ = read_toc(store.root / live)
                merged = merge_segments(gen, run.schema, segments, progress)
                for segment in segments:
                    for name in segment.files:
                        (gen / name).unlink(missing_ok=True)
                summary.deleted = sum(seg.deleted_count() for seg in segments)
                summary.articles = run.publish([merged], summary, started, store.read_manifest(live),
                                               generation.meta.get("sources") or [])
            except BaseException:
                run.discard()
                raise
    summary.seconds = time.perf_counter() - started
    progress.close()
    return summary


MASS_DELETION_SHARE = 0.5


def _refuse_mass_deletion(indexed: IndexedArticles, lost: dict[str, int]) -> None:
    """Stop when a source would lose more than half of its articles (or all): it vanished, probably."""
    if not lost:
        return
    held = articles_by_root(indexed)
    for root, n in sorted(lost.items()):
        if n == held.get(root, 0) or n > MASS_DELETION_SHARE * held.get(root, 0):
            raise WouldDropArticles(
                f"this reindex would delete {n:,} of the {held.get(root, 0):,} articles from {root} "
                f"(is the folder empty or unmounted?); nothing was changed. If they are really gone, "
                f"run it again with --allow-deletes")


def _default_language() -> str:
    """``NEWSINDEX_LANGUAGE``, checked before anything is read or written."""
    try:
        return default_language()
    except ValueError as exc:
        raise BadSetting(f"{exc}; nothing was changed") from None


class _DefaultLanguageChanged(Exception):
    pass


def _load_base(store: IndexStore, live: str | None, full: bool, roots: list[str], allow_deletes: bool,
               progress: Progress, default: str = "en") -> tuple[Manifest, IndexedArticles, bool, bool]:
    """The live generation's manifest and articles, whether to rebuild in full (an unusable or
    outdated index, or one whose undetectable articles were given another default language),
    and whether the manifest was sound (if not, the run writes a new one)."""
    if live is None:
        return Manifest(), IndexedArticles(None), True, True
    try:
        meta = store.read_meta(live)
        store.check_versions(meta)
        if meta.get("default_language", default) != default:
            raise _DefaultLanguageChanged(meta["default_language"])
        indexed = IndexedArticles(LiveIndex(store.root).current().corpus)
    except (IndexVersionMismatch, IndexUnreadable, _DefaultLanguageChanged) as exc:
        if isinstance(exc, _DefaultLanguageChanged):
            # which articles fell back to the default is not recorded: all are analysed again
            reason = (f"was built with NEWSINDEX_LANGUAGE={exc.args[0]} (now {default}: the language "
                      f"of articles too short to detect)")
        elif isinstance(exc, IndexVersionMismatch):
            reason = "was built by another version of newsindex"
        else:
            reason = f"cannot be read ({exc})"
        dropped = [s for s in _previous_sources(store, live) if s not in roots]
        if dropped and not allow_deletes:
            raise WouldDropArticles(
                f"the index {reason} and must be rebuilt in full, which would drop the articles of "
                f"{', '.join(dropped)}; run `newsindex reindex --full` naming every source to keep "
                f"(or add --allow-deletes)") from None
        progress.note(f"the index {reason}; rebuilding it in full")
        return Manifest(), IndexedArticles(None), True, True
    try:
        manifest = store.read_manifest(live)
    except IndexUnreadable as exc:
        progress.note(f"{exc}: every source file is read once more and compared with the index")
        return Manifest(), indexed, full, False
    return manifest, indexed, full, manifest.sound


def _previous_sources(store: IndexStore, live: str) -> list[str]:
    try:
        return list(store.read_meta(live).get("sources") or [])
    except IndexUnreadable:
        return []


class _GenerationRun:
    """The generation a reindex writes: created on the first article, published or discarded.

    Articles stream into a segment sink as they are read, so a full build of a
    million articles never holds them all in memory; a run with few articles
    writes in this process, a large one in ``workers`` processes.
    """

    def __init__(self, store: IndexStore, live: str | None, full: bool, base: Manifest,
                 workers: int, progress: Progress, segment_tokens: int = SEGMENT_TOKENS,
                 default_language: str = "en"):
        self.store, self.live, self.full, self.base = store, live, full, base
        self.workers, self.progress, self.segment_tokens = workers, progress, segment_tokens
        self.default_language = default_language
        self.schema = build_schema()
        self.gen: Path | None = None
        self.sink = None
        self._buffer: list[Entry] = []
        self._phase = False

    def _directory(self) -> Path:
        if self.gen is None:
            self.gen = self.store.new_generation(base=None if self.full else self.live)
        return self.gen

    def add(self, entry: Entry) -> None:
        if not self._phase:
            self.progress.phase("indexing", None)
            self._phase = True
        self.progress.advance()
        if self.sink is None:
            self._buffer.append(entry)
            if self.workers > 1 and len(self._buffer) >= PARALLEL_THRESHOLD:
                self._start_workers()
            return
        self.sink.add(entry)

    def _start_workers(self) -> None:
        self._start(ParallelSegmentSink(self._directory(), self.schema, self.workers,
                                        self.segment_tokens, self.default_language))

    def _start(self, sink) -> None:
        self.sink = sink
        buffered, self._buffer = self._buffer, []
        for entry in buffered:
            sink.add(entry)

    def _finish_segments(self) -> list:
        if self.sink is None:
            if not self._buffer:
                return []
            if self.workers > 1 and len(self._buffer) >= PARALLEL_THRESHOLD:
                self._start_workers()
            else:
                self._start(SegmentSink(self._directory(), self.schema, self.segment_tokens,
                                        self.default_language))
        sink, self.sink = self.sink, None
        return sink.finish()

    def commit(self, plan: Plan, gone: list[int], summary: ReindexSummary, started: float,
               roots: list[str]) -> int:
        """Write the TOC, columns and manifest, check, and switch; returns the article count."""
        store = self.store
        try:
            new_segments = self._finish_segments()
            gen = self._directory()
            old_segments = [] if self.full else self._old_segments(gen, sorted(set(gone) | set(plan.replaced)))
            segments = old_segments + new_segments
            if not self.full:
                segments = self._merge_small(gen, segments)
            summary.written = plan.written
            manifest = self._manifest(plan, roots)
            sources = roots if self.full else sorted(set(roots) | set(manifest.roots))
            return self.publish(segments, summary, started, manifest, sources)
        except OSError as exc:
            switched = self.gen is not None and store.current_name() == self.gen.name
            raise IndexWriteFailed(describe_os_error(exc, f"writing the new index in {store.root}")
                                   + ("; the new index is live anyway" if switched
                                      else "; the live index is untouched")) from None

    def publish(self, segments: list, summary: ReindexSummary, started: float, manifest: Manifest,
                sources: list[str]) -> int:
        """TOC, columns, manifest and meta for ``segments``; check; switch. Returns the article count."""
        store, gen = self.store, self._directory()
        try:
            self.progress.phase("committing", None)
            write_toc(gen, self.schema, segments, _next_toc_generation(store, self.live, self.full))
            datas = [SegmentData(gen / seg.data_filename()) for seg in segments]
            build_columns(gen, segments, datas)
            articles = sum(seg.doc_count() for seg in segments)
            _check_count(gen, articles)
            summary.generation = gen.name
            summary.articles = articles
            summary.seconds = time.perf_counter() - started
            meta = {**versions(), "generation": gen.name, "articles": articles, "segments": len(segments),
                    "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "sources": sources, "default_language": self.default_language,
                    "last_reindex": summary.as_dict()}
            self.progress.note("switching to the new index")
            store.publish(gen, meta, manifest)
            return articles
        except OSError as exc:
            switched = self.gen is not None and store.current_name() == self.gen.name
            raise IndexWriteFailed(describe_os_error(exc, f"writing the new index in {store.root}")
                                   + ("; the new index is live anyway" if switched
                                      else "; the live index is untouched")) from None

    def _manifest(self, plan: Plan, roots: list[str]) -> Manifest:
        """The files of the new generation: those read or skipped now, and other sources' as they were."""
        files = {} if self.full else {root: dict(paths) for root, paths in self.base.files.items()
                                      if root not in roots}
        for (root, path), stamp in plan.files.items():
            files.setdefault(root, {})[path] = stamp
        return Manifest(files)

    def _merge_small(self, gen: Path, segments: list) -> list:
        """Apply the tiered merge policy (small segments only; see :mod:`indexer.merge`)."""
        for group in plan_merges(segments):
            self.progress.note(f"merging {len(group)} small segments")
            merged = merge_segments(gen, self.schema, [segments[i] for i in group])
            for i in group:
                for name in segments[i].files:
                    (gen / name).unlink(missing_ok=True)
            segments = [seg for i, seg in enumerate(segments) if i not in set(group)] + [merged]
        return segments

    def _old_segments(self, gen: Path, remove: list[int]) -> list:
        """The live generation's segments, with the documents ``remove`` marked deleted."""
        _, segments, _ = read_toc(gen.parent / self.live)
        bases = [0]
        for segment in segments:
            bases.append(bases[-1] + segment.doc_count_all())
        for docnum in remove:
            s = bisect_right(bases, docnum) - 1
            segments[s].delete_document(docnum - bases[s])
        return segments

    def discard(self) -> None:
        """Stop the workers and delete the unpublished generation."""
        if self.sink is not None:
            self.sink.cancel()
            self.sink = None
        if self.gen is not None and self.store.current_name() != self.gen.name:
            shutil.rmtree(self.gen, ignore_errors=True)


def _next_toc_generation(store: IndexStore, live: str | None, full: bool) -> int:
    """Whoosh's TOC generation number: one more than the live one's (1 for a new index)."""
    if full or live is None:
        return 1
    storage = FileStorage(str(store.root / live), readonly=True)
    from whoosh.index import TOC
    return max(TOC._latest_generation(storage, "MAIN"), 0) + 1


def _check_count(gen: Path, expected: int) -> None:
    """The sanity check before switching: stock Whoosh opens the new generation and counts."""
    try:
        ix = FileStorage(str(gen), readonly=True).open_index()
        with ix.reader() as reader:
            count = reader.doc_count()
    except NewsindexError:
        raise
    except Exception as exc:
        raise IndexWriteFailed(f"the new index did not open after writing ({exc}); "
                               f"the live index is untouched") from None
    if count != expected:
        raise IndexWriteFailed(f"the new index holds {count} articles, expected {expected}; "
                               f"the live index is untouched")
