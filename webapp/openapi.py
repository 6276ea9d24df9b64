"""The OpenAPI 3.1 document served at /api/openapi.json.

Built from the same constants that :mod:`webapp.params` enforces and the
library's own limits, so the limits it states are the limits applied. It
describes every route of the app (the HTML pages too, as ``text/html``)
except ``/static/``; response schemas are closed (``additionalProperties:
false``) so a field added to a library ``to_dict()`` shows up as a failing
test until it is documented here.
"""
from __future__ import annotations

import indexer
from indexer.analysis import LANGUAGES
from indexer.config import Settings
from indexer.exports import FIELDS, FORMATS, HIT_FIELDS
from indexer.feeds import FEED_ENTRIES
from indexer.search import MAX_RESULT_WINDOW, MIN_PREFIX_CHARS, SORTS
from indexer.trends import AUTO, INTERVALS, MAX_BUCKETS, MAX_QUERIES

from .compare import MAX_SERIES, NORMALISE_ON
from .params import CORRECT_CHOICES, DATE_PATTERN, DEFAULT_CORRECT, DEFAULT_SORT, MAX_PAGE

JSON = "application/json"
HTML = "text/html"
NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}
LANGUAGE = {"type": "string", "enum": sorted(LANGUAGES),
            "description": "ISO 639-1 code of the article's language: stated by its data, or detected from "
                           "its text (NEWSINDEX_LANGUAGE when too short to tell)."}

RESPONSE_NAMES = {"400": "BadRequest", "404": "NotFound", "413": "PayloadTooLarge", "414": "URITooLong",
                  "500": "InternalError", "503": "NoUsableIndex"}
ERROR_STATUSES = {
    "400": "A parameter is wrong; `error.param` names it and `error.message` says why.",
    "404": "No such article, or no such route.",
    "413": "The request carries a body larger than allowed (every operation is a GET and reads none).",
    "414": "The address (path and query string) is longer than allowed; the message gives the limit.",
    "500": "An unexpected error (logged on the server); the message gives no internals.",
    "503": "No usable index: not built yet, damaged, or built by another version. "
           "`error.code` is `no_index`, `index_unreadable` or `index_version`.",
}


def openapi_document(settings: Settings) -> dict:
    """The whole document, with the limits configured for this app."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "newsindex",
            "version": indexer.__version__,
            "description": (
                "Full-text search over a news archive. Every operation is a GET; unknown query "
                "parameters are ignored; dates are ISO 8601 (UTC). Errors are always "
                "`{\"error\": {\"code\", \"message\"}}` under /api/ (405 with an `Allow` header for "
                "other methods). Article ids are relative file paths and may contain `/`."),
        },
        "tags": [{"name": "api", "description": "JSON, and exports as CSV or JSON Lines"},
                 {"name": "feeds", "description": "Atom 1.0 feeds of searches"},
                 {"name": "pages", "description": "The web site (HTML, works without JavaScript)"}],
        "paths": {**_api_paths(settings), **_page_paths()},
        "components": {
            "parameters": _parameters(settings),
            "schemas": _schemas(settings),
            "responses": {**{RESPONSE_NAMES[status]: _json_response(text, "Error")
                             for status, text in ERROR_STATUSES.items()},
                          "NotModified": {"description": NOT_MODIFIED, "headers": VALIDATOR_HEADERS}},
        },
    }


NOT_MODIFIED = ("Not Modified: the client's copy (If-None-Match, or else If-Modified-Since) is still "
                "current; nothing was searched. It stays current until a reindex changes the index.")
VALIDATOR_HEADERS = {
    "ETag": {"description": "Names this answer from this state of the index.", "schema": {"type": "string"}},
    "Last-Modified": {"description": "When the live index was built.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "no-cache: keep it, but ask again (a 304 is cheap).",
                      "schema": {"type": "string"}},
}
EXPORT_HEADERS = {
    **VALIDATOR_HEADERS,
    "X-Total-Count": {"description": "Every article the search matches.", "schema": {"type": "integer"}},
    "X-Export-Count": {"description": "The articles in this file.", "schema": {"type": "integer"}},
    "X-Export-Truncated": {"description": "true when the file holds fewer than X-Total-Count.",
                           "schema": {"type": "string", "enum": ["true", "false"]}},
    "X-Export-Notice": {"description": "Only when truncated: why, and what to do.", "schema": {"type": "string"}},
    "Content-Disposition": {"description": "attachment; filename=newsindex-QUERY.csv (or .jsonl).",
                            "schema": {"type": "string"}},
}
CSV, JSONL, ATOM = "text/csv", "application/x-ndjson", "application/atom+xml"


def _api_paths(settings: Settings) -> dict:
    search_params = ["q", "page", "per_page", "sort", "source", "lang", "from", "to", "correct"]
    return {
        "/api/export": {"get": {
            "operationId": "exportMatches", "tags": ["api"], "summary": "Every matching article, as a file",
            "description": (
                "Every article the search matches (not one page), in the order of `sort`, streamed as CSV "
                "(RFC 4180, a header row, CRLF line ends, UTF-8; cells starting with = + - @, a tab or a "
                "carriage return are prefixed with ' against formula injection) or JSON Lines (one JSON "
                "object per line, the fields of a search hit). At most "
                f"{settings.export_limit:,} articles (NEWSINDEX_EXPORT_LIMIT): the headers say how many "
                "matched and how many the file holds. `from` after `to` is a 400. If the index turns out "
                "damaged after the headers went out, the file ends with an error line (JSON Lines: "
                "{\"error\": {\"code\": \"index_unreadable\", ...}}; CSV: a row starting #error) and holds "
                "fewer rows than X-Export-Count; damage found before is a 503."),
            "parameters": [_ref("parameters", p) for p in
                           ["q", "sort", "source", "lang", "from", "to", "format", "fields", "with_body", "bom",
                            "limit"]],
            "responses": {
                "200": {"description": "The file (an attachment).", "headers": EXPORT_HEADERS,
                        "content": {CSV: {"schema": {"type": "string"}}, JSONL: {"schema": {"type": "string"}}}},
                "304": _ref("responses", "NotModified"),
                **{status: _ref("responses", RESPONSE_NAMES[status]) for status in ["400", "413", "414", "500", "503"]},
            }}},
        "/api/histogram": {"get": {
            "operationId": "histogram", "tags": ["api"], "summary": "Matching articles over time",
            "description": (
                "For each `q` (repeat it to compare, up to "
                f"{MAX_QUERIES}), the articles it matches per period, in UTC: every period from the `from` "
                "date (or the first dated match) to the `to` date (or the last), empty ones as 0. "
                "`per_1000` divides by `articles`, every article of the period under the same filters. "
                "Undated articles are in no period: `sum(counts) + undated = total`. `from` after `to` is a "
                f"400, and so is an interval that would make more than {MAX_BUCKETS:,} periods."),
            "parameters": [_ref("parameters", p) for p in ["queries", "interval", "source", "lang", "from", "to"]],
            "responses": {
                "200": {"description": "OK", "headers": VALIDATOR_HEADERS,
                        "content": {JSON: {"schema": _ref("schemas", "Histogram")}}},
                "304": _ref("responses", "NotModified"),
                **{status: _ref("responses", RESPONSE_NAMES[status]) for status in ["400", "413", "414", "500", "503"]},
            }}},
        "/api/search": {"get": _operation(
            "searchArticles", "Search the archive",
            "Ranked, highlighted results with facets. Only the first "
            f"{MAX_RESULT_WINDOW:,} results are paged to: a page beyond them (`page` × `per_page` > "
            f"{MAX_RESULT_WINDOW:,}) comes back with no hits and a notice, like any page past the last. "
            "`from` after `to` is a 400.",
            search_params, "SearchResults", ["400", "413", "414", "500", "503"])},
        "/api/articles/{id}": {"get": _operation(
            "getArticle", "One article", "The whole article; the terms of `q` are marked in the *_html fields. "
            "Every id is found at its own path, one ending in `/related` included (see getRelatedArticles).",
            ["id", "highlight"], "Article", ["400", "404", "413", "414", "500", "503"])},
        "/api/articles": {"get": _operation(
            "getArticleById", "One article, its id as a parameter",
            "The same as getArticle, for any id sent as `?id=`: a query string is never rewritten, while "
            "browsers (and their `fetch`) resolve a path segment `.` or `..`, even sent as `%2E%2E`, and "
            "proxies may decode `%2F` first. The site links articles with such ids this way.",
            ["id_query", "highlight"], "Article", ["400", "404", "413", "414", "500", "503"])},
        "/api/articles/{id}/related": {
            "get": {**_operation(
                "getRelatedArticles", "Articles like this one",
                "Up to 5 articles most like this one, best first. When `{id}/related` is itself an "
                "article's id, this address is that article (the full path names an article first), so "
                "the answer is an Article; `/api/related?id=` always means the related articles.",
                ["id"], "RelatedArticles", ["404", "413", "414", "500", "503"]),
                "responses": {
                    "200": {"description": "OK: the related articles, or the article `{id}/related`",
                            "content": {JSON: {"schema": {"oneOf": [_ref("schemas", "RelatedArticles"),
                                                                    _ref("schemas", "Article")]}}}},
                    **{status: _ref("responses", RESPONSE_NAMES[status])
                       for status in ["404", "413", "414", "500", "503"]}},
            }},
        "/api/related": {"get": _operation(
            "getRelatedArticlesById", "Articles like this one, its id as a parameter",
            "Up to 5 articles most like the article `id`, best first: never read as an article's address, "
            "whatever the id ends with.",
            ["id_query"], "RelatedArticles", ["400", "404", "413", "414", "500", "503"])},
        "/api/health": {"get": _operation(
            "getHealth", "Is an index being served?", "200 while a usable index is served, 503 otherwise.",
            [], "Health", ["413", "414", "500", "503"])},
        "/api/openapi.json": {"get": _operation(
            "getOpenAPI", "This document", "The OpenAPI 3.1 description of this service.",
            [], "OpenAPIDocument", ["413", "414", "500"])},
    }


def _page_paths() -> dict:
    html_errors = ["413", "414", "500", "503"]
    return {
        "/": {"get": _page("homePage", "Home: the search box and how many articles are indexed", [],
                           html_errors)},
        "/search": {"get": _page("searchPage", "Results page (no q and no filter: the bare search page)",
                                 ["q", "page", "per_page", "sort", "source", "lang", "from", "to", "correct"],
                                 ["400", *html_errors])},
        "/articles/{id}": {"get": _page("articlePage", "One article with related articles",
                                        ["id", "highlight"], ["400", "404", *html_errors])},
        "/articles": {"get": _page("articlePageById", "One article with related articles, its id as a "
                                   "parameter: how the site links ids with a `.` or `..` segment",
                                   ["id_query", "highlight"], ["400", "404", *html_errors])},
        "/help": {"get": _page("helpPage", "How to write queries", [], ["413", "414", "500"])},
        "/trends": {"get": _page("comparePage", "Compare over time: up to five searches as lines on one chart",
                                 ["compare_queries", "interval", "normalize", "source", "lang", "from", "to"],
                                 ["400", *html_errors])},
        "/search.atom": {"get": {
            "operationId": "searchFeed", "tags": ["feeds"], "summary": "A search as an Atom feed",
            "description": (
                f"The {FEED_ENTRIES} newest matches by when newsindex first indexed them (an update keeps "
                "an article's place and entry id), as Atom 1.0 (RFC 4287) with OpenSearch totals. The same "
                "parameters as the results page; page, per_page and sort do not change a feed. `from` "
                "after `to` is a 400."),
            "parameters": [_ref("parameters", p) for p in ["q", "source", "lang", "from", "to"]],
            "responses": {
                "200": {"description": "The feed", "headers": VALIDATOR_HEADERS,
                        "content": {ATOM: {"schema": {"type": "string"}}}},
                "304": _ref("responses", "NotModified"),
                **{status: {"description": f"An error page in the site's layout (HTTP {status})",
                            "content": {HTML: {"schema": {"type": "string"}}}}
                   for status in ["400", "413", "414", "500", "503"]},
            }}},
    }


def _operation(operation_id: str, summary: str, description: str, params: list[str], schema: str,
               errors: list[str]) -> dict:
    return {
        "operationId": operation_id, "tags": ["api"], "summary": summary, "description": description,
        "parameters": [_ref("parameters", p) for p in params],
        "responses": {"200": _json_response("OK", schema),
                      **{status: _ref("responses", RESPONSE_NAMES[status]) for status in errors}},
    }


def _page(operation_id: str, summary: str, params: list[str], errors: list[str]) -> dict:
    def page(description: str) -> dict:
        return {"description": description, "content": {HTML: {"schema": {"type": "string"}}}}

    return {
        "operationId": operation_id, "tags": ["pages"], "summary": summary,
        "parameters": [_ref("parameters", p) for p in params],
        "responses": {"200": page("The page"),
                      **{status: page(f"An error page in the site's layout (HTTP {status})")
                         for status in errors}},
    }


def _parameters(settings: Settings) -> dict:
    query = {"type": "string", "maxLength": settings.max_query_chars}
    date = {"type": "string", "pattern": DATE_PATTERN}
    return {
        "q": {"name": "q", "in": "query", "schema": query,
              "description": "The query, in the query language described at /help. Empty or missing: "
                             "every article the filters allow (by relevance, that is newest first). "
                             "Odd input is never an error (a notice says what was changed); a 400 naming "
                             f"q says what to change for a prefix with fewer than {MIN_PREFIX_CHARS} letters "
                             "before the `*` (`a*`), a `published:` date that is not one or a range "
                             "that ends before it starts, "
                             "a query longer than maxLength, and one that would read more words or "
                             "postings than the server's limits."},
        "highlight": {"name": "q", "in": "query", "schema": query,
                      "description": "A query whose terms to mark in title_html and body_html."},
        "page": {"name": "page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                 "description": f"Page of results. Pages past the last result, or past the first "
                                f"{MAX_RESULT_WINDOW:,} results, have no hits."},
        "per_page": {"name": "per_page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": settings.max_per_page,
                                "default": settings.per_page},
                     "description": "Results per page."},
        "sort": {"name": "sort", "in": "query",
                 "schema": {"type": "string", "enum": list(SORTS), "default": DEFAULT_SORT},
                 "description": "Order of results; the dates sorts put undated articles last."},
        "correct": {"name": "correct", "in": "query",
                    "schema": {"type": "string", "enum": list(CORRECT_CHOICES), "default": DEFAULT_CORRECT},
                    "description": "`on`: when nothing matches `q` and a correction of a misspelled word is "
                                   "confident, the correction's results are returned instead (`corrected_from` "
                                   "is then set). `off`: always the results of `q` as typed (\"search instead "
                                   "for\"); a correction is still offered in `suggestion`."},
        "source": {"name": "source", "in": "query", "style": "form", "explode": True,
                   "schema": {"type": "array", "items": {"type": "string"}},
                   "description": "Only articles from these sources (repeat the parameter for several)."},
        "lang": {"name": "lang", "in": "query", "style": "form", "explode": True,
                 "schema": {"type": "array", "items": {"type": "string", "enum": sorted(LANGUAGES)}},
                 "description": "Only articles in these languages (ISO 639-1 codes; repeat the parameter for "
                                "several): the query is analysed in these languages only (in the query "
                                "language: `lang:de`)."},
        "from": {"name": "from", "in": "query", "schema": date,
                 "description": "Published on or after this day, month (its first day) or year (UTC)."},
        "to": {"name": "to", "in": "query", "schema": date,
               "description": "Published on or before this day, month (its last day) or year (UTC)."},
        "queries": {"name": "q", "in": "query", "style": "form", "explode": True,
                    "schema": {"type": "array", "items": query, "maxItems": MAX_QUERIES},
                    "description": "The queries to count, one series each (repeat q); none or an empty one: "
                                   "every article the filters allow."},
        "compare_queries": {"name": "q", "in": "query", "style": "form", "explode": True,
                            "schema": {"type": "array", "items": query, "maxItems": MAX_SERIES},
                            "description": f"Up to {MAX_SERIES} searches (repeat q); empty ones are left out."},
        "interval": {"name": "interval", "in": "query",
                     "schema": {"type": "string", "enum": [AUTO, *INTERVALS], "default": AUTO},
                     "description": "Length of a period: auto picks the finest with at most 120 periods; "
                                    "weeks are ISO weeks (Monday to Sunday, keyed 2024-W09)."},
        "normalize": {"name": "normalize", "in": "query", "schema": {"type": "string", "enum": [NORMALISE_ON]},
                      "description": "Draw articles per 1,000 articles of the period instead of counts."},
        "format": {"name": "format", "in": "query",
                   "schema": {"type": "string", "enum": list(FORMATS), "default": "csv"},
                   "description": "csv (text/csv) or jsonl (application/x-ndjson)."},
        "fields": {"name": "fields", "in": "query", "style": "form", "explode": False,
                   "schema": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(FIELDS)}},
                   "description": "Columns, comma-separated, in this order. Default: "
                                  f"{','.join(HIT_FIELDS)}; also snippet (plain text) and body."},
        "with_body": {"name": "with_body", "in": "query", "schema": {"type": "boolean", "default": False},
                      "description": "Add the whole text (body) after the other fields."},
        "bom": {"name": "bom", "in": "query", "schema": {"type": "boolean", "default": False},
                "description": "Start a CSV file with a UTF-8 byte-order mark, which Excel needs to read "
                               "UTF-8 (JSON Lines never has one)."},
        "limit": {"name": "limit", "in": "query",
                  "schema": {"type": "integer", "minimum": 1, "maximum": settings.export_limit},
                  "description": "At most this many articles (default and largest: NEWSINDEX_EXPORT_LIMIT)."},
        "id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1},
               "description": "The article's id: the id given in its source file, or the file's path relative "
                              "to the source folder. Slashes may be sent as they are or as %2F. A browser "
                              "rewrites a `.` or `..` segment (even as %2E%2E): for such ids use the "
                              "`?id=` form of the operation."},
        "id_query": {"name": "id", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1},
                     "description": "The article's id, exactly (any id: `..`, `a/../b`, `x/related`), "
                                    "percent-encoded like any query parameter. Missing or empty: a 400."},
    }


def _schemas(settings: Settings) -> dict:
    facet_list = {"type": "array", "items": _ref("schemas", "FacetValue")}
    return {
        "Error": _object({
            "error": _object({
                "code": {"type": "string", "description": "Stable, machine-readable (e.g. bad_request)."},
                "message": {"type": "string", "description": "One sentence for a person."},
                "param": {"type": "string", "description": "The request parameter at fault."},
            }, optional=["param"]),
        }),
        "Hit": _object({
            "id": {"type": "string"}, "title": {"type": "string"}, "source": {"type": "string"},
            "published": NULLABLE_DATETIME, "url": NULLABLE_STRING, "author": NULLABLE_STRING,
            "language": LANGUAGE, "score": {"type": "number"},
            "title_html": {"type": "string", "description": "Escaped text with <mark> around matches."},
            "snippet_html": {"type": "string", "description": "Escaped text with <mark> around matches."},
            "first_seen": {**NULLABLE_DATETIME,
                           "description": "When newsindex first indexed the article (an update keeps it)."},
            "last_changed": {**NULLABLE_DATETIME,
                             "description": "When the article's indexed content last changed."},
        }),
        "FacetValue": _object({"value": {"type": "string"}, "count": {"type": "integer", "minimum": 1}}),
        "Facets": _object({
            "source": facet_list,
            "language": {**facet_list, "description": "ISO 639-1 codes, counted without the lang filter "
                                                      "(so the other languages stay selectable)."},
            "year": facet_list,
            "month": {**facet_list, "description": "Only when both from and to are given, "
                                                   "at most about three years apart (values YYYY-MM)."},
        }, optional=["month"]),
        "SearchResults": _object({
            "query": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "per_page": {"type": "integer", "minimum": 1, "maximum": settings.max_per_page},
            "pages": {"type": "integer", "minimum": 1},
            "sort": {"type": "string", "enum": list(SORTS)},
            "took_ms": {"type": "number", "minimum": 0},
            "hits": {"type": "array", "items": _ref("schemas", "Hit"), "maxItems": settings.max_per_page},
            "facets": _ref("schemas", "Facets"),
            "suggestion": {**NULLABLE_STRING, "description": "A corrected query (“did you mean”)."},
            "corrected_from": {**NULLABLE_STRING,
                               "description": "Set when nothing matched `query` and `suggestion` was searched instead (never with `correct=off`)."},
            "notices": {"type": "array", "items": {"type": "string"},
                        "description": "What the search did with the query, for a person."},
            "partial": {"type": "boolean",
                        "description": "True when the search ran out of time (NEWSINDEX_QUERY_TIMEOUT_MS) and "
                                       "some alternatives were not evaluated: the results are incomplete "
                                       "(as Elasticsearch's `timed_out`)."},
        }),
        "Article": _object({
            "id": {"type": "string"}, "title": {"type": "string"}, "body": {"type": "string"},
            "source": {"type": "string"}, "published": NULLABLE_DATETIME, "url": NULLABLE_STRING,
            "author": NULLABLE_STRING, "language": LANGUAGE,
            "topics": {"type": "array", "items": {"type": "string"}},
            "title_html": {"type": "string"}, "body_html": {"type": "string"},
        }),
        "RelatedArticles": _object({"id": {"type": "string"},
                                    "related": {"type": "array", "items": _ref("schemas", "Hit")}}),
        "Health": _object({
            "status": {"const": "ok"}, "articles": {"type": "integer", "minimum": 0},
            "generation": {"type": "string"}, "schema_version": {"type": "integer"},
            "analyzer_version": {"type": "integer"}, "built": NULLABLE_STRING,
        }),
        "OpenAPIDocument": {"type": "object", "required": ["openapi", "info", "paths"]},
        "Histogram": _object({
            "interval": {"type": "string", "enum": list(INTERVALS)},
            "buckets": {"type": "array", "maxItems": MAX_BUCKETS, "items": _object({
                "key": {"type": "string", "description": "1987, 1987-03, 1987-W09 or 1987-03-02"},
                "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"}})},
            "articles": {"type": "array", "items": {"type": "integer", "minimum": 0},
                         "description": "Every article of each period under the filters."},
            "series": {"type": "array", "minItems": 1, "maxItems": MAX_QUERIES, "items": _object({
                "query": {"type": "string"},
                "total": {"type": "integer", "minimum": 0},
                "undated": {"type": "integer", "minimum": 0},
                "counts": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                "per_1000": {"type": "array", "items": {"type": ["number", "null"], "minimum": 0},
                             "description": "null where the period has no article at all."},
                "notices": {"type": "array", "items": {"type": "string"}},
            })},
        }),
    }


def _object(properties: dict, optional: list[str] = ()) -> dict:
    return {"type": "object", "properties": properties, "additionalProperties": False,
            "required": [name for name in properties if name not in optional]}


def _json_response(description: str, schema: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": _ref("schemas", schema)}}}


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}
