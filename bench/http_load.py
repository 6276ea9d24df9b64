"""HTTP load: GET /api/search through `newsindex serve`, beside Datasette + SQLite FTS5.

usage: python bench/http_load.py [--index DIR] [--workers 2] [--skip-datasette]

Builds the Reuters index if needed, starts `newsindex serve` on a free
loopback port, runs ../shared/tools/loadgen.py against it (500 fixed queries:
a sequential pass, then 16 concurrent keep-alive clients for 20 s), stops it,
then runs ../shared/tools/datasette-anchor.sh, which measures Datasette with
the same tool. Prints one JSON line per system. Loopback only; stops by itself.
Targets (issue 4): req/s >= Datasette's in the same run, p99 <= 80 ms,
sequential p95 <= 6 ms, zero errors.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DOCS = SHARED / "data" / "export" / "reuters" / "docs.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("newsindex serve did not become healthy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="/tmp/newsindex-bench-reuters")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-datasette", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if not Path(args.index).exists():
        subprocess.run([sys.executable, "-m", "indexer", "reindex", "--quiet", "--index", args.index,
                        str(DOCS)], env=env)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "indexer", "serve", "--index", args.index,
                               "--port", str(port), "--workers", str(args.workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(port)
        ours = subprocess.run([sys.executable, str(SHARED / "tools" / "loadgen.py"), str(port), str(DOCS),
                               "--target", "newsindex"], capture_output=True, text=True, check=True).stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps({"system": "newsindex", "workers": args.workers, **json.loads(ours.strip().splitlines()[-1])}))
    if not args.skip_datasette:
        theirs = subprocess.run(["bash", str(SHARED / "tools" / "datasette-anchor.sh")],
                                capture_output=True, text=True, check=True).stdout
        print(json.dumps({"system": "datasette", **json.loads(theirs.strip().splitlines()[-1])}))


if __name__ == "__main__":
    main()
