"""Crash safety and concurrency with real processes: kill -9, racing reindexes, live readers."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.search import search
from indexer.store import IndexStore
from tests.conftest import REPO, many_records, run_cli, write_jsonl

pytestmark = pytest.mark.slow

OLD, NEW = 1200, 2400


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("corpora")
    records = many_records(NEW)
    corpora = {"old": write_jsonl(base / "old" / "articles.jsonl", records[:OLD]).parent,
               "new": write_jsonl(base / "new" / "articles.jsonl", records).parent}
    reindex(base / "old-index", [corpora["old"]])  # built once; each test copies it
    corpora["old-index"] = base / "old-index"
    return corpora


def old_index(corpora, tmp_path: Path) -> Path:
    """A private copy of the index of the old corpus."""
    return shutil.copytree(corpora["old-index"], tmp_path / "index")


def start_reindex(index_dir: Path, source: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "indexer", "reindex", "--index", str(index_dir),
                             "--workers", "2", *extra, str(source)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


SWITCHED = "switched"  # a kill point: right after CURRENT names the new generation, before the run ends
KILL_ATTEMPTS = 3


def kill_when(proc: subprocess.Popen, marker: str, index_dir: Path) -> bool:
    """kill -9 as soon as ``marker`` appears on stderr, or (``SWITCHED``) as soon as the run has
    replaced CURRENT; True if the kill is what ended the run.

    A run that had already finished proves nothing about crash safety, so
    callers try again rather than pass (the moment is a race with the run).
    """
    for line in proc.stderr:
        if ("switching" if marker == SWITCHED else marker) in line:
            break
    if marker == SWITCHED:
        before = os.stat(index_dir / "CURRENT").st_ino
        while proc.poll() is None and os.stat(index_dir / "CURRENT").st_ino == before:
            time.sleep(0.0002)
    running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.communicate()  # reap it and close its pipes
    return running and proc.returncode == -signal.SIGKILL


def assert_tidy(index_dir: Path) -> None:
    """The live generation plus complete earlier ones (kept for rollback); nothing unfinished, no temp files."""
    store = IndexStore(index_dir)
    kept = store.generations()
    assert store.current_name() in kept and all(store.is_complete(name) for name in kept), kept
    assert len(kept) <= 1 + store.keep_generations, kept
    assert not list(index_dir.glob(".*.tmp"))


def assert_serves_old_or_new(index_dir: Path) -> int:
    live = LiveIndex(index_dir)
    count = live.current().searcher().doc_count()
    assert count in (OLD, NEW)
    assert live.current().searcher().document(id="r7")["id"] == "r7"
    assert search(live, "serial marker s7", per_page=100).total >= 1
    return count


# kill points: each phase's first progress line (so the kill lands in that phase however busy the
# machine is) and right after the switch; tests/test_crash_trials.py adds random delays within them
@pytest.mark.parametrize("mode,kill", [
    ("--full", "reading"), ("--full", "indexing"), ("--full", "committing"), ("--full", "switching"),
    ("--full", SWITCHED), ("", "indexing"), ("", "committing"), ("", "switching"), ("", SWITCHED),
])
def test_kill_9_at_any_moment_leaves_a_working_index(corpora, tmp_path, mode, kill):
    for attempt in range(KILL_ATTEMPTS):
        index_dir = old_index(corpora, tmp_path / f"attempt-{attempt}")
        before = IndexStore(index_dir).current_name()
        proc = start_reindex(index_dir, corpora["new"], *([mode] if mode else []))
        if kill_when(proc, kill, index_dir):
            break
    else:
        pytest.fail(f"in {KILL_ATTEMPTS} runs the kill never landed before the reindex ended")

    count = assert_serves_old_or_new(index_dir)
    if kill == SWITCHED:
        assert IndexStore(index_dir).current_name() != before and count == NEW
    if IndexStore(index_dir).current_name() == before:
        assert count == OLD
    # the next run finishes the job and cleans up what the killed one left
    result = run_cli("reindex", "--index", str(index_dir), str(corpora["new"]))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert assert_serves_old_or_new(index_dir) == NEW
    assert_tidy(index_dir)


def test_readers_keep_answering_during_reindex_and_see_the_new_state(corpora, tmp_path):
    index_dir = old_index(corpora, tmp_path)
    live = LiveIndex(index_dir)
    assert live.current().searcher().document(id=f"r{NEW - 1}") is None
    proc = start_reindex(index_dir, corpora["new"], "--full")
    answers = []
    while proc.poll() is None:
        results = search(live, "cocoa", per_page=5)
        answers.append(live.current().searcher().doc_count())
        assert results.total > 0
        time.sleep(0.01)
    _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert set(answers) <= {OLD, NEW} and len(answers) > 10
    assert live.current().searcher().doc_count() == NEW  # no restart needed
    assert live.current().searcher().document(id=f"r{NEW - 1}") is not None


def test_second_reindex_fails_at_once_or_waits_with_wait(corpora, tmp_path):
    index_dir = tmp_path / "index"
    first = start_reindex(index_dir, corpora["new"])
    try:
        deadline = time.time() + 30
        lock = index_dir / "reindex.lock"
        while time.time() < deadline and not (lock.exists() and lock.read_text().strip()):
            time.sleep(0.01)
        refused = run_cli("reindex", "--index", str(index_dir), str(corpora["old"]))
        assert refused.returncode == 3
        assert f"pid {first.pid}" in refused.stderr and "--wait" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        waited = run_cli("reindex", "--wait", "--index", str(index_dir), str(corpora["new"]))
        assert waited.returncode == 0, waited.stderr
        assert "waiting for the running reindex" in waited.stderr
    finally:
        first.communicate(timeout=120)
    assert first.returncode == 0
    assert LiveIndex(index_dir).current().searcher().doc_count() == NEW


def test_lock_left_by_a_crashed_run_is_cleared(corpora, tmp_path):
    index_dir = old_index(corpora, tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (index_dir / "reindex.lock").write_text(json.dumps({"pid": int(dead), "started": time.time(),
                                                         "command": "newsindex reindex x"}))
    (index_dir / "gen-000099").mkdir()  # a half-written generation
    result = run_cli("reindex", "--index", str(index_dir), str(corpora["new"]))
    assert result.returncode == 0, result.stderr
    assert f"previous reindex (pid {dead}) did not finish" in result.stderr
    assert not (index_dir / "gen-000099").exists()
    assert LiveIndex(index_dir).current().searcher().doc_count() == NEW
