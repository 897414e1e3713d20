"""`stance` against a real `mlflow server` (REST, proxied artifacts), an unreachable one,
and `stance ui` on a local store. Processes are started here and stopped by their ids."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from mlflow_server import background, free_port, quiet_env, run_stance, stance_command, tiny_project
from pipeline.cli import app

pytestmark = pytest.mark.slow
HEADLINE = ("test_macro_f1", "test_accuracy", "test_ece", "labeler_dev_macro_f1", "train_rows", "ingest_sentences")


def parents_and_children(client: MlflowClient, experiment: str):
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    runs = client.search_runs([experiment_id], order_by=["attributes.start_time ASC"])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return parents, children


def test_runs_metrics_artifacts_and_model_versions_reach_the_server(logged_server, tmp_path):
    for result in logged_server.runs:
        assert result.returncode == 0, result.stderr[-3000:]
    client = MlflowClient(tracking_uri=logged_server.server.url)
    parents, children = parents_and_children(client, "tiny")
    assert len(parents) == 2 and len(children) == 8
    baseline, weak = parents
    assert baseline.info.run_name == "tfidf_logreg-majority-weak+gold"
    assert weak.info.run_name == "tfidf_logreg(C=0.0001,class_weight=None)-majority-weak+gold"
    for parent in parents:
        assert all(name in parent.data.metrics for name in HEADLINE)
        assert parent.data.tags["git_commit"] and parent.data.tags["data.articles.digest"]
        stages = {c.data.tags["stage"] for c in children if c.data.tags["mlflow.parentRunId"] == parent.info.run_id}
        assert stages == {"ingest", "label", "train", "evaluate"}
    assert baseline.data.tags["config_hash"] != weak.data.tags["config_hash"]
    assert baseline.data.tags["data.articles.digest"] == weak.data.tags["data.articles.digest"]
    assert (baseline.data.params["train.tfidf_logreg.C"], weak.data.params["train.tfidf_logreg.C"]) == ("4.0", "0.0001")

    # artifacts went through the server's proxy into its artifact folder
    evaluate = next(
        c for c in children if c.data.tags["stage"] == "evaluate" and c.data.tags["mlflow.parentRunId"] == baseline.info.run_id
    )
    assert evaluate.info.artifact_uri.startswith("mlflow-artifacts:")
    listed = {Path(a.path).name for a in client.list_artifacts(evaluate.info.run_id, "evaluation")}
    assert {"confusion_matrix.png", "calibration.png", "metrics.json", "misclassified.csv"} <= listed
    png = Path(client.download_artifacts(evaluate.info.run_id, "evaluation/confusion_matrix.png", str(tmp_path)))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stored = list((logged_server.server.root / "artifacts").rglob("confusion_matrix.png"))
    assert len(stored) == 2 and png.read_bytes() in {path.read_bytes() for path in stored}

    # both evaluated models are registered; the alias sits on the better one (ties keep the first)
    v1, v2 = (client.get_model_version("tiny-stance", v) for v in ("1", "2"))
    assert {v1.run_id, v2.run_id} <= {c.info.run_id for c in children if c.data.tags["stage"] == "train"}
    champion = client.get_model_version_by_alias("tiny-stance", "champion")
    better = v2.version if float(v2.tags["test_macro_f1"]) > float(v1.tags["test_macro_f1"]) else v1.version
    assert str(champion.version) == str(better)
    assert float(v1.tags["test_macro_f1"]) == pytest.approx(baseline.data.metrics["test_macro_f1"], abs=1e-6)


def test_server_keeps_its_host_check_on(logged_server):
    request = urllib.request.Request(
        f"{logged_server.server.url}/api/2.0/mlflow/experiments/search?max_results=1", headers={"Host": "attacker.example"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403


@pytest.mark.parametrize("command", ["run", "ingest", "label", "train", "evaluate"])
def test_unreachable_server_fails_fast_in_one_line_and_writes_nothing(tmp_path, command):
    """Part of the fault matrix (tests/test_fault_matrix.py): the pipeline's commands."""
    config = tiny_project(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    closed = f"http://127.0.0.1:{free_port()}"  # bound once, then released: nothing listens there
    started = time.monotonic()
    result = run_stance(tmp_path, closed, command, "--config", str(config), timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: MLflow tracking server {closed} is not reachable")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert elapsed < 10, f"took {elapsed:.1f}s"
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("command", [["score", "in.csv", "-o", "out.csv"], ["models"], ["promote", "1"]])
def test_every_command_that_uses_the_store_fails_fast_on_an_unreachable_server(tmp_path, command):
    """Part of the fault matrix: the registry and scoring commands (`stance ui` with a server
    URI says to open the server instead: test_ui_with_a_server_uri_points_at_the_server)."""
    (tmp_path / "in.csv").write_text("text\nGermany will not send troops.\n")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    closed = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = run_stance(tmp_path, closed, *command, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: MLflow tracking server {closed} is not reachable"), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert time.monotonic() - started < 10
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_stance_ui_serves_the_configured_store_on_localhost(tmp_path):
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment_id = MlflowClient(tracking_uri=store).create_experiment("ui-check")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with background(stance_command("ui", "--port", str(port)), url, tmp_path / "ui.log", tmp_path, quiet_env(store)):
        with urllib.request.urlopen(
            f"{url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=ui-check", timeout=10
        ) as response:
            assert f'"experiment_id": "{experiment_id}"' in response.read().decode().replace('":"', '": "')
        with urllib.request.urlopen(url, timeout=10) as response:
            assert "<html" in response.read().decode().lower()
    assert f"MLflow UI for {store} at {url}" in (tmp_path / "ui.log").read_text()


def test_stance_ui_on_a_server_uri_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    result = CliRunner().invoke(app, ["ui"])
    assert result.exit_code == 2 and result.output.startswith("error: MLFLOW_TRACKING_URI=http://127.0.0.1:5999 is a")


def test_ui_with_a_server_uri_points_at_the_server(tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"
    result = run_stance(tmp_path, closed, "ui", timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: MLFLOW_TRACKING_URI={closed} is a tracking server: open it in a browser, no `stance ui` needed"
    )
