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
from pipeline.ingest import ingest_articles  # noqa: E402
from pipeline.io import read_articles  # noqa: E402
from pipeline.labeling.stage import label_sentences  # noqa: E402
from pipeline.labeling.suites import get_suite  # noqa: E402
from pipeline.stages import evaluate_on, load_gold_sets, run_behaviour_suite  # noqa: E402
from pipeline.train import assemble_training_rows, load_evaluation_sets  # noqa: E402

CONFIGS = {"tfidf_logreg": REPO / "configs" / "default.yaml", "embed_logreg": REPO / "configs" / "embed_logreg.yaml",
           "finetune": REPO / "configs" / "finetune.yaml"}


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
    """Ingest and label the configured articles in-process and assemble the training rows."""
    sentences, _ = ingest_articles(read_articles(config.path(config.data.articles)), config.data.reserved_from)
    dev, test = load_gold_sets(config)
    extra = None
    if config.label.embedding.enabled:
        from pipeline.labeling.embedding import embedding_votes

        extra = embedding_votes(config, sentences, dev)
    labeled = label_sentences(sentences, get_suite(config.label.functions), config.labels, config.none_label,
                              config.label.aggregator, config.label_priority, dev, config.label.gold_overrides,
                              extra).labeled
    evaluation = load_evaluation_sets(config)
    rows = assemble_training_rows(config, labeled, test, evaluation)
    return TrainingSetup(rows, dev, test, evaluation, sentences["text"].tolist())


def score_sets(config: Config, classifier: object, setup: TrainingSetup, behaviour: bool = True) -> dict[str, float]:
    """Metrics on gold test (``test_*``), each evaluation set (``<name>_*``) and, when
    configured and ``behaviour``, the behavioural suite (``behaviour_*``)."""
    metrics: dict[str, float] = {}
    for name, gold in {"test": setup.test, **setup.evaluation}.items():
        metrics.update(evaluate_on(config, classifier, gold, name).metrics)
    if behaviour and config.evaluate.behaviour:
        metrics.update(run_behaviour_suite(config, classifier).metrics)
    return metrics
