"""Where each stage reads and writes, and the digests of the configured data: what the
stages, the stage cache and the active-learning export share (so neither imports the other)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config
from pipeline.io import file_digest


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


def data_tags(config: Config) -> dict[str, str]:
    """Content digests of the inputs, so two runs show whether they saw the same data."""
    if config.data.dataset is not None:
        from pipeline.datasets import dataset_paths

        return {f"data.dataset.{path.name}.digest": file_digest(path) for path in dataset_paths(config) if path.exists()}
    tags = {}
    for key in ("articles", "gold_dev", "gold_test", "gold_refs"):
        value = getattr(config.data, key)
        if value and config.path(value).exists():
            tags[f"data.{key}.digest"] = file_digest(config.path(value))
    return tags
