"""Model benchmark: every classifier kind trained on the sample corpus's labelled rows,
scored on gold test, timed, and measured on disk.

    .venv/bin/python bench/models.py                       # all kinds, markdown table
    .venv/bin/python bench/models.py --models finetune     # one kind

Each kind trains with its shipped config (``configs/default.yaml`` for tfidf_logreg,
``configs/<kind>.yaml`` for the others; they differ only in the train section), on training
rows made in-process exactly as `stance run` makes them (ingest, label, `training_rows`),
without touching the MLflow store. Each model is saved as a bundle and loaded back with
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

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.classifiers.base import load_bundle, predictions_frame  # noqa: E402
from pipeline.config import Config, load_config  # noqa: E402
from pipeline.evaluate import evaluate_predictions  # noqa: E402
from pipeline.ingest import ingest_articles  # noqa: E402
from pipeline.io import read_articles  # noqa: E402
from pipeline.labeling.gold import load_gold  # noqa: E402
from pipeline.labeling.stage import label_sentences  # noqa: E402
from pipeline.labeling.suites import get_suite  # noqa: E402
from pipeline.train import fit_classifier, training_rows  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {"tfidf_logreg": REPO / "configs" / "default.yaml", "embed_logreg": REPO / "configs" / "embed_logreg.yaml",
           "finetune": REPO / "configs" / "finetune.yaml"}
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


def labelled_corpus(config: Config) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """The label stage's output, the gold sets and the corpus sentences, made in-process."""
    sentences, _ = ingest_articles(read_articles(REPO / config.data.articles), config.data.reserved_from)
    dev = load_gold(REPO / config.data.gold_dev, config.labels)
    test = load_gold(REPO / config.data.gold_test, config.labels)
    labeled = label_sentences(sentences, get_suite(config.label.functions), config.labels, config.none_label,
                              config.label.aggregator, config.label_priority, dev, config.label.gold_overrides).labeled
    return labeled, dev, test, sentences["text"].tolist()


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


def measure(name: str, classifier, bundle: Path, train_seconds: float, test: pd.DataFrame,  # noqa: ANN001
            labels: list[str], speed_texts: list[str]) -> Row:
    predicted = predictions_frame(classifier.predict_proba(test["text"].tolist()), labels)
    metrics = evaluate_predictions(test, predicted, labels).metrics
    return Row(name, metrics, train_seconds, *scoring_speed(classifier, speed_texts), folder_mb(bundle))


def bench_kind(kind: str, config_path: Path, overrides: list[str], labeled: pd.DataFrame, dev: pd.DataFrame, test: pd.DataFrame,
               speed_texts: list[str], workdir: Path) -> list[Row]:
    # a fresh embedding cache, so training time is the cold time; the warm rerun is noted
    cache = [f"train.embed_logreg.cache_dir={workdir / 'cache'}"] if kind == "embed_logreg" else []
    config = load_config(config_path, [*overrides, *cache])
    rows = training_rows(labeled, test, config.train.include_gold_dev)
    result = fit_classifier(config, rows, dev)
    if cache:
        warm = fit_classifier(config, rows, dev).metrics["train_seconds"]
        print(f"{kind}: retrained in {warm:.1f}s with the embedding cache warm", file=sys.stderr)
    bundle = workdir / kind
    result.classifier.save(bundle)
    seconds = result.metrics["train_seconds"]
    loaded = load_bundle(bundle)
    if not hasattr(loaded, "use_serving"):  # tf-idf: one way to serve it
        return [measure(kind, loaded, bundle, seconds, test, config.labels, speed_texts)]
    settings = loaded.settings
    rows = []
    for runtime, quantize in SERVING:
        loaded.use_serving(runtime=runtime, quantize=quantize)
        configured = (runtime, quantize) == (settings.runtime, settings.quantize)
        name = f"{kind} ({runtime}, {'int8' if quantize else 'fp32'}{', as configured' if configured else ''})"
        rows.append(measure(name, loaded, bundle, seconds, test, config.labels, speed_texts))
    return rows


def markdown(rows: list[Row], labels: list[str], sentences: int) -> str:
    head = ["model", "test macro-F1", *[f"F1 {label}" for label in labels], "train s",
            f"score sent/s ({sentences})", "sent/CPU-s", "bundle MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row.model, f"{row.metrics['test_macro_f1']:.3f}",
                 *[f"{row.metrics[f'test_f1_{label}']:.3f}" for label in labels],
                 f"{row.train_seconds:.1f}", f"{row.sentences_per_second:.0f}",
                 f"{row.sentences_per_cpu_second:.0f}", f"{row.size_mb:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--sentences", type=int, default=2000,
                        help="distinct corpus sentences scored for the speed column (at most the corpus's count)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="config override for every model, as `stance run --set`")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    base = load_config(CONFIGS["tfidf_logreg"], args.overrides)  # the corpus and gold sets: the same in every config
    labeled, dev, test, corpus = labelled_corpus(base)
    # distinct sentences only: embed_logreg embeds each distinct text once per call, so
    # repeats would flatter it against finetune
    speed_texts = list(dict.fromkeys(corpus))[:args.sentences]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.models:
            print(f"... {kind}", file=sys.stderr, flush=True)
            rows.extend(bench_kind(kind, CONFIGS[kind], args.overrides, labeled, dev, test, speed_texts, Path(tmp)))
    print(markdown(rows, base.labels, len(speed_texts)))


if __name__ == "__main__":
    main()
