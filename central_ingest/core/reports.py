"""Outlier scoring for the prosecutor's "who removes fines and why" reports.

A group (a plate, an officer, a camera) is suspicious when its share of removed fines is higher
than everyone else's by more than chance explains. The score is the Wilson lower confidence
bound of the group's removal rate minus the pooled rate of all groups: a group needs both a high
rate and enough events to rank high. Nine removals out of ten outranks one out of one (which
could be chance), and a large group removing at the usual rate scores below zero.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

Z_95_ONE_SIDED = 1.645


@dataclass(frozen=True, slots=True)
class GroupCounts(Generic[K]):
    key: K
    removed: int
    total: int

    def __post_init__(self) -> None:
        if self.total < 0 or not 0 <= self.removed <= self.total:
            raise ValueError(
                f"group {self.key!r}: removed ({self.removed}) must lie between 0 and total"
                f" ({self.total})"
            )

    @property
    def rate(self) -> float:
        return self.removed / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class ScoredGroup(Generic[K]):
    counts: GroupCounts[K]
    score: float
    """Wilson lower bound of the removal rate minus the pooled rate; above 0: removes more than
    the others beyond chance at the chosen confidence."""


def wilson_lower_bound(successes: int, trials: int, z: float = Z_95_ONE_SIDED) -> float:
    """The lower end of the Wilson score interval for a binomial proportion."""
    if trials == 0:
        return 0.0
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, (centre - spread) / (1 + z2 / trials))


def pooled_rate(groups: Iterable[GroupCounts[K]]) -> float:
    removed = total = 0
    for group in groups:
        removed += group.removed
        total += group.total
    return removed / total if total else 0.0


def removal_score(removed: int, total: int, global_rate: float, z: float = Z_95_ONE_SIDED) -> float:
    return wilson_lower_bound(removed, total, z) - global_rate


def rank_outliers(
    groups: Sequence[GroupCounts[K]],
    *,
    min_events: int = 3,
    z: float = Z_95_ONE_SIDED,
) -> list[ScoredGroup[K]]:
    """Groups with at least ``min_events`` events, most suspicious first. The pooled rate is
    taken over every group, including the small ones left out of the ranking."""
    baseline = pooled_rate(groups)
    scored = [
        ScoredGroup(group, removal_score(group.removed, group.total, baseline, z))
        for group in groups
        if group.total >= min_events
    ]
    # Ties (e.g. nobody removed anything) fall back to volume, then to the key for stable output.
    scored.sort(key=lambda item: (-item.score, -item.counts.removed, str(item.counts.key)))
    return scored
