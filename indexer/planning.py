"""What a reindex will do, decided before anything is written.

:func:`load_base` finds what the new generation builds on: the live
generation and its manifest (id -> content hash, source root, file), a
manifest rebuilt from the index when ``manifest.json`` is damaged, or the
newest complete earlier generation when the live one cannot be built upon.
:func:`read_sources` compares every article read with it. :func:`check_losses`
then refuses a run that would silently shrink the index: a source that
vanished (empty, unmounted, moved), one that would lose more than half of
its articles, or a ``--full`` rebuild that leaves a source out, unless the
user says ``--allow-deletes``.
"""
from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from .articles import Article, Problem
from .errors import DeletionsRefused, IndexUnreadable, IndexVersionMismatch
from .generations import check_usable, manifest_from_index, newest_usable
from .readers import read_source
from .store import META_FILE, IndexStore, Manifest


class Progress(Protocol):
    """How ingest reports progress; the CLI draws bars or prints lines."""

    def phase(self, name: str, total: int | None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def note(self, message: str) -> None: ...
    def close(self) -> None: ...


@dataclass
class Base:
    """What a reindex starts from."""

    manifest: Manifest
    full: bool
    name: str | None = None  # the generation an incremental run hard-links and updates
    known: bool = True  # False: the manifest could not be read or rebuilt; what was indexed is unknown
    sources: list[str] = field(default_factory=list)  # the index's sources when not known from a manifest
    rewrite: bool = False  # write a new generation even if nothing changed (to replace a damaged one)


@dataclass
class Plan:
    """The outcome of reading the sources, before anything is written."""

    to_write: list[tuple[Article, str, str]] = field(default_factory=list)  # article, hash, root
    replaced: list[str] = field(default_factory=list)  # ids whose indexed version is replaced
    seen: set[str] = field(default_factory=set)
    failed_files: set[tuple[str, str]] = field(default_factory=set)  # (root, path) unreadable
    problems: list[Problem] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def load_base(store: IndexStore, live: str | None, full: bool, progress: Progress) -> Base:
    """The live generation's manifest, repaired if need be; an outdated index means a full rebuild."""
    if live is None:  # a new index, or one whose every generation is unusable
        leftovers = bool(store.generations())
        return Base(Manifest(), full=True, known=not leftovers,
                    sources=_recorded_sources(store) if leftovers else [])
    problem = None
    try:
        store.check_versions(store.read_meta(live))
        check_usable(store, live)  # the segments an incremental run builds on must open
    except IndexVersionMismatch:
        progress.note("the index was built by another version of newsindex; rebuilding it in full")
        manifest = _readable_manifest(store, live)
        return Base(manifest or Manifest(), full=True, known=manifest is not None,
                    sources=_recorded_sources(store))
    except IndexUnreadable as exc:
        problem = str(exc)
    if problem is None:
        manifest, repaired = _manifest_of(store, live, progress)
        if manifest is not None:
            return Base(manifest, full=full, name=None if full else live, rewrite=repaired)
        problem = (f"{store.root / live / 'manifest.json'} is damaged and the index does not hold "
                   f"what is needed to rebuild it")
    fallback = newest_usable(store, exclude=(live,))
    manifest = _manifest_of(store, fallback, progress)[0] if fallback else None
    if manifest is not None:
        progress.note(f"{_clause(problem)}; building on {fallback}, the newest complete generation "
                      f"before it (sources not read in this run stay as they were in {fallback})")
        return Base(manifest, full=full, name=None if full else fallback, rewrite=True)
    progress.note(f"{_clause(problem)}; it has to be rebuilt from the sources")
    manifest = _readable_manifest(store, live)
    return Base(manifest or Manifest(), full=True, known=manifest is not None,
                sources=_recorded_sources(store))


def _clause(message: str) -> str:
    """A library message without its advice, to be followed by what this run does instead."""
    return message.split("; run `newsindex")[0]


def _manifest_of(store: IndexStore, name: str, progress: Progress) -> tuple[Manifest | None, bool]:
    """(manifest, rebuilt from the index?) for generation ``name``; None when neither works."""
    manifest = _readable_manifest(store, name)
    if manifest is not None:
        return manifest, False
    rebuilt = manifest_from_index(store, name)
    if rebuilt is not None:
        progress.note(f"{store.root / name / 'manifest.json'} is damaged; rebuilt it from the index "
                      f"({len(rebuilt.entries):,} articles)")
    return rebuilt, rebuilt is not None


def _readable_manifest(store: IndexStore, name: str) -> Manifest | None:
    try:
        return store.read_manifest(name)
    except IndexUnreadable:
        return None


def _recorded_sources(store: IndexStore) -> list[str]:
    """Every source any generation's newsindex.json names (when no manifest says more)."""
    sources: list[str] = []
    for name in store.generations():
        try:
            meta = json.loads((store.root / name / META_FILE).read_text("utf-8"))
            sources += [s for s in meta.get("sources", []) if isinstance(s, str) and s not in sources]
        except (OSError, ValueError, AttributeError, TypeError):
            continue
    return sources


def read_sources(roots: list[str], base: Manifest, full: bool, progress: Progress) -> Plan:
    plan = Plan()
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
                                                        f"{where_seen[item.id]})", item.line))
                continue
            where_seen[item.id] = item.where
            plan.seen.add(item.id)
            digest = item.content_hash()
            previous = base.entries.get(item.id)
            if previous is None:
                plan.added += 1
            elif previous[0] != digest:
                plan.updated += 1
                plan.replaced.append(item.id)
            else:
                plan.unchanged += 1
                if not full:
                    continue
            plan.to_write.append((dataclasses.replace(item, source_root=root), digest, root))
    return plan


def deletions(base: Manifest, roots: list[str], plan: Plan) -> list[str]:
    """Articles that came from these sources before and are gone now (unreadable files excepted)."""
    root_ids = {i for i, r in enumerate(base.roots) if r in roots}
    gone = []
    for article_id, (_, root_i, path) in base.entries.items():
        if root_i in root_ids and article_id not in plan.seen \
                and not _unreadable(plan.failed_files, base.roots[root_i], path):
            gone.append(article_id)
    return gone


def _unreadable(failed: set[tuple[str, str]], root: str, path: str) -> bool:
    """Was ``path`` (or a directory above it) unreadable this run? Then keep its articles."""
    if (root, path) in failed or (root, ".") in failed:
        return True
    parts = path.split("/")
    return any((root, "/".join(parts[:i])) in failed for i in range(1, len(parts)))


def dropped(base: Manifest, plan: Plan) -> int:
    """How many indexed articles a full rebuild leaves out."""
    return sum(1 for article_id in base.entries if article_id not in plan.seen)


def check_losses(base: Base, roots: list[str], plan: Plan, full: bool) -> None:
    """Refuse (DeletionsRefused) a run that would drop a source's articles wholesale.

    A source losing all its articles, or more than half, is far more often an
    unmounted disk, an emptied folder or a mistyped path than an editor's
    decision; the user confirms the latter with ``--allow-deletes``.
    """
    if not base.known:
        left_out = [s for s in base.sources if s not in roots]
        if left_out:
            raise DeletionsRefused(
                f"the index's manifest is damaged and cannot be rebuilt, and the index also holds articles "
                f"from {_names(left_out)}, which this run does not read: rebuilding from these sources "
                f"alone would drop them. Nothing was changed; give every source "
                f"(`newsindex reindex {' '.join(roots + left_out)}`), or run again with --allow-deletes")
        return
    losses = _losses(base.manifest, roots, plan, full)
    if not losses:
        return
    parts = []
    for root, lost, had in losses:
        if root not in roots:
            parts.append(f"{root} is not among the sources of this --full rebuild, so its {had:,} "
                         f"article{'s' if had != 1 else ''} would be dropped")
        else:
            share = "all of them" if lost == had else "more than half"
            parts.append(f"it would delete {lost:,} of the {had:,} articles from {root} ({share}: is the "
                         f"folder empty, moved or not mounted?)")
    advice = ("give every source" if any(root not in roots for root, _, _ in losses)
              else "check the source")
    raise DeletionsRefused(f"this reindex was stopped: {'; '.join(parts)}. Nothing was changed; "
                           f"{advice}, or if the articles are gone on purpose, run again with --allow-deletes")


def _losses(base: Manifest, roots: list[str], plan: Plan, full: bool) -> list[tuple[str, int, int]]:
    """(source, articles lost, articles it had) for each source losing all or most of them."""
    had: Counter[int] = Counter()
    lost: Counter[int] = Counter()
    for article_id, (_, root_i, path) in base.entries.items():
        had[root_i] += 1
        root = base.roots[root_i]
        if article_id in plan.seen:
            continue
        if not full and (root not in roots or _unreadable(plan.failed_files, root, path)):
            continue  # an incremental run leaves other sources, and unreadable files, as they are
        lost[root_i] += 1
    return [(base.roots[i], lost[i], had[i]) for i in sorted(lost)
            if lost[i] == had[i] or lost[i] * 2 > had[i]]


def _names(sources: list[str]) -> str:
    return ", ".join(sources)
