"""A dealer group in a real browser: two `streamlit run app.py` servers behind HAProxy over one
PostgreSQL database (leadcore/cluster.py, as `python -m leadcore cluster` starts them). A lead
created on one server shows on the other; the escalation sweep runs on one server only, so its
notification appears once; and when that server is killed, the other sweeps within a tick.

The group is started once for the module (about ten seconds); the test that kills a server
comes last. Each browser session is kept on the server named by HAProxy's sticky cookie, set
beforehand.
The schedulers tick every second here (LEADCORE_SCHEDULER_INTERVAL); a server's scheduler starts
with its first signed-in page, so each test signs in on both servers first.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from leadcore import db, leader
from tests import factories
from tests.e2e.conftest import ESCALATED_SUBJECT, GROUP_TICK_S
from tests.e2e.test_core_journey import lead_row, save_lead, search_leads, start_lead_from_row
from tests.factories import PINNED_NOW

pytestmark = pytest.mark.e2e
NOW = datetime.fromisoformat(PINNED_NOW)


def query(url: str, sql: str, params=None) -> list[tuple]:
    con = db.connect(url)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def leader_pid(url: str) -> int | None:
    """The process id of the app server holding the group's lock (as pg_stat_activity names it)."""
    rows = query(url, "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                      " WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()")
    assert len(rows) <= 1, rows
    return int(rows[0][0].rsplit(":", 1)[1]) if rows else None


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def notifications_of(url: str, lead_id: int) -> list[tuple]:
    return query(url, "SELECT stage, recipient_id FROM notifications WHERE lead_id = ? ORDER BY stage",
                 [lead_id])


def both_servers_running_jobs(group, desks) -> None:
    """Sign in on each server (which starts its scheduler), then wait until one of them leads."""
    for desk in desks:
        desk.signed_in("seller")
    server_pids = {p.pid for name, p in group.cluster.processes.items() if name != "haproxy"}
    wait_for(lambda: leader_pid(group.database_url) in server_pids, 10, "a server leads the group")
    for name in ("app1", "app2"):
        wait_for(lambda name=name: "Background jobs every" in group.cluster.log(name).read_text(), 10,
                 f"{name}'s scheduler started")


def test_a_lead_created_on_one_server_shows_on_the_other(dealer_group, group_desk):
    first, second = group_desk("app1"), group_desk("app2")
    both_servers_running_jobs(dealer_group, (first, second))

    first.go_to("Contacts")
    contact_id = dealer_group.contact_ids["pick"]
    form = start_lead_from_row(first, contact_id, "Erika Musterfrau")
    save_lead(first, form, "Probefahrt Passat Variant")
    first.shot("created-on-app1")

    second.go_to("Leads")
    search_leads(second, "Passat Variant")
    expect(lead_row(second, "Probefahrt Passat Variant")).to_contain_text("Musterfrau")
    second.shot("seen-on-app2")
    # Each browser stayed on its own server throughout.
    for desk, server in ((first, "app1"), (second, "app2")):
        cookies = {c["name"]: c["value"] for c in desk.page.context.cookies()}
        assert cookies["leadcore_server"] == server


def test_the_one_sweep_notifies_once_not_once_per_server(dealer_group, group_desk):
    app1, app2 = group_desk("app1"), group_desk("app2")
    both_servers_running_jobs(dealer_group, (app1, app2))
    lead_id = dealer_group.contact_ids["escalated_lead"]
    wait_for(lambda: len(notifications_of(dealer_group.database_url, lead_id)) == 2, 10, "the sweep ran")
    time.sleep(3 * GROUP_TICK_S)        # both schedulers tick a few more times meanwhile
    assert [stage for stage, _ in notifications_of(dealer_group.database_url, lead_id)] == ["stage1", "stage2"]
    took_over = [name for name in ("app1", "app2")
                 if "now runs the group's background jobs" in dealer_group.cluster.log(name).read_text()]
    assert len(took_over) == 1

    clara = group_desk("app2" if took_over == ["app1"] else "app1")    # at the server that did not sweep
    clara.signed_in("clara")
    nav = clara.page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name=re.compile(r"Notifications \(1\)")).click()
    clara.settle()
    cards = clara.page.locator("[class*='st-key-notification_']").filter(has_text=ESCALATED_SUBJECT)
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Stage 2: escalated to you")
    clara.shot("one-notification")


def test_when_the_leading_server_is_killed_the_other_sweeps_on(dealer_group, group_desk):
    both_servers_running_jobs(dealer_group, (group_desk("app1"), group_desk("app2")))
    url = dealer_group.database_url
    first = leader_pid(url)
    gone = next(name for name, p in dealer_group.cluster.processes.items() if p.pid == first)
    dealer_group.cluster.kill(gone)          # SIGKILL: no goodbye; PostgreSQL ends its sessions

    # A lead that is already overdue arrives after the leader died: only a live sweep notices it.
    con = db.connect(url)
    try:
        anna = factories.add_user(con.cursor(), "anna2", "Anna Zwei", "seller", now=NOW)
        lead_id = factories.make_lead(con.cursor(), anna, now=NOW - timedelta(days=1),
                                      contact_id=dealer_group.contact_ids["complete"], subject="Nach dem Ausfall")
    finally:
        con.close()
    killed_at = time.monotonic()
    wait_for(lambda: notifications_of(url, lead_id), GROUP_TICK_S + 5, "the other server swept")
    taken_after = time.monotonic() - killed_at
    survivor = next(p.pid for name, p in dealer_group.cluster.processes.items() if name not in ("haproxy", gone))
    assert leader_pid(url) == survivor
    assert taken_after < GROUP_TICK_S + 5
    assert leader.GROUP_JOBS in query(url, "SELECT application_name FROM pg_stat_activity"
                                           " WHERE pid = (SELECT pid FROM pg_locks WHERE locktype = 'advisory'"
                                           " AND granted LIMIT 1)")[0][0]
