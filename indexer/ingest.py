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

import json
import os
import shutil
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Protocol

from whoosh.filedb.filestore import FileStorage
from whoosh.index import EmptyIndexError

from .articles import Problem
from .changes import (Deletions, IndexedArticles, Plan, check_losses, deletions, read_sources,
                      roots_emptied)
from .codec import read_toc, write_toc
from .columns import build_columns
from .config import SettingError, Settings
from .container import ContainerError
from .errors import (DeletionsRefused, IndexUnreadable, IndexVersionMismatch, IndexWriteFailed,
                     NewsindexError, SourceNotFound, UsageError)
from .generations import newest_usable, repair_pointer
from .language import default_language
from .live import _DECODE_ERRORS, LiveIndex
from .merge import merge_segments, plan_merges
from .parallel import ParallelSegmentSink
from .schema import build_schema, versions
from .segment import SegmentData
from .store import META_FILE, IndexStore, Manifest, damaged, describe_os_error
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
    ignored: int = 0  # files that are not articles (images, PDFs, archives)
    written: int = 0
    articles: int = 0  # in the index afterwards
    seconds: float = 0.0
    generation: str | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the run repaired or decided on its own
    kept_sources: list[str] = field(default_factory=list)  # in the index, not given this run: left as they were
    kept_unreadable: int = 0  # not read again but kept: their file, or an entry of it, could not be read
    kept_because: list[str] = field(default_factory=list)  # file:line of entries whose id could not be read
    first_build: bool = False  # the index did not exist before this run

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
                "warnings": self.warnings, "ignored": self.ignored, "written": self.written,
                "articles": self.articles, "seconds": round(self.seconds, 3),
                "articles_per_second": round(self.rate, 1) if self.written else None,  # none read
                "generation": self.generation,
                "notes": self.notes, "kept_sources": self.kept_sources,
                "kept_unreadable": self.kept_unreadable, "kept_because": self.kept_because}


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
    for inner in roots:
        outer = next((r for r in roots if r != inner and Path(inner).is_relative_to(r)), None)
        if outer is not None:  # its files would be read twice, under two ids each
            raise UsageError(f"source {inner} is inside source {outer}, so its articles would be indexed "
                             f"twice; give only {outer}")
    return roots


def reindex(index_dir: str | os.PathLike, sources: Iterable[str | os.PathLike], *,
            full: bool = False, workers: int = 1, wait: bool = False, allow_deletes: bool = False,
            progress: Progress | None = None, command: str = "", settings: Settings | None = None,
            segment_tokens: int = SEGMENT_TOKENS) -> ReindexSummary:
    """Bring the index at ``index_dir`` up to date with ``sources``.

    Raises DeletionsRefused, before switching to anything, when the run would
    delete all or most of a source's articles and ``allow_deletes`` is not set.
    ``settings.keep_generations`` earlier generations are kept for rollback;
    ``segment_tokens`` bounds each new segment (and so each worker's memory).
    """
    settings = settings or Settings.load()
    notes: list[str] = []
    progress = _Recording(progress or SilentProgress(), notes)
    roots = resolve_sources(sources)
    default = _default_language(settings)
    store = IndexStore(index_dir, keep_generations=settings.keep_generations)
    with store.lock(wait=wait, command=command,
                    on_wait=lambda who: progress.inform(f"waiting for the running reindex ({who})")) as leftover:
        started = time.perf_counter()  # the run's time, not the time spent waiting for the lock
        if leftover:
            progress.note(f"a previous reindex (pid {leftover.get('pid', '?')}) did not finish; "
                          f"cleaning up after it")
        first_build = not store.generations()
        live, repaired = repair_pointer(store)
        if repaired:
            progress.note(repaired)
        unfinished = [n for n in store.generations() if n != live and not store.is_complete(n)]
        store.remove_stale(keep=live)
        if unfinished and not leftover:
            progress.note(f"removed {len(unfinished)} unfinished generation(s) left by an interrupted reindex")
        base = _load_base(store, live, full, roots, allow_deletes, progress, default)
        full, indexed = base.full, base.indexed
        run = _GenerationRun(store, base.name, full, base.manifest, workers, progress, segment_tokens, default)
        try:
            try:
                plan = read_sources(roots, indexed, base.manifest, full, progress, run.add)
                removal = Deletions() if full else deletions(indexed, roots, plan)
                if not allow_deletes:
                    check_losses(indexed, roots, plan, full, removal.per_root)
            except ContainerError as exc:  # damage to the base the checks of _load_base did not see
                raise damaged(store.root, base.name, str(exc)) from None
            gone = removal.gone
            summary = ReindexSummary(mode="full" if full else "incremental", added=plan.added,
                                     updated=plan.updated, unchanged=plan.unchanged,
                                     deleted=len(gone) if not full else len(indexed) - plan.updated - plan.unchanged,
                                     problems=plan.problems, notes=notes)
            summary.first_build = first_build
            summary.kept_unreadable = removal.kept_unreadable
            if removal.kept_unreadable:
                summary.kept_because = [str(p).split(": ", 1)[0] for p in plan.holding]
            emptied: set[str] = set()
            if not full:
                left_out = [root for root in base.manifest.roots if root not in roots]
                emptied = roots_emptied(indexed, left_out, set(gone) | set(plan.replaced))
                summary.kept_sources = [root for root in left_out if root not in emptied]
            summary.ignored = sum(1 for p in plan.problems if p.ignored)
            summary.warnings = sum(1 for p in plan.problems if p.warning and not p.ignored)
            summary.skipped = len(plan.problems) - summary.ignored - summary.warnings
            if not full and not plan.written and not gone and not base.rewrite and \
                    not _files_changed(base.manifest, roots, plan):
                run.discard()
                summary.mode = "unchanged"
                summary.generation = live
                summary.articles = len(indexed)
            else:
                summary.articles = run.commit(plan, gone, summary, started, roots, dropped=emptied)
        except BaseException:
            run.discard()
            raise
    summary.seconds = time.perf_counter() - started
    progress.close()
    return summary


def _files_changed(manifest: Manifest, roots: list[str], plan: Plan) -> bool:
    """Did this run see source files other than the manifest lists (new, touched, or gone)? Then a
    new generation records them, even with no article changed, so the next run can skip them."""
    for root in roots:
        seen = {path: (stamp[0], stamp[1]) for (r, path), stamp in plan.files.items() if r == root}
        if manifest.stamps_under(root) != seen:
            return True
    return False


class _Recording:
    """Passes progress through, and keeps the notes (repairs, decisions) for the summary."""

    def __init__(self, progress: Progress, notes: list[str]):
        self._progress, self._notes = progress, notes

    def phase(self, name: str, total: int | None) -> None:
        self._progress.phase(name, total)

    def advance(self, n: int = 1) -> None:
        self._progress.advance(n)

    def note(self, message: str) -> None:
        if message != "switching to the new index":
            self._notes.append(message)
        self._progress.note(message)

    def inform(self, message: str) -> None:
        """A passing message, not worth keeping in the summary."""
        self._progress.note(message)

    def close(self) -> None:
        self._progress.close()


def optimize(index_dir: str | os.PathLike, *, wait: bool = False, progress: Progress | None = None,
             command: str = "", settings: Settings | None = None) -> ReindexSummary:
    """Merge every segment of the live generation into one (dropping deleted articles).

    A new generation like any reindex: searches keep answering from the old
    one until the switch. Worth it after many incremental runs; nothing to do
    when the index is a single segment without deletions.
    """
    settings = settings or Settings.load()
    progress = progress or SilentProgress()
    store = IndexStore(index_dir, keep_generations=settings.keep_generations)
    store.require_built()
    with store.lock(wait=wait, command=command,
                    on_wait=lambda who: progress.note(f"waiting for the running reindex ({who})")):
        started = time.perf_counter()  # the run's time, not the time spent waiting for the lock
        generation = LiveIndex(store.root).current()
        generation.check()  # damage already in the files: exit 3 with the rebuild message, not a crash
        live, segments = generation.name, generation.segments
        summary = ReindexSummary(mode="optimize", unchanged=generation.corpus.count, generation=live,
                                 articles=generation.corpus.count)
        store.remove_stale(keep=live)
        checksummed = all("store.crc" in data.container for data in generation.corpus.datas)
        if len(segments) <= 1 and not any(seg.deleted_count() for seg in segments) and checksummed:
            summary.mode = "unchanged"  # (a segment written before stored checksums is rewritten with them)
        else:
            run = _GenerationRun(store, live, False, store.read_manifest(live), 1, progress,
                                 default_language=generation.meta.get("default_language") or "en")
            try:
                gen = run._directory()
                _, segments, _ = read_toc(store.root / live)
                try:
                    merged = merge_segments(gen, run.schema, segments, progress)
                except _DECODE_ERRORS:  # damage the cheap checks missed (a posting's bytes), or a bug
                    generation.check(deep=True)
                    raise
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


@dataclass
class _Base:
    """What a reindex starts from."""

    manifest: Manifest
    indexed: IndexedArticles
    full: bool
    name: str | None = None  # the generation an incremental run hard-links and updates
    rewrite: bool = False  # write a new generation even if nothing changed (to replace a damaged one)


def _default_language(settings: Settings) -> str:
    """``NEWSINDEX_LANGUAGE``, checked before anything is read or written."""
    try:
        return default_language(settings.language)
    except ValueError as exc:
        raise SettingError(f"{exc}; nothing was changed") from None


def _load_base(store: IndexStore, live: str | None, full: bool, roots: list[str], allow_deletes: bool,
               progress: Progress, default: str = "en") -> _Base:
    """The generation this run builds on and what it holds; a full rebuild when there is none.

    A live generation that cannot be built upon (its segments damaged) gives
    way to the newest complete one before it; an index of another version, or
    one whose undetectable articles were given another default language
    (``NEWSINDEX_LANGUAGE``), is rebuilt in full. A rebuild in full that would
    leave out a source the index holds stops the run unless ``allow_deletes``.
    """
    if live is None:
        if store.generations():  # every generation unusable: what did they hold?
            _refuse_left_out(_recorded_sources(store), roots, allow_deletes,
                             "the index has no generation left to serve")
        return _Base(Manifest(), IndexedArticles(None), True)
    problem = None
    meta = None
    try:
        meta = store.read_meta(live)
        store.check_versions(meta)
        generation = store.open_generation(live, meta)
        try:  # what a run reads of it (ids, files, hashes, dates) must hold together: damage is found here
            generation.check()
        except IndexUnreadable:
            generation.release()
            raise
    except IndexVersionMismatch:
        _refuse_left_out(_recorded_sources(store, meta), roots, allow_deletes,
                         "the index was built by another version of newsindex")
        progress.note("the index was built by another version of newsindex; rebuilding it in full")
        return _Base(Manifest(), IndexedArticles(None), True)
    except (IndexUnreadable, FileNotFoundError, EmptyIndexError) as exc:
        problem = str(exc).split("; run `newsindex")[0] if isinstance(exc, IndexUnreadable) else \
            f"the index generation {store.root / live} is damaged or incomplete ({exc})"
        generation = None
    rewrite = False
    if generation is None:
        # an older generation that shares the damaged file (hard links) fails the same checks
        fallback = newest_usable(store, exclude=(live,))
        if fallback is None:
            progress.note(f"{problem}; rebuilding without it (first_seen starts over for every article): "
                          f"it has to be rebuilt from the sources")
            _refuse_left_out(_recorded_sources(store), roots, allow_deletes, "the index is damaged")
            return _Base(Manifest(), IndexedArticles(None), True)
        # what the damaged generation held of a source this run does not read would be lost
        # without a word: every source it names must be given (or the loss allowed)
        left_out = [s for s in _recorded_sources(store, meta if isinstance(meta, dict) else None)
                    if s not in roots]
        _refuse_left_out(_sources_changed_since(store, live, fallback, left_out), roots,
                         allow_deletes, f"{problem} (the newest complete generation before it, "
                                        f"{fallback}, lacks what {live} added since)")
        if full:
            progress.note(f"{problem}; rebuilding without it: first_seen is carried over from {fallback}, the "
                          f"newest complete generation before it, and starts over for articles added since")
        else:
            progress.note(f"{problem}; building on {fallback}, the newest complete generation before it: "
                          f"every source is read again and compared with it")
        live, rewrite = fallback, True
        generation = store.open_generation(live, store.read_meta(live))
    built_with = generation.meta.get("default_language", default)
    if built_with != default:  # which articles fell back to it is not recorded: all are analysed again
        why = (f"the index was built with NEWSINDEX_LANGUAGE={built_with} (now {default}: the language "
               f"of articles too short to detect)")
        _refuse_left_out(_recorded_sources(store, generation.meta), roots, allow_deletes, why)
        progress.note(f"{why}; rebuilding it in full")
        full = True  # built on the live generation all the same: each article keeps its first_seen
    try:
        manifest = store.read_manifest(live)
    except IndexUnreadable as exc:
        progress.note(f"{exc.args[0].split('; run')[0]}: every source file is read once more and compared "
                      f"with the index (which keeps each article's hash and file)")
        manifest = Manifest(sound=False)
    return _Base(manifest, IndexedArticles(generation.corpus), full, name=live,
                 rewrite=rewrite or not manifest.sound)


def _sources_changed_since(store: IndexStore, newer: str, older: str, sources: list[str]) -> list[str]:
    """Of ``sources``, those whose files ``newer`` records differently from ``older``: what building
    on ``older`` without reading them would lose. All of them when a manifest cannot tell."""
    try:
        new, old = store.read_manifest(newer), store.read_manifest(older)
    except IndexUnreadable:
        return sources
    if not (new.sound and old.sound):
        return sources
    return [s for s in sources if new.stamps_under(s) != old.stamps_under(s)]


def _recorded_sources(store: IndexStore, live_meta: dict | None = None) -> list[str]:
    """The sources the live generation (``live_meta``, its newsindex.json) was built from; when it
    cannot say, every source any generation's newsindex.json names (generations kept for rollback
    may hold sources since dropped)."""
    named = (live_meta or {}).get("sources")
    if isinstance(named, list):
        return [s for s in named if isinstance(s, str)]
    sources: list[str] = []
    for name in store.generations():
        try:
            meta = json.loads((store.root / name / META_FILE).read_text("utf-8"))
            sources += [s for s in meta.get("sources", []) if isinstance(s, str) and s not in sources]
        except (OSError, ValueError, AttributeError, TypeError):
            continue
    return sources


def _refuse_left_out(sources: list[str], roots: list[str], allow_deletes: bool, why: str) -> None:
    left_out = [s for s in sources if s not in roots]
    if left_out and not allow_deletes:
        raise DeletionsRefused(
            f"{why} and must be rebuilt from the sources, and the index also holds articles from "
            f"{', '.join(left_out)}, which this run does not read: rebuilding from these sources alone "
            f"would drop them. Nothing was changed; give every source "
            f"(`newsindex reindex {' '.join(roots + left_out)}`), or run again with --allow-deletes")


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
        self.written = 0

    def _directory(self) -> Path:
        if self.gen is None:
            self.gen = self.store.new_generation(base=None if self.full else self.live)
        return self.gen

    def add(self, entry: Entry) -> None:
        self.written += 1
        if self.sink is None:
            self._buffer.append(entry)
            if self.workers > 1 and len(self._buffer) >= PARALLEL_THRESHOLD:
                self._start(ParallelSegmentSink(self._directory(), self.schema, self.workers,
                                                self.segment_tokens, self.default_language))
            return
        self.sink.add(entry)

    def _start(self, sink) -> None:
        self.sink = sink
        buffered, self._buffer = self._buffer, []
        for entry in buffered:
            sink.add(entry)

    def _finish_segments(self) -> list:
        """Write what the workers still hold (articles are analysed as they are read)."""
        self.progress.phase("indexing", self.written)
        if self.sink is None:
            if not self._buffer:
                return []
            self._start(SegmentSink(self._directory(), self.schema, self.segment_tokens,
                                    self.default_language))
        sink, self.sink = self.sink, None
        return sink.finish()

    def commit(self, plan: Plan, gone: list[int], summary: ReindexSummary, started: float,
               roots: list[str], dropped: set[str] = frozenset()) -> int:
        """Write the TOC, columns and manifest, check, and switch; returns the article count.

        ``dropped``: sources not read this run that no longer hold any article of the index."""
        store = self.store
        try:
            new_segments = self._finish_segments()
            gen = self._directory()
            old_segments = [] if self.full else self._old_segments(gen, sorted(set(gone) | set(plan.replaced)))
            segments = old_segments + new_segments
            if not self.full:
                segments = self._merge_small(gen, segments)
            summary.written = plan.written
            manifest = self._manifest(plan, list(roots) + sorted(dropped))
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
