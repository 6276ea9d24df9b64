"""Did-you-mean: correct unknown or rare query words from the index's own vocabulary.

The index holds stems ("negoti"), not words, so a candidate stem found near a
misspelling is turned back into a real word by looking at how it is written
in an article that contains it ("negotiations"), preferring the spelling
closest to what the user typed.
"""
from __future__ import annotations

import re

from .analysis import analyze, analyze_word, fold
from .engine import Corpus

MIN_WORD = 3
RARE = 2  # a word in fewer articles than this may be a typo
BETTER = 10  # a correction must be this many times more common
_OPERATORS = {"OR", "AND", "NOT"}
SURFACE_SAMPLE = 20  # articles read to see how a stem is spelled


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein (adjacent swaps), stopping early past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def correct_words(corpus: Corpus, text: str) -> str | None:
    """The query with misspelled words replaced, or None when nothing needed correcting."""
    changed = False
    out = []
    cursor = 0
    for m in re.finditer(r"[^\W\d_][\w'’]*", text):
        word = m.group()
        out.append(text[cursor:m.start()])
        cursor = m.end()
        fixed = _correct(corpus, word) if _correctable(text, m, word) else None
        if fixed and fixed != fold(word):
            changed = True
            out.append(fixed)
        else:
            out.append(word)
    out.append(text[cursor:])
    return "".join(out) if changed else None


def _correctable(text: str, m: re.Match, word: str) -> bool:
    if len(word) < MIN_WORD or word in _OPERATORS:
        return False
    after = text[m.end():m.end() + 1]
    return after != ":"  # a field name, not a word


def _correct(corpus: Corpus, word: str) -> str | None:
    emissions = analyze_word(word).emissions
    if len(emissions) != 1:
        return None
    term = emissions[0].term
    df = corpus.doc_frequency(term)
    if df >= RARE or not term.isalpha():
        return None
    maxdist = 1 if len(term) <= 4 else 2
    best: tuple[int, int, str] | None = None  # (distance, -df, term)
    vocabulary = corpus.memo("spelling", vocabulary_by_initial)
    for length in range(len(term) - maxdist, len(term) + maxdist + 1):
        for candidate in vocabulary.get((term[0], length), ()):
            if candidate == term:
                continue
            distance = edit_distance(term, candidate, maxdist)
            if distance > maxdist:
                continue
            cdf = corpus.doc_frequency(candidate)
            if cdf <= df or cdf < BETTER * df:
                continue
            key = (distance, -cdf, candidate)  # the closest spelling, then the commonest
            if best is None or key < best:
                best = key
    if best is None:
        return None
    return _surface(corpus, best[2], word)


def vocabulary_by_initial(corpus: Corpus) -> dict[tuple[str, int], list[str]]:
    """The index's alphabetic terms by (first letter, length): the candidates for a typo.

    Built once per generation from the term dictionaries (the web workers do
    it at start-up). Typos seldom touch the first letter, and grouping by it
    keeps a lookup to a few hundred edit-distance checks.
    """
    groups: dict[tuple[str, int], set[str]] = {}
    for field in ("title", "body"):
        for raw in corpus.reader.lexicon(field):
            term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            if term.isalpha():
                groups.setdefault((term[0], len(term)), set()).add(term)
    return {key: sorted(terms) for key, terms in groups.items()}


def _surface(corpus: Corpus, term: str, typed: str) -> str | None:
    """How ``term`` is written in the articles that contain it, closest to ``typed``."""
    forms: dict[str, int] = {}
    for field in ("title", "body"):
        for docnum in corpus.postings(field, term).docs[:SURFACE_SAMPLE].tolist():
            text = corpus.searcher.stored_fields(docnum).get(field) or ""
            for token in analyze(text):
                if token.term == term and not token.joined:
                    form = fold(text[token.start:token.end])
                    forms[form] = forms.get(form, 0) + 1
        if forms:
            break
    if not forms:
        return None
    typed_folded = fold(typed)
    best = min(forms, key=lambda f: (edit_distance(typed_folded, f, 6), -forms[f]))
    if typed.isupper() and len(typed) > 1:
        return best.upper()
    return best.capitalize() if typed[:1].isupper() else best


