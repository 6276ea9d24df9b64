"""Trends over time (issue 11): histogram sums equal search totals; the Compare over time page."""
from __future__ import annotations

import re
from datetime import date

import pytest

from indexer.live import LiveIndex
from indexer.search import QueryError, SearchFilters, parse_day, search
from indexer.trends import INTERVALS, MAX_BUCKETS, auto_interval, histogram
from tests.issue11_data import reuters_index
from tests.servers import build_web_index
from webapp import create_app
from webapp.trend_chart import nice_ceiling

QUERIES = ["oil", "cocoa -bahia", "wheat OR corn", "", '"crude oil"', "quokka"]


@pytest.fixture(scope="module")
def web_index(tmp_path_factory):
    return build_web_index(tmp_path_factory.mktemp("trends"))


@pytest.fixture(scope="module")
def reuters(tmp_path_factory):
    return reuters_index(tmp_path_factory.mktemp("reuters-trends"))


@pytest.fixture(scope="module")
def client(web_index):
    return create_app({"INDEX": str(web_index), "TESTING": True}).test_client()


def check_buckets(result) -> None:
    """Contiguous whole periods, in order, without gaps or overlaps."""
    for before, after in zip(result.buckets, result.buckets[1:]):
        assert (after.start - before.end).days == 1
    for bucket in result.buckets:
        assert bucket.start <= bucket.end
        if result.interval == "week":
            assert bucket.start.weekday() == 0 and (bucket.end - bucket.start).days == 6
            assert bucket.key == f"{bucket.start.isocalendar()[0]:04d}-W{bucket.start.isocalendar()[1]:02d}"


@pytest.mark.parametrize("which", ["web_index", "reuters"])
@pytest.mark.parametrize("interval", ["auto", *INTERVALS])
def test_histogram_sums_equal_search_totals(which, interval, request):
    index = LiveIndex(request.getfixturevalue(which))
    try:
        result = histogram(index, QUERIES[:5], interval)
    except QueryError as error:  # 1987 to 2024 by day: more periods than a chart may have
        assert (which, interval) == ("web_index", "day") and "periods; the most is" in str(error)
        return
    check_buckets(result)
    assert result.interval in INTERVALS
    for query, series in zip(QUERIES, result.series):
        total = search(index, query, per_page=1, suggest=False).total
        assert series.total == total and sum(series.counts) + series.undated == total, (query, interval)
        assert len(series.counts) == len(series.per_1000) == len(result.buckets)
        for count, articles, rate in zip(series.counts, result.articles, series.per_1000):
            assert count <= articles
            assert rate == (None if not articles else pytest.approx(1000 * count / articles, abs=1e-3))
    everything = result.series[3]  # "" counts every article: its counts are the normalisation base
    assert everything.counts == result.articles


def test_filters_apply_to_counts_and_base(reuters):
    index = LiveIndex(reuters)
    filters = SearchFilters(sources=("Reuters",), date_from=parse_day("1987-03", "from"),
                            date_to=parse_day("1987-04", "to", end=True))
    result = histogram(index, ["oil", "dollar"], "day", filters)
    assert result.buckets[0].start == date(1987, 3, 1) and result.buckets[-1].end == date(1987, 4, 30)
    assert len(result.buckets) == 61  # the date filter is the range, empty days included
    for query, series in zip(["oil", "dollar"], result.series):
        assert sum(series.counts) == series.total == search(index, query, filters=filters, suggest=False).total
        assert series.undated == 0
    assert sum(result.articles) == search(index, "", filters=filters).total
    months = histogram(index, ["oil"], "month", filters)
    assert [b.key for b in months.buckets] == ["1987-03", "1987-04"]
    assert months.series[0].counts[0] == sum(result.series[0].counts[:31])


def test_interval_choice_and_limits(web_index):
    index = LiveIndex(web_index)
    assert auto_interval(date(1987, 3, 1), date(1987, 3, 20)) == "day"
    assert auto_interval(date(1987, 1, 1), date(1988, 12, 31)) == "week"
    assert auto_interval(date(1987, 1, 1), date(1995, 12, 31)) == "month"
    assert auto_interval(date(1900, 1, 1), date(2024, 12, 31)) == "year"
    with pytest.raises(QueryError, match=f"the most is {MAX_BUCKETS:,}") as error:
        histogram(index, ["oil"], "day", SearchFilters(date_from=date(1900, 1, 1), date_to=date(2024, 1, 1)))
    assert error.value.param == "interval"
    with pytest.raises(QueryError, match="interval must be"):
        histogram(index, ["oil"], "fortnight")
    with pytest.raises(QueryError, match="at most 5"):
        histogram(index, ["a", "b", "c", "d", "e", "f"])
    nothing = histogram(index, ["nothingmatcheszzz"], "month")
    assert nothing.buckets == [] and nothing.series[0].total == 0


def test_api_histogram(client, web_index):
    response = client.get("/api/histogram?q=oil&q=cocoa&interval=month")
    assert response.status_code == 200
    data = response.get_json()
    assert [s["query"] for s in data["series"]] == ["oil", "cocoa"] and data["interval"] == "month"
    assert data["buckets"][0] == {"key": "1987-02", "from": "1987-02-01", "to": "1987-02-28"}
    for series in data["series"]:
        assert sum(series["counts"]) + series["undated"] == series["total"] == \
            search(LiveIndex(web_index), series["query"]).total
    everything = client.get("/api/histogram").get_json()
    assert everything["series"][0]["query"] == "" and everything["series"][0]["counts"] == everything["articles"]
    again = client.get("/api/histogram?q=oil&q=cocoa&interval=month", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    for bad, param in (("interval=hour", "interval"), ("q=a&q=b&q=c&q=d&q=e&q=f", "q"),
                       ("from=1988&to=1987", "from"), ("q=oil&interval=day&from=0001&to=2024", "interval")):
        refused = client.get(f"/api/histogram?{bad}")
        assert refused.status_code == 400 and refused.get_json()["error"]["param"] == param, bad


def test_compare_page_draws_one_line_per_query(client):
    page = client.get("/trends?q=oil&q=cocoa&q=&q=wheat&interval=month").get_data(as_text=True)
    assert len(re.findall(r'<g class="series series-\d"', page)) == 3
    assert 'role="group"' in page and "<desc id=\"trend-desc\">oil: 35 articles" in page
    assert page.count('class="series-point"') == 3 * 9  # a marker per month, Feb to Oct 1987
    assert "<script" not in page and "style=" not in page  # no JavaScript, nothing the CSP would block
    assert re.search(r'<input id="q1" name="q" type="search" value="oil"', page)
    assert 'value="wheat"' in page and len(re.findall(r'<input id="q\d" name="q"', page)) == 5
    normalised = client.get("/trends?q=oil&q=cocoa&interval=month&normalize=on").get_data(as_text=True)
    assert "Articles per 1,000 of the period per month" in normalised and 'checked' in normalised
    empty = client.get("/trends")
    assert empty.status_code == 200 and "<svg class=\"trend-chart\"" not in empty.get_data(as_text=True)
    nothing = client.get("/trends?q=nothingmatcheszzz").get_data(as_text=True)
    assert "None of these searches matched a dated article" in nothing


@pytest.mark.parametrize("query", ["q=oil&normalize=yes", "q=oil&interval=hour", "q=1&q=2&q=3&q=4&q=5&q=6",
                                   "q=oil&from=1988&to=1987"])
def test_compare_page_refusals_are_pages(client, query):
    response = client.get(f"/trends?{query}")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert 'role="alert"' in text and "Traceback" not in text and 'id="q1" name="q"' in text  # the form stays


def test_results_page_links_to_exports_and_comparison(client):
    page = client.get("/search?q=oil&source=Reuters").get_data(as_text=True)
    links = re.findall(r'<a class="(download-link|compare-link)" href="([^"]*)"', page)
    hrefs = {cls + ":" + href.replace("&amp;", "&") for cls, href in links}
    assert hrefs == {"download-link:/api/export?q=oil&source=Reuters&format=csv&bom=true",
                     "download-link:/api/export?q=oil&source=Reuters&format=jsonl",
                     "compare-link:/trends?q=oil&source=Reuters"}
    for _, href in links:
        assert client.get(href.replace("&amp;", "&")).status_code == 200


def test_nice_ceiling():
    assert [nice_ceiling(v) for v in (0, 0.3, 1, 1.75, 7, 12, 250)] == [1, 0.5, 1, 2, 10, 20, 250]


def test_cli_trends_prints_the_table(web_index):
    from tests.conftest import run_cli

    done = run_cli("trends", "oil", "cocoa", "--index", str(web_index), "--interval", "month", "--from", "1987")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "period,oil,cocoa,articles" and len(lines) == 1 + 10  # January (from) to October (last)
    assert sum(int(line.split(",")[1]) for line in lines[1:]) == search(LiveIndex(web_index), "oil").total
    as_json = run_cli("trends", "oil", "--index", str(web_index), "--json", "--interval", "year")
    assert as_json.returncode == 0 and '"interval": "year"' in as_json.stdout
    refused = run_cli("trends", "oil", "--index", str(web_index), "--interval", "day", "--from", "1900")
    assert refused.returncode != 0 and "periods; the most is" in refused.stderr and "Traceback" not in refused.stderr
