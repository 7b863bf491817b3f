"""A throwaway PostgreSQL server for the tests: ``initdb`` into a temp dir, listening on
127.0.0.1 only, stopped (``-m immediate``) at the end.

PostgreSQL refuses to run as root, and the tests run as root on CI machines: then every
server command runs as the ``postgres`` user, in a directory it owns.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

BINARIES = ("initdb", "pg_ctl", "postgres", "psql")
START_TIMEOUT_S = 120  # pg_ctl -w waits for the server to accept connections


def missing() -> str | None:
    """Why these tests cannot run here (None when they can): one line."""
    absent = [b for b in BINARIES if shutil.which(b) is None]
    if absent:
        return f"PostgreSQL binaries not on the PATH ({', '.join(absent)}): tests skipped"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a postgres user: PostgreSQL tests skipped"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One server in ``root`` (created, and owned by ``postgres`` when we are root)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "pg"
        self.log = root / "pg.log"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = list(argv)
        if self._as_postgres:
            command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT_S)
        if check and done.returncode:
            raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()}")
        return done

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self._pg_ctl("start")

    def _pg_ctl(self, action: str) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
            " -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", action)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)

    def restart(self) -> None:
        """Stop at once (as a crash would) and start again on the same port."""
        self.stop()
        self._pg_ctl("start")

    def psql(self, sql: str) -> str:
        result = self._run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-Atc",
            sql,
        )
        return result.stdout

    def url(self, schema: str | None = None) -> str:
        base = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        return f"{base}?search_path={schema}" if schema else base

    def fresh_schema(self) -> str:
        """A URL whose tables live in a new, empty schema of their own."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.psql(f"CREATE SCHEMA {name}")
        return self.url(name)


@contextlib.contextmanager
def running() -> Iterator[PostgresServer]:
    """A server in a new directory under the system's temp dir (pytest's own is private to
    root, where the ``postgres`` user cannot reach), removed at the end."""
    root = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
    server = PostgresServer(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
