"""Turn a source file or directory tree into Article and Problem records.

:func:`read_source` is the only entry point. For a directory it walks the
tree in sorted order, so runs are reproducible, and picks a reader by file
extension (case-insensitive):

* ``.jsonl``, ``.json``: :mod:`.jsonl` (many articles per file);
* ``.txt``, ``.md``: :mod:`.text` (one article per file);
* ``.html``, ``.htm``: :mod:`.html` (one saved page per file).

Skipped without a Problem, because they are not articles:

* hidden files and directories (name starts with ``.``: ``.git``, editor
  swap files, ``.DS_Store``);
* files whose name starts with ``README`` or ``LICENSE`` (any case), the
  documentation that ships beside a corpus (e.g. BBC's ``README.TXT``).

Those rules apply inside a directory only: a file named explicitly as the
root is always read. Files that are plainly not articles (images, PDFs,
archives, audio and video, office documents, programs: :data:`NOT_ARTICLES`)
are reported as *ignored*, counted apart and never an error; any other
extension may be articles in a format we do not read, so it is a whole-file
Problem. Readers never raise on bad input; a missing root is the one
exception (:class:`FileNotFoundError`), since it is a usage error.

``Article.path`` and ``Problem.path`` are relative to the root, in posix
form (for a file root: its name). Given ``unchanged(path, size, mtime_ns)``
(what ingest passes), each readable file is also announced by a
:class:`SourceFile` record before its articles; when ``unchanged`` says the
file is as it was last time, only that record comes, with ``unchanged=True``,
and the file is not read at all. Symbolic links are followed; a directory
reached twice (a link loop) is reported once and not walked again.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from ..articles import Article, Problem, SourceFile
from ..store import is_index_directory
from .common import id_problem
from .jsonl import read_json, read_jsonl
from .text import read_text

__all__ = ["SUPPORTED_EXTENSIONS", "read_source", "SourceFile"]

Reader = Callable[[Path, str], Iterator[Article | Problem]]
Unchanged = Callable[[str, int, int], bool]
Record = Article | Problem | SourceFile


def read_html(path: Path, rel: str) -> Iterator[Article | Problem]:
    """:func:`.html.read_html`, imported on the first HTML file: BeautifulSoup and its CSS
    parser cost a tenth of a second to import, which a run without HTML need not pay."""
    from .html import read_html as read

    return read(path, rel)


_READERS: dict[str, Reader] = {
    ".jsonl": read_jsonl,
    ".json": read_json,
    ".txt": read_text,
    ".md": read_text,
    ".html": read_html,
    ".htm": read_html,
}

#: File extensions read_source reads, lower case, with the dot.
SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(_READERS)

_SKIPPED_PREFIXES = ("README", "LICENSE")

#: Extensions of files that are not articles, lower case, with the dot: a folder of news
#: stories often holds their pictures and attachments too.
NOT_ARTICLES: frozenset[str] = frozenset(
    "." + ext for ext in (
        "jpg jpeg png gif webp avif bmp tif tiff ico svg heic heif psd raw cr2 nef "  # images
        "pdf ps eps djvu "  # documents that are pages, not text
        "zip gz tgz bz2 xz 7z rar tar zst lz4 z cab iso dmg "  # archives
        "mp3 wav ogg oga flac m4a aac wma opus mp4 m4v mov avi mkv webm wmv flv mpg mpeg "  # media
        "doc docx xls xlsx ppt pptx odt ods odp pages numbers key "  # office
        "exe dll so dylib bin o a class jar pyc wasm "  # programs
        "db sqlite sqlite3 mdb ttf otf woff woff2 eot"  # databases and fonts
    ).split())


def read_source(root: str | os.PathLike[str], unchanged: Unchanged | None = None) -> Iterator[Record]:
    """Yield every article under ``root`` (a file or a directory tree), and every problem.

    Raises FileNotFoundError only when ``root`` itself does not exist.
    """
    root_path = Path(root)
    if not os.path.exists(root_path):
        raise FileNotFoundError(f"source not found: {os.fspath(root)}")
    if root_path.is_dir():
        yield from _read_tree(root_path, unchanged)
    else:
        yield from _read_file(root_path, _text(root_path.name), unchanged)


def _read_file(path: Path, rel: str, unchanged: Unchanged | None = None) -> Iterator[Record]:
    """Read one file with the reader for its extension; others are a Problem."""
    reader = _READERS.get(path.suffix.lower())
    if reader is None and path.suffix.lower() in NOT_ARTICLES:
        yield Problem(rel, f"not an article ({path.suffix.lower()} file)", ignored=True)
        return
    if reader is None:
        suffix = path.suffix.lower() or "(none)"
        expected = ", ".join(SUPPORTED_EXTENSIONS)
        yield Problem(rel, f"unsupported file type '{suffix}' (expected {expected})",
                      whole_file=True)
        return
    if unchanged is None:
        yield from _checked_ids(reader(path, rel))
        return
    try:
        info = os.stat(path)
    except OSError:
        yield from _checked_ids(reader(path, rel))  # the reader reports why it cannot be read
        return
    if unchanged(rel, info.st_size, info.st_mtime_ns):
        yield SourceFile(rel, info.st_size, info.st_mtime_ns, unchanged=True)
        return
    yield SourceFile(rel, info.st_size, info.st_mtime_ns)
    yield from _checked_ids(reader(path, rel))


def _checked_ids(records: Iterator[Article | Problem]) -> Iterator[Article | Problem]:
    """Every reader's articles, except those whose id holds a control character: a Problem instead.

    The .txt, .md and .html readers take the id from the file's path (a file name may hold a
    newline or a tab); the JSON readers also refuse such an ``id`` field themselves.
    """
    for record in records:
        if isinstance(record, Article):
            problem = (id_problem(record.id, "the file name", "rename the file") if record.id == record.path
                       else id_problem(record.id, "the id"))
            if problem:
                record = Problem(record.path, problem, line=record.line)
        yield record


def _read_tree(root: Path, unchanged: Unchanged | None = None) -> Iterator[Record]:
    """Walk ``root`` depth-first in name order, without recursion, reading each file.

    A stack of per-directory iterators keeps the output in sorted
    relative-path order (a directory's contents come where its name sorts).
    """
    visited: dict[tuple[int, int], str] = {}  # each folder read, and the name it was read under
    real_root = os.path.realpath(root)
    entries, problem = _list_directory(root, "", visited)
    if problem:
        yield problem
    stack = [iter(entries)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        rel, entry = item
        if entry.is_symlink():
            link = _link_problem(real_root, rel, entry.path)
            if link is not None:
                yield link
                continue
        if _is_dir(entry):
            entries, problem = _list_directory(Path(entry.path), rel, visited)
            if problem:
                yield problem
            if is_index_directory(Path(entry.path), [e.name for _, e in entries]):
                yield Problem(rel, "a newsindex index, not articles", ignored=True)  # index_data/index
                continue
            stack.append(iter(entries))
        elif not entry.name.upper().startswith(_SKIPPED_PREFIXES):
            yield from _read_file(Path(entry.path), rel, unchanged)


def _link_problem(real_root: str, rel: str, path: str) -> Problem | None:
    """Why a symbolic link is not followed, or None to follow it.

    A link out of the source is skipped and reported. A link to a file or folder the walk reads
    anyway under its own name (``latest -> 2024/11``) is ignored, so its articles are indexed
    once, with ids from their real paths, whichever name sorts first; a link to something the
    walk would not read (a hidden folder) is followed, as are dangling links and loops, which
    reading reports.
    """
    target = os.path.realpath(path)
    if not _inside(real_root, target):
        return Problem(rel, f"symbolic link to {_text(target)}, outside the source; not read (give that "
                            f"path as a source of its own to index it)", whole_file=True)
    if not os.path.exists(target):
        return None
    inner = os.path.relpath(target, real_root)
    if inner == ".":
        return Problem(rel, "a link to the source folder itself; not read again", ignored=True)
    if any(part.startswith(".") for part in inner.split(os.sep)):
        return None
    return Problem(rel, f"a link to {_text(inner)}, which is read under its own name", ignored=True)


def _inside(real_root: str, target: str) -> bool:
    """Does ``target`` (a path with its links resolved) lie inside the source? A link out of it
    (to /etc/passwd, another archive) is not read: the source's owner chose what to publish, not
    whoever could drop a link into it."""
    return target == real_root or target.startswith(real_root.rstrip(os.sep) + os.sep)


def _list_directory(directory: Path, rel: str, visited: dict[tuple[int, int], str]
                    ) -> tuple[list[tuple[str, os.DirEntry[str]]], Problem | None]:
    """A directory's visible entries as (relative path, entry), sorted by name.

    When the directory cannot be listed, or was already walked through
    another link, the list is empty and the Problem says why.
    """
    where = rel or "."
    try:
        info = directory.stat()
        first = visited.get((info.st_dev, info.st_ino))
        if first is not None:
            return [], Problem(where, f"the same folder as {first or 'the source itself'} (a link), read there; "
                                      f"not read again",
                               warning=True)
        visited[(info.st_dev, info.st_ino)] = rel
        with os.scandir(directory) as scan:
            entries = [entry for entry in scan if not entry.name.startswith(".")]
    except OSError as err:
        return [], Problem(where, f"cannot read directory: {err.strerror or err}",
                           whole_file=True)
    entries.sort(key=lambda entry: entry.name)
    prefix = f"{rel}/" if rel else ""
    return [(prefix + _text(entry.name), entry) for entry in entries], None


def _text(name: str) -> str:
    """A file name as valid text: bytes that are not UTF-8 become U+FFFD (ids must be text)."""
    return name if name.isascii() else os.fsencode(name).decode("utf-8", "replace")


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """Whether an entry is a directory (following links); unreadable ones count as files."""
    try:
        return entry.is_dir()
    except OSError:
        return False
