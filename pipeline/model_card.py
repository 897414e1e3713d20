"""The model card: one Markdown page saying what a trained model is, what it learnt from,
how well it scored on gold test (with the uncertainty of that score), where it is weak and
how to use it. The evaluate stage writes it beside its reports and logs it with them.

Every statement is computed from the config, the train stage's record and the evaluation;
nothing is written by hand, so the card cannot drift from the model it describes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.corpus import corpus_for

if TYPE_CHECKING:
    from pipeline.config import Config
    from pipeline.gate import GateDecision
    from pipeline.stage_paths import TrainRecord

WEAK_F1 = 0.5  # per-class F1 below this is listed under limitations
FEW_SUPPORT = 10  # so are classes with fewer gold-test rows than this


def _with_interval(metrics: dict[str, float], name: str) -> str:
    value = f"{metrics[f'test_{name}']:.3f}"
    low, high = metrics.get(f"test_{name}_ci_low"), metrics.get(f"test_{name}_ci_high")
    return value if low is None or high is None else f"{value} (95% bootstrap interval {low:.3f}–{high:.3f})"


def _per_class_table(report: pd.DataFrame, rows_heading: str = "gold-test rows") -> list[str]:
    lines = [f"| label | precision | recall | F1 | {rows_heading} |", "|---|---|---|---|---|"]
    for row in report.itertuples(index=False):
        lines.append(f"| {row.label} | {row.precision:.3f} | {row.recall:.3f} | {row.f1:.3f} | {int(row.support)} |")
    return lines


def _limitations(config: "Config", train: dict[str, float], metrics: dict[str, float], report: pd.DataFrame) -> list[str]:
    notes = []
    per_class = report.loc[report["label"].isin(config.labels)]
    weak = per_class.loc[per_class["f1"] < WEAK_F1]
    if not weak.empty:
        notes.append(
            "Weak classes (F1 below 0.5 on gold test): "
            + ", ".join(f"`{r.label}` {r.f1:.2f}" for r in weak.itertuples(index=False))
            + "."
        )
    few = per_class.loc[per_class["support"] < FEW_SUPPORT]
    if not few.empty:
        notes.append(
            "Few gold-test rows, so their scores are rough: "
            + ", ".join(f"`{r.label}` ({int(r.support)})" for r in few.itertuples(index=False))
            + "."
        )
    low, high = metrics.get("test_macro_f1_ci_low"), metrics.get("test_macro_f1_ci_high")
    if low is not None and high is not None:
        notes.append(
            f"Gold test has {int(metrics['test_rows'])} rows; the 95% bootstrap interval of macro-F1 "
            f"spans {low:.3f}–{high:.3f}, so a difference between two models much smaller than that "
            "spread may be chance."
        )
    weak_rows = int(train.get("train_rows", 0) - train.get("train_gold_rows", 0))
    if corpus_for(config).weak_labels and weak_rows > 0:
        notes.append(
            f"{weak_rows} of {int(train.get('train_rows', 0))} training rows carry weak (rule-made) "
            "labels: stance wordings the labeling functions miss are under-represented."
        )
    notes.append(
        f"Confidence is the top class probability; expected calibration error on gold test is {metrics['test_ece']:.3f}."
    )
    return notes


def _training_sources(train: dict[str, float]) -> str:
    prefix = "train_rows_source_"
    sources = {key[len(prefix) :]: value for key, value in train.items() if key.startswith(prefix)}
    if not sources:
        return ""
    return (
        " By source: "
        + ", ".join(
            f"`{name}` {int(count)} ({train.get(f'train_share_source_{name}', 0):.0%})" for name, count in sources.items()
        )
        + "."
    )


def _extra_set_section(name: str, metrics: dict[str, float], report: pd.DataFrame) -> list[str]:
    low, high = metrics.get(f"{name}_macro_f1_ci_low"), metrics.get(f"{name}_macro_f1_ci_high")
    interval = "" if low is None or high is None else f" (95% bootstrap interval {low:.3f}–{high:.3f})"
    return [
        f"## Evaluation on `{name}` (evaluation only, never trained on)",
        "",
        f"- rows: {int(metrics[f'{name}_rows'])}",
        f"- macro-F1: {metrics[f'{name}_macro_f1']:.3f}{interval}",
        f"- accuracy: {metrics[f'{name}_accuracy']:.3f}",
        "",
        *_per_class_table(report, f"{name} rows"),
        "",
    ]


def _behaviour_section(metrics: dict[str, float]) -> list[str]:
    if "behaviour_pass_rate" not in metrics:
        return []
    prefix, skip = "behaviour_", {"behaviour_pass_rate", "behaviour_cases"}
    rates = [
        (key[len(prefix) : -len("_pass_rate")], value)
        for key, value in metrics.items()
        if key.startswith(prefix) and key.endswith("_pass_rate") and key not in skip
    ]
    return [
        "## Behavioural tests",
        "",
        f"{int(metrics['behaviour_cases'])} cases, {metrics['behaviour_pass_rate']:.1%} passed.",
        "",
        "| capability | pass rate |",
        "|---|---|",
        *[f"| {name} | {value:.1%} |" for name, value in rates],
        "",
    ]


def render_model_card(
    config: "Config",
    run_name: str,
    train_info: "TrainRecord",
    metrics: dict[str, float],
    report: pd.DataFrame,
    decision: "GateDecision | None",
    git_commit: str,
    extra_reports: dict[str, pd.DataFrame] | None = None,
) -> str:
    """The card as Markdown. ``train_info``: the train stage's record; ``report``: the
    per-class report; ``decision``: the registry gate's (None when the registry is off);
    ``extra_reports``: the per-class reports of the evaluation sets, by name."""
    train = train_info.metrics
    name = config.registry.model_name if config.registry.enabled else config.experiment
    rows = [
        ("stance target", config.target),
        ("labels", ", ".join(f"`{label}`" for label in config.labels) + f" (`{config.none_label}`: no stance)"),
        (
            "model",
            f"`{run_name}` (kind `{config.train.model}`"
            + (f", target mode `{config.train.target_mode}`" if config.train.target_aware else "")
            + ")",
        ),
        ("MLflow model", f"`{train_info.model_uri}` (train run `{train_info.run_id}`)"),
        (
            "config",
            f"experiment `{config.experiment}`, hash `{train_info.config_hash or config.config_hash()}`, seed {config.seed}",
        ),
        ("code", f"git `{git_commit}`"),
        ("card written", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
    ]
    if decision is not None:
        rows.append(("registry", f"`{decision.model_name}` version {decision.version}: {decision.reason}"))
    lines = [f"# Model card: {name}", "", "| | |", "|---|---|", *[f"| {key} | {value} |" for key, value in rows], ""]
    counts = ", ".join(f"{label} {int(train.get(f'train_rows_{label}', 0))}" for label in config.labels)
    lines += [
        "## Training data",
        "",
        f"{int(train.get('train_rows', 0))} rows ({counts}); {int(train.get('train_gold_rows', 0))} of them gold. "
        f"Source: {corpus_for(config).description()}.{_training_sources(train)} Rows of a gold-test document "
        "(article), and any row that equals or shares an 8-word run with a sentence of gold test, of an "
        "evaluation set or of the behavioural suite, are left out of training.",
        "",
    ]
    lines += [
        "## Evaluation on gold test",
        "",
        f"- rows: {int(metrics['test_rows'])}",
        f"- macro-F1: {_with_interval(metrics, 'macro_f1')}",
        f"- accuracy: {metrics['test_accuracy']:.3f}",
    ]
    if "test_f_avg" in metrics:
        lines.append(f"- F_avg ({', '.join(config.evaluate.f_avg_labels)}): {_with_interval(metrics, 'f_avg')}")
    lines += ["", *_per_class_table(report), ""]
    for name, extra in (extra_reports or {}).items():
        lines += _extra_set_section(name, metrics, extra)
    lines += _behaviour_section(metrics)
    target_column = " and `target`" if config.train.target_aware else ""
    if decision is None:
        model_ref = train_info.model_uri
    elif decision.promoted:
        model_ref = f"models:/{decision.model_name}@{config.registry.alias}"
    else:
        model_ref = f"models:/{decision.model_name}/{decision.version}"
    lines += [
        "## Intended use",
        "",
        f"Label sentences for their stance toward: {config.target}. Input: a `text` column{target_column}; "
        f"output: `stance`, `confidence` and `p_<label>` per row.",
        "",
        "```bash",
        f"stance score sentences.csv --output scored.csv --model {model_ref}",
        "```",
        "",
    ]
    lines += ["## Limitations", "", *[f"- {note}" for note in _limitations(config, train, metrics, report)], ""]
    return "\n".join(lines)
