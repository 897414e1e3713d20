"""Article inputs are split into sentences on the fly; --level article summarizes each article."""

import pandas as pd
import pytest

from pipeline.scoring.articles import dominant_stance
from pipeline.errors import InputError
from pipeline.io import read_table
from pipeline.scoring.run import ScoreOptions, score_file

LABELS = ["support", "rule_out", "none"]


class CueConfidencePredictor:
    """Test double: 'support' for 'troops', 'rule_out' for 'never'; confidence grows with length."""

    def predict(self, frame):
        rows = []
        for text in frame["text"]:
            confidence = min(0.5 + len(text) / 200, 0.99)
            stance = "rule_out" if "never" in text else "support" if "troops" in text else "none"
            probs = {label: (confidence if label == stance else (1 - confidence) / 2) for label in LABELS}
            rows.append({"stance": stance, "confidence": confidence, **{f"p_{k}": v for k, v in probs.items()}})
        return pd.DataFrame(rows)


ARTICLES = [
    ("a", "Send troops. We will send many more troops to the front. It rained. We will never send troops."),
    ("b", ""),
    ("c", "Nothing to see. Nothing at all."),
    ("d", "They will never go. Never, ever send anyone. Troops yes."),
]


def write_articles(path):
    frame = pd.DataFrame({"doc_id": [a for a, _ in ARTICLES], "body": [t for _, t in ARTICLES], "title": list("ABCD")})
    frame.to_json(path, orient="records", lines=True)
    return path


@pytest.mark.parametrize("chunk_rows", [1, 3, 100])
def test_article_level_counts_dominant_stance_and_top_sentences(tmp_path, chunk_rows):
    source = write_articles(tmp_path / "articles.jsonl")
    out = tmp_path / "articles.csv"
    options = ScoreOptions(text_column="body", articles=True, level="article", chunk_rows=chunk_rows)
    summary = score_file(source, out, CueConfidencePredictor(), LABELS, options)
    result = read_table(out).set_index("doc_id")
    assert list(result.index) == ["a", "b", "c", "d"] and list(result["title"]) == list("ABCD")
    assert "body" not in result.columns
    a = result.loc["a"]
    assert (a["sentences"], a["n_support"], a["n_rule_out"], a["n_none"]) == ("4", "2", "1", "1")
    assert a["dominant_stance"] == "support"
    assert a["top_support_text"] == "We will send many more troops to the front."  # the longer, so more confident
    assert a["top_rule_out_text"] == "We will never send troops."
    assert float(a["top_support_confidence"]) == pytest.approx(0.5 + len(a["top_support_text"]) / 200)
    assert result.loc["b", "error"] == "empty text" and result.loc["b", "sentences"] == "0"
    assert result.loc["c", "dominant_stance"] == "none" and result.loc["c", "top_support_text"] == ""
    assert result.loc["d", "dominant_stance"] == "rule_out"
    assert summary.rows == 4 + 1 + 2 + 3  # sentence rows, the empty article's placeholder included


def test_sentence_level_article_rows_keep_offsets_into_the_article(tmp_path):
    source = write_articles(tmp_path / "articles.jsonl")
    out = tmp_path / "sentences.parquet"
    score_file(source, out, CueConfidencePredictor(), LABELS, ScoreOptions(text_column="body", articles=True, chunk_rows=2))
    result = read_table(out)
    texts = dict(ARTICLES)
    for row in result[result["error"] == ""].itertuples():
        assert texts[row.doc_id][int(row.char_start) : int(row.char_end)] == row.body
    assert list(result.loc[result["doc_id"] == "a", "position"]) == [0, 1, 2, 3]
    assert result.loc[result["doc_id"] == "b", "error"].tolist() == ["empty text"]


def test_txt_article_offsets_index_the_whole_file(tmp_path):
    article = tmp_path / "20250301_talks.txt"
    raw = "Title: Talks\nDate: 2025-03-01\n\nLeaders met. They never agreed on troops.\n"
    article.write_text(raw)
    out = tmp_path / "out.jsonl"
    score_file(article, out, CueConfidencePredictor(), LABELS, ScoreOptions(level="sentence"))
    result = read_table(out)
    assert list(result["title"]) == ["Talks", "Talks"] and list(result["date"]) == ["2025-03-01"] * 2
    assert [raw[s:e] for s, e in zip(result["char_start"], result["char_end"])] == list(result["text"])


def test_article_level_needs_article_input(tmp_path):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ["troops"]}).to_csv(source, index=False)
    with pytest.raises(InputError, match="--level article needs article input"):
        score_file(source, tmp_path / "out.csv", CueConfidencePredictor(), LABELS, ScoreOptions(level="article"))
    with pytest.raises(InputError, match="--none-label 'neutral' is not one of the model's labels"):
        score_file(
            source,
            tmp_path / "out.csv",
            CueConfidencePredictor(),
            LABELS,
            ScoreOptions(articles=True, level="article", none_label="neutral"),
        )
    assert not (tmp_path / "out.csv").exists()


def test_dominant_stance_ties_go_to_the_more_confident_then_label_order():
    labels = ["support", "rule_out", "none"]
    assert (
        dominant_stance({"support": 2, "rule_out": 2, "none": 9}, {"support": 1.0, "rule_out": 1.5}, labels, "none") == "rule_out"
    )
    assert dominant_stance({"support": 1, "rule_out": 1}, {"support": 0.7, "rule_out": 0.7}, labels, "none") == "support"
    assert dominant_stance({"none": 3}, {"none": 2.0}, labels, "none") == "none"
