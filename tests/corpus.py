"""A tiny corpus written for the tests: articles, gold dev and gold test, in a temp dir."""

from __future__ import annotations

import csv
from pathlib import Path

ARTICLES = {
    "a1": (
        "Macron keeps troops option open",
        [
            "French President Emmanuel Macron said on Monday that sending Western troops to Ukraine could not be ruled out.",
            "The remarks came after a meeting of European leaders in Paris.",
            "Germany's chancellor said Berlin would not send soldiers to Ukraine.",
            "Leaders also discussed new sanctions on Russian banks.",
        ],
    ),
    "a2": (
        "Baltic states weigh trainers",
        [
            "Lithuania is considering sending instructors to Ukraine, but only to train troops away from the front.",
            "Estonia's prime minister said all options are on the table.",
            "Russian forces shelled Kharkiv overnight, officials said.",
            "The Kremlin warned that any foreign troops in Ukraine would be legitimate targets.",
        ],
    ),
    "a3": (
        "Coalition talks in London",
        [
            "Britain is ready to put troops on the ground if there is a ceasefire and an American backstop.",
            "Italy has no plans to send soldiers to Ukraine, its foreign minister said.",
            "The summit also pledged more air defence systems.",
            "Several media outlets reported on the talks, citing officials.",
        ],
    ),
    "a4": (
        "Poland rules out troops",
        [
            "Prime Minister Donald Tusk said Poland will not send troops to Ukraine.",
            "Warsaw will send weapons, not soldiers, he added.",
            "Ukraine's army is short of artillery shells.",
            "The Netherlands did not exclude sending military personnel to Ukraine.",
        ],
    ),
    "t1": (
        "Test article",
        [
            "Spain will not deploy soldiers to Ukraine, the defence minister said.",
            "Sweden does not rule out sending troops to Ukraine.",
            "Norway would consider sending troops only after a peace agreement is signed.",
            "Talks on the aid package continued in Brussels on Tuesday.",
        ],
    ),
}
DEV = [
    ("a1", 0, "support"),
    ("a1", 2, "rule_out"),
    ("a1", 3, "none"),
    ("a2", 0, "conditional"),
    ("a2", 2, "none"),
    ("a2", 3, "rule_out"),
]
TEST = [("t1", 0, "rule_out"), ("t1", 1, "support"), ("t1", 2, "conditional"), ("t1", 3, "none")]


def write_corpus(root: Path) -> dict[str, Path]:
    """Write the articles (as .txt with a header) and the gold files under ``root``."""
    articles = root / "articles"
    articles.mkdir(parents=True)
    for doc_id, (title, sentences) in ARTICLES.items():
        body = "\n\n".join(sentences)
        (articles / f"{doc_id}.txt").write_text(f"Title: {title}\nDate: 2025-03-01\nSource: Wire\n\n{body}\n", encoding="utf-8")
    paths = {"articles": articles}
    for name, rows in (("dev", DEV), ("test", TEST)):
        path = root / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["doc_id", "text", "label", "note"])
            for doc_id, index, label in rows:
                writer.writerow([doc_id, ARTICLES[doc_id][1][index], label, ""])
        paths[name] = path
    return paths


def target_yaml(experiment: str = "tiny") -> str:
    """The top-level keys every config states (the schema names no stance target): the
    experiment and the deployment stance's target, labels and none label, as in
    configs/default.yaml."""
    return (
        f"experiment: {experiment}\ntarget: deploying troops to Ukraine\n"
        "labels: [support, conditional, rule_out, none]\nnone_label: none\n"
    )


def minimal_config_yaml(experiment: str = "tiny") -> str:
    """The least a config states: :func:`target_yaml` and an article folder."""
    return target_yaml(experiment) + "data:\n  articles: articles\n"


def write_config(root: Path, paths: dict[str, Path], experiment: str = "tiny", extra: str = "") -> Path:
    """The tiny corpus's config: the deployment stance and its labeling functions, with
    ``extra`` (YAML sections) appended."""
    config = root / "config.yaml"
    config.write_text(
        f"""{target_yaml(experiment)}seed: 7
data:
  articles: {paths["articles"]}
  gold_dev: {paths["dev"]}
  gold_test: {paths["test"]}
  interim_dir: {root / "interim"}
  processed_dir: {root / "processed"}
  reports_dir: {root / "reports"}
label:
  functions: deployment
  priority: [conditional, rule_out, support, none]
registry:
  model_name: {experiment}-stance
{extra}""",
        encoding="utf-8",
    )
    return config
