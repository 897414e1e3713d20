"""Streaming readers for scoring inputs: chunks of rows, in order, in bounded memory.

CSV and JSONL are read in chunks of strings (no type guessing, so a column's values
come back exactly as written); Parquet by record batches; ``.txt`` articles (a file or
a folder) are split into sentences as they are read.
"""

from __future__ import annotations

import codecs
import csv
import json
from pathlib import Path
from typing import Iterator

import pandas as pd

from pipeline.errors import InputError
from pipeline.io import TABLE_SUFFIXES, parse_article, read_text_file

INPUT_SUFFIXES = (*TABLE_SUFFIXES, ".txt")


def input_kind(path: Path) -> str:
    """``txt`` for an article file or folder, else the table extension without the dot."""
    if path.is_dir():
        return "txt"
    suffix = path.suffix.lower()
    if suffix not in INPUT_SUFFIXES:
        raise InputError(f"{path}: unknown extension {suffix!r}; expected one of {', '.join(INPUT_SUFFIXES)} or a folder of .txt")
    return suffix[1:]


def _check_encoding(path: Path, encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"{path}: unknown encoding {encoding!r}") from None


def decoded_lines(path: Path, encoding: str) -> Iterator[str]:
    """The file's lines decoded one by one, so a bad byte is reported with its line and
    byte offset; NUL bytes (a binary file) are refused the same way."""
    _check_encoding(path, encoding)
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                if b"\x00" in raw:
                    raise UnicodeDecodeError(encoding, raw, raw.index(b"\x00"), raw.index(b"\x00") + 1, "NUL byte")
                yield decoder.decode(raw)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path} line {number}: not {encoding} text (byte 0x{raw[exc.start]:02x} at byte offset "
                    f"{offset + exc.start}); binary file, or pass --encoding"
                ) from None
            offset += len(raw)
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail


def iter_csv(path: Path, chunk_rows: int, encoding: str) -> Iterator[pd.DataFrame]:
    reader = csv.reader(decoded_lines(path, encoding))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path}: empty file (no header row)") from None
    except csv.Error as exc:
        raise InputError(f"{path} row 1: broken CSV header ({exc})") from None
    if len(set(header)) != len(header):
        raise InputError(f"{path}: header repeats a column name ({', '.join(header)})")
    rows: list[list[str]] = []
    try:
        for record in reader:
            if len(record) != len(header):
                if not record:
                    record = [""] * len(header)
                else:
                    raise InputError(f"{path} row {reader.line_num}: {len(record)} fields, header has {len(header)}")
            rows.append(record)
            if len(rows) >= chunk_rows:
                yield pd.DataFrame(rows, columns=header, dtype=object)
                rows = []
    except csv.Error as exc:
        raise InputError(f"{path} row {reader.line_num}: broken CSV ({exc})") from None
    if rows:
        yield pd.DataFrame(rows, columns=header, dtype=object)


def iter_jsonl(path: Path, chunk_rows: int, encoding: str) -> Iterator[pd.DataFrame]:
    rows: list[dict] = []
    for number, line in enumerate(decoded_lines(path, encoding), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise InputError(f"{path} line {number}: expected a JSON object, got {type(record).__name__}")
        rows.append(record)
        if len(rows) >= chunk_rows:
            yield pd.DataFrame(rows, dtype=object)
            rows = []
    if rows:
        yield pd.DataFrame(rows, dtype=object)


def iter_parquet(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas()
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None


def iter_articles(path: Path, chunk_rows: int, encoding: str) -> Iterator[pd.DataFrame]:
    """Sentences of one .txt article or a folder of them: ``doc_id, position, text``."""
    from pipeline.ingest import split_sentences

    files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
    if not files:
        raise InputError(f"{path}: folder holds no .txt articles")
    rows: list[dict] = []
    for file in files:
        article = parse_article(file.stem, read_text_file(file, encoding))
        for sentence in split_sentences(str(article["text"])):
            rows.append({"doc_id": article["doc_id"], "position": sentence.position, "text": sentence.text})
            if len(rows) >= chunk_rows:
                yield pd.DataFrame(rows)
                rows = []
    if rows:
        yield pd.DataFrame(rows)


def iter_input(path: Path, chunk_rows: int, encoding: str = "utf-8-sig") -> Iterator[pd.DataFrame]:
    """Chunks of the input's rows, in order."""
    if not path.exists():
        raise InputError(f"{path}: file not found")
    kind = input_kind(path)
    if kind == "csv":
        return iter_csv(path, chunk_rows, encoding)
    if kind == "jsonl":
        return iter_jsonl(path, chunk_rows, encoding)
    if kind == "parquet":
        return iter_parquet(path, chunk_rows)
    return iter_articles(path, chunk_rows, encoding)
