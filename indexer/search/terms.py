"""Reading a parsed query: which of its words and phrases are analysed text, and
how a word is analysed in one language.

Small helpers over the parser's tree (:mod:`indexer.query`), shared by the
evaluator, the language grouping and highlighting, which must agree on them.
"""
from __future__ import annotations

import re

from ..analysis import fold, query_terms, rules
from ..query import AnyOf, Clause, Group, ParsedQuery, Phrase, Word

NOT_TEXT_FIELDS = ("source", "published", "lang")  # fields that are not analysed text


def _plain(text: str) -> ParsedQuery:
    """Natural-language text as optional words, operators and punctuation ignored."""
    words = re.findall(r"[\w'’.-]+", text)
    return ParsedQuery(tuple(Clause(Word(w.strip(".-")), "should") for w in words if w.strip(".-")))


def _is_filter(node) -> bool:
    """source:, published: and lang: narrow the results; they say nothing about the text."""
    return isinstance(node, (Word, Phrase)) and node.field in NOT_TEXT_FIELDS


def _text_nodes(parsed: ParsedQuery, fields: tuple | None = None) -> list:
    """Every word and phrase of a query that is analysed text (not source:, published:, lang:),
    or with ``fields``, those of these fields."""
    found = []

    def visit(node):
        if isinstance(node, (Word, Phrase)):
            if (node.field in fields) if fields else (node.field not in NOT_TEXT_FIELDS):
                found.append(node)
        elif isinstance(node, AnyOf):
            for option in node.options:
                visit(option)
        elif isinstance(node, Group):
            for clause in node.clauses:
                visit(clause.node)

    for clause in parsed.clauses:
        visit(clause.node)
    return found


def _only_text(parsed: ParsedQuery) -> bool:
    """Can only an article holding one of the query's words match it? (No negation, no filter
    field, no prefix, not a browse: then articles without any of its terms cannot match.)"""
    def text(node) -> bool:
        if isinstance(node, (Word, Phrase)):
            return node.field not in NOT_TEXT_FIELDS and not (isinstance(node, Word) and node.prefix)
        if isinstance(node, AnyOf):
            return all(text(option) for option in node.options)
        if isinstance(node, Group):
            return all(c.occur != "not" and text(c.node) for c in node.clauses)
        return False

    return not parsed.browse and bool(parsed.clauses) and \
        all(c.occur != "not" and text(c.node) for c in parsed.clauses)


def _prefix_text(text: str, lang: str) -> str:
    """What a ``prefix*`` is compared with: the prefix folded as the language folds its terms."""
    folded = fold(text)
    return folded.replace("\u0131", "i") if rules(lang).dotless_i else folded


def _keeps_stopwords(parsed: ParsedQuery, lang: str) -> bool:
    """A bag of words drops the stopwords other languages index (flagged), unless every word is
    one ("die", "Was ist das"): then they are what the user is looking for."""
    tokens = [t for node in _text_nodes(parsed) if isinstance(node, Word) and not node.prefix
              for t in query_terms(node.text, lang) if not t.joined]
    return bool(tokens) and all(t.stopword for t in tokens)


def _word_tokens(text: str, lang: str, keep_stopwords: bool):
    tokens = query_terms(text, lang)
    return tokens if keep_stopwords else [t for t in tokens if not t.stopword]
