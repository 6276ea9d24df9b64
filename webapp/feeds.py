"""GET /search.atom: any search as an Atom feed; the same feed for `newsindex search --format atom`."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.datastructures import MultiDict

from indexer.feeds import MEDIA_TYPE, Feed, atom_feed

from . import app_settings, article_url, live_index
from .caching import current_state, etag_for, not_modified, with_validators
from .params import SearchParams, parse_search_args

bp = Blueprint("feeds", __name__)
FEED_ARGS = ("q", "source", "lang", "from", "to")  # what changes a feed; page, per_page and sort do not


@bp.get("/search.atom")
def search_feed():
    """The newest matches by when newsindex first indexed them; 304 until a reindex changes the index."""
    params = parse_search_args(request.args, app_settings())
    base = site_base()
    generation, built = current_state()
    etag = etag_for(generation, built, base)
    unchanged = not_modified(etag, built)
    if unchanged is not None:
        return unchanged
    feed = render_feed(params, base)
    response = Response(feed.xml, content_type=f"{MEDIA_TYPE}; charset=utf-8")
    return with_validators(response, etag_for(feed.generation, feed.built, base), feed.built)


def render_feed(params: SearchParams, base: str) -> Feed:
    """The feed of one search, its links under ``base`` (call inside a request context)."""
    return atom_feed(live_index(), params.query, params.filters, SiteLinks(params, base), settings=app_settings())


def site_base() -> str:
    """The site's public address: NEWSINDEX_BASE_URL, or the one this request came to."""
    return (app_settings().base_url or request.host_url).rstrip("/") + "/"


def feed_args(params: SearchParams) -> dict:
    return {k: v for k, v in params.url_args().items() if k in FEED_ARGS}


class SiteLinks:
    """The site's routes as absolute addresses under ``base`` (the indexer.feeds.FeedLinks protocol)."""

    def __init__(self, params: SearchParams, base: str):
        self.params = params
        self.base = base.rstrip("/")

    def feed(self) -> str:
        return self.base + url_for("feeds.search_feed", **feed_args(self.params))

    def results(self) -> str:
        return self.base + url_for("pages.search", **feed_args(self.params), sort="newest")

    def article(self, article_id: str) -> str:
        return self.base + article_url(article_id, q=self.params.query.strip() or None)


def cli_feed(settings, query: str, sources, date_from: str | None, date_to: str | None,
             base_url: str, languages=()) -> bytes:
    """`newsindex search QUERY --format atom`: this route's feed, made by the same code.

    ``base_url`` (NEWSINDEX_BASE_URL) defaults to http://HOST:PORT/ of `newsindex serve`.
    """
    from . import create_app

    base = base_url or settings.base_url or f"http://{settings.host}:{settings.port}/"
    app = create_app(settings=settings.replace(base_url=base))
    args = MultiDict([("q", query), *(("source", s) for s in sources), *(("lang", code) for code in languages),
                      *((k, v) for k, v in (("from", date_from), ("to", date_to)) if v)])
    with app.test_request_context("/search.atom", query_string=args):
        return render_feed(parse_search_args(args, app_settings(app)), site_base()).xml
