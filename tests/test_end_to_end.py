"""The whole pipeline on the tiny corpus, in a temp dir with its own sqlite store."""

from pathlib import Path

import mlflow.pyfunc
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient
from sklearn.metrics import f1_score
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.io import read_table

runner = CliRunner()
LABELS = ["support", "conditional", "rule_out", "none"]


def test_run_logs_registers_and_scores_every_row(tiny_config, workdir):
    result = runner.invoke(app, ["run", "--config", str(tiny_config)])
    assert result.exit_code == 0, result.output

    client = MlflowClient()
    experiment = client.get_experiment_by_name("tiny")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1
    assert sorted(r.data.tags["stage"] for r in children) == ["evaluate", "ingest", "label", "train"]
    parent = parents[0]
    for metric in (
        "test_macro_f1",
        "test_f1_support",
        "test_f1_rule_out",
        "labeler_dev_accuracy",
        "labeler_coverage",
        "train_seconds",
        "ingest_sentences",
    ):
        assert metric in parent.data.metrics, metric
    assert parent.data.metrics["ingest_sentences"] == 20
    assert parent.data.tags["config_hash"] and parent.data.params["train.model"] == "tfidf_logreg"

    version = client.get_model_version_by_alias("tiny-stance", "champion")
    assert str(version.version) == "1"
    assert float(version.tags["test_macro_f1"]) == parent.data.metrics["test_macro_f1"]
    assert "no champion yet" in version.description

    source = workdir / "in.csv"
    pd.DataFrame({"id": [1, 2, 3], "text": ["Italy will not send troops to Ukraine.", "", "It rained."]}).to_csv(
        source, index=False
    )
    result = runner.invoke(app, ["score", str(source), "--output", "scored.parquet", "--model", "models:/tiny-stance@champion"])
    assert result.exit_code == 0, result.output
    scored = read_table(workdir / "scored.parquet")
    assert list(scored["id"]) == ["1", "2", "3"]  # CSV values come back exactly as written
    assert scored.loc[1, "stance"] == "" and scored.loc[1, "error"] == "empty text"
    assert scored.loc[0, "stance"] in {"support", "conditional", "rule_out", "none"}
    probs = scored.loc[[0, 2], ["p_support", "p_conditional", "p_rule_out", "p_none"]].sum(axis=1)
    assert ((probs - 1).abs() < 1e-6).all()


def test_the_gate_compares_the_champion_on_the_candidates_own_test_rows(tiny_config, workdir):
    assert runner.invoke(app, ["run", "--config", str(tiny_config)]).exit_code == 0
    # the same model again: the same predictions, so it wins no resample and stays out
    again = runner.invoke(app, ["run", "--config", str(tiny_config), "--force"])
    assert again.exit_code == 0, again.output
    client = MlflowClient()
    v2 = client.get_model_version("tiny-stance", "2")
    assert (v2.tags["gate_decision"], v2.tags["gate_win_probability"]) == ("not_promoted", "0.0000")
    assert "on the same" in v2.description and "paired resamples (needs 90%)" in v2.description

    # the gold test changes (rows dropped) and a much weaker model runs: the champion is
    # re-scored on the rows the candidate was scored on, not judged by its stored score
    test_path = Path(yaml.safe_load(tiny_config.read_text())["data"]["gold_test"])
    gold = pd.read_csv(test_path)
    gold.iloc[: len(gold) - 3].to_csv(test_path, index=False)
    current = pd.read_csv(test_path)
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
    v3 = client.get_model_version("tiny-stance", "3")
    assert int(v3.tags["gate_rows"]) == len(current) and v3.tags["gate_champion_version"] == "1"
    champion = mlflow.pyfunc.load_model("models:/tiny-stance/1").predict(current[["text"]])
    rescored = f1_score(current["label"], champion["stance"], labels=LABELS, average="macro", zero_division=0)
    assert float(v3.tags["gate_champion_score"]) == pytest.approx(rescored, abs=1e-6)
    promoted = v3.tags["gate_decision"] == "promoted"
    assert promoted == (float(v3.tags["gate_win_probability"]) >= 0.9)
    assert str(client.get_model_version_by_alias("tiny-stance", "champion").version) == ("3" if promoted else "1")


def test_same_config_same_metrics(tiny_config, workdir):
    first = runner.invoke(app, ["run", "--config", str(tiny_config)])
    second = runner.invoke(app, ["run", "--config", str(tiny_config), "--force"])  # retrain, not reuse
    assert first.exit_code == second.exit_code == 0
    client = MlflowClient()
    experiment = client.get_experiment_by_name("tiny")
    assert not any("skipped" in r.data.tags for r in client.search_runs([experiment.experiment_id]))
    parents = [r for r in client.search_runs([experiment.experiment_id]) if "mlflow.parentRunId" not in r.data.tags]
    keys = [k for k in parents[0].data.metrics if k.startswith(("test_", "labeler_"))]
    assert keys and all(parents[0].data.metrics[k] == parents[1].data.metrics[k] for k in keys)


def test_stages_run_alone_in_order(tiny_config, workdir):
    for stage in ("ingest", "label", "train", "evaluate"):
        result = runner.invoke(app, [stage, "--config", str(tiny_config)])
        assert result.exit_code == 0, (stage, result.output)
    assert (workdir / "processed" / "labeled.parquet").exists()
    assert str(MlflowClient().get_model_version_by_alias("tiny-stance", "champion").version) == "1"
