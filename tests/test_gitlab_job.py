"""templates/ci/gitlab-ci.yml run job by job on a real repository, as a GitLab runner would.

A stand-in for the runner (gitlab-runner cannot run offline here): the pipeline's jobs in stage
order, each kept or left out by its `rules:`; a job clones the project at the pipeline's commit,
then runs `before_script` and `script` in one bash session (`set -eo pipefail`, as the runner's
shell executor does), `after_script` in a shell of its own whatever happened, with the job's
`variables:` expanded over the predefined ones. An exit code in `allow_failure.exit_codes`
passes with a warning. pip is intercepted (no network): what it was asked for is recorded.
Pipelines: a merge request from a fork (no credentials variables), one from the project itself
(credentials: pulls and reproduces), and the default branch after a merge made by the merge
button, which runs no merge driver and can leave gitml.lock stale.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BIN, Example, git

from gitml import __version__

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "key"}


def rule_holds(expr: str, variables: dict[str, str]) -> bool:
    """A `rules: if:` expression: `$VAR`, "strings", ==, !=, &&, || (an unset variable is
    null, as in GitLab)."""
    tokens = re.findall(r'"[^"]*"|\$\w+|==|!=|&&|\|\||\(|\)|null', expr)
    python = []
    for token in tokens:
        if token.startswith("$"):
            python.append(repr(variables.get(token[1:])))
        elif token.startswith('"'):
            python.append(repr(token[1:-1]))
        else:
            python.append({"&&": " and ", "||": " or ", "null": "None"}.get(token, token))
    return bool(eval("".join(python), {}))  # our own template's expressions


def in_pipeline(job: dict[str, Any], variables: dict[str, str]) -> bool:
    rules = job.get("rules")
    if rules is None:
        return True
    return any("if" not in rule or rule_holds(rule["if"], variables) for rule in rules)


def expanded(value: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), ""), value)


def shims(tmp: Path) -> tuple[Path, Path]:
    """A `python` that records `python -m pip ...` instead of installing, and the record."""
    folder, pip_log = tmp / "shims", tmp / "pip.log"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "python").write_text(
        f'#!/bin/sh\nif [ "$1" = -m ] && [ "$2" = pip ]; then echo "$@" >> {pip_log}; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    (folder / "python").chmod(0o755)
    return folder, pip_log


def run_job(
    job: dict[str, Any], workspace: Path, variables: dict[str, str], path: str
) -> dict[str, Any]:
    env = {**os.environ, **variables, "PATH": path}
    for name, value in (job.get("variables") or {}).items():
        env[name] = expanded(str(value), env)
    main = "\n".join(["set -eo pipefail", *job.get("before_script", []), *job["script"]])
    proc = subprocess.run(
        ["bash", "-c", main], cwd=workspace, env=env, capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip
    allowed = (job.get("allow_failure") or {}).get("exit_codes", [])
    status = "success" if proc.returncode == 0 else "failed"
    status = "warning" if proc.returncode in allowed else status
    after = subprocess.run(
        ["bash", "-c", "\n".join(job.get("after_script", []))], cwd=workspace, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return {"status": status, "code": proc.returncode, "log": proc.stdout + proc.stderr,
            "after": after.stdout + after.stderr}  # fmt: skip


def run_pipeline(origin: Path, variables: dict[str, str], tmp: Path) -> dict[str, Any]:
    """The pipeline of `.gitlab-ci.yml` as `gitml init --ci gitlab` wrote it into `origin`, for
    the pipeline's `variables` (predefined and project ones): {job: result}, and `pip`."""
    doc = yaml.safe_load((origin / ".gitlab-ci.yml").read_text())
    folder, pip_log = shims(tmp)
    path = os.pathsep.join([str(folder), str(BIN), os.environ["PATH"]])
    results: dict[str, Any] = {}
    for stage in doc.get("stages", ["test"]):
        for name, job in doc.items():
            if not isinstance(job, dict) or "script" not in job or job.get("stage") != stage:
                continue
            if not in_pipeline(job, variables):
                results[name] = {"status": "not in the pipeline"}
                continue
            # beside the origin, where the DVC remote's relative path (../dvc-remote) holds
            workspace = origin.parent / f"job-{name}-{tmp.name}"
            git("clone", "-q", origin, workspace, cwd=tmp)
            git("checkout", "-q", "--detach", variables["CI_COMMIT_SHA"], cwd=workspace)
            here = {**variables, "CI_PROJECT_DIR": str(workspace)}
            results[name] = {**run_job(job, workspace, here, path), "workspace": workspace}
    results["pip"] = pip_log.read_text() if pip_log.exists() else ""
    return results


def predefined(ex: Example, sha: str) -> dict[str, str]:
    return {
        "CI": "true",
        "CI_DEFAULT_BRANCH": "main",
        "CI_COMMIT_SHA": sha,
        "CI_PROJECT_ID": "5",
        "CI_API_V4_URL": "http://127.0.0.1:9/api/v4",  # never reached: no token
    }


def merge_request(ex: Example, *, fork: bool) -> tuple[dict[str, str], str]:
    """A merge request from `feature` against `main`, as a merged-results pipeline sees it:
    GitLab's merge commit checked out, the head named by CI_MERGE_REQUEST_SOURCE_BRANCH_SHA."""
    assert ex.gitml("init", "--ci", "gitlab").returncode == 0
    ex.git("add", ".gitlab-ci.yml")
    ex.git("commit", "-qm", "gitml CI")
    ex.git("checkout", "-qb", "feature")
    (ex.root / "README.md").write_text("the feature's readme\n")
    ex.git("commit", "-qam", "feature")
    head = ex.head()
    ex.git("checkout", "-q", "main")
    (ex.root / "README.md").write_text("main's own readme\n")
    ex.git("commit", "-qam", "main moves on")
    ex.git("checkout", "-q", "--detach", "main")
    ex.git("-c", "core.hooksPath=/dev/null", "merge", "-q", "-X", "theirs", "--no-ff", "-m",
           "merged results", "feature")  # fmt: skip
    merge_sha = ex.head()
    ex.git("checkout", "-q", "main")
    variables = {
        **predefined(ex, merge_sha),
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "3",
        "CI_MERGE_REQUEST_PROJECT_ID": "5",
        "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "6" if fork else "5",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": head,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        **({} if fork else CREDENTIALS),
    }
    return variables, head


def test_a_fork_merge_request_checks_what_needs_no_data(example: Example, tmp_path: Path) -> None:
    """No credentials variables reach a fork's pipeline: lock --check, check and the report run,
    dvc pull and reproduce are skipped and the report says so; the head is judged, not
    GitLab's merge commit, and the conflict with the target is told."""
    variables, head = merge_request(example, fork=True)
    result = run_pipeline(example.root, variables, tmp_path)
    job = result["gitml"]
    assert job["status"] == "success", job["log"]
    workspace = job["workspace"]
    assert git("rev-parse", "HEAD", cwd=workspace).stdout.strip() == head
    assert "gitml.lock is fresh" in job["log"]
    assert "NOTICE: no credentials for this pipeline" in job["log"]
    assert '"verdict"' not in job["log"]  # no rebuild
    assert f"gitml=={__version__}" in result["pip"]
    report = (workspace / "gitml-report.md").read_text()
    assert "`dvc pull` and `gitml reproduce` were **skipped**" in report
    assert "Merge with `main`: **conflicts** in `README.md`." in report
    assert "GITML_REPORT_TOKEN is not set" in job["after"]
    assert not (workspace / "model" / "model.pkl").exists()  # nothing pulled


@pytest.mark.slow
def test_a_project_merge_request_pulls_and_reproduces(example: Example, tmp_path: Path) -> None:
    variables, head = merge_request(example, fork=False)
    result = run_pipeline(example.root, variables, tmp_path)
    job = result["gitml"]
    assert job["status"] == "success", job["log"]
    assert git("rev-parse", "HEAD", cwd=job["workspace"]).stdout.strip() == head
    assert '"verdict": "identical"' in job["log"] and "NOTICE" not in job["log"]
    assert (job["workspace"] / "model" / "model.pkl").exists()  # pulled
    assert "skipped" not in (job["workspace"] / "gitml-report.md").read_text()


@pytest.mark.slow  # a retrain and its model tests on a branch
def test_the_default_branch_after_a_button_merge_says_the_lock_is_stale(
    example: Example, tmp_path: Path
) -> None:
    """The merge button runs no merge driver: a retrain (accuracy 0.955556) merged as text
    with a gate raised on main (0.97): gitml.lock merges cleanly, but its gate verdict does not
    hold. main's pipeline fails at `gitml lock --check`, saying so and how to fix it
    (GITML_DATA=no: no pull, no rebuild here); `gitml lock` on main then recomputes the verdict:
    the merged model fails the raised gate, which the merge button let through."""
    assert example.gitml("init", "--ci", "gitlab").returncode == 0
    example.git("add", ".gitlab-ci.yml")
    example.git("commit", "-qm", "gitml CI")
    example.git("checkout", "-qb", "feature")
    example.set_param("n_estimators: 3", "n_estimators: 8")
    assert example.gitml("repro").returncode == 0
    example.git("commit", "-qam", "eight trees")
    example.git("checkout", "-q", "main")
    cfg = example.root / "gitml.yaml"
    cfg.write_text(cfg.read_text().replace("accuracy >= 0.9", "accuracy >= 0.97"))
    example.git("commit", "-qam", "a higher gate")
    example.git("config", "--remove-section", "merge.gitml")  # as on the host
    merged = example.git("-c", "core.hooksPath=/dev/null", "merge", "--no-edit", "feature")
    assert "CONFLICT" not in merged.stdout
    push = {**predefined(example, example.head()), "CI_PIPELINE_SOURCE": "push",
            "CI_COMMIT_BRANCH": "main", "GITML_DATA": "no", **CREDENTIALS}  # fmt: skip
    job = run_pipeline(example.root, push, tmp_path / "first")["gitml"]
    assert job["status"] == "failed" and job["code"] == 1, job["log"]
    assert "gitml.lock is stale for the staged state" in job["log"]
    assert (
        "gates[accuracy >= 0.97]: recorded as passed, but accuracy 0.955556 >= 0.97" in job["log"]
    )
    assert "ERROR: gitml.lock is stale on main" in job["log"]
    assert "run `gitml lock` on main, then commit gitml.lock and push" in job["log"]

    relock = example.gitml("lock")
    assert relock.returncode == 1, relock.stdout + relock.stderr
    assert "accuracy >= 0.97" in relock.stderr and "FAIL" in relock.stderr
