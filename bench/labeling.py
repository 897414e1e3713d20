"""Labeling benchmark: per-function coverage and accuracy; majority vote vs label model vs
the embedding labeler, on the sample corpus's gold dev, on the statements bank and on the
real corpus's gold.

    .venv/bin/python bench/labeling.py            # prints markdown tables

Aggregators are fitted on the corpus votes plus the evaluated gold rows, without their
labels (as the label stage does). The real corpus needs ../shared/data (or
STANCE_SHARED_DATA); its 2024 articles are never read. The embedding labeler's
prototypes are the sample gold dev (plus the real-corpus gold dev for the real corpus),
left out one at a time when scored on themselves.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import Config, load_config  # noqa: E402
from pipeline.ingest import ingest_articles, normalize_text  # noqa: E402
from pipeline.io import read_articles  # noqa: E402
from pipeline.labeling.gold import load_bank, load_gold, load_gold_refs  # noqa: E402
from pipeline.labeling.stage import label_sentences  # noqa: E402
from pipeline.labeling.suites import get_suite  # noqa: E402
from pipeline.environment import set_up_environment  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Corpus:
    name: str
    config: Config
    sentences: pd.DataFrame
    gold_sets: dict[str, pd.DataFrame]
    prototypes: pd.DataFrame


def load_corpora(include_real: bool) -> list[Corpus]:
    sample = load_config(REPO / "configs" / "default.yaml")
    sample_sentences, _ = ingest_articles(read_articles(REPO / sample.data.articles))
    sample_dev = load_gold(REPO / sample.data.gold_dev, sample.labels)
    bank = load_bank(REPO / "data" / "statements", sample.labels)
    corpora = [Corpus("sample", sample, sample_sentences, {"sample gold dev": sample_dev, "statements bank": bank}, sample_dev)]
    if include_real:
        real = load_config(REPO / "configs" / "ukraine_news.yaml")
        articles = real.path(real.data.articles)
        if not articles.is_dir():
            print(f"(real corpus skipped: {articles} not found; set STANCE_SHARED_DATA)", file=sys.stderr)
            return corpora
        real_sentences, _ = ingest_articles(read_articles(articles), real.data.reserved_from)
        refs = REPO / real.data.gold_refs
        real_dev = load_gold_refs(refs, articles, real.labels, split="dev")
        real_test = load_gold_refs(refs, articles, real.labels, split="test")
        corpora.append(
            Corpus(
                "ukraine-news",
                real,
                real_sentences,
                {"real gold dev": real_dev, "real gold test": real_test},
                pd.concat([sample_dev, real_dev], ignore_index=True),
            )
        )
    return corpora


def embedding_columns(corpus: Corpus, gold: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Embedding-labeler votes on the corpus and on ``gold`` (leave-one-out on prototypes)."""
    from pipeline.classifiers.embeddings import embed_texts
    from pipeline.classifiers.weights import resolve_model_dir
    from pipeline.labeling.embedding import prototype_votes

    settings = corpus.config.label.embedding
    model_dir = resolve_model_dir(settings.model_dir)
    cache = REPO / ".cache"
    protos = corpus.prototypes
    proto_vecs = embed_texts(protos["text"].tolist(), model_dir, cache_dir=cache)
    proto_labels = [corpus.config.labels.index(l) for l in protos["label"]]
    proto_keys = np.array([normalize_text(t) for t in protos["text"]])
    out = []
    for texts in (corpus.sentences["text"].tolist(), gold["text"].tolist()):
        vecs = embed_texts(texts, model_dir, cache_dir=cache)
        keys = np.array([normalize_text(t) for t in texts])
        out.append(
            prototype_votes(
                vecs,
                proto_vecs,
                proto_labels,
                len(corpus.config.labels),
                settings.threshold,
                settings.margin,
                exclude=keys[:, None] == proto_keys[None, :],
            )
        )
    return out[0], out[1]


def score_row(name: str, metrics: dict[str, float]) -> dict[str, object]:
    return {
        "labeler": name,
        "coverage (gold)": metrics["labeler_dev_coverage"],
        "accuracy": metrics["labeler_dev_accuracy"],
        "macro-F1": metrics["labeler_dev_macro_f1"],
    }


def embedding_only_row(corpus: Corpus, gold: pd.DataFrame, dev_votes: np.ndarray) -> dict[str, object]:
    from sklearn.metrics import accuracy_score, f1_score

    labels = corpus.config.labels
    predicted = [labels[v] if v >= 0 else corpus.config.none_label for v in dev_votes]
    return {
        "labeler": "embedding prototypes alone",
        "coverage (gold)": float((dev_votes >= 0).mean()),
        "accuracy": accuracy_score(gold["label"], predicted),
        "macro-F1": f1_score(gold["label"], predicted, labels=labels, average="macro", zero_division=0),
    }


def markdown(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False, floatfmt=".3f")


def main() -> None:
    set_up_environment()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-real", action="store_true", help="only the sample corpus")
    parser.add_argument("--no-embedding", action="store_true", help="skip the embedding labeler")
    args = parser.parse_args()
    started = time.perf_counter()
    for corpus in load_corpora(not args.no_real):
        suite = get_suite(corpus.config.label.functions or "deployment")
        cfg = corpus.config
        for gold_name, gold in corpus.gold_sets.items():
            counts = gold["label"].value_counts().reindex(cfg.labels, fill_value=0)
            print(
                f"\n### {gold_name} ({len(gold)} sentences: "
                + ", ".join(f"{l} {n}" for l, n in counts.items())
                + f"; corpus {len(corpus.sentences)} sentences)\n"
            )
            rows, report = [], None
            extra = embedding_columns(corpus, gold) if not args.no_embedding else None
            for aggregator in ("majority", "label_model"):
                for with_embedding in (False, True) if extra is not None else (False,):
                    result = label_sentences(
                        corpus.sentences,
                        suite,
                        cfg.labels,
                        cfg.none_label,
                        aggregator,
                        cfg.label_priority,
                        gold_dev=gold,
                        gold_overrides=False,
                        extra_votes=("embedding_prototypes", extra[0], extra[1]) if with_embedding else None,
                    )
                    name = {"majority": "majority vote", "label_model": "label model (Dawid-Skene)"}[aggregator]
                    rows.append(score_row(name + (" + embedding" if with_embedding else ""), result.metrics))
                    if report is None or with_embedding:
                        report = result.report
            if extra is not None:
                rows.append(embedding_only_row(corpus, gold, extra[1]))
            print(markdown(pd.DataFrame(rows)))
            print()
            columns = ["function", "label", "coverage", "dev_coverage", "dev_votes", "dev_accuracy"]
            table = report[columns].rename(
                columns={
                    "coverage": "corpus coverage",
                    "dev_coverage": "gold coverage",
                    "dev_votes": "gold votes",
                    "dev_accuracy": "gold accuracy",
                }
            )
            print(markdown(table))
    print(f"\n({time.perf_counter() - started:.0f}s)", file=sys.stderr)


if __name__ == "__main__":
    main()
