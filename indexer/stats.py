"""`newsindex stats`: what the live index holds, read without writing anything."""
from __future__ import annotations

import os
from datetime import datetime, timezone

import numpy as np

from .live import LiveIndex


def index_stats(index_dir: str | os.PathLike) -> dict:
    live = LiveIndex(index_dir)
    gen = live.current()
    corpus = gen.corpus
    alive = corpus.live
    counts = np.bincount(corpus.source_codes[alive], minlength=len(corpus.source_names))
    sources = sorted(((name or "(no source)", int(c)) for name, c in zip(corpus.source_names, counts) if c),
                     key=lambda vc: (-vc[1], vc[0]))
    languages = [{"value": code, "count": n} for code, n in corpus.languages().items()]
    stamps = corpus.timestamps[alive]
    dated = stamps[~np.isnan(stamps)]
    meta = gen.meta
    return {
        "index": str(live.store.root),
        "generation": gen.name,
        "articles": corpus.count,
        "sources": [{"value": v, "count": c} for v, c in sources],
        "languages": languages,
        "default_language": gen.meta.get("default_language"),
        "date_range": {"from": _iso(dated.min()) if len(dated) else None,
                       "to": _iso(dated.max()) if len(dated) else None},
        "undated": int(len(stamps) - len(dated)),
        "segments": len(gen.segments),
        "size_bytes": gen.size_bytes(),
        "schema_version": meta.get("schema_version"),
        "analyzer_version": meta.get("analyzer_version"),
        "built": meta.get("built"),
        "last_reindex": meta.get("last_reindex"),
    }


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(float(timestamp), tz=timezone.utc).isoformat().replace("+00:00", "Z")
