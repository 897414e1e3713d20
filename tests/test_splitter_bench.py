"""The splitter benchmark's reference set and scoring (bench/splitter.py measures quality)."""

import json
import sys
from pathlib import Path

import pytest

from pipeline.errors import InputError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from splitter import REFERENCE, load_reference, naive_boundaries, reference_boundaries, score  # noqa: E402


def test_every_reference_paragraph_is_its_sentences_single_spaced():
    paragraphs = load_reference(REFERENCE)
    assert len(paragraphs) >= 150
    assert all(p.boundaries for p in paragraphs)  # multi-sentence paragraphs only


def test_reference_rejects_sentences_that_do_not_rebuild_the_text(tmp_path):
    path = tmp_path / "ref.jsonl"
    rows = [
        {"source": "x", "text": "One. Two.", "sentences": ["One.", "Two."]},
        {"source": "x", "text": "One. Two.", "sentences": ["One. Two"]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with pytest.raises(InputError, match=r"ref\.jsonl:2:"):
        load_reference(path)


def test_boundaries_are_sentence_starts_after_the_first():
    assert reference_boundaries(["Mr. Li came.", "He left.", "Done."]) == {13, 22}


def test_scores_count_missed_and_spurious_boundaries(tmp_path):
    path = tmp_path / "ref.jsonl"
    row = {"source": "x", "text": "Mr. Li came. He left.", "sentences": ["Mr. Li came.", "He left."]}
    path.write_text(json.dumps(row), encoding="utf-8")
    paragraphs = load_reference(path)
    predicted = [frozenset(naive_boundaries(paragraphs[0].text))]  # splits after "Mr." too
    metrics = score(paragraphs, predicted)
    assert metrics["recall"] == 1.0 and metrics["precision"] == 0.5 and metrics["exact_match"] == 0.0
