"""Atomic writes (pipeline/io.py): all or nothing, with the file mode a plain write would have."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from pipeline.io import atomic_path, write_table


@pytest.fixture
def umask():
    """Set the process umask for one test and put the old one back."""
    saved = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(saved)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_atomic_writes_respect_the_umask(tmp_path, umask, mask, mode, suffix):
    umask(mask)
    path = write_table(pd.DataFrame({"text": ["a"]}), tmp_path / f"out{suffix}")
    assert stat.S_IMODE(path.stat().st_mode) == mode
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert stat.S_IMODE(plain.stat().st_mode) == mode  # the same as an ordinary write


def test_a_failed_block_leaves_neither_the_file_nor_a_temp(tmp_path):
    target = tmp_path / "report.md"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
