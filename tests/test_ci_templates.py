"""templates/ci: valid GitHub Actions and GitLab CI files; `gitml init --ci` writes them."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from conftest import PROJECT, Example

CI = PROJECT / "templates" / "ci"
STEPS = ("dvc pull", "gitml lock --check", "gitml check", "gitml reproduce HEAD --json")


def test_github_workflow() -> None:
    text = (CI / "github.yml").read_text()
    doc = yaml.safe_load(text)
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads the key `on` as true
    assert "pull_request" in on and "pull_request_target" not in on  # forks: no secrets
    job = doc["jobs"]["gitml"]
    assert job["runs-on"] and job["steps"]
    run = "\n".join(s.get("run", "") for s in job["steps"])
    for step in STEPS:
        assert step in run
    assert '"$code" -eq 3' in run and "::warning" in run
    script = next(s for s in job["steps"] if "github-script" in s.get("uses", ""))["with"]["script"]
    assert "<!-- gitml-report -->" in script and "updateComment" in script
    assert doc["permissions"]["contents"] == "read"


def test_gitlab_ci() -> None:
    doc = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    job = doc["gitml"]
    assert job["stage"] in doc["stages"]
    script = "\n".join(job["script"])
    for step in STEPS:
        assert step in script
    assert job["allow_failure"] == {"exit_codes": [3]}
    after = "\n".join(job["after_script"])
    assert "<!-- gitml-report -->" in after and '"PUT"' in after and "gitml report" in after


@pytest.mark.parametrize(
    ("name", "schema"),
    [("github.yml", "vendor.github-workflows"), ("gitlab-ci.yml", "vendor.gitlab-ci")],
)
def test_templates_match_published_schemas(name: str, schema: str) -> None:
    tool = shutil.which("check-jsonschema")
    if tool is None:
        pytest.skip(
            "check-jsonschema is not installed (`pip install check-jsonschema`: it validates "
            "against its vendored GitHub workflow and GitLab CI schemas, offline)"
        )
    proc = subprocess.run(
        [tool, "--builtin-schema", schema, str(CI / name)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_init_ci_writes_the_file_idempotently(example: Example) -> None:
    proc = example.gitml("init", "--ci", "github")
    assert proc.returncode == 0, proc.stderr
    target = example.root / ".github" / "workflows" / "gitml.yml"
    assert target.read_bytes() == (CI / "github.yml").read_bytes()
    staged = example.git("diff", "--cached", "--name-only").stdout.split()
    assert ".github/workflows/gitml.yml" in staged
    again = example.gitml("init", "--ci", "github")
    assert again.returncode == 0 and "already" in again.stderr
    assert target.read_bytes() == (CI / "github.yml").read_bytes()
    gitlab = example.root / ".gitlab-ci.yml"
    gitlab.write_text("stages: [mine]\n")
    kept = example.gitml("init", "--ci", "gitlab")
    assert kept.returncode == 0 and "kept your .gitlab-ci.yml" in kept.stderr
    assert gitlab.read_text() == "stages: [mine]\n"
    bad = example.gitml("init", "--ci", "jenkins")
    assert bad.returncode == 2 and "--ci must be" in bad.stderr
