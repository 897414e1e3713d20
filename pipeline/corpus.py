"""Where a run's data comes from, behind one interface: articles (split into sentences,
weakly labelled by a labeling suite, with gold dev and test files) or an already-labelled
dataset (SemEval-2016, RUW, ...: its own train/dev/test splits).

:func:`corpus_for` chooses the kind once from the config (``data.dataset`` set or not);
nothing else asks. A corpus object loads its gold sets, the extra training sets, the
evaluation sets and the behavioural suite once, when first asked, and keeps them for the
rest of the run; it assembles the training rows behind the one leak guard (never train on
gold-test, evaluation-set or behavioural-suite text) and gives the data digests for the
MLflow tags and a description for the model card.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import pandas as pd

from pipeline.config import Config
from pipeline.errors import ConfigError, InputError
from pipeline.io import file_digest, read_articles

log = logging.getLogger(__name__)

T = TypeVar("T")
# The corpus's extra sets a stage may read, by the name a stage declares (StageSpec.gold_sets).
GOLD_SET_GROUPS = ("extra_gold", "evaluation_sets", "behaviour")


@dataclass(frozen=True)
class Ingested:
    """The ingest stage's sentence table, its metrics, the MLflow dataset source and a log line."""

    sentences: pd.DataFrame
    metrics: dict[str, float]
    source: str
    summary: str


@dataclass(frozen=True)
class Labelled:
    """The label stage's labelled table and metrics; ``votes`` and ``report`` (the
    labeling-function vote matrix and analysis) where labeling functions voted."""

    labeled: pd.DataFrame
    metrics: dict[str, float]
    summary: str
    votes: pd.DataFrame | None = None
    report: pd.DataFrame | None = None


class Corpus(ABC):
    """A run's data: sentences to ingest and label, gold sets, the training pool and the sets
    training never sees. Loaded frames are kept on the object and handed out as copies, so
    a stage that adds a column cannot change what the next stage reads."""

    weak_labels: bool  # whether training rows may carry weak (rule-made) labels

    def __init__(self, config: Config) -> None:
        self.config = config
        self._loaded: dict[str, object] = {}

    def _once(self, key: str, load: Callable[[], T]) -> T:
        if key not in self._loaded:
            self._loaded[key] = load()
        return self._loaded[key]  # type: ignore[return-value]

    # -- what differs between articles and a dataset -------------------------------------

    @abstractmethod
    def check(self, stages: Sequence[str]) -> None:
        """Raise the config and input errors ``stages`` would meet, before any run exists."""

    @abstractmethod
    def sentences(self) -> Ingested:
        """The sentence table the ingest stage writes."""

    @abstractmethod
    def label(self, sentences: pd.DataFrame, source: Path) -> Labelled:
        """The label stage: ``sentences`` (read from ``source``) with a label each."""

    @abstractmethod
    def _load_gold_sets(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """Gold dev and gold test as read from their files (None where not configured)."""

    @abstractmethod
    def training_pool(self, labeled: pd.DataFrame) -> pd.DataFrame:
        """The label stage's rows a model may train on, before the leak guard."""

    @abstractmethod
    def data_tags(self) -> dict[str, str]:
        """Content digests of the configured data (``data.<key>.digest``), so two runs show
        whether they saw the same data."""

    @abstractmethod
    def description(self) -> str:
        """What the model learnt from, in a sentence of the model card."""

    @abstractmethod
    def run_name_part(self) -> str:
        """The data half of a run name: how labels were made and which rows trained."""

    # -- the same for both ---------------------------------------------------------------

    @property
    def gold_dev(self) -> pd.DataFrame | None:
        """Gold dev as ``doc_id, text, label`` (``target`` for a dataset); None when absent."""
        return _copy(self._once("gold", self._load_gold_sets)[0])

    @property
    def gold_test(self) -> pd.DataFrame | None:
        """Gold test, the set every model is scored and gated on; None when absent."""
        return _copy(self._once("gold", self._load_gold_sets)[1])

    def extra_gold(self) -> dict[str, pd.DataFrame]:
        """The ``train.extra_gold`` sets by name, each read and checked like a gold file (an
        optional set that is absent is left out); with a target-aware model each must also
        have a ``target`` column."""
        return {name: frame.copy() for name, frame in self._once("extra_gold", self._load_extra_gold).items()}

    def _load_extra_gold(self) -> dict[str, pd.DataFrame]:
        from pipeline.labeling.gold import load_gold_set
        from pipeline.train import require_target_column

        config, extra = self.config, {}
        for source in config.train.extra_gold:
            gold = load_gold_set(source, config)
            if gold is None:
                continue
            if config.train.target_aware:
                require_target_column(str(config.path(source.path)), gold)
            extra[source.set_name] = gold
        return extra

    def evaluation_sets(self) -> dict[str, pd.DataFrame]:
        """The ``evaluate.extra_sets`` by name (an optional set that is absent is left out)."""
        return {name: frame.copy() for name, frame in self._once("evaluation_sets", self._load_evaluation_sets).items()}

    def _load_evaluation_sets(self) -> dict[str, pd.DataFrame]:
        from pipeline.labeling.gold import load_gold_set

        sets = {source.set_name: load_gold_set(source, self.config) for source in self.config.evaluate.extra_sets}
        return {name: frame for name, frame in sets.items() if frame is not None}

    def behaviour_cases(self) -> pd.DataFrame | None:
        """The configured behavioural suite, expanded into its cases; None when none is configured."""
        return _copy(self._once("behaviour", self._load_behaviour))

    def _load_behaviour(self) -> pd.DataFrame | None:
        if not self.config.evaluate.behaviour:
            return None
        from pipeline.behaviour import expand_suite, load_suite

        return expand_suite(load_suite(self.config.path(self.config.evaluate.behaviour), self.config.labels))

    def behaviour_texts(self) -> pd.DataFrame:
        """The behavioural suite's distinct sentences (``text``), empty when none is configured."""
        cases = self.behaviour_cases()
        return pd.DataFrame({"text": [] if cases is None else sorted(set(cases["text"]))})

    def training_rows(self, labeled: pd.DataFrame) -> pd.DataFrame:
        """Every training row of the run: the training pool plus ``train.extra_gold``, minus
        every sentence of gold test, of the evaluation sets and of the behavioural suite."""
        from pipeline.train import assemble_training_rows

        held_out = [*self.evaluation_sets().values(), self.behaviour_texts()]
        extra = self.extra_gold() if self.config.train.extra_gold else None
        return assemble_training_rows(self.config, self.training_pool(labeled), self.gold_test, held_out, extra)

    def preload(self, stages: Sequence[str]) -> None:
        """Load (and so validate, row by row) every set ``stages`` read, before any run exists."""
        self._once("gold", self._load_gold_sets)
        if "train" in stages and self.config.train.extra_gold:
            self.extra_gold()
        if any(stage in stages for stage in ("train", "evaluate")):
            self.evaluation_sets()  # the leak guard and the evaluation read them
        if "evaluate" in stages:
            self.behaviour_cases()

    def gold_set_files(self, groups: Sequence[str]) -> list[Path]:
        """The files of the extra sets in ``groups`` (:data:`GOLD_SET_GROUPS`)."""
        config = self.config
        sets = [
            *(config.train.extra_gold if "extra_gold" in groups else []),
            *(config.evaluate.extra_sets if "evaluation_sets" in groups else []),
        ]
        paths = [config.path(p) for source in sets for p in (source.path, source.articles) if p]
        if "behaviour" in groups and config.evaluate.behaviour:
            paths.append(config.path(config.evaluate.behaviour))
        return paths

    def gold_set_tags(self) -> dict[str, str]:
        """Content digests of the extra training and evaluation sets (``data.extra_gold.<name>.digest``,
        ``data.eval.<name>.digest``) and of the behavioural suite, where present."""
        config, tags = self.config, {}
        for group, sets in (("extra_gold", config.train.extra_gold), ("eval", config.evaluate.extra_sets)):
            for source in sets:
                if config.path(source.path).exists():
                    tags[f"data.{group}.{source.set_name}.digest"] = file_digest(config.path(source.path))
        if config.evaluate.behaviour and config.path(config.evaluate.behaviour).exists():
            tags["data.behaviour.digest"] = file_digest(config.path(config.evaluate.behaviour))
        return tags


class ArticleCorpus(Corpus):
    """Articles (``data.articles``) split into sentences and weakly labelled by the
    ``label.functions`` suite; gold dev and test from ``data.gold_dev``/``gold_test`` or
    ``data.gold_refs``."""

    weak_labels = True

    def check(self, stages: Sequence[str]) -> None:
        if "ingest" in stages:
            self._check_articles()
        if "label" in stages and self.config.label.functions is not None:
            from pipeline.labeling.suites import get_suite

            get_suite(self.config.label.functions)

    def _check_articles(self) -> None:
        """Read the configured articles (format, encoding, columns) and check that ingest would
        keep at least one: the errors ingest would raise, raised before any run exists."""
        from pipeline.ingest import select_articles

        config = self.config
        source = config.path(config.data.articles)
        if not source.exists():
            hint = " (set STANCE_SHARED_DATA or the shared_data key)" if "{shared_data}" in config.data.articles else ""
            raise InputError(f"{source}: articles not found (data.articles){hint}")
        kept, stats = select_articles(
            read_articles(source, config.data.text_column, config.data.id_column), config.data.reserved_from
        )
        if kept.empty:
            raise InputError(
                f"{source}: no article to ingest ({stats.articles_read} read, {stats.articles_reserved} "
                f"dated on or after data.reserved_from, {stats.articles_empty} empty, "
                f"{stats.articles_duplicate} duplicate)"
            )

    def sentences(self) -> Ingested:
        from pipeline.ingest import ingest_articles

        data = self.config.data
        source = self.config.path(data.articles)
        sentences, stats = ingest_articles(read_articles(source, data.text_column, data.id_column), data.reserved_from)
        if sentences.empty:
            raise InputError(f"{source}: no sentences after ingest ({stats})")
        summary = (
            f"{stats.articles_read} articles -> {stats.sentences} sentences ({stats.articles_reserved} reserved, "
            f"{stats.articles_duplicate} duplicate)"
        )
        return Ingested(sentences, stats.as_metrics(), str(source), summary)

    def label(self, sentences: pd.DataFrame, source: Path) -> Labelled:
        from pipeline.labeling.stage import label_sentences
        from pipeline.labeling.suites import get_suite

        config = self.config
        gold_dev = self.gold_dev
        if config.label.functions is None:
            raise InputError("label.functions is null: this config's data carries its own labels; configure data.dataset")
        suite = get_suite(config.label.functions)
        extra = None
        if config.label.embedding.enabled:
            from pipeline.labeling.embedding import embedding_votes

            extra = embedding_votes(config, sentences, gold_dev)
        result = label_sentences(
            sentences,
            suite,
            config.labels,
            config.none_label,
            config.label.aggregator,
            config.label_priority,
            gold_dev=gold_dev,
            gold_overrides=config.label.gold_overrides,
            extra_votes=extra,
        )
        accuracy = f"{result.metrics.get('labeler_dev_accuracy', float('nan')):.3f}"
        summary = f"{len(result.labeled)} sentences, coverage {result.metrics['labeler_coverage']:.2f}, dev accuracy {accuracy}"
        return Labelled(result.labeled, result.metrics, summary, result.votes, result.report)

    def _load_gold_sets(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        from pipeline.labeling.gold import load_gold, load_gold_refs

        config, data = self.config, self.config.data
        if data.gold_refs:
            refs, articles = config.path(data.gold_refs), config.path(data.articles)
            return (
                load_gold_refs(refs, articles, config.labels, split="dev"),
                load_gold_refs(refs, articles, config.labels, split="test"),
            )
        dev = load_gold(config.path(data.gold_dev), config.labels) if data.gold_dev else None
        test = load_gold(config.path(data.gold_test), config.labels) if data.gold_test else None
        return dev, test

    def training_pool(self, labeled: pd.DataFrame) -> pd.DataFrame:
        return labeled

    def data_tags(self) -> dict[str, str]:
        tags = {}
        for key in ("articles", "gold_dev", "gold_test", "gold_refs"):
            value = getattr(self.config.data, key)
            if value and self.config.path(value).exists():
                tags[f"data.{key}.digest"] = file_digest(self.config.path(value))
        return tags

    def description(self) -> str:
        config, data = self.config, self.config.data
        labeler = (
            f"weak labels from the `{config.label.functions}` labeling functions "
            f"({config.label.aggregator}{' + embedding labeler' if config.label.embedding.enabled else ''})"
        )
        gold = " and gold dev" if config.train.include_gold_dev else ""
        reserved = (
            f"; articles dated on or after {data.reserved_from} are reserved and never trained on" if data.reserved_from else ""
        )
        return f"sentences of `{data.articles}`: {labeler}{gold}{reserved}"

    def run_name_part(self) -> str:
        training = "weak+gold" if self.config.train.include_gold_dev else "weak"
        labeler = self.config.label.aggregator + ("+embed" if self.config.label.embedding.enabled else "")
        return f"{labeler}-{training}"


class DatasetCorpus(Corpus):
    """An already-labelled dataset (``data.dataset``, :mod:`pipeline.datasets`): its own
    labels are gold, its dev and test splits the gold sets; the test split is never
    trained on."""

    weak_labels = False

    def _examples(self) -> pd.DataFrame:
        from pipeline.datasets import load_dataset

        return self._once("examples", lambda: load_dataset(self.config)).copy()

    def check(self, stages: Sequence[str]) -> None:
        if self.config.label.functions is not None:
            raise ConfigError("label.functions: data.dataset carries its own labels; set label.functions to null")

    def sentences(self) -> Ingested:
        from pipeline.datasets import dataset_paths, ingest_metrics

        examples = self._examples()
        metrics = ingest_metrics(examples)
        summary = (
            f"{len(examples)} dataset rows ({metrics['ingest_rows_train']:.0f} train, "
            f"{metrics['ingest_rows_dev']:.0f} dev, {metrics['ingest_rows_test']:.0f} test)"
        )
        return Ingested(examples, metrics, ", ".join(map(str, dataset_paths(self.config))), summary)

    def label(self, sentences: pd.DataFrame, source: Path) -> Labelled:
        """The dataset's own labels as gold for its train and dev rows."""
        from pipeline.datasets import gold_labeled

        if "gold_label" not in sentences.columns:
            raise InputError(f"{source}: no gold_label column; rerun `stance ingest` with this config")
        labeled, metrics = gold_labeled(sentences, self.config.labels)
        return Labelled(labeled, metrics, f"{len(labeled)} gold rows from the dataset (test rows held out)")

    def _load_gold_sets(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        from pipeline.datasets import gold_split

        examples = self._examples()
        return gold_split(examples, "dev"), gold_split(examples, "test")

    def training_pool(self, labeled: pd.DataFrame) -> pd.DataFrame:
        from pipeline.datasets import training_pool

        return training_pool(labeled, self.config.train.include_gold_dev)

    def data_tags(self) -> dict[str, str]:
        from pipeline.datasets import dataset_paths

        return {f"data.dataset.{path.name}.digest": file_digest(path) for path in dataset_paths(self.config) if path.exists()}

    def description(self) -> str:
        files = ", ".join(f"`{file.path}`" for file in self.config.data.dataset.files)  # type: ignore[union-attr]
        return f"the dataset's own gold labels ({files}); its test split is held out"

    def run_name_part(self) -> str:
        return f"{self.config.train.target_mode}-{'train+dev' if self.config.train.include_gold_dev else 'train'}"


def corpus_for(config: Config) -> Corpus:
    """The corpus ``config`` describes: a labelled dataset when ``data.dataset`` is set, else articles."""
    return DatasetCorpus(config) if config.data.dataset is not None else ArticleCorpus(config)


def _copy(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    return None if frame is None else frame.copy()
