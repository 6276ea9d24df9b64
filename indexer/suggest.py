"""Did-you-mean: correct unknown or rare query words from the words written in the index's articles.

The rules (after Lucene's DirectSpellChecker and Elasticsearch's term suggester):

* **Distance on the surface form.** The index holds stems ("arbeitslos",
  "unemploy"), but a correction is judged by the Damerau-Levenshtein distance
  (an adjacent swap is one edit) between the typed word, folded, and a word as
  written in an article that holds the candidate stem, folded. Stems are only
  a way to *find* candidates: two stems may be close while the words are far
  apart ("eleph" and "elect": "elephant" is five edits from "election"), and a
  typo in a suffix changes the stem completely ("unemploymnet" stems to
  itself, "unemployment" to "unemploy").
* **Edits allowed, relative to length** (:func:`max_edits`): none below
  :data:`MIN_WORD` letters (a 3-letter word is one edit from dozens of
  words), one for 4-5 letters, two from 6 letters on; and the correction's
  own length limits it the same way (Lucene's accuracy is relative to the
  shorter word too): "wombat" is two edits from "womit", too many for a
  5-letter word, while "oill" may still become the 3-letter "oil".
* **The first letter is kept** (Lucene's ``minPrefix`` 1): typos seldom touch
  it, and it bounds the search to one letter's range of each term table.
* **More frequent than what was typed**: a word already in :data:`RARE`
  articles is not corrected, unless it is in fewer than
  :data:`MAX_QUERY_FREQUENCY` of the articles searched (Lucene's and
  Elasticsearch's ``maxQueryFrequency``/``max_term_freq`` default, 1%): an
  archive's own typo ("Britian", in 3 articles, where "Britain" is in 380)
  is then offered a correction that passes every confidence test below,
  never replaced; and only for a query of that one word (beside other words,
  "wombat police", "collaboration suite", the rare but real word is what was
  meant, and looking costs a search of vocabulary and articles per word:
  Elasticsearch's term suggester, by default, suggests only for words not in
  the index). A correction must be in more articles than the typed word,
  and :data:`BETTER` times as many.
* **Never a typed stopword** of a language searched ("where", "because",
  German "durch"): it is a real word, which the search ignores as too common,
  not a misspelling; a correction towards one ("wehre") or towards an
  archive's typo of one ("becuase") would replace a word the user wrote right.
* **Never a stopword** of any language with a stopword list (German
  "zwischen", French "avec"): a function word is never what a reader searched
  for. (Function words missing from NLTK's lists, like German "womit", are
  short, and the length rule above keeps them away from longer typed words.)
* **The query's language first**: when the query's other words are known
  words of some languages' articles, a correction found in those languages
  wins over a closer one found only in other languages' articles.
* **Spelling as written**: the suggestion is the word as an article writes it
  (umlauts and accents kept), in the case pattern typed.
* **Confidence** (:attr:`Correction.confident`), which alone allows a search
  with no results to be replaced by the correction's (and only with
  ``correct`` on: ``search(..., correct=False)``, ``correct=off``,
  ``--no-correct`` always search what was typed). All of these must hold,
  otherwise the correction is only offered ("Did you mean"):

  - every corrected word is at most one edit per :data:`CONFIDENT_LETTERS`
    letters from what was typed (one edit from 5 letters, two from 10);
  - no other stem as close is even a :data:`BETTER`-th as common (typed
    "petroleom": "petroleum" in 16 articles, the name "Petroleos" in one);
  - **the correction is** :data:`BETTER` **times as common as the typed word
    counted as seen at least once** (add-one smoothing, as language-model
    spellers such as Elasticsearch's phrase suggester smooth unseen words):
    a word no article holds is not evidence that it is misspelled (names,
    rare words: "Jarre", "tulip"), so replacing it needs a correction in
    :data:`BETTER` articles or more, not one;
  - **the language**: the correction is a word of the query's language when
    its other words show one (they are known words of that language's articles
    only); otherwise of the archive's main language (the languages searched
    that hold at least half of the searched articles). A correction found
    only in a minority language's articles is offered, never searched in
    place of a word that may be the main language's ("Sussex" → German
    "Süßen", "Jarre" → "Jahre");
  - **no quoted or required word** is corrected (``"Jarre"``, ``+Jarre``):
    the user insists on that spelling;
  - **one corrected word at most** (:data:`MAX_SUBSTITUTED`, Elasticsearch's
    phrase suggester's ``max_errors`` default of 1): two guesses in one query
    are less likely right than one.

  What no rule here can tell, without a dictionary of the language or query
  logs: a correctly spelled word the archive does not hold that is one edit
  from a common word of the main language ("quartet" → "quarter", "spoon" →
  "soon") is still replaced; the page says so and links to the search as
  typed.

Candidates (:func:`_candidate_stems`), bounded per query word whatever the
index size: in each segment's term table, only the typed word's first
letter's range is read (a binary search), and numpy skips, with the stored
length and letter counts (``segment.letter_signature``), every stem that
cannot be within the allowed edits of (a) the typed word's stem in each
language or the typed word itself, or (b) a prefix of it of at least half its
length (the stem of a correctly spelled word with a suffix). Of those, at most
:data:`MAX_CHECKED` per term table (by numpy's partition) and in all get an
edit distance computed in Python; the closest are looked up in at most
:data:`SURFACE_SAMPLE` articles each, :data:`MAX_ARTICLES` in all, until
:data:`MAX_VERIFIED` have a spelling near enough (:func:`_surface_forms`).
So the Python work per query word is bounded by constants (times the number
of segments, which merging keeps small); what grows with the index is only
numpy's pass over one letter's range of each term table, as before.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .analysis import STOPWORD_LANGUAGES, analyze_word, fold, stopwords
from .engine import Corpus
from .segment import SPELL_FIELDS, letter_signature

MIN_WORD = 4  # shorter words are never corrected (Lucene's minQueryLength)
RARE = 2  # a word in fewer articles than this may be a typo, and may be replaced by its correction
MAX_QUERY_FREQUENCY = 0.01  # a word in fewer than this share of the articles may be an archive's typo
# ("Britian"): offered a correction BETTER times as common, never replaced (Lucene's maxQueryFrequency)
BETTER = 10  # a correction must be this many times more common
CONFIDENT_LETTERS = 5  # a confident correction makes at most one edit per this many letters
MAX_SUBSTITUTED = 1  # a confident correction changes at most this many words (ES phrase suggester's max_errors)
MAX_CHECKED = 60  # stems per query word whose edit distance is computed (closest letter counts first)
MAX_VERIFIED = 8  # stems per query word whose spellings are read from articles
SURFACE_SAMPLE = 8  # articles read per stem to see how it is written
MAX_ARTICLES = 40  # articles read per query word
SPELLINGS_READ = 3  # articles of a stem read at least once one spelling is an edit from what was typed
_OPERATORS = {"OR", "AND", "NOT"}
_LANGUAGE_FIELD = re.compile(r"(?:^|[\s(+-])(?:lang|language):\"?$", re.IGNORECASE)


def max_edits(length: int) -> int:
    """Edits allowed between a typed word of ``length`` letters and its correction."""
    return 0 if length < MIN_WORD else 1 if length <= 5 else 2


@lru_cache(maxsize=1)
def all_stopwords() -> frozenset[str]:
    """Every language's stopwords, folded (a correction is never one of them)."""
    return frozenset(fold(w) for lang in STOPWORD_LANGUAGES for w in stopwords(lang))


@lru_cache(maxsize=None)
def _folded_stopwords(lang: str) -> frozenset[str]:
    return frozenset(fold(w) for w in stopwords(lang)) | stopwords(lang)


def is_stopword(word: str, languages) -> bool:
    """Whether ``word`` is a stopword of one of ``languages`` (then it is never corrected)."""
    lowered = word.lower().replace("'", "").replace("’", "")
    folded = fold(lowered)
    return any(lowered in _folded_stopwords(lang) or folded in _folded_stopwords(lang)
               for lang in languages if lang in STOPWORD_LANGUAGES)


def main_languages(corpus: Corpus, searched: list[str]) -> set[str]:
    """The languages searched holding at least half of the searched articles (two at a tie)."""
    counts = {lang: n for lang, n in corpus.languages().items() if lang in searched}
    total = sum(counts.values())
    return {lang for lang, n in counts.items() if 2 * n >= total} if total else set(searched)


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein (adjacent swaps), stopping early past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    return _distances(a, b, limit)[-1]


def prefix_distance(stem: str, word: str, limit: int = 2) -> int:
    """The fewest edits turning ``stem`` into some prefix of ``word`` (at least half of it)."""
    row = _distances(stem, word, limit)
    return min(row[(len(word) + 1) // 2:], default=limit + 1)


def _distances(a: str, b: str, limit: int) -> list[int]:
    """The last row of the Damerau-Levenshtein table of ``a`` against ``b``: the distance
    from ``a`` to every prefix of ``b``; all ``limit + 1`` once every entry exceeds ``limit``."""
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return [limit + 1] * (len(b) + 1)
        prev2, prev = prev, cur
    return prev


@dataclass(frozen=True)
class Correction:
    """A corrected query; ``confident``: good enough to be searched instead of what was typed."""

    text: str
    confident: bool


@dataclass
class _Form:
    """A word written in the articles, near a typed word."""

    folded: str
    term: str
    distance: int
    languages: set[str] = field(default_factory=set)
    written: dict[str, int] = field(default_factory=dict)  # lowercased spelling -> times seen


def correct_query(corpus: Corpus, text: str, languages: list[str] | None = None,
                  searched: list[str] | None = None) -> Correction | None:
    """The query with misspelled words replaced and whether that is confident, or None.

    ``languages``: those whose analysis and vocabulary to use (default: every language of the
    index); ``searched``: the languages whose articles frequencies count (default: the same).
    """
    if languages is None:
        languages = list(corpus.languages()) or ["en"]
    if not languages:
        return None
    searched = searched if searched is not None else languages
    mask = corpus.language_mask(searched)
    stoplists = set(languages) | set(searched)
    words = [(m, _correctable(text, m, m.group()) and not is_stopword(m.group(), stoplists))
             for m in re.finditer(r"[^\W\d_][\w'’]*", text)]
    context = _query_languages(corpus, [m.group() for m, ok in words], languages, mask)
    # the language a substitution must be in: the query's when its other words show one,
    # else the archive's main language (that of most articles searched)
    target = context if len(context) == 1 else main_languages(corpus, searched)
    quoted = _quoted_spans(text)
    # an archive's typo (a word its articles hold, but rarely) is only looked for in a query of that
    # one word (Elasticsearch's term suggester suggests for words not in the index by default:
    # "popular" mode costs a search of the vocabulary and articles per word, and beside other
    # words, "wombat police" or "collaboration suite", the rare but real word is what was meant)
    archive_typos = sum(ok for _, ok in words) == 1 and \
        not any(ok and not _known(corpus, m.group(), languages, mask) for m, ok in words)
    corrected, confident = 0, True
    out = []
    cursor = 0
    for m, ok in words:
        word = m.group()
        out.append(text[cursor:m.start()])
        cursor = m.end()
        fixed = _correct(corpus, word, languages, mask, searched, context, target, archive_typos) \
            if ok else None
        if fixed and fixed[0] != word:
            corrected += 1
            confident = confident and fixed[1] and not _exact(text, m, quoted)
            out.append(fixed[0])
        else:
            out.append(word)
    out.append(text[cursor:])
    if not corrected:
        return None
    return Correction("".join(out), confident and corrected <= MAX_SUBSTITUTED)


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each quoted part of ``text``; an unbalanced quote runs to the end (as parsed)."""
    marks = [i for i, c in enumerate(text) if c == '"'] + [len(text)]
    return [(marks[k], marks[k + 1]) for k in range(0, len(marks) - 1, 2)]


def _exact(text: str, m: re.Match, quoted: list[tuple[int, int]]) -> bool:
    """Whether the user insists on this word as written: quoted ("Jarre") or required (+Jarre)."""
    if any(start < m.start() < end for start, end in quoted):
        return True
    token = text[text.rfind(" ", 0, m.start()) + 1:m.start()]
    return token.lstrip("(").startswith("+")


def _correctable(text: str, m: re.Match, word: str) -> bool:
    if len(word) < MIN_WORD or word in _OPERATORS:
        return False
    after = text[m.end():m.end() + 1]
    if after == "*" or text[m.start() - 1:m.start()] == "*":
        return False  # part of a prefix or wildcard pattern, not a misspelled word
    if _LANGUAGE_FIELD.search(text, 0, m.start()):
        return False  # lang:German names a language
    return after != ":"  # a field name, not a word


def _query_languages(corpus: Corpus, words: list[str], languages: list[str], mask) -> set[str]:
    """The languages whose articles hold every known word of the query (empty: none known)."""
    common: set[str] | None = None
    for word in words:
        for lang in languages:
            emissions = analyze_word(word, lang).emissions
            if len(emissions) != 1 or emissions[0].stopword or not emissions[0].term.isalpha():
                continue
            if corpus.doc_frequency(emissions[0].term, mask) >= RARE:
                holding = corpus.term_languages(emissions[0].term) & set(languages)
                common = holding if common is None else common & holding
                break
    return common or set()


def _known(corpus: Corpus, word: str, languages: list[str], mask) -> bool:
    """Whether some language searched analyses ``word`` to a term in at least RARE articles."""
    for lang in languages:
        emissions = analyze_word(word, lang).emissions
        if len(emissions) == 1 and corpus.doc_frequency(emissions[0].term, mask) >= RARE:
            return True
    return False


def _correct(corpus: Corpus, word: str, languages: list[str], mask, searched: list[str],
             context: set[str], target: set[str], archive_typos: bool = True) -> tuple[str, bool] | None:
    """(the closest common spelling of ``word``, confident), or None. Without ``archive_typos``, a
    word in RARE articles or more is left as it is."""
    holding = _languages_holding(corpus, word, searched or languages)
    if holding:  # a real word of some articles: correct it only the way their languages read it
        languages = [lang for lang in languages if lang in holding]
        if not languages:
            return None  # a word of a language too small to have a vocabulary of its own
        own = corpus.language_mask(languages)
        mask = own if mask is None else (mask if own is None else own & mask)
    typed = fold(word)
    limit = max_edits(len(typed))
    if not limit or not typed.isalpha():
        return None
    stems: set[str] = {typed}
    df = 0
    for lang in languages:
        emissions = analyze_word(word, lang).emissions
        if len(emissions) == 1:
            df = max(df, corpus.doc_frequency(emissions[0].term, mask))
            if df >= RARE and (not archive_typos or df >= MAX_QUERY_FREQUENCY * _articles(corpus, mask)):
                return None  # a known word in one of the languages searched
            if emissions[0].term.isalpha():
                stems.add(emissions[0].term)
    ranked = _candidate_stems(corpus, typed, stems, limit)
    forms = _surface_forms(corpus, typed, ranked, limit, mask)
    choices = []
    for form in forms:
        if form.folded in all_stopwords() or form.distance > max(max_edits(len(form.folded)), 1):
            continue
        cdf = corpus.doc_frequency(form.term, mask)
        if cdf <= df or cdf < BETTER * df:
            continue
        foreign = bool(context) and not form.languages & context
        choices.append(((foreign, form.distance, -cdf, -sum(form.written.values()), form.folded), form))
    if not choices:
        return None
    choices.sort(key=lambda c: c[0])
    (_, _, best_df, *_), best = choices[0]
    rivals = [f for (_, _, cdf, *_), f in choices[1:]  # as close, another word, not much rarer
              if f.distance == best.distance and f.term != best.term and f.folded != best.folded
              and -cdf * BETTER >= -best_df]
    foreign = choices[0][0][0]
    confident = (best.distance * CONFIDENT_LETTERS <= len(typed) and not rivals and not foreign
                 and bool(best.languages & target) and -best_df >= BETTER * (df + 1))
    if df >= RARE:  # an archive's typo ("Britian"): offered only, and only what would otherwise be confident
        if not confident:
            return None
        confident = False
    spelling = max(best.written, key=lambda w: (best.written[w], w))
    return _as_typed(spelling, word), confident


def _articles(corpus: Corpus, mask) -> int:
    return corpus.count if mask is None else int(np.count_nonzero(mask & corpus.live))


def _as_typed(spelling: str, typed: str) -> str:
    """``spelling`` (lower case) in the case pattern of ``typed``: UPPER, Capitalised or lower."""
    if typed.isupper() and len(typed) > 1:
        return spelling.upper()
    return spelling[:1].upper() + spelling[1:] if typed[:1].isupper() else spelling


def _languages_holding(corpus: Corpus, word: str, searched: list[str]) -> set[str]:
    """The languages searched whose articles hold ``word`` as that language analyses it.

    A rare word some articles do hold (German "Haus", French "homme" in a mostly English
    archive) is only corrected towards words common in *those* articles' languages:
    otherwise every word of a small language would be "corrected" into a look-alike of
    the large one ("House", "home").
    """
    present = corpus.languages()
    analyses: dict[str, list[str]] = {}  # the word's term -> the languages searched that analyse it so
    for lang in searched:
        emissions = analyze_word(word, lang).emissions if lang in present else ()
        if len(emissions) == 1:
            analyses.setdefault(emissions[0].term, []).append(lang)
    return {lang for term, langs in analyses.items() for lang in set(langs) & corpus.term_languages(term)}


def _signature_counts(signatures: np.ndarray) -> np.ndarray:
    """The sixteen 2-bit letter counts of each signature, as a (16, n) int8 array."""
    a = signatures.astype(np.int64)
    return np.stack([(a >> (2 * k)) & 3 for k in range(16)]).astype(np.int8)


def _counts_of(word: str) -> np.ndarray:
    return _signature_counts(np.array([letter_signature(word)], dtype=np.uint32))[:, 0]


def _candidate_stems(corpus: Corpus, typed: str, stems: set[str], limit: int) -> list[str]:
    """Stems of the index that may be written within ``limit`` edits of ``typed``, likeliest first.

    (a) stems within ``limit`` edits of one of ``stems`` (the typed word and its stem in each
    language): a typo inside the stem; (b) stems within ``limit`` edits of a prefix of ``typed``
    at least half its length: the stem of the intended word when the typo is in its suffix.
    Letter counts bound both before any edit distance is computed: a stem within ``limit``
    edits of a word has counts differing from it by at most 2 × ``limit``, and a stem that is
    a prefix of a word within ``limit`` edits of ``typed`` has at most ``limit`` letters (plus
    one, for English's y -> i) more of any kind than ``typed``.
    """
    near = [(s, _counts_of(s)) for s in stems]
    typed_counts = _counts_of(typed)
    prefixes = _signature_counts(np.array([letter_signature(typed[:k]) for k in range(len(typed) + 1)],
                                          dtype=np.uint32))  # (16, len + 1): counts of each prefix
    shortest = max(MIN_WORD - 1, (len(typed) + 1) // 2 - limit)
    scored: dict[str, tuple[int, int]] = {}  # stem -> (letter-count difference, articles)
    first = typed[0].encode("utf-8")
    for field_name in SPELL_FIELDS:
        for _, terms in corpus.field_terms(field_name):
            if terms.tlen is None:
                continue
            lo, hi = terms.prefix_range(first)
            if lo == hi:
                continue
            lengths = terms.tlen[lo:hi].astype(np.int64)
            plausible = (lengths >= shortest) & (lengths <= len(typed) + limit)
            idx = np.flatnonzero(plausible)
            if not len(idx):
                continue
            counts = _signature_counts(terms.tsig[lo:hi][idx])
            excess = np.maximum(counts - typed_counts[:, None], 0).sum(axis=0)
            prefix_diff = np.abs(counts - prefixes[:, np.minimum(lengths[idx], len(typed))]).sum(axis=0)
            best = np.where((excess <= limit + 1) & (prefix_diff <= 2 * limit), prefix_diff // 2, 99)
            for stem, stem_counts in near:
                close = (np.abs(lengths[idx] - len(stem)) <= limit)
                diff = np.abs(counts - stem_counts[:, None]).sum(axis=0)
                best = np.minimum(best, np.where(close & (diff <= 2 * limit), diff // 2, 99))
            keep = np.flatnonzero(best < 99)
            if len(keep) > MAX_CHECKED:  # a large index: the closest letter counts, longest first
                rank = best[keep] * 256 - lengths[idx[keep]]
                keep = keep[np.argpartition(rank, MAX_CHECKED)[:MAX_CHECKED]]
            for k in keep.tolist():
                i = lo + int(idx[k])
                stem = terms.term(i).decode("utf-8", "surrogatepass")
                old = scored.get(stem, (99, 0))
                scored[stem] = (min(old[0], int(best[k])), old[1] + int(terms.df[i]))
    checked = sorted(scored, key=lambda s: (scored[s][0], -len(s), -scored[s][1], s))[:MAX_CHECKED]
    ranked = []
    for stem in checked:
        distance = prefix_distance(stem, typed, limit)
        for near_stem in stems:
            if distance and abs(len(near_stem) - len(stem)) <= limit:
                distance = min(distance, edit_distance(stem, near_stem, distance))
        if distance <= limit:
            ranked.append((distance, -len(stem), -scored[stem][1], stem))
    return [stem for *_, stem in sorted(ranked)]  # closest, then longest, then commonest


def _surface_forms(corpus: Corpus, typed: str, stems: list[str], limit: int, mask) -> list[_Form]:
    """Words within ``limit`` edits of ``typed`` as written in articles holding ``stems``.

    Reads at most :data:`SURFACE_SAMPLE` articles (of ``mask``) per stem and
    :data:`MAX_ARTICLES` in all, each once, and stops after :data:`MAX_VERIFIED` stems with
    such a spelling; a regular expression picks out the words of a plausible length that
    start with the typed word's first letter (accented or not), the only ones compared.
    """
    pattern = _near_words(typed[0], max(len(typed) - limit - 1, 0), len(typed) + limit - 1)
    forms: dict[tuple[str, str], _Form] = {}  # (spelling folded, its term) -> the form
    distances: dict[str, int] = {typed: 0}  # folded word -> edits from typed
    letters = set(typed)
    seen_docs: set[int] = set()
    verified = 0
    for stem in stems:
        if verified >= MAX_VERIFIED or len(seen_docs) >= MAX_ARTICLES:
            break
        docs = []
        for field_name in SPELL_FIELDS:
            found = corpus.postings(field_name, stem).docs
            if mask is not None:
                found = found[mask[found]]
            docs.extend(found[:SURFACE_SAMPLE].tolist())
        hit = done = False
        read = 0
        for docnum in list(dict.fromkeys(docs))[:SURFACE_SAMPLE]:
            if docnum in seen_docs or len(seen_docs) >= MAX_ARTICLES:
                continue
            seen_docs.add(docnum)
            lang = corpus.language_of(docnum)
            stored = corpus.stored_fields(docnum)
            text = f"{stored.get('title') or ''}\n{stored.get('body') or ''}"
            for written in set(pattern.findall(text)):
                folded = fold(written)
                distance = distances.get(folded)
                if distance is None:  # each edit adds or removes at most two kinds of letters
                    far = len(letters ^ set(folded)) > 2 * limit
                    distance = distances[folded] = limit + 1 if far else edit_distance(typed, folded, limit)
                if not 0 < distance <= limit:
                    continue
                emissions = analyze_word(written, lang).emissions
                if len(emissions) != 1:
                    continue
                term = emissions[0].term  # "trade" is "trad" in German articles, "trade" in English
                form = forms.setdefault((folded, term), _Form(folded, term, distance))
                form.languages.add(lang)
                spelling = written.lower()
                form.written[spelling] = form.written.get(spelling, 0) + 1
                hit = hit or form.term == stem
                done = done or (form.term == stem and distance == 1)
            read += 1
            if done and read >= SPELLINGS_READ:
                break  # no spelling of this stem can be closer, and its common ones are seen
        verified += hit
    return list(forms.values())


@lru_cache(maxsize=256)
def _near_words(first: str, shortest_rest: int, longest_rest: int) -> re.Pattern:
    """Whole words starting with a letter that folds to ``first``, of a length in a range."""
    letters = _initials(first)
    return re.compile(rf"(?<![^\W\d_])[{letters}][^\W\d_]{{{shortest_rest},{longest_rest}}}(?![^\W\d_])")


@lru_cache(maxsize=64)
def _initials(first: str) -> str:
    """A character class body of the letters that fold to ``first`` (a -> aAáÄ...)."""
    initials = {first, first.upper()} | {c for c in map(chr, range(0xC0, 0x2000)) if fold(c)[:1] == first}
    return "".join(sorted(re.escape(c) for c in initials))
