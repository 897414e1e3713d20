"""The scored output as it grows: chunks appended to a partial file, made final at the end.

The partial file only ever grows by whole chunks and its size is recorded after each
one (see ``scoring.checkpoint``), so an interrupted run can be cut back to its last
complete chunk and continued. Each output format is a ``ChunkWriter``
(:mod:`pipeline.scoring.formats` maps suffixes to them): CSV and JSONL partials are the
final bytes already and are renamed into place; a Parquet output's partial is a sequence
of Arrow IPC streams (one per chunk, all with one schema), rewritten as Parquet when the
run completes.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from pipeline.errors import InputError, first_line
from pipeline.io import atomic_path

PARQUET_ROW_GROUP_ROWS = 65_536


def as_text(value: object) -> str | None:
    """A cell of a text column: strings as they are, missing as None, anything else
    (numbers, lists, objects from JSONL) as its JSON text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _is_typed(column: pd.Series) -> bool:
    """Numeric, boolean and datetime columns keep their type; everything else is text."""
    return (
        pd.api.types.is_numeric_dtype(column)
        or pd.api.types.is_bool_dtype(column)
        or pd.api.types.is_datetime64_any_dtype(column)
    )


def _plain(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


def _needs_text(column: pd.Series) -> bool:
    """A column with values other than strings and missing ones (e.g. numbers from JSONL)."""
    return not _is_typed(column) and pd.api.types.infer_dtype(column, skipna=True) not in ("string", "empty")


def csv_bytes(frame: pd.DataFrame, header: bool) -> bytes:
    converted = {name: [as_text(v) for v in frame[name]] for name in frame.columns if _needs_text(frame[name])}
    text = frame.assign(**converted) if converted else frame
    # RFC 4180 line ends: with "\n" ends, the csv writer would leave a lone "\r" in a value unquoted
    return text.to_csv(index=False, header=header, lineterminator="\r\n").encode("utf-8")


# Valid raw in JSON, but line breaks to str.splitlines and some JSON-lines readers: escaped.
_LINE_SEPARATORS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def jsonl_bytes(frame: pd.DataFrame) -> bytes:
    lines = [
        json.dumps({key: _plain(value) for key, value in record.items()}, ensure_ascii=False, default=str)
        for record in frame.to_dict(orient="records")
    ]
    return "".join(line.translate(_LINE_SEPARATORS) + "\n" for line in lines).encode("utf-8")


def arrow_table(frame: pd.DataFrame, schema=None):  # noqa: ANN001, ANN201 (pyarrow types, imported lazily)
    """The frame as an Arrow table without pandas metadata (so every chunk has the same
    schema); cast to ``schema`` when given."""
    import pyarrow as pa

    arrays = [
        pa.array(frame[name], from_pandas=True)
        if _is_typed(frame[name])
        else pa.array(
            [as_text(v) for v in frame[name]] if _needs_text(frame[name]) else frame[name], type=pa.string(), from_pandas=True
        )
        for name in frame.columns
    ]
    table = pa.Table.from_arrays(arrays, names=[str(name) for name in frame.columns])
    if schema is None:
        return table
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
        raise InputError(
            f"a later chunk of the input does not fit the Parquet schema of the first "
            f"({first_line(exc)}); write .csv or .jsonl instead"
        ) from None


class ChunkWriter(Protocol):
    """One output format: the bytes a chunk adds to the partial file, and how the complete
    partial becomes the output. One writer serves one run (it may keep state, such as the
    schema of the first chunk)."""

    def encode(self, frame: pd.DataFrame, partial: Path) -> bytes:
        """The bytes that append ``frame`` to ``partial`` (which holds the chunks so far)."""
        ...

    def finish(self, partial: Path, output: Path) -> None:
        """Turn the complete ``partial`` into ``output`` (atomically) and remove it."""
        ...


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


class FinalBytes:
    """A format whose partial holds the final bytes already: finishing is a rename."""

    def finish(self, partial: Path, output: Path) -> None:
        os.replace(partial, output)


class CsvWriter(FinalBytes):
    """RFC 4180 CSV, UTF-8, with the header before the first chunk."""

    def encode(self, frame: pd.DataFrame, partial: Path) -> bytes:
        return csv_bytes(frame, header=_size(partial) == 0)


class JsonlWriter(FinalBytes):
    """One JSON object per row and line, UTF-8."""

    def encode(self, frame: pd.DataFrame, partial: Path) -> bytes:
        return jsonl_bytes(frame)


class ParquetWriter:
    """Arrow IPC streams in the partial (every chunk cast to the first one's schema),
    rewritten as Parquet row groups of ``PARQUET_ROW_GROUP_ROWS`` rows at the end."""

    def __init__(self) -> None:
        self._schema = None

    def encode(self, frame: pd.DataFrame, partial: Path) -> bytes:
        import pyarrow as pa

        table = arrow_table(frame, self._first_schema(partial))
        if self._schema is None:
            self._schema = table.schema
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as stream:
            stream.write_table(table)
        return sink.getvalue().to_pybytes()

    def _first_schema(self, partial: Path):  # noqa: ANN202
        if self._schema is None and _size(partial) > 0:  # a resumed run: the schema its first chunk had
            import pyarrow as pa

            with pa.OSFile(str(partial), "rb") as source:
                self._schema = pa.ipc.open_stream(source).schema
        return self._schema

    @staticmethod
    def _tables(partial: Path):  # noqa: ANN205
        import pyarrow as pa

        end = _size(partial)
        with pa.OSFile(str(partial), "rb") as source:
            while source.tell() < end:
                yield pa.ipc.open_stream(source).read_all()

    def finish(self, partial: Path, output: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        with atomic_path(output) as tmp:
            writer = None
            pending: list = []
            for table in itertools.chain(self._tables(partial), [None]):
                if table is not None:
                    pending.append(table)
                rows = sum(t.num_rows for t in pending)
                if pending and (table is None or rows >= PARQUET_ROW_GROUP_ROWS):
                    merged = pa.concat_tables(pending)
                    writer = writer or pq.ParquetWriter(tmp, merged.schema)
                    writer.write_table(merged, row_group_size=PARQUET_ROW_GROUP_ROWS)
                    pending = []
            if writer is not None:
                writer.close()
        partial.unlink()


class PartialFile:
    """The output under construction: ``append`` whole chunks durably, ``finish`` into the
    output path. ``writer`` encodes them in the output's format."""

    def __init__(self, path: Path, writer: ChunkWriter) -> None:
        self.path, self.writer = path, writer

    def size(self) -> int:
        return _size(self.path)

    def append(self, frame: pd.DataFrame) -> int:
        """Append one chunk durably; return the partial's new size in bytes."""
        data = self.writer.encode(frame, self.path)
        with self.path.open("ab") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return self.size()

    def finish(self, output: Path) -> None:
        """Move the complete partial to ``output`` (atomically)."""
        self.writer.finish(self.path, output)
