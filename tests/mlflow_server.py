"""Real processes for the tracking tests: an `mlflow server` on a free localhost port, and
`stance` subprocesses run in their own working directory against a given store.

Every process started here is stopped by its own process-group id (the server's workers
and `stance ui`'s `mlflow ui` child go with it), never by name.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import pytest

from corpus import write_config, write_corpus

START_TIMEOUT_S = 120.0  # ~10 s on an idle 2-core machine; much more when it is busy


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def quiet_env(tracking_uri: str) -> dict[str, str]:
    """The environment for a child process: this one's, pointed at ``tracking_uri``."""
    env = dict(
        os.environ,
        MLFLOW_TRACKING_URI=tracking_uri,
        MLFLOW_DISABLE_TELEMETRY="true",
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",
    )
    env.pop("PYTEST_CURRENT_TEST", None)  # MLflow runs extra checks in processes that look like its own tests
    return env


def wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT_S) -> None:
    """Poll ``url``/health until it answers OK; fail with the process log if it dies or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url}/health did not answer in {timeout:.0f}s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group led by ``process`` (started with start_new_session), then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


@contextmanager
def background(command: Sequence[str], url: str, log: Path, cwd: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """Start ``command`` in its own session, wait until ``url`` is healthy, stop it on exit."""
    with log.open("wb") as sink:
        process = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(url, process, log)
        yield process
    finally:
        stop(process)


@dataclass(frozen=True)
class Server:
    url: str
    root: Path  # holds the sqlite file and the artifact folder


@contextmanager
def mlflow_server(root: Path) -> Iterator[Server]:
    """`mlflow server` on 127.0.0.1:<free port> with a sqlite backend and proxied artifacts
    under ``root``; its security middleware (allowed hosts, CORS) left on."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'server.db'}",
        "--artifacts-destination",
        str(root / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with background(command, url, root / "server.log", root, quiet_env(url)):
        yield Server(url, root)


def tiny_project(root: Path, experiment: str = "tiny") -> Path:
    """A working directory holding the tiny corpus and its config; returns the config path."""
    root.mkdir(parents=True, exist_ok=True)
    return write_config(root, write_corpus(root / "corpus"), experiment=experiment)


def stance_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


def start_stance(workdir: Path, tracking_uri: str, *args: str) -> subprocess.Popen:
    """`stance ARGS` as a subprocess in ``workdir`` against ``tracking_uri`` (output captured)."""
    return subprocess.Popen(
        stance_command(*args), cwd=workdir, env=quiet_env(tracking_uri), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run_stance(workdir: Path, tracking_uri: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        stance_command(*args),
        cwd=workdir,
        env=quiet_env(tracking_uri),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# Two runs of one experiment that differ in one model setting: a baseline and a much weaker model.
RUN_VARIANTS: tuple[tuple[str, ...], ...] = (
    (),
    ("--set", "train.tfidf_logreg.C=0.0001", "--set", "train.tfidf_logreg.class_weight=null"),
)


@dataclass(frozen=True)
class LoggedServer:
    server: Server
    project: Path
    runs: list[subprocess.CompletedProcess]


@pytest.fixture(scope="session")
def logged_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedServer]:
    """A live `mlflow server` into which `stance run` logged the tiny corpus twice
    (RUN_VARIANTS, one after the other, as subprocesses). Shared by the server and browser tests."""
    root = tmp_path_factory.mktemp("served")
    with mlflow_server(root / "server") as server:
        config = tiny_project(root / "project")
        runs = [run_stance(config.parent, server.url, "run", "--config", str(config), *variant) for variant in RUN_VARIANTS]
        yield LoggedServer(server, config.parent, runs)
