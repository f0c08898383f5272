"""Finding the repository gitml works on, and reading its gitml.yaml at a given state."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitml import artifacts, git, paths
from gitml import config as config_mod
from gitml.config import CONFIG_FILE, Config
from gitml.errors import BadInput
from gitml.snapshot import Snapshot


@dataclass(frozen=True)
class Repo:
    root: Path
    common_dir: Path

    @property
    def has_dvc(self) -> bool:
        return (self.root / ".dvc").is_dir()


def find(cwd: Path | None = None) -> Repo:
    root, common = git.toplevel_and_common_dir(cwd)
    return Repo(root=root, common_dir=common)


def require_setup(repo: Repo) -> None:
    """Every command but `init` needs DVC and a gitml.yaml."""
    if not repo.has_dvc:
        raise BadInput(f"{repo.root} has no DVC set-up (.dvc/): run `gitml init`")
    if not (repo.root / CONFIG_FILE).exists() and not git.index_entries(repo.root, [CONFIG_FILE]):
        raise BadInput(f"{repo.root} has no {CONFIG_FILE}: run `gitml init`")


def config_at(snap: Snapshot) -> Config | None:
    data = snap.read(CONFIG_FILE)
    if data is None:
        return None
    where = f"{CONFIG_FILE} (at {snap.rev[:12]})" if snap.rev else CONFIG_FILE
    return config_mod.parse(data, where, lambda: artifacts.names_in_snapshot(snap))


def workspace_config(repo: Repo) -> Config:
    path = repo.root / CONFIG_FILE
    if not path.exists():
        raise BadInput(f"{repo.root} has no {CONFIG_FILE}: run `gitml init`")
    paths.inside(repo.root, CONFIG_FILE)  # a symlink out of the repository is not its config
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{CONFIG_FILE}: cannot be read ({exc.strerror or exc})") from None
    return config_mod.parse(data, dvc_names=lambda: workspace_artifact_names(repo.root))


def workspace_artifact_names(root: Path) -> dict[str, str]:
    """DVC's model names from the workspace's dvc.yaml files (those git knows or would add)."""
    return artifacts.names_in_workspace(root, workspace_dvcyamls(root))


def workspace_dvcyamls(root: Path) -> list[str]:
    """The workspace's dvc.yaml files, tracked or not, leaving out what .gitignore ignores."""
    listed = ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    out = git.run([*listed, "--", ":(glob)**/dvc.yaml"], root).stdout
    return sorted({p for p in git.split_z(out) if (root / p).is_file()})
