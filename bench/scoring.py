"""Scoring benchmark: streaming `stance score` beside the naive path, speed and peak memory.

    .venv/bin/python bench/scoring.py                                  # 10k, 100k, 1M rows; naive up to 100k
    .venv/bin/python bench/scoring.py --sizes 10000 100000 --naive-max 100000 --models tfidf
    .venv/bin/python bench/scoring.py --sizes 100000 1000000 --workers 1 2 --no-naive --no-readers --models tfidf

Inputs are CSV files of sentences from the sample corpus (``data/raw/sample``, split as
ingest splits them, cycled to the size), written under ``--workdir`` (in /tmp). Each
configuration runs in its own Python process, which reports its peak RSS (``ru_maxrss``)
and the seconds spent scoring (model loading excluded); the parent kills a process whose
RSS passes ``--memory-cap-gb`` and says so. Paths:

* ``stream``: ``score_file`` (chunks of ``--batch-size`` rows, CSV in, CSV out), with each of
  ``--workers`` worker processes (peak RSS: the parent's, plus the largest worker's once
  per worker, an upper bound on their sum);
* ``naive``: ``pd.read_csv`` of the whole file, one ``model.predict`` call, ``to_csv``;
* ``read-csv`` / ``read-arrow``: reading only, the ``csv``-module reader ``stance score``
  uses vs pyarrow's streaming CSV reader (all columns as strings), to choose by measurement.

Models are trained with ``stance run`` on the sample corpus into a store under
``--workdir`` (``tfidf``: configs/default.yaml; ``finetune``: configs/finetune.yaml with
one epoch, which changes its quality, not its scoring speed), or pass ``--tfidf-uri`` /
``--finetune-uri``; ``embed``: configs/embed_logreg.yaml, the same MiniLM encoder through
ONNX Runtime). The transformer models run only at sizes up to ``--finetune-max``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CONFIGS = {
    "tfidf": ("configs/default.yaml", []),
    "finetune": ("configs/finetune.yaml", ["train.finetune.epochs=1"]),
    "embed": ("configs/embed_logreg.yaml", []),
}


def corpus_sentences() -> list[str]:
    from pipeline.ingest import split_sentences
    from pipeline.io import read_articles

    articles = read_articles(REPO / "data" / "raw" / "sample")
    return [s.text for text in articles["text"] for s in split_sentences(text)]


def write_input(path: Path, rows: int, sentences: list[str]) -> Path:
    """A CSV of ``rows`` sentences (``id, doc_id, text``), streamed to disk."""
    import csv

    if path.exists():
        return path
    tmp = path.with_suffix(".part")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "doc_id", "text"])
        for i in range(rows):
            writer.writerow([i, f"doc{i // 20:06d}", sentences[i % len(sentences)]])
    tmp.rename(path)
    return path


def train_model(kind: str, workdir: Path) -> str:
    """Register a model of ``kind`` trained on the sample corpus in the bench store; its URI."""
    name = f"bench-{kind}"
    config, overrides = CONFIGS[kind]
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}", "MLFLOW_DISABLE_TELEMETRY": "true"}
    settings = [
        f"data.articles={REPO / 'data/raw/sample'}",
        f"data.gold_dev={REPO / 'data/gold/dev.csv'}",
        f"data.gold_test={REPO / 'data/gold/test.csv'}",
        f"data.interim_dir={workdir / kind / 'interim'}",
        f"data.processed_dir={workdir / kind / 'processed'}",
        f"data.reports_dir={workdir / kind / 'reports'}",
        f"registry.model_name={name}",
        f"experiment=bench-scoring-{kind}",
        *overrides,
    ]
    command = [str(REPO / ".venv/bin/stance"), "run", "--config", str(REPO / config)]
    for setting in settings:
        command += ["--set", setting]
    (workdir / kind).mkdir(parents=True, exist_ok=True)
    print(f"training {kind}: {' '.join(command[1:4])} ...", file=sys.stderr, flush=True)
    # From the project root: the config's other paths (statements bank, evaluation sets) are relative to it.
    subprocess.run(command, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    return f"models:/{name}@champion"


def child(args: argparse.Namespace) -> None:
    """One configuration, in this process; prints a JSON line."""
    import pandas as pd

    source, out = Path(args.input), Path(args.output)
    loaded_rss = 0
    if args.child in ("stream", "naive"):
        from pipeline.scoring.model import load_model, load_predictor
        from pipeline.scoring.run import ScoreOptions, score_file
        from pipeline.scoring.workers import uses_threads

        model, labels = load_predictor(args.model)
        model.predict(pd.DataFrame({"text": ["warm-up sentence."]}))
        loaded_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if args.child == "stream":
        fresh = functools.partial(load_model, args.model) if uses_threads(model) else None
        rows = score_file(
            source, out, model, labels, ScoreOptions(chunk_rows=args.batch_size), workers=args.worker_count, load_model=fresh
        ).rows
    elif args.child == "naive":
        frame = pd.read_csv(source, dtype=str, keep_default_na=False)
        predicted = model.predict(frame[["text"]])
        pd.concat([frame, predicted], axis=1).to_csv(out, index=False)
        rows = len(frame)
    elif args.child == "read-csv":
        from pipeline.scoring.readers import iter_csv

        rows = sum(len(chunk) for chunk in iter_csv(source, args.batch_size, "utf-8-sig"))
    else:
        import pyarrow.csv as pacsv

        with source.open("rb") as handle:
            names = handle.readline().decode("utf-8-sig").strip().split(",")
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(block_size=1 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={n: "string" for n in names}, strings_can_be_null=False),
        )
        rows = sum(batch.to_pandas().shape[0] for batch in reader)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "worker_peak_rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                "loaded_rss_kb": loaded_rss,
            }
        )
    )


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(path: str, source: Path, model: str, args: argparse.Namespace, workers: int = 1) -> dict:
    """Run one configuration in a fresh process, killing it past the memory cap."""
    out = Path(args.workdir) / f"out-{path}-{source.stem}.csv"
    command = [
        sys.executable,
        __file__,
        "--child",
        path,
        "--input",
        str(source),
        "--output",
        str(out),
        "--model",
        model,
        "--batch-size",
        str(args.batch_size),
        "--worker-count",
        str(workers),
    ]
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{Path(args.workdir) / 'mlflow.db'}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    cap_kb = int(args.memory_cap_gb * 1024 * 1024)
    killed = False
    while process.poll() is None:
        if _rss_kb(process.pid) > cap_kb:
            process.kill()
            killed = True
        time.sleep(0.2)
    stdout, stderr = process.communicate()
    out.unlink(missing_ok=True)
    if killed:
        return {"note": f"killed: RSS passed {args.memory_cap_gb:g} GB"}
    if process.returncode != 0:
        return {"note": f"failed ({stderr.strip().splitlines()[-1][:80] if stderr.strip() else process.returncode})"}
    return json.loads(stdout.strip().splitlines()[-1])


def row(model: str, path: str, size: int, result: dict, workers: int = 1) -> str:
    if "note" in result:
        return f"| {model} | {path} | {workers} | {size:,} | | | | {result['note']} |"
    rate = result["rows"] / result["seconds"] if result["seconds"] else 0
    loaded = f"{result['loaded_rss_kb'] / 1024:,.0f}" if result["loaded_rss_kb"] else ""
    peak = f"{result['peak_rss_kb'] / 1024:,.0f}"
    if workers > 1:  # the parent, plus the largest worker's peak once per worker
        peak += f" + {workers} × {result.get('worker_peak_rss_kb', 0) / 1024:,.0f}"
    return f"| {model} | {path} | {workers} | {size:,} | {result['seconds']:,.1f} | {rate:,.0f} | {peak} | {loaded} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--naive-max", type=int, default=100_000, help="largest size the naive path runs at")
    parser.add_argument("--finetune-max", type=int, default=10_000, help="largest size the fine-tuned model runs at")
    parser.add_argument("--models", nargs="+", default=["tfidf", "finetune"], choices=list(CONFIGS))
    parser.add_argument("--tfidf-uri", default=None)
    parser.add_argument("--finetune-uri", default=None)
    parser.add_argument("--embed-uri", default=None)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="worker counts for the streaming path")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive path")
    parser.add_argument("--memory-cap-gb", type=float, default=8.0)
    parser.add_argument("--no-readers", action="store_true", help="skip the read-only rows")
    parser.add_argument("--workdir", default="/tmp/stance-bench-scoring")
    parser.add_argument("--child", choices=["stream", "naive", "read-csv", "read-arrow"], help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--worker-count", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sentences = corpus_sentences()
    inputs = {size: write_input(workdir / f"sentences-{size}.csv", size, sentences) for size in args.sizes}
    print(f"{len(sentences)} distinct corpus sentences; load average {os.getloadavg()[0]:.1f} at start", file=sys.stderr)
    lines = [
        "| model | path | workers | rows | seconds | rows/s | peak RSS (MB) | RSS after model load (MB) / note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    if not args.no_readers:
        for path in ("read-csv", "read-arrow"):
            size = max(args.sizes)
            lines.append(row("-", path, size, measure(path, inputs[size], "", args)))
            print(lines[-1], file=sys.stderr, flush=True)
    for kind in args.models:
        uri = getattr(args, f"{kind}_uri") or train_model(kind, workdir)
        limit = args.finetune_max if kind in ("finetune", "embed") else max(args.sizes)
        for size in [s for s in args.sizes if s <= limit]:
            for workers in args.workers:
                lines.append(row(kind, "stream", size, measure("stream", inputs[size], uri, args, workers), workers))
                print(lines[-1], file=sys.stderr, flush=True)
            if args.no_naive:
                continue
            if size > args.naive_max:
                lines.append(f"| {kind} | naive | 1 | {size:,} | | | | not run (--naive-max {args.naive_max:,}) |")
            else:
                lines.append(row(kind, "naive", size, measure("naive", inputs[size], uri, args)))
            print(lines[-1], file=sys.stderr, flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at end", file=sys.stderr)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
