"""``ensemble``: a weighted average of other kinds' class probabilities.

Each member is fitted on the same rows as it would be alone (its own config section; soft
labels reach the members that take them) and saved as a bundle of its own under
``members/<n>/``. Members that err in different ways (n-grams against sentence embeddings)
average to a better model than either: see docs/public-benchmarks.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from pipeline.classifiers import registry
from pipeline.classifiers.base import StanceClassifier, write_manifest
from pipeline.classifiers.settings import EnsembleConfig

if TYPE_CHECKING:
    from pipeline.config import Config

MEMBERS_DIR = "members"


class EnsembleClassifier:
    """Members' probabilities, averaged with fixed weights (normalized to sum to 1)."""

    kind = "ensemble"

    def __init__(self, labels: Sequence[str], members: Sequence[StanceClassifier], weights: Sequence[float]) -> None:
        if len(members) != len(weights):
            raise ValueError("one weight per member")
        self.labels = list(labels)
        self.members = list(members)
        total = float(sum(weights))
        self.weights = [float(w) / total for w in weights]

    def fit(
        self,
        texts: Sequence[str],
        targets: Sequence[str],
        weights: np.ndarray | None = None,
        dev: pd.DataFrame | None = None,
        probabilities: np.ndarray | None = None,
    ) -> "EnsembleClassifier":
        for member in self.members:
            soft = {"probabilities": probabilities} if registry.of(member).soft_targets else {}
            member.fit(texts, targets, weights=weights, dev=dev, **soft)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        return sum(weight * member.predict_proba(texts) for member, weight in zip(self.members, self.weights))

    def save(self, folder: Path) -> None:
        for number, member in enumerate(self.members):
            member.save(folder / MEMBERS_DIR / str(number))
        write_manifest(folder, self.kind, self.labels, members=[m.kind for m in self.members], weights=self.weights)

    @classmethod
    def from_config(cls, config: "Config") -> "EnsembleClassifier":
        """Each member built as it would be alone, from its own config section."""
        settings = registry.settings(config, cls.kind)
        assert isinstance(settings, EnsembleConfig)
        return cls(config.labels, [registry.build(config, kind) for kind in settings.members], settings.normalized_weights())

    @classmethod
    def load(cls, folder: Path, manifest: dict) -> "EnsembleClassifier":
        members = [registry.load_bundle(folder / MEMBERS_DIR / str(n)) for n in range(len(manifest["members"]))]
        return cls(manifest["labels"], members, manifest["weights"])
