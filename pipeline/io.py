"""Reading and writing the pipeline's files: articles, sentence tables, gold sets.

Every writer is atomic (temp file in the target folder, then rename), so an interrupted
run never leaves a half-written file under the real name.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Iterable, Iterator, Literal, Sequence

import pandas as pd

from pipeline.errors import InputError, first_line

TableFormat = Literal["csv", "jsonl", "parquet"]
# The formats of whole tables: stage files and gold sets (``read_table``, ``write_table``).
# Scoring streams its input and output through its own table, pipeline/scoring/formats.py,
# whose table entries are these.
TABLE_FORMATS: dict[str, TableFormat] = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}
TABLE_SUFFIXES = tuple(TABLE_FORMATS)


def table_format(path: Path) -> TableFormat:
    """The table format ``path``'s extension names; an unknown one is an ``InputError``
    that lists the table extensions."""
    fmt = TABLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise unknown_suffix(path, TABLE_SUFFIXES)
    return fmt


def unknown_suffix(path: Path, accepted: Sequence[str]) -> InputError:
    """The error for a file whose extension names no format the caller reads or writes."""
    return InputError(f"{path}: unknown extension {path.suffix.lower()!r}; expected one of {', '.join(accepted)}")


_HEADER_LINE = re.compile(r"^(Title|Date|Source|URL|Author):[ \t]*(.*)$")
_DATE_PREFIX = re.compile(r"^(\d{4})(\d{2})(\d{2})")
ARTICLE_COLUMNS = ["doc_id", "text", "title", "date", "source", "body_offset"]


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temp path beside ``path``; rename it over ``path`` only if the block succeeds.

    The file ends with the mode a plain ``open`` would give it (0666 less the umask), not the
    private 0600 of the temp file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def current_umask() -> int:
    """The process's umask (reading it means setting it; it is put back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame as CSV, JSONL or Parquet (by extension), atomically."""
    fmt = table_format(path)
    with atomic_path(path) as tmp:
        if fmt == "csv":
            frame.to_csv(tmp, index=False)
        elif fmt == "jsonl":
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
        else:
            frame.to_parquet(tmp, index=False)
    return path


def read_table(path: Path) -> pd.DataFrame:
    """Read a whole CSV, JSONL or Parquet table (for stage files and gold sets)."""
    if not path.exists():
        raise InputError(f"{path}: file not found")
    fmt = table_format(path)
    try:
        if fmt == "csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        if fmt == "jsonl":
            return pd.DataFrame(list(json_records(path)))
        return pd.read_parquet(path)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (undecodable byte at offset {exc.start})") from None
    except (ValueError, OSError) as exc:
        raise InputError(f"{path}: cannot be read as {fmt}: {first_line(exc)}") from None


def digest_files(files: Iterable[Path], name_separator: bytes = b"") -> str:
    """SHA-256 (hex) over each file's name, ``name_separator`` and bytes, read in 1 MiB
    blocks: the one content hash (stage files, data tags, scoring checkpoints, weights)."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + name_separator)
        with file.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a file or of a folder's files (names and bytes), short form."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return digest_files(files)[:16]


def read_text_file(path: Path, encoding: str = "utf-8-sig") -> str:
    """Read a text file, naming the byte offset when it does not decode."""
    try:
        return path.read_bytes().decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not {encoding} text (undecodable byte 0x{exc.object[exc.start]:02x} at byte offset {exc.start})"
        ) from None
    except LookupError:
        raise InputError(f"{path}: unknown encoding {encoding!r}") from None


def parse_article(doc_id: str, raw: str) -> dict[str, object]:
    """Split an article file into metadata header (``Title:``/``Date:``/``Source:`` lines
    up to the first blank line, if the file starts with one) and body."""
    meta: dict[str, str] = {}
    body_offset = 0
    lines = raw.split("\n")
    if lines and _HEADER_LINE.match(lines[0]):
        offset = 0
        for line in lines:
            match = _HEADER_LINE.match(line)
            if not match:
                break
            meta[match.group(1).lower()] = match.group(2).strip()
            offset += len(line) + 1
        body_offset = offset
    date = meta.get("date", "")
    if not date and (match := _DATE_PREFIX.match(doc_id)):
        date = f"{match.group(1)}-{match.group(2)}-{match.group(3)}"
    return {
        "doc_id": doc_id,
        "text": raw[body_offset:],
        "title": meta.get("title", ""),
        "date": date,
        "source": meta.get("source", ""),
        "body_offset": body_offset,
    }


def article_paths(path: Path) -> list[Path]:
    """The article files of ``path``: a folder's ``.txt`` files in name order, or the one file."""
    return sorted(path.glob("*.txt")) if path.is_dir() else [path]


def article_files(path: Path, encoding: str = "utf-8-sig") -> Iterator[dict[str, object]]:
    """Each ``.txt`` article of a folder (or the one ``.txt`` file), parsed, in name order:
    what ingest and ``stance score`` both read."""
    files = article_paths(path)
    if not files:
        raise InputError(f"{path}: folder holds no .txt articles")
    for file in files:
        yield parse_article(file.stem, read_text_file(file, encoding))


def read_articles(path: Path, text_column: str = "text", id_column: str = "doc_id") -> pd.DataFrame:
    """Load articles from a folder of .txt files, one .txt file, or a table with a text column.

    Returns columns ``doc_id, text, title, date, source, body_offset`` (``body_offset``:
    where the body starts in the file, so sentence offsets point into the original file).
    """
    if not path.exists():
        raise InputError(f"{path}: articles not found (a folder of .txt files or a .csv/.jsonl/.parquet file)")
    if path.is_dir() or path.suffix.lower() == ".txt":
        return pd.DataFrame(list(article_files(path)), columns=ARTICLE_COLUMNS)
    table = read_table(path)
    if text_column not in table.columns:
        raise InputError(f"{path}: no {text_column!r} column (columns: {', '.join(map(str, table.columns))})")
    if table.empty:
        raise InputError(f"{path}: no rows")
    articles = pd.DataFrame(
        {
            "doc_id": table[id_column].astype(str) if id_column in table.columns else [row_doc_id(i) for i in range(len(table))],
            "text": table[text_column].fillna("").astype(str),
        }
    )
    for column in ("title", "date", "source"):
        articles[column] = table[column].fillna("").astype(str) if column in table.columns else ""
    articles["body_offset"] = 0
    if articles["doc_id"].duplicated().any():
        duplicate = articles.loc[articles["doc_id"].duplicated(), "doc_id"].iloc[0]
        raise InputError(f"{path}: column {id_column!r} repeats the id {duplicate!r}; document ids must be unique")
    return articles


def row_doc_id(number: int) -> str:
    """The id of the ``number``-th article (from 0) of a table that has no id column."""
    return f"row{number:06d}"


def parse_date(value: str) -> dt.date | None:
    """A document's date from its ``date`` field (ISO date or datetime prefix), else None."""
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def check_encoding(path: Path, encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"{path}: unknown encoding {encoding!r}") from None


def decoded_lines(path: Path, encoding: str) -> Iterator[str]:
    """The file's lines decoded one by one, so a bad byte is reported with its line and
    byte offset; NUL bytes (a binary file) are refused the same way."""
    check_encoding(path, encoding)
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
        try:
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InputError(
                f"{path}: not {encoding} text (truncated character at the end, byte offset {offset}); pass --encoding"
            ) from None
        if tail:
            yield tail


def json_records(path: Path, encoding: str = "utf-8-sig") -> Iterator[dict]:
    """The objects of a JSONL file, one per non-blank line; a broken line is an error that
    names it (the one JSONL reader: scoring, ingest and gold files all read through it)."""
    for number, line in enumerate(decoded_lines(path, encoding), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            raise InputError(f"{path} line {number}: not valid JSON ({reason})") from None
        if not isinstance(record, dict):
            raise InputError(f"{path} line {number}: expected a JSON object, got {type(record).__name__}")
        yield record
