"""Evidence per scored row (``stance score --explain``): why a sentence got its label.

Two kinds of evidence, both cheap enough for a large file:
- for a ``tfidf_logreg`` model, the n-grams of the sentence that pushed it most toward the
  predicted label: each feature's TF-IDF value times its weight for that label minus its
  mean weight over the labels (its share of the label's logit margin), largest first;
- for every model, the labeling functions of the config's suite that fire on the sentence,
  with the label each votes (the guideline's cues, ``pipeline/labeling``).

The ``evidence`` column reads e.g.
``ngrams: "will not" +0.61, "rules out" +0.40, char "ule o" +0.12 | functions: rule_out_phrase→rule_out``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pipeline.labeling.base import LabelingSuite

TOP_NGRAMS = 3


@dataclass(frozen=True)
class NgramWeights:
    """A fitted TF-IDF + logistic-regression pipeline, read as per-label feature weights."""

    features: object  # the fitted FeatureUnion (transform -> sparse rows)
    names: np.ndarray  # readable feature names, in column order
    relative: dict[str, np.ndarray]  # label -> weight minus the mean weight over labels, per feature

    @classmethod
    def of(cls, pipeline: object) -> "NgramWeights":
        features = pipeline.named_steps["features"]  # type: ignore[attr-defined]
        logreg = pipeline.named_steps["classifier"]  # type: ignore[attr-defined]
        coef = logreg.coef_
        if coef.shape[0] == 1:  # two classes: one weight vector, toward the second class
            coef = np.vstack([-coef[0], coef[0]])
        relative = coef - coef.mean(axis=0, keepdims=True)
        return cls(
            features,
            np.array([readable(name) for name in features.get_feature_names_out()], dtype=object),
            {str(label): relative[i] for i, label in enumerate(logreg.classes_)},
        )

    def top(self, texts: Sequence[str], predicted: Sequence[str], k: int = TOP_NGRAMS) -> list[str]:
        """For each text, its ``k`` features that pushed most toward its predicted label."""
        matrix = self.features.transform(list(texts)).tocsr()  # type: ignore[attr-defined]
        out = []
        for row, label in enumerate(predicted):
            weights = self.relative.get(label)
            start, end = matrix.indptr[row], matrix.indptr[row + 1]
            if weights is None or start == end:
                out.append("")
                continue
            columns = matrix.indices[start:end]
            pushes = matrix.data[start:end] * weights[columns]
            order = np.argsort(-pushes, kind="stable")[:k]
            out.append(", ".join(f"{self.names[columns[i]]} {pushes[i]:+.2f}" for i in order if pushes[i] > 0))
        return out


def readable(feature: str) -> str:
    """``word__will not`` -> ``"will not"``; ``char__ule o`` -> ``char "ule o"``."""
    kind, _, value = feature.partition("__")
    return f'"{value}"' if kind == "word" else f'{kind} "{value}"'


@dataclass(frozen=True)
class Explainer:
    """Builds the ``evidence`` column for scored sentences."""

    suite: LabelingSuite | None
    ngrams: NgramWeights | None
    k: int = TOP_NGRAMS

    def evidence(self, texts: Sequence[str], predicted: Sequence[str]) -> list[str]:
        parts: list[list[str]] = [[] for _ in texts]
        if self.ngrams is not None:
            for row, pushed in enumerate(self.ngrams.top(texts, predicted, self.k)):
                parts[row].append(f"ngrams: {pushed}" if pushed else "ngrams: none")
        if self.suite is not None:
            for row, text in enumerate(texts):
                view = self.suite.make_view(text)
                fired = [f"{lf.name}→{lf.label}" for lf in self.suite.functions if lf.applies(view)]
                parts[row].append(f"functions: {', '.join(fired) if fired else 'none fired'}")
        return [" | ".join(p) for p in parts]


def explainer_for(predictor: object, suite: LabelingSuite | None, k: int = TOP_NGRAMS) -> Explainer:
    """The explainer for a loaded model: n-gram weights when it is a ``tfidf_logreg`` (as the
    pyfunc wrapper or the classifier itself), labeling functions from ``suite``."""
    from pipeline.classifiers.registry import innermost, served

    classifier = served(predictor)
    if classifier is not None:
        classifier = innermost(classifier)
    pipeline = getattr(classifier, "pipeline_", None) if getattr(classifier, "kind", "") == "tfidf_logreg" else None
    return Explainer(suite, NgramWeights.of(pipeline) if pipeline is not None else None, k)
