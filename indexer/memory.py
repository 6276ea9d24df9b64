"""How newsindex processes keep their private memory small (glibc's allocator, on Linux).

A search over a million articles allocates a few arrays of a million entries
(masks, scores) and frees them. glibc keeps freed memory in its heap for the
next allocation, which is what makes the next search fast (its pages are
already there), but a web worker's private memory would then stay at its
worst query's peak for good. Giving every large array its own mapping
(``mallopt(M_MMAP_THRESHOLD)``) returns the memory at once but makes every
search fault its pages in again: +40 % per request at 300k articles.

So a web worker keeps its heap and, after a request, hands the free part
back to the system only once its private memory has grown past a slack
(:class:`HeapTrimmer`):
ordinary searches reuse warm pages, and one huge query costs its memory only
until it ends. The index itself is memory-mapped and shared by every worker,
so the heap is most of what a worker holds privately.
"""
from __future__ import annotations

import ctypes
import os
import sys

#: Growth of a web worker's private memory tolerated before freed heap is handed back.
HEAP_SLACK_BYTES = 48 * 2**20


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def release_memory() -> None:
    """Hand freed heap memory back to the system now (after a segment is written, say)."""
    libc = _libc()
    if libc is not None:
        try:
            libc.malloc_trim(0)
        except AttributeError:
            pass


class HeapTrimmer:
    """After each request: trim the heap once private memory has grown ``slack_bytes`` past its low mark.

    Private memory is read from ``/proc/self/statm`` (resident minus file-backed
    pages: a few microseconds). After a trim the low mark moves to what is left,
    so memory that is really in use (the result cache, say) is not trimmed
    again and again. Without glibc or ``/proc`` it does nothing.
    """

    def __init__(self, slack_bytes: int = HEAP_SLACK_BYTES):
        self.slack_bytes = slack_bytes
        self.trims = 0
        self._low_mark: int | None = None
        libc = _libc()
        self._trim = getattr(libc, "malloc_trim", None) if libc is not None else None
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    @property
    def active(self) -> bool:
        return self._trim is not None and os.path.exists("/proc/self/statm")

    def private_bytes(self) -> int:
        """Resident memory not backed by a file (the heap, numpy arrays, Python objects)."""
        with open("/proc/self/statm", "rb") as f:
            fields = f.read().split()
        return (int(fields[1]) - int(fields[2])) * self._page

    def after_request(self) -> bool:
        """Trim when private memory exceeds the low mark by the slack; True when it did."""
        if not self.active:
            return False
        now = self.private_bytes()
        if self._low_mark is None or now < self._low_mark:
            self._low_mark = now
            return False
        if now - self._low_mark <= self.slack_bytes:
            return False
        self._trim(0)
        self.trims += 1
        self._low_mark = self.private_bytes()
        return True
