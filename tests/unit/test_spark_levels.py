"""gitml.sparkprofile.levels_of: the candidate levels of a column of few values, read from its
exact counts (no Spark needed)."""

from __future__ import annotations

import math

import numpy as np

from gitml.sparkprofile import CANDIDATE_LEVELS, levels_of


def test_levels_from_counts_are_values_at_the_rounded_ranks() -> None:
    counts = {3.0: 5, 1.0: 2, 7.0: 1, float("inf"): 4, 2.0: 12}
    ordered = np.sort(np.repeat([1.0, 2.0, 3.0, 7.0], [2, 12, 5, 1]))
    found = levels_of(counts)
    assert len(found) == len(CANDIDATE_LEVELS)
    assert found[0] == 1.0 and found[-1] == 7.0  # the exact minimum and maximum
    for level, value in zip(CANDIDATE_LEVELS, found, strict=True):
        assert value == ordered[math.floor(level * (len(ordered) - 1) + 0.5)]


def test_levels_of_nothing_finite_are_empty() -> None:
    assert levels_of({}) == [] and levels_of({float("-inf"): 3}) == []


def test_one_value_is_every_level() -> None:
    assert levels_of({4: 9}) == [4.0] * len(CANDIDATE_LEVELS)
