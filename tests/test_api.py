"""The JSON API under /api/, through Flask's test client over a real index."""
from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from indexer.config import SETTINGS
from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.search import index_info, search
from tests.conftest import SEED_ID, write_jsonl
from tests.servers import DOTTED_ID, HOSTILE_ID, NESTED_ID, ODD_CHARS_ID, build_web_index
from webapp import app_settings, create_app

ONLY_MARK_TAGS = re.compile(r"<(?!/?mark>)")


@pytest.fixture(scope="module")
def web_index(tmp_path_factory) -> Path:
    return build_web_index(tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def app(web_index):
    return create_app({"INDEX": str(web_index), "TESTING": True, "CORS_ORIGINS": ""})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def openapi(app) -> dict:
    return app.test_client().get("/api/openapi.json").get_json()


def conforms(openapi: dict, schema_name: str, instance) -> None:
    """Validate ``instance`` against a schema of the served OpenAPI document (JSON Schema 2020-12)."""
    registry = Registry().with_resource("urn:openapi", Resource(openapi, DRAFT202012))
    schema = {"$ref": f"urn:openapi#/components/schemas/{schema_name}"}
    Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER) \
        .validate(instance)


def assert_error(response, status: int, code: str, param: str | None = None) -> dict:
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    if param:
        assert error["param"] == param
        # parameters are named in the message; problems inside a query quote the query instead
        assert param in error["message"] or (param == "q" and "“" in error["message"])
    return error


# ---------------------------------------------------------------- /api/search

def test_search_returns_the_library_shape_with_highlights(client, openapi):
    response = client.get("/api/search?q=cocoa")
    assert response.status_code == 200
    data = response.get_json()
    conforms(openapi, "SearchResults", data)
    assert {"query", "total", "page", "per_page", "pages", "sort", "took_ms", "hits", "facets", "suggestion",
            "corrected_from", "notices"} <= set(data)
    assert data["query"] == "cocoa" and data["total"] >= 5 and data["sort"] == "relevance"
    assert all("<mark>" in hit["title_html"] + hit["snippet_html"] for hit in data["hits"])
    assert data["facets"]["source"][0] == {"value": "Reuters", "count": data["total"]}


def test_paging(client):
    first = client.get("/api/search?q=oil&per_page=3").get_json()
    second = client.get("/api/search?q=oil&per_page=3&page=2").get_json()
    assert (first["per_page"], len(first["hits"]), second["page"]) == (3, 3, 2)
    assert first["pages"] == -(-first["total"] // 3)
    assert not {h["id"] for h in first["hits"]} & {h["id"] for h in second["hits"]}


def test_default_per_page_comes_from_settings(web_index):
    client = create_app({"INDEX": str(web_index), "PER_PAGE": 4}).test_client()
    assert client.get("/api/search?q=oil").get_json()["per_page"] == 4


@pytest.mark.parametrize("sort, newest_first", [("newest", True), ("oldest", False)])
def test_sorting_by_date(client, sort, newest_first):
    hits = client.get(f"/api/search?q=oil&per_page=20&sort={sort}").get_json()["hits"]
    dates = [h["published"] for h in hits if h["published"]]
    assert len(dates) > 5 and dates == sorted(dates, reverse=newest_first)


def test_several_sources(client):
    both = client.get("/api/search?q=quokka OR platypus OR nato&source=Reuters&source=River Gazette").get_json()
    assert {h["source"] for h in both["hits"]} == {"Reuters", "River Gazette"}
    one = client.get("/api/search?q=quokka OR platypus OR nato&source=River Gazette").get_json()
    assert {h["source"] for h in one["hits"]} == {"River Gazette"}
    # the source facet ignores the source filter, so other sources can still be added
    assert {"Reuters", "River Gazette"} <= {f["value"] for f in one["facets"]["source"]}


def test_date_range_and_month_facet(client, openapi):
    data = client.get("/api/search?q=oil&from=1987-03&to=1987-04&per_page=100").get_json()
    conforms(openapi, "SearchResults", data)
    months = {h["published"][:7] for h in data["hits"]}
    assert months and months <= {"1987-03", "1987-04"}
    assert {f["value"] for f in data["facets"]["month"]} <= {"1987-03", "1987-04"}
    # months are also counted when every match falls within three years (the sample's oil stories)
    assert {f["value"][:4] for f in client.get("/api/search?q=oil").get_json()["facets"]["month"]} == {"1987"}


def test_an_empty_query_lists_what_the_filters_allow(client, web_index):
    everything = client.get("/api/search").get_json()
    assert everything["total"] == index_info(LiveIndex(web_index))["articles"]
    river = client.get("/api/search?q=&source=River Gazette").get_json()
    assert [h["id"] for h in river["hits"]] == [NESTED_ID]
    dates = [h["published"] for h in client.get("/api/search?from=1987-03&to=1987-03").get_json()["hits"]]
    assert dates and dates == sorted(dates, reverse=True) and all(d.startswith("1987-03") for d in dates)


def test_unknown_parameters_are_ignored(client):
    plain = client.get("/api/search?q=cocoa").get_json()
    extra = client.get("/api/search?q=cocoa&colour=blue&page_size=3&debug=1").get_json()
    assert [h["id"] for h in extra["hits"]] == [h["id"] for h in plain["hits"]]


@pytest.mark.parametrize("query, param", [
    ("q=oil&page=0", "page"),
    ("q=oil&page=abc", "page"),
    ("q=oil&page=", "page"),
    ("q=oil&page=1.5", "page"),
    ("q=oil&page=99999999999999999999", "page"),
    ("q=oil&per_page=1000", "per_page"),
    ("q=oil&per_page=0", "per_page"),
    ("q=oil&per_page=ten", "per_page"),
    ("q=oil&sort=bogus", "sort"),
    ("q=oil&from=2024-13", "from"),
    ("q=oil&from=yesterday", "from"),
    ("q=oil&to=2024-02-30", "to"),
    ("q=oil&from=1988&to=1987", "from"),
    ("q=" + "oil " * 1000, "q"),  # 3,000 characters
    ("q=a*", "q"),
])
def test_bad_parameters_are_400_naming_the_parameter(client, openapi, query, param):
    response = client.get("/api/search?" + query)
    assert_error(response, 400, "bad_request", param)
    conforms(openapi, "Error", response.get_json())


# ------------------------------------------------------------- articles

def test_article_with_highlights(client, openapi):
    response = client.get(f"/api/articles/{SEED_ID}?q=hot phases of the war")
    assert response.status_code == 200
    article = response.get_json()
    conforms(openapi, "Article", article)
    assert article["id"] == SEED_ID and article["source"] == "ICARO Media Group"
    assert "<mark>Hot</mark>" in article["title_html"] and "<mark>" in article["body_html"]
    assert "<mark>" not in client.get(f"/api/articles/{SEED_ID}").get_json()["body_html"]


@pytest.mark.parametrize("article_id", [NESTED_ID, DOTTED_ID, ODD_CHARS_ID])
def test_ids_with_slashes_and_odd_characters(client, article_id):
    response = client.get("/api/articles/" + quote(article_id, safe=""))
    assert response.status_code == 200
    assert response.get_json()["id"] == article_id


def test_nested_path_id_with_plain_slashes(client):
    assert client.get("/api/articles/" + quote(NESTED_ID)).get_json()["author"] == "Pat Example"


def test_ids_shaped_like_site_paths_open_from_their_links(tmp_path):
    """Exports of a site's URLs give ids like ``/2024/03/story``: the links in the results open them."""
    ids = ["/2024/03/lead-story", "desk//double", "desk/trailing/"]
    write_jsonl(tmp_path / "src" / "paths.jsonl",
                [{"id": i, "title": f"Pangolin report {n}", "body": "Pangolins were counted."}
                 for n, i in enumerate(ids)])
    reindex(tmp_path / "ix", [tmp_path / "src"])
    client = create_app({"TESTING": True, "INDEX": str(tmp_path / "ix")}).test_client()
    page = client.get("/search?q=pangolin").get_data(as_text=True)
    links = re.findall(r'<a href="(/articles/[^"?]+)\?q=', page)
    assert len(links) == 3
    for link in links:
        assert client.get(link).status_code == 200, link
    for article_id in ids:
        assert client.get("/api/articles/" + quote(article_id)).get_json()["id"] == article_id
        assert client.get("/api/articles/" + quote(article_id, safe="")).get_json()["id"] == article_id
        assert client.get("/api/articles/" + quote(article_id) + "/related").status_code == 200


DOT_SEGMENT_IDS = ["..", ".", "a/../b", "a/./b", "../lead", "tail/..", "/.."]


def _dot_segments(path: str) -> bool:
    """Whether a browser (WHATWG URL: '.', '..' and their %2e forms) or a proxy that decodes %2F
    before resolving would rewrite this path."""
    return any(part.lower().replace("%2e", ".") in (".", "..") for part in unquote(path).split("/"))


@pytest.fixture(scope="module")
def awkward_client(tmp_path_factory):
    """Ids no path carries intact, and ids ending in /related, with or without the id before it."""
    root = tmp_path_factory.mktemp("awkward")
    ids = [*DOT_SEGMENT_IDS, "x/related", "y", "y/related", "z"]
    write_jsonl(root / "src" / "awkward.jsonl",
                [{"id": i, "title": f"Bilby report {n}", "body": f"Bilbies were counted {n} times. Bilby burrows."}
                 for n, i in enumerate(ids)])
    assert reindex(root / "ix", [root / "src"]).skipped == 0
    return create_app({"TESTING": True, "INDEX": str(root / "ix")}).test_client()


def test_ids_with_dot_segments_are_linked_so_browsers_keep_them(awkward_client):
    """``/articles/..`` would be resolved to ``/`` by a browser, ``%2E%2E`` too: such ids are linked
    as ``/articles?id=``, in the results, the related articles and the feed."""
    page = awkward_client.get("/search?q=bilby&per_page=50").get_data(as_text=True)
    links = [html.unescape(u) for u in re.findall(r'<a href="(/articles[^"]*)"', page)]
    assert len(links) == len(DOT_SEGMENT_IDS) + 4
    for link in links:
        parts = urlsplit(link)
        assert not _dot_segments(parts.path), link
        response = awkward_client.get(link)
        assert response.status_code == 200, link
    by_query = {parse_qs(urlsplit(u).query)["id"][0] for u in links if urlsplit(u).path == "/articles"}
    assert by_query == set(DOT_SEGMENT_IDS)
    article = awkward_client.get("/articles?" + urlencode({"id": "..", "q": "bilby"})).get_data(as_text=True)
    assert "<code>..</code>" in article
    related_links = re.findall(r'<a href="(/articles[^"]*)" dir="auto" class="related-title', article)
    assert related_links and not any(_dot_segments(urlsplit(html.unescape(u)).path) for u in related_links)
    feed = awkward_client.get("/search.atom?q=bilby").get_data(as_text=True)
    entry_links = [html.unescape(u) for u in re.findall(r"<link [^>]*href=\"([^\"]*/articles[^\"]*)\"", feed)]
    assert entry_links and not any(_dot_segments(urlsplit(u).path) for u in entry_links)
    for article_id in DOT_SEGMENT_IDS:
        assert awkward_client.get("/api/articles?" + urlencode({"id": article_id})).get_json()["id"] == article_id
        assert awkward_client.get("/api/related?" + urlencode({"id": article_id})).get_json()["id"] == article_id
        # clients that do not resolve dot segments (curl, urllib3) may still use the path
        assert awkward_client.get("/api/articles/" + quote(article_id, safe="")).get_json()["id"] == article_id


def test_an_id_ending_in_related_is_an_article_at_its_own_path(awkward_client):
    client = awkward_client
    assert client.get("/api/articles/x/related").get_json()["id"] == "x/related"  # there is no article x
    assert client.get("/api/articles/x%2Frelated").get_json()["id"] == "x/related"
    assert client.get("/articles/x/related").status_code == 200
    both = client.get("/api/articles/y/related").get_json()  # y and y/related: the full path wins
    assert both["id"] == "y/related" and "body" in both
    related_of_y = client.get("/api/related?id=y").get_json()  # ... and ?id= always means related
    assert related_of_y["id"] == "y" and "y" not in {h["id"] for h in related_of_y["related"]}
    assert client.get("/api/related?id=y/related").get_json()["id"] == "y/related"
    assert client.get("/api/articles/x/related/related").get_json()["id"] == "x/related"  # its related
    only_z = client.get("/api/articles/z/related").get_json()
    assert only_z["id"] == "z" and "related" in only_z
    assert client.get("/api/articles?id=y%2Frelated").get_json()["id"] == "y/related"


@pytest.mark.parametrize("path", ["/api/articles?id=", "/api/articles", "/api/related", "/api/related?id="])
def test_the_id_parameter_is_required(awkward_client, path):
    assert_error(awkward_client.get(path), 400, "bad_request", "id")


def test_the_article_page_by_id_needs_an_id(awkward_client):
    response = awkward_client.get("/articles?id=")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "id is required" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/articles?id=nope", "/api/related?id=nope", "/api/articles/nope/related"])
def test_unknown_ids_by_parameter_are_404(awkward_client, path):
    assert_error(awkward_client.get(path), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/articles/no-such-article", "/api/articles/..%2F..%2Fetc%2Fpasswd",
                                  "/api/articles/../../etc/passwd", "/api/articles/no-such/related"])
def test_unknown_articles_are_404(client, path):
    assert_error(client.get(path), 404, "not_found")


def test_related(client, openapi):
    response = client.get("/api/articles/1/related")
    data = response.get_json()
    conforms(openapi, "RelatedArticles", data)
    assert data["id"] == "1" and 1 <= len(data["related"]) <= 5
    assert "1" not in {h["id"] for h in data["related"]}


def test_article_query_over_the_limit_is_400(client):
    assert_error(client.get(f"/api/articles/{SEED_ID}?q=" + "x" * 2001), 400, "bad_request", "q")


# ------------------------------------------------------ hostile content

def test_hostile_markup_comes_out_inert(client):
    hits = client.get("/api/search?q=quokka").get_json()["hits"]
    assert hits and hits[0]["id"] == HOSTILE_ID
    article = client.get(f"/api/articles/{HOSTILE_ID}?q=quokka census").get_json()
    for html in (hits[0]["title_html"], hits[0]["snippet_html"], article["title_html"], article["body_html"]):
        assert not ONLY_MARK_TAGS.search(html), html
        assert "&lt;script&gt;" in html or "&lt;img" in html or "&lt;b&gt;" in html
    assert "<mark>" in article["body_html"]


# ---------------------------------------------------------- health, 503

def test_health(client, openapi, web_index):
    response = client.get("/api/health")
    data = response.get_json()
    conforms(openapi, "Health", data)
    info = index_info(LiveIndex(web_index))
    assert data["status"] == "ok"
    assert (data["articles"], data["generation"]) == (info["articles"], info["generation"])
    assert data["schema_version"] == info["schema_version"] and data["analyzer_version"]


def test_no_index_is_503_everywhere(tmp_path, openapi):
    client = create_app({"INDEX": str(tmp_path / "empty"), "TESTING": True}).test_client()
    for path in ("/api/health", "/api/search?q=oil", "/api/articles/1", "/api/articles/1/related"):
        response = client.get(path)
        error = assert_error(response, 503, "no_index")
        conforms(openapi, "Error", response.get_json())
        assert "newsindex reindex" in error["message"]
    assert client.get("/api/openapi.json").status_code == 200


def test_damaged_index_is_503(tmp_path):
    (tmp_path / "ix").mkdir()
    (tmp_path / "ix" / "CURRENT").write_text("not-a-generation\n")
    client = create_app({"INDEX": str(tmp_path / "ix"), "TESTING": True}).test_client()
    assert_error(client.get("/api/health"), 503, "index_unreadable")


def test_a_reindex_between_two_requests_is_served_without_restart(tmp_path):
    first = write_jsonl(tmp_path / "one" / "a.jsonl", [{"id": "a1", "title": "Aardvark", "body": "An aardvark."}])
    index_dir = tmp_path / "index"
    reindex(index_dir, [first.parent])
    client = create_app({"INDEX": str(index_dir), "TESTING": True}).test_client()
    assert client.get("/api/search?q=bandicoot").get_json()["total"] == 0
    assert client.get("/api/health").get_json()["articles"] == 1
    second = write_jsonl(tmp_path / "two" / "b.jsonl", [{"id": "b1", "title": "Bandicoot", "body": "A bandicoot."}])
    reindex(index_dir, [first.parent, second.parent])
    assert [h["id"] for h in client.get("/api/search?q=bandicoot").get_json()["hits"]] == ["b1"]
    assert client.get("/api/health").get_json()["articles"] == 2
    assert client.get("/api/articles/b1").status_code == 200


# ------------------------------------------------------- HTTP-level errors

def test_unknown_route_is_json_404(client):
    error = assert_error(client.get("/api/nothing/here"), 404, "not_found")
    assert "/api/nothing/here" in error["message"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_wrong_method_is_json_405_with_allow(client, method):
    response = client.open("/api/search?q=oil", method=method)
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_head_works(client):
    assert client.head("/api/search?q=oil").status_code == 200


def test_request_body_over_the_limit_is_413(client):
    assert_error(client.get("/api/search?q=oil", data=b"x" * (65 * 1024)), 413, "payload_too_large")


def test_address_over_the_limit_is_414(client, app):
    long_value = "y" * (app.config["MAX_URL_BYTES"] + 1)  # derived from max_query_chars
    assert_error(client.get(f"/api/search?q=oil&pad={long_value}"), 414, "uri_too_long")


def test_long_non_latin_query_within_the_limit_is_not_414(client, app):
    query = "ж" * app_settings(app).max_query_chars  # 2,000 characters, 12,000 bytes percent-encoded
    assert client.get(f"/api/search?q={query}").status_code == 200


def test_unexpected_exceptions_are_json_500_without_internals(web_index, caplog):
    app = create_app({"INDEX": str(web_index), "TESTING": True})
    app.add_url_rule("/api/explode", "explode", lambda: 1 / 0)
    response = app.test_client().get("/api/explode")
    error = assert_error(response, 500, "internal")
    assert "ZeroDivision" not in error["message"] and "division" not in response.get_data(as_text=True)
    assert "ZeroDivisionError" in caplog.text  # logged for the operator


# ------------------------------------------------------------- headers

def test_security_headers_on_api_responses(client):
    for response in (client.get("/api/search?q=oil"), client.get("/api/nope"), client.post("/api/health")):
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
        assert response.headers["X-Frame-Options"] == "DENY"


def test_cors_is_off_by_default(web_index, monkeypatch):
    monkeypatch.delenv("NEWSINDEX_CORS_ORIGINS", raising=False)
    client = create_app({"INDEX": str(web_index), "TESTING": True}).test_client()
    response = client.get("/api/health", headers={"Origin": "https://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_from_the_environment(web_index, monkeypatch):
    monkeypatch.setenv("NEWSINDEX_CORS_ORIGINS", "https://a.example, https://b.example")
    client = create_app({"INDEX": str(web_index), "TESTING": True}).test_client()
    allowed = client.get("/api/search?q=oil", headers={"Origin": "https://b.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://b.example"
    assert "Origin" in allowed.headers["Vary"]
    refused = client.get("/api/search?q=oil", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers
    page = client.get("/", headers={"Origin": "https://a.example"})
    assert "Access-Control-Allow-Origin" not in page.headers
    preflight = client.options("/api/search", headers={"Origin": "https://a.example",
                                                        "Access-Control-Request-Method": "GET",
                                                        "Access-Control-Request-Headers": "Accept"})
    assert preflight.status_code == 204 and preflight.data == b"" and "Content-Type" not in preflight.headers
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "Accept"


def test_options_is_answered_by_headers_alone(client):
    """No HTML-labelled empty body for a JSON client: 204 with what the resource allows."""
    for path in ("/api/search", "/api/articles/x", "/search"):
        response = client.options(path)
        assert response.status_code == 204 and response.data == b"", path
        assert "Content-Type" not in response.headers and "GET" in response.headers["Allow"]


def test_cors_any_origin(web_index):
    client = create_app({"INDEX": str(web_index), "TESTING": True, "CORS_ORIGINS": "*"}).test_client()
    response = client.get("/api/health", headers={"Origin": "https://anyone.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# ------------------------------------------------------------- OpenAPI

def test_openapi_is_valid_3_1(openapi):
    assert openapi["openapi"].startswith("3.1")
    validate_openapi(openapi)


def test_openapi_describes_every_route(app, openapi):
    documented = set(openapi["paths"])
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<[^>]+>", "{id}", rule.rule)  # the only variable part is an article id
        assert path in documented, f"{rule.rule} is not in /api/openapi.json"
        assert "get" in openapi["paths"][path]


def test_openapi_states_the_enforced_limits(openapi):
    """The document against the declared defaults (not against the app's own copy of them)."""
    assert (SETTINGS["per_page"].default, SETTINGS["max_per_page"].default,
            SETTINGS["max_query_chars"].default) == (10, 100, 2000)
    params = openapi["components"]["parameters"]
    assert params["per_page"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}
    assert params["page"]["schema"]["minimum"] == 1
    assert params["sort"]["schema"]["enum"] == ["relevance", "newest", "oldest"]
    assert params["source"]["explode"] is True and params["source"]["schema"]["type"] == "array"
    assert params["q"]["schema"]["maxLength"] == 2000
    pattern = re.compile(params["from"]["schema"]["pattern"])
    assert all(pattern.search(v) for v in ("", "2024", "2024-03", "2024-03-01"))
    assert not any(pattern.search(v) for v in ("2024-13", "24", "2024/03", " 2024"))


def test_every_api_error_status_is_documented_with_the_error_schema(openapi):
    for path, operations in openapi["paths"].items():
        if not path.startswith("/api/"):
            continue
        responses = operations["get"]["responses"]
        assert {"413", "414", "500"} <= set(responses)
        for status, response in responses.items():
            if int(status) >= 400:  # 200, and 304 for the answers with validators, are not errors
                name = response["$ref"].rsplit("/", 1)[1]
                schema = openapi["components"]["responses"][name]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}


def test_settings_given_to_the_app_reach_the_library_and_the_document(web_index):
    """create_app({"MAX_PER_PAGE": 200}) is what the library enforces and what the document says;
    FEEDBACK and CACHE_SIZE given to the app are the ones searches use."""
    app = create_app({"INDEX": str(web_index), "MAX_PER_PAGE": 200, "PER_PAGE": 7, "MAX_QUERY_CHARS": 50,
                      "FEEDBACK": "on", "CACHE_SIZE": 0})
    client = app.test_client()
    document = client.get("/api/openapi.json").get_json()
    per_page = document["components"]["parameters"]["per_page"]["schema"]
    assert (per_page["maximum"], per_page["default"]) == (200, 7)
    assert document["components"]["parameters"]["q"]["schema"]["maxLength"] == 50
    assert client.get("/api/search?q=oil&per_page=150").get_json()["per_page"] == 150
    assert_error(client.get("/api/search?q=oil&per_page=201"), 400, "bad_request", "per_page")
    assert client.get("/api/search?q=oil").get_json()["per_page"] == 7
    assert_error(client.get("/api/search?q=" + "x" * 51), 400, "bad_request", "q")
    # feedback on: the app's scores are RM3's, not the library default's (plain BM25F)
    question = "oil prices fell sharply"
    served = client.get("/api/search", query_string={"q": question, "per_page": 20}).get_json()["hits"]
    live = LiveIndex(web_index)
    plain = search(live, question, per_page=20, feedback=False, cache=False).hits
    expanded = search(live, question, per_page=20, feedback=True, cache=False).hits
    assert [h.score for h in plain] != [h.score for h in expanded]
    assert [h["score"] for h in served] == [h.score for h in expanded]
    # cache size 0: this app's worker keeps no results for its generation
    generation = app.extensions["newsindex"].current()
    assert generation.memo("results", None).size == 0


def test_documented_examples_agree_with_the_server(client, openapi):
    """Boundary values the document allows are accepted, the ones it forbids refused."""
    assert client.get("/api/search?q=oil&per_page=100&page=100").status_code == 200
    past = client.get("/api/search?q=oil&per_page=100&page=101")  # past the 10,000-result window
    assert past.status_code == 200 and past.get_json()["hits"] == []
    assert client.get("/api/search?q=oil&per_page=10&page=9999").status_code == 200  # schemathesis ST202
    assert client.get("/api/search?q=oil&from=&to=").status_code == 200
    assert client.get("/api/search?q=" + "x" * 2000).status_code == 200
    assert client.get("/api/search?q=oil&source=").status_code == 200
    published = client.get("/api/search?q=oil").get_json()["hits"][0]["published"]
    assert datetime.fromisoformat(published.replace("Z", "+00:00")).tzinfo is not None



# ------------------------------------------------------------- any input

PARAM_VALUES = st.one_of(st.text(max_size=40), st.integers(-5, 20_000).map(str), st.sampled_from(
    ["", "relevance", "newest", "oldest", "1987", "1987-03", "1987-03-15", "2024-02-30", "Reuters", "*", '"']))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(q=st.one_of(st.text(max_size=60), st.text(min_size=1900, max_size=2100)), extra=st.dictionaries(
    st.sampled_from(["page", "per_page", "sort", "source", "from", "to", "other"]), PARAM_VALUES, max_size=4))
def test_any_search_request_gets_a_documented_answer(app, openapi, q, extra):
    response = app.test_client().get("/api/search", query_string={"q": q, **extra})
    assert response.mimetype == "application/json"
    if response.status_code == 200:
        conforms(openapi, "SearchResults", response.get_json())
        for hit in response.get_json()["hits"]:  # nothing but escaped text and <mark>
            for fragment in (hit["title_html"], hit["snippet_html"]):
                assert not ONLY_MARK_TAGS.search(fragment)
                assert ">" not in re.sub(r"</?mark>", "", fragment)
    else:
        assert response.status_code == 400, response.get_json()
        conforms(openapi, "Error", response.get_json())
