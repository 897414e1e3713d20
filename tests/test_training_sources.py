"""Training on several sources at once (corpus labels, the statements bank, other gold), with
evaluation-only sets (a challenge set, a behavioural suite) scored beside gold test and never
trained on."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from corpus import write_config, write_corpus
from pipeline.cli import app
from pipeline.config import load_config
from pipeline.errors import InputError
from pipeline.labeling.gold import load_gold_set
from pipeline.statements import COLUMNS
from pipeline.train import HeldOutText, add_extra_gold, source_metrics, training_rows

runner = CliRunner()
BANK = [
    ("b-1", "Denmark will keep its soldiers out of Ukraine, Frederiksen said.", "rule_out"),
    ("b-2", "Finland could send a battalion once a truce is signed.", "conditional"),
    ("b-3", "Norway is prepared to deploy engineers to Ukraine.", "support"),
    ("b-4", "Ukrainian forces repelled an assault near Pokrovsk on Sunday.", "none"),
    ("b-5", "Austria would send peacekeepers as soon as the guns fall silent, Vienna said.", "conditional"),
]
CHALLENGE = [
    ("Finland could send a battalion once a truce is signed.", "conditional"),  # also in the bank: never trained on
    ("Belgium will not put a single soldier on Ukrainian soil.", "rule_out"),
    ("Portugal is ready to contribute troops to a reassurance force.", "support"),
    ("Russian troops advanced near Kupiansk.", "none"),
]
SUITE = """
max_per_template: 3
fillers:
  country: [Chile, Peru, Kenya]
capabilities:
  - name: mft_rule_out
    type: mft
    templates:
      - {text: "{country} rules out sending troops to Ukraine.", label: rule_out}
  - name: inv_country
    type: inv
    templates:
      - {text: "{country} is ready to send soldiers to Ukraine."}
"""


def write_bank(folder: Path, rows=BANK) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "bank_t.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for id_, text, label in rows:
            writer.writerow([id_, text, label, "someone", "Nowhere", "2025-03", "indirect_speech", "plain", "", "", ""])
    return folder


@pytest.fixture
def sources_config(workdir: Path) -> Path:
    paths = write_corpus(workdir / "corpus")
    bank = write_bank(workdir / "statements")
    challenge = workdir / "challenge.csv"
    pd.DataFrame(
        {
            "doc_id": [f"c{i}" for i in range(len(CHALLENGE))],
            "text": [t for t, _ in CHALLENGE],
            "label": [label for _, label in CHALLENGE],
        }
    ).to_csv(challenge, index=False)
    (workdir / "suite.yaml").write_text(SUITE)
    extra = f"""train:
  extra_gold:
    - {{name: statements, path: {bank}}}
    - {{name: elsewhere, path: {workdir / "absent.csv"}, optional: true}}
evaluate:
  extra_sets:
    - {{name: challenge, path: {challenge}}}
  behaviour: {workdir / "suite.yaml"}
"""
    return write_config(workdir, paths, extra=extra)


def test_run_trains_on_every_source_and_scores_the_evaluation_sets(sources_config, workdir):
    result = runner.invoke(app, ["run", "--config", str(sources_config)])
    assert result.exit_code == 0, result.output
    assert "optional gold set 'elsewhere' is skipped" in " ".join(result.output.split())
    client = MlflowClient()
    parent = next(
        r
        for r in client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
        if "mlflow.parentRunId" not in r.data.tags
    )
    metrics = parent.data.metrics
    # the bank row that is also a challenge sentence is left out: 4 of 5 bank rows train
    assert metrics["train_rows_source_statements"] == 4
    assert metrics["train_share_source_statements"] == pytest.approx(4 / metrics["train_rows"])
    sources = {k.removeprefix("train_rows_source_"): v for k, v in metrics.items() if k.startswith("train_rows_source_")}
    assert set(sources) == {"corpus_weak", "corpus_gold", "statements"}  # not the articles' own `source` field
    assert sum(sources.values()) == metrics["train_rows"]
    assert metrics["challenge_rows"] == 4
    for name in (
        "challenge_macro_f1",
        "challenge_f1_support",
        "challenge_recall_rule_out",
        "behaviour_pass_rate",
        "behaviour_mft_pass_rate",
        "behaviour_inv_country_pass_rate",
    ):
        assert name in metrics, name
    assert metrics["behaviour_cases"] == 3 + 1
    assert parent.data.tags["data.eval.challenge.digest"] and parent.data.tags["data.extra_gold.statements.digest"]
    reports = workdir / "reports" / "tiny" / "latest"
    assert json.loads((reports / "metrics.json").read_text())["challenge_macro_f1"] == metrics["challenge_macro_f1"]
    predictions = pd.read_csv(reports / "challenge_predictions.csv")
    assert list(predictions["text"]) == [t for t, _ in CHALLENGE]
    card = (reports / "model_card.md").read_text()
    assert "## Evaluation on `challenge`" in card and "## Behavioural tests" in card and "`statements` 4" in card


@pytest.mark.parametrize(
    ("file", "addition"),
    [
        ("challenge.csv", "c9,Greece will keep its troops at home.,rule_out\n"),
        ("suite.yaml", '      - {text: "{country} will never send troops to Ukraine.", label: rule_out}\n'),
    ],
)
def test_a_changed_evaluation_set_reruns_train_and_evaluate(sources_config, workdir, file, addition):
    """Both stages read it: evaluate scores it, train holds its sentences out (the leak guard)."""
    assert runner.invoke(app, ["run", "--config", str(sources_config)]).exit_code == 0
    if file == "suite.yaml":  # a template in the mft capability
        text = (workdir / file).read_text()
        (workdir / file).write_text(text.replace("  - name: inv_country", addition + "  - name: inv_country"))
    else:
        with (workdir / file).open("a") as handle:
            handle.write(addition)
    assert runner.invoke(app, ["run", "--config", str(sources_config)]).exit_code == 0
    client = MlflowClient()
    runs = client.search_runs([client.get_experiment_by_name("tiny").experiment_id], order_by=["start_time DESC"])
    latest = runs[0].info.run_id if "mlflow.parentRunId" not in runs[0].data.tags else runs[0].data.tags["mlflow.parentRunId"]
    skipped = sorted(
        r.data.tags["stage"]
        for r in runs
        if r.data.tags.get("mlflow.parentRunId") == latest and r.data.tags.get("skipped") == "true"
    )
    assert skipped == ["ingest", "label"]


def test_a_required_set_that_is_missing_fails_before_any_run(sources_config, workdir):
    result = runner.invoke(
        app,
        [
            "run",
            "--config",
            str(sources_config),
            "--set",
            f"evaluate.extra_sets=[{{name: challenge, path: {workdir / 'nope.csv'}}}]",
        ],
    )
    assert result.exit_code == 2
    assert "nope.csv: gold set 'challenge' not found" in result.output
    assert not (workdir / "interim").exists()


def test_training_rows_drop_a_sentence_sharing_eight_words_with_an_evaluation_sentence():
    labeled = pd.DataFrame(
        {
            "doc_id": ["a", "a", "b"],
            "label": ["support", "none", "rule_out"],
            "label_source": "weak",
            "text": [
                "Leaders of the coalition of the willing met in Paris on Thursday to plan.",
                "It rained in Paris.",
                "Spain will not send troops.",
            ],
        }
    )
    challenge = pd.DataFrame({"text": ["Officials said the coalition of the willing met in Paris on Thursday."]})
    kept = training_rows(labeled, None, include_gold_dev=True, held_out=[challenge])
    assert list(kept["text"]) == ["It rained in Paris.", "Spain will not send troops."]
    assert list(kept["train_source"]) == ["corpus_weak", "corpus_weak"]
    extra = {"bank": labeled.assign(label_source="gold")}
    assert list(add_extra_gold(kept.iloc[:0], extra, None, held_out=[challenge])["text"]) == list(kept["text"])


def test_training_rows_never_keep_a_gold_test_sentence_quoted_in_another_article():
    labeled = pd.DataFrame(
        {
            "doc_id": ["a", "b"],
            "label": ["rule_out", "none"],
            "label_source": "weak",
            "text": ["Spain  will NOT deploy soldiers to Ukraine, the defence minister said.", "Rain."],
        }
    )
    test = pd.DataFrame(
        {
            "doc_id": ["t"],
            "text": ["Spain will not deploy soldiers to Ukraine, the defence minister said."],
            "label": ["rule_out"],
        }
    )
    assert list(training_rows(labeled, test, include_gold_dev=True)["text"]) == ["Rain."]
    assert not HeldOutText.of(test).overlaps(pd.Series(["Rain."])).any()


def test_source_metrics_give_rows_and_shares():
    rows = pd.DataFrame({"train_source": ["statements", "statements", "corpus_weak", "real_dev"]})
    assert source_metrics(rows) == {
        "train_rows_source_statements": 2.0,
        "train_rows_source_corpus_weak": 1.0,
        "train_rows_source_real_dev": 1.0,
        "train_share_source_statements": 0.5,
        "train_share_source_corpus_weak": 0.25,
        "train_share_source_real_dev": 0.25,
    }


def test_a_required_gold_set_that_is_absent_is_an_error_and_an_optional_one_is_skipped(workdir):
    config = load_config(
        write_config(
            workdir,
            write_corpus(workdir / "corpus"),
            extra=f"""train:
  extra_gold:
    - {{path: {workdir / "gone.csv"}}}
    - {{name: maybe, path: {workdir / "gone.csv"}, optional: true}}
""",
        )
    )
    required, optional = config.train.extra_gold
    assert required.set_name == "gone"
    with pytest.raises(InputError, match="gone.csv: gold set 'gone' not found"):
        load_gold_set(required, config)
    assert load_gold_set(optional, config) is None


def test_a_missing_optional_set_is_reported_once_per_run(tiny_config, workdir, monkeypatch):
    """The checks, the train stage and the evaluate stage each load the sets; the warning
    about a missing optional one comes once."""
    monkeypatch.setenv("COLUMNS", "300")  # one log record, one line
    config = (
        tiny_config.read_text()
        + "\nevaluate:\n  extra_sets:\n    - name: absent\n      path: nowhere.csv\n      optional: true\n"
    )
    tiny_config.write_text(config)
    result = runner.invoke(app, ["run", "--config", str(tiny_config)])
    assert result.exit_code == 0, result.output
    assert result.output.count("optional gold set 'absent' is skipped") == 1, result.output
