"""A cold `newsindex search` on the bundled sample: wall time of the whole command and the query's own.

usage: python bench/cli_cold.py [--runs 10] [--workdir DIR]

Each run is a fresh process, as a user typing the command gets: interpreter start, imports,
opening the index, the query with its snippets. Beside it, in the same run and on the same
301 articles, the peer a Whoosh user would write: a script that opens a plain Whoosh index
(StemmingAnalyzer) and prints the top 10 with highlights. Issue 9's target: ≤ 0.3 s for the
command, ≤ 20 ms for the query itself.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "index_data" / "articles"
QUERIES = ["cocoa", "oil prices", '"trade deficit"', "coffee OR sugar", "wheat exports"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("NEWSINDEX_")} | {"PYTHONPATH": str(REPO)}

WHOOSH_BUILD = r'''
import json, sys
from pathlib import Path
from whoosh import index
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, TEXT, Schema
source, path = Path(sys.argv[1]), sys.argv[2]
schema = Schema(id=ID(stored=True, unique=True), title=TEXT(analyzer=StemmingAnalyzer(), stored=True),
                body=TEXT(analyzer=StemmingAnalyzer(), stored=True))
ix = index.create_in(path, schema)
w = ix.writer()
for f in sorted(source.glob("*.jsonl")):
    for line in open(f, encoding="utf-8"):
        d = json.loads(line)
        w.add_document(id=str(d["id"]), title=d.get("title") or "", body=d.get("body") or "")
w.commit()
'''

WHOOSH_SEARCH = r'''
import sys, time
from whoosh import index
from whoosh.qparser import MultifieldParser
ix = index.open_dir(sys.argv[1])
t = time.perf_counter()
with ix.searcher() as s:
    hits = s.search(MultifieldParser(["title", "body"], ix.schema).parse(sys.argv[2]), limit=10)
    for h in hits:
        print(h["title"], h.highlights("body"))
print(f"query {(time.perf_counter() - t) * 1000:.1f} ms")
'''


def timed(cmd: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=ENV, check=True).stdout
    return time.perf_counter() - started, out


def summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--workdir", default="/tmp/newsindex-cli-cold", type=Path)
    args = parser.parse_args()
    ours_index, whoosh_index = args.workdir / "index", args.workdir / "whoosh"
    whoosh_index.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "indexer", "reindex", "-q", "--index", str(ours_index), str(SAMPLE)],
                   env=ENV, check=True)
    subprocess.run([sys.executable, "-c", WHOOSH_BUILD, str(SAMPLE), str(whoosh_index)], env=ENV, check=True)
    ours_wall, ours_query, theirs_wall, theirs_query = [], [], [], []
    for i in range(args.runs):  # alternating, so load from elsewhere falls on both alike
        q = QUERIES[i % len(QUERIES)]
        wall, out = timed([sys.executable, "-m", "indexer", "search", "--index", str(ours_index), q])
        ours_wall.append(wall)
        ours_query.append(float(re.search(r"\(([\d.]+) ms\)", out).group(1)) / 1000)
        wall, out = timed([sys.executable, "-c", WHOOSH_SEARCH, str(whoosh_index), q])
        theirs_wall.append(wall)
        theirs_query.append(float(re.search(r"query ([\d.]+) ms", out).group(1)) / 1000)
    report = {"runs": args.runs, "load_before": os.getloadavg(),
              "newsindex": {"command_s": summary(ours_wall), "query_s": summary(ours_query)},
              "plain_whoosh": {"command_s": summary(theirs_wall), "query_s": summary(theirs_query)}}
    report["command_vs_plain_whoosh"] = round(statistics.median(ours_wall) / statistics.median(theirs_wall), 2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
