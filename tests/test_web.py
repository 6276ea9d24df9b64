"""The web pages, through Flask's test client over a real index."""
from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from indexer.live import LiveIndex
from indexer.search import index_info, search
from tests.conftest import REPO, SEED_ID
from tests.servers import DOTTED_ID, HOSTILE_ID, NESTED_ID, ODD_CHARS_ID, XSS_IMG, XSS_SCRIPT, build_web_index
from webapp import app_settings, create_app
from webapp.present import page_numbers, paragraphs


@pytest.fixture(scope="module")
def web_index(tmp_path_factory) -> Path:
    return build_web_index(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def app(web_index):
    return create_app({"INDEX": str(web_index), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def links(text: str, css_class: str | None = None) -> list[str]:
    pattern = r'<a [^>]*href="([^"]*)"' if css_class is None else \
        rf'<a [^>]*class="[^"]*\b{css_class}\b[^"]*"[^>]*href="([^"]*)"'
    return [html.unescape(h) for h in re.findall(pattern, text)]


def args_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def assert_in_layout(text: str) -> None:
    for landmark in ("<header", "<main", "<nav", "<footer", 'class="skip-link" href="#main"', 'lang="en"',
                     'name="viewport"'):
        assert landmark in text, landmark
    assert "Traceback" not in text


# ---------------------------------------------------------------- home

def test_home(client, web_index):
    text = page(client, "/")
    assert_in_layout(text)
    articles = index_info(LiveIndex(web_index))["articles"]
    assert f"{articles:,} articles indexed" in text
    assert re.search(r'<label for="q"[^>]*>', text)
    assert re.search(r'<input id="q" name="q" type="search" autofocus', text)
    assert 'action="/search"' in text and 'href="/help"' in text
    assert len([u for u in links(text) if u.startswith("/search?q=")]) >= 3  # example queries


# ---------------------------------------------------------------- search

def test_results_page(client):
    text = page(client, "/search?q=cocoa")
    assert_in_layout(text)
    results = search(LiveIndex(app_settings(client.application).index), "cocoa")
    assert f"{results.total} results" in text and " ms" in text
    assert 'value="cocoa"' in text  # the query stays in the box
    assert text.count('class="hit"') == len(results.hits)
    assert "<mark>cocoa</mark>" in text.lower()
    article_links = [u for u in links(text) if u.startswith("/articles/")]
    assert f"/articles/{results.hits[0].id}?q=cocoa" in article_links
    assert 'name="sort"' in text and 'name="from"' in text and 'name="to"' in text


def test_empty_query_shows_the_search_page(client):
    for url in ("/search", "/search?q=", "/search?q=%20%20"):
        text = page(client, url)
        assert 'id="q"' in text and 'class="hits"' not in text and "Search the archive" in text


def test_filters_without_a_query_list_what_they_allow(client):
    text = page(client, "/search?source=River+Gazette")
    assert text.count('class="hit"') == 1 and "Platypus sightings" in text


def test_source_facet_links_add_and_remove_sources(client):
    text = page(client, "/search?q=quokka OR platypus OR nato")
    facet_links = links(text, "facet-link")
    add_reuters = next(u for u in facet_links if args_of(u).get("source") == ["Reuters"])
    filtered = page(client, add_reuters)
    assert "River Gazette</span>" in filtered  # still offered, to add a second source
    add_second = next(u for u in links(filtered, "facet-link") if "River Gazette" in args_of(u).get("source", []))
    assert set(args_of(add_second)["source"]) == {"Reuters", "River Gazette"}
    both = page(client, add_second)
    remove_reuters = next(u for u in links(both, "facet-link") if args_of(u).get("source") == ["River Gazette"])
    assert "page" not in args_of(remove_reuters)
    assert 'aria-current="true"' in both


def test_a_source_typed_in_another_case_is_the_facet_selected(client):
    """?source=river gazette filters like River Gazette: the facet shows that one selected, once."""
    text = page(client, "/search?q=platypus&source=river+gazette")
    assert text.count('class="hit"') == 1
    assert text.count('<span class="facet-name">River Gazette</span>') == 1
    assert "river gazette</span>" not in text  # not listed a second time, as a source without matches
    assert 'class="facet-link is-selected"' in text and 'aria-current="true"' in text
    # its link removes the typed filter
    assert any("source" not in args_of(u) for u in links(text, "facet-link") if args_of(u).get("q") == ["platypus"])


def test_selected_source_without_matches_can_still_be_removed(client):
    text = page(client, "/search?q=platypus&source=Nobody Wire")
    assert "Nobody Wire" in text
    removals = [u for u in links(text, "facet-link") if args_of(u).get("q") == ["platypus"]]
    assert any("source" not in args_of(u) for u in removals)


def test_year_facet_sets_from_and_to(client):
    text = page(client, "/search?q=oil")
    year_link = next(u for u in links(text, "facet-link") if args_of(u).get("from") == ["1987"])
    assert args_of(year_link)["to"] == ["1987"]
    filtered = page(client, year_link)
    assert 'value="1987"' in filtered and "Any time" in filtered


def test_timeline_chart_by_month_links_to_each_month(client):
    text = page(client, "/search?q=oil&from=1987&to=1987")
    svg = re.search(r"<svg.*?</svg>", text, re.S).group(0)
    assert "Matching articles by month" in text
    assert "<title>March 1987:" in svg and "style=" not in svg
    march = next(u for u in links(svg) if args_of(u).get("from") == ["1987-03"])
    assert args_of(march)["to"] == ["1987-03"] and args_of(march)["q"] == ["oil"]
    assert page(client, march).count('class="hit"') > 0


def test_timeline_chart_by_year(client):
    text = page(client, "/search?q=quokka OR oil")
    assert "Matching articles by year" in text and "<title>1987:" in text and "<title>2024:" in text
    assert "<title>2000: 0 articles</title>" in text  # gaps are shown, not linked


def test_sort_and_date_fields_keep_their_values(client):
    text = page(client, "/search?q=oil&sort=newest&from=1987-03&to=1987-04")
    assert re.search(r'<option value="newest" selected>', text)
    assert 'value="1987-03"' in text and 'value="1987-04"' in text
    dates = re.findall(r'<time datetime="([\d-]+)"', text)
    assert dates == sorted(dates, reverse=True) and all("1987-03" <= d[:7] <= "1987-04" for d in dates)


def test_pagination(client):
    text = page(client, "/search?q=oil&per_page=5&page=3")
    nav = re.search(r'<nav class="pagination".*?</nav>', text, re.S).group(0)
    pages = {int(args_of(u).get("page", ["1"])[0]) for u in links(nav)}
    total_pages = search(LiveIndex(app_settings(client.application).index), "oil", per_page=5).pages
    assert {1, 2, 4, total_pages} <= pages and max(pages) == total_pages
    assert 'aria-current="page"' in nav and 'rel="prev"' in nav and 'rel="next"' in nav
    assert all(args_of(u)["per_page"] == ["5"] for u in links(nav))
    assert 'type="hidden" name="per_page" value="5"' in text
    last = page(client, f"/search?q=oil&per_page=5&page={total_pages}")
    assert 'rel="next"' not in last


def test_page_past_the_last_result(client):
    text = page(client, "/search?q=cocoa&page=50")
    assert "no results on this page" in text
    assert "no results on this page" in page(client, "/search?q=oil&page=200&per_page=100")  # past 10,000


@pytest.mark.parametrize("url", ["/search?q=%00", "/search?q=co%00coa", "/search?q=oil&source=Reu%00ters",
                                 "/search?q=%00&from=%00", "/search?q=a*%00", "/search?q=%00%00&page=0",
                                 f"/articles/{SEED_ID}?q=%00zelenskyy"])
def test_control_characters_from_the_address_never_reach_the_page(client, url):
    """?q=%00 is searched as the API searches it (NUL out) and the page never echoes a NUL."""
    response = client.get(url)
    assert response.status_code in (200, 400)
    text = response.get_data(as_text=True)
    assert "\x00" not in text and "Traceback" not in text


def test_did_you_mean(client, web_index):
    results = search(LiveIndex(web_index), "brazl coffee")
    assert results.suggestion and not results.corrected_from, "precondition on the library's suggester"
    text = page(client, "/search?q=brazl coffee")
    assert "Did you mean" in text
    assert f"/search?q={quote(results.suggestion)}" in [u.replace("+", "%20") for u in links(text)]


def test_corrected_query_notice(client, web_index):
    results = search(LiveIndex(web_index), "petroleom")
    assert results.corrected_from == "petroleom", "precondition on the library's suggester"
    text = page(client, "/search?q=petroleom")
    assert html.escape(results.notices[-1], quote=False) in text
    assert 'value="petroleom"' in text  # the box keeps what was typed
    assert "Did you mean" not in text
    assert f"?q={results.suggestion}" in text  # result links highlight what was searched


def test_notices_are_shown(client):
    assert "too common to search for" in page(client, "/search?q=the")


def test_empty_state_with_tips_and_a_way_out_of_filters(client):
    text = page(client, "/search?q=zzyzxqq&source=Reuters")
    assert "No articles matched" in text and "OR" in text and 'href="/help"' in text
    assert "/search?q=zzyzxqq" in links(text)  # the same search without filters


@pytest.mark.parametrize("query, param, shown", [
    ("q=oil&page=0", "page", "page must be"),
    ("q=oil&page=abc", "page", "page must be a whole number"),
    ("q=oil&per_page=1000", "per_page", "per_page must be between"),
    ("q=oil&sort=bogus", "sort", "sort must be one of"),
    ("q=&sort=bogus", "sort", "sort must be one of"),  # checked even when there is nothing to search
    ("q=oil&from=2024-13", "from", "from must be a date"),
    ("q=oil&from=1988&to=1987", "from", "is after to"),
    ("q=" + "oil " * 750, "q", "characters long"),
    ("q=ab*+a*", "q", "would match too many words"),
])
def test_a_query_that_cannot_run_is_400_on_the_same_page(client, query, param, shown):
    text = page(client, "/search?" + query, status=400)
    assert_in_layout(text)
    assert 'role="alert"' in text and html.escape(shown, quote=False) in text
    query_value = args_of("/search?" + query)["q"][0]
    assert f'value="{html.escape(query_value)}"' in text  # kept in the box


def test_bad_date_stays_in_its_field_to_be_corrected(client):
    text = page(client, "/search?q=oil&from=2024-13", status=400)
    assert re.search(r'id="from" name="from"[^>]*value="2024-13"', text)


def test_unknown_parameters_are_ignored(client):
    assert page(client, "/search?q=cocoa&colour=blue&x=1").count('class="hit"') == \
        page(client, "/search?q=cocoa").count('class="hit"')


# ---------------------------------------------------------------- article

def test_article_page(client):
    text = page(client, f"/articles/{SEED_ID}?q=hot phases of the war")
    assert_in_layout(text)
    assert "<mark>Hot</mark> <mark>Phase</mark>" in text
    body = re.search(r'<div class="article-body">(.*?)</div>', text, re.S).group(1)
    assert "<mark>" in body and body.count("<mark>") == body.count("</mark>")
    assert "ICARO Media Group" in text
    assert "/search?q=hot+phases+of+the+war" in links(text)
    related = re.search(r'<aside class="related".*?</aside>', text, re.S).group(0)
    assert len([u for u in links(related) if u.startswith("/articles/")]) >= 1


def test_article_metadata_and_external_link(client):
    text = page(client, "/articles/" + quote(NESTED_ID))
    assert "Pat Example" in text and "River Gazette" in text and "5 March 2024" in text
    assert "<li>wildlife</li>" in text and "<li>rivers</li>" in text
    assert re.search(r'<a href="https://example.com/platypus" rel="noopener noreferrer nofollow"', text)


def test_reuters_body_is_reflowed_into_paragraphs(client):
    text = page(client, "/articles/1")
    body = re.search(r'<div class="article-body">(.*?)</div>', text, re.S).group(1)
    paragraphs = re.findall(r"<p dir=\"auto\">(.*?)</p>", body, re.S)
    assert len(paragraphs) > 3 and not any("\n" in p for p in paragraphs)


@pytest.mark.parametrize("url", ["/articles/no-such-article", "/articles/..%2F..%2Fetc%2Fpasswd",
                                 "/articles/../../etc/passwd", "/no/such/page"])
def test_not_found_pages(client, url):
    text = page(client, url, status=404)
    assert_in_layout(text)
    assert "root:" not in text


def test_links_to_awkward_ids_work(client):
    for article_id, words in ((DOTTED_ID, "wombats"), (ODD_CHARS_ID, "echidnas"), (NESTED_ID, "platypus")):
        text = page(client, f"/search?q={words}")
        link = next(u for u in links(text) if u.startswith("/articles"))
        path = urlsplit(link).path
        if ".." in article_id:  # browsers would resolve '..' away, even as %2E%2E; proxies decode %2F
            assert path == "/articles" and parse_qs(urlsplit(link).query)["id"] == [article_id]
        else:
            assert unquote(path) == "/articles/" + article_id
        assert f"<code>{html.escape(article_id)}</code>" in page(client, link)


# ---------------------------------------------------------------- hostile content

def test_hostile_articles_are_inert_in_pages(client):
    for url in ("/search?q=quokka", f"/articles/{HOSTILE_ID}?q=quokka census"):
        text = page(client, url)
        for attack in (XSS_SCRIPT, XSS_IMG, "<svg onload", "<i>Mallory", "<b>bold", 'href="javascript:'):
            assert attack not in text, (url, attack)
        assert html.escape(XSS_SCRIPT, quote=False) in text
    article = page(client, f"/articles/{HOSTILE_ID}")
    assert "javascript:alert(1)</dd>" in article  # shown, not linked


def test_no_inline_scripts_or_styles(client):
    for url in ("/", "/search?q=oil&from=1987&to=1987", "/search?q=oil&page=0", f"/articles/{SEED_ID}",
                "/help", "/nope"):
        text = client.get(url).get_data(as_text=True)
        assert "<script" not in text and " style=" not in text and "<style" not in text, url


# ---------------------------------------------------------------- other pages, errors

def test_help_page_covers_the_query_language(client):
    text = page(client, "/help")
    assert_in_layout(text)
    for topic in ('"quoted phrases"', "hot phases of the war", "-word", "OR", "AND", "+", "title:", "body:",
                  "author:", "source:", "published:", "nego*", "Did you mean", "newest"):
        assert html.escape(topic, quote=False) in text or topic in text, topic


def test_wrong_method_is_an_html_405(client):
    response = client.post("/search?q=oil")
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert_in_layout(response.get_data(as_text=True))
    assert "GET" in response.headers["Allow"]


def test_no_index_page_is_a_friendly_503(tmp_path):
    client = create_app({"INDEX": str(tmp_path / "empty"), "TESTING": True}).test_client()
    for url in ("/", "/search?q=oil", "/articles/1"):
        text = page(client, url, status=503)
        assert_in_layout(text)
        assert "No index yet" in text and "<code>newsindex reindex" in text
    assert page(client, "/help")


def test_unexpected_exceptions_are_a_500_page(web_index):
    app = create_app({"INDEX": str(web_index), "TESTING": True})
    app.add_url_rule("/explode", "explode", lambda: 1 / 0)
    text = page(app.test_client(), "/explode", status=500)
    assert_in_layout(text)
    assert "ZeroDivision" not in text


def test_security_headers_on_pages_and_static_files(client):
    for url in ("/", "/search?q=oil", "/nope", "/static/style.css"):
        with client.get(url) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'",
                          "form-action 'self'", "base-uri 'none'"):
            assert directive in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] in ("same-origin", "no-referrer")
        assert headers["X-Frame-Options"] == "DENY"


def test_assets_are_local(client):
    for url in ("/", "/search?q=oil", "/help"):
        text = page(client, url)
        assert not re.search(r'(?:src|href)="(?:https?:)?//', text), url


def test_the_web_app_never_imports_whoosh():
    for path in (REPO / "webapp").rglob("*.py"):
        assert not re.search(r"^\s*(?:from|import)\s+whoosh", path.read_text(), re.M), path


# ---------------------------------------------------------------- presentation helpers

def test_paragraphs_reflow_wire_copy_and_keep_marks_balanced():
    wire = "First line of a\nwrapped <mark>paragraph</mark>.\n    Second <mark>hot\n    phase</mark> here."
    assert paragraphs(wire) == ["First line of a wrapped <mark>paragraph</mark>.",
                                "Second <mark>hot</mark>", "<mark>phase</mark> here."]
    assert paragraphs("One per line.\nAnother.") == ["One per line.", "Another."]
    assert paragraphs("Blank\nseparated.\n\nNext.") == ["Blank separated.", "Next."]


def test_page_numbers_show_the_ends_and_the_neighbourhood():
    assert page_numbers(1, 1) == [1]
    assert page_numbers(5, 20) == [1, None, 3, 4, 5, 6, 7, None, 20]
    assert page_numbers(2, 4) == [1, 2, 3, 4]


def test_debug_mode_stays_off(web_index, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert create_app({"INDEX": str(web_index)}).debug is False
