"""The web site: server-rendered pages that work without JavaScript."""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, render_template, request, url_for

from indexer.search import QueryError, get_article, index_info, related

from . import app_settings, article_url, live_index, present
from .chart import timeline
from .errors import article_not_found
from .feeds import feed_args
from .params import (DATE_PATTERN, SearchParams, article_id_arg, highlight_query, parse_search_args,
                     typed_args)

bp = Blueprint("pages", __name__)

EXAMPLE_QUERIES = ("cocoa", "oil prices", '"hot phase of the war"', "nego*", "title:wheat -soviet",
                   "+coffee published:1987-03")


@bp.get("/")
def home():
    return render_template("home.html", info=index_info(live_index()), examples=EXAMPLE_QUERIES)


@bp.get("/search")
def search():
    """Results; the bare search page when there is neither a query nor a filter (with only filters,
    every article they allow); a query that cannot run is a 400 on the same page."""
    try:
        params = parse_search_args(request.args, app_settings())
        results = params.run(live_index(), app_settings()) if params.query.strip() or params.filtered else None
    except QueryError as error:
        return render_template("search.html", error=error, params=None, results=None,
                               form=typed_args(request.args)), 400
    chart = timeline(results, params.filters.date_from, params.filters.date_to)
    # the feed, export and compare links take the query whose results the page shows: those
    # never correct a query themselves (a corrected page's own query would find nothing there)
    shown = replace(params, query=results.suggestion) if results is not None and results.corrected_from else params
    return render_template("search.html", error=None, params=params, results=results, chart=chart,
                           form=typed_args(request.args), shown=shown)


@bp.get("/articles/<article_id:article_id>")
def article(article_id: str):
    return _article_page(article_id)


@bp.get("/articles")
def article_by_id():
    """``/articles?id=``: any id, even one whose path form a browser would rewrite (``..``)."""
    return _article_page(article_id_arg(request.args))  # no id: a 400 page naming it


def _article_page(article_id: str):
    settings = app_settings()
    query = highlight_query(request.args, settings)
    view = get_article(live_index(), article_id, query, settings)
    if view is None:
        article_not_found(article_id)
    return render_template("article.html", article=view, query=query,
                           related=related(live_index(), article_id) or [])


@bp.get("/help")
def help_page():
    return render_template("help.html")


@bp.app_template_global()
def search_url(params: SearchParams, **changes) -> str:
    return url_for("pages.search", **params.url_args(**changes))


@bp.app_context_processor
def page_constants() -> dict:
    return {"DATE_PATTERN": DATE_PATTERN.strip("^$"), "settings": app_settings()}


@bp.app_template_global()
def feed_url(params: SearchParams) -> str:
    """This search's Atom feed ("Follow this search")."""
    return url_for("feeds.search_feed", **feed_args(params))


@bp.app_template_global()
def export_url(params: SearchParams, file_format: str) -> str:
    """Every result as a file, in the page's order; CSV with a byte-order mark, for spreadsheets."""
    extra = {"bom": "true"} if file_format == "csv" else {}
    sort = params.sort if params.sort != "relevance" else None
    return url_for("data.export_matches", **feed_args(params), sort=sort, format=file_format, **extra)


@bp.app_template_global()
def compare_url(params: SearchParams) -> str:
    """This search on the "Compare over time" page."""
    return url_for("compare.trends", **feed_args(params))


bp.add_app_template_global(article_url)

for _filter in (present.number, present.long_date, present.iso_date, present.paragraphs, present.message,
                present.page_numbers, present.external_url, present.language_name):
    bp.add_app_template_filter(_filter)
