"""The champion gate's policy as a pure function (no store): pipeline/gate.py."""

from pipeline.gate import decide, should_promote


def test_no_champion_promotes_and_says_so():
    decision = decide("m", "1", "champion", "test_macro_f1", 0.5, None, None)
    assert decision.promoted
    assert decision.reason == "no champion yet: version 1 becomes champion (test_macro_f1=0.5000)"


def test_only_a_strictly_better_candidate_is_promoted():
    assert should_promote(0.81, 0.80) and not should_promote(0.80, 0.80) and not should_promote(0.79, 0.80)
    tie = decide("m", "4", "champion", "test_macro_f1", 0.8, "3", 0.8)
    assert not tie.promoted
    assert tie.reason == "version 4 does not beat champion version 3 on test_macro_f1: 0.8000 vs 0.8000"
    better = decide("m", "5", "champion", "test_f_avg", 0.9, "3", 0.8)
    assert better.promoted and better.reason == "version 5 beats champion version 3 on test_f_avg: 0.9000 vs 0.8000"


def test_a_champion_without_the_gate_metric_loses_to_any_score():
    assert should_promote(0.01, float("-inf"))


# -- the paired bootstrap -------------------------------------------------------------------
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402

from pipeline.gate import GatePolicy, metric_scores, paired_comparison, paired_metric  # noqa: E402

LABELS = ["support", "conditional", "rule_out", "none"]


def predictions(seed: int, rows: int = 240, accuracy: float = 0.8) -> tuple[list[str], list[str]]:
    """Gold labels and predictions that are right on about ``accuracy`` of the rows."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(LABELS, size=rows)
    wrong = rng.random(rows) > accuracy
    predicted = np.where(wrong, rng.choice(LABELS, size=rows), truth)
    return truth.tolist(), predicted.tolist()


def test_the_bootstraps_full_set_scores_are_the_logged_metrics():
    truth, predicted = predictions(1)
    macro = metric_scores("macro_f1", LABELS, [])
    accuracy = metric_scores("accuracy", LABELS, [])
    everything = np.arange(len(truth))[None, :]
    assert macro(truth, predicted, everything)[0] == pytest.approx(
        f1_score(truth, predicted, labels=LABELS, average="macro", zero_division=0)
    )
    assert accuracy(truth, predicted, everything)[0] == pytest.approx(accuracy_score(truth, predicted))
    f_avg = metric_scores("f_avg", LABELS, ["support", "rule_out"])
    assert f_avg(truth, predicted, everything)[0] == pytest.approx(
        np.mean(f1_score(truth, predicted, labels=["support", "rule_out"], average=None, zero_division=0))
    )


def test_an_identical_candidate_never_wins_and_is_not_promoted():
    truth, predicted = predictions(2)
    paired = paired_comparison(truth, predicted, predicted, metric_scores("macro_f1", LABELS, []), 500, seed=0)
    assert paired.win_probability == 0.0 and paired.candidate_score == paired.champion_score
    decision = decide("m", "2", "champion", "test_macro_f1", paired.candidate_score, "1", 0.7, paired)
    assert not decision.promoted and "higher in 0.0% of 500 paired resamples (needs 90%)" in decision.reason


def test_a_clearly_better_candidate_wins_almost_every_resample():
    truth, weak = predictions(3, accuracy=0.6)
    strong = [t if i % 10 else p for i, (t, p) in enumerate(zip(truth, weak))]  # weak's errors on 1 row in 10 only
    paired = paired_comparison(truth, strong, weak, metric_scores("macro_f1", LABELS, []), 500, seed=0)
    assert paired.win_probability > 0.99
    decision = decide("m", "2", "champion", "test_macro_f1", paired.candidate_score, "1", 0.1, paired)
    assert decision.promoted and decision.champion_score == paired.champion_score  # re-scored, not the stored 0.1
    assert decision.win_probability == paired.win_probability


def test_a_higher_point_estimate_from_a_few_rows_is_not_enough():
    truth, champion = predictions(4)
    candidate = list(champion)
    fixed = [i for i, (t, p) in enumerate(zip(truth, champion)) if t != p][:2]
    broken = [i for i, (t, p) in enumerate(zip(truth, champion)) if t == p][:1]
    for i in fixed:
        candidate[i] = truth[i]
    candidate[broken[0]] = next(label for label in LABELS if label != truth[broken[0]])
    paired = paired_comparison(truth, candidate, champion, metric_scores("macro_f1", LABELS, []), 1000, seed=0)
    assert paired.candidate_score > paired.champion_score  # the old gate would have promoted it
    assert 0.3 < paired.win_probability < 0.9
    assert not decide("m", "2", "champion", "test_macro_f1", paired.candidate_score, "1", 0.0, paired).promoted
    margin = GatePolicy(min_margin=paired.candidate_score - paired.champion_score)
    assert decide("m", "2", "champion", "test_macro_f1", paired.candidate_score, "1", 0.0, paired, margin).promoted


def test_resamples_are_fixed_by_the_seed():
    truth, champion = predictions(5)
    _, candidate = predictions(6)
    scores = metric_scores("macro_f1", LABELS, [])
    first = paired_comparison(truth, candidate, champion, scores, 300, seed=11)
    assert first == paired_comparison(truth, candidate, champion, scores, 300, seed=11)


def test_which_gate_metrics_the_bootstrap_recomputes():
    sets = ["test", "challenge", "real_test"]
    assert paired_metric("test_macro_f1", sets) == ("test", "macro_f1")
    assert paired_metric("real_test_macro_f1", sets) == ("real_test", "macro_f1")
    assert paired_metric("test_f_avg", sets) == ("test", "f_avg")
    assert paired_metric("test_f1_support", sets) is None and paired_metric("other_macro_f1", sets) is None


def test_the_registry_adapter_and_the_decision_share_one_rule():
    """pipeline/tracking.py tags a version with `promotes_candidate` before the version exists;
    `decide` must agree with it in every case."""
    from pipeline.gate import PairedComparison, promotes_candidate

    policy = GatePolicy(min_win_probability=0.9, min_margin=0.05)
    cases = [
        (0.5, None, None, None),
        (0.8, "3", 0.8, None),
        (0.9, "3", 0.8, None),
        (0.1, "3", float("-inf"), None),
        (0.8, "3", 0.9, PairedComparison(0.82, 0.80, 0.95, 200, 1000)),
        (0.8, "3", 0.7, PairedComparison(0.82, 0.80, 0.60, 200, 1000)),
        (0.8, "3", 0.7, PairedComparison(0.90, 0.80, 0.60, 200, 1000)),
    ]
    expected = [True, False, True, True, True, False, True]
    for (new, version, score, paired), promoted in zip(cases, expected):
        assert promotes_candidate(new, version, score, paired, policy) is promoted
        assert decide("m", "4", "champion", "test_macro_f1", new, version, score, paired, policy).promoted is promoted
