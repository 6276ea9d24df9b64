"""Bad disks and damaged index files (issue 5, "Prove it holds").

* A read-only index directory (a read-only bind mount: the tests run as root,
  where chmod stops nothing; ``chattr +i`` where mounting is impossible).
* A full disk (a small tmpfs): a reindex that does not fit fails with one
  clear line, leaves the previous generation serving and nothing behind; a
  sweep of free-space amounts hits the lock file, the segment writing and the
  commit; injected ENOSPC covers every step of the switch. The CLI runs with
  ``--quiet`` (no progress lines, whose number depends on how busy the
  machine is) and nothing is timed but a generous "did it hang" limit.
* Damaged index files: a segment, the TOC, CURRENT, newsindex.json and
  manifest.json truncated or deleted. Readers get one line saying what to
  run; that, ``--full`` and a plain reindex all recover, and a plain reindex
  repairs what it can (CURRENT, the manifest) without starting over.

Every mount is undone in a ``finally``.
"""
from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pytest

from indexer.errors import IndexWriteFailed, NewsindexError
from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.search import search
from indexer.store import IndexStore
from tests.conftest import REPO, cli_in_process, many_records, run_cli, write_jsonl

# --------------------------------------------------------------------------- mounts


def _run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True)


@lru_cache(maxsize=None)
def _mount_problem() -> str | None:
    """Why this machine cannot mount a tmpfs here, or None when it can."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root (these tests run as a regular user)"
    if shutil.which("mount") is None:
        return "no `mount` command on this machine"
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"newsindex-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        result = _run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe))
        if result.returncode != 0:
            return f"`mount -t tmpfs` fails here: {result.stderr.strip()}"
        _umount(probe)
        return None
    finally:
        probe.rmdir()


def needs_mount() -> None:
    problem = _mount_problem()
    if problem:
        pytest.skip(problem)


def _umount(path: Path) -> None:
    for _ in range(50):  # a killed process may hold it for a moment
        if _run("umount", str(path)).returncode == 0:
            return
        time.sleep(0.1)
    subprocess.run(["umount", "-l", str(path)], check=True)


@contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        _umount(path)


@contextmanager
def read_only(path: Path):
    """Make ``path`` read-only even for root: a read-only bind mount, else chattr +i."""
    if _mount_problem() is None:
        subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)
            yield "read-only file system"
        finally:
            _umount(path)
        return
    if shutil.which("chattr") and _run("chattr", "+i", str(path)).returncode == 0:
        try:
            yield "no permission"
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        return
    pytest.skip(f"cannot make a directory read-only for root here: {_mount_problem()}, "
                f"and `chattr +i` is unavailable or unsupported on this file system")


# Whoosh leaves the files of a commit it could not cancel, or of a damaged index it could not
# parse, to the garbage collector (which closes them at once); not what these tests are about.
WHOOSH_LEFT_OPEN = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <_io.FileIO name=.*/gen-\d+/:pytest.PytestUnraisableExceptionWarning")


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(mount: Path, leave: int) -> None:
    """Allocate a filler file so that only ``leave`` bytes stay free."""
    filler = mount / "filler"
    filler.unlink(missing_ok=True)
    size = free_bytes(mount) - leave
    if size > 0:
        fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o644)
        try:
            os.posix_fallocate(fd, 0, size)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------- checks


def snapshot(index_dir: Path) -> dict[str, tuple[int, int]]:
    """Every file of the index (the writer lock aside): (size, mtime)."""
    return {str(p.relative_to(index_dir)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(index_dir.rglob("*")) if p.is_file() and p.name != "reindex.lock"}


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    assert result.returncode == 3, (result.returncode, result.stderr)
    err = result.stderr.strip()
    assert "Traceback" not in err and "internal error" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def assert_serving(index_dir: Path, count: int, known: str = "r7") -> None:
    live = LiveIndex(index_dir)
    assert live.current().searcher().doc_count() == count
    results = search(live, f"serial marker s{known[1:]}", cache=False)
    assert known in [h.id for h in results.hits]


def assert_tidy(index_dir: Path) -> None:
    """The live generation and complete earlier ones only (kept for rollback: nothing unfinished);
    no temp files; no leftover lock holder."""
    store = IndexStore(index_dir)
    live = store.current_name()
    kept = store.generations()
    assert live in kept and all(store.is_complete(name) for name in kept), kept
    assert len(kept) <= 1 + store.keep_generations, kept
    names = sorted(p.name for p in index_dir.iterdir() if p.name != "filler")
    assert names == sorted(["CURRENT", "reindex.lock", *kept]), names
    # temp files are ".name.PID.tmp"; a segment's random id may spell "tmp" (MAIN_l38sotmpcjnc0ccp.news)
    assert not [p for p in (index_dir / live).iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")]
    assert (index_dir / "reindex.lock").read_text() == ""


# --------------------------------------------------------------------------- read-only


def test_read_only_index_directory(tmp_path):
    source = write_jsonl(tmp_path / "src" / "a.jsonl", many_records(60))
    index_dir = tmp_path / "index"
    reindex(index_dir, [source])
    before = snapshot(index_dir)
    with read_only(index_dir) as reason:
        for args in ([], ["--full"]):
            result = run_cli("reindex", "-q", "--index", str(index_dir), *args, str(source))
            line = assert_one_line_error(result, reason, str(index_dir))
            if reason == "read-only file system":
                assert "remount it read-write or give another --index" in line
        # readers never write: searching and stats keep working
        found = run_cli("search", "--index", str(index_dir), "serial marker s7")
        assert found.returncode == 0, found.stderr
        assert "id r7" in found.stdout
        assert run_cli("stats", "--index", str(index_dir)).returncode == 0
    assert snapshot(index_dir) == before  # untouched
    result = run_cli("reindex", "--full", "--index", str(index_dir), str(source))
    assert result.returncode == 0, result.stderr
    assert_serving(index_dir, 60)
    assert_tidy(index_dir)


def test_read_only_directory_without_an_index(tmp_path):
    source = write_jsonl(tmp_path / "src" / "a.jsonl", many_records(5))
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    with read_only(index_dir) as reason:
        result = run_cli("reindex", "-q", "--index", str(index_dir), str(source))
        assert_one_line_error(result, reason)
        assert_one_line_error(run_cli("search", "--index", str(index_dir), "x"), "newsindex reindex")
    assert list(index_dir.iterdir()) == []


# --------------------------------------------------------------------------- disk full


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("disk-corpora")
    records = many_records(3000)
    return {"small": write_jsonl(base / "small" / "a.jsonl", records[:50]).parent,
            "big": write_jsonl(base / "big" / "a.jsonl", records[:1500]).parent,
            "huge": write_jsonl(base / "huge" / "a.jsonl", records).parent}


@pytest.mark.slow
def test_disk_full_leaves_the_previous_generation_serving(tmp_path, corpora):
    needs_mount()
    with tmpfs(tmp_path / "disk", "1m") as disk:
        index_dir = disk / "index"
        first = run_cli("reindex", "--index", str(index_dir), str(corpora["small"]))
        assert first.returncode == 0, first.stderr
        before = snapshot(index_dir)
        # the next source does not fit: incremental into the same directory, full beside it
        for args in (["--workers", "1"], ["--workers", "1", "--full"]):
            result = run_cli("reindex", "-q", "--index", str(index_dir), *args, str(corpora["big"]))
            assert_one_line_error(result, "disk full", "free some space and run again",
                                  "the live index is untouched")
            assert snapshot(index_dir) == before
            assert_serving(index_dir, 50)
            assert_tidy(index_dir)
        # with room again, the same command goes through
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        result = run_cli("reindex", "--full", "--index", str(index_dir), str(corpora["big"]))
        assert result.returncode == 0, result.stderr
        assert_serving(index_dir, 1500)
        assert_tidy(index_dir)


@pytest.mark.slow
def test_disk_full_on_the_first_build_leaves_nothing(tmp_path, corpora):
    needs_mount()
    with tmpfs(tmp_path / "disk", "1m") as disk:
        index_dir = disk / "index"
        result = run_cli("reindex", "-q", "--workers", "1", "--index", str(index_dir), str(corpora["big"]))
        assert_one_line_error(result, "disk full")
        assert sorted(p.name for p in index_dir.iterdir()) == ["reindex.lock"]
        assert_one_line_error(run_cli("search", "--index", str(index_dir), "x"), "newsindex reindex")
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        result = run_cli("reindex", "--index", str(index_dir), str(corpora["big"]))
        assert result.returncode == 0, result.stderr
        assert_serving(index_dir, 1500)


@pytest.mark.slow
def test_disk_full_at_many_moments(tmp_path, corpora):
    """Leave 0 bytes, a few KB, ... up to more than enough: every outcome is old or new, tidy."""
    needs_mount()
    source = tmp_path / "source"
    shutil.copytree(corpora["small"], source)
    template = tmp_path / "template"
    reindex(template, [source])
    write_jsonl(source / "a.jsonl", many_records(450))  # +400 articles: ~2.3 MB of new segment
    outcomes = []
    with tmpfs(tmp_path / "disk", "8m") as disk:
        for leave_kb in (0, 8, 512, 2200, 2600, 3000, 6000):
            index_dir = disk / "index"
            shutil.rmtree(index_dir, ignore_errors=True)
            shutil.copytree(template, index_dir)
            before = snapshot(index_dir)
            fill(disk, leave_kb * 1024)
            result = run_cli("reindex", "-q", "--workers", "1", "--index", str(index_dir), str(source))
            (disk / "filler").unlink()
            if result.returncode == 3:
                assert_one_line_error(result, "disk full", "the live index is untouched")
                assert snapshot(index_dir) == before, leave_kb
                assert_serving(index_dir, 50)
                outcomes.append("failed")
            else:
                assert result.returncode == 0, (leave_kb, result.stderr)
                assert_serving(index_dir, 450)
                outcomes.append("done")
            assert_tidy(index_dir)
    # the sweep covered both sides
    assert outcomes[0] == "failed" and outcomes[-1] == "done", outcomes


def _failing_after(count: list[int], k: int, real):
    def failing(*args, **kwargs):
        count[0] += 1
        if count[0] == k:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)
    return failing


def test_disk_full_at_every_step_of_the_switch(tmp_path, monkeypatch):
    """ENOSPC from each fsync of the publish step (manifest, meta, files, CURRENT, directory)."""
    from indexer import store as store_module

    source = tmp_path / "src"
    write_jsonl(source / "a.jsonl", many_records(100))
    reindex(tmp_path / "template", [source])
    write_jsonl(source / "a.jsonl", many_records(110))
    real_publish = store_module.IndexStore.publish
    k = 0
    while True:
        k += 1
        index_dir = shutil.copytree(tmp_path / "template", tmp_path / f"index{k}")
        calls = [0]

        def publish(self, *args, **kwargs):
            with monkeypatch.context() as m:
                m.setattr(os, "fsync", _failing_after(calls, k, os.fsync))
                return real_publish(self, *args, **kwargs)

        monkeypatch.setattr(store_module.IndexStore, "publish", publish)
        try:
            summary = reindex(index_dir, [source])
        except IndexWriteFailed as exc:
            assert str(exc).startswith("disk full while writing the new index"), exc
            switched = IndexStore(index_dir).current_name() != "gen-000001"
            assert str(exc).endswith("the new index is live anyway" if switched
                                     else "the live index is untouched"), exc
            assert_serving(index_dir, 110 if switched else 100)
            assert not list(index_dir.glob(".*.tmp")), f"fsync {k}: a temp file was left"
            if not switched:
                assert IndexStore(index_dir).generations() == ["gen-000001"]
        else:
            assert summary.articles == 110
            break
        finally:
            monkeypatch.setattr(store_module.IndexStore, "publish", real_publish)
        # the next run cleans up and finishes
        assert reindex(index_dir, [source]).articles == 110
        assert_serving(index_dir, 110)
        assert_tidy(index_dir)
    assert k > 5  # the switch really has that many steps to fail at


def test_disk_full_while_committing_reports_disk_full(tmp_path, monkeypatch):
    """ENOSPC from each file the writer finishes in turn: segment files, Whoosh's columns, the TOC.

    Every one of them must end in "disk full" with the live index untouched.
    """
    from whoosh.filedb import structfile
    from whoosh.filedb.filestore import FileStorage

    import indexer.columns as columns_module
    import indexer.container as container_module
    import indexer.segment as segment_module

    source = tmp_path / "src"
    write_jsonl(source / "a.jsonl", many_records(60))
    reindex(tmp_path / "template", [source])
    write_jsonl(source / "a.jsonl", many_records(80))
    real_close = structfile.StructFile.close
    real_create = FileStorage.create_file
    real_write = container_module.write_container
    k = 0
    while True:
        k += 1
        index_dir = shutil.copytree(tmp_path / "template", tmp_path / f"index{k}")
        calls = [0]

        def fail_kth() -> None:
            calls[0] += 1
            if calls[0] == k:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def create(self, *args, **kwargs):
            f = real_create(self, *args, **kwargs)
            f.written_by_test = True
            return f

        def close(self):
            if getattr(self, "written_by_test", False):  # files being written, not read
                try:
                    fail_kth()
                except OSError:
                    real_close(self)  # the OS file is gone, as when its final flush fails
                    raise
            return real_close(self)

        def write(*args, **kwargs):
            fail_kth()
            return real_write(*args, **kwargs)

        monkeypatch.setattr(structfile.StructFile, "close", close)
        monkeypatch.setattr(FileStorage, "create_file", create)
        monkeypatch.setattr(segment_module, "write_container", write)
        monkeypatch.setattr(container_module, "write_container", write)
        monkeypatch.setattr(columns_module, "write_container", write)
        try:
            summary = reindex(index_dir, [source])
        except IndexWriteFailed as exc:
            assert str(exc).startswith("disk full while writing the new index"), (k, exc)
            assert str(exc).endswith("the live index is untouched")
        else:
            assert summary.articles == 80
            break
        finally:
            monkeypatch.undo()
        assert_serving(index_dir, 60)
        assert IndexStore(index_dir).generations() == ["gen-000001"]
    assert k > 5  # segment file, five columns, the TOC, the generation's columns


@pytest.mark.slow
def test_disk_full_during_a_parallel_build_fails_instead_of_hanging(tmp_path, corpora):
    needs_mount()
    with tmpfs(tmp_path / "disk", "3m") as disk:
        index_dir = disk / "index"
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSINDEX_")}
        proc = subprocess.Popen([sys.executable, "-m", "indexer", "reindex", "-q", "--workers", "2",
                                 "--index", str(index_dir), str(corpora["huge"])],
                                env={**env, "PYTHONPATH": str(REPO)}, cwd=REPO, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            # the disk is full within a few seconds of writing, so it fails long before this; a hang
            # (workers waiting on a queue nobody feeds) never ends: this only bounds the wait, however
            # busy the machine
            _, err = proc.communicate(timeout=HANG_SECONDS)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)  # its workers die with it (PR_SET_PDEATHSIG)
            proc.communicate()
            raise AssertionError("a parallel reindex into a full disk hung") from None
        assert proc.returncode == 3, err
        assert_one_line_error(subprocess.CompletedProcess(proc.args, proc.returncode, "", err), "disk full")


HANG_SECONDS = 300


# --------------------------------------------------------------------------- damaged files


def _segment(gen: Path) -> Path:
    return sorted(gen.glob("MAIN_*.news"))[0]


def _toc(gen: Path) -> Path:
    return next(gen.glob("_MAIN_*.toc"))


TARGETS = {
    "segment": _segment,
    "toc": _toc,
    "columns.news": lambda gen: gen / "columns.news",
    "CURRENT": lambda gen: gen.parent / "CURRENT",
    "newsindex.json": lambda gen: gen / "newsindex.json",
    "manifest.json": lambda gen: gen / "manifest.json",
}


def _damage(path: Path, how: str) -> None:
    if how == "deleted":
        path.unlink()
    elif how == "emptied":
        path.write_bytes(b"")
    elif how == "halved":
        os.truncate(path, path.stat().st_size // 2)
    elif how == "tail cut":
        os.truncate(path, max(path.stat().st_size - 7, 0))
    elif how == "garbage":
        path.write_bytes(b"\xff\x00garbage\n")


DAMAGE = [(target, how) for target in TARGETS for how in ("deleted", "emptied", "halved", "tail cut")
          ] + [("CURRENT", "garbage"), ("newsindex.json", "garbage"), ("manifest.json", "garbage")]


@pytest.fixture(scope="module")
def damage_template(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("damage")
    source = write_jsonl(base / "src" / "a.jsonl", many_records(40)).parent
    reindex(base / "index", [source])
    return base / "index", source


@WHOOSH_LEFT_OPEN
@pytest.mark.parametrize("target,how", DAMAGE, ids=[f"{t}-{h}".replace(" ", "-") for t, h in DAMAGE])
def test_damaged_index_file(tmp_path, capsys, damage_template, target, how):
    template, source = damage_template
    copies = {}
    for name in ("full", "incremental"):
        copies[name] = tmp_path / name
        shutil.copytree(template, copies[name])
        gen = copies[name] / IndexStore(copies[name]).current_name()
        _damage(TARGETS[target](gen), how)
    index_dir = copies["full"]

    def cli(*args):
        return cli_in_process(capsys, *args)

    if target == "manifest.json":  # only reindex reads it: searching is unaffected
        found = cli("search", "--index", str(index_dir), "serial marker s7")
        assert found.returncode == 0 and "id r7" in found.stdout, found.stderr
    else:
        # a lost pointer is repaired by `newsindex rollback`; damaged files need a rebuild
        where = f" --index {index_dir}"  # the advice names the index it is about, ready to copy
        hint = f"`newsindex rollback{where}`" if target == "CURRENT" else f"`newsindex reindex --full{where} SOURCE`"
        assert_one_line_error(cli("search", "--index", str(index_dir), "cocoa"), hint)
        assert_one_line_error(cli("stats", "--index", str(index_dir)), hint)
        with pytest.raises(NewsindexError, match="newsindex r"):
            search(LiveIndex(index_dir), "cocoa")

    # the advice works ...
    advice = ["rollback"] if target == "CURRENT" else ["reindex", "--full"]
    result = cli(*advice, "--index", str(index_dir), *([] if target == "CURRENT" else [str(source)]))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert_serving(index_dir, 40)
    assert_tidy(index_dir)
    # ... and so does a plain reindex: it repairs a lost pointer or manifest from what the index
    # still holds, and rebuilds damaged files from the sources rather than building upon them
    summary = reindex(copies["incremental"], [source])
    expected_mode = {"CURRENT": "unchanged", "manifest.json": "incremental"}.get(target, "full")
    assert (summary.mode, summary.articles) == (expected_mode, 40)
    assert_serving(copies["incremental"], 40)
    assert_tidy(copies["incremental"])
