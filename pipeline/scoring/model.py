"""The model ``stance score`` scores with: a logged pyfunc model loaded by URI, and what
scoring reads from it (its labels, its identity, its review band)."""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from pipeline.errors import ModelError, first_line


class Predictor(Protocol):
    """What scoring needs of a model: a frame with ``text`` (and ``target``) in; ``stance``,
    ``confidence`` and ``p_<label>`` out."""

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame: ...


def load_predictor(model_uri: str) -> tuple[Predictor, list[str]]:
    """Load a pyfunc model by URI; return it and its label names (from the signature)."""
    from pipeline import tracking

    tracking.use_experiment_free(needs_store=model_uri.startswith(("models:", "runs:")))
    try:
        model = tracking.load_pyfunc(model_uri)
    except Exception as exc:  # mlflow raises several types for a missing model/alias/store
        raise model_load_error(model_uri, exc) from None
    return model, signature_labels(model.metadata.get_output_schema())


def review_thresholds(predictor: object) -> dict[str, float]:
    """The review band's thresholds of a loaded model ({} when it has none)."""
    from pipeline.classifiers.registry import served

    return dict(getattr(served(predictor), "thresholds", None) or {})


def load_model(model_uri: str) -> Predictor:
    """The pyfunc model alone (what a scoring worker process loads)."""
    return load_predictor(model_uri)[0]


def model_load_error(model_uri: str, exc: Exception) -> ModelError:
    """The one-line error for a model URI that does not load."""
    from pipeline import registry, tracking

    try:
        reason = registry.explain_model_uri(model_uri) if model_uri.startswith("models:/") else None
    except Exception:  # noqa: BLE001  the diagnosis is best effort; the load error below still stands
        reason = None
    if reason is not None:
        return ModelError(f"{model_uri}: {reason} (store {tracking.tracking_uri()})")
    return ModelError(f"{model_uri}: cannot load model from {tracking.tracking_uri()} ({first_line(exc, 300)})")


def signature_labels(outputs: object) -> list[str]:
    """Label names from a model's output schema: its ``p_<label>`` columns, in order."""
    names = outputs.input_names() if outputs is not None else []  # type: ignore[attr-defined]
    return [name[2:] for name in names if name.startswith("p_")]


def model_identity(predictor: Predictor) -> str:
    """What a model URI resolved to (the logged model's id), so a resume notices when an
    alias such as ``@champion`` moved to another version; '' for a plain predictor."""
    metadata = getattr(predictor, "metadata", None)
    return str(getattr(metadata, "model_uuid", "") or getattr(metadata, "run_id", "") or "")
