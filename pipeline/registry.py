"""Reading and moving registry aliases for ``stance models``, ``stance promote`` and the
model-URI diagnosis of ``stance score``. Every store call goes through :mod:`pipeline.tracking`."""

from __future__ import annotations

from pathlib import Path

from pipeline import tracking
from pipeline.errors import ModelError


def list_versions(name: str) -> list[dict[str, str]]:
    """Versions of ``name``, newest first, with metrics from their tags and their aliases."""
    tracking.use_experiment_free()
    versions = tracking.model_versions(name)
    if not versions:
        raise ModelError(f"registered model {name!r} has no versions in this store (run `stance run` first)")
    aliases: dict[str, list[str]] = {}
    for alias, version in (tracking.model_aliases(name) or {}).items():
        aliases.setdefault(str(version), []).append(alias)
    rows = []
    for v in sorted(versions, key=lambda v: int(v.version), reverse=True):
        rows.append(
            {
                "version": str(v.version),
                "aliases": ",".join(sorted(aliases.get(str(v.version), []))),
                "test_macro_f1": _rounded(v.tags.get("test_macro_f1", "")),
                "test_accuracy": _rounded(v.tags.get("test_accuracy", "")),
                "gate": v.tags.get("gate_decision", ""),
                "win_p": v.tags.get("gate_win_probability", ""),  # paired-bootstrap win probability over the champion
                "run_id": (v.run_id or "")[:8],
                "description": v.description or "",
            }
        )
    return rows


def _rounded(value: str) -> str:
    try:
        return f"{float(value):.4f}"
    except ValueError:
        return value


def promote_version(name: str, alias: str, version: str) -> str | None:
    """Move ``alias`` to ``version`` by hand; return the version that held it before. The
    ``champion`` report link follows (:mod:`pipeline.report_folders`)."""
    from pipeline.report_folders import point_champion_at

    tracking.use_experiment_free()
    previous = tracking.promote(name, alias, version)
    report_dir = tracking.version_tag(name, version, "report_dir")
    if report_dir and alias == "champion":
        point_champion_at(Path(report_dir))
    return previous


def parse_model_uri(model_uri: str) -> tuple[str, str | None, str | None] | None:
    """``(name, alias, version)`` of a ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` URI
    (one of alias and version is None); None for any other URI."""
    if not model_uri.startswith("models:/"):
        return None
    ref = model_uri[len("models:/") :]
    if "@" in ref:
        name, alias = ref.split("@", 1)
        return name, alias, None
    if "/" in ref:
        name, version = ref.rsplit("/", 1)
        return name, None, version
    return None


def model_version(model_uri: str) -> str:
    """The registered version a ``models:/`` URI points at now ('' for other URIs or when
    the store does not resolve it): what a scored file records as its model version."""
    parsed = parse_model_uri(model_uri)
    if parsed is None:
        return ""
    name, alias, version = parsed
    if version is not None:
        return version
    aliases = tracking.model_aliases(name) or {}
    return aliases.get(alias or "", "")


def explain_model_uri(model_uri: str) -> str | None:
    """Why a ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` URI does not resolve in the
    store (no such model, alias or version, with what there is instead); None when it
    resolves or is another kind of URI (the load failed for another reason)."""
    parsed = parse_model_uri(model_uri)
    if parsed is None:
        return None
    name, alias, version = parsed
    tracking.use_experiment_free()
    aliases = tracking.model_aliases(name)
    if aliases is None:
        names = tracking.registered_model_names()
        known = f"registered: {', '.join(names)}" if names else "it holds none"
        return f"no registered model {name!r} in this store ({known}); train and register one with `stance run`"
    if alias is not None and alias not in aliases:
        have = ", ".join(f"{a} -> version {v}" for a, v in sorted(aliases.items())) or "none"
        return f"{name} has no alias {alias!r} (aliases: {have}); move one with `stance promote VERSION --alias {alias}`"
    if version is not None:
        numbers = sorted(int(v.version) for v in tracking.model_versions(name))
        if not version.isdigit() or int(version) not in numbers:
            return f"{name} has no version {version!r} (versions: {', '.join(map(str, numbers)) or 'none'})"
    return None
