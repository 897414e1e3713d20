"""The embedding labeler: one more labeling function, voting the label of the nearest
gold-dev prototypes in sentence-embedding space (all-MiniLM-L6-v2, offline weights).

For each sentence, the score of a label is the mean cosine similarity of its ``k`` most
similar gold-dev examples of that label. It votes the best label when that score reaches
``threshold`` and beats the runner-up by ``margin``; otherwise it abstains. On gold dev
itself the sentence's own row is left out (leave-one-out), so its dev accuracy is honest.
No NLI model can be had offline, so this is similarity to labelled examples, nothing more.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.config import Config
from pipeline.labeling.base import ABSTAIN

NAME = "embedding_prototypes"
TOP_K = 3


def prototype_votes(
    sentence_vecs: np.ndarray,
    proto_vecs: np.ndarray,
    proto_labels: Sequence[int],
    n_labels: int,
    threshold: float,
    margin: float,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """Votes (label index or ABSTAIN) for each sentence vector.

    ``exclude`` is an optional boolean ``(n_sentences, n_prototypes)`` mask of pairs that
    must not count (a dev sentence and its own prototype row).
    """
    sims = sentence_vecs @ proto_vecs.T
    if exclude is not None:
        sims = np.where(exclude, -np.inf, sims)
    labels = np.asarray(proto_labels)
    scores = np.full((len(sentence_vecs), n_labels), -np.inf)
    for label in range(n_labels):
        cols = sims[:, labels == label]
        if cols.shape[1] == 0:
            continue
        top = -np.sort(-cols, axis=1)[:, :TOP_K]  # excluded pairs (-inf) sort last
        finite = np.isfinite(top)
        count = finite.sum(axis=1)
        total = np.where(finite, top, 0.0).sum(axis=1)
        scores[:, label] = np.where(count > 0, total / np.maximum(count, 1), -np.inf)
    order = np.argsort(-scores, axis=1)
    best, second = order[:, 0], order[:, 1]
    rows = np.arange(len(scores))
    best_score, second_score = scores[rows, best], scores[rows, second]
    confident = (best_score >= threshold) & ((best_score - second_score) >= margin)
    return np.where(confident, best, ABSTAIN)


def embedding_votes(config: Config, sentences: pd.DataFrame, gold_dev: pd.DataFrame | None) -> tuple[str, np.ndarray, np.ndarray]:
    """The embedding labeler's votes on the corpus and on gold dev (leave-one-out)."""
    from pipeline.classifiers.embeddings import embed_texts
    from pipeline.classifiers.weights import resolve_model_dir
    from pipeline.errors import InputError
    from pipeline.ingest import normalize_text

    if gold_dev is None or gold_dev.empty:
        raise InputError("label.embedding.enabled needs gold dev examples (data.gold_dev or data.gold_refs) as prototypes")
    settings = config.label.embedding
    model_dir = resolve_model_dir(settings.model_dir)
    cache = config.path(".cache")
    dev_texts = gold_dev["text"].astype(str).tolist()
    proto_vecs = embed_texts(dev_texts, model_dir, cache_dir=cache)
    proto_labels = [config.labels.index(label) for label in gold_dev["label"]]
    corpus_vecs = embed_texts(sentences["text"].astype(str).tolist(), model_dir, cache_dir=cache)
    dev_keys = np.array([normalize_text(t) for t in dev_texts])
    corpus_keys = np.array([normalize_text(t) for t in sentences["text"].astype(str)])
    n = len(config.labels)
    corpus = prototype_votes(
        corpus_vecs,
        proto_vecs,
        proto_labels,
        n,
        settings.threshold,
        settings.margin,
        exclude=corpus_keys[:, None] == dev_keys[None, :],
    )
    dev = prototype_votes(
        proto_vecs,
        proto_vecs,
        proto_labels,
        n,
        settings.threshold,
        settings.margin,
        exclude=dev_keys[:, None] == dev_keys[None, :],
    )
    return NAME, corpus, dev
