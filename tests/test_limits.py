"""No runaway query: a search that would look up or read too much is refused, one that runs out of
time answers with partial results, flagged."""
from __future__ import annotations

import itertools
import string

import pytest

from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.search import QueryError, search
from tests.conftest import SAMPLE
from webapp import create_app

TWO_LETTER_PREFIXES = " ".join(a + b + "*" for a, b in itertools.islice(
    itertools.product(string.ascii_lowercase, repeat=2), 290))


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("limits") / "index"
    reindex(index_dir, [SAMPLE])
    return index_dir


def test_hundreds_of_prefixes_are_refused_saying_what_to_narrow(index):
    with pytest.raises(QueryError, match=r"more than the 1,024 one search may use: use fewer or longer prefixes"):
        search(LiveIndex(index), TWO_LETTER_PREFIXES, cache=False)
    client = create_app({"INDEX": str(index), "TESTING": True}).test_client()
    response = client.get("/api/search", query_string={"q": TWO_LETTER_PREFIXES})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request" and "prefixes" in response.json["error"]["message"]


def test_the_ceilings_are_settings(index, monkeypatch):
    monkeypatch.setenv("NEWSINDEX_MAX_QUERY_TERMS", "3")
    assert search(LiveIndex(index), "cocoa coffee sugar", cache=False).total > 0
    with pytest.raises(QueryError, match="more than the 3 one search may use"):
        search(LiveIndex(index), "cocoa coffee sugar wheat", cache=False)
    monkeypatch.setenv("NEWSINDEX_MAX_QUERY_TERMS", "1024")
    monkeypatch.setenv("NEWSINDEX_MAX_QUERY_POSTINGS", "10")
    with pytest.raises(QueryError, match="would read more than 10 postings"):
        search(LiveIndex(index), "cocoa said", cache=False)


def test_out_of_time_answers_partial_results(index, monkeypatch):
    monkeypatch.setenv("NEWSINDEX_QUERY_TIMEOUT_MS", "3600000")  # however busy the machine is
    full = search(LiveIndex(index), "cocoa OR coffee OR sugar", cache=False)
    assert not full.partial and full.to_dict()["partial"] is False
    monkeypatch.setenv("NEWSINDEX_QUERY_TIMEOUT_MS", "0")
    partial = search(LiveIndex(index), "cocoa OR coffee OR sugar", cache=False)
    cocoa = search(LiveIndex(index), "cocoa", cache=False)
    assert partial.partial and partial.to_dict()["partial"] is True
    assert 0 < partial.total == cocoa.total < full.total  # the first alternative only
    assert any("results are partial" in n for n in partial.notices)
    client = create_app({"INDEX": str(index), "TESTING": True}).test_client()
    assert client.get("/api/search", query_string={"q": "cocoa OR coffee"}).json["partial"] is True
