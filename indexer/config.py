"""Every setting, declared once, and the one :class:`Settings` object built from them.

Each :class:`Setting` in :data:`SETTINGS` has an environment variable
(``NEWSINDEX_<NAME>``), a default, a help text and its valid values. From that
table come the CLI options (:mod:`indexer.cli`), the web app's limits and its
OpenAPI document (:mod:`webapp`), and the README's configuration table, so a
setting cannot mean one thing in one place and another elsewhere.

A program builds one :class:`Settings` when it starts (defaults, then the
environment, then its own overrides: CLI options, ``create_app({...})``) and
passes it to the library: ``search(index, "cocoa", settings=settings)``. The
library reads nothing else; called without settings it uses the environment's
(:meth:`Settings.load` with no overrides).
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Callable

from .errors import UsageError

ENV_PREFIX = "NEWSINDEX_"


class SettingError(UsageError):
    """A setting has a value it cannot take; the message names where it came from."""

    code = "bad_setting"


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default, help, type and the values it may take."""

    name: str
    default: Any
    help: str
    type: Callable[[str], Any] = str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    def parse(self, raw: Any, origin: str) -> Any:
        """``raw`` (text from the environment, or a value given in code) checked and converted.

        ``origin`` says where it came from (``NEWSINDEX_PORT``, ``--port``,
        ``PORT``) so the message tells the user what to fix.
        """
        if isinstance(raw, os.PathLike):
            raw = os.fspath(raw)
        if isinstance(raw, str) and self.type is not str:
            try:
                value = self.type(raw.strip())
            except ValueError:
                raise SettingError(f"{origin}={raw!r} is not {_type_name(self.type)}; "
                                   f"{self.describe_values()}") from None
        elif self.type is int and (isinstance(raw, bool) or not isinstance(raw, int)):
            raise SettingError(f"{origin}={raw!r} is not a whole number; {self.describe_values()}")
        elif self.type is str and not isinstance(raw, str):
            raise SettingError(f"{origin}={raw!r} is not text; {self.describe_values()}")
        else:
            value = raw
        if self.choices and value not in self.choices:
            raise SettingError(f"{origin}={raw!r} is not allowed; {self.describe_values()}")
        if (self.minimum is not None and value < self.minimum) or \
                (self.maximum is not None and value > self.maximum):
            raise SettingError(f"{origin}={raw!r} is out of range; {self.describe_values()}")
        return value

    def describe_values(self) -> str:
        """What the setting accepts, for messages and help texts."""
        if self.choices:
            return f"{self.name} must be one of {', '.join(self.choices)}"
        if self.minimum is not None and self.maximum is not None:
            return f"{self.name} must be from {self.minimum:,} to {self.maximum:,}"
        if self.minimum is not None:
            return f"{self.name} must be {self.minimum:,} or more"
        return f"{self.name} is {_type_name(self.type)}"


def _type_name(kind: Callable) -> str:
    return {int: "a whole number", str: "text"}.get(kind, kind.__name__)


def _cpu_count() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


#: The declaration of every setting, in the order the README lists them.
SETTINGS: dict[str, Setting] = {s.name: s for s in [
    Setting("index", "index_data/index", "Directory holding the index (created by reindex)."),
    Setting("workers", _cpu_count(), "Processes used to analyse articles on large full builds.", int,
            minimum=1, maximum=64),
    Setting("keep_generations", 3, "Earlier generations kept for `newsindex rollback` (hard links make "
                                   "incremental ones cheap; 0 keeps none).", int, minimum=0, maximum=100),
    Setting("per_page", 10, "Results per page when the request does not say.", int, minimum=1, maximum=1000),
    Setting("max_per_page", 100, "Largest per_page a request may ask for.", int, minimum=1, maximum=1000),
    Setting("max_query_chars", 2000, "Longest query accepted, in characters.", int, minimum=10,
            maximum=100_000),
    Setting("cors_origins", "", "Comma-separated origins allowed to call /api/ from a browser "
                                "(empty: CORS off; * for any)."),
    Setting("host", "127.0.0.1", "Address `newsindex serve` listens on."),
    Setting("port", 8000, "Port `newsindex serve` listens on (0: any free port).", int, minimum=0,
            maximum=65535),
    Setting("web_workers", 2, "gunicorn worker processes for `newsindex serve`.", int, minimum=1, maximum=64),
    Setting("feedback", "off", "Pseudo-relevance feedback (RM3): off (plain BM25F), auto (natural-language "
                               "queries of three or more words) or on (every plain-word query).",
            choices=("off", "auto", "on")),
    Setting("language", "en", "Language of articles that do not state theirs and are too short (or too "
                              "mixed) to detect: an ISO 639-1 code such as en, de or fr."),
    Setting("max_query_terms", 1024, "Most words one search may look up, prefix expansions and OR-ed "
                                     "alternatives included (over it: a 400 saying what to narrow).", int,
            minimum=1, maximum=1_000_000),
    Setting("max_query_postings", 50_000_000, "Most postings one search may read (about 0.5 s of work "
                                              "on one core; over it: a 400 saying what to narrow).", int,
            minimum=1, maximum=10**12),
    Setting("query_timeout_ms", 2000, "The time one search may take: matching stops at 80 % of it (its "
                                      "remaining alternatives are skipped) so that the whole answer is out "
                                      "within it, flagged partial; 0 stops every search after its first "
                                      "alternative.", int, minimum=0, maximum=3_600_000),
    Setting("cache_size", 512, "Search results kept in memory per worker (0 disables the cache).", int,
            minimum=0, maximum=1_000_000),
    Setting("export_limit", 100_000, "Most articles one export (CSV or JSON Lines) writes; a search "
                                     "matching more is cut off there, with a notice.", int,
            minimum=1, maximum=100_000_000),
    Setting("base_url", "", "The site's public address (https://news.example.org/), used for the "
                            "links and ids in Atom feeds; empty: the address each request came to "
                            "(`newsindex search --format atom`: http://HOST:PORT/)."),
    Setting("debug", 0, "1: an unexpected error (a bug) ends in its Python traceback, for a bug report, "
                        "instead of one line.", int, minimum=0, maximum=1),
]}


@dataclass(frozen=True)
class Settings:
    """The values of every setting for one program run: immutable, hashable, passed around.

    Build it with :meth:`load`; the fields are exactly the names in :data:`SETTINGS`.
    """

    index: str
    workers: int
    keep_generations: int
    per_page: int
    max_per_page: int
    max_query_chars: int
    cors_origins: str
    host: str
    port: int
    web_workers: int
    feedback: str
    language: str
    max_query_terms: int
    max_query_postings: int
    query_timeout_ms: int
    cache_size: int
    export_limit: int
    base_url: str
    debug: int

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None,
             environ: Mapping[str, str] | None = None) -> "Settings":
        """Defaults, then ``NEWSINDEX_*`` from ``environ`` (the process's by default), then ``overrides``.

        ``overrides`` maps setting names (any case: ``"max_per_page"`` or
        ``"MAX_PER_PAGE"``) to values; ``None`` values are skipped, so unset
        CLI options fall through to the environment. Unknown names raise.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, setting in SETTINGS.items():
            raw = environ.get(setting.env)
            values[name] = setting.default if raw is None or raw == "" else setting.parse(raw, setting.env)
        for key, raw in (overrides or {}).items():
            name = key.lower()
            if name not in SETTINGS:
                raise SettingError(f"{key} is not a newsindex setting; the settings are "
                                   f"{', '.join(SETTINGS)}")
            if raw is not None:
                values[name] = SETTINGS[name].parse(raw, key)
        settings = cls(**values)
        settings.check()
        return settings

    def replace(self, **changes: Any) -> "Settings":
        """A copy with ``changes`` (checked like :meth:`load`'s overrides)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, raw in changes.items():
            if name not in SETTINGS:
                raise SettingError(f"{name} is not a newsindex setting")
            values[name] = SETTINGS[name].parse(raw, name)
        settings = type(self)(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Rules that involve two settings, or more than a type and a range."""
        if self.base_url and not _ABSOLUTE_URL.fullmatch(self.base_url):
            raise SettingError(f"base_url {self.base_url[:60]!r} is not an absolute web address; give one "
                               f"like https://news.example.org/ ({SETTINGS['base_url'].env}, --base-url)")
        if self.per_page > self.max_per_page:
            raise SettingError(f"per_page ({self.per_page}) is larger than max_per_page "
                               f"({self.max_per_page}); raise {SETTINGS['max_per_page'].env} or lower "
                               f"{SETTINGS['per_page'].env}")

    @property
    def feedback_mode(self) -> bool | None:
        """RM3 always (True), never (False) or for natural-language queries only (None: auto)."""
        return {"on": True, "off": False}.get(self.feedback)

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]


_ABSOLUTE_URL = re.compile(r"https?://[^\s/?#]+(?:/[^\s?#]*)?", re.IGNORECASE)


def debug_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``NEWSINDEX_DEBUG`` asks for tracebacks: read on its own, as the last resort of
    error reporting must work even when another setting is what is broken."""
    raw = (os.environ if environ is None else environ).get(SETTINGS["debug"].env, "").strip()
    return raw not in ("", "0")


if [f.name for f in fields(Settings)] != list(SETTINGS):  # pragma: no cover - a declaration slip
    raise AssertionError("Settings fields and SETTINGS declarations differ")
