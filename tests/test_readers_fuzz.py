"""Fuzzed scoring inputs: every outcome is a complete output with every row accounted for,
or a StanceError with a one-line message and nothing written beside the input."""

import csv
import io
import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import StanceError
from pipeline.io import read_table
from pipeline.scoring.run import ScoreOptions, score_file
from test_score import LABELS, KeywordPredictor

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OPTIONS = ScoreOptions(chunk_rows=3, max_chars=50)
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=80)  # NUL: binary, refused


def read_output(path: Path) -> pd.DataFrame:
    if path.suffix == ".jsonl":  # json, not pandas: it refuses integers past 64 bits that JSON allows
        return pd.DataFrame([json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line])
    return read_table(path)


def run(content: bytes, suffix: str, options: ScoreOptions = OPTIONS, out_suffix: str = ".csv"):
    """Score ``content`` saved as ``in<suffix>``; return (summary or None, output frame or None, error)."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"in{suffix}"
        source.write_bytes(content)
        out = Path(folder) / f"out{out_suffix}"
        try:
            summary = score_file(source, out, KeywordPredictor(), LABELS, options)
        except StanceError as exc:
            assert "\n" not in str(exc) and str(exc)
            assert sorted(p.name for p in Path(folder).iterdir()) == [source.name], "something written on error"
            return None, None, exc
        result = read_output(out)
        assert len(result) == summary.rows == summary.scored + summary.errors
        assert sorted(p.name for p in Path(folder).iterdir()) == sorted([source.name, out.name, f"{out.name}.provenance.json"])
        return summary, result, None


@FUZZ
@given(content=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".jsonl", ".parquet", ".txt"]))
def test_random_bytes_give_a_clean_result_or_a_one_line_error(content, suffix):
    summary, _, error = run(content, suffix)
    if suffix == ".csv" and error is None:  # every record after the header is a row
        records = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
        assert summary.rows == len(records) - 1


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([header, *rows])  # "\r\n" lines: a lone "\r" in a value gets quoted
    return buffer.getvalue().encode("utf-8")


@FUZZ
@given(
    values=st.lists(texts, min_size=1, max_size=12), bom=st.booleans(), out_suffix=st.sampled_from([".csv", ".jsonl", ".parquet"])
)
def test_csv_values_come_back_exactly(values, bom, out_suffix):
    rows = [[str(i), value] for i, value in enumerate(values)]
    content = (b"\xef\xbb\xbf" if bom else b"") + csv_bytes(["id", "text"], rows)
    _, result, error = run(content, ".csv", out_suffix=out_suffix)
    assert error is None, error
    assert [str(v) for v in result["id"]] == [str(i) for i in range(len(values))]
    got = ["" if v is None or (isinstance(v, float) and pd.isna(v)) else v for v in result["text"]]
    assert got == values
    too_long = sum(len(v) > OPTIONS.max_chars for v in values)
    empty = sum(not v.strip() for v in values)
    assert (result["error"].fillna("") != "").sum() == too_long + empty


@FUZZ
@given(values=st.lists(texts, min_size=1, max_size=8), data=st.data())
def test_broken_csv_quoting_is_a_clean_result_or_an_error(values, data):
    content = csv_bytes(["id", "text"], [[str(i), v] for i, v in enumerate(values)])
    position = data.draw(st.integers(0, len(content)))
    mutation = data.draw(st.sampled_from([b'"', b'""', b",", b"\n", b"\r", b'"x"y', b""]))
    cut = data.draw(st.booleans())
    broken = content[:position] + mutation + (b"" if cut else content[position:])
    run(broken, ".csv")


def test_a_quote_that_swallows_the_header_line_break_is_a_one_line_error():
    """Found by the test above: an opening quote before the header made the header's names
    span lines, and the error listing them did too."""
    summary, _, error = run(b'"id,text\r\n0,",0"\r\n1,\r\n', ".csv")
    assert summary is None and "no 'text' column" in str(error) and "\\r\\n" in str(error)


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    texts,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@FUZZ
@given(
    records=st.lists(st.dictionaries(st.sampled_from(["text", "id", "note"]), json_values, max_size=3), min_size=1, max_size=10),
    out_suffix=st.sampled_from([".csv", ".jsonl", ".parquet"]),
)
def test_jsonl_records_with_missing_or_odd_values_are_all_kept(records, out_suffix):
    content = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    summary, result, error = run(content, ".jsonl", out_suffix=out_suffix)
    if not any("text" in r for r in records):
        assert error is not None and "no 'text' column" in str(error)
        return
    assert error is None, error
    assert summary.rows == len(records)
    expected_scored = sum(isinstance(r.get("text"), str) and r["text"].strip() != "" and len(r["text"]) <= 50 for r in records)
    assert summary.scored == expected_scored


@FUZZ
@given(lines=st.lists(st.tuples(texts, st.sampled_from(["utf-8", "cp1252", "latin-1"])), min_size=1, max_size=6))
def test_mixed_encodings_fail_with_the_line_and_offset_or_decode(lines):
    encoded = [b"text\n"]
    for text, encoding in lines:
        encoded.append(
            csv_bytes(["x"], [[text.encode(encoding, "replace").decode(encoding)]])
            .split(b"\n", 1)[1]
            .decode("utf-8")
            .encode(encoding, "replace")
        )
    _, _, error = run(b"".join(encoded), ".csv")
    if error is not None:
        assert "line" in str(error) and "byte offset" in str(error)


def test_huge_csv_field_is_kept_with_an_error_not_a_failure(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,text\n1," + "troops " * 40_000 + "\n2,troops\n")
    summary = score_file(source, tmp_path / "out.csv", KeywordPredictor(), LABELS, OPTIONS)
    result = read_table(tmp_path / "out.csv")
    assert (summary.rows, summary.errors) == (2, 1)
    assert result.loc[0, "error"] == "text longer than 50 characters (280000)"


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_file_ending_mid_character_names_the_offset(tmp_path, suffix):
    source = tmp_path / f"in{suffix}"
    source.write_bytes(b"text\nok\ncaf\xc3" if suffix == ".csv" else b'{"text": "a"}\n\xc3')
    with pytest.raises(StanceError, match="byte offset"):
        score_file(source, tmp_path / "out.csv", KeywordPredictor(), LABELS)
    assert not (tmp_path / "out.csv").exists()
