"""The process environment the pipeline runs in, set once where a process starts: the CLI's
main callback, the MLflow pyfunc model's ``load_context`` (a serving or Spark worker process)
and the benchmark scripts. Importing the package changes no environment variable; this does."""

from __future__ import annotations

import os


def set_up_environment() -> None:
    """Hugging Face offline mode: weights come from local folders only, never a hub
    (huggingface_hub reads the variable when it is first imported, hence at start; every
    load also passes ``local_files_only``). Tokenizers stay single-threaded per process,
    and MLflow sends no telemetry unless the caller's environment says otherwise."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
