"""Whoosh stays the index: stock Whoosh reads what newsindex writes, and finds the same.

The same articles are indexed twice: by ``newsindex reindex`` (the vectorised
writer, newsindex's codec) and by stock Whoosh's own ``SegmentWriter`` with
its default W3 codec and the same schema. Through the stock reader and
searcher the two indexes must hold the same terms, postings, positions,
stored fields and lengths, and answer stock queries with the same documents
and scores.

Articles in other languages are in it too: newsindex's writer analyses each in
its language, and so does stock Whoosh, because :func:`indexer.schema.to_document`
hands a text field the article's language with its value (``LanguageText``).
"""
from __future__ import annotations

import math
from datetime import timezone
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.qparser import MultifieldParser, QueryParser

from indexer.articles import Article
from indexer.codec import NewsSegment
from indexer.ingest import reindex
from indexer.live import LiveIndex
from indexer.readers import read_source
from indexer.schema import build_schema, to_document

from .conftest import SAMPLE, write_jsonl

EXTRA = [
    {"id": "a1", "title": "Cease-fire talks resume in Geneva", "body": "Negotiators met again. The cease-fire "
     "held overnight; U.S. officials said 1,750 troops would stay. O'Neill's aides, and a xylophonist, "
     "were present.",
     "author": ["Jane Doe", "Omar Haddad"], "topics": ["diplomacy", "war"], "source": "Example Wire",
     "published": "2024-11-30T10:00:00Z", "url": "https://example.com/a1"},
    {"id": "a2", "title": "Café owners protest", "body": "Café owners in Zürich protested a tax. "
     "Ceasefire or not, prices rose 5.93 percent, a marimbist said. 東京で会議が開かれた。",
     "author": "Jane Doe",
     "topics": ["economy"], "source": "Example Wire", "published": "2023-01-02"},
    {"id": "a3", "title": "", "body": "A body without a headline, and without a date or a source."},
    {"id": "de1", "title": "Gewerkschaften rufen zum Streik auf",
     "body": "Die Gewerkschaft fordert höhere Löhne. Was die Arbeitgeber anbieten, will sie nicht "
             "annehmen; 1,5 Milliarden Euro seien zu wenig, sagte die Sprecherin in der Türkei.",
     "author": "Anne Will", "source": "Beispiel Zeitung", "published": "2016-03-01"},
    {"id": "fr1", "title": "Les négociations reprennent", "language": "fr",
     "body": "L'homme a dit que les négociations nationales reprendraient. On attend un accord."},
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("codec")
    articles = root / "articles"
    (articles).mkdir()
    for f in SAMPLE.iterdir():
        if f.is_file():
            (articles / f.name).write_bytes(f.read_bytes())
    write_jsonl(articles / "extra.jsonl", EXTRA)
    return articles


@pytest.fixture(scope="module")
def both(corpus, tmp_path_factory) -> tuple[whoosh_index.Index, whoosh_index.Index]:
    """(newsindex's generation, stock Whoosh's index) of the same articles in the same order."""
    root = tmp_path_factory.mktemp("indexes")
    reindex(root / "ours", [corpus], workers=1)
    gen = LiveIndex(root / "ours").current()
    ours = whoosh_index.open_dir(str(gen.path))
    stock_dir = root / "stock"
    stock_dir.mkdir()
    stock = whoosh_index.create_in(str(stock_dir), build_schema())
    order = [gen.corpus.article_id(d) for d in range(gen.corpus.size)]
    articles = {a.id: a for a in read_source(str(corpus)) if isinstance(a, Article)}
    first_seen = {gen.corpus.article_id(d): gen.corpus.stored_fields(d)["first_seen"]
                  for d in range(gen.corpus.size)}
    language = {gen.corpus.article_id(d): gen.corpus.language_of(d) for d in range(gen.corpus.size)}
    assert language["de1"] == "de" and language["fr1"] == "fr"  # detected; stated
    writer = stock.writer()
    for article_id in order:
        seen = first_seen[article_id].replace(tzinfo=timezone.utc)
        writer.add_document(**to_document(articles[article_id], seen, seen, language[article_id]))
    writer.commit()
    return ours, stock


def test_the_stock_reader_opens_our_segments(both):
    ours, stock = both
    with ours.reader() as reader:
        assert all(isinstance(s, NewsSegment) for s in ours._segments())
        assert reader.doc_count() == stock.doc_count() > 300


def test_same_terms_postings_and_positions(both):
    ours, stock = both
    with ours.reader() as a, stock.reader() as b:
        terms_a, terms_b = list(a.all_terms()), list(b.all_terms())
        assert terms_a == terms_b
        for fieldname, text in terms_b:
            fmt = b.schema[fieldname].format
            kind = "positions" if fmt.supports("positions") else "frequency"
            pa = a.postings(fieldname, text)
            pb = b.postings(fieldname, text)
            assert list(pa.items_as(kind)) == list(pb.items_as(kind)), (fieldname, text)
            ia, ib = a.term_info(fieldname, text), b.term_info(fieldname, text)
            assert (ia.doc_frequency(), ia.min_id(), ia.max_id()) == (ib.doc_frequency(), ib.min_id(), ib.max_id())
            assert math.isclose(ia.weight(), ib.weight(), rel_tol=1e-6)
            assert (ia.min_length(), ia.max_length()) == (ib.min_length(), ib.max_length()), (fieldname, text)


def test_same_stored_fields_and_lengths(both):
    ours, stock = both
    with ours.reader() as a, stock.reader() as b:
        for docnum in range(b.doc_count_all()):
            assert a.stored_fields(docnum) == b.stored_fields(docnum)
            for name in ("title", "body", "author"):
                assert a.doc_field_length(docnum, name) == b.doc_field_length(docnum, name)
        for name in ("title", "body", "author"):
            assert a.field_length(name) == b.field_length(name)
            assert a.max_field_length(name) == b.max_field_length(name)


QUERIES = ["cocoa", "cocoa prices", '"cease fire"', "ceasefire", "cafe", "zurich OR geneva", "coffee -brazil",
           "title:cocoa", "author:doe", "source:Reuters", "topics:war", "nego*", "publish*",
           "published:[20230101 to 20241231]", "東京", "us", "1750", "gewerkschaft", "lohn", "was",
           '"will nicht"', '"in der turkei"', "1.5", "negoci", "homm"]


@pytest.mark.parametrize("text", QUERIES)
def test_stock_searcher_gives_the_same_answers(both, text):
    ours, stock = both
    parser = MultifieldParser(["title", "body"], stock.schema)
    query = parser.parse(text)
    with ours.searcher() as a, stock.searcher() as b:
        ra, rb = a.search(query, limit=50), b.search(query, limit=50)
        assert len(ra) == len(rb)
        assert [(h["id"], round(h.score, 4)) for h in ra] == [(h["id"], round(h.score, 4)) for h in rb]
        assert a.search(query, limit=None, sortedby="published").docs() == \
            b.search(query, limit=None, sortedby="published").docs()


def test_deletions_are_seen_by_stock_whoosh(corpus, tmp_path):
    reindex(tmp_path / "ix", [corpus], workers=1)
    (corpus / "extra.jsonl").rename(corpus.parent / "extra.moved")
    write_jsonl(corpus / "only-a1.jsonl", EXTRA[:1])
    try:
        summary = reindex(tmp_path / "ix", [corpus], workers=1)
    finally:
        (corpus / "only-a1.jsonl").unlink()
        (corpus.parent / "extra.moved").rename(corpus / "extra.jsonl")
    assert (summary.deleted, summary.updated, summary.unchanged) == (4, 1, 301)  # a1 moved: written again
    gen = LiveIndex(tmp_path / "ix").current()
    ix = whoosh_index.open_dir(str(gen.path))
    parser = QueryParser("body", ix.schema)
    with ix.searcher() as s:
        assert s.doc_count() == gen.corpus.count == 302
        assert s.document(id="a2") is None and s.document(id="a1")["title"].startswith("Cease-fire")
        assert len(s.search(parser.parse("marimbist"))) == 0
        assert [h["id"] for h in s.search(parser.parse("xylophonist"))] == ["a1"]
