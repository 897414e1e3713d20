"""Behavioural tests of a stance model (the CheckList method: Ribeiro et al., 2020).

A suite (YAML) holds templates with ``{slot}`` placeholders and the fillers for each slot;
:func:`expand_suite` turns it into cases, :func:`score_suite` scores them with a model's
predictions. Three kinds of capability:

* ``mft`` (minimum functionality): each filled template is one case; it passes when the
  model predicts the template's ``label``.
* ``inv`` (invariance): each template is one case, filled several ways (another actor,
  another country); it passes when every filling gets the same prediction.
* ``dir`` (directional): a ``base`` and a ``changed`` template filled alike (adding a
  condition, negating a rule-out, swapping in the other side's troops); it passes when the
  base gets ``base_label`` and the changed sentence ``changed_label``, i.e. the edit moved
  the prediction where the guideline says it must.

Fillings are a seeded sample of the slot fillers' product, at most ``max_per_template``
per template, so a suite file always expands to the same cases.
"""

from __future__ import annotations

import itertools
import random
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.errors import InputError

KINDS = ("mft", "inv", "dir")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Template(_Strict):
    text: str | None = None
    label: str | None = None
    base: str | None = None
    base_label: str | None = None
    changed: str | None = None
    changed_label: str | None = None

    def texts(self) -> list[str]:
        return [t for t in (self.text, self.base, self.changed) if t is not None]


class Capability(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: Literal["mft", "inv", "dir"]
    description: str = ""
    templates: list[Template] = Field(min_length=1)

    @model_validator(mode="after")
    def _fields_for_type(self) -> "Capability":
        if self.name in KINDS:
            raise ValueError(f"capability name {self.name!r} is reserved for the per-type pass rate")
        for number, template in enumerate(self.templates, start=1):
            if self.type == "dir":
                if None in (template.base, template.base_label, template.changed, template.changed_label):
                    raise ValueError(f"template {number}: a dir template needs base, base_label, changed, changed_label")
            elif template.text is None:
                raise ValueError(f"template {number}: an {self.type} template needs text")
            elif self.type == "mft" and template.label is None:
                raise ValueError(f"template {number}: an mft template needs label")
        return self


class Suite(_Strict):
    seed: int = 0
    max_per_template: int = Field(default=10, ge=2)
    fillers: dict[str, list[str]] = Field(min_length=1)
    capabilities: list[Capability] = Field(min_length=1)

    @model_validator(mode="after")
    def _slots_have_fillers(self) -> "Suite":
        names = [capability.name for capability in self.capabilities]
        if len(set(names)) != len(names):
            raise ValueError("capability names must be distinct")
        for capability in self.capabilities:
            for template in capability.templates:
                for text in template.texts():
                    missing = set(slots(text)) - set(self.fillers)
                    if missing:
                        raise ValueError(f"{capability.name}: slot(s) {sorted(missing)} in {text!r} have no fillers")
        return self


def slots(template: str) -> list[str]:
    """The distinct ``{slot}`` names of a template, in order of first appearance."""
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    return list(dict.fromkeys(names))


def load_suite(path: Path, labels: Sequence[str]) -> Suite:
    """Read and validate a suite; every label it names must be one of ``labels``."""
    if not path.is_file():
        raise InputError(f"{path}: behavioural suite not found (evaluate.behaviour)")
    try:
        suite = Suite.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})".replace("\n", " ")) from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise InputError(f"{path}: {where}: {error['msg']}") from None
    for capability in suite.capabilities:
        for template in capability.templates:
            for label in (template.label, template.base_label, template.changed_label):
                if label is not None and label not in labels:
                    raise InputError(f"{path}: {capability.name}: label {label!r} is not one of {', '.join(labels)}")
    return suite


def fillings(suite: Suite, names: Sequence[str], rng: random.Random) -> list[dict[str, str]]:
    """A seeded sample (at most ``max_per_template``) of the product of the slots' fillers."""
    if not names:
        return [{}]
    product = list(itertools.product(*(suite.fillers[name] for name in names)))
    chosen = product if len(product) <= suite.max_per_template else rng.sample(product, suite.max_per_template)
    return [dict(zip(names, values)) for values in chosen]


def expand_suite(suite: Suite) -> pd.DataFrame:
    """One row per sentence to score: ``capability, type, case, role (text/base/changed),
    text, expected`` (expected label; empty for inv)."""
    rng = random.Random(suite.seed)
    rows = []
    for capability in suite.capabilities:
        for number, template in enumerate(capability.templates):
            names = list(dict.fromkeys(slot for text in template.texts() for slot in slots(text)))
            for k, filling in enumerate(fillings(suite, names, rng)):
                case = f"{capability.name}:{number}" + ("" if capability.type == "inv" else f":{k}")
                if capability.type == "dir":
                    rows.append((capability.name, "dir", case, "base", template.base.format(**filling), template.base_label))
                    rows.append(
                        (capability.name, "dir", case, "changed", template.changed.format(**filling), template.changed_label)
                    )
                else:
                    rows.append(
                        (capability.name, capability.type, case, "text", template.text.format(**filling), template.label or "")
                    )
    return pd.DataFrame(rows, columns=["capability", "type", "case", "role", "text", "expected"])


@dataclass(frozen=True)
class BehaviourResult:
    metrics: dict[str, float]
    cases: pd.DataFrame  # one row per sentence, with ``predicted`` and the case's ``passed``


def score_suite(expanded: pd.DataFrame, predicted: Sequence[str]) -> BehaviourResult:
    """Pass/fail per case from the predictions of ``expanded``'s sentences (same order).

    Metrics: ``behaviour_pass_rate`` (all cases), ``behaviour_<type>_pass_rate`` (mft, inv,
    dir) and ``behaviour_<capability>_pass_rate``, each the share of cases passed.
    """
    rows = expanded.assign(predicted=list(predicted))

    def case_passed(group: pd.DataFrame) -> bool:
        if group["type"].iat[0] == "inv":
            return group["predicted"].nunique() == 1
        return bool((group["predicted"] == group["expected"]).all())

    passed = rows.groupby("case", sort=False)[["type", "predicted", "expected"]].apply(case_passed).rename("passed")
    rows = rows.join(passed, on="case")
    cases = rows.drop_duplicates("case")
    metrics = {"behaviour_pass_rate": float(cases["passed"].mean()), "behaviour_cases": float(len(cases))}
    for kind, group in cases.groupby("type"):
        metrics[f"behaviour_{kind}_pass_rate"] = float(group["passed"].mean())
    for name, group in cases.groupby("capability"):
        metrics[f"behaviour_{name}_pass_rate"] = float(group["passed"].mean())
    return BehaviourResult(metrics, rows)


def template_pattern(template: str) -> re.Pattern[str]:
    """A regex matching the template's sentences with any slot values (named groups)."""
    parts, seen = [], set()
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal.casefold()))
        if name:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
    return re.compile("^" + "".join(parts) + "$")


def template_collisions(suite: Suite, texts: Sequence[str]) -> list[tuple[str, str]]:
    """(template, text) for each text that is one of the suite's templates filled with the
    suite's own fillers: such a text would teach the model the very case it is tested on."""
    found = []
    lowered = [" ".join(t.casefold().split()) for t in texts]
    fillers = {name: {value.casefold() for value in values} for name, values in suite.fillers.items()}
    for capability in suite.capabilities:
        for template in capability.templates:
            for text in template.texts():
                pattern = template_pattern(" ".join(text.split()))
                for original, candidate in zip(texts, lowered):
                    match = pattern.match(candidate)
                    if match and all(value in fillers[name] for name, value in match.groupdict().items()):
                        found.append((text, original))
    return found
