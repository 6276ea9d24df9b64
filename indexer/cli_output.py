"""What the ``newsindex`` commands print: reindex summaries and problems, search results, --batch runs.

The output side of :mod:`indexer.cli`, kept apart so that module holds only the commands (their
options, the settings they build, the library call each makes). The formatters are pure;
``print_problems`` and the --batch runner (which prints a TREC or JSONL run as it goes) write
with ``click.echo``, as the commands do.
"""
from __future__ import annotations

import json

import click

from .errors import UsageError

PROBLEMS_SHOWN = 20


def print_problems(problems, verbose: bool) -> None:
    """Skipped input and warnings (the first 20); ignored files only with --verbose.

    Warnings of files skipped as unchanged (already reported when they were read) are
    only counted, so a cron job mails about them once, not after every run; skipped
    input is always listed, as it is still missing from the index.
    """
    old_warnings = [p for p in problems if p.replayed and p.warning and not p.ignored]
    listed = [p for p in problems if verbose or not (p.ignored or (p.replayed and p.warning))]
    shown = listed if verbose else listed[:PROBLEMS_SHOWN]
    for problem in shown:
        click.echo(f"{problem.label}: {problem}", err=True)
    if len(listed) > len(shown):
        click.echo(f"... and {len(listed) - len(shown)} more (--verbose lists them all)", err=True)
    if old_warnings and not verbose:
        click.echo(f"{len(old_warnings):,} earlier warning{'s' if len(old_warnings) != 1 else ''} about "
                   f"unchanged files (--verbose lists them)", err=True)


def _articles(n: int) -> str:
    return f"{n:,} article{'' if n == 1 else 's'}"


def format_summary(s, index_dir) -> str:
    if s.mode == "unchanged":
        head = (f"Nothing changed: {_articles(s.articles)} in {index_dir} "
                f"{'is' if s.articles == 1 else 'are'} up to date.")
    elif s.mode == "optimize":
        return (f"Optimized {index_dir} ({s.generation}): {s.articles:,} articles in one segment; "
                f"{s.deleted:,} deleted articles dropped.\n  {s.seconds:.1f} s")
    else:
        done = "Built" if s.first_build else "Rebuilt" if s.mode == "full" else "Updated"
        head = (f"{done} {index_dir} ({s.generation}): "
                f"{_articles(s.articles)}.")
    counts = (f"added {s.added:,} · updated {s.updated:,} · deleted {s.deleted:,} · "
              f"unchanged {s.unchanged:,} · skipped {s.skipped:,}")
    if s.warnings:
        counts += f" · warnings {s.warnings:,}"
    if s.ignored:
        counts += f" · ignored {s.ignored:,} (not articles; --verbose lists them)"
    kept = ""
    if s.kept_sources:
        kept = (f"\n  not read this run, kept as they were: the articles of {', '.join(s.kept_sources)} "
                f"(give every source to check them all)")
    if s.kept_unreadable:
        where = s.kept_because[:5] + (["…"] if len(s.kept_because) > 5 else [])
        fix = (f"fix {', '.join(where)} (entries whose id could not be read) and run again" if where
               else "see the skipped lines above; fix them and run again")
        kept += (f"\n  kept as they were: {_articles(s.kept_unreadable)} of files with entries that could "
                 f"not be read ({fix})")
    timing = f"{s.seconds:.1f} s" + (f" · {s.rate:,.0f} articles/s" if s.written and s.seconds > 0 else "")
    return f"{head}\n  {counts}{kept}\n  {timing}"


def _no_such_page(page: int, total: int, pages: int, per_page: int) -> str:
    """Why ``--page`` found nothing: past the last page, or past the pages that can be reached
    (``pages`` stops at the first MAX_RESULT_WINDOW results)."""
    results = f"{total:,} result{'s' if total != 1 else ''}"
    every = -(-total // per_page)
    if every > pages:
        return (f"there is no page {page} to show: the {results} fill {every:,} pages of {per_page}, of which "
                f"the first {pages:,} can be paged through (--page 1 to {pages:,}); narrow the search to "
                f"reach the others")
    return (f"there is no page {page}: the {results} fill{'s' if total == 1 else ''} {pages:,} "
            f"page{'s' if pages != 1 else ''} "
            f"of {per_page} (--page 1 to {pages:,})")


def _run_batch(index, batch, limit, out_format, run_name, batch_search, settings) -> None:
    first_line: dict[str, int] = {}

    def skip(number: int, why: str) -> None:
        click.echo(f"warning: line {number}: {why}; skipped", err=True)

    def queries():
        for number, line in enumerate(batch, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            qid, sep, text = line.partition("\t")
            qid = qid.strip()
            if not sep:
                skip(number, "no TAB between query id and text")
            elif not qid or not qid.isprintable() or any(c.isspace() for c in qid) or "\ufffd" in qid:
                skip(number, f"the query id {qid[:40]!r} is not one word of printable UTF-8 characters "
                             f"(a TREC run's lines are split at spaces)")
            elif qid in first_line:
                skip(number, f"the query id {qid!r} again (first on line {first_line[qid]}): a run holds "
                             f"each query once")
            elif not text.strip():
                skip(number, f"query {qid!r} is empty")
            else:
                first_line[qid] = number
                yield qid, text

    for qid, ranked in batch_search(index, queries(), limit=limit, settings=settings):
        if out_format == "jsonl":
            click.echo(json.dumps({"qid": qid, "hits": [{"id": d, "score": round(s, 4)} for d, s in ranked]}))
            continue
        if ranked:
            click.echo("\n".join(f"{qid} Q0 {doc} {rank} {score:.4f} {run_name}"
                                 for rank, (doc, score) in enumerate(ranked, 1)))
    if not first_line:
        raise UsageError(f"{getattr(batch, 'name', 'the --batch file')} holds no query to run: give "
                         f"'qid<TAB>query' lines, one per query")


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
    if r.corrected_from:
        lines.append(f"note: to search instead for “{r.corrected_from}” as typed, add --no-correct")
    elif r.suggestion:
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
