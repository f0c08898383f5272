"""The CI files `gitml init --ci` writes: templates/ci filled in for the repository.

Two things differ per repository and are filled in at init time: gitml's version (pinned, so a
CI run checks with the gitml that wrote the lock) and the DVC plugin the remotes need (`pip
install gitml` brings DVC without its s3/gs/azure/ssh plugins, and `dvc pull` then fails).
"""

from __future__ import annotations

import re
from pathlib import Path

from gitml import __version__, dvcconfig
from gitml.fileio import atomic_write
from gitml.notes import EDGE, Teller
from gitml.resources import resource

CI_FILES = {"github": ".github/workflows/gitml.yml", "gitlab": ".gitlab-ci.yml"}
CI_TEMPLATES = {"github": "templates/ci/github.yml", "gitlab": "templates/ci/gitlab-ci.yml"}
VERSION_SLOT = "@GITML_VERSION@"
PLUGIN_SLOT = "@DVC_PLUGIN@"

# URL scheme -> the `dvc[extra]` that brings its plugin (dvc's own extras); http(s) and local
# paths need none (dvc-http comes with dvc)
DVC_EXTRAS = {
    "s3": "s3",
    "gs": "gs",
    "gcs": "gs",
    "azure": "azure",
    "ssh": "ssh",
    "gdrive": "gdrive",
    "hdfs": "hdfs",
    "webhdfs": "webhdfs",
    "oss": "oss",
    "webdav": "webdav",
    "webdavs": "webdav",
}
NO_PLUGIN = {"http", "https", "file", "remote"}  # remote://other: another remote's scheme


def dvc_extras(remotes: dict[str, str], tell: Teller = EDGE) -> list[str]:
    """The `dvc[...]` extras the remotes' URLs need (name -> url), sorted; a scheme gitml does
    not know is warned about, naming the remote."""
    extras = set()
    for name, url in sorted(remotes.items()):
        match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url)
        scheme = match.group(1).lower() if match else "file"
        if scheme in DVC_EXTRAS:
            extras.add(DVC_EXTRAS[scheme])
        elif scheme not in NO_PLUGIN:
            tell.warn(
                f"DVC remote {name!r} ({scheme}://): gitml does not know its DVC plugin; add it "
                "to the CI file's `pip install` line"
            )
    return sorted(extras)


def render(root: Path, ci: str) -> bytes:
    """The CI file for `ci` (a key of CI_FILES), filled in for the repository at `root`."""
    extras = dvc_extras(dvcconfig.read_config(root).remotes)
    plugin = f' "dvc[{",".join(extras)}]"' if extras else ""
    text = resource(CI_TEMPLATES[ci]).read_text(encoding="utf-8")
    return text.replace(VERSION_SLOT, __version__).replace(PLUGIN_SLOT, plugin).encode()


def write(root: Path, ci: str, tell: Teller = EDGE) -> str:
    """Write the CI file for `ci`; an identical one is left as it is, a different one never
    replaced (told). Its path, relative to `root`."""
    rel = CI_FILES[ci]
    target = root / rel
    text = render(root, ci)
    if target.exists():
        if target.read_bytes() == text:
            tell.say(f"{rel} is already gitml's CI file")
        else:
            tell.say(
                f"kept your {rel} (it differs from gitml's): compare with `gitml init --ci {ci}` "
                f"in an empty repository, or merge {CI_TEMPLATES[ci]} from gitml by hand"
            )
        return rel
    atomic_write(target, text)
    tell.say(f"wrote {rel}")
    return rel
