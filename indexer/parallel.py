"""Whoosh's multi-process writer, made to fail loudly instead of hanging.

Whoosh's MpWriter feeds worker processes through a bounded job queue. If a
worker dies (the disk fills, say) it prints a traceback, and the parent
blocks forever on ``put`` holding the writer lock; or, if the queue never
fills, the commit silently drops the dead worker's segment. Here workers exit
with a code carrying the errno instead of a traceback, the parent checks on
them whenever the queue is full and after the commit, and a failure becomes
the ordinary ``OSError``/``IndexWriteFailed`` that ingest reports in one line.
"""
from __future__ import annotations

import errno
import os
import queue

from whoosh.multiproc import MpWriter, SubWriterTask

from .errors import IndexWriteFailed

OS_ERROR_EXIT = 100  # worker exit code = 100 + errno for OSErrors
PUT_TIMEOUT = 0.25


class _QuietSubWriterTask(SubWriterTask):
    def run(self):
        try:
            super().run()
        except OSError as exc:
            os._exit(OS_ERROR_EXIT + min(exc.errno or errno.EIO, 150))
        except BaseException:
            os._exit(99)


class _WatchedQueue:
    """The job queue, whose ``put`` notices when nobody is left to take the job."""

    def __init__(self, jobs, tasks: list):
        self._jobs = jobs
        self._tasks = tasks

    def put(self, item) -> None:
        while True:
            try:
                self._jobs.put(item, timeout=PUT_TIMEOUT)
                return
            except queue.Full:
                check_workers(self._tasks)

    def get(self, *args, **kwargs):
        return self._jobs.get(*args, **kwargs)


class WatchedMpWriter(MpWriter):
    def __init__(self, ix, procs: int, **kwargs):
        super().__init__(ix, procs=procs, **kwargs)
        self.jobqueue = _WatchedQueue(self.jobqueue, self.tasks)

    def _new_task(self):
        task = _QuietSubWriterTask(self.storage, self.indexname, self.jobqueue, self.resultqueue,
                                   self.subargs, self.multisegment)
        self.tasks.append(task)
        task.start()
        return task

    def commit(self, *args, **kwargs):
        super().commit(*args, **kwargs)
        check_workers(self.tasks)

    def cancel(self):
        for task in self.tasks:
            if task.is_alive():
                task.kill()
                task.join(timeout=5)
        try:
            super().cancel()
        except (OSError, ValueError):  # a half-written segment cannot always be cancelled cleanly
            pass


def check_workers(tasks: list) -> None:
    """Raise if a worker process has died: OSError for its disk error, else IndexWriteFailed."""
    for task in tasks:
        code = task.exitcode
        if code in (None, 0):
            continue
        if code > OS_ERROR_EXIT:
            number = code - OS_ERROR_EXIT
            raise OSError(number, os.strerror(number))
        raise IndexWriteFailed(f"an indexing worker process failed (exit code {code}); "
                               f"the live index is untouched")
