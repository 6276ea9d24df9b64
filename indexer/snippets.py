"""Highlighted titles and snippets, safe to put in a page as they are.

Matches are found by analysing the stored text with the same analyzer as the
index, so stemmed variants ("negotiations" for "negotiate") are marked, a
phrase query marks the phrase and not its lone words, and there is no 32 KB
horizon (Whoosh's highlighter stops looking there). Fragments are whole
sentences where possible (NLTK Punkt, shipped ``punkt_tab``, for English; the
rule-based splitter of :mod:`.analysis.sentences` for other languages), never
cut mid-word. Everything but the ``<mark>`` tags we insert is HTML-escaped.

Every function takes the article's ``lang`` (default ``"en"``): the text is
analysed in that language, so a :class:`MatchSpec` must hold the query's
terms analysed in the same language (``query_terms(query, lang)``); then a
German article marks "Gewerkschaften" for the query "Gewerkschaft".
"""
from __future__ import annotations

import html
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from .analysis import WORD_RE, fold, rules, word_analyzer
from .analysis.sentences import sentence_spans

FRAGMENTS = 3
FRAGMENT_MIN, FRAGMENT_TARGET, FRAGMENT_MAX = 160, 200, 220
JOINER = " … "
SENTENCE_WINDOW = 320  # characters each side of a match handed to Punkt


@dataclass(frozen=True)
class MatchSpec:
    """What to mark: analysed terms anywhere, and phrases as (term, offset) sequences."""

    terms: frozenset[str] = frozenset()
    phrases: tuple[tuple[tuple[str, int], ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms or self.phrases)


def find_spans(text: str, spec: MatchSpec, lang: str = "en") -> list[tuple[int, int, str]]:
    """Character spans of matches in ``text`` analysed in ``lang``, merged, in order; key names
    what matched (for scoring).

    The hot path of every results page. In Latin-script text (nearly every
    news article) a regex finds the few words that could match — stems keep
    their first letters — and only those are analysed; positions for phrases
    come from one ``split`` of the text. Other scripts are analysed word by word.
    """
    if not spec or not text:
        return []
    terms = spec.terms
    phrase_terms = {term for phrase in spec.phrases for term, _ in phrase}
    prefixes = _possible_prefixes(terms | phrase_terms)
    lang_rules = rules(lang)
    analyze_word = word_analyzer(lang)
    if lang_rules.word_re is WORD_RE and (text.isascii() or not _NON_LATIN.search(text)):
        shadow = text if text.isascii() else text.translate(_FOLD_LATIN)
        if not spec.phrases:
            return _merge(_term_spans(text, shadow, terms, prefixes, analyze_word))
        return _merge(_latin_spans(text, shadow, spec, terms, phrase_terms, prefixes, analyze_word))
    spans: list[tuple[int, int, str]] = []
    at: dict[tuple[int, str], tuple[int, int]] = {}
    pos = 0
    for m in lang_rules.word_re.finditer(text):
        word = m.group()
        if word.isascii() and word.isalpha() and not word.lower().startswith(prefixes):
            pos += 1  # cannot match: skip analysing (and stemming) it
            continue
        analysis = analyze_word(word)
        for e in analysis.emissions:
            if e.term in terms:
                spans.append((m.start() + e.start, m.start() + e.end, e.term))
            if e.term in phrase_terms and not e.joined:
                at[(pos + e.offset, e.term)] = (m.start() + e.start, m.start() + e.end)
        pos += analysis.width
    spans.extend(_phrase_spans(spec, at))
    return _merge(spans)


def _phrase_spans(spec: MatchSpec, at: dict) -> list[tuple[int, int, str]]:
    """Whole phrases, from where each phrase term occurs: (position, term) -> character span."""
    spans = []
    for phrase in spec.phrases:
        (first, _), rest = phrase[0], phrase[1:]
        for (p, term), (start, end) in list(at.items()):
            if term != first:
                continue
            last_end = end
            for other, offset in rest:
                found = at.get((p + offset, other))
                if found is None:
                    break
                last_end = max(last_end, found[1])
            else:
                spans.append((start, last_end, " ".join(t for t, _ in phrase)))
    return spans


def _latin_spans(text: str, shadow: str, spec: MatchSpec, terms, phrase_terms, prefixes,
                 analyze_word) -> list[tuple[int, int, str]]:
    """Terms and phrases in Latin-script text, analysing only the words that could match.

    A word's position is its index plus the extra positions of the hyphenated
    words before it (``cease-fire`` takes two), exactly as the index counted.
    """
    parts = _WORD_SPLIT.split(text)  # gap, word, gap, word, ..., gap
    words = parts[1::2]
    ends = list(accumulate(map(len, parts)))
    starts = ends[0::2][:len(words)]  # a word starts where the gap before it ends
    extra_at, extra = [], [0]  # hyphenated words: index, and positions added by all up to it
    for m in _HYPHENATED.finditer(text):
        k = bisect_right(starts, m.start()) - 1
        if not extra_at or extra_at[-1] != k:
            extra_at.append(k)
            extra.append(extra[-1] + analyze_word(words[k]).width - 1)
    candidates = sorted({bisect_right(starts, m.start()) - 1 for m in _candidates(prefixes).finditer(shadow)})
    spans: list[tuple[int, int, str]] = []
    at: dict[tuple[int, str], tuple[int, int]] = {}
    for k in candidates:
        start = starts[k]
        pos = k + extra[bisect_left(extra_at, k)]
        for e in analyze_word(words[k]).emissions:
            if e.term in terms:
                spans.append((start + e.start, start + e.end, e.term))
            if e.term in phrase_terms and not e.joined:
                at[(pos + e.offset, e.term)] = (start + e.start, start + e.end)
    spans.extend(_phrase_spans(spec, at))
    return spans


def _term_spans(text: str, shadow: str, terms: frozenset[str], prefixes: tuple[str, ...],
                analyze_word) -> list[tuple[int, int, str]]:
    """Spans of ``terms`` without phrases: no positions needed, so a regex finds the few words
    that could match and only those are analysed (languages that tokenise with WORD_RE:
    English, and the Latin words of Chinese, Japanese, Korean)."""
    spans: list[tuple[int, int, str]] = []
    for m in _candidates(prefixes).finditer(shadow):
        word = WORD_RE.match(text, m.start())
        if word is None:
            continue
        for e in analyze_word(word.group()).emissions:
            if e.term in terms:
                spans.append((word.start() + e.start, word.start() + e.end, e.term))
    return spans


def _fold_tables() -> tuple[dict[int, str], str]:
    """Latin letters with accents -> the one letter they fold to, for regexes over a same-length
    copy of the text (so "Éclair" is found by the prefix "ec"); and the Latin word characters
    that fold to more or less than one character (ß, ¼, Œ), which need the word-by-word scan."""
    table, uneven = {}, []
    for code in range(0x80, 0x250):
        ch = chr(code)
        folded = fold(ch)
        if len(folded) != 1:
            if re.match(r"\w", ch):
                uneven.append(ch)
        elif folded != ch and folded.isascii():
            table[code] = folded
    return table, "".join(uneven)


_FOLD_LATIN, _UNEVEN = _fold_tables()
# a word character outside Latin script, or one whose folding changes the length
_NON_LATIN = re.compile(r"[^\W\x00-\u024f]" + (f"|[{re.escape(_UNEVEN)}]" if _UNEVEN else ""))
_WORD_SPLIT = re.compile(f"({WORD_RE.pattern})")
_HYPHENATED = re.compile(r"\w[\-\u2010\u2011]\w")


@lru_cache(maxsize=4096)
def _candidates(prefixes: tuple[str, ...]) -> re.Pattern:
    """Word starts (also after a hyphen or a quote mark) beginning with one of ``prefixes``."""
    # O'Neill is indexed as "oneil" and 1,750 as "1750": an apostrophe or a comma may sit inside
    alternatives = "|".join("['\u2019,]?".join(re.escape(c) for c in p)
                            for p in sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})", re.IGNORECASE)


def _possible_prefixes(terms: frozenset[str] | set[str]) -> tuple[str, ...]:
    """How a word that stems to one of ``terms`` must begin.

    Snowball only rewrites word endings, so a word's first letters survive
    (two of them for stems of four letters or more: "dying" -> "die" is why
    short stems keep only one). Words failing this test need no analysis.
    """
    return tuple({t[:2] if len(t) >= 4 else t[:1] for t in terms if t})


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for start, end, key in spans:
        if merged and start <= merged[-1][1]:
            s, e, k = merged[-1]
            merged[-1] = (s, max(e, end), k)
        else:
            merged.append((start, end, key))
    return merged


def mark(text: str, spans: list[tuple[int, int, str]], start: int = 0, end: int | None = None) -> str:
    """Escape ``text[start:end]`` and wrap the spans inside it in <mark>."""
    end = len(text) if end is None else end
    out, cursor = [], start
    for s, e, _ in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[cursor:s], quote=False))
        out.append("<mark>" + html.escape(text[s:e], quote=False) + "</mark>")
        cursor = e
    out.append(html.escape(text[cursor:end], quote=False))
    return "".join(out)


def highlight(text: str, spec: MatchSpec, lang: str = "en") -> str:
    """The whole text, escaped, matches marked (titles, article pages)."""
    return mark(text, find_spans(text, spec, lang))


def _sentences(text: str, lo: int, hi: int, lang: str = "en") -> list[tuple[int, int]]:
    """Sentence spans (absolute offsets) inside text[lo:hi]: Punkt for English."""
    return [(lo + s, lo + e) for s, e in sentence_spans(text[lo:hi], lang)]


def _sentence_around(text: str, start: int, end: int, lang: str = "en") -> tuple[int, int]:
    """The sentence holding text[start:end], found on a window around it."""
    for s, e in _sentences(text, max(0, start - SENTENCE_WINDOW), min(len(text), end + SENTENCE_WINDOW),
                           lang):
        if s <= start < e:
            return s, e
    return start, end


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\n[ \t]+|(?<=[.!?:\"\u201d])\n")


def _paragraph_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """A fragment never runs across a paragraph break.

    A blank line, an indented line (Reuters) or a line ending a sentence is a
    break; a single newline inside a sentence (hard-wrapped text) is not.
    """
    para_start = 0
    for m in _PARAGRAPH_BREAK.finditer(text, max(0, start - SENTENCE_WINDOW), start):
        para_start = m.end()
    m = _PARAGRAPH_BREAK.search(text, end, end + SENTENCE_WINDOW)
    return para_start, (m.start() if m else min(len(text), end + SENTENCE_WINDOW))


def _trim(text: str, start: int, end: int, focus_start: int, focus_end: int) -> tuple[int, int]:
    """Cut [start, end) to at most FRAGMENT_MAX chars around the focus, at word boundaries."""
    if end - start <= FRAGMENT_MAX:
        return start, end
    room = max(FRAGMENT_TARGET - (focus_end - focus_start), 0)
    new_start = max(start, focus_start - room // 3)
    new_end = min(end, max(focus_end, new_start + FRAGMENT_TARGET))
    new_start = max(start, min(new_start, new_end - FRAGMENT_TARGET))
    return _word_boundary(text, new_start, forward=True, limit=focus_start), \
        _word_boundary(text, new_end, forward=False, limit=focus_end)


def _word_boundary(text: str, index: int, forward: bool, limit: int) -> int:
    """Move index to the nearest whitespace so no word is cut (not past limit)."""
    if index <= 0 or index >= len(text) or text[index - 1].isspace() or text[index].isspace():
        return index
    if forward:
        nxt = re.search(r"\s", text[index:limit]) if index < limit else None
        return index + nxt.end() if nxt else index
    prev = max(text.rfind(" ", limit, index), text.rfind("\n", limit, index))
    return prev if prev > limit else index


def _fragment(text: str, anchor: tuple[int, int, str], lang: str = "en") -> tuple[int, int]:
    """The sentence around a match, joined by the next ones while short, trimmed if long."""
    para_start, para_end = _paragraph_bounds(text, anchor[0], anchor[1])
    lo = max(para_start, anchor[0] - SENTENCE_WINDOW)
    hi = min(para_end, anchor[1] + SENTENCE_WINDOW)
    sentences = _sentences(text, lo, hi, lang) or [(anchor[0], anchor[1])]
    index = next((i for i, (s, e) in enumerate(sentences) if s <= anchor[0] < e), None)
    if index is None:
        return _trim(text, lo, hi, anchor[0], anchor[1])
    s, e = sentences[index]
    for ns, ne in sentences[index + 1:]:  # a short sentence borrows the next ones
        if e - s >= FRAGMENT_MIN or ne - s > FRAGMENT_MAX:
            break
        e = ne
    return _trim(text, s, e, anchor[0], anchor[1])


def snippet(text: str, spec: MatchSpec, fragments: int = FRAGMENTS, lang: str = "en") -> str:
    """Up to ``fragments`` highlighted sentences joined by " … "; the lead when nothing matches."""
    text = text or ""
    spans = find_spans(text, spec, lang)
    if not spans:
        return lead(text, lang=lang)
    chosen: list[tuple[int, int]] = []
    seen_keys: set[str] = set()
    # prefer fragments that show terms not shown yet, then document order
    ranked = sorted(spans, key=lambda sp: (sp[2] in seen_keys, sp[0]))
    for anchor in _diverse(ranked):
        if any(s <= anchor[0] < e for s, e in chosen):
            continue
        chosen.append(_fragment(text, anchor, lang))
        if len(chosen) >= fragments:
            break
    chosen.sort()
    parts = [mark(text, spans, s, e).strip() for s, e in chosen]
    # the joiner already says "something left out" between fragments; mark only the ends
    if chosen[0][0] > 0 and not _starts_sentence(text, chosen[0][0], lang):
        parts[0] = "…" + parts[0]
    last_end = chosen[-1][1]
    if last_end < len(text.rstrip()) and text[last_end - 1] not in _sentence_ends(lang):
        parts[-1] = parts[-1] + "…"
    return _collapse(JOINER.join(parts))


def _collapse(fragment: str) -> str:
    """Hard-wrapped lines and indentation read as single spaces in a snippet."""
    return " ".join(fragment.split())


def _diverse(spans: list[tuple[int, int, str]]):
    """Spans ordered so each new fragment tends to show a term not shown before."""
    shown: set[str] = set()
    pending = list(spans)
    while pending:
        pick = next((sp for sp in pending if sp[2] not in shown), pending[0])
        pending.remove(pick)
        shown.add(pick[2])
        yield pick


def _sentence_ends(lang: str) -> str:
    """Characters a fragment may end with without a trailing "…"."""
    return _ENDS if lang == "en" else _ENDS_OTHER


_ENDS = ".!?\"'”’"
_ENDS_OTHER = _ENDS + "…“«»。！？؟۔।"


def _starts_sentence(text: str, index: int, lang: str = "en") -> bool:
    before = text[:index].rstrip()
    return not before or before[-1] in (".!?\n\"”" if lang == "en" else _ENDS_OTHER + "\n") \
        or text[index - 1] == "\n"


def lead(text: str, size: int = FRAGMENT_TARGET, lang: str = "en") -> str:
    """The article's opening, cut at a sentence or word boundary, escaped."""
    text = text.strip()
    if len(text) <= FRAGMENT_MAX:
        return _collapse(html.escape(text, quote=False))
    s, e = _sentence_around(text, 0, 1, lang)
    if FRAGMENT_MIN // 2 <= e - s <= FRAGMENT_MAX:
        return _collapse(html.escape(text[s:e], quote=False))
    cut = _word_boundary(text, size, forward=False, limit=0)
    return _collapse(html.escape(text[:cut].rstrip(), quote=False)) + "…"
