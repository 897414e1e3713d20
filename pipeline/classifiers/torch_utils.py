"""Shared torch plumbing for the transformer classifiers: threads, seeds, loading local
weights, length-sorted batching and int8 quantization.

torch and transformers are imported inside the functions, so importing this module (and
``stance --help``) stays fast.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import numpy as np

from pipeline.errors import ModelError, first_line

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


def set_threads(num_threads: int | None) -> None:
    """Use ``num_threads`` intra-op threads (None keeps torch's default: the core count)."""
    import torch

    if num_threads is not None and torch.get_num_threads() != num_threads:
        torch.set_num_threads(num_threads)


def seed_torch(seed: int) -> None:
    """Seed torch's CPU generator (classification-head init, dropout)."""
    import torch

    torch.manual_seed(seed)


def _quiet_transformers() -> None:
    import transformers

    transformers.logging.set_verbosity_error()  # the "newly initialized head" load report is expected
    transformers.logging.disable_progress_bar()


def load_tokenizer(folder: Path):  # noqa: ANN201 (a transformers tokenizer)
    """The fast tokenizer saved in ``folder`` (never fetched from a hub); ModelError when it
    cannot be read."""
    _quiet_transformers()
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder}: cannot load the tokenizer ({first_line(exc, 300)})") from None


def load_pretrained(loader: Callable[..., "torch.nn.Module"], folder: Path, **kwargs: object) -> "torch.nn.Module":
    """``loader.from_pretrained(folder)`` from local files only, in eval mode; ModelError on failure."""
    _quiet_transformers()
    try:
        model = loader.from_pretrained(str(folder), local_files_only=True, **kwargs)  # type: ignore[attr-defined]
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder}: cannot load the model weights ({first_line(exc, 300)})") from None
    return model.eval()


def quantize_int8(model: "torch.nn.Module") -> "torch.nn.Module":
    """Dynamic int8 quantization of every Linear layer (weights int8, activations on the fly)."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch points at torchao; the eager API still works and is what we measured
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Index batches over ``lengths`` sorted shortest first, so each batch pads little.

    The caller writes each batch's results back at these indices, which restores input order.
    """
    order = np.argsort(np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def bucketed_batches(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator, bucket_batches: int = 20
) -> list[np.ndarray]:
    """Training batches of similar length in a seeded random order.

    Shuffle, cut into buckets of ``bucket_batches`` batches, sort each bucket by length,
    cut it into batches, then shuffle the batches: little padding, still a random order.
    """
    lengths = np.asarray(lengths)
    shuffled = rng.permutation(len(lengths))
    batches: list[np.ndarray] = []
    bucket = batch_size * bucket_batches
    for start in range(0, len(shuffled), bucket):
        chunk = shuffled[start : start + bucket]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


class Tokenized:
    """Texts tokenized once without padding; batches are padded to their own longest row."""

    def __init__(self, tokenizer, texts: Sequence[str], max_length: int) -> None:  # noqa: ANN001
        self.tokenizer = tokenizer
        texts = list(texts)
        self.input_ids: list[list[int]] = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"] if texts else []
        self.lengths = [len(ids) for ids in self.input_ids]

    def __len__(self) -> int:
        return len(self.input_ids)

    def batch(self, indices: np.ndarray) -> dict[str, "torch.Tensor"]:
        """The rows at ``indices`` as padded ``input_ids`` and ``attention_mask`` tensors."""
        return self.tokenizer.pad({"input_ids": [self.input_ids[i] for i in indices]}, return_tensors="pt")


def batched_inference(
    tokenized: Tokenized, forward: Callable[[dict[str, "torch.Tensor"]], "torch.Tensor"], batch_size: int, width: int
) -> np.ndarray:
    """Run ``forward`` over length-sorted batches under ``inference_mode``; rows come back in
    input order as a float32 ``(len(tokenized), width)`` array."""
    import torch

    out = np.zeros((len(tokenized), width), dtype=np.float32)
    with torch.inference_mode():
        for indices in length_sorted_batches(tokenized.lengths, batch_size):
            out[indices] = forward(tokenized.batch(indices)).float().numpy()
    return out
