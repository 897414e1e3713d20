"""Batch scoring keeps every row, in order, and never leaves a partial output."""

import json

import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.io import read_table
from pipeline.scoring.run import ScoreOptions, score_file

LABELS = ["support", "none"]


class KeywordPredictor:
    """Test double: 'support' when the text mentions troops; counts its calls."""

    def __init__(self, fail_on_call: int | None = None):
        self.calls = 0
        self.fail_on_call = fail_on_call

    def predict(self, frame):
        self.calls += 1
        if self.fail_on_call is not None and self.calls >= self.fail_on_call:
            raise RuntimeError("boom")
        p = frame["text"].str.contains("troops").astype(float).to_numpy()
        return pd.DataFrame(
            {"stance": ["support" if x else "none" for x in p], "confidence": 1.0, "p_support": p, "p_none": 1 - p}
        )


def write_csv(path, texts):
    pd.DataFrame({"id": range(len(texts)), "text": texts}).to_csv(path, index=False)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_score_keeps_every_input_row_in_order(tmp_path, suffix):
    texts = ["send troops", "", "weather", None, "x" * 50, "more troops"] * 5
    source = tmp_path / f"in{suffix}"
    frame = pd.DataFrame({"id": range(len(texts)), "text": texts, "extra": "keep"})
    if suffix == ".csv":
        frame.to_csv(source, index=False)
    elif suffix == ".jsonl":
        frame.to_json(source, orient="records", lines=True)
    else:
        frame.to_parquet(source)
    out = tmp_path / f"out{suffix}"
    summary = score_file(source, out, KeywordPredictor(), LABELS, ScoreOptions(chunk_rows=4, max_chars=20))
    result = read_table(out)
    assert len(result) == len(texts) == summary.rows
    assert [int(i) for i in result["id"]] == list(range(len(texts)))
    assert set(result["extra"]) == {"keep"}
    by_text = result.set_index(result["id"].astype(int))
    assert by_text.loc[0, "stance"] == "support" and by_text.loc[2, "stance"] == "none"
    assert by_text.loc[1, "stance"] in ("", None) and "text" in by_text.loc[1, "error"]
    assert by_text.loc[4, "error"].startswith("text longer than 20")
    assert summary.errors == 15 and summary.scored == 15


def test_non_string_text_is_kept_with_an_error(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in [{"text": 12}, {"text": "troops"}, {"other": 1}]) + "\n")
    out = tmp_path / "out.csv"
    score_file(source, out, KeywordPredictor(), LABELS)
    result = read_table(out)
    assert list(result["error"]) == ["text is not a string (int)", "", "missing text"]


def test_failure_midway_leaves_no_output_only_a_checkpoint(tmp_path):
    source = tmp_path / "in.csv"
    write_csv(source, ["troops"] * 10)
    out = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        score_file(source, out, KeywordPredictor(fail_on_call=2), LABELS, ScoreOptions(chunk_rows=3))
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.glob(".out.csv.*")) == [".out.csv.checkpoint.json", ".out.csv.partial"]


def test_missing_text_column_is_a_clear_error(tmp_path):
    source = tmp_path / "in.csv"
    pd.DataFrame({"body": ["a"]}).to_csv(source, index=False)
    with pytest.raises(InputError, match="no 'text' column.*--text-column"):
        score_file(source, tmp_path / "out.csv", KeywordPredictor(), LABELS)
    assert not (tmp_path / "out.csv").exists()


def test_ragged_csv_row_is_named(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,text\n1,fine\n2,too,many\n")
    with pytest.raises(InputError, match=r"in.csv row 3 \(line 3\): 3 fields, header has 2"):
        score_file(source, tmp_path / "out.csv", KeywordPredictor(), LABELS)


def test_article_folder_is_split_into_sentences(tmp_path):
    folder = tmp_path / "arts"
    folder.mkdir()
    (folder / "a.txt").write_text("Title: T\n\nThey sent troops. It rained.\n")
    (folder / "b.txt").write_text("Nothing here.")
    out = tmp_path / "out.csv"
    score_file(folder, out, KeywordPredictor(), LABELS)
    result = read_table(out)
    assert list(result["doc_id"]) == ["a", "a", "b"]
    assert list(result["stance"]) == ["support", "none", "none"]


def test_empty_input_is_an_error_and_writes_nothing(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,text\n")
    with pytest.raises(InputError, match="no rows"):
        score_file(source, tmp_path / "out.csv", KeywordPredictor(), LABELS)
    assert not (tmp_path / "out.csv").exists()


def test_undecodable_csv_names_the_row(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"id,text\n1,ok\n2,caf\xe9\n")
    with pytest.raises(InputError, match=r"in.csv line 3: not utf-8-sig text \(byte 0xe9 at byte offset 18\)"):
        score_file(source, tmp_path / "out.csv", KeywordPredictor(), LABELS)
    score_file(source, tmp_path / "out.csv", KeywordPredictor(), LABELS, ScoreOptions(encoding="cp1252"))
    assert read_table(tmp_path / "out.csv").loc[1, "text"] == "café"


def test_utf8_bom_is_not_part_of_the_first_column(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes("\ufeffid,text\n1,troops\n".encode("utf-8"))
    score_file(source, tmp_path / "out.csv", KeywordPredictor(), LABELS)
    assert list(read_table(tmp_path / "out.csv").columns[:2]) == ["id", "text"]


def test_jsonl_key_first_seen_late_gets_its_column_in_every_chunk(tmp_path):
    source = tmp_path / "in.jsonl"
    records = [{"text": "troops"}] * 5 + [{"text": "calm", "note": {"k": [1, 2]}}]
    source.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    for suffix in (".csv", ".jsonl", ".parquet"):
        out = tmp_path / f"out{suffix}"
        score_file(source, out, KeywordPredictor(), LABELS, ScoreOptions(chunk_rows=2))
        result = read_table(out)
        assert list(result.columns[:2]) == ["text", "note"], suffix
        assert len(result) == 6
    assert json.loads((tmp_path / "out.jsonl").read_text().splitlines()[5])["note"] == {"k": [1, 2]}
    assert read_table(tmp_path / "out.parquet")["note"].iloc[5] == '{"k": [1, 2]}'  # non-strings as JSON text


def test_progress_reports_rows_done_and_the_total_when_known(tmp_path):
    source = tmp_path / "in.parquet"
    pd.DataFrame({"text": ["troops"] * 10}).to_parquet(source)
    calls = []
    score_file(
        source,
        tmp_path / "out.csv",
        KeywordPredictor(),
        LABELS,
        ScoreOptions(chunk_rows=4),
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(0, 10), (4, 10), (8, 10), (10, 10)]


def test_target_column_reaches_the_model(tmp_path):
    seen = []

    class TargetPredictor(KeywordPredictor):
        def predict(self, frame):
            seen.extend(frame["target"])
            return super().predict(frame)

    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ["troops", "", "calm"], "target": ["t1", "t2", "t3"]}).to_csv(source, index=False)
    score_file(source, tmp_path / "out.csv", TargetPredictor(), LABELS)
    assert seen == ["t1", "t3"]


@pytest.mark.parametrize("column", ["stance", "confidence", "p_none", "error"])
def test_an_input_column_named_like_an_output_column_is_refused_not_overwritten(tmp_path, column):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ["send troops"], column: ["analyst's own value"]}).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    with pytest.raises(InputError, match=rf"in.csv: column '{column}' would be overwritten by the scores"):
        score_file(source, out, KeywordPredictor(), LABELS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]  # no output, no partial, no checkpoint
