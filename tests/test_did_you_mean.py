"""Did-you-mean on a real index of English and German articles: which corrections are offered,
which are searched in place of a query that found nothing, and how they are spelled."""
from __future__ import annotations

import html
import re

import pytest

from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.search import search
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


# ---------------------------------------------------------------- when a correction is searched instead
# A mostly English archive (250 articles) with a German minority (12): what may replace a query that
# found nothing, and what is only offered.

MAIN = [
    "The harbour reopened after the storm, and shipping resumed on Monday.",
    "A storm closed the harbour again; fishermen stayed at home.",
    "Becuase of the strike, trains were cancelled across the county.",
    "Police arrested two men after a robbery at the station.",
    "Britain and its partners agreed on new rules for fishing.",
]
MINORITY = [
    "Der Bahnhof wurde nach dem Sturm wieder geöffnet. Ich wehre mich dagegen.",
    "Am Bahnhof warteten viele Reisende auf den Zug.",
    "Der Zug aus Berlin erreichte den Bahnhof mit Verspätung.",
    "Vor dem Bahnhof protestierten Gewerkschafter.",
]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("dym-mixed")
    records = [{"id": f"en-{i}-{k}", "title": f"Report {i}", "body": body, "language": "en"}
               for k in range(50) for i, body in enumerate(MAIN)]
    records += [{"id": f"typo-{k}", "title": "Fishing", "body": "Britian and its partners met.", "language": "en"}
                for k in range(2)]
    records += [{"id": f"de-{i}-{k}", "title": f"Bericht {i}", "body": body, "language": "de"}
                for k in range(3) for i, body in enumerate(MINORITY)]
    summary = reindex(root / "index", [write_jsonl(root / "src" / "articles.jsonl", records)])
    assert summary.skipped == 0
    return LiveIndex(root / "index")


def offered_only(results, suggestion):
    return results.suggestion == suggestion and results.corrected_from is None and results.total == 0


def test_a_confident_correction_is_searched_instead(mixed):
    results = search(mixed, "harbuor")
    assert results.suggestion == "harbour" and results.corrected_from == "harbuor"
    assert results.total == search(mixed, "harbour").total == 100


def test_correct_off_searches_what_was_typed(mixed):
    assert offered_only(search(mixed, "harbuor", correct=False), "harbour")
    assert search(mixed, "harbuor").corrected_from == "harbuor"  # not the cached answer of the other


def test_a_typed_stopword_is_never_corrected(mixed):
    # "because" (no article has it) is one swap from the archive's "Becuase" (50 articles);
    # "where" one swap from the German "wehre": both are real words, ignored as too common
    for typed in ("because", "where", "Where", '"because"'):
        results = search(mixed, typed)
        assert results.suggestion is None and results.corrected_from is None and results.total == 0


@pytest.mark.parametrize("typed, offered", [('"harbuor"', '"harbour"'), ("+harbuor", "+harbour"),
                                            ('"the harbuor"', '"the harbour"')])
def test_a_quoted_or_required_word_is_only_offered(mixed, typed, offered):
    assert offered_only(search(mixed, typed), offered)


def test_a_minority_languages_word_is_only_offered(mixed):
    # the query's language is unknown: a correction found only in German articles is offered
    assert offered_only(search(mixed, "Bahnhov"), "Bahnhof")
    # the query's other words are German: searched instead
    results = search(mixed, "+Zug Bahnhov")
    assert results.corrected_from is None  # "+Zug Bahnhov" finds the Zug articles: nothing to replace
    assert search(mixed, "Bahnhov Verspätung").suggestion == "Bahnhof Verspätung"
    # German articles only: German is the main language searched
    from indexer.search import SearchFilters

    german = search(mixed, "Bahnhov", filters=SearchFilters(languages=("de",)))
    assert german.corrected_from == "Bahnhov" and german.total == 12


def test_the_querys_language_must_be_the_corrections(mixed):
    # "Verspätung" is German only, so the query is German: "harbuor" has no German correction
    results = search(mixed, "+Verspätung +harbuor")
    assert results.corrected_from is None


def test_a_correction_in_fewer_than_better_articles_is_only_offered(mixed):
    # "Gewerkschafter" is in 3 articles: too few to be sure a word no article holds is its typo
    assert offered_only(search(mixed, "Gewerkschaftre", filters=_german()), "Gewerkschafter")


def test_two_corrected_words_are_only_offered(mixed):
    assert search(mixed, "harbuor").corrected_from == "harbuor"
    assert search(mixed, "robbrey").corrected_from == "robbrey"
    assert offered_only(search(mixed, "harbuor robbrey"), "harbour robbery")


def test_an_archives_rare_typo_is_offered_its_common_spelling(mixed):
    results = search(mixed, "Britian")
    assert results.total == 2 and results.suggestion == "Britain" and results.corrected_from is None


def test_a_rare_real_word_beside_an_unknown_one_is_left_as_typed(mixed):
    """Beside a word no article holds, a rare word of the archive is what was meant: "wombat
    Britian" must not become "… Britain", nor spoil the correction of the real typo."""
    assert search(mixed, "wombat Britian").suggestion is None
    assert search(mixed, "hrabour Britian").suggestion == "harbour Britian"


def _german():
    from indexer.search import SearchFilters

    return SearchFilters(languages=("de",))


def test_the_page_links_to_the_search_as_typed(mixed):
    from webapp import create_app

    client = create_app({"INDEX": str(mixed.store.root), "TESTING": True}).test_client()
    page = client.get("/search?q=harbuor").get_data(as_text=True)
    assert "showing results for “harbour”" in page and "Search instead for" in page
    link = re.search(r'class="search-instead">Search instead for <a href="([^"]+)">harbuor</a>', page).group(1)
    assert "correct=off" in link
    assert 'href="/search.atom?q=harbour"' in page  # the feed of what the page shows
    # so do the facets: their counts are the correction's, and so are their links
    facets = re.findall(r'class="facet-link[^"]*" href="([^"]+)"', page)
    assert facets and all("q=harbour" in html.unescape(f) for f in facets)
    typed = client.get(html.unescape(link))
    assert typed.status_code == 200
    text = typed.get_data(as_text=True)
    assert "Search instead for" not in text and "Did you mean" in text and "0 results" in text


def test_the_api_takes_correct(mixed):
    from webapp import create_app

    client = create_app({"INDEX": str(mixed.store.root), "TESTING": True}).test_client()
    on = client.get("/api/search?q=harbuor").get_json()
    assert on["corrected_from"] == "harbuor" and on["total"] == 100
    off = client.get("/api/search?q=harbuor&correct=off").get_json()
    assert off["corrected_from"] is None and off["suggestion"] == "harbour" and off["total"] == 0
    bad = client.get("/api/search?q=harbuor&correct=no")
    assert bad.status_code == 400 and "correct" in bad.get_data(as_text=True)


def test_the_cli_takes_no_correct(mixed, capsys):
    from tests.conftest import cli_in_process

    done = cli_in_process(capsys, "search", "harbuor", "--index", str(mixed.store.root))
    assert done.returncode == 0 and "showing results for “harbour”" in done.stdout
    assert "--no-correct" in done.stdout
    typed = cli_in_process(capsys, "search", "harbuor", "--no-correct", "--index", str(mixed.store.root))
    assert typed.returncode == 0 and "did you mean: harbour" in typed.stdout and "0 results" in typed.stdout
