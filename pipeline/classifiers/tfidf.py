"""``tfidf_logreg``: word and character n-gram TF-IDF features + logistic regression."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import joblib
import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from pipeline.classifiers import registry
from pipeline.classifiers.base import align_columns, write_manifest
from pipeline.classifiers.settings import TfidfLogregConfig
from pipeline.config import Config

MODEL_FILE = "model.joblib"


def build_pipeline(settings: TfidfLogregConfig, seed: int) -> Pipeline:
    """The scikit-learn pipeline; every hyperparameter comes from the config."""
    features = FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, settings.word_ngram_max),
                    token_pattern=settings.word_token_pattern,
                    min_df=settings.min_df,
                    sublinear_tf=True,
                    lowercase=True,
                ),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer=settings.char_analyzer,
                    ngram_range=(settings.char_ngram_min, settings.char_ngram_max),
                    min_df=settings.min_df,
                    sublinear_tf=True,
                    lowercase=True,
                ),
            ),
        ]
    )
    classifier = LogisticRegression(
        C=settings.C, class_weight=settings.class_weight, max_iter=settings.max_iter, random_state=seed
    )
    return Pipeline([("features", features), ("classifier", classifier)])


class TfidfLogreg:
    """TF-IDF + logistic regression; probabilities come back in ``labels`` order even when
    a label is absent from the training data (its column is zero)."""

    kind = "tfidf_logreg"

    def __init__(self, labels: Sequence[str], settings: TfidfLogregConfig, seed: int) -> None:
        self.labels = list(labels)
        self.settings = settings
        self.seed = seed
        self.pipeline_: Pipeline | None = None

    def fit(
        self, texts: Sequence[str], targets: Sequence[str], weights: np.ndarray | None = None, dev: pd.DataFrame | None = None
    ) -> "TfidfLogreg":
        self.pipeline_ = build_pipeline(self.settings, self.seed)
        self.pipeline_.fit(list(texts), list(targets), classifier__sample_weight=weights)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        assert self.pipeline_ is not None, "fit or load the model first"
        return align_columns(self.pipeline_.predict_proba(list(texts)), list(self.pipeline_.classes_), self.labels)

    def save(self, folder: Path) -> None:
        write_manifest(folder, self.kind, self.labels, seed=self.seed, settings=self.settings.model_dump())
        joblib.dump(self.pipeline_, folder / MODEL_FILE)

    @classmethod
    def from_config(cls, config: Config) -> "TfidfLogreg":
        settings = registry.settings(config, cls.kind)
        assert isinstance(settings, TfidfLogregConfig)
        return cls(config.labels, settings, config.seed)

    @classmethod
    def load(cls, folder: Path, manifest: dict) -> "TfidfLogreg":
        model = cls(manifest["labels"], TfidfLogregConfig(**manifest["settings"]), manifest["seed"])
        model.pipeline_ = joblib.load(folder / MODEL_FILE)
        return model
