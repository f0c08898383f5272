"""`gitml lineage`: OpenLineage RunEvents checked against the spec's JSON schemas and received by
a local HTTP endpoint; W3C PROV-JSON read back by `prov` and drawn by its graph export.

One template per module: the example project with a suite on its data (so gitml.lock records a
validation and a profile), a remote whose URL carries a password, and a second commit.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Example, copy_example

# a module template (a suite, a commit) per run: the slow part; tests/unit/test_lineage_export.py
# keeps the event and document building in the fast part
pytestmark = pytest.mark.slow

SPEC = Path(__file__).parent / "openlineage_spec"
GITML_SCHEMAS = Path(__file__).parent.parent / "gitml" / "schemas"
REMOTE = "https://alice:s3cret@git.example.com/org/wine.git"
CLEAN_REMOTE = "https://git.example.com/org/wine.git"


@pytest.fixture(scope="module")
def lineage_template(
    example_template: Example, tmp_path_factory: pytest.TempPathFactory
) -> Example:
    ex = copy_example(example_template, tmp_path_factory.mktemp("lineage") / "ex")
    ex.without_model_checks()
    assert ex.gitml("suite", "init", "data/wine.csv").returncode == 0
    ex.git("add", "-A")
    ex.git("commit", "-q", "-m", "validate the wine data")
    ex.git("remote", "add", "origin", REMOTE)
    (ex.root / "NOTES.md").write_text("a commit that touches nothing ML\n")
    ex.git("add", "NOTES.md")
    ex.git("commit", "-q", "-m", "notes")
    return ex


@pytest.fixture
def lin(lineage_template: Example, tmp_path: Path) -> Example:
    return copy_example(lineage_template, tmp_path / "ex")


def _export(ex: Example, *args: str) -> Any:
    proc = ex.gitml("lineage", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# --- OpenLineage against the spec ------------------------------------------------------------


def _validator() -> Any:
    """The spec's event schema, every facet schema resolvable by its published $id, offline."""
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    schemas = [json.loads(p.read_text()) for p in [*SPEC.glob("*.json"), *GITML_SCHEMAS.glob("*")]]
    registry = referencing.Registry().with_resources(
        (s["$id"], referencing.Resource.from_contents(s)) for s in schemas
    )
    spec = json.loads((SPEC / "OpenLineage.json").read_text())
    cls = jsonschema.Draft202012Validator
    return lambda doc, url: cls(
        {"$ref": url} if url else spec, registry=registry, format_checker=cls.FORMAT_CHECKER
    ).validate(doc)


def _facets(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from event["run"].get("facets", {}).values()
    yield from event["job"].get("facets", {}).values()
    for ds in event["inputs"] + event["outputs"]:
        for part in ("facets", "inputFacets", "outputFacets"):
            yield from ds.get(part, {}).values()


def test_openlineage_events_follow_the_spec(lin: Example) -> None:
    events = _export(lin, "--format", "openlineage")
    validate = _validator()
    stages = yaml.safe_load((lin.root / "dvc.lock").read_text())["stages"]
    assert [e["job"]["name"] for e in events] == sorted(stages)
    for event in events:
        validate(event, None)  # the RunEvent against OpenLineage.json
        assert event["eventType"] == "COMPLETE"
        for facet in _facets(event):
            validate(facet, facet["_schemaURL"])  # each facet against the schema it names
    assert {e["job"]["namespace"] for e in events} == {CLEAN_REMOTE}
    assert "s3cret" not in json.dumps(events)


def test_openlineage_events_carry_hashes_checks_and_environment(lin: Example) -> None:
    events = {e["job"]["name"]: e for e in _export(lin, "--format", "openlineage")}
    lock = lin.lock()
    prepare = events["prepare"]
    wine = next(i for i in prepare["inputs"] if i["name"] == "data/wine.csv")
    assert wine["facets"]["version"]["datasetVersion"] == lock["data"]["data/wine.csv"]["md5"]
    checks = wine["inputFacets"]["dataQualityAssertions"]["assertions"]
    assert checks[0]["success"] is True and checks[0]["assertion"].startswith("gitml suite")
    assert len(checks) == 1 + lock["data"]["data/wine.csv"]["validation"]["evaluated"]
    profile = wine["inputFacets"]["dataQualityMetrics"]
    assert profile["rowCount"] == lock["data"]["data/wine.csv"]["profile"]["rows"]
    assert set(profile["columnMetrics"]) == set(lock["data"]["data/wine.csv"]["profile"]["columns"])
    where = prepare["job"]["facets"]["sourceCodeLocation"]
    assert (where["type"], where["url"], where["path"]) == ("git", CLEAN_REMOTE, "dvc.yaml")
    assert where["version"] == lin.head()
    train = events["train"]
    env = train["run"]["facets"]["gitml_environment"]
    assert env["key"] == lock["models"]["model/model.pkl"]["environment"]
    assert env["python"] == lock["environments"][env["key"]]["python"]
    model = next(o for o in train["outputs"] if o["name"] == "model/model.pkl")
    assert model["facets"]["version"]["datasetVersion"] == lock["models"]["model/model.pkl"]["md5"]


# five exports
def test_exporting_twice_gives_the_same_events_and_history_is_in_order(lin: Example) -> None:
    once = lin.gitml("lineage").stdout
    assert once == lin.gitml("lineage").stdout
    history = _export(lin, "--all")
    commits = lin.git("rev-list", "--reverse", "HEAD").stdout.split()
    versions = [e["job"]["facets"]["sourceCodeLocation"]["version"] for e in history]
    assert sorted(set(versions), key=commits.index) == commits
    assert versions == sorted(versions, key=commits.index)  # oldest first
    assert len({e["run"]["runId"] for e in history}) == len(history)  # one id per (commit, stage)
    last = _export(lin, "HEAD~1..HEAD")
    assert last == json.loads(once)
    assert lin.gitml("lineage", "HEAD~1..HEAD", "--all").returncode == 2


class _Endpoint(BaseHTTPRequestHandler):
    received: list[tuple[str, Any]] = []
    auth: list[str | None] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, json.loads(body)))
        self.auth.append(self.headers.get("Authorization"))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


# three exports
def test_emit_sends_the_events_to_an_http_endpoint(lin: Example) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Endpoint)
    _Endpoint.received, _Endpoint.auth = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        proc = lin.gitml("lineage", "--emit", url, env={"OPENLINEAGE_API_KEY": "k3y"})
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "sent 3 OpenLineage event(s)" in proc.stderr
    assert [p for p, _ in _Endpoint.received] == ["/api/v1/lineage"] * 3
    assert [e for _, e in _Endpoint.received] == _export(lin)
    assert _Endpoint.auth == ["Bearer k3y"] * 3
    closed = lin.gitml("lineage", "--emit", url)  # nothing listens there now
    assert closed.returncode == 2
    assert f"--emit {url}: sending event 1 of 3" in closed.stderr
    assert "Traceback" not in closed.stderr


# --- W3C PROV --------------------------------------------------------------------------------


def test_prov_document_reads_back_and_draws(lin: Example, tmp_path: Path) -> None:
    prov = pytest.importorskip("prov")
    from prov.model import ProvActivity, ProvAgent, ProvEntity

    out = tmp_path / "lineage.json"
    proc = lin.gitml("lineage", "--format", "prov", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = prov.read(str(out), format="json")
    labels = {str(r.label) for r in doc.get_records(ProvEntity)}
    assert {"data/wine.csv", "model/model.pkl", "src/train.py", "params.yaml:train"} <= labels
    assert len(list(doc.get_records(ProvActivity))) == 3
    assert {str(r.label) for r in doc.get_records(ProvAgent)} == {"gitml tests"}
    kinds = {type(r).__name__ for r in doc.get_records()}
    assert {"ProvUsage", "ProvGeneration", "ProvAssociation", "ProvDerivation"} <= kinds
    pytest.importorskip("pydot", reason="prov's graph export needs pydot")
    from prov.dot import prov_to_dot

    dot = prov_to_dot(doc)
    assert "model/model.pkl" in dot.to_string()
    if shutil.which("dot") is None:
        pytest.skip("graphviz's `dot` is not installed: the graph was built, not rendered")
    assert dot.create_svg().startswith(b"<?xml")


def test_bad_lineage_options_exit_2(lin: Example) -> None:
    for args, said in [
        (("--format", "xml"), "--format must be"),
        (("--format", "prov", "--emit", "http://127.0.0.1:9"), "--emit sends OpenLineage"),
        (("no-such-rev",), "unknown revision"),
        (("--emit", "not a url"), "not an HTTP URL"),
    ]:
        proc = lin.gitml("lineage", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert said in proc.stderr and "Traceback" not in proc.stderr
