"""`stance models`, `stance promote` and the automatic champion gate, on a real sqlite store.

One `stance run` of the tiny corpus builds a store once per module; each test works on its
own copy of that store, so promotions in one test never leak into another.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from corpus import write_config, write_corpus
from pipeline import tracking
from pipeline.gate import GateDecision, PairedComparison
from pipeline.cli import app

runner = CliRunner()
MODEL = "tiny-stance"


@pytest.fixture(scope="module")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store holding version 1 of tiny-stance (champion) from one `stance run`; returns
    the sqlite file and the logged model's URI."""
    root = tmp_path_factory.mktemp("registry")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        config = write_config(root, write_corpus(root / "corpus"))
        result = runner.invoke(app, ["run", "--config", str(config)])
        assert result.exit_code == 0, result.output
    model_uri = json.loads((root / "models" / "tiny" / "train.json").read_text())["model_uri"]
    return root / "mlflow.db", model_uri


@pytest.fixture
def store(built_store: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """This test's own copy of the built store; returns the model URI of version 1."""
    database, model_uri = built_store
    shutil.copy(database, tmp_path / "mlflow.db")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    tracking.use_experiment("tiny")
    return model_uri


def gate(model_uri: str, macro_f1: float) -> GateDecision:
    """Register ``model_uri`` again as if it had scored ``macro_f1`` on gold test."""
    with tracking.run("gate-check"):
        return tracking.register_and_gate(
            model_uri,
            MODEL,
            "champion",
            "test_macro_f1",
            {"test_macro_f1": macro_f1, "test_accuracy": macro_f1},
            "run-under-test",
        )


def champion() -> str:
    return str(MlflowClient().get_model_version_by_alias(MODEL, "champion").version)


def test_gate_moves_champion_only_when_the_new_version_is_better(store):
    first = float(MlflowClient().get_model_version(MODEL, "1").tags["test_macro_f1"])
    worse = gate(store, first - 0.25)
    assert (worse.version, worse.promoted, champion()) == ("2", False, "1")
    assert "does not beat champion version 1" in MlflowClient().get_model_version(MODEL, "2").description
    tie = gate(store, first)
    assert not tie.promoted and champion() == "1"
    better = gate(store, first + 0.5)
    assert better.promoted and champion() == "4" and better.champion_version == "1"
    assert MlflowClient().get_model_version(MODEL, "4").tags["gate_decision"] == "promoted"


def test_models_lists_versions_with_metrics_gate_and_aliases(store):
    gate(store, 0.125)
    result = runner.invoke(app, ["models", "--name", MODEL])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if line.split() and line.split()[0].isdigit()]
    assert [row[0] for row in rows] == ["2", "1"]  # newest first
    first = MlflowClient().get_model_version(MODEL, "1").tags["test_macro_f1"]
    assert rows[0][1:4] == ["0.1250", "0.1250", "not_promoted"]
    assert rows[1][1:3] == ["champion", f"{float(first):.4f}"] and rows[1][4] == "promoted"
    assert "  2: version 2 does not beat champion version 1 on test_macro_f1" in result.output


def test_promote_moves_champion_by_hand_and_records_it(store):
    gate(store, 0.125)
    result = runner.invoke(app, ["promote", "2", "--name", MODEL])
    assert result.exit_code == 0, result.output
    assert f"{MODEL}@champion -> version 2 (was version 1)" in result.output
    assert champion() == "2"
    version = MlflowClient().get_model_version(MODEL, "2")
    assert version.tags["gate_decision"] == "promoted_by_hand"
    assert "replacing version 1" in version.tags["promoted_by_hand"]
    assert "does not beat" in version.description and "champion by hand" in version.description
    # the automatic gate now measures a new version against the hand-picked champion
    assert gate(store, 0.25).promoted and champion() == "3"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["promote", "99", "--name", MODEL], f"{MODEL} version 99:"),
        (["promote", "1", "--name", "no-such-model"], "no-such-model version 1:"),
        (["models", "--name", "no-such-model"], "registered model 'no-such-model' has no versions"),
    ],
)
def test_unknown_version_or_model_is_one_line_exit_2_and_changes_nothing(store, args, expected):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {expected}") and result.output.count("\n") == 1, result.output
    assert "Traceback" not in result.output
    assert champion() == "1"


def test_models_shows_the_gates_win_probability(store):
    with tracking.run("gate-check"):
        tracking.register_and_gate(
            store,
            MODEL,
            "champion",
            "test_macro_f1",
            {"test_macro_f1": 0.5, "test_accuracy": 0.5},
            "run-under-test",
            compare=lambda uri: PairedComparison(0.5, 0.4, 0.8125, 20, 1000),
        )
    result = runner.invoke(app, ["models", "--name", MODEL])
    row = next(line.split() for line in result.output.splitlines() if line.split()[:1] == ["2"])
    assert row[1:5] == ["0.5000", "0.5000", "not_promoted", "0.8125"]  # version 2 holds no alias
    assert "higher in 81.2% of 1000 paired resamples (needs 90%)" in result.output
