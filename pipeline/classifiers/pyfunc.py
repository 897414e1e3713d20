"""The MLflow pyfunc wrapper that serves every classifier kind through one interface:
a DataFrame with a ``text`` column (and ``target`` for target-aware models) in; ``stance``,
``confidence``, ``p_<label>`` out."""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import pandas as pd

BUNDLE_ARTIFACT = "bundle"


class StancePyfunc(mlflow.pyfunc.PythonModel):
    """Loads the bundle folder logged as the ``bundle`` artifact and predicts with it."""

    def load_context(self, context) -> None:  # noqa: ANN001 (mlflow's context type)
        from pipeline.classifiers.registry import load_bundle
        from pipeline.environment import set_up_environment

        set_up_environment()
        self.classifier = load_bundle(Path(context.artifacts[BUNDLE_ARTIFACT]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:  # noqa: ANN001
        from pipeline.classifiers.targeted import predict_frame

        if isinstance(model_input, pd.Series):
            model_input = pd.DataFrame({"text": model_input})
        elif "text" not in model_input.columns:
            model_input = model_input.rename(columns={model_input.columns[0]: "text"})
        return predict_frame(self.classifier, model_input)  # a target-aware model also reads `target`
