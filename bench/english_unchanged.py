"""English analysis and snippets against ANALYZER_VERSION 2, token for token, and their speed.

Loads ``indexer/analysis.py`` and ``indexer/snippets.py`` as they were at a git
revision from before languages (default ``5936b06``) into a temporary
directory, then compares with the current package, for ``lang="en"``:

* ``analyze``, ``term_positions`` and ``query_terms`` on every title, body and
  query of Reuters-21578, Cranfield, CISI, BBC and the bundled sample;
* ``snippet``, ``highlight`` and ``lead`` on 6,000 Reuters cases (random words,
  pairs and phrases taken from each story);
* the time ``term_positions`` takes over the Reuters bodies (cold cache, then warm).

    python bench/english_unchanged.py [--rev 5936b06]
"""
from __future__ import annotations

import argparse
import glob
import importlib
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")
sys.path.insert(0, str(ROOT))


def load_old(rev: str, workdir: Path):
    """The old analysis and snippets modules, importable as old_analysis / old_snippets."""
    analysis = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:indexer/analysis.py"],
                              check=True, capture_output=True, text=True).stdout
    snippets = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:indexer/snippets.py"],
                              check=True, capture_output=True, text=True).stdout
    (workdir / "old_analysis.py").write_text(analysis, encoding="utf-8")
    (workdir / "old_snippets.py").write_text(
        snippets.replace("from .analysis import", "from old_analysis import"), encoding="utf-8")
    (workdir / "nltk_data").symlink_to(ROOT / "indexer" / "nltk_data")
    sys.path.insert(0, str(workdir))
    return importlib.import_module("old_analysis"), importlib.import_module("old_snippets")


def texts():
    for line in open(DATA / "export" / "reuters" / "docs.jsonl", encoding="utf-8"):
        doc = json.loads(line)
        yield doc.get("title") or ""
        yield doc.get("body") or ""
    for name in ("cranfield", "cisi"):
        for line in open(DATA / "export" / name / "docs.jsonl", encoding="utf-8"):
            doc = json.loads(line)
            yield doc.get("title") or ""
            yield doc.get("body") or ""
        for line in open(DATA / "export" / name / "queries.tsv", encoding="utf-8"):
            yield line.split("\t", 1)[-1]
    for path in sorted(glob.glob(str(DATA / "bbc-news" / "*" / "*.txt"))):
        yield Path(path).read_bytes().decode("utf-8", "replace")
    for path in sorted((ROOT / "index_data" / "articles").rglob("*")):
        if path.is_file():
            yield path.read_text("utf-8", "replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rev", default="5936b06", help="git revision from before languages")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsindex-old-") as tmp:
        old, old_snippets = load_old(args.rev, Path(tmp))
        from indexer import analysis as new, snippets as new_snippets

        count = tokens = differ = 0
        for text in texts():
            count += 1
            before = [tuple(t) for t in old.analyze(text)]
            after = [tuple(t)[:5] for t in new.analyze(text, 0, "en")]
            tokens += len(before)
            if (before != after or dict(old.term_positions(text)) != dict(new.term_positions(text, "en"))
                    or [tuple(t) for t in old.query_terms(text)] != [tuple(t)[:5] for t in new.query_terms(text, "en")]):
                differ += 1
        print(f"analysis: {count:,} texts, {tokens:,} tokens, {differ} differ")

        random.seed(7)
        docs = [d for d in map(json.loads, open(DATA / "export" / "reuters" / "docs.jsonl", encoding="utf-8"))
                if d.get("body")][:3000]
        cases = []
        for doc in docs:
            words = doc["body"].split()
            for _ in range(2):
                i = random.randrange(len(words))
                query = " ".join(words[i:i + random.choice([1, 1, 2, 3])])
                parts = [t for t in new.query_terms(query) if not t.joined]
                phrase = random.random() < 0.3 and len(parts) > 1
                terms = frozenset() if phrase else frozenset(t.term for t in new.query_terms(query))
                phrases = (tuple((t.term, t.pos - parts[0].pos) for t in parts),) if phrase else ()
                cases.append((doc, old_snippets.MatchSpec(terms, phrases), new_snippets.MatchSpec(terms, phrases)))
        differ, spent_old, spent_new = 0, 0.0, 0.0
        for doc, spec_old, spec_new in cases:
            started = time.perf_counter()
            before = (old_snippets.snippet(doc["body"], spec_old), old_snippets.highlight(doc["title"], spec_old),
                      old_snippets.lead(doc["body"]))
            spent_old += time.perf_counter() - started
            started = time.perf_counter()
            after = (new_snippets.snippet(doc["body"], spec_new, lang="en"),
                     new_snippets.highlight(doc["title"], spec_new, "en"), new_snippets.lead(doc["body"], lang="en"))
            spent_new += time.perf_counter() - started
            differ += before != after
        print(f"snippets: {len(cases):,} cases, {differ} differ; old {spent_old:.2f} s, new {spent_new:.2f} s")

        bodies = [d["body"] for d in docs] + [d.get("body") or "" for d in
                                              map(json.loads, open(DATA / "export" / "reuters" / "docs.jsonl", encoding="utf-8"))]
        for label, run in (("old", old.term_positions), ("new", lambda t: new.term_positions(t, "en")),
                           ("old", old.term_positions), ("new", lambda t: new.term_positions(t, "en"))):
            started = time.perf_counter()
            for body in bodies:
                run(body)
            print(f"term_positions {label}: {len(bodies):,} Reuters bodies in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
