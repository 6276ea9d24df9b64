"""A merge's sections, appended piece by piece to temporary files and memory-mapped back.

A merge produces each field's postings a bounded range of terms at a time.
Holding all of those pieces in Python until a section is complete, and then
concatenating them, cost about the size of the postings in the process's own
(anonymous) memory (with the article text, gathered the same way then: 2.8 GB
for a million articles; the text is now a ``StreamedSection`` copied straight
from the inputs into the new segment). Appending every piece to the end of a
raw temporary file instead, and mapping the file once the section is
complete, leaves the merged sections in the page cache, which the kernel can
write back and evict; :func:`~indexer.segment.write_segment` copies them into
the segment from there.

The files live in the directory of the segment being written (same disk, so
page-cache writeback goes where the segment goes), are named
``.merge-<pid>-<n>.tmp`` (a dot name: never hard-linked into a new
generation, never read as a segment or column), and are listed in the
caller's ``spilled`` so its ``finally`` removes them whether the merge
succeeds or fails.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

COPY_ELEMENTS = 8 * 1024 * 1024  # values converted at once when a section is narrowed


class _Section:
    __slots__ = ("path", "file", "dtype", "count")

    def __init__(self, path: Path, dtype: np.dtype):
        self.path, self.dtype, self.count = path, dtype, 0
        self.file = open(path, "wb")


class SectionSpool:
    """Named sections, each a raw temporary file that pieces are appended to in order."""

    def __init__(self, directory: str | os.PathLike, spilled: list[Path]):
        self._directory = Path(directory)
        self._spilled = spilled
        self._sections: dict[str, _Section] = {}

    def _new_path(self) -> Path:
        path = self._directory / f".merge-{os.getpid()}-{len(self._spilled)}.tmp"
        self._spilled.append(path)  # listed before it exists: the caller's finally removes it
        return path

    def append(self, key: str, values: np.ndarray, dtype=None) -> None:
        """Append ``values`` (converted to ``dtype``, by default their own) to section ``key``.

        Every piece of a section has one dtype: the file is the concatenation
        of the pieces exactly as ``np.concatenate`` would lay them out.
        """
        dtype = np.dtype(dtype if dtype is not None else values.dtype)
        section = self._sections.get(key)
        if section is None:
            section = self._sections[key] = _Section(self._new_path(), dtype)
        elif section.dtype != dtype:
            raise ValueError(f"section {key} is {section.dtype}, not {dtype}")
        values = np.ascontiguousarray(values, dtype=dtype)
        if values.size:
            section.file.write(memoryview(values).cast("B"))
            section.count += values.size

    def count(self, key: str) -> int:
        return self._sections[key].count

    def mapped(self, key: str, dtype=None) -> np.ndarray:
        """Section ``key`` complete: closed and mapped read-only. With ``dtype`` (narrower, and
        holding every value: the caller knows the maximum) it is converted through a second
        temporary file a bounded slice at a time."""
        section = self._sections[key]
        if not section.file.closed:
            section.file.close()
        dtype = section.dtype if dtype is None else np.dtype(dtype)
        if not section.count:
            return np.zeros(0, dtype=dtype)
        values = np.memmap(section.path, dtype=section.dtype, mode="r", shape=(section.count,))
        if dtype == section.dtype:
            return values
        path = self._new_path()
        with open(path, "wb") as f:
            for start in range(0, section.count, COPY_ELEMENTS):
                f.write(memoryview(values[start:start + COPY_ELEMENTS].astype(dtype)).cast("B"))
        del values
        return np.memmap(path, dtype=dtype, mode="r", shape=(section.count,))

    def close(self) -> None:
        """Close every file still open (the caller unlinks ``spilled``)."""
        for section in self._sections.values():
            if not section.file.closed:
                section.file.close()
        self._sections.clear()
