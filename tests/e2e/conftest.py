"""Browser tests: one real `streamlit run app.py` per session on a seeded temp DuckDB, driven by
Playwright with the system Chromium (RECIPES.md, "Browser tests with Chromium").

The clock is pinned to tests/factories.py's now, the same in every test layer: Friday
2026-11-27 10:00 Europe/Berlin. A lead created without a resubmission is due at 12:00 ("on
time"); one resubmitted for 10:20 is reminded at 09:50 ("due soon"). Seeding goes through the
factories too. The browser runs as a German desk would (de-DE, Europe/Berlin, 1400x900).
Screenshots of the journeys, and of every failure, go to test-artifacts/e2e/.

A dealer group (`dealer_group`, `group_desk`): two servers behind HAProxy over a PostgreSQL
database of the session's test server (tests/conftest.py), started by leadcore/cluster.py as
`python -m leadcore cluster` starts them; seeded in this process (PostgreSQL has no file lock).

Test modules do not import from this file; every helper is a fixture.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from leadcore.cluster import STICKY_COOKIE, Cluster, wait_healthy
from tests import factories
from tests.factories import PINNED_NOW

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"     # git-ignored; emptied at the start of a session
PASSWORD = "demo1234"        # the demo accounts' password (test_dashboard), so one sign-in serves both
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-quic"]
TIMEOUT_MS = 20_000          # generous: the first run of a page imports pandas, pyarrow, altair
SETTLE_MS = 250              # lets a click's rerun start before we wait for it to end
SERVER_START_S = 60
GROUP_TICK_S = 1             # the dealer group's scheduler interval: takeovers in seconds

# Seeded contacts: who each test may use without creating one (no test shares another's contact).
SEEDED_CONTACTS = {
    "pick": ("Frau", "Erika", "Musterfrau", "erika.musterfrau@example.de", "0171 2345678"),
    "complete": ("Herr", "Jonas", "Weber", "jonas.weber@example.de", "0172 3456789"),
    "invalid": ("Herr", "Paul", "Neumann", "paul.neumann@example.de", "0173 4567890"),
    "escalated": ("Frau", "Greta", "Lindner", "greta.lindner@example.de", "0174 5678901"),
}
# A user whose name is Markdown: the sidebar must show it as typed and fetch nothing.
MARKDOWN_NAME = "![x](http://example.invalid/a.png) **bold** <b>"
# Anna's lead of Greta Lindner arrived the day before the pinned now (Thu 26.11. 09:00): due
# 11:00, escalated to her supervisor Clara at 15:00 — the server's first sweep tells Clara.
ESCALATED_SUBJECT = "Angebot Skoda Octavia Combi"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: browser test against a running Streamlit server")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failing browser test leaves a screenshot of what the browser showed at that moment."""
    outcome = yield
    report = outcome.get_result()
    page = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and page is not None and not page.is_closed():
        name = re.sub(r"[^\w.-]+", "_", item.name)
        try:
            screenshot(page, ARTIFACTS / f"FAILED-{name}.png")
        except Exception as error:     # the report matters more than the picture
            report.sections.append(("screenshot", f"could not save a screenshot: {error}"))


@dataclass(frozen=True)
class Server:
    url: str
    db_path: Path
    contact_ids: dict[str, int] = field(default_factory=dict)


def _seed(path: Path | str, language: str | None = None) -> dict[str, int]:
    """Users, contacts and one overdue lead through tests/factories.py (so through leadcore's
    services), into a DuckDB file or a PostgreSQL URL. A DuckDB file is seeded in a child process
    (see `_seeded_database`), so no connection of this test process can hold its lock.
    language: the dealership starts in it, as `python -m leadcore init --language` makes it."""
    from leadcore import db

    now = datetime.fromisoformat(PINNED_NOW)
    con = db.connect(path)
    cur = con.cursor()
    try:
        if language:
            from leadcore.admin import language as dealership_language
            dealership_language.start_in(cur, language)
        clara = factories.add_user(cur, "clara", "Clara Vogt", "supervisor", now=now, password=PASSWORD)
        anna = factories.add_user(cur, "seller", "Anna Becker", "seller", superiors=[clara.id], now=now,
                                  password=PASSWORD, email="anna@autohaus.example")
        factories.add_user(cur, "dirk", "Dirk Hahn", "manager", now=now, password=PASSWORD)
        factories.add_user(cur, "mallory", MARKDOWN_NAME, "seller", superiors=[clara.id], now=now,
                           password=PASSWORD, email="mallory@autohaus.example")
        ids = {}
        for role, (salutation, first, last, email, phone) in SEEDED_CONTACTS.items():
            ids[role] = factories.make_contact(
                cur, now, salutation=salutation, first_name=first, last_name=last, email=email, phone=phone,
                street="Hauptstraße 1", postal_code="10115", city="Berlin").id
        yesterday = now - timedelta(days=1, hours=1)
        ids["escalated_lead"] = factories.make_lead(cur, anna, contact_id=ids["escalated"], now=yesterday,
                                                    source="mobile.de", subject=ESCALATED_SUBJECT)
        return ids
    finally:
        cur.close()
        con.close()


def _seeded_database(path: Path, language: str | None = None) -> dict[str, int]:
    """Seed in a child process that exits before the server starts: the server must be the only
    process holding the file while it runs. Returns the seeded contacts' ids by purpose."""
    done = subprocess.run([sys.executable, __file__, str(path), *([language] if language else [])], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO)))
    if done.returncode != 0:
        raise RuntimeError(f"seeding {path} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(db_path: Path, script: str = "app.py", **env: str) -> Iterator[str]:
    """`streamlit run app.py` (or another `script`) on 127.0.0.1 over `db_path` with the pinned
    clock; yields its URL once healthy and stops it afterwards. The database must not be open in
    this process."""
    port = _free_port()
    log = db_path.parent / f"streamlit-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port),
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            # The scheduler's nightly backup (the pinned clock is past its time) stays in the test folder.
            cwd=REPO, env=dict(os.environ, LEADCORE_DB=str(db_path), LEADCORE_NOW=PINNED_NOW,
                               LEADCORE_BACKUP_DIR=str(db_path.parent / "backups"), **env),
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log, SERVER_START_S)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db_path = tmp_path_factory.mktemp("e2e") / "leadcore.duckdb"
    contact_ids = _seeded_database(db_path)
    with streamlit_server(db_path) as url:
        yield Server(url=url, db_path=db_path, contact_ids=contact_ids)


@pytest.fixture(scope="session")
def german_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second server over a dealership started in German (its own database)."""
    db_path = tmp_path_factory.mktemp("e2e-de") / "leadcore.duckdb"
    contact_ids = _seeded_database(db_path, "de")
    with streamlit_server(db_path) as url:
        yield Server(url=url, db_path=db_path, contact_ids=contact_ids)


@dataclass(frozen=True)
class Group:
    """A dealer group: app servers app1, app2 behind HAProxy (`url`) over one PostgreSQL database."""
    cluster: Cluster
    database_url: str
    contact_ids: dict[str, int]

    @property
    def url(self) -> str:
        return self.cluster.url


@pytest.fixture(scope="module")
def dealer_group(postgres_server, _postgres_template, tmp_path_factory) -> Iterator[Group]:
    """Two `streamlit run app.py` servers behind HAProxy over a fresh, seeded PostgreSQL database
    of the session's test server; the schedulers tick every second (the pinned clock as ever)."""
    tmp_path = tmp_path_factory.mktemp("group")
    name = f"e2e_group_{os.getpid()}_{tmp_path.name}"
    url = postgres_server.create_database(name, template=_postgres_template)
    contact_ids = _seed(url)
    group = Cluster(tmp_path / "cluster", _free_port_block(3), url, servers=2,
                    env={"LEADCORE_NOW": PINNED_NOW, "LEADCORE_SCHEDULER_INTERVAL": str(GROUP_TICK_S),
                         "LEADCORE_BACKUP_DIR": str(tmp_path / "backups")})
    try:
        with group:
            yield Group(group, url, contact_ids)
    finally:
        postgres_server.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port_block(size: int) -> int:
    """A port whose next size-1 ports are free too (HAProxy's, then the servers')."""
    for _ in range(50):
        first = _free_port()
        try:
            probes = []
            for port in range(first, first + size):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no block of free ports")


@pytest.fixture
def group_desk(browser: Browser, dealer_group: Group, request: pytest.FixtureRequest):
    """desk_on('app1'): a fresh browser session that HAProxy's sticky cookie keeps on that server."""
    contexts = []

    def desk_on(server: str) -> Desk:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="de-DE",
                                      timezone_id="Europe/Berlin")
        context.set_default_timeout(TIMEOUT_MS)
        context.add_cookies([{"name": STICKY_COOKIE, "value": server, "url": dealer_group.url}])
        contexts.append(context)
        return Desk(context.new_page(), dealer_group, f"{request.node.name}-{server}")

    yield desk_on
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):       # pictures of an earlier run would mislead
        old.unlink()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A fresh browser context (so a fresh Streamlit session) per test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="de-DE",
                                  timezone_id="Europe/Berlin")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


def settle(page: Page) -> None:
    """Wait until the rerun caused by the last action has finished (RECIPES.md).

    Elements of the previous run stay on screen while a run streams: read only after this.
    """
    page.wait_for_timeout(SETTLE_MS)
    app = "[data-testid='stApp']"
    page.wait_for_selector(f"{app}[data-test-connection-state='CONNECTED']", state="attached")
    page.wait_for_selector(f"{app}[data-test-script-state='notRunning']", state="attached")
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)


def screenshot(page: Page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its own container, so `full_page` alone stops at
    the window's height; the window is made as tall as the content for the picture."""
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    content = page.evaluate("""() => Math.max(document.body.scrollHeight,
        ...[...document.querySelectorAll("[data-testid='stMain'], [data-testid='stMain'] *")]
            .filter(e => e.scrollHeight > e.clientHeight + 1).map(e => e.scrollHeight))""")
    tall = min(max(height, content), 4000)
    if tall > height:
        page.set_viewport_size({"width": width, "height": tall})
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        if tall > height:
            page.set_viewport_size({"width": width, "height": height})


class Desk:
    """The app as a seller sees it: sign in, move between pages, and save pictures of steps."""

    def __init__(self, page: Page, server: Server, test_name: str):
        self.page, self.server = page, server
        self._prefix = re.sub(r"^test_", "", test_name)
        self._shots = 0

    def settle(self) -> None:
        settle(self.page)

    def open(self) -> None:
        self.page.goto(self.server.url)
        self.settle()
        expect(self.page.get_by_role("button", name="Sign in")).to_be_visible()

    def sign_in(self, username: str = "seller", password: str = PASSWORD) -> None:
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.settle()

    def signed_in(self, username: str = "seller") -> None:
        self.open()
        self.sign_in(username)
        expect(self.page.get_by_role("heading", name="Leads")).to_be_visible()

    def go_to(self, page_title: str) -> None:
        """Switch page through the sidebar (a reload would start a new, signed-out session)."""
        self.page.get_by_test_id("stSidebarNav").get_by_role("link", name=page_title, exact=True).click()
        self.settle()
        expect(self.page.get_by_role("heading", name=page_title, exact=True)).to_be_visible()

    def shot(self, step: str) -> None:
        """A full-page screenshot for people to look at: test-artifacts/e2e/<test>-<n>-<step>.png."""
        self._shots += 1
        screenshot(self.page, ARTIFACTS / f"{self._prefix}-{self._shots}-{step}.png")


@pytest.fixture
def desk(page: Page, server: Server, request: pytest.FixtureRequest) -> Desk:
    return Desk(page, server, request.node.name)


@pytest.fixture
def seeded_contact(server: Server):
    """Id of the seeded contact reserved for a purpose: seeded_contact('pick')."""
    return lambda purpose: server.contact_ids[purpose]


if __name__ == "__main__":          # the seeding child process of `_seeded_database`
    print(json.dumps(_seed(Path(sys.argv[1]), *sys.argv[2:3])))
