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
