"""Where each stage reads and writes, and the train stage's record: what the stages, the
stage cache and the active-learning export share (so neither imports the other)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.io import atomic_path


@dataclass(frozen=True)
class StagePaths:
    """Where each stage reads and writes, derived from the config."""

    sentences: Path
    labeled: Path
    votes: Path
    lf_report: Path
    model_dir: Path
    train_info: Path
    report_root: Path

    @classmethod
    def of(cls, config: Config) -> "StagePaths":
        interim = config.path(config.data.interim_dir)
        processed = config.path(config.data.processed_dir)
        models = Path("models") / config.experiment
        return cls(
            sentences=interim / "sentences.parquet",
            labeled=processed / "labeled.parquet",
            votes=processed / "votes.parquet",
            lf_report=processed / "lf_report.csv",
            model_dir=models / "bundle",
            train_info=models / "train.json",
            report_root=config.path(config.data.reports_dir) / config.experiment,
        )

    @property
    def reports(self) -> Path:
        """The latest evaluation's report folder (a link to ``v<N>/``)."""
        from pipeline.report_folders import LATEST

        return self.report_root / LATEST


@dataclass(frozen=True)
class TrainRecord:
    """What the train stage hands to evaluate (``models/<experiment>/train.json``): the
    logged model, its run, the kind, the config hash and the training metrics."""

    model_uri: str
    run_id: str
    model: str
    config_hash: str
    metrics: dict[str, float] = field(default_factory=dict)

    def write(self, path: Path) -> None:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(asdict(self), indent=2, default=str), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> "TrainRecord":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                data["model_uri"],
                data["run_id"],
                data["model"],
                data.get("config_hash", ""),
                {k: float(v) for k, v in data.get("metrics", {}).items()},
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}: unreadable train record ({exc}); rerun `stance train`") from None
