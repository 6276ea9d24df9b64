"""Which language an article is written in, when its data does not say.

Readers take the language from the article's own metadata when it has one
(JSON ``language``, front matter, ``<html lang>``...); for the rest,
:func:`detect_language` guesses from the title and the start of the body.
Both detectors ship their models inside their wheels: nothing is ever
downloaded.

* CLD2 (``pycld2``, Chromium's Compact Language Detector 2) answers first: the
  fastest candidate measured by far (about 0.02 ms an article) and as accurate
  as any on news, and it says when it is unsure ("not reliable").
* Only then py3langid (langid.py's naive-Bayes byte n-grams) gives a second
  opinion, kept when its normalised probability is at least MIN_CONFIDENCE.
  It is right on the short or mixed texts where CLD2 hesitates (German
  articles quoting English titles), and slower (0.2-0.5 ms), so it runs on
  the few per cent CLD2 leaves.
* Otherwise, and for text too short to tell, the configured default
  (``NEWSINDEX_LANGUAGE``, default ``en``): a wrong language costs stemming,
  so a weak guess is worse than the default. Reuters' tables of figures
  ("Shr 1.15 dlrs vs 1.04 dlrs") are the typical case.

How the candidates were chosen (py3langid, lingua, langdetect, CLD2, CLD3,
fastText) is in ``bench/README.md``; ``bench/language_detection.py`` measures them.
"""
from __future__ import annotations

import re
import threading

from .analysis.languages import LANGUAGES, normalize_language

#: Characters of the body the detector reads after the title: a news article's language is
#: settled by its opening; reading more only costs time (bench/README.md: 300 is as accurate as
#: 500 on every test set and CLD2 is 25 % faster on it).
SAMPLE_CHARS = 300
#: Fewer letters than this and the text is not worth guessing at ("Fotos", "AP", a date).
#: A Chinese, Japanese or Korean character counts as three: it is a syllable or a word.
MIN_LETTERS = 16
#: py3langid guesses with a lower normalised probability fall back to the default.
MIN_CONFIDENCE = 0.5
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


_IDENTIFIER: list = []  # py3langid's identifier, once loaded
_LOADING = threading.Lock()


def _py3langid():
    """py3langid's model, limited to the languages newsindex can index (loaded once, ~0.4 s)."""
    if not _IDENTIFIER:
        with _LOADING:  # one load, whichever thread asks first
            if not _IDENTIFIER:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                identifier.set_languages([label for label in identifier.labels
                                          if normalize_language(label) in LANGUAGES])
                _IDENTIFIER.append(identifier)
    return _IDENTIFIER[0]


def _cld2(sample: str) -> str | None:
    """CLD2's language when it calls its answer reliable, else None."""
    import pycld2

    try:
        reliable, _, details = pycld2.detect(sample)
    except (pycld2.error, ValueError):  # text CLD2 cannot read (invalid UTF-8): ask py3langid
        return None
    return normalize_language(details[0][1]) if reliable else None


def load_models() -> None:
    """Load both models now (0.4 s), e.g. before forking index workers, not on the first article."""
    import pycld2  # noqa: F401

    _py3langid()


def load_models_in_background() -> threading.Thread:
    """Start :func:`load_models` in a thread (decompressing the model lets the caller go on reading
    articles meanwhile); join it before forking."""
    thread = threading.Thread(target=load_models, name="newsindex-language-models", daemon=True)
    thread.start()
    return thread


def _letters(sample: str, enough: int = MIN_LETTERS) -> int:
    """Letters of ``sample`` (a CJK character counts three), counted until ``enough``: the
    opening of an article settles it, and this runs on every article indexed."""
    if sum(map(str.isalpha, sample[:3 * enough])) >= enough:  # the usual case, counted in C
        return enough
    letters = 0
    ascii_only = sample.isascii()
    for c in sample:
        if c.isalpha():
            letters += 1
        if not ascii_only and _CJK.match(c):
            letters += 2
        if letters >= enough:
            break
    return letters


def detect_language(title: str, body: str, default: str = "en") -> str:
    """The LANGUAGES code ``title`` + ``body`` are written in, or ``default`` when unsure.

    Fast enough to run on every article at index time (bench/README.md has
    articles/s); deterministic, so a rerun gives the same answer.
    """
    code = quick_language(title, body, default)
    return code if code is not None else _second_opinion(_sample(title, body), default)


def quick_language(title: str, body: str, default: str = "en") -> str | None:
    """:func:`detect_language`'s answer when it needs no second opinion (too little text, or
    CLD2 is sure: about 99 % of news articles), else None; never loads py3langid's model."""
    sample = _sample(title, body)
    if _letters(sample) < MIN_LETTERS:
        return default
    return _cld2(sample)


def second_opinion_ready() -> bool:
    """Is py3langid's model loaded (so :func:`detect_language` never waits for it)?"""
    return bool(_IDENTIFIER)


def _sample(title: str, body: str) -> str:
    return f"{title}\n{body[:SAMPLE_CHARS]}" if title else body[:SAMPLE_CHARS]


def _second_opinion(sample: str, default: str) -> str:
    label, confidence = _py3langid().classify(sample)
    code = normalize_language(label)
    if code is None or confidence < MIN_CONFIDENCE:
        return default
    return code


def default_language(value: str | None = None) -> str:
    """The fallback language (``value``, else ``NEWSINDEX_LANGUAGE``), checked against LANGUAGES."""
    if value is None:
        from .config import Settings

        value = Settings.load().language
    code = normalize_language(value)
    if code is None:
        raise ValueError(f"NEWSINDEX_LANGUAGE={value!r} is not a supported language code "
                         f"(ISO 639-1, e.g. en, de, fr)")
    return code
