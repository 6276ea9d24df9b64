"""The `newsindex` command: thin click commands over the library.

Exit codes: 0 all went well; 1 some input was skipped (reported); 2 usage
error; 3 a fatal error (printed as one line, no traceback).
"""
from __future__ import annotations

import json
import os
import shlex
import sys
import time

import click

from . import config
from .errors import NewsindexError, SourceNotFound

EXIT_USAGE, EXIT_FATAL = 2, 3  # 1 (some input skipped) comes from ReindexSummary.exit_code
PROBLEMS_SHOWN = 20


def index_option(f):
    setting = config.SETTINGS["index"]
    return click.option("--index", "index_dir", envvar=setting.env, default=setting.default,
                        show_default=True, type=click.Path(file_okay=False),
                        help=setting.help + f" [env {setting.env}]")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="newsindex")
def cli() -> None:
    """newsindex: full-text search for a news archive.

    \b
    newsindex reindex ARTICLES/      index new and changed articles
    newsindex search "query"         search from the terminal
    newsindex serve                  the web site and JSON API
    newsindex stats                  what the index holds
    """


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path())
@index_option
@click.option("--full", is_flag=True, help="Rebuild from scratch beside the live index, then switch.")
@click.option("--workers", type=click.IntRange(1, 64), envvar=config.SETTINGS["workers"].env,
              default=config.SETTINGS["workers"].default, show_default=True,
              help=config.SETTINGS["workers"].help)
@click.option("--wait", is_flag=True, help="If another reindex is running, wait for it instead of failing.")
@click.option("--allow-deletes", is_flag=True,
              help="Let a run delete more than half of a source's articles (a reindex otherwise refuses: "
                   "the folder may be empty or unmounted).")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems and errors.")
@click.option("-v", "--verbose", is_flag=True, help="List every skipped input, not just the first few.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def reindex(sources, index_dir, full, workers, wait, allow_deletes, quiet, verbose, as_json):
    """Index the articles in SOURCES (files or directories).

    Incremental by default: new and changed articles are written, unchanged
    ones skipped, articles whose file is gone deleted. Formats: .jsonl/.json,
    .txt/.md, .html/.htm. Searches keep working while it runs.
    """
    from .ingest import reindex as run_reindex

    progress = make_progress(quiet or as_json)
    command = "newsindex reindex " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    summary = run_reindex(index_dir, sources, full=full, workers=workers, wait=wait,
                          allow_deletes=allow_deletes, progress=progress, command=command)
    print_problems(summary.problems, verbose)
    if as_json:
        click.echo(json.dumps({**summary.as_dict(), "index": str(index_dir),
                               "problems": [str(p) for p in summary.problems]}))
    elif not quiet:
        click.echo(format_summary(summary, index_dir))
    sys.exit(summary.exit_code)


def print_problems(problems, verbose: bool) -> None:
    shown = problems if verbose else problems[:PROBLEMS_SHOWN]
    for problem in shown:
        label = "warning" if problem.warning else "skipped"
        click.echo(f"{label}: {problem}", err=True)
    if len(problems) > len(shown):
        click.echo(f"... and {len(problems) - len(shown)} more (--verbose lists them all)", err=True)


def format_summary(s, index_dir) -> str:
    if s.mode == "unchanged":
        head = f"Nothing changed: {s.articles:,} articles in {index_dir} are up to date."
    elif s.mode == "optimize":
        return (f"Optimized {index_dir} ({s.generation}): {s.articles:,} articles in one segment; "
                f"{s.deleted:,} deleted articles dropped.\n  {s.seconds:.1f} s")
    else:
        head = (f"{'Rebuilt' if s.mode == 'full' else 'Updated'} {index_dir} ({s.generation}): "
                f"{s.articles:,} articles.")
    counts = (f"added {s.added:,} · updated {s.updated:,} · deleted {s.deleted:,} · "
              f"unchanged {s.unchanged:,} · skipped {s.skipped:,}")
    if s.warnings:
        counts += f" · warnings {s.warnings:,}"
    return f"{head}\n  {counts}\n  {s.seconds:.1f} s · {s.rate:,.0f} articles/s"


@cli.command()
@index_option
@click.option("--wait", is_flag=True, help="If a reindex is running, wait for it instead of failing.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def optimize(index_dir, wait, quiet):
    """Merge the index into one segment (searches keep answering meanwhile).

    Incremental reindexes add small segments and merge them by themselves,
    but never rewrite the big ones; after many of them (or many deletions),
    optimize makes searches as fast as after a full build.
    """
    from .ingest import optimize as run_optimize

    summary = run_optimize(index_dir, wait=wait, progress=make_progress(quiet),
                           command="newsindex optimize")
    if not quiet:
        click.echo(format_summary(summary, index_dir) if summary.mode == "optimize"
                   else f"Nothing to do: {index_dir} is one segment without deleted articles.")


@cli.command()
@click.argument("dest", type=click.Path(file_okay=False))
@index_option
@click.option("--wait", is_flag=True, help="If a reindex or publish holds a lock, wait for it instead of failing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def publish(dest, index_dir, wait, as_json):
    """Copy the live index to DEST (a read replica) and switch DEST to it.

    Files DEST already holds are linked, not copied; DEST switches only once
    the copy is complete, and servers on DEST keep answering throughout.
    """
    from .replicate import publish as run_publish

    summary = run_publish(index_dir, dest, wait=wait)
    if as_json:
        click.echo(json.dumps({**summary.as_dict(), "index": str(index_dir), "dest": str(dest)}))
    elif summary.unchanged:
        click.echo(f"{dest} already serves {summary.generation}.")
    else:
        click.echo(f"Published {index_dir} ({summary.generation}) to {dest}: copied {summary.copied_files} "
                   f"files ({summary.copied_bytes / 1e6:,.1f} MB), linked {summary.linked_files}; "
                   f"{summary.seconds:.1f} s")


@cli.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def stats(index_dir, as_json):
    """What the index holds: articles, sources, dates, size, versions, last reindex."""
    from .stats import index_stats

    info = index_stats(index_dir)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    last = info["last_reindex"] or {}
    rng = info["date_range"]
    lines = [
        f"index        {info['index']} ({info['generation']})",
        f"articles     {info['articles']:,}",
        f"sources      {len(info['sources'])}: " + ", ".join(
            f"{s['value'] or '(none)'} ({s['count']:,})" for s in info["sources"][:8])
        + (" …" if len(info["sources"]) > 8 else ""),
        f"languages    {len(info['languages'])}: " + ", ".join(
            f"{s['value']} ({s['count']:,})" for s in info["languages"][:8])
        + (" …" if len(info["languages"]) > 8 else "")
        + f"; default {info['default_language']}",
        f"dates        {rng['from'] or '-'} to {rng['to'] or '-'}"
        + (f" ({info['undated']:,} undated)" if info["undated"] else ""),
        f"size         {info['size_bytes'] / 1e6:,.1f} MB on disk, {info['segments']} segment"
        + ("s" if info["segments"] != 1 else ""),
        f"versions     schema {info['schema_version']}, analyzer {info['analyzer_version']}",
        f"last reindex {info['built']}: {last.get('mode', '?')}, added {last.get('added', 0):,}, "
        f"updated {last.get('updated', 0):,}, deleted {last.get('deleted', 0):,}, "
        f"skipped {last.get('skipped', 0):,}, {last.get('seconds', 0):.1f} s",
    ]
    click.echo("\n".join(lines))


class _Lines:
    """Plain progress lines for logs and pipes: one every few seconds."""

    INTERVAL = 2.0

    def __init__(self):
        self.name, self.total, self.done = "", None, 0
        self.started = self.last = time.monotonic()

    def phase(self, name, total):
        self.name, self.total, self.done = name, total, 0
        self.started = self.last = time.monotonic()
        if name == "committing":
            click.echo("committing the new index…", err=True)

    def advance(self, n=1):
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.INTERVAL:
            self.last = now
            rate = self.done / max(now - self.started, 1e-9)
            line = f"{self.name}: {self.done:,}"
            if self.total:
                eta = (self.total - self.done) / rate if rate else 0
                line += f"/{self.total:,} articles ({rate:,.0f}/s, ETA {eta:.0f} s)"
            else:
                line += f" articles ({rate:,.0f}/s)"
            click.echo(line, err=True)

    def note(self, message):
        click.echo(message, err=True)

    def close(self):
        pass


class _Bar:
    """A tqdm bar on a terminal: count, rate, ETA."""

    def __init__(self):
        self.bar = None

    def phase(self, name, total):
        from tqdm import tqdm

        self.close()
        if name == "committing":
            click.echo("committing the new index…", err=True)
            return
        sized = _tty_columns() > 0  # a pty may report no size: then a fixed width
        self.bar = tqdm(total=total, desc=name, unit=" articles", unit_scale=False,
                        file=sys.stderr, dynamic_ncols=sized, ncols=None if sized else 80,
                        nrows=None if sized else 24, leave=False, mininterval=0.2)

    def advance(self, n=1):
        if self.bar is not None:
            self.bar.update(n)

    def note(self, message):
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            click.echo(message, err=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _tty_columns() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        return 0


def make_progress(quiet: bool):
    from .ingest import SilentProgress

    if quiet:
        return SilentProgress()
    return _Bar() if sys.stderr.isatty() else _Lines()


def main(argv: list[str] | None = None) -> None:
    """Entry point: user-facing errors become one line and an exit code, never a traceback."""
    try:
        cli.main(args=argv, prog_name="newsindex", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted; the live index is untouched", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except SourceNotFound as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except NewsindexError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FATAL)
    except KeyboardInterrupt:
        click.echo("interrupted; the live index is untouched", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: still one line, with a way to see more
        if os.environ.get("NEWSINDEX_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} "
                   f"(set NEWSINDEX_DEBUG=1 for a traceback, and please report it)", err=True)
        sys.exit(EXIT_FATAL)


@cli.command()
@click.argument("query", required=False, default="")
@index_option
@click.option("--limit", "per_page", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="Results per page (with --batch: results per query).")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True, help="Page of results.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance",
              show_default=True)
@click.option("--source", "sources", multiple=True, help="Only articles from this source (repeatable).")
@click.option("--from", "date_from", metavar="DATE", help="Published on or after (2024, 2024-03, 2024-03-01).")
@click.option("--to", "date_to", metavar="DATE", help="Published on or before.")
@click.option("--lang", "languages", multiple=True, metavar="CODE",
              help="Only articles in this language (de, fr, …; repeatable); the query is analysed its way.")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as GET /api/search.")
@click.option("--show-query", is_flag=True, help="Print how the query was understood.")
@click.option("--batch", type=click.File("r", encoding="utf-8", errors="replace"),
              help="Run every 'qid<TAB>query' line of FILE ('-' for stdin) as natural-language text.")
@click.option("--format", "out_format", type=click.Choice(["trec", "jsonl", "atom"]), default=None,
              help="With --batch: trec (default) or jsonl. For one QUERY: atom prints its Atom feed, "
                   "the same as GET /search.atom.")
@click.option("--base-url", envvar=config.SETTINGS["base_url"].env, default=config.SETTINGS["base_url"].default,
              metavar="URL", help="With --format atom: " + config.SETTINGS["base_url"].help
              + f" [env {config.SETTINGS['base_url'].env}]")
@click.option("--run-name", default="newsindex", show_default=True, help="Run tag in TREC output.")
def search(query, index_dir, per_page, page, sort, sources, date_from, date_to, languages, as_json,
           show_query, batch, out_format, base_url, run_name):
    """Search the index: QUERY uses the query language (see README), or --batch for evaluation."""
    from .search import SearchFilters, batch_search, parse_day, parse_language, search as run_search
    from .store import LiveIndex

    index = LiveIndex(index_dir)
    if batch is not None:
        if out_format == "atom":
            raise click.UsageError("--format atom prints the feed of one QUERY, not of a --batch")
        limit = per_page if per_page != 10 else 1000
        _run_batch(index, batch, limit, out_format or "trec", run_name, batch_search)
        return
    if not query.strip():
        raise click.UsageError("give a QUERY to search for (or --batch FILE)")
    if out_format in ("trec", "jsonl"):
        raise click.UsageError(f"--format {out_format} goes with --batch; for one QUERY use --json, "
                               f"or --format atom for its feed")
    filters = SearchFilters(sources=tuple(sources), date_from=parse_day(date_from, "--from"),
                            date_to=parse_day(date_to, "--to", end=True),
                            languages=tuple(parse_language(code, "--lang") for code in languages))
    if out_format == "atom":
        from webapp.feeds import cli_feed

        sys.stdout.buffer.write(cli_feed(index_dir, query, sources, date_from, date_to, base_url,
                                         filters.languages))
        return
    results = run_search(index, query, page=page, per_page=min(per_page, 100), filters=filters, sort=sort)
    if as_json:
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False))
        return
    if show_query:
        click.echo(f"query: {results.parsed}", err=True)
    click.echo(format_results(results, color=sys.stdout.isatty()))


def _run_batch(index, batch, limit, out_format, run_name, batch_search) -> None:
    def queries():
        for number, line in enumerate(batch, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            qid, sep, text = line.partition("\t")
            if not sep:
                click.echo(f"warning: line {number}: no TAB between query id and text; skipped", err=True)
                continue
            yield qid.strip(), text

    for qid, ranked in batch_search(index, queries(), limit=limit):
        if out_format == "jsonl":
            click.echo(json.dumps({"qid": qid, "hits": [{"id": d, "score": round(s, 4)} for d, s in ranked]}))
            continue
        if ranked:
            click.echo("\n".join(f"{qid} Q0 {doc} {rank} {score:.4f} {run_name}"
                                 for rank, (doc, score) in enumerate(ranked, 1)))


def _terminal(html_text: str, color: bool) -> str:
    import html as html_lib

    if color:
        html_text = html_text.replace("<mark>", "\x1b[1;33m").replace("</mark>", "\x1b[0m")
    else:
        html_text = html_text.replace("<mark>", "").replace("</mark>", "")
    return html_lib.unescape(html_text)


def format_results(r, color: bool) -> str:
    lines = []
    for notice in r.notices:
        lines.append(f"note: {notice}")
    if r.suggestion and not r.corrected_from:
        lines.append(f"did you mean: {r.suggestion}")
    lines.append(f"{r.total:,} result{'s' if r.total != 1 else ''} ({r.took_ms:.1f} ms)"
                 + (f", page {r.page} of {r.pages}" if r.total else ""))
    for rank, hit in enumerate(r.hits, (r.page - 1) * r.per_page + 1):
        meta = " · ".join(x for x in (hit.source, hit.published.date().isoformat() if hit.published else "",
                                      hit.language, f"id {hit.id}") if x)
        lines.append("")
        lines.append(f"{rank:>3}. {_terminal(hit.title_html, color) or '(untitled)'}")
        lines.append(f"     {meta}")
        lines.append(f"     {_terminal(hit.snippet_html, color)}")
    return "\n".join(lines)


@cli.command()
@index_option
@click.option("--host", envvar=config.SETTINGS["host"].env, default=config.SETTINGS["host"].default,
              show_default=True, help=config.SETTINGS["host"].help)
@click.option("--port", type=click.IntRange(0, 65535), envvar=config.SETTINGS["port"].env,
              default=config.SETTINGS["port"].default, show_default=True, help=config.SETTINGS["port"].help)
@click.option("--workers", type=click.IntRange(1, 64), envvar=config.SETTINGS["web_workers"].env,
              default=config.SETTINGS["web_workers"].default, show_default=True,
              help=config.SETTINGS["web_workers"].help)
def serve(index_dir, host, port, workers):
    """Serve the search site and JSON API with gunicorn (reindex in another shell any time)."""
    from webapp.serve import run

    run(index_dir=index_dir, host=host, port=port, workers=workers)


@cli.command()
@click.argument("query", required=False, default="")
@index_option
@click.option("--format", "out_format", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True,
              help="CSV for spreadsheets (RFC 4180), JSON Lines for programs.")
@click.option("--fields", metavar="A,B,…", help="Columns, comma-separated, in this order. Default: the fields "
              "of a search hit (id,title,source,published,first_seen,last_changed,url,author,score,title_html,"
              "snippet_html); also snippet (plain text) and body.")
@click.option("--with-body", is_flag=True, help="Add the whole text (body) as the last field.")
@click.option("--bom", is_flag=True, help="Start a CSV file with a UTF-8 byte-order mark (for Excel).")
@click.option("--no-formula-guard", is_flag=True,
              help="Leave CSV cells starting with = + - @ as they are (by default they get a leading ' so a "
                   "spreadsheet does not run them as formulas).")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True)
@click.option("--source", "sources", multiple=True, help="Only articles from this source (repeatable).")
@click.option("--from", "date_from", metavar="DATE", help="Published on or after (2024, 2024-03, 2024-03-01).")
@click.option("--to", "date_to", metavar="DATE", help="Published on or before.")
@click.option("--lang", "languages", multiple=True, metavar="CODE",
              help="Only articles in this language (de, fr, …; repeatable); the query is analysed its way.")
@click.option("--limit", type=click.IntRange(1), default=None,
              help=f"At most this many articles (default and largest: {config.SETTINGS['export_limit'].env}).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to FILE (replaced only once the export is complete) instead of standard output.")
def export(query, index_dir, out_format, fields, with_body, bom, no_formula_guard, sort, sources, date_from,
           date_to, languages, limit, output):
    """Every article QUERY matches (not one page), as CSV or JSON Lines.

    The same query language and filters as `search`; an empty QUERY (or *) exports every article the
    filters allow. Streams with constant memory. When more articles match than the limit, the file
    holds the first ones and a note on standard error says so.
    """
    from .exports import export as prepare
    from .search import SearchFilters, parse_day, parse_language
    from .store import LiveIndex

    filters = SearchFilters(sources=tuple(sources), date_from=parse_day(date_from, "--from"),
                            date_to=parse_day(date_to, "--to", end=True),
                            languages=tuple(parse_language(code, "--lang") for code in languages))
    prepared = prepare(LiveIndex(index_dir), query, filters, sort, format=out_format, fields=fields,
                       with_body=with_body, bom=bom, guard_formulas=not no_formula_guard, limit=limit)
    if output:
        _write_file_atomically(output, prepared.chunks())
        click.echo(f"exported {prepared.count:,} of {prepared.total:,} matching articles to {output}", err=True)
    else:
        try:
            for chunk in prepared.chunks():
                sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
        except BrokenPipeError:  # `newsindex export … | head`: the reader has all it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
    if prepared.truncated:
        click.echo(f"note: {prepared.notice()}", err=True)


def _write_file_atomically(path: str, chunks) -> None:
    """Write beside ``path`` and rename: an interrupted export never leaves a half file behind."""
    from .store import describe_os_error

    target = os.path.abspath(path)
    tmp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        os.replace(tmp, target)
    except OSError as exc:
        raise ExportFailed(describe_os_error(exc, f"writing {path}")) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class ExportFailed(NewsindexError):
    code = "export_failed"


@cli.command()
@click.argument("queries", nargs=-1)
@index_option
@click.option("--interval", type=click.Choice(["auto", "year", "month", "week", "day"]), default="auto",
              show_default=True, help="Length of a period (auto: the finest with at most 120 periods).")
@click.option("--source", "sources", multiple=True, help="Only articles from this source (repeatable).")
@click.option("--from", "date_from", metavar="DATE", help="First period starts here (2024, 2024-03, 2024-03-01).")
@click.option("--to", "date_to", metavar="DATE", help="Last period ends here.")
@click.option("--lang", "languages", multiple=True, metavar="CODE",
              help="Only articles in this language (de, fr, …; repeatable).")
@click.option("--per-1000", "per_1000", is_flag=True, help="Articles per 1,000 articles of the period, not counts.")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as GET /api/histogram.")
def trends(queries, index_dir, interval, sources, date_from, date_to, languages, per_1000, as_json):
    """Matching articles per period for each of QUERIES (up to 5; none: every article), as CSV.

    One row per period (year, month, ISO week or day, UTC), one column per query, and the
    articles of the period under the same filters in the last column.
    """
    import csv

    from .search import SearchFilters, parse_day, parse_language
    from .store import LiveIndex
    from .trends import histogram

    filters = SearchFilters(sources=tuple(sources), date_from=parse_day(date_from, "--from"),
                            date_to=parse_day(date_to, "--to", end=True),
                            languages=tuple(parse_language(code, "--lang") for code in languages))
    result = histogram(LiveIndex(index_dir), list(queries) or [""], interval, filters)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["period", *(s.query or "(all articles)" for s in result.series), "articles"])
    for i, bucket in enumerate(result.buckets):
        values = [s.per_1000[i] if per_1000 else s.counts[i] for s in result.series]
        out.writerow([bucket.key, *("" if v is None else v for v in values), result.articles[i]])
    for series in result.series:
        if series.undated:
            click.echo(f"note: {series.query or 'all articles'}: {series.undated:,} undated articles are in no "
                       f"period", err=True)
