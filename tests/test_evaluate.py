import numpy as np
import pandas as pd

from pipeline.classifiers.base import predictions_frame
from pipeline.evaluate import evaluate_predictions, expected_calibration_error, f_avg, mean_f1_interval, plot_confusion

LABELS = ["support", "rule_out", "none"]


def test_metrics_match_a_hand_count(tmp_path):
    gold = pd.DataFrame({"text": list("abcd"), "label": ["support", "rule_out", "none", "none"]})
    probs = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8], [0.2, 0.2, 0.6]])
    evaluation = evaluate_predictions(gold, predictions_frame(probs, LABELS), LABELS)
    m = evaluation.metrics
    assert m["test_accuracy"] == 0.75
    assert m["test_f1_none"] == 1.0 and m["test_f1_rule_out"] == 0.0
    assert abs(m["test_f1_support"] - 2 / 3) < 1e-9
    assert abs(m["test_macro_f1"] - (1 + 0 + 2 / 3) / 3) < 1e-9
    assert evaluation.confusion[1, 0] == 1  # the rule_out sentence predicted support
    assert list(evaluation.misclassified["text"]) == ["b"]
    assert plot_confusion(evaluation.confusion, LABELS, tmp_path / "cm.png", "t").stat().st_size > 1000


def test_ece_is_zero_for_perfectly_calibrated_bins():
    ece, table = expected_calibration_error(np.array([0.75] * 4), np.array([1, 1, 1, 0]), 10)
    assert ece == 0.0 and table["count"].sum() == 4


def test_f1_interval_brackets_the_score_and_narrows_with_more_rows():
    rng = np.random.default_rng(1)
    labels = np.array(["FAVOR", "AGAINST", "NONE"])
    truth = labels[rng.integers(0, 3, 4000)]
    pred = np.where(rng.random(4000) < 0.7, truth, labels[rng.integers(0, 3, 4000)])
    averaged = ["FAVOR", "AGAINST"]
    small, large = mean_f1_interval(truth[:400], pred[:400], averaged), mean_f1_interval(truth, pred, averaged)
    assert small[0] < f_avg(truth[:400], pred[:400], averaged) < small[1]
    assert large[0] < f_avg(truth, pred, averaged) < large[1]
    assert large[1] - large[0] < 0.6 * (small[1] - small[0])  # width ~ 1/sqrt(rows)
    assert mean_f1_interval(truth, pred, averaged, seed=3) == mean_f1_interval(truth, pred, averaged, seed=3)
    assert mean_f1_interval(truth, truth, averaged) == (1.0, 1.0)


def test_evaluation_logs_the_macro_f1_interval_when_asked():
    gold = pd.DataFrame({"label": ["a", "b", "c", "a"] * 50})
    stance = ["a", "b", "b", "a"] * 50
    predicted = predictions_frame(np.eye(3)[[["a", "b", "c"].index(s) for s in stance]], ["a", "b", "c"])
    plain = evaluate_predictions(gold, predicted, ["a", "b", "c"]).metrics
    assert not any(k.endswith("_ci_low") for k in plain)
    metrics = evaluate_predictions(gold, predicted, ["a", "b", "c"], resamples=500, f_avg_labels=["a", "b"]).metrics
    assert metrics["test_macro_f1_ci_low"] < metrics["test_macro_f1"] < metrics["test_macro_f1_ci_high"]
    assert metrics["test_f_avg_ci_low"] < metrics["test_f_avg"] < metrics["test_f_avg_ci_high"]


def test_stance_detection_recall_and_precision_treat_every_stance_as_one_class():
    gold = pd.DataFrame({"text": list("abcde"), "label": ["support", "rule_out", "rule_out", "none", "none"]})
    # a: support -> rule_out (a stance found, wrong one), b: found, c: missed, d: false alarm, e: right
    probs = np.array([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    m = evaluate_predictions(gold, predictions_frame(probs, LABELS), LABELS, "real", none_label="none").metrics
    assert m["real_stance_recall"] == 2 / 3
    assert m["real_stance_precision"] == 2 / 3
    assert "test_stance_recall" not in evaluate_predictions(gold, predictions_frame(probs, LABELS), LABELS).metrics
