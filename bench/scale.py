"""A million articles on one machine, measured: newsindex beside tantivy, plain Whoosh and Datasette.

usage: python bench/scale.py --corpus 1m.jsonl [--sizes 100000,300000,1000000] [--workdir DIR]
                             [--skip-datasette] [--skip-whoosh] [--whoosh-at 100000] [--batches 30]

The corpus is ../shared/tools/scalecorpus.py's output (``--n 1000000``); a size N
uses its first N lines (nested corpora: article i is the same at every size).
For each size, as a user would run it (real subprocesses), it measures and prints
one JSON line:

* ``build``: ``newsindex reindex --full --workers 2``: wall time, peak resident
  memory of the whole process tree and peak disk use of the index directory
  (sampled every 50 ms), the final index size and its ratio to the JSONL;
  the same articles into tantivy (en_stem, text stored) and, at ``--whoosh-at``
  only (it takes long), into plain Whoosh ``writer(procs=2)`` with its
  StemmingAnalyzer: times and ratios.
* ``latency``: the 500-query mix of loadgen.py (built from this corpus' titles),
  in a fresh process as a web worker runs it (snippets, facets, did-you-mean,
  result cache off): time until the worker can answer (open + warm), the first
  pass (p95) and a warm pass (p50/p95/p99); tantivy's top 10 with a snippet for
  the same queries in the same run, and the ratios.
* ``serve``: ``newsindex serve --workers 2`` (cache off): time until it answers,
  each worker's private and shared memory after start and after 1,000 varied
  queries, and loadgen.py's sequential p95 and concurrent req/s in two rounds
  alternating with Datasette + FTS5 on the same articles (datasette-anchor.sh);
  the ratios compare each side's best round.
* ``incremental``: an unchanged rerun; then ``--batches`` daily runs adding 1,000
  new articles each (time of each, the worst); the in-process warm latency after
  the batches against the latency after the full build (fewer articles) and after
  ``newsindex optimize`` of the same articles (timed too); then deleting 1,000.

Everything is on loopback and stops by itself. Keep generated corpora and indexes
out of the repository (``--workdir``, default /tmp/newsindex-scale).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO / "bench"))
from build import PAGE, tree_rss  # noqa: E402
from search_latency import percentiles, query_mix  # noqa: E402

BATCH = 1000
ENV = {k: v for k, v in os.environ.items() if not k.startswith("NEWSINDEX_")} | {
    "PYTHONPATH": str(REPO), "NEWSINDEX_CACHE_SIZE": "0"}


# ------------------------------------------------------------------------------- helpers

def dir_bytes(path: Path) -> int:
    """Bytes on disk under ``path``, each hard-linked file once (generations share segments)."""
    seen: dict[tuple[int, int], int] = {}
    for root, _, files in os.walk(path):
        for name in files:
            try:
                st = os.stat(os.path.join(root, name))
            except OSError:
                continue
            seen[(st.st_dev, st.st_ino)] = st.st_size
    return sum(seen.values())


def run_measured(cmd: list[str], watch: Path | None = None, env: dict | None = None) -> dict:
    """Wall time, peak tree RSS and (if ``watch``) peak bytes under a directory of a command."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env or ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_rss = peak_disk = 0
    last_disk = 0.0
    while proc.poll() is None:
        peak_rss = max(peak_rss, tree_rss(proc.pid))
        if watch is not None and time.perf_counter() - last_disk > 0.5:
            peak_disk = max(peak_disk, dir_bytes(watch))
            last_disk = time.perf_counter()
        time.sleep(0.05)
    err = proc.stderr.read().decode("utf-8", "replace")
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-2000:]}")
    out = {"s": round(time.perf_counter() - started, 1), "peak_tree_rss_mb": round(peak_rss / 2**20)}
    if watch is not None:
        out["peak_disk_mb"] = round(max(peak_disk, dir_bytes(watch)) / 2**20, 1)
    return out


def newsindex(*args: str) -> list[str]:
    return [sys.executable, "-m", "indexer", *args]


def head(corpus: Path, n: int, target: Path) -> Path:
    """The first n articles of the corpus (a nested corpus), written once."""
    if target.exists() and target.stat().st_size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(corpus, "rb") as src, open(target, "wb") as out:
        for i, line in enumerate(src):
            if i >= n:
                break
            out.write(line)
    return target


def new_articles(corpus: Path, count: int, offset: int, prefix: str) -> list[str]:
    """``count`` realistic new articles: corpus articles with new ids and today's date."""
    lines = []
    with open(corpus, encoding="utf-8") as src:
        for i, line in enumerate(src):
            if i < offset:
                continue
            if len(lines) >= count:
                break
            doc = json.loads(line)
            doc["id"] = f"{prefix}-{doc['id']}"
            doc["published"] = "2026-11-29T12:00:00"
            lines.append(json.dumps(doc))
    return lines


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory(pid: int) -> dict:
    """A worker's memory in MB, from ``/proc/PID/smaps_rollup``.

    ``private`` is what the kernel counts as only this process's: its anonymous memory
    (heap, numpy arrays, Python objects: ``anonymous``) plus the pages of the memory-mapped
    index that no other process has touched yet (``private_file``: page cache, shared as
    soon as another worker reads them, and dropped under memory pressure). ``anonymous``
    is what one more worker costs.
    """
    fields = dict(line.split(":") for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    kb = {k: int(v.split()[0]) for k, v in fields.items()}
    return {"rss": round(kb["Rss"] / 1024), "private": round((kb["Private_Clean"] + kb["Private_Dirty"]) / 1024),
            "anonymous": round(kb["Anonymous"] / 1024),
            "private_file": round(max(0, kb["Private_Clean"] + kb["Private_Dirty"] - kb["Anonymous"]) / 1024),
            "shared": round((kb["Shared_Clean"] + kb["Shared_Dirty"]) / 1024)}


def loadgen(port: int, docs: Path, target: str) -> dict:
    out = subprocess.run([sys.executable, str(SHARED / "tools" / "loadgen.py"), str(port), str(docs),
                          "--target", target], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# ------------------------------------------------------------------------------- peers

TANTIVY_BUILD = r'''
import json, sys, time, tantivy
docs, path = sys.argv[1], sys.argv[2]
sb = tantivy.SchemaBuilder()
sb.add_text_field("id", stored=True, tokenizer_name="raw")
sb.add_text_field("title", stored=True, tokenizer_name="en_stem")
sb.add_text_field("body", stored=True, tokenizer_name="en_stem")
index = tantivy.Index(sb.build(), path=path)
writer = index.writer(heap_size=1_000_000_000, num_threads=2)
for line in open(docs, encoding="utf-8"):
    d = json.loads(line)
    writer.add_document(tantivy.Document(id=str(d["id"]), title=d.get("title") or "", body=d.get("body") or ""))
writer.commit()
writer.wait_merging_threads()
'''

TANTIVY_SEARCH = r'''
import json, statistics, sys, time, tantivy
path, queries = sys.argv[1], json.loads(sys.argv[2])
started = time.perf_counter()
index = tantivy.Index.open(path)
index.reload()
searcher = index.searcher()
schema = index.schema
open_ms = (time.perf_counter() - started) * 1000
def run(q):
    try:
        query = index.parse_query(q, ["title", "body"])
    except ValueError:
        return
    result = searcher.search(query, 10, count=True)
    snippets = tantivy.SnippetGenerator.create(searcher, query, schema, "body")
    for _, address in result.hits:
        doc = searcher.doc(address)
        snippets.snippet_from_doc(doc).to_html()
passes = []
for _ in range(2):
    times = []
    for q in queries:
        t = time.perf_counter(); run(q); times.append((time.perf_counter() - t) * 1000)
    s = sorted(times)
    passes.append({"p50": round(statistics.median(s), 2), "p95": round(s[int(0.95 * len(s)) - 1], 2),
                   "p99": round(s[int(0.99 * len(s)) - 1], 2)})
print(json.dumps({"open_ms": round(open_ms, 1), "pass1": passes[0], "pass2": passes[1]}))
'''

WHOOSH_BUILD = r'''
import json, sys
from whoosh import index
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, TEXT, Schema
docs, path = sys.argv[1], sys.argv[2]
schema = Schema(id=ID(stored=True, unique=True), title=TEXT(analyzer=StemmingAnalyzer(), stored=True),
                body=TEXT(analyzer=StemmingAnalyzer(), stored=True))
ix = index.create_in(path, schema)
writer = ix.writer(procs=2, limitmb=512, multisegment=True)
for line in open(docs, encoding="utf-8"):
    d = json.loads(line)
    writer.add_document(id=str(d["id"]), title=d.get("title") or "", body=d.get("body") or "")
writer.commit()
'''


def peer_build(script: str, docs: Path, path: Path) -> dict:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    result = run_measured([sys.executable, "-c", script, str(docs), str(path)], watch=path)
    result["index_mb"] = round(dir_bytes(path) / 2**20, 1)
    return result


# ------------------------------------------------------------------------------- newsindex

LATENCY = r'''
import json, sys, time
started = time.perf_counter()
sys.path.insert(0, sys.argv[3])
from search_latency import percentiles
from indexer.live import LiveIndex
from indexer.search import search, warm
index = LiveIndex(sys.argv[1]); warm(index)
ready_ms = (time.perf_counter() - started) * 1000
queries = json.loads(sys.argv[2])
passes = []
for _ in range(2):
    times = []
    for q in queries:
        t = time.perf_counter(); search(index, q, per_page=10, cache=False); times.append((time.perf_counter() - t) * 1000)
    passes.append(percentiles(times))
print(json.dumps({"ready_ms": round(ready_ms, 1), "first_pass": passes[0], "warm": passes[1]}))
'''


def latency(index: Path, queries: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", LATENCY, str(index), json.dumps(queries), str(REPO / "bench")],
                         capture_output=True, text=True, env=ENV, check=True, cwd=REPO).stdout
    return json.loads(out.strip().splitlines()[-1])


def varied(queries: list[str]) -> list[str]:
    """1,000 requests: the mix, then each word query with its neighbour (new pairs, new postings)."""
    words = [q for q in queries if " " not in q and '"' not in q]
    return queries + [f"{a} {b}" for a, b in zip(words, words[1:] + words[:1])][:1000 - len(queries)] + \
        [q + " news" for q in queries][:max(0, 1000 - len(queries) - len(words))]


def datasette(workdir: Path, docs: Path) -> dict:
    """loadgen.py against Datasette + FTS5 on the same articles (the database is built once)."""
    out = subprocess.run(["bash", str(SHARED / "tools" / "datasette-anchor.sh"), str(workdir), str(docs)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def serve(index: Path, docs: Path, queries: list[str], datasette_dir: Path | None, rounds: int = 2) -> dict:
    """Our server's start and memory; then loadgen rounds alternating with Datasette's.

    The rounds alternate (ours, Datasette, ours, Datasette) so that load from
    elsewhere on the machine falls on both alike; the ratios use each side's
    best round (the least disturbed one).
    """
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(newsindex("serve", "--index", str(index), "--port", str(port), "--workers", "2"),
                              env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.perf_counter() - started > 300:
                    raise SystemExit("newsindex serve did not answer in 300 s")
                time.sleep(0.05)
        ready_s = round(time.perf_counter() - started, 2)
        workers = [int(p) for p in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]
        after_start = [memory(p) for p in workers]
        for q in varied(queries):  # spread over both workers by the OS
            for page in (1, 2):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?"
                                            + urllib.parse.urlencode({"q": q, "page": page}), timeout=60) as r:
                    r.read()
        after_queries = [memory(p) for p in workers]
        ours, theirs = [], []
        for _ in range(rounds):
            ours.append(loadgen(port, docs, "newsindex"))
            if datasette_dir is not None:
                theirs.append(datasette(datasette_dir, docs))
    finally:
        server.terminate()
        server.wait(timeout=60)
    out = {"ready_s": ready_s, "workers_after_start_mb": after_start,
           "workers_after_2000_requests_mb": after_queries, "loadgen": best(ours), "loadgen_rounds": ours}
    if theirs:
        out["datasette"], out["datasette_rounds"] = best(theirs), theirs
        out["vs_datasette"] = _ratios(out["loadgen"], out["datasette"])
    return out


def best(rounds: list[dict]) -> dict:
    """Each figure's best over the rounds: highest req/s, lowest latencies, errors summed."""
    return {"sequential": {"p50": min(r["sequential"]["p50"] for r in rounds),
                           "p95": min(r["sequential"]["p95"] for r in rounds),
                           "errors": sum(r["sequential"]["errors"] for r in rounds)},
            "concurrent": {"rps": max(r["concurrent"]["rps"] for r in rounds),
                           "p99": min(r["concurrent"]["p99"] for r in rounds),
                           "errors": sum(r["concurrent"]["errors"] for r in rounds)},
            "rounds": len(rounds)}


def incremental(index: Path, source_dir: Path, corpus: Path, size: int, batches: int,
                queries: list[str]) -> dict:
    out: dict = {}
    out["unchanged_rerun"] = run_measured(newsindex("reindex", "--quiet", "--index", str(index), str(source_dir)))
    times = []
    for day in range(batches):
        batch = source_dir / f"daily-{day:02d}.jsonl"
        batch.write_text("\n".join(new_articles(corpus, BATCH, day * BATCH, f"d{day}")) + "\n", encoding="utf-8")
        times.append(run_measured(newsindex("reindex", "--quiet", "--index", str(index), str(source_dir)))["s"])
    out["add_1000_first_s"] = times[0] if times else None
    out[f"daily_batches_{batches}"] = {"max_s": max(times, default=None), "mean_s":
                                       round(statistics.mean(times), 1) if times else None, "all_s": times}
    gen = (index / (index / "CURRENT").read_text().strip())
    out["segments_after_batches"] = sum(1 for _ in gen.glob("MAIN_*.news"))
    out["latency_after_batches"] = latency(index, queries)
    if batches:
        # the same articles in one segment: the fair baseline for "latency after the batches"
        out["optimize"] = run_measured(newsindex("optimize", "--quiet", "--index", str(index)), watch=index)
        out["latency_after_optimize"] = latency(index, queries)
        (source_dir / "daily-00.jsonl").unlink()
        out["delete_1000"] = run_measured(newsindex("reindex", "--quiet", "--allow-deletes", "--index",
                                                    str(index), str(source_dir)))
    return out


def machine() -> dict:
    mem = dict(line.split(":") for line in Path("/proc/meminfo").read_text().splitlines())
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu": cpu, "ram_gb": round(int(mem["MemTotal"].split()[0]) / 2**20, 1),
            "python": platform.python_version(), "load_before": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--workdir", default="/tmp/newsindex-scale", type=Path)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--whoosh-at", type=int, default=100_000)
    parser.add_argument("--skip-whoosh", action="store_true")
    parser.add_argument("--skip-datasette", action="store_true")
    parser.add_argument("--skip-incremental", action="store_true")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        work = args.workdir / str(size)
        source_dir = work / "source"
        docs = head(args.corpus, size, source_dir / "articles.jsonl")
        for stale in source_dir.glob("daily-*.jsonl"):
            stale.unlink()
        index = work / "index"
        shutil.rmtree(index, ignore_errors=True)
        queries = query_mix(docs)
        report: dict = {"articles": size, "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                        "machine": machine(), "jsonl_mb": round(docs.stat().st_size / 2**20, 1)}
        build = run_measured(newsindex("reindex", "--full", "--quiet", "--workers", "2", "--index", str(index),
                                       str(source_dir)), watch=index)
        build["index_mb"] = round(dir_bytes(index) / 2**20, 1)
        build["index_to_jsonl"] = round(build["index_mb"] / report["jsonl_mb"], 3)
        build["temp_disk_to_index"] = round(build["peak_disk_mb"] / build["index_mb"], 2)
        build["articles_per_s"] = round(size / build["s"])
        report["build"] = build
        tantivy_dir = work / "tantivy"
        report["tantivy_build"] = peer_build(TANTIVY_BUILD, docs, tantivy_dir)
        report["build"]["vs_tantivy"] = round(build["s"] / report["tantivy_build"]["s"], 1)
        if not args.skip_whoosh and size == args.whoosh_at:
            report["whoosh_build"] = peer_build(WHOOSH_BUILD, docs, work / "whoosh")
            report["build"]["speedup_vs_plain_whoosh"] = round(report["whoosh_build"]["s"] / build["s"], 2)
            shutil.rmtree(work / "whoosh", ignore_errors=True)
        report["latency"] = latency(index, queries)
        tantivy = subprocess.run([sys.executable, "-c", TANTIVY_SEARCH, str(tantivy_dir), json.dumps(queries)],
                                 capture_output=True, text=True, check=True).stdout
        report["tantivy_latency"] = json.loads(tantivy.strip().splitlines()[-1])
        report["latency"]["warm_p50_vs_tantivy"] = round(
            report["latency"]["warm"]["p50"] / max(report["tantivy_latency"]["pass2"]["p50"], 0.01), 1)
        report["serve"] = serve(index, docs, queries, None if args.skip_datasette else work / "datasette")
        if not args.skip_incremental:
            report["incremental"] = incremental(index, source_dir, args.corpus, size, args.batches, queries)
            before, after = report["latency"]["warm"], report["incremental"]["latency_after_batches"]["warm"]
            report["incremental"]["latency_after_vs_full_build"] = {
                k: round(after[k] / before[k], 2) for k in ("p50", "p95", "p99")}
            if "latency_after_optimize" in report["incremental"]:
                same = report["incremental"]["latency_after_optimize"]["warm"]
                report["incremental"]["latency_after_vs_optimized"] = {
                    k: round(after[k] / same[k], 2) for k in ("p50", "p95", "p99")}
        report["machine"]["load_after"] = os.getloadavg()
        print(json.dumps(report), flush=True)


def _ratios(ours: dict, theirs: dict) -> dict:
    """req/s and sequential p95 side by side (keys as loadgen.py prints them)."""
    out = {}
    for path in (("concurrent", "rps"), ("sequential", "p95")):
        a, b = ours.get(path[0], {}).get(path[1]), theirs.get(path[0], {}).get(path[1])
        if a and b:
            out["/".join(path)] = round(a / b, 2)
    return out


if __name__ == "__main__":
    main()
