"""Skip a stage of ``stance run`` whose inputs and settings are unchanged (as DVC and spaCy
projects do).

A stage's *fingerprint* hashes what its result depends on: the stage name, the pipeline's
source code and the versions of the libraries that compute results, the config sections
the stage reads, the digests of the data files named in the config (and of
``train.extra_gold``, the evaluation sets and the behavioural suite where the stage reads
them), and the digests of the files the earlier stages wrote.
What a stage reads and writes is its declaration in :data:`pipeline.stages.SPECS`.
After a stage runs, a *stamp* (``models/<experiment>/stages/<stage>.json``) records the
fingerprint, the digests of the files the stage wrote, what it returned for logging
(metrics, tags, artifacts) and its run.

A stamp is reused only when its fingerprint equals the current one, every file the stage
wrote still has its recorded digest (a file overwritten by another config or edited by hand
reruns the stage) and its MLflow run still exists, active and finished, in the current
tracking store (a new or wiped store reruns everything). ``stance run --force`` ignores
stamps.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.io import file_digest
from pipeline.stage_spec import Artifact, StageResult
from pipeline.stages import SPECS
from pipeline.tracking import MLFLOW, Tracker

if TYPE_CHECKING:
    from pipeline.config import Config
    from pipeline.stage_paths import StagePaths

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
LIBRARIES = ("numpy", "pandas", "scikit-learn", "torch", "transformers", "onnxruntime")


@dataclass(frozen=True)
class Stamp:
    """What one run of a stage left: reused as long as :func:`reusable` says so."""

    stage: str
    fingerprint: str
    outputs: dict[str, str | None]
    result: StageResult
    run_id: str

    def as_dict(self) -> dict:
        return {
            "stage": self.stage,
            "fingerprint": self.fingerprint,
            "outputs": self.outputs,
            "metrics": self.result.metrics,
            "tags": self.result.tags,
            "artifacts": [{"path": str(a.path), "folder": a.folder} for a in self.result.artifacts],
            "documents": self.result.documents,
            "run_id": self.run_id,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Stamp":
        result = StageResult(
            {k: float(v) for k, v in data["metrics"].items()},
            {str(k): str(v) for k, v in data.get("tags", {}).items()},
            tuple(Artifact(Path(a["path"]), a["folder"]) for a in data.get("artifacts", [])),
            dict(data.get("documents", {})),
        )
        return cls(data["stage"], data["fingerprint"], dict(data["outputs"]), result, data["run_id"])


def code_digest() -> str:
    """SHA-256 over the pipeline package's source files and the versions of the libraries
    that compute results: a code edit, committed or not, or an upgrade reruns the stages."""
    digest = hashlib.sha256()
    for file in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(str(file.relative_to(PACKAGE_DIR)).encode())
        digest.update(file.read_bytes())
    for name in LIBRARIES:
        try:
            digest.update(f"{name}=={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name} absent".encode())
    return digest.hexdigest()[:16]


def _digests(files: list[Path]) -> dict[str, str | None]:
    """Each path's content digest; None for a path that does not exist."""
    return {str(path): file_digest(path) if path.exists() else None for path in files}


def fingerprint(config: "Config", stage: str, code: str) -> str:
    """The hash of everything ``stage``'s result depends on, as things are now."""
    from pipeline.corpus import corpus_for
    from pipeline.stage_paths import StagePaths

    paths = StagePaths.of(config)
    corpus = corpus_for(config)
    spec, order, dumped = SPECS[stage], list(SPECS), config.model_dump(mode="json")
    upstream = [path for earlier in order[: order.index(stage)] for path in SPECS[earlier].outputs(config, paths)]
    content = {
        "stage": stage,
        "code": code,
        "settings": {key: dumped[key] for key in spec.settings},
        "data": corpus.data_tags(),
        "inputs": _digests(upstream + corpus.gold_set_files(spec.gold_sets)),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def stamp_path(paths: "StagePaths", stage: str) -> Path:
    return paths.model_dir.parent / "stages" / f"{stage}.json"


def write_stamp(config: "Config", stage: str, fingerprint_: str, result: StageResult, run_id: str) -> None:
    """Record a finished stage run (atomically), after its outputs are written and its result logged."""
    from pipeline.stage_paths import StagePaths
    from pipeline.tracking import dump_json

    paths = StagePaths.of(config)
    stamp = Stamp(stage, fingerprint_, _digests(SPECS[stage].outputs(config, paths)), result, run_id)
    dump_json(stamp.as_dict(), stamp_path(paths, stage))


def read_stamp(path: Path) -> Stamp | None:
    """The stamp at ``path``; None when it is missing or unreadable (the stage just reruns)."""
    try:
        return Stamp.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("%s: unreadable stage stamp (%s); the stage reruns", path, exc)
        return None


def reusable(config: "Config", stage: str, fingerprint_: str, tracker: Tracker = MLFLOW) -> Stamp | None:
    """The stamp of an earlier run of ``stage`` that can stand in for running it now (its run
    still finished in ``tracker``'s store), or None."""
    from pipeline.stage_paths import StagePaths

    paths = StagePaths.of(config)
    stamp = read_stamp(stamp_path(paths, stage))
    if stamp is None or stamp.fingerprint != fingerprint_:
        return None
    if _digests([Path(p) for p in stamp.outputs]) != stamp.outputs:
        log.info("%s: its output files changed since run %s; rerunning", stage, stamp.run_id)
        return None
    if not tracker.run_finished(stamp.run_id):
        log.info("%s: run %s is not in this tracking store; rerunning", stage, stamp.run_id)
        return None
    return stamp
