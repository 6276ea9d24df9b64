"""The JSON API under /api/: the library's own dictionaries, described by /api/openapi.json."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from indexer.search import get_article, has_article, index_info, related

from . import app_settings, live_index
from .errors import article_not_found
from .openapi import openapi_document
from .params import article_id_arg, highlight_query, parse_search_args

PREFIX = "/api"
bp = Blueprint("api", __name__)


@bp.get("/search")
def search():
    params = parse_search_args(request.args, app_settings())
    return jsonify(params.run(live_index(), app_settings()).to_dict())


@bp.get("/articles/<article_id:article_id>")
def article(article_id: str):
    return _article(article_id)


@bp.get("/articles")
def article_by_id():
    """``/api/articles?id=``: any id, whatever the path form would do to it."""
    return _article(article_id_arg(request.args))


@bp.get("/articles/<article_id:article_id>/related")
def related_articles(article_id: str):
    """Articles like ``article_id``, unless ``<article_id>/related`` is itself an article's id: the
    full path names an article first (every id is reachable at /api/articles/<id>); /api/related?id=
    always means the related articles."""
    full_id = article_id + "/related"
    if has_article(live_index(), full_id):
        return _article(full_id)
    return _related(article_id)


@bp.get("/related")
def related_by_id():
    """``/api/related?id=``: the related articles of any id, never read as an article's address."""
    return _related(article_id_arg(request.args))


def _article(article_id: str):
    settings = app_settings()
    view = get_article(live_index(), article_id, highlight_query(request.args, settings), settings)
    if view is None:
        article_not_found(article_id)
    return jsonify(view.to_dict())


def _related(article_id: str):
    hits = related(live_index(), article_id)
    if hits is None:
        article_not_found(article_id)
    return jsonify({"id": article_id, "related": [hit.to_dict() for hit in hits]})


@bp.get("/health")
def health():
    """200 while a usable index is served; 503 (the error shape) while there is none."""
    return jsonify({"status": "ok", **index_info(live_index())})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(app_settings()))
