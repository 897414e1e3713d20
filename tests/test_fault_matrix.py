"""The fault matrix: each way users meet bad input or a broken environment, for every
command it applies to. Each case must fail in one line (exit 2) and leave nothing behind:
no run in the MLflow store, no output file."""

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
    result = runner.invoke(app, [command, "--config", str(tiny_config), "--set", f"data.articles={source}",
                                 "--set", "data.reserved_from=2024-01-01"])
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
    failed = {run.data.tags.get("mlflow.runName"): run for run in client.search_runs([experiment.experiment_id])
              if run.info.status == "FAILED"}
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
    ui = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "ui", "--port", str(port)], cwd=workdir,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
