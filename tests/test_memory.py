"""A web worker hands freed heap back once it grew past the slack, and only then."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from indexer.memory import HeapTrimmer

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not HeapTrimmer().active,
                                reason="needs glibc and /proc (Linux)")


def test_freed_arrays_are_handed_back_once_past_the_slack():
    trimmer = HeapTrimmer(slack_bytes=16 * 2**20)
    assert not trimmer.after_request()  # the first request sets the low mark
    # 600 arrays of 100 KB: below glibc's mmap threshold, so they come from the heap
    arrays = [np.ones(100_000 // 8) for _ in range(600)]
    pinned = np.ones(100_000 // 8)  # allocated last: the heap's top stays in use
    grown = trimmer.private_bytes()
    del arrays
    assert trimmer.after_request()
    assert trimmer.private_bytes() < grown - 30 * 2**20
    assert trimmer.trims == 1
    assert not trimmer.after_request()  # nothing more to give back: no trim on every request
    del pinned


def test_memory_in_use_is_not_trimmed_again_and_again():
    trimmer = HeapTrimmer(slack_bytes=8 * 2**20)
    trimmer.after_request()
    kept = [np.ones(100_000 // 8) for _ in range(400)]  # 40 MB that stays in use (a cache, say)
    assert trimmer.after_request()  # over the slack: tried once
    assert not trimmer.after_request() and trimmer.trims == 1  # the low mark moved up
    assert sum(a.size for a in kept) == 400 * (100_000 // 8)
