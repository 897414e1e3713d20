"""One report folder per evaluation, and the links that name the latest and the champion.

``reports/<experiment>/`` holds ``v<N>/`` for each registered model version (``run-<id>/``
when the registry is off), ``latest`` (a symlink to the newest) and ``champion`` (to the
champion's, moved by the gate and by ``stance promote``). Every config of one experiment
(tf-idf, the transformers) competes for one champion, and now each keeps its own report.
Links are replaced atomically (a new link renamed over the old one).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

LATEST = "latest"
CHAMPION = "champion"


def folder_name(version: str | None, run_id: str) -> str:
    return f"v{version}" if version is not None else f"run-{run_id[:8]}"


def publish(staging: Path, root: Path, name: str, champion: bool) -> Path:
    """Move the finished ``staging`` folder to ``root/name``; point ``latest`` (and, when
    ``champion``, ``champion``) at it."""
    _move_flat_layout(root)
    final = root / name
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    point(root / LATEST, name)
    if champion:
        point(root / CHAMPION, name)
    return final


def point(link: Path, target: str) -> None:
    """Make ``link`` a symlink to the sibling ``target``, replacing it in one rename."""
    tmp = link.with_name(f".{link.name}.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def point_champion_at(report_dir: Path) -> bool:
    """After a hand promotion: point the ``champion`` link beside ``report_dir`` at it
    (False when that folder is gone)."""
    if not report_dir.is_dir():
        return False
    point(report_dir.parent / CHAMPION, report_dir.name)
    return True


def _move_flat_layout(root: Path) -> None:
    """Reports written before this layout (files directly in ``root``) move to ``root/earlier/``."""
    if not root.is_dir():
        return
    loose = [p for p in root.iterdir() if p.is_file() and not p.is_symlink()]
    if loose:
        (root / "earlier").mkdir(exist_ok=True)
        for path in loose:
            path.rename(root / "earlier" / path.name)
