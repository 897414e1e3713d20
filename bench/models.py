"""Model benchmark: every classifier kind trained on the training rows of its shipped config,
scored on gold test, the challenge set, the real-corpus gold test and the behavioural suite,
timed, and measured on disk.

    .venv/bin/python bench/models.py                       # all kinds, markdown table
    .venv/bin/python bench/models.py --models finetune     # one kind

Each kind trains with its shipped config (``configs/default.yaml`` for tfidf_logreg,
``configs/<kind>.yaml`` for the others; they differ only in the train section), on training
rows made in-process exactly as `stance run` makes them (ingest, label, the train stage's
sources and leak guard: ``bench/common.py``), without touching the MLflow store. Each model is saved as a bundle and loaded back with
`load_bundle`, so quality and speed are those of the served model. Scoring speed:
``--sentences`` distinct corpus sentences through `predict_proba` (the median of three
passes after a warm-up call, which also builds the ONNX Runtime session), as `stance score`
feeds the pyfunc model. The transformer kinds get one row per way of serving the same
trained model: torch or ONNX Runtime, fp32 or int8 dynamic quantization.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CONFIGS, TrainingSetup, at_repo_root, score_sets, training_setup  # noqa: E402

from pipeline.classifiers.registry import load_bundle  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.train import fit_classifier, fit_target_aware  # noqa: E402
from pipeline.environment import set_up_environment  # noqa: E402

KINDS = tuple(CONFIGS)
# How a trained transformer model is served: (runtime, int8 quantization); each gets a row.
SERVING = (("torch", False), ("torch", True), ("onnxruntime", False), ("onnxruntime", True))


@dataclass
class Row:
    model: str
    metrics: dict[str, float]
    train_seconds: float
    sentences_per_second: float
    sentences_per_cpu_second: float
    size_mb: float
    speed_sentences: int


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def scoring_speed(classifier, texts: list[str], repeats: int = 3) -> tuple[float, float]:  # noqa: ANN001
    """Sentences per wall-clock second and per CPU-second of this process (the second does
    not drop when other processes share the cores; with one thread it is per core), each
    the median of ``repeats`` passes: single passes on this VM vary by a third."""
    classifier.predict_proba(texts[:64])  # warm-up: lazy loading, quantization and ONNX export happen once per process
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        classifier.predict_proba(texts)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return len(texts) / statistics.median(walls), len(texts) / statistics.median(cpus)


def measure(
    name: str,
    config,
    classifier,
    bundle: Path,
    train_seconds: float,
    setup: TrainingSetup,  # noqa: ANN001
    speed_texts: list[str],
) -> Row:
    return Row(
        name,
        score_sets(config, classifier, setup),
        train_seconds,
        *scoring_speed(classifier, speed_texts),
        folder_mb(bundle),
        len(speed_texts),
    )


def bench_kind(kind: str, overrides: list[str], sentences: int, workdir: Path) -> list[Row]:
    """Train ``kind`` with its shipped config, save the bundle under ``workdir/<kind>`` and
    measure it (a transformer kind once per way of serving it)."""
    # a fresh embedding cache, so training time is the cold time; the warm rerun is noted
    cache = [f"train.embed_logreg.cache_dir={workdir / 'cache'}"] if kind == "embed_logreg" else []
    config = load_config(CONFIGS[kind], [*overrides, *cache])
    setup = training_setup(config)
    # distinct sentences only: embed_logreg embeds each distinct text once per call, so
    # repeats would flatter it against finetune
    speed_texts = list(dict.fromkeys(setup.corpus))[:sentences]
    result = fit_target_aware(config, setup.rows, setup.dev)  # as the train stage fits it: calibrated when configured
    if cache:
        warm = fit_classifier(config, setup.rows, setup.dev).metrics["train_seconds"]
        print(f"{kind}: retrained in {warm:.1f}s with the embedding cache warm", file=sys.stderr)
    bundle = workdir / kind
    result.classifier.save(bundle)
    seconds = result.metrics["train_seconds"]
    print(f"{kind}: {len(setup.rows)} training rows, {seconds:.1f}s", file=sys.stderr)
    loaded = load_bundle(bundle)
    if not hasattr(loaded, "use_serving"):  # tf-idf: one way to serve it
        return [measure(kind, config, loaded, bundle, seconds, setup, speed_texts)]
    settings = loaded.settings
    rows = []
    for runtime, quantize in SERVING:
        loaded.use_serving(runtime=runtime, quantize=quantize)
        configured = (runtime, quantize) == (settings.runtime, settings.quantize)
        name = f"{kind} ({runtime}, {'int8' if quantize else 'fp32'}{', as configured' if configured else ''})"
        rows.append(measure(name, config, loaded, bundle, seconds, setup, speed_texts))
    return rows


def measure_bundle(kind: str, overrides: list[str], sentences: int, workdir: Path) -> list[Row]:
    """Measure a bundle trained earlier (``--reuse``), served as configured; train time unknown."""
    config = load_config(CONFIGS[kind], overrides)
    setup = training_setup(config)
    speed_texts = list(dict.fromkeys(setup.corpus))[:sentences]
    return [
        measure(f"{kind} (as configured)", config, load_bundle(workdir / kind), workdir / kind, float("nan"), setup, speed_texts)
    ]


def bench_ensemble(kinds: list[str], overrides: list[str], sentences: int, workdir: Path) -> Row:
    """The equal-weight average of the kinds' bundles in ``workdir``, each served as configured."""
    from pipeline.classifiers.ensemble import EnsembleClassifier

    config = load_config(CONFIGS[kinds[0]], overrides)
    setup = training_setup(config)
    members = [load_bundle(workdir / kind) for kind in kinds]
    ensemble = EnsembleClassifier(config.labels, members, [1.0] * len(members))
    speed_texts = list(dict.fromkeys(setup.corpus))[:sentences]
    row = measure(
        f"ensemble of {' + '.join(kinds)} (equal weights)", config, ensemble, workdir / kinds[0], float("nan"), setup, speed_texts
    )
    row.size_mb = sum(folder_mb(workdir / kind) for kind in kinds)
    return row


def _cells(metrics: dict[str, float], names: list[str]) -> list[str]:
    return [f"{metrics[name]:.3f}" if name in metrics else "" for name in names]


def quality_table(rows: list[Row], labels: list[str]) -> str:
    columns = [
        "test_macro_f1",
        *[f"test_f1_{label}" for label in labels],
        "challenge_macro_f1",
        *[f"challenge_f1_{label}" for label in labels],
        "real_test_macro_f1",
        "real_test_precision_none",
        "real_test_stance_recall",
        "behaviour_mft_pass_rate",
        "behaviour_pass_rate",
    ]
    head = [
        "model",
        "test macro-F1",
        *[f"test F1 {label}" for label in labels],
        "challenge macro-F1",
        *[f"challenge F1 {label}" for label in labels],
        "real test macro-F1",
        "real test none precision",
        "real test stance recall",
        "behaviour MFT pass",
        "behaviour all pass",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join([row.model, *_cells(row.metrics, columns)]) + " |" for row in rows]
    return "\n".join(lines)


def behaviour_table(rows: list[Row]) -> str:
    """Pass rate per behavioural capability (columns) and model (rows)."""
    prefix, suffix = "behaviour_", "_pass_rate"
    capabilities = [
        key[len(prefix) : -len(suffix)]
        for key in rows[0].metrics
        if key.startswith(prefix) and key.endswith(suffix) and key != "behaviour_pass_rate"
    ]
    if not capabilities:
        return ""
    head = ["model", *capabilities, "all"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        rates = [row.metrics[f"{prefix}{name}{suffix}"] for name in capabilities] + [row.metrics["behaviour_pass_rate"]]
        lines.append("| " + " | ".join([row.model, *(f"{rate:.3f}" for rate in rates)]) + " |")
    return "\n".join(lines)


def speed_table(rows: list[Row]) -> str:
    head = ["model", "train s", f"score sent/s ({rows[0].speed_sentences} sentences)", "sent/CPU-s", "bundle MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += [
        f"| {row.model} | {row.train_seconds:.1f} | {row.sentences_per_second:.0f} | "
        f"{row.sentences_per_cpu_second:.0f} | {row.size_mb:.1f} |"
        for row in rows
    ]
    return "\n".join(lines)


def main() -> None:
    set_up_environment()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument(
        "--sentences",
        type=int,
        default=2000,
        help="distinct corpus sentences scored for the speed column (at most the corpus's count)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config override for every model, as `stance run --set`",
    )
    parser.add_argument("--keep", type=Path, help="keep the trained bundles in this folder (default: a temp folder)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: measure a kind's bundle already in the folder instead of training it again",
    )
    parser.add_argument(
        "--ensemble",
        nargs="+",
        choices=KINDS,
        metavar="KIND",
        help="also measure the equal-weight average of these kinds' bundles (no weights are tuned)",
    )
    args = parser.parse_args()
    at_repo_root()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    labels = load_config(CONFIGS["tfidf_logreg"], args.overrides).labels
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        for kind in args.models:
            print(f"... {kind}", file=sys.stderr, flush=True)
            reused = args.reuse and (workdir / kind / "bundle.json").exists()
            rows.extend(
                measure_bundle(kind, args.overrides, args.sentences, workdir)
                if reused
                else bench_kind(kind, args.overrides, args.sentences, workdir)
            )
        if args.ensemble:
            rows.append(bench_ensemble(args.ensemble, args.overrides, args.sentences, workdir))
    print(quality_table(rows, labels))
    print()
    print(behaviour_table(rows))
    print()
    print(speed_table(rows))


if __name__ == "__main__":
    main()
