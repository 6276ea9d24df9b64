"""Every way a request can fail, answered in one place.

Under ``/api/`` the answer is always JSON, ``{"error": {"code", "message"}}``
(plus ``param`` when one request parameter is to blame); everywhere else it
is a page in the site's layout. Never a traceback: unexpected exceptions are
logged and answered with a 500 that says nothing about the internals.
"""
from __future__ import annotations

import re
from typing import NoReturn

from flask import Flask, Response, abort, current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from indexer.errors import IndexNotFound, NewsindexError
from indexer.search import QueryError

API_PREFIX = "/api"

CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
         414: "uri_too_long", 500: "internal"}
TITLES = {400: "That request could not be run", 404: "Page not found", 405: "Method not allowed",
          413: "Request too large", 414: "Address too long", 500: "Something went wrong",
          503: "Search is not available"}
INTERNAL_MESSAGE = "an unexpected error happened on the server; it has been logged"


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def error_body(code: str, message: str, param: str | None = None) -> dict:
    """The one JSON error shape (documented as ``Error`` in the OpenAPI document)."""
    error = {"code": code, "message": message}
    if param:
        error["param"] = param
    return {"error": error}


def error_response(status: int, code: str, message: str, param: str | None = None,
                   headers: dict | None = None, title: str | None = None) -> Response:
    if is_api_request():
        response = jsonify(error_body(code, message, param))
        response.status_code = status
    else:
        page = render_template("error.html", status=status, title=title or TITLES.get(status, "Error"),
                               message=message, code=code)
        response = make_response(page, status)
    response.headers.update(headers or {})
    return response


def article_not_found(article_id: str) -> NoReturn:
    abort(404, description=f"no article has the id {article_id!r}")


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(QueryError, _query_error)
    app.register_error_handler(NewsindexError, _index_error)
    app.register_error_handler(Exception, _unexpected)


def _http_error(exc: HTTPException):
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return error_response(exc.code, CODES.get(exc.code) or _snake(exc.name), _http_message(exc), headers=headers)


def _http_message(exc: HTTPException) -> str:
    if exc.description != type(exc).description:  # raised with our own words
        return exc.description
    if exc.code == 404:
        return f"there is nothing at {request.path}; check the address"
    if exc.code == 405:
        allowed = ", ".join(m for m in exc.valid_methods or () if m not in ("HEAD", "OPTIONS")) or "GET"
        return f"{request.method} is not allowed here; use {allowed}"
    return exc.description or exc.name


def _query_error(exc: QueryError):
    return error_response(400, exc.code, str(exc), param=exc.param)


def _index_error(exc: NewsindexError):
    """No usable index (not built yet, damaged, or from another version): 503 until a reindex."""
    title = "No index yet" if isinstance(exc, IndexNotFound) else None
    if exc.__cause__ is not None:  # damage found while reading (indexer.live.reads_index): say where
        current_app.logger.error("%s %s: %s", request.method, request.path, exc, exc_info=exc.__cause__)
    return error_response(503, exc.code, str(exc), title=title)


def _unexpected(exc: Exception):
    current_app.logger.exception("unexpected error while answering %s %s", request.method, request.path)
    return error_response(500, CODES[500], INTERNAL_MESSAGE)


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
