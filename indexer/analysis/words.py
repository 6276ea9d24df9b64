"""Per-language analysis of one surface word: tokenizer, folding, stopwords, stemming, CJK bigrams.

The pipeline is the Whoosh shape, small composable steps, the same for every
language; a language's :class:`Rules` only changes what a step does::

    WORD_RE (tokenize) -> elision / possessive / apostrophes -> hyphen parts
        -> stopwords (NLTK list) -> stem (NLTK Snowball) -> fold (accents, case)

English is exactly the analyzer of ANALYZER_VERSION 2 (fold, then drop
stopwords, then stem): the held benchmarks were measured with it.

Other languages stem *before* folding. Snowball stemmers are written for
the language's own alphabet: French and Spanish suffixes carry accents
("-ément", "-ación"), Finnish and Hungarian ones umlauts ("-ssä", "-ről"),
Russian ones "й"; fold first and those rules stop firing ("nationales" and
"nationalité" would no longer meet). German is safe either way (its stemmer
maps ß to ss and ä/ö/ü to a/o/u itself, so "Häuser" and "Haus" both give
"haus"), but one order for all is simpler to reason about. The stem is then
folded so that a query typed without accents ("uber", "Osterreich") still
meets the text.

Stopwords: English drops them at index time, as it always has (they leave a
position gap). Every other language *indexes* them, flagged
``stopword=True``: NLTK's German list holds "was", "will", "am", "an", and
the French one "on", which are also names and content ("Anne Will",
"Was ist los?" as a phrase); indexed, they stay findable and phrases stay
exact, while a bag-of-words query can still ignore the flagged ones.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, NamedTuple

from .languages import LANGUAGES, stopwords

# Order matters: dotted abbreviations, then numbers with separators, then
# words with inner hyphens/apostrophes. \w is Unicode-aware (accents, Cyrillic...).
WORD_RE = re.compile(
    r"(?:[^\W\d_]\.){2,}"  # U.S.  U.K.  e.g.
    r"|\d+(?:[.,]\d+)+"  # 1,750  5.93  2024.11
    r"|\w+(?:['\u2019\-\u2010\u2011]\w+)*"  # cease-fire  Zelenskyy's  O'Neill
)
_HYPHENS = re.compile(r"[\-\u2010\u2011]")
_APOSTROPHES = "'\u2019"
_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
_CJK = re.compile(f"[{_CJK_CLASS}]")
_CJK_RUNS = re.compile(f"[{_CJK_CLASS}]+|[^{_CJK_CLASS}]+")
MAX_WORD_CHARS = 64  # longer "words" (hashes, base64, garbage) are not searchable text
# Capitalised acronyms that would otherwise be dropped as stopwords ("us", "who").
ACRONYMS_NOT_STOPWORDS = frozenset({"US", "WHO"})


def _combining_marks() -> str:
    """A regex class body of every combining mark (Mn, Mc, Me) in the Basic Multilingual Plane."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(f"\\u{a:04x}-\\u{b:04x}" if b > a else f"\\u{a:04x}" for a, b in ranges)


@lru_cache(maxsize=1)
def word_re_with_marks() -> re.Pattern:
    """WORD_RE where a word may also hold combining marks after its first letter.

    Python's \\w excludes marks, so Devanagari and Bengali vowel signs or an
    Arabic shadda would split a word in two. English keeps WORD_RE untouched.
    """
    w = rf"[\w{_combining_marks()}]"
    return re.compile(
        r"(?:[^\W\d_]\.){2,}"
        r"|\d+(?:[.,]\d+)+"
        rf"|\w{w}*(?:['\u2019\-\u2010\u2011]{w}+)*"
    )


class Stemmer:
    """An NLTK Snowball stemmer behind an unbounded dict cache.

    NLTK's Snowball is imported on first use only (or by :meth:`load`), so that commands
    which analyse nothing (an unchanged reindex, stats) do not pay for importing it, and
    without the rest of NLTK (:mod:`.nltk_modules`).
    """

    def __init__(self, language: str = "english") -> None:
        self.language = language
        self._stem: Callable[[str], str] | None = None
        self._cache: dict[str, str] = {}

    def load(self) -> Callable[[str], str]:
        """Import NLTK's Snowball (without the rest of NLTK) and make the stemmer, if not yet done."""
        if self._stem is None:
            from .nltk_modules import snowball

            self._stem = snowball().SnowballStemmer(self.language).stem
        return self._stem

    def __call__(self, word: str) -> str:
        try:
            return self._cache[word]
        except KeyError:
            pass
        stemmed = (self._stem or self.load())(word) if len(word) > 2 else word
        if len(self._cache) < 2_000_000:
            self._cache[word] = stemmed
        return stemmed


#: The English stemmer (NLTK Snowball "english", i.e. Porter2).
stem = Stemmer()
#: NLTK's English stopword list ("don't" and "dont" alike).
STOPWORDS = stopwords("en")


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
    stopword: bool = False  # on the language's stopword list, indexed anyway (not English)


class WordAnalysis(NamedTuple):
    emissions: tuple[Emission, ...]
    width: int  # positions the word occupies (stopwords occupy one and emit nothing)
    hyphenated: bool


# Elided articles and pronouns written onto the next word (Elasticsearch's elision filters).
_ELISIONS = {
    "fr": frozenset("l m t qu n s j d c jusqu quoiqu lorsqu puisqu".split()),
    "it": frozenset("c l all dall dell nell sull coll pell gl agl dagl degl negl sugl un m t s v d"
                    .split()),
    "ca": frozenset("d l m n s t".split()),
}
# Languages writing 1.750,5 for 1,750.5 (the comma is the decimal mark).
_DECIMAL_COMMA = frozenset(
    "af az be bg bs ca cs da de el es et eu fi fo fr gl hr hu id is it kk ky lb lt lv mk nl no pl "
    "pt ro ru sk sl sq sr sv tg tk tr uk uz vi".split())
_THOUSANDS_DOTS = re.compile(r"\d{1,3}(?:\.\d{3})+")


@dataclass(frozen=True, eq=False)
class Rules:
    """What each step of the pipeline does for one language."""

    lang: str
    stopwords: frozenset[str] = frozenset()
    stem: Callable[[str], str] | None = None
    index_stopwords: bool = True  # emit them flagged; False (English): drop them
    stopwords_folded: bool = False  # the list is compared folded (English, Greek)
    elisions: frozenset[str] = frozenset()  # l' d' qu' ... removed from the word's start
    apostrophe_suffix: bool = False  # Turkish: Ankara'da -> Ankara
    decimal_comma: bool = False
    dotless_i: bool = False  # Turkish/Azerbaijani ı folds to i
    word_re: re.Pattern = field(default=WORD_RE)

    def term(self, word: str, keep_stopword: bool = False) -> tuple[str | None, bool]:
        """(indexed term, is a stopword); the term is None for a dropped (English) stopword."""
        if not self.index_stopwords:  # English: exactly ANALYZER_VERSION 2
            folded = fold(word)
            if not keep_stopword and folded in self.stopwords:
                return None, True
            if any(c.isdigit() for c in folded) or not folded.isalpha():
                return folded, False
            return (self.stem(folded) if self.stem else folded), False
        lowered = word.lower()
        if not lowered.isascii():
            lowered = unicodedata.normalize("NFC", lowered)
        folded = fold(lowered)
        is_stop = not keep_stopword and (folded if self.stopwords_folded else lowered) in self.stopwords
        if self.stem is not None and folded.isalpha() and not any(c.isdigit() for c in folded):
            folded = fold(self.stem(lowered))
        if self.dotless_i:
            folded = folded.replace("\u0131", "i")
        return folded, is_stop

    def number(self, word: str) -> str:
        """A number with separators as one term: 1,750 -> 1750; in German 1.750,5 -> 1750.5."""
        if not self.decimal_comma:
            return word.replace(",", "") if "," in word else word  # keep decimals (5.93)
        if "," in word:
            if "." in word and word.rfind(",") < word.rfind("."):
                return word.replace(",", "")  # 1,750.5 written the English way
            if word.count(",") > 1:
                return word.replace(",", "")
            return word.replace(".", "").replace(",", ".")  # 5,93 -> 5.93 ; 1.750,5 -> 1750.5
        if _THOUSANDS_DOTS.fullmatch(word):
            return word.replace(".", "")  # 1.750 -> 1750 ; dates (3.10.2015) stay whole
        return word


def _rules_for(lang: str) -> Rules:
    language = LANGUAGES[lang]
    if lang == "en" or language.cjk:
        # Chinese, Japanese and Korean news quote Latin words (names, brands) in English:
        # analysed as English, so they meet English articles' terms.
        return Rules("en", STOPWORDS, stem, index_stopwords=False, stopwords_folded=True)
    return Rules(
        lang, stopwords(lang),
        stem=Stemmer(language.nltk_name) if language.stemmer else None,
        stopwords_folded=lang == "el",  # NLTK's Greek list is partly written without accents
        elisions=_ELISIONS.get(lang, frozenset()),
        apostrophe_suffix=lang == "tr",
        decimal_comma=lang in _DECIMAL_COMMA,
        dotless_i=lang in ("tr", "az"),
        word_re=word_re_with_marks(),
    )


class UnknownLanguage(ValueError):
    """A language code that is not in LANGUAGES (a caller's mistake, not bad input)."""


def rules(lang: str) -> Rules:
    """The analysis rules of ``lang`` (a code of LANGUAGES)."""
    try:
        return _RULES[lang]
    except KeyError:
        pass
    if lang not in LANGUAGES:
        raise UnknownLanguage(f"unknown language code {lang!r}; expected one of LANGUAGES")
    made = _rules_for(lang)
    shared = _RULES.setdefault(made.lang, made)  # zh/ja/ko share English's rules and cache
    _RULES[lang] = shared
    return shared


_RULES: dict[str, Rules] = {}
_ANALYZERS: dict[str, Callable[[str], WordAnalysis]] = {}


def word_analyzer(lang: str = "en") -> Callable[[str], WordAnalysis]:
    """The cached one-argument analyzer of ``lang``: what hot loops call for every word.

    One ``lru_cache`` per language keyed by the word alone keeps the cache hit
    (the common case: news repeats its vocabulary) as cheap as before languages.
    """
    try:
        return _ANALYZERS[lang]
    except KeyError:
        pass
    lang_rules = rules(lang)
    if lang_rules.lang in _ANALYZERS:
        _ANALYZERS[lang] = _ANALYZERS[lang_rules.lang]
        return _ANALYZERS[lang]

    @lru_cache(maxsize=500_000)
    def analyze_one(word: str) -> WordAnalysis:
        return _analyze(word, lang_rules, analyze_one)

    _ANALYZERS[lang_rules.lang] = _ANALYZERS[lang] = analyze_one
    return analyze_one


def analyze_word(word: str, lang: str = "en") -> WordAnalysis:
    """Analyse one surface word as matched by WORD_RE, in ``lang`` (cached per word and language)."""
    return word_analyzer(lang)(word)


def _analyze(word: str, r: Rules, again: Callable[[str], WordAnalysis]) -> WordAnalysis:
    if _CJK.search(word):  # before the length limit: CJK text has no spaces to split it
        return _analyze_cjk(word, again)
    if len(word) > MAX_WORD_CHARS:
        return WordAnalysis((), 1, False)
    if word[0].isdigit() and ("," in word or "." in word):
        return WordAnalysis((Emission(r.number(word), 0, 0, len(word)),), 1, False)
    if word.endswith(".") and "." in word[:-1]:  # U.S. -> us, an abbreviation never a stopword
        letters = word.replace(".", "")
        return WordAnalysis((Emission(fold(letters), 0, 0, len(word)),), 1, False)
    if word in ACRONYMS_NOT_STOPWORDS:
        return WordAnalysis((Emission(word.lower(), 0, 0, len(word)),), 1, False)
    shift = 0  # characters cut from the word's start (an elided article)
    if r.elisions or r.apostrophe_suffix:
        word, shift = _cut_apostrophe(word, r)
    # possessives: Zelenskyy's -> Zelenskyy ; Jones' handled by WORD_RE not including the quote
    if len(word) > 2 and word[-2] in _APOSTROPHES and word[-1] in "sS":
        word = word[:-2]
    parts = _HYPHENS.split(word)
    if len(parts) == 1:
        term, is_stop = r.term(_strip_apostrophes(word))
        if not term:
            return WordAnalysis((), 1, False)
        return WordAnalysis((Emission(term, 0, shift, shift + len(word), False, is_stop),), 1, False)
    emissions = []
    start = shift
    for offset, part in enumerate(parts):
        term, is_stop = r.term(_strip_apostrophes(part)) if part else (None, False)
        if term:
            emissions.append(Emission(term, offset, start, start + len(part), False, is_stop))
        start += len(part) + 1
    joined, _ = r.term(_strip_apostrophes("".join(parts)), keep_stopword=True)
    if joined and len(parts) <= 4:  # cease-fire is also found as ceasefire
        emissions.append(Emission(joined, 0, shift, shift + len(word), True))
        emissions.sort(key=lambda e: e.offset)
    return WordAnalysis(tuple(emissions), len(parts), True)


def _cut_apostrophe(word: str, r: Rules) -> tuple[str, int]:
    """French l'homme -> homme (shift 2); Turkish Ankara'da -> Ankara. Others unchanged."""
    at = next((i for i, c in enumerate(word) if c in _APOSTROPHES), -1)
    if at <= 0 or at == len(word) - 1:
        return word, 0
    if r.apostrophe_suffix:
        return word[:at], 0
    if word[:at].lower() in r.elisions:
        return word[at + 1:], at + 1
    return word, 0


def _strip_apostrophes(word: str) -> str:
    if "'" in word or "\u2019" in word:
        return word.replace("'", "").replace("\u2019", "")
    return word


def _analyze_cjk(word: str, again: Callable[[str], WordAnalysis]) -> WordAnalysis:
    """Scripts without spaces: overlapping character bigrams, a lone character as itself.

    "東京都" is indexed as 東京 (position 0) and 京都 (1), as Elasticsearch's
    ``cjk`` analyzer does: a two-character word is found inside a longer run,
    a longer query run is a phrase of bigrams, and common single characters
    (的, の) no longer cost a posting each. Other runs inside the word
    ("用iPhone拍照", "NATO의", "2024年") are analysed as words of their own in
    the same language, so they are found the way they are everywhere else.
    """
    emissions: list[Emission] = []
    pos = 0
    for run in _CJK_RUNS.finditer(word):
        text, at = run.group(), run.start()
        if _CJK.match(text):
            if len(text) == 1:
                emissions.append(Emission(fold(text), pos, at, at + 1))
                pos += 1
            else:
                emissions.extend(Emission(fold(text[i:i + 2]), pos + i, at + i, at + i + 2)
                                 for i in range(len(text) - 1))
                pos += len(text) - 1
        else:
            inner = again(text)
            emissions.extend(e._replace(offset=pos + e.offset, start=at + e.start, end=at + e.end)
                             for e in inner.emissions)
            pos += inner.width
    return WordAnalysis(tuple(emissions), max(pos, 1), False)

