"""How a reindex shows progress: a bar on a terminal, plain lines in logs, nothing when quiet.

The library reports through the :class:`~indexer.ingest.Progress` protocol;
these are the CLI's implementations of it.
"""
from __future__ import annotations

import os
import sys
import time

import click


PHASE_LINES = {"reading": "reading the sources…", "indexing": "indexing {total:,} {articles}…",
               "committing": "committing the new index…"}


def phase_unit(name: str) -> str:
    """What a phase counts: merges (``merging body``, from ``optimize``) go term by term."""
    return "terms" if name.startswith("merging") else "articles"


def phase_line(name: str, total: int | None) -> str:
    """The line announcing a phase; phases without a line of their own name their count."""
    if name in PHASE_LINES:
        return PHASE_LINES[name].format(total=total or 0, articles="article" if total == 1 else "articles")
    return f"{name} ({total:,} {phase_unit(name)})…" if total else f"{name}…"


class LineProgress:
    """Plain progress lines for logs and pipes: one as each phase starts, then one every few seconds."""

    INTERVAL = 2.0

    def __init__(self):
        self.name, self.total, self.done = "", None, 0
        self.started = self.last = time.monotonic()

    def phase(self, name, total):
        self.name, self.total, self.done = name, total, 0
        self.started = self.last = time.monotonic()
        click.echo(phase_line(name, total), err=True)

    def advance(self, n=1):
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.INTERVAL:
            self.last = now
            rate = self.done / max(now - self.started, 1e-9)
            unit = phase_unit(self.name)
            line = f"{self.name}: {self.done:,}"
            if self.total:
                eta = (self.total - self.done) / rate if rate else 0
                line += f"/{self.total:,} {unit} ({rate:,.0f}/s, ETA {eta:.0f} s)"
            else:
                line += f" {unit} ({rate:,.0f}/s)"
            click.echo(line, err=True)

    def note(self, message):
        click.echo(message, err=True)

    def close(self):
        pass


class BarProgress:
    """A tqdm bar on a terminal: count, rate, ETA."""

    def __init__(self):
        self.bar = None

    def phase(self, name, total):
        from tqdm import tqdm

        self.close()
        if name == "committing":
            click.echo("committing the new index…", err=True)
            return
        sized = _tty_columns() > 0  # a pty may report no size: then a fixed width
        self.bar = tqdm(total=total, desc=name, unit=" " + phase_unit(name), unit_scale=False,
                        file=sys.stderr, dynamic_ncols=sized, ncols=None if sized else 80,
                        nrows=None if sized else 24, leave=False, mininterval=0.2)

    def advance(self, n=1):
        if self.bar is not None:
            self.bar.update(n)

    def note(self, message):
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            click.echo(message, err=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _tty_columns() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        return 0


def make_progress(quiet: bool):
    """Nothing when quiet; a bar on a terminal; lines otherwise."""
    from .ingest import SilentProgress

    if quiet:
        return SilentProgress()
    return BarProgress() if sys.stderr.isatty() else LineProgress()
