"""What the benchmark scripts share: the training rows exactly as `stance run` makes them
(ingest, label, the train stage's sources and leak guard), made in-process without touching
the MLflow store, and scoring a classifier on every evaluation set of a config."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.config import Config  # noqa: E402
from pipeline.corpus import corpus_for  # noqa: E402
from pipeline.stages import evaluate_on, run_behaviour_suite  # noqa: E402

CONFIGS = {
    "tfidf_logreg": REPO / "configs" / "default.yaml",
    "embed_logreg": REPO / "configs" / "embed_logreg.yaml",
    "finetune": REPO / "configs" / "finetune.yaml",
}


@dataclass(frozen=True)
class TrainingSetup:
    rows: pd.DataFrame  # the training rows of a `stance run` with this config
    dev: pd.DataFrame | None
    test: pd.DataFrame
    evaluation: dict[str, pd.DataFrame]  # the evaluation-only sets (challenge, real-corpus test, ...)
    corpus: list[str]  # every corpus sentence (for speed)


def at_repo_root() -> None:
    """Work from the project root: configs name their paths relative to it."""
    os.chdir(REPO)


def training_setup(config: Config) -> TrainingSetup:
    """Ingest and label the configured articles in-process and assemble the training rows,
    as the ingest, label and train stages do."""
    corpus = corpus_for(config)
    sentences = corpus.sentences().sentences
    labeled = corpus.label(sentences, config.path(config.data.articles)).labeled
    return TrainingSetup(
        corpus.training_rows(labeled), corpus.gold_dev, corpus.gold_test, corpus.evaluation_sets(), sentences["text"].tolist()
    )


def score_sets(config: Config, classifier: object, setup: TrainingSetup, behaviour: bool = True) -> dict[str, float]:
    """Metrics on gold test (``test_*``), each evaluation set (``<name>_*``) and, when
    configured and ``behaviour``, the behavioural suite (``behaviour_*``)."""
    metrics: dict[str, float] = {}
    for name, gold in {"test": setup.test, **setup.evaluation}.items():
        metrics.update(evaluate_on(config, classifier, gold, name).metrics)
    cases = corpus_for(config).behaviour_cases() if behaviour else None
    if cases is not None:
        metrics.update(run_behaviour_suite(classifier, cases).metrics)
    return metrics
