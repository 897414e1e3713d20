"""The champion gate's policy, apart from any store: should a candidate become the
champion, and the sentence that says why. :func:`pipeline.tracking.register_and_gate`
applies it to the registry."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GateDecision:
    model_name: str
    version: str
    promoted: bool
    reason: str
    new_score: float
    champion_version: str | None
    champion_score: float | None

    def as_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


def should_promote(new_score: float, champion_score: float | None) -> bool:
    """Promote when there is no champion, or the candidate is strictly better (a champion
    without a score for the gate metric counts as -inf)."""
    return champion_score is None or new_score > champion_score


def decide(model_name: str, version: str, alias: str, gate_metric: str, new_score: float,
           champion_version: str | None, champion_score: float | None) -> GateDecision:
    """The decision for ``version`` against the version holding ``alias`` (None: no champion)."""
    promoted = should_promote(new_score, champion_score)
    if champion_version is None:
        reason = f"no {alias} yet: version {version} becomes {alias} ({gate_metric}={new_score:.4f})"
    else:
        verb = "beats" if promoted else "does not beat"
        reason = (f"version {version} {verb} {alias} version {champion_version} on {gate_metric}: "
                  f"{new_score:.4f} vs {champion_score:.4f}")
    return GateDecision(model_name, str(version), promoted, reason, new_score, champion_version, champion_score)
