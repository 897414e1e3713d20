"""Report benchmark: `stance report` time and peak memory on large scored files.

    .venv/bin/python bench/report.py                          # 100k and 1M rows, Parquet and CSV
    .venv/bin/python bench/report.py --sizes 100000 --formats parquet

Inputs are sentence-level scored files shaped like `stance score`'s output of the real
corpus (doc_id ``YYYYMMDDTHHMMSSZ_<country>_en_<n>``, date, title, text, stance,
confidence, p_<label>, error): the sample corpus's sentences, cycled, 20 per article,
articles spread over 2022-2025 and 12 countries, stances drawn with a fixed seed at about
the real corpus's rate (3 in 100). They are written in chunks under ``--workdir``. Each
report runs as its own `stance report` process; the time is its wall time (start-up
included) and the memory its peak RSS (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LABELS = ["support", "conditional", "rule_out", "none"]
STANCE_RATE = [0.012, 0.006, 0.012, 0.97]
COUNTRIES = ["US", "GB", "PL", "UA", "FR", "DE", "IT", "ES", "CZ", "RO", "LT", "CA"]
SENTENCES_PER_ARTICLE = 20
CHUNK = 100_000


def corpus_sentences() -> list[str]:
    from pipeline.ingest import split_sentences
    from pipeline.io import read_articles

    articles = read_articles(REPO / "data" / "raw" / "sample")
    return [s.text for text in articles["text"] for s in split_sentences(text)]


def scored_chunk(start: int, rows: int, sentences: list[str], rng: np.random.Generator) -> pd.DataFrame:
    index = np.arange(start, start + rows)
    article = index // SENTENCES_PER_ARTICLE
    days = pd.Timestamp("2022-01-01") + pd.to_timedelta(article * 1461 // max(1, article.max() + 1), unit="D")
    day = pd.Series(days).dt.strftime("%Y%m%d").to_numpy()
    country = np.array(COUNTRIES)[article % len(COUNTRIES)]
    stance = rng.choice(LABELS, size=rows, p=STANCE_RATE)
    confidence = rng.uniform(0.4, 1.0, size=rows)
    frame = pd.DataFrame(
        {
            "doc_id": [f"{d}T120000Z_{c}_en_{a:07d}" for d, c, a in zip(day, country, article)],
            "title": "",
            "date": pd.Series(days).dt.strftime("%Y-%m-%d").to_numpy(),
            "source": "",
            "position": index % SENTENCES_PER_ARTICLE,
            "text": [sentences[i % len(sentences)] for i in index],
            "stance": stance,
            "confidence": confidence,
        }
    )
    for label in LABELS:
        frame[f"p_{label}"] = np.where(stance == label, confidence, (1 - confidence) / 3)
    frame["error"] = ""
    return frame


def write_scored(path: Path, rows: int, sentences: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    writer = None
    try:
        for start in range(0, rows, CHUNK):
            chunk = scored_chunk(start, min(CHUNK, rows - start), sentences, rng)
            if path.suffix == ".parquet":
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                writer = writer or pq.ParquetWriter(path, table.schema)
                writer.write_table(table)
            else:
                chunk.to_csv(path, mode="w" if start == 0 else "a", header=start == 0, index=False)
    finally:
        if writer is not None:
            writer.close()


# Runs the command given as arguments and prints its peak RSS in KB: a fresh parent per
# report, so ru_maxrss of its children is that one report's peak.
PEAK_RSS = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def run_report(scored: Path, output: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `stance report` process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, str(REPO / ".venv" / "bin" / "stance"), "report", str(scored), "--output", str(output)],
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, int(done.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--formats", nargs="+", default=["parquet", "csv"], choices=["parquet", "csv"])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/stance-bench-report"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    sentences = corpus_sentences()
    print("| rows | format | input MB | seconds | rows/s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for size in args.sizes:
        for fmt in args.formats:
            scored = args.workdir / f"scored_{size}.{fmt}"
            if not scored.exists():
                write_scored(scored, size, sentences)
            seconds, peak = run_report(scored, args.workdir / f"report_{size}_{fmt}.html")
            print(
                f"| {size:,} | {fmt} | {scored.stat().st_size / 1e6:.0f} | {seconds:.1f} | {size / seconds:,.0f} | {peak:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
