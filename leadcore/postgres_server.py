"""A local PostgreSQL server from Debian's `postgresql` package, in a folder of its own: for trying
a dealer group on one machine (`python -m leadcore cluster`) and for the tests on both engines.

Production uses the group's managed PostgreSQL instead (README, "A dealer group"); nothing here
runs there. `initdb` refuses to run as root, so as root the server's programs run as the
`postgres` user the package creates, on a folder that user owns.
"""
from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
SUPERUSER = "leadcore"


def binary(name: str) -> str:
    """A PostgreSQL program: the newest Debian install, else PATH."""
    for folder in BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} was not found: install Debian's postgresql package "
                           "(apt-get install -y postgresql).")
    return found


def _as_owner(argv: list[str], folder: Path) -> list[str]:
    if os.geteuid() != 0:
        return argv
    owner = pwd.getpwuid(folder.stat().st_uid).pw_name
    return ["su", owner, "-s", "/bin/sh", "-c", shlex.join(argv)]


@dataclass
class LocalServer:
    """A PostgreSQL server listening on 127.0.0.1:port and a Unix socket in its folder."""

    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "pgdata"

    def url(self, database: str = "leadcore") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self, *, fsync: bool = True) -> LocalServer:
        """initdb when the folder is new, then start; returns once the server accepts connections."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # initdb refuses root: the folder and its server belong to the postgres user
            shutil.chown(self.folder, "postgres", "postgres")
            _let_postgres_through(self.folder)
        if not (self.data / "PG_VERSION").exists():
            self._run([binary("initdb"), "-D", str(self.data), "-A", "trust", "-U", SUPERUSER,
                       "-E", "UTF8", "--locale=C.UTF-8"])
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not fsync:     # the tests' throwaway servers: durability buys nothing there
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run([binary("pg_ctl"), "-D", str(self.data), "-o", options,
                   "-l", str(self.folder / "server.log"), "-w", "start"])
        return self

    def create_database(self, name: str = "leadcore", template: str | None = None) -> str:
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        self.psql(sql, database="postgres")
        return self.url(name)

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run([binary("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", "127.0.0.1",
                               "-p", str(self.port), "-U", SUPERUSER, "-d", database, "-c", sql],
                              capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists() and subprocess.run(
            [binary("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)], check=False).returncode == 0

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], check=False)

    def _run(self, argv: list[str], check: bool = True) -> None:
        done = subprocess.run(_as_owner(argv, self.folder), capture_output=True, text=True, check=False)
        if check and done.returncode:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{Path(argv[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}\n{tail}")


def _let_postgres_through(folder: Path) -> None:
    """The postgres user must be able to reach its folder: give its parents the x bit for others."""
    for parent in folder.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def wait_until_ready(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
