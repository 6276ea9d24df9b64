"""10kGNAD's 1,028 German articles indexed together with the Reuters sample (docs/german-queries.md).

The articles come without a stated language, as most archives do: each is
detected from its text. Then the file states the language of the one article
the detector gets wrong (row 600, a TV listing of English film titles), as a
publisher's metadata would, and an incremental reindex analyses that article
again. What docs/german-queries.md specifies is checked on that index: the
twelve queries (their counts are of German articles, as the document counts
them), the extra checks, the language facet, and English queries unchanged.
Skipped without ../shared/data (not in a plain clone).
"""
from __future__ import annotations

import csv

import pytest

from indexer.analysis import query_terms, term_positions
from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.search import SearchFilters, matches, search
from tests.conftest import SAMPLE, needs_shared, write_jsonl

#: docs/german-queries.md: query -> (German articles it finds, lines that must be among them,
#: what the English analysis found before languages ("today"; None: a phrase, see the document))
TWELVE = {
    "Gewerkschaft": (23, [171, 213], 14),
    "Flüchtling": (114, [21, 30, 16], 13),
    "Osterreich": (300, [7, 10, 16], 254),
    "Häuser": (89, [24, 48, 2], 6),
    "Wahlen": (80, [1, 15, 34], 31),
    "Milliarde": (59, [35, 39, 78], 16),
    "Grenzen": (94, [16, 30, 82], 47),
    "Ärzte": (21, [44, 89, 142], 20),
    "Kinder": (81, [8, 59, 66], 59),
    "Asylwerber": (33, [34, 431, 455], 28),
    '"in der Türkei"': (18, [], None),
    '"will nicht"': (4, [], None),
}
ENGLISH = ["cocoa", "oil prices", "coffee -brazil", '"hot phase of the war"', "nego*", "zelenskyy",
           "title:wheat", "interest rates", "gold", "dollar yen", "bank rate cut", "wheat exports soviet union"]


def german_rows() -> list[tuple[str, str]]:
    path = needs_shared("german-news-10kgnad", "test.csv")
    with open(path, encoding="utf-8", newline="") as f:
        return [(label, text) for label, text in csv.reader(f, delimiter=";", quotechar="'")]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    rows = german_rows()
    work = tmp_path_factory.mktemp("german")
    records = [{"id": f"de-{line}", "body": text, "topics": [label], "source": "DER STANDARD"}
               for line, (label, text) in enumerate(rows, 1)]
    source = write_jsonl(work / "german" / "10kgnad.jsonl", records).parent
    first = reindex(work / "index", [SAMPLE, source])
    corpus = LiveIndex(work / "index").current().corpus
    detected = {corpus.article_id(d): corpus.language_of(d) for d in range(corpus.size)}
    records[599]["language"] = "de"  # row 600: the publisher's metadata says German
    write_jsonl(source / "10kgnad.jsonl", records)
    second = reindex(work / "index", [SAMPLE, source])
    english = work / "english"
    reindex(english, [SAMPLE])
    english_terms = [set(term_positions(text, "en")) for _, text in rows]
    return {"rows": rows, "detected": detected, "english_terms": english_terms, "first": first, "second": second,
            "index": LiveIndex(work / "index"), "english": LiveIndex(english)}


def german_lines(index: LiveIndex, query: str) -> set[int]:
    found = matches(index, query, SearchFilters(languages=("de",)), sort=None)
    return {int(hit.id.removeprefix("de-")) for hit in found.hits(snippets=False)}


def test_detection_is_at_least_99_percent_and_a_stated_language_wins(built):
    detected = {k: v for k, v in built["detected"].items() if k.startswith("de-")}
    right = sum(1 for lang in detected.values() if lang == "de")
    assert len(detected) == 1028 and right / 1028 >= 0.99
    # at most row 600, a TV listing of English film titles, is taken for English
    assert {k for k, lang in detected.items() if lang != "de"} <= {"de-600"}
    assert built["second"].updated == 1 and built["second"].unchanged == 1028 + 301 - 1


def test_the_language_facet_counts_1028_german_articles(built):
    results = search(built["index"], "")
    assert {f.value: f.count for f in results.facets["language"]} == {"de": 1028, "en": 301}
    assert search(built["index"], "", filters=SearchFilters(languages=("de",))).total == 1028


@pytest.mark.parametrize("query", list(TWELVE))
def test_german_queries_find_inflected_forms(built, query):
    count, must, before = TWELVE[query]
    lines = german_lines(built["index"], query)
    assert len(lines) == count, query
    assert set(must) <= lines, query
    if before is not None:  # the English analysis of the same word, as every article got before
        wanted = {t.term for t in query_terms(query, "en")}
        assert sum(1 for terms in built["english_terms"] if wanted <= terms) == before


def test_highlights_show_the_inflected_forms(built):
    results = search(built["index"], "Gewerkschaft", per_page=50, filters=SearchFilters(languages=("de",)))
    hit = next(h for h in results.hits if h.id == "de-171")
    assert hit.language == "de" and "<mark>Gewerkschaften</mark>" in hit.snippet_html
    phrase = search(built["index"], '"in der Türkei"', per_page=1).hits[0]
    assert "<mark>in der Türkei</mark>" in phrase.snippet_html


def test_the_other_checks_of_the_document(built):
    index = built["index"]
    assert len(german_lines(index, "Bundesländer")) == 27
    decimal = german_lines(index, '"1,5 Milliarden"')
    assert decimal and all("1,5 Milliarden" in built["rows"][n - 1][1] for n in decimal)


def test_german_queries_reach_german_articles_without_a_filter(built):
    results = search(built["index"], "Gewerkschaften")
    assert results.total == 23 and {h.language for h in results.hits} == {"de"}
    assert search(built["index"], "lang:de Flüchtlinge").total == 114


@pytest.mark.parametrize("query", ENGLISH)
def test_english_queries_match_the_same_english_articles(built, query):
    """The English analysis is unchanged (bench/english_unchanged.py: token for token), so each
    English query matches exactly the English articles it matches in an English-only index;
    their order may move a little, since BM25's statistics (article count, average lengths) now
    include the German articles."""
    alone = matches(built["english"], query, sort=None)
    mixed = matches(built["index"], query, SearchFilters(languages=("en",)), sort=None)
    assert alone.total == mixed.total > 0
    assert {h.id for h in alone.hits(snippets=False)} == {h.id for h in mixed.hits(snippets=False)}
