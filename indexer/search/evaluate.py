"""A query over the whole archive: evaluated per language group, combined, filtered.

:func:`_evaluate` is what every entry point that runs a query calls (search, matches,
batch_search, did-you-mean): one :class:`~indexer.search.evaluator._Evaluator` per analysis
of the query, their matches and scores gathered into archive-wide arrays, then
the filters applied, keeping per facet the matches its own filter would hide
(the facets are disjunctive). :class:`_Result` is what ranking, facets and hits read.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine import Corpus
from ..query import ParsedQuery
from ..snippets import MatchSpec
from .evaluator import _Budget, _Evaluator
from .filters import _all_of, _filter_masks
from .languages import _analysis_groups, _ignored_notices, _may_match, _query_languages, _unknown_languages
from .results import SearchFilters
from .terms import _only_text

#: a language group holding fewer than 1/SMALL_GROUP_SHARE of the articles is evaluated on its
#: articles alone (arrays of their size), not with masks over the whole archive
SMALL_GROUP_SHARE = 8


@dataclass
class _Result:
    mask: np.ndarray
    scores: np.ndarray
    notices: list[str]
    specs: dict  # language code -> MatchSpec: what to highlight in the articles of that language
    facet_masks: dict  # facet name -> mask of matches ignoring that facet's own filter

    @property
    def total(self) -> int:
        return int(self.mask.sum())

    def spec(self, lang: str) -> MatchSpec:
        return self.specs.get(lang) or MatchSpec()


def _evaluate(corpus: Corpus, parsed: ParsedQuery, filters: SearchFilters, feedback: bool | None,
              budget: "_Budget", facets: bool = True) -> _Result:
    """Run a parsed query in every language searched, each over its own articles, and filter.

    The languages searched are those the index holds, narrowed by the query's
    top-level ``lang:`` clauses; the query is analysed in each, and languages
    whose analyses are identical are evaluated together (one evaluation for
    an archive in one language, or for a query of names). ``filters.languages``
    keeps the matches of those languages; the others are still evaluated for
    the disjunctive language facet unless ``facets`` is False.
    """
    present = list(corpus.languages())
    languages = _query_languages(parsed, present)
    selected = [lang for lang in languages if lang in filters.languages] if filters.languages else languages
    groups = _analysis_groups(parsed, filters.author, languages if facets else selected,
                              set(selected) if filters.languages else None)
    if not groups:  # no article in any language searched: still checked, for the same errors
        groups = [(present[0] if present else "en", ())]
    mask = scores = None
    specs: dict[str, MatchSpec] = {}
    notices: list[str] = []
    ignored: list[tuple[str, tuple[str, ...]]] = []
    counts = corpus.languages()
    groups.sort(key=lambda group: -sum(counts.get(lang, 0) for lang in group[1]))  # largest first
    positive = _only_text(parsed)
    shown_groups = []
    for lang, members in groups:
        lang_mask = corpus.language_mask(members) if members else np.zeros(corpus.size, dtype=bool)
        domain = None
        if lang_mask is not None and sum(counts.get(m, 0) for m in members) * SMALL_GROUP_SHARE < corpus.count:
            domain = corpus.language_docs(members)  # a few articles: evaluated on them alone
            if positive and members and not _may_match(corpus, parsed, lang, domain):
                continue  # none of them holds any of the words: nothing to evaluate
        evaluator = _Evaluator(corpus, budget, lang, lang_mask, domain)
        shown = bool(set(members) & set(selected))  # not only for the language facet's counts
        group_mask, group_scores = evaluator.evaluate(parsed, filters.author, feedback if shown else False)
        if mask is None and domain is None:  # the first, largest: its arrays gather the others
            mask, scores = group_mask, group_scores  # (scores outside the mask are never read)
        else:
            if mask is None:
                mask, scores = np.zeros(corpus.size, dtype=bool), np.zeros(corpus.size, dtype=np.float32)
            if domain is not None:
                mask[domain[group_mask]] = True
                scores[domain[group_mask]] = group_scores[group_mask]
            else:
                mask |= group_mask
                scores[group_mask] = group_scores[group_mask]
        if shown or not members:
            shown_groups.append(members)
            notices.extend(evaluator.notices)
            ignored.extend((word, members) for word in evaluator.ignored)
        spec = evaluator.spec()
        specs.update((member, spec) for member in members)
    if mask is None:  # every group skipped: none of their articles holds a word of the query
        mask, scores = np.zeros(corpus.size, dtype=bool), np.zeros(corpus.size, dtype=np.float32)
    notices = _ignored_notices(ignored, shown_groups) + notices + _unknown_languages(parsed)
    source_mask, date_mask = _filter_masks(corpus, filters, notices)
    language_mask = corpus.language_mask(selected) if filters.languages else None
    facet_masks = {"source": _all_of(mask, date_mask, language_mask),
                   "year": _all_of(mask, source_mask, language_mask),
                   "language": _all_of(mask, source_mask, date_mask)}
    mask = _all_of(mask, source_mask, date_mask, language_mask)
    return _Result(mask, scores, list(dict.fromkeys(notices)), specs, facet_masks)
