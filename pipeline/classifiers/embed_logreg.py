"""``embed_logreg``: sentence embeddings (mean-pooled MiniLM) + logistic regression.

The encoder is frozen, or first tuned contrastively on the training rows
(``contrastive_iterations`` > 0: the SetFit method, ``pipeline/classifiers/contrastive.py``).

The bundle holds a copy of the encoder weights (``encoder/``) beside the fitted logistic
regression, so a registered model embeds at predict time without the weights package.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from pipeline.classifiers import registry
from pipeline.classifiers.base import align_columns, write_manifest
from pipeline.classifiers.embeddings import embed_texts
from pipeline.classifiers.weights import (
    check_model_dir,
    copy_model_files,
    resolve_model_dir,
)
from pipeline.classifiers.settings import EmbedLogregConfig
from pipeline.config import Config

ENCODER_DIR = "encoder"
MODEL_FILE = "logreg.joblib"


class EmbedLogreg:
    """Mean-pooled transformer embeddings + class-balanced, seeded logistic regression."""

    kind = "embed_logreg"

    def __init__(self, labels: Sequence[str], settings: EmbedLogregConfig, seed: int) -> None:
        self.labels = list(labels)
        self.settings = settings
        self.seed = seed
        self.model_dir_: Path | None = None
        self.classifier_: LogisticRegression | None = None
        self._tuned_dir: tempfile.TemporaryDirectory | None = None  # a contrastively tuned encoder lives here until saved

    def _embed(self, texts: Sequence[str], cache: bool) -> np.ndarray:
        assert self.model_dir_ is not None, "fit or load the model first"
        settings = self.settings
        cache_dir = Path(settings.cache_dir) if cache and settings.cache_dir else None
        return embed_texts(
            list(texts),
            self.model_dir_,
            settings.inference_batch_size,
            cache_dir,
            max_length=settings.max_length,
            quantize=settings.quantize,
            num_threads=settings.num_threads,
            runtime_name=settings.runtime,
        )

    def fit(
        self, texts: Sequence[str], targets: Sequence[str], weights: np.ndarray | None = None, dev: pd.DataFrame | None = None
    ) -> "EmbedLogreg":
        self.model_dir_ = resolve_model_dir(self.settings.model_dir)
        tuned = self.settings.contrastive_iterations > 0
        if tuned:  # SetFit: tune the encoder first; its vectors are new, so they are not cached
            from pipeline.classifiers.contrastive import contrastive_finetune

            self._tuned_dir = tempfile.TemporaryDirectory(prefix="stance-setfit-")
            self.model_dir_ = contrastive_finetune(
                self.model_dir_, list(texts), list(targets), self.settings, self.seed, Path(self._tuned_dir.name)
            )
        features = self._embed(texts, cache=not tuned)
        self.classifier_ = LogisticRegression(
            C=self.settings.C, class_weight=self.settings.class_weight, max_iter=self.settings.max_iter, random_state=self.seed
        )
        self.classifier_.fit(features, list(targets), sample_weight=weights)
        return self

    def use_serving(self, **settings: object) -> None:
        """Embed with other ``runtime`` / ``quantize`` settings at predict time (the bench compares them)."""
        self.settings = self.settings.model_copy(update=settings)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        assert self.classifier_ is not None, "fit or load the model first"
        # Scoring does not fill the cache: a large corpus would grow it without bound.
        raw = self.classifier_.predict_proba(self._embed(texts, cache=False))
        return align_columns(raw, list(self.classifier_.classes_), self.labels)

    def save(self, folder: Path) -> None:
        assert self.model_dir_ is not None and self.classifier_ is not None, "fit the model first"
        write_manifest(folder, self.kind, self.labels, seed=self.seed, settings=self.settings.model_dump(), encoder=ENCODER_DIR)
        copy_model_files(self.model_dir_, folder / ENCODER_DIR)
        joblib.dump(self.classifier_, folder / MODEL_FILE)

    @classmethod
    def from_config(cls, config: Config) -> "EmbedLogreg":
        settings = registry.settings(config, cls.kind)
        assert isinstance(settings, EmbedLogregConfig)
        return cls(config.labels, settings, config.seed)

    @classmethod
    def load(cls, folder: Path, manifest: dict) -> "EmbedLogreg":
        model = cls(manifest["labels"], EmbedLogregConfig(**manifest["settings"]), manifest["seed"])
        model.model_dir_ = folder / manifest["encoder"]
        check_model_dir(model.model_dir_)
        model.classifier_ = joblib.load(folder / MODEL_FILE)
        return model
