"""Scoring formats come from one table (pipeline/scoring/formats.py): a suffix in neither
set is refused, the input and output sets differ, and a new format is added by the steps
docs/extending.md names ("A scoring format"), walked here with a tab-separated format."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import pipeline.scoring.model
from pipeline.cli import app
from pipeline.errors import InputError
from pipeline.io import TABLE_FORMATS
from pipeline.scoring import formats
from pipeline.scoring.formats import InputFormat, OutputFormat, input_format, output_format
from pipeline.scoring.output import FinalBytes
from pipeline.scoring.readers import InputRows
from pipeline.scoring.run import ScoreOptions, score_file
from test_score import LABELS, KeywordPredictor

TEXTS = ["send troops", "", "calm weather", "more troops now", "rain", "troops again", "quiet"]


# Step 1: the reader (pipeline/scoring/readers.py in a real format).
def open_tsv(path: Path, chunk_rows: int, encoding: str, text_column: str = "text") -> InputRows:
    reader = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, encoding=encoding, chunksize=chunk_rows)
    return InputRows(iter(reader))


# Step 2: the writer (pipeline/scoring/output.py in a real format).
class TsvWriter(FinalBytes):
    def encode(self, frame: pd.DataFrame, partial: Path) -> bytes:
        return frame.to_csv(sep="\t", index=False, header=partial.stat().st_size == 0).encode("utf-8")


@pytest.fixture
def tsv_format(monkeypatch):
    """Step 3: one line in each table (pipeline/scoring/formats.py in a real format)."""
    monkeypatch.setitem(formats.INPUT_FORMATS, ".tsv", InputFormat("tsv", open_tsv))
    monkeypatch.setitem(formats.OUTPUT_FORMATS, ".tsv", OutputFormat("tsv", TsvWriter))


def write_tsv(path: Path, texts: list[str]) -> None:
    pd.DataFrame({"id": range(len(texts)), "text": texts}).to_csv(path, sep="\t", index=False)


def test_a_format_added_to_the_table_is_scored_like_the_others(tmp_path, tsv_format):
    write_tsv(tmp_path / "in.tsv", TEXTS)
    pd.DataFrame({"id": range(len(TEXTS)), "text": TEXTS}).to_csv(tmp_path / "in.csv", index=False)
    summary = score_file(tmp_path / "in.tsv", tmp_path / "out.tsv", KeywordPredictor(), LABELS, ScoreOptions(chunk_rows=3))
    score_file(tmp_path / "in.csv", tmp_path / "out.csv", KeywordPredictor(), LABELS, ScoreOptions(chunk_rows=3))
    assert (summary.rows, summary.scored, summary.errors) == (7, 6, 1)
    tsv = pd.read_csv(tmp_path / "out.tsv", sep="\t", dtype=str, keep_default_na=False)
    csv = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(tsv, csv)
    assert list(tsv["stance"]) == ["support", "", "none", "support", "none", "support", "none"]


def test_a_format_added_to_the_table_resumes_to_the_same_bytes(tmp_path, tsv_format):
    write_tsv(tmp_path / "in.tsv", TEXTS)
    score_file(tmp_path / "in.tsv", tmp_path / "whole.tsv", KeywordPredictor(), LABELS, ScoreOptions(chunk_rows=2))
    with pytest.raises(RuntimeError, match="boom"):
        score_file(
            tmp_path / "in.tsv", tmp_path / "out.tsv", KeywordPredictor(fail_on_call=3), LABELS, ScoreOptions(chunk_rows=2)
        )
    assert not (tmp_path / "out.tsv").exists()
    score_file(tmp_path / "in.tsv", tmp_path / "out.tsv", KeywordPredictor(), LABELS, ScoreOptions(chunk_rows=2), resume=True)
    assert (tmp_path / "out.tsv").read_bytes() == (tmp_path / "whole.tsv").read_bytes()


def test_a_format_added_to_the_table_works_on_the_command_line(tmp_path, tsv_format, monkeypatch):
    monkeypatch.setattr(pipeline.scoring.model, "load_predictor", lambda uri: (KeywordPredictor(), LABELS))
    monkeypatch.setenv("COLUMNS", "500")
    write_tsv(tmp_path / "in.tsv", TEXTS)
    result = CliRunner().invoke(app, ["score", str(tmp_path / "in.tsv"), "-o", str(tmp_path / "out.tsv")])
    assert result.exit_code == 0, result.output
    assert "rows 7, scored 6, errors 1" in result.output and (tmp_path / "out.tsv").exists()
    body = tmp_path / "body.tsv"
    pd.DataFrame({"body": ["troops"]}).to_csv(body, sep="\t", index=False)
    refused = CliRunner().invoke(app, ["score", str(body), "-o", str(tmp_path / "out2.tsv")])
    assert refused.exit_code == 2 and "no 'text' column (columns: body); use --text-column" in refused.output


def test_an_unknown_suffix_is_refused_with_the_accepted_ones(tmp_path):
    (tmp_path / "in.xlsx").write_text("x")
    with pytest.raises(
        InputError,
        match=r"in\.xlsx: unknown extension '\.xlsx'; expected one of "
        r"\.csv, \.jsonl, \.parquet, \.txt or a folder of \.txt$",
    ):
        input_format(tmp_path / "in.xlsx")
    with pytest.raises(
        InputError,
        match=r"out\.xlsx: unknown extension '\.xlsx'; expected one of "
        r"\.csv, \.jsonl, \.parquet$",
    ):
        output_format(tmp_path / "out.xlsx")


def test_articles_are_an_input_only(tmp_path):
    (tmp_path / "a.txt").write_text("Troops will go.\n")
    assert input_format(tmp_path / "a.txt").articles and input_format(tmp_path).articles
    with pytest.raises(InputError, match="unknown extension '.txt'"):
        score_file(tmp_path / "a.txt", tmp_path / "out.txt", KeywordPredictor(), LABELS)
    assert not (tmp_path / "out.txt").exists()


def test_the_stage_file_formats_can_be_scored_and_written():
    assert set(TABLE_FORMATS) <= set(formats.INPUT_FORMATS) & set(formats.OUTPUT_FORMATS)
    assert all(formats.INPUT_FORMATS[s].name == formats.OUTPUT_FORMATS[s].name == name for s, name in TABLE_FORMATS.items())
