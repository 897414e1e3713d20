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
        previous = tracking.promote(name, alias, version)
        report_dir = tracking.version_tag(name, version, "report_dir")
    except MlflowException as exc:
        raise ModelError(f"{name} version {version}: {first_line(exc)}") from None
    if report_dir and alias == "champion":
        from pathlib import Path

        from pipeline.report_folders import point_champion_at

        point_champion_at(Path(report_dir))
    return previous


def explain_model_uri(model_uri: str) -> str | None:
    """Why a ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` URI does not resolve in the
    store (no such model, alias or version, with what there is instead); None when it
    resolves or is another kind of URI (the load failed for another reason)."""
    from mlflow.exceptions import MlflowException

    if not model_uri.startswith("models:/"):
        return None
    ref = model_uri[len("models:/"):]
    name, alias, version = ref, None, None
    if "@" in ref:
        name, alias = ref.split("@", 1)
    elif "/" in ref:
        name, version = ref.rsplit("/", 1)
    else:
        return None
    client = _client()
    try:
        model = client.get_registered_model(name)
    except MlflowException:
        names = sorted(m.name for m in client.search_registered_models())
        known = f"registered: {', '.join(names)}" if names else "it holds none"
        return f"no registered model {name!r} in this store ({known}); train and register one with `stance run`"
    if alias is not None and alias not in model.aliases:
        have = ", ".join(f"{a} -> version {v}" for a, v in sorted(model.aliases.items())) or "none"
        return f"{name} has no alias {alias!r} (aliases: {have}); move one with `stance promote VERSION --alias {alias}`"
    if version is not None:
        numbers = sorted(int(v.version) for v in client.search_model_versions(f"name='{name}'"))
        if not version.isdigit() or int(version) not in numbers:
            return f"{name} has no version {version!r} (versions: {', '.join(map(str, numbers)) or 'none'})"
    return None
