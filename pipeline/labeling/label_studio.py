"""Label Studio round trip for ``stance suggest`` / ``stance label --gold``.

``stance suggest --format label-studio`` writes tasks in Label Studio's import format: one
task per sentence, ``data`` holding the text and where it came from, and the model's label
as a pre-filled ``prediction`` (a ``choices`` result), plus the labeling interface beside
it (``<name>.label_config.xml``: a single-choice ``stance`` question over ``text``). The
export Label Studio writes after annotation (its JSON format: each task with its
``annotations``, each a ``result`` list) is read back by ``stance label --gold``: the most
recent annotation that was not cancelled gives the label.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import quoteattr

import pandas as pd

from pipeline.errors import InputError

FROM_NAME, TO_NAME = "stance", "text"  # the interface's Choices and Text tags
DATA_FIELDS = ("sentence_id", "doc_id", "char_start", "char_end", "text", "reason")


def label_config(labels: Sequence[str]) -> str:
    """The labeling interface: the sentence and one choice per label."""
    choices = "\n".join(f"    <Choice value={quoteattr(label)}/>" for label in labels)
    return (
        f'<View>\n  <Text name="{TO_NAME}" value="$text"/>\n'
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single" showInLine="true">\n'
        f"{choices}\n  </Choices>\n</View>\n"
    )


def _plain(value: object) -> object:
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def to_tasks(ranked: pd.DataFrame, model_version: str) -> list[dict]:
    """Label Studio tasks for suggested sentences, the model's label as a prediction."""
    tasks = []
    for row in ranked.to_dict(orient="records"):
        task: dict = {"data": {field: _plain(row[field]) for field in DATA_FIELDS if field in row}}
        stance = str(row.get("model_stance") or row.get("weak_label") or "")
        if stance:
            score = _plain(row.get("model_confidence")) if row.get("model_stance") else _plain(row.get("weak_confidence"))
            task["predictions"] = [
                {
                    "model_version": model_version,
                    "score": score,
                    "result": [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": [stance]}}],
                }
            ]
        tasks.append(task)
    return tasks


def write_tasks(ranked: pd.DataFrame, output: Path, labels: Sequence[str], model_version: str) -> Path:
    """The tasks file and, beside it, the labeling interface; returns the interface's path."""
    from pipeline.io import atomic_path

    interface = output.with_name(f"{output.stem}.label_config.xml")
    with atomic_path(output) as tmp:
        tmp.write_text(json.dumps(to_tasks(ranked, model_version), indent=1, ensure_ascii=False), encoding="utf-8")
    with atomic_path(interface) as tmp:
        tmp.write_text(label_config(labels), encoding="utf-8")
    return interface


def _choice(annotation: dict, where: str) -> str | None:
    for result in annotation.get("result") or []:
        if result.get("type") == "choices" and result.get("from_name", FROM_NAME) == FROM_NAME:
            choices = (result.get("value") or {}).get("choices") or []
            if len(choices) != 1:
                raise InputError(f"{where}: expected one stance choice, found {choices}")
            return str(choices[0])
    return None


def read_export(path: Path, labels: Sequence[str]) -> pd.DataFrame:
    """The labelled sentences of a Label Studio JSON export: ``doc_id``, ``text``, ``label``
    (and the other ``data`` fields), one row per task with a usable annotation."""
    try:
        tasks = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a Label Studio JSON export ({exc})") from None
    if not isinstance(tasks, list):
        raise InputError(f"{path}: a Label Studio JSON export is a list of tasks")
    rows = []
    for number, task in enumerate(tasks, 1):
        where = f"{path} task {number} (id {task.get('id', '?')})"
        data = task.get("data") or {}
        if "text" not in data or "doc_id" not in data:
            raise InputError(f"{where}: data has no 'text' and 'doc_id' (was it exported from `stance suggest` tasks?)")
        kept = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
        kept.sort(key=lambda a: str(a.get("updated_at") or a.get("created_at") or ""))
        label = next((c for c in (_choice(a, where) for a in reversed(kept)) if c is not None), None)
        if label is None:
            continue  # not annotated yet (or only cancelled): skipped, like an empty label in a CSV
        if label not in labels:
            raise InputError(f"{where}: label {label!r} is not one of {', '.join(labels)}")
        rows.append({**data, "label": label})
    if not rows:
        raise InputError(f"{path}: no task has an annotation yet")
    return pd.DataFrame(rows)
