"""A model's metrics file, read from the bytes a snapshot names: its git blob, else the DVC
object of the out that holds it (a file out, or a member of a tracked directory's `.dir`
listing), from the cache, else the remote, each hash verified.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitml import dvcconfig, dvcfiles, params
from gitml.errors import BadInput
from gitml.lockfile import MetricsSource, ModelEntry, rounded
from gitml.records import JsonObject
from gitml.snapshot import Snapshot


@dataclass(frozen=True)
class MetricsRead:
    """A model's metrics file as one snapshot holds it."""

    figures: JsonObject | None
    # Where DVC holds its bytes, as gitml.lock records it (`metrics_from`): the DVC-tracked
    # output (the file itself, or the directory it lies in); None in git.
    source: MetricsSource | None = None
    unread: str | None = None  # why the figures could not be read, and the fix


def read_metrics(
    snap: Snapshot,
    project: dvcfiles.Project,
    path: str | None,
    dvc_cfg: dvcconfig.DvcConfig | None,
    recorded: ModelEntry | None = None,
    *,
    remote: bool = True,
) -> MetricsRead:
    """The figures of metrics file `path`, read from the bytes the snapshot names: its git
    blob, else the DVC object of the out that holds it (a file out, or a member named by the
    `.dir` listing of a tracked directory: dvclive's `eval/metrics.json`), from the cache, else
    the remote, each hash verified. Without those bytes, `recorded` (the model's entry in a
    gitml.lock being judged) gives the figures if it read them from the very same out md5: so
    `gitml lock --check` without the DVC cache (a fork's CI) does not flip."""
    if not path:
        return MetricsRead(None)
    data = snap.read(path)
    if data is not None:
        return MetricsRead(rounded(params.parse(path, data)))
    holder = project.outs.get(path) or project.directory_of(path)
    if holder is None:
        return MetricsRead(
            None,
            MetricsSource(file=path, out=None, md5=None),
            f"{path} is tracked neither by git nor by DVC (git add it, or make it a stage's "
            "metrics/out)",
        )
    source = MetricsSource(file=path, out=holder.path, md5=holder.md5)
    data, why = _out_file_bytes(snap, holder, path, dvc_cfg, remote)
    if data is not None:
        return MetricsRead(rounded(params.parse(path, data)), source)
    if recorded is not None and recorded.metrics_from == source and recorded.metrics is not None:
        return MetricsRead(recorded.metrics, source)
    return MetricsRead(None, source, f"{path} could not be read: {why}")


def pull_target(out: dvcfiles.Out) -> str:
    """What `dvc pull` takes to fetch `out`: its .dvc file, else its stage."""
    return out.origin if out.origin.endswith(".dvc") else (out.stage or out.path)


def _out_file_bytes(
    snap: Snapshot,
    out: dvcfiles.Out,
    path: str,
    cfg: dvcconfig.DvcConfig | None,
    remote: bool,
) -> tuple[bytes | None, str]:
    """The verified bytes of `path`, the out itself or a file inside the directory out; or
    None and why not (with the fix)."""
    from gitml import objects  # shutil, tempfile: only for metrics DVC holds

    fix = f"`dvc pull {pull_target(out)}`"
    if not out.md5:
        return None, f"{out.origin} records no md5 for {out.path} (run `gitml repro`)"
    if cfg is None:
        return None, f"no DVC cache to read {out.path} from ({fix})"
    md5 = out.md5
    if out.is_dir:
        listing = objects.verified_bytes(cfg, snap.root, out.md5, out.hash, remote=remote)
        if listing is None:
            return None, (
                f"the listing of {out.path} ({out.md5}, named in {out.origin}) is in neither "
                f"the DVC cache nor the remote; fix: {fix}"
            )
        try:
            pairs = dvcfiles.parse_dir_listing(listing, f"{out.md5} ({out.path})")
        except BadInput as exc:
            return None, str(exc)
        rel = path[len(out.path.rstrip("/")) + 1 :]
        member = dict(pairs).get(rel)
        if member is None:
            return None, (
                f"the listing of {out.path} ({out.md5}) has no {rel} (does the stage still "
                "write it? `gitml repro`)"
            )
        md5 = member
    data = objects.verified_bytes(cfg, snap.root, md5, out.hash, remote=remote)
    if data is None:
        return None, (
            f"its object {md5} (in {out.path}, named in {out.origin}) is in neither the DVC "
            f"cache nor the remote, or does not match its hash; fix: {fix}"
        )
    return data, ""
