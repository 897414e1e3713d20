"""The stages run without a tracking store, log what they returned the same way whether
they ran or were reused, and read the gold sets once per run."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Iterator

from public_fixtures import semeval_dataset_section, write_dataset_config, write_semeval_files

from pipeline import stages
from pipeline.config import load_config
from pipeline.corpus import ArticleCorpus, DatasetCorpus, corpus_for
from pipeline.runner import run_pipeline, run_stage
from pipeline.stage_paths import StagePaths, TrainRecord
from pipeline.stage_spec import StageContext
from pipeline.tracking import NullTracker


def test_ingest_label_train_evaluate_run_with_the_null_tracker_and_create_no_store(tiny_config, workdir):
    config = load_config(tiny_config)
    for stage in ("ingest", "label", "train", "evaluate"):
        run_stage(config, stage, tracker=NullTracker())
    paths = StagePaths.of(config)
    assert (paths.model_dir / "bundle.json").exists()
    assert TrainRecord.read(paths.train_info).model_uri == str(paths.model_dir.resolve())
    assert (paths.reports / "metrics.json").exists() and (paths.reports / "model_card.md").exists()
    assert not (workdir / "mlflow.db").exists() and not (workdir / "mlruns").exists()


def test_a_stage_function_runs_from_a_notebook_with_a_context_of_its_own(tiny_config, workdir):
    config = load_config(tiny_config)
    context = StageContext(config, corpus_for(config), StagePaths.of(config), NullTracker(), "notebook")
    result = stages.ingest_stage(context)
    assert result.metrics["ingest_sentences"] == 20 and context.paths.sentences.exists()
    assert not (workdir / "mlflow.db").exists()


class RecordingTracker(NullTracker):
    """Records what each run logged; knows the runs it started (so stamps can be reused)."""

    def __init__(self) -> None:
        self.logged: dict[str, list[tuple]] = {}
        self.current: list[str] = []
        self.started: set[str] = set()

    @contextlib.contextmanager
    def run(self, name: str, tags: dict[str, str] | None = None, nested: bool = False) -> Iterator[str]:
        run_id = uuid.uuid4().hex
        self.started.add(run_id)
        self.logged[name] = []
        self.current.append(name)
        try:
            yield run_id
        finally:
            self.current.pop()

    def log_metrics(self, metrics: dict[str, float]) -> None:
        self.logged[self.current[-1]].append(("metrics", dict(metrics)))

    def set_tags(self, tags: dict[str, str]) -> None:
        self.logged[self.current[-1]].append(("tags", dict(tags)))

    def log_file(self, path: Path, artifact_path: str | None = None) -> None:
        self.logged[self.current[-1]].append(("file", str(path), artifact_path))

    def log_dict(self, data: dict, artifact_file: str) -> None:
        self.logged[self.current[-1]].append(("dict", artifact_file, data))

    def run_finished(self, run_id: str) -> bool:
        return run_id in self.started


def test_a_reused_stage_logs_what_it_logged_when_it_ran(tiny_config, workdir):
    config = load_config(tiny_config)
    tracker = RecordingTracker()
    first = run_pipeline(config, tracker=tracker)
    ran = {stage: list(tracker.logged[stage]) for stage in stages.SPECS}
    second = run_pipeline(config, tracker=tracker)
    assert second == first
    for stage in stages.SPECS:
        skipped, *reused = tracker.logged[stage]
        assert skipped[0] == "tags" and skipped[1]["skipped"] == "true"
        assert reused == ran[stage], stage
    assert ("tags", {"model_uri": str(StagePaths.of(config).model_dir.resolve())}) in ran["train"]
    assert ("file", str(StagePaths.of(config).lf_report), "labeling") in ran["label"]
    assert any(entry[0] == "file" and entry[2] == "evaluation" for entry in ran["evaluate"])


def test_a_run_reads_each_gold_file_once(tiny_config, workdir, monkeypatch):
    from pipeline.labeling import gold

    read: list[str] = []
    real = gold.load_gold

    def counting(path, labels):  # noqa: ANN001, ANN202
        read.append(Path(path).name)
        return real(path, labels)

    monkeypatch.setattr(gold, "load_gold", counting)
    run_pipeline(load_config(tiny_config), tracker=NullTracker())
    assert sorted(read) == ["dev.csv", "test.csv"]


def test_the_corpus_kind_follows_data_dataset(tiny_config, tmp_path):
    assert type(corpus_for(load_config(tiny_config))) is ArticleCorpus
    files = write_semeval_files(tmp_path / "semeval")
    dataset = load_config(write_dataset_config(tmp_path, semeval_dataset_section(files)))
    corpus = corpus_for(dataset)
    assert type(corpus) is DatasetCorpus
    assert corpus.gold_test is not None and set(corpus.gold_test["text"]).isdisjoint(
        corpus.training_rows(corpus.label(corpus.sentences().sentences, Path("-")).labeled)["text"]
    )
