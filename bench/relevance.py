"""Relevance on judged test collections: MAP, nDCG@10, P@10, Recall@100 over the top 1,000.

usage: python bench/relevance.py [cranfield cisi ...] [--feedback off auto on] [--data ../shared/data/export]

Builds an index of each collection's docs.jsonl in a temporary directory with
`newsindex reindex`, runs every query of queries.tsv through
`newsindex search --batch --format trec --feedback MODE` (real subprocesses, as
a user would) for each feedback mode asked for (default: off, the default
ranking, and auto, RM3 on queries of three or more words), and scores each
run against qrels.txt with ir_measures (pytrec_eval).
Needs the bench extra: pip install -e '.[bench]'.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MEASURES = ["AP@1000", "nDCG@10", "P@10", "R@100"]


def newsindex(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "indexer", *args], env=env,
                          capture_output=True, text=True, **kwargs)
    if done.returncode not in (0, 1):  # 1: some documents skipped (e.g. empty), reported
        raise SystemExit(f"newsindex {' '.join(args)} failed:\n{done.stderr}")
    return done


def evaluate(collection: Path, modes: list[str]) -> list[dict]:
    import ir_measures

    qrels = list(ir_measures.read_trec_qrels(str(collection / "qrels.txt")))
    judged = {q.query_id for q in qrels}
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        newsindex("reindex", "--quiet", "--index", str(index), str(collection / "docs.jsonl"))
        for mode in modes:
            started = time.perf_counter()
            env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSINDEX_")}
            run = subprocess.run([sys.executable, "-m", "indexer", "search", "--index", str(index),
                                  "--batch", str(collection / "queries.tsv"), "--limit", "1000",
                                  "--feedback", mode],
                                 env={**env, "PYTHONPATH": str(REPO)},
                                 check=True, capture_output=True, text=True).stdout
            seconds = time.perf_counter() - started
            run_file = Path(tmp) / f"run-{mode}.trec"
            run_file.write_text(run)
            results = [r for r in ir_measures.read_trec_run(str(run_file)) if r.query_id in judged]
            scores = ir_measures.calc_aggregate([ir_measures.parse_measure(m) for m in MEASURES], qrels, results)
            out = {"feedback": mode, **{str(m): round(v, 4) for m, v in scores.items()}}
            out["queries"] = len(judged)
            out["batch_seconds"] = round(seconds, 2)
            outcomes.append(out)
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("collections", nargs="*", default=["cranfield", "cisi"])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "export"))
    parser.add_argument("--feedback", nargs="+", choices=["off", "auto", "on"], default=["off", "auto"],
                        help="feedback modes to score (default: off, the default ranking, and auto)")
    args = parser.parse_args()
    for name in args.collections:
        for result in evaluate(Path(args.data) / name, args.feedback):
            print(json.dumps({"collection": name, **result}))


if __name__ == "__main__":
    main()
