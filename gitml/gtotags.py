"""GTO's tag grammar: the registry's tag names, parsed and written, and GTO's name patterns.

A model's name is GTO's (and DVC's): `name` for an artifact of the top dvc.yaml, `dir:name` for
one declared in `dir/dvc.yaml`; in a tag the `:` is written `=` (`pipelines/nlp=nb@v0.0.1`).
`NAME@vX.Y.Z` registers a version of a commit (`NAME@vX.Y.Z!#N` deregisters it); `NAME#STAGE#N`
assigns a stage to the commit it points to and `NAME#STAGE!#N` unassigns it, N counting up over
every tag of NAME; `NAME@deprecated` deprecates the whole artifact. Without `#N`, GTO's simple
notation. What a command line asks for (`NAME#STAGE`, `NAME@vX.Y.Z`, `NAME@latest`) too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitml.errors import BadInput

# GTO's own patterns (gto/constants.py): what it accepts as an artifact or stage name.
_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9\-/_]*[a-zA-Z0-9])?"
NAME_RE = re.compile(rf"^{_NAME}$")
SEPARATOR_IN_NAME = ":"  # `dir:name`, the artifact `name` of `dir/dvc.yaml`
SEPARATOR_IN_TAG = "="  # what `:` becomes in a tag (git refuses `:` in a ref)
_DIRNAME = r"[a-zA-Z0-9\-_./]+"
FULLNAME_RE = re.compile(rf"^(?:{_DIRNAME}{SEPARATOR_IN_NAME})?{_NAME}$")
_SEMVER = (
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
VERSION_RE = re.compile(rf"^v{_SEMVER}$")
# gto/constants.py tag_re: `@created` parses too, but GTO 1.10 crashes on it; it is left out.
_TAG = re.compile(
    rf"^(?P<name>(?:{_DIRNAME}{SEPARATOR_IN_TAG})?{_NAME})"
    rf"(?:(?:@(?P<version>v{_SEMVER})|#(?P<stage>{_NAME}))(?P<cancel>!?)|@(?P<deprecated>deprecated))"
    r"(?:#(?P<counter>\d+))?$"
)


@dataclass(frozen=True)
class Tag:
    """One registry tag of a model."""

    tag: str
    model: str
    commit: str  # the commit it points to (annotated tags peeled)
    version: str | None = None  # "v1.2.3" for a registration
    stage: str | None = None  # for an assignment
    cancel: bool = False  # a deregistration / unassignment
    counter: int = 0  # 0: GTO's simple notation (`NAME#STAGE`, `NAME@deprecated`)
    message: str = ""  # the annotation's subject
    time: int = 0  # the tagger date (unix seconds): GTO orders events by it
    commit_time: int = 0  # the committer date of `commit`: an event to GTO too
    deprecated: bool = False  # `NAME@deprecated`: the whole artifact

    @property
    def rollback(self) -> bool:
        return self.stage is not None and not self.cancel and ROLLBACK_MARK in self.message

    @property
    def order(self) -> tuple[int, int, bool]:
        """When it happened, as GTO orders events: by tagger date; within one second by counter
        (GTO leaves ties to chance), and a cancellation after what it cancels."""
        return (self.time, self.counter, self.cancel)

    @property
    def semver(self) -> tuple[int, int, int, int, str] | None:
        return semver_key(self.version or "")


def semver_key(version: str) -> tuple[int, int, int, int, str] | None:
    """A sort key in SemVer precedence (a pre-release sorts before its release); None for
    what is not `vX.Y.Z`."""
    m = VERSION_RE.match(version)
    if not m:
        return None
    pre = m["pre"] or ""
    return (int(m["major"]), int(m["minor"]), int(m["patch"]), 0 if pre else 1, pre)


ROLLBACK_MARK = "(rollback"  # in the message of an assignment `gitml rollback` made


def parse_tag(
    tag: str, commit: str, message: str = "", time: int = 0, commit_time: int = 0
) -> Tag | None:
    m = _TAG.match(tag)
    if not m:
        return None
    return Tag(
        tag,
        m["name"].replace(SEPARATOR_IN_TAG, SEPARATOR_IN_NAME),
        commit,
        m["version"],
        m["stage"],
        m["cancel"] == "!",
        int(m["counter"] or 0),
        message,
        time,
        commit_time,
        m["deprecated"] is not None,
    )


def full_name(dvcyaml: str, name: str) -> str:
    """The name DVC and GTO give the artifact `name` declared in the dvc.yaml `dvcyaml`."""
    directory = dvcyaml.rpartition("/")[0]
    return f"{directory}{SEPARATOR_IN_NAME}{name}" if directory else name


def version_tag(model: str, version: str, counter: int = 0) -> str:
    tag = f"{model.replace(SEPARATOR_IN_NAME, SEPARATOR_IN_TAG)}@{version}"
    return f"{tag}#{counter}" if counter else tag


def stage_tag(model: str, stage: str, counter: int) -> str:
    """`NAME#STAGE#N`, or with counter 0 GTO's simple notation `NAME#STAGE`."""
    tag = f"{model.replace(SEPARATOR_IN_NAME, SEPARATOR_IN_TAG)}#{stage}"
    return f"{tag}#{counter}" if counter else tag


def check_name(name: str, what: str) -> None:
    """A model name must be GTO's `name` or `dir:name`; a stage name, a plain `name`."""
    if not (FULLNAME_RE if what == "model name" else NAME_RE).match(name):
        raise BadInput(
            f"{what} {name!r} is not a name GTO accepts in a tag (letters, digits, '-', '_', '/', "
            "starting and ending with a letter or digit"
            + (
                ", after an optional `dir:` of letters, digits, '-', '_', '.', '/'); set `name:` "
                "for it in gitml.yaml"
                if what == "model name"
                else ")"
            )
        )


_SHORTCUT = re.compile(
    rf"^(?P<name>(?:{_DIRNAME}{SEPARATOR_IN_NAME})?{_NAME})"
    rf"(?:#(?P<stage>{_NAME})|@(?P<version>latest|greatest|v{_SEMVER}))$"
)


@dataclass(frozen=True)
class Lookup:
    """What `NAME`, `NAME#STAGE`, `NAME@vX.Y.Z` or `NAME@latest` asks for (GTO's shortcuts)."""

    name: str
    stage: str | None = None
    version: str | None = None
    latest: bool = False

    @property
    def one(self) -> bool:
        """It names one version (not every version of the model)."""
        return bool(self.stage or self.version or self.latest)


def parse_lookup(text: str) -> Lookup:
    m = _SHORTCUT.match(text)
    if m is None:
        check_name(text, "model name")
        return Lookup(text)
    latest = m["version"] in ("latest", "greatest")
    return Lookup(m["name"], m["stage"], None if latest else m["version"], latest)
