"""`stance score --explain`: the evidence column names what pushed each sentence to its label."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.classifiers.tfidf import TfidfLogreg
from pipeline.cli import app
from pipeline.classifiers.settings import TfidfLogregConfig
from pipeline.errors import InputError
from pipeline.scoring.explain import Explainer, NgramWeights, explainer_for
from pipeline.labeling.suites import get_suite
from pipeline.scoring.run import ScoreOptions, score_file
from pipeline.scoring.checkpoint import Checkpoint

LABELS = ["support", "conditional", "rule_out", "none"]
TRAIN = [
    ("Germany will not send troops to Ukraine.", "rule_out"),
    ("Poland will never send soldiers there.", "rule_out"),
    ("Italy rejects any deployment of its soldiers.", "rule_out"),
    ("Spain refuses to send troops.", "rule_out"),
    ("France does not exclude sending troops.", "support"),
    ("Macron keeps every option open on troops.", "support"),
    ("Lithuania is ready to send soldiers.", "support"),
    ("Estonia is prepared to deploy troops.", "support"),
    ("Britain would send troops once a ceasefire holds.", "conditional"),
    ("Sweden could deploy trainers after a peace deal.", "conditional"),
    ("Canada would join only under a UN mandate.", "conditional"),
    ("Denmark would send troops with a US backstop.", "conditional"),
    ("Grain prices rose in Odesa.", "none"),
    ("The talks lasted four hours.", "none"),
    ("Russian troops shelled Kharkiv.", "none"),
    ("Rain fell on the capital.", "none"),
]


class FittedPredictor:
    """A fitted tf-idf model behind the predict() interface scoring uses."""

    def __init__(self) -> None:
        self.classifier = TfidfLogreg(LABELS, TfidfLogregConfig(C=10.0), seed=0)
        self.classifier.fit([t for t, _ in TRAIN], [label for _, label in TRAIN])
        self.kind = "tfidf_logreg"

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        probs = self.classifier.predict_proba(frame["text"].tolist())
        best = probs.argmax(axis=1)
        return pd.DataFrame(
            {
                "stance": [LABELS[i] for i in best],
                "confidence": probs.max(axis=1),
                **{f"p_{label}": probs[:, j] for j, label in enumerate(LABELS)},
            }
        )


@pytest.fixture(scope="module")
def predictor() -> FittedPredictor:
    return FittedPredictor()


def pushes(evidence: str) -> list[tuple[str, float]]:
    return [(name, float(weight)) for name, weight in re.findall(r'"([^"]+)" ([+-]\d+\.\d+)', evidence)]


def test_the_ngrams_shown_are_in_the_sentence_and_push_toward_the_predicted_label(predictor):
    weights = NgramWeights.of(predictor.classifier.pipeline_)
    text = "Norway will not send troops to Ukraine."
    [evidence] = weights.top([text], ["rule_out"])
    shown = pushes(evidence)
    assert shown and all(weight > 0 for _, weight in shown)
    assert all(name in text.lower() for name, _ in shown)
    # the same features, asked about another label, do not push toward it the same way
    [as_support] = weights.top([text], ["support"])
    assert pushes(as_support) != shown
    # the largest push equals that feature's TF-IDF value times its relative weight for the label
    row = predictor.classifier.pipeline_.named_steps["features"].transform([text])
    columns = row.indices
    contributions = row.data * weights.relative["rule_out"][columns]
    assert shown[0][1] == pytest.approx(round(float(np.max(contributions)), 2))


def test_labeling_functions_that_fire_are_named_with_their_vote():
    explainer = Explainer(get_suite("deployment"), None)
    rule_out, background = explainer.evidence(
        ["Germany rules out sending troops to Ukraine.", "Grain prices rose."], ["rule_out", "none"]
    )
    assert re.search(r"functions: .*→rule_out", rule_out)
    assert "→support" not in rule_out
    assert "ngrams" not in rule_out  # no n-gram weights for this explainer
    assert "rule_out" not in background


def test_explainer_for_reads_the_tfidf_pipeline_and_nothing_from_other_models(predictor):
    assert explainer_for(predictor.classifier, None).ngrams is not None

    class Other:
        kind = "finetune"

    assert explainer_for(Other(), None).ngrams is None


def test_scoring_with_explain_adds_evidence_to_scored_rows_only(predictor, tmp_path):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ["Austria will never send soldiers.", "", "Finland is ready to deploy troops."]}).to_csv(
        source, index=False
    )
    out = tmp_path / "out.csv"
    explainer = explainer_for(predictor.classifier, get_suite("deployment"))
    score_file(source, out, predictor, LABELS, ScoreOptions(), explainer=explainer)
    scored = pd.read_csv(out, keep_default_na=False)
    assert list(scored.columns)[-1] == "evidence"
    assert scored.loc[0, "evidence"].startswith("ngrams: ") and "functions: " in scored.loc[0, "evidence"]
    assert scored.loc[1, "evidence"] == "" and scored.loc[1, "error"] == "empty text"
    plain = tmp_path / "plain.csv"
    score_file(source, plain, predictor, LABELS, ScoreOptions())
    assert "evidence" not in pd.read_csv(plain).columns


def test_explain_is_part_of_what_a_resume_must_match(predictor, tmp_path):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": [f"Sentence {i} about troops." for i in range(30)]}).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    checkpoint = Checkpoint(out)

    class Failing(FittedPredictor):
        calls = 0

        def predict(self, frame):
            Failing.calls += 1
            if Failing.calls == 2:
                raise RuntimeError("stop")
            return super().predict(frame)

    with pytest.raises(RuntimeError):
        score_file(
            source, out, Failing(), LABELS, ScoreOptions(chunk_rows=10), explainer=explainer_for(predictor.classifier, None)
        )
    assert checkpoint.exists()
    with pytest.raises(InputError, match="option"):
        score_file(source, out, predictor, LABELS, ScoreOptions(chunk_rows=10), resume=True)


def test_explain_at_article_level_is_refused(predictor, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Italy will not send troops.\n", encoding="utf-8")
    with pytest.raises(InputError, match="--explain .* --level sentence"):
        score_file(
            folder,
            tmp_path / "out.csv",
            predictor,
            LABELS,
            ScoreOptions(level="article"),
            explainer=explainer_for(predictor.classifier, None),
        )


def test_cli_refuses_explain_on_spark(tmp_path):
    source = tmp_path / "in.parquet"
    pd.DataFrame({"text": ["a"]}).to_parquet(source)
    result = CliRunner().invoke(
        app,
        ["score", str(source), "-o", str(tmp_path / "o.parquet"), "--engine", "spark", "--explain", "--model", "runs:/x/model"],
    )
    assert result.exit_code == 2 and "--explain is for the local engine" in result.output


def test_explainer_from_a_config_without_labeling_functions_has_ngrams_only(predictor, tmp_path):
    """A dataset config (SemEval, RUW) sets label.functions to null: --explain still works,
    with n-gram evidence and no labeling functions."""
    from corpus import target_yaml

    from pipeline.cli import _explainer

    config = tmp_path / "dataset.yaml"
    config.write_text(target_yaml() + "data:\n  articles: articles\n", encoding="utf-8")
    explainer = _explainer(predictor.classifier, config)
    assert explainer.suite is None and explainer.ngrams is not None
