"""Labeling-function suites by the name used in ``label.functions``, declared once.

A new stance target adds a module with a ``SUITE`` (:class:`LabelingSuite`) and one line
here; the module is imported only when a config names it.
"""

from __future__ import annotations

import importlib

from pipeline.errors import ConfigError
from pipeline.labeling.base import LabelingSuite

SUITES: dict[str, str] = {
    "deployment": "pipeline.labeling.deployment",  # sending troops to Ukraine (the guideline's target)
}


def get_suite(name: str) -> LabelingSuite:
    """The suite called ``name``."""
    if name not in SUITES:
        raise ConfigError(f"label.functions: unknown labeling-function suite {name!r} (known: {', '.join(SUITES)})")
    return importlib.import_module(SUITES[name]).SUITE
