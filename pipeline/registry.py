"""Reading and moving registry aliases for ``stance models`` and ``stance promote``."""

from __future__ import annotations

from pipeline.errors import ModelError, first_line


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
        raise ModelError(f"registered model {name!r}: {first_line(exc)}") from None
    if not versions:
        raise ModelError(f"registered model {name!r} has no versions in this store (run `stance run` first)")
    # search_model_versions leaves `aliases` empty on sqlite stores; the registered model has them
    aliases: dict[str, list[str]] = {}
    for alias, version in client.get_registered_model(name).aliases.items():
        aliases.setdefault(str(version), []).append(alias)
    rows = []
    for v in sorted(versions, key=lambda v: int(v.version), reverse=True):
        rows.append({
            "version": str(v.version),
            "aliases": ",".join(sorted(aliases.get(str(v.version), []))),
            "test_macro_f1": _rounded(v.tags.get("test_macro_f1", "")),
            "test_accuracy": _rounded(v.tags.get("test_accuracy", "")),
            "gate": v.tags.get("gate_decision", ""),
            "run_id": (v.run_id or "")[:8],
            "description": v.description or "",
        })
    return rows


def _rounded(value: str) -> str:
    try:
        return f"{float(value):.4f}"
    except ValueError:
        return value


def promote_version(name: str, alias: str, version: str) -> str | None:
    """Move ``alias`` to ``version`` by hand; return the version that held it before."""
    from mlflow.exceptions import MlflowException

    from pipeline import tracking

    _client()
    try:
        return tracking.promote(name, alias, version)
    except MlflowException as exc:
        raise ModelError(f"{name} version {version}: {first_line(exc)}") from None
