"""Every setting, declared once: its environment variable, default and help.

The CLI options, the web app's config and the docs all read this table, so a
setting cannot drift between them. Environment variables are ``NEWSINDEX_*``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    type: Callable[[str], Any] = str

    @property
    def env(self) -> str:
        return "NEWSINDEX_" + self.name.upper()

    def value(self, environ: dict | None = None) -> Any:
        raw = (os.environ if environ is None else environ).get(self.env)
        if raw is None or raw == "":
            return self.default
        try:
            return self.type(raw)
        except ValueError:
            raise ValueError(f"{self.env}={raw!r} is not a valid {self.type.__name__}: {self.help}") from None


def _cpu_count() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


SETTINGS: dict[str, Setting] = {s.name: s for s in [
    Setting("index", "index_data/index", "Directory holding the index (created by reindex)."),
    Setting("workers", _cpu_count(), "Processes used to analyse articles on large full builds.", int),
    Setting("per_page", 10, "Results per page when the request does not say.", int),
    Setting("max_per_page", 100, "Largest per_page a request may ask for.", int),
    Setting("max_query_chars", 2000, "Longest query accepted, in characters.", int),
    Setting("cors_origins", "", "Comma-separated origins allowed to call /api/ from a browser "
                                "(empty: CORS off; * for any).", str),
    Setting("host", "127.0.0.1", "Address `newsindex serve` listens on.", str),
    Setting("port", 8000, "Port `newsindex serve` listens on.", int),
    Setting("web_workers", 2, "gunicorn worker processes for `newsindex serve`.", int),
    Setting("feedback", "auto", "Pseudo-relevance feedback (RM3): auto (natural-language queries of "
                                "three or more words), on (every plain-word query) or off.", str),
    Setting("language", "en", "Language of articles that do not state theirs and are too short (or too "
                              "mixed) to detect: an ISO 639-1 code such as en, de or fr.", str),
    Setting("max_query_terms", 1024, "Most words one search may look up, prefix expansions and OR-ed "
                                     "alternatives included (over it: a 400 saying what to narrow).", int),
    Setting("max_query_postings", 50_000_000, "Most postings one search may read (about 0.5 s of work "
                                              "on one core; over it: a 400 saying what to narrow).", int),
    Setting("query_timeout_ms", 2000, "A search still running after this long stops evaluating its "
                                      "remaining alternatives and answers with partial results.", int),
    Setting("cache_size", 512, "Search results kept in memory per worker (0 disables the cache).", int),
    Setting("export_limit", 100_000, "Most articles one export (CSV or JSON Lines) writes; a search "
                                     "matching more is cut off there, with a notice.", int),
    Setting("base_url", "", "The site's public address (https://news.example.org/), used for the "
                            "links and ids in Atom feeds; empty: the address each request came to "
                            "(`newsindex search --format atom`: http://HOST:PORT/).", str),
]}


def get(name: str, environ: dict | None = None) -> Any:
    return SETTINGS[name].value(environ)
