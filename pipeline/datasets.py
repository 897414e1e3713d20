"""Dataset adapters: already-labelled stance datasets (SemEval-2016 Task 6, RUW, ...) read
into the pipeline's sentence table, one example per (text, target) pair.

The adapter is configuration (``data.dataset``): files, encoding, delimiter, columns, label
names, splits and text clean-up. Every problem names the file, row and column. Rows are
``sentence_id, doc_id, position, text, target, split, gold_label``: ``doc_id`` is the
dataset's id (or ``<file>:<row>``), ``position`` the index of the target pair within the row.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from pathlib import Path
from typing import Sequence

import pandas as pd

from pipeline.config import Config, DatasetConfig, DatasetFileConfig
from pipeline.errors import InputError, first_line
from pipeline.ingest import sentence_id

log = logging.getLogger(__name__)

EXAMPLE_COLUMNS = ["sentence_id", "doc_id", "position", "text", "target", "split", "gold_label"]
GOLD_SPLIT_COLUMNS = ["sentence_id", "doc_id", "text", "target", "label"]
SPLITS = ("train", "dev", "test")


def read_delimited(path: Path, encoding: str, delimiter: str, quoting: str) -> pd.DataFrame:
    """A delimited file with a header as strings; undecodable bytes are reported by line."""
    if not path.is_file():
        raise InputError(f"{path}: dataset file not found (data.dataset.files)")
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path} line {line}: not {encoding} text (byte 0x{raw[exc.start]:02x} at byte offset "
            f"{exc.start}); set data.dataset encoding"
        ) from None
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            quoting=csv.QUOTE_NONE if quoting == "none" else csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a readable {delimiter!r}-delimited file ({first_line(exc)})") from None


def clean_text(text: str, patterns: Sequence[re.Pattern[str]]) -> str:
    """The text with every configured pattern removed and whitespace collapsed."""
    for pattern in patterns:
        text = pattern.sub(" ", text)
    return " ".join(text.split())


def _require_columns(frame: pd.DataFrame, columns: dict[str, str | None], path: Path) -> None:
    for key, column in columns.items():
        if column is not None and column not in frame.columns:
            raise InputError(f"{path}: no column {column!r} (data.dataset.{key}); columns: {', '.join(frame.columns)}")


def _row_splits(frame: pd.DataFrame, file: DatasetFileConfig, spec: DatasetConfig, path: Path) -> list[str]:
    if file.split is not None:
        return [file.split] * len(frame)
    mapping = spec.split_values or {name: name for name in SPLITS}
    folded = {key.casefold(): value for key, value in mapping.items()}
    splits = []
    for row, value in enumerate(frame[spec.split_column]):
        split = folded.get(value.strip().casefold())
        if split is None:
            raise InputError(
                f"{path} row {row + 2} column {spec.split_column!r}: split {value!r} is not one of "
                f"{', '.join(mapping)} (data.dataset.split_values)"
            )
        splits.append(split)
    return splits


def read_dataset_file(file: DatasetFileConfig, spec: DatasetConfig, labels: Sequence[str], path: Path) -> pd.DataFrame:
    """One dataset file as example rows (``gold_label`` checked against ``labels``).

    Row numbers count the header as row 1, as a spreadsheet shows them.
    """
    frame = read_delimited(path, file.encoding or spec.encoding, spec.delimiter, spec.quoting).fillna("")  # short rows
    _require_columns(
        frame,
        {
            "text_column": spec.text_column,
            "id_column": spec.id_column,
            "split_column": spec.split_column if file.split is None else None,
        },
        path,
    )
    for pair in spec.targets:
        _require_columns(frame, {"targets.target_column": pair.target_column, "targets.label_column": pair.label_column}, path)
    patterns = [re.compile(p) for p in spec.remove_patterns]
    texts = frame[spec.text_column].map(lambda value: clean_text(value, patterns))
    _refuse_first(texts == "", path, spec.text_column, "empty text")
    ids = frame[spec.id_column].str.strip() if spec.id_column else pd.Series([f"{path.stem}:{i + 2}" for i in frame.index])
    _refuse_first(ids == "", path, spec.id_column, "empty id")
    splits = _row_splits(frame, file, spec, path)
    pairs = []
    for position, pair in enumerate(spec.targets):
        targets = frame[pair.target_column].str.strip() if pair.target_column else pd.Series(pair.target, index=frame.index)
        _refuse_first(targets == "", path, pair.target_column, "empty target")
        raw = frame[pair.label_column].str.strip()
        gold = raw.map(lambda value: spec.label_map.get(value, value))
        bad = ~gold.isin(labels)
        if bad.any():
            _refuse_first(
                bad,
                path,
                pair.label_column,
                f"label {raw[bad].iloc[0]!r} is not one of {', '.join(labels)} (config labels, after data.dataset.label_map)",
            )
        pairs.append(
            pd.DataFrame(
                {
                    "row": frame.index,
                    "doc_id": ids,
                    "position": position,
                    "text": texts,
                    "target": targets,
                    "split": splits,
                    "gold_label": gold,
                }
            )
        )
    examples = pd.concat(pairs).sort_values(["row", "position"], kind="stable").reset_index(drop=True)
    examples["sentence_id"] = [sentence_id(d, p) for d, p in zip(examples["doc_id"], examples["position"])]
    return examples[EXAMPLE_COLUMNS]


def _refuse_first(bad: pd.Series, path: Path, column: str | None, problem: str) -> None:
    """Raise for the first flagged row, numbered as a spreadsheet shows it (header = row 1)."""
    if bad.any():
        raise InputError(f"{path} row {int(bad.to_numpy().argmax()) + 2} column {column!r}: {problem}")


def move_to_dev(examples: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """Move a seeded share of the training texts (all their target rows together) to dev,
    stratified by each text's first (target, label) where every stratum allows it."""
    if fraction <= 0:
        return examples
    from sklearn.model_selection import train_test_split

    train = examples.loc[examples["split"] == "train"]
    firsts = train.drop_duplicates("doc_id")
    strata = firsts["target"] + "|" + firsts["gold_label"]
    try:
        _, dev_docs = train_test_split(firsts["doc_id"], test_size=fraction, random_state=seed, stratify=strata)
    except ValueError:  # a stratum too small to split: fall back to a plain seeded split
        log.warning("dataset: dev split not stratified (a target/label group is too small)")
        _, dev_docs = train_test_split(firsts["doc_id"], test_size=fraction, random_state=seed)
    moved = examples.copy()
    moved.loc[(moved["split"] == "train") & moved["doc_id"].isin(set(dev_docs)), "split"] = "dev"
    return moved


def dataset_paths(config: Config) -> list[Path]:
    spec = config.data.dataset
    return [config.path(file.path) for file in spec.files] if spec is not None else []


def load_dataset(config: Config) -> pd.DataFrame:
    """Every example of the configured dataset, with its split (dev moved out of train when
    ``dev_fraction`` asks). Raises InputError for any bad file, row or value."""
    spec = config.data.dataset
    if spec is None:
        raise InputError("data.dataset is not set: this config reads articles, not a labelled dataset")
    for file in spec.files:
        if not config.path(file.path).is_file():
            hint = " (set STANCE_SHARED_DATA or the shared_data key)" if "{shared_data}" in file.path else ""
            raise InputError(f"{config.path(file.path)}: dataset file not found (data.dataset.files){hint}")
    frames = [read_dataset_file(file, spec, config.labels, config.path(file.path)) for file in spec.files]
    examples = pd.concat(frames, ignore_index=True)
    duplicated = examples["sentence_id"].duplicated()
    if duplicated.any():
        raise InputError(
            f"data.dataset: id {examples.loc[duplicated.idxmax(), 'doc_id']!r} occurs twice "
            f"(column {spec.id_column!r}); ids must be unique across the dataset's files"
        )
    if not (examples["split"] == "train").any():
        raise InputError("data.dataset: no training rows (give a file with split: train)")
    return move_to_dev(examples, spec.dev_fraction, config.seed).astype({"position": "int64"})


def ingest_metrics(examples: pd.DataFrame) -> dict[str, float]:
    metrics = {"ingest_sentences": float(len(examples)), "ingest_targets": float(examples["target"].nunique())}
    for split in SPLITS:
        metrics[f"ingest_rows_{split}"] = float((examples["split"] == split).sum())
    return metrics


def gold_split(examples: pd.DataFrame, split: str) -> pd.DataFrame | None:
    """The rows of one split as a gold set (``label`` is the dataset's), or None if empty."""
    rows = examples.loc[examples["split"] == split].rename(columns={"gold_label": "label"})
    return rows[GOLD_SPLIT_COLUMNS].reset_index(drop=True) if not rows.empty else None


def gold_labeled(examples: pd.DataFrame, labels: Sequence[str]) -> tuple[pd.DataFrame, dict[str, float]]:
    """The label stage for a labelled dataset: train and dev rows keep their own labels as
    gold (confidence 1, one-hot ``p_<label>``); test rows are left out, never trained on."""
    labeled = examples.loc[examples["split"] != "test"].rename(columns={"gold_label": "label"}).reset_index(drop=True)
    labeled["label_source"] = "gold"
    labeled["confidence"] = 1.0
    for label in labels:
        labeled[f"p_{label}"] = (labeled["label"] == label).astype(float)
    metrics = {
        "label_gold_train_rows": float((labeled["split"] == "train").sum()),
        "label_gold_dev_rows": float((labeled["split"] == "dev").sum()),
    }
    return labeled, metrics


def training_pool(labeled: pd.DataFrame, include_dev: bool) -> pd.DataFrame:
    """The labelled rows a model may train on: the train split, plus dev when asked."""
    keep = ("train", "dev") if include_dev else ("train",)
    return labeled.loc[labeled["split"].isin(keep)].reset_index(drop=True)
