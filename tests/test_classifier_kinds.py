"""Classifier kinds come from the registry: ``train.model`` and the ``train.<kind>`` sections
are validated against its table, and a kind registered there (here one added by the test)
validates, trains, names runs and loads without any change to ``pipeline/config.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pytest
from pydantic import Field

from pipeline.classifiers import registry
from pipeline.classifiers.base import write_manifest
from pipeline.config import Config, StrictModel, load_config
from pipeline.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "configs" / "default.yaml"
LABELS = ["support", "conditional", "rule_out", "none"]


class PriorSettings(StrictModel):
    """The settings of the test's kind: additive smoothing of the label counts."""

    smoothing: float = Field(default=1.0, gt=0)


class PriorClassifier:
    """Predicts the (smoothed, weighted) training label distribution for every text."""

    kind = "label_prior"

    def __init__(self, labels: Sequence[str], settings: PriorSettings) -> None:
        self.labels = list(labels)
        self.settings = settings
        self.prior_ = np.full(len(self.labels), 1 / len(self.labels))

    def fit(
        self, texts: Sequence[str], targets: Sequence[str], weights: np.ndarray | None = None, dev: pd.DataFrame | None = None
    ) -> "PriorClassifier":
        counts = np.full(len(self.labels), self.settings.smoothing)
        for target, weight in zip(targets, np.ones(len(targets)) if weights is None else weights):
            counts[self.labels.index(target)] += weight
        self.prior_ = counts / counts.sum()
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.tile(self.prior_, (len(list(texts)), 1))

    def save(self, folder: Path) -> None:
        write_manifest(folder, self.kind, self.labels, settings=self.settings.model_dump(), prior=self.prior_.tolist())

    @classmethod
    def from_config(cls, config: Config) -> "PriorClassifier":
        settings = registry.settings(config, cls.kind)
        assert isinstance(settings, PriorSettings)
        return cls(config.labels, settings)

    @classmethod
    def load(cls, folder: Path, manifest: dict) -> "PriorClassifier":
        model = cls(manifest["labels"], PriorSettings(**manifest["settings"]))
        model.prior_ = np.asarray(manifest["prior"])
        return model


@pytest.fixture
def prior_kind(monkeypatch):
    """The test's kind, registered the way a new module would be: one line in the table."""
    kind = registry.Kind("label_prior", __name__, "PriorClassifier", f"{__name__}.PriorSettings")
    monkeypatch.setitem(registry.KINDS, kind.name, kind)
    return kind


def test_an_unknown_kind_is_a_config_error_naming_the_known_kinds():
    with pytest.raises(ConfigError) as error:
        load_config(DEFAULT, ["train.model=svm"])
    message = str(error.value)
    assert "train.model" in message and "unknown classifier kind 'svm'" in message
    assert f"one of {', '.join(registry.trainable_names())}" in message
    assert registry.trainable_names() == ["tfidf_logreg", "embed_logreg", "finetune", "ensemble"]


def test_train_model_cannot_name_a_kind_made_by_target_mode():
    with pytest.raises(ConfigError, match=r"train.model: .*unknown classifier kind 'per_target'"):
        load_config(DEFAULT, ["train.model=per_target"])


def test_every_kind_with_settings_has_its_section_with_defaults():
    config = load_config(DEFAULT)
    train = config.model_dump(mode="json")["train"]
    for name, model in registry.settings_models().items():
        assert train[name] == model().model_dump(mode="json")
        assert registry.settings(config, name) == model()
    assert registry.settings(config, "per_target") is None


def test_a_section_of_another_kind_is_validated_but_not_used():
    config = load_config(DEFAULT, ["train.model=tfidf_logreg", "train.finetune.epochs=2"])
    assert config.train.finetune.epochs == 2
    assert registry.settings(config) == config.train.tfidf_logreg
    with pytest.raises(ConfigError, match=r"train.finetune.epochs: Input should be greater than or equal to 1"):
        load_config(DEFAULT, ["train.model=tfidf_logreg", "train.finetune.epochs=0"])


def test_a_section_for_a_kind_without_settings_or_no_kind_is_an_unknown_key():
    with pytest.raises(ConfigError, match=r"unknown key 'train.per_target'"):
        load_config(DEFAULT, ["train.per_target.C=1"])
    with pytest.raises(ConfigError, match=r"unknown key 'train.svm'"):
        load_config(DEFAULT, ["train.svm.C=1"])


def test_section_errors_and_field_errors_are_reported_together():
    with pytest.raises(ConfigError) as error:
        load_config(DEFAULT, ["train.tfidf_logreg.C=-1", "train.target_mode=both", "train.extra=1"])
    message = str(error.value)
    assert "train.tfidf_logreg.C: Input should be greater than 0" in message
    assert "train.target_mode: Input should be 'none', 'per_target' or 'joint'" in message
    assert "unknown key 'train.extra'" in message


def test_a_registered_kind_validates_with_its_own_settings(prior_kind):
    config = load_config(DEFAULT, ["train.model=label_prior", "train.label_prior.smoothing=0.5"])
    assert registry.settings(config) == PriorSettings(smoothing=0.5)
    assert load_config(DEFAULT).train.label_prior == PriorSettings()
    with pytest.raises(ConfigError, match=r"train.label_prior.smoothing: Input should be greater than 0"):
        load_config(DEFAULT, ["train.model=label_prior", "train.label_prior.smoothing=0"])
    with pytest.raises(ConfigError, match=r"unknown key 'train.label_prior.alpha'"):
        load_config(DEFAULT, ["train.label_prior.alpha=1"])


def test_a_registered_kind_trains_names_its_run_and_loads(prior_kind, tmp_path):
    from pipeline.stages import run_name
    from pipeline.tracking import pip_requirements
    from pipeline.train import fit_classifier

    config = load_config(DEFAULT, ["train.model=label_prior", "train.label_prior.smoothing=0.5"])
    rows = pd.DataFrame(
        {"text": ["a", "b", "c", "d"], "label": ["support", "support", "none", "rule_out"], "confidence": [1.0, 1.0, 1.0, 1.0]}
    )
    classifier = fit_classifier(config, rows).classifier
    assert isinstance(classifier, PriorClassifier)
    assert classifier.predict_proba(["x"])[0] == pytest.approx(np.array([2.5, 0.5, 1.5, 1.5]) / 6)
    assert run_name(config).startswith("label_prior(smoothing=0.5)-")
    assert not any(req.startswith("torch==") for req in pip_requirements("label_prior"))

    classifier.save(tmp_path / "bundle")
    loaded = registry.load_bundle(tmp_path / "bundle")
    assert isinstance(loaded, PriorClassifier) and loaded.settings == PriorSettings(smoothing=0.5)
    np.testing.assert_array_equal(loaded.predict_proba(["y", "z"]), classifier.predict_proba(["y", "z"]))


def test_a_registered_kind_can_be_an_ensemble_member(prior_kind, tmp_path):
    from pipeline.classifiers.ensemble import EnsembleClassifier

    config = load_config(DEFAULT, ["train.model=ensemble", "train.ensemble.members=[tfidf_logreg,label_prior]"])
    ensemble = registry.build(config)
    assert isinstance(ensemble, EnsembleClassifier)
    assert [member.kind for member in ensemble.members] == ["tfidf_logreg", "label_prior"]
    with pytest.raises(ConfigError, match="an ensemble cannot be a member of an ensemble"):
        load_config(DEFAULT, ["train.model=ensemble", "train.ensemble.members=[label_prior,ensemble]"])
