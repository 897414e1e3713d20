"""The CLI's contract for bad input: one line on stderr, exit 2, nothing written."""

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_unknown_config_key_is_one_line_and_exit_2(tmp_path, workdir):
    config = tmp_path / "c.yaml"
    config.write_text("trian:\n  model: tfidf_logreg\n")
    result = invoke("run", "--config", str(config))
    assert result.exit_code == 2
    assert "unknown key 'trian'" in result.output
    assert "Traceback" not in result.output
    assert not (workdir / "mlflow.db").exists()


def test_missing_articles_writes_nothing_to_the_store(tiny_config, workdir):
    result = invoke("run", "--config", str(tiny_config), "--set", "data.articles=nowhere")
    assert result.exit_code == 2 and "nowhere: articles not found" in result.output
    assert not (workdir / "mlflow.db").exists()


def test_bad_gold_label_fails_before_any_run(tiny_config, workdir):
    dev = workdir / "corpus" / "dev.csv"
    dev.write_text(dev.read_text().replace(",rule_out,", ",ruleout,", 1))
    result = invoke("run", "--config", str(tiny_config))
    assert result.exit_code == 2 and "dev.csv row" in result.output and "'ruleout'" in result.output
    assert not (workdir / "mlflow.db").exists()


def test_stage_alone_needs_previous_output(tiny_config):
    result = invoke("train", "--config", str(tiny_config))
    assert result.exit_code == 2 and "run it first" in result.output


def test_score_missing_input_and_unknown_extension(workdir):
    result = invoke("score", "missing.csv", "--output", "out.csv")
    assert result.exit_code == 2 and "missing.csv: file not found" in result.output
    Path("in.xlsx").write_text("x")
    result = invoke("score", "in.xlsx", "--output", "out.csv")
    assert result.exit_code == 2 and "unknown extension '.xlsx'" in result.output
    assert not Path("out.csv").exists()


def test_score_outside_a_project_says_there_is_no_store_and_creates_none(workdir):
    Path("in.csv").write_text("text\nhello\n")
    result = invoke("score", "in.csv", "--output", "out.csv")
    assert result.exit_code == 2
    assert "no tracking store here: " in result.output and "mlflow.db does not exist" in result.output, result.output
    assert not Path("out.csv").exists() and not Path("mlflow.db").exists()
    for command in (["models"], ["promote", "1"]):
        assert "no tracking store here" in invoke(*command).output
    assert not Path("mlflow.db").exists()


def test_model_uri_errors_say_what_is_wrong(tiny_config, workdir):
    assert invoke("run", "--config", str(tiny_config)).exit_code == 0
    Path("in.csv").write_text("text\nhello\n")
    expected = {
        "models:/nope@champion": "no registered model 'nope' in this store (registered: tiny-stance)",
        "models:/tiny-stance@gold": "tiny-stance has no alias 'gold' (aliases: champion -> version 1)",
        "models:/tiny-stance/9": "tiny-stance has no version '9' (versions: 1)",
    }
    for uri, message in expected.items():
        result = invoke("score", "in.csv", "--output", "out.csv", "--model", uri)
        assert result.exit_code == 2 and f"{uri}: {message}" in result.output, result.output
    assert "train and register one" not in invoke("score", "in.csv", "-o", "out.csv", "-m", "models:/tiny-stance/9").output
    assert not Path("out.csv").exists()


def test_help_is_fast_and_lists_the_stages():
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "--help"], capture_output=True, text=True, check=True)
    for command in ("run", "ingest", "label", "train", "evaluate", "score", "models", "promote", "ui"):
        assert command in out.stdout


def test_ui_on_a_busy_port_fails_in_one_line_naming_the_port(workdir):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["ui", "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is not free" in result.output
    assert "Traceback" not in result.output


def test_show_cuts_long_sentences_at_a_word_with_an_ellipsis():
    from pipeline.cli import shorten

    text = "Macron said Western troops could not be ruled out in the future, speaking after the meeting"
    short = shorten(text, 40)
    assert short == "Macron said Western troops could not be…" and len(short) <= 40
    assert shorten("short sentence", 40) == "short sentence"
    assert shorten("x" * 50, 10) == "x" * 9 + "…"


def test_help_shows_extras_literally_no_bool_metavars_and_names_the_store():
    score = runner.invoke(app, ["score", "--help"], env={"COLUMNS": "200"}).output
    assert "needs the [spark] extra" in score
    flags = [line for line in score.splitlines() if any(f"--{flag} " in line for flag in ("articles", "resume", "show", "help"))]
    assert len(flags) == 4 and not any("<bool>" in line for line in flags), flags
    for command in ([], ["run"], ["models"]):
        assert "<bool>" not in runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"}).output
    promote = runner.invoke(app, ["promote", "--help"], env={"COLUMNS": "200"}).output
    alias_line = next(line for line in promote.splitlines() if "--alias" in line)
    assert "The alias to move" in alias_line
    for command in ("models", "promote", "ui"):
        assert "MLFLOW_TRACKING_URI" in runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output


def test_version_and_verbose_after_the_command():
    from importlib.metadata import version

    result = invoke("--version")
    assert result.exit_code == 0 and result.output.strip() == f"stance-pipeline {version('stance-pipeline')}"
    config_error = invoke("run", "--config", "nowhere.yaml", "-v")
    assert config_error.exit_code == 2 and "nowhere.yaml: config file not found" in config_error.output
    assert "No such option" not in config_error.output


def test_score_defaults_to_the_configs_registered_model(tiny_config, workdir):
    """No --model: the champion of the config's registry section (here tiny-stance), as
    `stance run` registered it; without a config file, models:/deployment-stance@champion."""
    assert invoke("run", "--config", str(tiny_config)).exit_code == 0
    Path("in.csv").write_text("text\nSpain will not send troops to Ukraine.\n")
    result = invoke("score", "in.csv", "-o", "out.csv", "--config", str(tiny_config))
    assert result.exit_code == 0, result.output
    assert "rows 1, scored 1" in result.output
    missing = invoke("score", "in.csv", "-o", "out2.csv", "--config", "no-such.yaml")
    assert "models:/deployment-stance@champion: no registered model 'deployment-stance'" in missing.output
