"""The MLflow pyfunc wrapper that serves every classifier kind through one interface:
a DataFrame with a ``text`` column in; ``stance``, ``confidence``, ``p_<label>`` out."""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import pandas as pd

BUNDLE_ARTIFACT = "bundle"


class StancePyfunc(mlflow.pyfunc.PythonModel):
    """Loads the bundle folder logged as the ``bundle`` artifact and predicts with it."""

    def load_context(self, context) -> None:  # noqa: ANN001 (mlflow's context type)
        from pipeline.classifiers.base import load_bundle

        self.classifier = load_bundle(Path(context.artifacts[BUNDLE_ARTIFACT]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:  # noqa: ANN001
        from pipeline.classifiers.base import predictions_frame

        if isinstance(model_input, pd.Series):
            texts = model_input.astype(str).tolist()
        elif "text" in model_input.columns:
            texts = model_input["text"].astype(str).tolist()
        else:
            texts = model_input.iloc[:, 0].astype(str).tolist()
        return predictions_frame(self.classifier.predict_proba(texts), self.classifier.labels)
