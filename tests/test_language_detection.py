"""Language detection and the language an article's own data states (readers)."""
from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest

from indexer import config
from indexer.analysis import LANGUAGES
from indexer.articles import Article, Problem
from indexer.language import default_language, detect_language
from indexer.readers import read_source

from .conftest import needs_shared, sample_records
from .language_samples import SAMPLES


def test_german_news_corpus_is_detected_as_german():
    """10kGNAD: 1,028 real German articles; the issue asks for at least 99 %."""
    path = needs_shared("german-news-10kgnad", "test.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        texts = [row[1] for row in csv.reader(handle, delimiter=";", quotechar="'")]
    assert len(texts) == 1028
    found = [detect_language("", text, default="und") for text in texts]
    german = sum(code == "de" for code in found)
    assert german / len(texts) >= 0.99, {code: found.count(code) for code in set(found)}


def test_english_sample_is_english():
    records = sample_records()
    found = [detect_language(r.get("title", ""), r["body"]) for r in records]
    assert found.count("en") == len(records), {c: found.count(c) for c in set(found)}


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_paragraphs_in_many_languages(lang):
    headline, paragraph = SAMPLES[lang]
    assert detect_language(headline, paragraph, default="und") == lang


def test_too_short_or_unsure_text_gets_the_default():
    assert detect_language("", "Fotos", default="de") == "de"
    assert detect_language("AP", "12.3.2016", default="fr") == "fr"
    assert detect_language("", "", default="en") == "en"
    # a table of figures is no language: the default, not a guess
    assert detect_language("", "Shr 1.15 vs 1.04 Net 2.3 mln vs 1.9 mln Revs 40.1 mln",
                           default="und") == "und"
    assert detect_language("", "\ud800 lone surrogate, then plenty of English words to read "
                               "so that the detector has something to go on") == "en"


def test_detection_returns_codes_of_languages():
    for headline, paragraph in SAMPLES.values():
        assert detect_language(headline, paragraph) in LANGUAGES


def test_default_language_setting():
    assert config.SETTINGS["language"].env == "NEWSINDEX_LANGUAGE"
    assert config.Settings.load(environ={}).language == "en"
    assert config.Settings.load(environ={"NEWSINDEX_LANGUAGE": "de-AT"}).language == "de-AT"


def test_default_language_is_checked(monkeypatch):
    monkeypatch.setenv("NEWSINDEX_LANGUAGE", "de-AT")
    assert default_language() == "de"
    monkeypatch.setenv("NEWSINDEX_LANGUAGE", "martian")
    with pytest.raises(ValueError, match="NEWSINDEX_LANGUAGE"):
        default_language()


# ------------------------------------------------------------------ readers

def read(root: Path) -> tuple[list[Article], list[Problem]]:
    items = list(read_source(root))
    return ([i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Problem)])


def test_json_language_and_lang(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([
        '{"id": 1, "body": "Text", "language": "de-CH"}',
        '{"id": 2, "body": "Text", "lang": "pt_BR"}',
        '{"id": 3, "body": "Text"}',
        '{"id": 4, "body": "Text", "language": "klingon"}',
        '{"id": 5, "body": "Text", "language": ["de"]}',
        '{"id": 6, "body": "Text", "language": "German", "lang": "fr"}',
    ]), encoding="utf-8")
    articles, problems = read(path)
    assert [a.language for a in articles] == ["de", "pt", None, None, None, "de"]
    assert all(p.warning for p in problems)  # indexed anyway, language detected
    assert [(p.line, p.reason) for p in problems] == [
        (4, "unknown language 'klingon' in 'language'; detected from the text instead"),
        (5, "'language' must be a language code such as \"de\", got a list; detected from the "
            "text instead"),
    ]


def test_front_matter_language(tmp_path):
    (tmp_path / "a.md").write_text("---\ntitle: Titel\nlanguage: de\n---\nText", encoding="utf-8")
    (tmp_path / "b.txt").write_text("---\ntitle: Titre\nlang: fr-BE\n---\nTexte", encoding="utf-8")
    (tmp_path / "c.txt").write_text("---\ntitle: T\nlanguage: Elvish\n---\nText", encoding="utf-8")
    articles, problems = read(tmp_path)
    assert [(a.id, a.language) for a in articles] == [("a.md", "de"), ("b.txt", "fr"), ("c.txt", None)]
    assert [str(p) for p in problems] == \
        ["c.txt: unknown language 'Elvish' in front matter 'language:'; detected from the text instead"]


HTML_PAGES = {
    "html-lang.html": ('<html lang="de-AT"><body><article><p>Text.</p></article></body></html>', "de"),
    "og-locale.html": ('<html><head><meta property="og:locale" content="fr_FR"></head>'
                       '<body><p>Texte.</p></body></html>', "fr"),
    "content-language.html": ('<html><head><meta http-equiv="Content-Language" content="es">'
                              '</head><body><p>Texto.</p></body></html>', "es"),
    "json-ld.html": ('<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
                     '"inLanguage": "it-IT", "headline": "Titolo"}</script></head>'
                     '<body><p>Testo.</p></body></html>', "it"),
    "article-lang.html": ('<html lang="en"><body><article lang="nl"><p>Tekst.</p></article>'
                          '</body></html>', "nl"),
    "audience.html": ('<html><head><meta http-equiv="Content-Language" content="de, en"></head>'
                      '<body><p>Text.</p></body></html>', None),
    "bad-then-good.html": ('<html lang="xx-invalid"><head><meta property="og:locale" '
                           'content="sv_SE"></head><body><p>Text.</p></body></html>', "sv"),
    "none.html": ('<html><body><p>Text.</p></body></html>', None),
    "invalid.html": ('<html lang="x-default"><body><p>Text.</p></body></html>', None),
}


def test_html_language_sources(tmp_path):
    for name, (page, _) in HTML_PAGES.items():
        (tmp_path / name).write_text(page, encoding="utf-8")
    articles, problems = read(tmp_path)
    assert {a.id: a.language for a in articles} == {n: code for n, (_, code) in HTML_PAGES.items()}
    assert [str(p) for p in problems] == \
        ["invalid.html: unknown language 'x-default' in <html lang>; detected from the text instead"]


def test_stated_language_is_part_of_the_content_hash():
    # an article stating no language keeps the digest it had before languages existed
    before = Article(id="r1", body="Cocoa prices rose.", title="Cocoa", source="Reuters",
                     published=datetime(1987, 3, 2, tzinfo=timezone.utc), topics=("cocoa",))
    assert before.content_hash() == "99885c7ed193933850e38ddcee2ff015"
    plain = Article(id="1", body="Text")
    assert plain.content_hash() != Article(id="1", body="Text", language="de").content_hash()
    assert Article(id="1", body="Text", language="de").content_hash() != \
        Article(id="1", body="Text", language="fr").content_hash()
