"""A file of named numpy arrays, memory-mapped: the unit of everything newsindex derives.

Segments and generations keep their numeric data (term tables, postings,
per-document columns, compressed article text) in files of this shape, so a
web worker opens them with one ``mmap`` each and reads arrays straight from
the page cache: nothing is decoded into private memory, and every worker of
the machine shares the same pages (what Lucene and tantivy do with their
segment files).

Layout::

    b"NEWSIDX1"  u32 header length  JSON header  padding  section ... section

The header names each section's dtype, length and offset (aligned to 16
bytes) and carries small metadata (``meta``). Files are written to a
temporary name, fsynced and renamed, so a reader never sees half a file.
"""
from __future__ import annotations

import json
import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

MAGIC = b"NEWSIDX1"
ALIGN = 16
_LENGTH = struct.Struct("<I")


class ContainerError(Exception):
    """The file is not a complete container of this version (damaged or foreign)."""


def _aligned(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass(frozen=True)
class StreamedSection:
    """A section its producer writes straight into the file: ``count`` values of ``dtype``, as
    ``pieces()`` yields them, in order. For data that already lies in other mapped files (the
    article text a merge copies from its input segments), so that it is never gathered in memory
    or in a temporary file first."""

    dtype: np.dtype
    count: int
    pieces: Callable[[], Iterable[np.ndarray]]


def write_container(path: str | os.PathLike, sections: dict[str, np.ndarray | bytes | StreamedSection],
                    meta: dict[str, Any] | None = None, fsync: bool = True) -> int:
    """Write ``sections`` (name -> array, bytes or StreamedSection) atomically; returns the file size."""
    path = Path(path)
    arrays: dict[str, np.ndarray | StreamedSection] = {}
    for name, value in sections.items():
        if isinstance(value, StreamedSection):
            if np.dtype(value.dtype).byteorder == ">":
                raise ValueError(f"section {name}: a streamed section must be little-endian")
            arrays[name] = value
            continue
        if isinstance(value, (bytes, bytearray, memoryview)):
            value = np.frombuffer(value, dtype=np.uint8)
        value = np.ascontiguousarray(value)
        if value.dtype.byteorder == ">" or (value.dtype.byteorder == "=" and np.little_endian is False):
            value = value.astype(value.dtype.newbyteorder("<"))
        arrays[name] = value
    table = {}
    offset = 0
    for name, value in arrays.items():
        dtype, count = (np.dtype(value.dtype), value.count) if isinstance(value, StreamedSection) \
            else (value.dtype, int(value.size))
        table[name] = {"dtype": dtype.str, "count": count, "offset": offset}
        offset = _aligned(offset + count * dtype.itemsize)
    header = json.dumps({"sections": table, "meta": meta or {}}, separators=(",", ":"),
                        ensure_ascii=True).encode("ascii")
    start = _aligned(len(MAGIC) + _LENGTH.size + len(header))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(MAGIC + _LENGTH.pack(len(header)) + header)
            f.write(b"\0" * (start - f.tell()))
            for name, value in arrays.items():
                f.seek(start + table[name]["offset"])
                if isinstance(value, StreamedSection):
                    _write_streamed(f, name, value)
                else:
                    f.write(memoryview(value).cast("B") if value.size else b"")
            f.truncate(start + offset)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return start + offset


def _write_streamed(f, name: str, section: StreamedSection) -> None:
    dtype = np.dtype(section.dtype)
    written = 0
    for piece in section.pieces():
        piece = np.ascontiguousarray(piece, dtype=dtype)
        if piece.size:
            f.write(memoryview(piece).cast("B"))
            written += piece.size
    if written != section.count:  # the header already says how long it is
        raise ValueError(f"section {name}: {written:,} values written, {section.count:,} announced")


class Container:
    """A container file opened read-only: ``c[name]`` is a zero-copy numpy view of the map."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        with open(self.path, "rb") as f:
            info = os.fstat(f.fileno())
            size = info.st_size
            # containers are written once and renamed into place: any change later is damage
            self._stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
            if size < len(MAGIC) + _LENGTH.size:
                raise ContainerError(f"{self.path} is truncated ({size} bytes)")
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        head = self._map[:len(MAGIC) + _LENGTH.size]
        if head[:len(MAGIC)] != MAGIC:
            raise ContainerError(f"{self.path} is not a newsindex data file (bad magic)")
        (length,) = _LENGTH.unpack(head[len(MAGIC):])
        try:
            header = json.loads(self._map[len(MAGIC) + _LENGTH.size:len(MAGIC) + _LENGTH.size + length])
        except ValueError as exc:
            raise ContainerError(f"{self.path} has a damaged header ({exc})") from None
        self._header = bytes(self._map[:len(MAGIC) + _LENGTH.size + length])
        self._start = _aligned(len(MAGIC) + _LENGTH.size + length)
        self.sections: dict[str, dict] = header["sections"]
        self.meta: dict[str, Any] = header["meta"]
        end = max((self._start + s["offset"] + np.dtype(s["dtype"]).itemsize * s["count"]
                   for s in self.sections.values()), default=self._start)
        if end > size:
            raise ContainerError(f"{self.path} is truncated ({size} bytes, its header needs {end})")
        self._views: dict[str, np.ndarray] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.sections

    def __getitem__(self, name: str) -> np.ndarray:
        view = self._views.get(name)
        if view is None:
            if self._map is None:
                raise ContainerError(f"{self.path} was closed")
            try:
                s = self.sections[name]
            except KeyError:
                raise ContainerError(f"{self.path} has no section {name!r}") from None
            view = np.frombuffer(self._map, dtype=np.dtype(s["dtype"]), count=s["count"],
                                 offset=self._start + s["offset"]) if s["count"] else \
                np.zeros(0, dtype=np.dtype(s["dtype"]))
            self._views[name] = view
        return view

    def damage(self) -> str | None:
        """What is wrong with the file since it was opened, or None: it was rewritten in place
        (another inode, size or mtime) or its header no longer reads as it did. Two syscalls and a
        compare of the header: meant for when reading it has just failed, not for every read."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None  # a generation deleted after a reindex: not damage
        except OSError as exc:
            return f"{self.path.name}: {exc.strerror or exc}"
        if (info.st_ino, info.st_size, info.st_mtime_ns) != self._stamp:
            return f"{self.path.name} was modified in place after it was opened"
        if self._map is not None and self._map[:len(self._header)] != self._header:
            return f"{self.path.name} has a damaged header"
        return None

    def get(self, name: str, default=None):
        return self[name] if name in self.sections else default

    def nbytes(self) -> int:
        return len(self._map) if self._map is not None else 0

    def close(self) -> None:
        """Drop the views; the map itself closes when the last array over it is gone."""
        self._views.clear()
        self._map = None
