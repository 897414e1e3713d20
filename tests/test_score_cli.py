"""`stance score` on the command line: summary line, one-line errors with exit 2, resume."""

import pandas as pd
import pytest
from typer.testing import CliRunner

import pipeline.scoring.model
from pipeline.cli import app
from test_score import LABELS, KeywordPredictor

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_log_lines(monkeypatch):
    monkeypatch.setenv("COLUMNS", "500")  # rich wraps log lines at the terminal width


@pytest.fixture
def keyword_model(monkeypatch):
    monkeypatch.setattr(pipeline.scoring.model, "load_predictor", lambda uri: (KeywordPredictor(), LABELS))


def test_score_prints_a_summary_line(tmp_path, keyword_model):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ["troops", "", "calm"]}).to_csv(source, index=False)
    result = runner.invoke(app, ["score", str(source), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    assert "rows 3, scored 2, errors 1" in result.output


@pytest.mark.parametrize(
    "content, message",
    [
        (b'id,text\n1,"unterminated\n', "in.csv row 2 (line 2): broken CSV"),
        (b"\x00\x01\x02binary", "in.csv line 1: not utf-8-sig text (byte 0x00 at byte offset 0)"),
        (b"id,body\n1,x\n", "in.csv: no 'text' column (columns: id, body); use --text-column"),
    ],
)
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


class SignallingPredictor(KeywordPredictor):
    """Sends this process ``signame`` (as Ctrl-C or `kill` would) during its ``on_call``-th chunk."""

    def __init__(self, signame: str, on_call: int):
        super().__init__()
        self.signame, self.on_call = signame, on_call

    def predict(self, frame):
        import os
        import signal

        result = super().predict(frame)
        if self.calls == self.on_call:
            os.kill(os.getpid(), getattr(signal, self.signame))
        return result


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_keeps_the_checkpoint_says_resume_and_resume_finishes(tmp_path, monkeypatch, signame):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": [f"troops {i}" if i % 2 else f"calm {i}" for i in range(10)]}).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    monkeypatch.setattr(pipeline.scoring.model, "load_predictor", lambda uri: (SignallingPredictor(signame, 3), LABELS))
    stopped = runner.invoke(app, ["score", str(source), "-o", str(out), "--batch-size", "2"])
    assert stopped.exit_code == 130
    assert (
        f"interrupted: {out} not written yet; the 4 rows scored so far are checkpointed, and the same command "
        "with --resume continues from there"
    ) in stopped.output
    assert not out.exists()
    monkeypatch.setattr(pipeline.scoring.model, "load_predictor", lambda uri: (KeywordPredictor(), LABELS))
    resumed = runner.invoke(app, ["score", str(source), "-o", str(out), "--batch-size", "2", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "out.csv: resuming at row 5" in resumed.output
    assert "rows 10, scored 10, errors 0" in resumed.output and "4 rows resumed from the checkpoint" in resumed.output
    assert pd.read_csv(out)["text"].tolist() == pd.read_csv(source)["text"].tolist()
    again = runner.invoke(app, ["score", str(source), "-o", str(out), "--resume"])
    assert again.exit_code == 0 and "already complete" in again.output


def test_an_existing_output_is_replaced_with_a_warning(tmp_path, keyword_model):
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame({"text": ["troops"]}).to_csv(source, index=False)
    out.write_text("old\n")
    result = runner.invoke(app, ["score", str(source), "-o", str(out)])
    assert result.exit_code == 0
    assert "out.csv exists; it is replaced when this run completes" in result.output
    assert pd.read_csv(out)["stance"].tolist() == ["support"]


def test_article_level_summary_counts_articles(tmp_path, keyword_model):
    folder = tmp_path / "articles"
    folder.mkdir()
    for name in ("a", "b", "c"):
        (folder / f"{name}.txt").write_text(f"Title: {name}\n\nOne sentence about troops. Another one here. A third.\n")
    result = runner.invoke(app, ["score", str(folder), "-o", str(tmp_path / "out.csv"), "--level", "article"])
    assert result.exit_code == 0, result.output
    assert "articles 3 (sentences 9, scored 9, errors 0)" in result.output
    assert len(pd.read_csv(tmp_path / "out.csv")) == 3


@pytest.mark.parametrize(
    "content, args, message",
    [
        (b"", [], "in.csv: no rows to score"),
        (b"id,text\n", [], "in.csv: no rows to score"),
        (b"id,body\n1,x\n", [], "in.csv: no 'text' column (columns: id, body); use --text-column"),
        (b"text\nx\n", ["--encoding", "utf-99"], "in.csv: unknown encoding 'utf-99'"),
        (b"text\nx\n", ["-o", "SAME"], "in.csv: output would overwrite the input"),
    ],
)
def test_cheap_checks_run_before_the_model_is_loaded(tmp_path, monkeypatch, content, args, message):
    def no_model(uri):
        raise AssertionError("the model was loaded before the input was checked")

    monkeypatch.setattr(pipeline.scoring.model, "load_predictor", no_model)
    source = tmp_path / "in.csv"
    source.write_bytes(content)
    args = [str(source) if a == "SAME" else a for a in args]
    result = runner.invoke(app, ["score", str(source), *(["-o", str(tmp_path / "out.csv")] if "-o" not in args else []), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "AssertionError" not in result.output


def test_logs_go_to_stderr_and_stdout_holds_only_the_shown_rows(tmp_path):
    """`--show` prints data on stdout; the summary and every log line go to stderr."""
    import subprocess
    import sys
    import textwrap

    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ["troops go", "calm day"]}).to_csv(source, index=False)
    (tmp_path / "out.csv").write_text("old\n")  # makes the command log a warning
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path.parent)!r})
        sys.path.insert(0, {str(__import__("pathlib").Path(__file__).parent)!r})
        import pipeline.scoring.model
        from test_score import KeywordPredictor, LABELS
        pipeline.scoring.model.load_predictor = lambda uri: (KeywordPredictor(), LABELS)
        from pipeline.cli import app
        app(["score", {str(source)!r}, "-o", {str(tmp_path / "out.csv")!r}, "--show"])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "exists; it is replaced" in done.stderr and "rows 2, scored 2" in done.stderr
    assert "exists" not in done.stdout and "rows 2" not in done.stdout
    assert "troops go" in done.stdout and "calm day" in done.stdout
