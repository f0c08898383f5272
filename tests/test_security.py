"""A cloned repository is untrusted input (SECURITY.md): hostile repositories, built here, must
not make gitml write under `.git` or into `.dvc/`, through the CLI or through plain git commands
with gitml's hooks installed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from conftest import Example

PAYLOAD = b"gitdir: /tmp/gitml-attacker\n"


def git_state(ex: Example) -> dict[str, bytes]:
    """What git itself reads from .git (not gitml's per-clone state under .git/gitml)."""
    git_dir = ex.root / ".git"
    state = {}
    for path in sorted(git_dir.rglob("*")):
        rel = path.relative_to(git_dir).as_posix()
        if rel.startswith("gitml/") or rel == "gitml" or not path.is_file() or path.is_symlink():
            continue
        if rel.startswith(("objects/", "logs/")) or rel in ("index", "ORIG_HEAD"):
            continue  # git's own bookkeeping of the checkout itself
        state[rel] = path.read_bytes()
    return state


def plant_object(ex: Example, remote: Path, data: bytes) -> str:
    md5 = hashlib.md5(data).hexdigest()
    obj = remote / "files" / "md5" / md5[:2] / md5[2:]
    obj.parent.mkdir(parents=True, exist_ok=True)
    obj.write_bytes(data)
    return md5


def hostile_branch(
    ex: Example,
    dvcfile: str,
    out: str,
    link: tuple[str, str] | None = None,
    vendored_remote: bool = False,
) -> str:
    """A branch whose `.dvc` file names `out` (a path into .git or .dvc), its object in the
    cache, and with `vendored_remote` in a local remote that the committed .dvc/config places
    inside the repository, as an attacker's fork would."""
    ex.git("checkout", "-q", "-b", "hostile")
    # in the local cache (the hooks restore from the cache alone): the path alone must be refused
    md5 = plant_object(ex, ex.root / ".dvc" / "cache", PAYLOAD)
    if vendored_remote:
        plant_object(ex, ex.root / "vendor" / "remote", PAYLOAD)
        with (ex.root / ".dvc" / "config").open("a") as fh:
            fh.write("['remote \"vendored\"']\n    url = ../vendor/remote\n")
    if link is not None:
        (ex.root / link[0]).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(link[1], ex.root / link[0])
    (ex.root / dvcfile).parent.mkdir(parents=True, exist_ok=True)
    (ex.root / dvcfile).write_text(
        f"outs:\n- md5: {md5}\n  size: {len(PAYLOAD)}\n  hash: md5\n  path: {out}\n"
    )
    ex.git("add", "-A")
    ex.git("commit", "-q", "--no-verify", "-m", "innocent-looking change")
    ex.git("checkout", "-q", "main")
    return ex.head()


ATTACKS = {
    "out .git/commondir": ("x.dvc", ".git/commondir", None),
    "out ../.git/commondir from a subfolder": ("vendor/x.dvc", "../.git/commondir", None),
    "upper case .GIT": ("x.dvc", ".GIT/commondir", None),
    "trailing dot .git.": ("x.dvc", ".git./commondir", None),
    "HFS+ ignorable in .g\u200cit": ("x.dvc", ".g\u200cit/commondir", None),
    "NTFS short name GIT~1": ("x.dvc", "GIT~1/commondir", None),
    "trailing space .git ": ("x.dvc", "'.git /commondir'", None),
    "full-width .\uff27\uff29\uff34": ("x.dvc", ".\uff27\uff29\uff34/commondir", None),
    "through a symlinked folder": (
        "x.dvc",
        "vendor/gitdir/commondir",
        ("vendor/gitdir", "../.git"),
    ),
    "into .dvc/config": ("x.dvc", ".dvc/config.local", None),
    # the remote the committed .dvc/config names inside the repository is refused first
    "vendored remote": ("vendor/x.dvc", "../.git/commondir", None),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_an_out_into_git_or_dvc_is_refused_by_checkout_and_restore(
    example: Example, attack: str
) -> None:
    dvcfile, out, link = ATTACKS[attack]
    hostile_branch(example, dvcfile, out, link, vendored_remote=attack == "vendored remote")
    before = git_state(example)
    dvc_config_local = example.root / ".dvc" / "config.local"
    had_local = dvc_config_local.read_bytes() if dvc_config_local.exists() else None
    # the post-checkout hook runs on the switch, and always exits 0
    switched = example.git("checkout", "-q", "hostile")
    restored = example.gitml("restore")
    example.git("checkout", "-q", "main")
    after = git_state(example)
    assert not (example.root / ".git" / "commondir").exists()
    assert after == before
    assert (dvc_config_local.read_bytes() if dvc_config_local.exists() else None) == had_local
    assert restored.returncode == 2, restored.stdout + restored.stderr
    if attack == "vendored remote":
        assert (
            "DVC remote 'vendored'" in restored.stderr and "inside the work tree" in restored.stderr
        )
    else:
        assert "refused" in restored.stderr or "leads into a `.git`" in restored.stderr
    assert "Traceback" not in switched.stderr + restored.stderr


def test_init_refuses_a_gitattributes_symlink_and_stages_nothing(example: Example) -> None:
    """A clone's `.gitattributes -> ../credentials`: init must neither read nor rewrite the
    target (its bytes plus the merge-driver line, staged: the user's secrets in the index)."""
    secret = example.root.parent / "credentials"
    secret.write_text("aws_secret_access_key = hunter2\n")
    (example.root / ".gitattributes").unlink()
    os.symlink("../credentials", example.root / ".gitattributes")
    example.git("add", ".gitattributes")
    example.git("commit", "-q", "--no-verify", "-m", "attributes as a link")
    r = example.gitml("init")
    assert r.returncode == 2, r.stdout + r.stderr
    assert ".gitattributes is a symlink (to ../credentials)" in r.stderr
    assert secret.read_text() == "aws_secret_access_key = hunter2\n"
    assert (example.root / ".gitattributes").is_symlink()
    assert example.git("status", "--porcelain").stdout == ""
    assert "hunter2" not in example.git("diff", "--cached").stdout


@pytest.mark.slow
def test_hooks_work_from_an_interpreter_whose_path_has_a_quote(
    example: Example, tmp_path: Path
) -> None:
    """gitml installed in a venv under `o'brien dir/`: the shims quote its path for sh, the
    commit hook runs, and doctor reads the path back."""
    import shutil
    import sys

    venv = Path(sys.prefix)
    odd = tmp_path / "o'brien dir" / "venv"
    (odd / "bin").mkdir(parents=True)
    shutil.copyfile(venv / "pyvenv.cfg", odd / "pyvenv.cfg")
    os.symlink(Path(sys.executable).resolve(), odd / "bin" / "python")
    os.symlink(venv / "lib", odd / "lib")
    python = str(odd / "bin" / "python")
    from conftest import run

    run(python, "-m", "gitml", "init", cwd=example.root)
    shim = (example.root / ".git" / "hooks" / "pre-commit").read_text()
    assert "GITML_PYTHON='" + python.replace("'", "'\"'\"'") + "'" in shim
    example.set_param("n_estimators: 3", "n_estimators: 4")
    example.gitml("repro")
    committed = example.git("commit", "-q", "-am", "more trees", check=False)
    assert committed.returncode == 0, committed.stderr
    assert "gitml.lock" in example.git("show", "--name-only", "HEAD").stdout
    doctor = run(python, "-m", "gitml", "doctor", cwd=example.root, check=False)
    assert "interpreter that is gone" not in doctor.stdout + doctor.stderr


def test_control_characters_from_a_repository_reach_no_terminal(example: Example) -> None:
    """A metric name holding ESC sequences (retitle the terminal, clear the screen) is shown
    escaped by show and log, as git's core.quotePath shows such names; a path holding a newline
    or ESC is refused where it is read."""
    import json

    metrics = json.loads((example.root / "metrics.json").read_text())
    metrics["\x1b]0;pwned\x07acc\x1b[2J"] = 1.0
    (example.root / "metrics.json").write_text(json.dumps(metrics))
    example.git("add", "metrics.json")
    committed = example.git("commit", "-q", "-m", "odd metric", check=False)
    assert committed.returncode == 0, committed.stderr
    for args in (("show",), ("log",)):
        r = example.gitml(*args)
        assert r.returncode == 0, r.stderr
        shown = r.stdout + r.stderr
        assert "\x1b" not in shown and "\x07" not in shown, args
        assert "\\033]0;pwned\\aacc\\033[2J" in shown, (args, shown)
    # a .dvc out whose path holds a newline and a Markdown fence
    (example.root / "x.dvc").write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 1\n  hash: md5\n"
        '  path: "a\\n```\\n# All checks passed\\n"\n'
    )
    example.git("add", "x.dvc")
    r = example.gitml("check")
    assert r.returncode == 2 and "contains a control character" in r.stderr, r.stderr
    assert "\n# All checks passed" not in r.stderr


def test_out_writes_a_regular_file_or_refuses(example: Example, tmp_path: Path) -> None:
    """`--out` of report and log --plot: a regular file is written atomically, `-` is stdout;
    a symlink, a directory or a FIFO is refused (exit 2) before any work, and left as it was."""
    target = tmp_path / "target.md"
    target.write_text("keep me\n")
    link = tmp_path / "link.md"
    os.symlink(target, link)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for out in (link, tmp_path, fifo):
        for args in (
            ("report", "--out", str(out)),
            ("log", "--plot", "accuracy", "--out", str(out)),
        ):
            r = example.gitml(*args)
            assert r.returncode == 2, (args, r.stderr)
            assert f"--out {out} is" in r.stderr and "Traceback" not in r.stderr
    assert target.read_text() == "keep me\n" and link.is_symlink()
    assert fifo.is_fifo()
    r = example.gitml("report", "--out", "-")
    assert r.returncode == 0 and "gitml" in r.stdout
    written = tmp_path / "report.md"
    assert example.gitml("report", "--out", str(written)).returncode == 0
    assert written.read_text() == r.stdout


@pytest.mark.slow
def test_a_shared_hooks_folder_gets_no_machine_paths(example: Example) -> None:
    """core.hooksPath = .githooks, tracked (a team convention): init writes nothing there (no
    interpreter path of this machine in a shared file), installs per clone, and says the lines
    the team's hooks need; once they are there, commits run gitml and doctor is content."""
    import stat
    import sys

    from gitml.githooks import GIT_HOOKS
    from gitml.hook_install import CHAIN_SNIPPET

    hooks = example.root / ".githooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\necho team-check >&2\n")
    (hooks / "pre-commit").chmod(0o755)
    example.git("add", ".githooks")
    example.git("commit", "-q", "--no-verify", "-m", "team hooks")
    example.git("config", "core.hooksPath", ".githooks")
    r = example.gitml("init")
    assert r.returncode == 0, r.stderr
    assert "did not touch .githooks" in r.stderr and CHAIN_MARKER_LINE in r.stderr
    assert sorted(p.name for p in hooks.iterdir()) == ["pre-commit"]
    assert example.git("status", "--porcelain").stdout == ""
    assert (example.root / ".git" / "gitml" / "hooks" / "pre-commit").is_file()
    doctor = example.gitml("doctor")
    assert doctor.returncode == 1 and "does not call gitml's hook" in doctor.stdout
    for name in GIT_HOOKS:  # the team adds the lines and commits them
        path = hooks / name
        text = path.read_text() if path.exists() else "#!/bin/sh\n"
        head, _, rest = text.partition("\n")
        path.write_text(f"{head}\n{CHAIN_SNIPPET}{rest}")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    example.git("add", ".githooks")
    example.git("commit", "-q", "--no-verify", "-m", "team hooks call gitml")
    assert sys.executable not in "".join(p.read_text() for p in hooks.iterdir())
    example.set_param("n_estimators: 3", "n_estimators: 4")
    example.gitml("repro")
    committed = example.git("commit", "-q", "-am", "more trees", check=False)
    assert committed.returncode == 0 and "team-check" in committed.stderr, committed.stderr
    assert "gitml.lock" in example.git("show", "--name-only", "HEAD").stdout
    doctor = example.gitml("doctor")
    assert "does not call gitml's hook" not in doctor.stdout, doctor.stdout


CHAIN_MARKER_LINE = "gitml-chain: run gitml's hooks of this clone"


def test_the_report_shows_repository_names_literally(example: Example) -> None:
    """A metric named like Markdown (a heading, an image, a table pipe, HTML) stays text in the
    pull-request comment: escaped in the verdict line and the tables."""
    import json

    base = example.head()
    metrics = json.loads((example.root / "metrics.json").read_text())
    evil = "x|![p](http://e.invalid/p.png)<b>#</b>**All checks passed**"
    metrics[evil] = 1.0
    (example.root / "metrics.json").write_text(json.dumps(metrics))
    example.git("add", "metrics.json")
    example.git("commit", "-q", "-m", "odd metric")
    r = example.gitml("report", base, "HEAD")
    assert r.returncode == 0, r.stderr
    assert "![p](" not in r.stdout and "<b>" not in r.stdout and "**All checks" not in r.stdout
    assert "x\\|!\\[p\\](http://e.invalid/p.png)&lt;b&gt;#&lt;/b&gt;\\*\\*All" in r.stdout


@pytest.mark.slow
def test_a_gitml_lock_symlink_is_neither_written_through_nor_replaced(example: Example) -> None:
    """A clone whose gitml.lock links elsewhere: the commit is refused, the index and the link
    as they were, the target untouched."""
    target = example.root.parent / "elsewhere.txt"
    target.write_text("not gitml's\n")
    (example.root / "gitml.lock").unlink()
    os.symlink(target, example.root / "gitml.lock")
    example.git("add", "gitml.lock")
    example.git("commit", "-q", "--no-verify", "-m", "lock as a link")
    index = example.git("ls-files", "-s").stdout
    example.set_param("n_estimators: 3", "n_estimators: 4")
    example.gitml("repro")
    example.git("add", "params.yaml", "dvc.lock")
    index = example.git("ls-files", "-s").stdout
    r = example.git("commit", "-q", "-m", "more trees", check=False)
    assert r.returncode != 0 and "gitml.lock is a symlink" in r.stderr, r.stderr
    assert example.git("ls-files", "-s").stdout == index
    assert (example.root / "gitml.lock").is_symlink() and target.read_text() == "not gitml's\n"


class _Tripwire:
    """Unpickling this runs a command, as a hostile model would."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch '{self.marker}'",))


@pytest.mark.slow
def test_reading_commands_run_no_repository_code(example: Example, tmp_path: Path) -> None:
    """A commit whose model unpickles into a command and whose conftest.py files run one at
    import: checkout and merge with the hooks, restore, show, log, diff, report, registry,
    drift, lock --check, validate and doctor neither unpickle the model nor import the tests."""
    import pickle

    unpickled, imported = tmp_path / "unpickled", tmp_path / "imported"
    (example.root / "model" / "model.pkl").chmod(0o644)
    (example.root / "model" / "model.pkl").write_bytes(pickle.dumps(_Tripwire(unpickled)))
    for conftest in ("conftest.py", "tests/model/conftest.py"):
        (example.root / conftest).write_text(f"open({str(imported)!r}, 'w').close()\n")
    example.dvc("commit", "-q", "-f", "train")
    example.git("add", "-A")
    example.git("commit", "-q", "--no-verify", "-m", "a model that runs code when loaded")
    example.dvc("push", "-q")
    first = example.git("rev-list", "--max-parents=0", "HEAD").stdout.strip()
    example.git("checkout", "-q", first)
    example.git("checkout", "-q", "main")
    example.git("checkout", "-q", "-b", "side", first)
    example.git("merge", "-q", "--no-edit", "main")
    example.git("checkout", "-q", "main")
    for args in (
        ("restore",),
        ("show",),
        ("log",),
        ("diff", first, "HEAD"),
        ("report", first, "HEAD"),
        ("registry",),
        ("drift", "data/wine.csv", "--against", first),
        ("lock", "--check"),
        ("validate",),
        ("doctor",),
    ):
        r = example.gitml(*args)
        assert "Traceback" not in r.stderr, (args, r.stderr)
        assert not unpickled.exists() and not imported.exists(), args
    # the tripwires are live: `gitml test`, asked for, runs the repository's tests and loads it
    example.gitml("test")
    assert imported.exists() and unpickled.exists()
