"""Sentence boundaries per language, for snippets.

English uses NLTK's Punkt with the shipped ``punkt_tab/english`` model, as
snippets always have. It is the only Punkt model we have (NLTK's other
languages could not be obtained, and a model must never be downloaded), so
every other language gets :func:`rule_sentence_spans`, a splitter that knows
what trips naive ones in news text:

* abbreviations that do not end a sentence ("z.B.", "Dr.", "M. Dupont",
  "Sr.", "т.е."), initials ("J. K. Rowling") and short dotted forms
  ("u.a.", "f.eks.") — but a web address at a sentence's end is not one;
* ordinal numbers written with a dot in German, Scandinavian, Finnish,
  Hungarian, Turkish and Slavic languages ("am 3. Oktober", "der
  2. Weltkrieg"), while a year ends a sentence ("im Jahr 2015. Danach");
* quotes closing after the full stop: „…“, »…«, «…», « … » with French
  spacing, “…”;
* a sentence goes on after a full stop followed by a lower-case word;
* Chinese and Japanese full stops (。！？) end a sentence without a space after
  them; Arabic (؟ ۔), Hindi (। ॥) and Spanish openers (¿ ¡) are understood;
* a blank line always ends a sentence.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .punkt import english_punkt

#: Languages that write ordinal numbers with a dot: "3. Oktober", "2. maailmansota".
ORDINAL_DOT_LANGUAGES = frozenset("bs cs da de et fi fo hr hu is lb lv mk no pl sk sl sr tr".split())

_COMMON_ABBREVIATIONS = "mr mrs ms dr prof st jr sr mt ft nr no vol ca cf vs approx".split()
# Lower case, without the final dot; dotted forms are listed without their inner dots' last one.
_ABBREVIATIONS: dict[str, list[str]] = {
    "de": ("bzw ca chr dipl evtl ggf hr fr frl hrsg inkl jh jhd mio mrd nr prof str tel vgl zb "
           "bspw sog abs bd dt engl franz gegr geb gest ital jr kath lt max min mind ev sen "
           "st tsd urspr verh zit zzgl").split(),
    "fr": "m mm mme mlle mgr dr pr st ste av apr env cf vol chap éd p pp min max art n°".split(),
    "es": "sr sra srta dr dra d dña ud uds vd vds pág págs núm av avda gral lic ing arq col".split(),
    "it": "sig sigg dott dr prof avv ing on sen pag geom rag mons ss".split(),
    "pt": "sr sra srs dr dra prof av pág exmo exma dna eng".split(),
    "nl": "dhr mevr mr dr prof ir ing drs bijv bv blz nr ca vgl zgn resp jl".split(),
    "sv": "ca nr kl resp jfr bl".split(),
    "da": "ca nr kl hr fru jf bl pga mht".split(),
    "no": "ca nr kl hr jf bl pga".split(),
    "fi": "esim mm ns n noin nro ks".split(),
    "ru": "г гг т тт им ул д пр проф акад тыс млн млрд руб см др стр".split(),
    "pl": "ul al pl nr np tzw dr prof mgr inż ok tys mln mld zł".split(),
    "cs": "ul nám tzv např atd mj př dr prof ing mgr tis mil".split(),
    "tr": "dr prof doç av yrd vb vs".split(),
    "ro": "dl dna dr prof str nr".split(),
    "hu": "dr ifj id kb pl stb u ún".split(),
}
_CJK_TERMINATORS = "。！？｡"
_TERMINATORS = ".!?…" + "؟۔।॥" + _CJK_TERMINATORS + "！？"
_CLOSERS = "\"'»«”“’‘)]」』】〉》"
_OPENERS = "\"'«»„“‚‘([¿¡「『【〈《"
_CANDIDATE = re.compile(
    rf"[{re.escape(_TERMINATORS)}]+"
    rf"(?:[{re.escape(_CLOSERS)}]|[\u00a0\u202f ][»])*"  # French puts a (thin) space before »
)
_TERMINATOR_RUN = re.compile(rf"[{re.escape(_TERMINATORS)}]+")
_NEXT_VISIBLE = re.compile(rf"[\s{re.escape(_OPENERS)}]*(\S)")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_LAST_TOKEN = re.compile(r"(\S+)$")
_SHORT_DOTTED = re.compile(r"(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}")  # z.B  u.a  f.eks  U.S


def sentence_spans(text: str, lang: str = "en") -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, whitespace between sentences left out.

    English: NLTK Punkt, exactly as before languages. Other languages:
    :func:`rule_sentence_spans`.
    """
    if lang == "en":
        return list(english_punkt().span_tokenize(text))
    return rule_sentence_spans(text, lang)


@lru_cache(maxsize=None)
def _abbreviations(lang: str) -> frozenset[str]:
    return frozenset(_COMMON_ABBREVIATIONS) | frozenset(_ABBREVIATIONS.get(lang, ()))


def rule_sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """Sentence spans from punctuation rules (see the module docstring)."""
    ends = sorted({m.end() for m in _CANDIDATE.finditer(text) if _ends_sentence(text, m, lang)}
                  | {m.start() for m in _PARAGRAPH.finditer(text)})
    spans: list[tuple[int, int]] = []
    start = 0
    for end in ends + [len(text)]:
        s, e = start, end
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
        start = end
    return spans


def _ends_sentence(text: str, match: re.Match, lang: str) -> bool:
    """Whether the punctuation at ``match`` ends a sentence."""
    punct = _TERMINATOR_RUN.match(match.group()).group()
    following = match.end()
    if any(c in _CJK_TERMINATORS or c in "！？" for c in punct):
        return True  # no space after a CJK full stop
    if following < len(text) and not text[following].isspace():
        return False  # 5.93, www.example.com, "Hilfe!", rief er
    nxt = _NEXT_VISIBLE.match(text, following)
    if nxt is None:
        return True  # the end of the text
    if nxt.group(1).islower():
        return False  # the sentence goes on: "ca. fünf", "Nr. 5 der", "Hilfe! rief er"
    if punct != ".":
        return True  # ! ? ؟ । ... before a capital
    before = _LAST_TOKEN.search(text, 0, match.start())
    if before is None:
        return True
    token = before.group(1).lstrip(_OPENERS)
    if not token:
        return True
    if token.isdigit():
        # "am 3. Oktober", "der 2. Weltkrieg"; years (2015.) end sentences
        return not (lang in ORDINAL_DOT_LANGUAGES and len(token) <= 2)
    if len(token) == 1 and token.isalpha():
        return False  # an initial: J. K. Rowling
    if token.lower() in _abbreviations(lang) or _SHORT_DOTTED.fullmatch(token):
        return False
    return True


__all__ = ["ORDINAL_DOT_LANGUAGES", "rule_sentence_spans", "sentence_spans"]
