"""GET /api/export and GET /api/histogram: every match as a file, and counts over time."""
from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.datastructures import MultiDict

from indexer.errors import NewsindexError
from indexer.exports import FORMATS, export
from indexer.search import QueryError
from indexer.trends import AUTO, INTERVALS, histogram as count_over_time

from . import app_settings, live_index
from .caching import current_state, etag_for, not_modified, with_validators
from .params import _choice, _whole_number, parse_search_args

bp = Blueprint("data", __name__)
DEFAULT_FORMAT = "csv"
BOOLEANS = {"true": True, "false": False}
EXPORT_HEADERS = ("X-Total-Count", "X-Export-Count", "X-Export-Truncated", "X-Export-Notice")


@bp.get("/export")
def export_matches():
    """Every match (up to NEWSINDEX_EXPORT_LIMIT) as CSV or JSON Lines, streamed.

    The counts are in the headers, which come before the rows: ``X-Total-Count`` (matches),
    ``X-Export-Count`` (rows in this file), ``X-Export-Truncated`` and, when cut off,
    ``X-Export-Notice`` saying why and what to do.
    """
    params = parse_search_args(request.args, app_settings())
    file_format = _choice(request.args, "format", DEFAULT_FORMAT, FORMATS)
    fields = ",".join(request.args.getlist("fields")) if "fields" in request.args else None
    with_body, bom = flag(request.args, "with_body"), flag(request.args, "bom")
    limit = (_whole_number(request.args, "limit", 1, 1, app_settings().export_limit)
             if "limit" in request.args else None)
    generation, built = current_state()
    unchanged = not_modified(etag_for(generation, built), built)
    if unchanged is not None:
        return unchanged
    prepared = export(live_index(), params.query, params.filters, params.sort, format=file_format,
                      fields=fields, with_body=with_body, bom=bom, limit=limit, settings=app_settings())
    response = Response(_stream(prepared), content_type=prepared.media_type)
    response.headers.set("Content-Disposition", "attachment", filename=prepared.filename())
    response.headers["X-Total-Count"] = str(prepared.total)
    response.headers["X-Export-Count"] = str(prepared.count)
    response.headers["X-Export-Truncated"] = "true" if prepared.truncated else "false"
    if prepared.truncated:
        response.headers["X-Export-Notice"] = prepared.notice()
    response.headers["Access-Control-Expose-Headers"] = ", ".join((*EXPORT_HEADERS, "Content-Disposition"))
    generation, built = prepared.matches.generation, prepared.matches.built
    return with_validators(response, etag_for(generation, built), built)


def _stream(prepared):
    """The export's chunks, the first one read before the response starts: damage found there is a
    503 like any other request's. Damage found after the headers went out cannot change the
    status any more: the file then ends with an error line (see Export.error_line), holds fewer
    rows than ``X-Export-Count``, and the damage is logged once. Never gunicorn's HTML 500."""
    chunks = prepared.chunks()
    first = next(chunks, b"")  # IndexUnreadable here is answered 503 index_unreadable
    app = current_app._get_current_object()

    def rest():
        yield first
        try:
            yield from chunks
        except NewsindexError as exc:
            app.logger.error("newsindex: export cut short: %s", exc)
            yield prepared.error_line(exc.code, str(exc))
        except Exception:  # noqa: BLE001 - a bug: logged, and the client still told
            app.logger.exception("newsindex: export cut short by an unexpected error")
            yield prepared.error_line("internal", "an unexpected error happened on the server; it has been logged")
    return rest()


@bp.get("/histogram")
def histogram():
    """Matching articles per period for one or more queries (repeat q), with the same filters as search."""
    params = parse_search_args(request.args, app_settings())
    queries = request.args.getlist("q") or [""]
    for query in queries:
        parse_search_args(MultiDict({"q": query}), app_settings())  # the same length check
    interval = _choice(request.args, "interval", AUTO, (AUTO, *INTERVALS))
    generation, built = current_state()
    unchanged = not_modified(etag_for(generation, built), built)
    if unchanged is not None:
        return unchanged
    result = count_over_time(live_index(), queries, interval, params.filters, settings=app_settings())
    return with_validators(jsonify(result.to_dict()), etag_for(result.generation, result.built), result.built)


def flag(args: Mapping, name: str) -> bool:
    """A boolean parameter: true or false (missing: false)."""
    raw = args.get(name)
    if raw is None:
        return False
    if raw not in BOOLEANS:
        raise QueryError(f"{name} must be true or false (got {raw[:20]!r})", name)
    return BOOLEANS[raw]
