"""Read replicas: `newsindex publish` copies the new generation first and CURRENT last.

Two real servers on loopback: one serves the primary index, one a replica that
the primary is published to while clients keep querying it. The replica must
answer every request (no error, never a mix of states) and show new articles
within a second of the switch.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.replicate import publish
from indexer.store import IndexStore
from tests.conftest import REPO, SAMPLE, run_cli, write_jsonl
from tests.servers import Server, fetch

pytestmark = pytest.mark.slow

MARKER = "zyzzyva"
README = REPO / "README.md"


def test_publish_links_what_the_replica_has_and_switches_last(tmp_path):
    source = write_jsonl(tmp_path / "feed" / "day1.jsonl",
                         [{"id": "n1", "title": "First", "body": "The first article."}]).parent
    primary, replica = tmp_path / "primary", tmp_path / "replica"
    reindex(primary, [SAMPLE, source])
    first = publish(primary, replica)
    assert first.copied_files > 0 and first.linked_files == 0
    old_files = {name for seg in LiveIndex(primary).current().segments for name in seg.files}
    assert IndexStore(replica).current_name() == IndexStore(primary).current_name()
    assert publish(primary, replica).unchanged
    write_jsonl(source / "day2.jsonl", [{"id": "n2", "title": "Second", "body": "A second article."}])
    reindex(primary, [SAMPLE, source])
    second = publish(primary, replica)
    # only the new segment and the per-generation files travel; the old segment's files are linked
    new_files = {name for seg in LiveIndex(primary).current().segments for name in seg.files} - old_files
    per_generation = ["_MAIN_2.toc", "columns.news", "manifest.json", "newsindex.json"]
    assert (second.linked_files, second.copied_files) == (len(old_files), len(new_files) + len(per_generation))
    assert LiveIndex(replica).current().corpus.document_number("n2") is not None
    assert len(IndexStore(replica).generations()) == 2  # the live one and the one before
    result = run_cli("publish", "--index", str(primary), str(replica))
    assert result.returncode == 0 and "already serves" in result.stdout


def test_a_replica_follows_its_primary_under_load(tmp_path):
    source = tmp_path / "feed"
    write_jsonl(source / "day1.jsonl", [{"id": "n1", "title": "Opening", "body": "Nothing special."}])
    primary, replica = tmp_path / "primary", tmp_path / "replica"
    reindex(primary, [SAMPLE, source])
    publish(primary, replica)
    errors: list[str] = []
    seen_at: list[float] = []
    stop = threading.Event()

    def client(url: str) -> None:
        query = urllib.parse.urlencode({"q": MARKER})
        while not stop.is_set():
            try:
                reply = fetch(f"{url}api/search?{query}")
                if reply.status != 200:
                    errors.append(f"{reply.status} {reply.text[:200]}")
                elif reply.json()["total"] and not seen_at:
                    seen_at.append(time.monotonic())
            except OSError as exc:
                errors.append(repr(exc))

    with Server(primary, workers=1) as main_server, Server(replica, workers=2) as replica_server:
        threads = [threading.Thread(target=client, args=(replica_server.url,), daemon=True) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(0.5)
            write_jsonl(source / "day2.jsonl", [{"id": "n2", "title": f"The {MARKER} returns",
                                                 "body": f"A {MARKER} was seen again."}])
            reindex(primary, [SAMPLE, source])
            assert fetch(f"{main_server.url}api/search?q={MARKER}").json()["total"] == 1
            publish(primary, replica)
            switched = time.monotonic()
            deadline = switched + 5
            while not seen_at and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)  # more load on the new state
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
    assert not errors, errors[:5]
    assert seen_at and seen_at[0] - switched < 1.0


def test_a_generation_that_does_not_open_is_not_published(tmp_path):
    source = write_jsonl(tmp_path / "feed" / "day1.jsonl",
                         [{"id": "n1", "title": "First", "body": "The first article."}]).parent
    primary, staging, replica = tmp_path / "primary", tmp_path / "staging", tmp_path / "replica"
    reindex(primary, [SAMPLE, source])
    publish(primary, replica)
    served = IndexStore(replica).current_name()
    write_jsonl(source / "day2.jsonl", [{"id": "n2", "title": "Second", "body": "A second article."}])
    reindex(primary, [SAMPLE, source])
    # a staging copy caught in the middle: the new generation lacks one of its segments
    shutil.copytree(primary, staging, symlinks=True)
    name = IndexStore(staging).current_name()
    next((staging / name).glob("MAIN_*.news")).unlink()
    result = run_cli("publish", "--index", str(staging), str(replica))
    assert result.returncode == 3
    assert f"not publishing {name}" in result.stderr and f"still serves {served}" in result.stderr
    assert IndexStore(replica).current_name() == served
    assert not (replica / name).exists()
    assert LiveIndex(replica).current().corpus.document_number("n1") is not None


def readme_recipe() -> str:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- replica recipe: tests/test_replicas.py runs this block -->", 1)[1]
    return block.split("```sh\n", 1)[1].split("```", 1)[0]


@pytest.mark.tool
def test_the_readme_rsync_recipe_for_other_machines(tmp_path):
    """The README's commands, run as written, with the host name dropped and /srv moved to tmp."""
    if shutil.which("rsync") is None:
        pytest.skip("rsync is not installed (apt-get install rsync)")
    archive = write_jsonl(tmp_path / "archive" / "day1.jsonl",
                          [{"id": "n1", "title": "First", "body": "The first article."}]).parent
    script = (readme_recipe().replace("primary.example.org:", "")
              .replace("/srv/archive", str(archive)).replace("/srv/newsindex", str(tmp_path / "srv"))
              .replace("newsindex ", f"{sys.executable} -m indexer "))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSINDEX_")}
    env |= {"PYTHONPATH": str(REPO), "NEWSINDEX_INDEX": str(tmp_path / "srv" / "primary")}

    def run_recipe() -> None:
        done = subprocess.run(["bash", "-euc", script], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr

    run_recipe()
    replica = tmp_path / "srv" / "index"
    first = IndexStore(replica).current_name()
    assert LiveIndex(replica).current().corpus.document_number("n1") is not None
    write_jsonl(archive / "day2.jsonl", [{"id": "n2", "title": "Second", "body": "A second article."}])
    run_recipe()
    live = IndexStore(replica).current_name()
    assert live != first and LiveIndex(replica).current().corpus.document_number("n2") is not None
    # the old segment reached the replica once: its file is shared by both generations there
    old_segment = next((replica / first).glob("MAIN_*.news"))
    assert os.path.samefile(old_segment, replica / live / old_segment.name)
    assert IndexStore(replica).generations() == [first, live]


@pytest.mark.tool
def test_the_readme_rsync_fetches_a_current_rewritten_within_the_same_second(tmp_path):
    """Two publishes within one second leave CURRENT the same size with the same whole-second
    mtime; rsync's default quick check would skip it and the replica would stay behind."""
    if shutil.which("rsync") is None:
        pytest.skip("rsync is not installed (apt-get install rsync)")
    line = next(line for line in readme_recipe().splitlines() if line.startswith("rsync "))
    outbox, incoming = tmp_path / "outbox", tmp_path / "incoming"
    outbox.mkdir()
    incoming.mkdir()
    second = int(time.time()) - 60
    (incoming / "CURRENT").write_text("gen-000001\n")
    os.utime(incoming / "CURRENT", ns=(second * 10**9 + 100, second * 10**9 + 100))
    (outbox / "CURRENT").write_text("gen-000002\n")
    os.utime(outbox / "CURRENT", ns=(second * 10**9 + 900_000, second * 10**9 + 900_000))
    command = line.replace("primary.example.org:/srv/newsindex/outbox/", f"{outbox}/") \
        .replace("/srv/newsindex/incoming/", f"{incoming}/")
    done = subprocess.run(["bash", "-euc", command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (incoming / "CURRENT").read_text() == "gen-000002\n"
