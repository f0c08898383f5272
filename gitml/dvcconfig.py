"""DVC's config, read directly as DVC merges it: the system, global, repo (`.dvc/config`) and
local (`.dvc/config.local`) levels, each option of a later level shadowing the earlier one's;
the cache directory, the remotes and their options, and which file set what.

No `import dvc` (the commit hook reads the config): INI parsed by configparser as DVC's
configobj reads it, path options resolved as DVC resolves them, and the global and system
directories found by DVC's (platformdirs') rules written out for Linux and the other Unixes.
"""

from __future__ import annotations

import configparser
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gitml.errors import BadInput

# DVC's config levels, in the order they shadow each other (dvc/config.py `Config.LEVELS`).
CONFIG_LEVELS = ("system", "global", "repo", "local")
# Options DVC reads as paths, relative to the directory of the file that sets them
# (dvc/config.py `Config._map_dirs`): cache.dir, and these of a remote besides its url.
_REMOTE_PATH_OPTIONS = frozenset(
    {
        "url",
        "gdrive_user_credentials_file",
        "gdrive_service_account_json_file_path",
        "credentialpath",
        "configpath",
        "keyfile",
        "cert_path",
        "key_path",
    }
)
Sections = dict[str, dict[str, str]]  # "core", "cache", `remote "name"` -> {option: value}


@dataclass(frozen=True)
class ConfigFile:
    """One level's config file that exists, its path options made absolute."""

    level: str  # one of CONFIG_LEVELS
    path: Path
    sections: Sections


@dataclass(frozen=True)
class DvcConfig:
    cache_dir: Path
    remotes: dict[str, str]  # name -> url (a local path made absolute)
    default_remote: str | None
    # name -> every option of the remote, merged across levels option by option, as DVC does
    # (the url in the global config, credentials in .dvc/config.local)
    remote_options: dict[str, dict[str, str]] = field(default_factory=dict)
    files: tuple[ConfigFile, ...] = ()  # the levels' files that exist, system first

    def value(self, section: str, option: str) -> str | None:
        """`section.option` as the level that sets it last says (None: no level sets it)."""
        cfg_file = self.origin(section, option)
        return cfg_file.sections[section][option] if cfg_file else None

    @property
    def cache_types(self) -> list[str]:
        """`cache.type`, in the order DVC tries them (its default: reflink, then copy)."""
        raw = self.value("cache", "type") or "reflink,copy"
        types = [t.strip().lower() for t in raw.strip("[]").split(",") if t.strip()]
        return [t for t in types if t in ("reflink", "hardlink", "symlink", "copy")] or ["copy"]

    @property
    def cache_shared(self) -> bool:
        """`cache.shared: group`: cache directories group-writable (DVC: 0o2775)."""
        return (self.value("cache", "shared") or "").strip().lower() == "group"

    def origin(self, section: str, option: str) -> ConfigFile | None:
        """The file whose value of `section.option` wins (None: no level sets it)."""
        for cfg_file in reversed(self.files):
            if option in cfg_file.sections.get(section, {}):
                return cfg_file
        return None


def _home() -> str:
    """`~` as platformdirs expands it: $HOME when absolute, else the user's entry."""
    home = os.environ.get("HOME", "")
    if os.path.isabs(home):
        return home
    import pwd

    return pwd.getpwuid(os.getuid()).pw_dir


def config_dir(level: str) -> Path:
    """Where DVC keeps its `global` or `system` config (dvc/dirs.py): the directory
    $DVC_GLOBAL_CONFIG_DIR / $DVC_SYSTEM_CONFIG_DIR names, else platformdirs' user / site config
    dir of app "dvc" (author "iterative"). Its XDG rules are written out here for Linux and the
    other Unixes (platformdirs costs ~40 ms to import, which a commit should not pay): user:
    $XDG_CONFIG_HOME/dvc when that is absolute, else ~/.config/dvc; site: the first absolute entry
    of $XDG_CONFIG_DIRS, plus /dvc, else /etc/xdg/dvc."""
    override = os.environ.get(f"DVC_{level.upper()}_CONFIG_DIR")
    if override:  # DVC takes it as given: relative to the working directory
        return Path(os.path.abspath(override))
    if sys.platform in ("darwin", "win32") or hasattr(sys, "getandroidapilevel"):
        import platformdirs

        if level == "global":
            return Path(platformdirs.user_config_dir("dvc", "iterative"))
        return Path(platformdirs.site_config_dir("dvc", "iterative"))
    if level == "global":
        xdg = os.environ.get("XDG_CONFIG_HOME", "")
        return Path(xdg if os.path.isabs(xdg) else os.path.join(_home(), ".config"), "dvc")
    dirs = [d for d in os.environ.get("XDG_CONFIG_DIRS", "").split(os.pathsep) if os.path.isabs(d)]
    return Path(dirs[0] if dirs else "/etc/xdg", "dvc")


def config_paths(root: Path) -> list[tuple[str, Path]]:
    """Each level's config file, whether it exists or not, system first."""
    dvc_dir = root / ".dvc"
    return [
        ("system", config_dir("system") / "config"),
        ("global", config_dir("global") / "config"),
        ("repo", dvc_dir / "config"),
        ("local", dvc_dir / "config.local"),
    ]


def _resolved(conf_dir: Path, value: str) -> str:
    """A path option as DVC resolves it (dvc/config.py `Config._resolve`): a URL or an absolute
    path as it is, `~` expanded, else relative to the directory of the file that sets it."""
    if re.match(r"\w+://", value) or os.path.isabs(value):
        return value
    expanded = os.path.expanduser(value)
    if os.path.isabs(expanded):
        return expanded
    return str((conf_dir / value).resolve())


def _unquoted(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]  # configobj (DVC's reader) takes quotes off a value
    return value


def _section_key(section: str) -> str:
    """`'remote "x"'` (how DVC writes a section) -> `remote "x"`; lowercased, as DVC reads
    every key."""
    sec = section.strip().lower()
    if len(sec) >= 2 and sec[0] == sec[-1] == "'":
        sec = sec[1:-1].strip()
    match = re.fullmatch(r'(remote|machine|db)\s*"(.*)"', sec)
    return f'{match[1]} "{match[2]}"' if match else sec


def remote_name(section: str) -> str | None:
    """The remote a section key (`remote "x"`) defines, or None."""
    match = re.fullmatch(r'remote "(.*)"', section)
    return match[1] if match else None


def read_config_file(level: str, path: Path) -> ConfigFile | None:
    """One level's file (None when it does not exist); one message naming it when it cannot be
    read or parsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(
            f"DVC's {level} config {path}: cannot be read ({exc.__class__.__name__}: "
            f"{getattr(exc, 'strerror', None) or exc}); fix or remove it"
        ) from None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise BadInput(
            f"DVC's {level} config {path}: cannot be parsed ({str(exc).splitlines()[0]})"
        ) from None
    return ConfigFile(level, path, _sections(parser, path.parent.absolute()))


def _sections(parser: configparser.ConfigParser, conf_dir: Path) -> Sections:
    """The parsed file's sections as DVC reads them: keys lowercased, quotes off, path options
    resolved against the file's directory."""
    sections: Sections = {}
    for section in parser.sections():
        key = _section_key(section)
        options = sections.setdefault(key, {})
        for option, raw in parser.items(section):
            value = _unquoted(raw)
            options[option] = _resolved(conf_dir, value) if _is_path(key, option) else value
    return sections


def _is_path(section: str, option: str) -> bool:
    """Whether DVC reads `section.option` as a path (cache.dir, a remote's path options)."""
    if section == "cache":
        return option == "dir"
    return remote_name(section) is not None and option in _REMOTE_PATH_OPTIONS


def read_config(root: Path) -> DvcConfig:
    """DVC's config as DVC merges it: the system, global, repo (`.dvc/config`) and local
    (`.dvc/config.local`) levels, each option of a later level shadowing the earlier one's.
    The one reader of DVC's config in gitml: no `import dvc` (the commit hook reads it)."""
    if not (root / ".dvc").is_dir():
        raise BadInput(
            "DVC is not initialised in this repository: run `gitml init` (it runs `dvc init`)"
        )
    files = tuple(
        f for level, path in config_paths(root) if (f := read_config_file(level, path)) is not None
    )
    merged = _merged(files)
    remote_options = _remotes(merged)
    _refuse_remotes_in_work_tree(root, remote_options, files)
    cache_dir = merged.get("cache", {}).get("dir")
    return DvcConfig(
        cache_dir=Path(cache_dir) if cache_dir else (root / ".dvc" / "cache").absolute(),
        remotes={n: o["url"] for n, o in remote_options.items() if o.get("url")},
        default_remote=merged.get("core", {}).get("remote") or None,
        remote_options=remote_options,
        files=files,
    )


def _merged(files: tuple[ConfigFile, ...]) -> Sections:
    """The levels' sections merged option by option, a later level winning."""
    merged: Sections = {}
    for cfg_file in files:
        for section, options in cfg_file.sections.items():
            merged.setdefault(section, {}).update(options)
    return merged


def _remotes(merged: Sections) -> dict[str, dict[str, str]]:
    """{remote name: its options}."""
    found = {}
    for section, options in merged.items():
        name = remote_name(section)
        if name is not None:
            found[name] = options
    return found


def _refuse_remotes_in_work_tree(
    root: Path, remote_options: dict[str, dict[str, str]], files: tuple[ConfigFile, ...]
) -> None:
    """A local remote inside the work tree is refused: a cloned repository could commit one
    (`.dvc/config` naming `../vendor/remote`) with objects of its choosing in it, and its files
    are the repository's, not a store the user set up."""
    top = root.resolve()
    for name, options in remote_options.items():
        url = options.get("url", "")
        if not url or "://" in url:
            continue
        where = Path(url).resolve()
        if where == top or top in where.parents:
            level = next(
                (f"{f.level} config {f.path}" for f in reversed(files)
                 if f.sections.get(f'remote "{name}"', {}).get("url")),
                "DVC config",
            )  # fmt: skip
            raise BadInput(
                f"DVC remote {name!r} ({level}) is inside the work tree ({url}): refused, since "
                "a repository's own files are not a store of DVC objects. Put the remote "
                "outside the repository (`dvc remote modify`), or remove it"
            )
