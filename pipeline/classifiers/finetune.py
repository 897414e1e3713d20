"""``finetune``: the local transformer fine-tuned for sequence classification.

Training: soft targets (the label stage's ``p_<label>``) weighted by label confidence and
class balance, dynamic padding over length-bucketed batches in a seeded order, AdamW with
linear warm-up/decay, early stopping on gold dev macro-F1 (the best epoch's weights are
kept). Inference: ``inference_mode``, length-sorted batches, optional int8 dynamic
quantization. The bundle holds the fine-tuned weights and tokenizer (``encoder/``).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from pipeline.classifiers import runtime
from pipeline.classifiers import registry
from pipeline.classifiers.base import write_manifest
from pipeline.classifiers.torch_utils import (
    Tokenized,
    batched_inference,
    bucketed_batches,
    load_pretrained,
    load_tokenizer,
    seed_torch,
    set_threads,
)
from pipeline.classifiers.weights import check_model_dir, resolve_model_dir
from pipeline.classifiers.settings import FinetuneConfig
from pipeline.config import Config
from pipeline.errors import ModelError
from pipeline.ingest import normalize_text

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

ENCODER_DIR = "encoder"


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    train_loss: float
    dev_macro_f1: float | None


def target_matrix(targets: Sequence[str], labels: Sequence[str], probabilities: np.ndarray | None) -> np.ndarray:
    """Training targets as distributions over ``labels``: the given probabilities where a
    row's are finite and sum to more than zero, else one-hot of the row's label."""
    onehot = np.zeros((len(targets), len(labels)), dtype=np.float32)
    onehot[np.arange(len(targets)), [list(labels).index(t) for t in targets]] = 1.0
    if probabilities is None:
        return onehot
    probs = np.asarray(probabilities, dtype=np.float64)
    totals = probs.sum(axis=1)
    usable = np.isfinite(probs).all(axis=1) & (totals > 0)
    soft = np.where(usable[:, None], probs / np.where(usable, totals, 1.0)[:, None], onehot)
    return soft.astype(np.float32)


def balanced_weights(targets: Sequence[str]) -> np.ndarray:
    """scikit-learn's ``class_weight="balanced"`` per row: n / (classes * count(row's class))."""
    values, counts = np.unique(np.asarray(targets), return_counts=True)
    per_class = dict(zip(values, len(targets) / (len(values) * counts)))
    return np.array([per_class[t] for t in targets], dtype=np.float64)


def early_stopping_split(texts: Sequence[str], dev: pd.DataFrame, fraction: float, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Which training rows to keep, and the dev rows to stop on.

    When dev sentences are also training rows (gold dev used for training), a seeded
    ``fraction`` of dev articles (``doc_id``; rows when absent) is held out: its sentences
    leave the training rows and become the stopping set. Otherwise all of dev is used.
    """
    train_keys = [normalize_text(t) for t in texts]
    dev_keys = dev["text"].astype(str).map(normalize_text)
    if not set(dev_keys) & set(train_keys):
        return np.ones(len(train_keys), dtype=bool), dev
    groups = dev["doc_id"].astype(str) if "doc_id" in dev.columns else pd.Series(dev.index.astype(str), index=dev.index)
    names = sorted(set(groups))
    count = min(len(names), max(1, round(fraction * len(names))))
    held = set(np.random.default_rng(seed).choice(names, size=count, replace=False))
    stop = dev.loc[groups.isin(held)]
    held_keys = set(dev_keys[groups.isin(held)])
    return np.array([key not in held_keys for key in train_keys]), stop


def keep_first_layers(model: "torch.nn.Module", count: int) -> None:
    """Drop every transformer layer after the first ``count`` (BERT-style encoders:
    ``base_model.encoder.layer``); the config follows, so the saved model reloads as is."""
    layers = getattr(getattr(model.base_model, "encoder", None), "layer", None)
    if layers is None:
        raise ModelError(f"num_layers: {type(model.base_model).__name__} has no encoder.layer list to cut")
    if count > len(layers):
        raise ModelError(f"num_layers: {count} asked, the pretrained encoder has {len(layers)}")
    del layers[count:]
    model.config.num_hidden_layers = count


def class_probabilities(model: "torch.nn.Module", batch: dict) -> "torch.Tensor":
    """The classification head's softmax for one padded batch."""
    return model(**batch).logits.softmax(dim=-1)


class FinetuneClassifier:
    """A transformer encoder with a classification head, fine-tuned on the training rows."""

    kind = "finetune"

    def __init__(self, labels: Sequence[str], settings: FinetuneConfig, seed: int) -> None:
        self.labels = list(labels)
        self.settings = settings
        self.seed = seed
        self.model_: "torch.nn.Module | None" = None
        self.tokenizer_ = None
        self.history_: list[EpochRecord] = []
        self.best_epoch_: int | None = None
        self._serving: "Callable[[dict], torch.Tensor] | None" = None

    # ----------------------------------------------------------------- training
    def fit(
        self,
        texts: Sequence[str],
        targets: Sequence[str],
        weights: np.ndarray | None = None,
        dev: pd.DataFrame | None = None,
        probabilities: np.ndarray | None = None,
    ) -> "FinetuneClassifier":
        """Fine-tune from the configured weights. ``probabilities``: optional soft targets
        (rows x ``labels``), used when ``soft_labels`` is on; ``dev``: gold ``text``/``label``."""
        settings = self.settings
        set_threads(settings.num_threads)
        texts = list(texts)
        keep, stop_dev = (
            early_stopping_split(texts, dev, settings.dev_holdout, self.seed)
            if dev is not None and len(dev)
            else (np.ones(len(texts), dtype=bool), None)
        )
        if not keep.any():  # every training row is a held-out dev sentence: train on all, stop on nothing
            keep, stop_dev = np.ones(len(texts), dtype=bool), None
        row_weights = np.ones(len(texts)) if weights is None else np.asarray(weights, dtype=np.float64)
        if settings.class_weight == "balanced":
            row_weights = row_weights * balanced_weights(targets)
        goal = target_matrix(targets, self.labels, probabilities if settings.soft_labels else None)
        rows = np.flatnonzero(keep)
        self._train(
            [texts[i] for i in rows],
            goal[rows],
            row_weights[rows].astype(np.float32),
            stop_dev,
        )
        return self

    def _train(self, texts: list[str], goal: np.ndarray, weights: np.ndarray, stop_dev: pd.DataFrame | None) -> None:
        import torch
        from transformers import (
            AutoModelForSequenceClassification,
            get_linear_schedule_with_warmup,
        )

        settings = self.settings
        model_dir = resolve_model_dir(settings.model_dir)
        seed_torch(self.seed)  # the new head's initial weights and dropout masks
        rng = np.random.default_rng(self.seed)
        self.tokenizer_ = load_tokenizer(model_dir)
        model = load_pretrained(
            AutoModelForSequenceClassification,
            model_dir,
            num_labels=len(self.labels),
            id2label=dict(enumerate(self.labels)),
            label2id={label: i for i, label in enumerate(self.labels)},
        )
        if settings.num_layers is not None:
            keep_first_layers(model, settings.num_layers)
        tokenized = Tokenized(self.tokenizer_, texts, settings.max_length)
        steps_per_epoch = -(-len(texts) // settings.batch_size)
        optimizer = torch.optim.AdamW(self._parameter_groups(model), lr=settings.learning_rate, foreach=True)
        total = steps_per_epoch * settings.epochs
        scheduler = get_linear_schedule_with_warmup(optimizer, int(settings.warmup_ratio * total), total)
        goal_t, weights_t = torch.from_numpy(goal), torch.from_numpy(weights)
        best_score, best_state, waited = -1.0, None, 0
        self.history_ = []
        for epoch in range(1, settings.epochs + 1):
            model.train()
            losses = []
            for indices in bucketed_batches(tokenized.lengths, settings.batch_size, rng):
                logits = model(**tokenized.batch(indices)).logits
                per_row = -(goal_t[indices] * torch.log_softmax(logits, dim=-1)).sum(dim=-1)
                w = weights_t[indices]
                loss = (per_row * w).sum() / w.sum().clamp(min=1e-9)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                losses.append(float(loss.detach()))
            model.eval()
            score = self._dev_macro_f1(model, stop_dev) if stop_dev is not None else None
            self.history_.append(EpochRecord(epoch, float(np.mean(losses)), score))
            log.info(
                "finetune epoch %d: loss %.4f%s", epoch, np.mean(losses), "" if score is None else f", dev macro-F1 {score:.3f}"
            )
            if score is None:
                continue
            if score > best_score:
                best_score, best_state, waited, self.best_epoch_ = score, copy.deepcopy(model.state_dict()), 0, epoch
            else:
                waited += 1
                if waited >= settings.patience:
                    break
        if best_state is not None:
            model.load_state_dict(best_state)
        else:
            self.best_epoch_ = len(self.history_)
        self.model_ = model.eval()
        self._serving = None

    def _parameter_groups(self, model: "torch.nn.Module") -> list[dict]:
        # The usual BERT recipe: no weight decay on biases and LayerNorm weights.
        # Freezing the word-embedding matrix (half of MiniLM's weights, mostly rows a small
        # training set never touches) halves the optimizer's work at no measured cost.
        decay, no_decay = [], []
        for name, parameter in model.named_parameters():
            if self.settings.freeze_embeddings and "word_embeddings" in name:
                parameter.requires_grad_(False)
                continue
            (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(parameter)
        return [{"params": decay, "weight_decay": self.settings.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]

    def _dev_macro_f1(self, model: "torch.nn.Module", dev: pd.DataFrame) -> float:
        probs = self._probabilities(lambda batch: class_probabilities(model, batch), dev["text"].astype(str).tolist())
        predicted = [self.labels[i] for i in probs.argmax(axis=1)]
        return float(f1_score(dev["label"].astype(str).tolist(), predicted, labels=self.labels, average="macro", zero_division=0))

    # ---------------------------------------------------------------- inference
    def _probabilities(self, forward: "Callable[[dict], torch.Tensor]", texts: Sequence[str]) -> np.ndarray:
        tokenized = Tokenized(self.tokenizer_, texts, self.settings.max_length)
        return batched_inference(tokenized, forward, self.settings.inference_batch_size, len(self.labels))

    def serving_forward(self) -> "Callable[[dict], torch.Tensor]":
        """What predictions run on: torch or an ONNX Runtime export, int8 when ``quantize``
        (built once per process)."""
        assert self.model_ is not None, "fit or load the model first"
        if self._serving is None:
            settings = self.settings
            self._serving = runtime.serving_forward(
                self.model_,
                class_probabilities,
                runtime.example_batch(self.tokenizer_),
                runtime=settings.runtime,
                quantize=settings.quantize,
                num_threads=settings.num_threads,
            )
        return self._serving

    def use_serving(self, **settings: object) -> None:
        """Serve with other ``runtime`` / ``quantize`` settings from now on (the bench compares them)."""
        self.settings = self.settings.model_copy(update=settings)
        self._serving = None

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        set_threads(self.settings.num_threads)
        return self._probabilities(self.serving_forward(), list(texts)).astype(np.float64)

    # ------------------------------------------------------------------ bundle
    def save(self, folder: Path) -> None:
        assert self.model_ is not None and self.tokenizer_ is not None, "fit the model first"
        write_manifest(
            folder,
            self.kind,
            self.labels,
            seed=self.seed,
            settings=self.settings.model_dump(),
            encoder=ENCODER_DIR,
            best_epoch=self.best_epoch_,
            history=[record.__dict__ for record in self.history_],
        )
        self.model_.save_pretrained(str(folder / ENCODER_DIR))
        self.tokenizer_.save_pretrained(str(folder / ENCODER_DIR))

    @classmethod
    def from_config(cls, config: Config) -> "FinetuneClassifier":
        settings = registry.settings(config, cls.kind)
        assert isinstance(settings, FinetuneConfig)
        return cls(config.labels, settings, config.seed)

    @classmethod
    def load(cls, folder: Path, manifest: dict) -> "FinetuneClassifier":
        from transformers import AutoModelForSequenceClassification

        model = cls(manifest["labels"], FinetuneConfig(**manifest["settings"]), manifest["seed"])
        encoder = folder / manifest["encoder"]
        check_model_dir(encoder)
        model.tokenizer_ = load_tokenizer(encoder)
        model.model_ = load_pretrained(AutoModelForSequenceClassification, encoder)
        model.best_epoch_ = manifest.get("best_epoch")
        model.history_ = [EpochRecord(**record) for record in manifest.get("history", [])]
        return model
