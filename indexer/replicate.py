"""Read replicas: copy the live generation to another index directory while both keep serving.

Generations are immutable directories and ``CURRENT`` switches atomically, so
an index can be copied to other machines (or disks) safely:

1. under the source's writer lock, hard-link the live generation's files into
   a snapshot (instant; a reindex may then switch and delete the original);
2. copy the snapshot into ``DEST/.gen-N.partial``: a file the destination
   already holds in one of its generations (segments never change once
   written) is hard-linked there instead of copied, so publishing a daily
   reindex of a million-article archive copies only the new segment;
3. fsync, rename it to ``DEST/gen-N``, and only then replace ``DEST/CURRENT``:
   servers on the destination switch on their next request, and never see a
   generation that is not complete.

Before ``CURRENT`` moves, the copy is opened and counted (the check
``newsindex rollback`` makes), so a source that was itself copied from another
machine and caught mid-change is refused rather than served. That is the
recipe for other machines (README, "Read replicas"): the primary publishes to
an outbox, each replica rsyncs the outbox to a staging directory and
publishes that to the directory it serves.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import IndexNotFound, IndexUnreadable, IndexVersionMismatch, IndexWriteFailed, UsageError
from .generations import check_usable
from .store import GEN_RE, POINTER, IndexStore, _fsync_path, describe_os_error

KEEP_AT_DESTINATION = 2  # generations kept at the destination: the live one and the one before


@dataclass
class PublishSummary:
    generation: str
    copied_files: int = 0
    copied_bytes: int = 0
    linked_files: int = 0
    seconds: float = 0.0
    unchanged: bool = False

    def as_dict(self) -> dict:
        return {"generation": self.generation, "copied_files": self.copied_files,
                "copied_bytes": self.copied_bytes, "linked_files": self.linked_files,
                "seconds": round(self.seconds, 3), "unchanged": self.unchanged}


def publish(source_dir: str | os.PathLike, dest_dir: str | os.PathLike, *, wait: bool = False) -> PublishSummary:
    """Make ``dest_dir`` serve the live generation of ``source_dir`` (see the module docstring)."""
    started = time.perf_counter()
    source, dest = IndexStore(source_dir), IndexStore(dest_dir)
    if source.root.resolve() == dest.root.resolve():
        raise UsageError(f"{dest.root} is the index itself; give another directory to publish to")
    if dest.root.resolve().is_relative_to(source.root.resolve()):
        raise UsageError(f"{dest.root} is inside the index {source.root}; give a directory outside it "
                         f"to publish to")
    source.require_built()
    with source.lock(wait=wait, command="newsindex publish") as _:
        name = source.current_name()
        if name is None:
            raise IndexNotFound(f"no index has been built in {source.root} yet; run `newsindex reindex SOURCE` first")
        _remove_dead_snapshots(source.root)
        snapshot = Path(tempfile.mkdtemp(prefix=f".publish-{os.getpid()}-", dir=source.root))
        try:
            for f in (source.root / name).iterdir():
                os.link(f, snapshot / f.name)
        except OSError as exc:
            shutil.rmtree(snapshot, ignore_errors=True)
            raise IndexWriteFailed(describe_os_error(exc, f"taking a snapshot of {source.root / name}")) from None
    try:
        with dest.lock(wait=wait, command="newsindex publish"):
            summary = _copy_in(snapshot, name, dest)
    except OSError as exc:
        raise IndexWriteFailed(describe_os_error(exc, f"publishing to {dest.root}")
                               + "; the destination still serves what it served") from None
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)
    summary.seconds = time.perf_counter() - started
    return summary


def _copy_in(snapshot: Path, name: str, dest: IndexStore) -> PublishSummary:
    summary = PublishSummary(generation=name)
    if dest.current_name() == name and _same_files(snapshot, dest.root / name):
        summary.unchanged = True
        return summary
    held = {}  # file name -> a path at the destination holding it already
    for gen in reversed(dest.generations()):
        for f in (dest.root / gen).iterdir():
            held.setdefault(f.name, f)
    partial = dest.root / f".{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for f in sorted(snapshot.iterdir()):
        target = partial / f.name
        existing = held.get(f.name)
        if existing is not None and _immutable(f.name) and existing.stat().st_size == f.stat().st_size:
            os.link(existing, target)
            summary.linked_files += 1
            continue
        shutil.copyfile(f, target)
        _fsync_path(target)
        summary.copied_files += 1
        summary.copied_bytes += target.stat().st_size
    _fsync_path(partial, directory=True)
    final = dest.root / name
    if final.exists():  # the same generation published before but not live (or damaged): replace it
        shutil.rmtree(final)
    os.replace(partial, final)
    _fsync_path(dest.root, directory=True)
    _check_before_switching(dest, name)
    tmp = dest.root / f".{POINTER}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="ascii") as out:
        out.write(name + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, dest.root / POINTER)
    _fsync_path(dest.root, directory=True)
    for old in dest.generations()[:-KEEP_AT_DESTINATION]:
        if old != name:
            shutil.rmtree(dest.root / old, ignore_errors=True)
    for stray in dest.root.glob(".gen-*.partial"):
        shutil.rmtree(stray, ignore_errors=True)
    return summary


def _check_before_switching(dest: IndexStore, name: str) -> None:
    """The copy opens and holds the articles it records, or DEST keeps serving what it served.

    On one machine the source is a live generation and always passes; a source
    that was itself copied in (rsync from another machine, see the README) may
    have been caught in the middle of a change and be missing files.
    """
    try:
        check_usable(dest, name)
    except (IndexUnreadable, IndexVersionMismatch) as exc:
        shutil.rmtree(dest.root / name, ignore_errors=True)
        live = dest.current_name()
        raise IndexWriteFailed(f"not publishing {name}: {exc}; {dest.root} still serves "
                               f"{live or 'nothing'}. If the source was copied in, copy it again") from None


def _remove_dead_snapshots(root: Path) -> None:
    """Snapshots left by publishes that were killed (their pid is gone)."""
    for stray in root.glob(".publish-*"):
        try:
            os.kill(int(stray.name.split("-")[1]), 0)
        except (ValueError, IndexError, ProcessLookupError):
            shutil.rmtree(stray, ignore_errors=True)
        except PermissionError:
            pass


def _immutable(filename: str) -> bool:
    """Segment files (``MAIN_<segid>.*``) never change once written; the rest is per generation."""
    return filename.startswith("MAIN_")


def _same_files(a: Path, b: Path) -> bool:
    try:
        return {f.name: f.stat().st_size for f in a.iterdir()} == {f.name: f.stat().st_size for f in b.iterdir()}
    except OSError:
        return False


__all__ = ["GEN_RE", "PublishSummary", "publish"]
