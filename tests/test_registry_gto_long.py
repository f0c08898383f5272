"""The differential test of tests/test_registry_gto.py on long sequences (50 to 60 steps): the
slow part's longest test, in a file of its own so that pytest-xdist (`--dist loadfile`) can run
it on one worker while the rest of the registry tests run on the other.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Example
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_registry_gto import operation, repo, run_sequence

__all__ = ["repo"]  # the module's fixture: a copy of the project of its own


@pytest.mark.slow
@settings(
    # two sequences a run (~80 s each on a quiet machine; four made it the slow part's longest
    # test): not derandomized, so each CI run tries two new ones
    max_examples=2,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # shrinking 50 steps takes hours
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=50, max_size=60))
def test_gitml_reads_long_histories_as_gto_does(repo: Example, ops: list[tuple[Any, ...]]) -> None:
    run_sequence(repo, ops, history_each_step=True)
