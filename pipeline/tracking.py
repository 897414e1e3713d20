"""Everything MLflow: the store, runs and tags, logged tables and datasets, model logging,
and the registry gate that moves the champion alias.

MLflow is imported here and nowhere in the stage logic, so stages stay testable without
a tracking store and ``stance --help`` stays fast. The stages and their runner see a
:class:`Tracker`: :data:`MLFLOW` logs to the store, :class:`NullTracker` logs nothing (a
stage run from a notebook or a test, with no store created).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Protocol, Sequence

import pandas as pd

from pipeline.errors import ModelError, TrackingError, first_line
from pipeline.gate import GateDecision, GatePolicy, PairedComparison, decide, promotes_candidate

log = logging.getLogger(__name__)

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
MODEL_ARTIFACT = "model"


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` when set, else the embedded sqlite store in the working directory."""
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def _quiet_defaults() -> None:
    # An unreachable server fails fast in `_require_reachable`; once it answered, a few
    # retries ride out a busy server (sqlite locked, 503) and a big model upload gets time.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "120")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # Known, harmless MLflow warnings: we pass a signature on purpose (an input example
    # would pickle the weights twice) and our pyfunc class is importable code.
    for message in (
        "The specified dataset source can be interpreted",
        "An input example was not provided",
        "Passing a Python object as `python_model`",
        "Hint: Inferred schema contains integer",
    ):
        warnings.filterwarnings("ignore", message=f".*{re.escape(message)}.*")


PROBE_TIMEOUT_S = 5.0


def _require_reachable(uri: str) -> None:
    """Fail in seconds, with one line, when an http(s) tracking server does not answer.

    Any HTTP answer counts (even 401/404: auth and routing are MLflow's business); so does
    a TLS error, which MLflow's own TLS settings may accept."""
    if not uri.startswith(("http://", "https://")):
        return
    import ssl
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=PROBE_TIMEOUT_S).close()
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ssl.SSLError):
            return
        raise TrackingError(
            f"MLflow tracking server {uri} is not reachable ({reason}); start it or point MLFLOW_TRACKING_URI elsewhere"
        ) from None


@contextlib.contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Serialise a critical section across processes sharing one local sqlite store.

    MLflow creates a fresh store's tables without a lock, so two `stance run`s starting
    on one new store collide; the registry gate's read-compare-move must not interleave
    either. Other stores (a server, a database) are not locked here. One lock file serves
    every sqlite store (the sections take seconds), so none is left behind per store."""
    if not uri.startswith("sqlite:"):
        yield
        return
    from filelock import FileLock

    with FileLock(os.path.join(tempfile.gettempdir(), "stance-mlflow-sqlite.lock"), timeout=300):
        yield


def use_experiment(experiment: str) -> str:
    """Point MLflow at the store and experiment; return the experiment id.

    Raises TrackingError with the URI when the store cannot be reached.
    """
    _quiet_defaults()
    uri = tracking_uri()
    _require_reachable(uri)  # before the slow mlflow import
    import mlflow

    mlflow.set_tracking_uri(uri)
    try:
        with store_lock(uri):  # first use creates the tables and the experiment
            return mlflow.set_experiment(experiment).experiment_id
    except Exception as exc:  # mlflow raises many types for an unreachable/invalid store
        raise TrackingError(f"MLflow tracking store {uri} is not usable: {first_line(exc, 300)}") from None


def use_experiment_free(needs_store: bool = True) -> None:
    """Point MLflow at the store without choosing an experiment (for loading models and the
    registry); when ``needs_store``, fails in one line, in seconds, if a tracking server
    does not answer (a model read from a local folder does not need it)."""
    _quiet_defaults()
    uri = tracking_uri()
    if needs_store:
        _require_existing_sqlite(uri)  # reading must not create an empty store as a side effect
        _require_reachable(uri)  # before the slow mlflow import and its retries
    import mlflow

    mlflow.set_tracking_uri(uri)


def _require_existing_sqlite(uri: str) -> None:
    if uri.startswith("sqlite:///"):
        path = Path(uri[len("sqlite:///") :])
        if not path.exists():
            raise TrackingError(
                f"no tracking store here: {path} does not exist (run `stance run` in this folder first, "
                "or set MLFLOW_TRACKING_URI to the store that holds the model)"
            )


def git_commit() -> str:
    """The commit of the pipeline's own code (``-dirty`` with uncommitted changes), wherever
    `stance` runs from; "unknown" for an installed copy outside a git checkout."""
    code = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5, check=False, cwd=code
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
            cwd=code,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if out.returncode != 0:
        return "unknown"
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


@contextlib.contextmanager
def run(name: str, tags: dict[str, str] | None = None, nested: bool = False) -> Iterator[str]:
    """Start an MLflow run (a child run when ``nested``); yield its id. A failure inside
    marks the run FAILED, tags it ``failure_reason`` (the error, or "interrupted") and re-raises."""
    import mlflow

    with mlflow.start_run(run_name=name, nested=nested, tags=tags or {}) as active:
        try:
            yield active.info.run_id
        except BaseException as error:
            reason = "interrupted" if isinstance(error, KeyboardInterrupt) else f"{type(error).__name__}: {error}"
            with contextlib.suppress(Exception):  # the store itself may be what failed
                mlflow.set_tag("failure_reason", reason[:5000])
            raise


def log_params(params: dict[str, str]) -> None:
    import mlflow

    items = list(params.items())
    for start in range(0, len(items), 100):
        mlflow.log_params({k: v[:6000] for k, v in items[start : start + 100]})


def log_metrics(metrics: dict[str, float]) -> None:
    import mlflow

    mlflow.log_metrics({k: float(v) for k, v in metrics.items()})


def set_tags(tags: dict[str, str]) -> None:
    import mlflow

    mlflow.set_tags(tags)


def log_file(path: Path, artifact_path: str | None = None) -> None:
    import mlflow

    mlflow.log_artifact(str(path), artifact_path=artifact_path)


def log_dict(data: dict, artifact_file: str) -> None:
    import mlflow

    mlflow.log_dict(data, artifact_file)


def log_table(frame: pd.DataFrame, artifact_file: str) -> None:
    """Log a DataFrame as a CSV artifact (readable in the UI's artifact view)."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(artifact_file).name
        frame.to_csv(path, index=False)
        parent = str(Path(artifact_file).parent)
        mlflow.log_artifact(str(path), artifact_path=None if parent == "." else parent)


def log_dataset(frame: pd.DataFrame, name: str, context: str, source: str, targets: str | None = None) -> None:
    """Log a DataFrame as an MLflow dataset input (name, digest, schema, source)."""
    import mlflow

    columns = [c for c in frame.columns if c in ("sentence_id", "doc_id", "text", "label", "label_source", "confidence")]
    dataset = mlflow.data.from_pandas(
        frame[columns].reset_index(drop=True), source=source, name=name, targets=targets if targets in columns else None
    )
    mlflow.log_input(dataset, context=context)


def pip_requirements(kind: str) -> list[str]:
    """Explicit requirements for a logged model (inferred ones wrongly add torch builds)."""
    from importlib.metadata import version

    from pipeline.classifiers import registry

    base = ["mlflow", "pandas", "numpy", "scikit-learn", "joblib", "pysbd", "pydantic", "pyyaml"]
    if registry.get(kind).torch:
        base += ["torch", "transformers", "tokenizers", "safetensors", "onnx", "onnxruntime"]
    # A local build tag (torch "2.13.0+cpu") names a wheel PyPI does not serve: pin the release.
    return [f"{name}=={version(name).split('+')[0]}" for name in base]


def log_stance_model(bundle_dir: Path, kind: str, labels: Sequence[str], target_column: bool = False) -> str:
    """Log a classifier bundle as a pyfunc model in the active run; return its URI.

    ``target_column``: the model is target-aware and reads a ``target`` column beside ``text``
    (optional in the signature, so a missing one reaches the model's own one-line error)."""
    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from pipeline.classifiers.pyfunc import BUNDLE_ARTIFACT, StancePyfunc

    signature = ModelSignature(
        inputs=Schema([ColSpec("string", "text"), *([ColSpec("string", "target", required=False)] if target_column else [])]),
        outputs=Schema(
            [ColSpec("string", "stance"), ColSpec("double", "confidence"), *[ColSpec("double", f"p_{label}") for label in labels]]
        ),
    )
    package_dir = Path(__file__).resolve().parent
    logging.getLogger("mlflow.pyfunc").setLevel(logging.ERROR)  # the cloudpickle notice: our class is importable code
    info = mlflow.pyfunc.log_model(
        name=MODEL_ARTIFACT,
        python_model=StancePyfunc(),
        artifacts={BUNDLE_ARTIFACT: str(bundle_dir)},
        signature=signature,
        pip_requirements=pip_requirements(kind),
        code_paths=[str(package_dir)],
    )
    return info.model_uri


def register_and_gate(
    model_uri: str,
    model_name: str,
    alias: str,
    gate_metric: str,
    metrics: dict[str, float],
    run_id: str,
    compare: Callable[[str], PairedComparison | None] | None = None,
    policy: GatePolicy = GatePolicy(),
) -> GateDecision:
    """Register the model; move ``alias`` to it when there is no champion or it beats the
    champion. ``compare(champion_model_uri)`` scores the champion on the candidate's rows
    (:mod:`pipeline.gate`: a paired bootstrap, decided by ``policy``); without it, or when it
    returns None, the candidate's ``gate_metric`` is compared with the champion's (stored as
    a version tag). The reason is written to the version's description and tags. On a local
    sqlite store, concurrent gates take turns."""
    with store_lock(tracking_uri()):
        return _register_and_gate(model_uri, model_name, alias, gate_metric, metrics, run_id, compare, policy)


def _register_and_gate(
    model_uri: str,
    model_name: str,
    alias: str,
    gate_metric: str,
    metrics: dict[str, float],
    run_id: str,
    compare: Callable[[str], PairedComparison | None] | None,
    policy: GatePolicy,
) -> GateDecision:
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    new_score = metrics[gate_metric]
    try:
        champion = client.get_model_version_by_alias(model_name, alias)
    except MlflowException:
        champion = None
    champion_score: float | None = None
    paired: PairedComparison | None = None
    if champion is not None:
        raw = champion.tags.get(gate_metric)
        champion_score = float(raw) if raw is not None else float("-inf")
        if compare is not None:
            paired = compare(f"models:/{model_name}/{champion.version}")
    promoted = promotes_candidate(new_score, None if champion is None else str(champion.version), champion_score, paired, policy)
    # The decision is made before the version exists and goes in with it: no version is ever
    # seen without its scores and its gate decision.
    tags = {
        **{key: f"{value:.6f}" for key, value in metrics.items()},
        "evaluate_run_id": run_id,
        "gate_decision": "promoted" if promoted else "not_promoted",
    }
    if paired is not None:
        tags.update(
            {
                "gate_win_probability": f"{paired.win_probability:.4f}",
                "gate_champion_score": f"{paired.champion_score:.6f}",
                "gate_champion_version": str(champion.version),
                "gate_rows": str(paired.rows),
            }
        )
    version = mlflow.register_model(model_uri, model_name, tags=tags).version
    decision = decide(
        model_name,
        str(version),
        alias,
        gate_metric,
        new_score,
        None if champion is None else str(champion.version),
        champion_score,
        paired,
        policy,
    )
    client.update_model_version(model_name, version, description=decision.reason)
    if decision.promoted:
        client.set_registered_model_alias(model_name, alias, version)
    mlflow.set_tags(
        {"registry.model": model_name, "registry.version": str(version), "registry.promoted": str(decision.promoted).lower()}
    )
    log_dict(decision.as_dict(), "registry/gate_decision.json")
    return decision


def predict_with(model_uri: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A logged model's predictions (``stance``, ``confidence``, ``p_<label>``) for ``frame``."""
    return load_pyfunc(model_uri).predict(frame)


def tag_version(model_name: str, version: str, tags: dict[str, str]) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(model_name, version, key, value)


def version_tag(model_name: str, version: str, key: str) -> str | None:
    from mlflow.tracking import MlflowClient

    return MlflowClient().get_model_version(model_name, version).tags.get(key)


def model_versions(name: str) -> list:
    """The registered versions of ``name`` (empty when it has none)."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        return list(MlflowClient().search_model_versions(f"name='{name}'"))
    except MlflowException as exc:
        raise ModelError(f"registered model {name!r}: {first_line(exc)}") from None


def model_aliases(name: str) -> dict[str, str] | None:
    """``alias -> version`` of the registered model ``name``; None when there is no such model.
    (search_model_versions leaves ``aliases`` empty on sqlite stores; the model has them.)"""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        model = MlflowClient().get_registered_model(name)
    except MlflowException:
        return None
    return {alias: str(version) for alias, version in model.aliases.items()}


def registered_model_names() -> list[str]:
    from mlflow.tracking import MlflowClient

    return sorted(model.name for model in MlflowClient().search_registered_models())


def promote(model_name: str, alias: str, version: str) -> str | None:
    """Move ``alias`` to ``version`` by hand, recording it on the version (tag and
    description); return the version that held the alias before (None when none did)."""
    from datetime import datetime, timezone

    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    with store_lock(tracking_uri()):
        try:
            target = client.get_model_version(model_name, version)
        except MlflowException as exc:
            raise ModelError(f"{model_name} version {version}: {first_line(exc)}") from None
        try:
            previous: str | None = str(client.get_model_version_by_alias(model_name, alias).version)
        except MlflowException:
            previous = None
        client.set_registered_model_alias(model_name, alias, version)
        when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        note = f"{alias} by hand on {when}" + (f", replacing version {previous}" if previous else "")
        client.set_model_version_tag(model_name, version, "gate_decision", "promoted_by_hand")
        client.set_model_version_tag(model_name, version, "promoted_by_hand", note)
        description = f"{target.description}\n{note}" if target.description else note
        client.update_model_version(model_name, version, description=description)
    return previous


def dump_json(data: dict, path: Path) -> None:
    from pipeline.io import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")


def run_finished(run_id: str) -> bool:
    """Whether ``run_id`` is an active, finished run of the current store."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        run = MlflowClient().get_run(run_id)
    except MlflowException:
        return False
    return run.info.lifecycle_stage == "active" and run.info.status == "FINISHED"


def active_run_id() -> str:
    """The id of the active MLflow run (inside :func:`run`)."""
    import mlflow

    return mlflow.active_run().info.run_id


def load_pyfunc(model_uri: str):  # noqa: ANN201 (an mlflow PyFuncModel)
    """The logged model behind ``model_uri`` as a pyfunc (its signature in ``.metadata``)."""
    import mlflow.pyfunc

    return mlflow.pyfunc.load_model(model_uri)


def model_output_schema(model_uri: str):  # noqa: ANN201 (an mlflow Schema)
    """The output schema of a logged model's signature, without loading the model."""
    from mlflow.models import get_model_info

    return get_model_info(model_uri).signature.outputs


def spark_udf(session, model_uri: str, result_type: str):  # noqa: ANN001, ANN201 (pyspark is optional)
    """The logged model as a Spark UDF, run in this process's environment."""
    import mlflow.pyfunc

    logging.getLogger("mlflow.pyfunc").setLevel(logging.ERROR)  # env_manager="local" is deliberate: same venv
    return mlflow.pyfunc.spark_udf(session, model_uri, result_type=result_type, env_manager="local")


class Tracker(Protocol):
    """What the stages and their runner ask of a tracking store."""

    def start(self, experiment: str) -> None: ...

    def run(self, name: str, tags: dict[str, str] | None = None, nested: bool = False) -> ContextManager[str]: ...

    def log_params(self, params: dict[str, str]) -> None: ...

    def log_metrics(self, metrics: dict[str, float]) -> None: ...

    def set_tags(self, tags: dict[str, str]) -> None: ...

    def log_file(self, path: Path, artifact_path: str | None = None) -> None: ...

    def log_dict(self, data: dict, artifact_file: str) -> None: ...

    def log_dataset(self, frame: pd.DataFrame, name: str, context: str, source: str, targets: str | None = None) -> None: ...

    def log_model(self, bundle_dir: Path, kind: str, labels: Sequence[str], target_column: bool = False) -> str: ...

    def register_and_gate(
        self,
        model_uri: str,
        model_name: str,
        alias: str,
        gate_metric: str,
        metrics: dict[str, float],
        run_id: str,
        compare: Callable[[str], PairedComparison | None] | None = None,
        policy: GatePolicy = GatePolicy(),
    ) -> GateDecision | None: ...

    def tag_version(self, model_name: str, version: str, tags: dict[str, str]) -> None: ...

    def run_finished(self, run_id: str) -> bool: ...


class MlflowTracker:
    """The :class:`Tracker` of the MLflow store :func:`tracking_uri` names."""

    def start(self, experiment: str) -> None:
        use_experiment(experiment)

    def run(self, name: str, tags: dict[str, str] | None = None, nested: bool = False) -> ContextManager[str]:
        return run(name, tags, nested)

    def log_params(self, params: dict[str, str]) -> None:
        log_params(params)

    def log_metrics(self, metrics: dict[str, float]) -> None:
        log_metrics(metrics)

    def set_tags(self, tags: dict[str, str]) -> None:
        set_tags(tags)

    def log_file(self, path: Path, artifact_path: str | None = None) -> None:
        log_file(path, artifact_path)

    def log_dict(self, data: dict, artifact_file: str) -> None:
        log_dict(data, artifact_file)

    def log_dataset(self, frame: pd.DataFrame, name: str, context: str, source: str, targets: str | None = None) -> None:
        log_dataset(frame, name, context, source, targets)

    def log_model(self, bundle_dir: Path, kind: str, labels: Sequence[str], target_column: bool = False) -> str:
        return log_stance_model(bundle_dir, kind, labels, target_column)

    def register_and_gate(
        self,
        model_uri: str,
        model_name: str,
        alias: str,
        gate_metric: str,
        metrics: dict[str, float],
        run_id: str,
        compare: Callable[[str], PairedComparison | None] | None = None,
        policy: GatePolicy = GatePolicy(),
    ) -> GateDecision | None:
        return register_and_gate(model_uri, model_name, alias, gate_metric, metrics, run_id, compare, policy)

    def tag_version(self, model_name: str, version: str, tags: dict[str, str]) -> None:
        tag_version(model_name, version, tags)

    def run_finished(self, run_id: str) -> bool:
        return run_finished(run_id)


class NullTracker:
    """A :class:`Tracker` that records nothing and needs no store: each run gets a fresh
    local id, a model's "URI" is its bundle folder, nothing is registered (the registry gate
    is skipped, as with ``registry.enabled: false``) and no earlier run is known, so the
    stage cache never reuses a stamp."""

    def start(self, experiment: str) -> None:
        return None

    @contextlib.contextmanager
    def run(self, name: str, tags: dict[str, str] | None = None, nested: bool = False) -> Iterator[str]:
        import uuid

        yield uuid.uuid4().hex

    def log_params(self, params: dict[str, str]) -> None:
        return None

    def log_metrics(self, metrics: dict[str, float]) -> None:
        return None

    def set_tags(self, tags: dict[str, str]) -> None:
        return None

    def log_file(self, path: Path, artifact_path: str | None = None) -> None:
        return None

    def log_dict(self, data: dict, artifact_file: str) -> None:
        return None

    def log_dataset(self, frame: pd.DataFrame, name: str, context: str, source: str, targets: str | None = None) -> None:
        return None

    def log_model(self, bundle_dir: Path, kind: str, labels: Sequence[str], target_column: bool = False) -> str:
        return str(bundle_dir.resolve())

    def register_and_gate(
        self,
        model_uri: str,
        model_name: str,
        alias: str,
        gate_metric: str,
        metrics: dict[str, float],
        run_id: str,
        compare: Callable[[str], PairedComparison | None] | None = None,
        policy: GatePolicy = GatePolicy(),
    ) -> GateDecision | None:
        return None

    def tag_version(self, model_name: str, version: str, tags: dict[str, str]) -> None:
        return None

    def run_finished(self, run_id: str) -> bool:
        return False


MLFLOW: Tracker = MlflowTracker()
