"""Serving the transformer models on ONNX Runtime, int8 quantization, and cutting layers.

The ONNX export must give the torch model's outputs (it is traced once, then run on batches
of other shapes); int8 must actually change the weights used; a model fine-tuned with
``num_layers`` keeps that many layers through a bundle round trip. Slow: they load MiniLM.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.classifiers.settings import EmbedLogregConfig, FinetuneConfig
from pipeline.errors import ModelError

pytestmark = pytest.mark.slow
LABELS = ["support", "conditional", "rule_out", "none"]
TEXTS = [
    "Germany will not send soldiers to Ukraine.",
    "Denmark could deploy troops once a ceasefire is signed.",
    "Markets closed higher.",
    "The Netherlands stands ready to send a brigade.",
    "Norway says troops are out of the question.",
    "Ministers met in Vienna on Monday to discuss energy prices and the winter.",
]
TARGETS = ["rule_out", "conditional", "none", "support", "rule_out", "none"]
LONGER = TEXTS + [
    "A much longer sentence than any of the others, so that batches are padded to more tokens "
    "than the two rows the export was traced with had, which is the case to get right."
]


def tiny(**changes) -> FinetuneConfig:
    return FinetuneConfig(**{"epochs": 1, "batch_size": 4, "max_length": 48, "inference_batch_size": 4, **changes})


@pytest.fixture(scope="module")
def fitted():
    from pipeline.classifiers.finetune import FinetuneClassifier

    return FinetuneClassifier(LABELS, tiny(), seed=5).fit(TEXTS, TARGETS)


def test_onnxruntime_fp32_gives_the_torch_probabilities_in_input_order(fitted):
    reference = fitted.predict_proba(LONGER)
    fitted.use_serving(runtime="onnxruntime", quantize=False)
    try:
        served = fitted.predict_proba(LONGER)
        one_by_one = np.vstack([fitted.predict_proba([text]) for text in LONGER])
    finally:
        fitted.use_serving(runtime="torch", quantize=False)
    assert np.allclose(served, reference, atol=1e-5)
    assert np.allclose(one_by_one, reference, atol=1e-5)  # batch of one: no padding at all
    assert np.ptp(reference, axis=0).max() > 1e-3  # rows differ, so a mix-up would show


def test_onnxruntime_int8_quantizes(fitted):
    reference = fitted.predict_proba(LONGER)
    fitted.use_serving(runtime="onnxruntime", quantize=True)
    try:
        quantized = fitted.predict_proba(LONGER)
    finally:
        fitted.use_serving(runtime="torch", quantize=False)
    assert np.allclose(quantized.sum(axis=1), 1.0, atol=1e-5)
    assert not np.allclose(quantized, reference, atol=1e-6)  # int8 weights do change the outputs
    assert np.abs(quantized - reference).max() < 0.2  # ... a little


def test_embeddings_match_across_runtimes():
    from pipeline.classifiers.embeddings import embed_texts
    from pipeline.classifiers.weights import resolve_model_dir

    model_dir = resolve_model_dir(None)
    torch_vectors = embed_texts(LONGER, model_dir, batch_size=3, max_length=48)
    onnx_vectors = embed_texts(LONGER, model_dir, batch_size=3, max_length=48, runtime_name="onnxruntime")
    assert np.allclose(torch_vectors, onnx_vectors, atol=1e-5)


def test_embed_logreg_config_takes_the_runtime():
    assert EmbedLogregConfig(runtime="onnxruntime").runtime == "onnxruntime"
    with pytest.raises(ValueError, match="runtime"):
        FinetuneConfig(runtime="tensorrt")


def test_num_layers_cuts_the_encoder_and_survives_a_bundle(tmp_path):
    from pipeline.classifiers.registry import load_bundle
    from pipeline.classifiers.finetune import FinetuneClassifier

    model = FinetuneClassifier(LABELS, tiny(num_layers=2), seed=5).fit(TEXTS, TARGETS)
    assert len(model.model_.base_model.encoder.layer) == 2
    model.save(tmp_path / "bundle")
    loaded = load_bundle(tmp_path / "bundle")
    assert len(loaded.model_.base_model.encoder.layer) == 2
    assert np.array_equal(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    with pytest.raises(ModelError, match="num_layers: 7 asked, the pretrained encoder has 6"):
        FinetuneClassifier(LABELS, tiny(num_layers=7), seed=5).fit(TEXTS, TARGETS)
