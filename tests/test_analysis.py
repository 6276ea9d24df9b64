"""The news analyzer: what a reader of news expects to find."""
from __future__ import annotations

import pickle

from indexer.analysis import ANALYZER_VERSION, NEWS_ANALYZER, STOPWORDS, analyze, stem


def terms(text: str) -> list[str]:
    return [t.term for t in analyze(text)]


def test_possessives_are_stripped():
    assert terms("Zelenskyy's") == terms("Zelenskyy") == ["zelenskyy"]
    assert terms("NATO’s plan") == ["nato", "plan"]


def test_hyphenated_words_are_findable_three_ways():
    hyphen = {t.term for t in analyze("cease-fire")}
    assert set(terms("ceasefire")) <= hyphen
    assert set(terms("cease fire")) <= hyphen
    positions = {t.term: t.pos for t in analyze("a cease-fire agreement") if not t.joined}
    assert positions[stem("agreement")] - positions[stem("cease")] == 2  # phrases stay exact


def test_abbreviations_survive_stopwords():
    assert terms("U.S.") == ["us"]
    assert terms("US troops")[0] == "us"
    assert terms("WHO warns") == ["who", "warn"]  # the World Health Organization
    assert terms("who warns") == ["warn"]  # the pronoun is a stopword
    assert terms("NATO") == ["nato"]


def test_numbers_and_years():
    assert terms("1,750 bags in 1987") == ["1750", "bag", "1987"]
    assert terms("5.93 mln") == ["5.93", "mln"]


def test_accents_fold_and_case_folds():
    assert terms("Café") == terms("cafe")
    assert terms("NAÏVE") == terms("naive")


def test_stopwords_leave_position_gaps():
    tokens = list(analyze("the hot phase of the war"))
    assert [(t.term, t.pos) for t in tokens] == [("hot", 1), ("phase", 2), ("war", 5)]
    assert "the" in STOPWORDS and len(STOPWORDS) >= 179


def test_stemming_is_snowball():
    assert stem("negotiations") == stem("negotiating") == "negoti"


def test_character_spans_point_into_the_text():
    text = "Dutch cocoa processors’ U.S. deal"
    for t in analyze(text):
        assert text[t.start:t.end].lower().replace(".", "").replace("’", "")[:3] in (t.term[:3], "us")


def test_hostile_text_is_harmless():
    weird = "\x00\u202e" + "x" * 10_000 + " 🙂 東京 " + "<script>alert(1)</script>"
    out = terms(weird)
    assert "script" in out and "alert" in out and "東京" in out  # CJK as bigrams (analyzer 3)
    assert not any(len(t) > 64 for t in out)


def test_analyzer_pickles_with_its_version():
    clone = pickle.loads(pickle.dumps(NEWS_ANALYZER))
    assert clone == NEWS_ANALYZER and clone.version == ANALYZER_VERSION
    assert [t.text for t in clone("Zelenskyy's cease-fire")] == ["zelenskyy", "ceas", "ceasefir", "fire"]
