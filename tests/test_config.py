import re
from pathlib import Path

import pytest

from corpus import minimal_config_yaml, target_yaml
from pipeline.config import load_config
from pipeline.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_default_config_loads_and_validates():
    config = load_config(REPO / "configs" / "default.yaml")
    assert config.labels == ["support", "conditional", "rule_out", "none"]
    assert config.label_priority[0] == "conditional"


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(minimal_config_yaml() + "train:\n  modle: tfidf_logreg\n")
    with pytest.raises(ConfigError, match=r"unknown key 'train.modle'"):
        load_config(path)


def test_mistyped_value_is_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(minimal_config_yaml() + "seed: twelve\n")
    with pytest.raises(ConfigError, match=r"seed: .*'twelve'"):
        load_config(path)


def test_set_override_is_typed_and_validated(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(minimal_config_yaml() + "seed: 1\n")
    assert load_config(path, ["train.tfidf_logreg.C=0.5"]).train.tfidf_logreg.C == 0.5
    with pytest.raises(ConfigError, match="train.model"):
        load_config(path, ["train.model=xgboost"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_config(path, ["seed"])


def test_config_hash_follows_content(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(minimal_config_yaml() + "seed: 1\n")
    assert load_config(path).config_hash() == load_config(path).config_hash()
    assert load_config(path).config_hash() != load_config(path, ["seed=2"]).config_hash()


def test_missing_config_file():
    with pytest.raises(ConfigError, match="config file not found"):
        load_config("does/not/exist.yaml")


def test_shared_data_placeholder_uses_env(monkeypatch, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(target_yaml() + "data:\n  articles: '{shared_data}/ukraine-news/articles'\n")
    monkeypatch.setenv("STANCE_SHARED_DATA", "/elsewhere")
    config = load_config(path)
    assert config.path(config.data.articles) == Path("/elsewhere/ukraine-news/articles")


def test_tfidf_char_analyzer_reaches_the_vectorizer():
    from pipeline.classifiers.tfidf import build_pipeline
    from pipeline.classifiers.settings import TfidfLogregConfig

    def char_features(analyzer: str) -> set[str]:
        pipeline = build_pipeline(TfidfLogregConfig(char_analyzer=analyzer, char_ngram_min=3, char_ngram_max=3), seed=1)
        char = dict(pipeline.named_steps["features"].transformer_list)["char"]
        return set(char.fit(["no troops"]).get_feature_names_out())

    assert "o t" in char_features("char")  # spans the space between words
    assert "o t" not in char_features("char_wb")
    with pytest.raises(ValueError, match="char_analyzer"):
        TfidfLogregConfig(char_analyzer="bytes")


def test_tfidf_word_token_pattern_reaches_the_vectorizer(tmp_path):
    from pipeline.classifiers.tfidf import build_pipeline

    path = tmp_path / "c.yaml"
    path.write_text(minimal_config_yaml() + "seed: 1\n")
    config = load_config(path, [r"train.tfidf_logreg.word_token_pattern=(?u)[#@]?\b\w\w+\b"])
    word = dict(build_pipeline(config.train.tfidf_logreg, seed=1).named_steps["features"].transformer_list)["word"]
    assert {"#prolife", "prolife", "@me"} <= set(word.fit(["#prolife and prolife to @me"]).get_feature_names_out())


@pytest.mark.parametrize("content", ["", "# only a comment\n", "{}\n"])
def test_an_empty_config_is_refused_rather_than_run_on_defaults(tmp_path, content):
    path = tmp_path / "empty.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=r"empty.yaml: the config is empty"):
        load_config(path)


def test_a_yaml_syntax_error_is_one_line_with_its_line_and_column(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  model: [tfidf\nseed: 3\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message == (
        f"{path} line 3, column 5: not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence from line 2)"
    )


def test_a_dataset_config_needs_no_nulls_to_cancel_the_article_defaults(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text(
        "experiment: d\ntarget: tweets\nlabels: [FAVOR, AGAINST, NONE]\nnone_label: NONE\n"
        "data:\n  dataset:\n    text_column: Tweet\n"
        "    targets: [{target_column: Target, label_column: Stance}]\n"
        "    files: [{path: x.csv, split: train}]\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert (config.data.articles, config.data.gold_dev, config.data.gold_test, config.label.functions) == (None, None, None, None)
    with pytest.raises(ConfigError, match="brings its own dev/test splits: set gold_dev to null"):
        load_config(path, ["data.gold_dev=data/gold/dev.csv"])


@pytest.mark.parametrize(
    ("key", "example"),
    [
        ("experiment", "experiment: my-stance"),
        ("target", "target: the stance target, in words"),
        ("labels", "labels: [favor, against, none]"),
        ("none_label", "none_label: none"),
    ],
)
def test_a_config_missing_a_target_key_is_refused_naming_it(tmp_path, key, example):
    lines = [line for line in target_yaml().splitlines() if not line.startswith(f"{key}:")]
    path = tmp_path / "c.yaml"
    path.write_text("\n".join(lines) + "\ndata:\n  articles: articles\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: {key}: required; e.g. `{example}`"


def test_a_config_names_its_input(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(target_yaml() + "seed: 1\n")
    with pytest.raises(ConfigError, match=r"c.yaml: data: required; e.g. `data: \{articles: path/to/articles\}`$"):
        load_config(path)
    path.write_text(target_yaml() + "data:\n  gold_test: test.csv\n")
    with pytest.raises(ConfigError, match=r"data.articles: required; e.g. .*; or a labelled data.dataset$"):
        load_config(path)


NEW_TARGET = """experiment: vaccine-mandate-stance
target: mandatory vaccination
labels: [pro, anti, neutral]
none_label: neutral
"""


def _resolved_strings(tree: object) -> list[str]:
    if isinstance(tree, dict):
        return [s for key, value in tree.items() for s in [str(key), *_resolved_strings(value)]]
    if isinstance(tree, list):
        return [s for value in tree for s in _resolved_strings(value)]
    return [str(tree)]


@pytest.mark.parametrize(
    "data",
    [
        "data:\n  articles: news/\n  gold_test: gold/test.csv\n",
        "data:\n  dataset:\n    text_column: text\n    targets: [{target: vaccination, label_column: stance}]\n"
        "    files: [{path: train.csv, split: train}, {path: test.csv, split: test}]\n",
    ],
)
def test_a_new_target_loads_with_nothing_of_the_deployment_stance(tmp_path, data):
    path = tmp_path / "c.yaml"
    path.write_text(NEW_TARGET + data)
    config = load_config(path)
    assert (config.experiment, config.labels, config.none_label) == (
        "vaccine-mandate-stance",
        ["pro", "anti", "neutral"],
        "neutral",
    )
    assert config.registry.model_name == "vaccine-mandate-stance"  # defaults to the experiment
    assert config.label.functions is None and config.data.gold_dev is None
    leaked = [
        value
        for value in _resolved_strings(config.model_dump(mode="json"))
        if re.search(r"deploy|troops|ukraine|support|rule_out|conditional|data/raw|data/gold", value, re.I)
    ]
    assert leaked == []
    assert not any("deploy" in value for value in config.flat_params().values())


def test_a_dataset_config_refuses_an_article_folder(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        NEW_TARGET + "data:\n  articles: news/\n  dataset:\n    text_column: text\n"
        "    targets: [{target: vaccination, label_column: stance}]\n    files: [{path: a.csv, split: train}]\n"
    )
    with pytest.raises(ConfigError, match="data.dataset replaces data.articles: set articles to null"):
        load_config(path)


def test_registry_model_name_stated_wins_over_the_experiment(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(minimal_config_yaml("exp") + "registry:\n  enabled: false\n")
    assert load_config(path).registry.model_name == "exp"
    assert load_config(path, ["registry.model_name=other"]).registry.model_name == "other"
