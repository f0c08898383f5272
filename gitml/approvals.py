"""Signed approvals of a model version for a stage: the four eyes before production.

An approval is an annotated tag signed by its approver (`git tag -s`, SSH or GPG as the
approver's git config says) that points at the version's commit; its message names the model,
the version, the stage and the commit again, so a signature over one version cannot be reused
for another. The tag's name has no `@` and no `#`, so GTO does not read it as one of its own.

gitml.yaml states the policy per stage (`registry: {approvals: {STAGE: {required: N, signers:
FILE}}}`); FILE is in git's allowed-signers format and is read as it stood at the approved
commit: the list of who may approve is reviewed like the code it approves. An approval counts
when git's own `verify-tag`, given that file, names its signer; when it is dated no later than
the promotion it justifies; and when its signer is not the author of the version's commit.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from gitml import git, gtotags, registry
from gitml.config import StageApprovals
from gitml.errors import BadInput
from gitml.snapshot import Snapshot

PREFIX = "gitml-approval"
HEADER = "gitml approval"
_FIELDS = ("model", "version", "stage", "commit")
_GOOD_SSH = re.compile(r'^Good "git" signature for (?P<principal>\S+) with ', re.MULTILINE)
_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Approval:
    """One approval tag and how it was judged: `signer` is set only when it counts."""

    tag: str
    model: str
    version: str
    stage: str
    commit: str  # the commit the tag points at
    time: int  # the tagger date
    signer: str | None = None  # the allowed-signers principal git verified
    problem: str | None = None  # why it does not count


@dataclass
class Judgement:
    """The approvals of one version for one stage, against the stage's policy."""

    model: str
    version: str
    stage: str
    commit: str
    required: int | None  # None: no policy for the stage, so nothing can count
    counted: list[Approval] = field(default_factory=list)
    refused: list[Approval] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)  # the principals that may approve
    problem: str | None = None  # what stops any approval from counting (e.g. no signers file)

    @property
    def signers(self) -> list[str]:
        return sorted({a.signer for a in self.counted if a.signer})

    @property
    def approved(self) -> bool:
        required = self.required
        return self.problem is None and required is not None and len(self.signers) >= required

    def missing(self) -> str:
        """Who has approved and who could still approve, for a refusal message."""
        have = ", ".join(self.signers) or "nobody"
        short = max((self.required or 0) - len(self.signers), 0)
        could = [p for p in self.allowed if p not in self.signers]
        text = f"approved by {have}; {short} more needed"
        if could:
            text += f" from: {', '.join(could)}"
        return text


def tag_name(model: str, version: str, stage: str, approver: str) -> str:
    """`gitml-approval/STAGE/MODEL/VERSION/APPROVER`: one tag per approver, and no `@`/`#`."""
    model_part = model.replace(gtotags.SEPARATOR_IN_NAME, gtotags.SEPARATOR_IN_TAG)
    slug = _SLUG_UNSAFE.sub("-", approver.replace("@", "-at-")).strip("-.") or "unknown"
    return f"{PREFIX}/{stage}/{model_part}/{version}/{slug}"


def message(model: str, version: str, stage: str, commit: str, note: str | None) -> str:
    lines = [
        HEADER,
        "",
        *(f"{k}: {v}" for k, v in zip(_FIELDS, (model, version, stage, commit), strict=True)),
    ]
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def _fields(body: str) -> dict[str, str]:
    lines = body.splitlines()
    if not lines or lines[0].strip() != HEADER:
        return {}
    found: dict[str, str] = {}
    for line in lines[1:]:
        key, sep, value = line.partition(": ")
        if sep and key in _FIELDS and key not in found:
            found[key] = value.strip()
    return found


def create(root: Path, model: str, version: str, stage: str, commit: str, note: str | None) -> str:
    """Sign and create the approval tag as the user (git's signing config); return its name."""
    approver = git.config_get(root, "user.email") or ""
    if not approver:
        raise BadInput(
            "git has no user.email: an approval names its approver (git config user.email)"
        )
    name = tag_name(model, version, stage, approver)
    text = message(model, version, stage, commit, note)
    proc = git.run(["tag", "-s", "-F", "-", name, commit], root, input=text.encode(), check=False)
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        if any("already exists" in line for line in detail):
            raise BadInput(f"you approved {model} {version} for {stage} already (tag {name})")
        raise BadInput(
            "git could not sign the approval (`git tag -s`): "
            + (detail[-1] if detail else f"exit {proc.returncode}")
            + "\n  set a signing key: git config gpg.format ssh && "
            "git config user.signingkey ~/.ssh/id_ed25519.pub (or a GPG key)"
        )
    return name


@dataclass(frozen=True)
class _Record:
    """One tag under `gitml-approval/`, as read, not yet judged."""

    tag: str
    kind: str  # the type of the object its ref holds: "tag" when annotated
    commit: str  # what it points at (peeled)
    time: int
    fields: dict[str, str]  # what its message signs
    signed: bool

    @property
    def stage(self) -> str:
        return self.tag.split("/")[1]

    def approves(self) -> set[tuple[str, str]]:
        """The (model, version) it is an approval of: by its name, and by its message."""
        parts = self.tag.split("/")
        found = set()
        if len(parts) >= 5:
            model = "/".join(parts[2:-2]).replace(
                gtotags.SEPARATOR_IN_TAG, gtotags.SEPARATOR_IN_NAME
            )
            found.add((model, parts[-2]))
        if "model" in self.fields and "version" in self.fields:
            found.add((self.fields["model"], self.fields["version"]))
        return found

    def judged(self, model: str, version: str) -> Approval:
        """As an approval of `model` `version`: with the problem of its form, if any."""
        if self.kind != "tag":
            problem: str | None = "a lightweight tag: an approval is a signed annotated tag"
        elif not self.signed:
            problem = "not signed (made without `git tag -s`)"
        else:
            problem = _mismatch(self.fields, model, version, self.stage, self.commit)
        return Approval(self.tag, model, version, self.stage, self.commit, self.time, None, problem)


def _records(root: Path, stage: str | None = None) -> list[_Record]:
    """Every approval tag (of one stage), in one git call."""
    fmt = "%(refname:strip=2)%00%(objecttype)%00%(*objectname)%00%(objectname)%00"
    fmt += "%(taggerdate:unix)%00%(contents)%01"
    where = f"refs/tags/{PREFIX}/{stage}/" if stage else f"refs/tags/{PREFIX}/"
    out = git.run(["for-each-ref", f"--format={fmt}", where], root)
    found = []
    for record in out.stdout.decode(errors="replace").split("\x01"):
        parts = record.lstrip("\n").split("\0")
        if len(parts) != 6 or parts[0].count("/") < 2:
            continue
        tag, kind, peeled, target, when, contents = parts
        fields = _fields(contents) if kind == "tag" else {}
        time = int(when) if when.isdigit() else 0
        signed = "-----BEGIN " in contents
        found.append(_Record(tag, kind, peeled or target, time, fields, signed))
    return found


def read(root: Path, model: str, version: str, stage: str) -> list[Approval]:
    """The approval tags of this model, version and stage, in one git call, not yet judged: by
    their name, or (annotated) by the fields their message signs."""
    return [
        r.judged(model, version) for r in _records(root, stage) if (model, version) in r.approves()
    ]


def read_all(root: Path) -> dict[tuple[str, str, str], list[Approval]]:
    """{(model, version, stage): its approval tags, not yet judged} in one git call."""
    found: dict[tuple[str, str, str], list[Approval]] = {}
    for r in _records(root):
        for model, version in sorted(r.approves()):
            found.setdefault((model, version, r.stage), []).append(r.judged(model, version))
    return found


def _mismatch(
    fields: dict[str, str], model: str, version: str, stage: str, peeled: str
) -> str | None:
    wanted = {"model": model, "version": version, "stage": stage, "commit": peeled}
    for key in _FIELDS:
        if fields.get(key) != wanted[key]:
            return f"its message names {key} {fields.get(key)!r}, not {wanted[key]!r}"
    return None


def allowed_principals(signers: bytes) -> list[str]:
    """The principals an allowed-signers file names (the first field; `a,b` lists several)."""
    found: list[str] = []
    for raw in signers.decode(errors="replace").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            found += [p for p in line.split()[0].split(",") if p and p not in found]
    return found


def verify_signer(root: Path, tag: str, signers_file: Path) -> tuple[str | None, str]:
    """(principal, git's words) from `git verify-tag` against `signers_file`."""
    proc = git.run(
        ["-c", f"gpg.ssh.allowedSignersFile={signers_file}", "verify-tag", f"refs/tags/{tag}"],
        root,
        check=False,
    )
    said = (proc.stderr + proc.stdout).decode(errors="replace")
    match = _GOOD_SSH.search(said)
    if proc.returncode == 0 and match:
        return match["principal"], said
    if proc.returncode == 0:  # a good GPG signature: git cannot tie it to allowed_signers
        return None, "a GPG signature: only SSH signatures are checked against allowed signers"
    lines = [ln.strip() for ln in said.splitlines() if ln.strip() and not ln.startswith("Good")]
    reason = "; ".join(ln.split(": ", 1)[-1] if "signers:" in ln else ln for ln in lines[-2:])
    return None, reason or f"git verify-tag exited {proc.returncode}"


def judge(
    root: Path,
    model: str,
    version: str,
    stage: str,
    policy: StageApprovals,
    *,
    promoted_at: int | None = None,
    state: registry.ModelState | None = None,
    found: list[Approval] | None = None,
) -> Judgement:
    """Which approvals of `model` `version` for `stage` count under `policy`.

    `promoted_at` (a tagger date) leaves out approvals made after that promotion; `state` and
    `found` (the model's registry, its approval tags) are read when not given."""
    if state is None:
        state = registry.model_state(registry.read_tags(root), model)
    commit = _version_commit(state, version)
    if commit is None:
        raise BadInput(f"{model} has no version {version} (see `gitml registry {model}`)")
    result = Judgement(model, version, stage, commit, policy.required)
    if not any(v.version == version and v.active for v in state.versions):
        result.problem = f"{model} {version} is deregistered: its approvals do not count"
    signers = Snapshot(root, commit).read(policy.signers)
    if signers is None:
        result.problem = result.problem or (
            f"{policy.signers} (the allowed signers) is not in commit {commit[:12]}"
        )
        signers = b""
    result.allowed = allowed_principals(signers)
    author = git.out(["show", "-s", "--format=%ae", commit], root)
    found = read(root, model, version, stage) if found is None else found
    with tempfile.TemporaryDirectory(prefix="gitml-signers-") as tmp:
        signers_file = Path(tmp) / "allowed_signers"
        signers_file.write_bytes(signers)
        for approval in found:
            _sort(root, approval, commit, author, promoted_at, signers_file, result)
    return result


def standing(
    root: Path, state: registry.ModelState, version: str, stage: str, found: list[Approval]
) -> Judgement:
    """How the approval tags `found` of a version stand under the policy of gitml.yaml at its
    commit (what `gitml registry` shows): a version or policy that is not there is the
    judgement's problem, and then none of them counts."""
    commit = _version_commit(state, version)
    policy = policy_at(root, commit, stage) if commit else None
    if commit is not None and policy is not None:
        return judge(root, state.name, version, stage, policy, state=state, found=found)
    if commit is None:
        why = f"{state.name} has no version {version}"
    else:
        why = f"gitml.yaml at {commit[:12]} has no approvals policy for {stage}"
    result = Judgement(state.name, version, stage, commit or "", None, problem=why)
    result.refused = [replace(a, problem=a.problem or why) for a in found]
    return result


def _sort(
    root: Path,
    found: Approval,
    commit: str,
    author: str,
    promoted_at: int | None,
    signers_file: Path,
    result: Judgement,
) -> None:
    signer, problem = _verified(root, found, commit, signers_file, result)
    if problem is None and signer == author:
        problem = f"{signer} wrote the commit: an author does not approve their own model"
    if problem is None and promoted_at is not None and found.time > promoted_at:
        problem = "made after the promotion it would justify"
    judged = replace(found, signer=signer if problem is None else None, problem=problem)
    (result.counted if problem is None else result.refused).append(judged)


def _verified(
    root: Path, found: Approval, commit: str, signers_file: Path, result: Judgement
) -> tuple[str | None, str | None]:
    """(its signer, why it does not count): its form, its commit, then git's verify-tag."""
    if found.problem is not None:
        return None, found.problem
    if found.commit != commit:
        return None, f"it signs commit {found.commit[:12]}, not {version_commit_text(result)}"
    signer, said = verify_signer(root, found.tag, signers_file)
    return signer, None if signer else f"signature not accepted: {said}"


def version_commit_text(result: Judgement) -> str:
    return f"{result.commit[:12]} ({result.model} {result.version})"


def _version_commit(state: registry.ModelState, version: str) -> str | None:
    for v in state.versions:
        if v.version == version and v.direct:
            return v.commit
    return None


def four_eyes(result: Judgement, promoter: str | None) -> str | None:
    """Why the promoter may not promote on these approvals: their own does not count alone."""
    if promoter and result.approved and set(result.signers) == {promoter}:
        return f"the only approval is the promoter's own ({promoter}): another approver is needed"
    return None


def stage_below(stages: Iterable[str], stage: str) -> str | None:
    """The stage before `stage` in the configured order, if the order is known."""
    order = list(stages)
    return order[order.index(stage) - 1] if stage in order and order.index(stage) > 0 else None


def promoter_of(root: Path, tag: str) -> str:
    """The email of who made `tag` (its tagger)."""
    return git.out(["for-each-ref", "--format=%(taggeremail:trim)", f"refs/tags/{tag}"], root)


def policy_at(root: Path, commit: str, stage: str) -> StageApprovals | None:
    """The approvals gitml.yaml requires for `stage`, as it stood at `commit`."""
    from gitml import repo as repo_mod

    config = repo_mod.config_at(Snapshot(root, commit))
    return None if config is None else config.approvals.get(stage)


def verdict(
    root: Path, model: str, version: str | None, stage: str, held: gtotags.Tag
) -> tuple[Judgement | None, str | None]:
    """(the judgement, why it fails) of what `stage` holds (`held`, the assignment that put
    `version` there): approvals made by then, under the policy at its commit, four eyes."""
    if version is None:
        return None, f"{stage} holds commit {held.commit[:12]}, which is not a registered version"
    policy = policy_at(root, held.commit, stage)
    if policy is None:
        return None, (
            f"gitml.yaml at {held.commit[:12]} has no approvals policy for {stage} "
            f"(registry.approvals.{stage}): nothing says who must approve"
        )
    result = judge(root, model, version, stage, policy, promoted_at=held.time)
    problem = result.problem or four_eyes(result, promoter_of(root, held.tag))
    if problem is None and not result.approved:
        problem = result.missing()
    return result, problem


def promotion_problems(root: Path, model: str, commit: str, stage: str) -> list[str]:
    """Why `commit` may not enter `stage` yet under its approvals policy (none: it may)."""
    policy = policy_at(root, commit, stage)
    if policy is None:
        return []
    state = registry.model_state(registry.read_tags(root), model)
    version = state.registered().get(commit)
    if version is None:
        return [
            (
                f"{stage} needs {policy.required} approval(s) of a registered version, and "
                f"commit {commit[:12]} has no version: promote it to an earlier stage first, "
                f"then `gitml approve {model}@VERSION --stage {stage}`"
            )
        ]
    result = judge(root, model, version, stage, policy)
    promoter = git.config_get(root, "user.email")
    why = result.problem or four_eyes(result, promoter)
    if why is None and result.approved:
        return []
    return [
        f"{model} {version} is not approved for {stage}: "
        + (why or result.missing())
        + "".join(f"\n  not counted: {a.tag}: {a.problem}" for a in result.refused)
    ]
