"""One row per article from its scored sentences: what an analyst reads first.

For each article: how many sentences took each stance, the dominant stance other than
the none label, and for each such stance its highest-confidence sentence with that
confidence. Sentence rows arrive in article order and each article starts at
``position == 0`` (see ``scoring.readers.sentence_chunks``), so a chunk holds whole articles.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.scoring.readers import SENTENCE_COLUMNS

SCORE_COLUMNS = ("stance", "confidence", "error")


def summary_columns(labels: Sequence[str], none_label: str, review: bool = False) -> list[str]:
    """The columns added to each article's own fields, in order (with the review band, the
    stance sentences the band accepted, ``n_accepted_<label>``, after the counts)."""
    stances = [label for label in labels if label != none_label]
    accepted = [f"n_accepted_{label}" for label in stances] if review else []
    return [
        "sentences",
        "scored",
        *[f"n_{label}" for label in labels],
        *accepted,
        "dominant_stance",
        *[column for label in stances for column in (f"top_{label}_text", f"top_{label}_confidence")],
        "error",
    ]


def dominant_stance(counts: dict[str, int], confidence_sums: dict[str, float], labels: Sequence[str], none_label: str) -> str:
    """The most frequent stance other than ``none_label`` (ties: higher summed confidence,
    then label order); ``none_label`` when no sentence took a stance."""
    candidates = [label for label in labels if label != none_label and counts.get(label, 0) > 0]
    if not candidates:
        return none_label
    return max(candidates, key=lambda label: (counts[label], confidence_sums[label], -labels.index(label)))


def summarize_article(sentences: pd.DataFrame, labels: Sequence[str], none_label: str, text_column: str) -> dict[str, object]:
    """The summary fields of one article's scored sentence rows."""
    real = sentences["char_start"].notna()
    scored = sentences[sentences["error"] == ""]
    counts = scored["stance"].value_counts().to_dict()
    sums = scored.groupby("stance")["confidence"].sum().to_dict()
    row: dict[str, object] = {"sentences": int(real.sum()), "scored": len(scored)}
    row.update({f"n_{label}": int(counts.get(label, 0)) for label in labels})
    if "review" in scored.columns:
        accepted = scored.loc[scored["review"] == "accept", "stance"].value_counts().to_dict()
        row.update({f"n_accepted_{label}": int(accepted.get(label, 0)) for label in labels if label != none_label})
    row["dominant_stance"] = dominant_stance(counts, sums, list(labels), none_label) if len(scored) else ""
    for label in labels:
        if label == none_label:
            continue
        taking = scored[scored["stance"] == label]
        best = taking[f"p_{label}"].to_numpy().argmax() if len(taking) else None
        row[f"top_{label}_text"] = taking[text_column].iloc[best] if best is not None else ""
        row[f"top_{label}_confidence"] = float(taking[f"p_{label}"].iloc[best]) if best is not None else np.nan
    failed = sentences.loc[sentences["error"] != "", "error"]
    if not real.any():
        row["error"] = str(failed.iloc[0]) if len(failed) else "no sentences"
    elif len(failed):
        row["error"] = f"{len(failed)} of {int(real.sum())} sentences not scored (first: {failed.iloc[0]})"
    else:
        row["error"] = ""
    return row


def summarize_articles(scored: pd.DataFrame, labels: Sequence[str], none_label: str, text_column: str) -> pd.DataFrame:
    """One row per article of a chunk of scored sentences: the article's own fields
    (everything but the sentence and score columns) plus ``summary_columns``."""
    dropped = {*SENTENCE_COLUMNS, *SCORE_COLUMNS, "review", text_column, *[f"p_{label}" for label in labels]}
    fields = [column for column in scored.columns if column not in dropped]
    article = (scored["position"] == 0).cumsum().to_numpy()
    rows = []
    for _, sentences in scored.groupby(article, sort=False):
        first = sentences.iloc[0]
        rows.append(
            {**{column: first[column] for column in fields}, **summarize_article(sentences, labels, none_label, text_column)}
        )
    return pd.DataFrame(rows, columns=[*fields, *summary_columns(labels, none_label, "review" in scored.columns)])
