"""GET /trends: "Compare over time", up to five searches as lines on one chart."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from indexer.search import QueryError, SearchFilters
from indexer.trends import AUTO, INTERVALS, MAX_QUERIES, Histogram, histogram

from . import app_settings, live_index
from .params import _choice, parse_search_args
from .trend_chart import TrendChart, trend_chart

bp = Blueprint("compare", __name__)
MAX_SERIES = MAX_QUERIES
NORMALISE_ON = "on"  # what the checkbox sends


@dataclass(frozen=True)
class CompareParams:
    queries: list[str]  # as typed, empty boxes dropped
    interval: str
    normalised: bool
    filters: SearchFilters
    sources: tuple[str, ...]
    date_from: str
    date_to: str

    @property
    def languages(self) -> tuple[str, ...]:
        return self.filters.languages

    def search_url(self, query: str, date_from: str | None = None, date_to: str | None = None) -> str:
        """The results page of one line, optionally for one period."""
        return url_for("pages.search", q=query, source=list(self.sources), lang=list(self.languages),
                       **{"from": date_from or self.date_from or None, "to": date_to or self.date_to or None})


@bp.get("/trends")
def trends():
    """The form; with at least one query, the chart and a table of its numbers. Bad input: 400 on the page."""
    try:
        params = parse_compare_args(request.args)
        result: Histogram | None = None
        chart: TrendChart | None = None
        if params.queries:
            result = histogram(live_index(), params.queries, params.interval, params.filters,
                               settings=app_settings())
            chart = trend_chart(result, params.normalised)
    except QueryError as error:
        return render_template("trends.html", error=error, params=None, result=None, chart=None,
                               boxes=_boxes(request.args.getlist("q")), intervals=(AUTO, *INTERVALS)), 400
    return render_template("trends.html", error=None, params=params, result=result, chart=chart,
                           boxes=_boxes(params.queries), intervals=(AUTO, *INTERVALS))


def parse_compare_args(args: MultiDict) -> CompareParams:
    typed = args.getlist("q")
    for query in typed:
        parse_search_args(MultiDict({"q": query}), app_settings())  # the length check of /search
    if len(typed) > MAX_SERIES:
        raise QueryError(f"at most {MAX_SERIES} searches can be compared on one chart "
                         f"(got {len(typed)})", "q")
    queries = [q for q in typed if q.strip()]
    search = parse_search_args(MultiDict([(k, v) for k, v in args.items(multi=True)
                                          if k in ("source", "lang", "from", "to")]), app_settings())
    normalise = args.get("normalize")
    if normalise not in (None, NORMALISE_ON):
        raise QueryError(f"normalize must be {NORMALISE_ON} or left out (got {normalise[:20]!r})", "normalize")
    return CompareParams(queries=queries, interval=_choice(args, "interval", AUTO, (AUTO, *INTERVALS)),
                         normalised=normalise == NORMALISE_ON, filters=search.filters,
                         sources=search.sources, date_from=search.date_from, date_to=search.date_to)


def _boxes(queries: list[str]) -> list[str]:
    """Five query boxes: the typed queries first, then empty ones."""
    kept = [q for q in queries if q.strip()][:MAX_SERIES]
    return kept + [""] * (MAX_SERIES - len(kept))
