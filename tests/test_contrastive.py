"""SetFit-style contrastive tuning for embed_logreg: pair sampling and a tuned encoder that
is saved into the bundle."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.classifiers.contrastive import contrastive_pairs
from pipeline.classifiers.settings import EmbedLogregConfig

LABELS = ["support", "rule_out", "none"]
TEXTS = [
    "Britain is ready to send troops.",
    "Italy will not send troops.",
    "It rained in Rome.",
    "France stands ready to deploy soldiers.",
    "Spain rules out any deployment.",
    "Markets closed higher.",
]
TARGETS = ["support", "rule_out", "none", "support", "rule_out", "none"]


def test_pairs_match_labels_and_are_seeded():
    labels = ["a", "a", "b", "b", "b", "c"]
    pairs = contrastive_pairs(labels, iterations=3, rng=np.random.default_rng(1))
    i, j, similarity = pairs[:, 0].astype(int), pairs[:, 1].astype(int), pairs[:, 2]
    same = np.array([labels[x] == labels[y] for x, y in zip(i, j)])
    assert (same == (similarity == 1.0)).all() and (i != j).all()
    # per iteration: a positive for every row but "c" (alone in its label), a negative for all
    assert (similarity == 1.0).sum() == 3 * 5 and (similarity == 0.0).sum() == 3 * 6
    assert np.array_equal(pairs, contrastive_pairs(labels, 3, np.random.default_rng(1)))
    assert not np.array_equal(pairs, contrastive_pairs(labels, 3, np.random.default_rng(2)))


@pytest.mark.slow
def test_contrastive_tuning_changes_the_encoder_and_the_bundle_keeps_it(tmp_path):
    from pipeline.classifiers.registry import load_bundle
    from pipeline.classifiers.embed_logreg import EmbedLogreg

    frozen_settings = EmbedLogregConfig(max_length=32, cache_dir=None)
    tuned_settings = frozen_settings.model_copy(update={"contrastive_iterations": 2, "contrastive_learning_rate": 1e-4})
    frozen = EmbedLogreg(LABELS, frozen_settings, seed=3).fit(TEXTS, TARGETS)
    tuned = EmbedLogreg(LABELS, tuned_settings, seed=3).fit(TEXTS, TARGETS)
    assert not np.allclose(frozen.predict_proba(TEXTS), tuned.predict_proba(TEXTS), atol=1e-4)
    tuned.save(tmp_path / "bundle")
    loaded = load_bundle(tmp_path / "bundle")
    assert np.allclose(loaded.predict_proba(TEXTS), tuned.predict_proba(TEXTS), atol=1e-6)
