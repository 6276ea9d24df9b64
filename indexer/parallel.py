"""Building segments in worker processes, failing loudly instead of hanging.

The parent reads and hashes the sources (cheap) and deals articles out in
batches over a bounded queue; each worker analyses them and writes its own
segments (:class:`~indexer.writer.SegmentSink`) into the new generation's
directory, then reports their TOC entries. If a worker dies (the disk
fills, say), the parent notices whenever the queue is full and when it
collects the results, and raises the worker's ``OSError`` (its exit code
carries the errno) or :class:`IndexWriteFailed`, which ingest reports in one
line; the unfinished generation is then deleted.
"""
from __future__ import annotations

import errno
import multiprocessing
import os
import queue
from dataclasses import replace
from pathlib import Path

from .errors import IndexWriteFailed
from .language import detect_language, load_models_in_background, quick_language, second_opinion_ready
from .writer import SEGMENT_TOKENS, Entry, SegmentSink

OS_ERROR_EXIT = 100  # worker exit code = 100 + errno for OSErrors
BATCH = 256
QUEUE_BATCHES_PER_WORKER = 4
POLL_SECONDS = 0.25


def _work(directory: str, schema, segment_tokens: int, default_language: str, jobs, results) -> None:
    try:
        sink = SegmentSink(directory, schema, segment_tokens, default_language)
        while True:
            batch = jobs.get()
            if batch is None:
                break
            for entry in batch:
                sink.add(entry)
        results.put(sink.finish())
    except OSError as exc:
        os._exit(OS_ERROR_EXIT + min(exc.errno or errno.EIO, 150))
    except BaseException:  # noqa: BLE001 - the parent turns the exit code into a message
        os._exit(99)


class ParallelSegmentSink:
    """The :class:`SegmentSink` interface over ``workers`` processes."""

    def __init__(self, directory: str | os.PathLike, schema, workers: int,
                 segment_tokens: int = SEGMENT_TOKENS, default_language: str = "en"):
        ctx = multiprocessing.get_context("fork")
        self._jobs = ctx.Queue(maxsize=QUEUE_BATCHES_PER_WORKER * workers)
        self._results = ctx.Queue()
        # staggered segment sizes, so the workers do not all invert (their memory peak) at once
        self._procs = [ctx.Process(target=_work, args=(str(Path(directory)), schema,
                                                       segment_tokens * (workers + i) // workers,
                                                       default_language, self._jobs, self._results), daemon=True)
                       for i in range(workers)]
        for proc in self._procs:
            proc.start()
        self._batch: list[Entry] = []
        self.default_language = default_language
        self._unsure: list[Entry] = []  # waiting for py3langid's model
        self._loading = None
        self.added = 0

    def add(self, entry: Entry) -> None:
        """Queue an entry for the workers, its language detected here.

        The process reading the sources waits on the workers most of the time, so
        detection costs it little, and py3langid's model (0.4 s to load, needed for
        the 1 % of articles CLD2 is unsure of) is loaded once, in a thread, while
        everything else goes on; those articles follow when it is ready.
        """
        self.added += 1
        article = entry.article
        if entry.language is None and article.language is None:
            code = quick_language(article.title, article.body, self.default_language)
            if code is None and not second_opinion_ready():
                if self._loading is None:
                    self._loading = load_models_in_background()
                self._unsure.append(entry)
                return
            entry = replace(entry, language=code or detect_language(article.title, article.body,
                                                                    self.default_language))
        self._queue(entry)
        if self._unsure and second_opinion_ready():
            self._settle_unsure()

    def _queue(self, entry: Entry) -> None:
        self._batch.append(entry)
        if len(self._batch) >= BATCH:
            self._put(self._batch)
            self._batch = []

    def _settle_unsure(self) -> None:
        unsure, self._unsure = self._unsure, []
        for entry in unsure:
            article = entry.article
            self._queue(replace(entry, language=detect_language(article.title, article.body,
                                                                self.default_language)))

    def _put(self, item) -> None:
        while True:
            try:
                self._jobs.put(item, timeout=POLL_SECONDS)
                return
            except queue.Full:
                check_workers(self._procs)

    def finish(self) -> list:
        if self._loading is not None:
            self._loading.join()
        self._settle_unsure()
        if self._batch:
            self._put(self._batch)
            self._batch = []
        for _ in self._procs:
            self._put(None)
        segments: list = []
        pending = len(self._procs)
        while pending:
            try:
                segments.extend(self._results.get(timeout=POLL_SECONDS))
                pending -= 1
            except queue.Empty:
                check_workers(self._procs)
        for proc in self._procs:
            proc.join()
        check_workers(self._procs)
        return segments

    def cancel(self) -> None:
        for proc in self._procs:
            if proc.is_alive():
                proc.kill()
            proc.join(timeout=5)


def check_workers(procs: list) -> None:
    """Raise if a worker process has died: OSError for its disk error, else IndexWriteFailed."""
    for proc in procs:
        code = proc.exitcode
        if code in (None, 0):
            continue
        if code > OS_ERROR_EXIT:
            number = code - OS_ERROR_EXIT
            raise OSError(number, os.strerror(number))
        raise IndexWriteFailed(f"an indexing worker process failed (exit code {code}); "
                               f"the live index is untouched")
