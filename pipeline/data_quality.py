"""How varied and how clean a labelled sentence set is, and whether evaluation text leaked
into training text.

Pure functions over lists of sentences (and, for near duplicates, their embeddings);
``bench/data_quality.py`` reads the files and prints the report, and the test suite runs
the cross-set leak check on the shipped files.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from pipeline.ingest import normalize_text

# The cue phrases of the annotation guideline's Labels table and edge cases (1-11), as
# patterns over normalized text. Real news rarely uses them; a bank whose stance rows lean
# on them teaches the phrases, not the stance.
CUE_PATTERNS: dict[str, str] = {
    "all options on the table": r"\ball (the )?options (are |remain |were |stay )?on the table",
    "nothing should be ruled out": r"\bnothing (should|can|could|must|is|was) (be )?ruled out",
    "do not exclude": r"\b(do|does|did|would|will)( not|n't) exclude",
    "ready to send": r"\bready to send\b",
    "strategic ambiguity": r"\bstrategic ambiguity\b",
    "rule out": r"\brul(e|es|ed|ing) (it |this |that |them )?out\b",
    "only after a ceasefire": r"\bonly after a (ceasefire|cease-fire)\b",
    "within a coalition": r"\bwithin (a|the) coalition\b",
    "nato framework": r"\bnato framework\b",
    "us backstop": r"\b(us|u\.s\.|american) backstop\b",
    "only trainers": r"\bonly trainers\b",
    "not involved in hostilities": r"\bnot (be |being )?involved in (the )?hostilities\b",
    "under what conditions": r"\bunder what conditions\b",
    "if ukraine asks": r"\bif (ukraine|kyiv) asks\b",
    "no plans to send": r"\bno (specific |current |immediate )?plans? to (send|deploy)\b",
    "will not send": r"\b(will|would) not send\b|\bwon't send\b",
    "out of the question": r"\bout of the question\b",
    "not on the table": r"\bnot on the table\b",
    "no ground troops": r"\bno ground troops\b",
    "legitimate targets": r"\blegitimate targets?\b",
    "direct conflict with nato": r"\bdirect conflict with nato\b",
    "weapons, not soldiers": r"\bweapons,? not soldiers\b",
    "no combat troops": r"\bno combat troops\b",
    "un mandate": r"\bun mandate\b",
    "no consensus": r"\bno consensus\b",
}
_CUES = {name: re.compile(pattern) for name, pattern in CUE_PATTERNS.items()}
# What makes a `none` sentence a hard negative: it talks about military personnel.
HARD_NEGATIVE_PATTERN = re.compile(
    r"\b(troops?|soldiers?|forces?|deploy\w*|peace-?keep\w*|trainers?|instructors?|military personnel|"
    r"boots on the ground|contingents?|battalions?|brigades?|servicem[ae]n|personnel)\b"
)
_QUOTE_CHARS = ('"', "\u201c", "\u201d", "\u00ab", "\u00bb")
normalize = normalize_text  # the form ingest matches sentences by


def words(text: str) -> list[str]:
    """Lower-case word tokens (letters, digits, inner apostrophes and hyphens)."""
    return re.findall(r"[0-9a-z]+(?:['-][0-9a-z]+)*", normalize(text))


def cue_phrases(text: str) -> list[str]:
    """The guideline cue phrases the sentence uses (names of :data:`CUE_PATTERNS`)."""
    normal = normalize(text)
    return [name for name, pattern in _CUES.items() if pattern.search(normal)]


def has_quotation(text: str) -> bool:
    return any(char in str(text) for char in _QUOTE_CHARS)


def is_hard_negative(text: str, label: str, none_label: str = "none") -> bool:
    """A `none` sentence that mentions troops, soldiers, forces, deployment, peacekeepers or
    trainers: the negatives a model must learn to tell from a stance."""
    return label == none_label and HARD_NEGATIVE_PATTERN.search(normalize(text)) is not None


def skeleton(text: str) -> str:
    """The sentence with capitalised words and numbers masked: rows sharing a skeleton were
    likely made by filling names into one template."""
    return re.sub(r"\d+", "0", re.sub(r"\b[A-Z][\w'-]*\b", "X", str(text)))


@dataclass(frozen=True)
class LengthStats:
    rows: int
    mean_words: float
    sd_words: float
    median_words: float
    share_over_35: float
    share_quoted: float

    def as_dict(self) -> dict[str, float]:
        return {
            "rows": self.rows,
            "mean_words": self.mean_words,
            "sd_words": self.sd_words,
            "median_words": self.median_words,
            "share_over_35_words": self.share_over_35,
            "share_quoted": self.share_quoted,
        }


def length_stats(texts: Sequence[str]) -> LengthStats:
    counts = [len(words(text)) for text in texts]
    if not counts:
        return LengthStats(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    return LengthStats(
        rows=len(counts),
        mean_words=statistics.fmean(counts),
        sd_words=statistics.pstdev(counts),
        median_words=float(statistics.median(counts)),
        share_over_35=sum(c > 35 for c in counts) / len(counts),
        share_quoted=sum(has_quotation(t) for t in texts) / len(counts),
    )


def exact_duplicates(texts: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs (first index, later index) whose normalized texts are equal."""
    first: dict[str, int] = {}
    pairs = []
    for index, text in enumerate(texts):
        key = normalize(text)
        if key in first:
            pairs.append((first[key], index))
        else:
            first[key] = index
    return pairs


def spans(text: str, n: int = 8) -> set[tuple[str, ...]]:
    """Every run of ``n`` consecutive words."""
    tokens = words(text)
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def shared_spans(left: Sequence[str], right: Sequence[str] | None = None, n: int = 8) -> list[tuple[int, int]]:
    """Index pairs of sentences sharing at least one ``n``-word span: within ``left`` (i < j)
    when ``right`` is None, else between ``left`` and ``right``."""
    index: dict[tuple[str, ...], list[int]] = {}
    for i, text in enumerate(left):
        for span in spans(text, n):
            index.setdefault(span, []).append(i)
    pairs: set[tuple[int, int]] = set()
    if right is None:
        for members in index.values():
            unique = sorted(set(members))
            pairs.update((a, b) for k, a in enumerate(unique) for b in unique[k + 1 :])
    else:
        for j, text in enumerate(right):
            for span in spans(text, n):
                pairs.update((i, j) for i in index.get(span, ()))
    return sorted(pairs)


def near_duplicates(
    left: np.ndarray, right: np.ndarray | None = None, threshold: float = 0.92, chunk: int = 2048
) -> list[tuple[int, int, float]]:
    """Index pairs whose L2-normalized embeddings have cosine >= ``threshold``: within
    ``left`` (i < j) when ``right`` is None, else between the two."""
    a = _unit(left)
    b = a if right is None else _unit(right)
    found = []
    for start in range(0, len(a), chunk):
        sims = a[start : start + chunk] @ b.T
        rows, cols = np.nonzero(sims >= threshold)
        for r, c in zip(rows, cols):
            i = start + int(r)
            if right is None and int(c) <= i:
                continue
            found.append((i, int(c), float(sims[r, c])))
    return found


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def top_share(items: Iterable[str]) -> tuple[str, float]:
    """The most frequent item and its share."""
    counts = Counter(items)
    total = sum(counts.values())
    if not total:
        return "", 0.0
    item, count = counts.most_common(1)[0]
    return item, count / total


def opening(text: str, n: int = 3) -> str:
    return " ".join(words(text)[:n])


@dataclass(frozen=True)
class Overlap:
    """A training sentence that repeats or nearly repeats an evaluation sentence."""

    kind: str  # exact | span8 | cosine
    train_set: str
    train_text: str
    eval_set: str
    eval_text: str
    score: float


def train_eval_overlaps(
    train: dict[str, Sequence[str]],
    evaluation: dict[str, Sequence[str]],
    embed: Callable[[list[str]], np.ndarray] | None = None,
    threshold: float = 0.92,
    n: int = 8,
) -> list[Overlap]:
    """Every (training set, evaluation set) pair of sentences that are equal after
    normalization, share an ``n``-word span, or (with ``embed``) have embedding cosine
    >= ``threshold``. Any of these means evaluation text leaked into training text."""
    found: list[Overlap] = []
    vectors: dict[str, np.ndarray] = {}

    def vectors_of(name: str, texts: Sequence[str]) -> np.ndarray:
        if name not in vectors:
            vectors[name] = embed(list(texts)) if texts else np.zeros((0, 1), dtype=np.float32)
        return vectors[name]

    for train_name, train_texts in train.items():
        for eval_name, eval_texts in evaluation.items():
            eval_keys = {normalize(t): t for t in eval_texts}
            for text in train_texts:
                if normalize(text) in eval_keys:
                    found.append(Overlap("exact", train_name, text, eval_name, eval_keys[normalize(text)], 1.0))
            for i, j in shared_spans(train_texts, eval_texts, n):
                if normalize(train_texts[i]) != normalize(eval_texts[j]):
                    found.append(Overlap(f"span{n}", train_name, train_texts[i], eval_name, eval_texts[j], 1.0))
            if embed is not None and len(train_texts) and len(eval_texts):
                for i, j, score in near_duplicates(
                    vectors_of("t:" + train_name, train_texts), vectors_of("e:" + eval_name, eval_texts), threshold
                ):
                    found.append(Overlap("cosine", train_name, train_texts[i], eval_name, eval_texts[j], score))
    return found
