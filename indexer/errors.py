"""Errors users see: one clear sentence saying what happened and what to do next.

Everything the CLI, the pages and the API report to a person is a
:class:`NewsindexError`; anything else reaching the top is a bug.
"""
from __future__ import annotations


class NewsindexError(Exception):
    """Base class: ``str(error)`` is the message shown to the user."""

    code = "error"


class IndexNotFound(NewsindexError):
    code = "no_index"


class IndexVersionMismatch(NewsindexError):
    code = "index_version"


class IndexUnreadable(NewsindexError):
    code = "index_unreadable"


class ReindexRunning(NewsindexError):
    code = "reindex_running"


class SourceNotFound(NewsindexError):
    code = "source_not_found"


class IndexWriteFailed(NewsindexError):
    code = "index_write_failed"


class WouldDropArticles(NewsindexError):
    """A reindex that would delete what looks like a vanished source; nothing was changed."""

    code = "would_drop_articles"


class BadSetting(NewsindexError):
    """A setting (NEWSINDEX_*) has a value newsindex cannot use; nothing was done."""

    code = "bad_setting"
