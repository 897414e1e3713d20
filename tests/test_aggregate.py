import numpy as np

from pipeline.labeling.aggregate import dawid_skene, majority_vote
from pipeline.labeling.analysis import function_report

A = -1


def test_majority_vote_shares_and_priority_tie_break():
    votes = np.array([[0, 0, 1], [0, 1, A], [A, A, A]])
    probs = majority_vote(votes, 3, priority=[1, 0, 2])
    assert probs[0].argmax() == 0 and abs(probs[0, 0] - 2 / 3) < 1e-4
    assert probs[1].argmax() == 1  # tie: label 1 comes first in the priority order
    assert np.isnan(probs[2]).all()  # no vote, no label


def test_dawid_skene_downweights_a_noisy_function():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, size=600)
    good = np.where(rng.random(600) < 0.9, truth, 1 - truth)
    also_good = np.where(rng.random(600) < 0.85, truth, 1 - truth)
    noisy_a = np.where(rng.random(600) < 0.5, truth, 1 - truth)
    noisy_b = np.where(rng.random(600) < 0.5, truth, 1 - truth)
    votes = np.column_stack([good, also_good, noisy_a, noisy_b])
    majority = majority_vote(votes, 2, [0, 1]).argmax(axis=1)
    model = dawid_skene(votes, 2, [0, 1]).argmax(axis=1)
    assert (model == truth).mean() > (majority == truth).mean() + 0.03


def test_dawid_skene_is_deterministic_and_keeps_uncovered_rows_empty():
    votes = np.array([[0, A], [1, 1], [A, A], [0, 0]])
    first, second = dawid_skene(votes, 2, [0, 1]), dawid_skene(votes, 2, [0, 1])
    assert np.array_equal(np.isnan(first), np.isnan(second))
    assert np.allclose(np.nan_to_num(first), np.nan_to_num(second))
    assert np.isnan(first[2]).all() and not np.isnan(first[[0, 1, 3]]).any()


def test_function_report_counts_coverage_conflicts_and_accuracy():
    votes = np.array([[0, 1], [0, A], [A, 1], [A, A]])
    report = function_report(votes, ["f", "g"], ["x", "y"], ["x", "y"], gold=np.array([0, 1, 1, 0]))
    f = report.set_index("function").loc["f"]
    assert f.coverage == 0.5 and f.conflicts == 0.25 and f.overlaps == 0.25
    assert f.accuracy == 0.5
    assert report.set_index("function").loc["g", "accuracy"] == 0.5
