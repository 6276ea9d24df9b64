"""One query evaluated in one language, within the cost ceiling of one search.

:class:`_Evaluator` turns the parsed query into (matches, scores) arrays: the
boolean structure, words, phrases (positions), ``prefix*`` expansion and the
``source:``, ``published:``, ``lang:`` and author matches. :class:`_Budget`
bounds what one search may look up, read and spend in time; every evaluation
of the search charges the same budget.
"""
from __future__ import annotations

import re
import time
from collections import Counter

import numpy as np

from ..analysis import fold, normalize_language, query_terms
from ..config import Settings
from ..engine import TEXT_FIELDS, Corpus, intersect_sorted
from ..query import AnyOf, Group, ParsedQuery, Phrase, Word
from ..snippets import MatchSpec
from .feedback import _rm3, _use_feedback
from .filters import _date_mask, parse_day
from .results import QueryError
from .terms import _is_filter, _keeps_stopwords, _prefix_text, _word_tokens

MAX_PREFIX_TERMS = 64
MIN_PREFIX_CHARS = 2


#: Share of ``query_timeout_ms`` the matching may use; the rest is left for the page, facets and
#: snippets of what was found (about 0.1 s at a million articles), so the answer is out in time.
EVALUATION_SHARE = 0.8


class _Budget:
    """The cost ceiling of one search: words looked up, postings read, time.

    As Elasticsearch bounds clauses (``max_clause_count``) and time (``timeout``,
    answered with ``timed_out``): a query that would look up or read too much is
    refused with a message saying what to narrow; one still running at the
    deadline stops evaluating its remaining alternatives and is flagged partial.
    """

    def __init__(self, settings: Settings, started: float | None = None):
        self.max_terms = settings.max_query_terms
        self.max_postings = settings.max_query_postings
        # evaluation stops early enough that the page, facets and snippets still fit in the timeout
        self.deadline = (started or time.perf_counter()) + EVALUATION_SHARE * settings.query_timeout_ms / 1000
        self.terms = 0
        self.postings = 0
        self.partial = False

    def spend(self, terms: int, postings: int = 0) -> None:
        self.terms += terms
        self.postings += postings
        if self.terms > self.max_terms:
            raise QueryError(f"the query asks for {self.terms:,}+ words (each prefix* expands to up to "
                             f"{MAX_PREFIX_TERMS}; OR-ed alternatives count too), more than the "
                             f"{self.max_terms:,} one search may use: use fewer or longer prefixes or "
                             f"fewer alternatives", "q")
        if self.postings > self.max_postings:
            raise QueryError(f"the query would read more than {self.max_postings:,} postings (very common "
                             f"words in many alternatives): use fewer or rarer words", "q")

    def expired(self) -> bool:
        if time.perf_counter() > self.deadline:
            self.partial = True
        return self.partial


class _Evaluator:
    """One query evaluated with its analysis in one language (``lang``), over the articles of
    ``lang_mask`` (None: all); :func:`_evaluate` runs one per analysis and combines them.

    Arrays are dense over every document of the archive, or, with ``domain`` (the sorted
    document numbers of ``lang_mask``, for a language with few articles), over those
    documents only: a handful of French articles in an English archive then cost a handful.
    """

    def __init__(self, corpus: Corpus, budget: _Budget, lang: str = "en",
                 lang_mask: np.ndarray | None = None, domain: np.ndarray | None = None):
        self.c = corpus
        self.budget = budget
        self.lang = lang
        self.lang_mask = lang_mask
        self.domain = domain
        self.keep_stopwords = False
        self.n = corpus.size if domain is None else len(domain)
        self.notices: list[str] = []
        self.ignored: list[str] = []
        self.terms: set[str] = set()
        self.phrases: list[tuple[tuple[str, int], ...]] = []
        self.bag: Counter[str] = Counter()  # plain top-level words, for feedback

    def evaluate(self, parsed: ParsedQuery, author: str | None, feedback: bool | None):
        """(matches, scores) of the query and the author filter in this language's articles;
        the words it ignored are in ``ignored``, what to highlight in :meth:`spec`."""
        self.keep_stopwords = _keeps_stopwords(parsed, self.lang)
        evaluated = self._combine(parsed.clauses, top=True)
        self.ignored = list(dict.fromkeys(self.ignored))
        if evaluated is None:
            # "" or "*" browses everything (narrowed by the filters), as Elasticsearch's
            # match_all; a query of only noise or stopwords finds nothing and says why
            mask = np.full(self.n, parsed.browse, dtype=bool)
            scores = np.zeros(self.n, dtype=np.float32)
            if not parsed.browse and not self.ignored:
                self.notices.append("the query has nothing to search for; type some words")
        else:
            mask, scores = evaluated
        mask = mask & self._local(self.c.live)
        if self.lang_mask is not None and self.domain is None:
            mask &= self.lang_mask
        use_feedback = _use_feedback(parsed, self.bag, feedback)
        if use_feedback and mask.any() and not self.budget.expired():
            scores = _rm3(self.c, self.bag, mask, scores, self._scores, self.domain)
        if author:
            mask &= self._author_mask(author)
        return mask, scores

    def spec(self) -> MatchSpec:
        return MatchSpec(frozenset(self.terms), tuple(self.phrases))

    # -- the documents evaluated ------------------------------------------------
    def _local(self, values: np.ndarray) -> np.ndarray:
        """A per-document array of the archive, for the documents evaluated."""
        return values if self.domain is None else values[self.domain]

    def _scores(self, term: str, fields=TEXT_FIELDS, weight: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`Corpus.term_scores` as (positions in the arrays evaluated, scores)."""
        if self.domain is None:
            return self.c.term_scores(term, fields, weight)
        return self.c.term_scores_among(term, self.domain, fields, weight)

    def _to_local(self, docs: np.ndarray) -> np.ndarray:
        """Document numbers (of the documents evaluated) as positions in the arrays."""
        return docs if self.domain is None else np.searchsorted(self.domain, docs)

    # -- boolean structure ------------------------------------------------------
    def _combine(self, clauses, top=False):
        must, should, must_not = [], [], []
        content_must = False  # a required phrase or word; filters (source:, published:) are not
        for clause in clauses:
            if clause.occur == "should" and (must or should) and self.budget.expired():
                continue  # out of time: the alternatives not evaluated yet are dropped (partial)
            value = self._node(clause.node, top and clause.occur == "should")
            if value is None:
                continue
            {"must": must, "should": should, "not": must_not}[clause.occur].append(value)
            content_must |= clause.occur == "must" and not _is_filter(clause.node)
        if not must and not should:
            if not must_not:
                return None
            mask = self._local(self.c.live).copy()
            scores = np.zeros(self.n, dtype=np.float32)
        else:
            mask = np.ones(self.n, dtype=bool)
            for m, _ in must:
                mask &= m
            if should and not content_must:  # "coffee published:1987-03": coffee, in March
                any_should = np.zeros(self.n, dtype=bool)
                for m, _ in should:
                    any_should |= m
                mask &= any_should
            scores = np.zeros(self.n, dtype=np.float32)
            for _, s in must + should:
                scores += s
        for m, _ in must_not:
            mask &= ~m
        return mask, scores

    def _node(self, node, in_bag=False):
        if isinstance(node, Word):
            return self._word(node, in_bag)
        if isinstance(node, Phrase):
            return self._phrase(node)
        if isinstance(node, AnyOf):
            parts = []
            for option in node.options:
                if parts and self.budget.expired():
                    break  # out of time: the remaining alternatives are dropped (partial)
                value = self._node(option)
                if value is not None:
                    parts.append(value)
            if not parts:
                return None
            mask = np.zeros(self.n, dtype=bool)
            scores = np.zeros(self.n, dtype=np.float32)
            for m, s in parts:
                mask |= m
                scores += s
            return mask, scores
        if isinstance(node, Group):
            return self._combine(node.clauses)
        return None

    def _tokens(self, text: str):
        return _word_tokens(text, self.lang, self.keep_stopwords)

    def _fields(self, node) -> tuple[str, ...]:
        return (node.field,) if node.field in ("title", "body", "author") else TEXT_FIELDS

    def _word(self, node: Word, in_bag: bool):
        if node.field == "source":
            return self._source_match(node.text)
        if node.field == "published":
            return self._published_match(node.text)
        if node.field == "lang":
            return self._language_match(node.text)
        if node.prefix:
            return self._prefix(node)
        tokens = self._tokens(node.text)
        if not tokens:
            self.ignored.append(node.text)
            return None
        fields = self._fields(node)
        parts = [t for t in tokens if not t.joined]
        joined = [t for t in tokens if t.joined]
        if len(parts) == 1 and not joined:
            term = parts[0].term
            self.terms.add(term)
            if in_bag:
                self.bag[term] += 1
            return self._term(term, fields)
        # cease-fire: the parts as a phrase, or the joined word
        value = self._phrase_tokens(parts, fields) if len(parts) > 1 else \
            (self._term(parts[0].term, fields) if parts else None)
        for t in joined:
            self.terms.add(t.term)
            alt = self._term(t.term, fields)
            value = alt if value is None else (value[0] | alt[0], np.maximum(value[1], alt[1]))
        return value

    def _term(self, term: str, fields=TEXT_FIELDS, weight: float = 1.0):
        docs, scores = self._scores(term, fields, weight)
        self.budget.spend(1, len(docs))
        mask = np.zeros(self.n, dtype=bool)
        mask[docs] = True
        dense = np.zeros(self.n, dtype=np.float32)
        dense[docs] = scores
        return mask, dense

    def _phrase(self, node: Phrase):
        if node.field == "source":
            return self._source_match(node.text)
        tokens = [t for t in query_terms(node.text, self.lang) if not t.joined]  # stopwords kept: exact
        if not tokens:
            self.ignored.append(node.text)
            return None
        fields = self._fields(node)
        if len(tokens) == 1:
            self.terms.add(tokens[0].term)
            return self._term(tokens[0].term, fields)
        return self._phrase_tokens(tokens, fields)

    def _phrase_tokens(self, tokens, fields):
        base = tokens[0].pos
        pattern = tuple((t.term, t.pos - base) for t in tokens)
        self.phrases.append(pattern)
        mask = np.zeros(self.n, dtype=bool)
        for f in fields:
            candidates = None
            for term, _ in pattern:
                docs = self.c.postings(f, term).docs
                self.budget.spend(0, len(docs))
                if candidates is None and self.domain is not None:
                    docs = intersect_sorted(docs, self.domain)
                candidates = docs if candidates is None else intersect_sorted(candidates, docs)
                if len(candidates) == 0:
                    break
            if candidates is None or len(candidates) == 0:
                continue
            keys = {term: self.c.position_keys(f, term, candidates) for term in {t for t, _ in pattern}}
            starts = keys[pattern[0][0]]
            for term, offset in pattern[1:]:
                starts = starts[np.isin(starts + offset, keys[term])]
                if len(starts) == 0:
                    break
            mask[self._to_local(np.unique(starts >> 32))] = True
        scores = np.zeros(self.n, dtype=np.float32)
        if mask.any():
            for term in {t for t, _ in pattern}:
                docs, s = self._scores(term, fields)
                keep = mask[docs]
                scores[docs[keep]] += s[keep]
        return mask, scores

    def _prefix(self, node: Word):
        stem_prefix = _prefix_text(node.text, self.lang)
        if len(stem_prefix) < MIN_PREFIX_CHARS:
            raise QueryError(f"“{node.text}*” would match too many words: give at least "
                             f"{MIN_PREFIX_CHARS} letters before the *", "q")
        fields = self._fields(node)
        found: dict[str, int] = {}
        expansions = 0
        for f in fields:
            terms, total = self.c.prefix_terms(f, stem_prefix, MAX_PREFIX_TERMS, self.lang_mask)
            expansions = max(expansions, total)
            for term, df in terms.items():
                found[term] = found.get(term, 0) + df
        if not found:
            return np.zeros(self.n, dtype=bool), np.zeros(self.n, dtype=np.float32)
        terms = sorted(found, key=lambda t: (-found[t], t))
        if expansions > MAX_PREFIX_TERMS:
            self.notices.append(f"“{node.text}*” matches {expansions:,} words; searched the "
                                f"{MAX_PREFIX_TERMS} most common")
            terms = terms[:MAX_PREFIX_TERMS]
        self.budget.spend(len(terms))  # checked before reading any posting
        mask = np.zeros(self.n, dtype=bool)
        scores = np.zeros(self.n, dtype=np.float32)
        for number, term in enumerate(terms):
            if number and self.budget.expired():
                break  # out of time: the rarer expansions are dropped (partial)
            self.terms.add(term)
            docs, s = self._scores(term, fields)
            self.budget.spend(0, len(docs))
            mask[docs] = True
            scores[docs] = np.maximum(scores[docs], s)
        return mask, scores

    def _source_match(self, text: str):
        wanted = fold(text.strip())
        codes = [i for i, name in enumerate(self.c.source_names)
                 if wanted and (fold(name) == wanted or re.search(rf"\b{re.escape(wanted)}\b", fold(name)))]
        mask = np.isin(self._local(self.c.source_codes), codes) if codes else np.zeros(self.n, dtype=bool)
        return mask, np.zeros(self.n, dtype=np.float32)

    def _published_match(self, text: str):
        lo_text, sep, hi_text = text.partition("..")
        if not sep:
            lo_text = hi_text = text
        start = parse_day(lo_text, "q", label="published:") if lo_text.strip() else None
        end = parse_day(hi_text, "q", end=True, label="published:") if hi_text.strip() else None
        if start and end and start > end:
            raise QueryError(f"“published:{text}” ends before it starts ({start} is after {end}); "
                             f"put the earlier date first", "q")
        return self._local(_date_mask(self.c, start, end)), np.zeros(self.n, dtype=np.float32)

    def _language_match(self, text: str):
        code = normalize_language(text)
        if code is None:
            return np.zeros(self.n, dtype=bool), np.zeros(self.n, dtype=np.float32)
        mask = self.c.language_mask([code])
        return self._local(self.c.live if mask is None else mask), np.zeros(self.n, dtype=np.float32)

    def _author_mask(self, author: str) -> np.ndarray:
        mask = np.ones(self.n, dtype=bool)
        for t in query_terms(author, self.lang):  # a name: every part, stopwords too ("Anne Will")
            mask &= self._term(t.term, ("author",))[0]
        return mask
