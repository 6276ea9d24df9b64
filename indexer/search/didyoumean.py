"""Did-you-mean: when a search offers a corrected query, and which correction.

The spelling itself is :mod:`indexer.suggest`; here is when to ask for it (few
hits, or a word no article holds) and the check that the correction finds more.
A search that found nothing shows the correction's results instead only when the
correction is confident.
"""
from __future__ import annotations

from ..analysis import query_terms
from ..config import Settings
from ..engine import Corpus
from ..live import OpenGeneration
from ..query import ParsedQuery, Word, parse
from .evaluate import _evaluate
from .evaluator import _Budget
from .languages import _searched_languages
from ..suggest import Correction, correct_query
from .results import SearchFilters

SUGGEST_BELOW = 5  # offer a corrected query when fewer hits than this


def _has_unknown_word(corpus: Corpus, parsed: ParsedQuery, searched: list[str], languages: list[str]) -> bool:
    """A word no article contains ("goverment spending") is worth a suggestion however many hits:
    unknown however each of ``languages`` analyses it, in the articles of the languages searched."""
    mask = corpus.language_mask(searched)
    for clause in parsed.clauses:
        node = clause.node
        if clause.occur != "not" and isinstance(node, Word) and not node.field and not node.prefix:
            analyses = {tuple(t.term for t in query_terms(node.text, lang) if t.term.isalpha()) for lang in languages}
            if analyses and all(terms and any(corpus.doc_frequency(term, mask) == 0 for term in terms)
                                for terms in analyses):
                return True
    return False


def _suggest(corpus: Corpus, gen: OpenGeneration, text: str, parsed: ParsedQuery, total: int,
             filters: SearchFilters, settings: Settings) -> Correction | None:
    """A corrected query from the vocabulary of the languages searched, if it finds more.

    Only a ``confident`` one may be searched in place of a query that found nothing (see
    :mod:`indexer.suggest`); the others are offered as "Did you mean".
    """
    searched, vocabulary = _searched_languages(corpus, parsed, filters)
    corrected = correct_query(corpus, text, vocabulary, searched)
    if not corrected or corrected.text == text:
        return None
    better = _evaluate(corpus, parse(corrected.text), filters, False, _Budget(settings), facets=False)
    return corrected if better.total >= max(total, 1) else None
