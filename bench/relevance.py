"""Relevance on judged test collections: MAP, nDCG@10, P@10, Recall@100 over the top 1,000.

usage: python bench/relevance.py [cranfield cisi ...] [--no-feedback] [--data ../shared/data/export]

Builds an index of each collection's docs.jsonl in a temporary directory with
`newsindex reindex`, runs every query of queries.tsv through
`newsindex search --batch --format trec` (real subprocesses, as a user would),
and scores the run against qrels.txt with ir_measures (pytrec_eval).
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


def evaluate(collection: Path, feedback: bool) -> dict:
    import ir_measures

    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        newsindex("reindex", "--quiet", "--index", str(index), str(collection / "docs.jsonl"))
        started = time.perf_counter()
        env_extra = {} if feedback else {"NEWSINDEX_FEEDBACK": "off"}
        run = subprocess.run([sys.executable, "-m", "indexer", "search", "--index", str(index),
                              "--batch", str(collection / "queries.tsv"), "--limit", "1000"],
                             env={**os.environ, "PYTHONPATH": str(REPO), **env_extra},
                             check=True, capture_output=True, text=True).stdout
        seconds = time.perf_counter() - started
        run_file = Path(tmp) / "run.trec"
        run_file.write_text(run)
        qrels = list(ir_measures.read_trec_qrels(str(collection / "qrels.txt")))
        judged = {q.query_id for q in qrels}
        results = [r for r in ir_measures.read_trec_run(str(run_file)) if r.query_id in judged]
    scores = ir_measures.calc_aggregate([ir_measures.parse_measure(m) for m in MEASURES], qrels, results)
    out = {str(m): round(v, 4) for m, v in scores.items()}
    out["queries"] = len(judged)
    out["batch_seconds"] = round(seconds, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("collections", nargs="*", default=["cranfield", "cisi"])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "export"))
    parser.add_argument("--no-feedback", action="store_true", help="BM25F alone, without RM3")
    args = parser.parse_args()
    for name in args.collections:
        result = evaluate(Path(args.data) / name, feedback=not args.no_feedback)
        print(json.dumps({"collection": name, "feedback": not args.no_feedback, **result}))


if __name__ == "__main__":
    main()
