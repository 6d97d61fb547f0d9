"""Websocket load generator: N signed-in sessions rerunning a leadcore page over Streamlit's protocol.

It starts two real ``streamlit run`` servers on 127.0.0.1 (leadcore's ``app.py`` on the given
database, and ``benchmarks/trivial_app.py`` as the baseline), opens N websocket sessions on
``/_stcore/stream`` per server, and speaks the browser's protocol (``BackMsg.rerun_script`` with a
``ClientState``; ``ForwardMsg`` deltas back until ``script_finished``):

1. the first run shows app.py's sign-in form; the session finds the "Username" and "Password"
   text inputs and the form's submit button in the received deltas and sends one rerun with their
   widget states filled in, as the browser does on "Sign in";
2. after sign-in it reads the page table from the ``navigation`` message and reruns the target page
   (Leads = the default page, or another page by its url path, e.g. ``dashboard``) back to back:
   send a rerun, wait for ``script_finished``, record the latency, repeat, until the window ends
   or the rerun cap is reached.

With ``--database-url postgresql://...`` the leadcore servers run on that PostgreSQL database
(LEADCORE_DATABASE_URL; no ``--db``), and with ``--servers N`` the generator starts N leadcore
servers and HAProxy in front (leadcore.cluster's configuration: round-robin over new connections,
so each session's websocket stays on the server it was given); the sessions connect to HAProxy and
the report counts the sessions each server got (HAProxy's sticky cookie on the websocket's answer).

Per (page, N sessions) it reports p50/p95 latency, reruns per second in all, the server's CPU per
rerun (utime+stime of the server process, all its threads, from /proc/<pid>/stat before and after
the window, divided by the reruns in it; summed over all leadcore servers), PostgreSQL's CPU per rerun
(all processes of the local cluster listening on the URL's port: postmaster, backends, and the
backends that exited in the window via the postmaster's cutime+cstime) and the server's RSS, beside the trivial page measured
the same way in the same run. Output is a Markdown table.

    python -m benchmarks.load --db /tmp/load/bench1m.duckdb --pages leads dashboard \
        --sessions 1 5 10 --seconds 20 [--server-arg --runner.postScriptGC=false]
    python -m benchmarks.load --database-url postgresql://leadcore@127.0.0.1:55432/bench1m \
        --servers 2 --sessions 5 10 --seconds 20 --no-trivial

Bounded and loopback only: the servers listen on 127.0.0.1 and the sessions connect there only;
at most 100 sessions, 8 leadcore servers, 300 s per window and 100,000 reruns per session and
window; a --database-url must name 127.0.0.1 or localhost. Every server (and HAProxy) is stopped
at the end, also on Ctrl-C, SIGTERM or an error.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
MAX_SESSIONS = 100
MAX_SECONDS = 300
MAX_RERUNS = 100_000
MAX_SERVERS = 8
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
DEFAULT_NOW = "2026-11-27T10:00:00+01:00"   # leadcore's BENCH_NOW: make the demo database with it
DEFAULT_PASSWORD = "demo1234"
RERUN_TIMEOUT = 180.0                       # seconds one rerun may take before the run fails
SERVER_FLAGS = ["--server.headless", "true", "--server.fileWatcherType", "none",
                "--browser.gatherUsageStats", "false", "--server.runOnSave", "false"]
REFUSED_SERVER_ARGS = ("--server.address", "--server.port", "--server.headless")
ROOT = Path(__file__).resolve().parent.parent
TRIVIAL_APP = Path(__file__).resolve().parent / "trivial_app.py"
CLK_TCK = os.sysconf("SC_CLK_TCK")


class LoadError(Exception):
    """A failure worth one line on stderr (the servers are stopped all the same)."""


# --------------------------------------------------------------------------------------- servers

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads, /proc/<pid>/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak RSS) of the process in MB."""
    found = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    return found


def thread_cpu_seconds(pid: int) -> float:
    """The same sum over /proc/<pid>/task/*/stat (live threads only); a cross-check."""
    total = 0.0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        except FileNotFoundError:
            pass
    return total


class Server:
    """One ``streamlit run`` subprocess on 127.0.0.1 and a free port, in its own process group."""

    def __init__(self, name: str, script: Path, cwd: Path, env: dict[str, str], args: list[str],
                 python: str, log_dir: Path) -> None:
        self.name, self.script, self.cwd, self.env, self.args = name, script, cwd, env, args
        self.python, self.log_path = python, log_dir / f"{name}.log"
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def command(self) -> list[str]:
        return [self.python, "-m", "streamlit", "run", str(self.script),
                "--server.address", HOST, "--server.port", str(self.port), *SERVER_FLAGS, *self.args]

    def start(self, timeout: float = 90.0) -> Server:
        self.port = free_port()
        cmd = self.command()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise LoadError(f"{self.name} server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        raise LoadError(f"{self.name} server not healthy after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)     # the group this script created (start_new_session)
            except ProcessLookupError:
                return
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def cpu(self) -> float:
        return proc_cpu_seconds(self.pid)

    def memory(self) -> dict[str, float]:
        return proc_memory_mb(self.pid)


class Proxy(Server):
    """HAProxy on 127.0.0.1 and a free port in front of the app servers, with leadcore.cluster's
    configuration (the one `python -m leadcore cluster` runs); -db keeps it our child."""

    def __init__(self, app_ports: list[int], log_dir: Path) -> None:
        super().__init__("haproxy", log_dir / "haproxy.cfg", log_dir, dict(os.environ), [], "", log_dir)
        self.app_ports = app_ports

    def command(self) -> list[str]:
        from leadcore import cluster
        self.script.write_text(cluster.haproxy_config(self.port, self.app_ports), encoding="utf-8")
        return [cluster.haproxy_binary(), "-db", "-f", str(self.script)]


def postmaster_pid(port: int) -> int | None:
    """The local PostgreSQL postmaster started with `-p port` (as leadcore.postgres_server does)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"/postgres") and b"-p" in argv and \
                argv[argv.index(b"-p") + 1:argv.index(b"-p") + 2] == [str(port).encode()]:
            return int(entry)
    return None


def postgres_cpu_seconds(postmaster: int) -> float:
    """utime+stime of the postmaster and its live children (backends, checkpointer, ...), plus the
    postmaster's cutime+cstime: the children that exited and were reaped."""
    with open(f"/proc/{postmaster}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    total = sum(int(x) for x in fields[11:15]) / CLK_TCK
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or entry == str(postmaster):
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:          # field 4: the parent
                total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        except (OSError, IndexError, ValueError):
            pass
    return total


@dataclass
class Group:
    """What the sessions of one kind talk to: one server, or several behind HAProxy."""

    name: str
    servers: list[Server]
    proxy: Proxy | None = None
    postmaster: int | None = None        # the PostgreSQL they run on, when local

    @property
    def port(self) -> int:
        return (self.proxy or self.servers[0]).port

    @property
    def pid(self) -> int:                # --profile: one server only
        return self.servers[0].pid

    def cpu(self) -> float:
        return sum(s.cpu() for s in self.servers)

    def cpu_each(self) -> list[float]:
        return [s.cpu() for s in self.servers]

    def postgres_cpu(self) -> float | None:
        return postgres_cpu_seconds(self.postmaster) if self.postmaster else None

    def memory(self) -> dict[str, float]:
        """VmRSS and VmHWM summed over the servers."""
        each = [s.memory() for s in self.servers]
        return {key: sum(m[key] for m in each) for key in ("VmRSS", "VmHWM")}

    def log_tail(self) -> str:
        return "\n".join(f"--- {s.name} ---\n{s.log_tail()}" for s in self.servers + [self.proxy] if s)


# -------------------------------------------------------------------------------------- sessions

def _proto():
    """Streamlit's protobufs (imported late so ``--help`` stays fast)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
    return BackMsg, ClientState, ContextInfo, ForwardMsg, WidgetState, WidgetStates


@dataclass
class RunResult:
    seconds: float = 0.0
    status: str = ""
    page_script_hash: str = ""          # from new_session: the page the server ran
    navigation: object | None = None     # the last Navigation message of the run
    elements: list = field(default_factory=list)   # (type, element) when collected
    exceptions: list[str] = field(default_factory=list)
    page_not_found: bool = False
    fragment_ids: set[str] = field(default_factory=set)   # fragments whose deltas the run sent
    messages: int = 0
    bytes: int = 0


class Session:
    """One browser tab: a websocket on /_stcore/stream and the frontend's rerun protocol."""

    def __init__(self, port: int, timezone: str = "Europe/Berlin") -> None:
        self.port, self.timezone = port, timezone
        self.ws = None
        self.cached_hashes: set[str] = set()   # like the frontend's message cache
        self.pages: dict[str, str] = {}         # url path -> page_script_hash (after sign-in)
        self.default_page_hash = ""
        self.main_hash = ""
        self.backend = ""                       # behind HAProxy: the server it was sent to

    async def open(self) -> None:
        from websockets.asyncio.client import connect
        self.ws = await connect(f"ws://{HOST}:{self.port}/_stcore/stream", subprotocols=["streamlit"],
                                origin=f"http://{HOST}:{self.port}", max_size=None,
                                ping_interval=None, open_timeout=60, close_timeout=5)
        from leadcore.cluster import STICKY_COOKIE
        for cookie in self.ws.response.headers.get_all("Set-Cookie"):
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if name.strip() == STICKY_COOKIE:
                self.backend = value.strip()

    async def close(self) -> None:
        if self.ws is not None:
            with suppress(Exception):            # closing a broken socket is fine
                await self.ws.close()
            self.ws = None

    def client_state(self, page_script_hash: str = "", page_name: str = "", widget_states=None,
                     fragment_id: str = ""):
        """A rerun of the page, or with fragment_id only of that fragment (as a click in it does)."""
        _, ClientState, ContextInfo, _, _, WidgetStates = _proto()
        state = ClientState(query_string="", page_script_hash=page_script_hash, page_name=page_name,
                            fragment_id=fragment_id, widget_states=widget_states or WidgetStates(),
                            context_info=ContextInfo(timezone=self.timezone, timezone_offset=-60,
                                                     locale="en-US", url=f"http://{HOST}:{self.port}/",
                                                     is_embedded=False, color_scheme="light"))
        state.cached_message_hashes.extend(sorted(self.cached_hashes))
        return state

    async def run(self, state, collect: bool = False) -> RunResult:
        """Send one rerun_script and read ForwardMsgs until the run has finished."""
        BackMsg, _, _, ForwardMsg, _, _ = _proto()
        back = BackMsg()
        back.rerun_script.CopyFrom(state)
        result = RunResult()
        started = time.perf_counter()
        await self.ws.send(back.SerializeToString())
        finished = ForwardMsg.ScriptFinishedStatus
        while True:
            async with asyncio.timeout(RERUN_TIMEOUT):   # not wait_for: it can swallow Ctrl-C in 3.11
                data = await self.ws.recv()
            msg = ForwardMsg()
            msg.ParseFromString(data)
            result.messages += 1
            result.bytes += len(data)
            if msg.metadata.cacheable and msg.hash:
                self.cached_hashes.add(msg.hash)
            kind = msg.WhichOneof("type")
            if kind == "delta":
                if msg.delta.fragment_id:
                    result.fragment_ids.add(msg.delta.fragment_id)
                if msg.delta.WhichOneof("type") == "new_element":
                    element = msg.delta.new_element
                    etype = element.WhichOneof("type")
                    if etype == "exception":
                        result.exceptions.append(f"{element.exception.type}: {element.exception.message}")
                    if collect:
                        result.elements.append((etype, element))
            elif kind == "new_session":      # a run starts (again, after st.rerun)
                result.elements.clear()
                result.navigation = None
                result.page_script_hash = msg.new_session.page_script_hash
                self.main_hash = msg.new_session.main_script_hash
            elif kind == "navigation":
                result.navigation = msg.navigation
            elif kind == "page_not_found":
                result.page_not_found = True
            elif kind == "script_finished":
                status = msg.script_finished
                if status == finished.Value("FINISHED_EARLY_FOR_RERUN"):
                    continue                     # st.rerun()/switch_page: the next run follows
                result.status = finished.Name(status)
                break
        result.seconds = time.perf_counter() - started
        return result

    async def sign_in(self, username: str, password: str) -> RunResult:
        """Sign in through app.py's real form; returns the first signed-in run."""
        _, _, _, _, WidgetState, WidgetStates = _proto()
        first = await self.run(self.client_state(), collect=True)
        if first.exceptions:
            raise LoadError(f"sign-in page failed: {first.exceptions[0]}")
        ids = {}
        for etype, element in first.elements:
            if etype == "text_input" and element.text_input.label in ("Username", "Password"):
                ids[element.text_input.label] = element.text_input.id
            elif etype == "button" and element.button.is_form_submitter:
                ids["submit"] = element.button.id
        if set(ids) != {"Username", "Password", "submit"}:
            raise LoadError(f"no sign-in form found (got {sorted(ids)}); is this leadcore's app.py?")
        states = WidgetStates(widgets=[WidgetState(id=ids["Username"], string_value=username),
                                       WidgetState(id=ids["Password"], string_value=password),
                                       WidgetState(id=ids["submit"], trigger_value=True)])
        signed_in = await self.run(self.client_state(first.page_script_hash, widget_states=states),
                                   collect=True)
        labels = {e.text_input.label for t, e in signed_in.elements if t == "text_input"}
        nav = signed_in.navigation
        if "Username" in labels or nav is None or len(nav.app_pages) < 2:
            errors = [e.alert.body for t, e in signed_in.elements if t == "alert"]
            raise LoadError(f"sign-in as {username!r} failed: {errors or signed_in.exceptions or 'no pages'}")
        for page in nav.app_pages:
            self.pages[page.url_pathname] = page.page_script_hash
            if page.is_default:
                self.default_page_hash = page.page_script_hash
                self.pages.setdefault("", page.page_script_hash)
        return signed_in

    def page_hash(self, page: str) -> str:
        if page in ("", "leads") and self.default_page_hash:
            return self.pages.get("leads", self.default_page_hash)
        if page not in self.pages:
            raise LoadError(f"page {page!r} is not in this user's navigation: {sorted(self.pages)}")
        return self.pages[page]


# ----------------------------------------------------------------------------------- measurement

def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass
class Row:
    server: str
    page: str
    sessions: int
    reruns: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    max_ms: float = 0.0
    reruns_per_s: float = 0.0
    cpu_ms_per_rerun: float = 0.0
    server_cpu_pct: float = 0.0          # of one core, over the window
    client_cpu_pct: float = 0.0          # the load generator's own CPU over the window
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    rss_max_mb: float = 0.0
    hwm_mb: float = 0.0
    errors: int = 0
    error_sample: str = ""
    kb_per_rerun: float = 0.0
    rss_samples: list = field(default_factory=list)
    servers: int = 1
    postgres_cpu_ms_per_rerun: float | None = None    # None: not on a local PostgreSQL
    sessions_per_server: dict = field(default_factory=dict)   # HAProxy's server name -> sessions
    cpu_pct_per_server: list = field(default_factory=list)


async def open_sessions(server: Group, n: int, signed_in: bool, user: str, password: str) -> list[Session]:
    sessions = [Session(server.port) for _ in range(n)]
    await asyncio.gather(*(s.open() for s in sessions))
    for i in range(0, n, 10):                  # sign in ten at a time (password hashing is costly)
        batch = sessions[i:i + 10]
        if signed_in:
            await asyncio.gather(*(s.sign_in(user, password) for s in batch))
        else:
            await asyncio.gather(*(s.run(s.client_state()) for s in batch))
    return sessions


async def measure(server: Group, page: str, n: int, seconds: float, max_reruns: int, warmup: int,
                  user: str, password: str, rss_every: float = 0.0, log=print) -> Row:
    """N sessions rerun one page back to back for `seconds` (or max_reruns each).

    A page named "leads#fragment" reruns only the page's fragment (the Leads list), as a
    filter or pager click does: the page runs fully once, then its fragment over and over."""
    signed_in = server.name == "leadcore"
    row = Row(server.name, page if signed_in else "trivial", n, servers=len(server.servers))
    page, _hash, mode = page.partition("#")
    sessions = await open_sessions(server, n, signed_in, user, password)
    try:
        targets = [s.page_hash(page) if signed_in else s.main_hash for s in sessions]
        fragments = [""] * n
        if mode == "fragment":
            for i, s in enumerate(sessions):
                first = await s.run(s.client_state(targets[i]))
                if not first.fragment_ids:
                    raise LoadError(f"{page}: the page drew no fragment")
                fragments[i] = min(first.fragment_ids)     # the Leads list page draws one

        async def rerun(i: int) -> RunResult:
            s = sessions[i]
            result = await s.run(s.client_state(targets[i], fragment_id=fragments[i]))
            if result.status not in ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"):
                result.exceptions.append(f"script finished with {result.status}")
            if result.page_not_found:
                result.exceptions.append("page not found")
            if signed_in and not fragments[i] and (result.navigation is None
                                                   or result.navigation.page_script_hash != targets[i]):
                result.exceptions.append("the server ran another page")
            if fragments[i] and result.status != "FINISHED_FRAGMENT_RUN_SUCCESSFULLY":
                result.exceptions.append("the server ran more than the fragment")
            return result

        async def warm(i: int) -> None:
            for _ in range(warmup):
                result = await rerun(i)
                if result.exceptions:
                    raise LoadError(f"{row.page}: {result.exceptions[0]}")

        await asyncio.gather(*(warm(i) for i in range(n)))

        latencies: list[float] = []
        errors: list[str] = []
        total_bytes = 0
        row.sessions_per_server = dict(sorted(Counter(s.backend or "direct" for s in sessions).items()))
        memory0 = server.memory()
        each0, pg0 = server.cpu_each(), server.postgres_cpu()
        cpu0, usage0 = server.cpu(), resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        deadline = t0 + seconds
        stop_sampling = asyncio.Event()

        async def sample_rss() -> None:
            while not stop_sampling.is_set():
                try:
                    async with asyncio.timeout(rss_every):
                        await stop_sampling.wait()
                except TimeoutError:
                    mb = server.memory()["VmRSS"]
                    row.rss_samples.append((round(time.perf_counter() - t0), round(mb)))
                    log(f"    t={time.perf_counter() - t0:5.0f} s  RSS {mb:7.1f} MB  "
                        f"reruns so far {len(latencies)}")

        async def loop(i: int) -> None:
            nonlocal total_bytes
            done = 0
            while done < max_reruns and time.perf_counter() < deadline:
                result = await rerun(i)
                latencies.append(result.seconds)
                total_bytes += result.bytes
                errors.extend(result.exceptions)
                done += 1

        sampler = asyncio.create_task(sample_rss()) if rss_every > 0 else None
        await asyncio.gather(*(loop(i) for i in range(n)))
        t1 = time.perf_counter()
        cpu1, usage1 = server.cpu(), resource.getrusage(resource.RUSAGE_SELF)
        each1, pg1 = server.cpu_each(), server.postgres_cpu()
        stop_sampling.set()
        if sampler:
            await sampler
        memory1 = server.memory()
    finally:
        await asyncio.gather(*(s.close() for s in sessions))

    elapsed = t1 - t0
    client_cpu = (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
    row.reruns, row.seconds = len(latencies), elapsed
    row.p50_ms = percentile(latencies, 0.50) * 1000
    row.p95_ms = percentile(latencies, 0.95) * 1000
    row.max_ms = max(latencies, default=0.0) * 1000
    row.reruns_per_s = len(latencies) / elapsed if elapsed else 0.0
    row.cpu_ms_per_rerun = (cpu1 - cpu0) * 1000 / len(latencies) if latencies else float("nan")
    row.server_cpu_pct = (cpu1 - cpu0) * 100 / elapsed if elapsed else 0.0
    row.cpu_pct_per_server = [round((b - a) * 100 / elapsed) if elapsed else 0 for a, b in zip(each0, each1)]
    if pg0 is not None and pg1 is not None and latencies:
        row.postgres_cpu_ms_per_rerun = (pg1 - pg0) * 1000 / len(latencies)
    row.client_cpu_pct = client_cpu * 100 / elapsed if elapsed else 0.0
    row.rss_start_mb, row.rss_end_mb = memory0["VmRSS"], memory1["VmRSS"]
    row.rss_max_mb = max([memory0["VmRSS"], memory1["VmRSS"]] + [mb for _, mb in row.rss_samples])
    row.hwm_mb = memory1["VmHWM"]
    row.errors = len(errors)
    row.error_sample = errors[0] if errors else ""
    row.kb_per_rerun = total_bytes / 1024 / len(latencies) if latencies else 0.0
    return row


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def markdown_table(rows: list[Row], trivial: dict[int, Row]) -> str:
    lines = [("| Page | Servers | Sessions | Reruns | Reruns/s | p50 ms | p95 ms | Server CPU ms/rerun "
              "| PostgreSQL CPU ms/rerun | CPU × trivial | Reruns/s ÷ trivial | Server CPU % "
              "| RSS start→end MB | Errors |"),
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        base = trivial.get(r.sessions)
        if base and r is not base and base.cpu_ms_per_rerun and base.reruns_per_s:
            ratio_cpu = f"{r.cpu_ms_per_rerun / base.cpu_ms_per_rerun:.1f}×"
            ratio_rate = f"{r.reruns_per_s / base.reruns_per_s:.2f}"
        else:
            ratio_cpu = ratio_rate = "1" if r is base else "–"
        name = "Trivial (5 lines)" if r.server == "trivial" else r.page.capitalize()
        postgres = "–" if r.postgres_cpu_ms_per_rerun is None else f"{r.postgres_cpu_ms_per_rerun:.1f}"
        cpu_pct = "+".join(str(p) for p in r.cpu_pct_per_server) if r.servers > 1 else f"{r.server_cpu_pct:.0f}"
        lines.append(f"| {name} | {r.servers} | {r.sessions} | {r.reruns} | {r.reruns_per_s:.1f} | {r.p50_ms:.0f} "
                     f"| {r.p95_ms:.0f} | {r.cpu_ms_per_rerun:.1f} | {postgres} | {ratio_cpu} | {ratio_rate} "
                     f"| {cpu_pct} | {r.rss_start_mb:.0f}→{r.rss_end_mb:.0f} | {r.errors} |")
    return "\n".join(lines)


# -------------------------------------------------------------------------------------- profiling

def parse_collapsed(path: Path, only: str = "") -> tuple[Counter, Counter, int]:
    """py-spy's raw (collapsed) output -> (inclusive samples, self samples, total) per frame.

    only: keep the stacks that contain a frame with this text (e.g. the script thread's)."""
    inclusive, own, total = Counter(), Counter(), 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit() or only not in stack:
            continue
        n = int(count)
        total += n
        frames = [short_frame(f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    return inclusive, own, total


PLUMBING = ("(threading.py)", "(click/", "(<frozen runpy>)", "(streamlit/web/cli.py)",
            "(streamlit/web/bootstrap.py)", "(streamlit/__main__.py)", "(asyncio/runners.py)",
            "BaseEventLoop.run_forever ", "ScriptRunner._run_script_thread ", "ScriptRunner._run_script ",
            "exec_func_with_error_handling ", "code_to_exec ")


def short_frame(frame: str) -> str:
    """'func (path/to/file.py:12)' -> 'func (file.py or leadcore/x.py)' without the line number."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    else:
        where = where.replace(str(ROOT) + "/", "")
        for marker in ("/leadcore/", "/pages/"):
            if marker in where:
                where = marker.strip("/") + "/" + where.split(marker, 1)[1]
    return f"{name} ({where})"


def cost_table(raw: Path, rate: int, reruns: int, top: int, only: str = "") -> tuple[list[str], int]:
    inclusive, own, total = parse_collapsed(raw, only)
    ms = 1000 / rate / reruns                  # one sample = 1/rate s of one thread's time
    lines = ["| # | Cumulative ms/rerun | % | Self ms/rerun | Function (file) |", "|---:|---:|---:|---:|---|"]
    ranked = [(f, c) for f, c in inclusive.most_common() if not any(p in f for p in PLUMBING)]
    for i, (frame, count) in enumerate(ranked[:top], 1):
        lines.append(f"| {i} | {count * ms:.1f} | {count * 100 / max(total, 1):.0f} % "
                     f"| {own[frame] * ms:.1f} | `{frame}` |")
    lines += ["", "Top self time: " + "; ".join(f"`{f}` {c * ms:.1f} ms" for f, c in own.most_common(8)), ""]
    ours = [(f, c) for f, c in inclusive.most_common()
            if f.split(" (", 1)[-1].startswith(("leadcore/", "pages/", "app.py"))]
    lines += ["Top leadcore/app frames (cumulative ms/rerun): "
              + "; ".join(f"`{f}` {c * ms:.1f}" for f, c in ours[:top]), ""]
    return lines, total


async def profile(server: Group, page: str, reruns: int, py_spy: str, rate: int, out_dir: Path,
                  user: str, password: str, top: int) -> str:
    """One session, `reruns` sequential reruns of the page under py-spy, twice: sampling the GIL
    holder (--gil: the process's one-core bottleneck) and every thread (the script thread's wall
    time, DuckDB and GIL waits included). Returns Markdown tables of the costs per rerun."""
    signed_in = server.name == "leadcore"
    label = page if signed_in else "trivial"
    sessions = await open_sessions(server, 1, signed_in, user, password)
    s = sessions[0]
    out = [f"#### {label.capitalize()}: {reruns} sequential reruns by one session, py-spy at {rate} Hz", ""]
    try:
        target = s.page_hash(page) if signed_in else s.main_hash
        for _ in range(3):
            await s.run(s.client_state(target))
        for mode in ("gil", "script"):
            raw = out_dir / f"pyspy-{label}-{mode}.txt"
            # py-spy starts at once and runs beside the loop
            spy = subprocess.Popen([py_spy, "record", "--pid", str(server.pid), "--format", "raw",  # noqa: ASYNC220
                                    "--rate", str(rate), "--output", str(raw), "--full-filenames"]
                                   + (["--gil"] if mode == "gil" else []),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            await asyncio.sleep(1.5)                 # py-spy attaches
            if spy.poll() is not None:
                raise LoadError(f"py-spy failed: {spy.stderr.read().decode(errors='replace')[-500:]}")
            cpu0, t0 = server.cpu(), time.perf_counter()
            wall = []
            for _ in range(reruns):
                wall.append((await s.run(s.client_state(target))).seconds)
            cpu1, elapsed = server.cpu(), time.perf_counter() - t0
            await asyncio.sleep(0.3)
            spy.send_signal(signal.SIGINT)
            try:
                spy.wait(30)
            except subprocess.TimeoutExpired:
                spy.kill()
            if mode == "gil":
                table, total = cost_table(raw, rate, reruns, top)
                out += [(f"**GIL holder** (py-spy --gil): wall per rerun p50 {percentile(wall, .5) * 1000:.0f} ms, "
                         f"server CPU {(cpu1 - cpu0) * 1000 / reruns:.0f} ms per rerun (py-spy overhead "
                         f"included), GIL held {total * 1000 / rate / reruns:.0f} ms per rerun "
                         f"({total / rate * 100 / elapsed:.0f} % of the window). DuckDB's threads run "
                         "without the GIL and do not show here."), "", *table]
            else:
                table, total = cost_table(raw, rate, reruns, top, only="_run_script ")
                out += [("**Script thread wall time** (all samples of the ScriptRunner thread inside a "
                         "run, waits for DuckDB and for the GIL included): wall per rerun p50 "
                         f"{percentile(wall, .5) * 1000:.0f} ms, {total * 1000 / rate / reruns:.0f} ms "
                         "sampled per rerun."), "", *table]
            shutil.copy(raw, Path(tempfile.gettempdir()) / raw.name)
    finally:
        await asyncio.gather(*(x.close() for x in sessions))
    return "\n".join(out)


# --------------------------------------------------------------------------------------------- CLI

def split_server_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """`--server-arg X` takes the next word even when it starts with '--' (argparse would not)."""
    rest, server_args, i = [], [], 0
    while i < len(argv):
        word = argv[i]
        if word == "--server-arg":
            if i + 1 >= len(argv):
                raise SystemExit("--server-arg needs a value, e.g. --server-arg --runner.postScriptGC=false")
            server_args.append(argv[i + 1])
            i += 2
            continue
        if word.startswith("--server-arg="):
            server_args.append(word.split("=", 1)[1])
        else:
            rest.append(word)
        i += 1
    expanded = []
    for arg in server_args:
        expanded += arg.split() if " " in arg.strip() else [arg]
    return rest, expanded


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  python -m benchmarks.load --db /tmp/load/bench1m.duckdb --pages leads dashboard "
               "--sessions 1 5 10 --seconds 20 --server-arg --runner.postScriptGC=false\n"
               "  python -m benchmarks.load --db DB --pages leads dashboard --profile 30 --py-spy PATH\n"
               "--server-arg X passes X to `streamlit run` (repeatable; X may start with --).")
    p.add_argument("--db", help="the DuckDB file (a demo database; not held by another process)")
    p.add_argument("--database-url", help="run the leadcore servers on this PostgreSQL database instead "
                                          "(LEADCORE_DATABASE_URL; 127.0.0.1 or localhost only)")
    p.add_argument("--servers", type=int, default=1,
                   help="leadcore servers; above 1 they run behind HAProxy (needs --database-url)")
    p.add_argument("--pages", nargs="+", default=["leads"],
                   help="url paths of leadcore pages (leads = the default page, dashboard, contacts, ...);"
                        " leads#fragment reruns only the list fragment, as a filter or pager click does")
    p.add_argument("--sessions", nargs="+", type=int, default=[1, 5, 10])
    p.add_argument("--seconds", type=float, default=20.0, help="measured window per (page, sessions)")
    p.add_argument("--max-reruns", type=int, default=5000, help="rerun cap per session and window")
    p.add_argument("--warmup", type=int, default=2, help="unmeasured reruns per session first")
    p.add_argument("--user", default="manager")
    p.add_argument("--password", default=DEFAULT_PASSWORD)
    p.add_argument("--host", default=HOST, help="must be 127.0.0.1 (loopback only)")
    p.add_argument("--app", default=str(ROOT / "app.py"), help="leadcore's app.py")
    p.add_argument("--now", default=DEFAULT_NOW, help="LEADCORE_NOW for the server ('' = real clock)")
    p.add_argument("--scheduler", choices=("off", "on"), default="off",
                   help="the servers' background scheduler (LEADCORE_SCHEDULER; on = leadcore's default)")
    p.add_argument("--no-trivial", action="store_true", help="skip the trivial baseline")
    p.add_argument("--rss-every", type=float, default=0.0, help="print the server's RSS every S seconds")
    p.add_argument("--python", default=sys.executable, help="interpreter that runs streamlit")
    p.add_argument("--json", help="also write the rows to this JSON file")
    p.add_argument("--profile", type=int, default=0, metavar="RERUNS",
                   help="instead of the load: py-spy RERUNS sequential reruns of each page and list the top costs")
    p.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy", help="py-spy executable")
    p.add_argument("--profile-rate", type=int, default=200)
    p.add_argument("--top", type=int, default=15)
    return p


def check_bounds(args: argparse.Namespace, server_args: list[str]) -> None:
    if args.host != HOST:
        raise LoadError(f"refusing host {args.host!r}: the load generator runs on {HOST} only")
    if any(a.startswith(REFUSED_SERVER_ARGS) for a in server_args):
        raise LoadError(f"--server-arg may not set {', '.join(REFUSED_SERVER_ARGS)}")
    if not args.sessions or not all(1 <= n <= MAX_SESSIONS for n in args.sessions):
        raise LoadError(f"sessions must be between 1 and {MAX_SESSIONS}")
    if not 0 < args.seconds <= MAX_SECONDS:
        raise LoadError(f"seconds must be above 0 and at most {MAX_SECONDS}")
    if not 1 <= args.max_reruns <= MAX_RERUNS:
        raise LoadError(f"max-reruns must be between 1 and {MAX_RERUNS}")
    if not 0 <= args.warmup <= 100 or not 0 <= args.profile <= 1000:
        raise LoadError("warmup must be 0-100 and profile 0-1000 reruns")
    if bool(args.db) == bool(args.database_url):
        raise LoadError("give either --db FILE or --database-url URL")
    if not 1 <= args.servers <= MAX_SERVERS:
        raise LoadError(f"servers must be between 1 and {MAX_SERVERS}")
    if args.servers > 1 and not args.database_url:
        raise LoadError("several servers need --database-url (DuckDB lets one process hold the file)")
    if args.servers > 1 and args.profile:
        raise LoadError("--profile samples one server: leave --servers at 1")
    if args.database_url:
        host = urllib.parse.urlsplit(args.database_url).hostname
        if host not in LOOPBACK_NAMES:
            raise LoadError(f"refusing database host {host!r}: the load generator runs on loopback only")
    elif not Path(args.db).is_file():
        raise LoadError(f"no database at {args.db} (make one: LEADCORE_DB={args.db} "
                        f"python -m leadcore demo --leads 1000000)")
    if not Path(args.app).is_file():
        raise LoadError(f"no app at {args.app}")


async def run_all(args: argparse.Namespace, servers: dict[str, Group], out_dir: Path) -> list[Row]:
    rows: list[Row] = []
    trivial: dict[int, Row] = {}
    if args.profile:
        for name, page in [("leadcore", p) for p in args.pages] + ([] if args.no_trivial else [("trivial", "")]):
            print(await profile(servers[name], page, args.profile, args.py_spy, args.profile_rate, out_dir,
                                args.user, args.password, args.top), "\n", flush=True)
        return rows
    for n in args.sessions:
        plan = ([] if args.no_trivial else [("trivial", "")]) + [("leadcore", p) for p in args.pages]
        for name, page in plan:
            print(f"  measuring {page or name} with {n} session(s) for {args.seconds:g} s "
                  f"(load average {load_average()}) ...", file=sys.stderr, flush=True)
            row = await measure(servers[name], page, n, args.seconds, args.max_reruns, args.warmup,
                                args.user, args.password, args.rss_every,
                                log=lambda *a: print(*a, file=sys.stderr, flush=True))
            rows.append(row)
            if name == "trivial":
                trivial[n] = row
            postgres = "–" if row.postgres_cpu_ms_per_rerun is None else f"{row.postgres_cpu_ms_per_rerun:.1f}"
            print(f"    {row.reruns} reruns, {row.reruns_per_s:.1f}/s, p50 {row.p50_ms:.0f} ms, "
                  f"p95 {row.p95_ms:.0f} ms, CPU {row.cpu_ms_per_rerun:.1f} ms/rerun, "
                  f"PostgreSQL CPU {postgres} ms/rerun, sessions per server "
                  f"{row.sessions_per_server}, client CPU {row.client_cpu_pct:.0f} %, errors {row.errors} {row.error_sample}",
                  file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    rest, server_args = split_server_args(argv)
    args = parser().parse_args(rest)

    def on_sigterm(signum, frame):   # SIGTERM takes the Ctrl-C path (servers stopped)
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:                   # not the main thread: the caller handles signals
        previous = None
    try:
        check_bounds(args, server_args)
        app = Path(args.app).resolve()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if args.database_url:
            env["LEADCORE_DATABASE_URL"] = args.database_url
        else:
            env["LEADCORE_DB"] = str(Path(args.db).resolve())
            env.pop("LEADCORE_DATABASE_URL", None)
        if args.scheduler == "off":
            env["LEADCORE_SCHEDULER"] = "off"
        else:
            env.pop("LEADCORE_SCHEDULER", None)
        if args.now:
            env["LEADCORE_NOW"] = args.now
        else:
            env.pop("LEADCORE_NOW", None)
        with ExitStack() as stack:
            out_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="leadcore-load-")))
            started = time.time()
            load0 = load_average()
            names = ["leadcore"] if args.servers == 1 else [f"leadcore{i}" for i in range(1, args.servers + 1)]
            apps = [Server(name, app, app.parent, env, server_args, args.python, out_dir) for name in names]
            servers = {"leadcore": Group("leadcore", apps)}
            if not args.no_trivial:
                servers["trivial"] = Group("trivial", [Server("trivial", TRIVIAL_APP, app.parent, env,
                                                              server_args, args.python, out_dir)])
            started_all = [s for group in servers.values() for s in group.servers]
            for server in started_all:
                stack.callback(server.stop)      # registered first: stopped on any exit
                server.start()
            if args.servers > 1:
                proxy = Proxy([s.port for s in apps], out_dir)
                stack.callback(proxy.stop)       # the proxy first (callbacks run last in, first out)
                servers["leadcore"].proxy = proxy.start()
                started_all.append(proxy)
            if args.database_url:
                servers["leadcore"].postmaster = postmaster_pid(urllib.parse.urlsplit(args.database_url).port or 5432)
            print(f"servers: {', '.join(f'{s.name} pid {s.pid} port {s.port}' for s in started_all)}; "
                  f"PostgreSQL postmaster {servers['leadcore'].postmaster or '–'}; "
                  f"load average {load0}", file=sys.stderr, flush=True)
            try:
                rows = asyncio.run(run_all(args, servers, out_dir))
            except LoadError:
                raise
            except Exception as error:
                for group in servers.values():
                    print(f"--- {group.name} server log ---\n{group.log_tail()}", file=sys.stderr)
                raise LoadError(f"{type(error).__name__}: {error}") from error
            if args.profile:
                return 0
            memory = {name: s.memory() for name, s in servers.items()}
            trivial = {r.sessions: r for r in rows if r.server == "trivial"}
            flags = " ".join(server_args) or "Streamlit's defaults"
            database = Path(args.db).name if args.db else args.database_url.rsplit("@", 1)[-1]
            print(f"\n### {database}, {args.servers} leadcore server(s), scheduler {args.scheduler}, user {args.user}, {args.seconds:g} s per row, server flags: {flags}\n")
            print(markdown_table(rows, trivial))
            print("\nPeak RSS (VmHWM): " + ", ".join(
                f"{name} {m['VmHWM']:.0f} MB (now {m['VmRSS']:.0f} MB)" for name, m in memory.items()))
            print(f"Load average before {load0}, after {load_average()}; {os.cpu_count()} CPUs; "
                  f"load generator CPU per row: "
                  + ", ".join(f"{r.page}/{r.sessions} {r.client_cpu_pct:.0f} %" for r in rows) + "; "
                  f"{time.time() - started:.0f} s in all.")
            for r in rows:
                if r.rss_samples:
                    print(f"RSS samples {r.page}/{r.sessions} (s, MB): {r.rss_samples}")
                if r.servers > 1:
                    print(f"Sessions per server {r.page}/{r.sessions}: {r.sessions_per_server}, "
                          f"server CPU % each: {r.cpu_pct_per_server}")
                if r.errors:
                    print(f"ERRORS {r.page}/{r.sessions}: {r.errors}, e.g. {r.error_sample}")
            if args.json:
                Path(args.json).write_text(json.dumps(
                    {"db": str(args.db or args.database_url), "servers": args.servers,
                     "scheduler": args.scheduler, "server_args": server_args, "load_before": load0,
                     "load_after": load_average(), "memory": memory,
                     "rows": [r.__dict__ for r in rows]}, indent=1))
            return 1 if any(r.errors for r in rows) else 0
    except LoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
