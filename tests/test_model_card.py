"""The model card the evaluate stage writes: computed from the run, logged with the reports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import load_config
from pipeline.model_card import render_model_card
from pipeline.stage_paths import TrainRecord
from pipeline.gate import GateDecision

runner = CliRunner()


def evaluate_runs() -> list:
    client = MlflowClient()
    experiment = client.get_experiment_by_name("tiny")
    runs = client.search_runs([experiment.experiment_id], "tags.stage = 'evaluate'", order_by=["attributes.start_time ASC"])
    return list(runs)


def test_run_writes_and_logs_a_card_that_matches_the_run(tiny_config, workdir):
    result = runner.invoke(app, ["run", "--config", str(tiny_config)])
    assert result.exit_code == 0, result.output
    card = (workdir / "reports" / "tiny" / "latest" / "model_card.md").read_text(encoding="utf-8")
    run = evaluate_runs()[0]
    assert f"macro-F1: {run.data.metrics['test_macro_f1']:.3f} (95% bootstrap interval" in card
    assert run.data.tags["model_uri"] in card and "version 1" in card
    assert "--model models:/tiny-stance@champion" in card
    assert f"{int(run.data.metrics['test_rows'])} rows" in card
    logged = {Path(a.path).name for a in MlflowClient().list_artifacts(run.info.run_id, "evaluation")}
    assert "model_card.md" in logged

    # a version the gate does not promote is named by its number, not the alias
    weak = runner.invoke(
        app,
        [
            "run",
            "--config",
            str(tiny_config),
            "--set",
            "train.tfidf_logreg.C=0.0001",
            "--set",
            "train.tfidf_logreg.class_weight=null",
        ],
    )
    assert weak.exit_code == 0, weak.output
    second = evaluate_runs()[1]
    card = (workdir / "reports" / "tiny" / "latest" / "model_card.md").read_text(encoding="utf-8")
    if second.data.tags["registry.promoted"] == "false":
        assert "--model models:/tiny-stance/2" in card and "does not beat" in card
    else:
        assert "--model models:/tiny-stance@champion" in card


def test_card_lists_weak_and_thin_classes_and_names_the_uri_without_a_registry(tiny_config):
    config = load_config(tiny_config, ["registry.enabled=false"])
    report = pd.DataFrame(
        {
            "label": ["support", "conditional", "rule_out", "none", "macro avg"],
            "precision": [0.9, 0.3, 0.8, 0.9, 0.7],
            "recall": [0.9, 0.2, 0.8, 0.9, 0.7],
            "f1": [0.9, 0.24, 0.8, 0.9, 0.71],
            "support": [40, 6, 30, 100, 176],
        }
    )
    metrics = {
        "test_macro_f1": 0.71,
        "test_accuracy": 0.8,
        "test_rows": 176.0,
        "test_ece": 0.05,
        "test_macro_f1_ci_low": 0.62,
        "test_macro_f1_ci_high": 0.78,
    }
    info = TrainRecord(
        "models:/m-abc", "r1", "tfidf_logreg", "h", {"train_rows": 300.0, "train_gold_rows": 100.0, "train_rows_support": 50.0}
    )
    card = render_model_card(config, "tfidf_logreg-majority-weak+gold", info, metrics, report, None, "abc123")
    assert "`conditional` 0.24" in card and "`conditional` (6)" in card and "`support` 0.9" not in card
    assert "0.620–0.780" in card and "200 of 300 training rows carry weak" in card
    assert "--model models:/m-abc" in card and "| registry |" not in card
    decided = GateDecision("tiny-stance", "3", True, "no champion yet", 0.71, None, None)
    assert "--model models:/tiny-stance@champion" in render_model_card(
        load_config(tiny_config), "x", info, metrics, report, decided, "abc123"
    )
