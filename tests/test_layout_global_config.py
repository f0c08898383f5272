"""DVC's cache and remote configured outside the repository: `--global` (and `--system`).

The repository's .dvc/config names no remote and no cache dir: `dvc cache dir --global`,
`dvc remote add --global -d` set them in DVC's global config, which the test's processes find
under their own XDG_CONFIG_HOME (passed per call, never into os.environ). The global config is
inside each copy and its paths are relative to it (as DVC writes them), so a copy is whole.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import Example, git, run


@dataclass
class Layout:
    ex: Example
    env: dict[str, str]  # HOME and XDG_CONFIG_HOME of this copy
    cache: Path  # the global cache dir
    global_config: Path

    def gitml(self, *args: str):  # type: ignore[no-untyped-def]
        return self.ex.gitml(*args, env=self.env)

    def git(self, *args: str, check: bool = True):  # type: ignore[no-untyped-def]
        return self.ex.git(*args, check=check, env=self.env)

    def dvc(self, *args: str, check: bool = True):  # type: ignore[no-untyped-def]
        return run(sys.executable, "-m", "dvc", *args, cwd=self.ex.root, check=check, env=self.env)


def layout_env(base: Path) -> dict[str, str]:
    return {"HOME": str(base / "home"), "XDG_CONFIG_HOME": str(base / "xdg")}


def layout_at(base: Path) -> Layout:
    return Layout(
        Example(base / "repo", base / "dvc-remote"),
        layout_env(base),
        base / "cache",
        base / "xdg" / "dvc" / "config",
    )


@pytest.fixture(scope="module")
def global_template(example_template: Example, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's example with its remote and cache moved to DVC's global config."""
    base = tmp_path_factory.mktemp("global-config-template") / "ex"
    shutil.copytree(example_template.root.parent, base, symlinks=True)
    (base / "home").mkdir()
    lay = layout_at(base)
    lay.ex.without_model_checks()
    lay.dvc("remote", "remove", "local")  # the repo's .dvc/config: no remote, no default
    lay.dvc("remote", "add", "--global", "-d", "shared", "../dvc-remote")
    lay.dvc("cache", "dir", "--global", "../cache")
    shutil.move(base / "repo" / ".dvc" / "cache", lay.cache)
    assert "shared" not in (lay.ex.root / ".dvc" / "config").read_text()
    assert "../../dvc-remote" in lay.global_config.read_text()  # relative to the config's dir
    lay.git("commit", "-qam", "the DVC remote and cache are the user's (global config)")
    return base


@pytest.fixture
def lay(global_template: Path, tmp_path: Path) -> Layout:
    base = tmp_path / "ex"
    shutil.copytree(global_template, base, symlinks=True)
    return layout_at(base)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def add_data(lay: Layout, name: str, text: str) -> str:
    """A new DVC-tracked file, staged; its md5."""
    path = lay.ex.root / "data" / name
    path.write_text(text)
    lay.dvc("add", "-q", f"data/{name}")
    lay.git("add", f"data/{name}.dvc", "data/.gitignore")
    return md5(text.encode())


def object_in(root: Path, digest: str) -> Path:
    return root / "files" / "md5" / digest[:2] / digest[2:]


def test_commit_push_and_restore_see_the_global_cache_and_remote(
    lay: Layout, tmp_path: Path
) -> None:
    digest = add_data(lay, "extra.csv", "a,b\n1,2\n")
    assert object_in(lay.cache, digest).is_file()
    assert not (lay.ex.root / ".dvc" / "cache").exists()
    commit = lay.git("commit", "-qm", "extra data")
    assert "neither" not in commit.stderr

    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", origin, cwd=tmp_path)
    lay.git("remote", "add", "origin", str(origin))
    assert not object_in(lay.ex.remote, digest).exists()
    pushed = lay.git("push", "-q", "origin", "main", check=False)
    assert pushed.returncode == 0, pushed.stderr
    assert object_in(lay.ex.remote, digest).is_file()

    shutil.rmtree(lay.cache)
    (lay.ex.root / "data" / "extra.csv").unlink()
    restored = lay.gitml("restore")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert (lay.ex.root / "data" / "extra.csv").read_text() == "a,b\n1,2\n"


def test_without_the_global_config_the_commit_is_blocked(lay: Layout) -> None:
    """The same repository seen with another user's (empty) global config: the object is in no
    cache gitml knows of, and there is no remote: blocked, naming the path."""
    add_data(lay, "extra.csv", "a,b\n1,2\n")
    other = {**lay.env, "XDG_CONFIG_HOME": str(lay.ex.root.parent / "nobody")}
    blocked = lay.ex.git("commit", "-qm", "extra data", check=False, env=other)
    assert blocked.returncode == 1
    assert "data/extra.csv" in blocked.stderr


def test_doctor_names_the_global_config(lay: Layout) -> None:
    doctor = lay.gitml("doctor")
    out = doctor.stdout + doctor.stderr
    assert f"shared = {lay.ex.remote.resolve()} (reachable) (DVC's global config" in out
    assert f"{lay.cache.resolve()} (DVC's global config {lay.global_config})" in out


def test_home_dot_config_is_the_global_config_without_xdg(lay: Layout) -> None:
    """Without XDG_CONFIG_HOME, DVC's global config is ~/.config/dvc (platformdirs' rule)."""
    home = Path(lay.env["HOME"])
    (home / ".config").mkdir(parents=True)
    shutil.copytree(lay.global_config.parent, home / ".config" / "dvc")
    # its relative paths now resolve from HOME/.config/dvc: point them at this copy's again
    cfg = home / ".config" / "dvc" / "config"
    cfg.write_text(
        cfg.read_text()
        .replace("../../cache", str(lay.cache))
        .replace("../../dvc-remote", str(lay.ex.remote))
    )
    env = {"HOME": str(home), "XDG_CONFIG_HOME": ""}
    assert (
        "shared"
        in run(sys.executable, "-m", "dvc", "remote", "list", cwd=lay.ex.root, env=env).stdout
    )
    add_data(lay, "extra.csv", "x\n")
    commit = lay.ex.git("commit", "-qm", "extra", check=False, env=env)
    assert commit.returncode == 0, commit.stderr


def test_system_config_and_options_split_across_levels(lay: Layout) -> None:
    """A remote's url in DVC's system config (DVC_SYSTEM_CONFIG_DIR), its default set in
    .dvc/config.local: merged option by option, as DVC merges them."""
    system = lay.ex.root.parent / "etc-dvc"
    env = {**lay.env, "DVC_SYSTEM_CONFIG_DIR": str(system)}
    dvc = [sys.executable, "-m", "dvc"]
    run(*dvc, "remote", "add", "--system", "site", "../dvc-remote", cwd=lay.ex.root, env=env)
    run(*dvc, "remote", "modify", "--local", "site", "jobs", "2", cwd=lay.ex.root, env=env)
    run(*dvc, "remote", "default", "--local", "site", cwd=lay.ex.root, env=env)
    assert "site" in run(*dvc, "remote", "default", cwd=lay.ex.root, env=env).stdout
    doctor = lay.ex.gitml("doctor", env=env)
    out = doctor.stdout + doctor.stderr
    assert f"site = {lay.ex.remote.resolve()} (reachable) (DVC's system config" in out
    # the system level's relative url is relative to its own directory
    assert (system / "config").read_text().count("../dvc-remote") == 1


def test_an_unreadable_global_config_is_one_message_naming_it(lay: Layout) -> None:
    lay.global_config.unlink()
    lay.global_config.mkdir()  # a directory where the file should be
    restored = lay.gitml("restore")
    assert restored.returncode == 2
    assert f"DVC's global config {lay.global_config}: cannot be read" in restored.stderr
    assert "Traceback" not in restored.stderr
    lay.global_config.rmdir()
    lay.global_config.write_text("[core\nremote = x\n")
    check = lay.gitml("restore")
    assert check.returncode == 2
    assert f"DVC's global config {lay.global_config}: cannot be parsed" in check.stderr


@pytest.mark.slow
def test_the_whole_flow_with_the_global_cache_and_remote(lay: Layout, tmp_path: Path) -> None:
    """init, repro, commit through the hooks, show, log, diff, report, push, checkout + restore
    from the remote after the cache is emptied, reproduce: all with the global config only."""
    ex = lay.ex
    before = ex.head()
    assert lay.gitml("init").returncode == 0
    ex.set_param("n_estimators: 3", "n_estimators: 5")
    repro = lay.gitml("repro")
    assert repro.returncode == 0, repro.stderr
    assert not (ex.root / ".dvc" / "cache").exists()  # everything went to the global cache
    commit = lay.git("commit", "-qam", "5 trees")
    assert "neither" not in commit.stderr
    after = ex.head()
    model_md5 = yaml.safe_load(ex.show_file(after, "gitml.lock"))["models"]["model/model.pkl"][
        "md5"
    ]
    assert object_in(lay.cache, model_md5).is_file()

    assert lay.gitml("show").returncode == 0
    assert lay.gitml("log").returncode == 0
    diff = lay.gitml("diff", before, after)
    assert diff.returncode == 0 and "n_estimators" in diff.stdout
    assert lay.gitml("report", before, after).returncode == 0

    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", origin, cwd=tmp_path)
    lay.git("remote", "add", "origin", str(origin))
    pushed = lay.git("push", "-q", "origin", "main", check=False)
    assert pushed.returncode == 0, pushed.stderr
    assert object_in(ex.remote, model_md5).is_file()

    reproduced = lay.gitml("reproduce", "HEAD")
    assert reproduced.returncode == 0, reproduced.stdout + reproduced.stderr
    assert "identical" in reproduced.stdout

    shutil.rmtree(lay.cache)
    lay.git("checkout", "-q", before)  # the hook restores from the cache only: nothing there
    restored = lay.gitml("restore")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    old_md5 = yaml.safe_load(ex.show_file(before, "gitml.lock"))["models"]["model/model.pkl"]["md5"]
    assert md5((ex.root / "model" / "model.pkl").read_bytes()) == old_md5
    lay.git("checkout", "-q", "main")
    assert lay.gitml("restore").returncode == 0
    assert md5((ex.root / "model" / "model.pkl").read_bytes()) == model_md5
