"""The labeling-function abstraction: a named, single-label vote with its guideline rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, Sequence, TypeVar

import numpy as np

ABSTAIN = -1
V = TypeVar("V")


@dataclass(frozen=True)
class LabelingFunction(Generic[V]):
    """Votes ``label`` when ``applies`` holds for a sentence view, else abstains.

    ``rule`` cites the annotation-guideline rule the function implements, so a reviewer
    can check the function against the guideline and the analysis table can show it.
    """

    name: str
    label: str
    rule: str
    applies: Callable[[V], bool]

    def vote(self, view: V) -> str | None:
        return self.label if self.applies(view) else None


@dataclass(frozen=True)
class LabelingSuite(Generic[V]):
    """A set of labeling functions for one stance target, with the sentence view they share."""

    name: str
    make_view: Callable[[str], V]
    functions: tuple[LabelingFunction[V], ...]

    def vote_matrix(self, texts: Sequence[str], labels: Sequence[str]) -> np.ndarray:
        """``(n_sentences, n_functions)`` int matrix of label indexes, ABSTAIN = -1."""
        index = {label: i for i, label in enumerate(labels)}
        unknown = {lf.label for lf in self.functions} - set(index)
        if unknown:
            raise ValueError(f"suite {self.name!r} votes labels {sorted(unknown)} not in config labels {list(labels)}")
        matrix = np.full((len(texts), len(self.functions)), ABSTAIN, dtype=np.int64)
        for row, text in enumerate(texts):
            view = self.make_view(text)
            for col, lf in enumerate(self.functions):
                if lf.applies(view):
                    matrix[row, col] = index[lf.label]
        return matrix

    @property
    def names(self) -> list[str]:
        return [lf.name for lf in self.functions]
