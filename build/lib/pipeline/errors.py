"""Project exceptions: user mistakes that the CLI prints as one line and exits non-zero."""

from __future__ import annotations


def first_line(exc: BaseException, limit: int | None = None) -> str:
    """The first line of an exception's message (its type name when the message is empty),
    cut to ``limit`` characters: for one-line errors that wrap a library's exception."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line[:limit] if limit is not None else line


class StanceError(Exception):
    """A problem with the user's input, config or environment (not a bug).

    The message must name the file, row, column or key and say what was expected.
    """


class ConfigError(StanceError):
    """The YAML config or a --set override is invalid."""


class InputError(StanceError):
    """An input file is missing, unreadable or has the wrong shape."""


class ModelError(StanceError):
    """A model or its weights cannot be found or loaded."""


class TrackingError(StanceError):
    """The MLflow tracking store cannot be reached or used."""
