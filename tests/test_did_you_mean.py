"""Did-you-mean on a real index of English and German articles: which corrections are offered,
which are searched in place of a query that found nothing, and how they are spelled."""
from __future__ import annotations

import pytest

from indexer.ingest import reindex
from indexer.search import search
from indexer.store import LiveIndex
from indexer.suggest import correct_query, edit_distance, max_edits, prefix_distance
from tests.conftest import write_jsonl

ENGLISH = [
    "The election campaign ended on Sunday and the election results are expected on Monday.",
    "Unemployment rose to nine percent, and unemployment benefits were cut by the government.",
    "Exports of coffee fell while experts expected exports to recover; experts blamed the weather.",
    "The new stadium hosted the football final; the stadium was full.",
    "Elected officials said the electorate wanted lower unemployment.",
]
GERMAN = [
    "Die Arbeitslosigkeit ist gestiegen, womit niemand gerechnet hatte. Die Arbeitslosigkeit bleibt hoch.",
    "Der Bundespräsident sprach über die Arbeitslosigkeit, womit er die Regierung kritisierte.",
    "Im Stadion sahen die Fans Fußball zwischen zwei alten Rivalen; das Stadion war voll.",
    "Der Bundespräsident besuchte das Stadion, womit der Fußball-Abend begann, zwischen Reden.",
    "Zwischen den Parteien gibt es Streit über die Wahl und den Bundespräsidenten.",
]
COPIES = 5  # each article five times: a substituted word must be in BETTER (10) articles or more


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("dym")
    records = [{"id": f"en-{i}-{k}", "title": f"Report {i}", "body": body, "language": "en"}
               for k in range(COPIES) for i, body in enumerate(ENGLISH)]
    records += [{"id": f"de-{i}-{k}", "title": f"Bericht {i}", "body": body, "language": "de"}
                for k in range(COPIES) for i, body in enumerate(GERMAN)]
    summary = reindex(root / "index", [write_jsonl(root / "src" / "articles.jsonl", records)])
    assert summary.skipped == 0
    return LiveIndex(root / "index")


def test_a_correct_word_is_not_replaced_by_a_distant_one(index):
    # "elephant" stems to "eleph", two edits from the stem "elect", but five from "election"
    results = search(index, "elephant")
    assert results.corrected_from is None and results.total == 0
    assert results.suggestion is None


def test_never_a_function_word_of_another_language(index):
    # "womit" (in 6 German articles) is two edits from "wombat": too many for a 5-letter word
    results = search(index, "wombat")
    assert results.suggestion is None and results.corrected_from is None and results.total == 0


def test_never_a_stopword(index):
    # German "zwischen" is in NLTK's German stopwords: common, one edit away, and never offered
    assert search(index, "zwishen").suggestion is None


@pytest.mark.parametrize("typed, intended", [
    ("Arbeitslosigkiet", "Arbeitslosigkeit"),  # stems to itself; the word's stem is "arbeitslos"
    ("unemploymnet", "unemployment"),  # stems to itself; the word's stem is "unemploy"
    ("Bundespräsidnt", "Bundespräsident"),  # the umlaut as the articles write it
    ("Bundesprasidnt", "Bundespräsident"),  # typed without it: still as the articles write it
])
def test_a_typo_in_a_suffix_is_corrected_and_searched(index, typed, intended):
    results = search(index, typed)
    assert results.suggestion == intended and results.corrected_from == typed
    assert results.total == search(index, intended).total > 0


def test_two_words_as_close_and_common_are_only_offered(index):
    # "exprts" is one edit from "exports" and from "experts": a guess, not searched in its place
    results = search(index, "exprts")
    assert results.suggestion in ("exports", "experts") and results.corrected_from is None
    assert results.total == 0


def test_the_querys_language_decides_between_languages(index):
    # "stadiom" is one edit from English "stadium" and German "Stadion"
    assert search(index, "stadiom Fußball").suggestion == "stadion Fußball"  # in the case typed
    assert search(index, "stadiom football").suggestion == "stadium football"


def test_case_is_kept_as_typed(index):
    assert search(index, "UNEMPLOYMNET").suggestion == "UNEMPLOYMENT"
    assert search(index, "arbeitslosigkiet").suggestion == "arbeitslosigkeit"


def test_rules():
    assert edit_distance("arbeitslosigkiet", "arbeitslosigkeit") == 1  # an adjacent swap is one edit
    assert edit_distance("elephant", "election", 6) == 5
    assert prefix_distance("unemploy", "unemploymnet") == 0
    assert [max_edits(n) for n in (3, 4, 5, 6, 12)] == [0, 1, 1, 2, 2]


def test_correct_query_reports_confidence(index):
    corpus_gen = index.current()
    from indexer.search.api import _corpus

    corpus = _corpus(corpus_gen)
    found = correct_query(corpus, "unemploymnet rose")
    assert found is not None and found.text == "unemployment rose" and found.confident
    assert correct_query(corpus, "unemployment rose") is None
