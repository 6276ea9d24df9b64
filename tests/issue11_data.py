"""Indexes shared by the feed, export and trend tests (issue 11)."""
from __future__ import annotations

import itertools
from pathlib import Path

from indexer.ingest import reindex
from tests.conftest import needs_shared, write_jsonl

REUTERS_SLICE = 4000  # articles of the Reuters export: enough for real totals, quick to index

FORMULA_RECORDS = [
    {"id": "formula-eq", "title": "=HYPERLINK(\"http://evil.example/\",\"click\")", "body": "Zebra formula one.",
     "source": "=cmd|' /C calc'!A0", "published": "2001-01-01"},
    {"id": "formula-plus", "title": "+1 zebra gains", "body": "Zebra formula two.", "published": "2001-02-01"},
    {"id": "-formula-minus", "title": "-2 zebra losses", "body": "Zebra formula three.", "published": "2001-03-01"},
    {"id": "formula-at", "title": "@SUM(1+1) zebra", "body": "Zebra formula four, \"quoted\", with, commas\nand lines.",
     "author": "@admin", "published": "2001-04-01"},
    {"id": "formula-tab", "title": "zebra tab", "author": "-Mallory", "body": "Zebra formula five.", "published": "2001-05-01"},
]


def reuters_index(workdir: Path) -> Path:
    """The first REUTERS_SLICE articles of the shared Reuters export, indexed (skips when absent)."""
    export = needs_shared("export", "reuters", "docs.jsonl")
    source = workdir / "reuters" / "docs.jsonl"
    source.parent.mkdir(parents=True)
    with open(export, encoding="utf-8") as src, open(source, "w", encoding="utf-8") as dst:
        dst.writelines(itertools.islice(src, REUTERS_SLICE))
    index_dir = workdir / "index"
    reindex(index_dir, [source.parent])  # articles without a body are reported and skipped
    return index_dir


def formula_source(root: Path) -> Path:
    return write_jsonl(root / "formulas.jsonl", FORMULA_RECORDS).parent
