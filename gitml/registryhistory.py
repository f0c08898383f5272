"""A model's registry events, as `gto history` lists them: each registration, deregistration,
assignment, unassignment and deprecation tag, with GTO's fields and in GTO's order.

GTO orders events by tagger date, then by its priority of each kind (deprecation 2,
registration 3, deregistration 4, assignment 5, unassignment 6), newest first; within one
second and one kind (which GTO leaves to chance) by counter. A stage event's version is the
version its commit is registered as (else the commit itself, as GTO names an unregistered one).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml import git, gtotags, registry
from gitml.gtotags import Tag

PRIORITY = {
    "deprecation": 2,
    "registration": 3,
    "deregistration": 4,
    "assignment": 5,
    "unassignment": 6,
}


@dataclass(frozen=True)
class Tagger:
    """Who made a tag and when, as GTO reports it."""

    name: str
    email: str
    offset: int  # the tagger date's time zone, seconds east of UTC
    message: str  # the whole message, its signature left out, stripped (GTO's)


@dataclass(frozen=True)
class Event:
    tag: Tag
    kind: str  # a key of PRIORITY
    version: str | None
    tagger: Tagger

    @property
    def order(self) -> tuple[int, int, int, str]:
        return (self.tag.time, PRIORITY[self.kind], self.tag.counter, self.tag.tag)

    def as_json(self) -> dict[str, Any]:
        """The keys and values of one event of `gto history --json`."""
        zone = datetime.timezone(datetime.timedelta(seconds=self.tagger.offset))
        when = datetime.datetime.fromtimestamp(self.tag.time, tz=zone)
        return {
            "timestamp": when.isoformat(),
            "artifact": self.tag.model,
            "event": self.kind,
            "priority": PRIORITY[self.kind],
            "version": self.version,
            "stage": self.tag.stage,
            "commit": self.tag.commit,
            "author": self.tagger.name,
            "author_email": self.tagger.email,
            "message": self.tagger.message,
            "ref": self.tag.tag,
        }


_FIELDS = (
    "%(refname:strip=2)",
    "%(*objectname)",
    "%(taggerdate:raw)",
    "%(*committerdate:unix)",
    "%(taggername)",
    "%(taggeremail:trim)",
    "%(contents:subject)",
    "%(contents:signature)",
    "%(contents)",
)


def _offset(raw_zone: str) -> int:
    """`+0130` as seconds east of UTC (0 when it is not a zone)."""
    if len(raw_zone) != 5 or raw_zone[0] not in "+-" or not raw_zone[1:].isdigit():
        return 0
    seconds = int(raw_zone[1:3]) * 3600 + int(raw_zone[3:]) * 60
    return -seconds if raw_zone[0] == "-" else seconds


def _parse(record: str) -> tuple[Tag, Tagger] | None:
    parts = record.lstrip("\n").split("\0")
    if len(parts) != len(_FIELDS):
        return None
    name, peeled, raw_date, committed, who, email, subject, signature, contents = parts
    when, _, zone = raw_date.partition(" ")
    if not peeled:  # lightweight: GTO ignores it
        return None
    tag = gtotags.parse_tag(
        name,
        peeled,
        subject,
        int(when) if when.isdigit() else 0,
        int(committed) if committed.isdigit() else 0,
    )
    if tag is None:
        return None
    message = contents[: len(contents) - len(signature)] if signature else contents
    return tag, Tagger(who, email, _offset(zone), message.strip())


def _patterns(model: str | None) -> list[str]:
    if model is None:
        return ["refs/tags/"]
    name = model.replace(gtotags.SEPARATOR_IN_NAME, gtotags.SEPARATOR_IN_TAG)
    return [f"refs/tags/{name}@*", f"refs/tags/{name}#*"]


def read(root: Path, model: str | None = None) -> tuple[list[Tag], dict[str, Tagger]]:
    """The registry tags of `model` (None: of every model) with their taggers, in one git call."""
    fmt = "%00".join(_FIELDS) + "%01"
    out = git.run(["for-each-ref", f"--format={fmt}", *_patterns(model)], root)
    tags, taggers = [], {}
    for record in out.stdout.decode(errors="replace").split("\x01"):
        parsed = _parse(record)
        if parsed is not None and (model is None or parsed[0].model == model):
            tags.append(parsed[0])
            taggers[parsed[0].tag] = parsed[1]
    return tags, taggers


def _model_events(state: registry.ModelState, taggers: dict[str, Tagger]) -> list[Event]:
    found = [Event(t, "deprecation", None, taggers[t.tag]) for t in state.deprecations]
    for v in state.versions:
        for t in v.direct:
            kind = "deregistration" if t.cancel else "registration"
            found.append(Event(t, kind, t.version, taggers[t.tag]))
        for t in v.stage_events:
            kind = "unassignment" if t.cancel else "assignment"
            found.append(Event(t, kind, v.version, taggers[t.tag]))
    return found


def events(tags: list[Tag], taggers: dict[str, Tagger], model: str | None = None) -> list[Event]:
    """The registry events of `model` (None: of every model), newest first, as GTO lists them,
    from what `read` read."""
    names = [model] if model is not None else registry.models(tags)
    found = [e for name in names for e in _model_events(registry.model_state(tags, name), taggers)]
    return sorted(found, key=lambda e: e.order, reverse=True)
