"""`newsindex stats`: what the live index holds, read without writing anything."""
from __future__ import annotations

import os
from collections import Counter

from .schema import published_values
from .store import LiveIndex


def index_stats(index_dir: str | os.PathLike) -> dict:
    live = LiveIndex(index_dir)
    gen = live.current()
    searcher = gen.searcher()
    reader = searcher.reader()
    sources: Counter[str] = Counter()
    earliest = latest = None
    undated = 0
    source_col = reader.column_reader("source") if reader.has_column("source") else None
    dates = published_values(reader)
    for docnum in reader.all_doc_ids():
        if source_col is not None:
            sources[source_col[docnum]] += 1
        value = dates[docnum]
        if not value:
            undated += 1
            continue
        earliest = value if earliest is None or value < earliest else earliest
        latest = value if latest is None or value > latest else latest
    meta = gen.meta
    return {
        "index": str(live.store.root),
        "generation": gen.name,
        "articles": reader.doc_count(),
        "sources": [{"value": v, "count": c} for v, c in sources.most_common()],
        "date_range": {"from": _iso(earliest), "to": _iso(latest)},
        "undated": undated,
        "size_bytes": gen.size_bytes(),
        "schema_version": meta.get("schema_version"),
        "analyzer_version": meta.get("analyzer_version"),
        "built": meta.get("built"),
        "last_reindex": meta.get("last_reindex"),
    }


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
