"""What to expect at 100k articles and beyond: build time, memory, index size, latency, worker RSS.

usage: python bench/scale.py --articles 100000 [--workdir DIR] [--docs DOCS_JSONL] [--workers 2]

Makes a synthetic archive of N articles by replicating the Reuters-21578
stories (../shared/data/export/reuters/docs.jsonl, the 19,779 with a body):
copy k gets ids ``c{k}-{id}``, dates moved k years later, one body line
dropped and a closing line "Archive copy k." (so every content hash differs),
the vocabulary stays that of Reuters: a real archive of that size has a
larger one, so sizes and latencies here are on the optimistic side.

Then, as a user would (real subprocesses), it measures:

* a full ``newsindex reindex --full --workers W`` (wall time, peak RSS of the
  whole process tree, sampled every 20 ms), an unchanged rerun, adding 1,000
  articles and deleting them again (incremental runs);
* the index size on disk;
* in-process search latency (bench/search_latency.py, cache off, 500 queries);
* ``newsindex serve --workers 2``: each worker's memory (RSS, its private part,
  shared file pages) after start and after
  the same 500 queries over HTTP, twice, and the client-side latency of both
  passes (the second is partly served from the workers' result caches).

Prints one JSON object. Loopback only; everything stops by itself.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from build import PAGE, timed_run  # noqa: E402
from search_latency import percentiles, query_mix  # noqa: E402

DEFAULT_DOCS = REPO.parent / "shared" / "data" / "export" / "reuters" / "docs.jsonl"
ADDED = 1000


def make_corpus(docs: Path, articles: int, target: Path, prefix: str = "c") -> None:
    """N articles from the Reuters stories, each copy a little different (see the module doc)."""
    base = [d for d in map(json.loads, open(docs, encoding="utf-8")) if (d.get("body") or "").strip()]
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", encoding="utf-8") as out:
        for n in range(articles):
            copy, doc = divmod(n, len(base))
            out.write(json.dumps(variant(base[doc], copy, f"{prefix}{copy}-{base[doc]['id']}")) + "\n")


def variant(doc: dict, copy: int, new_id: str) -> dict:
    doc = {**doc, "id": new_id}
    if copy:
        lines = doc["body"].split("\n")
        if len(lines) > 3:
            del lines[(copy * 7 + len(lines)) % len(lines)]
        doc["body"] = "\n".join(lines) + f"\nArchive copy {copy}."
        if doc.get("published"):
            doc["published"] = f"{int(doc['published'][:4]) + copy:04d}{doc['published'][4:]}"
    return doc


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def reindex(index: Path, *args: str) -> dict:
    seconds, peak, code = timed_run(["reindex", "--quiet", "--index", str(index), *args])
    assert code in (0, 1), f"reindex {args} failed with exit code {code}"
    return {"s": round(seconds, 1), "peak_tree_rss_mb": round(peak / 2**20)}


def rss_mb(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return round(int(f.read().split()[1]) * PAGE / 2**20)


def memory(pid: int) -> dict:
    """RSS, and how much of it is the process's own (anonymous) rather than shared file pages, in MB."""
    fields = dict(line.split(":") for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    kb = {k: int(v.split()[0]) for k, v in fields.items()}
    return {"rss": round(kb["Rss"] / 1024), "private": round((kb["Private_Clean"] + kb["Private_Dirty"]) / 1024),
            "shared_file": round(kb["Shared_Clean"] / 1024)}


def serve_and_warm(index: Path, queries: list[str]) -> dict:
    """Worker RSS after two passes of the query mix over HTTP, and the second pass's latency."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSINDEX_")} | {"PYTHONPATH": str(REPO)}
    server = subprocess.Popen([sys.executable, "-m", "indexer", "serve", "--index", str(index), "--port", "0",
                               "--workers", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    try:
        line = server.stdout.readline()
        url = re.search(r"http://[^\s,]+/", line).group(0)
        started = time.perf_counter()
        while True:  # until a worker has opened the index and answers
            try:
                urllib.request.urlopen(url + "api/health", timeout=60).read()
                break
            except OSError:
                assert time.perf_counter() - started < 120, "the server did not answer"
                time.sleep(0.2)
        workers = [int(p) for p in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]
        idle = {"master_mb": rss_mb(server.pid), "workers_mb": [memory(p) for p in workers]}
        passes = []
        for _ in range(2):  # the first from cold workers; the second partly from their result caches
            times = []
            for q in queries:
                t = time.perf_counter()
                with urllib.request.urlopen(f"{url}api/search?q={urllib.parse.quote(q)}", timeout=60) as r:
                    r.read()
                times.append((time.perf_counter() - t) * 1000)
            passes.append(percentiles(times))
        return {"after_start": idle, "after_warmup": {"master_mb": rss_mb(server.pid),
                                                      "workers_mb": [memory(p) for p in workers]},
                "http_sequential_ms": {"pass1_cold": passes[0], "pass2": passes[1]}}
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--workdir", default="/tmp/newsindex-scale")
    parser.add_argument("--docs", default=str(DEFAULT_DOCS))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = Path(args.workdir) / str(args.articles)
    corpus, index, extra = work / "corpus" / "docs.jsonl", work / "index", work / "corpus" / "added.jsonl"
    make_corpus(Path(args.docs), args.articles, corpus)
    extra.unlink(missing_ok=True)
    report: dict = {"articles": args.articles, "workers": args.workers,
                    "corpus_mb": round(corpus.stat().st_size / 2**20)}

    report["full_build"] = reindex(index, "--full", "--workers", str(args.workers), str(corpus.parent))
    report["full_build"]["articles_per_s"] = round(args.articles / report["full_build"]["s"])
    report["unchanged_rerun"] = reindex(index, str(corpus.parent))
    make_corpus(Path(args.docs), ADDED, extra, prefix="added")  # 1,000 more: new ids, in another file
    report[f"add_{ADDED}"] = reindex(index, str(corpus.parent))
    extra.unlink()
    report[f"delete_{ADDED}"] = reindex(index, str(corpus.parent))
    live = index / (index / "CURRENT").read_text().strip()
    report["index_mb"] = round(dir_bytes(live) / 2**20, 1)

    latency = subprocess.run([sys.executable, str(REPO / "bench" / "search_latency.py"), "--index", str(index),
                              "--docs", args.docs], capture_output=True, text=True, check=True)
    report["search_latency_in_process"] = json.loads(latency.stdout.strip().splitlines()[-1])
    report["serve"] = serve_and_warm(index, query_mix(Path(args.docs)))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
