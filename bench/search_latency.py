"""In-process search latency over the Reuters index: 500 mixed queries, top 10 with snippets and facets.

usage: python bench/search_latency.py [--index DIR] [--docs DOCS_JSONL] [--passes 2]

The query mix is the one ../shared/tools/loadgen.py sends (seed 7, drawn from
titles): 250 single words, 150 word pairs, 100 quoted two-word phrases. Each
pass runs all 500 through indexer.search.search() exactly as the web app
does (snippets, facets, suggestions), with the result cache off, and reports
p50/p95/p99/max in milliseconds. Pass 1 starts from a freshly opened and
warmed index, as a web worker starts (indexer.search.warm: columns, NLTK,
the spelling vocabulary and the longest posting lists, but none of these
queries); later passes show the steady state. Target (issue 3):
p95 <= 5 ms. Builds the index first if --index does not exist.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_DOCS = REPO.parent / "shared" / "data" / "export" / "reuters" / "docs.jsonl"
STOP = set("the a an of to in and for on by with at from as is are be was it its that this said".split())


def query_mix(docs: Path) -> list[str]:
    """The same 500 queries as loadgen.py (kept in step with it by construction)."""
    titles = [re.findall(r"[a-z]+", (json.loads(line).get("title") or "").lower()) for line in open(docs)]
    df = Counter(w for ws in titles for w in set(ws))

    def good(w: str) -> bool:
        return len(w) > 2 and w not in STOP and 5 <= df[w] <= 2000

    words = sorted(w for w in df if good(w))
    pairs = sorted({(a, b) for ws in titles for a, b in zip(ws, ws[1:]) if good(a) and good(b)})
    rng = random.Random(7)
    queries = [rng.choice(words) for _ in range(250)] + [" ".join(rng.sample(words, 2)) for _ in range(150)] \
        + ['"%s %s"' % rng.choice(pairs) for _ in range(100)]
    rng.shuffle(queries)
    return queries


def percentiles(samples: list[float]) -> dict:
    s = sorted(samples)
    return {"p50": round(statistics.median(s), 2), "p95": round(s[int(0.95 * len(s)) - 1], 2),
            "p99": round(s[int(0.99 * len(s)) - 1], 2), "max": round(s[-1], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="/tmp/newsindex-bench-reuters")
    parser.add_argument("--docs", default=str(DEFAULT_DOCS))
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()
    if not Path(args.index).exists():
        subprocess.run([sys.executable, "-m", "indexer", "reindex", "--quiet", "--index", args.index,
                        args.docs], cwd=REPO)
    from indexer.live import LiveIndex
    from indexer.search import search, warm

    queries = query_mix(Path(args.docs))
    index = LiveIndex(args.index)
    started = time.perf_counter()
    warm(index)  # what each web worker does at start: columns, NLTK, Punkt, spelling, long postings
    open_ms = (time.perf_counter() - started) * 1000
    report = {"index": args.index, "queries": len(queries), "open_ms": round(open_ms, 1)}
    empty = 0
    for n in range(1, args.passes + 1):
        times = []
        for q in queries:
            t = time.perf_counter()
            results = search(index, q, per_page=10, cache=False)
            times.append((time.perf_counter() - t) * 1000)
            empty += not results.hits
        report[f"pass{n}"] = percentiles(times)
    report["empty_result_pages"] = empty // args.passes
    print(json.dumps(report))


if __name__ == "__main__":
    main()
