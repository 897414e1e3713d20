"""The statements bank (``data/statements/*.csv``): team-written, hand-labelled sentences.

Reading and validating the bank's files; every problem is reported with its file, row and
column. The bank is training data; see ``data/statements/README.md`` for how it was written.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError

COLUMNS = ["id", "text", "label", "actor", "country", "date", "form", "rule", "pair_id", "source", "note"]
FORMS = (
    "direct_quote",
    "indirect_speech",
    "headline",
    "wire_lede",
    "question_answer",
    "parliamentary_exchange",
    "op_ed",
    "interview_transcript",
    "translated",
    "poll_report",
    "background",
)
RULES = ("plain", *(f"rule_{n}" for n in range(1, 12)))
LABELS = ("support", "conditional", "rule_out", "none")
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


@dataclass(frozen=True)
class BankProblem:
    file: str
    row: int  # as a spreadsheet shows it: the header is row 1, the first data row 2
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} row {self.row} column {self.column!r}: {self.message}"


def read_bank_file(path: Path) -> list[dict[str, str]]:
    """One bank CSV as a list of row dicts (strings, as written)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != COLUMNS:
                raise InputError(f"{path}: header must be {','.join(COLUMNS)} (got {','.join(reader.fieldnames or [])})")
            return [dict(row) for row in reader]
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 (byte {exc.start})") from None
    except csv.Error as exc:
        raise InputError(f"{path}: broken CSV ({exc})") from None


def bank_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.csv"))


def read_bank(folder: Path) -> list[dict[str, str]]:
    """Every bank file in ``folder`` (sorted by name), each row tagged with its ``file``."""
    rows = []
    for path in bank_files(folder):
        rows += [{**row, "file": path.name} for row in read_bank_file(path)]
    return rows


def validate_rows(rows: list[dict[str, str]], file: str) -> list[BankProblem]:
    """Schema problems of one file's rows: values outside the vocabularies, empty required
    fields, bad dates, repeated ids, pairs that are not two rows with different labels."""
    problems: list[BankProblem] = []
    seen: dict[str, int] = {}
    pairs: dict[str, list[tuple[int, str]]] = {}
    for number, row in enumerate(rows, start=2):

        def bad(column: str, message: str) -> None:
            problems.append(BankProblem(file, number, column, message))  # noqa: B023 (called in this iteration)

        for column in ("id", "text", "label", "actor", "country", "date", "form", "rule"):
            if not (row.get(column) or "").strip():
                bad(column, "empty")
        if row.get("id") in seen:
            bad("id", f"repeats row {seen[row['id']]}")
        seen.setdefault(row.get("id", ""), number)
        if row.get("label") and row["label"] not in LABELS:
            bad("label", f"{row['label']!r} is not one of {', '.join(LABELS)}")
        if row.get("form") and row["form"] not in FORMS:
            bad("form", f"{row['form']!r} is not one of {', '.join(FORMS)}")
        if row.get("rule") and row["rule"] not in RULES:
            bad("rule", f"{row['rule']!r} is not plain or rule_1..rule_11")
        if row.get("date") and not _DATE.match(row["date"]):
            bad("date", f"{row['date']!r} is not YYYY-MM or YYYY-MM-DD")
        if "\n" in (row.get("text") or ""):
            bad("text", "holds a line break (one sentence per row)")
        if (row.get("pair_id") or "").strip():
            pairs.setdefault(row["pair_id"].strip(), []).append((number, row.get("label", "")))
    for pair_id, members in pairs.items():
        if len(members) != 2:
            problems.append(BankProblem(file, members[0][0], "pair_id", f"{pair_id!r} has {len(members)} rows, not 2"))
        elif members[0][1] == members[1][1]:
            problems.append(
                BankProblem(
                    file,
                    members[1][0],
                    "pair_id",
                    f"{pair_id!r}: both rows are {members[0][1]!r}; a minimal pair flips the label",
                )
            )
    return problems
