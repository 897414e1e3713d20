"""Small files in the public datasets' own formats, written by the tests: SemEval-2016
(tab-separated, CRLF, cp1252 training file, ``#SemST`` markers) and RUW (GB18030 CSV, two
targets per tweet, a split column), plus configs that read them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml

SEMEVAL_HEADER = ["ID", "Target", "Tweet", "Stance", "Opinion towards", "Sentiment"]
# Per target: words that signal FAVOR / AGAINST; NONE tweets talk about something else.
CUES = {"Atheism": ("reason", "prayer"), "Climate Change is a Real Concern": ("emissions", "hoax")}
FILLER = ["today", "again", "folks", "honestly", "really", "now", "tonight", "for sure"]
TEST_FILLER = ["yesterday", "this week"]  # test texts never repeat a training text


def semeval_rows(start_id: int, per_label: int, filler_words: list[str] = FILLER) -> list[list[str]]:
    """Learnable synthetic tweets: the stance follows the target's cue words."""
    rows, next_id = [], start_id
    for target, (pro, con) in CUES.items():
        for i in range(per_label):
            filler = filler_words[i % len(filler_words)]
            for label, text in (
                ("FAVOR", f"I trust {pro} {filler}"),
                ("AGAINST", f"so much {con} {filler}"),
                ("NONE", f"lunch was good {filler} #food"),
            ):
                rows.append([str(next_id), target, f'"{text}" #SemST', label, "TARGET", "NEITHER"])
                next_id += 1
    return rows


def write_semeval(path: Path, rows: list[list[str]], encoding: str) -> Path:
    """Tab-separated with a header and CRLF line ends, as the organisers ship it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(SEMEVAL_HEADER), *("\t".join(row) for row in rows)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_semeval_files(root: Path, per_label: int = 6) -> dict[str, Path]:
    """Train (cp1252, with a non-ASCII tweet) and test (ASCII) files."""
    train_rows = semeval_rows(101, per_label)
    train_rows.append(["999", "Atheism", "Caf\u00e9 \u2014 I trust reason na\u00efvely #SemST", "FAVOR", "TARGET", "POSITIVE"])
    return {
        "train": write_semeval(root / "train.txt", train_rows, "cp1252"),
        "test": write_semeval(root / "test.txt", semeval_rows(10001, 2, TEST_FILLER), "ascii"),
    }


def semeval_dataset_section(files: dict[str, Path], dev_fraction: float = 0.0) -> dict:
    return {
        "delimiter": "\t",
        "quoting": "none",
        "encoding": "ascii",
        "id_column": "ID",
        "text_column": "Tweet",
        "targets": [{"target_column": "Target", "label_column": "Stance"}],
        "remove_patterns": ["#SemST"],
        "dev_fraction": dev_fraction,
        "files": [
            {"path": str(files["train"]), "split": "train", "encoding": "cp1252"},
            {"path": str(files["test"]), "split": "test"},
        ],
    }


def ruw_csv(rows: list[tuple[str, str, str]], split: str) -> bytes:
    """RUW's layout: Tweet, Target 1, Stance 1, Target 2, Stance 2, Test/Train/Dev; GB18030."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Tweet", "Target 1", "Stance 1", "Target 2", "Stance 2", "Test/Train/Dev"])
    for tweet, russia, ukraine in rows:
        writer.writerow([tweet, "Russia", russia, "Ukraine", ukraine, split])
    return buffer.getvalue().encode("gb18030")


def ruw_dataset_section(files: list[Path]) -> dict:
    return {
        "encoding": "gb18030",
        "text_column": "Tweet",
        "targets": [
            {"target_column": "Target 1", "label_column": "Stance 1"},
            {"target_column": "Target 2", "label_column": "Stance 2"},
        ],
        "split_column": "Test/Train/Dev",
        "split_values": {"Train": "train", "Dev": "dev", "Test": "test"},
        "files": [{"path": str(path)} for path in files],
    }


def write_dataset_config(root: Path, dataset: dict, name: str = "tiny-public", **train: object) -> Path:
    """A benchmark-style config over ``dataset`` with its own dirs and registered model."""
    config = {
        "experiment": name,
        "target": f"{name} targets",
        "labels": ["FAVOR", "AGAINST", "NONE"],
        "none_label": "NONE",
        "seed": 7,
        "data": {
            "gold_dev": None,
            "gold_test": None,
            "interim_dir": str(root / "interim"),
            "processed_dir": str(root / "processed"),
            "reports_dir": str(root / "reports"),
            "dataset": dataset,
        },
        "label": {"functions": None},
        "train": {"model": "tfidf_logreg", "target_mode": "per_target", **train},
        "evaluate": {"f_avg_labels": ["FAVOR", "AGAINST"]},
        "registry": {"model_name": f"{name}-stance", "gate_metric": "test_f_avg"},
    }
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
