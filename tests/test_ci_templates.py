"""templates/ci: valid GitHub Actions and GitLab CI files; `gitml init --ci` writes them."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BIN, PROJECT, Example, git

from gitml import __version__

CI = PROJECT / "templates" / "ci"
STEPS = ("dvc pull", "gitml lock --check", "gitml check", "gitml reproduce HEAD --json")
SCHEMAS = {"github.yml": "vendor.github-workflows", "gitlab-ci.yml": "vendor.gitlab-ci"}
WRITTEN = {"github": ".github/workflows/gitml.yml", "gitlab": ".gitlab-ci.yml"}


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


def schema_check(path: Path, name: str) -> None:
    tool = shutil.which("check-jsonschema")
    if tool is None:
        pytest.skip(
            "check-jsonschema is not installed (`pip install check-jsonschema`: it validates "
            "against its vendored GitHub workflow and GitLab CI schemas, offline)"
        )
    proc = subprocess.run(
        [tool, "--builtin-schema", SCHEMAS[name], str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", SCHEMAS)
def test_templates_match_published_schemas(name: str) -> None:
    schema_check(CI / name, name)


def install_line(text: str) -> str:
    return next(line.strip() for line in text.splitlines() if '"gitml==' in line)


def test_init_ci_writes_the_file_idempotently(example: Example) -> None:
    proc = example.gitml("init", "--ci", "github")
    assert proc.returncode == 0, proc.stderr
    target = example.root / ".github" / "workflows" / "gitml.yml"
    written = target.read_text()
    assert "@" + "GITML_VERSION@" not in written and "@DVC_PLUGIN@" not in written
    # gitml pinned; a local remote needs no DVC plugin
    assert install_line(written) == f'python -m pip install "gitml=={__version__}"'
    staged = example.git("diff", "--cached", "--name-only").stdout.split()
    assert ".github/workflows/gitml.yml" in staged
    again = example.gitml("init", "--ci", "github")
    assert again.returncode == 0 and "already" in again.stderr
    assert target.read_text() == written
    gitlab = example.root / ".gitlab-ci.yml"
    gitlab.write_text("stages: [mine]\n")
    kept = example.gitml("init", "--ci", "gitlab")
    assert kept.returncode == 0 and "kept your .gitlab-ci.yml" in kept.stderr
    assert gitlab.read_text() == "stages: [mine]\n"
    bad = example.gitml("init", "--ci", "jenkins")
    assert bad.returncode == 2 and "--ci must be" in bad.stderr


REMOTES = (
    "['remote \"data\"']\n    url = s3://team-bucket/dvc\n"
    "['remote \"models\"']\n    url = gs://team-models/dvc\n"
    "['remote \"archive\"']\n    url = azure://archive/dvc\n"
    "['remote \"lab\"']\n    url = ssh://lab.example/srv/dvc\n"
    "['remote \"web\"']\n    url = https://example.invalid/dvc\n"
)


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_init_ci_installs_the_dvc_plugins_the_remotes_need(example: Example, ci: str) -> None:
    config = example.root / ".dvc" / "config"
    config.write_text(config.read_text() + REMOTES)
    proc = example.gitml("init", "--ci", ci)
    assert proc.returncode == 0, proc.stderr
    written = example.root / WRITTEN[ci]
    assert install_line(written.read_text()) == (
        f'- python -m pip install "gitml=={__version__}" "dvc[azure,gs,s3,ssh]"'
        if ci == "gitlab"
        else f'python -m pip install "gitml=={__version__}" "dvc[azure,gs,s3,ssh]"'
    )
    schema_check(written, "github.yml" if ci == "github" else "gitlab-ci.yml")


def test_gitlab_credentials_advice_works_for_merge_requests() -> None:
    """Protected variables reach only protected branches: merge-request pipelines (source
    branches, usually unprotected) would get no credentials."""
    head = (CI / "gitlab-ci.yml").read_text().split("stages:")[0]
    assert "keep DVC remote credentials and GITML_REPORT_TOKEN protected" not in head
    assert "*masked*, not protected" in head and "merge-request pipelines" in head.lower()


def test_templates_cache_and_time_out() -> None:
    github = yaml.safe_load((CI / "github.yml").read_text())["jobs"]["gitml"]
    caches = {
        s["with"]["path"]: s["with"]["key"]
        for s in github["steps"]
        if "cache@" in s.get("uses", "")
    }
    assert "dvc.lock" in caches[".dvc/cache"] and "~/.cache/pip" in caches
    assert github["timeout-minutes"] > 0
    gitlab = yaml.safe_load((CI / "gitlab-ci.yml").read_text())["gitml"]
    keys = {c["paths"][0]: c["key"] for c in gitlab["cache"]}
    assert keys[".dvc/cache"]["files"] == ["dvc.lock"] and ".cache/pip" in keys
    assert gitlab["timeout"]


# -- the GitHub workflow, run step by step on a real repository ------------------------------------
#
# A stand-in for the runner: `run:` steps go through bash as GitHub runs them (`bash -e`), in
# order, with the job's and the step's env; `${{ }}` expressions and `if:` conditions are
# evaluated against the event's context; `uses:` steps are done by hand (checkout: a clone at
# the ref the step asks for) or skipped (caches, setup-python, posting the comment). pip is
# intercepted (no network): the packages it was asked for are recorded.


class Context:
    def __init__(self, values: dict[str, Any], statuses: list[str], workspace: Path) -> None:
        self.values, self.statuses, self.workspace = values, statuses, workspace

    def get(self, path: str) -> Any:
        value: Any = self.values
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def hash_files(self, *patterns: str) -> str:
        files = sorted(
            p for pattern in patterns for p in self.workspace.glob(pattern) if p.is_file()
        )
        return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest() if files else ""

    def evaluate(self, expr: str) -> Any:
        tokens = re.findall(r"'[^']*'|&&|\|\||==|!=|!|[()\[\],]|[A-Za-z_][\w.\-]*|\S", expr)
        python = []
        for token in tokens:
            if token.startswith("'"):
                python.append(repr(token[1:-1]))
            elif token in ("&&", "||", "!"):
                python.append({"&&": " and ", "||": " or ", "!": " not "}[token])
            elif token in ("==", "!=", "(", ")", ",", "[", "]"):
                python.append(token)
            elif token in ("always", "success", "failure", "cancelled", "hashFiles"):
                python.append(f"_{token}")
            elif token in ("true", "false", "null"):
                python.append({"true": "True", "false": "False", "null": "None"}[token])
            else:
                python.append(f"_get({token!r})")
        names = {
            "_get": self.get,
            "_always": lambda: True,
            "_success": lambda: "failure" not in self.statuses,
            "_failure": lambda: "failure" in self.statuses,
            "_cancelled": lambda: False,
            "_hashFiles": self.hash_files,
        }
        return eval("".join(python), names)  # our own template's expressions

    def substitute(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            value = self.evaluate(match.group(1))
            return "" if value is None else str(value)

        return re.sub(r"\$\{\{(.*?)\}\}", one, text)

    def condition(self, step: dict[str, Any]) -> bool:
        expr = str(step.get("if", "success()"))
        expr = expr.strip()
        if expr.startswith("${{"):
            expr = expr[3:-2]
        if not re.search(r"\b(always|success|failure|cancelled)\(", expr):
            expr = f"success() && ({expr})"
        return bool(self.evaluate(expr))


def run_github_job(
    origin: Path, workspace: Path, event: dict[str, Any], tmp: Path
) -> dict[str, Any]:
    """Runs templates/ci/github.yml's job as written into `origin` by `gitml init --ci github`;
    returns the steps' statuses and outputs, and what pip was asked to install."""
    doc = yaml.safe_load((origin / WRITTEN["github"]).read_text())
    job = doc["jobs"]["gitml"]
    shims = tmp / "shims"
    shims.mkdir()
    pip_log = tmp / "pip.log"
    (shims / "python").write_text(
        f'#!/bin/sh\nif [ "$1" = -m ] && [ "$2" = pip ]; then echo "$@" >> {pip_log}; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    (shims / "python").chmod(0o755)
    statuses: list[str] = []
    outputs: dict[str, str] = {}
    ctx = Context(event, statuses, workspace)
    job_env = {k: ctx.substitute(str(v)) for k, v in job.get("env", {}).items()}
    ctx.values["env"] = job_env
    for step in job["steps"]:
        name = step.get("name") or step["uses"]
        if not ctx.condition(step):
            statuses.append("skipped")
            outputs[name] = "skipped"
            continue
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@"):
            assert step["with"]["fetch-depth"] == 0
            git("clone", "-q", origin, workspace, cwd=tmp)
            git("checkout", "-q", ctx.substitute(step["with"]["ref"]), cwd=workspace)
            statuses.append("success")
            continue
        if uses:
            statuses.append("success")  # setup-python, caches, posting: the runner's part
            outputs[name] = "done by the runner"
            continue
        env = {
            **os.environ,
            **job_env,
            **{k: ctx.substitute(str(v)) for k, v in step.get("env", {}).items()},
            "PATH": os.pathsep.join([str(shims), str(BIN), os.environ["PATH"]]),
        }
        proc = subprocess.run(
            ["bash", "-e", "-c", ctx.substitute(step["run"])],
            cwd=workspace, env=env, capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        statuses.append("success" if proc.returncode == 0 else "failure")
        outputs[name] = proc.stdout + proc.stderr
    return {
        "statuses": dict(
            zip([s.get("name") or s["uses"] for s in job["steps"]], statuses, strict=True)
        ),
        "outputs": outputs,
        "pip": pip_log.read_text() if pip_log.exists() else "",
    }


def pull_request(ex: Example, *, fork: bool, conflict: bool) -> tuple[dict[str, Any], str]:
    """A pull request from branch `feature` against `main` in the example (as GitHub's origin),
    with GitHub's synthetic merge commit; its event context and the head's sha."""
    assert ex.gitml("init", "--ci", "github").returncode == 0
    ex.git("commit", "-qm", "gitml CI")
    ex.git("checkout", "-qb", "feature")
    (ex.root / "README.md").write_text("the feature's readme\n")
    ex.git("commit", "-qam", "feature")
    head = ex.head()
    ex.git("checkout", "-q", "main")
    if conflict:
        (ex.root / "README.md").write_text("main's own readme\n")
    else:
        (ex.root / "NOTES.md").write_text("main moved on\n")
        ex.git("add", "NOTES.md")
    ex.git("commit", "-qam", "main moves on")
    ex.git("checkout", "-q", "--detach", "main")  # the synthetic merge commit, as GitHub makes
    merge = ex.git(
        "merge", "-q", "--no-ff", "-X", "theirs", "-m", "Merge feature", "feature", check=False
    )
    assert merge.returncode == 0, merge.stdout + merge.stderr
    ex.git("update-ref", "refs/pull/7/merge", "HEAD")
    merge_sha = ex.head()
    ex.git("checkout", "-q", "main")
    event = {
        "github": {
            "event_name": "pull_request",
            "repository": "team/project",
            "actor": "dependabot[bot]" if fork else "alice",
            "base_ref": "main",
            "ref": "refs/pull/7/merge",
            "sha": merge_sha,
            "event": {
                "pull_request": {
                    "number": 7,
                    "head": {
                        "sha": head,
                        "repo": {"full_name": "team/project"},
                    },
                },
            },
        },
        "secrets": {} if fork else {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "key"},
        "runner": {"os": "Linux"},
    }
    return event, head


def test_github_job_without_secrets_checks_what_needs_no_data(
    example: Example, tmp_path: Path
) -> None:
    """Dependabot (as a fork) gets no secrets: lock --check, check and the report run; dvc pull
    and reproduce are skipped and the report says so; the head is judged, the conflict told."""
    event, head = pull_request(example, fork=True, conflict=True)
    workspace = example.root.parent / "workspace"  # beside the repo: the DVC remote's path holds
    job = run_github_job(example.root, workspace, event, tmp_path)
    statuses = job["statuses"]
    assert "failure" not in statuses.values(), job["outputs"]
    assert git("rev-parse", "HEAD", cwd=workspace).stdout.strip() == head
    for step in ("gitml lock --check", "gitml check", "gitml report", "Install"):
        assert statuses[step] == "success", step
    for step in ("dvc pull", "gitml reproduce HEAD", "DVC cache, keyed by dvc.lock"):
        assert statuses[step] == "skipped", step
    assert f"gitml=={__version__}" in job["pip"]
    report = (workspace / "gitml-report.md").read_text()
    assert report.startswith("<!-- gitml-report -->")
    assert "`dvc pull` and `gitml reproduce` were **skipped**" in report
    assert "Merge with `main`: **conflicts** in `README.md`." in report
    assert report.index("skipped") < report.index("### ")  # under the title, not at the end
    assert not (workspace / ".dvc" / "cache").exists() or not any(
        (workspace / ".dvc" / "cache").rglob("*.pkl")
    )


@pytest.mark.slow
def test_github_job_with_secrets_pulls_and_reproduces(example: Example, tmp_path: Path) -> None:
    event, head = pull_request(example, fork=False, conflict=False)
    workspace = example.root.parent / "workspace"
    job = run_github_job(example.root, workspace, event, tmp_path)
    statuses = job["statuses"]
    assert "failure" not in statuses.values(), job["outputs"]
    assert git("rev-parse", "HEAD", cwd=workspace).stdout.strip() == head
    for step in ("dvc pull", "gitml reproduce HEAD", "gitml report", "Merge with the base"):
        assert statuses[step] == "success", step
    assert statuses["No secrets, no data"] == "skipped"
    assert '"verdict": "identical"' in job["outputs"]["gitml reproduce HEAD"]
    report = (workspace / "gitml-report.md").read_text()
    assert "Merge with `main`: clean." in report and "skipped" not in report
    assert (workspace / "model" / "model.pkl").exists()  # pulled


def _gitlab_poster() -> str:
    """The Python the GitLab template runs to post the report (its after_script heredoc)."""
    after = "\n".join(yaml.safe_load((CI / "gitlab-ci.yml").read_text())["gitml"]["after_script"])
    start = after.index("python - <<'PY'\n") + len("python - <<'PY'\n")
    return after[start : after.index("\nPY", start)]


@pytest.mark.parametrize("own_note", [False, True])
def test_gitlab_report_updates_only_a_note_of_its_own(tmp_path, own_note: bool) -> None:  # type: ignore[no-untyped-def]
    """Against a stand-in for GitLab's notes API on 127.0.0.1: a note by someone else that
    carries the marker is never edited (a commenter cannot hijack or block the report); the
    token's own note is updated in place, found past the first page."""
    import http.server
    import json
    import os
    import sys
    import threading

    marker = "<!-- gitml-report -->"
    notes = [{"id": i, "author": {"id": 7}, "body": "chatter"} for i in range(1, 102)]
    notes[49]["body"] = marker + "\nfake: all checks passed"  # someone else's, on page 1
    if own_note:
        notes.append({"id": 102, "author": {"id": 42}, "body": marker + "\nold report"})
    calls: list[tuple[str, str, object]] = []

    class Api(http.server.BaseHTTPRequestHandler):
        def _reply(self, doc: object) -> None:
            data = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            calls.append(("GET", self.path, None))
            if self.path.endswith("/user"):
                return self._reply({"id": 42})
            page = int(self.path.rsplit("page=", 1)[1])
            return self._reply(notes[(page - 1) * 100 : page * 100])

        def _write(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls.append((self.command, self.path, body))
            self._reply({"id": 999})

        do_PUT = do_POST = _write  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (tmp_path / "gitml-report.md").write_text(marker + "\n## gitml report\n")
        env = {
            **os.environ,
            "CI_API_V4_URL": f"http://127.0.0.1:{server.server_port}/api/v4",
            "CI_PROJECT_ID": "5",
            "CI_MERGE_REQUEST_IID": "3",
            "GITML_REPORT_TOKEN": "t",
        }
        proc = subprocess.run(
            [sys.executable, "-c", _gitlab_poster()],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stderr
    writes = [(m, p) for m, p, _ in calls if m != "GET"]
    notes_api = "/api/v4/projects/5/merge_requests/3/notes"
    assert writes == ([("PUT", f"{notes_api}/102")] if own_note else [("POST", notes_api)])
