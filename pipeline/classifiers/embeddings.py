"""Sentence embeddings from local transformer weights, with an on-disk cache.

:func:`embed_texts` is the public entry point (the ``embed_logreg`` classifier and the
embedding labeling function use it): L2-normalized mean-pooled float32 vectors, one row
per text in input order. With a ``cache_dir``, vectors are kept in a small sqlite store
per model fingerprint (``<cache_dir>/embeddings/<model-digest>-L<max_length>[-int8].sqlite``)
keyed by the SHA-1 of each text, so a rerun with another classifier setting embeds nothing.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from pipeline.classifiers import runtime
from pipeline.classifiers.runtime import Runtime
from pipeline.classifiers.torch_utils import (
    Tokenized,
    batched_inference,
    load_pretrained,
    load_tokenizer,
    set_threads,
)
from pipeline.classifiers.weights import (
    check_model_dir,
    model_digest,
    resolve_model_dir,
)

if TYPE_CHECKING:
    import torch

__all__ = ["SentenceEncoder", "EmbeddingCache", "embed_texts", "resolve_model_dir"]

log = logging.getLogger(__name__)


def mean_pooled(model: "torch.nn.Module", batch: dict) -> "torch.Tensor":
    """L2-normalized mean of the last hidden states over the unmasked tokens."""
    import torch

    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


class SentenceEncoder:
    """A transformer encoder that turns texts into L2-normalized mean-pooled vectors."""

    def __init__(
        self,
        model_dir: Path,
        max_length: int = 128,
        quantize: bool = False,
        runtime_name: Runtime = "torch",
        num_threads: int | None = None,
    ) -> None:
        from transformers import AutoModel

        check_model_dir(model_dir)
        self.model_dir = model_dir
        self.max_length = max_length
        self.tokenizer = load_tokenizer(model_dir)
        model = load_pretrained(AutoModel, model_dir)
        self.forward = runtime.serving_forward(
            model,
            mean_pooled,
            runtime.example_batch(self.tokenizer),
            runtime=runtime_name,
            quantize=quantize,
            num_threads=num_threads,
        )
        self.dimension = int(model.config.hidden_size)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """``(len(texts), dimension)`` float32 vectors in input order (length-sorted batches inside)."""
        tokenized = Tokenized(self.tokenizer, texts, self.max_length)
        return batched_inference(tokenized, self.forward, batch_size, self.dimension)


@functools.lru_cache(maxsize=4)
def cached_encoder(
    model_dir: str, max_length: int, quantize: bool, runtime_name: Runtime = "torch", num_threads: int | None = None
) -> SentenceEncoder:
    """One loaded encoder per (folder, settings) per process: loading takes seconds."""
    return SentenceEncoder(Path(model_dir), max_length, quantize, runtime_name, num_threads)


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors by text hash for one model fingerprint, in a sqlite file (safe to share
    between processes; a write is one transaction)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60)

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._connect() as db:
            unique = list(dict.fromkeys(keys))
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, blob in db.execute(f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", chunk):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put(self, items: dict[str, np.ndarray]) -> None:
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO embeddings (key, vector) VALUES (?, ?)",
                [(key, np.asarray(vector, dtype=np.float32).tobytes()) for key, vector in items.items()],
            )

    def __len__(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])


def cache_path(cache_dir: Path, model_dir: Path, max_length: int, quantize: bool, runtime_name: Runtime = "torch") -> Path:
    """The cache file for one model fingerprint and the settings that change its vectors (the
    two runtimes agree to float precision in fp32; their int8 quantizers differ)."""
    suffix = ("-ort-int8" if runtime_name == "onnxruntime" else "-int8") if quantize else ""
    return cache_dir / "embeddings" / f"{model_digest(model_dir)}-L{max_length}{suffix}.sqlite"


def embed_texts(
    texts: list[str],
    model_dir: Path,
    batch_size: int = 64,
    cache_dir: Path | None = None,
    *,
    max_length: int = 128,
    quantize: bool = False,
    num_threads: int | None = None,
    runtime_name: Runtime = "torch",
) -> np.ndarray:
    """L2-normalized mean-pooled float32 embeddings of ``texts``, one row each, in input order.

    With ``cache_dir``, only texts missing from the cache are embedded (and then stored).
    Raises ModelError when ``model_dir`` is not a loadable model folder.
    """
    model_dir = Path(model_dir)
    check_model_dir(model_dir)
    encoder_key = (str(model_dir), max_length, quantize, runtime_name, num_threads)
    if not texts:
        return np.zeros((0, cached_encoder(*encoder_key).dimension), dtype=np.float32)
    cache = (
        EmbeddingCache(cache_path(Path(cache_dir), model_dir, max_length, quantize, runtime_name))
        if cache_dir is not None
        else None
    )
    keys = [text_key(text) for text in texts]
    known = cache.get(keys) if cache is not None else {}
    missing = list(dict.fromkeys(text for text, key in zip(texts, keys) if key not in known))
    if missing:
        set_threads(num_threads)
        encoder = cached_encoder(*encoder_key)
        vectors = encoder.encode(missing, batch_size)
        fresh = {text_key(text): vector for text, vector in zip(missing, vectors)}
        if cache is not None:
            cache.put(fresh)
        known = {**known, **fresh}
    log.debug("embed_texts: %d texts, %d embedded, %d from cache", len(texts), len(missing), len(texts) - len(missing))
    return np.stack([known[key] for key in keys]).astype(np.float32, copy=False)
