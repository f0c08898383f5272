"""gitml/dvcconfig.py: DVC's four config levels merged as DVC merges them, in process, with the
global and system directories pointed at temporary ones through DVC's own variables."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gitml import dvcconfig
from gitml.errors import BadInput

linux_rules = pytest.mark.skipif(
    sys.platform in ("darwin", "win32"), reason="the XDG rules are those of Linux and other Unixes"
)


@pytest.fixture
def levels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A repository with `.dvc/`, and each level's config file path (none written yet)."""
    home = tmp_path / "home"
    system = tmp_path / "system"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("DVC_GLOBAL_CONFIG_DIR", raising=False)
    monkeypatch.setenv("DVC_SYSTEM_CONFIG_DIR", str(system))
    root = tmp_path / "repo"
    (root / ".dvc").mkdir(parents=True)
    return {
        "root": root,
        "system": system / "config",
        "global": home / ".config" / "dvc" / "config",
        "repo": root / ".dvc" / "config",
        "local": root / ".dvc" / "config.local",
    }


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_four_levels_shadow_each_other_option_by_option(
    levels: dict[str, Path], tmp_path: Path
) -> None:
    write(levels["system"], "[core]\nremote = sys\n[cache]\ntype = hardlink\n")
    write(levels["global"], "['remote \"store\"']\nurl = ../../../store\nkeyfile = ~/k\n")
    write(
        levels["repo"],
        '[core]\nremote = store\n[cache]\ndir = ../cache\n[remote "sys"]\nurl = s3://b/p\n',
    )
    write(levels["local"], '[Remote "store"]\npassword = "se cret"\n[cache]\nshared = group\n')
    cfg = dvcconfig.read_config(levels["root"])
    assert [f.level for f in cfg.files] == ["system", "global", "repo", "local"]
    assert cfg.default_remote == "store"  # the repo level shadows the system one
    store = str((tmp_path / "store").resolve())  # relative to the global config's directory
    assert cfg.remotes == {"store": store, "sys": "s3://b/p"}
    assert cfg.remote_options["store"] == {
        "url": store,
        "keyfile": str(tmp_path / "home" / "k"),
        "password": "se cret",  # quotes off, as configobj reads it
    }
    assert cfg.cache_dir == (levels["root"] / "cache").resolve()
    assert (cfg.cache_types, cfg.cache_shared) == (["hardlink"], True)
    assert cfg.origin("core", "remote").level == "repo"
    assert cfg.origin('remote "store"', "password").level == "local"
    assert cfg.value("core", "autostage") is None and cfg.origin("core", "x") is None


def test_without_config_files_dvcs_defaults(levels: dict[str, Path]) -> None:
    cfg = dvcconfig.read_config(levels["root"])
    assert cfg.files == () and cfg.remotes == {} and cfg.default_remote is None
    assert cfg.cache_dir == (levels["root"] / ".dvc" / "cache").absolute()
    assert (cfg.cache_types, cfg.cache_shared) == (["reflink", "copy"], False)


@linux_rules
def test_where_the_global_and_system_configs_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "DVC_GLOBAL_CONFIG_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("DVC_SYSTEM_CONFIG_DIR")
    assert dvcconfig.config_dir("global") == tmp_path / ".config" / "dvc"
    assert dvcconfig.config_dir("system") == Path("/etc/xdg/dvc")
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative")  # not absolute: ignored, as XDG says
    assert dvcconfig.config_dir("global") == tmp_path / ".config" / "dvc"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert dvcconfig.config_dir("global") == tmp_path / "xdg" / "dvc"
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"rel:{tmp_path / 'a'}:{tmp_path / 'b'}")
    assert dvcconfig.config_dir("system") == tmp_path / "a" / "dvc"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DVC_GLOBAL_CONFIG_DIR", "mine")  # DVC's override, from the cwd
    assert dvcconfig.config_dir("global") == tmp_path / "mine"


@pytest.mark.parametrize(
    ("level", "text", "message"),
    [
        ("repo", "[core\nremote = x\n", "DVC's repo config {path}: cannot be parsed"),
        ("local", "remote = x\n", "DVC's local config {path}: cannot be parsed"),
        ("global", b"\xff\xfe", "DVC's global config {path}: cannot be read (UnicodeDecodeError"),
    ],
)
def test_a_broken_level_is_named(
    levels: dict[str, Path], level: str, text: str | bytes, message: str
) -> None:
    levels[level].parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        levels[level].write_bytes(text)
    else:
        levels[level].write_text(text)
    with pytest.raises(BadInput) as exc:
        dvcconfig.read_config(levels["root"])
    assert message.format(path=levels[level]) in str(exc.value)


def test_a_local_remote_inside_the_work_tree_is_refused(levels: dict[str, Path]) -> None:
    write(levels["repo"], "['remote \"here\"']\nurl = ../vendor/remote\n")
    with pytest.raises(BadInput) as exc:
        dvcconfig.read_config(levels["root"])
    assert f"DVC remote 'here' (repo config {levels['repo']}) is inside the work tree" in str(
        exc.value
    )


def test_a_repository_without_dvc_is_told_to_init(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="DVC is not initialised in this repository"):
        dvcconfig.read_config(tmp_path)
