"""What a serving process holds: the live generation of an index, opened and memory-mapped.

:class:`LiveIndex` is a reader's handle on an index directory. It opens the
generation ``CURRENT`` names (:mod:`indexer.store` owns the directory, the
pointer and the writer's side) and reopens when ``CURRENT`` moves, at the cost
of one ``stat`` per request, so a server picks up a reindex from another
process without a restart. :class:`OpenGeneration` is one opened generation:
its :class:`~indexer.engine.Corpus` and the search layer's memos.

This is also the one place that turns decoding errors into
:class:`~indexer.errors.IndexUnreadable` (:func:`reads_index` around each
library entry point, :func:`raise_if_damaged` for lazy reads): a damaged file
becomes "the index is damaged, rebuild or roll back", a bug stays a bug.
"""
from __future__ import annotations

import functools
import os
import pickle
import struct
import threading
import zlib
from pathlib import Path

from whoosh.filedb.filestore import FileStorage

from .codec import self_check
from .columns import GenerationColumns
from .container import ContainerError
from .engine import Corpus
from .errors import IndexUnreadable, NewsindexError
from .segment import SegmentData
from .store import IndexStore, damaged, index_option


#: What reading a damaged segment or columns file raises once it is open: numpy on arrays of the
#: wrong shape or values (ValueError, IndexError, TypeError, OverflowError), zlib and pickle on
#: stored fields, struct on packed bytes, and our own checks (ContainerError).
_DECODE_ERRORS = (ContainerError, ValueError, IndexError, KeyError, TypeError, OverflowError, AttributeError,
                  EOFError, struct.error, zlib.error, pickle.UnpicklingError)
#: Of those, the ones only damage raises; the others may be a bug, so they count as damage only
#: when the files say so (a bug stays a logged 500, never a misleading "damaged").
_ONLY_DAMAGE = (ContainerError, EOFError, struct.error, zlib.error, pickle.UnpicklingError)


def reads_index(function):
    """The one boundary between decoding errors and users, around each library entry point that
    takes a :class:`LiveIndex` first: a read of a damaged file (a segment overwritten in place
    under a running server, say) becomes :class:`IndexUnreadable`, which the CLI reports and the
    server answers 503 ``index_unreadable``, like a damaged file found when opening."""
    @functools.wraps(function)
    def wrapper(index, *args, **kwargs):
        try:
            return function(index, *args, **kwargs)
        except NewsindexError:
            raise
        except _DECODE_ERRORS as exc:
            raise_if_damaged(exc, getattr(index, "loaded", None))
            raise
    return wrapper


def raise_if_damaged(exc: BaseException, generation: "OpenGeneration | None") -> None:
    """Raise IndexUnreadable for ``exc`` if it came from damage to ``generation``'s files; else return."""
    if generation is None or not isinstance(exc, _DECODE_ERRORS) or isinstance(exc, NewsindexError):
        return
    found = generation.damage()
    if found is None and not isinstance(exc, _ONLY_DAMAGE):
        return
    error = damaged(generation.path.parent, generation.name, found or f"{type(exc).__name__}: {exc}")
    raise IndexUnreadable(f"{error} (or `newsindex rollback{index_option(generation.path.parent)}` to an "
                          f"older generation that does not share the file)") from exc


class LiveIndex:
    """A reader's handle on an index directory that always serves the live generation.

    ``current()`` costs one ``stat`` when nothing changed, so servers call it
    for every request and pick up a reindex from another process without a
    restart. It never writes.
    """

    def __init__(self, root: str | os.PathLike):
        self.store = IndexStore(root)
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._generation: OpenGeneration | None = None

    def _pointer_stamp(self) -> tuple | None:
        try:
            st = os.stat(self.store.pointer)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def current(self) -> "OpenGeneration":
        stamp = self._pointer_stamp()
        generation = self._generation
        if generation is not None and stamp == self._stamp:
            return generation
        with self._lock:
            if self._generation is not None and stamp == self._stamp:
                return self._generation
            generation = self.store.open_current()
            self._stamp = self._pointer_stamp() if self.store.current_name() == generation.name else None
            replaced, self._generation = self._generation, generation
            if replaced is not None:
                replaced.release()
            return self._generation

    @property
    def loaded(self) -> "OpenGeneration | None":
        """The generation opened last (None before the first ``current()``); nothing is checked."""
        return self._generation

    def close(self) -> None:
        with self._lock:
            if self._generation is not None:
                self._generation.release()
            self._generation = None
            self._stamp = None


class OpenGeneration:
    """One opened generation: its memory-mapped :class:`~indexer.engine.Corpus` and memos.

    Replaced generations are released by :class:`LiveIndex`: their maps close
    as soon as the last request still using them lets go, so a server's open
    files stay flat however many reindexes it sees.
    """

    def __init__(self, name: str, path: Path, meta: dict, schema, segments: list, corpus: Corpus):
        self.name = name
        self.path = path
        self.meta = meta
        self.schema = schema
        self.segments = segments
        self.corpus = corpus
        self._local = threading.local()
        self._searchers: list = []
        self._memo: dict = {}
        self._memo_lock = threading.Lock()

    @classmethod
    def open(cls, store: IndexStore, name: str, meta: dict) -> OpenGeneration:
        """Open one generation of ``store`` for searching: its TOC, segment files and columns,
        memory-mapped (what :meth:`IndexStore.open_generation` returns)."""
        path = store.root / name
        schema, segments = store.read_toc(name)
        datas: list[SegmentData] = []
        try:
            for segment in segments:
                datas.append(SegmentData(path / segment.data_filename()))
            columns = GenerationColumns(path)
            if not columns.matches(segments):
                raise ContainerError(f"{path / 'columns.news'} does not describe this generation's segments")
            if segments:
                self_check(path, segments[0], datas[0])
        except FileNotFoundError:
            for data in datas:
                data.close()
            raise
        except (ContainerError, OSError, KeyError, ValueError, AttributeError) as exc:
            for data in datas:
                data.close()
            raise damaged(store.root, name, f"{type(exc).__name__}: {exc}") from None
        return cls(name, path, meta, schema, segments, Corpus(path, segments, datas, columns))

    def searcher(self):
        """A stock Whoosh searcher over this generation (for tools and tests; search uses the corpus)."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            try:
                searcher = FileStorage(str(self.path), readonly=True).open_index().searcher()
            except Exception as exc:  # a segment file truncated or deleted (Whoosh raises many kinds)
                raise damaged(self.path.parent, self.name, f"{type(exc).__name__}: {exc}") from None
            self._local.searcher = searcher
            self._searchers.append(searcher)
        return searcher

    def memo(self, key: str, factory):
        """A value computed once per generation (caches of the search layer)."""
        try:
            return self._memo[key]
        except KeyError:
            pass
        with self._memo_lock:
            if key not in self._memo:
                self._memo[key] = factory(self)
            return self._memo[key]

    def release(self) -> None:
        """Drop this generation's caches and searchers; its maps close when the last user is done."""
        for searcher in self._searchers:
            try:
                searcher.close()
            except Exception:  # noqa: BLE001 - closing an already closed searcher
                pass
        self._searchers.clear()
        self._memo.clear()
        self.corpus.release()

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())

    def check(self, deep: bool = False) -> None:
        """Raise IndexUnreadable if a segment's tables do not hang together (:meth:`SegmentData.check`:
        damage already in the files when they were opened, such as bit rot). For the commands that
        read a whole generation (reindex, optimize, rollback, generations); never on the search path."""
        for data in self.corpus.datas:
            try:
                data.check(deep=deep)
            except ContainerError as exc:
                raise damaged(self.path.parent, self.name, str(exc)) from None

    def damage(self) -> str | None:
        """What is wrong with this generation's open files since they were opened, or None."""
        containers = [data.container for data in self.corpus.datas] + [self.corpus.columns.container]
        return next((found for found in (c.damage() for c in containers) if found), None)
