"""Behavioural tests of one model: pass rate per capability of the CheckList suite, and the
sentences it fails.

    .venv/bin/python bench/behaviour.py --model models:/deployment-stance@champion
    .venv/bin/python bench/behaviour.py --model models/deployment-stance/bundle --failures 5

``--model`` is an MLflow model URI (as `stance score` takes) or a bundle folder. The suite
(``data/behaviour/suite.yaml`` by default) is expanded and scored as `stance evaluate`
does (pipeline/behaviour.py); every evaluated run logs the same pass rates to MLflow.
``bench/models.py`` prints them for every model kind side by side.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, at_repo_root  # noqa: E402

from pipeline.behaviour import expand_suite, load_suite, score_suite  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.environment import set_up_environment  # noqa: E402


def predict(model: str, texts: list[str]) -> list[str]:
    """Stances of ``texts`` from a bundle folder or an MLflow model URI."""
    if Path(model).is_dir():
        from pipeline.classifiers.registry import load_bundle
        from pipeline.classifiers.targeted import predict_frame

        return predict_frame(load_bundle(Path(model)), pd.DataFrame({"text": texts}))["stance"].tolist()
    from pipeline import tracking

    return tracking.load_pyfunc(model).predict(pd.DataFrame({"text": texts}))["stance"].astype(str).tolist()


def main() -> None:
    set_up_environment()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="MLflow model URI or bundle folder")
    parser.add_argument("--suite", type=Path, default=REPO / "data" / "behaviour" / "suite.yaml")
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "default.yaml", help="for the labels")
    parser.add_argument("--failures", type=int, default=3, help="failed sentences shown per capability")
    args = parser.parse_args()
    at_repo_root()
    cases = expand_suite(load_suite(args.suite, load_config(args.config).labels))
    result = score_suite(cases, predict(args.model, cases["text"].tolist()))
    print(f"{int(result.metrics['behaviour_cases'])} cases, pass rate {result.metrics['behaviour_pass_rate']:.3f}\n")
    print("| capability | type | cases | pass rate |\n|---|---|---|---|")
    scored = result.cases.drop_duplicates("case")
    for (name, kind), group in scored.groupby(["capability", "type"], sort=False):
        print(f"| {name} | {kind} | {len(group)} | {group['passed'].mean():.3f} |")
    failed = result.cases.loc[~result.cases["passed"] & (result.cases["predicted"] != result.cases["expected"])]
    for name, group in failed.groupby("capability", sort=False):
        print(f"\n{name}: failed, e.g.")
        for row in group.head(args.failures).itertuples():
            print(f"  expected {row.expected or '(same as the others)'}, got {row.predicted}: {row.text}")


if __name__ == "__main__":
    main()
