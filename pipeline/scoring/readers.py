"""Streaming readers for scoring inputs: chunks of rows, in order, in bounded memory.

Each reader opens one format (``open_csv``, ``open_jsonl``, ``open_parquet``,
``open_articles``); :mod:`pipeline.scoring.formats` maps file suffixes to them.

CSV and JSONL are read in chunks of exact values (CSV: strings, no type guessing; JSONL:
the parsed JSON values), Parquet by record batches. Article inputs (a ``.txt`` file, a
folder of them, or table rows holding whole articles) are split into sentences as they
are read, and their chunks end on article boundaries so each chunk holds whole articles.

The CSV reader uses the ``csv`` module on lines decoded one by one (an undecodable byte
is reported with its line and byte offset); ``bench/scoring.py`` measures it against
pyarrow's streaming CSV reader: parsing is not where the time goes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import pandas as pd

from pipeline.errors import InputError, first_line
from pipeline.ingest import file_sentences
from pipeline.io import article_files, check_encoding, decoded_lines, json_records, row_doc_id

MAX_FIELD_CHARS = 16 * 1024 * 1024  # a CSV field longer than this is a broken file, not a long text
SENTENCE_COLUMNS = ("position", "char_start", "char_end")


@dataclass
class InputRows:
    """An input opened for streaming: its chunks, and its row count when cheaply known."""

    chunks: Iterator[pd.DataFrame]
    total_rows: int | None = None


OpenRows = Callable[[Path, int, str, str], InputRows]  # (path, chunk_rows, encoding, text_column) -> its rows
CheckStart = Callable[[Path, str, str], None]  # (path, encoding, text_column): raise when the input cannot be scored


def no_rows(path: Path) -> InputError:
    return InputError(f"{path}: no rows to score")


def no_text_column(path: Path | str, columns: Sequence[object], text_column: str) -> InputError:
    """The one-line error for a table without the text column (a broken quote can put line
    breaks into the header's names: they are shown escaped)."""
    names = ", ".join(str(name).replace("\r", "\\r").replace("\n", "\\n") for name in columns)
    return InputError(f"{path}: no {text_column!r} column (columns: {names}); use --text-column")


def first_rows_check(open_rows: OpenRows) -> CheckStart:
    """The cheap check of a table's start, made before a model is loaded: it has a row,
    and that row has the text column."""

    def check(path: Path, encoding: str, text_column: str) -> None:
        if path.stat().st_size == 0:
            raise no_rows(path)
        check_encoding(path, encoding)
        chunk = next(iter(open_rows(path, 1, encoding, text_column).chunks), None)
        if chunk is None or chunk.empty:
            raise no_rows(path)
        if text_column not in chunk.columns:
            raise no_text_column(path, chunk.columns, text_column)

    return check


def _csv_records(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, fields) of every CSV record after the header; row 1 is the header."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(decoded_lines(path, encoding), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path}: empty file (no header row)") from None
    except csv.Error as exc:
        raise InputError(f"{path} row 1: broken CSV header ({exc})") from None
    if len(set(header)) != len(header):
        raise InputError(f"{path}: header repeats a column name ({', '.join(header)})")
    yield 1, header
    row = 1
    try:
        for record in reader:
            row += 1
            if len(record) != len(header):
                if record:
                    raise InputError(f"{path} row {row} (line {reader.line_num}): {len(record)} fields, header has {len(header)}")
                record = [""] * len(header)  # a blank line is an empty row: kept, not scored
            yield row, record
    except csv.Error as exc:
        raise InputError(f"{path} row {row + 1} (line {reader.line_num}): broken CSV ({exc})") from None


def iter_csv(path: Path, chunk_rows: int, encoding: str) -> Iterator[pd.DataFrame]:
    records = _csv_records(path, encoding)
    _, header = next(records)
    rows: list[list[str]] = []
    for _, record in records:
        rows.append(record)
        if len(rows) >= chunk_rows:
            yield pd.DataFrame(rows, columns=header, dtype=object)
            rows = []
    if rows:
        yield pd.DataFrame(rows, columns=header, dtype=object)


def open_csv(path: Path, chunk_rows: int, encoding: str, text_column: str = "text") -> InputRows:
    """A CSV file's rows as strings (no type guessing); a blank line is an empty row."""
    return InputRows(iter_csv(path, chunk_rows, encoding))


def scan_jsonl(path: Path, encoding: str) -> tuple[list[str], int]:
    """Every key of the file in first-seen order, and the number of records.

    One pass before scoring, so every chunk has the same columns (a key that first
    appears late still gets its column) and a broken line fails before any output.
    """
    keys: dict[str, None] = {}
    count = 0
    for record in json_records(path, encoding):
        keys.update(dict.fromkeys(record))
        count += 1
    return list(keys), count


def iter_jsonl(path: Path, chunk_rows: int, encoding: str, columns: list[str]) -> Iterator[pd.DataFrame]:
    rows: list[dict] = []
    for record in json_records(path, encoding):
        rows.append(record)
        if len(rows) >= chunk_rows:
            yield _records_frame(rows, columns)
            rows = []
    if rows:
        yield _records_frame(rows, columns)


def open_jsonl(path: Path, chunk_rows: int, encoding: str, text_column: str = "text") -> InputRows:
    """A JSONL file's objects as rows (their parsed values); every chunk has every key of the file."""
    columns, count = scan_jsonl(path, encoding)
    return InputRows(iter_jsonl(path, chunk_rows, encoding, columns), count)


def check_jsonl_start(path: Path, encoding: str, text_column: str) -> None:
    """A JSONL file has a row; its text column is checked per chunk, since a key may first
    appear on a later line."""
    if path.stat().st_size == 0 or next(json_records(path, encoding), None) is None:
        raise no_rows(path)


def _records_frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    # A key missing from a record is None (never NaN), so JSON and Parquet output say null.
    return pd.DataFrame([[record.get(key) for key in columns] for record in rows], columns=columns, dtype=object)


def open_parquet(path: Path, chunk_rows: int, encoding: str = "", text_column: str = "text") -> InputRows:
    """A Parquet file's rows by record batches (its count from the footer)."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({first_line(exc)})") from None

    def chunks() -> Iterator[pd.DataFrame]:
        try:
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: not a readable Parquet file ({first_line(exc)})") from None

    return InputRows(chunks(), parquet.metadata.num_rows)


def _article_files(path: Path, encoding: str, text_column: str) -> Iterator[tuple[dict[str, object], int]]:
    """(article fields, where its body starts in the file) for each .txt article."""
    for article in article_files(path, encoding):
        offset = int(article.pop("body_offset"))  # type: ignore[call-overload]
        article[text_column] = article.pop("text")
        yield article, offset


def open_articles(path: Path, chunk_rows: int, encoding: str, text_column: str = "text") -> InputRows:
    """A ``.txt`` article or a folder of them, split into sentence rows."""
    return InputRows(sentence_chunks(_article_files(path, encoding, text_column), chunk_rows, text_column))


def check_articles_start(path: Path, encoding: str, text_column: str) -> None:
    """Nothing to check cheaply: an article file is read whole when scored."""


def article_table_rows(chunks: Iterable[pd.DataFrame], path: Path, text_column: str) -> Iterator[tuple[dict[str, object], int]]:
    """(article fields, 0) for each row of a table whose rows are whole articles; a row
    without ``doc_id`` gets its row number."""
    number = 0
    for chunk in chunks:
        if text_column not in chunk.columns:
            raise no_text_column(path, chunk.columns, text_column)
        for record in chunk.to_dict(orient="records"):
            record.setdefault("doc_id", row_doc_id(number))
            number += 1
            yield record, 0


def article_sentences(article: dict[str, object], text_column: str, offset: int = 0) -> list[dict[str, object]]:
    """An article's sentences as rows: its other fields, ``position``, ``char_start``,
    ``char_end`` (plus ``offset``: where the body starts in its file) and the sentence
    under ``text_column``. An article with no sentence (empty, missing or non-string
    text) is one row holding that value, so it is kept."""
    text = article.get(text_column)
    fields = {key: value for key, value in article.items() if key != text_column}
    sentences = file_sentences(text, offset) if isinstance(text, str) else []
    if not sentences:
        empty = text if not isinstance(text, str) else ""
        return [{**fields, "position": 0, "char_start": None, "char_end": None, text_column: empty}]
    return [
        {**fields, "position": s.position, "char_start": s.char_start, "char_end": s.char_end, text_column: s.text}
        for s in sentences
    ]


def sentence_chunks(
    articles: Iterable[tuple[dict[str, object], int]], chunk_rows: int, text_column: str
) -> Iterator[pd.DataFrame]:
    """Sentences of the articles, in chunks of at least ``chunk_rows`` rows (the last may
    be smaller) that never split an article; ``position == 0`` starts each article."""
    rows: list[dict[str, object]] = []
    for article, offset in articles:
        rows.extend(article_sentences(article, text_column, offset))
        if len(rows) >= chunk_rows:
            yield _sentence_frame(rows)
            rows = []
    if rows:
        yield _sentence_frame(rows)


def _sentence_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in SENTENCE_COLUMNS:  # an article without sentences has no offsets: nullable ints
        frame[column] = frame[column].astype("Int64")
    return frame
