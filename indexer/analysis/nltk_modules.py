"""NLTK's Snowball and Punkt modules, imported without running ``nltk/__init__.py``.

Why: any ``import nltk.<submodule>`` first runs NLTK's package ``__init__``, which imports
most of the toolkit (parsers, chunkers, translation metrics, corpus readers) and compiles
about 250 regular expressions: ~120 ms, a third of a cold ``newsindex search`` on the sample.
The two modules the product uses, ``nltk.stem.snowball`` and ``nltk.tokenize.punkt``, need
only a handful of NLTK's leaf modules (``redos``, ``termsec``, ``pathsec``, ``internals``,
``probability``, ``tabdata``, ``picklesec`` and the stemmer and tokenizer APIs).

How: the packages ``nltk``, ``nltk.stem``, ``nltk.tokenize`` and ``nltk.corpus`` are put in
``sys.modules`` as bare packages over NLTK's own folders, the two modules are imported, and
then every ``nltk`` entry is taken out of ``sys.modules`` again. The classes keep working
(their functions hold their own module globals), and a later ``import nltk`` anywhere in the
process runs NLTK's real ``__init__`` and gets the complete package, never the bare one.

This reaches into how NLTK lays out its modules, so it checks itself and falls back to the
ordinary import whenever anything is unexpected: NLTK already imported (nothing to save),
another thread running (it could import ``nltk`` while the bare package is visible), an
exception while loading, or a stemmer that does not stem a fixed set of words in six
languages as NLTK's always has (tests/test_languages.py compares the two on whole articles).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import types
from functools import lru_cache

#: Words and the stems NLTK's Snowball gives them (examples from NLTK's documentation and the
#: Snowball site's vocabularies): a loaded stemmer must reproduce them, or the ordinary import
#: is used.
STEM_CHECK = {
    "english": {"running": "run", "generously": "generous", "consignment": "consign",
                "knightly": "knight", "dying": "die", "news": "news"},
    "german": {"häuser": "haus", "aufeinanderfolgenden": "aufeinanderfolg", "kategorie": "kategori"},
    "french": {"continuellement": "continuel", "abandonnée": "abandon"},
    "spanish": {"torrenciales": "torrencial", "chiquitas": "chiquit"},
    "dutch": {"lichamelijke": "licham", "opgaven": "opgav"},
    "russian": {"авантюристов": "авантюрист", "благодарности": "благодарн"},
}
_PACKAGES = ("nltk", "nltk.stem", "nltk.tokenize", "nltk.corpus")
_lock = threading.Lock()


class _NotLoadedCorpus:
    """Stands in for ``nltk.corpus.stopwords`` while Snowball is imported: the product never asks
    Snowball for NLTK's stopwords (``ignore_stopwords``); it reads its own shipped lists."""

    def __getattr__(self, name: str):
        raise LookupError("NLTK's stopwords corpus is not loaded here: newsindex reads its own "
                          "stopword lists (indexer.analysis.stopwords)")


@lru_cache(maxsize=1)
def snowball() -> types.ModuleType:
    """``nltk.stem.snowball``: ``SnowballStemmer(language).stem``."""
    return _modules()[0]


@lru_cache(maxsize=1)
def punkt() -> types.ModuleType:
    """``nltk.tokenize.punkt``: the sentence tokenizer and its parameters."""
    return _modules()[1]


@lru_cache(maxsize=1)
def _modules() -> tuple[types.ModuleType, types.ModuleType]:
    with _lock:
        light = _light_import()
        if light is not None and _stems_as_documented(light[0]):
            return light
        return (importlib.import_module("nltk.stem.snowball"),
                importlib.import_module("nltk.tokenize.punkt"))


def _light_import() -> tuple[types.ModuleType, types.ModuleType] | None:
    """Both modules without NLTK's package ``__init__`` files, or None where that is not safe."""
    if threading.active_count() != 1:
        return None  # another thread could import nltk while the bare packages are visible
    if any(name == "nltk" or name.startswith("nltk.") for name in sys.modules):
        return None  # NLTK (or part of it) is imported already: the ordinary import costs nothing
    spec = importlib.util.find_spec("nltk")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = list(spec.submodule_search_locations)[0]
    try:
        for name in _PACKAGES:
            package = types.ModuleType(name)
            package.__path__ = [os.path.join(root, *name.split(".")[1:])]
            package.__package__ = name
            sys.modules[name] = package
        sys.modules["nltk.corpus"].stopwords = _NotLoadedCorpus()
        return (importlib.import_module("nltk.stem.snowball"),
                importlib.import_module("nltk.tokenize.punkt"))
    except Exception:  # noqa: BLE001 - NLTK laid out differently: the ordinary import will do
        return None
    finally:
        for name in [n for n in sys.modules if n == "nltk" or n.startswith("nltk.")]:
            del sys.modules[name]


def _stems_as_documented(module: types.ModuleType) -> bool:
    try:
        return all(module.SnowballStemmer(language).stem(word) == stemmed
                   for language, words in STEM_CHECK.items() for word, stemmed in words.items())
    except Exception:  # noqa: BLE001 - a different Snowball: use the ordinary import
        return False
