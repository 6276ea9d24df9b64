"""Languages cost English archives nothing: build speed and search latency against a base version, and
the German build rate.

usage: python bench/languages_speed.py [--base-rev main] [--runs 3] [--docs DOCS_JSONL] [--german CSV]

English (Reuters-21578): the base version (``git archive BASE_REV``, default ``main``) and this
working tree, built and searched in the same run, alternating (base, this, this, base, ...) so
that the machine's load, which other work changes from minute to minute, falls on both alike:

* full build: ``newsindex reindex --workers 2`` as a real process: wall time (as bench/build.py
  measures it), CPU time of the process and its workers (steadier on a shared machine: a build on
  two cores keeps both busy, so its wall time follows its CPU time), and the index size;
* search latency: each version's own ``bench/search_latency.py`` over its own index (500 queries,
  snippets, facets, did-you-mean, cache off), p50 and p95 of the steady-state pass.

German (10kGNAD, ``../shared/data/german-news-10kgnad/test.csv``): the 1,028 articles without a
stated language (each detected), built alone as a user would, and ten copies (10,280 articles,
large enough for ``--workers 2``); articles per second as ``newsindex reindex --json`` reports
them (reading, detecting, analysing, writing, committing), and wall time.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SHARED = REPO.parent / "shared" / "data"
DEFAULT_DOCS = SHARED / "export" / "reuters" / "docs.jsonl"
DEFAULT_GERMAN = SHARED / "german-news-10kgnad" / "test.csv"


def extract(rev: str, target: Path) -> Path:
    """The tree of ``rev`` in ``target`` (private, as NLTK insists its data directory be)."""
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    subprocess.run(["chmod", "-R", "go-w", str(target)], check=True)
    return target


def run_in(tree: Path, args: list[str]) -> tuple[float, float, int]:
    """Wall time, CPU time (user + system, the process and its workers) and exit code of
    `python -m indexer ARGS` with ``tree`` as the code (wall time as bench/build.py measures it).
    CPU time hardly depends on what else the machine runs; wall time does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    code = subprocess.run([sys.executable, "-m", "indexer", *args], env={**os.environ, "PYTHONPATH": str(tree)},
                          cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), code


def build(tree: Path, index: Path, docs: Path, workers: int = 2) -> tuple[float, float]:
    shutil.rmtree(index, ignore_errors=True)
    seconds, cpu, code = run_in(tree, ["reindex", "--quiet", "--index", str(index), "--workers", str(workers),
                                       str(docs)])
    assert code in (0, 1), f"reindex failed ({code})"
    return seconds, cpu


def latency(tree: Path, index: Path, docs: Path) -> dict:
    out = subprocess.run([sys.executable, str(tree / "bench" / "search_latency.py"), "--index", str(index),
                          "--docs", str(docs), "--passes", "2"], env={**os.environ, "PYTHONPATH": str(tree)},
                         cwd=tree, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def size_mb(index: Path) -> float:
    return round(sum(f.stat().st_size for f in index.rglob("*") if f.is_file()) / 2**20, 1)


def german_jsonl(csv_path: Path, target: Path, copies: int) -> int:
    with open(csv_path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter=";", quotechar="'"))
    with open(target, "w", encoding="utf-8") as out:
        for copy in range(copies):
            for line, (label, text) in enumerate(rows, 1):
                suffix = f"-{copy}" if copies > 1 else ""
                out.write(json.dumps({"id": f"de-{line}{suffix}", "body": text, "topics": [label],
                                      "source": "DER STANDARD"}, ensure_ascii=False) + "\n")
    return len(rows) * copies


def german_build(tree: Path, docs: Path, index: Path, workers: int) -> dict:
    shutil.rmtree(index, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-m", "indexer", "reindex", "--json", "--index", str(index),
                          "--workers", str(workers), str(docs)], env=env, capture_output=True, text=True)
    assert out.returncode in (0, 1), out.stderr
    summary = json.loads(out.stdout)
    return {"articles": summary["articles"], "seconds": summary["seconds"],
            "articles_per_second": summary["articles_per_second"]}


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-rev", default="main")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--german", type=Path, default=DEFAULT_GERMAN)
    parser.add_argument("--skip-english", action="store_true")
    args = parser.parse_args()
    report: dict = {"base_rev": args.base_rev, "runs": args.runs, "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="newsindex-languages-") as tmp:
        tmp = Path(tmp)
        trees = {"base": extract(args.base_rev, tmp / "base"), "this": REPO}
        if not args.skip_english:
            builds: dict[str, list[tuple[float, float]]] = {"base": [], "this": []}
            searches: dict[str, list[dict]] = {"base": [], "this": []}
            for run in range(args.runs):
                order = ("base", "this") if run % 2 == 0 else ("this", "base")
                for name in order:
                    builds[name].append(build(trees[name], tmp / f"ix-{name}", args.docs))
                for name in reversed(order):
                    searches[name].append(latency(trees[name], tmp / f"ix-{name}", args.docs))
            for name in ("base", "this"):
                steady = [s["pass2"] for s in searches[name]]
                walls, cpus = [w for w, _ in builds[name]], [c for _, c in builds[name]]
                report[name] = {
                    "full_build_s": {"median": median(walls), "all": [round(x, 2) for x in walls]},
                    "full_build_cpu_s": {"median": median(cpus), "all": [round(x, 2) for x in cpus]},
                    "index_mb": size_mb(tmp / f"ix-{name}"),
                    "search_p50_ms": median([s["p50"] for s in steady]),
                    "search_p95_ms": median([s["p95"] for s in steady]),
                    "search_runs": [{"p50": s["p50"], "p95": s["p95"]} for s in steady],
                    "first_pass_p95_ms": median([s["pass1"]["p95"] for s in searches[name]]),
                }
            report["this_vs_base"] = {
                "full_build": round(report["this"]["full_build_s"]["median"] / report["base"]["full_build_s"]["median"], 3),
                "full_build_cpu": round(report["this"]["full_build_cpu_s"]["median"]
                                        / report["base"]["full_build_cpu_s"]["median"], 3),
                "search_p50": round(report["this"]["search_p50_ms"] / report["base"]["search_p50_ms"], 3),
                "search_p95": round(report["this"]["search_p95_ms"] / report["base"]["search_p95_ms"], 3),
            }
        if args.german.exists():
            one = tmp / "german-1.jsonl"
            ten = tmp / "german-10.jsonl"
            german_jsonl(args.german, one, 1)
            german_jsonl(args.german, ten, 10)
            report["german"] = {
                "1028_articles_1_process": [german_build(REPO, one, tmp / "ix-de", 1) for _ in range(args.runs)],
                "10280_articles_2_workers": [german_build(REPO, ten, tmp / "ix-de10", 2) for _ in range(args.runs)],
            }
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
