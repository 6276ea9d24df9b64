"""The query language: a forgiving parser from text to a small syntax tree.

Search boxes receive anything: unbalanced quotes, lone operators, stray
``:*~^``, emoji, 2,000 characters of pasted text. The parser never raises: it
repairs what it can (closing a quote, dropping a lone ``OR``) and records a
notice saying what it did, so the user learns what was searched.

Semantics (documented in the README's query help):

- plain words are *optional*: any may match, documents with more of them
  rank higher; ``+word`` makes one required
- ``"quoted text"`` (a phrase or a single word, ``"cease-fire"``) and
  ``field:value`` filters are *required*
- ``-word`` / ``-"phrase"`` / ``NOT word`` exclude
- ``a OR b`` matches either; ``a AND b`` requires both; ``( )`` group
- ``nego*`` matches words starting with "nego"
- fields: ``title:``, ``body:``, ``author:``, ``source:``, ``published:``,
  ``lang:`` (the article's language: ``lang:de``, ``lang:German``)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

FIELDS = {"title": "title", "body": "body", "text": "body", "author": "author",
          "by": "author", "source": "source", "site": "source",
          "published": "published", "date": "published", "year": "published",
          "lang": "lang", "language": "lang"}
MAX_DEPTH = 8  # nested parentheses beyond this are flattened


@dataclass(frozen=True)
class Word:
    text: str
    field: str | None = None
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class AnyOf:
    options: tuple["Node", ...]


@dataclass(frozen=True)
class Group:
    clauses: tuple["Clause", ...]


Node = Union[Word, Phrase, AnyOf, Group]


@dataclass(frozen=True)
class Clause:
    node: Node
    occur: str  # "should" | "must" | "not"


@dataclass
class ParsedQuery:
    clauses: tuple[Clause, ...]
    notices: list[str] = field(default_factory=list)
    browse: bool = False  # "" or "*": every article (narrowed by filters)

    def __str__(self) -> str:
        return describe_clauses(self.clauses)


_TOKEN_RE = re.compile(r'"[^"]*"?|\(|\)|[^\s"()]+')
# lone surrogates too: undecodable bytes in argv arrive as \udcXX and cannot be printed or stored
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff\ud800-\udfff]")
# a comma between digits is a thousands separator ("1,750" is indexed as 1750), not junk
_JUNK_RE = re.compile(r"[:*~^{}\[\]\\!?<>=&|;/]+|(?<!\d),+|,+(?!\d)")


# Lucene's fuzzy / proximity (~2) and boost (^3) suffixes, on a word or after a phrase
_SUFFIX_RE = re.compile(r"(?<=[^\s~^])([~^])(\d+(?:\.\d+)?)?$")
_LONE_SUFFIX_RE = re.compile(r"^[~^]\d*(?:\.\d+)?$")
_SUFFIX_MEANING = {"~": "fuzzy and proximity searches are not supported", "^": "boosts are not supported"}
_FIELD_NAME_RE = re.compile(r"^[^\W\d_]+$")


def strip_controls(text: str, replacement: str = "") -> str:
    """Text as typed, without the control, bidi-override and zero-width characters no page
    or message should echo (a NUL from ``?q=%00``); a query replaces them with spaces, as
    :func:`normalize_query` does."""
    return _CONTROL_RE.sub(replacement, text or "")


def normalize_query(text: str) -> str:
    """Control characters out, curly quotes straight, whitespace single."""
    text = _CONTROL_RE.sub(" ", text or "")
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u201e", '"')
    return " ".join(text.split())


def parse(text: str) -> ParsedQuery:
    notices: list[str] = []
    text = normalize_query(text)
    if text.count('"') % 2:
        notices.append("closed an unbalanced quote at the end of the query")
    tokens = _TOKEN_RE.findall(text)
    if text == "" or set(text) == {"*"}:
        return ParsedQuery((), [], browse=True)
    clauses, rest = _parse_clauses(tokens, 0, notices, depth=0)
    if rest < len(tokens):  # stray ")" — keep parsing what follows
        notices.append("ignored an unmatched ')'")
        more, _ = _parse_clauses(tokens[rest + 1:], 0, notices, depth=0)
        clauses = clauses + more
    return ParsedQuery(tuple(clauses), list(dict.fromkeys(notices)))


def _parse_clauses(tokens: list[str], i: int, notices: list[str], depth: int) -> tuple[list[Clause], int]:
    """Parse until a closing parenthesis or the end; returns (clauses, index)."""
    items: list[Clause] = []
    pending_or = False
    pending_occur: str | None = None
    while i < len(tokens):
        token = tokens[i]
        if token == ")":
            if depth > 0:
                break
            i += 1
            notices.append("ignored an unmatched ')'")
            continue
        if token in ("OR", "||", "|"):
            pending_or = bool(items)
            i += 1
            continue
        if token in ("AND", "&&", "&"):
            if items and items[-1].occur == "should":
                items[-1] = Clause(items[-1].node, "must")
            pending_occur = pending_occur or "must"
            i += 1
            continue
        if token == "NOT":
            pending_occur = "not"
            i += 1
            continue
        occur, node, i = _parse_item(tokens, i, notices, depth)
        if node is None:
            continue
        if pending_occur:
            occur = "not" if pending_occur == "not" else ("not" if occur == "not" else "must")
            pending_occur = None
        if pending_or and items and occur != "not" and items[-1].occur != "not":
            previous = items.pop()
            options = previous.node.options if isinstance(previous.node, AnyOf) else (previous.node,)
            occur = "must" if "must" in (previous.occur, occur) else "should"
            items.append(Clause(AnyOf(options + (node,)), occur))
        else:
            items.append(Clause(node, occur))
        pending_or = False
    if pending_or or pending_occur:
        notices.append("ignored an operator with nothing after it")
    return items, i


def _parse_item(tokens: list[str], i: int, notices: list[str], depth: int):
    """One item with its +/- prefix; returns (occur, node or None, next index)."""
    token = tokens[i]
    occur = "should"
    if token in ("-", "+"):  # a lone sign applies to the next item
        if i + 1 >= len(tokens) or tokens[i + 1] in (")", "OR", "AND", "NOT", "-", "+"):
            return occur, None, i + 1
        occur = "not" if token == "-" else "must"
        i += 1
        token = tokens[i]
    elif token[0] in "+-":
        occur = "not" if token[0] == "-" else "must"
        token = token.lstrip("+-")
        if not token:
            return occur, None, i + 1
    if token == "(":
        if depth >= MAX_DEPTH:
            return occur, None, i + 1
        inner, j = _parse_clauses(tokens, i + 1, notices, depth + 1)
        if j >= len(tokens):
            notices.append("closed an unbalanced '(' at the end of the query")
        node = _simplify_group(inner)
        if occur == "should" and _only_fields(node):
            occur = "must"  # (lang:de OR lang:fr): field filters, required as a lone one is
        return occur, node, j + 1
    if _LONE_SUFFIX_RE.match(token):  # "hot phase"~3: the suffix came apart from its phrase
        notices.append(f"ignored “{token}”: {_SUFFIX_MEANING[token[0]]}")
        return occur, None, i + 1
    suffix = _SUFFIX_RE.search(token) if not token.startswith('"') else None
    if suffix:
        notices.append(f"ignored “{suffix.group(0)}” in “{token}”: {_SUFFIX_MEANING[suffix.group(1)]}")
        token = token[:suffix.start()]
    if token.startswith('"'):
        node = _phrase(token, None)
        if node is not None and occur == "should":
            occur = "must"  # quoted text, one word or many, is something the user insists on
        return occur, node, i + 1
    name, sep, value = token.partition(":")
    fieldname = FIELDS.get(name.lower()) if sep else None
    if fieldname:
        if not value and i + 1 < len(tokens) and tokens[i + 1].startswith('"'):
            value, i = tokens[i + 1], i + 1  # title: "hot phase" (space after the colon)
        if value.startswith('"'):
            node = _phrase(value, fieldname)
        else:
            node = _word(value, fieldname)
        if node is None:
            return occur, None, i + 1
        return ("must" if occur == "should" else occur), node, i + 1
    quoted_next = i + 1 < len(tokens) and tokens[i + 1].startswith('"')
    if sep and (value or quoted_next) and _FIELD_NAME_RE.match(name):  # headline:cocoa, headline:"a b"
        if not value:
            value, i = tokens[i + 1], i + 1
        searched = value.strip('"')
        notices.append(f"“{name}:” is not a field ({', '.join(sorted(set(FIELDS.values())))}): "
                       f"searched “{searched}” in the text")
        if value.startswith('"'):
            node = _phrase(value, None)
            return ("must" if occur == "should" and node is not None else occur), node, i + 1
        token = value
    return occur, _split_word(token, notices), i + 1


def _split_word(token: str, notices: list[str]) -> Node | None:
    """A word as typed. Stray characters inside it (``cocoa/oil``) part it into words searched
    side by side, as if typed with a space; digits stay together (``10:30``, ``24/7``)."""
    if "*" in token.rstrip("*"):  # only a trailing * is a prefix: "*coa" and "coco*a" are not
        head, star, _ = token.lstrip("*").partition("*")
        kept = head + star
        notices.append(f"only a * at the end of a word is supported (nego*): searched “{kept}” for “{token}”")
        token = kept
    stem = token.rstrip("*")
    parts = _JUNK_RE.sub(" ", stem).split()
    if len(parts) < 2 or all(part.isdigit() for part in parts):
        return _word(token, None)
    junk = "".join(dict.fromkeys(ch for ch in stem if _JUNK_RE.match(ch)))
    if stem != token:
        parts[-1] += "*"  # cocoa/oil* : the prefix is the last word's
    notices.append(f"ignored “{junk}” in “{token}”: searched {' '.join(parts)} as separate words")
    words = [_word(part, None) for part in parts]
    return Group(tuple(Clause(w, "should") for w in words if w is not None))


def _phrase(token: str, fieldname: str | None) -> Node | None:
    text = token.strip('"').strip()
    if not text:
        return None
    if fieldname in ("published", "lang"):
        return Word(text, fieldname)
    if len(text.split()) == 1:
        return _word(text, fieldname)
    return Phrase(text, fieldname)


def _word(token: str, fieldname: str | None) -> Word | None:
    prefix = token.endswith("*") and fieldname not in ("published", "lang")
    if fieldname == "published":
        text = token.strip()
    elif fieldname == "lang":
        text = " ".join(_JUNK_RE.sub(" ", token).split())
        return Word(text, fieldname) if text else None
    else:
        text = _JUNK_RE.sub(" ", token).strip()
    if not text:
        return None
    if prefix and " " not in text:
        return Word(text, fieldname, prefix=True)
    if " " in text:  # foo:bar with an unknown field, or junk inside: search the pieces together
        parts = text.split()
        return Phrase(" ".join(parts), fieldname) if fieldname else Word(" ".join(parts), None)
    return Word(text, fieldname)


def _only_fields(node: Node | None) -> bool:
    """An OR of field filters only (``source:a OR source:b``)."""
    return isinstance(node, AnyOf) and all(isinstance(o, (Word, Phrase)) and o.field for o in node.options)


def _simplify_group(clauses: list[Clause]) -> Node | None:
    if not clauses:
        return None
    if len(clauses) == 1 and clauses[0].occur != "not":
        return clauses[0].node
    return Group(tuple(clauses))


def describe_clauses(clauses: tuple[Clause, ...]) -> str:
    """A readable, unambiguous rendering for --show-query."""
    marks = {"should": "", "must": "+", "not": "-"}
    return " ".join(marks[c.occur] + describe_node(c.node) for c in clauses)


def describe_node(node: Node) -> str:
    if isinstance(node, Word):
        prefix = f"{node.field}:" if node.field else ""
        if " " in node.text and node.field not in ("published", "lang"):
            return f'{prefix}"{node.text}"'  # 24/7, 10:30: its words side by side, as a phrase
        return f"{prefix}{node.text}{'*' if node.prefix else ''}"
    if isinstance(node, Phrase):
        prefix = f"{node.field}:" if node.field else ""
        return f'{prefix}"{node.text}"'
    if isinstance(node, AnyOf):
        return "(" + " OR ".join(describe_node(o) for o in node.options) + ")"
    return "(" + describe_clauses(node.clauses) + ")"
