"""Commits' lineage as a W3C PROV document (PROV-JSON), built and serialised with `prov`.

Entities: what the DVC stages read and wrote, each by path and md5 (`gitml:kind` dataset,
model or code, as gitml/lineage_export.py tells them) and each param by its value.
Activities: the stage runs, by the same run id as the OpenLineage events, timed at the commit.
Agents: the commit's author and committer. Relations: `used` (a run read an entity),
`wasGeneratedBy` (a run wrote it), `wasAssociatedWith` (the author and committer of a run's
commit, with their roles) and `wasDerivedFrom` (each output from each input of its run).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import quote

from prov.model import ProvDocument

from gitml.lineage_export import CommitLineage, Origin, Person, kind_of, run_id
from gitml.modelhistory import cmd_text

GITML_NS = "https://gitml.dev/ns/prov#"
_SCP = re.compile(r"^(?P<user>[\w.-]+)@(?P<host>[\w.-]+):(?P<path>.*)$")


def repository_uri(where: Origin) -> str:
    """The namespace of the repository's identifiers: its URL, as a URI (scp-like
    `git@host:path` as ssh://, a local path as file://)."""
    ns = where.namespace
    if "://" in ns:
        return ns.rstrip("/") + "/"
    scp = _SCP.match(ns)
    if scp:
        return f"ssh://{scp['user']}@{scp['host']}/{scp['path'].lstrip('/')}/"
    return "file://" + quote(ns.rstrip("/")) + "/"


def document(found: list[CommitLineage], where: Origin) -> ProvDocument:
    """One PROV document for the commits, records of the same entity or agent merged."""
    doc = ProvDocument()
    doc.add_namespace("gitml", GITML_NS)
    doc.add_namespace("repo", repository_uri(where))
    for lin in found:
        _commit(doc, lin)
    return doc.unified()


def _id(*parts: str) -> str:
    return "repo:" + "/".join(quote(p, safe="") for p in parts)


def _agent(doc: ProvDocument, person: Person) -> Any:
    return doc.agent(
        _id("person", person.email or person.name),
        {"prov:type": "prov:Person", "prov:label": person.name, "gitml:email": person.email},
    )


def _commit(doc: ProvDocument, lin: CommitLineage) -> None:
    author, committer = _agent(doc, lin.author), _agent(doc, lin.committer)
    for name, stage in sorted(lin.project.stages.items()):
        run = doc.activity(
            _id("run", run_id(lin.sha, name)),
            lin.committer.date,
            lin.committer.date,
            {
                "prov:type": "gitml:StageRun",
                "prov:label": f"{name} @ {lin.sha[:12]}",
                "gitml:stage": name,
                "gitml:commit": lin.sha,
                "gitml:cmd": cmd_text(stage.cmd) if stage.cmd else "",
            },
        )
        doc.wasAssociatedWith(run, author, other_attributes={"prov:role": "gitml:author"})
        doc.wasAssociatedWith(run, committer, other_attributes={"prov:role": "gitml:committer"})
        inputs = [_file(doc, lin, d.path, d.md5) for d in stage.deps]
        inputs += [
            _param(doc, f"{pfile}:{key}", value)
            for pfile, values in sorted(stage.params.items())
            for key, value in sorted(values.items())
        ]
        for entity in inputs:
            doc.used(run, entity)
        for out in stage.outs:
            made = _file(doc, lin, out.path, out.md5)
            doc.wasGeneratedBy(made, run)
            for entity in inputs:
                doc.wasDerivedFrom(made, entity, run)


def _file(doc: ProvDocument, lin: CommitLineage, path: str, md5: str | None) -> Any:
    kind = kind_of(lin, path)
    attributes = {
        "prov:type": f"gitml:{kind.capitalize()}",
        "prov:label": path,
        "gitml:path": path,
        "gitml:md5": md5 or "",
    }
    return doc.entity(_id(kind, path, md5 or "unknown"), attributes)


def _param(doc: ProvDocument, name: str, value: Any) -> Any:
    text = json.dumps(value, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return doc.entity(
        _id("param", name, digest),
        {"prov:type": "gitml:Param", "prov:label": name, "gitml:value": text},
    )


def as_json(doc: ProvDocument) -> str:
    return str(doc.serialize(indent=2, format="json"))
