"""Languages of a search: which languages a query searches, which of them analyse it
alike (one evaluation each), and the notices that name languages.

Every article was indexed in its own language, so the query is analysed once
per language; :func:`_analysis_groups` keeps that to one evaluation per distinct
analysis (one for an archive in one language). Did-you-mean also asks here
which languages' vocabulary to correct from (:func:`_searched_languages`).
"""
from __future__ import annotations

import numpy as np

from ..analysis import LANGUAGES, normalize_language, query_terms, rules, word_analyzer
from ..engine import Corpus, count_common
from ..query import AnyOf, ParsedQuery, Word
from .results import SearchFilters
from .terms import _prefix_text, _text_nodes

VOCABULARY_SHARE = 100  # did-you-mean: languages with at least 1/100 of the articles searched


def _query_languages(parsed: ParsedQuery, present: list[str]) -> list[str]:
    """The languages a query searches: those present, narrowed by its top-level ``lang:`` clauses."""
    allowed = set(present)
    for clause in parsed.clauses:
        options = clause.node.options if isinstance(clause.node, AnyOf) else (clause.node,)
        if not all(isinstance(o, Word) and o.field == "lang" for o in options):
            continue
        codes = {normalize_language(o.text) for o in options}
        if clause.occur == "must":
            allowed &= codes
        elif clause.occur == "not":
            allowed -= codes
    return [lang for lang in present if lang in allowed]


def _analysis_groups(parsed: ParsedQuery, author: str | None, languages: list[str],
                     selected: set[str] | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """``languages`` grouped by how they analyse the query: (one of them, all of them) per analysis.

    With ``selected`` (a language filter), those languages are never grouped with the others:
    the others are evaluated only for the language facet's counts.
    """
    if len(languages) <= 1:
        return [(lang, (lang,)) for lang in languages]
    nodes = _text_nodes(parsed)
    texts = [node.text for node in nodes if not (isinstance(node, Word) and node.prefix)] + ([author] if author else [])
    prefixes = [node.text for node in nodes if isinstance(node, Word) and node.prefix]
    groups: dict[tuple, list[str]] = {}
    for lang in languages:
        analyze_one, findall = word_analyzer(lang), rules(lang).word_re.findall
        # the cached analysis of every word: equal keys, equal query_terms()
        key = tuple(tuple(analyze_one(word) for word in findall(text)) for text in texts) \
            + tuple(_prefix_text(text, lang) for text in prefixes)
        if selected is not None:
            key += (lang in selected,)
        groups.setdefault(key, []).append(lang)
    return [(members[0], tuple(members)) for members in groups.values()]


def _may_match(corpus: Corpus, parsed: ParsedQuery, lang: str, docs: np.ndarray) -> bool:
    """Does any of ``docs`` (a few, sorted) hold a term of the query analysed in ``lang``?"""
    for node in _text_nodes(parsed):
        for token in query_terms(node.text, lang):
            for f in ("title", "body", "author"):
                if count_common(corpus.postings(f, token.term).docs, docs):
                    return True
    return False


def _unknown_languages(parsed: ParsedQuery) -> list[str]:
    return [f"“lang:{node.text}” is not a language newsindex knows: it matches nothing; write an ISO 639-1 "
            f"code such as lang:en, lang:de or lang:fr" for node in _text_nodes(parsed, ("lang",))
            if normalize_language(node.text) is None]


def _language_names(codes) -> str:
    return ", ".join(LANGUAGES[code].name if code in LANGUAGES else code for code in codes)


def _ignored_notices(ignored: list[tuple[str, tuple[str, ...]]], groups: list[tuple[str, ...]]) -> list[str]:
    """"ignored “the”: too common to search for", saying in which languages when not in all."""
    where: dict[str, list[str]] = {}
    for word, members in ignored:
        where.setdefault(word, []).extend(members)
    everywhere = {lang for members in groups for lang in members}
    common = [w for w, langs in where.items() if set(langs) >= everywhere]
    notices = [f"ignored {', '.join(f'“{w}”' for w in common)}: too common to search for"] if common else []
    for word, langs in where.items():
        if word not in common:
            notices.append(f"ignored “{word}” in {_language_names(sorted(set(langs)))} articles: "
                           f"too common to search for")
    return notices


def _searched_languages(corpus: Corpus, parsed: ParsedQuery, filters: SearchFilters) -> tuple[list[str], list[str]]:
    """The languages a search returns (its lang: clauses and language filter), and those whose
    vocabulary did-you-mean uses: the ones holding at least 1 % of their articles (a few
    misdetected tables of figures are no vocabulary)."""
    counts = corpus.languages()
    languages = _query_languages(parsed, list(counts))
    if filters.languages:
        languages = [lang for lang in languages if lang in filters.languages]
    total = sum(counts[lang] for lang in languages)
    return languages, [lang for lang in languages if counts[lang] * VOCABULARY_SHARE >= total]
