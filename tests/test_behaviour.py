"""The behavioural suite (pipeline/behaviour.py): expansion, scoring per capability, and the
check that no training sentence is a suite template filled with the suite's own fillers."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.behaviour import Suite, expand_suite, load_suite, score_suite, template_collisions
from pipeline.errors import InputError

LABELS = ["support", "conditional", "rule_out", "none"]
SUITE = """
seed: 3
max_per_template: 2
fillers:
  country: [Germany, Spain, Italy]
  leader: [Olaf Scholz, Pedro Sanchez]
capabilities:
  - name: mft_rule_out
    type: mft
    templates:
      - {text: "{country} rules out sending troops to Ukraine.", label: rule_out}
  - name: inv_leader
    type: inv
    templates:
      - {text: "{leader} said soldiers could go to Ukraine.", label: support}
  - name: dir_add_condition
    type: dir
    templates:
      - base: "{country} will send troops to Ukraine."
        base_label: support
        changed: "{country} will send troops to Ukraine once a truce holds."
        changed_label: conditional
"""


def suite(tmp_path: Path, text: str = SUITE) -> Suite:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return load_suite(path, LABELS)


def test_expansion_is_seeded_and_capped_per_template(tmp_path):
    cases = expand_suite(suite(tmp_path))
    assert cases.equals(expand_suite(suite(tmp_path)))
    assert (cases["capability"] == "mft_rule_out").sum() == 2  # 3 countries, capped at 2
    assert (cases["capability"] == "inv_leader").sum() == 2 and cases.loc[cases["type"] == "inv", "case"].nunique() == 1
    dir_rows = cases.loc[cases["type"] == "dir"]
    assert list(dir_rows["role"][:2]) == ["base", "changed"]
    assert dir_rows.groupby("case").size().eq(2).all()


def test_pass_rates_follow_each_capability_rule(tmp_path):
    cases = expand_suite(suite(tmp_path))
    predicted = []
    for row in cases.itertuples():
        if row.type == "mft":
            predicted.append("rule_out" if row.text.startswith("Germany") or row.text.startswith("Spain") else "support")
        elif row.type == "inv":
            predicted.append("support" if "Scholz" in row.text else "none")  # flips with the leader: fails
        else:
            predicted.append("support" if row.role == "base" else "conditional")
    result = score_suite(cases, predicted)
    mft = cases.loc[cases["type"] == "mft", "text"]
    expected_mft = sum(t.startswith(("Germany", "Spain")) for t in mft) / len(mft)
    assert result.metrics["behaviour_mft_rule_out_pass_rate"] == expected_mft
    assert result.metrics["behaviour_inv_leader_pass_rate"] == 0.0
    assert result.metrics["behaviour_dir_add_condition_pass_rate"] == 1.0
    assert result.metrics["behaviour_dir_pass_rate"] == 1.0
    assert result.metrics["behaviour_cases"] == 2 + 1 + 2


def test_a_direction_case_fails_when_the_changed_sentence_keeps_the_base_label(tmp_path):
    cases = expand_suite(suite(tmp_path))
    predicted = ["support" if row.type == "dir" else row.expected or "support" for row in cases.itertuples()]
    assert score_suite(cases, predicted).metrics["behaviour_dir_add_condition_pass_rate"] == 0.0


def test_unknown_label_or_slot_is_refused_naming_the_file(tmp_path):
    with pytest.raises(InputError, match=r"suite.yaml: .*label 'maybe'"):
        suite(tmp_path, SUITE.replace("label: rule_out", "label: maybe"))
    with pytest.raises(InputError, match=r"suite.yaml: .*slot\(s\) \['minister'\]"):
        suite(tmp_path, SUITE.replace("{leader} said", "{minister} said"))


def test_collisions_find_training_text_that_fills_a_template_with_suite_fillers(tmp_path):
    loaded = suite(tmp_path)
    texts = [
        "Spain rules out sending troops to Ukraine.",  # template + suite filler: a collision
        "Portugal rules out sending troops to Ukraine.",  # template, filler not in the suite
        "Spain says no to troops.",
    ]
    assert template_collisions(loaded, texts) == [("{country} rules out sending troops to Ukraine.", texts[0])]
