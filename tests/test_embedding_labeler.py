"""The embedding labeler: nearest gold-dev prototypes with an abstain threshold."""

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.io import read_table
from pipeline.labeling.base import ABSTAIN
from pipeline.labeling.embedding import prototype_votes


def unit(*rows):
    vecs = np.array(rows, dtype=float)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def test_votes_nearest_label_and_abstains_when_far_or_ambiguous():
    protos = unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.9, 0.1])
    labels = [0, 0, 1, 1]
    sentences = unit([1, 0.05, 0], [0, 0, 1], [1, 1, 0])  # near label 0; far from all; halfway
    votes = prototype_votes(sentences, protos, labels, n_labels=2, threshold=0.8, margin=0.1)
    assert list(votes) == [0, ABSTAIN, ABSTAIN]


def test_leave_one_out_ignores_the_sentence_itself():
    protos = unit([1, 0], [0, 1], [0.1, 1])
    labels = [0, 1, 1]
    exclude = np.eye(3, dtype=bool)
    votes = prototype_votes(protos, protos, labels, 2, threshold=0.5, margin=0.0, exclude=exclude)
    assert votes[0] == ABSTAIN  # its only same-label prototype is itself
    assert votes[1] == 1 and votes[2] == 1


@pytest.mark.slow
def test_label_stage_with_embedding_labeler(tiny_config, workdir):
    runner = CliRunner()
    args = [
        "--config",
        str(tiny_config),
        "--set",
        "label.embedding.enabled=true",
        "--set",
        "label.embedding.threshold=0.3",
        "--set",
        "label.embedding.margin=0",
    ]
    assert runner.invoke(app, ["ingest", *args]).exit_code == 0
    result = runner.invoke(app, ["label", *args])
    assert result.exit_code == 0, result.output
    report = read_table(workdir / "processed" / "lf_report.csv").set_index("function")
    assert "embedding_prototypes" in report.index
    assert int(report.loc["embedding_prototypes", "votes"]) > 0
    assert list((workdir / ".cache").rglob("*")), "embeddings were cached"
