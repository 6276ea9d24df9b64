"""`newsindex serve` for real: gunicorn workers over HTTP, a reindex by another process while serving."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from indexer.ingest import reindex
from tests.conftest import SAMPLE, run_cli, write_jsonl
from tests.servers import Server, fetch, one_worker_held

pytestmark = pytest.mark.slow

NEW_ARTICLE = {"id": "numbat-1", "title": "Numbat numbers climb in the wheatbelt",
               "body": "Rangers counted more numbats than in any year since records began.",
               "source": "Bush Telegraph", "published": "2024-09-01T08:00:00Z"}


def test_gunicorn_serves_the_site_and_every_worker_sees_a_reindex(tmp_path):
    index_dir = tmp_path / "index"
    reindex(index_dir, [SAMPLE])
    with Server(index_dir, workers=2) as server:
        assert server.output[0] == f"newsindex: serving 301 articles from {index_dir} at {server.url}\n"

        health = fetch(server.url + "api/health")
        assert health.status == 200 and health.json()["articles"] == 301
        home = fetch(server.url)
        assert "301 articles indexed" in home.text
        assert "default-src 'self'" in home.headers["Content-Security-Policy"]
        assert "<mark>" in fetch(server.url + "search?q=cocoa").text
        assert fetch(server.url + "api/search?q=cocoa").json()["total"] > 0
        assert fetch(server.url + "api/nope").json()["error"]["code"] == "not_found"
        wrong_method = fetch(server.url + "api/search?q=cocoa", method="POST")
        assert wrong_method.status == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"
        # gunicorn's own request-line limit is lifted: the app answers long addresses itself
        assert fetch(server.url + "api/search?q=" + "%D0%B6" * 2000).status == 200
        too_long = fetch(server.url + "api/search?q=oil&pad=" + "y" * 40_000)
        assert too_long.status == 414 and too_long.json()["error"]["code"] == "uri_too_long"
        assert fetch(server.url + "api/articles/numbat-1").status == 404
        # a second server on the same port says so in one line, at once (no gunicorn retries)
        port = urlsplit(server.url).port
        second = run_cli("serve", "--index", str(index_dir), "--port", str(port))
        assert second.returncode == 3, second.stderr
        assert second.stderr.splitlines() == [
            f"error: port {port} is in use on 127.0.0.1 (is newsindex serve already running?); stop the "
            f"other server or choose another port with --port or NEWSINDEX_PORT"]
        assert second.stdout == ""

        source = write_jsonl(tmp_path / "new" / "new.jsonl", [NEW_ARTICLE]).parent
        done = run_cli("reindex", "--index", str(index_dir), str(SAMPLE), str(source))
        assert done.returncode == 0, done.stderr

        for _ in range(20):  # fresh connections, spread over the workers
            assert [h["id"] for h in fetch(server.url + "api/search?q=numbat").json()["hits"]] == ["numbat-1"]
        with one_worker_held(server.url, "/api/search?q=numbat") as finish_held_request:
            for _ in range(5):  # only the other worker can answer these
                assert fetch(server.url + "api/search?q=numbat").json()["hits"][0]["id"] == "numbat-1"
            assert finish_held_request()["hits"][0]["id"] == "numbat-1"  # and the held one answers it too
        assert fetch(server.url + "api/health").json()["articles"] == 302
        assert "Numbat numbers climb" in fetch(server.url + "articles/numbat-1").text
    assert server.process.returncode == 0
    assert "newsindex: stopped" in server.log() and "Traceback" not in server.log()


def test_starts_without_an_index_and_serves_once_one_is_built(tmp_path):
    index_dir = tmp_path / "not-yet"
    with Server(index_dir, workers=1) as server:
        assert "no index" in server.output[0] and "http://" in server.output[0]
        health = fetch(server.url + "api/health")
        assert health.status == 503 and health.json()["error"]["code"] == "no_index"
        home = fetch(server.url)
        assert home.status == 503 and "newsindex reindex" in home.text and "<main" in home.text

        source = write_jsonl(tmp_path / "src" / "a.jsonl", [NEW_ARTICLE]).parent
        assert run_cli("reindex", "--index", str(index_dir), str(source)).returncode == 0
        assert fetch(server.url + "api/health").json()["articles"] == 1
        assert "1 article indexed" in fetch(server.url).text
    assert server.process.returncode == 0
