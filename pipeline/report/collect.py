"""Read a scored file chunk by chunk into the counts and evidence a stance report shows.

Memory is bounded by the number of labels, periods, groups and evidence slots, not by
the file: rows are read in chunks, and an article's sentences are folded into its
dominant stance as soon as the next article starts (``stance score`` writes the rows of
one article consecutively, and this relies on it). Both of ``stance score``'s outputs are
read: sentence level (a ``stance`` column, one row per sentence) and article level (a
``dominant_stance`` column with ``n_<label>`` counts and ``top_<label>_text``).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Literal

import numpy as np
import pandas as pd

from pipeline.scoring.articles import dominant_stance
from pipeline.errors import InputError
from pipeline.scoring.formats import input_format, open_input

log = logging.getLogger(__name__)

Period = Literal["month", "week"]
CHUNK_ROWS = 50_000
UNDATED = "undated"
DERIVED_COUNTRY = "source_country"
# The real corpus's file names: YYYYMMDDTHHMMSSZ_<country>_<language>_<hash>
_COUNTRY_IN_ID = re.compile(r"^\d{8}T\d{6}Z_([A-Za-z]{2,3})_")


@dataclass(frozen=True)
class Evidence:
    """One sentence behind a bar: the highest-confidence ones are kept per label and period."""

    confidence: float
    text: str
    title: str
    date: str
    source: str
    doc_id: str


@dataclass
class ReportData:
    """Everything a rendered report shows, aggregated from one scored file."""

    path: Path
    level: Literal["sentence", "article"]
    labels: list[str]
    none_label: str
    period: Period
    group: str | None
    rows: int = 0
    sentences: int = 0
    scored: int = 0
    articles: int | None = None
    review: int | None = None
    dated: bool = False
    label_counts: Counter = field(default_factory=Counter)
    by_period: dict[str, Counter] = field(default_factory=dict)
    articles_by_period: dict[str, Counter] = field(default_factory=dict)
    by_group: dict[str, Counter] = field(default_factory=dict)
    articles_by_group: dict[str, Counter] = field(default_factory=dict)
    evidence: dict[tuple[str, str], list[Evidence]] = field(default_factory=dict)
    provenance: dict[str, object] | None = None

    @property
    def stances(self) -> list[str]:
        """The labels that take a stance (every label but the none label)."""
        return [label for label in self.labels if label != self.none_label]

    def periods(self) -> list[str]:
        return sorted(self.by_period, key=lambda p: (p == UNDATED, p))

    def groups(self) -> list[str]:
        """Groups by how many stance sentences they carry, most first (then by name)."""
        return sorted(self.by_group, key=lambda g: (-sum(self.by_group[g][s] for s in self.stances), g))


def period_of(dates: pd.Series, period: Period) -> pd.Series:
    """``YYYY-MM`` (month) or ``YYYY-Www`` (ISO week) of each date; ``undated`` where the
    value is missing or not a date."""
    text = dates.astype("string").str.slice(0, 10)
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    if period == "month":
        labels = parsed.dt.strftime("%Y-%m")
    else:
        iso = parsed.dt.isocalendar()
        labels = iso["year"].astype("string") + "-W" + iso["week"].astype("string").str.zfill(2)
    return labels.fillna(UNDATED).astype(str)


def period_span(periods: list[str], period: Period) -> list[str]:
    """Every period from the first to the last of ``periods`` (dated ones only), so that
    a period without a single scored sentence shows as a gap, not as nothing."""
    dated = sorted(p for p in periods if p != UNDATED)
    if not dated:
        return []
    if period == "month":
        return [str(p) for p in pd.period_range(dated[0], dated[-1], freq="M").strftime("%Y-%m")]
    first, last = (pd.Timestamp.fromisocalendar(int(p[:4]), int(p[6:]), 1) for p in (dated[0], dated[-1]))
    weeks = pd.date_range(first, last, freq="7D").isocalendar()
    return [f"{year}-W{week:02d}" for year, week in zip(weeks["year"], weeks["week"])]


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    return frame[column].astype("string").fillna("").astype(str)


def _number(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce")


class _Collector:
    """Folds chunks of one scored file into a ``ReportData``."""

    def __init__(self, data: ReportData, evidence_per_cell: int, group_source: str | None, text_column: str) -> None:
        self.data = data
        self.text_column = text_column
        self.keep = evidence_per_cell
        self.group_source = group_source
        self.heaps: dict[tuple[str, str], list[tuple[float, int, Evidence]]] = {}
        self.article: tuple[str, str, str] | None = None  # doc_id, period, group of the open article
        self.article_counts: Counter = Counter()
        self.article_confidence: Counter = Counter()
        self.closed: list[tuple[str, str, str]] = []  # (dominant stance, period, group) of articles closed

    # -- shared ---------------------------------------------------------------------------
    def groups(self, chunk: pd.DataFrame) -> pd.Series:
        if self.group_source is None:
            return pd.Series([""] * len(chunk), index=chunk.index, dtype=object)
        if self.group_source == f"doc_id:{DERIVED_COUNTRY}":
            found = _text(chunk, "doc_id").str.extract(_COUNTRY_IN_ID, expand=False)
            return found.fillna("unknown").str.upper()
        values = _text(chunk, self.group_source).str.strip()
        return values.where(values != "", "unknown")

    def periods(self, chunk: pd.DataFrame) -> pd.Series:
        if not self.data.dated:
            return pd.Series([UNDATED] * len(chunk), index=chunk.index, dtype=object)
        return period_of(chunk["date"], self.data.period)

    def offer(self, candidates: pd.DataFrame) -> None:
        """Keep, per (label, period), the ``keep`` highest-confidence rows seen so far.
        ``candidates``: columns label, period, confidence, row (the file's row number:
        ties go to the earlier row) and the Evidence fields."""
        best = candidates.sort_values(["confidence", "row"], ascending=[False, True], kind="stable")
        for record in best.groupby(["label", "period"], sort=False).head(self.keep).itertuples(index=False):
            heap = self.heaps.setdefault((record.label, record.period), [])
            entry = (
                record.confidence,
                -record.row,
                Evidence(record.confidence, record.text, record.title, record.date, record.source, record.doc_id),
            )
            if len(heap) < self.keep:
                heapq.heappush(heap, entry)
            elif entry[:2] > heap[0][:2]:
                heapq.heapreplace(heap, entry)

    def count(self, table: dict[str, Counter], keys: pd.Series, labels: pd.Series, weights: pd.Series | None = None) -> None:
        """Add each row's ``weights`` (default 1) to ``table[key][label]``."""
        frame = pd.DataFrame(
            {"key": keys.to_numpy(), "label": labels.to_numpy(), "n": 1 if weights is None else weights.to_numpy()}
        )
        for (key, label), n in frame.groupby(["key", "label"], sort=False)["n"].sum().items():
            if n:
                table.setdefault(str(key), Counter())[str(label)] += int(n)

    def close_article(self) -> None:
        """The open article is complete: note its dominant stance (counted at the chunk's end)."""
        if self.article is None:
            return
        _, period, group = self.article
        dominant = dominant_stance(
            dict(self.article_counts), dict(self.article_confidence), self.data.labels, self.data.none_label
        )
        self.closed.append((dominant, period, group))
        self.article = None
        self.article_counts, self.article_confidence = Counter(), Counter()

    def count_closed(self) -> None:
        if self.closed:
            dominant, periods, groups = (pd.Series(values) for values in zip(*self.closed))
            self.add_articles(dominant, periods, groups)
            self.closed = []

    def add_articles(self, dominant: pd.Series, periods: pd.Series, groups: pd.Series) -> None:
        self.data.articles = (self.data.articles or 0) + len(dominant)
        self.count(self.data.articles_by_period, periods, dominant)
        if self.group_source is not None:
            self.count(self.data.articles_by_group, groups, dominant)

    def finish(self) -> ReportData:
        self.close_article()
        self.count_closed()
        self.data.evidence = {
            key: [entry[2] for entry in sorted(heap, key=lambda e: e[:2], reverse=True)]
            for key, heap in sorted(self.heaps.items())
        }
        return self.data

    def evidence_frame(
        self,
        chunk: pd.DataFrame,
        mask: pd.Series,
        labels: pd.Series,
        periods: pd.Series,
        confidence: pd.Series,
        texts: pd.Series,
        first_row: int,
    ) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "label": labels[mask],
                "period": periods[mask],
                "confidence": confidence[mask].astype(float),
                "row": np.flatnonzero(mask.to_numpy()) + first_row,
                "text": texts[mask],
                "title": _text(chunk, "title")[mask],
                "date": _text(chunk, "date")[mask],
                "source": _text(chunk, "source")[mask],
                "doc_id": _text(chunk, "doc_id")[mask],
            }
        )

    # -- sentence level -------------------------------------------------------------------
    def sentence_chunk(self, chunk: pd.DataFrame) -> None:
        data = self.data
        first_row = data.rows + 1
        data.rows += len(chunk)
        data.sentences += len(chunk)
        stance = _text(chunk, "stance").str.strip()
        scored = (stance != "") & (_text(chunk, "error") == "")
        unknown = ~stance.isin(data.labels) & scored
        if unknown.any():
            at = int(np.flatnonzero(unknown.to_numpy())[0])
            raise InputError(
                f"{data.path}: row {first_row + at}: stance {stance.iat[at]!r} is not one of the file's "
                f"labels ({', '.join(data.labels)}, from its p_<label> columns)"
            )
        if "review" in chunk.columns:
            data.review = (data.review or 0) + int(((_text(chunk, "review") == "review") & scored).sum())
        confidence = (
            _number(chunk, "confidence")
            if "confidence" in chunk.columns
            else chunk[[f"p_{label}" for label in data.labels]].apply(pd.to_numeric, errors="coerce").max(axis=1)
        )
        confidence = confidence.fillna(0.0)
        periods, groups = self.periods(chunk), self.groups(chunk)
        data.scored += int(scored.sum())
        for label, n in stance[scored].value_counts().items():
            data.label_counts[str(label)] += int(n)
        self.count(data.by_period, periods[scored], stance[scored])
        if self.group_source is not None:
            self.count(data.by_group, groups[scored], stance[scored])
        if "doc_id" in chunk.columns:
            self.fold_articles(_text(chunk, "doc_id"), stance, scored, confidence, periods, groups)
        candidates = scored & (stance != data.none_label)
        self.offer(self.evidence_frame(chunk, candidates, stance, periods, confidence, _text(chunk, self.text_column), first_row))

    def fold_articles(
        self,
        doc_ids: pd.Series,
        stance: pd.Series,
        scored: pd.Series,
        confidence: pd.Series,
        periods: pd.Series,
        groups: pd.Series,
    ) -> None:
        """Each run of equal doc_ids is (a part of) one article; the last run of the chunk
        stays open, as the next chunk may continue it."""
        values = doc_ids.to_numpy()
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        run = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(values)]))
        frame = pd.DataFrame(
            {"run": run[scored.to_numpy()], "label": stance[scored].to_numpy(), "confidence": confidence[scored].to_numpy()}
        )
        sums = frame.groupby(["run", "label"], sort=False)["confidence"].agg(["size", "sum"])
        per_run: dict[int, list[tuple[str, int, float]]] = {}
        for (r, label), n, total in zip(sums.index, sums["size"].to_numpy(), sums["sum"].to_numpy()):
            per_run.setdefault(int(r), []).append((str(label), int(n), float(total)))
        for r, start in enumerate(starts):
            doc = values[start]
            if self.article is None or self.article[0] != doc:
                self.close_article()
                self.article = (doc, periods.iat[start], groups.iat[start])
            for label, n, total in per_run.get(r, []):
                self.article_counts[label] += n
                self.article_confidence[label] += total
        self.count_closed()

    # -- article level --------------------------------------------------------------------
    def article_chunk(self, chunk: pd.DataFrame) -> None:
        data = self.data
        first_row = data.rows + 1
        data.rows += len(chunk)
        periods, groups = self.periods(chunk), self.groups(chunk)
        dominant = _text(chunk, "dominant_stance").str.strip()
        has = dominant != ""  # an article none of whose sentences could be scored has no dominant stance
        self.add_articles(dominant[has], periods[has], groups[has])
        if "sentences" in chunk.columns:
            data.sentences += int(_number(chunk, "sentences").fillna(0).sum())
        for label in data.labels:
            n = _number(chunk, f"n_{label}").fillna(0).astype(int)
            data.scored += int(n.sum())
            data.label_counts[label] += int(n.sum())
            label_column = pd.Series(label, index=chunk.index)
            self.count(data.by_period, periods, label_column, n)
            if self.group_source is not None:
                self.count(data.by_group, groups, label_column, n)
        for label in data.stances:
            texts = _text(chunk, f"top_{label}_text")
            confidence = (
                _number(chunk, f"top_{label}_confidence")
                if f"top_{label}_confidence" in chunk.columns
                else pd.Series(np.nan, index=chunk.index)
            )
            mask = (texts != "") & confidence.notna()
            self.offer(
                self.evidence_frame(chunk, mask, pd.Series(label, index=chunk.index), periods, confidence, texts, first_row)
            )


def _labels(columns: list[str], prefix: str) -> list[str]:
    return [column[len(prefix) :] for column in columns if column.startswith(prefix) and len(column) > len(prefix)]


def _first_chunk(path: Path, encoding: str) -> tuple[pd.DataFrame | None, Iterator[pd.DataFrame]]:
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if input_format(path).articles:
        raise InputError(
            f"{path}: not a scored file (a .csv, .jsonl or .parquet written by `stance score`); "
            f"score it first: stance score {path} --output scored.parquet"
        )
    chunks = iter(open_input(path, CHUNK_ROWS, encoding).chunks)
    return next(chunks, None), chunks


def _group_source(path: Path, columns: list[str], group: str | None) -> str | None:
    """The column the groups come from (``doc_id:source_country`` when the country is read
    from the real corpus's file names); None when there is none to group by."""
    wanted = group or DERIVED_COUNTRY
    if wanted in columns:
        return wanted
    if wanted == DERIVED_COUNTRY and "doc_id" in columns:
        return f"doc_id:{DERIVED_COUNTRY}"
    if group is not None:
        raise InputError(
            f"{path}: no {group!r} column to group by (columns: {', '.join(columns)})"
            + ("; source_country is read from doc_id when there is one" if group == DERIVED_COUNTRY else "")
        )
    log.warning("%s: no source_country, and no doc_id to read it from: the report has no by-group section", path)
    return None


def collect(
    path: Path,
    *,
    period: Period = "month",
    group: str | None = None,
    none_label: str = "none",
    evidence_per_cell: int = 3,
    text_column: str = "text",
    encoding: str = "utf-8-sig",
) -> ReportData:
    """Aggregate the scored file at ``path`` (any of the scoring output formats).

    ``group``: the column to break stance down by (default ``source_country``, read from
    the real corpus's file names in ``doc_id`` when there is no such column; a report
    without either has no group section). Raises ``InputError`` naming what is missing.
    """
    first, rest = _first_chunk(path, encoding)
    if first is None or first.empty:
        raise InputError(f"{path}: no rows")
    columns = [str(column) for column in first.columns]
    if "stance" in columns:
        level: Literal["sentence", "article"] = "sentence"
        labels = _labels(columns, "p_")
        if text_column not in columns:
            raise InputError(
                f"{path}: no {text_column!r} column with the sentences (columns: {', '.join(columns)}); use --text-column"
            )
    elif "dominant_stance" in columns:
        level, labels = "article", _labels(columns, "n_")
    else:
        raise InputError(
            f"{path}: no 'stance' column (nor 'dominant_stance' of an article-level file); "
            f"is it a `stance score` output? columns: {', '.join(columns)}"
        )
    if not labels:
        needed = "p_<label>" if level == "sentence" else "n_<label>"
        raise InputError(f"{path}: no {needed} columns, so the labels are unknown (columns: {', '.join(columns)})")
    dated = "date" in columns
    if not dated:
        log.warning("%s: no 'date' column: the report has no charts over time", path)
    data = ReportData(path=path, level=level, labels=labels, none_label=none_label, period=period, group=None, dated=dated)
    source = _group_source(path, columns, group)
    data.group = None if source is None else source.split(":")[-1]
    collector = _Collector(data, evidence_per_cell, source, text_column)
    fold = collector.sentence_chunk if level == "sentence" else collector.article_chunk
    for chunk in itertools.chain([first], rest):
        fold(chunk)
    result = collector.finish()
    if result.dated and set(result.by_period) <= {UNDATED} and result.scored:
        log.warning("%s: no row has a date (YYYY-MM-DD): the report has no charts over time", path)
        result.dated = False
    return result
