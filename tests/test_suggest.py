"""The labeling loop: suggest -> fill in -> label --gold merges as gold."""

import numpy as np
import pytest
import pandas as pd
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.io import read_table
from pipeline.labeling.suggest import rank_for_labeling

runner = CliRunner()
LABELS = ["support", "rule_out", "none"]


def test_conflicts_rank_before_doubt():
    labeled = pd.DataFrame(
        {
            "sentence_id": ["a", "b", "c"],
            "doc_id": "d",
            "char_start": 0,
            "char_end": 1,
            "text": ["x", "y", "z"],
            "label": ["none", "support", "none"],
            "confidence": [0.5, 1.0, 1.0],
            "p_support": [0.4, 1.0, 0.0],
            "p_rule_out": [0.1, 0.0, 0.0],
            "p_none": [0.5, 0.0, 1.0],
        }
    )
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
    bad = pd.DataFrame(
        {"doc_id": ["a3"], "text": ["Several media outlets reported on the talks, citing officials."], "label": ["maybe"]}
    )
    bad.to_csv(workdir / "bad.csv", index=False)
    result = runner.invoke(app, ["label", "--config", str(tiny_config), "--gold", "bad.csv"])
    assert result.exit_code == 2 and "bad.csv row 2: label 'maybe'" in result.output
    leak = pd.DataFrame(
        {"doc_id": ["t1"], "text": ["Talks on the aid package continued in Brussels on Tuesday."], "label": ["none"]}
    )
    leak.to_csv(workdir / "leak.csv", index=False)
    before = (workdir / "corpus" / "dev.csv").read_text()
    result = runner.invoke(app, ["label", "--config", str(tiny_config), "--gold", "leak.csv"])
    assert result.exit_code == 2 and "gold-test article" in result.output
    assert (workdir / "corpus" / "dev.csv").read_text() == before


# -- mining the confident misses ------------------------------------------------------------
from pipeline.labeling.suggest import rank_confident_misses  # noqa: E402

MINE_LABELS = ["support", "rule_out", "none"]


def test_confident_misses_are_the_confident_nones_nearest_to_known_stance_sentences():
    candidates = pd.DataFrame(
        {
            "sentence_id": ["a", "b", "c", "d", "e"],
            "doc_id": "d",
            "char_start": 0,
            "char_end": 1,
            "text": ["near miss", "far none", "unsure none", "said stance", "Known stance"],
            "label": "none",
            "confidence": 1.0,
        }
    )
    probs = np.array(
        [
            [0.05, 0.05, 0.90],  # a: confident none, close to a known sentence
            [0.02, 0.02, 0.96],  # b: confident none, far from them
            [0.30, 0.10, 0.60],  # c: none, but not confident enough
            [0.10, 0.80, 0.10],  # d: the model already calls it a stance
            [0.01, 0.01, 0.98],
        ]
    )  # e: the known sentence itself
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    known = np.array([[1.0, 0.0], [0.8, 0.6]])
    ranked = rank_confident_misses(
        candidates, probs, MINE_LABELS, "none", vectors, known, ["known stance", "another"], n=5, min_none_confidence=0.8
    )
    assert list(ranked["sentence_id"]) == ["a", "b"]
    assert ranked.loc[0, "similar_to"] == "known stance" and ranked.loc[0, "similarity"] == 1.0
    assert ranked.loc[1, "similar_to"] == "another" and abs(ranked.loc[1, "similarity"] - 0.6) < 1e-9
    assert ranked.loc[0, "reason"] == "model says none (0.90) near a known stance sentence"
    assert (ranked["label"] == "").all()


# -- Label Studio round trip ---------------------------------------------------------------
import json  # noqa: E402

from pipeline.labeling.label_studio import label_config, read_export  # noqa: E402


def label_studio_export(tasks: list[dict], choices: list[list[str] | None], path) -> None:
    """What Label Studio's JSON export holds once the imported tasks are annotated (its
    documented task format: id, data, annotations with result/was_cancelled/..., predictions)."""
    exported = []
    for number, (task, choice) in enumerate(zip(tasks, choices), 1):
        annotations = []
        if choice is not None:
            annotations.append(
                {
                    "id": 1000 + number,
                    "completed_by": 1,
                    "was_cancelled": False,
                    "ground_truth": False,
                    "created_at": "2026-11-30T10:00:00.000000Z",
                    "updated_at": "2026-11-30T10:00:05.000000Z",
                    "lead_time": 4.2,
                    "result_count": 0,
                    "task": number,
                    "project": 3,
                    "result": [
                        {
                            "id": f"r{number}",
                            "from_name": "stance",
                            "to_name": "text",
                            "type": "choices",
                            "origin": "manual",
                            "value": {"choices": choice},
                        }
                    ],
                }
            )
        exported.append(
            {
                "id": number,
                "data": task["data"],
                "annotations": annotations,
                "predictions": task.get("predictions", []),
                "drafts": [],
                "meta": {},
                "created_at": "2026-11-30T09:00:00.000000Z",
                "updated_at": "2026-11-30T10:00:05.000000Z",
                "inner_id": number,
                "total_annotations": len(annotations),
                "cancelled_annotations": 0,
                "total_predictions": 1,
                "project": 3,
                "updated_by": 1,
                "file_upload": "tasks.json",
            }
        )
    path.write_text(json.dumps(exported), encoding="utf-8")


def test_label_studio_tasks_round_trip_into_gold(tiny_config, workdir):
    assert runner.invoke(app, ["run", "--config", str(tiny_config)]).exit_code == 0
    result = runner.invoke(
        app, ["suggest", "--config", str(tiny_config), "--n", "4", "--format", "label-studio", "--output", "tasks.json"]
    )
    assert result.exit_code == 0, result.output
    tasks = json.loads((workdir / "tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == 4
    prediction = tasks[0]["predictions"][0]["result"][0]
    assert prediction["type"] == "choices" and prediction["value"]["choices"][0] in ("support", "conditional", "rule_out", "none")
    interface = (workdir / "tasks.label_config.xml").read_text(encoding="utf-8")
    assert '<Choices name="stance" toName="text"' in interface and '<Choice value="rule_out"/>' in interface
    assert interface == label_config(["support", "conditional", "rule_out", "none"])

    label_studio_export(tasks, [["rule_out"], ["none"], None, ["support"]], workdir / "export.json")
    gold_before = len(read_table(workdir / "corpus" / "dev.csv"))
    merged = runner.invoke(app, ["label", "--config", str(tiny_config), "--gold", "export.json"])
    assert merged.exit_code == 0, merged.output
    assert "merged 3 new and 0 relabelled gold rows" in merged.output
    gold = read_table(workdir / "corpus" / "dev.csv")
    assert len(gold) == gold_before + 3
    added = gold.set_index("text").loc[[tasks[0]["data"]["text"], tasks[3]["data"]["text"]], "label"].tolist()
    assert added == ["rule_out", "support"]


def test_label_studio_export_takes_the_latest_uncancelled_annotation_and_names_bad_tasks(tmp_path):
    task = {"data": {"doc_id": "d1", "text": "Italy will not send troops.", "sentence_id": "s1"}}
    path = tmp_path / "export.json"
    label_studio_export([task], [["support"]], path)
    exported = json.loads(path.read_text())
    later = json.loads(json.dumps(exported[0]["annotations"][0]))
    later.update({"id": 2, "updated_at": "2026-12-01T08:00:00.000000Z"})
    later["result"][0]["value"]["choices"] = ["rule_out"]
    cancelled = json.loads(json.dumps(later))
    cancelled.update({"id": 3, "was_cancelled": True, "updated_at": "2026-12-02T08:00:00.000000Z"})
    cancelled["result"][0]["value"]["choices"] = ["none"]
    exported[0]["annotations"] += [later, cancelled]
    path.write_text(json.dumps(exported))
    assert read_export(path, MINE_LABELS)["label"].tolist() == ["rule_out"]

    exported[0]["annotations"][1]["result"][0]["value"]["choices"] = ["maybe"]
    path.write_text(json.dumps(exported))
    import pytest

    from pipeline.errors import InputError

    with pytest.raises(InputError, match=r"export.json task 1 \(id 1\): label 'maybe' is not one of"):
        read_export(path, MINE_LABELS)
    path.write_text(json.dumps([{"id": 7, "data": {"text": "no doc id"}, "annotations": []}]))
    with pytest.raises(InputError, match="task 1 \\(id 7\\): data has no 'text' and 'doc_id'"):
        read_export(path, MINE_LABELS)


@pytest.mark.slow  # embeds the corpus with MiniLM
def test_suggest_similar_to_exports_confident_nones_near_the_given_sentences(tiny_config, workdir):
    assert runner.invoke(app, ["run", "--config", str(tiny_config)]).exit_code == 0
    known = workdir / "known.csv"
    pd.DataFrame({"text": ["Poland rules out sending its soldiers to Ukraine."]}).to_csv(known, index=False)
    result = runner.invoke(
        app,
        [
            "suggest",
            "--config",
            str(tiny_config),
            "--similar-to",
            str(known),
            "--n",
            "3",
            "--min-none-confidence",
            "0.3",
            "--output",
            "misses.csv",
        ],
    )
    assert result.exit_code == 0, result.output
    misses = read_table(workdir / "misses.csv")
    assert 0 < len(misses) <= 3
    assert (misses["model_stance"] == "none").all() and (misses["model_confidence"].astype(float) >= 0.3).all()
    assert (misses["similar_to"] == "Poland rules out sending its soldiers to Ukraine.").all()
    similarity = misses["similarity"].astype(float).tolist()
    assert similarity == sorted(similarity, reverse=True)
    missing = runner.invoke(app, ["suggest", "--config", str(tiny_config), "--similar-to", "nope.csv"])
    assert missing.exit_code == 2 and "nope.csv: file not found" in missing.output
