"""Batch scoring: every input row comes out, in order, with its stance and probabilities.

Rows are read in chunks, scored, and appended to a temporary file beside the output,
which is renamed over the output name only when the whole input is done. A row whose
text is empty, missing, not a string or too long is kept with an empty ``stance`` and an
``error`` saying why.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence

import numpy as np
import pandas as pd

from pipeline.errors import InputError, ModelError
from pipeline.io import TABLE_SUFFIXES, atomic_path
from pipeline.readers import iter_input

log = logging.getLogger(__name__)

DEFAULT_MODEL_URI = "models:/deployment-stance@champion"


class Predictor(Protocol):
    def predict(self, frame: pd.DataFrame) -> pd.DataFrame: ...


@dataclass
class ScoreSummary:
    rows: int = 0
    scored: int = 0
    errors: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        return f"rows {self.rows}, scored {self.scored}, errors {self.errors}, {self.seconds:.1f}s ({rate:.0f} rows/s)"


def load_predictor(model_uri: str) -> tuple[Predictor, list[str]]:
    """Load a pyfunc model by URI; return it and its label names (from the signature)."""
    from pipeline import tracking

    tracking.use_experiment_free()
    import mlflow.pyfunc

    try:
        model = mlflow.pyfunc.load_model(model_uri)
    except Exception as exc:  # mlflow raises several types for a missing model/alias/store
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{model_uri}: cannot load model from {tracking.tracking_uri()} ({first[:300]}); "
                         "train and register one with `stance run`") from None
    outputs = model.metadata.get_output_schema()
    labels = [name[2:] for name in (outputs.input_names() if outputs else []) if name.startswith("p_")]
    return model, labels


def text_problem(value: object, max_chars: int) -> str:
    """Why a value cannot be scored, or '' when it can."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing text"
    if not isinstance(value, str):
        return f"text is not a string ({type(value).__name__})"
    if not value.strip():
        return "empty text"
    if len(value) > max_chars:
        return f"text longer than {max_chars} characters ({len(value)})"
    return ""


def score_chunk(chunk: pd.DataFrame, predictor: Predictor, labels: Sequence[str], text_column: str,
                max_chars: int) -> pd.DataFrame:
    """The chunk's rows plus ``stance``, ``confidence``, ``p_<label>`` and ``error``."""
    problems = chunk[text_column].map(lambda v: text_problem(v, max_chars))
    ok = (problems == "").to_numpy()
    out = chunk.copy()
    out["stance"] = ""
    out["confidence"] = np.nan
    for label in labels:
        out[f"p_{label}"] = np.nan
    if ok.any():
        predicted = predictor.predict(pd.DataFrame({"text": chunk.loc[ok, text_column].astype(str).to_numpy()}))
        columns = ["stance", "confidence", *[f"p_{label}" for label in labels]]
        out.loc[ok, columns] = predicted[columns].to_numpy()
    out["error"] = problems.to_numpy()
    out["confidence"] = out["confidence"].astype(float)
    for label in labels:
        out[f"p_{label}"] = out[f"p_{label}"].astype(float)
    return out


class ChunkWriter:
    """Appends scored chunks to one file in the output's format."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        self._parquet = None
        self._first = True

    def write(self, frame: pd.DataFrame) -> None:
        if self.fmt == "csv":
            frame.to_csv(self.path, mode="w" if self._first else "a", header=self._first, index=False)
        elif self.fmt == "jsonl":
            with self.path.open("w" if self._first else "a", encoding="utf-8") as handle:
                for record in frame.to_dict(orient="records"):
                    handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        self._first = False

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        elif self._first:  # no rows at all: still a valid, empty file
            self.path.write_text("", encoding="utf-8")


def output_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"{path}: unknown output extension {suffix!r}; expected one of {', '.join(TABLE_SUFFIXES)}")
    return suffix[1:]


def score_file(input_path: Path, output_path: Path, predictor: Predictor, labels: Sequence[str],
               text_column: str = "text", chunk_rows: int = 2000, max_chars: int = 5000,
               encoding: str = "utf-8-sig", progress: Callable[[int], None] | None = None) -> ScoreSummary:
    """Score ``input_path`` into ``output_path`` (format by extension), atomically."""
    fmt = output_format(output_path)
    if output_path.resolve() == input_path.resolve():
        raise InputError(f"{output_path}: output would overwrite the input")
    summary = ScoreSummary()
    started = time.perf_counter()
    chunks: Iterator[pd.DataFrame] = iter_input(input_path, chunk_rows, encoding)
    with atomic_path(output_path) as tmp:
        writer = ChunkWriter(tmp, fmt)
        try:
            for number, chunk in enumerate(chunks):
                if text_column not in chunk.columns:
                    raise InputError(f"{input_path}: no {text_column!r} column (columns: {', '.join(map(str, chunk.columns))}); "
                                     "use --text-column")
                scored = score_chunk(chunk, predictor, labels, text_column, max_chars)
                writer.write(scored)
                errors = int((scored["error"] != "").sum())
                summary.rows += len(scored)
                summary.errors += errors
                summary.scored += len(scored) - errors
                if progress is not None:
                    progress(len(scored))
        finally:
            writer.close()
        if summary.rows == 0:
            raise InputError(f"{input_path}: no rows to score")
    summary.seconds = time.perf_counter() - started
    return summary
