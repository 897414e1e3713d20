"""The ``ensemble`` kind: a weighted average of member models' probabilities, saved as a
bundle of bundles, configured and validated like any other kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.classifiers.registry import load_bundle
from pipeline.classifiers.ensemble import EnsembleClassifier
from pipeline.classifiers.tfidf import TfidfLogreg
from pipeline.classifiers.settings import EnsembleConfig, TfidfLogregConfig
from corpus import minimal_config_yaml
from pipeline.config import load_config
from pipeline.errors import ConfigError

LABELS = ["support", "conditional", "rule_out", "none"]
TEXTS = [
    "Italy will not send troops.",
    "France could send troops after a ceasefire.",
    "It rained.",
    "Britain is ready to send soldiers.",
    "Spain rules out troops.",
    "Talks ended late.",
    "Sweden does not rule out troops.",
    "Poland would deploy only with a mandate.",
]
TARGETS = ["rule_out", "conditional", "none", "support", "rule_out", "none", "support", "conditional"]


def two_tfidf_members() -> list[TfidfLogreg]:
    return [TfidfLogreg(LABELS, TfidfLogregConfig(C=0.1), seed=1), TfidfLogreg(LABELS, TfidfLogregConfig(C=50), seed=1)]


def test_ensemble_averages_member_probabilities_with_normalized_weights(tmp_path):
    members = two_tfidf_members()
    ensemble = EnsembleClassifier(LABELS, members, [3, 1]).fit(TEXTS, TARGETS)
    assert ensemble.weights == [0.75, 0.25]
    expected = 0.75 * members[0].predict_proba(TEXTS) + 0.25 * members[1].predict_proba(TEXTS)
    got = ensemble.predict_proba(TEXTS)
    assert np.allclose(got, expected) and np.allclose(got.sum(axis=1), 1.0)
    assert not np.allclose(members[0].predict_proba(TEXTS), members[1].predict_proba(TEXTS))  # members differ

    ensemble.save(tmp_path / "bundle")
    loaded = load_bundle(tmp_path / "bundle")
    assert isinstance(loaded, EnsembleClassifier) and loaded.weights == [0.75, 0.25]
    assert np.array_equal(loaded.predict_proba(TEXTS), got)


def test_ensemble_config_is_validated(tmp_path):
    assert EnsembleConfig(members=["tfidf_logreg", "finetune"], weights=[1, 3]).normalized_weights() == [0.25, 0.75]
    assert EnsembleConfig().normalized_weights() == [0.5, 0.5]
    path = tmp_path / "c.yaml"
    path.write_text(minimal_config_yaml() + "seed: 1\n")
    for override, message in [
        ("train.ensemble.members=[tfidf_logreg]", "at least 2"),
        ("train.ensemble.members=[tfidf_logreg,tfidf_logreg]", "must not repeat"),
        ("train.ensemble.weights=[1]", "1 given for 2 members"),
        ("train.ensemble.weights=[1,0]", "positive"),
        ("train.ensemble.members=[tfidf_logreg,ensemble]", "train.ensemble.members"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_config(path, [override])


def test_build_classifier_gives_each_member_its_own_section(tmp_path):
    from pipeline.train import build_classifier

    path = tmp_path / "c.yaml"
    path.write_text(minimal_config_yaml() + "seed: 1\n")
    config = load_config(
        path, ["train.model=ensemble", "train.ensemble.weights=[2,1]", "train.tfidf_logreg.C=0.3", "train.embed_logreg.C=7"]
    )
    ensemble = build_classifier(config)
    assert [m.kind for m in ensemble.members] == ["tfidf_logreg", "embed_logreg"]
    assert ensemble.members[0].settings.C == 0.3 and ensemble.members[1].settings.C == 7
    assert ensemble.weights == pytest.approx([2 / 3, 1 / 3])


@pytest.mark.slow
def test_stance_run_registers_an_ensemble_that_pyfunc_serves(tiny_config, workdir):
    import mlflow
    from typer.testing import CliRunner

    from pipeline.cli import app

    settings = ["train.model=ensemble", "train.embed_logreg.max_length=32"]
    result = CliRunner().invoke(app, ["run", "--config", str(tiny_config), *[a for s in settings for a in ("--set", s)]])
    assert result.exit_code == 0, result.output
    bundle = workdir / "models" / "tiny" / "bundle"
    assert (bundle / "members" / "0" / "bundle.json").is_file() and (bundle / "members" / "1" / "encoder").is_dir()
    served = mlflow.pyfunc.load_model("models:/tiny-stance@champion").predict(pd.DataFrame({"text": TEXTS}))
    expected = load_bundle(bundle).predict_proba(TEXTS)
    assert np.allclose(served[[f"p_{label}" for label in LABELS]].to_numpy(), expected, atol=1e-6)
