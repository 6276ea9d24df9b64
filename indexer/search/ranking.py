"""Ranking: one page of a result set in order, without sorting every match.

The order is total (the article id breaks the last ties), so it does not depend on
how the index was built; :func:`_best` keeps the top-k cheap for a million matches.
Apart from evaluation: the same ordering serves search pages, matches() and related().
"""
from __future__ import annotations

import numpy as np

from ..engine import Corpus
from ..live import OpenGeneration
from .evaluate import _Result


def _ranked(corpus: Corpus, result: _Result, sort: str, limit: int, offset: int = 0) -> list[int]:
    """Document numbers of one page of results in order.

    Relevance: score, then newest, then article id; newest/oldest: date (undated last),
    then score, then article id. The article id makes the order independent of how
    the index was built (parallel or not, merged or not).
    """
    docs = np.flatnonzero(result.mask)
    if len(docs) == 0:
        return []
    want = offset + limit
    if sort == "relevance":
        primary = result.scores[docs]
    else:
        ts = corpus.timestamps[docs]
        primary = np.where(np.isnan(ts), -np.inf, ts if sort == "newest" else -ts)
    docs = _best(docs, primary, want)
    ts = corpus.timestamps[docs]
    undated = np.isnan(ts)
    newest = -np.where(undated, -np.inf, ts)
    if sort == "relevance":
        keys = (corpus.id_rank[docs], newest, -result.scores[docs])
    else:
        date_key = np.where(undated, 0, -newest if sort == "oldest" else newest)
        keys = (corpus.id_rank[docs], -result.scores[docs], date_key, undated)
    return docs[np.lexsort(keys)][offset:want].tolist()


SAMPLE_FOR_THRESHOLD = 4096


def _best(docs: np.ndarray, key: np.ndarray, want: int) -> np.ndarray:
    """The documents whose ``key`` is at least the ``want``-th largest (ties kept).

    A full partition of a million scores costs ~10 ms; a threshold estimated on
    a sample keeps it to one comparison pass, with the exact partition as fallback.
    """
    if len(docs) <= max(4 * want, SAMPLE_FOR_THRESHOLD):
        return docs
    step = max(1, len(docs) // SAMPLE_FOR_THRESHOLD)
    sample = np.sort(key[::step])[::-1]
    expected = want * len(sample) / len(docs)
    threshold = sample[min(len(sample) - 1, int(expected * 2) + 8)]
    keep = key >= threshold
    if np.count_nonzero(keep) < want:
        threshold = np.partition(key, len(key) - want)[len(key) - want]
        keep = key >= threshold
    return docs[keep]


def _newest_first_seen(gen: OpenGeneration, corpus: Corpus, docs: np.ndarray, want: int) -> np.ndarray:
    """Newest first by when newsindex first indexed them, then newest published, then article id."""
    if not want:
        return docs[:0]
    seen = np.nan_to_num(corpus.first_seen[docs], nan=-np.inf)
    docs = _best(docs, seen, want)
    keys = -np.nan_to_num(corpus.first_seen[docs], nan=-np.inf)
    published = np.nan_to_num(corpus.timestamps[docs], nan=-np.inf)
    return docs[np.lexsort((corpus.id_rank[docs], -published, keys))][:want]
