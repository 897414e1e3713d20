"""The shipped labelled data holds what data/statements/README.md and data/challenge/README.md
promise: the bank's counts and variety, a frozen challenge set, a behavioural suite that no
training sentence fills, and no evaluation text inside the training text."""

from __future__ import annotations

import hashlib
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from pipeline import data_quality as dq
from pipeline.behaviour import load_suite, template_collisions
from pipeline.statements import read_bank, validate_rows

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
STANCES = ("support", "conditional", "rule_out")
LABELS = ["support", "conditional", "rule_out", "none"]


@pytest.fixture(scope="module")
def bank() -> list[dict[str, str]]:
    return read_bank(REPO / "data" / "statements")


def test_every_bank_file_keeps_the_schema(bank):
    problems = [
        p for file in sorted({r["file"] for r in bank}) for p in validate_rows([r for r in bank if r["file"] == file], file)
    ]
    assert problems == []


def test_the_bank_has_the_size_and_label_mix_it_promises(bank):
    labels = Counter(row["label"] for row in bank)
    assert len(bank) >= 3000
    assert all(labels[label] >= 650 for label in STANCES), labels
    assert labels["none"] >= 1000
    assert sum(dq.is_hard_negative(row["text"], row["label"]) for row in bank) >= 700


def test_the_bank_is_spread_over_actors_countries_phases_and_forms(bank):
    actors = Counter(row["actor"].strip() for row in bank)
    assert len(actors) >= 100
    assert actors.most_common(1)[0][1] <= 0.03 * len(bank), actors.most_common(3)
    assert len({row["country"].strip() for row in bank} - {"NATO", "EU", "UN"}) >= 30
    years = Counter(row["date"][:4] for row in bank)
    assert all(years[year] >= 100 for year in ("2022", "2023", "2024", "2025")), years
    assert len({row["form"] for row in bank}) >= 9


def test_every_guideline_rule_decides_at_least_forty_rows_and_pairs_flip_labels(bank):
    rules = Counter(row["rule"] for row in bank)
    assert all(rules[f"rule_{n}"] >= 40 for n in range(1, 12)), rules
    pairs = Counter((row["file"], row["pair_id"]) for row in bank if row["pair_id"].strip())
    assert sum(count == 2 for count in pairs.values()) >= 200


def test_the_bank_says_it_in_other_words_and_at_news_length(bank):
    stance = [row["text"] for row in bank if row["label"] in STANCES]
    assert sum(bool(dq.cue_phrases(text)) for text in stance) <= 0.30 * len(stance)
    stats = dq.length_stats([row["text"] for row in bank])
    assert stats.share_over_35 >= 0.20
    assert dq.exact_duplicates([row["text"] for row in bank]) == []
    openings = Counter(dq.opening(row["text"]) for row in bank)
    assert openings.most_common(1)[0][1] <= 0.02 * len(bank), openings.most_common(3)


def test_the_challenge_set_is_frozen_at_the_hash_in_its_readme():
    readme = (REPO / "data" / "challenge" / "README.md").read_text(encoding="utf-8")
    frozen = re.search(r"SHA-256 `([0-9a-f]{64})`", readme).group(1)
    assert hashlib.sha256((REPO / "data" / "challenge" / "challenge.csv").read_bytes()).hexdigest() == frozen


def test_no_bank_sentence_fills_a_behaviour_template_with_the_suite_fillers(bank):
    suite = load_suite(REPO / "data" / "behaviour" / "suite.yaml", LABELS)
    assert template_collisions(suite, [row["text"] for row in bank]) == []


def test_the_bank_files_share_no_sentence_or_eight_words_with_evaluation_text(bank):
    from data_quality import labelled_sets

    _, evaluation = labelled_sets(REPO / "configs" / "default.yaml")
    overlaps = dq.train_eval_overlaps({"statements": [row["text"] for row in bank]}, evaluation)
    assert overlaps == [], overlaps[:5]


def test_training_text_never_repeats_or_shares_eight_words_with_evaluation_text():
    from data_quality import effective_training_sets

    train, evaluation = effective_training_sets(REPO / "configs" / "default.yaml")
    assert "statements" in train and "challenge" in evaluation
    overlaps = dq.train_eval_overlaps(train, evaluation)
    assert overlaps == [], overlaps[:5]


@pytest.mark.slow
def test_training_text_has_no_near_duplicate_of_evaluation_text_in_minilm_space():
    from data_quality import effective_training_sets, embedder

    train, evaluation = effective_training_sets(REPO / "configs" / "default.yaml")
    overlaps = [o for o in dq.train_eval_overlaps(train, evaluation, embedder()) if o.kind == "cosine"]
    assert overlaps == [], overlaps[:5]
