"""What a stage is, to the runner: its declaration (:class:`StageSpec`), what it is handed
(:class:`StageContext`) and what it hands back (:class:`StageResult`).

The declarations themselves are in :mod:`pipeline.stages`; the runner that fingerprints,
runs or reuses them and logs their results is :mod:`pipeline.runner`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from pipeline.errors import InputError

if TYPE_CHECKING:
    from pipeline.config import Config
    from pipeline.corpus import Corpus
    from pipeline.stage_paths import StagePaths
    from pipeline.tracking import Tracker


@dataclass(frozen=True)
class StageInput:
    """A file a stage reads (a :class:`StagePaths` field) and the stage that writes it."""

    field: str
    producer: str

    def require(self, paths: "StagePaths", stage: str) -> None:
        path: Path = getattr(paths, self.field)
        if not path.exists():
            raise InputError(f"{path}: not found; the {stage} stage reads what `stance {self.producer}` writes (run it first)")


@dataclass(frozen=True)
class Artifact:
    """A file to log with the stage's run, in ``folder`` of its artifacts."""

    path: Path
    folder: str


@dataclass(frozen=True)
class StageResult:
    """What a stage hands back for logging: the same whether it ran now or an earlier run
    is reused (the stage cache keeps it in the stamp)."""

    metrics: dict[str, float]
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: tuple[Artifact, ...] = ()
    documents: dict[str, dict] = field(default_factory=dict)  # JSON artifacts by artifact file name


@dataclass(frozen=True)
class StageContext:
    """What a stage function is handed: the config, the run's corpus (gold sets loaded once
    per run), where stages read and write, the tracker and the id of the stage's run."""

    config: "Config"
    corpus: "Corpus"
    paths: "StagePaths"
    tracker: "Tracker"
    run_id: str


@dataclass(frozen=True)
class StageSpec:
    """One stage, declared once.

    ``settings``: the top-level config keys it reads (its fingerprint follows them and
    nothing else); ``inputs``: the files earlier stages wrote that it reads; ``gold_sets``:
    which of the corpus's extra sets it reads (``extra_gold``, ``evaluation_sets``,
    ``behaviour``: their files join its fingerprint); ``outputs``: the files and folders it
    writes (stamped, so an edited output reruns it); ``function``: the stage itself."""

    name: str
    settings: tuple[str, ...]
    inputs: tuple[StageInput, ...]
    gold_sets: tuple[str, ...]
    outputs: Callable[["Config", "StagePaths"], list[Path]]
    function: Callable[[StageContext], StageResult]
