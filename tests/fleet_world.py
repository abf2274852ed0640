"""The dozen repositories of the fleet tests, a `git daemon` serving two of them on
loopback, and a Dask scheduler with two workers as separate processes."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from tests.fleet_repos import key, small, with_history
from tests.gitrepo import Repo, git_env


class World(NamedTuple):
    root: Path
    targets: Path  # the targets file
    keys: list[str]  # every key planted (no result file may hold one)
    shared: str  # the key three repositories hold
    slow: list[Path]  # repositories whose audits take a few seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise AssertionError("the server exited")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@contextmanager
def git_daemon(base: Path) -> Iterator[str]:
    """``git://127.0.0.1:PORT/`` serving every repository under ``base``."""
    port = free_port()
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            f"--base-path={base}",
            "--export-all",
            "--reuseaddr",
            "--listen=127.0.0.1",
            f"--port={port}",
            str(base),
        ],
        env=git_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, proc)
        yield f"git://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(10)


def build(root: Path, daemon_url: str, served: Path, rng: random.Random) -> World:
    """Twelve targets: keys in some, one key in three, a clean one, a bare one, a broken
    one, a folder that is no repository, one by file://, two by git daemon (one missing)."""
    keys = [key(rng, n) for n in range(8)]
    shared = keys[0]
    local = root / "local"
    small(local / "alpha", [keys[1]])
    small(local / "beta", [shared, keys[2]])
    small(local / "gamma", [shared])
    small(local / "clean", [])
    small(local / "delta.git", [keys[3]], bare=True)
    broken = small(local / "broken", [keys[4]])
    blob = Repo.existing(broken).git("rev-parse", "HEAD:conf/settings0.py").strip()
    (broken / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    (local / "not-a-repo").mkdir()
    small(served / "by-file", [shared])
    small(served / "by-daemon", [keys[5]])
    slow = []
    for n in range(2):
        path = local / f"slow{n}"
        with_history(path, 1500, rng, [key(rng, 100 + i) for i in range(150)], size=20000)
        slow.append(path)
    targets = root / "targets.txt"
    lines = [
        "# a fleet",
        *(str(local / n) for n in ("alpha", "beta", "gamma", "clean", "delta.git", "broken")),
        str(local / "not-a-repo"),
        f"file://{served / 'by-file'}",
        f"{daemon_url}by-daemon",
        f"{daemon_url}no-such-repository",
        "",
        *(str(p) for p in slow),
    ]
    targets.write_text("\n".join(lines) + "\n")
    return World(root, targets, keys, shared, slow)


class Cluster(NamedTuple):
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]


# Worker settings the README recommends for audits: Dask's sampling profiler and its
# frequent system monitors take the GIL from CPU-bound tasks (about 25 % on 2 cores).
WORKER_ENV = {
    "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",
    "DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL": "10s",
    "DASK_DISTRIBUTED__WORKER__MEMORY__MONITOR_INTERVAL": "10s",
}


class Certificates(NamedTuple):
    """A CA of the test's own, and one certificate it signed for 127.0.0.1 (every node)."""

    ca: Path
    cert: Path
    key: Path

    def options(self) -> list[str]:
        return [
            "--tls-ca-file",
            str(self.ca),
            "--tls-cert",
            str(self.cert),
            "--tls-key",
            str(self.key),
        ]


def certificates(folder: Path) -> Certificates:
    """Made with the openssl command, as the README's readers would."""
    folder.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    ca, cert, key = folder / "ca.pem", folder / "node.pem", folder / "node-key.pem"
    openssl("req", "-x509", "-nodes", "-newkey", "rsa:2048", "-days", "2", "-subj", "/CN=test CA",
            "-keyout", "ca-key.pem", "-out", str(ca))  # fmt: skip
    openssl("req", "-nodes", "-newkey", "rsa:2048", "-subj", "/CN=node",
            "-keyout", str(key), "-out", "node.csr")  # fmt: skip
    (folder / "ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "node.csr", "-CA", str(ca), "-CAkey", "ca-key.pem",
            "-CAcreateserial", "-days", "2", "-extfile", "ext", "-out", str(cert))  # fmt: skip
    return Certificates(ca, cert, key)


@contextmanager
def dask_cluster(folder: Path, tls: Certificates | None = None) -> Iterator[Cluster]:
    """``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1; ``tls``: over
    tls://, every node presenting that certificate."""
    from distributed import Client
    from distributed.security import Security

    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "scheduler.json"
    log = (folder / "dask.log").open("wb")
    common = ["--no-dashboard", *(tls.options() if tls else [])]
    protocol = ["--protocol", "tls"] if tls else []
    security = (
        Security(
            tls_ca_file=str(tls.ca), tls_client_cert=str(tls.cert), tls_client_key=str(tls.key)
        )
        if tls
        else None
    )
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--scheduler-file",
            str(file),
            *protocol,
            *common,
        ],
        cwd=folder,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(200):
            if file.exists() and file.stat().st_size:
                break
            time.sleep(0.05)
        for n in range(2):
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "distributed.cli.dask_worker",
                        "--scheduler-file",
                        str(file),
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--host",
                        "127.0.0.1",
                        "--name",
                        f"w{n}",
                        "--local-directory",
                        str(folder / f"w{n}"),
                        *common,
                    ],
                    cwd=folder,
                    env={**os.environ, **WORKER_ENV},
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            )
        with Client(scheduler_file=str(file), timeout="30s", security=security) as client:
            client.wait_for_workers(2, timeout=60)
            address = client.scheduler.address
        yield Cluster(address, scheduler, workers)
    finally:
        for proc in [*workers, scheduler]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*workers, scheduler]:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
