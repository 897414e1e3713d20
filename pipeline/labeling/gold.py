"""Hand-labelled gold sets: sentence files (``doc_id,text,label``) and offset references
into an article folder (``file,char_start,char_end,sha1,label,split``)."""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import pandas as pd

from pipeline.errors import InputError
from pipeline.io import read_table, read_text_file

if TYPE_CHECKING:
    from pipeline.config import Config, GoldSetConfig

log = logging.getLogger(__name__)

GOLD_COLUMNS = ["doc_id", "text", "label"]
REF_COLUMNS = ["file", "char_start", "char_end", "sha1", "label", "split"]


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (expected {', '.join(columns)})")


def _check_labels(frame: pd.DataFrame, labels: Sequence[str], path: Path) -> None:
    bad = ~frame["label"].isin(labels)
    if bad.any():
        row = int(bad.idxmax())
        raise InputError(f"{path} row {row + 2}: label {frame.at[row, 'label']!r} is not one of {', '.join(labels)}")


def load_gold(path: Path, labels: Sequence[str]) -> pd.DataFrame:
    """Read a gold sentence file; every row must have text and a known label.

    Row numbers in errors count the header as row 1, as a spreadsheet shows them.
    """
    frame = read_table(path).reset_index(drop=True)
    _require_columns(frame, GOLD_COLUMNS, path)
    frame["text"] = frame["text"].astype(str)
    empty = frame["text"].str.strip() == ""
    if empty.any():
        raise InputError(f"{path} row {int(empty.idxmax()) + 2}: empty text")
    _check_labels(frame, labels, path)
    if frame.empty:
        raise InputError(f"{path}: no gold rows")
    return frame


def sentence_sha1(text: str) -> str:
    """The short hash stored with a reference to check that offsets still match the text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def load_gold_refs(path: Path, articles_dir: Path, labels: Sequence[str], split: str | None = None) -> pd.DataFrame:
    """Join offset references to the article texts; the result looks like a gold file.

    Fails, naming the row, when an article is missing or its text no longer matches the
    stored hash (the corpus changed under the references).
    """
    refs = read_table(path).reset_index(drop=True)
    _require_columns(refs, REF_COLUMNS, path)
    _check_labels(refs, labels, path)
    if not articles_dir.is_dir():
        raise InputError(f"{articles_dir}: article folder for the gold references {path} not found")
    texts: dict[str, str] = {}
    rows = []
    for i, ref in refs.iterrows():
        if split is not None and ref["split"] != split:
            continue
        file = articles_dir / str(ref["file"])
        if not file.is_file():
            raise InputError(f"{path} row {i + 2}: article {file} not found")
        if ref["file"] not in texts:
            texts[ref["file"]] = read_text_file(file, "utf-8")
        start, end = int(ref["char_start"]), int(ref["char_end"])
        text = texts[ref["file"]][start:end]
        if sentence_sha1(text) != ref["sha1"]:
            raise InputError(f"{path} row {i + 2}: text at {ref['file']}[{start}:{end}] does not match sha1 {ref['sha1']}")
        rows.append(
            {
                "doc_id": Path(ref["file"]).stem,
                "text": text,
                "label": ref["label"],
                "char_start": start,
                "char_end": end,
                "split": ref["split"],
            }
        )
    if not rows:
        raise InputError(f"{path}: no references" + (f" in split {split!r}" if split else ""))
    return pd.DataFrame(rows)


def load_bank(path: Path, labels: Sequence[str]) -> pd.DataFrame:
    """The statements bank (a folder of bank CSVs, or one) as a gold frame: ``doc_id`` is
    ``<file stem>:<id>``, the bank's other columns are kept. Schema problems fail naming the
    file, row and column."""
    from pipeline.statements import read_bank_file, validate_rows

    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    if not files:
        raise InputError(f"{path}: no statements-bank CSV files")
    frames = []
    for file in files:
        rows = read_bank_file(file)
        problems = validate_rows(rows, str(file))
        if problems:
            raise InputError(f"{problems[0]}" + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""))
        frame = pd.DataFrame(rows)
        frame.insert(0, "doc_id", file.stem + ":" + frame["id"])
        frames.append(frame)
    bank = pd.concat(frames, ignore_index=True)
    _check_labels(bank, labels, path)
    return bank


def is_bank(path: Path) -> bool:
    """Whether ``path`` is a statements-bank folder or file (by its header)."""
    from pipeline.statements import COLUMNS

    if path.is_dir():
        return True
    with path.open(encoding="utf-8", errors="replace") as handle:
        return handle.readline().strip().lstrip("\ufeff").split(",") == COLUMNS


@functools.lru_cache(maxsize=None)
def _warn_skipped(missing: str, name: str) -> None:
    """Once per process: the checks, the train stage and the evaluate stage all load the sets."""
    log.warning("%s: not found; the optional gold set %r is skipped", missing, name)


def load_gold_set(source: "GoldSetConfig", config: "Config") -> pd.DataFrame | None:
    """One configured extra gold set (``train.extra_gold`` or ``evaluate.extra_sets``) as a
    gold frame with ``doc_id, text, label``; None when it is ``optional`` and absent."""
    path = config.path(source.path)
    articles = config.path(source.articles) if source.articles else None
    missing = [p for p in (path, articles) if p is not None and not p.exists()]
    if missing:
        if source.optional:
            _warn_skipped(str(missing[0]), source.set_name)
            return None
        raise InputError(f"{missing[0]}: gold set {source.set_name!r} not found")
    if articles is not None:
        return load_gold_refs(path, articles, config.labels, split=source.split)
    if is_bank(path):
        return load_bank(path, config.labels)
    return load_gold(path, config.labels)
