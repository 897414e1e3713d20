"""Calibrated probabilities, the review band's thresholds, and both served by `stance score`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from pipeline.calibration import (
    Calibrator,
    ece,
    fit_calibrator,
    fit_isotonic,
    fit_temperature,
    held_out_ece,
    precision_thresholds,
)
from pipeline.classifiers.base import predictions_frame
from pipeline.cli import app
from pipeline.config import ConfigError, load_config
from pipeline.io import read_table

runner = CliRunner()
LABELS = ["support", "rule_out", "none"]


def overconfident(rows: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities that claim more than they deliver: right ~70% of the time at ~95% confidence."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, size=rows)
    predicted = np.where(rng.random(rows) < 0.7, truth, rng.integers(0, 3, size=rows))
    logits = rng.normal(0, 0.3, size=(rows, 3))
    logits[np.arange(rows), predicted] += 3.5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probs, truth


def test_temperature_scaling_cools_an_overconfident_model_and_keeps_every_argmax():
    probs, truth = overconfident()
    calibrator = fit_temperature(probs, truth)
    calibrated = calibrator.apply(probs)
    assert calibrator.temperature > 1.5
    assert (calibrated.argmax(axis=1) == probs.argmax(axis=1)).all()
    assert np.allclose(calibrated.sum(axis=1), 1.0)
    assert ece(calibrated, truth) < ece(probs, truth) / 3


def test_isotonic_lowers_the_error_and_rows_still_sum_to_one():
    probs, truth = overconfident(seed=1)
    calibrated = fit_isotonic(probs, truth).apply(probs)
    assert np.allclose(calibrated.sum(axis=1), 1.0)
    assert ece(calibrated, truth) < ece(probs, truth) / 3


def test_auto_takes_the_method_with_the_lower_held_out_error():
    probs, truth = overconfident(seed=2)
    fit = fit_calibrator(probs, truth, "auto", seed=0)
    assert set(fit.held_out_ece) == {"temperature", "isotonic"}
    assert fit.held_out_macro_f1["isotonic"] >= fit.held_out_macro_f1["uncalibrated"]  # both methods qualify here
    assert fit.calibrator.method == min(fit.held_out_ece, key=fit.held_out_ece.get)
    assert fit.held_out_ece["temperature"] == held_out_ece("temperature", probs, truth, 0)
    assert fit.ece_after < fit.ece_before
    assert fit_calibrator(probs, truth, "isotonic", seed=0).calibrator.method == "isotonic"


def test_auto_does_not_take_a_method_that_changes_decisions_for_the_worse(monkeypatch):
    """Isotonic regression per label can move the argmax: with a lower held-out ECE but worse
    held-out decisions than the uncalibrated model, ``auto`` keeps temperature scaling."""
    from pipeline import calibration

    probs, truth = overconfident(seed=2)
    monkeypatch.setattr(calibration, "held_out_ece", lambda method, *args: {"temperature": 0.05, "isotonic": 0.01}[method])
    real = calibration.held_out_macro_f1
    worse = {"isotonic": -0.01, "temperature": 0.0, None: 0.0}
    monkeypatch.setattr(calibration, "held_out_macro_f1", lambda method, *args: real(method, *args) + worse[method])
    fit = calibration.fit_calibrator(probs, truth, "auto", seed=0)
    assert fit.held_out_macro_f1["isotonic"] < fit.held_out_macro_f1["uncalibrated"]
    assert fit.calibrator.method == "temperature"
    monkeypatch.setattr(calibration, "held_out_macro_f1", real)  # decisions no worse: the lower error wins again
    assert calibration.fit_calibrator(probs, truth, "auto", seed=0).calibrator.method == (
        "isotonic" if real("isotonic", probs, truth, 0) >= real(None, probs, truth, 0) else "temperature"
    )


def test_a_calibrator_survives_its_json():
    probs, truth = overconfident(seed=3)
    for calibrator in (fit_temperature(probs, truth), fit_isotonic(probs, truth)):
        again = Calibrator.from_dict(calibrator.as_dict())
        assert np.allclose(again.apply(probs), calibrator.apply(probs))


def test_thresholds_are_the_lowest_scores_that_keep_the_target_precision():
    # support predictions, highest first: right, right, right, wrong, right, wrong
    probs = np.array(
        [
            [0.95, 0.03, 0.02],
            [0.9, 0.05, 0.05],
            [0.85, 0.1, 0.05],
            [0.8, 0.1, 0.1],
            [0.7, 0.2, 0.1],
            [0.6, 0.3, 0.1],
            [0.1, 0.2, 0.7],
            [0.1, 0.5, 0.4],
        ]
    )
    truth = np.array([0, 0, 0, 2, 0, 1, 2, 1])
    thresholds = precision_thresholds(probs, truth, LABELS, 0.75)
    assert thresholds["support"] == 0.7  # 3/4 at 0.8 and 4/5 at 0.7 keep 75%; 4/6 at 0.6 does not ...
    thresholds = precision_thresholds(probs, truth, LABELS, 0.8)
    assert thresholds["support"] == 0.85  # ... but at 80% the cut at 0.8 (3/4) breaks the run from the top
    assert thresholds["rule_out"] == 0.5 and thresholds["none"] == 0.7
    assert precision_thresholds(probs[[3]], truth[[3]], LABELS, 0.9)["support"] > 1.0  # never reached: always review


def test_the_review_column_accepts_a_label_only_above_its_threshold():
    probs = np.array([[0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    frame = predictions_frame(probs, LABELS, {"support": 0.7, "rule_out": 0.9, "none": 0.85})
    assert frame["review"].tolist() == ["accept", "review", "review"]
    assert "review" not in predictions_frame(probs, LABELS).columns


def test_config_refuses_a_review_band_without_calibration(tiny_config):
    with pytest.raises(ConfigError, match="target_precision .* needs train.calibration"):
        load_config(tiny_config, ["evaluate.target_precision=0.9"])


def test_a_calibrated_run_serves_calibrated_probabilities_and_the_review_band(tiny_config, workdir):
    settings = [
        "--set",
        "train.calibration.method=temperature",
        "--set",
        "train.calibration.folds=2",
        "--set",
        "evaluate.target_precision=0.6",
    ]
    result = runner.invoke(app, ["run", "--config", str(tiny_config), *settings])
    assert result.exit_code == 0, result.output
    client = MlflowClient()
    experiment = client.get_experiment_by_name("tiny").experiment_id
    [parent] = [r for r in client.search_runs([experiment]) if "mlflow.parentRunId" not in r.data.tags]
    metrics = parent.data.metrics  # the stages' metrics, train's and evaluate's
    for key in (
        "test_ece",
        "test_ece_uncalibrated",
        "test_review_share",
        "calibration_temperature",
        "review_threshold_support",
        "test_average_precision_none",
    ):
        assert key in metrics, key
    assert (workdir / "reports" / "tiny" / "latest" / "calibration_uncalibrated.png").exists()
    assert (workdir / "reports" / "tiny" / "latest" / "precision_recall.png").exists()

    source = workdir / "sentences.csv"
    pd.DataFrame({"text": ["Germany will not send troops to Ukraine.", "Rain fell.", ""]}).to_csv(source, index=False)
    scored = runner.invoke(
        app, ["score", str(source), "-o", "scored.csv", "--model", "models:/tiny-stance@champion", "--config", str(tiny_config)]
    )
    assert scored.exit_code == 0, scored.output
    frame = read_table(workdir / "scored.csv")
    assert set(frame["review"].iloc[:2]) <= {"accept", "review"} and frame["review"].iloc[2] == ""
    thresholds = {label: metrics[f"review_threshold_{label}"] for label in ["support", "conditional", "rule_out", "none"]}
    for row in frame.iloc[:2].itertuples():
        assert row.review == ("accept" if float(row.confidence) >= thresholds[row.stance] else "review")
    plain = runner.invoke(
        app, ["score", str(source), "-o", "plain.csv", "--model", "models:/tiny-stance@champion", "--review-band", "off"]
    )
    assert plain.exit_code == 0 and "review" not in read_table(workdir / "plain.csv").columns


def test_article_summaries_count_the_stances_the_band_accepted():
    from pipeline.scoring.articles import summarize_articles

    scored = pd.DataFrame(
        {
            "doc_id": ["a", "a", "a", "b"],
            "position": [0, 1, 2, 0],
            "char_start": [0, 10, 20, 0],
            "char_end": [9, 19, 29, 9],
            "text": ["s1", "s2", "s3", "s4"],
            "stance": ["rule_out", "rule_out", "none", "support"],
            "confidence": [0.9, 0.5, 0.9, 0.95],
            "p_support": [0.05, 0.2, 0.05, 0.95],
            "p_rule_out": [0.9, 0.5, 0.05, 0.03],
            "p_none": [0.05, 0.3, 0.9, 0.02],
            "review": ["accept", "review", "accept", "accept"],
            "error": "",
        }
    )
    summary = summarize_articles(scored, LABELS, "none", "text")
    assert summary[["n_rule_out", "n_accepted_rule_out", "n_accepted_support"]].values.tolist() == [[2, 1, 0], [0, 0, 1]]
    assert "review" not in summary.columns


def test_calibration_is_for_text_only_models():
    semeval = Path(__file__).resolve().parents[1] / "configs" / "semeval2016.yaml"  # per-target models
    with pytest.raises(ConfigError, match="train.calibration is for text-only models"):
        load_config(semeval, ["train.calibration.method=auto"])


def test_holdout_calibration_keeps_its_rows_out_of_training(tiny_config, workdir, monkeypatch):
    from pipeline import train as train_module

    fitted_on: list[int] = []
    original = train_module.fit_classifier

    def counting(config, rows, dev=None):
        fitted_on.append(len(rows))
        return original(config, rows, dev)

    monkeypatch.setattr(train_module, "fit_classifier", counting)
    config = load_config(
        tiny_config,
        ["train.calibration.method=temperature", "train.calibration.fit_on=holdout", "train.calibration.holdout_share=0.25"],
    )
    rows = pd.DataFrame(
        {
            "doc_id": "d",
            "text": [f"sentence {i} about troops" for i in range(40)],
            "label": (["support", "conditional", "rule_out", "none"] * 10),
            "label_source": "gold",
            "confidence": 1.0,
        }
    )
    result = train_module.fit_target_aware(config, rows)
    assert fitted_on == [30]  # one training, without the 10 held-out rows
    assert result.metrics["calibration_rows"] == 10 and result.metrics["calibration_holdout_rows"] == 10
    assert result.classifier.kind == "calibrated"
