"""Exports stream with flat memory: RSS of `newsindex export` for 1,000 to 100,000 rows.

usage: python bench/export_memory.py --source /work/scale/100k.jsonl [--workdir DIR] [--query ""]
       [--limits 1000,10000,100000] [--format csv] [--with-body] [--index DIR]

Indexes SOURCE into WORKDIR/index (once; pass --index to reuse one), then runs
``newsindex export QUERY --limit N`` as a real process for each N, its output
thrown away, sampling /proc/PID/status every 20 ms: peak RSS, and its two
parts, anonymous memory (Python's own: what grows if rows were kept) and file
pages (the index's memory-mapped segments, shared and reclaimable, which grow
with how much of the index is read). Flat = RssAnon does not grow with N.
Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE_SECONDS = 0.02


def status(pid: int) -> dict[str, int]:
    """VmRSS, RssAnon, RssFile of a live process, in kB."""
    values = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "RssAnon", "RssFile"):
                    values[name] = int(rest.split()[0])
    except FileNotFoundError:
        pass
    return values


def measure(command: list[str]) -> dict:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
    written = 0
    os.set_blocking(process.stdout.fileno(), False)
    while process.poll() is None:
        for name, value in status(process.pid).items():
            peak[name] = max(peak[name], value)
        try:
            while chunk := process.stdout.read(1 << 20):
                written += len(chunk)
        except (BlockingIOError, TypeError):
            pass
        time.sleep(SAMPLE_SECONDS)
    written += len(process.stdout.read() or b"")
    stderr = process.stderr.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {stderr}")
    return {"seconds": round(time.perf_counter() - started, 2), "bytes": written,
            "peak_rss_mb": round(peak["VmRSS"] / 1024, 1), "peak_anon_mb": round(peak["RssAnon"] / 1024, 1),
            "peak_file_mb": round(peak["RssFile"] / 1024, 1), "stderr": stderr.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, help="JSON Lines articles to index (e.g. /work/scale/100k.jsonl)")
    parser.add_argument("--index", type=Path, help="an existing index to export from instead")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/newsindex-export-bench"))
    parser.add_argument("--query", default="")
    parser.add_argument("--limits", default="1000,10000,100000")
    parser.add_argument("--format", default="csv", choices=["csv", "jsonl"])
    parser.add_argument("--with-body", action="store_true")
    parser.add_argument("--workers", default="2")
    args = parser.parse_args()
    index = args.index or args.workdir / "index"
    report: dict = {"index": str(index), "query": args.query, "format": args.format, "with_body": args.with_body}
    if args.index is None:
        if args.source is None:
            parser.error("give --source to index, or --index")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "indexer", "reindex", "--full", "--quiet", "--workers", args.workers,
                        "--index", str(index), str(args.source)], cwd=REPO, check=False,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
        report["build_seconds"] = round(time.perf_counter() - started, 1)
    sys.path.insert(0, str(REPO))
    from indexer.live import LiveIndex
    from indexer.search import matches

    total = matches(LiveIndex(index), args.query, sort=None).total
    report["matches"] = total
    report["exports"] = {}
    for limit in (int(n) for n in args.limits.split(",")):
        command = [sys.executable, "-m", "indexer", "export", args.query, "--index", str(index),
                   "--format", args.format, "--limit", str(limit)] + (["--with-body"] if args.with_body else [])
        result = measure(command)
        result["rows"] = min(limit, total)
        result["rows_per_second"] = round(result["rows"] / result["seconds"]) if result["seconds"] else None
        report["exports"][str(limit)] = result
        print(f"limit {limit:>7,}: {result}", file=sys.stderr)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
