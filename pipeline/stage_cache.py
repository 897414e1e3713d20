"""Skip a stage of ``stance run`` whose inputs and settings are unchanged (as DVC and spaCy
projects do).

A stage's *fingerprint* hashes what its result depends on: the stage name, the pipeline's
source code and the versions of the libraries that compute results, the config sections
the stage reads, the digests of the data files named in the config (and of
``train.extra_gold``, the evaluation sets and the behavioural suite where the stage reads
them), and the digests of the files the earlier stages wrote.
After a stage runs, a *stamp* (``models/<experiment>/stages/<stage>.json``) records the
fingerprint, the digests of the files the stage wrote, its metrics and its MLflow run.

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
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import tracking
from pipeline.io import file_digest

if TYPE_CHECKING:
    from pipeline.config import Config
    from pipeline.stage_paths import StagePaths

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
# The config keys each stage reads (top-level names); a change anywhere else leaves it alone.
STAGE_SETTINGS: dict[str, tuple[str, ...]] = {
    "ingest": ("experiment", "seed", "data"),
    "label": ("experiment", "seed", "labels", "none_label", "data", "label"),
    "train": ("experiment", "seed", "labels", "none_label", "data", "train"),
    "evaluate": ("experiment", "labels", "none_label", "data", "train", "evaluate", "registry"),
}
EVALUATION_FILES = ("classification_report.csv", "misclassified.csv", "test_predictions.csv", "metrics.json",
                    "confusion_matrix.png", "calibration.png", "model_card.md")
LIBRARIES = ("numpy", "pandas", "scikit-learn", "torch", "transformers", "onnxruntime")


def evaluation_files(config: "Config") -> list[str]:
    """The report files the evaluate stage writes: gold test's, then per evaluation set and
    for the behavioural suite."""
    extra = [f"{source.set_name}_{kind}" for source in config.evaluate.extra_sets
             for kind in ("classification_report.csv", "predictions.csv")]
    return [*EVALUATION_FILES, *extra, *(["behaviour_results.csv"] if config.evaluate.behaviour else [])]


def stage_outputs(config: "Config", paths: "StagePaths", stage: str) -> list[Path]:
    """The files (and folders) ``stage`` writes."""
    return {
        "ingest": [paths.sentences],
        "label": [paths.labeled, paths.votes, paths.lf_report],
        "train": [paths.model_dir, paths.train_info],
        "evaluate": [paths.reports / name for name in evaluation_files(config)],
    }[stage]


def gold_set_paths(config: "Config", stage: str) -> list[Path]:
    """The extra gold files ``stage`` reads: train reads ``train.extra_gold`` and, for the
    leak guard, the evaluation sets and the behavioural suite; evaluate reads the
    evaluation sets and the suite."""
    sets = [*(config.train.extra_gold if stage == "train" else []),
            *(config.evaluate.extra_sets if stage in ("train", "evaluate") else [])]
    paths = [config.path(p) for source in sets for p in (source.path, source.articles) if p]
    if stage in ("train", "evaluate") and config.evaluate.behaviour:
        paths.append(config.path(config.evaluate.behaviour))
    return paths


@dataclass(frozen=True)
class Stamp:
    """What one run of a stage left: reused as long as :func:`reusable` says so."""

    stage: str
    fingerprint: str
    outputs: dict[str, str | None]
    metrics: dict[str, float]
    run_id: str


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
    from pipeline.stage_paths import StagePaths, data_tags

    paths = StagePaths.of(config)
    dumped = config.model_dump(mode="json")
    order = list(STAGE_SETTINGS)
    upstream = [path for earlier in order[:order.index(stage)] for path in stage_outputs(config, paths, earlier)]
    extra = gold_set_paths(config, stage)
    content = {
        "stage": stage,
        "code": code,
        "settings": {key: dumped[key] for key in STAGE_SETTINGS[stage]},
        "data": data_tags(config),
        "inputs": _digests(upstream + extra),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def stamp_path(paths: "StagePaths", stage: str) -> Path:
    return paths.model_dir.parent / "stages" / f"{stage}.json"


def write_stamp(config: "Config", stage: str, fingerprint_: str, metrics: dict[str, float], run_id: str) -> None:
    """Record a finished stage run (atomically), after its outputs are written."""
    from pipeline.stage_paths import StagePaths
    from pipeline.tracking import dump_json

    paths = StagePaths.of(config)
    stamp = Stamp(stage, fingerprint_, _digests(stage_outputs(config, paths, stage)), dict(metrics), run_id)
    dump_json(asdict(stamp), stamp_path(paths, stage))


def read_stamp(path: Path) -> Stamp | None:
    """The stamp at ``path``; None when it is missing or unreadable (the stage just reruns)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Stamp(data["stage"], data["fingerprint"], dict(data["outputs"]),
                     {k: float(v) for k, v in data["metrics"].items()}, data["run_id"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("%s: unreadable stage stamp (%s); the stage reruns", path, exc)
        return None


def reusable(config: "Config", stage: str, fingerprint_: str) -> Stamp | None:
    """The stamp of an earlier run of ``stage`` that can stand in for running it now, or None."""
    from pipeline.stage_paths import StagePaths

    paths = StagePaths.of(config)
    stamp = read_stamp(stamp_path(paths, stage))
    if stamp is None or stamp.fingerprint != fingerprint_:
        return None
    if _digests([Path(p) for p in stamp.outputs]) != stamp.outputs:
        log.info("%s: its output files changed since run %s; rerunning", stage, stamp.run_id)
        return None
    if not tracking.run_finished(stamp.run_id):
        log.info("%s: run %s is not in this tracking store; rerunning", stage, stamp.run_id)
        return None
    return stamp
