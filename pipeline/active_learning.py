"""File-level steps of the labeling loop: ``stance suggest`` and ``stance label --gold``."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.io import read_table, write_table
from pipeline.labeling.gold import REF_COLUMNS, load_gold_refs
from pipeline.labeling.suggest import merge_into_gold, rank_for_labeling, read_filled
from pipeline.stage_paths import StagePaths
from pipeline.stages import load_gold_sets

log = logging.getLogger(__name__)


def suggest(config: Config, n: int, output: Path) -> pd.DataFrame:
    """Write the ``n`` sentences most worth labelling (from the label stage's output)."""
    from pipeline.classifiers.registry import load_bundle
    from pipeline.labeling.stage import prob_columns

    paths = StagePaths.of(config)
    for path in (paths.labeled, paths.votes):
        if not path.exists():
            raise InputError(f"{path}: not found; run `stance label` (or `stance run`) first")
    labeled, votes = read_table(paths.labeled), read_table(paths.votes)
    _, gold_test = load_gold_sets(config)
    test_docs = set(gold_test["doc_id"].astype(str)) if gold_test is not None else set()
    weak = labeled.loc[labeled["label_source"] != "gold"]
    weak = weak.loc[~weak["doc_id"].astype(str).isin(test_docs)]
    candidates = weak.merge(votes, on="sentence_id", how="left", validate="one_to_one")
    names = [c for c in votes.columns if c != "sentence_id"]
    vote_matrix = candidates[names].fillna(-1).to_numpy(dtype=int)
    model_probs = None
    if (paths.model_dir / "bundle.json").exists() and len(candidates):
        model_probs = load_bundle(paths.model_dir).predict_proba(candidates["text"].astype(str).tolist())
    candidates = candidates.drop(columns=names)
    candidates[prob_columns(config.labels)] = candidates[prob_columns(config.labels)].astype(float)
    ranked = rank_for_labeling(candidates, vote_matrix, names, config.labels, n, model_probs)
    write_table(ranked, output)
    log.info("suggest: %d sentences (%d where functions disagree) -> %s", len(ranked),
             int((ranked["reason"] == "functions disagree").sum()), output)
    return ranked


def merge_gold(config: Config, filled_path: Path) -> tuple[int, int]:
    """Merge a filled-in suggestion file into the gold dev set; return (added, updated)."""
    filled = read_filled(filled_path, config.labels)
    _, gold_test = load_gold_sets(config)
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
