"""File-level steps of the labeling loop: ``stance suggest`` and ``stance label --gold``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from pipeline.config import Config
from pipeline.corpus import corpus_for
from pipeline.errors import InputError
from pipeline.io import read_table, write_table
from pipeline.labeling.gold import REF_COLUMNS, load_gold_refs
from pipeline.labeling.suggest import merge_into_gold, rank_for_labeling, read_filled
from pipeline.stage_paths import StagePaths

log = logging.getLogger(__name__)


def suggest(
    config: Config,
    n: int,
    output: Path,
    similar_to: Path | None = None,
    fmt: Literal["table", "label-studio"] = "table",
    min_none_confidence: float = 0.8,
) -> pd.DataFrame:
    """Write the ``n`` sentences most worth labelling (from the label stage's output): where
    labeling functions disagree or the model is unsure, or, with ``similar_to`` (a file of
    known stance sentences), the confident ``none`` predictions nearest to them. ``fmt``:
    a table (by the output's extension) or Label Studio tasks (JSON)."""
    from pipeline.classifiers.registry import load_bundle
    from pipeline.labeling.stage import prob_columns

    paths = StagePaths.of(config)
    for path in (paths.labeled, paths.votes):
        if not path.exists():
            raise InputError(f"{path}: not found; run `stance label` (or `stance run`) first")
    labeled, votes = read_table(paths.labeled), read_table(paths.votes)
    gold_test = corpus_for(config).gold_test
    test_docs = set(gold_test["doc_id"].astype(str)) if gold_test is not None else set()
    weak = labeled.loc[labeled["label_source"] != "gold"]
    weak = weak.loc[~weak["doc_id"].astype(str).isin(test_docs)]
    candidates = weak.merge(votes, on="sentence_id", how="left", validate="one_to_one")
    names = [c for c in votes.columns if c != "sentence_id"]
    vote_matrix = candidates[names].fillna(-1).to_numpy(dtype=int)
    model_probs = None
    has_model = (paths.model_dir / "bundle.json").exists()
    if similar_to is not None and not has_model:
        raise InputError(f"--similar-to needs a trained model ({paths.model_dir} has none); run `stance train` first")
    if has_model and len(candidates):
        model_probs = load_bundle(paths.model_dir).predict_proba(candidates["text"].astype(str).tolist())
    candidates = candidates.drop(columns=names)
    candidates[prob_columns(config.labels)] = candidates[prob_columns(config.labels)].astype(float)
    if similar_to is not None:
        ranked = _confident_misses(config, candidates, model_probs, similar_to, n, min_none_confidence)
    else:
        ranked = rank_for_labeling(candidates, vote_matrix, names, config.labels, n, model_probs)
    if fmt == "label-studio":
        from pipeline.labeling.label_studio import write_tasks

        interface = write_tasks(ranked, output, config.labels, model_version=f"{config.experiment}:{config.train.model}")
        log.info("suggest: the labeling interface for these tasks is %s", interface)
    else:
        write_table(ranked, output)
    log.info("suggest: %d sentences -> %s", len(ranked), output)
    return ranked


def _confident_misses(
    config: Config,
    candidates: pd.DataFrame,
    model_probs: "np.ndarray | None",
    similar_to: Path,
    n: int,
    min_none_confidence: float,
) -> pd.DataFrame:
    from pipeline.classifiers.embeddings import embed_texts
    from pipeline.classifiers.weights import resolve_model_dir
    from pipeline.labeling.suggest import rank_confident_misses

    known = read_table(similar_to)
    if "text" not in known.columns or known.empty:
        raise InputError(f"{similar_to}: needs a 'text' column with the known stance sentences")
    known_texts = known["text"].dropna().astype(str).tolist()
    if model_probs is None or candidates.empty:
        return rank_confident_misses(
            candidates,
            np.zeros((0, len(config.labels))),
            config.labels,
            config.none_label,
            np.zeros((0, 1)),
            np.zeros((len(known_texts), 1)),
            known_texts,
            n,
            min_none_confidence,
        )
    model_dir = resolve_model_dir(config.label.embedding.model_dir)
    cache = config.path(".cache")
    vectors = embed_texts(candidates["text"].astype(str).tolist(), model_dir, cache_dir=cache)
    known_vectors = embed_texts(known_texts, model_dir, cache_dir=cache)
    return rank_confident_misses(
        candidates, model_probs, config.labels, config.none_label, vectors, known_vectors, known_texts, n, min_none_confidence
    )


def merge_gold(config: Config, filled_path: Path) -> tuple[int, int]:
    """Merge a filled-in suggestion file into the gold dev set; return (added, updated)."""
    filled = read_filled(filled_path, config.labels)
    gold_test = corpus_for(config).gold_test
    test_docs = set(gold_test["doc_id"].astype(str)) if gold_test is not None else set()
    if config.data.gold_refs:
        target = config.path(config.data.gold_refs)
        refs = read_table(target)
        joined = load_gold_refs(target, config.path(config.data.articles), config.labels)
        for column in ("file", "sha1", "note"):
            joined[column] = refs[column].to_numpy() if column in refs.columns else ""
        merged, added, updated = merge_into_gold(joined, filled, test_docs, filled_path)
        merged = merged[[*REF_COLUMNS, "note"]]
    else:
        if not config.data.gold_dev:
            raise InputError("data.gold_dev is not set: nowhere to merge the labelled rows")
        target = config.path(config.data.gold_dev)
        gold = read_table(target) if target.exists() else pd.DataFrame(columns=["doc_id", "text", "label", "note"])
        merged, added, updated = merge_into_gold(gold, filled, test_docs, filled_path)
    write_table(merged, target)
    log.info("gold: %d rows added, %d relabelled -> %s", added, updated, target)
    return added, updated
