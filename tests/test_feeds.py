"""Atom feeds (issue 11): valid RFC 4287 read by a real parser, newest first-seen first, 304 until a reindex."""
from __future__ import annotations

import re
import shutil
from datetime import datetime

import feedparser
import pytest
from lxml import etree

from indexer.feeds import ATOM, FEED_ENTRIES, OPENSEARCH
from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.search import search
from tests.conftest import SAMPLE, run_cli, write_jsonl
from tests.servers import HOSTILE_ID, build_web_index
from webapp import create_app

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@pytest.fixture(scope="module")
def web_index(tmp_path_factory):
    return build_web_index(tmp_path_factory.mktemp("feeds"))


@pytest.fixture(scope="module")
def client(web_index):
    return create_app({"INDEX": str(web_index), "TESTING": True}).test_client()


def feed_of(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/atom+xml" and response.mimetype_params["charset"] == "utf-8"
    return response, feedparser.parse(response.get_data())


def assert_valid_atom(xml: bytes) -> etree._Element:
    """Every element RFC 4287 requires, checked on the XML itself (feedparser forgives too much)."""
    root = etree.fromstring(xml)
    atom = {"a": ATOM}
    assert root.tag == f"{{{ATOM}}}feed"
    for name in ("id", "title", "updated"):  # atom:feed MUST contain exactly one of each
        assert len(root.findall(f"a:{name}", atom)) == 1, name
    assert RFC3339.match(root.findtext("a:updated", namespaces=atom))
    assert root.findall("a:author/a:name", atom)  # feed author: entries need not have one
    assert len(root.findall("a:link[@rel='self']", atom)) == 1
    assert len(root.findall("a:link[@rel='alternate'][@type='text/html']", atom)) == 1
    entries = root.findall("a:entry", atom)
    ids = set()
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"a:{name}", atom)) == 1, name
        assert entry.findtext("a:title", namespaces=atom).strip()
        assert RFC3339.match(entry.findtext("a:updated", namespaces=atom))
        for published in entry.findall("a:published", atom):
            assert RFC3339.match(published.text)
        # no atom:content, so an alternate link is required
        assert len(entry.findall("a:link[@rel='alternate']", atom)) == 1
        summary = entry.find("a:summary", atom)
        assert summary is not None and summary.get("type") == "html" and len(summary) == 0  # escaped, no child elements
        ids.add(entry.findtext("a:id", namespaces=atom))
        assert entry.findtext("a:id", namespaces=atom).startswith("urn:uuid:")
    assert len(ids) == len(entries)  # ids unique
    return root


@pytest.mark.parametrize("url", ["/search.atom?q=oil", "/search.atom?q=", "/search.atom?q=cocoa+-bahia&source=Reuters",
                                 "/search.atom?q=oil&from=1987-03&to=1987-04", "/search.atom?q=nothingmatcheszzz",
                                 "/search.atom?q=quokka"])
def test_feeds_are_valid_atom(client, web_index, url):
    response, parsed = feed_of(client, url)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    root = assert_valid_atom(response.get_data())
    total = int(root.findtext(f"{{{OPENSEARCH}}}totalResults"))
    assert len(parsed.entries) == min(total, FEED_ENTRIES) <= FEED_ENTRIES
    assert parsed.feed.title.startswith("newsindex: ")
    assert parsed.feed.links[0].href.startswith("http://localhost/search.atom")
    for entry in parsed.entries:
        # an id with a '..' segment is linked as ?id=, which no browser or proxy rewrites
        assert entry.link.startswith(("http://localhost/articles/", "http://localhost/articles?id="))
        assert client.get(entry.link.removeprefix("http://localhost")).status_code == 200  # the link works
    if url == "/search.atom?q=oil":
        assert total == search(LiveIndex(web_index), "oil").total


def test_everything_feed_has_at_most_50_entries_newest_first_seen_first(client):
    _, parsed = feed_of(client, "/search.atom")
    assert len(parsed.entries) == FEED_ENTRIES
    updated = [e.updated_parsed for e in parsed.entries]
    assert updated == sorted(updated, reverse=True)


def test_hostile_articles_stay_text(client):
    response, parsed = feed_of(client, "/search.atom?q=quokka")
    root = etree.fromstring(response.get_data())
    assert not [e for e in root.iter() if etree.QName(e).localname in ("script", "img", "svg")]
    entry = root.find(f"{{{ATOM}}}entry")
    assert "<script>alert(1)</script>" in entry.findtext(f"{{{ATOM}}}title")  # text, as the article has it
    assert "&lt;script&gt;" in entry.findtext(f"{{{ATOM}}}summary")  # escaped HTML inside escaped XML
    assert parsed.entries[0].link.endswith(f"/articles/{HOSTILE_ID}?q=quokka")
    assert not [link for link in parsed.entries[0].links if link.href.startswith("javascript:")]


def test_repeat_requests_get_304_until_a_reindex(tmp_path):
    sample = tmp_path / "articles"
    shutil.copytree(SAMPLE, sample)
    index_dir = tmp_path / "index"
    reindex(index_dir, [sample])
    client = create_app({"INDEX": str(index_dir), "TESTING": True}).test_client()
    url = "/search.atom?q=wheat"
    first, parsed = feed_of(client, url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "no-cache"
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified},
                    {"If-None-Match": f'"other", {etag}'}):
        again = client.get(url, headers=headers)
        assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": "Thu, 01 Jan 1987 00:00:00 GMT"}).status_code == 200
    assert client.get("/search.atom?q=corn", headers={"If-None-Match": etag}).status_code == 200  # another feed

    # a new article with an old date, and an update of one already in the feed
    old_first = parsed.entries[0]
    write_jsonl(sample / "new" / "late.jsonl", [
        {"id": "late-wheat", "title": "Wheat shipments found in an old ledger", "source": "Reuters",
         "body": "Wheat shipments of 1950 were found in a ledger.", "published": "1950-06-01"}])
    reindex(index_dir, [sample])
    after = client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    parsed_after = feedparser.parse(after.get_data())
    newest = parsed_after.entries[0]
    assert newest.title == "Wheat shipments found in an old ledger"
    assert newest.published.startswith("1950-06-01")  # the article's own date, as published
    assert datetime.fromisoformat(newest.updated.replace("Z", "+00:00")) > \
        datetime.fromisoformat(old_first.updated.replace("Z", "+00:00"))
    assert [e.id for e in parsed_after.entries[1:]] == [e.id for e in parsed.entries][:len(parsed_after.entries) - 1]
    assert client.get(url, headers={"If-None-Match": after.headers["ETag"]}).status_code == 304


def test_an_update_keeps_the_entry_id_and_place(tmp_path):
    source = write_jsonl(tmp_path / "src" / "a.jsonl", [
        {"id": "w1", "title": "Walrus count", "body": "Walrus numbers rose.", "published": "2020-01-01"}])
    index_dir = tmp_path / "index"
    reindex(index_dir, [source.parent])
    write_jsonl(source, [{"id": "w1", "title": "Walrus count", "body": "Walrus numbers rose.", "published": "2020-01-01"},
                         {"id": "w2", "title": "Walrus tusks", "body": "Walrus tusks grow.", "published": "2024-01-01"}])
    reindex(index_dir, [source.parent])
    client = create_app({"INDEX": str(index_dir), "TESTING": True}).test_client()
    _, before = feed_of(client, "/search.atom?q=walrus")
    write_jsonl(source, [{"id": "w1", "title": "Walrus count (corrected)", "body": "Walrus numbers fell.",
                          "published": "2020-01-01"},
                         {"id": "w2", "title": "Walrus tusks", "body": "Walrus tusks grow.", "published": "2024-01-01"}])
    reindex(index_dir, [source.parent])
    _, after = feed_of(client, "/search.atom?q=walrus")
    assert [e.id for e in after.entries] == [e.id for e in before.entries]  # same ids, same order (w2 first)
    assert after.entries[1].title == "Walrus count (corrected)"
    assert after.entries[1].updated > before.entries[1].updated  # only updated changes
    assert after.entries[0].updated == before.entries[0].updated


def test_results_page_links_to_its_feed(client):
    page = client.get("/search?q=oil&source=Reuters&sort=newest").get_data(as_text=True)
    alternate = re.search(r'<link rel="alternate" type="application/atom\+xml" title="([^"]*)" href="([^"]*)">', page)
    assert alternate and alternate.group(2) == "/search.atom?q=oil&amp;source=Reuters"
    assert re.search(r'<a class="follow-link" href="/search.atom\?q=oil&amp;source=Reuters"[^>]*>Follow this search</a>', page)


def test_feed_errors_are_pages_not_tracebacks(client):
    response = client.get("/search.atom?q=oil&from=1988&to=1987")
    assert response.status_code == 400 and "is after to" in response.get_data(as_text=True)
    assert client.get("/search.atom?q=a*").status_code == 400


def test_cli_prints_the_same_feed(client, web_index):
    done = run_cli("search", "cocoa", "--index", str(web_index), "--format", "atom", "--source", "Reuters",
                   "--base-url", "http://localhost/")
    assert done.returncode == 0, done.stderr
    assert done.stdout.encode() == client.get("/search.atom?q=cocoa&source=Reuters").get_data()
    default = run_cli("search", "cocoa", "--index", str(web_index), "--format", "atom")
    assert 'href="http://127.0.0.1:8000/search.atom?q=cocoa"' in default.stdout
    wrong = run_cli("search", "cocoa", "--index", str(web_index), "--format", "jsonl")
    assert wrong.returncode == 2 and "goes with --batch" in wrong.stderr


def test_base_url_setting_makes_the_links(web_index):
    client = create_app({"INDEX": str(web_index), "TESTING": True,
                         "BASE_URL": "https://news.example.org"}).test_client()
    _, parsed = feed_of(client, "/search.atom?q=oil")
    assert parsed.feed.links[0].href == "https://news.example.org/search.atom?q=oil"
    assert all(e.link.startswith("https://news.example.org/articles/") for e in parsed.entries)
    _, local = feed_of(create_app({"INDEX": str(web_index), "TESTING": True}).test_client(), "/search.atom?q=oil")
    assert [e.id for e in local.entries] == [e.id for e in parsed.entries]  # ids do not depend on the address
