"""`gitml log` and `gitml diff` over a real example repo with several model versions."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Example, built_once

from gitml import history, lockfile, plots, records, versiondiff
from gitml.errors import BadInput


def build_history(template: Example, base: Path) -> Example:
    """The example with 4 commits: first model, more trees, a README edit, deeper trees + code.

    Tags: wine-classifier@v1.0.0 on the first model, wine-classifier#production#1 on the second.
    Built once per run (test_report.py shares it); tests that write copy it first.
    """
    shutil.copytree(template.root.parent, base, symlinks=True)
    ex = Example(base / "repo", base / "dvc-remote")
    ex.git("tag", "-a", "wine-classifier@v1.0.0", "-m", "registered")
    ex.set_param("n_estimators: 3", "n_estimators: 5")
    assert ex.gitml("repro").returncode == 0
    ex.git("add", "-A")
    ex.git("commit", "-q", "-m", "more trees")
    ex.git("tag", "-a", "wine-classifier#production#1", "-m", "promoted")
    (ex.root / "README.md").write_text((ex.root / "README.md").read_text() + "\nmore words\n")
    ex.git("commit", "-q", "-am", "docs only")
    ex.set_param("max_depth: 2", "max_depth: 3")
    train = ex.root / "src" / "train.py"
    train.write_text(train.read_text() + "\n# deeper trees\n")
    assert ex.gitml("repro").returncode == 0
    ex.git("add", "-A")
    ex.git("commit", "-q", "-m", "deeper trees")
    return ex


def history_template(
    example_template: Example, tmp_path_factory: pytest.TempPathFactory
) -> Example:
    return built_once(
        tmp_path_factory, "history", lambda d: build_history(example_template, d / "ex")
    )


@pytest.fixture
def hist(example_template: Example, tmp_path_factory: pytest.TempPathFactory) -> Example:
    return history_template(example_template, tmp_path_factory)


@pytest.fixture
def hist_copy(hist: Example, tmp_path: Path) -> Example:
    shutil.copytree(hist.root.parent, tmp_path / "ex", symlinks=True)
    return Example(tmp_path / "ex" / "repo", tmp_path / "ex" / "dvc-remote")


def _json(proc: object) -> object:
    assert proc.returncode == 0, proc.stderr  # type: ignore[attr-defined]
    return json.loads(proc.stdout)  # type: ignore[attr-defined]


def test_log_json_one_row_per_model_version(hist: Example) -> None:
    rows = _json(hist.gitml("log", "--json"))
    assert isinstance(rows, list)
    subjects = [r["subject"] for r in rows]
    assert subjects == ["deeper trees", "more trees", "first model"]  # not "docs only"
    shas = hist.git("log", "--format=%H").stdout.split()
    assert [r["commit"] for r in rows] == [shas[0], shas[2], shas[3]]
    newest, middle, first = rows
    assert newest["params"]["params.yaml:train.max_depth"] == 3
    assert middle["params"]["params.yaml:train.n_estimators"] == 5
    assert first["changed"] == ["new"]
    assert "params.yaml:train.n_estimators" in middle["changed"]
    assert (
        "params.yaml:train.max_depth" in newest["changed"] and "src/train.py" in newest["changed"]
    )
    assert "params.yaml:train.n_estimators" not in newest["changed"]
    for r in rows:
        assert r["name"] == "wine-classifier" and r["model"] == "model/model.pkl"
        assert len(r["md5"]) == 32 and set(r["metrics"]) == {"accuracy", "f1_macro"}
        assert r["checks"]["tests"]["failed"] == 0 and r["checks"]["gates"]["failed"] == 0
        assert r["passed"] is True
    assert first["tags"] == ["wine-classifier@v1.0.0"]
    assert middle["tags"] == ["wine-classifier#production#1"]
    assert newest["tags"] == []
    assert first["md5"] != middle["md5"]


def test_log_table_limit_and_model_selection(hist: Example) -> None:
    proc = hist.gitml("log", "wine-classifier", "-n", "2")
    assert proc.returncode == 0, proc.stderr
    header, *lines = proc.stdout.strip().splitlines()
    assert header.split() == ["commit", "date", "md5", "metrics", "checks", "tags", "subject"]
    assert len(lines) == 2  # piped: plain, a header and one line per version
    assert lines[0].endswith("deeper trees") and "tests 2/2, gates 1/1" in lines[0]
    assert lines[0].index("tests 2/2") == header.index("checks")  # columns under their names
    assert "wine-classifier#production#1" in lines[1] and "accuracy=" in lines[1]
    assert _json(hist.gitml("log", "model/model.pkl", "--json", "-n", "1"))[0]["subject"] == (  # type: ignore[index]
        "deeper trees"
    )
    bad = hist.gitml("log", "no-such-model")
    assert bad.returncode == 2 and "no model 'no-such-model'" in bad.stderr


def test_log_lists_only_the_stage_tags_that_still_hold(hist_copy: Example) -> None:
    ex = hist_copy
    ex.git("tag", "-a", "wine-classifier#production#2", "-m", "promoted the deeper trees")
    ex.git("tag", "-a", "wine-classifier#staging#3", "-m", "staged", "HEAD~3")
    ex.git("tag", "-a", "wine-classifier#staging!#4", "-m", "unstaged", "HEAD~3")
    newest, middle, first = _json(ex.gitml("log", "--json"))  # type: ignore[misc]
    # production#1 was retired by production#2; staging#3 by its unassignment (as GTO reads)
    assert newest["tags"] == ["wine-classifier#production#2"]
    assert middle["tags"] == [] and first["tags"] == ["wine-classifier@v1.0.0"]
    plain = ex.gitml("log").stdout
    assert "production#1" not in plain and "staging" not in plain
    assert "wine-classifier#production#2" in plain.splitlines()[1]


def test_log_plot_sparkline_and_svg(hist: Example, tmp_path: Path) -> None:
    proc = hist.gitml("log", "--plot", "accuracy")
    assert proc.returncode == 0, proc.stderr
    assert "accuracy" in proc.stdout and "3 versions" in proc.stdout
    assert any(ch in proc.stdout for ch in plots.sparkline([0.0, 1.0]))
    svg = tmp_path / "acc.svg"
    assert hist.gitml("log", "--plot", "accuracy", "--out", str(svg)).returncode == 0
    assert svg.read_text().startswith("<svg") and "polyline" in svg.read_text()
    bad = hist.gitml("log", "--plot", "nope")
    assert bad.returncode == 2 and "accuracy" in bad.stderr


def test_diff_names_exactly_the_changed_param_and_metric_deltas(hist: Example) -> None:
    result = _json(hist.gitml("diff", "HEAD~3", "HEAD~2", "--json"))
    assert isinstance(result, dict)
    model = result["models"]["model/model.pkl"]
    assert model["params"] == {"params.yaml:train.n_estimators": {"old": 3, "new": 5}}
    assert model["code"] == {} and model["environment"] == {}
    acc = model["metrics"]["accuracy"]
    assert acc["delta"] == pytest.approx(acc["new"] - acc["old"], abs=1e-6)
    assert model["md5"]["old"] != model["md5"]["new"]
    assert result["data"] == {}
    later = _json(hist.gitml("diff", "HEAD~1", "HEAD", "--json"))["models"]["model/model.pkl"]  # type: ignore[index]
    assert later["params"] == {"params.yaml:train.max_depth": {"old": 2, "new": 3}}
    assert list(later["code"]) == ["src/train.py"]
    text = hist.gitml("diff", "HEAD~3", "HEAD~2")
    assert text.returncode == 0, text.stderr
    assert "param params.yaml:train.n_estimators" in text.stdout
    assert "max_depth" not in text.stdout and "metric accuracy" in text.stdout


def test_diff_defaults_to_head_against_the_staged_state(hist_copy: Example) -> None:
    ex = hist_copy
    clean = ex.gitml("diff")
    assert clean.returncode == 0 and "no differences" in clean.stdout
    ex.set_param("max_depth: 3", "max_depth: 4")
    ex.git("add", "params.yaml")
    staged = _json(ex.gitml("diff", "--json"))
    assert isinstance(staged, dict) and staged["b"]["rev"] == "staged"
    stale = staged["models"]["model/model.pkl"]["stale"]["new"]
    assert any("max_depth" in reason for reason in stale)
    assert ex.gitml("diff", "no-such-rev").returncode == 2


def profile(doc: dict[str, Any]) -> lockfile.Profile:
    return records.read_record(lockfile.Profile, doc)


def test_profile_diff_names_the_changed_column() -> None:
    old = {"rows": 178, "columns": {"alcohol": {"dtype": "float64", "nulls": 0, "mean": 13.0}}}
    new = {
        "rows": 180,
        "columns": {
            "alcohol": {"dtype": "float64", "nulls": 2, "mean": 13.0},
            "hue": {"dtype": "float64", "nulls": 0},
        },
    }
    assert versiondiff.profile_diff(profile(old), profile(new)).to_json() == {
        "rows": {"old": 178, "new": 180},
        "columns": {
            "alcohol": {"nulls": {"old": 0, "new": 2}},
            "hue": {"added": True, "dtype": "float64"},
        },
    }


def test_lock_parser_matches_the_full_parse(hist: Example) -> None:
    from gitml import lockfile

    data = (hist.root / "gitml.lock").read_bytes()
    parser = history.LockParser()
    assert parser.parse(data, "x") == lockfile.parse(data)
    assert parser.parse(data + b"# trailing\n", "x") == lockfile.parse(data)


def _reshaped(lock: dict[str, Any], how: str) -> dict[str, Any]:
    """HEAD's gitml.lock with one entry made unlike what gitml writes."""
    models = lock["models"]
    if how == "entry-is-a-list":
        models["model/model.pkl"] = ["md5", "f" * 32]
    elif how == "path-climbs-out":
        models["../outside.pkl"] = models.pop("model/model.pkl")
    else:  # "md5-not-hex"
        models["model/model.pkl"]["md5"] = "not-an-md5-but-32-characters-.."
    return lock


@pytest.mark.parametrize("how", ["entry-is-a-list", "path-climbs-out", "md5-not-hex"])
def test_log_checks_the_shape_of_every_lock_it_reads(hist_copy: Example, how: str) -> None:
    """A gitml.lock in history that gitml would not have written, in the layout log's fast
    parse reads: log leaves that version out, saying so (exit 0: history cannot be rewritten,
    so it must not block the log for good), never a traceback nor a row made from it, whether
    it is the newest version or an older one; show of that commit refuses it (exit 2)."""
    from gitml import lockfile

    ex = hist_copy
    good = (ex.root / "gitml.lock").read_bytes()
    bad = lockfile.serialize(lockfile.from_dict(_reshaped(yaml.safe_load(good), how)))
    fast = history.LockParser()._split_parse(bad)
    assert fast is not None and fast["schema"] == lockfile.SCHEMA  # the fast path reads it
    with pytest.raises(BadInput) as refused:
        lockfile.parse(bad, "x")
    problem = str(refused.value).removeprefix("x: ").split(";")[0]
    with pytest.raises(BadInput, match=re.escape(problem)):
        history.LockParser().parse(bad, "x")

    before = json.loads(ex.gitml("log", "--json").stdout)
    (ex.root / "gitml.lock").write_bytes(bad)
    ex.git("commit", "-qam", "hand-edited lock", env={"GITML_SKIP": "1"})
    bad_sha = ex.head()
    where = f"gitml.lock at {bad_sha[:8]}: {problem}"
    proc = ex.gitml("show", "HEAD")
    assert proc.returncode == 2 and proc.stdout == "" and problem in proc.stderr, proc.stderr
    for cmd in (["log"], ["log", "--json"]):
        proc = ex.gitml(*cmd)
        assert proc.returncode == 0, (cmd, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr and where in proc.stderr, (cmd, proc.stderr)
        assert "left out" in proc.stderr and bad_sha[:8] not in proc.stdout, cmd
    assert json.loads(ex.gitml("log", "--json").stdout) == before

    (ex.root / "gitml.lock").write_bytes(good)  # a good version on top: the bad one is history
    ex.git("commit", "-qam", "lock restored", env={"GITML_SKIP": "1"})
    proc = ex.gitml("log", "--json")
    assert proc.returncode == 0 and where in proc.stderr, proc.stderr
    rows = json.loads(proc.stdout)
    assert bad_sha not in {r["commit"] for r in rows}
