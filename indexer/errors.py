"""Errors users see: one clear sentence saying what happened and what to do next.

Everything the CLI, the pages and the API report to a person is a
:class:`NewsindexError`; anything else reaching the top is a bug.
"""
from __future__ import annotations


class NewsindexError(Exception):
    """Base class: ``str(error)`` is the message shown to the user."""

    code = "error"


class UsageError(NewsindexError):
    """The request itself is wrong (a bad option, query or setting): exit 2 / HTTP 400."""

    code = "bad_request"


class NotAnIndexDirectory(UsageError):
    """``--index`` (or a publish destination) names a folder that holds something else."""

    code = "not_an_index"


class IndexNotFound(NewsindexError):
    code = "no_index"


class IndexVersionMismatch(NewsindexError):
    code = "index_version"


class IndexUnreadable(NewsindexError):
    code = "index_unreadable"


class ReindexRunning(NewsindexError):
    code = "reindex_running"


class SourceNotFound(UsageError):
    code = "source_not_found"


class IndexWriteFailed(NewsindexError):
    code = "index_write_failed"


class DeletionsRefused(NewsindexError):
    """A reindex would delete too much of a source; nothing was written (see ``--allow-deletes``)."""

    code = "deletions_refused"
