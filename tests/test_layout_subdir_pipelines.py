"""Two pipelines in subdirectories (`pipelines/a/dvc.yaml`, `pipelines/b/dvc.yaml`), each naming
its model under `artifacts:`: gitml names them as DVC and GTO do (`pipelines/a:clf`) and tags
them as GTO does (`pipelines/a=clf@v0.0.1`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Example, copy_example
from layouts import assert_discovered, build_layout, user_flow

from gitml.errors import BadInput

EXPECTED = {
    "pipelines/a/model.pkl": {"name": "pipelines/a:clf", "metrics": "pipelines/a/metrics.json"},
    # b's metrics are written by the stage that evaluates the model, not the one that trains it
    "pipelines/b/model.pkl": {"name": "pipelines/b:nb", "metrics": "pipelines/b/eval.json"},
}


@pytest.fixture(scope="module")
def subdirs_template(tmp_path_factory: pytest.TempPathFactory) -> Example:
    return build_layout(tmp_path_factory.mktemp("subdirs-template"), "subdirs")


@pytest.fixture
def subdirs(subdirs_template: Example, tmp_path: Path) -> Example:
    return copy_example(subdirs_template, tmp_path / "ex")


def test_init_before_any_repro_names_models_as_dvc_does(subdirs: Example) -> None:
    r = subdirs.gitml("init")
    assert r.returncode == 0, r.stderr
    assert_discovered(subdirs, EXPECTED)


def test_a_model_without_name_is_called_by_its_dvc_name(subdirs: Example) -> None:
    (subdirs.root / "gitml.yaml").write_text(
        "version: 1\nmodels:\n  - path: pipelines/a/model.pkl\n  - path: pipelines/b/model.pkl\n"
        "    name: pipelines/b:custom\n"
    )
    subdirs.gitml("init")  # keeps that gitml.yaml, installs the hooks
    r = subdirs.gitml("registry", "--json")
    assert r.returncode == 0, r.stderr
    assert [m["model"] for m in json.loads(r.stdout)] == ["pipelines/a:clf", "pipelines/b:custom"]


@pytest.mark.slow
def test_user_flow_on_pipelines_in_subdirectories(subdirs: Example) -> None:
    user_flow(
        subdirs,
        EXPECTED,
        repro=["-P"],
        promoted="pipelines/a:clf",
        tags=["pipelines/a=clf#prod#1", "pipelines/a=clf@v0.0.1"],
    )


def test_tag_grammar_of_nested_artifacts_is_gtos() -> None:
    from gto.tag import parse_name

    from gitml import gtotags

    assert gtotags.version_tag("pipelines/nlp:nb", "v0.0.1") == "pipelines/nlp=nb@v0.0.1"
    assert gtotags.stage_tag("pipelines/nlp:nb", "prod", 1) == "pipelines/nlp=nb#prod#1"
    for tag in (
        "pipelines/nlp=nb@v0.0.1",
        "pipelines/nlp=nb#prod#1",
        "a.b/c-d=x_y#st!#3",
        "m@v1.0.0",
    ):
        ours, gtos = gtotags.parse_tag(tag, "0" * 40), parse_name(tag)
        assert ours is not None and ours.model == gtos["name"], tag
        assert (ours.version, ours.stage) == (gtos.get("version"), gtos.get("stage")), tag
    gtotags.check_name("pipelines/nlp:nb", "model name")
    for bad in ("a:b:c", ":nb", "pipelines/nlp:", "a b"):
        with pytest.raises(BadInput):
            gtotags.check_name(bad, "model name")
    with pytest.raises(BadInput):
        gtotags.check_name("pipelines/nlp:nb", "stage")
