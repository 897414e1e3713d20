"""The one table from file suffix to reader (scoring input) and writer (scoring output).

``stance score`` reads a file whose suffix is in ``INPUT_FORMATS`` (or a folder of
``.txt`` articles) and writes one whose suffix is in ``OUTPUT_FORMATS``; ``stance report``
reads scored files through the same readers. The two sets differ: ``.txt`` articles are
an input only. Any other suffix is an ``InputError`` that lists the accepted ones. A new
format is one entry here (docs/extending.md, "A scoring format"). The pipeline's own
stage files and gold sets are whole tables read by :mod:`pipeline.io`, whose
``TABLE_FORMATS`` are the table entries of both sets here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline.errors import InputError
from pipeline.io import check_encoding, unknown_suffix
from pipeline.scoring.output import ChunkWriter, CsvWriter, JsonlWriter, ParquetWriter
from pipeline.scoring.readers import (
    CheckStart,
    InputRows,
    OpenRows,
    article_table_rows,
    check_articles_start,
    check_jsonl_start,
    first_rows_check,
    open_articles,
    open_csv,
    open_jsonl,
    open_parquet,
    sentence_chunks,
)


@dataclass(frozen=True)
class InputFormat:
    """How one input format is read: ``open`` streams its rows; ``articles`` when each file
    holds articles, split into sentence rows (so ``--level article`` needs no ``--articles``);
    ``check`` is the cheap check of its start made before a model is loaded (default: its
    first row has the text column); ``accepts`` is how an error lists it (default: the suffix)."""

    name: str
    open: OpenRows
    articles: bool = False
    check: CheckStart | None = None
    accepts: str = ""

    def check_start(self, path: Path, encoding: str, text_column: str) -> None:
        (self.check or first_rows_check(self.open))(path, encoding, text_column)


@dataclass(frozen=True)
class OutputFormat:
    """How one output format is written: ``writer()`` gives a fresh writer for each run;
    ``name`` is recorded in the checkpoint, so a resume keeps the format."""

    name: str
    writer: Callable[[], ChunkWriter]


INPUT_FORMATS: dict[str, InputFormat] = {
    ".csv": InputFormat("csv", open_csv),
    ".jsonl": InputFormat("jsonl", open_jsonl, check=check_jsonl_start),
    ".parquet": InputFormat("parquet", open_parquet),
    ".txt": InputFormat("txt", open_articles, articles=True, check=check_articles_start, accepts=".txt or a folder of .txt"),
}
OUTPUT_FORMATS: dict[str, OutputFormat] = {
    ".csv": OutputFormat("csv", CsvWriter),
    ".jsonl": OutputFormat("jsonl", JsonlWriter),
    ".parquet": OutputFormat("parquet", ParquetWriter),
}
ARTICLE_FOLDER = ".txt"  # a folder is read as its .txt articles


def input_format(path: Path) -> InputFormat:
    """The reader of ``path`` by its suffix (a folder: its ``.txt`` articles)."""
    suffix = ARTICLE_FOLDER if path.is_dir() else path.suffix.lower()
    found = INPUT_FORMATS.get(suffix)
    if found is None:
        raise unknown_suffix(path, [fmt.accepts or key for key, fmt in INPUT_FORMATS.items()])
    return found


def output_format(path: Path) -> OutputFormat:
    """The writer of ``path`` by its suffix."""
    found = OUTPUT_FORMATS.get(path.suffix.lower())
    if found is None:
        raise unknown_suffix(path, list(OUTPUT_FORMATS))
    return found


def open_input(
    path: Path, chunk_rows: int, encoding: str = "utf-8-sig", articles: bool = False, text_column: str = "text"
) -> InputRows:
    """The input's rows in chunks, in order. Article files are always split into
    sentences; a table is read as articles (one per row, ``doc_id`` and ``text_column``)
    when ``articles``."""
    if not path.exists():
        raise InputError(f"{path}: file not found")
    fmt = input_format(path)
    check_encoding(path, encoding)
    rows = fmt.open(path, chunk_rows, encoding, text_column)
    if fmt.articles or not articles:
        return rows
    return InputRows(sentence_chunks(article_table_rows(rows.chunks, path, text_column), chunk_rows, text_column))
