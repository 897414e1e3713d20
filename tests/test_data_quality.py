"""The diversity and leak checks of pipeline/data_quality.py (bench/data_quality.py reports them)."""

from __future__ import annotations

import numpy as np

from pipeline import data_quality as dq


def test_cue_phrases_find_the_guideline_wording_and_not_paraphrases():
    assert dq.cue_phrases("Macron said nothing should be ruled out.") == ["nothing should be ruled out", "rule out"]
    assert dq.cue_phrases("Rome has no plans to send soldiers.") == ["no plans to send"]
    assert dq.cue_phrases("Polish soldiers will stay in Poland, Tusk said.") == []
    assert dq.cue_phrases("A decision will come at the right time.") == []


def test_hard_negative_is_a_none_sentence_about_military_personnel():
    assert dq.is_hard_negative("North Korean troops were seen in Kursk.", "none")
    assert not dq.is_hard_negative("Gas prices rose again in Berlin.", "none")
    assert not dq.is_hard_negative("Germany will not send troops.", "rule_out")


def test_length_stats_count_words_long_rows_and_quotations():
    stats = dq.length_stats(["one two three", '"Four five," he said.', " ".join(["w"] * 40)])
    assert stats.rows == 3
    assert stats.mean_words == (3 + 4 + 40) / 3
    assert stats.share_over_35 == 1 / 3
    assert stats.share_quoted == 1 / 3


def test_exact_duplicates_ignore_case_spacing_and_typographic_quotes():
    texts = ["Tusk said \u201cno\u201d.", 'tusk  said "no".', "Tusk said yes."]
    assert dq.exact_duplicates(texts) == [(0, 1)]


def test_shared_spans_find_eight_word_runs_within_and_across_sets():
    left = [
        "the coalition of the willing met in paris on thursday to plan",
        "a different sentence about the war entirely here and now",
    ]
    right = ["officials said the coalition of the willing met in paris on thursday"]
    assert dq.shared_spans(left, right) == [(0, 0)]
    assert dq.shared_spans(left) == []
    assert dq.shared_spans([left[0], left[0] + " again"]) == [(0, 1)]


def test_near_duplicates_use_cosine_of_the_vectors():
    vectors = np.array([[1.0, 0.0], [0.99, 0.05], [0.0, 1.0]])
    pairs = dq.near_duplicates(vectors, threshold=0.92)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]
    across = dq.near_duplicates(vectors[:1], vectors[1:], threshold=0.92)
    assert [(i, j) for i, j, _ in across] == [(0, 0)]


def test_train_eval_overlaps_report_exact_span_and_cosine_leaks():
    train = {
        "bank": [
            "Spain will keep its soldiers at home.",
            "the coalition of the willing met in paris on thursday to plan a force",
            "Sweden is open to sending a battalion.",
        ]
    }
    evaluation = {
        "challenge": [
            "spain will keep its soldiers at home.",
            "leaders said the coalition of the willing met in paris on thursday",
            "Stockholm says a battalion could go.",
        ]
    }

    def embed(texts: list[str]) -> np.ndarray:  # a stand-in encoder: Sweden ~ Stockholm
        return np.array([[1.0, 0.0] if ("Sweden" in t or "Stockholm" in t) else [0.0, 1.0 + i] for i, t in enumerate(texts)])

    kinds = sorted((o.kind, o.train_text[:5]) for o in dq.train_eval_overlaps(train, evaluation, embed, threshold=0.99))
    assert ("exact", "Spain") in kinds
    assert ("span8", "the c") in kinds
    assert ("cosine", "Swede") in kinds
    assert dq.train_eval_overlaps({"bank": ["Totally unrelated."]}, evaluation) == []


def test_skeleton_masks_names_so_templated_rows_collide():
    assert dq.skeleton("Germany rules out sending 500 troops.") == dq.skeleton("Spain rules out sending 20 troops.")
    assert dq.skeleton("Germany rules out sending troops.") != dq.skeleton("Germany will not send troops.")
