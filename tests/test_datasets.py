"""Dataset adapters, the F_avg metric and the target-aware classifiers, on small files
written here in the public datasets' own formats and encodings."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.classifiers.registry import load_bundle
from pipeline.classifiers.targeted import JointTargetClassifier, PerTargetClassifier, predict_frame
from pipeline.train import fit_target_aware
from pipeline.config import load_config
from pipeline.datasets import gold_labeled, gold_split, load_dataset, training_pool
from pipeline.errors import ConfigError, InputError, ModelError
from pipeline.evaluate import evaluate_predictions, f_avg
from public_fixtures import (
    ruw_csv,
    ruw_dataset_section,
    semeval_dataset_section,
    semeval_rows,
    write_dataset_config,
    write_semeval,
    write_semeval_files,
)


def semeval_config(tmp_path, dev_fraction=0.0, **train):
    files = write_semeval_files(tmp_path / "semeval")
    return load_config(write_dataset_config(tmp_path, semeval_dataset_section(files, dev_fraction), **train))


def test_semeval_file_reads_cp1252_crlf_and_strips_the_marker(tmp_path):
    examples = load_dataset(semeval_config(tmp_path))
    assert set(examples["split"]) == {"train", "test"}
    assert not examples["text"].str.contains("#SemST|\r").any()
    cafe = examples.loc[examples["doc_id"] == "999"].iloc[0]
    assert cafe["text"] == "Caf\u00e9 \u2014 I trust reason na\u00efvely"  # cp1252 0xE9, 0x97, 0xEF
    assert cafe["target"] == "Atheism" and cafe["gold_label"] == "FAVOR" and cafe["sentence_id"] == "999#0000"
    assert examples.loc[examples["doc_id"] == "101", "text"].item() == '"I trust reason today"'  # bare quotes are text


def test_ruw_rows_become_one_example_per_target_with_the_files_split(tmp_path):
    tweets = [
        ("\u4fc4\u7f57\u65af Russia shells Kyiv \u2013 again", "AGAINST", "FAVOR"),
        ("Peace talks, nothing else", "NONE", "NONE"),
    ]
    train = tmp_path / "train.csv"
    train.write_bytes(ruw_csv(tweets, "Train"))
    test = tmp_path / "test.csv"
    test.write_bytes(ruw_csv(tweets[:1], "Test"))
    config = load_config(write_dataset_config(tmp_path, ruw_dataset_section([train, test])))
    examples = load_dataset(config)
    assert len(examples) == 6
    first = examples.loc[examples["doc_id"] == "train:2"]
    assert list(first["target"]) == ["Russia", "Ukraine"] and list(first["gold_label"]) == ["AGAINST", "FAVOR"]
    assert first["text"].iloc[0].startswith("\u4fc4\u7f57\u65af") and "\u2013" in first["text"].iloc[0]
    assert list(first["sentence_id"]) == ["train:2#0000", "train:2#0001"]
    assert list(examples.loc[examples["doc_id"] == "test:2", "split"]) == ["test", "test"]


def test_dev_fraction_is_seeded_moves_whole_tweets_and_never_touches_test(tmp_path):
    first = load_dataset(semeval_config(tmp_path / "a", dev_fraction=0.25))
    again = load_dataset(semeval_config(tmp_path / "b", dev_fraction=0.25))
    assert first["split"].tolist() == again["split"].tolist()
    train_docs = (first["split"] == "train") | (first["split"] == "dev")
    assert 0.2 < (first.loc[train_docs, "split"] == "dev").mean() < 0.3
    assert (first.loc[first["doc_id"].astype(int) >= 10001, "split"] == "test").all()


def test_label_stage_keeps_test_rows_out_and_pool_follows_include_dev(tmp_path):
    examples = load_dataset(semeval_config(tmp_path, dev_fraction=0.25))
    labeled, metrics = gold_labeled(examples, ["FAVOR", "AGAINST", "NONE"])
    assert "test" not in set(labeled["split"]) and (labeled["label_source"] == "gold").all()
    assert metrics["label_gold_dev_rows"] == (examples["split"] == "dev").sum()
    assert ((labeled["p_FAVOR"] == 1.0) == (labeled["label"] == "FAVOR")).all()
    assert set(training_pool(labeled, include_dev=False)["split"]) == {"train"}
    assert set(training_pool(labeled, include_dev=True)["split"]) == {"train", "dev"}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda rows: rows[3].__setitem__(3, "UNKNOWN"), "row 5 column 'Stance': label 'UNKNOWN' is not one of"),
        (lambda rows: rows[0].__setitem__(2, "#SemST"), "row 2 column 'Tweet': empty text"),
        (lambda rows: rows[1].__setitem__(0, "101"), "id '101' occurs twice"),
    ],
)
def test_bad_rows_name_file_row_and_column(tmp_path, bad, message):
    rows = semeval_rows(101, 2)
    bad(rows)
    files = {
        "train": write_semeval(tmp_path / "train.txt", rows, "cp1252"),
        "test": write_semeval(tmp_path / "test.txt", semeval_rows(10001, 1), "ascii"),
    }
    config = load_config(write_dataset_config(tmp_path, semeval_dataset_section(files)))
    with pytest.raises(InputError, match=message):
        load_dataset(config)


def test_wrong_encoding_and_missing_column_are_one_line_errors(tmp_path):
    files = write_semeval_files(tmp_path)
    section = semeval_dataset_section(files)
    section["files"][0]["encoding"] = "utf-8"
    with pytest.raises(InputError, match=r"train.txt line 38: not utf-8 text \(byte 0xe9"):
        load_dataset(load_config(write_dataset_config(tmp_path, section)))
    section = semeval_dataset_section(files) | {"text_column": "Text"}
    with pytest.raises(InputError, match=r"no column 'Text' \(data.dataset.text_column\)"):
        load_dataset(load_config(write_dataset_config(tmp_path, section)))


def test_unknown_split_value_names_the_column(tmp_path):
    path = tmp_path / "all.csv"
    path.write_bytes(ruw_csv([("a tweet", "NONE", "NONE")], "Holdout"))
    config = load_config(write_dataset_config(tmp_path, ruw_dataset_section([path])))
    with pytest.raises(InputError, match=r"row 2 column 'Test/Train/Dev': split 'Holdout'"):
        load_dataset(config)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.target_mode=per_target", "needs data.dataset"),
        ("train.joint_template='{text} only'", "must contain {target} and {text}"),
        ("evaluate.f_avg_labels=[FAVOR]", "must be among labels"),
    ],
)
def test_config_rejects_inconsistent_target_settings(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config("configs/default.yaml", [override])


def test_dataset_config_refuses_an_explicit_gold_file(tmp_path):
    config = write_dataset_config(tmp_path, semeval_dataset_section(write_semeval_files(tmp_path)))
    with pytest.raises(ConfigError, match="set gold_test to null"):
        load_config(config, ["data.gold_test=data/gold/test.csv"])


def test_f_avg_pools_counts_and_counts_none_errors():
    gold = pd.DataFrame(
        {"label": ["FAVOR", "FAVOR", "AGAINST", "AGAINST", "NONE", "NONE"], "target": ["a", "b", "a", "b", "a", "b"]}
    )
    predicted = ["FAVOR", "NONE", "AGAINST", "FAVOR", "NONE", "AGAINST"]
    # FAVOR: P 1/2, R 1/2 -> 1/2; AGAINST: P 1/2, R 1/2 -> 1/2; NONE never averaged in
    assert f_avg(gold["label"], predicted, ["FAVOR", "AGAINST"]) == pytest.approx(0.5)
    probs = pd.get_dummies(pd.Series(predicted)).reindex(columns=["FAVOR", "AGAINST", "NONE"], fill_value=0)
    frame = pd.DataFrame({"stance": predicted, "confidence": 1.0}).join(probs.add_prefix("p_").astype(float))
    metrics = evaluate_predictions(gold, frame, ["FAVOR", "AGAINST", "NONE"], f_avg_labels=["FAVOR", "AGAINST"]).metrics
    assert metrics["test_f_avg"] == pytest.approx(0.5)
    assert metrics["test_f_avg_target_a"] == pytest.approx(1.0)  # target a: every row right
    assert metrics["test_f_avg_target_b"] == pytest.approx(0.0)
    assert metrics["test_f_avg_targets_mean"] == pytest.approx(0.5)
    assert "test_f_avg" not in evaluate_predictions(gold, frame, ["FAVOR", "AGAINST", "NONE"]).metrics


def opposite_stances() -> pd.DataFrame:
    """The same words mean FAVOR toward one target and AGAINST toward the other; tweets about
    Hydro lean on the target alone (FAVOR whatever they say, but weather reports)."""
    rows = []
    for i in range(12):
        rows += [
            {"text": f"more wind farms please {i}", "target": "Renewables", "label": "FAVOR"},
            {"text": f"more wind farms please {i}", "target": "Coal", "label": "AGAINST"},
            {"text": f"keep the old plants {i}", "target": "Renewables", "label": "AGAINST"},
            {"text": f"keep the old plants {i}", "target": "Coal", "label": "FAVOR"},
            {"text": f"the match ended late {i}", "target": "Renewables", "label": "NONE"},
            {"text": f"the match ended late {i}", "target": "Coal", "label": "NONE"},
            {"text": f"the match ended late {i}", "target": "Hydro", "label": "FAVOR"},
            {"text": f"keep the old plants {i}", "target": "Hydro", "label": "FAVOR"},
            {"text": f"weather report {i}", "target": "Hydro", "label": "NONE"},
        ]
    return pd.DataFrame(rows).assign(confidence=1.0, doc_id=lambda f: range(len(f)))


def test_per_target_model_dispatches_each_row_to_its_targets_model(tmp_path):
    rows = opposite_stances().query("target != 'Hydro'")
    result = fit_target_aware(semeval_config(tmp_path, target_mode="per_target"), rows)
    probe = pd.DataFrame({"text": ["more wind farms please", "more wind farms please"], "target": ["Renewables", "coal"]})
    assert list(predict_frame(result.classifier, probe)["stance"]) == ["FAVOR", "AGAINST"]  # case does not matter


def test_joint_model_reads_the_target_through_the_template(tmp_path):
    result = fit_target_aware(semeval_config(tmp_path, target_mode="joint"), opposite_stances())
    probe = pd.DataFrame({"text": ["the match ended late", "the match ended late"], "target": ["Hydro", "Coal"]})
    assert list(predict_frame(result.classifier, probe)["stance"]) == ["FAVOR", "NONE"]


@pytest.mark.parametrize("mode", ["per_target", "joint"])
def test_target_aware_bundles_survive_a_round_trip(tmp_path, mode):
    result = fit_target_aware(semeval_config(tmp_path, target_mode=mode), opposite_stances())
    probe = pd.DataFrame({"text": ["more wind farms please", "keep the old plants"], "target": ["Renewables", "Hydro"]})
    result.classifier.save(tmp_path / "bundle")
    loaded = load_bundle(tmp_path / "bundle")
    assert isinstance(loaded, PerTargetClassifier if mode == "per_target" else JointTargetClassifier)
    columns = ["stance", "p_FAVOR", "p_AGAINST", "p_NONE"]
    pd.testing.assert_frame_equal(predict_frame(loaded, probe)[columns], predict_frame(result.classifier, probe)[columns])
    with pytest.raises(InputError, match="no 'target' column; this model is target-aware"):
        predict_frame(loaded, probe[["text"]])


def test_per_target_model_refuses_an_unknown_target_and_counts_targets(tmp_path):
    config = semeval_config(tmp_path, target_mode="per_target")
    rows = opposite_stances()
    with pytest.raises(InputError, match=r"target 'Hydro': train: training rows hold a single label \['FAVOR'\]"):
        fit_target_aware(config, rows.loc[~rows["text"].str.startswith("weather")])
    result = fit_target_aware(config, rows)
    assert result.metrics["train_targets"] == 3 and result.metrics["train_rows"] == 108
    with pytest.raises(ModelError, match="target 'Nuclear' has no model; this per-target model knows Coal, Hydro, Renewables"):
        predict_frame(result.classifier, pd.DataFrame({"text": ["x"], "target": ["Nuclear"]}))


def test_dev_split_comes_back_as_a_gold_set_with_targets(tmp_path):
    examples = load_dataset(semeval_config(tmp_path, dev_fraction=0.25))
    dev = gold_split(examples, "dev")
    assert list(dev.columns) == ["sentence_id", "doc_id", "text", "target", "label"]
    assert len(dev) == (examples["split"] == "dev").sum()
