"""The site in a real headless Chromium (Debian's), against a real gunicorn server.

Without /usr/bin/chromium the tests are skipped, except on CI (CI=true),
where they fail: CI must run them. Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import REPO, SEED_ID
from tests.servers import Server, build_web_index

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = REPO / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the browser tests")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(build_web_index(tmp_path_factory.mktemp("browser")), workers=2) as running:
        yield running


@pytest.fixture
def page(chromium, request):
    """A fresh tab that records console errors, page errors and dialogs; none may happen."""
    context = chromium.new_context(viewport=DESKTOP)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: m.type in ("error", "warning") and problems.append(f"console {m.type}: {m.text}"))
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    yield tab
    context.close()
    assert not problems, problems


def screenshot(tab, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_search_facet_and_article_flow(page, server):
    page.goto(server.url)
    assert page.evaluate("document.activeElement.id") == "q"  # autofocus
    page.keyboard.type("cocoa")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=cocoa"))
    assert page.locator(".hits mark").count() > 0
    assert page.locator("#q").input_value() == "cocoa"
    screenshot(page, "results")

    page.locator(".facet-link", has_text="Reuters").click()
    page.wait_for_url(re.compile(r"source=Reuters"))
    assert page.locator(".facet-link.is-selected", has_text="Reuters").count() == 1
    assert page.locator(".hit").count() > 0

    title = page.locator(".hit-title a").first
    title.click()
    page.wait_for_url(re.compile(r"/articles/.+\?q=cocoa"))
    assert page.locator(".article-body mark, .article-title mark").count() > 0
    assert page.locator(".related li").count() > 0
    screenshot(page, "article")

    page.locator(".kicker a").click()  # back to the results
    page.wait_for_url(re.compile(r"/search\?q=cocoa"))


def test_timeline_bars_filter_to_their_period(page, server):
    page.goto(server.url + "search?q=oil&from=1987&to=1987")
    bars = page.locator("svg.timeline-chart a")
    assert bars.count() >= 2
    bars.first.click()
    page.wait_for_url(re.compile(r"from=1987-\d\d&to=1987-\d\d"))
    assert page.locator(".hit").count() > 0


def test_keyboard_only(page, server):
    page.goto(server.url + "help")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.goto(server.url + "search?q=oil")
    page.focus("#q")
    page.keyboard.press("Tab")  # to the search button
    page.keyboard.press("Tab")  # then into the results' controls
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible


def test_hostile_articles_do_nothing(page, server):
    for path in ("search?q=quokka", "articles/hostile-1?q=quokka"):
        page.goto(server.url + path)
        assert page.locator("main script, main img, main svg[onload]").count() == 0
        assert "<script>alert(1)</script>" in page.locator("main").inner_text()
    # the page fixture fails the test if an alert dialog opened


def test_error_page_and_phone_layout(chromium, server):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: m.type == "error" and "status of 400" not in m.text and problems.append(m.text))
    try:
        response = tab.goto(server.url + "search?q=oil&page=0")
        assert response.status == 400
        assert "page must be" in tab.locator("[role=alert]").inner_text()
        tab.goto(server.url + "search?q=oil+prices&from=1987&to=1987")
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
        screenshot(tab, "results-phone")
        tab.goto(server.url + f"articles/{SEED_ID}?q=hot+phase+of+the+war")
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(tab, "article-phone")
    finally:
        context.close()
    assert not problems, problems


def test_follow_download_and_compare_over_time(page, server):
    """Issue 11: the results page offers its feed and downloads; the comparison draws one line per search."""
    page.goto(server.url + "search?q=oil")
    follow = page.locator("a.follow-link")
    assert follow.inner_text() == "Follow this search"
    assert follow.get_attribute("href") == "/search.atom?q=oil"
    assert page.locator('head link[rel="alternate"][type="application/atom+xml"]').get_attribute("href") == \
        "/search.atom?q=oil"
    downloads = page.locator("a.download-link")
    assert [downloads.nth(i).inner_text() for i in range(downloads.count())] == ["CSV", "JSON Lines"]
    with page.expect_download() as download_info:
        downloads.first.click()
    download = download_info.value
    assert download.suggested_filename == "newsindex-oil.csv"
    assert Path(download.path()).read_bytes().startswith(b"\xef\xbb\xbfid,title,")
    screenshot(page, "results")

    page.locator("a.compare-link").click()
    page.wait_for_url(re.compile(r"/trends\?q=oil"))
    page.fill("#q2", "cocoa")
    page.fill("#q3", "wheat")
    page.select_option("#interval", "month")
    page.locator("#compare button[type=submit]").click()
    page.wait_for_url(re.compile(r"interval=month"))
    assert page.locator("svg.trend-chart g.series").count() == 3
    assert page.locator("svg.trend-chart path.series-line").count() == 3
    assert page.locator(".trend-legend li").count() == 3
    box = page.locator("svg.trend-chart").bounding_box()
    assert box["width"] > 300 and box["height"] > 100  # drawn, at a readable size
    screenshot(page, "compare")

    page.check("#normalize")
    page.locator("#compare button[type=submit]").click()
    page.wait_for_url(re.compile(r"normalize=on"))
    assert "per 1,000" in page.locator("#trend-caption").inner_text()
    assert page.locator("svg.trend-chart g.series").count() == 3
    page.locator(".trend-table summary").click()
    assert page.locator(".trend-table tbody tr").count() == 9  # February to October 1987
    point = page.locator("svg.trend-chart g.series-1 a.series-point").nth(2)  # oil in April 1987
    point.focus()  # markers are links, reachable by keyboard (lines may overlap them for the mouse)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=oil&from=1987-\d\d-01&to=1987-\d\d-\d\d"))
    assert page.locator(".hit").count() > 0


def test_compare_page_fits_a_phone(chromium, server):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2)
    tab = context.new_page()
    try:
        tab.goto(server.url + "trends?q=oil&q=cocoa&q=wheat&interval=month&normalize=on")
        assert tab.locator("svg.trend-chart g.series").count() == 3
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
        screenshot(tab, "compare-phone")
    finally:
        context.close()


@pytest.fixture(scope="module")
def languages_server(tmp_path_factory):
    from indexer.ingest import reindex
    from tests.conftest import write_jsonl
    from tests.language_samples import SAMPLES

    work = tmp_path_factory.mktemp("browser-languages")
    records = [{"id": f"sample-{code}", "title": title, "body": body, "source": "Samples"}
               for code, (title, body) in SAMPLES.items()]
    reindex(work / "index", [write_jsonl(work / "articles" / "samples.jsonl", records).parent])
    with Server(work / "index", workers=1) as running:
        yield running


def test_results_and_articles_in_their_language_and_direction(page, languages_server):
    page.goto(f"{languages_server.url}search?q=salario+OR+Gewerkschaft+OR+%D8%A7%D9%84%D9%86%D9%82%D8%A7%D8%A8%D8%A7%D8%AA")
    german = page.locator('.hit[lang="de"]')
    assert german.count() == 1 and "Gewerkschaften" in german.inner_text()
    assert page.locator('.hit[lang="es"]').count() == 1
    direction = "el => getComputedStyle(el).direction"
    assert page.locator('.hit[lang="ar"] .hit-title').evaluate(direction) == "rtl"  # dir=auto: Arabic
    assert german.locator(".hit-title").evaluate(direction) == "ltr"
    screenshot(page, "results-languages")

    page.locator("#facet-language ~ ul .facet-link", has_text="German").click()
    page.wait_for_url(re.compile(r"lang=de"))
    assert page.locator(".hit").count() == 1 and page.locator('.hit[lang="de"]').count() == 1
    assert page.locator(".facet-link.is-selected", has_text="German").count() == 1

    page.goto(f"{languages_server.url}articles/sample-ar")
    assert page.locator('article[lang="ar"]').count() == 1
    assert page.locator("#article-title").evaluate(direction) == "rtl"
    assert page.locator(".kicker").evaluate(direction) == "ltr"
