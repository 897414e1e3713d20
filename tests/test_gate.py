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
