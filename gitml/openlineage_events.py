"""A commit's lineage as OpenLineage RunEvents (`COMPLETE`), one per DVC stage of its dvc.lock,
built with the openlineage-python client's classes (valid by construction) and sent with its
HTTP transport.

Job: namespace the repository's remote URL (gitml://NAME without one), name the stage; its
facets: where the stage is defined (sourceCodeLocation: git URL, commit, dvc.yaml path), its
command (sourceCode) and jobType. Run: id `lineage_export.run_id(commit, stage)`; facets: the
stage's params (executionParameters) and the environment gitml.lock records for the models the
stage produced (`gitml_environment`, a custom facet whose schema gitml ships:
gitml/schemas/GitmlEnvironmentRunFacet.json). Inputs and outputs: the stage's deps and outs by
path, their md5 as the dataset version; an input gitml validated carries its suite's result
(dataQualityAssertions) and its recorded profile (dataQualityMetrics). The event time is the
commit's committer date: exporting twice gives the same events.
"""

from __future__ import annotations

import json
import os
from typing import Any

import attr
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    InputDatasetFacet,
    JobFacet,
    RunFacet,
    data_quality_assertions_dataset,
    data_quality_metrics_input_dataset,
    dataset_version_dataset,
    execution_parameters_run,
    job_type_job,
    source_code_job,
    source_code_location_job,
)
from openlineage.client.serde import Serde

from gitml import __version__
from gitml.errors import BadInput
from gitml.lineage_export import CommitLineage, Origin, run_id, without_credentials
from gitml.lockfile import DataEntry, Environment
from gitml.modelhistory import cmd_text
from gitml.profile import QUANTILES
from gitml.records import plain

PRODUCER = f"https://pypi.org/project/gitml/{__version__}/"
ENV_FACET = "gitml_environment"
ENV_FACET_SCHEMA = (
    "https://gitml.dev/spec/facets/1-0-0/GitmlEnvironmentRunFacet.json"
    "#/$defs/GitmlEnvironmentRunFacet"
)


@attr.define
class GitmlEnvironmentRunFacet(RunFacet):
    """gitml.lock's environment block of the models a stage produced (DESIGN.md's
    `environments:`), under the key gitml.lock gives it."""

    key: str
    captured: str | None = attr.field(default=None)
    python: str | None = attr.field(default=None)
    platform: str | None = attr.field(default=None)
    packages: dict[str, Any] | None = attr.field(default=None)
    hardware: dict[str, Any] | None = attr.field(default=None)
    seeds: dict[str, Any] | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return ENV_FACET_SCHEMA


def events(lin: CommitLineage, where: Origin) -> list[RunEvent]:
    """The commit's RunEvents, one per stage, in the order of the stage names."""
    return [_event(lin, where, stage_name) for stage_name in sorted(lin.project.stages)]


def _event(lin: CommitLineage, where: Origin, name: str) -> RunEvent:
    stage = lin.project.stages[name]
    run_facets: dict[str, RunFacet] = {}
    parameters = [
        execution_parameters_run.ExecutionParameter(key=f"{pfile}:{key}", value=_text(value))
        for pfile, values in sorted(stage.params.items())
        for key, value in sorted(values.items())
    ]
    if parameters:
        run_facets["executionParameters"] = execution_parameters_run.ExecutionParametersRunFacet(
            parameters=parameters, producer=PRODUCER
        )
    env = _environment_facet(lin, [o.path for o in stage.outs])
    if env is not None:
        run_facets[ENV_FACET] = env
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=lin.committer.date,
        run=Run(runId=run_id(lin.sha, name), facets=run_facets),
        job=Job(namespace=where.namespace, name=name, facets=_job_facets(lin, where, name)),
        inputs=[_input(lin, where, d.path, d.md5) for d in stage.deps],
        outputs=[
            OutputDataset(where.namespace, o.path, facets=_version(o.md5)) for o in stage.outs
        ],
        producer=PRODUCER,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _job_facets(lin: CommitLineage, where: Origin, name: str) -> dict[str, JobFacet]:
    stage = lin.project.stages[name]
    folder = stage.lockfile.rpartition("/")[0]
    facets: dict[str, JobFacet] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="DVC", jobType="STAGE", producer=PRODUCER
        ),
        "sourceCodeLocation": source_code_location_job.SourceCodeLocationJobFacet(
            type="git",
            url=where.repo_url or where.namespace,
            repoUrl=where.repo_url,
            path=f"{folder}/dvc.yaml" if folder else "dvc.yaml",
            version=lin.sha,
            producer=PRODUCER,
        ),
    }
    if stage.cmd:
        facets["sourceCode"] = source_code_job.SourceCodeJobFacet(
            language="shell", sourceCode=cmd_text(stage.cmd), producer=PRODUCER
        )
    return facets


def _version(md5: str | None) -> dict[str, Any]:
    if not md5:
        return {}
    return {
        "version": dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=md5, producer=PRODUCER
        )
    }


def _input(lin: CommitLineage, where: Origin, path: str, md5: str | None) -> InputDataset:
    entry = lin.lock.data.get(path) if lin.lock is not None else None
    quality: dict[str, InputDatasetFacet] = {}
    if entry is not None and entry.md5 == md5:  # what was checked is the bytes the stage read
        if entry.validation is not None:
            quality["dataQualityAssertions"] = _assertions(lin, entry)
        if entry.profile is not None:
            quality["dataQualityMetrics"] = _metrics(entry)
    return InputDataset(where.namespace, path, facets=_version(md5), inputFacets=quality)


def _assertions(
    lin: CommitLineage, entry: DataEntry
) -> data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet:
    """The suite's result as gitml.lock records it (counts): one assertion for the suite, and
    when every expectation held, one for each (gitml.lock does not say which ones failed)."""
    Assertion = data_quality_assertions_dataset.Assertion
    v = entry.validation
    assert v is not None
    evaluated, failed = v.evaluated or 0, v.failed or 0
    found = [
        Assertion(
            assertion=f"gitml suite {entry.suite}",
            success=bool(v.success),
            expected=f"{evaluated} expectations hold",
            actual=f"{evaluated - failed} of {evaluated} hold",
        )
    ]
    if v.success:
        for kind, column in _expectations(lin, entry.suite):
            found.append(Assertion(assertion=kind, success=True, column=column))
    return data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
        assertions=found, producer=PRODUCER
    )


def _expectations(lin: CommitLineage, suite: str | None) -> list[tuple[str, str | None]]:
    """(type, column) of each expectation of the suite as the commit holds it (none when the
    suite cannot be read: the suite's own assertion stands alone)."""
    data = lin.snap.read(suite) if suite else None
    try:
        doc = json.loads(data) if data is not None else {}
    except ValueError:
        return []
    found = []
    for e in doc.get("expectations") or [] if isinstance(doc, dict) else []:
        if isinstance(e, dict) and isinstance(e.get("type"), str):
            column = (e.get("kwargs") or {}).get("column")
            found.append((e["type"], column if isinstance(column, str) else None))
    return found


def _metrics(
    entry: DataEntry,
) -> data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet:
    """The recorded profile: rows, and per column its nulls, min, max and quantiles."""
    ColumnMetrics = data_quality_metrics_input_dataset.ColumnMetrics
    profile = entry.profile
    assert profile is not None
    columns = {}
    for name, col in (profile.columns or {}).items():
        q = col.quantiles
        quantiles = (
            {
                str(p): float(v)
                for p, v in zip(QUANTILES, q, strict=True)
                if isinstance(v, float | int)
            }
            if q is not None and len(q) == len(QUANTILES)
            else {}
        )
        columns[str(name)] = ColumnMetrics(
            nullCount=col.nulls,
            min=quantiles.get("0.0"),
            max=quantiles.get("1.0"),
            quantiles=quantiles or None,
        )
    return data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
        columnMetrics=columns,
        rowCount=profile.rows,
        bytes=entry.size,
        fileCount=entry.nfiles,
        producer=PRODUCER,
    )


def _environment_facet(lin: CommitLineage, outs: list[str]) -> GitmlEnvironmentRunFacet | None:
    """The environment that built the first model among the stage's outs that records one."""
    lock = lin.lock
    if lock is None:
        return None
    for path in outs:
        entry = lock.models.get(path)
        env = lock.environment_of(entry) if entry is not None else None
        if entry is not None and entry.environment and env is not None:
            return _env_facet(entry.environment, env)
    return None


def _env_facet(key: str, env: Environment) -> GitmlEnvironmentRunFacet:
    return GitmlEnvironmentRunFacet(
        key=key,
        captured=env.captured,
        python=env.python,
        platform=env.platform,
        packages=env.packages,
        hardware=plain(env.hardware) if env.hardware is not None else None,
        seeds=env.seeds,
        producer=PRODUCER,
    )


def as_json(found: list[RunEvent]) -> list[dict[str, Any]]:
    """The events as the OpenLineage JSON they are sent as."""
    return [Serde.to_dict(e) for e in found]


def emit(found: list[RunEvent], url: str) -> str:
    """Send the events to an OpenLineage HTTP endpoint (Marquez, DataHub, ...): POSTed to
    URL/api/v1/lineage by the client's HTTP transport, with `Authorization: Bearer
    $OPENLINEAGE_API_KEY` when that is set. Returns the URL as messages show it (without
    credentials); BadInput naming it on failure."""
    from openlineage.client.transport.http import (
        ApiKeyTokenProvider,
        HttpConfig,
        HttpTransport,
        TokenProvider,
    )

    shown = without_credentials(url)
    key = os.environ.get("OPENLINEAGE_API_KEY")
    auth = ApiKeyTokenProvider({"apiKey": key}) if key else TokenProvider({})
    try:
        config = HttpConfig(url=url, timeout=10.0, retry={"total": 1}, auth=auth)
        transport = HttpTransport(config)
    except ValueError:
        raise BadInput(f"--emit {shown!r}: not an HTTP URL") from None
    for i, event in enumerate(found):
        try:
            transport.emit(event)
        except Exception as exc:  # requests' errors: refused, timeout, HTTP status
            why = str(exc).replace(url, shown).splitlines()[0][:300]
            raise BadInput(
                f"--emit {shown}: sending event {i + 1} of {len(found)} (job {event.job.name}) "
                f"failed: {why}"
            ) from None
    return shown
