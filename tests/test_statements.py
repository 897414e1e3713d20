"""The statements bank's reader and schema checks (pipeline/statements.py, labeling/gold.load_bank)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.labeling.gold import load_bank
from pipeline.statements import COLUMNS, read_bank_file, validate_rows

LABELS = ["support", "conditional", "rule_out", "none"]
GOOD = [
    "x-1",
    "Spain will keep its soldiers at home.",
    "rule_out",
    "Pedro Sanchez",
    "Spain",
    "2025-02-17",
    "indirect_speech",
    "plain",
    "x-p1",
    "",
    "",
]


def write(path: Path, *rows: list[str]) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


def test_a_clean_file_loads_as_gold_with_file_scoped_ids(tmp_path):
    pair = [*GOOD[:1], "Spain could send soldiers once a truce holds.", "conditional", *GOOD[3:]]
    pair[0] = "x-2"
    bank = load_bank(write(tmp_path / "bank_a.csv", GOOD, pair), LABELS)
    assert list(bank["doc_id"]) == ["bank_a:x-1", "bank_a:x-2"]
    assert list(bank["label"]) == ["rule_out", "conditional"]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("label", "maybe", "'maybe' is not one of"),
        ("form", "tweet", "'tweet' is not one of"),
        ("rule", "rule_12", "is not plain or rule_1..rule_11"),
        ("date", "Feb 2025", "is not YYYY-MM or YYYY-MM-DD"),
        ("actor", "", "empty"),
    ],
)
def test_a_bad_value_is_named_by_file_row_and_column(tmp_path, column, value, message):
    row = list(GOOD)
    row[COLUMNS.index(column)] = value
    row[COLUMNS.index("pair_id")] = ""
    path = write(tmp_path / "bank.csv", row)
    problems = validate_rows(read_bank_file(path), path.name)
    assert [(p.row, p.column) for p in problems] == [(2, column)]
    assert message in problems[0].message
    with pytest.raises(InputError, match=rf"bank.csv row 2 column '{column}'"):
        load_bank(path, LABELS)


def test_a_minimal_pair_must_be_two_rows_with_different_labels(tmp_path):
    twin = ["x-2", "Spain will keep every soldier at home.", *GOOD[2:]]
    problems = validate_rows(read_bank_file(write(tmp_path / "b.csv", GOOD, twin)), "b.csv")
    assert [p.column for p in problems] == ["pair_id"] and "flips the label" in problems[0].message
    alone = validate_rows(read_bank_file(write(tmp_path / "c.csv", GOOD)), "c.csv")
    assert "has 1 rows, not 2" in alone[0].message


def test_a_repeated_id_and_a_wrong_header_are_refused(tmp_path):
    again = list(GOOD)
    again[COLUMNS.index("pair_id")] = ""
    first = list(again)
    problems = validate_rows(read_bank_file(write(tmp_path / "b.csv", first, again)), "b.csv")
    assert [(p.row, p.column) for p in problems] == [(3, "id")]
    (tmp_path / "h.csv").write_text("id,text,label\nx,y,none\n")
    with pytest.raises(InputError, match="h.csv: header must be"):
        read_bank_file(tmp_path / "h.csv")
