"""A reindex never silently shrinks the index; a bad one is undone in one command (issue 9).

Real index directories, the real CLI entry point (in this process, for speed:
``newsindex ARGS`` exactly as the console script runs it) and a real Flask app
that keeps serving across a rollback.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from indexer.errors import DeletionsRefused, IndexUnreadable
from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.search import search
from indexer.store import IndexStore
from tests.conftest import cli_in_process as cli
from tests.conftest import run_cli, write_jsonl
from webapp import create_app


def story(prefix: str, n: int) -> dict:
    return {"id": f"{prefix}{n}", "title": f"{prefix.upper()} story {n}",
            "body": f"Report number {n} from the {prefix} desk about wheat and barley harvests."}


def make_sources(base: Path, a: int = 6, b: int = 5) -> tuple[Path, Path]:
    """dirA: one JSON Lines file; dirB: one text file per article (ids are file paths)."""
    dir_a = write_jsonl(base / "dirA" / "wire.jsonl", [story("a", i) for i in range(a)]).parent
    dir_b = base / "dirB"
    dir_b.mkdir(parents=True)
    for i in range(b):
        (dir_b / f"b{i}.txt").write_text(f"B story {i}\n\nReport {i} from the b desk about barley.\n")
    return dir_a, dir_b


def ids_in(index_dir: Path) -> set[str]:
    return set(LiveIndex(index_dir).current().corpus.article_ids())


def one_line_error(result: subprocess.CompletedProcess, code: int = 3) -> str:
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


# Whoosh leaves the files of a segment it could not parse to the garbage collector
WHOOSH_LEFT_OPEN = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <_io.FileIO name=.*/gen-\d+/:pytest.PytestUnraisableExceptionWarning")


@pytest.fixture
def two_sources(tmp_path) -> tuple[Path, Path, Path]:
    dir_a, dir_b = make_sources(tmp_path)
    index_dir = tmp_path / "index"
    reindex(index_dir, [dir_a, dir_b])
    assert len(ids_in(index_dir)) == 11
    return index_dir, dir_a, dir_b


# ------------------------------------------------------------------ damaged manifest


@pytest.mark.parametrize("damage", ["garbage", "deleted", "emptied"])
def test_damaged_manifest_is_rebuilt_from_the_index_and_nothing_is_dropped(two_sources, capsys, damage):
    """Each article's hash and file live in its segment; the manifest only lists the source files
    (to skip unchanged ones): without it every file is read once more, compared, nothing dropped."""
    index_dir, dir_a, dir_b = two_sources
    manifest = index_dir / IndexStore(index_dir).current_name() / "manifest.json"
    {"garbage": lambda: manifest.write_text("{not json"), "deleted": manifest.unlink,
     "emptied": lambda: manifest.write_bytes(b"")}[damage]()
    (dir_a / "wire.jsonl").write_text("".join(json.dumps(story("a", i)) + "\n" for i in range(7)))  # one new
    result = cli(capsys, "reindex", "--index", str(index_dir), str(dir_a))
    assert result.returncode == 0, result.stderr
    assert "every source file is read once more and compared with the index" in result.stderr
    assert "added 1 · updated 0 · deleted 0 · unchanged 6" in result.stdout
    assert ids_in(index_dir) == {f"a{i}" for i in range(7)} | {f"b{i}.txt" for i in range(5)}
    # the new generation has a sound manifest again, listing what this run read
    store = IndexStore(index_dir)
    rebuilt = store.read_manifest(store.current_name())
    assert rebuilt.sound and list(rebuilt.files) == [str(dir_a)] and "wire.jsonl" in rebuilt.files[str(dir_a)]
    summary = reindex(index_dir, [dir_a, dir_b])  # dirB's files are read once more, found unchanged
    assert (summary.mode, summary.unchanged, summary.written) == ("incremental", 12, 0)
    assert reindex(index_dir, [dir_a, dir_b]).mode == "unchanged"


@WHOOSH_LEFT_OPEN
def test_damaged_manifest_and_unreadable_index_refuse_to_drop_a_source(two_sources, capsys):
    """When neither the manifest nor the index can say what it held, newsindex.json's list of
    sources still can: a run that does not read them all stops, naming them."""
    index_dir, dir_a, dir_b = two_sources
    gen = index_dir / IndexStore(index_dir).current_name()
    (gen / "manifest.json").write_text("{not json")
    for segment in gen.glob("MAIN_*.news"):
        segment.write_bytes(b"")
    result = cli(capsys, "reindex", "--index", str(index_dir), str(dir_a))
    assert result.returncode == 3 and "Traceback" not in result.stderr
    note, line = [line for line in result.stderr.strip().splitlines() if not line.endswith("…")]
    assert "is damaged (ContainerError" in note and note.endswith("it has to be rebuilt from the sources")
    assert line.startswith("error: ") and str(dir_b) in line and "--allow-deletes" in line
    assert "Nothing was changed" in line
    assert IndexStore(index_dir).generations() == [gen.name]
    result = cli(capsys, "reindex", "--index", str(index_dir), str(dir_a), str(dir_b))  # every source given
    assert result.returncode == 0, result.stderr
    assert len(ids_in(index_dir)) == 11


# ------------------------------------------------------------------ sources that vanish


def test_a_source_that_vanished_stops_the_run_unless_allowed(two_sources, capsys):
    index_dir, dir_a, dir_b = two_sources
    before = IndexStore(index_dir).current_name()
    for f in dir_b.iterdir():  # unmounted, or emptied by mistake
        f.unlink()
    line = one_line_error(cli(capsys, "reindex", "-q", "--index", str(index_dir), str(dir_a), str(dir_b)))
    assert f"it would delete 5 of the 5 articles from {dir_b} (all of them" in line
    assert "--allow-deletes" in line
    assert IndexStore(index_dir).current_name() == before and len(ids_in(index_dir)) == 11
    with pytest.raises(DeletionsRefused):
        reindex(index_dir, [dir_b])
    allowed = cli(capsys, "reindex", "--allow-deletes", "--index", str(index_dir), str(dir_b))
    assert allowed.returncode == 0 and "deleted 5" in allowed.stdout
    assert ids_in(index_dir) == {f"a{i}" for i in range(6)}


def test_losing_more_than_half_of_a_source_stops_the_run(tmp_path):
    dir_a, dir_b = make_sources(tmp_path, b=10)
    index_dir = tmp_path / "index"
    reindex(index_dir, [dir_a, dir_b])
    for i in range(6):
        (dir_b / f"b{i}.txt").unlink()
    with pytest.raises(DeletionsRefused, match=rf"delete 6 of the 10 articles from {dir_b} \(more than half"):
        reindex(index_dir, [dir_b])
    (dir_b / "b0.txt").write_text("B story 0\n\nBack again.\n")  # now exactly half would go: fine
    summary = reindex(index_dir, [dir_b])
    assert summary.deleted == 5 and len(ids_in(index_dir)) == 6 + 5


def test_a_few_deletions_go_through_as_before(two_sources):
    index_dir, dir_a, dir_b = two_sources
    (dir_b / "b1.txt").unlink()
    summary = reindex(index_dir, [dir_a, dir_b])
    assert summary.deleted == 1 and "b1.txt" not in ids_in(index_dir)


def test_an_article_that_cannot_be_read_this_time_keeps_its_indexed_copy(tmp_path, capsys):
    """A line that became bad JSON, a field of the wrong type, a text file cut to its headline:
    the run skips them (exit 1, reported) and keeps what the index had, as it does for a file
    that cannot be read at all. Fixing the input updates them; removing them deletes them."""
    dir_a, dir_b = make_sources(tmp_path, a=6, b=5)
    index_dir = tmp_path / "index"
    reindex(index_dir, [dir_a, dir_b])
    before = ids_in(index_dir)
    wire = dir_a / "wire.jsonl"
    lines = wire.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1][:-30]  # truncated: its id cannot even be read
    lines[2] = json.dumps(story("a", 2) | {"body": 42})  # the id is known, the body is not text
    lines[5] = json.dumps(story("a", 5) | {"title": "A story 5, corrected"})  # a real update beside them
    wire.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (dir_b / "b3.txt").write_text("B story 3\n")  # a headline and no body
    result = cli(capsys, "reindex", "--json", "--index", str(index_dir), str(dir_a), str(dir_b))
    summary = json.loads(result.stdout)
    assert result.returncode == 1 and summary["skipped"] == 3
    assert summary["deleted"] == 0 and summary["updated"] == 1 and ids_in(index_dir) == before
    assert summary["kept_unreadable"] == 3 and summary["kept_because"] == ["wire.jsonl:2", "b3.txt"]
    # the same input again: still kept, the skips still reported
    again = reindex(index_dir, [dir_a, dir_b])
    assert again.skipped == 3 and again.deleted == 0 and ids_in(index_dir) == before
    # fixed: the file is read whole again, and what it no longer holds goes
    write_jsonl(wire, [story("a", i) for i in (0, 1, 2, 3)])
    (dir_b / "b3.txt").write_text("B story 3\n\nThe body is back.\n")
    summary = reindex(index_dir, [dir_a, dir_b])
    assert summary.skipped == 0 and summary.kept_unreadable == 0 and summary.deleted == 2
    assert ids_in(index_dir) == before - {"a4", "a5"}
    wire.write_text(wire.read_text(encoding="utf-8")[:-5] + "\n", encoding="utf-8")  # the last line
    result = cli(capsys, "reindex", "--index", str(index_dir), str(dir_a), str(dir_b))
    assert result.returncode == 1 and "deleted 0" in result.stdout
    assert "kept as they were: 1 article of files with entries that could not be read (fix wire.jsonl:4 " \
        "(entries whose id could not be read) and run again)" in result.stdout


def test_an_entry_always_skipped_does_not_stop_its_file_losing_articles(tmp_path):
    """An export with an empty body on one line (its id known) deletes what leaves it as usual:
    only that id's copy is kept, never the whole file's."""
    records = [story("a", i) for i in range(6)] + [{"id": "blank", "title": "No text", "body": ""}]
    wire = write_jsonl(tmp_path / "src" / "wire.jsonl", records)
    index_dir = tmp_path / "index"
    first = reindex(index_dir, [wire.parent])
    assert first.skipped == 1 and len(ids_in(index_dir)) == 6
    write_jsonl(wire, [r for r in records if r["id"] != "a3"])
    summary = reindex(index_dir, [wire.parent])
    assert (summary.skipped, summary.deleted, summary.kept_unreadable) == (1, 1, 0)
    assert ids_in(index_dir) == {"a0", "a1", "a2", "a4", "a5"}
    # an indexed article whose line now has an empty body: that one is kept, a removed one goes
    write_jsonl(wire, [story("a", 0) | {"body": "  "}] + [story("a", i) for i in (1, 2, 4)]
                + [records[-1]])
    summary = reindex(index_dir, [wire.parent])
    assert (summary.skipped, summary.deleted, summary.kept_unreadable) == (2, 1, 1)
    assert ids_in(index_dir) == {"a0", "a1", "a2", "a4"}


# ------------------------------------------------------------------ rollback


def test_generations_and_rollback_undo_a_bad_reindex_while_the_site_serves(two_sources, capsys):
    index_dir, dir_a, dir_b = two_sources
    app = create_app({"INDEX": str(index_dir), "TESTING": True})
    site = app.test_client()
    assert site.get("/api/search?q=wheat").get_json()["total"] == 6
    # a bad reindex: every dirA story replaced by a broken export
    write_jsonl(dir_a / "wire.jsonl", [{**story("a", i), "body": "lorem ipsum"} for i in range(6)])
    assert reindex(index_dir, [dir_a]).updated == 6
    assert site.get("/api/search?q=wheat").get_json()["total"] == 0
    listed = cli(capsys, "generations", "--index", str(index_dir))
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if "gen-" in line]
    assert rows[0].startswith("* gen-000002") and rows[1].startswith("  gen-000001")
    assert "incremental: +0 ~6 -0" in rows[0] and "full: +11 ~0 -0" in rows[1]

    undone = cli(capsys, "rollback", "--index", str(index_dir))
    assert undone.returncode == 0, undone.stderr
    assert "gen-000001 is live" in undone.stdout and "newsindex rollback gen-000002" in undone.stdout
    assert site.get("/api/search?q=wheat").get_json()["total"] == 6  # same app, no restart
    assert site.get("/api/health").get_json()["generation"] == "gen-000001"
    # and forward again, by name
    assert cli(capsys, "rollback", "2", "--index", str(index_dir)).returncode == 0
    assert site.get("/api/search?q=wheat").get_json()["total"] == 0
    info = json.loads(cli(capsys, "generations", "--json", "--index", str(index_dir)).stdout)
    assert [(g["generation"], g["live"], g["previous"]) for g in info] == [
        ("gen-000002", True, "gen-000001"), ("gen-000001", False, None)]


def test_rollback_refuses_what_it_cannot_serve(two_sources, capsys):
    index_dir, _, _ = two_sources
    assert "no earlier complete generation" in one_line_error(
        cli(capsys, "rollback", "--index", str(index_dir)), code=2)
    assert "there is no generation 'gen-000009'" in one_line_error(
        cli(capsys, "rollback", "gen-000009", "--index", str(index_dir)), code=2)
    assert "already the live generation" in one_line_error(
        cli(capsys, "rollback", "1", "--index", str(index_dir)), code=2)
    (index_dir / "gen-000005").mkdir()  # unfinished: no newsindex.json
    assert "never finished" in one_line_error(cli(capsys, "rollback", "5", "--index", str(index_dir)), code=2)
    assert "no index has been built" in one_line_error(
        cli(capsys, "rollback", "--index", str(index_dir.parent / "none")))


def test_earlier_generations_are_kept_as_hard_links_up_to_the_setting(tmp_path, monkeypatch):
    dir_a, dir_b = make_sources(tmp_path)
    index_dir = tmp_path / "index"
    reindex(index_dir, [dir_a, dir_b])
    for n in range(1, 6):
        (dir_b / f"new{n}.txt").write_text(f"New {n}\n\nAnother barley report, number {n}.\n")
        reindex(index_dir, [dir_a, dir_b])
    store = IndexStore(index_dir)
    assert store.generations() == ["gen-000003", "gen-000004", "gen-000005", "gen-000006"]  # live + 3
    # segments a generation keeps from the one before are hard links, not copies (small segments
    # are merged now and then, so not every pair shares some)
    pairs = [(index_dir / older, index_dir / newer) for older, newer in zip(store.generations(), store.generations()[1:])]
    shared = [(old / f.name, new / f.name) for old, new in pairs for f in old.glob("MAIN_*") if (new / f.name).exists()]
    assert shared and all(os.path.samefile(a, b) for a, b in shared)
    monkeypatch.setenv("NEWSINDEX_KEEP_GENERATIONS", "0")
    (dir_b / "last.txt").write_text("Last\n\nThe last barley report.\n")
    reindex(index_dir, [dir_a, dir_b])
    assert store.generations() == ["gen-000007"]


# ------------------------------------------------------------------ CURRENT lost or damaged


@pytest.mark.parametrize("damage", ["deleted", "garbage", "names a missing generation"])
def test_a_lost_current_pointer_is_repaired_to_the_newest_complete_generation(two_sources, capsys, damage):
    index_dir, dir_a, dir_b = two_sources
    (dir_b / "b9.txt").write_text("B nine\n\nA late barley report.\n")
    reindex(index_dir, [dir_a, dir_b])  # gen-000002, with gen-000001 kept
    (index_dir / "gen-000003").mkdir()  # and an unfinished one left by a crash
    pointer = index_dir / "CURRENT"
    {"deleted": pointer.unlink, "garbage": lambda: pointer.write_bytes(b"\xff\x00garbage\n"),
     "names a missing generation": lambda: pointer.write_text("gen-000042\n")}[damage]()
    # readers say what happened and what to do; they never guess a generation
    with pytest.raises(IndexUnreadable, match="newsindex rollback"):
        LiveIndex(index_dir).current()
    # the next reindex repairs the pointer, deletes no complete generation, and stays incremental
    result = cli(capsys, "reindex", "--index", str(index_dir), str(dir_a))
    assert result.returncode == 0, result.stderr
    assert "it now names gen-000002, the newest complete generation" in result.stderr
    assert "Nothing changed: 12 articles" in result.stdout
    assert IndexStore(index_dir).generations() == ["gen-000001", "gen-000002"]
    assert len(ids_in(index_dir)) == 12


def test_rollback_repairs_a_lost_pointer_too(two_sources, capsys):
    index_dir, _, _ = two_sources
    (index_dir / "CURRENT").unlink()
    assert "no generation was live" in cli(capsys, "rollback", "--index", str(index_dir)).stdout
    assert search(LiveIndex(index_dir), "barley").total == 11


@WHOOSH_LEFT_OPEN
def test_a_damaged_live_generation_is_rebuilt_on_the_one_before_it(two_sources, capsys):
    """An incremental run cannot build on a live generation whose segments are damaged: it builds on
    the previous complete generation instead of starting over from the sources it was given."""
    index_dir, dir_a, dir_b = two_sources
    (dir_a / "wire.jsonl").write_text("".join(json.dumps(story("a", i)) + "\n" for i in range(8)))
    reindex(index_dir, [dir_a])  # gen-000002: two more dirA stories
    for segment in (index_dir / "gen-000002").glob("MAIN_*.news"):
        segment.unlink()  # its own copy damaged (an in-place write would reach the hard links too)
        segment.write_bytes(b"")
    result = cli(capsys, "reindex", "--index", str(index_dir), str(dir_a))
    assert result.returncode == 0, result.stderr
    assert "building on gen-000001" in result.stderr
    assert ids_in(index_dir) == {f"a{i}" for i in range(8)} | {f"b{i}.txt" for i in range(5)}


@WHOOSH_LEFT_OPEN
def test_with_no_generation_left_to_serve_a_left_out_source_still_stops_the_run(two_sources):
    index_dir, dir_a, dir_b = two_sources
    (index_dir / "CURRENT").unlink()
    for segment in (index_dir / "gen-000001").glob("MAIN_*.news"):
        segment.write_bytes(b"")
    with pytest.raises(DeletionsRefused, match=f"also holds articles from {dir_b}"):
        reindex(index_dir, [dir_a])
    assert reindex(index_dir, [dir_a, dir_b]).articles == 11


def test_reindex_refusal_through_a_real_process(two_sources):
    """The same refusal as a user sees it: one line, exit 3, nothing written."""
    index_dir, dir_a, dir_b = two_sources
    shutil.rmtree(dir_b)
    dir_b.mkdir()  # an empty mount point
    result = run_cli("reindex", "--quiet", "--index", str(index_dir), str(dir_b))
    line = one_line_error(result)
    assert "is the folder empty, moved or not mounted?" in line
    assert IndexStore(index_dir).generations() == ["gen-000001"]


def test_a_source_only_kept_generations_hold_does_not_stop_a_rebuild(two_sources, monkeypatch):
    """dirB was dropped on purpose (--allow-deletes); the generation kept for rollback still names it,
    but the live one does not, so a rebuild for a new default language reads dirA alone."""
    index_dir, dir_a, dir_b = two_sources
    reindex(index_dir, [dir_a], full=True, allow_deletes=True)
    assert ids_in(index_dir) == {f"a{i}" for i in range(6)}
    monkeypatch.setenv("NEWSINDEX_LANGUAGE", "de")
    summary = reindex(index_dir, [dir_a])
    assert summary.mode == "full" and ids_in(index_dir) == {f"a{i}" for i in range(6)}


# ------------------------------------------------------------------ --index that is not an index


def test_an_index_is_never_written_into_a_folder_of_other_files(tmp_path, capsys):
    """A typo in --index (or publish DEST) names a folder of articles or notes: refused, nothing written."""
    dir_a, _ = make_sources(tmp_path)
    reindex(tmp_path / "index", [dir_a])
    for command in (["reindex", "--index", str(dir_a), str(dir_a)],
                    ["publish", "--index", str(tmp_path / "index"), str(dir_a)]):
        result = cli(capsys, *command)
        line = one_line_error(result, code=2)
        assert f"{dir_a} is not a newsindex index and is not empty (it holds wire.jsonl)" in line
        assert sorted(p.name for p in dir_a.iterdir()) == ["wire.jsonl"]
    same = cli(capsys, "publish", "--index", str(tmp_path / "index"), str(tmp_path / "index"))
    assert "is the index itself" in one_line_error(same, code=2)  # a usage error too
    inside = cli(capsys, "publish", "--index", str(tmp_path / "index"), str(tmp_path / "index" / "sub"))
    assert "is inside the index" in one_line_error(inside, code=2)
    assert not (tmp_path / "index" / "sub").exists()


def test_commands_that_need_an_index_create_nothing_for_a_mistyped_one(tmp_path, capsys):
    """optimize, rollback and publish read an index that must exist: a wrong --index is an
    error that leaves no folder or lock file behind, and says what to check."""
    dir_a, _ = make_sources(tmp_path)
    missing = tmp_path / "indx"
    for command in (["optimize"], ["rollback"], ["publish", str(tmp_path / "out")]):
        result = cli(capsys, command[0], "--index", str(missing), *command[1:])
        line = one_line_error(result, code=3)
        assert f"no index has been built in {missing} yet" in line and "right --index" in line
        assert not missing.exists() and not (tmp_path / "out").exists()
        result = cli(capsys, command[0], "--index", str(dir_a), *command[1:])
        line = one_line_error(result, code=2)
        assert f"{dir_a} is not a newsindex index" in line and "Is it the right --index?" in line
        assert "new or empty" not in line and sorted(p.name for p in dir_a.iterdir()) == ["wire.jsonl"]
    index_dir = tmp_path / "index"
    reindex(index_dir, [dir_a])
    generation = index_dir / IndexStore(index_dir).current_name()
    for command in (["optimize"], ["search", "cocoa"], ["stats"], ["generations"], ["export", "cocoa"],
                    ["reindex", str(dir_a)]):
        result = cli(capsys, command[0], "--index", str(generation), *command[1:])
        line = one_line_error(result, code=2)
        assert f"is a generation of the index {index_dir}; give --index {index_dir}" in line, command


def test_an_index_inside_a_source_folder_is_ignored_not_read(tmp_path):
    """`reindex data` where data/ holds articles/ and the default index/ beside them."""
    data = tmp_path / "data"
    write_jsonl(data / "articles" / "wire.jsonl", [story("a", i) for i in range(3)])
    reindex(data / "index", [data / "articles"])
    summary = reindex(tmp_path / "other", [data])
    assert summary.articles == 3 and summary.skipped == 0 and summary.exit_code == 0
    assert [p.path for p in summary.problems if p.ignored] == ["index"]
