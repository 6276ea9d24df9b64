"""Shared fixtures: real index directories in tmp, the CLI as a real subprocess."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

pytest_plugins = ["pytester"]  # tests/test_ci_guard.py runs pytest on a scratch project

# CI runs the property tests on the same examples every time: a red CI means a change broke
# something, not that this run drew an unlucky input. Locally they keep exploring new ones (and
# what they find becomes an @example).
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "index_data" / "articles"
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()
SEED_ID = "000_1faf3d478d7b600d.txt"


def needs_shared(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test saying why."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs the shared test data at {path} (not in a plain clone)")
    return path


def run_cli(*args: str, env: dict | None = None, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run `python -m indexer ARGS` as a real process."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("NEWSINDEX_")}
    full_env = {**inherited, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "indexer", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=kwargs.pop("cwd", REPO), **kwargs)


def cli_in_process(capsys, *args: str) -> subprocess.CompletedProcess:
    """``newsindex ARGS`` through the real entry point (``indexer.cli.main``) in this process:
    the same code, exit code and output as the console script, without an interpreter start."""
    from indexer.cli import main

    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["newsindex", *args], code, out, err)


def section_span(path: Path, name: str) -> tuple[int, int]:
    """(byte offset, byte size) of section ``name`` of a container file (a segment, columns.news):
    where a test damages one on purpose."""
    from indexer.container import Container

    container = Container(path)
    try:
        section = container.sections[name]
        return container._start + section["offset"], section["count"] * int(container[name].dtype.itemsize)
    finally:
        container.close()


def overwrite(path: Path, offset: int, data: bytes) -> None:
    """Write into a file in place, as a bad disk or a careless tool would: open maps see it."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
    return path


def sample_records() -> list[dict]:
    with open(SAMPLE / "reuters-sample.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def many_records(n: int) -> list[dict]:
    """n distinct articles made from the bundled Reuters sample (ids r0..r{n-1})."""
    base = sample_records()
    return [{**base[i % len(base)], "id": f"r{i}",
             "body": base[i % len(base)]["body"] + f"\nserial marker s{i}"} for i in range(n)]


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled sample articles."""
    target = tmp_path / "articles"
    shutil.copytree(SAMPLE, target)
    return target


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On CI (CI=true) a browser test or one needing a system tool (rsync) that skips, for
    whatever reason, fails: CI installs them and must run those tests."""
    outcome = yield
    report = outcome.get_result()
    kind = next((m for m in ("browser", "tool") if item.get_closest_marker(m)), None)
    if report.skipped and os.environ.get("CI") == "true" and kind:
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"a {kind} test was skipped on CI ({reason}); CI must run the {kind} tests"
