"""Reading and moving registry aliases for ``stance models`` and ``stance promote``."""

from __future__ import annotations

from pipeline.errors import ModelError


def _client():
    from pipeline import tracking

    tracking.use_experiment_free()
    from mlflow.tracking import MlflowClient

    return MlflowClient()


def list_versions(name: str) -> list[dict[str, str]]:
    """Versions of ``name``, newest first, with metrics from their tags and their aliases."""
    from mlflow.exceptions import MlflowException

    client = _client()
    try:
        versions = client.search_model_versions(f"name='{name}'")
    except MlflowException as exc:
        raise ModelError(f"registered model {name!r}: {str(exc).splitlines()[0]}") from None
    if not versions:
        raise ModelError(f"registered model {name!r} has no versions in this store (run `stance run` first)")
    rows = []
    for v in sorted(versions, key=lambda v: int(v.version), reverse=True):
        rows.append({
            "version": v.version,
            "aliases": ",".join(v.aliases),
            "test_macro_f1": v.tags.get("test_macro_f1", ""),
            "test_accuracy": v.tags.get("test_accuracy", ""),
            "gate": v.tags.get("gate_decision", ""),
            "run_id": v.run_id or "",
            "description": v.description or "",
        })
    return rows


def promote_version(name: str, alias: str, version: str) -> None:
    from mlflow.exceptions import MlflowException

    from pipeline import tracking

    _client()
    try:
        tracking.promote(name, alias, version)
    except MlflowException as exc:
        raise ModelError(f"{name} version {version}: {str(exc).splitlines()[0]}") from None
