"""Text analysis for news: one tokenizer + filter chain, shared by indexing and querying.

Why not Whoosh's StemmingAnalyzer: news text needs possessives stripped
("Zelenskyy's" -> zelenskyy), hyphenated words findable three ways
("cease-fire", "cease fire", "ceasefire"), dotted abbreviations kept whole and
never dropped as stopwords ("U.S." -> us), thousands separators removed
("1,750" -> 1750), accents folded and phrase positions kept exact after
stopword removal.

The pipeline is the Whoosh shape, small composable steps::

    WORD_RE (tokenize) -> normalize_word (possessive, apostrophes, hyphens,
    accents, lowercase) -> stopwords (NLTK english) -> stem (NLTK Snowball)

Each distinct surface word is analysed once and cached, since news text
repeats its vocabulary: the cache turns ~180k tokens/s into millions.

Changing what any step produces changes what an index means: bump
``ANALYZER_VERSION``; indexes built by another version refuse to open and ask
for ``newsindex reindex --full``.
"""
from __future__ import annotations

import re
import sys
from array import array
import unicodedata
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Iterator, NamedTuple

from whoosh.analysis import Analyzer, Token
from whoosh.formats import Positions

ANALYZER_VERSION = 2  # 2: Latin runs inside CJK words are words; CJK runs over 64 chars indexed

NLTK_DATA = Path(__file__).with_name("nltk_data")

# Order matters: dotted abbreviations, then numbers with separators, then
# words with inner hyphens/apostrophes. \w is Unicode-aware (accents, Cyrillic...).
WORD_RE = re.compile(
    r"(?:[^\W\d_]\.){2,}"  # U.S.  U.K.  e.g.
    r"|\d+(?:[.,]\d+)+"  # 1,750  5.93  2024.11
    r"|\w+(?:['\u2019\-\u2010\u2011]\w+)*"  # cease-fire  Zelenskyy's  O'Neill
)
_HYPHENS = re.compile(r"[\-\u2010\u2011]")
_APOSTROPHES = "'\u2019"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_CJK_RUNS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+|"
                       r"[^\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
MAX_WORD_CHARS = 64  # longer "words" (hashes, base64, garbage) are not searchable text
# Capitalised acronyms that would otherwise be dropped as stopwords ("us", "who").
ACRONYMS_NOT_STOPWORDS = frozenset({"US", "WHO"})


def nltk_data_path() -> str:
    """Point NLTK at the data shipped inside the package; the product never downloads."""
    path = str(NLTK_DATA)
    try:
        import nltk.data
    except ImportError:  # pragma: no cover - nltk is a hard dependency
        return path
    if path not in nltk.data.path:
        nltk.data.path.insert(0, path)
    return path


def _load_stopwords() -> frozenset[str]:
    """NLTK's English stopword list, read from the shipped copy of NLTK's corpus.

    Read directly rather than through ``nltk.corpus`` so that commands which
    analyse nothing (an unchanged reindex, stats) do not pay for importing NLTK.
    """
    words = (NLTK_DATA / "corpora" / "stopwords" / "english").read_text("utf-8").split()
    # "don't" and "dont" alike: apostrophes are removed by normalize_word.
    return frozenset(words) | frozenset(w.replace("'", "") for w in words)


STOPWORDS = _load_stopwords()


class _Stemmer:
    """NLTK's Snowball (Porter2) English stemmer behind an unbounded dict cache.

    NLTK is imported on first use only (see ``_load_stopwords``).
    """

    def __init__(self) -> None:
        self._stem = None
        self._cache: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        try:
            return self._cache[word]
        except KeyError:
            pass
        if self._stem is None:
            nltk_data_path()
            from nltk.stem.snowball import SnowballStemmer

            self._stem = SnowballStemmer("english").stem
        stemmed = self._stem(word) if len(word) > 2 else word
        if len(self._cache) < 2_000_000:
            self._cache[word] = stemmed
        return stemmed


stem = _Stemmer()


def fold(word: str) -> str:
    """Lowercase and strip accents (café -> cafe); ASCII words take the fast path."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped).casefold()


class Emission(NamedTuple):
    """One indexed term produced by a surface word, relative to that word."""

    term: str
    offset: int  # position offset from the word's first position
    start: int  # character span inside the surface word
    end: int
    joined: bool = False  # the catenation of a hyphenated word's parts


class WordAnalysis(NamedTuple):
    emissions: tuple[Emission, ...]
    width: int  # positions the word occupies (stopwords occupy one and emit nothing)
    hyphenated: bool


def _term(word: str, keep_stopword: bool = False) -> str | None:
    """Fold, drop stopwords, stem; None for a stopword."""
    folded = fold(word)
    if not keep_stopword and folded in STOPWORDS:
        return None
    if any(c.isdigit() for c in folded) or not folded.isalpha():
        return folded
    return stem(folded)


@lru_cache(maxsize=500_000)
def analyze_word(word: str) -> WordAnalysis:
    """Analyse one surface word as matched by WORD_RE (cached: the hot path of indexing)."""
    if _CJK.search(word):  # before the length limit: CJK text has no spaces to split it
        return _analyze_cjk(word)
    if len(word) > MAX_WORD_CHARS:
        return WordAnalysis((), 1, False)
    if word[0].isdigit() and ("," in word or "." in word):
        if "," in word:  # 1,750 -> 1750 ; keep decimals (5.93)
            return WordAnalysis((Emission(word.replace(",", ""), 0, 0, len(word)),), 1, False)
        return WordAnalysis((Emission(word, 0, 0, len(word)),), 1, False)
    if word.endswith(".") and "." in word[:-1]:  # U.S. -> us, an abbreviation never a stopword
        letters = word.replace(".", "")
        return WordAnalysis((Emission(fold(letters), 0, 0, len(word)),), 1, False)
    if word in ACRONYMS_NOT_STOPWORDS:
        return WordAnalysis((Emission(word.lower(), 0, 0, len(word)),), 1, False)
    # possessives: Zelenskyy's -> Zelenskyy ; Jones' handled by WORD_RE not including the quote
    if len(word) > 2 and word[-2] in _APOSTROPHES and word[-1] in "sS":
        word = word[:-2]
    parts = _HYPHENS.split(word)
    if len(parts) == 1:
        term = _term(_strip_apostrophes(word))
        return WordAnalysis((Emission(term, 0, 0, len(word)),) if term else (), 1, False)
    emissions = []
    start = 0
    for offset, part in enumerate(parts):
        term = _term(_strip_apostrophes(part)) if part else None
        if term:
            emissions.append(Emission(term, offset, start, start + len(part)))
        start += len(part) + 1
    joined = _term(_strip_apostrophes("".join(parts)), keep_stopword=True)
    if joined and len(parts) <= 4:  # cease-fire is also found as ceasefire
        emissions.append(Emission(joined, 0, 0, len(word), True))
        emissions.sort(key=lambda e: e.offset)
    return WordAnalysis(tuple(emissions), len(parts), True)


def _strip_apostrophes(word: str) -> str:
    if "'" in word or "\u2019" in word:
        return word.replace("'", "").replace("\u2019", "")
    return word


def _analyze_cjk(word: str) -> WordAnalysis:
    """Scripts without spaces: one term per character, so any substring is a phrase.

    Other runs inside the word ("用iPhone拍照", "NATO의", "2024年") are analysed as words of
    their own, so they are found the way they are everywhere else.
    """
    emissions: list[Emission] = []
    pos = 0
    for run in _CJK_RUNS.finditer(word):
        text, at = run.group(), run.start()
        if _CJK.match(text):
            emissions.extend(Emission(fold(ch), pos + i, at + i, at + i + 1) for i, ch in enumerate(text))
            pos += len(text)
        else:
            inner = analyze_word(text)
            emissions.extend(e._replace(offset=pos + e.offset, start=at + e.start, end=at + e.end)
                             for e in inner.emissions)
            pos += inner.width
    return WordAnalysis(tuple(emissions), max(pos, 1), False)


class AnalyzedToken(NamedTuple):
    term: str
    pos: int
    start: int
    end: int
    joined: bool  # "ceasefire" made from "cease-fire": an alternative, not a word of its own


def analyze(text: str, start_pos: int = 0) -> Iterator[AnalyzedToken]:
    """Every indexed term of ``text`` with its position and character span."""
    pos = start_pos
    for match in WORD_RE.finditer(text):
        analysis = analyze_word(match.group())
        base = match.start()
        for e in analysis.emissions:
            yield AnalyzedToken(e.term, pos + e.offset, base + e.start, base + e.end, e.joined)
        pos += analysis.width


def term_positions(text: str) -> dict[str, list[int]]:
    """term -> positions, the indexing hot path (no Token objects, no char spans)."""
    positions: defaultdict[str, list[int]] = defaultdict(list)
    pos = 0
    for word in WORD_RE.findall(text):
        analysis = analyze_word(word)
        for e in analysis.emissions:
            positions[e.term].append(pos + e.offset)
        pos += analysis.width
    return positions


class NewsAnalyzer(Analyzer):
    """The Whoosh face of :func:`analyze` (pickled into the index schema)."""

    version = ANALYZER_VERSION

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NewsAnalyzer) and getattr(other, "version", None) == self.version

    def __hash__(self) -> int:
        return hash((NewsAnalyzer, self.version))

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for term, pos, start, end, _ in analyze(value, start_pos):
            token.text = term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


class NewsPositions(Positions):
    """Positions stored as little-endian uint32 arrays, fed straight from the analyzer.

    Whoosh's generic path builds a Token object per word and pickles position
    deltas per posting; this asks the analyzer for term -> positions directly
    (most of the Python work of indexing) and stores plain arrays, which
    search decodes a whole posting block at a time with numpy for exact
    phrase matching.
    """

    def word_values(self, value, analyzer, **kwargs):
        if not isinstance(analyzer, NewsAnalyzer):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost = self.field_boost
        encode = self.encode
        for term, poslist in term_positions(value).items():
            yield term, len(poslist), len(poslist) * boost, encode(poslist)

    def encode(self, poslist):
        packed = array("I", poslist)
        if _BIG_ENDIAN:
            packed.byteswap()
        return packed.tobytes()

    def decode_positions(self, valuestring):
        packed = array("I")
        packed.frombytes(valuestring)
        if _BIG_ENDIAN:
            packed.byteswap()
        return packed.tolist()

    def decode_frequency(self, valuestring):
        return len(valuestring) // 4

    def decode_weight(self, valuestring):
        return self.decode_frequency(valuestring) * self.field_boost


_BIG_ENDIAN = sys.byteorder == "big"
assert array("I").itemsize == 4, "positions are stored as 32-bit integers"


NEWS_ANALYZER = NewsAnalyzer()


def query_terms(text: str) -> list[AnalyzedToken]:
    """Analyse query text exactly as documents were, positions included (for phrases)."""
    return list(analyze(text))

