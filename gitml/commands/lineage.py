"""`gitml lineage [REV | A..B] [--all] --format openlineage|prov [--out FILE] [--emit URL]`:
a commit's lineage (or a history's, oldest first) as OpenLineage RunEvents or W3C PROV-JSON."""

from __future__ import annotations

import json
from pathlib import Path

from gitml import lineage_export
from gitml import repo as repo_mod
from gitml.errors import BadInput
from gitml.fileio import user_output_file, write_user_output
from gitml.output import say, warn

FORMATS = ("openlineage", "prov")


def lineage(rev: str | None, fmt: str, out: Path | None, emit: str | None, history: bool) -> int:
    if fmt not in FORMATS:
        raise BadInput(f"--format must be `openlineage` or `prov`, not {fmt!r}")
    if emit is not None and fmt != "openlineage":
        raise BadInput("--emit sends OpenLineage events: give it with --format openlineage")
    if out is not None:
        user_output_file(out)  # refused before the work, not after it
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    where = lineage_export.origin(repo.root)
    found = lineage_export.commits(repo.root, rev, history)
    _warn_unrecorded(found)
    if fmt == "prov":
        from gitml import prov_document

        text = prov_document.as_json(prov_document.document(found, where)) + "\n"
    else:
        text = _openlineage(found, where, emit)
    if out is not None:
        say(f"wrote {write_user_output(out, text.encode())}")
    elif emit is None:
        print(text, end="")
    return 0


def _openlineage(
    found: list[lineage_export.CommitLineage], where: lineage_export.Origin, emit: str | None
) -> str:
    from gitml import openlineage_events

    events = [e for lin in found for e in openlineage_events.events(lin, where)]
    if emit is not None:
        shown = openlineage_events.emit(events, emit)
        say(f"sent {len(events)} OpenLineage event(s) to {shown}")
    return json.dumps(openlineage_events.as_json(events), indent=2, sort_keys=True) + "\n"


def _warn_unrecorded(found: list[lineage_export.CommitLineage]) -> None:
    """Commits without gitml.lock export their stages only: said, not hidden."""
    bare = [lin.sha[:12] for lin in found if lin.lock is None]
    if bare:
        shown = ", ".join(bare[:5]) + (f" and {len(bare) - 5} more" if len(bare) > 5 else "")
        warn(
            f"{len(bare)} commit(s) have no gitml.lock ({shown}): their stages are exported "
            "without validation, profile or environment"
        )
    if not found:
        warn("no commit in that range: nothing to export")
    elif not any(lin.project.stages for lin in found):
        warn("no DVC stage in the commit(s) exported (dvc.lock records none): nothing to export")
