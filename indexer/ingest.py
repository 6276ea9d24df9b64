"""Reindexing: read sources, work out what changed, write a new generation, switch.

An incremental run compares each article's content hash with the live
generation's manifest: new and changed articles are written, unchanged ones
are not analysed again, and articles whose file vanished from a source are
deleted. Nothing changed means nothing is written at all. ``full=True``
rebuilds from scratch beside the live index. Either way readers keep serving
the old generation until the new one is complete (see :mod:`indexer.store`).

What to write is decided first (:mod:`indexer.planning`): a run that would
drop most or all of a source's articles stops before writing anything
unless ``allow_deletes``; a damaged ``CURRENT`` or manifest is repaired
from what the index directory still holds rather than started over.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

from .analysis import nltk_data_path, stem
from .articles import Problem
from .config import Settings
from .errors import IndexWriteFailed, NewsindexError, SourceNotFound
from .generations import repair_pointer
from .parallel import WatchedMpWriter
from .planning import Plan as _Plan
from .planning import Progress, check_losses, deletions as plan_deletions, dropped, load_base, read_sources
from .schema import build_schema, to_document, versions
from .store import IndexStore, Manifest, describe_os_error

PARALLEL_THRESHOLD = 2000  # below this, starting worker processes costs more than it saves
WRITER_LIMIT_MB = 1024


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
                "articles_per_second": round(self.rate, 1), "generation": self.generation,
                "notes": self.notes}


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
            settings: Settings | None = None) -> ReindexSummary:
    """Bring the index at ``index_dir`` up to date with ``sources``.

    Raises DeletionsRefused, before writing anything, when the run would
    delete all or most of a source's articles and ``allow_deletes`` is not set.
    ``settings.keep_generations`` earlier generations are kept for rollback.
    """
    started = time.perf_counter()
    settings = settings or Settings.load()
    notes: list[str] = []
    progress = _Recording(progress or SilentProgress(), notes)
    roots = resolve_sources(sources)
    store = IndexStore(index_dir, keep_generations=settings.keep_generations)
    with store.lock(wait=wait, command=command,
                    on_wait=lambda who: progress.inform(f"waiting for the running reindex ({who})")) as leftover:
        if leftover:
            progress.note(f"a previous reindex (pid {leftover.get('pid', '?')}) did not finish; "
                          f"cleaning up after it")
        live, repaired = repair_pointer(store)
        if repaired:
            progress.note(repaired)
        unfinished = [n for n in store.generations() if n != live and not store.is_complete(n)]
        store.remove_stale(keep=live)
        if unfinished and not leftover:
            progress.note(f"removed {len(unfinished)} unfinished generation(s) left by an interrupted reindex")
        base = load_base(store, live, full, progress)
        full = base.full
        plan = read_sources(roots, base.manifest, full, progress)
        deletions = [] if full else plan_deletions(base.manifest, roots, plan)
        if not allow_deletes:
            check_losses(base, roots, plan, full)
        summary = ReindexSummary(mode="full" if full else "incremental", added=plan.added,
                                 updated=plan.updated, unchanged=plan.unchanged,
                                 deleted=len(deletions) if not full else dropped(base.manifest, plan),
                                 problems=plan.problems, notes=notes)
        summary.ignored = sum(1 for p in plan.problems if p.ignored)
        summary.warnings = sum(1 for p in plan.problems if p.warning)
        summary.skipped = len(plan.problems) - summary.ignored - summary.warnings
        if not full and not plan.to_write and not deletions and not base.rewrite:
            summary.mode = "unchanged"
            summary.generation = live
            summary.articles = len(base.manifest.entries)
        else:
            manifest = _write_generation(store, base.name, full, plan, deletions, base.manifest,
                                         workers, progress, summary, started, roots)
            summary.articles = len(manifest.entries)
    summary.seconds = time.perf_counter() - started
    progress.close()
    return summary


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
        for article, digest, root in plan.to_write:
            manifest.entries[article.id] = (digest, manifest.root_index(root), article.path)
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
        for article, _, _ in plan.to_write:
            writer.add_document(**to_document(article))
            progress.advance()
        progress.phase("committing", None)
        writer.commit()
    except BaseException:
        try:
            writer.cancel()
        except Exception:  # noqa: BLE001 - a commit that failed half-way (disk full) can leave
            pass  # Whoosh unable to cancel; the generation is deleted anyway: report the first error
        raise


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
