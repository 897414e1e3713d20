"""What produced a scored file, in a small JSON file beside it.

``stance score`` writes ``out.csv.provenance.json`` next to ``out.csv`` once the output
is complete: the model URI, the registered version it resolved to, the model's id, the
input and the row counts. ``stance report`` shows the model from it. The output's size
is recorded too, so a provenance file left beside an output that was since replaced by
something else is recognised as stale and ignored.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pipeline.io import atomic_path

log = logging.getLogger(__name__)

SUFFIX = ".provenance.json"


def provenance_path(output: Path) -> Path:
    return output.with_name(output.name + SUFFIX)


def write_provenance(output: Path, fields: dict[str, Any]) -> None:
    """Record ``fields`` (plus the output's name and size) beside the finished ``output``."""
    record = {"output": output.name, "output_bytes": output.stat().st_size, **fields}
    with atomic_path(provenance_path(output)) as tmp:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_provenance(output: Path) -> dict[str, Any] | None:
    """The provenance recorded for ``output``; None when there is none, it is unreadable,
    or it describes an earlier file of that name (a different size)."""
    path = provenance_path(output)
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("%s: unreadable (%s); the model that scored %s is not shown", path, exc, output.name)
        return None
    if not isinstance(record, dict) or record.get("output_bytes") != output.stat().st_size:
        log.warning("%s: describes an earlier %s (size differs); ignored", path, output.name)
        return None
    return record
