"""Diversity and leak report for the statements bank and every gold file.

    .venv/bin/python bench/data_quality.py                 # the full report (markdown), MiniLM near duplicates
    .venv/bin/python bench/data_quality.py --no-embeddings # without the MiniLM pass (faster)
    .venv/bin/python bench/data_quality.py --part FILE     # one bank file: schema, counts, cue share, lengths
    .venv/bin/python bench/data_quality.py --bank-table    # the bank's counts table for data/statements/README.md

Exit status 1 when a training file and an evaluation file share a sentence, an 8-word
span or a near duplicate (MiniLM cosine >= 0.92), or when a bank file breaks the schema.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
if sys.prefix == sys.base_prefix and VENV_PYTHON.exists():  # run with the project's venv
    os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.argv])
sys.path.insert(0, str(REPO))

from pipeline import data_quality as dq  # noqa: E402
from pipeline.statements import LABELS, read_bank, read_bank_file, validate_rows  # noqa: E402

STANCES = ("support", "conditional", "rule_out")
PHASES = (("2022", "2022-01", "2022-12"), ("2023", "2023-01", "2023-12"), ("2024", "2024-01", "2024-12"),
          ("2025", "2025-01", "2025-12"), ("2026", "2026-01", "2026-12"))


def phase(date: str) -> str:
    for name, start, end in PHASES:
        if start <= date[:7] <= end:
            return name
    return "other"


def table(header: list[str], rows: list[list[object]]) -> str:
    def cell(value: object) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def crosstab(rows: list[dict[str, str]], key: str, columns: tuple[str, ...] = LABELS) -> str:
    counts = Counter((row[key], row["label"]) for row in rows)
    keys = sorted({row[key] for row in rows})
    body = [[k, *(counts[(k, c)] for c in columns), sum(counts[(k, c)] for c in columns)] for k in keys]
    return table([key, *columns, "total"], body)


def bank_summary(rows: list[dict[str, str]]) -> dict[str, object]:
    """The counts the statements-bank issue sets minimums for."""
    texts = [row["text"] for row in rows]
    labels = Counter(row["label"] for row in rows)
    stance_rows = [row for row in rows if row["label"] in STANCES]
    actors = Counter(row["actor"].strip() for row in rows)
    top_actor, top_count = actors.most_common(1)[0] if actors else ("", 0)
    pairs = Counter(row["pair_id"].strip() for row in rows if row.get("pair_id", "").strip())
    conditional = [row for row in rows if row["label"] == "conditional"]
    stats = dq.length_stats(texts)
    return {
        "rows": len(rows),
        **{f"label {label}": labels[label] for label in LABELS},
        "hard negatives": sum(dq.is_hard_negative(row["text"], row["label"]) for row in rows),
        "distinct actors": len(actors),
        "top actor": f"{top_actor} ({top_count}, {top_count / max(len(rows), 1):.1%})",
        "distinct countries": len({row["country"].strip() for row in rows}),
        "minimal pairs": sum(1 for count in pairs.values() if count == 2),
        "stance rows with a guideline cue phrase": _share(sum(bool(dq.cue_phrases(r["text"])) for r in stance_rows), len(stance_rows)),
        "conditional rows with 'if'": _share(sum("if" in dq.words(r["text"]) for r in conditional), len(conditional)),
        "mean words (sd)": f"{stats.mean_words:.1f} ({stats.sd_words:.1f})",
        "rows over 35 words": _share(round(stats.share_over_35 * len(rows)), len(rows)),
        "rows with a quotation": _share(round(stats.share_quoted * len(rows)), len(rows)),
        "most frequent opening trigram": "{} ({:.1%})".format(*dq.top_share(dq.opening(t) for t in texts)),
        "rows sharing a skeleton": sum(c for c in Counter(dq.skeleton(t) for t in texts).values() if c > 1),
        "exact duplicates": len(dq.exact_duplicates(texts)),
        "per rule": dict(sorted(Counter(row["rule"] for row in rows).items())),
        "per form": dict(sorted(Counter(row["form"] for row in rows).items())),
        "per phase": dict(sorted(Counter(phase(row["date"]) for row in rows).items())),
    }


def _share(count: int, total: int) -> str:
    return f"{count} ({count / total:.1%})" if total else "0"


def print_summary(summary: dict[str, object]) -> None:
    for key, value in summary.items():
        print(f"{key:42s} {value}")


def check_part(path: Path) -> int:
    """The writers' check of one bank file: schema problems fail; the counts are printed."""
    rows = read_bank_file(path)
    problems = validate_rows(rows, path.name)
    print_summary(bank_summary(rows))
    actors = Counter(row["actor"].strip() for row in rows)
    over = {actor: count for actor, count in actors.items() if count > 15}
    if over:
        print(f"actors over 15 rows: {over}")
    openings = Counter(dq.opening(row["text"]) for row in rows)
    repeated = {o: c for o, c in openings.items() if c > 10}
    if repeated:
        print(f"openings used more than 10 times: {repeated}")
    for problem in problems[:50]:
        print(f"PROBLEM {problem}")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", type=Path, help="check one bank file and print its counts")
    parser.add_argument("--bank", type=Path, default=REPO / "data" / "statements")
    args = parser.parse_args()
    if args.part:
        return check_part(args.part)
    rows = read_bank(args.bank)
    print_summary(bank_summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
