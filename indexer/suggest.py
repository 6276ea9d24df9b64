"""Did-you-mean: correct unknown or rare query words from the index's own vocabulary.

The index holds stems ("negoti"), not words, so a candidate stem found near a
misspelling is turned back into a real word by looking at how it is written
in an article that contains it ("negotiations"), preferring the spelling
closest to what the user typed.

Per language: a word is analysed the way each language searched analyses it,
counted in that language's articles only, and corrected from the stems those
articles hold (so a German query is corrected from German articles, an English
one from English articles, in a mixed archive).
"""
from __future__ import annotations

import re

import numpy as np

from .analysis import analyze, analyze_word, fold
from .engine import Corpus
from .segment import letter_signature, signature_distance

MIN_WORD = 3
RARE = 2  # a word in fewer articles than this may be a typo
BETTER = 10  # a correction must be this many times more common
_OPERATORS = {"OR", "AND", "NOT"}
SURFACE_SAMPLE = 20  # articles read to see how a stem is spelled
_LANGUAGE_FIELD = re.compile(r"(?:^|[\s(+-])(?:lang|language):\"?$", re.IGNORECASE)


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


def correct_words(corpus: Corpus, text: str, languages: list[str] | None = None,
                  searched: list[str] | None = None) -> str | None:
    """The query with misspelled words replaced, or None when nothing needed correcting.

    ``languages``: those whose analysis and vocabulary to use (default: every language of the
    index); ``searched``: the languages whose articles frequencies count (default: the same).
    """
    if languages is None:
        languages = list(corpus.languages()) or ["en"]
    if not languages:
        return None
    searched = searched if searched is not None else languages
    mask = corpus.language_mask(searched)
    changed = False
    out = []
    cursor = 0
    for m in re.finditer(r"[^\W\d_][\w'’]*", text):
        word = m.group()
        out.append(text[cursor:m.start()])
        cursor = m.end()
        fixed = _correct(corpus, word, languages, mask, searched) if _correctable(text, m, word) else None
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
    if after == "*" or text[m.start() - 1:m.start()] == "*":
        return False  # part of a prefix or wildcard pattern, not a misspelled word
    if _LANGUAGE_FIELD.search(text, 0, m.start()):
        return False  # lang:German names a language
    return after != ":"  # a field name, not a word


def _correct(corpus: Corpus, word: str, languages: list[str], mask, searched: list[str] | None = None
             ) -> str | None:
    """The closest common spelling of ``word`` as any language searched analyses it, or None.

    Frequencies are counted in the articles of the languages searched.
    """
    holding = _languages_holding(corpus, word, searched or languages)
    if holding:  # a real word of some articles: correct it only the way their languages read it
        languages = [lang for lang in languages if lang in holding]
        if not languages:
            return None  # a word of a language too small to have a vocabulary of its own
        own = corpus.language_mask(languages)
        mask = own if mask is None else (mask if own is None else own & mask)
    by_term: dict[str, list[str]] = {}  # the word's term -> the languages analysing it so
    for lang in languages:
        emissions = analyze_word(word, lang).emissions
        if len(emissions) == 1:
            by_term.setdefault(emissions[0].term, []).append(lang)
    best: tuple[int, int, str] | None = None  # (distance, -df, term)
    best_langs: list[str] = []
    checked = []
    for term, langs in by_term.items():
        df = corpus.doc_frequency(term, mask)
        if df >= RARE:
            return None  # a known word in one of the languages searched
        if term.isalpha():
            checked.append((term, langs, df))
    for term, langs, df in checked:
        maxdist = 1 if len(term) <= 4 else 2
        for candidate in _candidates(corpus, term, maxdist):
            distance = edit_distance(term, candidate, maxdist)
            if distance > maxdist:
                continue
            cdf = corpus.doc_frequency(candidate, mask)
            if cdf <= df or cdf < BETTER * df:
                continue
            key = (distance, -cdf, candidate)  # the closest spelling, then the commonest
            if best is None or key < best:
                best, best_langs = key, langs
    if best is None:
        return None
    return _surface(corpus, best[2], word, best_langs if mask is not None else None)


def _languages_holding(corpus: Corpus, word: str, searched: list[str]) -> set[str]:
    """The languages searched whose articles hold ``word`` as that language analyses it.

    A rare word some articles do hold (German "Haus", French "homme" in a mostly English
    archive) is only corrected towards words common in *those* articles' languages:
    otherwise every word of a small language would be "corrected" into a look-alike of
    the large one ("House", "home").
    """
    present = corpus.languages()
    analyses: dict[str, list[str]] = {}  # the word's term -> the languages searched that analyse it so
    for lang in searched:
        emissions = analyze_word(word, lang).emissions if lang in present else ()
        if len(emissions) == 1:
            analyses.setdefault(emissions[0].term, []).append(lang)
    return {lang for term, langs in analyses.items() for lang in set(langs) & corpus.term_languages(term)}


def _candidates(corpus: Corpus, term: str, maxdist: int) -> set[str]:
    """Words of the index that could be within ``maxdist`` edits of ``term``.

    Read from the segments' term tables, where every word of a title or body
    has its length and letter counts stored (see ``segment.letter_signature``):
    typos seldom touch the first letter, so only that letter's range of the
    sorted table is looked at, and the length and letter-count bounds skip
    nearly all of it with a few numpy operations.
    """
    signature = letter_signature(term)
    found: set[str] = set()
    first = term[0].encode("utf-8", "surrogatepass")
    for field in ("title", "body"):
        for _, terms in corpus.field_terms(field):
            if terms.tlen is None:
                continue
            lo, hi = terms.prefix_range(first)
            if lo == hi:
                continue
            lengths = terms.tlen[lo:hi].astype(np.int64)
            near = (lengths >= len(term) - maxdist) & (lengths <= len(term) + maxdist) & (lengths > 0)
            idx = np.flatnonzero(near)
            if not len(idx):
                continue
            close = signature_distance(terms.tsig[lo:hi][idx], signature) <= 2 * maxdist
            for i in (lo + idx[close]).tolist():
                found.add(terms.term(i).decode("utf-8", "surrogatepass"))
    found.discard(term)
    return found


def _surface(corpus: Corpus, term: str, typed: str, languages: list[str] | None = None) -> str | None:
    """How ``term`` is written in the articles (of ``languages``) that contain it, closest to ``typed``."""
    forms: dict[str, int] = {}
    mask = corpus.language_mask(languages) if languages else None
    for field in ("title", "body"):
        docs = corpus.postings(field, term).docs
        if mask is not None:
            docs = docs[mask[docs]]
        for docnum in docs[:SURFACE_SAMPLE].tolist():
            text = corpus.stored_fields(docnum).get(field) or ""
            for token in analyze(text, 0, corpus.language_of(docnum)):
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


