"""Articles in many languages in one index: each analysed, searched and shown in its own language.

One module index: the bundled sample (English), the 26-language fixture of
``tests/language_samples.py`` (no language stated: detected) and a few
articles written for these tests (German inflections, stopwords and
phrases; a French article stating its language; an undetectably short one).
"""
from __future__ import annotations

import json
import re
from xml.etree import ElementTree

import pytest

from indexer.config import SettingError
from indexer.ingest import optimize, reindex
from indexer.live import LiveIndex
from indexer.search import QueryError, SearchFilters, get_article, matches, related, search
from indexer.stats import index_stats
from tests.conftest import SAMPLE, run_cli, write_jsonl
from tests.language_samples import SAMPLES
from webapp import create_app

TARGETED = [
    {"id": "de-strike", "title": "Gewerkschaften rufen zum Streik auf", "source": "Beispiel Zeitung",
     "published": "2016-03-01",
     "body": "Die Gewerkschaft ver.di hat ihre Mitglieder zu einem Streik aufgerufen. Die Verhandlungen "
             "in der Türkei sind gescheitert, sagte eine Sprecherin am Montag. Der Vorstand will nicht "
             "nachgeben."},
    {"id": "de-border", "title": "Streit an der Grenze", "source": "Beispiel Zeitung", "published": "2016-03-02",
     "body": "An der Türkei vorbei führt die neue Route. Die Grenzen bleiben geschlossen, teilte das "
             "Innenministerium mit."},
    {"id": "de-talk", "title": "Was ist los bei Anne Will?", "source": "Beispiel Zeitung", "author": "Anne Will",
     "body": "Die Talkshow von Anne Will fragt: Was ist los mit der Regierung? Die Gäste streiten über die "
             "Zukunft der Koalition und über die Wahlen im Herbst."},
    {"id": "fr-stated", "title": "Les négociations reprennent", "language": "fr",
     "body": "L'homme a dit que les négociations nationales reprendraient lundi. On attend un accord."},
    {"id": "en-floods", "title": "Thousands die in floods",
     "body": "Thousands die as floods sweep the region; the union said wages would be paid."},
    {"id": "short", "title": "Fotos", "body": "AP"},
]


def sample_records() -> list[dict]:
    return [{"id": f"sample-{code}", "title": title, "body": body, "source": "Samples"}
            for code, (title, body) in SAMPLES.items()]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    work = tmp_path_factory.mktemp("multilingual")
    source = write_jsonl(work / "articles" / "languages.jsonl", sample_records() + TARGETED).parent
    summary = reindex(work / "index", [SAMPLE, source])
    assert summary.skipped == 0, summary.problems
    return work / "index"


@pytest.fixture(scope="module")
def index(index_dir) -> LiveIndex:
    return LiveIndex(index_dir)


@pytest.fixture(scope="module")
def client(index_dir):
    return create_app({"INDEX": str(index_dir), "TESTING": True}).test_client()


def ids(results) -> list[str]:
    return [hit.id for hit in results.hits]


def language_counts(results) -> dict[str, int]:
    return {f.value: f.count for f in results.facets["language"]}


# ------------------------------------------------------------------------ the index

def test_each_article_is_indexed_in_its_language(index):
    corpus = index.current().corpus
    language = {corpus.article_id(d): corpus.language_of(d) for d in range(corpus.size)}
    assert {code: language[f"sample-{code}"] for code in SAMPLES} == {code: code for code in SAMPLES}  # detected
    assert language["fr-stated"] == "fr" and language["de-strike"] == "de"
    assert language["short"] == "en"  # too short to tell: NEWSINDEX_LANGUAGE (default en)
    assert language["1"] == "en"  # Reuters
    counts = corpus.languages()
    assert counts["en"] == 301 + 3 and counts["de"] == 4 and counts["fr"] == 2 and len(counts) == 26
    assert index.current().meta["default_language"] == "en"


def test_stats_list_languages_with_counts(index_dir):
    info = index_stats(index_dir)
    assert info["languages"][:2] == [{"value": "en", "count": 304}, {"value": "de", "count": 4}]
    assert info["default_language"] == "en"
    out = run_cli("stats", "--index", str(index_dir))
    assert out.returncode == 0, out.stderr
    assert re.search(r"languages +26: en \(304\), de \(4\), fr \(2\), ar \(1\)", out.stdout)
    assert "default en" in out.stdout


# ------------------------------------------------------------------------ queries per language

def test_a_query_matches_each_article_through_its_own_languages_terms(index):
    # German: the plural and the singular meet only through German stemming
    assert set(ids(search(index, "Gewerkschaft"))) == {"sample-de", "de-strike"}
    # Spanish, Italian, Portuguese "salarios/salari/salários" all stem to "salari": one word, three languages
    assert set(ids(search(index, "salario"))) == {"sample-es", "sample-it", "sample-pt"}
    assert ids(search(index, "syndicat")) == ["sample-fr"]  # French: "syndicats"
    assert ids(search(index, "Профсоюз")) == ["sample-ru"]  # Russian: "Профсоюзы"
    assert ids(search(index, "negociation")) == ["fr-stated"]  # stated French, typed without the accent
    assert search(index, "negotiations").total > 5  # English unchanged: Reuters, stemmed the English way
    assert all(h.language == "en" for h in search(index, "negotiations", per_page=50).hits)


def test_cjk_is_searched_by_bigrams(index):
    assert ids(search(index, "工资")) == ["sample-zh"]  # inside 提高工资
    assert ids(search(index, "組合")) == ["sample-ja"]  # inside 労働組合が
    assert search(index, '"提高工资"').total == 1


def test_flagged_stopwords_are_dropped_unless_every_word_is_one(index):
    results = search(index, "der Streik")
    german = [h for h in results.hits if h.language == "de"]
    assert [h.id for h in german] == ["de-strike"]  # "der" alone would match every German article
    assert any("ignored “der” in" in n and "German" in n for n in results.notices)
    assert ids(search(index, "Was")) == ["de-talk"]  # only stopwords: searched (English drops "was")
    assert set(ids(search(index, "die"))) >= {"de-talk", "de-border", "de-strike", "en-floods"}
    # phrases keep them: in German "will" is indexed (in English a gap: "Mary Anne Cossa" matches)
    assert [h.id for h in search(index, '"Anne Will"').hits if h.language == "de"] == ["de-talk"]


def test_phrases_are_exact_within_an_articles_language(index):
    assert ids(search(index, '"in der Türkei"')) == ["de-strike"]
    assert ids(search(index, '"an der Türkei"')) == ["de-border"]
    assert ids(search(index, '"will nicht"')) == ["de-strike"]


def test_lang_in_the_query_restricts_and_analyses_one_way(index):
    results = search(index, "lang:de Streik")
    assert ids(results) == ["de-strike"] and language_counts(results) == {"de": 1}
    assert search(index, "lang:German Gewerkschaft").total == 2  # a name works too
    assert {h.language for h in search(index, "salario -lang:es").hits} == {"it", "pt"}
    assert search(index, "(lang:es OR lang:it) salario").total == 2
    unknown = search(index, "lang:klingon union")
    assert unknown.total == 0 and any("lang:klingon" in n for n in unknown.notices)


def test_the_language_filter_is_disjunctive_like_source(index):
    everything = search(index, "salario")
    assert language_counts(everything) == {"es": 1, "it": 1, "pt": 1}
    spanish = search(index, "salario", filters=SearchFilters(languages=("es",)))
    assert ids(spanish) == ["sample-es"]
    assert language_counts(spanish) == {"es": 1, "it": 1, "pt": 1}  # the others stay selectable
    two = search(index, "salario", filters=SearchFilters(languages=("es", "pt")))
    assert set(ids(two)) == {"sample-es", "sample-pt"}
    assert search(index, "Gewerkschaft", filters=SearchFilters(languages=("fr",))).total == 0


def test_prefixes_and_did_you_mean_per_language(index):
    assert set(ids(search(index, "gewerk*"))) == {"sample-de", "de-strike"}
    offered = search(index, "Gewerkschafft")
    # offered from the German articles, not searched instead: "Gewerkschaft" is in two articles
    # (fewer than suggest.BETTER) of a language that is not the archive's main one
    assert offered.corrected_from is None and offered.suggestion.startswith("Gewerkschaft")
    assert offered.total == 0
    english = search(index, "negotations")
    assert english.suggestion == "negotiations"  # from the English articles' vocabulary
    # a word of a small language's articles is not "corrected" into an English look-alike
    assert search(index, "homme").suggestion is None and ids(search(index, "homme")) == ["fr-stated"]
    # restricted to German, a German word is not "corrected" into an English one
    assert search(index, "negotations", filters=SearchFilters(languages=("de",))).suggestion is None


def test_snippets_and_highlights_are_made_in_each_hits_language(index):
    hit = next(h for h in search(index, "Gewerkschaft").hits if h.id == "de-strike")
    assert hit.language == "de"
    assert hit.title_html.startswith("<mark>Gewerkschaften</mark>")
    assert "<mark>Gewerkschaft</mark> ver.di" in hit.snippet_html
    article = get_article(index, "de-strike", "Gewerkschaften")
    assert article.language == "de" and article.body_html.count("<mark>") == 1
    assert "<mark>Gewerkschaften</mark>" in article.title_html
    phrase = next(h for h in search(index, '"in der Türkei"').hits)
    assert "<mark>in der Türkei</mark>" in phrase.snippet_html


def test_related_articles_are_in_the_same_language(index):
    assert {h.language for h in related(index, "de-strike")} <= {"de"}
    assert {h.language for h in related(index, "1")} == {"en"}


def test_matches_feeds_and_exports_filter_by_language(index):
    found = matches(index, "salario", SearchFilters(languages=("it",)))
    assert found.total == 1 and [h.language for h in found.hits()] == ["it"]


# ------------------------------------------------------------------------ the API and the pages

def test_api_hits_facets_and_the_lang_parameter(client):
    data = client.get("/api/search?q=salario").get_json()
    assert {h["id"]: h["language"] for h in data["hits"]} == {"sample-es": "es", "sample-it": "it",
                                                              "sample-pt": "pt"}
    assert {f["value"] for f in data["facets"]["language"]} == {"es", "it", "pt"}
    one = client.get("/api/search?q=salario&lang=it").get_json()
    assert [h["id"] for h in one["hits"]] == ["sample-it"] and len(one["facets"]["language"]) == 3
    bad = client.get("/api/search?q=salario&lang=German")
    assert bad.status_code == 400 and bad.get_json()["error"]["param"] == "lang"
    assert "its code is de" in bad.get_json()["error"]["message"]  # what to send instead
    assert "its code" not in client.get("/api/search?q=salario&lang=xx").get_json()["error"]["message"]
    article = client.get("/api/articles/de-strike?q=Gewerkschaft").get_json()
    assert article["language"] == "de" and "<mark>Gewerkschaften</mark>" in article["title_html"]


def test_exports_histograms_and_feeds_take_lang(client):
    csv_text = client.get("/api/export?q=salario&lang=es&lang=pt").get_data(as_text=True)
    header, *rows = csv_text.strip().split("\r\n")
    assert "language" in header.split(",") and len(rows) == 2
    assert {row.split(",")[0] for row in rows} == {"sample-es", "sample-pt"}
    histogram = client.get("/api/histogram?q=Streik&lang=de").get_json()
    assert histogram["series"][0]["total"] == 1
    feed = client.get("/search.atom?q=salario&lang=it")
    root = ElementTree.fromstring(feed.data)
    entries = root.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 1 and entries[0].get("{http://www.w3.org/XML/1998/namespace}lang") == "it"
    assert "in Italian" in root.find("{http://www.w3.org/2005/Atom}title").text


def test_results_page_marks_each_result_with_its_language(client):
    page = client.get("/search?q=salario+OR+النقابات").get_data(as_text=True)
    for code in ("es", "it", "pt", "ar"):
        assert re.search(rf'<li class="hit" lang="{code}">\s*<h2 class="hit-title[^"]*" dir="auto">', page)
    assert '<p class="hit-snippet" dir="auto">' in page
    facet = re.search(r'<section class="facet" aria-labelledby="facet-language">(.*?)</section>', page, re.S)
    assert facet and "Spanish" in facet.group(1) and "Arabic" in facet.group(1)
    assert "lang=es" in facet.group(1)  # each language a filter link
    filtered = client.get("/search?q=salario&lang=es").get_data(as_text=True)
    assert filtered.count('<li class="hit"') == 1 and '<input type="hidden" name="lang" value="es">' in filtered
    assert "is-selected" in re.search(r'aria-labelledby="facet-language">(.*?)</section>', filtered, re.S).group(1)


def test_english_only_results_show_no_language_facet(client):
    page = client.get("/search?q=cocoa").get_data(as_text=True)
    assert 'aria-labelledby="facet-language"' not in page  # one language: nothing to choose


def test_article_page_carries_its_language(client):
    page = client.get("/articles/sample-ar").get_data(as_text=True)
    assert re.search(r'<article class="article"[^>]* lang="ar">', page)
    assert re.search(r'<h1 id="article-title" class="article-title[^"]*" dir="auto">', page)
    assert '<p dir="auto">' in page and "<dd>Arabic</dd>" in page
    assert re.search(r'<p class="kicker" lang="en">', page)  # the site's own words stay English


# ------------------------------------------------------------------------ the CLI

def test_cli_lang_option(index_dir):
    out = run_cli("search", "--index", str(index_dir), "--lang", "pt", "--json", "salario")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [h["id"] for h in data["hits"]] == ["sample-pt"] and data["hits"][0]["language"] == "pt"
    text = run_cli("search", "--index", str(index_dir), "--lang", "de", "Streik")
    assert "de · id de-strike" in text.stdout
    exported = run_cli("export", "--index", str(index_dir), "--lang", "es", "--fields", "id,language", "salario")
    assert exported.stdout.splitlines()[:2] == ["id,language", "sample-es,es"]
    bad = run_cli("search", "--index", str(index_dir), "--lang", "xx", "salario")
    assert bad.returncode == 2 and "--lang must be a language code" in bad.stderr  # a usage error


# ------------------------------------------------------------------------ merges, defaults

def test_languages_survive_incremental_runs_merges_and_optimize(tmp_path):
    source = tmp_path / "articles"
    write_jsonl(source / "a.jsonl", sample_records()[:3])  # en de fr
    reindex(tmp_path / "ix", [source])
    write_jsonl(source / "b.jsonl", [{"id": "x-de", **{k: v for k, v in TARGETED[0].items() if k != "id"}}])
    write_jsonl(source / "c.jsonl", [TARGETED[3]])
    reindex(tmp_path / "ix", [source])
    assert len(LiveIndex(tmp_path / "ix").current().segments) == 2
    summary = optimize(tmp_path / "ix")
    gen = LiveIndex(tmp_path / "ix").current()
    assert summary.mode == "optimize" and len(gen.segments) == 1
    assert gen.corpus.languages() == {"de": 2, "fr": 2, "en": 1}
    assert set(ids(search(LiveIndex(tmp_path / "ix"), "Gewerkschaft"))) == {"sample-de", "x-de"}


def test_default_language_for_undetectable_articles(tmp_path, monkeypatch):
    source = write_jsonl(tmp_path / "articles" / "a.jsonl", [TARGETED[5], *sample_records()[1:2]]).parent
    monkeypatch.setenv("NEWSINDEX_LANGUAGE", "de")
    reindex(tmp_path / "ix", [source])
    gen = LiveIndex(tmp_path / "ix").current()
    assert gen.meta["default_language"] == "de"
    assert search(LiveIndex(tmp_path / "ix"), "Fotos").hits[0].language == "de"
    monkeypatch.setenv("NEWSINDEX_LANGUAGE", "fr")  # the fallback changed: every article is analysed again
    summary = reindex(tmp_path / "ix", [source])
    assert summary.mode == "full" and summary.written == 2
    assert search(LiveIndex(tmp_path / "ix"), "Fotos").hits[0].language == "fr"
    assert reindex(tmp_path / "ix", [source]).mode == "unchanged"
    monkeypatch.setenv("NEWSINDEX_LANGUAGE", "klingon")
    with pytest.raises(SettingError, match="NEWSINDEX_LANGUAGE='klingon'"):
        reindex(tmp_path / "ix", [source])
    out = run_cli("reindex", "--index", str(tmp_path / "ix"), str(source), env={"NEWSINDEX_LANGUAGE": "xx"})
    assert out.returncode == 2 and "NEWSINDEX_LANGUAGE" in out.stderr and "Traceback" not in out.stderr


def test_a_stated_language_wins_and_changing_it_reindexes_the_article(tmp_path):
    record = {"id": "a", "title": "Gewerkschaften fordern höhere Löhne", "body": SAMPLES["de"][1]}
    source = write_jsonl(tmp_path / "articles" / "a.jsonl", [record]).parent
    reindex(tmp_path / "ix", [source])
    assert search(LiveIndex(tmp_path / "ix"), "Gewerkschaft").total == 1
    write_jsonl(source / "a.jsonl", [{**record, "language": "en"}])  # the publisher says English
    summary = reindex(tmp_path / "ix", [source])
    assert summary.updated == 1
    index = LiveIndex(tmp_path / "ix")
    assert matches(index, "Gewerkschaft").total == 0  # no longer stemmed the German way
    assert search(index, "Gewerkschaften").hits[0].language == "en"


def test_query_errors_do_not_depend_on_the_languages_searched(index):
    with pytest.raises(QueryError, match="at least 2 letters"):
        search(index, "lang:klingon a*")


def test_a_language_with_few_articles_is_searched_on_its_own(index):
    # Danish has one article here: evaluated on it alone, and skipped when it holds no word of the query
    assert ids(search(index, "Fagforeningerne")) == ["sample-da"]
    assert search(index, "lønninger", filters=SearchFilters(languages=("da",))).total == 1
    assert search(index, "cocoa", filters=SearchFilters(languages=("da",))).total == 0
    assert matches(index, "cocoa", SearchFilters(languages=("da",))).total == 0  # no facets: only Danish
    assert search(index, "-cocoa", filters=SearchFilters(languages=("da",))).total == 1
    assert ids(search(index, '"højere lønninger"')) == ["sample-da"]
    assert {h.language for h in search(index, "lønning*").hits} == {"da", "no"}  # lønningene too
