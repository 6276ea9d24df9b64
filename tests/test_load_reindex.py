"""Load with reindexing (issue 5, "Prove it holds"): searches keep answering, right, while the index changes.

A real ``newsindex serve`` (gunicorn, 2 workers) is hammered on loopback by
several client threads while ``newsindex reindex`` runs as real subprocesses
against the same index directory: incremental runs that add articles carrying
a marker word, remove some and edit one, and ``--full`` rebuilds. The load is
bounded (requests per thread and a deadline) and stops by itself.

Every answer must be a 200 with valid JSON, and right:

* queries whose answer never changes give exactly the answer measured before
  the load ("zelenskyy" finds the seed article, "cocoa" its constant total);
* the marker word finds exactly the articles of one of the states the
  reindexes produce (the same ids, not just the same count), and the empty
  query's total is that state's article count;
* each client thread sees the states in order: once a new state has been
  served to it, no later request of that thread is answered from an older one;
* after the last reindex, each of the two workers serves the final state.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from indexer.ingest import reindex
from tests.conftest import SAMPLE, SEED_ID, run_cli
from tests.servers import Server, fetch, one_worker_held

pytestmark = pytest.mark.slow

SAMPLE_ARTICLES = 301
MARKER = "zorblaxian"  # in no article of the sample
CLIENT_THREADS = 4
MAX_REQUESTS_PER_THREAD = 25_000  # ~4,000 are made in a typical run; the deadline comes first
DEADLINE_SECONDS = 90  # the clients stop by themselves after this, whatever happens
STATE_SEEN_TIMEOUT = 15  # a new state must reach the clients this soon after its reindex
QUERIES = ("zelenskyy", "cocoa", MARKER, "", "oil prices", '"hot phase of the war"', "nego*", "wheat -soviet")


def marker_text(n: int, with_marker: bool = True) -> str:
    word = MARKER if with_marker else "ordinary"
    return (f"---\ntitle: Field note {n} on the {word} survey\nsource: Load Wire\npublished: 2024-08-{n + 1:02d}\n"
            f"---\nSurvey team {n} filed note number {n}: the {word} count went on all week.\n")


@dataclass(frozen=True)
class State:
    """What the index holds after one step: its article count and the ids the marker finds."""

    articles: int
    marker_ids: frozenset[str]


def ids(*numbers: int) -> frozenset[str]:
    return frozenset(f"m{n:02d}.txt" for n in numbers)


@dataclass(frozen=True)
class Step:
    """One reindex: the marker files it changes first, and the state it must produce."""

    state: State
    full: bool = False
    write: tuple[int, ...] = ()  # marker articles (re)written with the marker
    unmark: tuple[int, ...] = ()  # rewritten without it
    delete: tuple[int, ...] = ()


STEPS = [  # step 0 is built before the server starts
    Step(State(SAMPLE_ARTICLES, ids())),
    Step(State(SAMPLE_ARTICLES + 6, ids(*range(6))), write=tuple(range(6))),
    Step(State(SAMPLE_ARTICLES + 12, ids(*range(12))), write=tuple(range(6, 12))),
    Step(State(SAMPLE_ARTICLES + 5, ids(*range(7, 12))), delete=tuple(range(7))),
    Step(State(SAMPLE_ARTICLES + 3, ids(9, 10, 11)), full=True, delete=(7, 8)),
    Step(State(SAMPLE_ARTICLES + 3, ids(10, 11)), unmark=(9,)),
    Step(State(SAMPLE_ARTICLES + 4, ids(10, 11, 12)), full=True, write=(12,)),
]
FINAL = len(STEPS) - 1


def apply_files(step: Step, marker_dir: Path) -> None:
    for n in step.write:
        (marker_dir / f"m{n:02d}.txt").write_text(marker_text(n), encoding="utf-8")
    for n in step.unmark:
        (marker_dir / f"m{n:02d}.txt").write_text(marker_text(n, with_marker=False), encoding="utf-8")
    for n in step.delete:
        (marker_dir / f"m{n:02d}.txt").unlink()


class Observations:
    """What the clients saw, shared between their threads."""

    def __init__(self, baseline: dict[str, dict]):
        self.baseline = baseline
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self.seen_states: set[int] = set()
        self.requests = 0

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    def saw(self, state: int) -> None:
        with self.lock:
            self.seen_states.add(state)


def candidate_states(query: str, data: dict) -> set[int] | None:
    """The steps whose state this answer fits; None when the answer says nothing about the state."""
    if query == MARKER:
        found = frozenset() if data["corrected_from"] else frozenset(h["id"] for h in data["hits"])
        if not data["corrected_from"] and data["total"] != len(found):
            return set()
        return {i for i, step in enumerate(STEPS) if step.state.marker_ids == found}
    if query == "":
        return {i for i, step in enumerate(STEPS) if step.state.articles == data["total"]}
    return None


def check_answer(query: str, data: dict, baseline: dict[str, dict]) -> str | None:
    """Why this answer is wrong for a query whose answer never changes, or None."""
    if query == "zelenskyy":
        if data["total"] != baseline[query]["total"] or SEED_ID not in [h["id"] for h in data["hits"]]:
            return f"zelenskyy: total {data['total']}, hits {[h['id'] for h in data['hits']]}"
    elif query == "cocoa":
        if data["total"] != baseline[query]["total"] or data["total"] == 0:
            return f"cocoa: total {data['total']}, expected {baseline[query]['total']}"
    elif query not in (MARKER, ""):
        if data["total"] != baseline[query]["total"]:  # no marker article matches these
            return f"{query!r}: total {data['total']}, expected {baseline[query]['total']}"
    return None


def search_url(base: str, query: str, rng: random.Random) -> str:
    if query in (MARKER, "zelenskyy"):
        per_page = 20  # every hit: the ids are checked
    else:
        per_page = rng.randint(1, 10)  # varied, so the result cache is not all that is tested
    return f"{base}api/search?q={quote(query)}&per_page={per_page}"


def client(base: str, number: int, observations: Observations, stop: threading.Event, deadline: float) -> None:
    rng = random.Random(number)
    state = 0
    for _ in range(MAX_REQUESTS_PER_THREAD):
        if stop.is_set() or time.monotonic() > deadline:
            return
        query = rng.choice(QUERIES)
        url = search_url(base, query, rng)
        try:
            reply = fetch(url)
        except OSError as exc:
            observations.error(f"{url}: {exc!r}")
            continue
        with observations.lock:
            observations.requests += 1
        if reply.status != 200:
            observations.error(f"{url}: HTTP {reply.status} {reply.body[:200]!r}")
            continue
        try:
            data = reply.json()
        except ValueError:
            observations.error(f"{url}: not JSON: {reply.body[:200]!r}")
            continue
        wrong = check_answer(query, data, observations.baseline)
        if wrong:
            observations.error(wrong)
        candidates = candidate_states(query, data)
        if candidates is None:
            continue
        later = sorted(i for i in candidates if i >= state)
        if not later:
            observations.error(f"thread {number}: {query!r} answered {data['total']} "
                               f"({sorted(h['id'] for h in data['hits'])}) after state {state} was served: "
                               f"fits states {sorted(candidates)}")
            continue
        state = later[0]
        observations.saw(state)


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_searches_stay_right_while_reindexes_run(tmp_path):
    index_dir, marker_dir = tmp_path / "index", tmp_path / "markers"
    marker_dir.mkdir()
    sources = [str(SAMPLE), str(marker_dir)]
    reindex(index_dir, sources)  # step 0

    with Server(index_dir, workers=2) as server:
        baseline = {q: fetch(search_url(server.url, q, random.Random(0))).json() for q in QUERIES}
        assert SEED_ID in [h["id"] for h in baseline["zelenskyy"]["hits"]] and baseline["cocoa"]["total"] > 0
        assert baseline[""]["total"] == SAMPLE_ARTICLES
        observations = Observations(baseline)
        stop = threading.Event()
        deadline = time.monotonic() + DEADLINE_SECONDS
        threads = [threading.Thread(target=client, args=(server.url, n, observations, stop, deadline), daemon=True)
                   for n in range(CLIENT_THREADS)]
        for thread in threads:
            thread.start()
        try:
            for number, step in enumerate(STEPS[1:], start=1):
                apply_files(step, marker_dir)
                done = run_cli("reindex", "--quiet", "--allow-deletes", "--index", str(index_dir),
                               *(["--full"] if step.full else []), *sources)  # step 3 deletes 7 of 12
                assert done.returncode == 0, (number, done.stdout, done.stderr)
                assert wait_until(lambda: number in observations.seen_states or bool(observations.errors),
                                  STATE_SEEN_TIMEOUT), f"state {number} was never served"
                assert not observations.errors, observations.errors[:10]
            time.sleep(0.5)  # a little load on the final state too
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=15)
        assert not any(thread.is_alive() for thread in threads)
        assert not observations.errors, f"{len(observations.errors)} errors: {observations.errors[:10]}"
        assert observations.seen_states == set(range(len(STEPS)))
        assert observations.requests >= 100, observations.requests

        final = STEPS[FINAL].state
        marker_path = f"/api/search?q={MARKER}&per_page=20"
        with one_worker_held(server.url, marker_path) as finish_held_request:
            for _ in range(5):  # only the other worker can answer these
                data = fetch(server.url + marker_path.lstrip("/")).json()
                assert {h["id"] for h in data["hits"]} == final.marker_ids
                assert fetch(server.url + "api/health").json()["articles"] == final.articles
            held = finish_held_request()  # answered by the held worker, after the last reindex
            assert {h["id"] for h in held["hits"]} == final.marker_ids and held["total"] == len(final.marker_ids)
        print(f"{observations.requests} searches by {CLIENT_THREADS} threads over {len(STEPS)} states")
    assert server.process.returncode == 0
    assert "Traceback" not in server.log()
