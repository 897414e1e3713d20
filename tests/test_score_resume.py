"""An interrupted scoring run resumes from its last complete chunk to the same bytes."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.scoring.run import ScoreOptions, score_file
from pipeline.scoring.checkpoint import Checkpoint
from test_score import LABELS, KeywordPredictor

REPO = Path(__file__).resolve().parents[1]
OPTIONS = ScoreOptions(chunk_rows=4, max_chars=40)
TEXTS = ["send troops now", "", "weather today", None, "x" * 60, "more troops", "caf\u00e9 \u2014 troops"] * 5


def write_input(path: Path) -> Path:
    frame = pd.DataFrame({"id": range(len(TEXTS)), "text": TEXTS, "score": [i / 7 for i in range(len(TEXTS))]})
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(path)
    return path


def clean_run(source: Path, folder: Path, suffix: str) -> bytes:
    folder.mkdir()
    score_file(source, folder / f"out{suffix}", KeywordPredictor(), LABELS, OPTIONS)
    return (folder / f"out{suffix}").read_bytes()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_resume_after_a_failure_gives_the_bytes_of_a_clean_run(tmp_path, suffix):
    source = write_input(tmp_path / f"in{suffix}")
    expected = clean_run(source, tmp_path / "clean", suffix)
    out = tmp_path / f"out{suffix}"
    with pytest.raises(RuntimeError):
        score_file(source, out, KeywordPredictor(fail_on_call=4), LABELS, OPTIONS)
    assert not out.exists()
    assert Checkpoint(out).load().chunks_done == 3
    with Checkpoint(out).partial.open("ab") as partial:  # a chunk torn by the interruption
        partial.write(b"half a chunk")

    resumed = KeywordPredictor()
    summary = score_file(source, out, resumed, LABELS, OPTIONS, resume=True)
    assert out.read_bytes() == expected
    assert resumed.calls == 9 - 3  # 35 rows in chunks of 4: only the chunks not done are scored
    assert (summary.rows, summary.scored, summary.errors) == (35, 20, 15)
    assert not list(tmp_path.glob(".out*"))


def test_resume_after_the_process_is_killed(tmp_path):
    source = write_input(tmp_path / "in.csv")
    expected = clean_run(source, tmp_path / "clean", ".csv")
    out = tmp_path / "out.csv"
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO / "tests")!r})
        from pathlib import Path
        from pipeline.scoring.run import ScoreOptions, score_file
        from test_score import LABELS, KeywordPredictor

        class Killed(KeywordPredictor):
            def predict(self, frame):
                if self.calls == 5:
                    os.kill(os.getpid(), signal.SIGKILL)
                return super().predict(frame)

        score_file(Path({str(source)!r}), Path({str(out)!r}), Killed(), LABELS, ScoreOptions(chunk_rows=4, max_chars=40))
    """)
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    assert not out.exists() and Checkpoint(out).load().chunks_done == 5

    score_file(source, out, KeywordPredictor(), LABELS, OPTIONS, resume=True)
    assert out.read_bytes() == expected


def interrupted(tmp_path: Path) -> tuple[Path, Path]:
    source = write_input(tmp_path / "in.csv")
    out = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        score_file(source, out, KeywordPredictor(fail_on_call=3), LABELS, OPTIONS, model_uri="models:/m@champion", model_id="m-1")
    return source, out


def test_resume_is_refused_when_the_input_changed(tmp_path):
    source, out = interrupted(tmp_path)
    with source.open("a") as handle:
        handle.write("99,one more row,0\n")
    with pytest.raises(InputError, match=r"out.csv: cannot resume: the input's bytes changed; run without --resume"):
        score_file(source, out, KeywordPredictor(), LABELS, OPTIONS, model_uri="models:/m@champion", model_id="m-1", resume=True)
    assert not out.exists()


def test_resume_is_refused_when_the_model_or_options_changed(tmp_path):
    source, out = interrupted(tmp_path)
    with pytest.raises(InputError, match=r"the model behind the URI changed \('m-1' -> 'm-2'\)"):
        score_file(source, out, KeywordPredictor(), LABELS, OPTIONS, model_uri="models:/m@champion", model_id="m-2", resume=True)
    with pytest.raises(InputError, match=r"options changed: chunk_rows 4 -> 5"):
        score_file(
            source,
            out,
            KeywordPredictor(),
            LABELS,
            ScoreOptions(chunk_rows=5, max_chars=40),
            model_uri="models:/m@champion",
            model_id="m-1",
            resume=True,
        )
    # a refused resume leaves the checkpoint alone: the right command still resumes
    score_file(source, out, KeywordPredictor(), LABELS, OPTIONS, model_uri="models:/m@champion", model_id="m-1", resume=True)
    assert len(pd.read_csv(out)) == len(TEXTS)


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path):
    source = write_input(tmp_path / "in.csv")
    with pytest.raises(InputError, match=r"out.csv: nothing to resume"):
        score_file(source, tmp_path / "out.csv", KeywordPredictor(), LABELS, OPTIONS, resume=True)


def test_a_fresh_run_replaces_an_old_checkpoint(tmp_path):
    source, out = interrupted(tmp_path)
    expected = clean_run(source, tmp_path / "clean", ".csv")
    score_file(source, out, KeywordPredictor(), LABELS, OPTIONS)
    assert out.read_bytes() == expected
    assert not Checkpoint(out).exists() and not Checkpoint(out).partial.exists()


def test_bad_input_midway_drops_the_checkpoint_and_writes_nothing(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,text\n" + "".join(f"{i},troops {i}\n" for i in range(20)) + "20,too,many\n")
    out = tmp_path / "out.csv"
    with pytest.raises(InputError, match=r"row 22 \(line 22\): 3 fields, header has 2"):
        score_file(source, out, KeywordPredictor(), LABELS, OPTIONS)
    assert os.listdir(tmp_path) == ["in.csv"]
