"""`stance score` on the command line: summary line, one-line errors with exit 2, resume."""

import pandas as pd
import pytest
from typer.testing import CliRunner

import pipeline.score
from pipeline.cli import app
from test_score import LABELS, KeywordPredictor

runner = CliRunner()


@pytest.fixture
def keyword_model(monkeypatch):
    monkeypatch.setattr(pipeline.score, "load_predictor", lambda uri: (KeywordPredictor(), LABELS))


def test_score_prints_a_summary_line(tmp_path, keyword_model):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ["troops", "", "calm"]}).to_csv(source, index=False)
    result = runner.invoke(app, ["score", str(source), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    assert "rows 3, scored 2, errors 1" in result.output


@pytest.mark.parametrize("content, message", [
    (b"id,text\n1,\"unterminated\n", "in.csv row 2 (line 2): broken CSV"),
    (b"\x00\x01\x02binary", "in.csv line 1: not utf-8-sig text (byte 0x00 at byte offset 0)"),
    (b"id,body\n1,x\n", "in.csv: no 'text' column (columns: id, body); use --text-column"),
])
def test_bad_input_is_one_line_exit_2_and_no_output(tmp_path, keyword_model, content, message):
    source = tmp_path / "in.csv"
    source.write_bytes(content)
    result = runner.invoke(app, ["score", str(source), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path}/{message}"), result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_resume_on_the_command_line(tmp_path, keyword_model):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ["troops"] * 6}).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    refused = runner.invoke(app, ["score", str(source), "-o", str(out), "--resume"])
    assert refused.exit_code == 2 and "nothing to resume" in refused.output
    assert runner.invoke(app, ["score", str(source), "-o", str(out), "--batch-size", "2"]).exit_code == 0
    assert len(pd.read_csv(out)) == 6


def test_spark_engine_refuses_non_parquet_input(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("text\ntroops\n")
    result = runner.invoke(app, ["score", str(source), "-o", str(tmp_path / "out.parquet"), "--engine", "spark"])
    assert result.exit_code == 2 and "--engine spark reads one Parquet file" in result.output


def test_a_run_that_scores_no_row_exits_3_with_the_output_written(tmp_path, keyword_model):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ["", "   ", ""]}).to_csv(source, index=False)
    result = runner.invoke(app, ["score", str(source), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 3
    assert "rows 3, scored 0, errors 3" in result.output and "no row of" in result.output
    assert len(pd.read_csv(tmp_path / "out.csv")) == 3  # every row kept, each with its error
