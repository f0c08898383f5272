"""A real team remote: OpenSSH's sshd on 127.0.0.1 as the DVC remote (dvc-ssh), the whole flow.

The test starts its own sshd (Debian's openssh-server, which `.ci/run` installs) on a free port of
127.0.0.1 only, with its own config, host key and authorized_keys in a temporary directory, and a
key made by the test for the current user. A commits a new model and `git push`es: the pre-push
hook uploads the DVC objects over SSH. B clones, `gitml restore` brings the exact bytes back over
SSH, and B's `gitml reproduce` of A's commit says identical. The server is stopped at the end.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import posixpath
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import Example, dvc, git, gitml, run

SSHD = shutil.which("sshd") or next(
    (p for p in ("/usr/sbin/sshd", "/usr/local/sbin/sshd") if os.access(p, os.X_OK)), None
)
SSH_KEYGEN = shutil.which("ssh-keygen")

pytestmark = [
    pytest.mark.skipif(
        SSHD is None or SSH_KEYGEN is None,
        reason="OpenSSH's sshd/ssh-keygen are not installed (`apt-get install openssh-server`, "
        "which .ci/run does as root)",
    ),
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="sshd must run as root to log a user in (CI runs as root)",
    ),
]

try:
    import dvc_ssh  # noqa: F401
except ImportError:  # pragma: no cover - the test extra installs it
    pytestmark.append(pytest.mark.skip(reason="dvc-ssh is not installed (pip install dvc-ssh)"))


@dataclass
class Sshd:
    proc: subprocess.Popen[bytes]
    port: int
    user: str
    key: Path
    log: Path

    def url(self, path: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket process `pid` holds (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = set()
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A = LISTEN
                continue
            hexaddr, hexport = local.split(":")
            raw = bytes.fromhex(hexaddr)
            if v6:
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                addr = socket.inet_ntop(socket.AF_INET6, words)
            else:
                addr = socket.inet_ntop(socket.AF_INET, raw[::-1])
            found.add((addr, int(hexport, 16)))
    return found


def wait_listening(sshd: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if sshd.poll() is not None:
            pytest.fail(f"sshd exited {sshd.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"sshd did not answer on 127.0.0.1:{port}:\n{log.read_text(errors='replace')}")


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    """An sshd of the test's own on 127.0.0.1:<free port>, stopped when the test ends."""
    assert SSHD is not None and SSH_KEYGEN is not None
    d = tmp_path / "sshd"
    d.mkdir()
    host_key, client_key = d / "host_ed25519", d / "client_ed25519"
    for key in (host_key, client_key):
        run(SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "gitml-test", "-f", key, cwd=d)
    (d / "authorized_keys").write_text(client_key.with_suffix(".pub").read_text())
    (d / "authorized_keys").chmod(0o600)
    port, user = free_port(), getpass.getuser()
    config = d / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"PidFile {d / 'sshd.pid'}",
                f"AuthorizedKeysFile {d / 'authorized_keys'}",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "PermitRootLogin prohibit-password",
                f"AllowUsers {user}",
                "Subsystem sftp internal-sftp",
                "LogLevel VERBOSE",
                "",
            ]
        )
    )
    # sshd wants its privilege-separation directory (Debian's package makes it at boot).
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    check = run(SSHD, "-t", "-f", config, cwd=d, check=False)
    assert check.returncode == 0, f"sshd -t: {check.stderr}"
    log = d / "sshd.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_listening(proc, port, log)
        yield Sshd(proc, port, user, client_key, log)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: sshd and its children
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


EXTRA = {"a.txt": "alpha\n", "b.txt": "beta\n", "sub/c.txt": "gamma\n"}


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def dvc_objects(root: Path, rev: str) -> dict[str, str]:
    """path -> md5 of every DVC-cached out named in `rev`'s dvc.lock and .dvc files."""
    found = {}
    listed = git("ls-tree", "-r", "--name-only", rev, cwd=root).stdout.split()
    for name in listed:
        if not (name.endswith(".dvc") or name == "dvc.lock"):
            continue
        doc = yaml.safe_load(git("show", f"{rev}:{name}", cwd=root).stdout)
        if name.endswith(".dvc"):
            for out in doc.get("outs", []):
                found[posixpath.join(posixpath.dirname(name), out["path"])] = out["md5"]
        elif name == "dvc.lock":
            for stage in doc["stages"].values():
                for out in stage.get("outs", []):
                    found[out["path"]] = out["md5"]
    return {p: m for p, m in found.items() if "metrics" not in p}


def use_ssh_remote(root: Path, sshd: Sshd, remote_dir: Path) -> None:
    """The team's remote in the committed .dvc/config; the key in the clone's .dvc/config.local."""
    dvc("remote", "add", "-d", "-f", "team", sshd.url(remote_dir), cwd=root)
    dvc("remote", "modify", "--local", "team", "keyfile", str(sshd.key), cwd=root)


@pytest.mark.slow
def test_team_flow_over_a_real_ssh_remote(example: Example, sshd: Sshd, tmp_path: Path) -> None:
    assert sshd.proc.pid and listening_addresses(sshd.proc.pid) == {("127.0.0.1", sshd.port)}

    remote_dir = tmp_path / "ssh-remote"
    remote_dir.mkdir()
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", origin, cwd=tmp_path)

    # A: the team remote replaces the local one, then a new model, committed through the hooks.
    a = example
    a.dvc("remote", "remove", "local")
    use_ssh_remote(a.root, sshd, remote_dir)
    a.set_param("n_estimators: 3", "n_estimators: 5")
    assert a.gitml("repro").returncode == 0
    # and a tracked directory (its listing and members go over SSH too)
    extra = a.root / "data" / "extra"
    for rel, text in EXTRA.items():
        (extra / rel).parent.mkdir(parents=True, exist_ok=True)
        (extra / rel).write_text(text)
    a.dvc("add", "-q", "data/extra")
    config = yaml.safe_load((a.root / "gitml.yaml").read_text())
    config["data"].append({"path": "data/extra"})
    (a.root / "gitml.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    a.git("add", "-A")
    committed = a.git("commit", "-q", "-m", "bigger forest on the team remote", check=False)
    assert committed.returncode == 0, committed.stderr
    commit = a.head()
    a.git("remote", "add", "origin", str(origin))
    pushed = a.git("push", "-q", "origin", "main", check=False)
    assert pushed.returncode == 0, pushed.stderr + sshd.log.read_text(errors="replace")
    assert "to remote 'team'" in pushed.stderr, pushed.stderr

    # every object of every pushed commit is on the SSH remote, with its bytes
    wanted = dvc_objects(a.root, commit)
    first = dvc_objects(a.root, f"{commit}~1")
    assert {"model/model.pkl", "data/wine.csv", "data/extra"} <= set(wanted)
    assert first["model/model.pkl"] != wanted["model/model.pkl"]
    for path, md5 in [*wanted.items(), *first.items()]:
        obj = remote_dir / "files" / "md5" / md5[:2] / md5[2:]
        assert obj.is_file(), f"{path} ({md5}) is not on the SSH remote"
        assert md5_of(obj) == md5.removesuffix(".dir")
    for text in EXTRA.values():  # the directory's members
        md5 = hashlib.md5(text.encode()).hexdigest()
        assert md5_of(remote_dir / "files" / "md5" / md5[:2] / md5[2:]) == md5
    log = sshd.log.read_text(errors="replace")
    assert f"Accepted publickey for {sshd.user} from 127.0.0.1" in log

    # B: a fresh clone with nothing in its cache; only the SSH remote has the objects.
    b = tmp_path / "b"
    git("clone", "-q", str(origin), b, cwd=tmp_path)
    assert "team" in (b / ".dvc" / "config").read_text()
    dvc("remote", "modify", "--local", "team", "keyfile", str(sshd.key), cwd=b)
    assert not (b / ".dvc" / "cache").exists() or not any((b / ".dvc" / "cache").rglob("*.pkl"))
    restored = gitml("restore", cwd=b)
    assert restored.returncode == 0, restored.stderr
    for path in ("model/model.pkl", "data/wine.csv"):
        assert (b / path).read_bytes() == (a.root / path).read_bytes(), path
        assert md5_of(b / path) == wanted[path]
    got = {
        p.relative_to(b / "data" / "extra").as_posix(): p.read_text()
        for p in (b / "data" / "extra").rglob("*")
        if p.is_file()
    }
    assert got == EXTRA

    rebuilt = gitml("reproduce", commit, cwd=b)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert rebuilt.stdout.strip().splitlines()[-1] == "identical", rebuilt.stdout
    assert "model/model.pkl\tidentical" in rebuilt.stdout

    # C: a clone that reproduces straight away: the inputs come over SSH (`dvc pull` in the
    # isolated worktree, with the clone's remote settings)
    c = tmp_path / "c"
    git("clone", "-q", str(origin), c, cwd=tmp_path)
    dvc("remote", "modify", "--local", "team", "keyfile", str(sshd.key), cwd=c)
    straight = gitml("reproduce", commit, cwd=c)
    assert straight.returncode == 0, straight.stdout + straight.stderr
    assert straight.stdout.strip().splitlines()[-1] == "identical", straight.stdout

    # still the only listener of this sshd: 127.0.0.1, the test's port
    assert listening_addresses(sshd.proc.pid) == {("127.0.0.1", sshd.port)}
