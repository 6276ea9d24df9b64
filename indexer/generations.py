"""Generations kept for rollback: list them, check one, make one live again, repair CURRENT.

A reindex keeps the last ``keep_generations`` complete generations before
the live one (:meth:`~indexer.store.IndexStore.remove_stale`). This module
is what `newsindex generations` and `newsindex rollback` run, and what a
reindex uses to repair a lost ``CURRENT`` and to find a complete generation
to build on when the live one is damaged. Everything that changes the pointer runs
with the writer lock held, so it never races a reindex; the servers notice
the new ``CURRENT`` on their next request, as after a reindex.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from whoosh.index import EmptyIndexError

from .config import SETTINGS
from .errors import IndexUnreadable, IndexVersionMismatch, UsageError
from .store import GEN_RE, META_FILE, IndexStore


@dataclass
class GenerationInfo:
    """What ``newsindex generations`` shows about one generation directory."""

    name: str
    live: bool
    complete: bool  # finished and published by a reindex (its newsindex.json reads back)
    articles: int | None = None
    built: str | None = None
    previous: str | None = None
    last_reindex: dict | None = None
    size_bytes: int = 0
    own_bytes: int = 0  # in files no other generation shares (hard links): what deleting it frees
    damaged: str | None = None  # why it cannot be served (check_usable), for a complete one

    def to_dict(self) -> dict:
        return {"generation": self.name, "live": self.live, "complete": self.complete,
                "articles": self.articles, "built": self.built, "previous": self.previous,
                "last_reindex": self.last_reindex, "size_bytes": self.size_bytes,
                "own_bytes": self.own_bytes, "damaged": self.damaged}


def describe(store: IndexStore) -> list[GenerationInfo]:
    """Every generation directory, newest first."""
    try:
        live = store.current_name()
    except IndexUnreadable:
        live = None
    infos = []
    for name in reversed(store.generations()):
        info = GenerationInfo(name=name, live=name == live, complete=store.is_complete(name))
        if info.complete:
            meta = json.loads((store.root / name / META_FILE).read_text("utf-8"))
            info.articles, info.built = meta.get("articles"), meta.get("built")
            info.previous, info.last_reindex = meta.get("previous"), meta.get("last_reindex")
            try:  # opens it and runs the cheap checks: O(terms + articles) per generation
                check_usable(store, name)
            except IndexUnreadable as exc:
                info.damaged = str(exc).split("; run `newsindex")[0]
            except IndexVersionMismatch:
                pass
        for f in (store.root / name).iterdir():
            try:
                st = f.stat()
            except OSError:
                continue
            info.size_bytes += st.st_size
            info.own_bytes += st.st_size if st.st_nlink == 1 else 0
        infos.append(info)
    return infos


def check_usable(store: IndexStore, name: str) -> dict:
    """The meta of ``name`` if it can be served as it is (versions match, its segments and
    columns open and hold as many articles as recorded); otherwise IndexUnreadable or
    IndexVersionMismatch saying why."""
    meta = store.read_meta(name)
    store.check_versions(meta)
    try:
        generation = store.open_generation(name, meta)
    except (EmptyIndexError, FileNotFoundError) as exc:
        raise IndexUnreadable(f"the index generation {store.root / name} is incomplete ({exc})") from None
    try:
        generation.check()  # a generation that shares a damaged segment file by hard link is damaged too
    finally:
        generation.release()
    count = generation.corpus.count
    if count != meta.get("articles"):
        raise IndexUnreadable(f"the index generation {store.root / name} holds {count} articles where "
                              f"its newsindex.json says {meta.get('articles')}")
    return meta


def newest_usable(store: IndexStore, exclude: tuple[str, ...] = ()) -> str | None:
    """The newest generation that :func:`check_usable` accepts, if any."""
    for name in reversed(store.generations()):
        if name in exclude or not store.is_complete(name):
            continue
        try:
            check_usable(store, name)
        except (IndexUnreadable, IndexVersionMismatch):
            continue
        return name
    return None


def repair_pointer(store: IndexStore) -> tuple[str | None, str | None]:
    """With the lock held: if ``CURRENT`` is missing, damaged or names a generation that is
    gone, point it at the newest usable generation instead of starting over.

    Returns (the live generation, a sentence saying what was repaired or None).
    """
    try:
        live = store.current_name()
        problem = None if live is None or (store.root / live).is_dir() else f"named {live}, which is gone"
    except IndexUnreadable:
        live, problem = None, "was damaged"
    if live is None and problem is None:
        if not store.generations():
            return None, None  # a new index
        problem = "was missing"
    if problem is None:
        return live, None
    target = newest_usable(store)
    if target is None:
        store.pointer.unlink(missing_ok=True)
        return None, f"{store.pointer} {problem} and no complete generation is left to serve"
    store.switch_pointer(target)
    return target, f"{store.pointer} {problem}; it now names {target}, the newest complete generation"


def resolve_name(store: IndexStore, given: str) -> str:
    """'gen-000004', '000004' or '4' as the name of a generation that exists here."""
    text = given.strip()
    if text.isdigit():
        text = f"gen-{int(text):06d}"
    if not GEN_RE.match(text) or not (store.root / text).is_dir():
        kept = ", ".join(store.generations()) or "none"
        raise UsageError(f"there is no generation {given!r} in {store.root} (there are: {kept}); "
                         f"`newsindex generations` describes them")
    return text


def rollback(store: IndexStore, target: str | None = None) -> tuple[str | None, str]:
    """Make ``target`` (default: the generation before the live one) live. Call with the lock held.

    The generation rolled back from is kept (until the retention of a later
    reindex removes it), so the same command can go forward again. Returns
    (the generation that was live, the one that is live now).
    """
    try:
        live = store.current_name()
    except IndexUnreadable:
        live = None
    if live is not None and not (store.root / live).is_dir():
        live = None
    if target is None:
        target = _default_target(store, live)
    if target == live:
        raise UsageError(f"{target} is already the live generation of {store.root}")
    if not store.is_complete(target):
        raise UsageError(f"{target} was never finished by a reindex, so it cannot be served; "
                         f"`newsindex generations` lists the complete ones")
    try:
        check_usable(store, target)
    except IndexUnreadable as exc:  # damage is the index's problem, not the command's: exit 3
        raise IndexUnreadable(f"{target} cannot be served: {exc}") from None
    except IndexVersionMismatch as exc:
        raise UsageError(f"{target} cannot be served: {exc}") from None
    store.switch_pointer(target)
    return live, target


def _default_target(store: IndexStore, live: str | None) -> str:
    """The generation that was live before ``live`` if it is kept, else the newest older one."""
    if live is None:  # CURRENT lost: the newest complete generation
        target = newest_usable(store)
    else:
        previous = store.read_meta(live).get("previous") if store.is_complete(live) else None
        candidates = [previous] if previous and store.is_complete(previous) else []
        number = int(GEN_RE.match(live).group(1))
        candidates += [n for n in reversed(store.generations())
                       if int(GEN_RE.match(n).group(1)) < number and store.is_complete(n)]
        target = candidates[0] if candidates else None
    if target is None:
        setting = SETTINGS["keep_generations"]
        raise UsageError(f"there is no earlier complete generation in {store.root} to roll back to; "
                         f"reindexes keep the last {setting.env} of them (default {setting.default})")
    return target
