"""RM3 pseudo-relevance feedback: the top documents' terms re-weight a plain-word query.

Off by default (``settings.feedback``): on held-out test collections it helped
one in six. It only re-scores the matches the query already has, and only for
bags of words (:func:`_use_feedback`); each language group's evaluator applies
it to its own matches. Apart from the evaluator: it changes scores, never matches.
"""
from __future__ import annotations

from collections import Counter
from typing import Callable

import numpy as np

from ..engine import Corpus
from ..query import ParsedQuery, Word

FEEDBACK_MIN_TERMS = 3
FEEDBACK_DOCS, FEEDBACK_TERMS, FEEDBACK_ORIGINAL_WEIGHT = 10, 10, 0.5  # Anserini's RM3 defaults


def _use_feedback(parsed: ParsedQuery, bag: Counter[str], feedback: bool | None) -> bool:
    """RM3 only re-weights bags of words; queries with operators mean exactly what they say."""
    plain = all(c.occur == "should" and isinstance(c.node, Word) and not c.node.field
                and not c.node.prefix for c in parsed.clauses)
    if not plain or not bag:
        return False
    if feedback is None:  # auto
        return len(bag) >= FEEDBACK_MIN_TERMS
    return feedback


def _rm3(corpus: Corpus, bag: Counter[str], mask: np.ndarray, scores: np.ndarray,
         term_scores: Callable[..., tuple[np.ndarray, np.ndarray]],
         domain: np.ndarray | None = None) -> np.ndarray:
    """RM3: re-weight the query with terms from the top documents, within the same matches.

    ``bag`` holds the query's plain words (term -> count); ``term_scores(term, weight=...)``
    scores a term over the arrays evaluated, whose positions are document numbers, or with
    ``domain``, positions in it.
    """
    candidates = np.flatnonzero(mask)
    top = candidates[np.argsort(-scores[candidates], kind="stable")[:FEEDBACK_DOCS]]
    top_scores = scores[top].astype(np.float64)
    if len(top) < 2 or top_scores.sum() <= 0:
        return scores
    doc_weights = top_scores / top_scores.sum()
    model: Counter[str] = Counter()
    for docnum, weight in zip((top if domain is None else domain[top]).tolist(), doc_weights):
        tf = corpus.doc_terms(int(docnum))
        length = sum(tf.values()) or 1
        for term, count in tf.items():
            model[term] += weight * count / length
    expansion = dict(model.most_common(FEEDBACK_TERMS))
    exp_total = sum(expansion.values()) or 1.0
    q_total = sum(bag.values())
    weights: Counter[str] = Counter()
    for term, count in bag.items():
        weights[term] += FEEDBACK_ORIGINAL_WEIGHT * count / q_total
    for term, value in expansion.items():
        weights[term] += (1 - FEEDBACK_ORIGINAL_WEIGHT) * value / exp_total
    new_scores = np.zeros(len(mask), dtype=np.float32)
    for term, weight in weights.items():
        docs, s = term_scores(term, weight=weight)
        new_scores[docs] += s
    return np.where(mask, new_scores, 0).astype(np.float32)
