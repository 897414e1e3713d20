"""`stance report`: the numbers and sentences a report shows come from the scored file."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import InputError
from pipeline.report import collect as collect_module
from pipeline.report.collect import UNDATED, collect, period_span
from pipeline.report.write import write_report
from pipeline.scoring.run import ScoreOptions, score_file
from pipeline.scoring.provenance import provenance_path, write_provenance

LABELS = ["support", "conditional", "rule_out", "none"]
# doc_id, date, title, text, stance, confidence (a hand-made sentence-level `stance score` output)
SENTENCES = [
    ("20220301T100000Z_FR_en_aaa", "2022-03-01", "Paris talks", "Paris keeps every option open.", "support", 0.9),
    ("20220301T100000Z_FR_en_aaa", "2022-03-01", "Paris talks", "The talks lasted four hours.", "none", 0.8),
    ("20220301T100000Z_FR_en_aaa", "2022-03-01", "Paris talks", "An aide said no troops would go.", "rule_out", 0.6),
    ("20220301T100000Z_FR_en_aaa", "2022-03-01", "Paris talks", "Troops could follow later.", "support", 0.7),
    ("20220315T100000Z_DE_en_bbb", "2022-03-15", "Berlin <no>", "Berlin will not send soldiers.", "rule_out", 0.95),
    ("20220315T100000Z_DE_en_bbb", "2022-03-15", "Berlin <no>", "Rain fell on the capital.", "none", 0.99),
    ("20220510T100000Z_FR_en_ccc", "2022-05-10", "Grain", "Grain ships left Odesa.", "none", 0.97),
    ("20220510T100000Z_FR_en_ccc", "2022-05-10", "Grain", "Prices fell.", "none", 0.9),
    ("20220510T100000Z_FR_en_ccc", "2022-05-10", "Grain", "x" * 30, "", None),  # not scored
    ("20220520T100000Z_DE_en_ddd", "2022-05-20", "Truce", "Only after a truce, said the minister.", "conditional", 0.5),
    ("20220520T100000Z_DE_en_ddd", "2022-05-20", "Truce", "Sending troops is possible.", "support", 0.55),
]


def scored_frame() -> pd.DataFrame:
    rows = []
    for doc_id, date, title, text, stance, confidence in SENTENCES:
        probabilities = {f"p_{label}": (confidence if label == stance else 0.0) for label in LABELS}
        rows.append(
            {
                "doc_id": doc_id,
                "title": title,
                "date": date,
                "source": "",
                "text": text,
                "stance": stance,
                "confidence": confidence,
                **probabilities,
                "error": "" if stance else "text longer than 20 characters",
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture
def scored_csv(tmp_path: Path) -> Path:
    path = tmp_path / "scored.csv"
    scored_frame().to_csv(path, index=False)
    return path


def test_counts_per_label_period_group_and_dominant_stance_match_the_fixture(scored_csv):
    data = collect(scored_csv, evidence_per_cell=1)
    assert (data.level, data.labels, data.rows, data.scored, data.articles) == ("sentence", LABELS, 11, 10, 4)
    assert dict(data.label_counts) == {"support": 3, "rule_out": 2, "conditional": 1, "none": 4}
    assert {p: dict(c) for p, c in data.by_period.items()} == {
        "2022-03": {"support": 2, "rule_out": 2, "none": 2},
        "2022-05": {"none": 2, "conditional": 1, "support": 1},
    }
    # A: support 2 vs rule_out 1; B: rule_out; C: no stance; D: a 1-1 tie won by the higher confidence (support)
    assert {p: dict(c) for p, c in data.articles_by_period.items()} == {
        "2022-03": {"support": 1, "rule_out": 1},
        "2022-05": {"none": 1, "support": 1},
    }
    assert data.group == "source_country"  # read from the corpus-style doc_ids
    assert {g: dict(c) for g, c in data.by_group.items()} == {
        "FR": {"support": 2, "rule_out": 1, "none": 3},
        "DE": {"rule_out": 1, "none": 1, "conditional": 1, "support": 1},
    }
    assert {g: dict(c) for g, c in data.articles_by_group.items()} == {
        "FR": {"support": 1, "none": 1},
        "DE": {"rule_out": 1, "support": 1},
    }


def test_evidence_is_the_most_confident_sentences_of_each_label_and_period(scored_csv):
    top1 = collect(scored_csv, evidence_per_cell=1).evidence
    assert {key: [e.text for e in items] for key, items in top1.items()} == {
        ("conditional", "2022-05"): ["Only after a truce, said the minister."],
        ("rule_out", "2022-03"): ["Berlin will not send soldiers."],
        ("support", "2022-03"): ["Paris keeps every option open."],
        ("support", "2022-05"): ["Sending troops is possible."],
    }
    top2 = collect(scored_csv, evidence_per_cell=2).evidence
    assert [(e.confidence, e.text) for e in top2[("support", "2022-03")]] == [
        (0.9, "Paris keeps every option open."),
        (0.7, "Troops could follow later."),
    ]
    assert top2[("support", "2022-03")][0].title == "Paris talks" and top2[("support", "2022-03")][0].date == "2022-03-01"


def test_small_chunks_give_the_same_report_as_one_chunk(scored_csv, monkeypatch):
    whole = collect(scored_csv, evidence_per_cell=2)
    monkeypatch.setattr(collect_module, "CHUNK_ROWS", 3)  # articles A and C are cut across chunks
    chunked = collect(scored_csv, evidence_per_cell=2)
    for name in (
        "rows",
        "scored",
        "articles",
        "label_counts",
        "by_period",
        "articles_by_period",
        "by_group",
        "articles_by_group",
        "evidence",
    ):
        assert getattr(chunked, name) == getattr(whole, name), name


def test_weeks_and_a_chosen_group_column(scored_csv, tmp_path):
    frame = scored_frame()
    frame["source"] = ["Le Monde"] * 4 + ["Spiegel"] * 2 + ["Le Monde"] * 3 + [""] * 2
    path = tmp_path / "with_source.parquet"
    frame.to_parquet(path)
    data = collect(path, period="week", group="source")
    assert sorted(data.by_period) == ["2022-W09", "2022-W11", "2022-W19", "2022-W20"]
    assert {g: sum(c.values()) for g, c in data.by_group.items()} == {"Le Monde": 6, "Spiegel": 2, "unknown": 2}


def test_a_period_without_sentences_is_a_gap_in_the_time_axis():
    assert period_span(["2022-03", "2022-05", UNDATED], "month") == ["2022-03", "2022-04", "2022-05"]
    assert period_span(["2020-W52", "2021-W02"], "week") == ["2020-W52", "2020-W53", "2021-W01", "2021-W02"]


def test_html_report_is_self_contained_and_shows_the_fixture(scored_csv, tmp_path):
    out = tmp_path / "report.html"
    write_provenance(scored_csv, {"model_uri": "models:/deployment-stance@champion", "model_version": "7"})
    write_report(scored_csv, out)
    html = out.read_text(encoding="utf-8")
    assert "models:/deployment-stance@champion, version 7" in html
    assert html.count("<svg") == 4  # two charts over time, two by group
    assert not re.search(r"<script|<link|<img|src=|url\((?!#)|@import", html)  # nothing fetched, nothing run
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # the inlined charts never share an id
    assert "Berlin &lt;no&gt;" in html and "Berlin <no>" not in html  # text is escaped
    april = re.search(r"<tr><td>2022-04</td>(.*?)</tr>", html)
    assert april and set(re.findall(r"<td>([^<]*)</td>", april.group(1))) <= {"0", "–"}
    assert "<td>stance sentences</td><td>6 (60.0% of scored)</td>" in html
    write_report(scored_csv, tmp_path / "again.html")
    assert (tmp_path / "again.html").read_bytes() == out.read_bytes()  # same file, same bytes


def test_markdown_report_writes_its_charts_as_png_beside_it(scored_csv, tmp_path):
    out = tmp_path / "note.md"
    write_report(scored_csv, out, period="month")
    text = out.read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(images) == 4
    for image in images:
        assert (tmp_path / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| 2022-04 | 0 | 0 | 0 | 0 | – | 0 | 0 | 0 | 0 |" in text  # month, sentences, 3 labels, share, articles
    assert "| 2022-05 | 4 | 1 | 1 | 0 | 50.0% | 2 | 1 | 0 | 0 |" in text
    assert "1. (0.95) Berlin will not send soldiers." in text


def test_without_dates_the_report_renders_without_time_charts(scored_csv, tmp_path, caplog):
    frame = scored_frame().drop(columns=["date"])
    path = tmp_path / "undated.jsonl"
    frame.to_json(path, orient="records", lines=True)
    out = tmp_path / "report.html"
    with caplog.at_level("WARNING"):
        data = write_report(path, out)
    assert "no 'date' column" in caplog.text
    html = out.read_text(encoding="utf-8")
    assert not data.dated and "Stance over time" not in html and html.count("<svg") == 2
    assert "Berlin will not send soldiers." in html


@pytest.mark.parametrize(
    "drop, message",
    [
        (["stance"], "no 'stance' column"),
        (["p_support", "p_conditional", "p_rule_out", "p_none"], "no p_<label> columns"),
        (["text"], "no 'text' column"),
    ],
)
def test_a_file_that_is_not_a_scored_file_is_named_in_one_line(tmp_path, drop, message):
    path = tmp_path / "bad.csv"
    scored_frame().drop(columns=drop).to_csv(path, index=False)
    result = CliRunner().invoke(app, ["report", str(path), "--output", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert message in result.output and "bad.csv" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists()


def test_unknown_stance_value_names_its_row(tmp_path):
    frame = scored_frame()
    frame.loc[4, "stance"] = "favour"
    path = tmp_path / "odd.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"odd.csv: row 5: stance 'favour'"):
        collect(path)


def test_a_missing_group_column_asked_for_is_an_error(scored_csv, tmp_path):
    with pytest.raises(InputError, match="no 'outlet' column to group by"):
        write_report(scored_csv, tmp_path / "r.html", group="outlet")


def test_stale_provenance_is_not_shown(scored_csv, tmp_path):
    write_provenance(scored_csv, {"model_uri": "models:/old@champion", "model_version": "1"})
    scored_frame().head(5).to_csv(scored_csv, index=False)  # the file was replaced since
    out = tmp_path / "r.html"
    write_report(scored_csv, out)
    html = out.read_text(encoding="utf-8")
    assert "models:/old@champion" not in html and "not recorded" in html


class FourLabelPredictor:
    """Test double: a stance from a keyword in the sentence, with a confidence from its length."""

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        def label(text: str) -> str:
            for word, stance in (("never", "rule_out"), ("once", "conditional"), ("ready", "support")):
                if word in text:
                    return stance
            return "none"

        stances = [label(text) for text in frame["text"]]
        confidence = [min(0.99, 0.4 + len(text) / 200) for text in frame["text"]]
        return pd.DataFrame(
            {
                "stance": stances,
                "confidence": confidence,
                **{f"p_{l}": [c if s == l else (1 - c) / 3 for s, c in zip(stances, confidence)] for l in LABELS},
            }
        )


def write_articles(folder: Path) -> None:
    folder.mkdir()
    bodies = {
        "20230105T080000Z_PL_en_1": "Warsaw is ready to send engineers. The mayor opened a bridge. Troops will never go, said a rival.",
        "20230110T080000Z_GB_en_2": "London will send trainers once a truce holds. It rained.",
        "20230214T080000Z_PL_en_3": "Markets were calm. Nothing else happened.",
        "20230220T080000Z_US_en_4": "Washington will never deploy. Never, the envoy repeated. He is ready to talk.",
    }
    for name, body in bodies.items():
        (folder / f"{name}.txt").write_text(body + "\n", encoding="utf-8")


def test_sentence_and_article_level_outputs_of_one_scoring_give_the_same_counts(tmp_path):
    folder = tmp_path / "articles"
    write_articles(folder)
    reports = {}
    for level, suffix in (("sentence", ".parquet"), ("article", ".csv")):
        scored = tmp_path / f"scored_{level}{suffix}"
        score_file(
            folder,
            scored,
            FourLabelPredictor(),
            LABELS,
            ScoreOptions(level=level, chunk_rows=3),
            model_uri="models:/m@champion",
            model_version="3",
        )
        assert provenance_path(scored).exists()
        out = tmp_path / f"{level}.html"
        reports[level] = write_report(scored, out)
        assert "models:/m@champion, version 3" in out.read_text(encoding="utf-8")
    sentence, article = reports["sentence"], reports["article"]
    assert sentence.level == "sentence" and article.level == "article"
    assert sentence.label_counts == article.label_counts and sentence.scored == article.scored == 10
    assert dict(sentence.label_counts) == {"support": 2, "conditional": 1, "rule_out": 2, "none": 5}
    assert sentence.articles_by_period == article.articles_by_period
    # article 1: a support-rule_out tie won by the longer (more confident) rule_out sentence
    assert {p: dict(c) for p, c in sentence.articles_by_period.items()} == {
        "2023-01": {"rule_out": 1, "conditional": 1},
        "2023-02": {"none": 1, "rule_out": 1},
    }
    assert sentence.by_group == article.by_group and set(sentence.by_group) == {"PL", "GB", "US"}


def test_cli_writes_the_report_and_refuses_an_unknown_extension(scored_csv, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["report", str(scored_csv), "-o", str(tmp_path / "r.html"), "--by", "week"])
    assert ok.exit_code == 0, ok.output
    assert "10 scored sentences, 6 with a stance, 4 articles" in ok.output
    bad = runner.invoke(app, ["report", str(scored_csv), "-o", str(tmp_path / "r.pdf")])
    assert bad.exit_code != 0 and "unknown report extension '.pdf'" in bad.output


def test_the_share_flagged_for_review_is_counted_when_the_file_has_a_review_column(tmp_path):
    frame = scored_frame()
    frame["review"] = [
        "review",
        "accept",
        "accept",
        "review",
        "accept",
        "accept",
        "accept",
        "accept",
        "review",
        "accept",
        "review",
    ]  # the 9th row is not scored: its flag does not count
    path = tmp_path / "reviewed.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "r.html"
    data = write_report(path, out)
    assert data.review == 3
    assert "<td>flagged for review</td><td>3 (30.0% of scored)</td>" in out.read_text(encoding="utf-8")
