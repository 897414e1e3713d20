"""The fault matrix: each way users meet bad input or a broken environment, for every
command it applies to. Each case fails in one line (exit 2) and leaves nothing behind (no
run in the MLflow store, no output file), or, for a signal, says what was kept.

| fault | commands | where |
|---|---|---|
| bad articles (latin-1, empty folder, binary CSV, no text column, broken JSONL, only reserved) | run, ingest | here |
| a bad gold file | run and each stage alone | here |
| a failure midway | run (FAILED runs tagged `failure_reason`) | here |
| SIGINT and SIGTERM | run (during evaluate, during registration), ui | here |
| SIGINT and SIGTERM | score (checkpoint kept, --resume continues) | tests/test_score_cli.py |
| an unreachable tracking server | run, each stage alone, score, models, promote, ui | tests/test_tracking_server.py |
| file modes under umask 0022 | run, score (every format) | here; atomic writes: tests/test_io.py |
| reserved column names in the input | score | tests/test_score.py |
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def _latin1_folder(root: Path) -> str:
    folder = root / "latin1"
    folder.mkdir()
    (folder / "a.txt").write_bytes("Title: Caf\xe9\n\nLe pr\xe9sident a parl\xe9.\n".encode("latin-1"))
    return str(folder)


def _empty_folder(root: Path) -> str:
    (root / "empty").mkdir()
    return str(root / "empty")


def _binary_csv(root: Path) -> str:
    (root / "bin.csv").write_bytes(bytes(range(256)) * 4)
    return str(root / "bin.csv")


def _csv_without_text(root: Path) -> str:
    (root / "notext.csv").write_text("doc_id,body\na,hello there\n", encoding="utf-8")
    return str(root / "notext.csv")


def _broken_jsonl(root: Path) -> str:
    (root / "broken.jsonl").write_text('{"text": "fine"}\n{"text": "cut off\n', encoding="utf-8")
    return str(root / "broken.jsonl")


def _only_reserved(root: Path) -> str:
    folder = root / "reserved"
    folder.mkdir()
    (folder / "a.txt").write_text("Title: Later\nDate: 2024-03-01\n\nSpain will not send troops.\n", encoding="utf-8")
    return str(folder)


BAD_ARTICLES = {
    "latin-1 .txt": (_latin1_folder, "a.txt"),
    "empty folder": (_empty_folder, "holds no .txt"),
    "binary .csv": (_binary_csv, "bin.csv"),
    "csv without text": (_csv_without_text, "no 'text' column"),
    "broken .jsonl": (_broken_jsonl, "line 2"),
    "only reserved articles": (_only_reserved, "1 dated on or after data.reserved_from"),
}


def _runs_in_store(workdir: Path) -> list[str]:
    if not (workdir / "mlflow.db").exists():
        return []
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    return [run.info.run_id for exp in client.search_experiments() for run in client.search_runs([exp.experiment_id])]


@pytest.mark.parametrize("command", ["run", "ingest"])
@pytest.mark.parametrize("case", list(BAD_ARTICLES))
def test_bad_articles_fail_in_one_line_before_any_run(case, command, tiny_config, workdir):
    make, expected = BAD_ARTICLES[case]
    source = make(workdir)
    result = runner.invoke(
        app, [command, "--config", str(tiny_config), "--set", f"data.articles={source}", "--set", "data.reserved_from=2024-01-01"]
    )
    assert result.exit_code == 2, result.output
    assert expected in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert _runs_in_store(workdir) == []
    assert not (workdir / "data" / "interim" / "sentences.parquet").exists()


def test_a_stage_that_fails_midway_is_tagged_with_the_reason(tiny_config, workdir, monkeypatch):
    """Past the checks, a failure inside a stage leaves a FAILED run that says why."""
    from pipeline import stages

    def broken(config):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(stages.STAGES, "label", broken)
    result = runner.invoke(app, ["run", "--config", str(tiny_config)])
    assert result.exit_code != 0
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tiny")
    failed = {
        run.data.tags.get("mlflow.runName"): run
        for run in client.search_runs([experiment.experiment_id])
        if run.info.status == "FAILED"
    }
    assert "label" in failed, json.dumps(list(failed))
    assert failed["label"].data.tags["failure_reason"] == "RuntimeError: disk on fire"
    parent = next(run for name, run in failed.items() if name != "label")
    assert parent.data.tags["failure_reason"] == "RuntimeError: disk on fire"


@pytest.mark.parametrize("command", ["run", "ingest", "label", "train", "evaluate"])
def test_a_bad_gold_file_fails_every_stage_before_any_run(command, tiny_config, workdir):
    test = workdir / "corpus" / "test.csv"
    test.write_text(test.read_text().replace(",support,", ",supprt,", 1))
    result = runner.invoke(app, [command, "--config", str(tiny_config)])
    assert result.exit_code == 2, result.output
    assert "test.csv row" in result.output and "'supprt'" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert _runs_in_store(workdir) == []


def _serving(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _processes_mentioning(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_stance_ui_stops_its_server_on_a_signal_in_one_line(signame, workdir):
    """A signal to `stance ui` stops mlflow ui and its uvicorn worker (nothing keeps serving
    the port) and ends with one line, not a traceback."""
    import signal
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    ui = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "ui", "--port", str(port)],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not _serving(port):
            assert ui.poll() is None, ui.communicate()
            assert time.monotonic() < deadline, "the UI never came up"
            time.sleep(0.5)
        ui.send_signal(getattr(signal, signame))
        _, stderr = ui.communicate(timeout=30)
    finally:
        if ui.poll() is None:
            ui.kill()
    assert ui.returncode == 0
    assert "Traceback" not in stderr and "CancelledError" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == f"MLflow UI stopped ({signame})"
    assert not _serving(port)
    assert _processes_mentioning(f"--port {port}") == []


def _versions(workdir: Path, name: str = "tiny-stance") -> list:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    return sorted(client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version))


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _signal_after(real, signame: str):
    """``real``, which then sends this process ``signame`` (as Ctrl-C or `kill` would)."""
    import os
    import signal

    def wrapped(*args, **kwargs):
        result = real(*args, **kwargs)
        os.kill(os.getpid(), getattr(signal, signame))
        return result

    return wrapped


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_ctrl_c_in_evaluate_before_registration_leaves_no_version_and_the_old_reports(signame, tiny_config, workdir, monkeypatch):
    assert runner.invoke(app, ["run", "--config", str(tiny_config)]).exit_code == 0
    reports = workdir / "reports" / "tiny" / "latest"
    before = _folder_bytes(reports)
    from pipeline import stages

    monkeypatch.setattr(stages, "evaluate_on", _signal_after(stages.evaluate_on, signame))
    result = runner.invoke(app, ["run", "--config", str(tiny_config), "--set", "train.tfidf_logreg.C=2"])
    assert result.exit_code == 130
    assert (
        "interrupted during evaluate: ingest, label, train finished and kept their outputs" in result.output
        and "no model version registered; reports unchanged" in result.output
    ), result.output
    assert "no output was written under the final name" not in result.output
    assert [str(v.version) for v in _versions(workdir)] == ["1"]
    assert _folder_bytes(reports) == before
    assert sorted(p.name for p in reports.parent.iterdir()) == ["champion", "latest", "v1"]  # no staging left


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_ctrl_c_during_registration_finishes_it_with_the_gate_decision_and_reports(signame, tiny_config, workdir, monkeypatch):
    assert runner.invoke(app, ["run", "--config", str(tiny_config)]).exit_code == 0
    import mlflow

    monkeypatch.setattr(mlflow, "register_model", _signal_after(mlflow.register_model, signame))
    result = runner.invoke(app, ["run", "--config", str(tiny_config), "--set", "train.tfidf_logreg.C=2"])
    assert result.exit_code == 130
    assert "interrupted at the end of evaluate" in result.output and "registered" in result.output, result.output
    latest = _versions(workdir)[-1]
    assert str(latest.version) == "2"
    assert latest.tags["gate_decision"] in {"promoted", "not_promoted"} and "test_macro_f1" in latest.tags
    assert latest.description.startswith("version 2 ")
    reports = workdir / "reports" / "tiny" / "latest"
    assert reports.resolve().name == "v2"
    metrics = json.loads((reports / "metrics.json").read_text())
    assert f"{metrics['test_macro_f1']:.6f}" == latest.tags["test_macro_f1"]
    assert "version 2:" in (reports / "model_card.md").read_text()


def test_every_file_a_run_and_a_score_write_has_the_umask_mode(tiny_config, workdir):
    """Under umask 0022 every output (stage files, reports, the bundle, stamps, scoring
    outputs in each format) is -rw-r--r--, as a plain write would make it."""
    import os
    import stat

    saved = os.umask(0o022)
    try:
        assert runner.invoke(app, ["run", "--config", str(tiny_config)]).exit_code == 0
        (workdir / "in.csv").write_text("text\nGermany will not send troops.\n")
        for suffix in ("csv", "jsonl", "parquet"):
            result = runner.invoke(app, ["score", "in.csv", "-o", f"scored.{suffix}", "-m", "models:/tiny-stance@champion"])
            assert result.exit_code == 0, result.output
    finally:
        os.umask(saved)
    written = [
        p for folder in ("interim", "processed", "reports", "models") for p in (workdir / folder).rglob("*") if p.is_file()
    ] + sorted(workdir.glob("scored.*"))
    assert len(written) > 20
    modes = {str(p.relative_to(workdir)): oct(stat.S_IMODE(p.stat().st_mode)) for p in written}
    assert {path: mode for path, mode in modes.items() if mode != "0o644"} == {}


def test_each_evaluation_keeps_its_report_folder_and_the_links_follow_latest_and_champion(tiny_config, workdir):
    """Two configs of one experiment no longer overwrite one report folder: v1 and v2 each
    keep theirs; `latest` is the newest, `champion` moves with the gate and with promote."""
    assert runner.invoke(app, ["run", "--config", str(tiny_config)]).exit_code == 0
    assert (
        runner.invoke(
            app,
            [
                "run",
                "--config",
                str(tiny_config),
                "--set",
                "train.tfidf_logreg.C=0.01",
                "--set",
                "train.tfidf_logreg.class_weight=null",
            ],
        ).exit_code
        == 0
    )
    root = workdir / "reports" / "tiny"
    assert sorted(p.name for p in root.iterdir()) == ["champion", "latest", "v1", "v2"]
    assert (root / "latest").resolve().name == "v2"
    v1, v2 = (json.loads((root / v / "metrics.json").read_text()) for v in ("v1", "v2"))
    assert v1 != v2 and "version 1:" in (root / "v1" / "model_card.md").read_text()
    champion = "v2" if v2["test_macro_f1"] > v1["test_macro_f1"] else "v1"
    assert (root / "champion").resolve().name == champion
    other = "1" if champion == "v2" else "2"
    assert runner.invoke(app, ["promote", other, "--name", "tiny-stance"]).exit_code == 0
    assert (root / "champion").resolve().name == f"v{other}"
