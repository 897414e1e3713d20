import datetime as dt

import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.ingest import ingest_articles, split_sentences
from pipeline.io import parse_article, read_articles


def test_offsets_slice_back_to_the_sentence():
    text = "Title line\nFirst sentence here. Second one follows!\n\n  Third, after a blank line.  \n"
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "Title line",
        "First sentence here.",
        "Second one follows!",
        "Third, after a blank line.",
    ]
    assert all(text[s.char_start : s.char_end] == s.text for s in sentences)
    assert [s.position for s in sentences] == [0, 1, 2, 3]


def test_abbreviations_do_not_split():
    sentences = split_sentences("Mr. Macron met U.S. officials on Monday. They talked.")
    assert len(sentences) == 2


def test_header_is_metadata_and_offsets_point_into_the_file(tmp_path):
    raw = "Title: Paris talks\nDate: 2025-03-02\nSource: Wire\n\nLeaders met. They talked.\n"
    article = parse_article("doc", raw)
    assert article["title"] == "Paris talks" and article["date"] == "2025-03-02"
    sentences, _ = ingest_articles(pd.DataFrame([article]))
    row = sentences.iloc[1]
    assert raw[row.char_start : row.char_end] == row.text == "They talked."
    assert row.sentence_id == "doc#0001"


def test_reserved_dates_and_duplicates_are_dropped():
    articles = pd.DataFrame(
        [
            parse_article("20230105_a", "Kept. Yes."),
            parse_article("20240105_b", "Reserved for evaluation."),
            parse_article("20230106_c", "Kept.  Yes."),  # same text, other spacing
        ]
    )
    sentences, stats = ingest_articles(articles, dt.date(2024, 1, 1))
    assert set(sentences["doc_id"]) == {"20230105_a"}
    assert (stats.articles_reserved, stats.articles_duplicate) == (1, 1)


def test_table_input_requires_text_column(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,body\n1,hello\n")
    with pytest.raises(InputError, match="no 'text' column"):
        read_articles(path)


def test_undecodable_article_names_the_byte(tmp_path):
    folder = tmp_path / "arts"
    folder.mkdir()
    (folder / "x.txt").write_bytes(b"caf\xe9 au lait")
    with pytest.raises(InputError, match=r"x.txt: .*byte offset 3"):
        read_articles(folder)
