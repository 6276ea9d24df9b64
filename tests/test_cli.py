"""The `newsindex` command as a user runs it: real processes, exit codes, output."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest

from indexer.store import IndexStore
from tests.conftest import REPO, SAMPLE, cli_in_process, run_cli


def test_exit_0_when_everything_went_in(sample_dir, index_dir):
    result = run_cli("reindex", "--index", str(index_dir), str(sample_dir))
    assert result.returncode == 0, result.stderr
    assert "Built" in result.stdout and "301 articles" in result.stdout  # a new index: built, not rebuilt
    again = run_cli("reindex", "--full", "--index", str(index_dir), str(sample_dir))
    assert again.returncode == 0 and again.stdout.startswith("Rebuilt"), again.stdout
    assert "added 301 · updated 0 · deleted 0 · unchanged 0 · skipped 0" in result.stdout
    assert "articles/s" in result.stdout


def test_exit_1_when_some_input_was_skipped_with_file_and_line(tmp_path, index_dir):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "body": "fine"}\n{broken\n')
    result = run_cli("reindex", "--index", str(index_dir), str(source))
    assert result.returncode == 1
    assert "skipped: in.jsonl:2: invalid JSON" in result.stderr
    assert "skipped 1" in result.stdout


def test_an_id_with_a_newline_is_skipped_with_the_reason(tmp_path, index_dir):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "body": "fine"}\n{"id": "d\\n15", "title": "x", "body": "text"}\n')
    result = run_cli("reindex", "--index", str(index_dir), str(source))
    assert result.returncode == 1
    assert ("skipped: in.jsonl:2: 'id' 'd\\n15' contains a control character (U+000A), which no link "
            "can address; remove it from the id") in result.stderr
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


def test_progress_lines_when_not_a_terminal(sample_dir, index_dir):
    result = run_cli("reindex", "--index", str(index_dir), "--workers", "1", str(sample_dir))
    assert result.returncode == 0
    # one line as each phase starts (then one every few seconds, which a run this short never reaches)
    assert result.stderr.splitlines()[:3] == ["reading the sources…", "indexing 301 articles…",
                                              "committing the new index…"]
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


# ---------------------------------------------------------------- issue 9: what a new user met


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory):
    from indexer.ingest import reindex

    index_dir = tmp_path_factory.mktemp("cli") / "index"
    reindex(index_dir, [SAMPLE])
    return str(index_dir)


@pytest.mark.parametrize("args, message", [
    (["cocoa", "--from", "2024-13"], "--from must be a date like 2024"),
    (["a*"], "give at least 2 letters before the *"),
    (["published:1987-06..1987-03"], "ends before it starts (1987-06-01 is after 1987-03-31)"),
    ([""], "the QUERY is missing (or empty): give words to search for, '*' to list every article"),
    (["   "], "the QUERY is missing"),
    (["cocoa", "--limit", "500"], "--limit 500 is more than a page can hold (100, NEWSINDEX_MAX_PER_PAGE)"),
    (["cocoa", "--page", "99"], "there is no page 99: the 6 results fill 1 page of 10 (--page 1 to 1)"),
    (["cocoa", "--feedback", "maybe"], "'maybe' is not one of 'off', 'auto', 'on'"),
    (["cocoa", "--format", "atom", "--base-url", "not a url"], "base_url 'not a url' is not an absolute web"),
])
def test_search_usage_errors_exit_2_and_say_what_to_change(sample_index, capsys, args, message):
    result = cli_in_process(capsys, "search", "--index", sample_index, *args)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_page_past_the_pages_that_can_be_reached_says_how_many_there_are():
    """30,000 results fill 3,000 pages of 10, of which the first 1,000 (10,000 results) can be paged."""
    from indexer.cli_output import _no_such_page

    message = _no_such_page(1001, 30_000, 1_000, 10)
    assert "the 30,000 results fill 3,000 pages of 10, of which the first 1,000 can be paged through" in message
    assert "(--page 1 to 1,000)" in message
    assert _no_such_page(2, 1, 1, 10) == "there is no page 2: the 1 result fills 1 page of 10 (--page 1 to 1)"


def test_a_bad_setting_in_the_environment_is_a_usage_error_naming_it(sample_index):
    result = run_cli("search", "--index", sample_index, "cocoa", env={"NEWSINDEX_FEEDBACK": "maybe"})
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: NEWSINDEX_FEEDBACK='maybe' is not allowed; feedback must be one of "
                                     "off, auto, on")
    listing = run_cli("search", "--index", sample_index, "*", "--limit", "3", env={"NEWSINDEX_PER_PAGE": "3"})
    assert listing.returncode == 0 and "301 results" in listing.stdout and "page 1 of 101" in listing.stdout


def test_files_that_are_not_articles_are_ignored_not_skipped(tmp_path, index_dir):
    source = tmp_path / "desk"
    source.mkdir()
    (source / "story.txt").write_text("Harbour reopens\n\nThe harbour reopened on Monday.\n")
    (source / "harbour.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(300))
    (source / "statement.pdf").write_bytes(b"%PDF-1.7\n" + bytes(300))
    (source / "old-stories.zip").write_bytes(b"PK\x03\x04" + bytes(300))
    result = run_cli("reindex", "--index", str(index_dir), str(source))
    assert result.returncode == 0, result.stderr
    assert "skipped 0 · ignored 3 (not articles; --verbose lists them)" in result.stdout
    assert "skipped:" not in result.stderr and "ignored:" not in result.stderr
    (source / "scan.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(300))  # a picture named .txt
    again = run_cli("reindex", "--verbose", "--json", "--index", str(index_dir), str(source))
    assert again.returncode == 1
    assert "skipped: scan.txt: binary file\n" in again.stderr  # not "binary file; skipped"
    assert "ignored: harbour.jpg: not an article (.jpg file)" in again.stderr
    summary = json.loads(again.stdout)
    assert (summary["skipped"], summary["ignored"]) == (1, 3)
    assert summary["ignored_files"] == ["harbour.jpg", "old-stories.zip", "statement.pdf"]
    assert summary["problems"] == ["scan.txt: binary file"]


def test_warnings_of_unchanged_files_are_counted_not_repeated(tmp_path, capsys):
    """A cron job mails a warning once, when the file is read; later runs that skip the file count it."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "cafe.txt").write_bytes("Café prices\n\nA € 5 coffee “quoted”.\n".encode("cp1252"))
    (source / "tea.txt").write_text("Tea prices\n\nTea is dearer.\n", encoding="utf-8")
    index = str(tmp_path / "index")
    first = cli_in_process(capsys, "reindex", "-q", "--index", index, str(source))
    assert first.returncode == 0 and "warning: cafe.txt: " in first.stderr and "cp1252" in first.stderr
    again = cli_in_process(capsys, "reindex", "-q", "--index", index, str(source))
    assert again.returncode == 0 and "cp1252" not in again.stderr
    assert again.stderr.strip() == "1 earlier warning about unchanged files (--verbose lists them)"
    listed = cli_in_process(capsys, "reindex", "--verbose", "--index", index, str(source))
    assert "warning: cafe.txt: " in listed.stderr


def test_a_run_that_leaves_out_a_source_says_what_it_kept(tmp_path, capsys):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.txt").write_text(f"{name.upper()} story\n\nBody of {name}.\n", encoding="utf-8")
    index = str(tmp_path / "ix")
    cli_in_process(capsys, "reindex", "-q", "--index", index, str(tmp_path / "a"), str(tmp_path / "b"))
    result = cli_in_process(capsys, "reindex", "--index", index, str(tmp_path / "a"))
    assert result.returncode == 0
    assert "Nothing changed: 2 articles" in result.stdout
    assert f"kept as they were: the articles of {tmp_path / 'b'}" in result.stdout
    assert "articles/s" not in result.stdout  # nothing was read: no rate to speak of
    as_json = cli_in_process(capsys, "reindex", "--json", "--index", index, str(tmp_path / "a"))
    assert json.loads(as_json.stdout)["kept_sources"] == [str(tmp_path / "b")]


def test_a_source_that_moved_is_not_said_to_be_kept(tmp_path, capsys):
    """A folder moved and given under its new name: its articles are found again by id, and the
    old name is no longer a source of the index (no "kept as they were" on every later run)."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.txt").write_text(f"{name.upper()} story\n\nBody of {name}.\n", encoding="utf-8")
    index = str(tmp_path / "ix")
    cli_in_process(capsys, "reindex", "-q", "--index", index, str(tmp_path / "a"), str(tmp_path / "b"))
    (tmp_path / "b").rename(tmp_path / "b2")
    moved = cli_in_process(capsys, "reindex", "--json", "--index", index, str(tmp_path / "a"), str(tmp_path / "b2"))
    summary = json.loads(moved.stdout)
    assert moved.returncode == 0 and summary["updated"] == 1 and summary["deleted"] == 0
    assert summary["kept_sources"] == [] and summary["articles"] == 2
    again = cli_in_process(capsys, "reindex", "--index", index, str(tmp_path / "a"), str(tmp_path / "b2"))
    assert "Nothing changed: 2 articles" in again.stdout and "kept as they were" not in again.stdout
    meta = json.loads((tmp_path / "ix" / IndexStore(index).current_name() / "newsindex.json").read_text())
    assert meta["sources"] == [str(tmp_path / "a"), str(tmp_path / "b2")]


def test_a_source_inside_another_is_refused(tmp_path, capsys):
    """`reindex dir dir/sub` would index dir/sub's files twice, under two ids each."""
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    (tmp_path / "dir" / "sub" / "a.txt").write_text("A story\n\nBody.\n", encoding="utf-8")
    result = cli_in_process(capsys, "reindex", "--index", str(tmp_path / "ix"), str(tmp_path / "dir"),
                            str(tmp_path / "dir" / "sub"))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"error: source {tmp_path / 'dir' / 'sub'} is inside source "
                                     f"{tmp_path / 'dir'}, so its articles would be indexed twice; "
                                     f"give only {tmp_path / 'dir'}")
    assert not (tmp_path / "ix").exists()


def test_a_query_starting_with_minus_says_how_to_pass_it(capsys):
    """`-bahia` excludes a word, but the shell's parser reads it as an option: the error says what to type."""
    for command in ("search", "export"):
        result = cli_in_process(capsys, command, "-bahia cocoa")
        assert result.returncode == 2
        assert (f"'-bahia cocoa' is read as an option. To search for it (a leading - excludes a word), put -- "
                f"before the query, after the options: newsindex {command} [OPTIONS] -- '-bahia cocoa'") \
            in result.stderr
    assert "No such option '--bogus'" in cli_in_process(capsys, "search", "--bogus", "x").stderr
