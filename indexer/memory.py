"""How newsindex processes keep their private memory small (glibc's allocator, on Linux).

A search over a million articles allocates a few arrays of a million entries
(masks, scores) and frees them; glibc raises its mmap threshold after such a
free, so later ones come from the heap and stay there when freed: a web
worker's private memory would grow towards its worst query's peak and keep
it. Fixing the threshold makes every large array a mapping of its own,
returned to the system as soon as it is freed. The index itself is
memory-mapped and shared by every worker, so this is most of what a worker
holds privately.
"""
from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
LARGE_ARRAY_BYTES = 256 * 1024


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def keep_large_arrays_off_the_heap() -> bool:
    """Every allocation of 256 KB or more is its own mapping, unmapped when freed."""
    libc = _libc()
    if libc is None:
        return False
    try:
        return bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE_ARRAY_BYTES)) and \
            bool(libc.mallopt(M_TRIM_THRESHOLD, 4 * LARGE_ARRAY_BYTES))
    except AttributeError:
        return False


def release_memory() -> None:
    """Hand freed heap memory back to the system now (after a segment is written, say)."""
    libc = _libc()
    if libc is not None:
        try:
            libc.malloc_trim(0)
        except AttributeError:
            pass
