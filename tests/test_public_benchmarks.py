"""The benchmark configs end to end: a small SemEval-format dataset through `stance run`
and `stance score`, and (marked integration) the real SemEval-2016 and RUW files."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from conftest import REPO, shared_data
from pipeline.cli import app
from pipeline.config import load_config
from pipeline.datasets import load_dataset
from pipeline.io import read_table
from pipeline.tracking import tracking_uri
from public_fixtures import semeval_dataset_section, write_dataset_config, write_semeval_files

runner = CliRunner()
LABELS = ["FAVOR", "AGAINST", "NONE"]


@pytest.fixture
def tiny_public(workdir):
    files = write_semeval_files(workdir / "semeval")
    return write_dataset_config(workdir, semeval_dataset_section(files, dev_fraction=0.2))


def parent_runs(experiment: str):
    client = MlflowClient(tracking_uri=tracking_uri())  # this test's store, not the last one MLflow used
    found = client.get_experiment_by_name(experiment)
    runs = client.search_runs([found.experiment_id]) if found else []
    return [r for r in runs if "mlflow.parentRunId" not in r.data.tags]


def test_dataset_config_runs_scores_by_target_and_gates_the_joint_model_on_f_avg(tiny_public, workdir):
    result = runner.invoke(app, ["run", "--config", str(tiny_public)])
    assert result.exit_code == 0, result.output
    (parent,) = parent_runs("tiny-public")
    metrics = parent.data.metrics
    assert metrics["ingest_rows_test"] == 12 and metrics["train_targets"] == 2
    assert metrics["train_rows"] == metrics["label_gold_train_rows"] + metrics["label_gold_dev_rows"]
    assert 0.0 <= metrics["test_f_avg"] <= 1.0 and "test_f_avg_targets_mean" in metrics
    assert parent.info.run_name == "tfidf_logreg-per_target-train+dev"
    version = MlflowClient().get_model_version_by_alias("tiny-public-stance", "champion")
    assert "test_f_avg" in version.description
    assert set(read_table(workdir / "reports" / "tiny-public" / "latest" / "test_predictions.csv")["target"]) == {
        "Atheism",
        "Climate Change is a Real Concern",
    }

    source = workdir / "tweets.csv"
    pd.DataFrame(
        {
            "id": [1, 2, 3],
            "target": ["Atheism", "climate change is a real concern", "Atheism"],
            "text": ["I trust reason", "so much hoax", ""],
        }
    ).to_csv(source, index=False)
    model = "models:/tiny-public-stance@champion"
    result = runner.invoke(app, ["score", str(source), "--output", "scored.csv", "--model", model])
    assert result.exit_code == 0, result.output
    scored = read_table(workdir / "scored.csv")
    assert list(scored["id"]) == ["1", "2", "3"] and scored.loc[2, "error"] == "empty text"
    assert list(scored.loc[:1, "stance"]) == ["FAVOR", "AGAINST"]
    probs = scored.loc[:1, [f"p_{label}" for label in LABELS]].astype(float).sum(axis=1)
    assert ((probs - 1).abs() < 1e-6).all()

    source.write_text("id,text\n1,I trust reason\n", encoding="utf-8")
    result = runner.invoke(app, ["score", str(source), "--output", "untargeted.csv", "--model", model])
    assert result.exit_code == 2 and "no 'target' column; this model is target-aware" in result.output
    assert "Traceback" not in result.output and not (workdir / "untargeted.csv").exists()

    result = runner.invoke(app, ["run", "--config", str(tiny_public), "--set", "train.target_mode=joint"])
    assert result.exit_code == 0, result.output
    assert "on test_f_avg" in MlflowClient().get_model_version("tiny-public-stance", "2").description
    names = sorted(run.info.run_name for run in parent_runs("tiny-public"))
    assert names == ["tfidf_logreg-joint-train+dev", "tfidf_logreg-per_target-train+dev"]
    names = sorted(run.info.run_name for run in parent_runs("tiny-public"))
    assert names == ["tfidf_logreg-joint-train+dev", "tfidf_logreg-per_target-train+dev"]


def test_bad_dataset_row_fails_in_one_line_before_any_run(tiny_public, workdir):
    train = workdir / "semeval" / "train.txt"
    train.write_bytes(train.read_bytes().replace(b"\tNONE\t", b"\tNEUTRAL\t", 1))
    result = runner.invoke(app, ["run", "--config", str(tiny_public)])
    assert result.exit_code == 2
    assert "train.txt row" in result.output and "column 'Stance': label 'NEUTRAL'" in result.output
    assert "Traceback" not in result.output
    assert not (workdir / "mlflow.db").exists() and not (workdir / "interim").exists()


def test_extra_gold_without_targets_fails_in_one_line_before_any_run(tiny_public, workdir):
    extra = workdir / "extra.csv"
    extra.write_text("doc_id,text,label\nx,I trust reason,FAVOR\n")
    result = runner.invoke(app, ["run", "--config", str(tiny_public), "--set", f"train.extra_gold=[{extra}]"])
    assert result.exit_code == 2
    assert "extra.csv: no 'target' column; train.target_mode is target-aware" in result.output
    assert "Traceback" not in result.output
    assert not (workdir / "mlflow.db").exists() and not (workdir / "interim").exists()


def test_label_functions_with_a_dataset_is_a_config_error(tiny_public):
    result = runner.invoke(app, ["run", "--config", str(tiny_public), "--set", "label.functions=deployment"])
    assert result.exit_code == 2 and "set label.functions to null" in result.output


needs_shared = pytest.mark.skipif(
    not (shared_data() / "semeval2016").is_dir() or not (shared_data() / "ruw").is_dir(),
    reason=f"shared data not found at {shared_data()} (set STANCE_SHARED_DATA)",
)


@pytest.fixture
def shared_env(monkeypatch):
    monkeypatch.setenv("STANCE_SHARED_DATA", str(shared_data()))


@pytest.mark.integration
@needs_shared
def test_semeval_files_load_whole_and_the_majority_baseline_matches_the_paper(shared_env):
    import sys

    sys.path.insert(0, str(REPO / "bench"))
    from public import majority_per_target

    config = load_config(REPO / "configs" / "semeval2016.yaml")
    examples = load_dataset(config)
    counts = examples["split"].value_counts()
    assert counts["train"] + counts["dev"] == 2814 + 100 and counts["test"] == 1249
    assert examples["target"].nunique() == 5 and not examples["text"].str.contains("SemST").any()
    metrics = majority_per_target(config, examples, "test")
    # Mohammad et al. (2016), Table 6: majority class F_favor 52.01, F_against 78.44, F_avg 65.22
    assert round(100 * metrics["test_f1_FAVOR"], 2) == 52.01
    assert round(100 * metrics["test_f1_AGAINST"], 2) == 78.44
    assert round(100 * metrics["test_f_avg"], 2) == 65.22


@pytest.mark.integration
@needs_shared
def test_ruw_files_give_two_examples_per_tweet_in_their_own_splits(shared_env):
    examples = load_dataset(load_config(REPO / "configs" / "ruw.yaml"))
    assert examples["split"].value_counts().to_dict() == {"train": 8400, "test": 2400, "dev": 1200}
    assert set(examples["target"]) == {"Russia", "Ukraine"}
    assert (examples.groupby("doc_id")["target"].nunique() == 2).all()


@pytest.mark.slow
@pytest.mark.integration
@needs_shared
def test_semeval_config_runs_end_to_end_and_beats_the_majority_baseline(shared_env, workdir):
    result = runner.invoke(app, ["run", "--config", str(REPO / "configs" / "semeval2016.yaml")])
    assert result.exit_code == 0, result.output
    (parent,) = parent_runs("semeval2016-stance")
    assert parent.data.metrics["test_rows"] == 1249
    assert parent.data.metrics["test_f_avg"] > 0.6522  # the published majority-class F_avg
    assert str(MlflowClient().get_model_version_by_alias("semeval2016-stance", "champion").version) == "1"


def test_cross_validation_folds_partition_whole_texts_and_leave_test_out():
    import sys

    sys.path.insert(0, str(REPO / "bench"))
    from public import cross_validation_folds

    docs = [f"t{i}" for i in range(20)]
    examples = pd.DataFrame(
        {
            "doc_id": [d for d in docs for _ in range(2)],  # two targets per text, as in RUW
            "target": ["A", "B"] * 20,
            "gold_label": ["FAVOR", "AGAINST", "NONE", "AGAINST"] * 10,
            "split": ["test"] * 8 + ["dev"] * 6 + ["train"] * 26,
        }
    )
    folds = cross_validation_folds(examples, folds=4, seed=3)
    assert len(folds) == 4
    held = [set(fold.loc[fold["split"] == "dev", "doc_id"]) for fold in folds]
    pool = set(examples.loc[examples["split"] != "test", "doc_id"])
    assert set().union(*held) == pool and sum(map(len, held)) == len(pool)  # each text held out once
    for fold in folds:
        assert not fold["doc_id"].isin(set(docs[:4])).any()  # test texts never appear
        assert (fold.groupby("doc_id")["split"].nunique() == 1).all()  # a text's rows stay together
