"""The checkpoint of a scoring run, beside its output, so an interrupted run can resume.

Two hidden files next to ``out.csv``: ``.out.csv.partial`` (the output so far, whole
chunks only) and ``.out.csv.checkpoint.json`` (what produced it and how far it got).
The JSON is replaced atomically after each chunk is on disk, so it never claims more
than the partial holds; bytes past its ``bytes_done`` are a torn chunk and are cut off.
A resume is refused when the input's bytes, the model or any option changed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError
from pipeline.io import article_paths, digest_files

log = logging.getLogger(__name__)

CHECKPOINT_VERSION = 1


def input_fingerprint(path: Path) -> str:
    """SHA-256 of a file's bytes (or a folder's ``.txt`` names and bytes), read in blocks."""
    return digest_files(article_paths(path), name_separator=b"\0")


_CHANGED = {
    "input_fingerprint": "the input's bytes changed",
    "model_uri": "the model URI changed",
    "model_id": "the model behind the URI changed",
    "version": "the checkpoint format changed",
}


@dataclass
class CheckpointState:
    """What a run scores with (compared on resume) and how far it got."""

    input: str
    input_fingerprint: str
    model_uri: str
    model_id: str
    options: dict[str, object]
    chunks_done: int = 0
    rows_done: int = 0
    scored: int = 0
    errors: int = 0
    bytes_done: int = 0
    outputs_done: int = 0  # output rows written (articles at --level article)
    version: int = CHECKPOINT_VERSION

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    def mismatch(self, saved: "CheckpointState") -> str:
        """Why ``saved`` cannot be continued by this run, or '' when it can."""
        for key, reason in _CHANGED.items():
            if getattr(self, key) != getattr(saved, key):
                detail = "" if key == "input_fingerprint" else f" ({getattr(saved, key)!r} -> {getattr(self, key)!r})"
                return reason + detail
        changed = sorted(k for k in {*self.options, *saved.options} if self.options.get(k) != saved.options.get(k))
        return (
            "options changed: " + ", ".join(f"{k} {saved.options.get(k)!r} -> {self.options.get(k)!r}" for k in changed)
            if changed
            else ""
        )


class Checkpoint:
    """The checkpoint files of one output path."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.partial = output.parent / f".{output.name}.partial"
        self.state_path = output.parent / f".{output.name}.checkpoint.json"

    def exists(self) -> bool:
        return self.state_path.exists()

    def start(self, state: CheckpointState) -> CheckpointState:
        """Begin a fresh run, dropping any checkpoint an earlier run left."""
        if self.exists() or self.partial.exists():
            log.warning("%s: discarding the checkpoint of an earlier interrupted run (use --resume to continue it)", self.output)
            self.discard()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.partial.write_bytes(b"")
        self.save(state)
        return state

    def resume(self, expected: CheckpointState) -> CheckpointState:
        """The saved state, if this run may continue it; the partial is cut back to it."""
        if not self.exists():
            raise InputError(f"{self.output}: nothing to resume (no checkpoint {self.state_path.name}); run without --resume")
        saved = self.load()
        reason = expected.mismatch(saved)
        if reason:
            raise InputError(f"{self.output}: cannot resume: {reason}; run without --resume to start over")
        size = self.partial.stat().st_size if self.partial.exists() else -1
        if size < saved.bytes_done:
            raise InputError(
                f"{self.output}: cannot resume: {self.partial.name} holds {max(size, 0)} bytes, "
                f"the checkpoint says {saved.bytes_done}; run without --resume to start over"
            )
        if size > saved.bytes_done:
            with self.partial.open("r+b") as handle:  # a chunk torn by the interruption
                handle.truncate(saved.bytes_done)
        return saved

    def load(self) -> CheckpointState:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            return CheckpointState(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise InputError(f"{self.state_path}: unreadable checkpoint ({exc}); run without --resume") from None

    def save(self, state: CheckpointState) -> None:
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as handle:  # on disk before the rename makes it the checkpoint
            handle.write(state.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.state_path)

    def discard(self) -> None:
        for path in (self.partial, self.state_path, self.state_path.with_name(self.state_path.name + ".tmp")):
            path.unlink(missing_ok=True)
