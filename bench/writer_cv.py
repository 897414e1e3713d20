"""Choose settings without the evaluation sets: leave-one-writer-out cross-validation over
the statements bank.

    .venv/bin/python bench/writer_cv.py --grid train.tfidf_logreg.C=1,2,4,8
    .venv/bin/python bench/writer_cv.py --model embed_logreg --grid train.embed_logreg.C=0.5,2,8

Each bank part was written by a different annotator-writer about a different period, so
holding one part out and training on everything else (the corpus rows, the other parts,
the real-corpus gold dev) measures what the challenge set measures, new wording by a new
writer, without looking at the challenge set, gold test or any other evaluation set. The
score of a setting is the mean macro-F1 over the held-out parts (and its range). Every
setting named in ``--grid`` is tried on its own against the config as shipped.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CONFIGS, at_repo_root, training_setup  # noqa: E402

from pipeline.config import Config, load_config  # noqa: E402
from pipeline.stages import evaluate_on  # noqa: E402
from pipeline.train import TRAIN_SOURCE, fit_classifier  # noqa: E402
from pipeline.environment import set_up_environment  # noqa: E402


def writer_folds(config: Config, setup_rows) -> list[str]:  # noqa: ANN001
    """The bank parts (file stems) among the training rows."""
    bank = setup_rows.loc[setup_rows[TRAIN_SOURCE] == "statements", "doc_id"].astype(str)
    return sorted({doc.split(":", 1)[0] for doc in bank})


def cross_validate(config: Config, overrides: list[str], base: Path) -> list[float]:
    tried = load_config(base, overrides)
    setup = training_setup(tried)
    rows = setup.rows
    part = rows["doc_id"].astype(str).str.split(":", n=1).str[0].where(rows[TRAIN_SOURCE] == "statements", "")
    scores = []
    for fold in writer_folds(tried, rows):
        held = part == fold
        fitted = fit_classifier(tried, rows.loc[~held].reset_index(drop=True), setup.dev)
        gold = rows.loc[held].reset_index(drop=True)
        metrics = evaluate_on(tried, fitted.classifier, gold, "fold").metrics
        scores.append(metrics["fold_macro_f1"])
        print(f"  {' '.join(overrides) or '(as shipped)'} held out {fold}: {scores[-1]:.3f}", file=sys.stderr, flush=True)
    return scores


def main() -> None:
    set_up_environment()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=tuple(CONFIGS), default="tfidf_logreg")
    parser.add_argument(
        "--grid", nargs="*", default=[], metavar="KEY=V1,V2", help="settings to try, each key's values one at a time"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="applied to every setting tried (and to the baseline)",
    )
    args = parser.parse_args()
    at_repo_root()
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    trials = [list(args.overrides)]
    for item in args.grid:
        key, _, values = item.partition("=")
        trials += [[*args.overrides, f"{key}={value}"] for value in values.split(",")]
    print("| setting | leave-one-writer-out macro-F1 (mean) | min | max |\n|---|---|---|---|")
    base = CONFIGS[args.model]
    for overrides in trials:
        scores = cross_validate(load_config(base), overrides, base)
        label = " ".join(o for o in overrides if o not in args.overrides) or "as shipped"
        print(f"| {label} | {np.mean(scores):.3f} | {min(scores):.3f} | {max(scores):.3f} |", flush=True)


if __name__ == "__main__":
    main()
