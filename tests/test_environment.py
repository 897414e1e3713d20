"""The process environment is set up in one place (pipeline/environment.py), where a process
starts: importing the package changes nothing, the CLI and the pyfunc model set it up, and
every weight load reads local files only, whatever the environment says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from pipeline.environment import set_up_environment

REPO = Path(__file__).resolve().parents[1]
OFFLINE = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")

# In a fresh interpreter: import the third-party modules every pipeline module imports at
# module level (some of them, scikit-learn and MLflow, set variables of their own), then
# every pipeline module, and report what changed in between.
IMPORT_EVERYTHING = r"""
import ast, importlib, json, os, pkgutil, sys
from pathlib import Path
import pipeline
modules = [info.name for info in pkgutil.walk_packages(pipeline.__path__, "pipeline.")]
third_party = set()
for path in Path(pipeline.__path__[0]).rglob("*.py"):
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            third_party.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            third_party.add(node.module)
for name in sorted(n for n in third_party if n.split(".")[0] != "pipeline"):
    importlib.import_module(name)
before = dict(os.environ)
for name in modules:
    importlib.import_module(name)
changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
print(json.dumps({"modules": len(modules), "changed": changed}))
"""


def test_importing_the_package_leaves_the_environment_alone():
    env = {k: v for k, v in os.environ.items() if k not in (*OFFLINE, "TOKENIZERS_PARALLELISM")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["modules"] > 40
    assert result["changed"] == []


def test_set_up_makes_hugging_face_offline_and_keeps_the_callers_choices(monkeypatch):
    for name in OFFLINE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "false")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "true")
    set_up_environment()
    assert [os.environ[name] for name in OFFLINE] == ["1", "1"]
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "false" and os.environ["TOKENIZERS_PARALLELISM"] == "true"


def test_the_cli_sets_up_the_environment_at_start(monkeypatch):
    from pipeline.cli import app

    for name in (*OFFLINE, "TOKENIZERS_PARALLELISM", "MLFLOW_DISABLE_TELEMETRY"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["models", "--help"])
    assert result.exit_code == 0, result.output
    assert [os.environ.get(name) for name in OFFLINE] == ["1", "1"]
    assert os.environ.get("TOKENIZERS_PARALLELISM") == "false" and os.environ.get("MLFLOW_DISABLE_TELEMETRY") == "true"


def test_the_pyfunc_model_sets_up_the_environment_when_loaded(monkeypatch, tmp_path):
    from pipeline.classifiers.pyfunc import BUNDLE_ARTIFACT, StancePyfunc
    from pipeline.classifiers.settings import TfidfLogregConfig
    from pipeline.classifiers.tfidf import TfidfLogreg

    labels = ["support", "none"]
    TfidfLogreg(labels, TfidfLogregConfig(), seed=0).fit(["we send troops", "the weather is fine"], labels).save(tmp_path)
    for name in OFFLINE:
        monkeypatch.delenv(name, raising=False)
    model = StancePyfunc()
    model.load_context(SimpleNamespace(artifacts={BUNDLE_ARTIFACT: str(tmp_path)}))
    assert [os.environ.get(name) for name in OFFLINE] == ["1", "1"]
    assert model.classifier.labels == labels


@pytest.mark.parametrize("loader_name", ["load_pretrained", "load_tokenizer"])
def test_weights_load_from_local_files_only(monkeypatch, tmp_path, loader_name):
    """Even with offline mode off (a notebook that never ran the set-up), no load reaches a hub."""
    import transformers

    from pipeline.classifiers import torch_utils

    seen: dict[str, object] = {}

    class Loaded:
        def eval(self) -> "Loaded":
            return self

    class Loader:
        @staticmethod
        def from_pretrained(folder: str, **kwargs: object) -> Loaded:
            seen.update(folder=folder, **kwargs)
            return Loaded()

    for name in OFFLINE:
        monkeypatch.delenv(name, raising=False)
    if loader_name == "load_tokenizer":
        monkeypatch.setattr(transformers, "AutoTokenizer", Loader)
        torch_utils.load_tokenizer(tmp_path)
    else:
        torch_utils.load_pretrained(Loader, tmp_path, num_labels=2)  # type: ignore[arg-type]
        assert seen["num_labels"] == 2
    assert seen["folder"] == str(tmp_path) and seen["local_files_only"] is True
