"""A dealer group on one machine, for trying it (`python -m leadcore cluster`, `make cluster`)
and for the browser tests: several `streamlit run app.py` servers over one PostgreSQL database,
behind HAProxy (Debian's `haproxy`) on one address.

Why the proxy is set up so: a Streamlit session lives in the memory of the server that opened
it, over one long websocket. So the proxy is sticky (a cookie it inserts names the server, and
brings the browser's websocket and reloads back to it), lets an open websocket idle for an hour
(`timeout tunnel`; a tab stays open all day and reconnects after that), checks each server's
`/_stcore/health` every two seconds, and sends a browser whose server is down to another one
(`option redispatch`: that browser signs in again, its session was on the dead server).

Everything listens on 127.0.0.1 only. Production runs the same layout on several machines behind
the dealership's own load balancer (README, "A dealer group").
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from leadcore import db
from leadcore.errors import LeadcoreError
from leadcore.postgres_server import LocalServer

STICKY_COOKIE = "leadcore_server"
HEALTH = "/_stcore/health"
START_SECONDS = 90.0        # a cold first start imports pandas, pyarrow, altair...
HAPROXY_PACKAGE_HINT = "install Debian's haproxy package (apt-get install -y haproxy, or make cluster)"


def wait_healthy(url: str, process: subprocess.Popen, log: Path, seconds: float, name: str = "streamlit") -> None:
    """Wait until the server at `url` answers its health check; its log's tail when it will not."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LeadcoreError(f"{name} exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url + HEALTH, timeout=2) as answer:
                if answer.read() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise LeadcoreError(f"{name} not healthy after {seconds:.0f} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def server_name(number: int) -> str:
    """app1, app2, ...: HAProxy's name for a server and the value of the sticky cookie."""
    return f"app{number}"


def haproxy_config(port: int, app_ports: list[int]) -> str:
    """HAProxy's configuration for the app servers on 127.0.0.1:app_ports, served on 127.0.0.1:port."""
    servers = "\n".join(f"    server {server_name(n)} 127.0.0.1:{app_port} cookie {server_name(n)}"
                        for n, app_port in enumerate(app_ports, start=1))
    return f"""# Written by leadcore/cluster.py (python -m leadcore cluster) on every start: edit that instead.
global
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 1m
    timeout server 1m
    # An open Streamlit websocket is quiet between clicks: once upgraded, it may idle an hour.
    timeout tunnel 1h
    timeout client-fin 10s
    timeout http-request 10s
    # The sticky server is down: send the browser to another one (it signs in again there).
    option redispatch
    retries 2

frontend leadcore
    bind 127.0.0.1:{port}
    default_backend app_servers

backend app_servers
    balance roundrobin
    # Sticky sessions: a Streamlit session lives in one server's memory.
    cookie {STICKY_COOKIE} insert indirect nocache httponly
    option httpchk GET {HEALTH}
    http-check expect string ok
    default-server check inter 2s fall 2 rise 2
{servers}
"""


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if Path(p).exists()), None)
    if not found:
        raise LeadcoreError(f"HAProxy was not found: {HAPROXY_PACKAGE_HINT}.")
    return found


@dataclass
class Cluster:
    """N app servers on 127.0.0.1:port+1..port+N over `database_url`, HAProxy on 127.0.0.1:port.

    `env`: more environment for the servers (the tests pin the clock and the tick). Logs and
    haproxy.cfg go to `folder`. A context manager: leaving it stops everything it started.
    """

    folder: Path
    port: int
    database_url: str
    servers: int = 3
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def app_ports(self) -> dict[str, int]:
        """app1 -> port+1, app2 -> port+2, ..."""
        return {server_name(n): self.port + n for n in range(1, self.servers + 1)}

    def app_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.app_ports[name]}"

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def start(self) -> Cluster:
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            for name, app_port in self.app_ports.items():
                self._spawn(name, self._streamlit(app_port))
            # The proxy only once every server answers: one it found down at its start would be
            # taken in only after two passed checks, and its first browsers sent elsewhere.
            for name in self.app_ports:
                self._wait_healthy(name, self.app_url(name))
            config = self.folder / "haproxy.cfg"
            config.write_text(haproxy_config(self.port, list(self.app_ports.values())), encoding="utf-8")
            # -db: in the foreground, so it is our child and stops with us.
            self._spawn("haproxy", [haproxy_binary(), "-db", "-f", str(config)])
            self._wait_healthy("haproxy", self.url)
        except BaseException:
            self.stop()
            raise
        return self

    def _streamlit(self, port: int) -> list[str]:
        return [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                "--server.address", "127.0.0.1", "--server.port", str(port),
                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]

    def _spawn(self, name: str, argv: list[str]) -> None:
        env = dict(os.environ, LEADCORE_DATABASE_URL=self.database_url, **self.env)
        with self.log(name).open("w") as out:
            # A session of its own: Ctrl-C reaches only the cluster command, which stops the
            # children in order (the proxy first, so nobody is sent to a stopping server).
            self.processes[name] = subprocess.Popen(argv, cwd=db.PROJECT_ROOT, env=env, stdout=out,
                                                    stderr=subprocess.STDOUT, start_new_session=True)

    def _wait_healthy(self, name: str, url: str) -> None:
        wait_healthy(url, self.processes[name], self.log(name), START_SECONDS, name)

    def tail(self, name: str) -> str:
        return _tail(self.log(name))

    def exited(self) -> dict[str, int]:
        """The children that have stopped on their own, with their exit codes."""
        return {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}

    def kill(self, name: str) -> None:
        """SIGKILL one server (the tests: a server that dies without a word)."""
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait()

    def stop(self) -> None:
        """The proxy first, then the app servers: SIGTERM, and SIGKILL after 10 s."""
        order = sorted(self.processes, key=lambda name: name != "haproxy")
        for name in order:
            if self.processes[name].poll() is None:
                self.processes[name].terminate()
        for name in order:
            try:
                self.processes[name].wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.processes[name].kill()
                self.processes[name].wait()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def local_postgres(folder: Path, port: int) -> tuple[LocalServer, str]:
    """Debian's PostgreSQL in `folder` (initdb the first time), with the database `leadcore`;
    returns the server and the database's URL."""
    server = LocalServer(folder, port)
    if not server.running():
        server.start()
    if not server.psql("SELECT 1 FROM pg_database WHERE datname = 'leadcore'").strip():
        server.create_database("leadcore")
    return server, server.url("leadcore")


def run(servers: int, port: int, postgres_port: int, demo_leads: int) -> None:
    """The `cluster` command: PostgreSQL in data/postgres/, demo data when the database is empty,
    the app servers and HAProxy; runs until Ctrl-C (or SIGTERM), then stops all of it."""
    haproxy_binary()        # missing: say so before anything starts
    data = db.PROJECT_ROOT / "data"
    print(f"PostgreSQL in {data / 'postgres'} on 127.0.0.1:{postgres_port} ...", flush=True)
    postgres, url = local_postgres(data / "postgres", postgres_port)
    for stopping in (signal.SIGINT, signal.SIGTERM):   # SIGINT too: a shell's `&` ignores it
        signal.signal(stopping, _interrupt)
    try:
        subprocess.run([sys.executable, "-m", "leadcore", "demo", "--if-empty", "--leads", str(demo_leads)],
                       cwd=db.PROJECT_ROOT, env=dict(os.environ, LEADCORE_DATABASE_URL=url), check=True)
        group = Cluster(data / "cluster", port, url, servers)
        print(f"Starting {servers} app servers and HAProxy (logs in {group.folder}) ...", flush=True)
        with group:
            for name, app_port in group.app_ports.items():
                print(f"  {name}: http://127.0.0.1:{app_port}")
            print(f"The dealer group is at {group.url} (LEADCORE_DATABASE_URL={url}). Ctrl-C stops it all.",
                  flush=True)
            try:
                _watch(group)
            except KeyboardInterrupt:
                print("\nStopping HAProxy, the app servers and PostgreSQL ...", flush=True)
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
    finally:
        postgres.stop()
    print("Stopped.")


def _interrupt(signum, frame) -> None:
    # SIGTERM (a service manager, kill) stops as cleanly as Ctrl-C does.
    raise KeyboardInterrupt


def _watch(group: Cluster) -> None:
    """Until HAProxy stops: say when an app server stops (the others serve on, HAProxy routes
    around it; the group's jobs move to another server within a tick)."""
    reported: set[str] = set()
    while "haproxy" not in group.exited():
        for name, code in group.exited().items():
            if name not in reported:
                print(f"{name} stopped (exit {code}); see {group.log(name)}", flush=True)
                reported.add(name)
        time.sleep(1)
    raise LeadcoreError(f"HAProxy stopped:\n{group.tail('haproxy')}")
