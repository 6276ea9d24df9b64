"""NLTK's English Punkt, with its fixed regular expressions compiled by the standard ``re``.

NLTK 3.9+ routes every regular expression through ``nltk.redos`` (the third-party
``regex`` engine plus a wall-clock timeout), a defence against *caller-supplied*
patterns. Punkt's own patterns are fixed and linear, and on snippets it made
sentence detection ~3x slower, most of a results page's time. Punkt's
documented extension points (its ``lang_vars`` and ``token_cls``) take the
same patterns compiled with ``re``; the decisions, the model and the code are
NLTK's.

This module reaches into Punkt's class attributes, so it checks itself: the
tokenizer must split a set of awkward sentences exactly as stock Punkt does,
or stock Punkt is used.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .nltk_modules import punkt as nltk_punkt

_CHECK = ("Mr. Smith went to Washington, D.C. on Jan. 3. He met the U.S. envoy at 9 a.m. \"It was "
          "fine,\" he said... Then he left! Was it 5.5 p.m.? No. The A.B.C. Corp. (est. 1901) agreed. "
          "Dr. Jones, Ph.D., arrived at 10 o'clock. “Quoted.” Next sentence here.\n\nNew paragraph. "
          "The end")


@lru_cache(maxsize=1)
def english_punkt():
    """A Punkt sentence tokenizer for English (NLTK's shipped punkt_tab model).

    The model is read once, with plain file reads (NLTK's own loader reads its 41,000 lines
    through a seekable-stream wrapper, ~40 ms slower, and the stock-and-fast pair read it twice);
    tests/test_languages.py checks the parameters equal NLTK's loader's.
    """
    PunktSentenceTokenizer = nltk_punkt().PunktSentenceTokenizer

    params = punkt_parameters("english")
    stock = PunktSentenceTokenizer(params)
    try:
        fast = PunktSentenceTokenizer(params, lang_vars=_stdlib_lang_vars(), token_cls=_stdlib_token())
        if list(fast.span_tokenize(_CHECK)) == list(stock.span_tokenize(_CHECK)):
            return fast
    except Exception:  # noqa: BLE001 - an NLTK whose Punkt changed shape: use it as it is
        pass
    return stock


def punkt_parameters(lang: str):
    """NLTK's ``punkt_tab`` model for ``lang`` from the data shipped in the package, as
    ``nltk.tokenize.punkt.load_punkt_params`` builds it (tab-separated text files)."""
    from collections import defaultdict

    from .languages import NLTK_DATA

    folder = NLTK_DATA / "tokenizers" / "punkt_tab" / lang

    def lines(name: str) -> list[str]:
        with open(folder / name, encoding="utf-8") as f:
            return f.read().splitlines()

    params = nltk_punkt().PunktParameters()
    params.collocations = {tuple(line.split("\t")) for line in lines("collocations.tab")}
    params.sent_starters = set(lines("sent_starters.txt"))
    params.abbrev_types = set(lines("abbrev_types.txt"))
    params.ortho_context = defaultdict(int, {a: int(b) for a, b in
                                             (line.split("\t") for line in lines("ortho_context.tab"))})
    return params


def _stdlib_lang_vars():
    PunktLanguageVars = nltk_punkt().PunktLanguageVars

    class StdlibLanguageVars(PunktLanguageVars):
        re_boundary_realignment = re.compile(PunktLanguageVars.re_boundary_realignment.pattern, re.MULTILINE)

        def _word_tokenizer_re(self):
            try:
                return self._re_word_tokenizer
            except AttributeError:
                self._re_word_tokenizer = re.compile(
                    self._word_tokenize_fmt % {"NonWord": self._re_non_word_chars,
                                               "MultiChar": self._re_multi_char_punct,
                                               "WordStart": self._re_word_start},
                    re.UNICODE | re.VERBOSE)
                return self._re_word_tokenizer

        def period_context_re(self):
            try:
                return self._re_period_context
            except AttributeError:
                self._re_period_context = re.compile(
                    self._period_context_fmt % {"NonWord": self._re_non_word_chars,
                                                "SentEndChars": self._re_sent_end_chars},
                    re.UNICODE | re.VERBOSE)
                return self._re_period_context

    return StdlibLanguageVars()


def _stdlib_token():
    PunktToken = nltk_punkt().PunktToken

    non_punct = re.compile(r"[^\W\d]", re.UNICODE)

    class StdlibToken(PunktToken):
        __slots__ = ()
        _RE_ELLIPSIS = re.compile(r"\.\.+$")
        _RE_NUMERIC = re.compile(r"^-?[\.,]?\d[\d,\.-]*\.?$")
        _RE_INITIAL = re.compile(r"[^\W\d]\.$", re.UNICODE)
        _RE_ALPHA = re.compile(r"[^\W\d]+$", re.UNICODE)

        @property
        def is_non_punct(self):
            return non_punct.search(self.type)

    return StdlibToken
