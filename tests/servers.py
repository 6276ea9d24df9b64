"""What the web tests serve and how: a real index with hostile articles, a real gunicorn.

Shared by test_web, test_api, test_server and test_browser. ``Server`` runs
``python -m indexer serve`` as a subprocess on a free port (``--port 0``; the
server prints the port it got) and stops it with SIGINT, as Ctrl-C would.
"""
from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from indexer.ingest import reindex
from tests.conftest import REPO, SAMPLE, write_jsonl

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_ID = "hostile-1"
NESTED_ID = "wire/2024/nested story.txt"  # a path id with slashes and a space
DOTTED_ID = "odd/../dots"  # browsers would resolve the '..' away if it were sent as is
ODD_CHARS_ID = "odd?id#with%chars"
HOSTILE_RECORDS = [
    {"id": HOSTILE_ID, "title": f"Quokka census {XSS_SCRIPT} {XSS_IMG} report",
     "body": f"The quokka census found {XSS_SCRIPT} many quokkas.\n{XSS_IMG} Rangers counted quokka "
             f"families on the island <b>bold</b> &amp; <a href=javascript:alert(1)>click</a>.",
     "source": f"Evil {XSS_IMG} Wire", "url": "javascript:alert(1)", "author": f"<i>Mallory</i> {XSS_SCRIPT}",
     "topics": ["<svg onload=alert(1)>"], "published": "2024-05-02T10:00:00Z"},
    {"id": DOTTED_ID, "title": "Dotted identifier article about wombats", "body": "Wombats dig burrows.",
     "source": "Test Wire", "published": "2024-06-01T00:00:00Z"},
    {"id": ODD_CHARS_ID, "title": "Odd characters article about echidnas", "body": "Echidnas lay eggs.",
     "source": "Test Wire", "published": "2023-01-15T00:00:00Z"},
]
NESTED_TEXT = """---
title: Platypus sightings rise along the river
source: River Gazette
published: 2024-03-05
author: Pat Example
url: https://example.com/platypus
topics: wildlife, rivers
---
Platypus sightings rose sharply this spring, rangers said.

The platypus is shy and mostly nocturnal.
"""


def write_hostile_source(root: Path) -> Path:
    """A source folder with script-laden articles and awkward ids (a .jsonl and a nested .txt)."""
    write_jsonl(root / "hostile.jsonl", HOSTILE_RECORDS)
    nested = root / NESTED_ID
    nested.parent.mkdir(parents=True, exist_ok=True)
    nested.write_text(NESTED_TEXT, encoding="utf-8")
    return root


def build_web_index(workdir: Path) -> Path:
    """The bundled sample plus the hostile articles, indexed into ``workdir/index``."""
    index_dir = workdir / "index"
    summary = reindex(index_dir, [SAMPLE, write_hostile_source(workdir / "hostile")])
    assert summary.skipped == 0, summary.problems
    return index_dir


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)


def fetch(url: str, method: str = "GET", timeout: float = 10) -> Reply:
    """One request on a fresh connection (urllib never reuses one)."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, dict(error.headers), error.read())


class Server:
    """``python -m indexer serve`` in a subprocess; use as a context manager."""

    START_TIMEOUT = 30

    def __init__(self, index_dir: Path, workers: int = 2):
        self.index_dir = index_dir
        self.workers = workers
        self.url = ""
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSINDEX_")}
        env["PYTHONPATH"] = str(REPO)
        self.stderr_path = self.index_dir.parent / f"server-{id(self)}.log"
        with open(self.stderr_path, "w", encoding="utf-8") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "indexer", "serve", "--index", str(self.index_dir), "--port", "0",
                 "--workers", str(self.workers)],
                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
        self.reader = threading.Thread(target=self._read_stdout, daemon=True)
        self.reader.start()
        try:
            self.url = self._wait_for_url()
            self._wait_for_workers()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.stop()
        if exc_type is not None:  # pytest shows this with the failure
            print(f"--- server output ---\n{self.log()}")

    def _read_stdout(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + self.START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited with {self.process.returncode}: {self.log()}")
                continue
            self.output.append(line)
            address = re.search(r"http://[^\s,]+/", line)
            if address:
                return address.group(0)
        raise RuntimeError(f"the server did not print its address in {self.START_TIMEOUT} s: {self.log()}")

    def _wait_for_workers(self) -> None:
        """Until a worker answers (503 counts: the server is up without an index)."""
        deadline = time.monotonic() + self.START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if fetch(self.url + "api/health", timeout=2).status in (200, 503):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"no worker answered in {self.START_TIMEOUT} s: {self.log()}")

    def stop(self) -> int | None:
        """SIGINT, as Ctrl-C; returns the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=5)  # ends at EOF, once the workers are gone too
        self.process.stdout.close()
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return self.process.returncode

    def log(self) -> str:
        """Everything the server printed (stdout, then stderr)."""
        return "".join(self.output) + self.stderr_path.read_text(encoding="utf-8")


@contextmanager
def one_worker_held(url: str, path: str):
    """Keep one sync worker busy reading a request that has not ended yet.

    Requests made meanwhile can only be answered by the other workers; calling
    the yielded function ends the held request and returns its JSON body.
    """
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as held:
        held.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode())

        def finish() -> dict:
            held.sendall(b"Connection: close\r\n\r\n")
            chunks = []
            while chunk := held.recv(65536):
                chunks.append(chunk)
            head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            return json.loads(body)

        yield finish
