"""Analysis per language: stemming, stopwords, folding, phrases, CJK bigrams, sentences, highlighting.

Small fixtures of our own per language; each assertion is what a reader of
that language expects to find.
"""
from __future__ import annotations

import pytest

from indexer.analysis import (
    ANALYZER_VERSION, LANGUAGES, NEWS_ANALYZER, STEMMED_LANGUAGES, STOPWORD_LANGUAGES,
    UnknownLanguage, analyze, analyze_word, normalize_language, query_terms, stopwords,
    term_positions,
)
from indexer.analysis.sentences import sentence_spans
from indexer.snippets import MatchSpec, find_spans, highlight, lead, snippet


def terms(text: str, lang: str) -> list[str]:
    return [t.term for t in analyze(text, lang=lang) if not t.joined]


def same_term(a: str, b: str, lang: str) -> bool:
    return terms(a, lang) == terms(b, lang) and len(terms(a, lang)) == 1


def test_the_fifteen_snowball_languages_are_stemmed():
    assert STEMMED_LANGUAGES == {"ar", "da", "nl", "en", "fi", "fr", "de", "hu", "it", "no", "pt",
                                 "ro", "ru", "es", "sv"}
    assert {"el", "tr", "ca", "id", "he"} <= STOPWORD_LANGUAGES - STEMMED_LANGUAGES
    assert all(len(code) == 2 for code in LANGUAGES) and {"zh", "ja", "ko", "pl"} <= set(LANGUAGES)


# (language, inflected form, base form): both must index as one term
INFLECTIONS = [
    ("en", "negotiations", "negotiate"),
    ("de", "Gewerkschaften", "Gewerkschaft"), ("de", "Häuser", "Haus"), ("de", "Löhne", "Lohn"),
    ("de", "Österreichs", "Österreich"),
    ("fr", "nationales", "nationalité"), ("fr", "négociations", "négociation"),
    ("es", "negociaciones", "negociación"), ("es", "presupuestos", "presupuesto"),
    ("it", "sindacati", "sindacato"), ("pt", "negociações", "negociação"),
    ("nl", "vakbonden", "vakbond"), ("nl", "lonen", "loon"),
    ("sv", "regeringen", "regering"), ("da", "fagforeningerne", "fagforening"),
    ("no", "regjeringen", "regjering"), ("fi", "talousarvion", "talousarvio"),
    ("hu", "béreket", "bér"), ("ro", "guvernului", "guvern"),
    ("ru", "правительства", "правительство"), ("ru", "большой", "больших"),
    ("ar", "والمدرسة", "مدرسة"),
]


@pytest.mark.parametrize("lang,inflected,base", INFLECTIONS)
def test_inflected_forms_meet_their_base_form(lang, inflected, base):
    assert same_term(inflected, base, lang), (terms(inflected, lang), terms(base, lang))


def test_stemming_comes_before_folding():
    # folded first, "nationalité" would be "nationalit" and "negociações" "negociaco": the
    # stemmers' suffix rules are written with the accents
    assert terms("nationalité", "fr") == ["national"]
    assert terms("negociações", "pt") == ["negoc"]
    assert terms("большой", "ru") == terms("больших", "ru")


def test_folding_lets_unaccented_queries_meet_accented_text():
    assert same_term("Österreich", "Osterreich", "de")
    assert same_term("Straße", "Strasse", "de")
    assert same_term("négociation", "negociation", "fr")
    assert same_term("ёлка", "елка", "ru")
    assert same_term("İstanbul", "Istanbul", "tr") and same_term("ışık", "isik", "tr")


def test_german_words_that_are_english_stopwords_are_indexed():
    text = "Was will Anne Will am Montag an der Uni?"
    assert terms(text, "en") == ["ann", "montag", "der", "uni"]  # English drops was/will/am/an
    german = {t.term: t.stopword for t in analyze(text, lang="de")}
    assert {"was", "will", "am", "an", "ann", "montag", "uni"} <= set(german)
    assert german["was"] and german["der"] and not german["montag"]  # flagged, still indexed


def test_french_a_and_on_are_indexed():
    tokens = {t.term: t.stopword for t in analyze("On a vu le président", lang="fr")}
    assert "a" in tokens and "on" in tokens and "president" in tokens
    assert not tokens["a"]  # "a" (has) is not on NLTK's French list; "on" is, flagged
    assert tokens["on"] and tokens["le"]


def test_english_stopwords_stay_dropped_with_their_gaps():
    assert [(t.term, t.pos) for t in analyze("the hot phase of the war", lang="en")] == \
        [("hot", 1), ("phase", 2), ("war", 5)]
    assert "the" in stopwords("en") and "und" in stopwords("de") and stopwords("pl") == frozenset()


def test_phrase_positions_count_every_word():
    tokens = [(t.term, t.pos) for t in analyze("Der Vertrag der Europäischen Union", lang="de")]
    assert tokens == [("der", 0), ("vertrag", 1), ("der", 2), ("europa", 3), ("union", 4)]
    assert term_positions("Der Vertrag der Union", "de") == {"der": [0, 2], "vertrag": [1], "union": [3]}
    query = [(t.term, t.pos) for t in query_terms('Vertrag der Europäischen', "de")]
    assert query == [("vertrag", 0), ("der", 1), ("europa", 2)]


def test_french_and_italian_elisions():
    assert terms("l'homme d'État qu'il aime", "fr") == ["homm", "etat", "il", "aim"]
    assert terms("dell'Italia", "it") == terms("Italia", "it")
    token = next(analyze("l’homme", lang="fr"))
    assert (token.start, token.end) == (2, 7)  # the highlight covers "homme"


def test_turkish_suffixes_after_an_apostrophe():
    assert terms("Ankara'da", "tr") == terms("Ankara", "tr") == ["ankara"]


def test_numbers_follow_the_language_decimal_mark():
    assert terms("1.750 Euro und 5,93 Prozent am 3.10.2015", "de") == \
        ["1750", "euro", "und", "5.93", "prozent", "am", "3.10.2015"]
    assert terms("1,750 bags at 5.93", "en") == ["1750", "bag", "5.93"]  # unchanged


def test_languages_without_a_stemmer_are_folded_and_tokenised():
    assert terms("Związki zawodowe żądają", "pl") == ["zwiazki", "zawodowe", "zadaja"]
    assert terms("Τα συνδικάτα ζητούν", "el") == ["τα", "συνδικατα", "ζητουν"]
    assert terms("नमस्ते दुनिया", "hi") == ["नमसते", "दुनिया"]  # vowel signs stay inside the word


def test_cjk_runs_are_overlapping_bigrams():
    tokens = [(t.term, t.pos, t.start, t.end) for t in analyze("東京都庁", lang="ja")]
    assert tokens == [("東京", 0, 0, 2), ("京都", 1, 1, 3), ("都庁", 2, 2, 4)]
    assert terms("北", "zh") == ["北"]  # a lone character is a unigram
    # a two-character word is found inside a longer run, and a longer query is a phrase
    assert set(terms("价格", "zh")) <= set(terms("可可价格今天上涨", "zh"))
    query = [(t.term, t.pos) for t in query_terms("价格上涨", "zh")]
    doc = {(t.term, t.pos) for t in analyze("可可价格上涨", lang="zh")}
    base = next(p for term, p in doc if term == "价格")
    assert {(term, base + p) for term, p in query} <= doc
    # Latin words inside CJK text are words, analysed as English in CJK articles
    assert terms("今天用iPhones拍照", "zh") == ["今天", "天用", "iphon", "拍照"]
    assert terms("노조, 임금 인상 요구", "ko") == ["노조", "임금", "인상", "요구"]
    assert ANALYZER_VERSION >= 3 and NEWS_ANALYZER.version == ANALYZER_VERSION


def test_analyze_word_is_cached_per_language():
    assert analyze_word("Gewerkschaften", "de") is analyze_word("Gewerkschaften", "de")
    assert analyze_word("was", "de").emissions and not analyze_word("was", "en").emissions
    with pytest.raises(UnknownLanguage):
        analyze_word("word", "xx")


def test_the_whoosh_analyzer_takes_a_language():
    assert [t.text for t in NEWS_ANALYZER("Die Gewerkschaften", lang="de")] == ["die", "gewerkschaft"]
    assert [t.text for t in NEWS_ANALYZER("Die Gewerkschaften")] == ["die", "gewerkschaften"]


@pytest.mark.parametrize("value,code", [
    ("de", "de"), ("de-CH", "de"), ("pt_BR", "pt"), ("zh-Hant-TW", "zh"), ("EN", "en"),
    ("de_DE.UTF-8", "de"), ("nb", "no"), ("nn-NO", "no"), ("iw", "he"), ("deu", "de"),
    ("German", "de"), ("Deutsch", "de"), ("français", "fr"), (" fr ", "fr"),
    ("xx", None), ("klingon", None), ("", None), ("de-", None), (5, None), (None, None),
])
def test_language_tags_are_normalised(value, code):
    assert normalize_language(value) == code


# ------------------------------------------------------------------ sentences

SENTENCES = {
    "de": ("Die Wahl findet am 3. Oktober statt. Laut Dr. Müller ist das z.B. wichtig. "
           "„Wir gehen.“ Dann kam er. Der Krieg endete 1945. Danach kam Frieden. "
           "Infos unter www.example.at. Es kostet ca. 5 Mio. Euro.",
           ["Die Wahl findet am 3. Oktober statt.", "Laut Dr. Müller ist das z.B. wichtig.",
            "„Wir gehen.“", "Dann kam er.", "Der Krieg endete 1945.", "Danach kam Frieden.",
            "Infos unter www.example.at.", "Es kostet ca. 5 Mio. Euro."]),
    "fr": ("M. Dupont est arrivé. « Nous partons. » Puis il est parti. Le prix est de 5,5 euros.",
           ["M. Dupont est arrivé.", "« Nous partons. »", "Puis il est parti.",
            "Le prix est de 5,5 euros."]),
    "es": ("El Sr. García llegó. ¿Vendrá mañana? ¡Claro!",
           ["El Sr. García llegó.", "¿Vendrá mañana?", "¡Claro!"]),
    "zh": ("工会周二要求提高工资。政府回应说，将在夏天之前提出新的预算！真的吗？",
           ["工会周二要求提高工资。", "政府回应说，将在夏天之前提出新的预算！", "真的吗？"]),
    "ar": ("طالبت النقابات برفع الأجور. هل ستوافق الحكومة؟ نعم.",
           ["طالبت النقابات برفع الأجور.", "هل ستوافق الحكومة؟", "نعم."]),
    "ru": ("Это было в 2015 г. в Москве. Т.е. всё хорошо.", ["Это было в 2015 г. в Москве.",
                                                         "Т.е. всё хорошо."]),
}


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_sentences_are_cut_where_a_reader_of_the_language_would(lang):
    text, expected = SENTENCES[lang]
    assert [text[s:e] for s, e in sentence_spans(text, lang)] == expected


def test_english_sentences_are_punkt():
    text = "Mr. Smith went to Washington. He arrived at 5 p.m. on Tuesday. It rained."
    assert [text[s:e] for s, e in sentence_spans(text, "en")] == \
        ["Mr. Smith went to Washington.", "He arrived at 5 p.m. on Tuesday.", "It rained."]


def test_english_punkt_with_stdlib_regexes_splits_exactly_as_nltk():
    """The faster Punkt (NLTK's patterns compiled by `re`, not `regex` + timeouts) cuts real news
    text exactly where stock NLTK Punkt does."""
    import itertools
    import json

    from nltk.tokenize.punkt import PunktTokenizer

    from indexer.analysis import nltk_data_path
    from indexer.analysis.punkt import english_punkt
    from tests.conftest import needs_shared

    nltk_data_path()
    fast, stock = english_punkt(), PunktTokenizer("english")
    assert type(fast._lang_vars).__name__ == "StdlibLanguageVars"  # the check at start-up passed
    # the model read with plain file reads is NLTK's loader's, parameter for parameter
    # (ortho_context is a defaultdict: looking a word up adds it with 0, so compare what is set)
    ours, theirs = fast._params, stock._params
    def ortho(params):
        return {word: flags for word, flags in params.ortho_context.items() if flags}
    assert (ours.collocations, ours.sent_starters, ours.abbrev_types, ortho(ours)) == \
        (theirs.collocations, theirs.sent_starters, theirs.abbrev_types, ortho(theirs))
    assert len(ours.abbrev_types) > 100 and len(ours.ortho_context) > 10_000
    with open(needs_shared("export", "reuters", "docs.jsonl"), encoding="utf-8") as f:
        texts = [json.loads(line)["body"] for line in itertools.islice(f, 1500)]
    bbc = sorted(needs_shared("bbc-news", "business").glob("*.txt"))[:200]
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in bbc]
    for text in texts:
        assert list(fast.span_tokenize(text)) == list(stock.span_tokenize(text))


_LIGHT_NLTK = r"""
import json, sys, threading
from indexer.analysis import load_models, nltk_data_path
from indexer.analysis.nltk_modules import punkt, snowball
from indexer.analysis.punkt import english_punkt

if sys.argv[1] == "thread":  # another thread running: the ordinary import
    threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()
elif sys.argv[1] == "imported":  # NLTK imported already: its modules are used as they are
    import nltk.stem.snowball
load_models(["en", "de", "fr"])
light = snowball()
report = {"nltk_left_loaded": sorted(n for n in sys.modules if n == "nltk" or n.startswith("nltk."))}
words = json.load(open(sys.argv[2], encoding="utf-8"))
texts = [open(p, encoding="utf-8").read() for p in sys.argv[3:]]
import nltk  # a library user's later import: the whole of NLTK, not a bare package
from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize.punkt import PunktTokenizer
nltk_data_path()
report["full_nltk"] = hasattr(nltk, "word_tokenize") and hasattr(nltk, "pos_tag")
report["same_module"] = light is sys.modules["nltk.stem.snowball"]
report["stems_differ"] = [(lang, w) for lang, ws in words.items() for w in ws
                          if light.SnowballStemmer(lang).stem(w) != SnowballStemmer(lang).stem(w)]
report["punkt_light"] = punkt() is not sys.modules["nltk.tokenize.punkt"]
stock = PunktTokenizer("english")
report["spans_differ"] = sum(list(english_punkt().span_tokenize(t)) != list(stock.span_tokenize(t))
                             for t in texts)
print(json.dumps(report))
"""


def _light_nltk_run(mode: str, tmp_path) -> dict:
    import csv
    import itertools
    import json
    import re
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import needs_shared
    from tests.language_samples import SAMPLES

    repo = Path(__file__).resolve().parents[1]
    names = {"en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian",
             "pt": "portuguese", "nl": "dutch", "sv": "swedish", "da": "danish", "no": "norwegian",
             "fi": "finnish", "hu": "hungarian", "ro": "romanian", "ru": "russian", "ar": "arabic"}
    words = {name: sorted({w.lower() for text in SAMPLES[code] for w in re.findall(r"[^\W\d_]+", text)})
             for code, name in names.items() if code in SAMPLES}
    with open(needs_shared("german-news-10kgnad", "test.csv"), encoding="utf-8", newline="") as f:
        german = [text for _, text in itertools.islice(csv.reader(f, delimiter=";", quotechar="'"), 200)]
    words["german"] += sorted({w.lower() for text in german for w in re.findall(r"[^\W\d_]+", text)})
    english = needs_shared("export", "reuters", "docs.jsonl").read_text(encoding="utf-8").splitlines()[:300]
    words["english"] += sorted({w.lower() for line in english
                                for w in re.findall(r"[^\W\d_]+", json.loads(line)["body"])})
    texts = []
    for i, line in enumerate(english[:100]):
        texts.append(tmp_path / f"{i}.txt")
        texts[-1].write_text(json.loads(line)["body"], encoding="utf-8")
    (tmp_path / "words.json").write_text(json.dumps(words), encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(repo), "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", _LIGHT_NLTK, mode, str(tmp_path / "words.json"),
                          *map(str, texts)], capture_output=True, text=True, env=env, cwd=repo,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert len(words["english"]) > 3000 and len(words["german"]) > 5000
    assert report["stems_differ"] == [] and report["spans_differ"] == 0 and report["full_nltk"]
    return report


def test_nltk_snowball_and_punkt_load_without_the_rest_of_nltk(tmp_path):
    """A cold command imports NLTK's Snowball and Punkt without NLTK's package __init__ (120 ms):
    they stem and split exactly as the ordinary import's, no trace of the bare packages is left
    in sys.modules, and a later `import nltk` gets the whole toolkit."""
    report = _light_nltk_run("cold", tmp_path)
    assert report["nltk_left_loaded"] == []
    assert not report["same_module"] and report["punkt_light"]


@pytest.mark.parametrize("mode", ["thread", "imported"])
def test_nltk_is_imported_the_ordinary_way_when_the_light_way_is_not_safe(mode, tmp_path):
    """With another thread running (it could import nltk meanwhile) or NLTK already imported,
    the ordinary modules are used."""
    report = _light_nltk_run(mode, tmp_path)
    assert "nltk.stem.snowball" in report["nltk_left_loaded"]
    assert report["same_module"] and not report["punkt_light"]


# ------------------------------------------------------------------ highlighting

def spec_for(query: str, lang: str) -> MatchSpec:
    return MatchSpec(frozenset(t.term for t in query_terms(query, lang)))


HIGHLIGHTS = [
    ("de", "Gewerkschaft", "Die Gewerkschaften fordern höhere Löhne.", ["Gewerkschaften"]),
    ("de", "Osterreich", "Wien ist die Hauptstadt Österreichs.", ["Österreichs"]),
    ("fr", "négociation", "Les négociations ont échoué hier soir.", ["négociations"]),
    ("fr", "homme", "L'homme est parti.", ["homme"]),
    ("es", "presupuesto", "El Gobierno presentará los presupuestos.", ["presupuestos"]),
    ("ru", "правительство", "Ответ правительства был быстрым.", ["правительства"]),
    ("tr", "Ankara", "Toplantı Ankara'da yapıldı.", ["Ankara"]),
    ("zh", "价格", "可可价格今天上涨。", ["价格"]),
    ("ja", "東京都", "東京都庁で会議があった。", ["東京都"]),
]


@pytest.mark.parametrize("lang,query,text,marked", HIGHLIGHTS)
def test_stemmed_variants_are_highlighted_in_the_article_language(lang, query, text, marked):
    html = highlight(text, spec_for(query, lang), lang)
    assert [part.split("</mark>")[0] for part in html.split("<mark>")[1:]] == marked, html


def test_german_forms_are_not_highlighted_with_english_rules():
    # the same query analysed as English misses the German plural: why snippets take lang
    assert "<mark>" not in highlight("Die Gewerkschaften fordern.", spec_for("Gewerkschaft", "en"), "en")


def test_phrases_are_highlighted_per_language():
    tokens = [t for t in query_terms("Vertrag der Union", "de")]
    spec = MatchSpec(phrases=(tuple((t.term, t.pos - tokens[0].pos) for t in tokens),))
    text = "Der Vertrag der Union wurde unterzeichnet. Eine Union ohne Vertrag."
    assert find_spans(text, spec, "de") == [(4, 21, "vertrag der union")]


def test_snippets_and_leads_cut_german_sentences_sensibly():
    text = ("Die Wahl findet am 3. Oktober statt. " * 3 + "Laut Dr. Müller fordern die "
            "Gewerkschaften höhere Löhne für alle Beschäftigten im Land. " + "Danach kam der "
            "Regen, und niemand wusste, wie es weitergehen sollte, bis zum Abend. " * 4)
    out = snippet(text, spec_for("Gewerkschaft", "de"), lang="de")
    assert "Laut Dr. Müller fordern die <mark>Gewerkschaften</mark> höhere Löhne" in out
    assert lead(text, lang="de").startswith("Die Wahl findet am 3. Oktober statt.")
