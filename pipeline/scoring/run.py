"""Batch scoring: every input row comes out, in order, with its stance and probabilities.

Rows are read in chunks, scored, and appended to a partial file beside the output (with
a checkpoint, so an interrupted run resumes), which becomes the output only when the
whole input is done. A row whose text is empty, missing, not a string or too long is
kept with an empty ``stance`` and an ``error`` saying why. Article inputs can also be
written one row per article (``level="article"``, see ``scoring.articles``).
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, Sequence

import numpy as np
import pandas as pd

from pipeline.errors import InputError, StanceError
from pipeline.interrupts import Stopped
from pipeline.scoring.articles import summarize_articles
from pipeline.scoring.checkpoint import Checkpoint, CheckpointState, input_fingerprint
from pipeline.scoring.formats import InputFormat, OutputFormat, input_format, open_input, output_format
from pipeline.scoring.model import Predictor
from pipeline.scoring.output import PartialFile
from pipeline.scoring.provenance import write_provenance
from pipeline.scoring.readers import no_rows, no_text_column
from pipeline.scoring.workers import ChunkScorer

if TYPE_CHECKING:
    from pipeline.scoring.explain import Explainer

__all__ = ["AlreadyComplete", "ScoreOptions", "ScoreSummary", "check_paths", "precheck_input", "score_chunk", "score_file"]

log = logging.getLogger(__name__)


@dataclass
class ScoreSummary:
    rows: int = 0
    scored: int = 0
    errors: int = 0
    seconds: float = 0.0
    resumed_rows: int = 0
    articles: int | None = None  # output rows at --level article

    def line(self) -> str:
        """Rows read, scored and in error; the rate counts only rows scored by this process."""
        done_now = self.rows - self.resumed_rows
        rate = done_now / self.seconds if self.seconds > 0 else 0.0
        counts = f"rows {self.rows}, scored {self.scored}, errors {self.errors}"
        if self.articles is not None:
            counts = f"articles {self.articles} (sentences {self.rows}, scored {self.scored}, errors {self.errors})"
        resumed = f"; {self.resumed_rows} rows resumed from the checkpoint" if self.resumed_rows else ""
        return f"{counts}, {self.seconds:.1f}s ({rate:.0f} rows/s){resumed}"


class AlreadyComplete(Exception):
    """``--resume`` for an output that exists and has no checkpoint: nothing left to do."""


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


def output_columns(labels: Sequence[str], explain: bool = False, review: bool = False) -> list[str]:
    """The columns scoring adds to every row (``review`` with the review band, ``evidence``
    with ``--explain``); an input column of one of these names is refused."""
    return [
        "stance",
        "confidence",
        *[f"p_{label}" for label in labels],
        *(["review"] if review else []),
        "error",
        *(["evidence"] if explain else []),
    ]


def score_chunk(
    chunk: pd.DataFrame,
    predictor: Predictor,
    labels: Sequence[str],
    text_column: str,
    max_chars: int,
    explainer: "Explainer | None" = None,
    review: bool = False,
) -> pd.DataFrame:
    """The chunk's rows plus ``stance``, ``confidence``, ``p_<label>`` and ``error`` (and
    ``evidence`` from ``explainer``: :mod:`pipeline.scoring.explain`)."""
    problems = chunk[text_column].map(lambda v: text_problem(v, max_chars))
    ok = (problems == "").to_numpy()
    out = chunk.copy()
    out["stance"] = ""
    out["confidence"] = np.nan
    for label in labels:
        out[f"p_{label}"] = np.nan
    if review:
        out["review"] = ""
    if ok.any():
        inputs = pd.DataFrame({"text": chunk.loc[ok, text_column].astype(str).to_numpy()})
        if "target" in chunk.columns:  # target-aware models read it; text-only models ignore it
            inputs["target"] = chunk.loc[ok, "target"].astype(str).to_numpy()
        predicted = predictor.predict(inputs)
        columns = [column for column in output_columns(labels, review=review) if column != "error"]
        out.loc[ok, columns] = predicted[columns].to_numpy()
    out["error"] = problems.to_numpy()
    out["confidence"] = out["confidence"].astype(float)
    for label in labels:
        out[f"p_{label}"] = out[f"p_{label}"].astype(float)
    if explainer is not None:
        out["evidence"] = ""
        if ok.any():
            out.loc[ok, "evidence"] = explainer.evidence(inputs["text"].tolist(), predicted["stance"].astype(str).tolist())
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
    review: bool = False  # the model's review band (accept / review per row): models with thresholds only


def check_paths(input_path: Path, output_path: Path) -> tuple[InputFormat, OutputFormat]:
    """The one check of a scoring request's files (both engines): the input exists, both
    suffixes name a format (:mod:`pipeline.scoring.formats`), the output is not the input.
    Returns the input's and the output's format."""
    if not input_path.exists():
        raise InputError(f"{input_path}: file not found")
    source, target = input_format(input_path), output_format(output_path)
    if output_path.resolve() == input_path.resolve():
        raise InputError(f"{output_path}: output would overwrite the input")
    return source, target


def _check_options(
    input_path: Path, source: InputFormat, options: ScoreOptions, labels: Sequence[str] | None = None, explain: bool = False
) -> None:
    """The options fit the input (and, given ``labels``, the model)."""
    if options.level == "article" and not (options.articles or source.articles):
        raise InputError(
            f"{input_path}: --level article needs article input: .txt files, or --articles for a "
            "table whose rows are whole articles"
        )
    if labels is not None and options.level == "article" and options.none_label not in labels:
        raise InputError(f"--none-label {options.none_label!r} is not one of the model's labels ({', '.join(labels)})")
    if explain and options.level == "article":
        raise InputError("--explain adds evidence per sentence; it is for --level sentence")


def precheck_input(input_path: Path, output_path: Path, options: ScoreOptions) -> None:
    """The checks that need no model, made before one is loaded (seconds): the paths, the
    options, the encoding, an empty or header-only table, the text column in a table's
    first rows (what the input's format checks cheaply)."""
    source, _ = check_paths(input_path, output_path)
    _check_options(input_path, source, options)
    source.check_start(input_path, options.encoding, options.text_column)


def _output_rows(scored: pd.DataFrame, labels: Sequence[str], options: ScoreOptions) -> pd.DataFrame:
    if options.level == "article":
        return summarize_articles(scored, labels, options.none_label, options.text_column)
    return scored


def _checked(
    chunk: pd.DataFrame, input_path: Path, labels: Sequence[str], text_column: str, explain: bool, review: bool
) -> pd.DataFrame:
    """The chunk, once it has the text column and no column the scores would overwrite."""
    if text_column not in chunk.columns:
        raise no_text_column(input_path, chunk.columns, text_column)
    added = output_columns(labels, explain, review)
    clash = [c for c in added if c in chunk.columns]
    if clash:
        raise InputError(
            f"{input_path}: column {clash[0]!r} would be overwritten by the scores (the output adds "
            f"{', '.join(added)}); rename it in the input"
        )
    return chunk


def score_file(
    input_path: Path,
    output_path: Path,
    predictor: Predictor,
    labels: Sequence[str],
    options: ScoreOptions = ScoreOptions(),
    *,
    model_uri: str = "",
    model_id: str = "",
    model_version: str = "",
    resume: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    workers: int = 1,
    load_model: Callable[[], Predictor] | None = None,
    explainer: "Explainer | None" = None,
) -> ScoreSummary:
    """Score ``input_path`` into ``output_path`` (format by extension), atomically.

    After each chunk the output so far and a checkpoint are on disk beside the output;
    ``resume`` continues from there (refused if the input, model or options changed) and
    gives the same bytes as an uninterrupted run. A ``StanceError`` (bad input) drops
    the checkpoint; any other failure or an interrupt keeps it for ``resume``.
    ``progress(rows_done, total_rows)`` is called after each chunk (total may be None).
    ``workers > 1``: chunks are scored in that many forked processes, which use
    ``predictor`` or, given ``load_model``, load a fresh one each (:mod:`pipeline.scoring.workers`);
    the output is the same bytes. ``explainer`` adds the ``evidence`` column (sentence level).
    """
    source, target = check_paths(input_path, output_path)
    _check_options(input_path, source, options, labels, explainer is not None)
    started = time.perf_counter()
    source = open_input(input_path, options.chunk_rows, options.encoding, options.articles, options.text_column)
    checkpoint = Checkpoint(output_path)
    expected = CheckpointState(
        input=str(input_path),
        input_fingerprint=input_fingerprint(input_path),
        model_uri=model_uri,
        model_id=model_id,
        options={**asdict(options), "output_format": target.name, "explain": explainer is not None},
    )
    if resume and not checkpoint.exists() and output_path.exists():
        raise AlreadyComplete(f"{output_path}: already complete (no checkpoint of an interrupted run); nothing to resume")
    if not resume and output_path.exists():
        log.warning("%s exists; it is replaced when this run completes", output_path)
    state = checkpoint.resume(expected) if resume else checkpoint.start(expected)
    partial = PartialFile(checkpoint.partial, target.writer())
    total = source.total_rows if not options.articles else None
    resumed_rows = state.rows_done
    if resume:
        log.info("%s: resuming at row %d%s", output_path, state.rows_done + 1, f" of {total}" if total else "")
    try:
        if progress is not None:
            progress(state.rows_done, total)
        pending = (
            (number, _checked(chunk, input_path, labels, options.text_column, explainer is not None, options.review))
            for number, chunk in enumerate(source.chunks)
            if number >= state.chunks_done
        )
        scorer = ChunkScorer(
            predictor,
            functools.partial(
                score_chunk,
                labels=tuple(labels),
                text_column=options.text_column,
                max_chars=options.max_chars,
                explainer=explainer,
                review=options.review,
            ),
            workers,
            load_model,
        )
        for number, scored in scorer.map(pending):
            errors = int((scored["error"] != "").sum())
            written = _output_rows(scored, labels, options)
            state.bytes_done = partial.append(written)
            state.outputs_done += len(written)
            state.chunks_done, state.rows_done = number + 1, state.rows_done + len(scored)
            state.errors, state.scored = state.errors + errors, state.scored + len(scored) - errors
            checkpoint.save(state)
            if progress is not None:
                progress(state.rows_done, total)
        if state.rows_done == 0:
            raise no_rows(input_path)
        partial.finish(output_path)
        write_provenance(
            output_path,
            {
                "model_uri": model_uri,
                "model_version": model_version,
                "model_id": model_id,
                "input": str(input_path),
                "level": options.level,
                "labels": list(labels),
                "rows": state.rows_done,
                "scored": state.scored,
                "errors": state.errors,
            },
        )
    except StanceError:
        checkpoint.discard()
        raise
    except KeyboardInterrupt:
        raise Stopped(
            f"interrupted: {output_path} not written yet; the {state.rows_done} rows scored so far are "
            "checkpointed, and the same command with --resume continues from there"
        ) from None
    except BaseException:
        log.warning(
            "%s: stopped after %d rows; the same command with --resume continues from there", output_path, state.rows_done
        )
        raise
    checkpoint.discard()
    return ScoreSummary(
        state.rows_done,
        state.scored,
        state.errors,
        time.perf_counter() - started,
        resumed_rows,
        state.outputs_done if options.level == "article" else None,
    )
