"""A `matrix` training stage (`matrix: {model: [rf, lr]}`) writing `models/<model>.pkl` and its
own `dvclive/<model>/metrics.json`: one model per item, each with its own metrics, found before
any `dvc repro`, never a `${…}` path in gitml.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Example, copy_example
from layouts import assert_discovered, build_layout, user_flow

EXPECTED = {
    "models/lr.pkl": {"metrics": "dvclive/lr/metrics.json"},
    "models/rf.pkl": {"metrics": "dvclive/rf/metrics.json"},
}


@pytest.fixture(scope="module")
def matrix_template(tmp_path_factory: pytest.TempPathFactory) -> Example:
    return build_layout(tmp_path_factory.mktemp("matrix-template"), "matrix")


@pytest.fixture
def matrix(matrix_template: Example, tmp_path: Path) -> Example:
    return copy_example(matrix_template, tmp_path / "ex")


def test_init_before_any_repro_resolves_the_matrix(matrix: Example) -> None:
    r = matrix.gitml("init")
    assert r.returncode == 0, r.stderr
    assert_discovered(matrix, EXPECTED)


def test_doctor_flags_a_templated_path_put_in_by_hand(matrix: Example) -> None:
    assert matrix.gitml("init").returncode == 0
    cfg = matrix.root / "gitml.yaml"
    cfg.write_text(cfg.read_text().replace("dvclive/rf/", "dvclive/${item.model}/"))
    doctor = matrix.gitml("doctor")
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    out = doctor.stdout + doctor.stderr
    assert "${item.model}" in out and "templating" in out and "Traceback" not in out
    show = matrix.gitml("registry")
    assert show.returncode == 2 and "models[1].metrics" in show.stderr, show.stderr


@pytest.mark.slow
def test_user_flow_on_a_matrix_stage(matrix: Example) -> None:
    user_flow(
        matrix,
        EXPECTED,
        repro=[],
        promoted="rf",
        tags=["rf#prod#1", "rf@v0.0.1"],
    )
