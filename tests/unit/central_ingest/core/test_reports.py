from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central_ingest.core.reports import (
    GroupCounts,
    pooled_rate,
    rank_outliers,
    removal_score,
    wilson_lower_bound,
)


def keys(groups: list[GroupCounts[str]], *, min_events: int = 1) -> list[str]:
    return [scored.counts.key for scored in rank_outliers(groups, min_events=min_events)]


def test_nine_of_ten_outranks_one_of_one_and_a_large_group_at_the_usual_rate() -> None:
    groups = [
        GroupCounts("usual", removed=100, total=1000),
        GroupCounts("one-of-one", removed=1, total=1),
        GroupCounts("nine-of-ten", removed=9, total=10),
    ]
    assert keys(groups) == ["nine-of-ten", "one-of-one", "usual"]


def test_a_large_group_at_the_global_rate_scores_below_zero() -> None:
    assert removal_score(100, 1000, global_rate=0.1) < 0


def test_the_same_rate_with_more_events_scores_higher() -> None:
    assert removal_score(40, 50, 0.2) > removal_score(8, 10, 0.2) > removal_score(4, 5, 0.2)


def test_groups_below_min_events_are_left_out_but_count_towards_the_baseline() -> None:
    groups = [
        GroupCounts("small", removed=2, total=2),
        GroupCounts("a", removed=1, total=8),
        GroupCounts("b", removed=0, total=10),
    ]
    ranked = rank_outliers(groups, min_events=3)
    assert [scored.counts.key for scored in ranked] == ["a", "b"]
    baseline = 3 / 20
    assert ranked[0].score == pytest.approx(wilson_lower_bound(1, 8) - baseline)


def test_ties_are_broken_by_volume_then_key() -> None:
    groups = [GroupCounts("b", 0, 5), GroupCounts("a", 0, 5), GroupCounts("c", 0, 9)]
    # No removals anywhere: every score is 0 - 0; order falls back to the key.
    assert keys(groups) == ["a", "b", "c"]


def test_counts_that_cannot_be_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and total"):
        GroupCounts("x", removed=3, total=2)
    with pytest.raises(ValueError):
        GroupCounts("x", removed=-1, total=2)


def test_pooled_rate_of_nothing_is_zero() -> None:
    assert pooled_rate([]) == 0.0
    assert rank_outliers([]) == []


counts = st.integers(min_value=1, max_value=5000).flatmap(
    lambda total: st.tuples(st.integers(min_value=0, max_value=total), st.just(total))
)


@given(counts)
def test_wilson_lower_bound_lies_between_zero_and_the_observed_rate(pair: tuple[int, int]) -> None:
    removed, total = pair
    bound = wilson_lower_bound(removed, total)
    assert 0.0 <= bound <= removed / total + 1e-12


@given(counts, st.floats(min_value=0, max_value=1))
def test_one_more_removal_never_lowers_the_score(pair: tuple[int, int], baseline: float) -> None:
    removed, total = pair
    if removed < total:
        more = removal_score(removed + 1, total, baseline)
        assert more >= removal_score(removed, total, baseline)


@given(st.lists(counts, min_size=1, max_size=30))
def test_ranking_is_sorted_by_score(pairs: list[tuple[int, int]]) -> None:
    groups = [GroupCounts(f"g{i}", removed, total) for i, (removed, total) in enumerate(pairs)]
    scores = [scored.score for scored in rank_outliers(groups, min_events=1)]
    assert scores == sorted(scores, reverse=True)
    assert len(scores) == len(groups)
