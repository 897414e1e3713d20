"""Registry of labeling-function suites by the name used in ``label.functions``."""

from __future__ import annotations

from pipeline.errors import ConfigError
from pipeline.labeling.base import LabelingSuite


def get_suite(name: str) -> LabelingSuite:
    """The suite called ``name``; imported lazily so other targets don't pay for it."""
    if name == "deployment":
        from pipeline.labeling.deployment import SUITE

        return SUITE
    raise ConfigError(f"label.functions: unknown labeling-function suite {name!r} (known: deployment)")
