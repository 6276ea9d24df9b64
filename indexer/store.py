"""Where the index lives on disk: generations, an atomic switch, the writer lock.

Whoosh's own commit is not crash safe as a whole, so we never commit into the
index that readers use. Layout of an index directory::

    CURRENT            name of the live generation, replaced atomically
    reindex.lock       flock()ed by the running reindex; holds its pid
    gen-000007/        a complete Whoosh index + newsindex.json + manifest.json
    gen-000008/        being written (or left over by a crash): never read

A reindex writes a new generation (an incremental one starts as hard links of
the live generation's segment files, which Whoosh never modifies), fsyncs it,
checks it opens with the expected article count, then replaces ``CURRENT``
with ``os.replace``. ``kill -9`` at any moment leaves either the old or the new
pointer; the next run removes generations that were never finished.

The last ``keep_generations`` complete generations before the live one stay
(hard links make incremental ones cost only what changed), so a rollback
(:mod:`indexer.generations`) can make one of them live again in one atomic
switch. A missing or damaged ``CURRENT`` is repaired by the next writer
(reindex, rollback) to the newest complete generation; readers never guess.

Readers (:class:`~indexer.live.LiveIndex`) notice a new ``CURRENT`` with one
``stat`` per search and switch to it; searchers already open keep reading the
old generation after it is deleted (segments are single mmapped compound files).
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from whoosh.index import EmptyIndexError

from .codec import read_toc
from .columns import COLUMNS_FILE
from .errors import (IndexNotFound, IndexUnreadable, IndexVersionMismatch,
                     IndexWriteFailed, NotAnIndexDirectory, ReindexRunning)
from .schema import versions

if TYPE_CHECKING:
    from .live import OpenGeneration

POINTER = "CURRENT"
LOCK_FILE = "reindex.lock"
META_FILE = "newsindex.json"
MANIFEST_FILE = "manifest.json"
GEN_RE = re.compile(r"^gen-(\d{6,})$")
REBUILD_HINT = "run `newsindex reindex --full{index} SOURCE` to rebuild it"
RECOVER_HINT = ("run `newsindex rollback{index}` to serve the newest complete generation again "
                "(or `newsindex reindex{index} SOURCE`, which repairs it too)")


def rebuild_hint(root: Path) -> str:
    return REBUILD_HINT.format(index=index_option(root))


def damaged(root: Path, name: str | None, reason: str) -> IndexUnreadable:
    """The error for a generation (``root/name``; the index itself when ``name`` is None) whose
    files are damaged, saying how to rebuild: one wording for every place that finds damage."""
    where = root / name if name else root
    return IndexUnreadable(f"the index at {where} is damaged ({reason}); {rebuild_hint(root)}")


def recover_hint(root: Path) -> str:
    return RECOVER_HINT.format(index=index_option(root))


def index_option(root: Path) -> str:
    """`` --index ROOT`` for the commands a message suggests (shell-quoted), or nothing for the
    default location, so the command can be copied as it is."""
    from .config import SETTINGS

    if os.path.abspath(root) == os.path.abspath(SETTINGS["index"].default):
        return ""
    return " --index " + shlex.quote(str(root))
DEFAULT_KEEP_GENERATIONS = 3  # the keep_generations setting's default (indexer.config)


def is_index_directory(path: Path, names: list[str] | None = None) -> bool:
    """Whether a folder is a newsindex index: its ``CURRENT``, its lock or a ``gen-*`` folder."""
    if names is None:
        try:
            names = os.listdir(path)
        except OSError:
            return False
    return any(n in (POINTER, LOCK_FILE) or GEN_RE.match(n) for n in names)


def _fsync_path(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        # ASCII: a source path that is not valid UTF-8 (surrogate escapes) round-trips as \udcXX
        json.dump(data, f, ensure_ascii=True, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def describe_os_error(exc: OSError, doing: str) -> str:
    """One sentence for a failed disk operation, with what to do about it."""
    if exc.errno == errno.ENOSPC:
        return f"disk full while {doing}; free some space and run again"
    if exc.errno == errno.EROFS:
        where = f" ({exc.filename})" if exc.filename else ""
        return (f"read-only file system while {doing}{where}; remount it read-write "
                f"or give another --index directory")
    if exc.errno in (errno.EACCES, errno.EPERM):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"no permission while {doing}{where}; check the directory's owner and mode"
    return f"{exc.strerror or exc} while {doing}" + (f" ({exc.filename})" if exc.filename else "")


@dataclass
class Manifest:
    """The source files a generation was built from: root -> path -> (size, mtime_ns, problems).

    An incremental reindex skips a file whose size and modification time are
    unchanged without reading it, and reports the problems recorded for it
    (bad lines, say) again, so bad input is never silent however often it is
    skipped. What is known per article (content hash, file, first seen) lives
    in the segments themselves, so a missing or damaged manifest only means
    reading every file once more.
    """

    files: dict[str, dict[str, tuple[int, int, list]]] = field(default_factory=dict)
    sound: bool = True  # False: read from an older layout (its files are unknown)

    VERSION = 2

    def files_under(self, root: str) -> dict[str, tuple[int, int, list]]:
        return self.files.get(root, {})

    def stamps_under(self, root: str) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of the files under ``root``: what tells a file changed."""
        return {path: (v[0], v[1]) for path, v in self.files_under(root).items()}

    @property
    def roots(self) -> list[str]:
        return sorted(self.files)

    def to_json(self) -> dict:
        return {"version": self.VERSION,
                "files": {root: {path: [v[0], v[1], *([v[2]] if v[2] else [])] for path, v in sorted(paths.items())}
                          for root, paths in sorted(self.files.items())}}

    @classmethod
    def from_json(cls, data: dict) -> "Manifest":
        if data.get("version") != cls.VERSION:
            return cls(sound=False)  # an older layout: read everything once
        return cls({root: {path: (int(v[0]), int(v[1]), list(v[2]) if len(v) > 2 else [])
                           for path, v in paths.items()}
                    for root, paths in data["files"].items()})


class IndexStore:
    """The directory holding an index's generations.

    ``keep_generations`` earlier complete generations survive each publish,
    for :meth:`rollback`.
    """

    def __init__(self, root: str | os.PathLike, keep_generations: int = DEFAULT_KEEP_GENERATIONS):
        self.root = Path(root)
        self.keep_generations = keep_generations

    # -- reading the pointer -------------------------------------------------
    @property
    def pointer(self) -> Path:
        return self.root / POINTER

    def current_name(self) -> str | None:
        try:
            name = self.pointer.read_text("ascii").strip()
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            raise IndexUnreadable(f"{self.pointer} is damaged (it is not a generation's name); "
                                  f"{recover_hint(self.root)}") from None
        except OSError as exc:
            raise IndexUnreadable(f"cannot read {self.pointer}: {exc}; {recover_hint(self.root)}") from None
        if not GEN_RE.match(name):
            raise IndexUnreadable(f"{self.pointer} is damaged (it names {name[:40]!r}); {recover_hint(self.root)}")
        return name

    def generations(self) -> list[str]:
        try:
            names = [p.name for p in self.root.iterdir() if GEN_RE.match(p.name)]
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(names, key=lambda n: int(GEN_RE.match(n).group(1)))

    def read_meta(self, name: str) -> dict:
        try:
            return json.loads((self.root / name / META_FILE).read_text("utf-8"))
        except FileNotFoundError:
            raise IndexUnreadable(f"index generation {self.root / name} is missing its {META_FILE}; "
                                  f"{rebuild_hint(self.root)}") from None
        except (OSError, ValueError) as exc:
            raise IndexUnreadable(f"cannot read {self.root / name / META_FILE} ({exc}); {rebuild_hint(self.root)}") from None

    def read_manifest(self, name: str) -> Manifest:
        try:
            return Manifest.from_json(json.loads((self.root / name / MANIFEST_FILE).read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise IndexUnreadable(f"cannot read {self.root / name / MANIFEST_FILE} ({exc}); "
                                  f"{rebuild_hint(self.root)}") from None

    def check_versions(self, meta: dict) -> None:
        wanted = versions()
        found = {k: meta.get(k) for k in wanted}
        if found != wanted:
            raise IndexVersionMismatch(
                f"the index at {self.root} was built by another version of newsindex "
                f"(schema {found['schema_version']}, analyzer {found['analyzer_version']}; this version "
                f"uses schema {wanted['schema_version']}, analyzer {wanted['analyzer_version']}); {rebuild_hint(self.root)}")

    def read_toc(self, name: str):
        """(schema, segments) of one generation, as stock Whoosh reads its TOC."""
        try:
            schema, segments, _ = read_toc(self.root / name)
        except (EmptyIndexError, FileNotFoundError):
            raise
        except (AttributeError, ImportError, ModuleNotFoundError) as exc:
            raise IndexVersionMismatch(f"the index at {self.root} was built by another version of "
                                       f"newsindex ({exc}); {rebuild_hint(self.root)}") from None
        except Exception as exc:  # Whoosh raises many kinds on damaged files
            raise damaged(self.root, name, f"{type(exc).__name__}: {exc}") from None
        return schema, segments

    def open_generation(self, name: str, meta: dict) -> OpenGeneration:
        """Open one generation for searching: its TOC, segment files and columns, memory-mapped."""
        from .live import OpenGeneration  # the reader's side imports this module, not the reverse

        return OpenGeneration.open(self, name, meta)

    def open_current(self, attempts: int = 5) -> OpenGeneration:
        """The live generation, opened.

        A reindex may switch and delete the generation between reading the
        pointer and opening it: then read the pointer again. Without a
        ``CURRENT`` no generation is guessed at: the message says how to pick one.
        """
        for attempt in range(attempts):
            name = self.current_name()
            if name is None:
                if not self.root.exists():
                    raise IndexNotFound(f"no index at {self.root}; create it with "
                                        f"`newsindex reindex{index_option(self.root)} SOURCE` (see --help)")
                if self.generations():
                    raise IndexUnreadable(f"{self.pointer} is missing, so no generation of the index is "
                                          f"live; {recover_hint(self.root)}")
                self._refuse_a_generation()
                raise IndexNotFound(f"no index has been built in {self.root} yet; "
                                    f"run `newsindex reindex{index_option(self.root)} SOURCE` first")
            if not (self.root / name).is_dir() and self.current_name() == name:
                raise IndexUnreadable(f"{self.pointer} names {name}, which is not in {self.root}; "
                                      f"{recover_hint(self.root)}")
            try:
                meta = self.read_meta(name)
                self.check_versions(meta)
                return self.open_generation(name, meta)
            except (IndexUnreadable, EmptyIndexError, FileNotFoundError) as exc:
                if self.current_name() != name:
                    continue  # switched under us: try the new one
                if isinstance(exc, IndexUnreadable):
                    raise
                if attempt == attempts - 1:
                    raise IndexUnreadable(f"the index generation {self.root / name} is damaged or "
                                          f"missing ({exc}); {rebuild_hint(self.root)}") from None
                time.sleep(0.01)
        raise IndexUnreadable(f"the index at {self.root} kept changing while opening it; try again")

    # -- writing ---------------------------------------------------------------
    def check_is_index_directory(self, purpose: str = "Is it the right --index? Give a new or empty "
                                                     "directory for a new index") -> None:
        """Refuse to write an index into a folder that holds other things (a typo in ``--index``).

        A new or empty folder becomes an index; one that already is one (``CURRENT``,
        ``gen-*``, ``reindex.lock``) is written as usual. Hidden entries and a mount
        point's ``lost+found`` do not count.
        """
        try:
            names = [n for n in os.listdir(self.root) if not n.startswith(".") and n != "lost+found"]
        except FileNotFoundError:
            return
        except NotADirectoryError:
            raise NotAnIndexDirectory(f"{self.root} is a file, not an index directory; "
                                      f"give a new or empty directory") from None
        except OSError:
            return  # opening the lock file says what is wrong
        if names and not is_index_directory(self.root, names):
            self._refuse_a_generation()
            shown = ", ".join(sorted(names)[:3]) + (", …" if len(names) > 3 else "")
            raise NotAnIndexDirectory(
                f"{self.root} is not a newsindex index and is not empty (it holds {shown}); nothing "
                f"was written. {purpose[0].upper()}{purpose[1:]}")

    def _refuse_a_generation(self) -> None:
        """``--index IDX/gen-000007``: a generation, not an index; say which index it belongs to."""
        if GEN_RE.match(self.root.name) and is_index_directory(self.root.parent):
            raise NotAnIndexDirectory(f"{self.root} is a generation of the index {self.root.parent}; "
                                      f"give --index {self.root.parent} (`newsindex rollback "
                                      f"{self.root.name}` serves that generation)")

    def require_built(self) -> None:
        """Refuse, creating nothing, when there is no index to work on: the commands that change an
        index that must exist already (optimize, rollback, publishing from it) check this before
        taking the lock, which would create the folder and its lock file (a mistyped ``--index``)."""
        if self.generations():
            return
        self._refuse_a_generation()
        if self.root.exists():
            self.check_is_index_directory(purpose="is it the right --index?")
        raise IndexNotFound(f"no index has been built in {self.root} yet; run "
                            f"`newsindex reindex{index_option(self.root)} SOURCE` first (or is it the "
                            f"right --index?)")

    @contextmanager
    def lock(self, wait: bool = False, command: str = "", on_wait=None) -> Iterator[dict | None]:
        """Hold the writer lock; yields what an interrupted earlier run left in it, if anything.

        ``flock`` dies with its process, so a crashed run never blocks the next
        one; the pid it wrote is only used to tell the user what happened.
        """
        self.check_is_index_directory()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise IndexWriteFailed(describe_os_error(exc, f"opening the index directory {self.root}")) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                who = _describe_holder(_read_holder(fd))
                if not wait:
                    raise ReindexRunning(f"another command is writing {self.root} ({who}); "
                                         f"wait for it to finish, or pass --wait to queue behind it") from None
                if on_wait:
                    on_wait(who)
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)  # never touch the file: it describes the run that holds the lock
            raise
        _HELD_LOCKS.add(fd)
        try:
            leftover = _read_holder(fd)
            info = {"pid": os.getpid(), "started": time.time(), "command": command}
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(info).encode(), 0)
            except OSError as exc:  # a full disk shows up here first
                raise IndexWriteFailed(describe_os_error(exc, f"writing {self.root / LOCK_FILE}")
                                       + "; the live index is untouched") from None
            yield leftover
        finally:
            _HELD_LOCKS.discard(fd)
            try:
                os.ftruncate(fd, 0)  # a clean finish leaves no holder behind
            except OSError:
                pass
            os.close(fd)  # releases the flock

    # -- generations kept for rollback ------------------------------------------
    def is_complete(self, name: str) -> bool:
        """Was ``name`` finished by a reindex? (Its newsindex.json, written last, reads back.)"""
        try:
            meta = json.loads((self.root / name / META_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(meta, dict) and meta.get("generation") == name

    def remove_stale(self, keep: str | None) -> list[str]:
        """Delete unfinished generations and stray temp files, and all but the newest
        ``keep_generations`` complete ones besides ``keep`` (the live one). Call with the lock held."""
        removed = []
        kept = 0
        for name in reversed(self.generations()):
            if name == keep:
                continue
            if self.is_complete(name) and kept < self.keep_generations:
                kept += 1
                continue
            shutil.rmtree(self.root / name, ignore_errors=True)
            removed.append(name)
        for tmp in self.root.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        return removed

    def switch_pointer(self, name: str) -> None:
        """Replace ``CURRENT`` with one naming ``name``, atomically and durably."""
        tmp = self.root / f".{POINTER}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w", encoding="ascii") as f:
                f.write(name + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.pointer)
        except BaseException:
            tmp.unlink(missing_ok=True)  # no stray pointer file when the disk is full
            raise
        _fsync_path(self.root, directory=True)

    def new_generation(self, base: str | None) -> Path:
        """An empty directory for the next generation, or hard links of ``base``'s files."""
        existing = [int(GEN_RE.match(n).group(1)) for n in self.generations()]
        path = self.root / f"gen-{max(existing, default=0) + 1:06d}"
        path.mkdir()
        if base is not None:
            for src in (self.root / base).iterdir():
                # segment files are shared; the TOC, the columns and the metadata are written anew
                if src.name in (META_FILE, MANIFEST_FILE, COLUMNS_FILE) or src.name.endswith("LOCK") \
                        or src.name.startswith(".") or src.name.endswith(".toc"):
                    continue
                os.link(src, path / src.name)
        return path

    def publish(self, gen: Path, meta: dict, manifest: Manifest) -> None:
        """Make ``gen`` the live generation, durably and atomically; keep the last few before it.

        The meta records which generation was live before (``previous``), the
        one `newsindex rollback` goes back to.
        """
        try:
            previous = self.current_name()
        except IndexUnreadable:
            previous = None
        _write_json(gen / MANIFEST_FILE, manifest.to_json())
        _write_json(gen / META_FILE, {**meta, "previous": previous})
        for f in gen.iterdir():
            _fsync_path(f)
        _fsync_path(gen, directory=True)
        self.switch_pointer(gen.name)
        self.remove_stale(keep=gen.name)


_HELD_LOCKS: set[int] = set()
_PR_SET_PDEATHSIG = 1


def _before_fork() -> None:
    _fork_parent[0] = os.getpid()


def _in_forked_child() -> None:
    """Worker processes forked by a reindex must not outlive it or keep its lock.

    A flock belongs to the open file, which a forked child shares: a worker
    left behind by a ``kill -9`` of its parent would hold the writer lock
    forever (and block on a queue nobody feeds). So children drop the lock fd
    and ask Linux to kill them when the parent dies.
    """
    for fd in list(_HELD_LOCKS):
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD_LOCKS.clear()
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != _fork_parent[0]:  # the parent died before prctl took effect
            os._exit(1)


def _load_libc():
    try:
        import ctypes
        import ctypes.util

        if not sys.platform.startswith("linux"):
            return None
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except (OSError, ImportError):
        return None


_LIBC = _load_libc()
_fork_parent = [os.getpid()]
os.register_at_fork(before=_before_fork, after_in_child=_in_forked_child)


def _read_holder(fd: int) -> dict | None:
    try:
        raw = os.pread(fd, 4096, 0)
        return json.loads(raw) if raw.strip() else None
    except (OSError, ValueError):
        return None


def _describe_holder(holder: dict | None) -> str:
    if not holder:
        return "pid unknown"
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("started", 0)))
    command = f": {holder['command']}" if holder.get("command") else ""
    return f"pid {holder.get('pid', '?')}, started {started}{command}"
