"""Diversity and leak report for the statements bank and every gold file.

    .venv/bin/python bench/data_quality.py                 # the full report (markdown), MiniLM near duplicates
    .venv/bin/python bench/data_quality.py --no-embeddings # without the MiniLM pass (faster)
    .venv/bin/python bench/data_quality.py --part FILE     # one bank file: schema, counts, cue share, lengths
    .venv/bin/python bench/data_quality.py --bank-table    # the bank's counts table for data/statements/README.md

Exit status 1 when a training file and an evaluation file share a sentence, an 8-word
span or a near duplicate (MiniLM cosine >= 0.92), or when a bank file breaks the schema.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
if sys.prefix == sys.base_prefix and VENV_PYTHON.exists():  # run with the project's venv
    os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.argv])
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import at_repo_root  # noqa: E402

from pipeline import data_quality as dq  # noqa: E402
from pipeline.statements import LABELS, read_bank, read_bank_file, validate_rows  # noqa: E402

DEFAULT_CONFIG = REPO / "configs" / "default.yaml"

STANCES = ("support", "conditional", "rule_out")
PHASES = (
    ("2022", "2022-01", "2022-12"),
    ("2023", "2023-01", "2023-12"),
    ("2024", "2024-01", "2024-12"),
    ("2025", "2025-01", "2025-12"),
    ("2026", "2026-01", "2026-12"),
)


def phase(date: str) -> str:
    for name, start, end in PHASES:
        if start <= date[:7] <= end:
            return name
    return "other"


def table(header: list[str], rows: list[list[object]]) -> str:
    def cell(value: object) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def crosstab(rows: list[dict[str, str]], key: str, columns: tuple[str, ...] = LABELS) -> str:
    counts = Counter((row[key], row["label"]) for row in rows)
    keys = sorted({row[key] for row in rows})
    body = [[k, *(counts[(k, c)] for c in columns), sum(counts[(k, c)] for c in columns)] for k in keys]
    return table([key, *columns, "total"], body)


def bank_summary(rows: list[dict[str, str]]) -> dict[str, object]:
    """The counts the statements-bank issue sets minimums for."""
    texts = [row["text"] for row in rows]
    labels = Counter(row["label"] for row in rows)
    stance_rows = [row for row in rows if row["label"] in STANCES]
    actors = Counter(row["actor"].strip() for row in rows)
    top_actor, top_count = actors.most_common(1)[0] if actors else ("", 0)
    pairs = Counter(row["pair_id"].strip() for row in rows if row.get("pair_id", "").strip())
    conditional = [row for row in rows if row["label"] == "conditional"]
    stats = dq.length_stats(texts)
    return {
        "rows": len(rows),
        **{f"label {label}": labels[label] for label in LABELS},
        "hard negatives": sum(dq.is_hard_negative(row["text"], row["label"]) for row in rows),
        "distinct actors": len(actors),
        "top actor": f"{top_actor} ({top_count}, {top_count / max(len(rows), 1):.1%})",
        "distinct countries": len({row["country"].strip() for row in rows}),
        "minimal pairs": sum(1 for count in pairs.values() if count == 2),
        "stance rows with a guideline cue phrase": _share(
            sum(bool(dq.cue_phrases(r["text"])) for r in stance_rows), len(stance_rows)
        ),
        "conditional rows with 'if'": _share(sum("if" in dq.words(r["text"]) for r in conditional), len(conditional)),
        "mean words (sd)": f"{stats.mean_words:.1f} ({stats.sd_words:.1f})",
        "rows over 35 words": _share(round(stats.share_over_35 * len(rows)), len(rows)),
        "rows with a quotation": _share(round(stats.share_quoted * len(rows)), len(rows)),
        "most frequent opening trigram": "{} ({:.1%})".format(*dq.top_share(dq.opening(t) for t in texts)),
        "rows sharing a skeleton": sum(c for c in Counter(dq.skeleton(t) for t in texts).values() if c > 1),
        "exact duplicates": len(dq.exact_duplicates(texts)),
        "per rule": dict(sorted(Counter(row["rule"] for row in rows).items())),
        "per form": dict(sorted(Counter(row["form"] for row in rows).items())),
        "per phase": dict(sorted(Counter(phase(row["date"]) for row in rows).items())),
    }


def _share(count: int, total: int) -> str:
    return f"{count} ({count / total:.1%})" if total else "0"


def print_summary(summary: dict[str, object]) -> None:
    for key, value in summary.items():
        print(f"{key:42s} {value}")


def check_part(path: Path) -> int:
    """The writers' check of one bank file: schema problems fail; the counts are printed."""
    rows = read_bank_file(path)
    problems = validate_rows(rows, path.name)
    print_summary(bank_summary(rows))
    actors = Counter(row["actor"].strip() for row in rows)
    over = {actor: count for actor, count in actors.items() if count > 15}
    if over:
        print(f"actors over 15 rows: {over}")
    openings = Counter(dq.opening(row["text"]) for row in rows)
    repeated = {o: c for o, c in openings.items() if c > 10}
    if repeated:
        print(f"openings used more than 10 times: {repeated}")
    for problem in problems[:50]:
        print(f"PROBLEM {problem}")
    return 1 if problems else 0


def labelled_sets(config_path: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The configured training texts and evaluation texts, by set name: training = the
    sample corpus's sentences outside gold-test articles, gold dev and every
    ``train.extra_gold`` set; evaluation = gold test, every ``evaluate.extra_sets`` set and
    the behavioural suite's sentences. Optional sets that are absent are left out."""
    from pipeline.config import load_config
    from pipeline.ingest import ingest_articles
    from pipeline.io import read_articles
    from pipeline.corpus import corpus_for

    config = load_config(config_path)
    corpus = corpus_for(config)
    dev, test = corpus.gold_dev, corpus.gold_test
    sentences, _ = ingest_articles(read_articles(config.path(config.data.articles)), config.data.reserved_from)
    test_docs = set(test["doc_id"]) if test is not None else set()
    train = {"corpus": sentences.loc[~sentences["doc_id"].isin(test_docs), "text"].tolist()}
    if dev is not None:
        train["gold_dev"] = dev["text"].tolist()
    train.update({name: frame["text"].tolist() for name, frame in corpus.extra_gold().items()})
    return train, evaluation_texts(config, test, corpus.evaluation_sets())


def effective_training_sets(config_path: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The texts the train stage really trains on (after its leak guard), by source, and the
    evaluation texts: what must never overlap."""
    from common import training_setup

    from pipeline.config import load_config
    from pipeline.train import TRAIN_SOURCE

    config = load_config(config_path)
    setup = training_setup(config)
    train = {str(source): group["text"].tolist() for source, group in setup.rows.groupby(TRAIN_SOURCE)}
    return train, evaluation_texts(config, setup.test, setup.evaluation)


def evaluation_texts(config, test, sets) -> dict[str, list[str]]:  # noqa: ANN001
    from pipeline.corpus import corpus_for

    evaluation = {"gold_test": test["text"].tolist()} if test is not None else {}
    evaluation.update({name: frame["text"].tolist() for name, frame in sets.items()})
    if config.evaluate.behaviour:
        evaluation["behaviour"] = corpus_for(config).behaviour_texts()["text"].tolist()
    return evaluation


def bank_sets(config_path: Path) -> set[str]:
    """The names of the config's training sets that are statements-bank files (team-written:
    they must not overlap evaluation text even before the leak guard)."""
    from pipeline.config import load_config
    from pipeline.labeling.gold import is_bank

    config = load_config(config_path)
    return {
        source.set_name
        for source in config.train.extra_gold
        if config.path(source.path).exists() and is_bank(config.path(source.path))
    }


def labelled_frames(config_path: Path) -> dict[str, list[dict[str, str]]]:
    """Every labelled set of the config (gold dev, gold test, extra gold, evaluation sets) as
    rows with ``text`` and ``label``."""
    from pipeline.config import load_config
    from pipeline.corpus import corpus_for

    config = load_config(config_path)
    corpus = corpus_for(config)
    frames = {"gold_dev": corpus.gold_dev, "gold_test": corpus.gold_test, **corpus.extra_gold(), **corpus.evaluation_sets()}
    return {name: frame[["text", "label"]].astype(str).to_dict("records") for name, frame in frames.items() if frame is not None}


def real_corpus_texts(config_path: Path) -> list[str]:
    """Sentences of the real corpus's 2022-2023 articles (the reference for lengths and
    quotations; 2024 articles are reserved and never read); empty when the shared data is absent."""
    from pipeline.config import load_config
    from pipeline.ingest import ingest_articles
    from pipeline.io import read_articles

    config = load_config(config_path)
    folder = config.path("{shared_data}/ukraine-news/articles")
    if not folder.is_dir():
        return []
    import datetime as dt

    sentences, _ = ingest_articles(read_articles(folder), dt.date(2024, 1, 1))
    return sentences["text"].tolist()


def embedder():
    from pipeline.classifiers.embeddings import embed_texts
    from pipeline.classifiers.weights import resolve_model_dir

    model_dir = resolve_model_dir(None)
    return lambda texts: embed_texts(texts, model_dir, cache_dir=REPO / ".cache")


def set_table(frames: dict[str, list[dict[str, str]]], real: list[str], embed) -> str:
    body = []
    for name, rows in [
        *frames.items(),
        *([("real corpus 2022-2023 (all sentences)", [{"text": t, "label": ""} for t in real])] if real else []),
    ]:
        texts = [row["text"] for row in rows]
        stats = dq.length_stats(texts)
        stance = [row["text"] for row in rows if row["label"] in STANCES]
        cue = sum(bool(dq.cue_phrases(t)) for t in stance) / len(stance) if stance else float("nan")
        within = len(dq.near_duplicates(embed(texts))) if embed is not None and rows and row_labelled(rows) else ""
        body.append(
            [
                name,
                len(rows),
                *(sum(r["label"] == label for r in rows) for label in LABELS),
                f"{stats.mean_words:.1f}",
                f"{stats.sd_words:.1f}",
                stats.share_over_35,
                stats.share_quoted,
                cue,
                dq.top_share(dq.opening(t) for t in texts)[1],
                len(dq.exact_duplicates(texts)),
                len(dq.shared_spans(texts)),
                within,
            ]
        )
    return table(
        [
            "set",
            "rows",
            *LABELS,
            "mean words",
            "sd",
            "> 35 words",
            "quoted",
            "stance rows with cue phrase",
            "top opening trigram",
            "exact dups",
            "pairs sharing 8 words",
            "near dups (cos >= 0.92)",
        ],
        body,
    )


def row_labelled(rows: list[dict[str, str]]) -> bool:
    return any(row["label"] for row in rows)


def bank_near_duplicates(rows: list[dict[str, str]], embed) -> list[tuple[str, str, float]]:
    """Near-duplicate bank rows that are not a declared minimal pair."""
    vectors = embed([row["text"] for row in rows])
    found = []
    for i, j, score in dq.near_duplicates(vectors):
        a, b = rows[i], rows[j]
        if a["pair_id"] and a["pair_id"] == b["pair_id"] and a["file"] == b["file"]:
            continue
        found.append((a["id"], b["id"], score))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", type=Path, help="check one bank file and print its counts")
    parser.add_argument("--bank", type=Path, default=REPO / "data" / "statements")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="whose training and evaluation sets")
    parser.add_argument("--no-embeddings", action="store_true", help="skip the MiniLM near-duplicate pass")
    parser.add_argument("--bank-table", action="store_true", help="print only the bank's counts table")
    args = parser.parse_args()
    at_repo_root()
    if args.part:
        return check_part(args.part)
    rows = read_bank(args.bank)
    problems = [
        p for file in sorted({r["file"] for r in rows}) for p in validate_rows([r for r in rows if r["file"] == file], file)
    ]
    summary = bank_summary(rows)
    if args.bank_table:
        print(table(["what", "count"], [[k, v] for k, v in summary.items()]))
        return 1 if problems else 0
    embed = None if args.no_embeddings else embedder()
    print("## Statements bank\n")
    print(table(["what", "count"], [[k, v] for k, v in summary.items()]))
    print("\n### Label x form\n\n" + crosstab(rows, "form"))
    print("\n### Label x phase\n\n" + crosstab([{**r, "phase": phase(r["date"])} for r in rows], "phase"))
    actors = Counter(r["actor"] for r in rows).most_common(15)
    print("\n### Most frequent actors\n\n" + table(["actor", "rows", "share"], [[a, c, c / len(rows)] for a, c in actors]))
    print("\n### Countries\n\n" + ", ".join(f"{c} {n}" for c, n in Counter(r["country"] for r in rows).most_common()))
    if embed is not None:
        near = bank_near_duplicates(rows, embed)
        print(f"\nNear duplicates inside the bank (MiniLM cosine >= 0.92, declared minimal pairs excepted): {len(near)}")
        for a, b, score in near[:20]:
            print(f"  {a} ~ {b} ({score:.3f})")
    print("\n## Every labelled set (and the real corpus as the reference for length and quotation)\n")
    print(set_table(labelled_frames(args.config), real_corpus_texts(args.config), embed))
    train, evaluation = labelled_sets(args.config)
    raw = dq.train_eval_overlaps(train, evaluation, embed)
    print(
        f"\n## Training vs evaluation text\n\ntraining files: {', '.join(f'{k} ({len(v)})' for k, v in train.items())}; "
        f"evaluation files: {', '.join(f'{k} ({len(v)})' for k, v in evaluation.items())}\n"
    )
    print(
        table(
            ["training file", "evaluation file", "kind", "pairs"],
            [[*key, count] for key, count in sorted(Counter((o.train_set, o.eval_set, o.kind) for o in raw).items())],
        )
    )
    bank_overlaps = [o for o in raw if o.train_set not in ("corpus", "gold_dev") and o.train_set in bank_sets(args.config)]
    effective_train, effective_eval = effective_training_sets(args.config)
    effective = dq.train_eval_overlaps(effective_train, effective_eval, embed)
    print(
        f"\nAfter the train stage's leak guard (exact text or a shared 8-word run with any evaluation sentence is "
        f"held out): {sum(map(len, effective_train.values()))} training rows, {len(effective)} overlaps"
        + (" (MiniLM cosine >= 0.92 included)" if embed is not None else "")
        + f"; statements-bank file overlaps: {len(bank_overlaps)}"
    )
    for overlap in [*bank_overlaps, *effective][:30]:
        print(
            f"  {overlap.kind} {overlap.score:.3f}: [{overlap.train_set}] {overlap.train_text!r} ~ "
            f"[{overlap.eval_set}] {overlap.eval_text!r}"
        )
    overlaps = [*bank_overlaps, *effective]
    for problem in problems[:30]:
        print(f"PROBLEM {problem}")
    return 1 if overlaps or problems else 0


if __name__ == "__main__":
    sys.exit(main())
