"""HTTP validators for answers that change only when the index does (feeds, exports, histograms).

A feed reader polls every few minutes; between reindexes the answer to the
same address cannot change, so it gets ``304 Not Modified`` (with no search
run) until a reindex publishes a new generation. The ETag names the index
state (generation and build time, so an index rebuilt from scratch never
reuses one), this version of newsindex, the address and, for feeds, the
site address the links point to; ``Last-Modified`` is the generation's
build time. ``Cache-Control: no-cache`` lets clients and proxies keep the
answer but makes them ask again every time, which is what a 304 is for.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from flask import Response, request
from werkzeug.http import is_resource_modified

import indexer
from indexer.search import index_info

from . import live_index

CACHE_CONTROL = "no-cache"


def current_state() -> tuple[str, str | None]:
    """(generation, built) of the live index: cheap, without running a search."""
    info = index_info(live_index())
    return info["generation"], info["built"]


def etag_for(generation: str, built: str | None, *extra: str) -> str:
    """A strong entity tag for this address's answer from this index state."""
    payload = json.dumps([indexer.__version__, generation, built, request.path,
                          sorted(request.args.items(multi=True)), *extra])
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def not_modified(etag: str, built: str | None) -> Response | None:
    """A 304 when the client already holds this answer (If-None-Match, else If-Modified-Since)."""
    if is_resource_modified(request.environ, etag=etag, last_modified=_date(built)):
        return None
    return with_validators(Response(status=304), etag, built)


def with_validators(response: Response, etag: str, built: str | None) -> Response:
    response.set_etag(etag)
    response.last_modified = _date(built)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _date(built: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(built) if built else None
    except ValueError:
        return None
