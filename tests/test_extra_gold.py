"""train.extra_gold: more gold sentences appended to the training rows without leaks or
double counting, with targets when the model is target-aware."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.train import add_extra_gold


def rows(texts, labels, targets=None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "doc_id": [f"d{i}" for i in range(len(texts))],
            "text": texts,
            "label": labels,
            "label_source": "weak",
            "confidence": 0.7,
        }
    )
    return frame if targets is None else frame.assign(target=targets)


def test_extra_gold_skips_test_sentences_and_repeats():
    train = rows(["Italy will not send troops."], ["rule_out"])
    test = pd.DataFrame({"text": ["France may send troops if asked."], "label": ["conditional"]})
    extra = {
        "a.csv": rows(
            ["france may send troops if asked.", "Italy  will not send troops.", "Spain is ready."],
            ["conditional", "rule_out", "support"],
        ),
        "b.csv": rows(["Spain is ready.", "It rained."], ["support", "none"]),
    }
    out = add_extra_gold(train, extra, test)
    assert list(out["text"]) == ["Italy will not send troops.", "Spain is ready.", "It rained."]
    assert list(out["label_source"]) == ["weak", "gold", "gold"] and list(out["confidence"]) == [0.7, 1.0, 1.0]
    assert "target" not in out.columns


def test_target_aware_extra_gold_keeps_targets_and_counts_a_text_once_per_target():
    train = rows(["so much hoax"], ["AGAINST"], ["Climate"])
    extra = {
        "more.csv": rows(
            ["so much hoax", "so much hoax", "I trust reason"], ["NONE", "FAVOR", "FAVOR"], ["Atheism", "Climate", "Atheism"]
        )
    }
    out = add_extra_gold(train, extra, None, target_aware=True)
    assert list(zip(out["text"], out["target"])) == [
        ("so much hoax", "Climate"),
        ("so much hoax", "Atheism"),
        ("I trust reason", "Atheism"),
    ]


def test_target_aware_extra_gold_without_targets_is_refused_by_file():
    train = rows(["so much hoax"], ["AGAINST"], ["Climate"])
    with pytest.raises(InputError, match=r"more.csv: no 'target' column; train.target_mode is target-aware"):
        add_extra_gold(train, {"more.csv": rows(["I trust reason"], ["FAVOR"])}, None, target_aware=True)
