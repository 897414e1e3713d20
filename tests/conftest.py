"""Shared fixtures: an isolated working directory with its own MLflow store."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from corpus import write_config, write_corpus  # noqa: E402
from mlflow_server import logged_server  # noqa: E402,F401  (session fixture: one live server for server + browser tests)
from chromium import browser  # noqa: E402,F401  (headless Chromium for the browser tests)

REPO = Path(__file__).resolve().parents[1]


def shared_data() -> Path:
    return Path(os.environ.get("STANCE_SHARED_DATA") or REPO.parent / "shared" / "data")


@pytest.fixture(autouse=True)
def _quiet_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _ctrl_c_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as in a terminal, even when the test runner was
    started in the background with SIGINT ignored (a CI job, `nohup`): the tests that send
    the process SIGINT check what a user's Ctrl-C does."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp working directory with its own sqlite store (never the project's mlflow.db)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


@pytest.fixture
def tiny_config(workdir: Path) -> Path:
    """The tiny test corpus and a config pointing at it."""
    return write_config(workdir, write_corpus(workdir / "corpus"))
