"""`stance score --workers N`: chunks scored in parallel processes, the same bytes out,
checkpoints and --resume unchanged, a bounded number of chunks in flight."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from pipeline.scoring import workers as score_workers
from pipeline.scoring.run import ScoreOptions, score_file
from pipeline.scoring.checkpoint import Checkpoint
from pipeline.scoring.workers import ChunkScorer

LABELS = ["support", "none"]


class PidPredictor:
    """Test double: 'support' for sentences about troops; p_support carries the pid of the
    process that scored the row, so a test can see where each chunk was scored."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.fail_on = fail_on

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.fail_on is not None and (frame["text"] == self.fail_on).any():
            raise RuntimeError(f"cannot score {self.fail_on!r}")
        troops = frame["text"].str.contains("troops").to_numpy()
        return pd.DataFrame(
            {
                "stance": ["support" if t else "none" for t in troops],
                "confidence": 1.0,
                "p_support": float(os.getpid()),
                "p_none": troops.astype(float),
            }
        )


class KeywordPredictor(PidPredictor):
    """The same labels without the pid: outputs comparable across processes."""

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        return super().predict(frame).assign(p_support=lambda f: (f["stance"] == "support").astype(float))


def write_input(path, rows: int) -> None:
    texts = [("send troops now" if i % 3 == 0 else f"weather report {i}") if i % 17 else "" for i in range(rows)]
    frame = pd.DataFrame({"id": range(rows), "text": texts})
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)


@pytest.fixture(autouse=True)
def _workers_from_the_second_chunk(monkeypatch):
    monkeypatch.setattr(score_workers, "CHUNKS_BEFORE_WORKERS", 1)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_two_workers_write_the_same_bytes_as_one(tmp_path, suffix):
    source = tmp_path / f"in{suffix}"
    write_input(source, 300)
    options = ScoreOptions(chunk_rows=16)
    one, two = tmp_path / f"one{suffix}", tmp_path / f"two{suffix}"
    first = score_file(source, one, KeywordPredictor(), LABELS, options)
    second = score_file(source, two, KeywordPredictor(), LABELS, options, workers=2)
    assert one.read_bytes() == two.read_bytes()
    assert (first.rows, first.scored, first.errors) == (second.rows, second.scored, second.errors) == (300, 282, 18)


def test_chunks_are_scored_in_worker_processes(tmp_path):
    source = tmp_path / "in.csv"
    write_input(source, 400)
    out = tmp_path / "out.csv"
    score_file(source, out, PidPredictor(), LABELS, ScoreOptions(chunk_rows=10), workers=2)
    pids = set(pd.read_csv(out)["p_support"].dropna().astype(int))
    assert os.getpid() in pids  # the first chunk, before the workers start
    assert len(pids - {os.getpid()}) == 2  # the rest in two other processes


class FreshPredictor(PidPredictor):
    """What ``load_model`` makes in a worker: marks its rows with the negated pid."""

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        return super().predict(frame).assign(p_support=lambda f: -f["p_support"])


def test_given_a_loader_each_worker_scores_with_a_model_of_its_own(tmp_path):
    source = tmp_path / "in.csv"
    write_input(source, 200)
    out = tmp_path / "out.csv"
    score_file(source, out, PidPredictor(), LABELS, ScoreOptions(chunk_rows=10), workers=2, load_model=FreshPredictor)
    marks = pd.read_csv(out)["p_support"].dropna().astype(int)
    assert set(marks.iloc[:9]) == {os.getpid()}  # the first chunk: the parent's model (row 0 is empty text)
    assert (marks.iloc[10:] < 0).all() and len(set(marks.iloc[10:])) == 2  # then two workers, each with a fresh model


def test_an_interrupted_run_with_workers_resumes_to_the_same_bytes(tmp_path):
    source = tmp_path / "in.csv"
    write_input(source, 320)
    options = ScoreOptions(chunk_rows=16)
    reference = tmp_path / "reference.csv"
    score_file(source, reference, KeywordPredictor(), LABELS, options)
    out = tmp_path / "out.csv"
    with pytest.raises(RuntimeError, match="cannot score"):
        score_file(source, out, KeywordPredictor(fail_on="weather report 250"), LABELS, options, workers=2)
    state = Checkpoint(out).load()
    assert not out.exists() and 0 < state.chunks_done <= 250 // 16
    summary = score_file(source, out, KeywordPredictor(), LABELS, options, resume=True, workers=2)
    assert out.read_bytes() == reference.read_bytes()
    assert summary.resumed_rows == state.rows_done and summary.rows == 320


def test_at_most_two_chunks_per_worker_are_in_flight():
    pulled, yielded, ahead = [0], [0], []

    def chunks():
        for number in range(40):
            pulled[0] += 1
            ahead.append(pulled[0] - yielded[0])
            yield number, pd.DataFrame({"text": [f"sentence {number}"]})

    scorer = ChunkScorer(KeywordPredictor(), lambda chunk, predictor: predictor.predict(chunk), workers=2)
    numbers = []
    for number, _ in scorer.map(chunks()):
        yielded[0] += 1
        numbers.append(number)
    assert numbers == list(range(40))
    assert max(ahead) <= 2 * 2 + 1
