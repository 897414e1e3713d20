"""`stance run` skips a stage whose inputs, settings and code are unchanged, and only then."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from pipeline import stage_cache
from pipeline.cli import app
from pipeline.config import load_config

runner = CliRunner()
STAGES = ["ingest", "label", "train", "evaluate"]


def run(config: Path, *args: str) -> None:
    result = runner.invoke(app, ["run", "--config", str(config), *args])
    assert result.exit_code == 0, result.output


def latest_children() -> dict[str, object]:
    """The stage runs of the newest parent run, by stage."""
    client = MlflowClient()
    experiment = client.get_experiment_by_name("tiny")
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    return {r.data.tags["stage"]: r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id} | {
        "parent": parent
    }


def skipped(children: dict) -> list[str]:
    return [stage for stage in STAGES if children[stage].data.tags.get("skipped") == "true"]


def test_unchanged_rerun_skips_every_stage_and_keeps_the_metrics_and_artifacts(tiny_config, workdir):
    run(tiny_config)
    first = latest_children()
    run(tiny_config)
    second = latest_children()
    assert skipped(first) == [] and skipped(second) == STAGES
    for stage in STAGES:
        assert second[stage].data.tags["reused_run_id"] == first[stage].info.run_id
        assert second[stage].data.metrics == first[stage].data.metrics
    assert second["parent"].data.metrics == pytest.approx(first["parent"].data.metrics)
    assert second["train"].data.tags["model_uri"] == first["evaluate"].data.tags["model_uri"]
    artifacts = {Path(a.path).name for a in MlflowClient().list_artifacts(second["evaluate"].info.run_id, "evaluation")}
    assert {"confusion_matrix.png", "classification_report.csv", "metrics.json"} <= artifacts
    # the same model was not registered again
    assert [str(v.version) for v in MlflowClient().search_model_versions("name='tiny-stance'")] == ["1"]


def test_a_train_setting_reruns_train_and_evaluate_only(tiny_config, workdir):
    run(tiny_config)
    run(tiny_config, "--set", "train.tfidf_logreg.C=0.5")
    assert skipped(latest_children()) == ["ingest", "label"]
    # and going back to the first settings retrains (the stamp holds the last run only)
    run(tiny_config)
    assert skipped(latest_children()) == ["ingest", "label"]


def test_changed_input_data_reruns_from_the_stage_that_reads_it(tiny_config, workdir):
    run(tiny_config)
    article = next((workdir / "corpus" / "articles").glob("*.txt"))
    article.write_text(article.read_text(encoding="utf-8") + "\nItaly will never send troops to Ukraine.\n", encoding="utf-8")
    run(tiny_config)
    assert skipped(latest_children()) == []
    assert latest_children()["parent"].data.metrics["ingest_sentences"] == 21


def test_an_output_changed_by_hand_reruns_the_stage_that_wrote_it(tiny_config, workdir):
    run(tiny_config)
    labeled = workdir / "processed" / "labeled.parquet"
    written = labeled.read_bytes()
    labeled.write_bytes(b"not what the label stage wrote")
    run(tiny_config)
    assert skipped(latest_children())[0] == "ingest" and "label" not in skipped(latest_children())
    assert labeled.read_bytes() != b"not what the label stage wrote" and len(labeled.read_bytes()) == len(written)


def test_a_stage_whose_input_changed_reruns(tiny_config, workdir):
    run(tiny_config)
    (workdir / "processed" / "lf_report.csv").write_text("edited", encoding="utf-8")
    config = load_config(tiny_config)
    # train reads the label stage's files: its fingerprint moved, so its stamp no longer matches
    assert stage_cache.reusable(config, "train", stage_cache.fingerprint(config, "train", stage_cache.code_digest())) is None


def test_force_reruns_everything(tiny_config, workdir):
    run(tiny_config)
    run(tiny_config, "--force")
    assert skipped(latest_children()) == []


def test_a_new_tracking_store_reruns_everything(tiny_config, workdir, monkeypatch):
    run(tiny_config)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{workdir / 'other.db'}")
    run(tiny_config)
    assert skipped(latest_children()) == []
    assert str(MlflowClient().get_model_version_by_alias("tiny-stance", "champion").version) == "1"


def test_a_stage_run_alone_stamps_its_result_for_the_next_pipeline_run(tiny_config, workdir):
    run(tiny_config)
    result = runner.invoke(app, ["train", "--config", str(tiny_config), "--set", "train.tfidf_logreg.C=0.5"])
    assert result.exit_code == 0, result.output
    run(tiny_config, "--set", "train.tfidf_logreg.C=0.5")
    # train matches the lone run's stamp; evaluate saw another model last time
    assert skipped(latest_children()) == ["ingest", "label", "train"]


def test_fingerprint_follows_only_the_settings_a_stage_reads(tiny_config, workdir):
    base = load_config(tiny_config)
    other_model = load_config(tiny_config, ["train.tfidf_logreg.C=0.5"])
    other_labeler = load_config(tiny_config, ["label.aggregator=label_model"])
    prints = {
        name: {stage: stage_cache.fingerprint(cfg, stage, "code") for stage in STAGES}
        for name, cfg in (("base", base), ("model", other_model), ("labeler", other_labeler))
    }
    assert prints["model"]["ingest"] == prints["base"]["ingest"] and prints["model"]["label"] == prints["base"]["label"]
    assert prints["model"]["train"] != prints["base"]["train"]
    assert prints["labeler"]["label"] != prints["base"]["label"] and prints["labeler"]["train"] == prints["base"]["train"]
    assert stage_cache.fingerprint(base, "train", "other code") != prints["base"]["train"]


def test_an_unreadable_stamp_means_rerun(tiny_config, workdir):
    run(tiny_config)
    (workdir / "models" / "tiny" / "stages" / "label.json").write_text("{not json", encoding="utf-8")
    run(tiny_config)
    assert skipped(latest_children())[0] == "ingest" and "label" not in skipped(latest_children())
