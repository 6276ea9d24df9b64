"""The search API: the entry points the CLI, the web app, feeds, exports and trends call.

Each entry point checks its arguments, evaluates the query
(:mod:`~indexer.search.evaluate`), and assembles what it returns from ranking,
facets, hits and did-you-mean. Only the entry points live here, so what the
package promises its callers reads in one file; the machinery is in the others.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator

import numpy as np

from ..analysis import load_models
from ..config import Settings
from ..engine import Corpus
from ..live import LiveIndex, OpenGeneration, raise_if_damaged, reads_index
from ..query import normalize_query, parse
from ..schema import published_from_stored
from ..snippets import MatchSpec, highlight
from .didyoumean import SUGGEST_BELOW, _has_unknown_word, _suggest
from .evaluate import _evaluate, _Result
from .evaluator import _Budget
from .facets import _facets
from .filters import _check_filters, _check_paging
from .hits import _hit, _match_spec, _page_of_hits
from .languages import _searched_languages
from .ranking import _newest_first_seen, _ranked
from .results import MAX_RESULT_WINDOW, SORTS, ArticleView, Hit, QueryError, SearchFilters, SearchResults
from .terms import _plain


@reads_index
def search(index: LiveIndex, query: str, page: int = 1, per_page: int | None = None,
           filters: SearchFilters | None = None, sort: str = "relevance", *,
           syntax: str = "full", feedback: bool | None = None, snippets: bool = True,
           suggest: bool = True, correct: bool = True, cache: bool = True,
           settings: Settings | None = None) -> SearchResults:
    """Run one query against the live index.

    ``settings`` (limits, page size, feedback, cache size) come from the
    caller, built once at start-up; without them, from the environment.
    ``per_page=None`` and ``feedback=None`` mean as the settings say.

    ``suggest``: offer a corrected query ("did you mean") when few or no articles match.
    ``correct``: when nothing matched and the correction is confident, show the correction's
    results instead (``corrected_from`` says so); ``correct=False`` always gives the results of
    the query as typed ("search instead for what I typed"), a correction only offered.

    Results are memoised per generation (``settings.cache_size`` entries):
    real query streams repeat themselves, and a reindex starts a new
    generation, which empties the cache by construction.
    """
    started = time.perf_counter()
    settings = settings or Settings.load()
    if feedback is None:
        feedback = settings.feedback_mode
    if per_page is None:
        per_page = settings.per_page
    page, per_page, sort = _check_paging(page, per_page, sort, settings.max_per_page)
    filters = filters or SearchFilters()
    _check_filters(filters)
    gen = index.current()
    key = (query, page, per_page, filters, sort, syntax, feedback, snippets, suggest, correct, settings)
    results_cache = gen.memo("results", lambda g: _ResultCache(settings.cache_size))
    if cache:
        hit = results_cache.get(key)
        if hit is not None:
            return replace(hit, took_ms=round((time.perf_counter() - started) * 1000, 2))
    results = _search(gen, query, page, per_page, filters, sort, syntax, feedback, snippets,
                      suggest, correct, started, settings)
    if cache:
        results_cache.put(key, results)
    return results


class _ResultCache:
    """A small thread-safe LRU of SearchResults for one generation."""

    def __init__(self, size: int):
        self.size = max(0, size)
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        if not self.size:
            return
        with self._lock:
            self._items[key] = value
            if len(self._items) > self.size:
                self._items.popitem(last=False)


def _search(gen, query, page, per_page, filters, sort, syntax, feedback, snippets, suggest, correct,
            started, settings: Settings) -> SearchResults:
    corpus = _corpus(gen)
    text = normalize_query(query)
    limit = settings.max_query_chars
    if len(text) > limit:
        raise QueryError(f"the query is {len(text):,} characters long; the limit is "
                         f"{limit:,}: shorten it", "q")
    parsed = parse(text) if syntax == "full" else _plain(text)
    budget = _Budget(settings, started)
    result = _evaluate(corpus, parsed, filters, feedback, budget)
    notices = list(parsed.notices) + result.notices
    if budget.partial:
        notices.append(f"the search reached its time limit ({settings.query_timeout_ms / 1000:g} s) and "
                       f"stopped early: these results are partial; narrow the query")
    suggestion = corrected_from = None
    if suggest and text and not budget.partial and \
            (result.total < SUGGEST_BELOW or
             _has_unknown_word(corpus, parsed, *_searched_languages(corpus, parsed, filters))):
        correction = _suggest(corpus, gen, text, parsed, result.total, filters, settings)
        suggestion = correction.text if correction else None
        if correct and correction and correction.confident and result.total == 0:
            corrected = _evaluate(corpus, parse(suggestion), filters, feedback, _Budget(settings))
            if corrected.total:
                notices.append(f"no results for “{text}”; showing results for “{suggestion}”")
                corrected_from, result = text, corrected
    hits = _page_of_hits(gen, corpus, result, page, per_page, sort, snippets)
    if page * per_page > MAX_RESULT_WINDOW and result.total > (page - 1) * per_page:
        notices.append(f"only the first {MAX_RESULT_WINDOW:,} results can be paged through (page {page} × "
                       f"{per_page} per page goes beyond them); narrow the search with more words, a "
                       f"source or a date range")
    elif not hits and result.total and page > 1:
        last = -(-min(result.total, MAX_RESULT_WINDOW) // per_page)
        notices.append(f"page {page:,} is beyond the last page of these results ({last:,} of {per_page} "
                       f"per page)")
    facets = _facets(corpus, result, filters)
    return SearchResults(query=text, total=result.total, page=page, per_page=per_page, sort=sort,
                         took_ms=round((time.perf_counter() - started) * 1000, 2), hits=hits,
                         facets=facets, suggestion=suggestion, corrected_from=corrected_from,
                         notices=notices, parsed=str(parsed) if syntax == "full" else text,
                         partial=budget.partial)


@reads_index
def batch_search(index: LiveIndex, queries: Iterable[tuple[str, str]], limit: int = 1000,
                 feedback: bool | None = None, settings: Settings | None = None
                 ) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """(qid, [(article id, score), ...]) for each natural-language query, best first."""
    settings = settings or Settings.load()
    if feedback is None:
        feedback = settings.feedback_mode
    corpus = _corpus(index.current())
    for qid, text in queries:
        result = _evaluate(corpus, _plain(normalize_query(text)[:settings.max_query_chars]),
                           SearchFilters(), feedback, _Budget(settings), facets=False)
        order = _ranked(corpus, result, "relevance", limit)
        yield qid, [(corpus.article_id(d), float(result.scores[d])) for d in order]


@reads_index
def get_article(index: LiveIndex, article_id: str, query: str | None = None,
                settings: Settings | None = None) -> ArticleView | None:
    """One article by id, with the terms of ``query`` highlighted; None if there is none."""
    settings = settings or Settings.load()
    found = _locate(index, article_id)
    if found is None:
        return None
    _, corpus, docnum = found
    fields = corpus.stored_fields(docnum)
    lang = corpus.language_of(docnum)
    spec = _match_spec(parse(normalize_query(query or "")[:settings.max_query_chars]), lang) \
        if query else MatchSpec()
    title, body = fields.get("title") or "", fields.get("body") or ""
    return ArticleView(id=article_id, title=title, body=body, source=fields.get("source") or "",
                       published=published_from_stored(fields.get("published")),
                       url=fields.get("url"), author=fields.get("author_name"),
                       topics=[t for t in (fields.get("topics") or "").split(",") if t],
                       title_html=highlight(title, spec, lang), body_html=highlight(body, spec, lang),
                       language=lang)


@reads_index
def has_article(index: LiveIndex, article_id: str) -> bool:
    """Whether the live generation holds an article with this id (a lookup, nothing is read)."""
    return _locate(index, article_id) is not None


@reads_index
def related(index: LiveIndex, article_id: str, limit: int = 5) -> list[Hit] | None:
    """Articles most like this one ("more like this"), in its language; None if the id is unknown."""
    found = _locate(index, article_id)
    if found is None:
        return None
    gen, corpus, docnum = found
    weights = corpus.doc_terms(docnum)
    ranked = sorted(weights.items(), key=lambda kv: -kv[1] * corpus.idf(kv[0]))[:25]
    scores = np.zeros(corpus.size, dtype=np.float32)
    for term, weight in ranked:
        docs, s = corpus.term_scores(term, weight=weight)
        scores[docs] += s
    scores[docnum] = 0
    mask = (scores > 0) & corpus.live
    same_language = corpus.language_mask([corpus.language_of(docnum)])
    if same_language is not None:  # its terms are its language's analysis: elsewhere they are noise
        mask &= same_language
    result = _Result(mask, scores, [], {}, {})
    order = _ranked(corpus, result, "relevance", limit)
    return [_hit(gen, corpus, d, result, snippets=False) for d in order]


@reads_index
def index_info(index: LiveIndex) -> dict:
    """Cheap facts about the live index (for health checks and the home page)."""
    gen = index.current()
    meta = gen.meta
    return {"articles": _corpus(gen).count, "generation": gen.name,
            "schema_version": meta.get("schema_version"),
            "analyzer_version": meta.get("analyzer_version"), "built": meta.get("built")}


@reads_index
def warm(index: LiveIndex, settings: Settings | None = None) -> None:
    """Load what the first search would otherwise pay for (NLTK, Punkt, the spelling path).

    Nothing of the index is decoded ahead: postings are read from the page
    cache when a query needs them.
    """
    search(index, "warm up the news index", per_page=1, cache=False, settings=settings)
    search(index, "wram", per_page=1, cache=False, settings=settings)  # did-you-mean


@reads_index
def prepare(index: LiveIndex, filters: SearchFilters | None = None, snippets: bool = True) -> None:
    """Open the live generation and load the language models searching it needs, as :func:`warm`
    does for a server but without searching: a command's start-up, so that the query's
    ``took_ms`` is the query's own work (a cold ``newsindex search`` on the sample: ~35 ms of
    NLTK models, ~5 ms of query).

    Only the languages searched are loaded (``filters.languages``, else the archive's).
    """
    languages = (filters.languages if filters and filters.languages else None) \
        or list(_corpus(index.current()).languages())
    load_models(languages, sentences=snippets)


def _locate(index: LiveIndex, article_id: str) -> tuple[OpenGeneration, Corpus, int] | None:
    """The live generation, its corpus and the article's document number; None if no article has
    that id."""
    gen = index.current()
    corpus = _corpus(gen)
    docnum = corpus.document_number(article_id)
    return None if docnum is None else (gen, corpus, docnum)


def _corpus(gen: OpenGeneration) -> Corpus:
    return gen.corpus


# ------------------------------------------------------- every match, in order (feeds, exports, trends)

MATCH_SORTS = (*SORTS, "first_seen")


@dataclass
class Matches:
    """Every article one query matches, in order, as document numbers; Hits are made on demand.

    The contract feeds, exports and trends rely on (keep it when the engine changes):

    * ``total`` counts every match (after filters); ``docnums`` holds the first ``limit`` of
      them (all when no limit) in the requested order, as a numpy int64 array: 8 bytes per
      match, however large the articles are.
    * ``published()`` gives each of ``docnums``' publication time as UTC epoch seconds (NaN
      where undated), aligned with ``docnums``: what a histogram needs, with no stored fields read.
    * ``hits()`` yields one :class:`Hit` per docnum, reading its stored fields only then, so a
      caller streaming 100k matches holds one article at a time.
    * Everything comes from one generation (``generation``, built at ``built``), even if a
      reindex switches the live one meanwhile; ``(generation, built)`` names the index state
      (for HTTP validators).
    """

    query: str
    total: int
    docnums: np.ndarray
    notices: list[str]
    generation: str
    built: str | None
    _gen: OpenGeneration = field(repr=False)
    _corpus: Corpus = field(repr=False)
    _result: _Result = field(repr=False)

    @property
    def truncated(self) -> bool:
        return len(self.docnums) < self.total

    def published(self) -> np.ndarray:
        return self._corpus.timestamps[self.docnums]

    def hits(self, snippets: bool = True, body: bool = False) -> Iterator[Hit]:
        """Hits in order; ``snippets=False`` gives the lead instead (cheaper), ``body`` adds the text."""
        for docnum in map(int, self.docnums):  # no list of them all
            try:
                hit = _hit(self._gen, self._corpus, docnum, self._result, snippets, body)
            except Exception as exc:  # read lazily (exports stream them): the same boundary
                raise_if_damaged(exc, self._gen)
                raise
            yield hit


@reads_index
def matches(index: LiveIndex, query: str, filters: SearchFilters | None = None,
            sort: str | None = "relevance", limit: int | None = None,
            settings: Settings | None = None) -> Matches:
    """Every article ``query`` matches (query language and filters as :func:`search`), in order.

    ``sort`` is one of :data:`SORTS`, ``"first_seen"`` (the articles newsindex indexed most
    recently first, then newest published), or None (index order: cheapest, for counting).
    ``limit`` keeps the first that many (None: all). Unlike :func:`search`, a query that finds
    nothing is not replaced by a did-you-mean correction, and nothing is cached: the caller
    streams what it needs. Raises :class:`QueryError` as :func:`search` does.
    """
    if sort is not None and sort not in MATCH_SORTS:
        raise QueryError(f"sort must be one of {', '.join(MATCH_SORTS)} (got {sort!r})", "sort")
    if limit is not None and limit < 1:
        raise QueryError(f"limit must be 1 or more (got {limit})", "limit")
    filters = filters or SearchFilters()
    _check_filters(filters)
    text = normalize_query(query)
    settings = settings or Settings.load()
    most = settings.max_query_chars
    if len(text) > most:
        raise QueryError(f"the query is {len(text):,} characters long; the limit is {most:,}: shorten it", "q")
    gen = index.current()
    corpus = _corpus(gen)
    parsed = parse(text)
    # feedback only re-weights scores: skip it where no score decides the order
    feedback = False if sort in (None, "first_seen") else settings.feedback_mode
    result = _evaluate(corpus, parsed, filters, feedback, _Budget(settings), facets=False)
    total = result.total
    want = total if limit is None else min(limit, total)
    if sort is None:
        docnums = np.flatnonzero(result.mask)[:want]
    elif sort == "first_seen":
        docnums = _newest_first_seen(gen, corpus, np.flatnonzero(result.mask), want)
    else:
        docnums = np.asarray(_ranked(corpus, result, sort, want) if want else [], dtype=np.int64)
    return Matches(query=text, total=total, docnums=docnums.astype(np.int64, copy=False),
                   notices=list(parsed.notices) + result.notices, generation=gen.name,
                   built=gen.meta.get("built"), _gen=gen, _corpus=corpus, _result=result)
