"""Batch scoring: every input row comes out, in order, with its stance and probabilities.

Rows are read in chunks, scored, and appended to a partial file beside the output (with
a checkpoint, so an interrupted run resumes), which becomes the output only when the
whole input is done. A row whose text is empty, missing, not a string or too long is
kept with an empty ``stance`` and an ``error`` saying why. Article inputs can also be
written one row per article (``level="article"``, see ``articles_summary``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Literal, Protocol, Sequence

import numpy as np
import pandas as pd

from pipeline.articles_summary import summarize_articles
from pipeline.errors import InputError, ModelError, StanceError, first_line
from pipeline.readers import input_kind, open_input
from pipeline.score_checkpoint import Checkpoint, CheckpointState, input_fingerprint
from pipeline.score_output import PartialFile, output_format

__all__ = ["ScoreOptions", "ScoreSummary", "load_predictor", "model_identity", "output_format", "score_chunk", "score_file"]

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

    tracking.use_experiment_free(needs_store=model_uri.startswith(("models:", "runs:")))
    import mlflow.pyfunc

    try:
        model = mlflow.pyfunc.load_model(model_uri)
    except Exception as exc:  # mlflow raises several types for a missing model/alias/store
        raise model_load_error(model_uri, exc) from None
    return model, signature_labels(model.metadata.get_output_schema())


def model_load_error(model_uri: str, exc: Exception) -> ModelError:
    """The one-line error for a model URI that does not load."""
    from pipeline import tracking

    return ModelError(f"{model_uri}: cannot load model from {tracking.tracking_uri()} ({first_line(exc, 300)}); "
                      "train and register one with `stance run`")


def signature_labels(outputs: object) -> list[str]:
    """Label names from a model's output schema: its ``p_<label>`` columns, in order."""
    names = outputs.input_names() if outputs is not None else []  # type: ignore[attr-defined]
    return [name[2:] for name in names if name.startswith("p_")]


def model_identity(predictor: Predictor) -> str:
    """What a model URI resolved to (the logged model's id), so a resume notices when an
    alias such as ``@champion`` moved to another version; '' for a plain predictor."""
    metadata = getattr(predictor, "metadata", None)
    return str(getattr(metadata, "model_uuid", "") or getattr(metadata, "run_id", "") or "")


def text_problem(value: object, max_chars: int) -> str:
    """Why a value cannot be scored, or '' when it can."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "missing text"
    if not isinstance(value, str):
        return f"text is not a string ({type(value).__name__})"
    if not value.strip():
        return "empty text"
    if len(value) > max_chars:
        return f"text longer than {max_chars} characters ({len(value)})"
    return ""


def output_columns(labels: Sequence[str]) -> list[str]:
    """The columns scoring adds to every row; an input column of one of these names is refused."""
    return ["stance", "confidence", *[f"p_{label}" for label in labels], "error"]


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
        inputs = pd.DataFrame({"text": chunk.loc[ok, text_column].astype(str).to_numpy()})
        if "target" in chunk.columns:  # target-aware models read it; text-only models ignore it
            inputs["target"] = chunk.loc[ok, "target"].astype(str).to_numpy()
        predicted = predictor.predict(inputs)
        columns = [column for column in output_columns(labels) if column != "error"]
        out.loc[ok, columns] = predicted[columns].to_numpy()
    out["error"] = problems.to_numpy()
    out["confidence"] = out["confidence"].astype(float)
    for label in labels:
        out[f"p_{label}"] = out[f"p_{label}"].astype(float)
    return out


@dataclass(frozen=True)
class ScoreOptions:
    """How an input is read and scored; a resumed run must use the same ones."""

    text_column: str = "text"
    chunk_rows: int = 2000
    max_chars: int = 5000
    encoding: str = "utf-8-sig"
    articles: bool = False  # table rows are whole articles, split into sentences (.txt inputs always are)
    level: Literal["sentence", "article"] = "sentence"
    none_label: str = "none"


def _check_options(input_path: Path, output_path: Path, options: ScoreOptions, labels: Sequence[str]) -> None:
    if not input_path.exists():
        raise InputError(f"{input_path}: file not found")
    if output_path.resolve() == input_path.resolve():
        raise InputError(f"{output_path}: output would overwrite the input")
    if options.level == "article" and not (options.articles or input_kind(input_path) == "txt"):
        raise InputError(f"{input_path}: --level article needs article input: .txt files, or --articles for a "
                         "table whose rows are whole articles")
    if options.level == "article" and options.none_label not in labels:
        raise InputError(f"--none-label {options.none_label!r} is not one of the model's labels ({', '.join(labels)})")


def _output_rows(scored: pd.DataFrame, labels: Sequence[str], options: ScoreOptions) -> pd.DataFrame:
    if options.level == "article":
        return summarize_articles(scored, labels, options.none_label, options.text_column)
    return scored


def score_file(input_path: Path, output_path: Path, predictor: Predictor, labels: Sequence[str],
               options: ScoreOptions = ScoreOptions(), *, model_uri: str = "", model_id: str = "",
               resume: bool = False, progress: Callable[[int, int | None], None] | None = None) -> ScoreSummary:
    """Score ``input_path`` into ``output_path`` (format by extension), atomically.

    After each chunk the output so far and a checkpoint are on disk beside the output;
    ``resume`` continues from there (refused if the input, model or options changed) and
    gives the same bytes as an uninterrupted run. A ``StanceError`` (bad input) drops
    the checkpoint; any other failure or an interrupt keeps it for ``resume``.
    ``progress(rows_done, total_rows)`` is called after each chunk (total may be None).
    """
    fmt = output_format(output_path)
    _check_options(input_path, output_path, options, labels)
    started = time.perf_counter()
    source = open_input(input_path, options.chunk_rows, options.encoding, options.articles, options.text_column)
    checkpoint = Checkpoint(output_path)
    expected = CheckpointState(input=str(input_path), input_fingerprint=input_fingerprint(input_path),
                               model_uri=model_uri, model_id=model_id, options={**asdict(options), "output_format": fmt})
    state = checkpoint.resume(expected) if resume else checkpoint.start(expected)
    partial = PartialFile(checkpoint.partial, fmt)
    total = source.total_rows if not options.articles else None
    try:
        if progress is not None:
            progress(state.rows_done, total)
        for number, chunk in enumerate(source.chunks):
            if number < state.chunks_done:
                continue
            if options.text_column not in chunk.columns:
                raise InputError(f"{input_path}: no {options.text_column!r} column (columns: "
                                 f"{', '.join(map(str, chunk.columns))}); use --text-column")
            clash = [c for c in output_columns(labels) if c in chunk.columns]
            if clash:
                raise InputError(f"{input_path}: column {clash[0]!r} would be overwritten by the scores (the output adds "
                                 f"{', '.join(output_columns(labels))}); rename it in the input")
            scored = score_chunk(chunk, predictor, labels, options.text_column, options.max_chars)
            errors = int((scored["error"] != "").sum())
            state.bytes_done = partial.append(_output_rows(scored, labels, options))
            state.chunks_done, state.rows_done = number + 1, state.rows_done + len(scored)
            state.errors, state.scored = state.errors + errors, state.scored + len(scored) - errors
            checkpoint.save(state)
            if progress is not None:
                progress(state.rows_done, total)
        if state.rows_done == 0:
            raise InputError(f"{input_path}: no rows to score")
        partial.finish(output_path)
    except StanceError:
        checkpoint.discard()
        raise
    except BaseException:
        log.warning("%s: stopped after %d rows; the same command with --resume continues from there",
                    output_path, state.rows_done)
        raise
    checkpoint.discard()
    return ScoreSummary(state.rows_done, state.scored, state.errors, time.perf_counter() - started)
