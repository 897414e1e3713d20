"""The learning-curve benchmark's sampling (bench/learning_curve.py measures the curves)."""

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from learning_curve import subsample  # noqa: E402


def rows() -> pd.DataFrame:
    labels = ["none"] * 60 + ["rule_out"] * 30 + ["support"] * 9 + ["conditional"]
    return pd.DataFrame({"text": [f"s{i}" for i in range(len(labels))], "label": labels})


def test_a_share_is_taken_per_label_and_keeps_every_label():
    sample = subsample(rows(), 0.1, seed=1)
    assert sample["label"].value_counts().to_dict() == {"none": 6, "rule_out": 3, "support": 1, "conditional": 1}


def test_the_sample_is_seeded_in_input_order_and_the_whole_set_is_untouched():
    assert subsample(rows(), 0.5, seed=3).equals(subsample(rows(), 0.5, seed=3))
    assert not subsample(rows(), 0.5, seed=3).equals(subsample(rows(), 0.5, seed=4))
    sample = subsample(rows(), 0.5, seed=3)
    assert list(sample["text"]) == sorted(sample["text"], key=lambda t: int(t[1:]))
    assert subsample(rows(), 1.0, seed=3) is not None and len(subsample(rows(), 1.0, seed=3)) == 100
