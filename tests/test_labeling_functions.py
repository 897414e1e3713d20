"""Each labeling function against the guideline's examples and edge cases."""

import pytest

from pipeline.labeling.deployment import SUITE

LABELS = ["support", "conditional", "rule_out", "none"]
BY_NAME = {lf.name: lf for lf in SUITE.functions}


def votes(text: str) -> dict[str, str]:
    view = SUITE.make_view(text)
    return {lf.name: lf.label for lf in SUITE.functions if lf.applies(view)}


def decided(text: str) -> set[str]:
    return set(votes(text).values())


# (sentence, the function that must fire, guideline label)
GUIDELINE_EXAMPLES = [
    (
        "High-ranking officials do not exclude the possibility of sending their military to Ukraine.",
        "negated_rule_out",
        "support",
    ),
    (
        "Such assumptions are linked with support personnel who will provide training without being involved in hostilities.",
        "limited_role",
        "conditional",
    ),
    (
        "Estonian Prime Minister Kaja Kallas said that all options are on the table to help Ukraine defeat Russia.",
        "options_open",
        "support",
    ),
    (
        "His country is considering sending its instructors to Ukraine, but the priority is to support them with weapons.",
        "limited_role",
        "conditional",
    ),
    ("If Western troops go to Ukraine, it should be within the framework of a coalition.", "open_with_condition", "conditional"),
    (
        "There are currently no specific plans to deploy troops, but such a possibility should be part of strategic ambiguity.",
        "no_plans_but_open",
        "support",
    ),
    ("Several Western media reported on this, citing high-ranking officials.", "no_deployment_mention", "none"),
]

EDGE_CASES = [
    # 1. negated rule-out is support
    ("Macron said the deployment of Western troops to Ukraine cannot be ruled out.", "negated_rule_out", "support"),
    ("The minister did not exclude the possibility of sending soldiers.", "negated_rule_out", "support"),
    # 2. condition beats openness
    (
        "Britain is ready to send troops to Ukraine, but only after a ceasefire and with a US backstop.",
        "open_with_condition",
        "conditional",
    ),
    # 3. a non-combat role is a condition
    ("Paris could send instructors to Ukraine, not involved in hostilities.", "limited_role", "conditional"),
    # 4. "no plans" alone is rule_out
    ("There are currently no plans to send troops to Ukraine.", "rule_out_statement", "rule_out"),
    # 5. priority elsewhere alone is none; weapons not soldiers is rule_out
    ("The priority is to support them with weapons and ammunition.", "other_aid_only", "none"),
    ("We will send weapons, not soldiers.", "weapons_not_soldiers", "rule_out"),
    # 6. a journalist's question carries no stance
    ("Would France be prepared to send troops to Ukraine?", "journalist_question", "none"),
    # 7. threats by the opposing side
    (
        "Kremlin spokesman Dmitry Peskov said any foreign troops in Ukraine would be legitimate targets.",
        "opponent_threat",
        "rule_out",
    ),
    # 8. reported consensus
    ("There is no consensus among allies to send troops to Ukraine.", "reported_consensus", "none"),
    # who is deployed: warring sides and NATO territory are not deployment
    ("Russian troops advanced near Avdiivka on Tuesday.", "warring_forces", "none"),
    ("The Pentagon is sending 3,000 more troops to Poland and Romania.", "troops_elsewhere", "none"),
    # plain rule-outs, with negation scope
    ("Chancellor Scholz ruled out sending German soldiers to Ukraine.", "rule_out_statement", "rule_out"),
    ("Italy will not send troops to Ukraine, Meloni said.", "rule_out_statement", "rule_out"),
]


@pytest.mark.parametrize("text,function,label", GUIDELINE_EXAMPLES + EDGE_CASES)
def test_function_fires_with_guideline_label(text, function, label):
    assert votes(text).get(function) == label


@pytest.mark.parametrize("text,function,label", GUIDELINE_EXAMPLES + EDGE_CASES)
def test_no_function_contradicts_the_guideline(text, function, label):
    assert decided(text) == {label}


def test_negated_rule_out_is_not_rule_out():
    assert "rule_out_statement" not in votes("Sweden does not rule out sending troops to Ukraine.")


def test_question_with_its_answer_is_not_silenced():
    text = "Asked whether Italy would send troops, Meloni said Italian soldiers will not go to Ukraine."
    assert "journalist_question" not in votes(text)
    assert votes(text).get("rule_out_statement") == "rule_out"


def test_every_function_cites_a_guideline_rule():
    for lf in SUITE.functions:
        assert lf.rule and lf.label in LABELS, lf.name


def test_vote_matrix_shape_and_abstain():
    matrix = SUITE.vote_matrix(["Leaders met in Paris.", "Italy will not send troops to Ukraine."], LABELS)
    assert matrix.shape == (2, len(SUITE.functions))
    assert (matrix[0] == -1).sum() >= len(SUITE.functions) - 2
    assert LABELS.index("rule_out") in matrix[1]
