"""Text analysis for news: one tokenizer + filter chain per language, shared by indexing and querying.

Why not Whoosh's StemmingAnalyzer: news text needs possessives stripped
("Zelenskyy's" -> zelenskyy), hyphenated words findable three ways
("cease-fire", "cease fire", "ceasefire"), dotted abbreviations kept whole and
never dropped as stopwords ("U.S." -> us), thousands separators removed
("1,750" -> 1750), accents folded and phrase positions kept exact after
stopword removal; and since ANALYZER_VERSION 3, the rules of the article's
language (NLTK Snowball stemmer and stopwords, French elisions, German
numbers) and Chinese/Japanese/Korean as overlapping character bigrams.

The pieces, each small:

* :mod:`.languages`: the supported languages (:data:`LANGUAGES`), their codes
  and NLTK stopword lists;
* :mod:`.words`: one surface word -> indexed terms (:func:`analyze_word`), the
  per-language rules and why stemming comes before folding;
* :mod:`.sentences`: sentence boundaries per language (Punkt for English);
* :mod:`.punkt` and :mod:`.nltk_modules`: NLTK's Punkt and Snowball, loaded
  without the rest of NLTK and checked against it;
* this module: whole texts (:func:`analyze`, :func:`term_positions`,
  :func:`query_terms`) and the Whoosh face of the analyzer.

Every function takes ``lang`` (an ISO 639-1 code from LANGUAGES, default
``"en"``); English analysis is unchanged from ANALYZER_VERSION 2 except for
CJK runs. Each distinct surface word is analysed once per language and
cached, since news text repeats its vocabulary: the cache turns ~180k
tokens/s into millions.

Changing what any step produces changes what an index means: bump
``ANALYZER_VERSION``; indexes built by another version refuse to open and ask
for ``newsindex reindex --full``.
"""
from __future__ import annotations

import sys
from array import array
from collections import defaultdict
from typing import Iterable, Iterator, NamedTuple

from whoosh.analysis import Analyzer, Token
from whoosh.formats import Positions

from .languages import (
    LANGUAGES, NLTK_DATA, STEMMED_LANGUAGES, STOPWORD_LANGUAGES, Language, normalize_language,
    stopwords,
)
from .punkt import english_punkt
from .sentences import sentence_spans
from .words import (
    ACRONYMS_NOT_STOPWORDS, MAX_WORD_CHARS, STOPWORDS, WORD_RE, Emission, UnknownLanguage,
    Stemmer, WordAnalysis, analyze_word, fold, rules, stem, word_analyzer,
)

# 2: Latin runs inside CJK words are words; CJK runs over 64 chars indexed
# 3: languages (per-article Snowball stemmer, stopwords indexed and flagged outside English,
#    elisions, decimal commas); CJK runs as overlapping bigrams instead of single characters
ANALYZER_VERSION = 3

__all__ = [
    "ACRONYMS_NOT_STOPWORDS", "ANALYZER_VERSION", "AnalyzedToken", "Emission", "LANGUAGES",
    "Language", "MAX_WORD_CHARS", "NEWS_ANALYZER", "NLTK_DATA", "NewsAnalyzer", "NewsPositions",
    "STEMMED_LANGUAGES", "STOPWORDS", "STOPWORD_LANGUAGES", "Stemmer", "UnknownLanguage", "WORD_RE",
    "WordAnalysis", "analyze", "analyze_word", "fold", "load_models", "nltk_data_path",
    "normalize_language", "query_terms", "rules", "sentence_spans", "stem", "stopwords", "term_positions", "word_analyzer",
]


def load_models(languages: Iterable[str], sentences: bool = True) -> None:
    """Load now what analysing text in ``languages`` needs: their Snowball stemmers and, with
    ``sentences``, English Punkt (the one sentence model; other languages split by rules).

    Both are loaded on first use anyway. A server loads them while it warms up and a command
    before it starts its query, so a query's time is the query's own work.
    """
    for lang in languages:
        stemmer = rules(lang).stem
        if isinstance(stemmer, Stemmer):
            stemmer.load()
        if sentences and rules(lang).lang == "en":
            english_punkt()


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


class AnalyzedToken(NamedTuple):
    term: str
    pos: int
    start: int
    end: int
    joined: bool  # "ceasefire" made from "cease-fire": an alternative, not a word of its own
    stopword: bool = False  # on the language's stopword list, indexed anyway (never in English)


def analyze(text: str, start_pos: int = 0, lang: str = "en") -> Iterator[AnalyzedToken]:
    """Every indexed term of ``text`` in ``lang``, with its position and character span."""
    analyze_one = word_analyzer(lang)
    pos = start_pos
    for match in rules(lang).word_re.finditer(text):
        analysis = analyze_one(match.group())
        base = match.start()
        for e in analysis.emissions:
            yield AnalyzedToken(e.term, pos + e.offset, base + e.start, base + e.end, e.joined,
                                e.stopword)
        pos += analysis.width


def term_positions(text: str, lang: str = "en") -> dict[str, list[int]]:
    """term -> positions of ``text`` in ``lang``: the indexing hot path (no Token objects, no spans)."""
    analyze_one = word_analyzer(lang)
    positions: defaultdict[str, list[int]] = defaultdict(list)
    pos = 0
    for word in rules(lang).word_re.findall(text):
        analysis = analyze_one(word)
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
                 mode="", lang="en", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        lang = getattr(value, "lang", lang)  # a schema.LanguageText carries its article's language
        for term, pos, start, end, *_ in analyze(value, start_pos, lang):
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

    A value that is a :class:`~indexer.schema.LanguageText` is analysed in its
    ``lang``; any other in ``lang=`` (default English).

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
        lang = getattr(value, "lang", None) or kwargs.get("lang", "en")  # see schema.LanguageText
        for term, poslist in term_positions(value, lang).items():
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


def query_terms(text: str, lang: str = "en") -> list[AnalyzedToken]:
    """Analyse query text in ``lang`` exactly as documents were, positions included (for phrases).

    Outside English the language's stopwords come back flagged (``stopword``):
    they are in the index, so a phrase uses them; a bag-of-words query may drop
    them unless every word is one ("Was ist los?" vs "was").
    """
    return list(analyze(text, 0, lang))

