"""Public stance benchmarks: SemEval-2016 Task 6 subtask A and RUW, against published results.

    .venv/bin/python bench/public.py                    # test tables (models fit on train + dev)
    .venv/bin/python bench/public.py --tune             # dev-only grid for the tf-idf settings
    .venv/bin/python bench/public.py --tune --grid C=0.5,1 word_ngram_max=3   # a grid of your own
    .venv/bin/python bench/public.py --tune --folds 5   # 5-fold cross-validation of train + dev
    .venv/bin/python bench/public.py --tune --folds 5 --models ensemble --grid "ensemble.weights=[0.7,0.3],[0.5,0.5]"
    .venv/bin/python bench/public.py --datasets ruw --modes joint --models tfidf_logreg
    .venv/bin/python bench/public.py --datasets semeval2016 --modes per_target --bootstrap 2000   # + 95% intervals

Each variant is its config (``configs/semeval2016.yaml``, ``configs/ruw.yaml``) with
``train.model`` and ``train.target_mode`` overridden, run through the same functions as
``stance run`` (adapter, gold labels, training rows, fit, prediction, metrics), without
MLflow. ``--tune`` fits on the train split and scores the dev split only (``--folds K``:
the mean over K folds of train + dev); test is never looked at. Needs ../shared/data (or
STANCE_SHARED_DATA).
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.classifiers.base import predictions_frame  # noqa: E402
from pipeline.classifiers.targeted import predict_frame  # noqa: E402
from pipeline.train import fit_target_aware  # noqa: E402
from pipeline.classifiers.registry import trainable_names  # noqa: E402
from pipeline.config import Config, load_config  # noqa: E402
from pipeline.datasets import gold_labeled, gold_split, load_dataset, training_pool  # noqa: E402
from pipeline.evaluate import evaluate_predictions  # noqa: E402
from pipeline.train import training_rows  # noqa: E402
from pipeline.environment import set_up_environment  # noqa: E402

CONFIGS = {"semeval2016": REPO / "configs" / "semeval2016.yaml", "ruw": REPO / "configs" / "ruw.yaml"}
MODES = ("none", "per_target", "joint")
# (system, F_favor, F_against, F_avg pooled, F_avg averaged over targets); None: not published.
PUBLISHED = {
    "semeval2016": [
        ("majority class (organisers)", 52.01, 78.44, 65.22, None),
        ("SVM word 1-3 + char 2-5 n-grams (organisers)", 62.98, 74.98, 68.98, None),
        ("MITRE, best team (Zarrella and Marsh)", 59.32, 76.33, 67.82, None),
    ],
    "ruw": [("BERT (RUW authors)", None, None, None, 54.13), ("KDCL (RUW authors)", None, None, None, 78.21)],
}
TUNE_GRID = {"C": ["1", "4", "16"], "word_ngram_max": ["1", "3"], "class_weight": ["balanced", "null"]}


def score_variant(config: Config, examples: pd.DataFrame, split: str, resamples: int = 0) -> dict[str, float]:
    """Fit ``config``'s model as ``stance train`` does and score one split ("dev": trained
    on train only; "test": on train, plus dev when the config says so); with ``resamples``,
    also a 95% bootstrap interval of the pooled F_avg over the split's rows."""
    labeled, _ = gold_labeled(examples, config.labels)
    gold = gold_split(examples, split)
    include_dev = split == "test" and config.train.include_gold_dev
    rows = training_rows(training_pool(labeled, include_dev), gold, include_gold_dev=True)
    result = fit_target_aware(config, rows, gold_split(examples, "dev") if split == "test" else None)
    predicted = predict_frame(result.classifier, gold)
    evaluation = evaluate_predictions(
        gold,
        predicted,
        config.labels,
        split,
        calibration_bins=config.evaluate.calibration_bins,
        f_avg_labels=config.evaluate.f_avg_labels,
        resamples=resamples,
        seed=config.seed,
    )
    return {**evaluation.metrics, "train_seconds": result.metrics["train_seconds"]}


def majority_per_target(config: Config, examples: pd.DataFrame, split: str) -> dict[str, float]:
    """The majority-class baseline: each target's most frequent training label (checks the metric)."""
    train = examples.loc[examples["split"] == "train"]
    majority = train.groupby("target")["gold_label"].agg(lambda s: s.value_counts().idxmax())
    gold = gold_split(examples, split)
    probs = pd.get_dummies(gold["target"].map(majority)).reindex(columns=config.labels, fill_value=0).to_numpy(float)
    return evaluate_predictions(
        gold, predictions_frame(probs, config.labels), config.labels, split, f_avg_labels=config.evaluate.f_avg_labels
    ).metrics


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.2f}"


def result_row(dataset: str, system: str, m: dict[str, float], split: str, labels: tuple[str, str]) -> str:
    favor, against = labels
    cells = [
        m.get(f"{split}_f1_{favor}"),
        m.get(f"{split}_f1_{against}"),
        m.get(f"{split}_f_avg"),
        m.get(f"{split}_f_avg_targets_mean"),
        m.get(f"{split}_macro_f1"),
    ]
    seconds = f"{m['train_seconds']:.1f}" if "train_seconds" in m else ""
    interval = (
        f" | {_pct(m[f'{split}_f_avg_ci_low'])}-{_pct(m[f'{split}_f_avg_ci_high'])}" if f"{split}_f_avg_ci_low" in m else ""
    )
    return f"| {dataset} | {system} | " + " | ".join(_pct(c) for c in cells) + f" | {seconds}{interval} |"


def table_header(interval: bool = False) -> list[str]:
    """The table's head; ``interval``: with a last column for the bootstrap interval."""
    extra = (" F_avg 95% bootstrap interval |", "---|") if interval else ("", "")
    return [
        "| dataset | system | F_favor | F_against | F_avg (pooled) | F_avg (mean over targets) | macro-F1 | train s |" + extra[0],
        "|---|---|---|---|---|---|---|---|" + extra[1],
    ]


def run_test_tables(datasets: list[str], models: list[str], modes: list[str], resamples: int = 0) -> None:
    print(*table_header(resamples > 0), sep="\n")
    for dataset in datasets:
        base = load_config(CONFIGS[dataset])
        examples = load_dataset(base)
        labels = tuple(base.evaluate.f_avg_labels[:2])
        for system, favor, against, pooled, by_target in PUBLISHED[dataset]:
            cells = [favor, against, pooled, by_target]
            print(f"| {dataset} | {system} | " + " | ".join("" if c is None else f"{c:.2f}" for c in cells) + " |  |  |")
        print(
            result_row(dataset, "majority class per target (ours)", majority_per_target(base, examples, "test"), "test", labels)
        )
        for model, mode in itertools.product(models, modes):
            config = load_config(CONFIGS[dataset], [f"train.model={model}", f"train.target_mode={mode}"])
            metrics = score_variant(config, examples, "test", resamples)
            print(result_row(dataset, f"{model}, target_mode={mode}", metrics, "test", labels), flush=True)


def parse_grid(items: list[str] | None) -> dict[str, list[str]]:
    """``KEY=V1,V2`` items as a grid of ``train.*`` overrides; a KEY without a dot is under
    ``train.tfidf_logreg``. Commas inside brackets belong to a value
    (``ensemble.weights=[0.7,0.3],[0.5,0.5]``). None: TUNE_GRID."""
    items = items or [f"{key}={','.join(values)}" for key, values in TUNE_GRID.items()]
    grid = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not values:
            raise SystemExit(f"--grid {item!r}: expected KEY=V1,V2 (e.g. C=0.5,1,2)")
        grid[f"train.{key}" if "." in key else f"train.tfidf_logreg.{key}"] = re.split(r",(?![^\[]*\])", values)
    return grid


def cross_validation_folds(examples: pd.DataFrame, folds: int, seed: int) -> list[pd.DataFrame]:
    """``folds`` copies of the train and dev rows, each with one fold as dev and the rest as
    train. Folds hold whole texts, stratified by each text's first (target, label); test
    rows are left out."""
    from sklearn.model_selection import StratifiedKFold

    pool = examples.loc[examples["split"] != "test"]
    firsts = pool.drop_duplicates("doc_id")
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    copies = []
    for _, held in splitter.split(firsts, firsts["target"] + "|" + firsts["gold_label"]):
        dev_docs = set(firsts["doc_id"].iloc[held])
        copies.append(pool.assign(split=pool["doc_id"].map(lambda d: "dev" if d in dev_docs else "train")))  # noqa: B023 (applied at once)
    return copies


def tuning_score(config: Config, examples: pd.DataFrame, folds: int) -> dict[str, float]:
    """Dev metrics: fit on train, score dev; with ``folds`` > 1, the mean over a
    cross-validation of train + dev instead (steadier than one dev split)."""
    if folds <= 1:
        return score_variant(config, examples, "dev")
    runs = [score_variant(config, fold, "dev") for fold in cross_validation_folds(examples, folds, config.seed)]
    return {key: sum(run[key] for run in runs) / len(runs) for key in runs[0]}


def run_tuning(datasets: list[str], models: list[str], modes: list[str], grid: dict[str, list[str]], folds: int) -> None:
    """The grid on dev (or cross-validated train + dev); pick the settings by dev F_avg."""
    print(*table_header(), sep="\n")
    keys = list(grid)
    for dataset, model, mode in itertools.product(datasets, models, modes):
        examples = load_dataset(load_config(CONFIGS[dataset]))
        for values in itertools.product(*grid.values()):
            overrides = [f"train.model={model}", f"train.target_mode={mode}", *[f"{k}={v}" for k, v in zip(keys, values)]]
            config = load_config(CONFIGS[dataset], overrides)
            labels = tuple(config.evaluate.f_avg_labels[:2])
            name = f"{model}, {mode}, " + ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(keys, values))
            print(result_row(dataset, name, tuning_score(config, examples, folds), "dev", labels), flush=True)


def main() -> None:
    set_up_environment()
    available = trainable_names()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument(
        "--models", nargs="+", choices=available, default=None, help="default: every kind (with --tune: tfidf_logreg)"
    )
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--tune", action="store_true", help="dev-only hyperparameter grid for tfidf_logreg")
    parser.add_argument("--grid", nargs="+", metavar="KEY=V1,V2", help="with --tune: the grid (default: TUNE_GRID)")
    parser.add_argument(
        "--folds", type=int, default=1, help="with --tune: cross-validate over train + dev in this many folds (1: the dev split)"
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=0,
        metavar="N",
        help="test tables: add a 95%% bootstrap interval of pooled F_avg from N resamples of the test rows",
    )
    args = parser.parse_args()
    if args.bootstrap < 0:
        parser.error(f"--bootstrap {args.bootstrap}: expected 0 (no interval) or a positive number of resamples")
    if args.tune:
        run_tuning(args.datasets, args.models or ["tfidf_logreg"], args.modes, parse_grid(args.grid), args.folds)
        return
    run_test_tables(args.datasets, args.models or available, args.modes, args.bootstrap)


if __name__ == "__main__":
    main()
