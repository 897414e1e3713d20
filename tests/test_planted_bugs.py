"""Behaviours whose breakage the rest of the suite could not see (issue 14's planted bugs):
each test fails when the behaviour it names is broken, on a fixture where breaking it
changes the outcome, and checks a value computed by hand where one exists."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pandas as pd
import pytest

from pipeline.config import load_config

LABELS = ["support", "conditional", "rule_out", "none"]


# --- the leak guard: never train on gold-test text ---------------------------------------


def _labeled(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"doc_id": d, "text": t, "label": lab, "label_source": src, "confidence": 1.0} for d, t, lab, src in rows]
    )


def test_the_train_stage_holds_out_gold_test_articles_and_sentences_quoted_elsewhere(tiny_config):
    """`assemble_training_rows` (what the train stage calls) passes gold test to the guard:
    the test article's sentences go, and so does a short (under 8 words) gold-test sentence
    quoted verbatim in another article, which only the exact-text check catches."""
    from pipeline.train import assemble_training_rows

    config = load_config(tiny_config)
    gold_test = pd.DataFrame(
        {
            "doc_id": ["t1", "t1"],
            "label": ["rule_out", "none"],
            "text": ["Spain rules out troops.", "Talks on the aid package continued in Brussels."],
        }
    )
    labeled = _labeled(
        [
            ("t1", "A sentence of the test article the guard must drop.", "none", "weak"),
            ("a9", "SPAIN  rules out troops.", "rule_out", "weak"),
            ("a9", "Leaders also discussed new sanctions on Russian banks today.", "none", "weak"),
        ]
    )
    rows = assemble_training_rows(config, labeled, gold_test)
    assert rows["text"].tolist() == ["Leaders also discussed new sanctions on Russian banks today."]


# --- stage fingerprints: a setting a stage reads reruns it ------------------------------


@pytest.mark.parametrize(
    "stage, override",
    [
        ("evaluate", "evaluate.bootstrap_resamples=17"),
        ("evaluate", "evaluate.calibration_bins=7"),
        ("evaluate", "registry.gate_metric=test_accuracy"),
        ("evaluate", "registry.alias=gold"),
        ("train", "seed=8"),
        ("label", "seed=8"),
    ],
)
def test_a_setting_the_stage_reads_changes_its_fingerprint(tiny_config, stage, override):
    from pipeline import stage_cache

    base, changed = load_config(tiny_config), load_config(tiny_config, [override])
    assert stage_cache.fingerprint(base, stage, "code") != stage_cache.fingerprint(changed, stage, "code")


# --- the reserved date is the first reserved day --------------------------------------


def test_an_article_dated_exactly_reserved_from_is_reserved():
    from pipeline.ingest import select_articles

    articles = pd.DataFrame(
        {
            "doc_id": ["before", "on", "after"],
            "text": ["One.", "Two.", "Three."],
            "date": ["2023-12-31", "2024-01-01", "2024-01-02"],
        }
    )
    kept, stats = select_articles(articles, dt.date(2024, 1, 1))
    assert kept["doc_id"].tolist() == ["before"] and stats.articles_reserved == 2


# --- settings reach the model -----------------------------------------------------------


def test_class_weight_balanced_reaches_logistic_regression():
    """Nine `none` rows and one `support` row: balanced weights give the rare class ~9x the
    weight, so an unseen neutral text leans far more to `support` than unweighted."""
    from pipeline.classifiers.tfidf import TfidfLogreg
    from pipeline.classifiers.settings import TfidfLogregConfig

    texts = [f"routine news item number {i}" for i in range(9)] + ["we will send troops"]
    targets = ["none"] * 9 + ["support"]
    p_support = {}
    for weight in ("balanced", None):
        model = TfidfLogreg(["support", "none"], TfidfLogregConfig(class_weight=weight, min_df=1), seed=0)
        model.fit(texts, targets)
        assert model.pipeline_.named_steps["classifier"].class_weight == weight
        p_support[weight] = model.predict_proba(["an unrelated sentence"])[0, 0]
    assert p_support["balanced"] > 0.5 > 0.35 > p_support[None]  # measured: 0.58 and 0.27


def test_label_confidence_weighs_the_training_rows(tiny_config):
    """Two confident `support` rows against three `none` rows at confidence 0.05 for the same
    text: weighted, `support` wins (2 vs 0.15); counted alike, `none` would (3 vs 2)."""
    from pipeline.train import fit_classifier

    config = load_config(tiny_config, ["train.tfidf_logreg.class_weight=null"])
    rows = pd.DataFrame(
        {
            "text": ["troops to kyiv"] * 5 + ["calm weather"] * 3,
            "label": ["support"] * 2 + ["none"] * 3 + ["none"] * 3,
            "confidence": [1.0, 1.0, 0.05, 0.05, 0.05, 1.0, 1.0, 1.0],
        }
    )
    classifier = fit_classifier(config, rows).classifier
    probs = classifier.predict_proba(["troops to kyiv"])[0]
    assert LABELS[int(np.argmax(probs))] == "support"


def test_gold_dev_rows_are_not_trained_on_when_include_gold_dev_is_false():
    from pipeline.train import training_rows

    labeled = _labeled([("a", "Gold sentence.", "support", "gold"), ("a", "Weak sentence.", "none", "weak")])
    assert training_rows(labeled, None, include_gold_dev=False)["text"].tolist() == ["Weak sentence."]
    assert training_rows(labeled, None, include_gold_dev=True)["text"].tolist() == ["Gold sentence.", "Weak sentence."]


def test_gold_dev_overrides_the_weak_label_of_its_sentence():
    """The functions call the sentence `rule_out`; gold dev says `support`, and gold wins."""
    from pipeline.labeling.stage import label_sentences
    from pipeline.labeling.suites import get_suite

    text = "Prime Minister Donald Tusk said Poland will not send troops to Ukraine."
    sentences = pd.DataFrame({"sentence_id": ["a#0000"], "doc_id": ["a"], "text": [text]})
    suite = get_suite("deployment")
    weak = label_sentences(sentences, suite, LABELS, "none", "majority", ["conditional", "rule_out", "support", "none"])
    assert weak.labeled.loc[0, "label"] == "rule_out"
    gold = pd.DataFrame({"doc_id": ["a"], "text": [text], "label": ["support"]})
    result = label_sentences(
        sentences, suite, LABELS, "none", "majority", ["conditional", "rule_out", "support", "none"], gold_dev=gold
    )
    assert result.labeled.loc[0, ["label", "label_source", "confidence"]].tolist() == ["support", "gold", 1.0]


# --- durability of a scoring checkpoint -------------------------------------------------


def test_each_chunk_is_fsynced_before_its_checkpoint_replaces_the_old_one(tmp_path, monkeypatch):
    """Per chunk: the partial is fsynced, then the checkpoint is written to a temp file,
    fsynced and renamed over the old one (never written in place), in that order."""
    from pipeline.scoring.run import ScoreOptions, score_file
    from test_score import LABELS as SCORE_LABELS
    from test_score import KeywordPredictor

    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ["troops", "calm", "troops", "calm", "troops"]}).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync " + os.path.basename(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst) -> None:
        events.append(f"replace {os.path.basename(src)} -> {os.path.basename(dst)}")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    score_file(source, out, KeywordPredictor(), SCORE_LABELS, ScoreOptions(chunk_rows=2))
    per_chunk = [
        "fsync .out.csv.partial",
        "fsync .out.csv.checkpoint.json.tmp",
        "replace .out.csv.checkpoint.json.tmp -> .out.csv.checkpoint.json",
    ]
    start = events.index(per_chunk[0])  # after the fresh checkpoint that start() writes
    assert events[start : start + 9] == per_chunk * 3, events


# --- probability columns by name, F_avg without NONE ------------------------------------


def test_align_columns_places_each_class_by_name_not_position():
    from pipeline.classifiers.base import align_columns

    raw = np.array([[0.7, 0.3], [0.1, 0.9]])
    aligned = align_columns(raw, ["rule_out", "support"], LABELS)
    assert aligned.tolist() == [[0.3, 0.0, 0.7, 0.0], [0.9, 0.0, 0.1, 0.0]]


def test_f_avg_averages_favor_and_against_only():
    """FAVOR F1 1/2, AGAINST F1 2/3, NONE F1 4/5: F_avg = (1/2 + 2/3) / 2 = 7/12 (with NONE
    averaged in it would be 59/90)."""
    from pipeline.evaluate import f_avg

    truth = ["FAVOR", "FAVOR", "AGAINST", "AGAINST", "NONE", "NONE"]
    predicted = ["FAVOR", "NONE", "AGAINST", "FAVOR", "NONE", "NONE"]
    assert f_avg(truth, predicted, ["FAVOR", "AGAINST"]) == pytest.approx(7 / 12)
