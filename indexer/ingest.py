"""Reindexing: read sources, work out what changed, write a new generation, switch.

An incremental run compares each article's content hash with the live
generation's manifest: new and changed articles are written, unchanged ones
are not analysed again, and articles whose file vanished from a source are
deleted. Nothing changed means nothing is written at all. ``full=True``
rebuilds from scratch beside the live index. Either way readers keep serving
the old generation until the new one is complete (see :mod:`indexer.store`).
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Protocol

from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

from .analysis import nltk_data_path, stem
from .articles import Article, Problem
from .errors import (IndexUnreadable, IndexVersionMismatch, IndexWriteFailed,
                     NewsindexError, SourceNotFound)
from .parallel import WatchedMpWriter
from .readers import read_source
from .schema import build_schema, to_document, versions
from .store import IndexStore, LiveIndex, Manifest, ManifestEntry, describe_os_error

PARALLEL_THRESHOLD = 2000  # below this, starting worker processes costs more than it saves
WRITER_LIMIT_MB = 1024


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


@dataclass
class _Plan:
    """The outcome of reading the sources, before anything is written."""

    # article, hash, root, first_seen, last_changed (epoch seconds)
    to_write: list[tuple[Article, str, str, float, float]] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # ids whose indexed version is replaced
    seen: set[str] = field(default_factory=set)
    failed_files: set[tuple[str, str]] = field(default_factory=set)  # (root, path) unreadable
    problems: list[Problem] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0


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
            full: bool = False, workers: int = 1, wait: bool = False,
            progress: Progress | None = None, command: str = "") -> ReindexSummary:
    """Bring the index at ``index_dir`` up to date with ``sources``."""
    started = time.perf_counter()
    progress = progress or SilentProgress()
    roots = resolve_sources(sources)
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
        base_manifest, full = _load_base(store, live, full, progress)
        plan = _read_sources(roots, base_manifest, full, progress)
        deletions = [] if full else _deletions(base_manifest, roots, plan)
        summary = ReindexSummary(mode="full" if full else "incremental", added=plan.added,
                                 updated=plan.updated, unchanged=plan.unchanged,
                                 deleted=len(deletions) if not full else _dropped(base_manifest, plan),
                                 problems=plan.problems)
        summary.skipped = sum(1 for p in plan.problems if not p.warning)
        summary.warnings = len(plan.problems) - summary.skipped
        if not full and not plan.to_write and not deletions:
            summary.mode = "unchanged"
            summary.generation = live
            summary.articles = len(base_manifest.entries)
        else:
            manifest = _write_generation(store, live, full, plan, deletions, base_manifest,
                                         workers, progress, summary, started, roots)
            summary.articles = len(manifest.entries)
    summary.seconds = time.perf_counter() - started
    progress.close()
    return summary


def _load_base(store: IndexStore, live: str | None, full: bool, progress: Progress) -> tuple[Manifest, bool]:
    """The live generation's manifest; an unusable or outdated index means a full rebuild."""
    if live is None:
        return Manifest(), True
    try:
        meta = store.read_meta(live)
        store.check_versions(meta)
        manifest = store.read_manifest(live)
        if not full:  # the segments an incremental run builds on must open; if not, rebuild
            LiveIndex(store.root).current().searcher().close()
    except IndexVersionMismatch:
        progress.note("the index was built by another version of newsindex; rebuilding it in full")
        return _manifest_or_empty(store, live), True
    except IndexUnreadable as exc:
        progress.note(f"{exc}: rebuilding in full")
        return Manifest(), True
    return manifest, full


def _manifest_or_empty(store: IndexStore, live: str) -> Manifest:
    try:
        return store.read_manifest(live)
    except IndexUnreadable:
        return Manifest()


def _read_sources(roots: list[str], base: Manifest, full: bool, progress: Progress) -> _Plan:
    plan = _Plan()
    # one "now" for the run, always after every article already indexed (even if the clock
    # stepped back), so a feed ordered by first_seen puts this run's new articles first
    now = round(max(time.time(), (base.latest_first_seen() or 0.0) + 0.001), 6)  # µs, as the index keeps it
    where_seen: dict[str, str] = {}
    progress.phase("reading", None)
    for root in roots:
        for item in read_source(root):
            if isinstance(item, Problem):
                plan.problems.append(item)
                if item.whole_file:
                    plan.failed_files.add((root, item.path))
                continue
            progress.advance()
            if item.id in where_seen:
                plan.problems.append(Problem(item.path, f"duplicate id {item.id!r} (first seen at "
                                                        f"{where_seen[item.id]}); skipped", item.line))
                continue
            where_seen[item.id] = item.where
            plan.seen.add(item.id)
            digest = item.content_hash()
            previous = base.entries.get(item.id)
            first_seen = last_changed = now
            if previous is None:
                plan.added += 1
            elif previous.hash != digest:
                plan.updated += 1
                plan.replaced.append(item.id)
                first_seen = previous.first_seen or now  # an update keeps when it was first seen
            else:
                plan.unchanged += 1
                if not full:
                    continue
                first_seen = previous.first_seen or now
                last_changed = previous.last_changed or first_seen
            plan.to_write.append((item, digest, root, first_seen, last_changed))
    return plan


def _deletions(base: Manifest, roots: list[str], plan: _Plan) -> list[str]:
    """Articles that came from these sources before and are gone now (unreadable files excepted)."""
    root_ids = {i for i, r in enumerate(base.roots) if r in roots}
    gone = []
    for article_id, entry in base.entries.items():
        if entry.root in root_ids and article_id not in plan.seen \
                and not _unreadable(plan.failed_files, base.roots[entry.root], entry.path):
            gone.append(article_id)
    return gone


def _unreadable(failed: set[tuple[str, str]], root: str, path: str) -> bool:
    """Was ``path`` (or a directory above it) unreadable this run? Then keep its articles."""
    if (root, path) in failed or (root, ".") in failed:
        return True
    parts = path.split("/")
    return any((root, "/".join(parts[:i])) in failed for i in range(1, len(parts)))


def _dropped(base: Manifest, plan: _Plan) -> int:
    return sum(1 for article_id in base.entries if article_id not in plan.seen)


def _write_generation(store: IndexStore, live: str | None, full: bool, plan: _Plan,
                      deletions: list[str], base: Manifest, workers: int, progress: Progress,
                      summary: ReindexSummary, started: float, roots: list[str]) -> Manifest:
    gen: Path | None = None
    try:
        gen = store.new_generation(base=None if full else live)
        manifest = Manifest() if full else Manifest(list(base.roots), dict(base.entries))
        _write_whoosh(gen, full, plan, deletions, workers, progress)
        for article_id in deletions:
            manifest.entries.pop(article_id, None)
        for article, digest, root, first_seen, last_changed in plan.to_write:
            manifest.entries[article.id] = ManifestEntry(digest, manifest.root_index(root), article.path,
                                                         first_seen, last_changed)
        summary.written = len(plan.to_write)
        _check_count(gen, len(manifest.entries))
        summary.generation = gen.name
        summary.seconds = time.perf_counter() - started
        meta = {**versions(), "generation": gen.name, "articles": len(manifest.entries),
                "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "sources": roots if full else sorted(set(manifest.roots)),
                "last_reindex": summary.as_dict()}
        progress.note("switching to the new index")
        store.publish(gen, meta, manifest)
        return manifest
    except OSError as exc:
        switched = gen is not None and store.current_name() == gen.name  # failed after the switch
        raise IndexWriteFailed(describe_os_error(exc, f"writing the new index in {store.root}")
                               + ("; the new index is live anyway" if switched
                                  else "; the live index is untouched")) from None
    finally:
        if gen is not None and store.current_name() != gen.name:
            shutil.rmtree(gen, ignore_errors=True)


def _write_whoosh(gen: Path, full: bool, plan: _Plan, deletions: list[str], workers: int,
                  progress: Progress) -> None:
    storage = FileStorage(str(gen))
    ix = storage.create_index(build_schema()) if full else storage.open_index()
    parallel = workers > 1 and len(plan.to_write) >= PARALLEL_THRESHOLD
    if plan.to_write:
        nltk_data_path()
        stem("warm")  # import NLTK once here, not in every worker process
    if parallel:
        writer = WatchedMpWriter(ix, procs=workers, multisegment=True, limitmb=WRITER_LIMIT_MB // workers)
    else:
        writer = SegmentWriter(ix, limitmb=WRITER_LIMIT_MB)
    try:
        if not full:  # deletions and the old versions of updated articles, with one searcher
            with writer.searcher() as searcher:
                for article_id in deletions + plan.replaced:
                    writer.delete_by_term("id", article_id, searcher=searcher)
        progress.phase("indexing", len(plan.to_write))
        for article, _, _, first_seen, last_changed in plan.to_write:
            writer.add_document(**to_document(article, _utc(first_seen), _utc(last_changed)))
            progress.advance()
        progress.phase("committing", None)
        writer.commit()
    except BaseException:
        try:
            writer.cancel()
        except Exception:  # noqa: BLE001 - a commit that failed half-way (disk full) can leave
            pass  # Whoosh unable to cancel; the generation is deleted anyway: report the first error
        raise


def _utc(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc)


def _check_count(gen: Path, expected: int) -> None:
    """The sanity check before switching: the new generation opens and holds what we wrote."""
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
