"""Contrastive fine-tuning of a sentence encoder on labelled rows (the SetFit method,
Tunstall et al., 2022): pairs of same-label sentences are pulled together and pairs of
different-label sentences pushed apart (cosine similarity regressed on 1 / 0), so that a
linear classifier on the tuned embeddings separates the classes better than on frozen ones.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from pipeline.classifiers.embeddings import mean_pooled
from pipeline.classifiers.torch_utils import (
    Tokenized,
    load_pretrained,
    load_tokenizer,
    seed_torch,
    set_threads,
)
from pipeline.classifiers.settings import EmbedLogregConfig

log = logging.getLogger(__name__)


def contrastive_pairs(labels: Sequence[str], iterations: int, rng: np.random.Generator) -> np.ndarray:
    """SetFit's pair sampling: per iteration, every row gets one partner of its own label
    (similarity 1; none when it is its label's only row) and one of another label (0).
    Returns ``(pairs, 3)`` float rows ``(i, j, similarity)`` in a seeded random order."""
    labels = np.asarray(labels)
    by_label = {label: np.flatnonzero(labels == label) for label in np.unique(labels)}
    pairs: list[tuple[int, int, float]] = []
    for _ in range(iterations):
        for i, label in enumerate(labels):
            same = by_label[label][by_label[label] != i]
            if len(same):
                pairs.append((i, int(rng.choice(same)), 1.0))
            other = np.flatnonzero(labels != label)
            if len(other):
                pairs.append((i, int(rng.choice(other)), 0.0))
    out = np.array(pairs, dtype=np.float64).reshape(-1, 3)
    return out[rng.permutation(len(out))]


def contrastive_finetune(
    model_dir: Path, texts: Sequence[str], labels: Sequence[str], settings: EmbedLogregConfig, seed: int, out_dir: Path
) -> Path:
    """Tune the encoder in ``model_dir`` on ``texts`` / ``labels`` and save it (weights and
    tokenizer) to ``out_dir``, which is returned. The word-embedding matrix stays frozen."""
    import torch
    from transformers import AutoModel

    set_threads(settings.num_threads)
    seed_torch(seed)
    rng = np.random.default_rng(seed)
    tokenizer = load_tokenizer(model_dir)
    model = load_pretrained(AutoModel, model_dir)
    for name, parameter in model.named_parameters():
        parameter.requires_grad_("word_embeddings" not in name)
    tokenized = Tokenized(tokenizer, list(texts), settings.max_length)
    pairs = contrastive_pairs(labels, settings.contrastive_iterations, rng)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=settings.contrastive_learning_rate, foreach=True
    )
    started, losses = time.perf_counter(), []
    model.train()
    for start in range(0, len(pairs), settings.contrastive_batch_size):
        chunk = pairs[start : start + settings.contrastive_batch_size]
        left = mean_pooled(model, tokenized.batch(chunk[:, 0].astype(int)))
        right = mean_pooled(model, tokenized.batch(chunk[:, 1].astype(int)))
        similarity = (left * right).sum(dim=-1)  # both L2-normalized: the cosine
        loss = torch.nn.functional.mse_loss(similarity, torch.from_numpy(chunk[:, 2]).float())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    model.eval()
    log.info(
        "contrastive fine-tuning: %d pairs in %.1fs, mean loss %.4f",
        len(pairs),
        time.perf_counter() - started,
        float(np.mean(losses)) if losses else float("nan"),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    return out_dir
