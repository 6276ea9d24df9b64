"""Indexing speed: a full build of the Reuters-21578 stories, then an unchanged rerun.

usage: python bench/build.py [DOCS_JSONL] [--workers N] [--runs 3]

Runs `newsindex reindex` as a user would (a real subprocess), measures wall
time, and samples the resident memory of the whole process tree (the main
process plus its worker processes, summed) every 20 ms for the peak.
Targets (issue 2): full build <= 15 s on 2 cores; unchanged rerun <= 2 s.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DOCS = REPO.parent / "shared" / "data" / "export" / "reuters" / "docs.jsonl"
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(pid: int) -> int:
    """Resident bytes of pid and all its descendants."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def timed_run(args: list[str]) -> tuple[float, int, int]:
    """(seconds, peak tree RSS bytes, exit code) of `python -m indexer ARGS`."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "indexer", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.02)
    return time.perf_counter() - started, peak, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("docs", nargs="?", default=str(DEFAULT_DOCS))
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    full, peaks, rerun = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        for _ in range(args.runs):
            shutil.rmtree(index, ignore_errors=True)
            seconds, peak, code = timed_run(["reindex", "--quiet", "--index", str(index),
                                            "--workers", str(args.workers), args.docs])
            assert code in (0, 1), f"reindex failed with exit code {code}"
            full.append(seconds)
            peaks.append(peak)
            seconds, _, code = timed_run(["reindex", "--quiet", "--index", str(index), args.docs])
            assert code in (0, 1)
            rerun.append(seconds)
        size = sum(f.stat().st_size for f in index.rglob("*") if f.is_file())
    print(json.dumps({
        "docs": args.docs, "workers": args.workers, "runs": args.runs,
        "full_build_s": {"median": round(statistics.median(full), 2), "all": [round(x, 2) for x in full]},
        "unchanged_rerun_s": {"median": round(statistics.median(rerun), 2), "all": [round(x, 2) for x in rerun]},
        "peak_rss_mb": round(max(peaks) / 2**20), "index_mb": round(size / 2**20, 1),
    }))


if __name__ == "__main__":
    main()
