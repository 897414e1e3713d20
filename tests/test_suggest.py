"""The labeling loop: suggest -> fill in -> label --gold merges as gold."""

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.io import read_table
from pipeline.labeling.suggest import rank_for_labeling

runner = CliRunner()
LABELS = ["support", "rule_out", "none"]


def test_conflicts_rank_before_doubt():
    labeled = pd.DataFrame({
        "sentence_id": ["a", "b", "c"], "doc_id": "d", "char_start": 0, "char_end": 1, "text": ["x", "y", "z"],
        "label": ["none", "support", "none"], "confidence": [0.5, 1.0, 1.0],
        "p_support": [0.4, 1.0, 0.0], "p_rule_out": [0.1, 0.0, 0.0], "p_none": [0.5, 0.0, 1.0],
    })
    votes = np.array([[2, -1], [0, 1], [2, 2]])  # b: two functions disagree
    ranked = rank_for_labeling(labeled, votes, ["f", "g"], LABELS, n=3)
    assert list(ranked["sentence_id"]) == ["b", "a", "c"]
    assert ranked.loc[0, "reason"] == "functions disagree" and ranked.loc[0, "votes"] == "f=support; g=rule_out"
    assert (ranked["label"] == "").all()


def test_suggest_then_merge_round_trip(tiny_config, workdir):
    assert runner.invoke(app, ["run", "--config", str(tiny_config)]).exit_code == 0
    result = runner.invoke(app, ["suggest", "--config", str(tiny_config), "--n", "5", "--output", "to_label.csv"])
    assert result.exit_code == 0, result.output
    suggested = read_table(workdir / "to_label.csv")
    assert len(suggested) == 5
    gold_dev = read_table(workdir / "corpus" / "dev.csv")
    assert not set(suggested["text"]) & set(gold_dev["text"])  # already-gold rows are not suggested
    assert "t1" not in set(suggested["doc_id"])  # nor sentences of gold-test articles
    assert suggested["model_stance"].astype(bool).all()  # a trained model exists, so it measures doubt

    suggested.loc[0, "label"] = "rule_out"
    suggested.loc[1, "label"] = "none"
    suggested.to_csv(workdir / "to_label.csv", index=False)
    result = runner.invoke(app, ["label", "--config", str(tiny_config), "--gold", "to_label.csv"])
    assert result.exit_code == 0, result.output
    merged = read_table(workdir / "corpus" / "dev.csv")
    assert len(merged) == len(gold_dev) + 2
    labeled = read_table(workdir / "processed" / "labeled.parquet").set_index("text")
    assert labeled.loc[suggested.loc[0, "text"], "label"] == "rule_out"
    assert labeled.loc[suggested.loc[0, "text"], "label_source"] == "gold"


def test_merge_refuses_bad_labels_and_test_articles(tiny_config, workdir):
    assert runner.invoke(app, ["run", "--config", str(tiny_config)]).exit_code == 0
    bad = pd.DataFrame({"doc_id": ["a3"], "text": ["Several media outlets reported on the talks, citing officials."],
                        "label": ["maybe"]})
    bad.to_csv(workdir / "bad.csv", index=False)
    result = runner.invoke(app, ["label", "--config", str(tiny_config), "--gold", "bad.csv"])
    assert result.exit_code == 2 and "bad.csv row 2: label 'maybe'" in result.output
    leak = pd.DataFrame({"doc_id": ["t1"], "text": ["Talks on the aid package continued in Brussels on Tuesday."],
                         "label": ["none"]})
    leak.to_csv(workdir / "leak.csv", index=False)
    before = (workdir / "corpus" / "dev.csv").read_text()
    result = runner.invoke(app, ["label", "--config", str(tiny_config), "--gold", "leak.csv"])
    assert result.exit_code == 2 and "gold-test article" in result.output
    assert (workdir / "corpus" / "dev.csv").read_text() == before
