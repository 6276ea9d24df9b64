"""The `newsindex` command as a user runs it: real processes, exit codes, output."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

from tests.conftest import REPO, many_records, run_cli, write_jsonl


def test_exit_0_when_everything_went_in(sample_dir, index_dir):
    result = run_cli("reindex", "--index", str(index_dir), str(sample_dir))
    assert result.returncode == 0, result.stderr
    assert "Rebuilt" in result.stdout and "301 articles" in result.stdout
    assert "added 301 · updated 0 · deleted 0 · unchanged 0 · skipped 0" in result.stdout
    assert "articles/s" in result.stdout


def test_exit_1_when_some_input_was_skipped_with_file_and_line(tmp_path, index_dir):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "body": "fine"}\n{broken\n')
    result = run_cli("reindex", "--index", str(index_dir), str(source))
    assert result.returncode == 1
    assert "skipped: in.jsonl:2: invalid JSON" in result.stderr
    assert "skipped 1" in result.stdout


def test_exit_2_for_usage_errors(tmp_path, index_dir):
    missing = run_cli("reindex", "--index", str(index_dir), str(tmp_path / "nope"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad_option = run_cli("reindex", "--workers", "zero", str(tmp_path))
    assert bad_option.returncode == 2 and "workers" in bad_option.stderr
    no_source = run_cli("reindex")
    assert no_source.returncode == 2


def test_exit_3_for_fatal_errors_in_one_line(tmp_path):
    result = run_cli("stats", "--index", str(tmp_path / "empty"))
    assert result.returncode == 3
    assert result.stderr.strip().count("\n") == 0 and "newsindex reindex" in result.stderr


def test_json_summary_and_quiet(sample_dir, index_dir):
    result = run_cli("reindex", "--json", "--index", str(index_dir), str(sample_dir))
    summary = json.loads(result.stdout)
    assert summary["added"] == 301 and summary["mode"] == "full" and summary["problems"] == []
    again = run_cli("reindex", "--quiet", "--index", str(index_dir), str(sample_dir))
    assert again.returncode == 0 and again.stdout == "" and again.stderr == ""


def test_index_from_the_environment(sample_dir, index_dir):
    result = run_cli("reindex", "-q", str(sample_dir), env={"NEWSINDEX_INDEX": str(index_dir)})
    assert result.returncode == 0
    assert (index_dir / "CURRENT").exists()


def test_progress_lines_when_not_a_terminal(tmp_path, index_dir):
    source = write_jsonl(tmp_path / "many.jsonl", many_records(2500))
    result = run_cli("reindex", "--index", str(index_dir), "--workers", "1", str(source))
    assert result.returncode == 0
    assert "committing the new index" in result.stderr
    assert "\r" not in result.stderr  # no bar redraws in logs


def test_progress_bar_on_a_terminal(sample_dir, index_dir):
    main, secondary = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"}
    proc = subprocess.Popen([sys.executable, "-m", "indexer", "reindex", "--index", str(index_dir),
                             str(sample_dir)], stdin=secondary, stdout=subprocess.PIPE,
                            stderr=secondary, env=env)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    proc.stdout.close()
    os.close(main)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "indexing" in screen and "articles" in screen and "\r" in screen  # a tqdm bar


def test_python_dash_m_and_help():
    result = subprocess.run([sys.executable, "-m", "indexer", "--help"], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0
    for command in ("reindex", "search", "serve", "stats"):
        assert command in result.stdout
