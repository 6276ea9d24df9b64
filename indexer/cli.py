"""The `newsindex` command: thin click commands over the library.

Exit codes: 0 all went well; 1 some input was skipped (reported); 2 usage
error (a bad option, query, setting or source); 3 a fatal error (printed as
one line, no traceback).

Options that are settings (``--index``, ``--workers``, ``--port`` …) are
made from their declaration in :mod:`indexer.config` (type, range, help,
environment variable); each command builds one :class:`~indexer.config.Settings`
from the environment and its options and hands it to the library. Heavy
modules are imported inside the commands, so ``--help`` and a search start fast.
"""
from __future__ import annotations

import json
import os
import shlex
import sys

import click

from . import config
from .cli_output import _no_such_page, _run_batch, format_results, format_summary, print_problems
from .errors import IndexUnreadable, NewsindexError, UsageError

EXIT_USAGE, EXIT_FATAL = 2, 3  # 1 (some input skipped) comes from ReindexSummary.exit_code


class QueryCommand(click.Command):
    """A command whose argument is a query: ``-word`` (exclude a word) looks like an option to the
    shell's parser, so an unknown option that reads like one says how to pass it."""

    def parse_args(self, ctx, args):
        given = list(args)  # the parser consumes the list it is given
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            word = next((a for a in given if a.startswith("-") and not a.startswith("--")
                         and a.startswith(exc.option_name[:2])), None)
            if word is None or exc.option_name.startswith("--"):
                raise
            raise click.UsageError(
                f"{word!r} is read as an option. To search for it (a leading - excludes a word), put -- "
                f"before the query, after the options: newsindex {ctx.info_name} [OPTIONS] -- {word!r}",
                ctx) from None


def setting_option(name: str, *flags: str):
    """A click option for setting ``name``, as declared: unset, it falls back to the environment."""
    setting = config.SETTINGS[name]
    if setting.choices:
        kind = click.Choice(setting.choices)
    elif setting.type is int:
        kind = click.IntRange(setting.minimum, setting.maximum)
    elif name == "index":
        kind = click.Path(file_okay=False)
    else:
        kind = click.STRING
    return click.option(*(flags or ("--" + name.replace("_", "-"),)), name, type=kind, default=None,
                        help=f"{setting.help} [default: {setting.default or 'none'}; env {setting.env}]")


def load_settings(**options) -> config.Settings:
    """The run's settings: defaults, the environment, then the options given (None: not given)."""
    return config.Settings.load(overrides=options)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="newsindex")
def cli() -> None:
    """newsindex: full-text search for a news archive.

    \b
    newsindex reindex ARTICLES/      index new and changed articles
    newsindex search "query"         search from the terminal
    newsindex serve                  the web site and JSON API
    newsindex stats                  what the index holds
    newsindex generations            the generations kept for rollback
    newsindex rollback [GEN]         serve an earlier generation again
    newsindex export "query"         every match as CSV or JSON Lines
    newsindex trends "q1" "q2"       matches per year, month, week or day
    newsindex optimize               merge the index into one segment
    newsindex publish DEST           copy the live index to a read replica
    """


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path())
@setting_option("index")
@click.option("--full", is_flag=True, help="Rebuild from scratch beside the live index, then switch.")
@setting_option("workers")
@setting_option("keep_generations")
@click.option("--allow-deletes", is_flag=True,
              help="Let this run delete all or more than half of a source's articles (or leave a source "
                   "out of --full). Without it such a run stops before writing anything: an empty or "
                   "unmounted folder must not empty the index.")
@click.option("--wait", is_flag=True, help="If another reindex is running, wait for it instead of failing.")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems, notes and errors.")
@click.option("-v", "--verbose", is_flag=True, help="List every skipped and ignored input, not just the first few.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def reindex(sources, index, full, workers, keep_generations, allow_deletes, wait, quiet, verbose, as_json):
    """Index the articles in SOURCES (files or directories).

    Incremental by default: new and changed articles are written, unchanged
    ones skipped, articles whose file is gone deleted. Formats: .jsonl/.json,
    .txt/.md, .html/.htm; images, PDFs and archives are ignored. Searches keep
    working while it runs.
    """
    from .ingest import reindex as run_reindex
    from .progress import make_progress

    settings = load_settings(index=index, workers=workers, keep_generations=keep_generations)
    progress = make_progress(quiet or as_json)
    command = "newsindex reindex " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    summary = run_reindex(settings.index, sources, full=full, workers=settings.workers, wait=wait,
                          allow_deletes=allow_deletes, progress=progress, command=command, settings=settings)
    print_problems(summary.problems, verbose)
    if as_json:
        click.echo(json.dumps({**summary.as_dict(), "index": str(settings.index),
                               "problems": [str(p) for p in summary.problems if not p.ignored],
                               "ignored_files": [p.path for p in summary.problems if p.ignored]}))
    elif quiet:
        for note in summary.notes:  # repairs are worth hearing about even when quiet
            click.echo(f"note: {note}", err=True)
    else:
        click.echo(format_summary(summary, settings.index))
    sys.exit(summary.exit_code)


@cli.command()
@setting_option("index")
@click.option("--wait", is_flag=True, help="If a reindex is running, wait for it instead of failing.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def optimize(index, wait, quiet):
    """Merge the index into one segment (searches keep answering meanwhile).

    Incremental reindexes add small segments and merge them by themselves,
    but never rewrite the big ones; after many of them (or many deletions),
    optimize makes searches as fast as after a full build.
    """
    from .ingest import optimize as run_optimize
    from .progress import make_progress

    settings = load_settings(index=index)
    summary = run_optimize(settings.index, wait=wait, progress=make_progress(quiet),
                           command="newsindex optimize", settings=settings)
    if not quiet:
        click.echo(format_summary(summary, settings.index) if summary.mode == "optimize"
                   else f"Nothing to do: {settings.index} is one segment without deleted articles.")


@cli.command()
@click.argument("dest", type=click.Path(file_okay=False))
@setting_option("index")
@click.option("--wait", is_flag=True, help="If a reindex or publish holds a lock, wait for it instead of failing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def publish(dest, index, wait, as_json):
    """Copy the live index to DEST (a read replica) and switch DEST to it.

    Files DEST already holds are linked, not copied; DEST switches only once
    the copy is complete, and servers on DEST keep answering throughout.
    """
    from .replicate import publish as run_publish

    index_dir = load_settings(index=index).index
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
@setting_option("index")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def stats(index, as_json):
    """What the index holds: articles, sources, dates, size, versions, last reindex."""
    from .stats import index_stats

    info = index_stats(load_settings(index=index).index)
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


@cli.command()
@setting_option("index")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def generations(index, as_json):
    """The live generation and the earlier ones kept for rollback, newest first."""
    from .generations import describe
    from .store import IndexStore

    store = IndexStore(load_settings(index=index).index)
    infos = describe(store)
    if not infos:
        store.require_built()  # says why: a mistyped --index, a generation's folder, nothing built yet
    if as_json:
        click.echo(json.dumps([info.to_dict() for info in infos], indent=2))
        return
    lines = [f"  {'generation':<12} {'articles':>9}  {'built':<25}  {'reindex':<34}  size"]
    for info in infos:
        mark = "*" if info.live else " "
        if not info.complete:
            lines.append(f"{mark} {info.name:<12} (unfinished: left by an interrupted reindex; the next "
                         f"reindex removes it)")
            continue
        last = info.last_reindex or {}
        if last.get("mode") == "optimize":  # it adds and deletes no article: it drops deleted ones
            change = f"optimize: {last.get('deleted', 0):,} dropped"
        else:
            change = (f"{last.get('mode', '?')}: +{last.get('added', 0):,} ~{last.get('updated', 0):,} "
                      f"-{last.get('deleted', 0):,}")
        size = f"{info.size_bytes / 1e6:,.1f} MB ({info.own_bytes / 1e6:,.1f} MB its own)"
        lines.append(f"{mark} {info.name:<12} {info.articles or 0:>9,}  {info.built or '?':<25}  "
                     f"{change:<34}  {size}")
        if info.damaged:
            lines.append(f"    damaged, cannot be served: {info.damaged}")
    lines.append("* live · +added ~updated -deleted · `newsindex rollback [GEN]` serves another one")
    click.echo("\n".join(lines))


@cli.command()
@click.argument("generation", required=False)
@setting_option("index")
@click.option("--wait", is_flag=True, help="If a reindex is running, wait for it instead of failing.")
def rollback(generation, index, wait):
    """Serve an earlier generation again: GENERATION (gen-000004, or 4) or, by default, the one
    that was live before the live one. Running servers switch on their next request; the
    generation rolled back from is kept, so `newsindex rollback` with its name goes forward again.
    Also repairs a missing or damaged CURRENT pointer (to the newest complete generation)."""
    from .generations import resolve_name, rollback as roll_back
    from .store import IndexStore

    settings = load_settings(index=index)
    store = IndexStore(settings.index, keep_generations=settings.keep_generations)
    store.require_built()
    command = "newsindex rollback " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    with store.lock(wait=wait, command=command,
                    on_wait=lambda who: click.echo(f"waiting for the running reindex ({who})", err=True)):
        before, after = roll_back(store, resolve_name(store, generation) if generation else None)
    meta = store.read_meta(after)
    back = f"; `newsindex rollback {before}` goes back" if before else ""
    click.echo(f"{after} is live in {store.root}: {meta.get('articles', 0):,} articles, built "
               f"{meta.get('built', '?')} ({f'it was {before}' if before else 'no generation was live'}){back}.")


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
    except UsageError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except NewsindexError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FATAL)
    except KeyboardInterrupt:
        click.echo("interrupted; the live index is untouched", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: still one line, with a way to see more
        if config.debug_enabled():
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} "
                   f"(set NEWSINDEX_DEBUG=1 for a traceback, and please report it)", err=True)
        sys.exit(EXIT_FATAL)


@cli.command(cls=QueryCommand)
@click.argument("query", required=False, default="")
@setting_option("index")
@click.option("--limit", type=click.IntRange(1, 1000), default=None,
              help=f"Results per page [default: {config.SETTINGS['per_page'].env}, "
                   f"{config.SETTINGS['per_page'].default}; at most {config.SETTINGS['max_per_page'].env}]; "
                   f"with --batch, results per query [default: 1000].")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True, help="Page of results.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance",
              show_default=True)
@click.option("--source", "sources", multiple=True, help="Only articles from this source (repeatable).")
@click.option("--from", "date_from", metavar="DATE", help="Published on or after (2024, 2024-03, 2024-03-01).")
@click.option("--to", "date_to", metavar="DATE", help="Published on or before.")
@click.option("--lang", "languages", multiple=True, metavar="CODE",
              help="Only articles in this language (de, fr, …; repeatable); the query is analysed its way.")
@setting_option("feedback")
@click.option("--no-correct", "no_correct", is_flag=True,
              help="Search for the query as typed even when it finds nothing and a correction would "
                   "(the correction is still offered as 'did you mean'); the same as correct=off in the API.")
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
def search(query, index, limit, page, sort, sources, date_from, date_to, languages, feedback, no_correct,
           as_json, show_query, batch, out_format, base_url, run_name):
    """Search the index: QUERY uses the query language (see README; `*` lists every article),
    or --batch for evaluation."""
    from .live import LiveIndex
    from .search import SearchFilters, batch_search, parse_day, parse_language, prepare, search as run_search

    settings = load_settings(index=index, feedback=feedback)
    live = LiveIndex(settings.index)
    if batch is not None:
        if query:
            raise click.UsageError(f"give either a QUERY or --batch FILE, not both (got the query {query[:40]!r})")
        if out_format == "atom":
            raise click.UsageError("--format atom prints the feed of one QUERY, not of a --batch")
        _run_batch(live, batch, limit or 1000, out_format or "trec", run_name, batch_search, settings)
        return
    if out_format in ("trec", "jsonl"):
        raise click.UsageError(f"--format {out_format} goes with --batch; for one QUERY use --json, "
                               f"or --format atom for its feed")
    filters = SearchFilters(sources=tuple(sources), date_from=parse_day(date_from, "--from"),
                            date_to=parse_day(date_to, "--to", end=True),
                            languages=tuple(parse_language(code, "--lang") for code in languages))
    if not query.strip() and not (sources or date_from or date_to or languages):
        raise click.UsageError("the QUERY is missing (or empty): give words to search for, '*' to list "
                               "every article, or --batch FILE")
    if out_format == "atom":
        from webapp.feeds import cli_feed

        sys.stdout.buffer.write(cli_feed(settings, query, sources, date_from, date_to, base_url,
                                         filters.languages))
        return
    per_page = limit or settings.per_page
    if per_page > settings.max_per_page:
        raise UsageError(f"--limit {per_page} is more than a page can hold ({settings.max_per_page}, "
                         f"{config.SETTINGS['max_per_page'].env}); use --page for the next results")
    prepare(live, filters)  # opening and language models: the command's start-up, not the query's time
    results = run_search(live, query, page=page, per_page=per_page, filters=filters, sort=sort,
                         correct=not no_correct, settings=settings)
    if as_json:
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False))
        return
    if show_query:
        click.echo(f"query: {results.parsed}", err=True)
    if results.total and not results.hits:
        raise UsageError(_no_such_page(page, results.total, results.pages, per_page))
    click.echo(format_results(results, color=sys.stdout.isatty()))


@cli.command()
@setting_option("index")
@setting_option("host")
@setting_option("port")
@setting_option("web_workers", "--workers")
def serve(index, host, port, web_workers):
    """Serve the search site and JSON API with gunicorn (reindex in another shell any time)."""
    from webapp.serve import run

    run(load_settings(index=index, host=host, port=port, web_workers=web_workers))



@cli.command(cls=QueryCommand)
@click.argument("query", required=False, default="")
@setting_option("index")
@click.option("--format", "out_format", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True,
              help="CSV for spreadsheets (RFC 4180), JSON Lines for programs.")
@click.option("--fields", metavar="A,B,…", help="Columns, comma-separated, in this order. Default: the fields "
              "of a search hit (id,title,source,published,first_seen,last_changed,url,author,language,score,"
              "title_html,snippet_html); also snippet (plain text) and body.")
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
def export(query, index, out_format, fields, with_body, bom, no_formula_guard, sort, sources, date_from,
           date_to, languages, limit, output):
    """Every article QUERY matches (not one page), as CSV or JSON Lines.

    The same query language and filters as `search`; an empty QUERY (or *) exports every article the
    filters allow. Streams with constant memory. When more articles match than the limit, the file
    holds the first ones and a note on standard error says so.
    """
    from .exports import export as prepare
    from .live import LiveIndex
    from .search import SearchFilters, parse_day, parse_language

    settings = load_settings(index=index)
    filters = SearchFilters(sources=tuple(sources), date_from=parse_day(date_from, "--from"),
                            date_to=parse_day(date_to, "--to", end=True),
                            languages=tuple(parse_language(code, "--lang") for code in languages))
    prepared = prepare(LiveIndex(settings.index), query, filters, sort, format=out_format, fields=fields,
                       with_body=with_body, bom=bom, guard_formulas=not no_formula_guard, limit=limit,
                       settings=settings)
    if output:  # damage found midway (IndexUnreadable, exit 3): the partial file is removed
        try:
            _write_file_atomically(output, prepared.chunks())
        except IndexUnreadable as exc:
            raise IndexUnreadable(f"{exc} (the export was stopped midway; nothing was written to {output})") \
                from None
        click.echo(f"exported {prepared.count:,} of {prepared.total:,} matching articles to {output}", err=True)
    else:
        try:
            for chunk in prepared.chunks():
                sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
        except BrokenPipeError:  # `newsindex export … | head`: the reader has all it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except IndexUnreadable as exc:  # some rows are out already: say the output is incomplete
            sys.stdout.flush()
            raise IndexUnreadable(f"{exc} (the export was cut short: standard output holds only the "
                                  f"articles before the damage, not the {prepared.count:,} expected)") from None
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
@setting_option("index")
@click.option("--interval", type=click.Choice(["auto", "year", "month", "week", "day"]), default="auto",
              show_default=True, help="Length of a period (auto: the finest with at most 120 periods).")
@click.option("--source", "sources", multiple=True, help="Only articles from this source (repeatable).")
@click.option("--from", "date_from", metavar="DATE", help="First period starts here (2024, 2024-03, 2024-03-01).")
@click.option("--to", "date_to", metavar="DATE", help="Last period ends here.")
@click.option("--lang", "languages", multiple=True, metavar="CODE",
              help="Only articles in this language (de, fr, …; repeatable).")
@click.option("--per-1000", "per_1000", is_flag=True, help="Articles per 1,000 articles of the period, not counts.")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as GET /api/histogram.")
def trends(queries, index, interval, sources, date_from, date_to, languages, per_1000, as_json):
    """Matching articles per period for each of QUERIES (up to 5; none: every article), as CSV.

    One row per period (year, month, ISO week or day, UTC), one column per query, and the
    articles of the period under the same filters in the last column.
    """
    import csv

    from .live import LiveIndex
    from .search import SearchFilters, parse_day, parse_language
    from .trends import histogram

    filters = SearchFilters(sources=tuple(sources), date_from=parse_day(date_from, "--from"),
                            date_to=parse_day(date_to, "--to", end=True),
                            languages=tuple(parse_language(code, "--lang") for code in languages))
    settings = load_settings(index=index)
    result = histogram(LiveIndex(settings.index), list(queries) or [""], interval, filters, settings=settings)
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
