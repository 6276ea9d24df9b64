"""The search site and JSON API: a thin Flask layer over :mod:`indexer.search`.

One :class:`~indexer.live.LiveIndex` per app (so per gunicorn worker) serves
every request; it notices a reindex made by another process by itself, so the
server never needs a restart. The app only reads the index and never imports
Whoosh.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flask import Flask, abort, current_app, request, url_for
from werkzeug.routing import PathConverter

from indexer.config import SETTINGS, Settings
from indexer.errors import NewsindexError
from indexer.live import LiveIndex
from indexer.search import warm
from indexer.trends import MAX_QUERIES

from . import errors

EXTENSION = "newsindex"
SETTINGS_EXTENSION = "newsindex.settings"
MAX_CONTENT_LENGTH = 64 * 1024  # every endpoint is a GET: a body is never read
BYTES_PER_QUERY_CHAR = 12  # a 4-byte UTF-8 character, percent-encoded
URL_OVERHEAD_BYTES = 4096  # the path and the parameters other than q

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "img-src 'self' data:", "object-src 'none'", "frame-ancestors 'none'",
    "form-action 'self'", "base-uri 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
CORS_MAX_AGE_SECONDS = 600
_Q_PARAMETER = re.compile(rb"(?:^|&)q=")  # comparisons carry several


def create_app(config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """The WSGI app over one :class:`~indexer.config.Settings`, which every request passes to the library.

    ``settings`` default to the environment's (``NEWSINDEX_*``); ``config``
    keys named like a setting, upper-cased (``INDEX``, ``PER_PAGE``,
    ``MAX_PER_PAGE``, ``FEEDBACK``, ``CACHE_SIZE`` …), override them; the
    other keys are Flask's own (``TESTING``).
    """
    config = dict(config or {})
    overrides = {key: config.pop(key) for key in list(config) if key.lower() in SETTINGS}
    settings = (settings or Settings.load()).replace(**{k.lower(): v for k, v in overrides.items()})
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH, DEBUG=False)  # FLASK_DEBUG must not turn it on
    app.config.update(config)
    # room for the longest query; /api/histogram and /trends get it for each q, up to MAX_QUERIES
    app.config["MAX_URL_BYTES"] = settings.max_query_chars * BYTES_PER_QUERY_CHAR + URL_OVERHEAD_BYTES
    app.extensions[SETTINGS_EXTENSION] = settings
    app.json.sort_keys = False  # keep the documented field order
    # Article ids are file paths; "a//b" must reach the view as it is, not be redirected.
    app.url_map.merge_slashes = False
    app.url_map.converters["article_id"] = ArticleIdConverter
    app.extensions[EXTENSION] = LiveIndex(settings.index)

    from . import api, compare, data, feeds, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp, url_prefix=api.PREFIX)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(data.bp, url_prefix=api.PREFIX)
    app.register_blueprint(compare.bp)
    errors.register(app)
    app.before_request(_refuse_oversized_requests)
    app.after_request(_add_security_headers)
    app.after_request(_add_cors_headers)
    app.after_request(_answer_options)
    return app


class ArticleIdConverter(PathConverter):
    """Article ids are paths: their slashes stay readable in links, except next to a '.' or '..'
    segment, which a browser would resolve away, so those ids go fully encoded (the site's own
    links to them use ``?id=`` instead: see :func:`article_url`).

    Unlike Werkzeug's ``path``, an id may start with a slash (``/2024/03/story``, common in
    exports of a site's URLs) or hold empty segments: the link is ``/articles//2024/03/story``,
    and ``merge_slashes`` is off so it arrives as it is.
    """

    regex = ".+?"
    part_isolating = False  # Werkzeug infers True from a regex without "/"

    def to_url(self, value: str) -> str:
        if any(part in (".", "..") for part in str(value).split("/")):
            return quote(str(value), safe="")
        return super().to_url(value)


def has_dot_segment(article_id: str) -> bool:
    """Whether a path form of the id has a '.' or '..' segment, which no path can carry intact.

    Browsers resolve such segments away, and per the WHATWG URL standard also their encoded
    forms (``%2e``, ``.%2e``, ``%2E%2E``); proxies such as nginx decode ``%2F`` and resolve
    them too. So ``/articles/..`` cannot be clicked, however it is encoded.
    """
    return any(part in (".", "..") for part in article_id.split("/"))


def article_url(article_id: str, **args) -> str:
    """The site's link to an article: ``/articles/<id>``, or ``/articles?id=<id>`` for an id with a
    dot segment (``..``, ``a/./b``), since a query string is never normalised by anyone."""
    if has_dot_segment(article_id):
        return url_for("pages.article_by_id", id=article_id, **args)
    return url_for("pages.article", article_id=article_id, **args)


def live_index() -> LiveIndex:
    """The app's index handle (one per process, shared by its requests)."""
    return current_app.extensions[EXTENSION]


def app_settings(app: Flask | None = None) -> Settings:
    """The settings the app was created with (the same object for every request)."""
    return (app or current_app).extensions[SETTINGS_EXTENSION]


def warm_index(app: Flask) -> None:
    """Pay the first search's start-up cost now rather than on a visitor's request.

    Warming is only an optimisation, so it never stops a worker from starting:
    without a usable index the app answers 503 until a reindex creates one,
    and an unexpected failure is logged and left to the requests to report.
    """
    try:
        warm(app.extensions[EXTENSION], app_settings(app))
    except NewsindexError as exc:
        app.logger.info("newsindex: not warmed: %s", exc)  # the requests answer 503 saying why
    except Exception:
        app.logger.exception("newsindex: warming the index failed")


def _refuse_oversized_requests() -> None:
    """GET requests only: a long URL or any sizeable body is a mistake or an attack."""
    if (request.content_length or 0) > current_app.config["MAX_CONTENT_LENGTH"]:
        abort(413, description=f"the request body is over {current_app.config['MAX_CONTENT_LENGTH'] // 1024} KB; "
                               f"this service only answers GET requests without a body")
    url_bytes = len(request.path.encode("utf-8", "surrogateescape")) + len(request.query_string)
    queries = min(max(1, len(_Q_PARAMETER.findall(request.query_string))), MAX_QUERIES)
    per_query = app_settings().max_query_chars * BYTES_PER_QUERY_CHAR
    limit = current_app.config["MAX_URL_BYTES"] + (queries - 1) * per_query
    if url_bytes > limit:
        abort(414, description=f"the address is {url_bytes:,} bytes long; the limit is "
                               f"{limit:,}: shorten the query")


def _add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _answer_options(response):
    """OPTIONS is answered by its headers (Allow, and CORS's): 204 No Content, not Flask's empty
    200 labelled text/html, which a JSON client under /api/ would try to parse."""
    if request.method == "OPTIONS" and response.status_code == 200 and not response.get_data():
        response.status_code = 204
        response.headers.pop("Content-Type", None)
    return response


def _add_cors_headers(response):
    """Allow configured origins to call /api/ from a browser (CORS is off unless configured)."""
    origin = request.headers.get("Origin")
    allowed = app_settings().cors_origin_list
    if not errors.is_api_request() or not allowed:
        return response
    response.vary.add("Origin")
    if not origin or ("*" not in allowed and origin not in allowed):
        return response
    response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
    if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        requested = request.headers.get("Access-Control-Request-Headers")
        if requested:
            response.headers["Access-Control-Allow-Headers"] = requested
        response.headers["Access-Control-Max-Age"] = str(CORS_MAX_AGE_SECONDS)
    return response
