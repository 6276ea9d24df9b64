"""Hits: a page of results as :class:`Hit` objects, with highlighted title and snippet.

Stored fields are read only for the documents shown; what to highlight is the
query as analysed in each article's language (:meth:`_Result.spec`), or, for
the article page, worked out without running the query (:func:`_match_spec`).
"""
from __future__ import annotations

from ..analysis import query_terms
from ..engine import Corpus
from ..live import OpenGeneration
from ..query import AnyOf, Group, ParsedQuery, Phrase, Word
from ..schema import published_from_stored
from ..snippets import MatchSpec, highlight, lead, snippet
from .evaluate import _Result
from .ranking import _ranked
from .results import MAX_RESULT_WINDOW, Hit
from .terms import NOT_TEXT_FIELDS, _keeps_stopwords, _word_tokens


def _page_of_hits(gen, corpus, result, page, per_page, sort, snippets) -> list[Hit]:
    offset = (page - 1) * per_page
    limit = min(per_page, MAX_RESULT_WINDOW - offset)  # nothing past the result window
    if limit <= 0:
        return []
    return [_hit(gen, corpus, d, result, snippets)
            for d in _ranked(corpus, result, sort, limit, offset)]


def _hit(gen: OpenGeneration, corpus: Corpus, docnum: int, result: _Result, snippets: bool,
         body: bool = False) -> Hit:
    fields = corpus.stored_fields(docnum)
    title, body_text = fields.get("title") or "", fields.get("body") or ""
    lang = corpus.language_of(docnum)
    spec = result.spec(lang)  # the query as analysed in the article's language
    return Hit(id=fields["id"], title=title, source=fields.get("source") or "",
               published=published_from_stored(fields.get("published")), url=fields.get("url"),
               author=fields.get("author_name"), score=round(float(result.scores[docnum]), 4),
               title_html=highlight(title, spec, lang) if snippets else highlight(title, MatchSpec(), lang),
               snippet_html=snippet(body_text, spec, lang=lang) if snippets else lead(body_text, lang=lang),
               first_seen=published_from_stored(fields.get("first_seen")),
               last_changed=published_from_stored(fields.get("last_changed")),
               body=body_text if body else None, language=lang)


def _match_spec(parsed: ParsedQuery, lang: str = "en") -> MatchSpec:
    """What a query highlights in an article in ``lang``, without running it (for the article page)."""
    terms: set[str] = set()
    phrases: list[tuple[tuple[str, int], ...]] = []
    keep_stopwords = _keeps_stopwords(parsed, lang)

    def visit(node):
        if isinstance(node, Word) and node.field not in NOT_TEXT_FIELDS and not node.prefix:
            terms.update(t.term for t in _word_tokens(node.text, lang, keep_stopwords))
        elif isinstance(node, Phrase) and node.field not in NOT_TEXT_FIELDS:
            tokens = [t for t in query_terms(node.text, lang) if not t.joined]
            if len(tokens) > 1:
                phrases.append(tuple((t.term, t.pos - tokens[0].pos) for t in tokens))
            terms.update(t.term for t in tokens if len(tokens) == 1)
        elif isinstance(node, AnyOf):
            for o in node.options:
                visit(o)
        elif isinstance(node, Group):
            for c in node.clauses:
                if c.occur != "not":
                    visit(c.node)

    for clause in parsed.clauses:
        if clause.occur != "not":
            visit(clause.node)
    return MatchSpec(frozenset(terms), tuple(phrases))
