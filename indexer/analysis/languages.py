"""The languages newsindex analyses, and how to name them.

An article's language is an ISO 639-1 code (``de``, ``fr``, ``zh``). Every code
in :data:`LANGUAGES` can be indexed; they differ in what NLTK offers for them:

* a Snowball stemmer and a stopword list (:data:`STEMMED_LANGUAGES`: Arabic,
  Danish, Dutch, English, Finnish, French, German, Hungarian, Italian,
  Norwegian, Portuguese, Romanian, Russian, Spanish, Swedish);
* a stopword list only (Azerbaijani, Basque, Bengali, Catalan, Greek, Hebrew,
  Indonesian, Kazakh, Nepali, Slovene, Tajik, Turkish);
* neither: folded and tokenised like the others, words kept whole.

Chinese, Japanese and Korean text is indexed as overlapping character bigrams
whatever the article's language (see :mod:`.words`); NLTK's Chinese stopword
list is of words, which bigrams never produce, so it is not used.

The table is data, not behaviour: analysis rules live in :mod:`.words`.
Stopword lists are read from the copy of NLTK's corpus shipped in
``indexer/nltk_data`` (nothing is ever downloaded).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

NLTK_DATA = Path(__file__).resolve().parent.parent / "nltk_data"
_STOPWORD_DIR = NLTK_DATA / "corpora" / "stopwords"


@dataclass(frozen=True)
class Language:
    """One supported language: its code, English name and what NLTK has for it."""

    code: str  # ISO 639-1
    name: str  # English name, also NLTK's file/stemmer name where it has one
    stemmer: bool = False  # an NLTK Snowball stemmer exists
    stopwords: bool = False  # an NLTK stopword list is shipped and used
    cjk: bool = False  # written without spaces: bigrams (Chinese, Japanese, Korean)

    @property
    def nltk_name(self) -> str:
        return self.name.lower()


def _table() -> dict[str, Language]:
    snowball = ("ar Arabic, da Danish, nl Dutch, en English, fi Finnish, fr French, de German, "
                "hu Hungarian, it Italian, no Norwegian, pt Portuguese, ro Romanian, ru Russian, "
                "es Spanish, sv Swedish")
    stopwords_only = ("az Azerbaijani, eu Basque, bn Bengali, ca Catalan, el Greek, he Hebrew, "
                      "id Indonesian, kk Kazakh, ne Nepali, sl Slovene, tg Tajik, tr Turkish")
    cjk = "zh Chinese, ja Japanese, ko Korean"
    # Every other language a detector can name, or an article can state, that news is written
    # in: analysed without stemming or stopwords.
    plain = ("af Afrikaans, am Amharic, as Assamese, be Belarusian, bg Bulgarian, br Breton, "
             "bs Bosnian, cs Czech, cy Welsh, eo Esperanto, et Estonian, fa Persian, fo Faroese, "
             "fy Western Frisian, ga Irish, gd Scottish Gaelic, gl Galician, gu Gujarati, ha Hausa, "
             "hi Hindi, hr Croatian, ht Haitian Creole, hy Armenian, ig Igbo, is Icelandic, "
             "jv Javanese, ka Georgian, km Khmer, kn Kannada, ku Kurdish, ky Kyrgyz, la Latin, "
             "lb Luxembourgish, lo Lao, lt Lithuanian, lv Latvian, mg Malagasy, mi Maori, "
             "mk Macedonian, ml Malayalam, mn Mongolian, mr Marathi, ms Malay, mt Maltese, "
             "my Burmese, oc Occitan, or Odia, pa Punjabi, pl Polish, ps Pashto, qu Quechua, "
             "rw Kinyarwanda, "
             "se Northern Sami, si Sinhala, sk Slovak, so Somali, sq Albanian, sr Serbian, "
             "st Southern Sotho, sw Swahili, ta Tamil, te Telugu, th Thai, tk Turkmen, tl Tagalog, "
             "tn Tswana, tt Tatar, ug Uyghur, uk Ukrainian, ur Urdu, uz Uzbek, vi Vietnamese, "
             "xh Xhosa, yi Yiddish, yo Yoruba, zu Zulu")
    table: dict[str, Language] = {}
    for group, kind in ((snowball, "stemmed"), (stopwords_only, "stopwords"), (cjk, "cjk"),
                        (plain, "plain")):
        for entry in group.split(", "):
            code, name = entry.split(" ", 1)
            table[code] = Language(code, name, stemmer=kind == "stemmed",
                                   stopwords=kind in ("stemmed", "stopwords"), cjk=kind == "cjk")
    return dict(sorted(table.items()))


#: code -> Language, every language an article may be indexed in.
LANGUAGES: dict[str, Language] = _table()
#: Codes with an NLTK Snowball stemmer.
STEMMED_LANGUAGES: frozenset[str] = frozenset(c for c, lang in LANGUAGES.items() if lang.stemmer)
#: Codes with an NLTK stopword list (shipped in indexer/nltk_data).
STOPWORD_LANGUAGES: frozenset[str] = frozenset(c for c, lang in LANGUAGES.items() if lang.stopwords)

# Old, macro-language and three-letter codes seen in real metadata.
_ALIASES = {
    "nb": "no", "nn": "no", "nor": "no", "nob": "no", "nno": "no",
    "iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "sh": "sr", "tw": "zh",
    "zho": "zh", "chi": "zh", "cmn": "zh", "yue": "zh", "wuu": "zh",
    "deu": "de", "ger": "de", "gsw": "de", "eng": "en", "fra": "fr", "fre": "fr",
    "spa": "es", "ita": "it", "por": "pt", "nld": "nl", "dut": "nl", "dan": "da", "swe": "sv",
    "fin": "fi", "hun": "hu", "ron": "ro", "rum": "ro", "rus": "ru", "ara": "ar", "arb": "ar",
    "arz": "ar", "ary": "ar", "tur": "tr", "ell": "el", "gre": "el", "heb": "he", "ind": "id",
    "cat": "ca", "eus": "eu", "baq": "eu", "pol": "pl", "ces": "cs", "cze": "cs", "ukr": "uk",
    "jpn": "ja", "kor": "ko", "hin": "hi", "ben": "bn", "vie": "vi", "tha": "th", "fas": "fa",
    "per": "fa", "slv": "sl", "slk": "sk", "slo": "sk", "hrv": "hr", "srp": "sr", "bul": "bg",
    "ltz": "lb", "kaz": "kk", "aze": "az", "tgk": "tg", "nep": "ne", "msa": "ms", "may": "ms",
}
_NAMES = {lang.name.lower(): code for code, lang in LANGUAGES.items()} | {
    "norwegian bokmal": "no", "norwegian bokmål": "no", "norwegian nynorsk": "no",
    "bokmal": "no", "bokmål": "no", "nynorsk": "no", "slovenian": "sl", "farsi": "fa",
    "mandarin": "zh", "cantonese": "zh", "deutsch": "de", "francais": "fr", "français": "fr",
    "espanol": "es", "español": "es", "italiano": "it", "portugues": "pt", "português": "pt",
    "nederlands": "nl", "svenska": "sv", "dansk": "da", "norsk": "no", "suomi": "fi",
    "magyar": "hu", "romana": "ro", "română": "ro", "русский": "ru", "türkçe": "tr",
    "polski": "pl", "čeština": "cs", "ελληνικά": "el", "українська": "uk", "العربية": "ar",
    "中文": "zh", "日本語": "ja", "한국어": "ko",
}
# A language tag: primary subtag, then region/script/variant subtags (de-CH, pt_BR, zh-Hant-TW).
_TAG = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$")


def normalize_language(value: object) -> str | None:
    """The :data:`LANGUAGES` code for a stated language, or None when it names none.

    Accepts what metadata carries: BCP 47 / POSIX tags (``de-CH``, ``pt_BR``,
    ``zh-Hant-TW``, ``de_DE.UTF-8``), old and three-letter codes (``iw``,
    ``deu``, ``nb``) and English or native names (``German``, ``Deutsch``).
    Region and script are dropped: analysis is per language.
    """
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if not text or len(text) > 40:
        return None
    text = text.split(".", 1)[0].split("@", 1)[0]  # POSIX locale: de_DE.UTF-8, sr_RS@latin
    if text in _NAMES:
        return _NAMES[text]
    match = _TAG.match(text)
    if match is None:
        return None
    primary = match.group(1)
    code = _ALIASES.get(primary, primary)
    return code if code in LANGUAGES else None


@lru_cache(maxsize=None)
def stopwords(lang: str) -> frozenset[str]:
    """NLTK's stopword list for ``lang`` (empty where it has none), apostrophes also removed.

    Apostrophes are removed from words before they are looked up ("don't" is
    read as "dont", "d'un" as "dun"), so both spellings are in the set.
    """
    language = LANGUAGES[lang]
    if not language.stopwords:
        return frozenset()
    words = (_STOPWORD_DIR / language.nltk_name).read_text("utf-8").split()
    return frozenset(words) | frozenset(w.replace("'", "") for w in words)
