"""Sentence-splitter benchmark: pysbd (what the ingest stage uses) vs spaCy's rule-based
sentencizer vs a naive regex, on a hand-segmented reference set.

    .venv/bin/python bench/splitter.py             # prints markdown tables
    .venv/bin/python bench/splitter.py --errors    # also lists every paragraph a splitter gets wrong

The reference (`bench/data/sentence_reference.jsonl`) holds paragraphs from the sample
corpus (`data/raw/sample`) and short constructed wire-style paragraphs that exercise hard
cases (abbreviations, initials, quotes, parentheses, datelines). A boundary is the
character offset where a sentence other than the first starts, in the paragraph with its
whitespace collapsed to single spaces; every splitter is given that normalised text.
spaCy is optional (`pip install -e '.[bench]'`): without it its rows are skipped.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.errors import InputError, StanceError  # noqa: E402
from pipeline.ingest import split_sentences  # noqa: E402

REFERENCE = Path(__file__).resolve().parent / "data" / "sentence_reference.jsonl"
NAIVE_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")

Splitter = Callable[[str], list[int]]  # normalised paragraph -> sentence-start offsets (first excluded)


@dataclass(frozen=True)
class Paragraph:
    source: str
    text: str
    boundaries: frozenset[int]


def reference_boundaries(sentences: list[str]) -> frozenset[int]:
    """Start offsets of every sentence but the first in ``" ".join(sentences)``."""
    starts, position = [], 0
    for sentence in sentences:
        starts.append(position)
        position += len(sentence) + 1
    return frozenset(starts[1:])


def load_reference(path: Path) -> list[Paragraph]:
    """Read the reference; each line's sentences, single-spaced, must equal its text."""
    paragraphs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(line)
            source, text, sentences = row["source"], row["text"], row["sentences"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{number}: expected a JSON object with source, text, sentences ({exc})") from None
        normalised = " ".join(text.split())
        if " ".join(sentences) != normalised or any(s != s.strip() or not s for s in sentences):
            raise InputError(f"{path}:{number}: sentences joined by single spaces do not equal the text")
        paragraphs.append(Paragraph(source, normalised, reference_boundaries(sentences)))
    if not paragraphs:
        raise InputError(f"{path}: no paragraphs")
    return paragraphs


def pysbd_boundaries(text: str) -> list[int]:
    return [s.char_start for s in split_sentences(text)[1:]]


def naive_boundaries(text: str) -> list[int]:
    return [m.end() for m in NAIVE_BOUNDARY.finditer(text)]


def spacy_splitter() -> Splitter | None:
    """spaCy's rule-based sentencizer on a blank English pipeline, or None if not installed."""
    try:
        import spacy
    except ImportError:
        print("(spaCy skipped: not installed; `.venv/bin/pip install -e '.[bench]'`)", file=sys.stderr)
        return None
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")

    def boundaries(text: str) -> list[int]:
        return [sent.start_char for sent in list(nlp(text).sents)[1:]]

    return boundaries


def score(paragraphs: list[Paragraph], predictions: list[frozenset[int]]) -> dict[str, float]:
    """Micro-averaged boundary precision/recall/F1 and the paragraph exact-match rate."""
    tp = sum(len(p.boundaries & pred) for p, pred in zip(paragraphs, predictions))
    n_pred = sum(len(pred) for pred in predictions)
    n_gold = sum(len(p.boundaries) for p in paragraphs)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    exact = sum(p.boundaries == pred for p, pred in zip(paragraphs, predictions)) / len(paragraphs)
    return {"precision": precision, "recall": recall, "f1": f1, "exact_match": exact}


def sentences_per_second(splitter: Splitter, paragraphs: list[Paragraph], repeats: int) -> float:
    """Reference sentences per second over the whole set, best of ``repeats`` passes."""
    n_sentences = sum(len(p.boundaries) + 1 for p in paragraphs)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for paragraph in paragraphs:
            splitter(paragraph.text)
        best = min(best, time.perf_counter() - start)
    return n_sentences / best


def subset(paragraph: Paragraph) -> str:
    return "constructed" if paragraph.source == "constructed" else "sample corpus"


def segmented(text: str, boundaries: frozenset[int]) -> str:
    cuts = [0, *sorted(boundaries), len(text)]
    return " ‖ ".join(text[a:b].strip() for a, b in zip(cuts, cuts[1:]))


def print_errors(name: str, paragraphs: list[Paragraph], predictions: list[frozenset[int]]) -> None:
    wrong = [(p, pred) for p, pred in zip(paragraphs, predictions) if p.boundaries != pred]
    print(f"\n#### {name}: {len(wrong)} paragraphs wrong\n")
    for paragraph, pred in wrong:
        print(f"- [{subset(paragraph)}] got: {segmented(paragraph.text, pred)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    parser.add_argument("--repeats", type=int, default=5, help="timing passes (best is kept)")
    parser.add_argument("--errors", action="store_true", help="list the paragraphs each splitter gets wrong")
    args = parser.parse_args()
    try:
        paragraphs = load_reference(args.reference)
    except StanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    splitters: dict[str, Splitter] = {"pysbd (ingest.split_sentences)": pysbd_boundaries}
    spacy_split = spacy_splitter()
    if spacy_split is not None:
        splitters["spaCy sentencizer"] = spacy_split
    splitters["naive regex"] = naive_boundaries

    overall, by_subset, all_predictions = [], [], {}
    subsets = sorted({subset(p) for p in paragraphs}, reverse=True)
    for name, splitter in splitters.items():
        predictions = [frozenset(splitter(p.text)) for p in paragraphs]  # also warms up caches
        all_predictions[name] = predictions
        overall.append(
            {
                "splitter": name,
                **score(paragraphs, predictions),
                "sentences/s": round(sentences_per_second(splitter, paragraphs, args.repeats)),
            }
        )
        for part in subsets:
            rows = [(p, pred) for p, pred in zip(paragraphs, predictions) if subset(p) == part]
            metrics = score([p for p, _ in rows], [pred for _, pred in rows])
            by_subset.append(
                {
                    "splitter": name,
                    "subset": part,
                    "paragraphs": len(rows),
                    "f1": metrics["f1"],
                    "exact_match": metrics["exact_match"],
                }
            )

    counts = {part: sum(subset(p) == part for p in paragraphs) for part in subsets}
    n_boundaries = sum(len(p.boundaries) for p in paragraphs)
    print(
        f"### Sentence splitters on {args.reference.name}: {len(paragraphs)} paragraphs "
        f"({', '.join(f'{n} {part}' for part, n in counts.items())}), {n_boundaries} boundaries\n"
    )
    print(pd.DataFrame(overall).to_markdown(index=False, floatfmt=".3f"))
    print("\n### By subset\n")
    print(pd.DataFrame(by_subset).to_markdown(index=False, floatfmt=".3f"))
    if args.errors:
        for name, predictions in all_predictions.items():
            print_errors(name, paragraphs, predictions)


if __name__ == "__main__":
    main()
