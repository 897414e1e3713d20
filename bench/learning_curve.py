"""Learning curve: each model kind trained on 10%, 25%, 50% and 100% of its training rows,
scored on gold test, the challenge set and the real-corpus gold test.

    .venv/bin/python bench/learning_curve.py                                # all kinds, table + PNG
    .venv/bin/python bench/learning_curve.py --models tfidf_logreg embed_logreg --seeds 3

The training rows are those `stance run` makes with each kind's shipped config
(``bench/common.py``). A fraction is a seeded sample stratified by label (every label keeps
at least one row); fractions below 100% are drawn with ``--seeds`` seeds (the seed also
seeds the model), and the table gives the mean and the spread (min-max) over seeds. The
evaluation sets are never sampled or trained on. Answers two questions in numbers: does
more data still help, and from what size does the fine-tuned transformer overtake tf-idf.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CONFIGS, REPO, TrainingSetup, at_repo_root, score_sets, training_setup  # noqa: E402

from pipeline.config import Config, load_config  # noqa: E402
from pipeline.train import fit_classifier  # noqa: E402
from pipeline.environment import set_up_environment  # noqa: E402

FRACTIONS = (0.1, 0.25, 0.5, 1.0)
SETS = (("test", "gold test"), ("challenge", "challenge"), ("real_test", "real-corpus gold test"))


def subsample(rows: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """A seeded share of ``rows`` per label (at least one row each), in the original order."""
    if fraction >= 1.0:
        return rows
    rng = np.random.default_rng(seed)
    keep = []
    for _, group in rows.groupby("label", sort=True):
        size = max(1, round(len(group) * fraction))
        keep.extend(rng.choice(group.index.to_numpy(), size=size, replace=False))
    return rows.loc[sorted(keep)].reset_index(drop=True)


def curve(kind: str, config: Config, setup: TrainingSetup, fractions: tuple[float, ...], seeds: int) -> list[dict]:
    results = []
    for fraction in fractions:
        for seed in range(seeds if fraction < 1.0 else 1):
            seeded = config.model_copy(update={"seed": config.seed + seed})
            rows = subsample(setup.rows, fraction, config.seed + seed)
            fitted = fit_classifier(seeded, rows, setup.dev)
            metrics = score_sets(seeded, fitted.classifier, setup, behaviour=False)
            results.append(
                {
                    "model": kind,
                    "fraction": fraction,
                    "seed": seed,
                    "rows": len(rows),
                    "train_seconds": fitted.metrics["train_seconds"],
                    **metrics,
                }
            )
            print(
                f"{kind} {fraction:.0%} seed {seed}: {len(rows)} rows, test {metrics['test_macro_f1']:.3f}, "
                f"challenge {metrics.get('challenge_macro_f1', float('nan')):.3f}",
                file=sys.stderr,
                flush=True,
            )
    return results


def summary_table(results: pd.DataFrame) -> str:
    sets = [(name, title) for name, title in SETS if f"{name}_macro_f1" in results.columns]
    head = ["model", "share", "rows", *[f"{title} macro-F1" for _, title in sets], "train s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (model, fraction), group in results.groupby(["model", "fraction"], sort=False):
        cells = [model, f"{fraction:.0%}", str(int(group["rows"].mean()))]
        for name, _ in sets:
            values = group[f"{name}_macro_f1"]
            spread = f" ({values.min():.3f}–{values.max():.3f})" if len(values) > 1 else ""
            cells.append(f"{values.mean():.3f}{spread}")
        cells.append(f"{group['train_seconds'].mean():.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: pd.DataFrame, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = [(name, title) for name, title in SETS if f"{name}_macro_f1" in results.columns]
    fig, axes = plt.subplots(1, len(sets), figsize=(4.2 * len(sets), 3.8), sharey=True)
    for ax, (name, title) in zip(np.atleast_1d(axes), sets):
        for model, group in results.groupby("model", sort=False):
            stats = group.groupby("rows")[f"{name}_macro_f1"].agg(["mean", "min", "max"]).reset_index()
            ax.plot(stats["rows"], stats["mean"], marker="o", label=model)
            ax.fill_between(stats["rows"], stats["min"], stats["max"], alpha=0.2)
        ax.set_xscale("log")
        ticks = sorted(results["rows"].unique())
        ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
        ax.minorticks_off()
        ax.set_title(title)
        ax.set_xlabel("training rows")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("macro-F1")
    np.atleast_1d(axes)[0].legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main() -> None:
    set_up_environment()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=tuple(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--fractions", nargs="+", type=float, default=list(FRACTIONS))
    parser.add_argument("--seeds", type=int, default=3, help="samples (and model seeds) per fraction below 100%%")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--csv", type=Path, default=REPO / "bench" / "results" / "learning_curve.csv")
    parser.add_argument("--png", type=Path, default=REPO / "docs" / "images" / "learning_curve.png")
    parser.add_argument(
        "--from-csv", type=Path, nargs="+", metavar="CSV", help="no training: table and plot from per-run CSVs written earlier"
    )
    args = parser.parse_args()
    at_repo_root()
    if args.from_csv:
        replot(args.from_csv, args.png)
        return
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    results = []
    for kind in args.models:
        config = load_config(CONFIGS[kind], args.overrides)
        results += curve(kind, config, training_setup(config), tuple(args.fractions), args.seeds)
    frame = pd.DataFrame(results)
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.csv, index=False)
    print(summary_table(frame))
    print(f"\nper-run rows: {args.csv}; plot: {plot(frame, args.png)}", file=sys.stderr)


def replot(csv_files: list[Path], png: Path) -> Path:
    """The plot (and table) again from saved per-run CSVs, e.g. one per model kind run separately."""
    frame = pd.concat([pd.read_csv(f) for f in csv_files], ignore_index=True)
    print(summary_table(frame))
    return plot(frame, png)


if __name__ == "__main__":
    main()
