"""Background work once per dealer group: of several app servers over one PostgreSQL database,
only the one holding the group's advisory lock runs the group's jobs, another takes over when it
is gone, and every server sends from the outbox without two ever sending one mail. On DuckDB the
one server always leads. (The browser-level counterpart, with real servers behind HAProxy and a
killed leader, is tests/e2e/test_dealer_group.py.)"""
from __future__ import annotations

import asyncio
import threading
from datetime import datetime

import pytest
from aiosmtpd.controller import Controller
from test_outbox import Inbox, config, free_port  # tests/unit is on sys.path (rootdir import mode)

from leadcore import __main__ as cli
from leadcore import db, jobs, leader, process, scheduler
from leadcore.admin import backup
from leadcore.auth import SYSTEM
from leadcore.errors import LeadcoreError
from leadcore.mail import outbox
from leadcore.scheduler import Scheduler

postgres_only = pytest.mark.postgres_only


def holder(url: str) -> list[str]:
    """Who holds the group's lock, as an admin would ask PostgreSQL."""
    con = db.connect(url)
    try:
        return [name for (name,) in con.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()").fetchall()]
    finally:
        con.close()


@pytest.mark.duckdb_only("the PostgreSQL leadership is tested below")
def test_the_one_duckdb_server_always_leads(con):
    assert isinstance(leader.for_database(con), leader.OnlyServer)
    assert leader.for_database(con).leads()


def test_the_tick_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LEADCORE_SCHEDULER_INTERVAL", "0.5")
    assert scheduler.tick_interval() == 0.5
    for wrong in ("", "soon", "-1", "0"):
        monkeypatch.setenv("LEADCORE_SCHEDULER_INTERVAL", wrong)
        assert scheduler.tick_interval() == scheduler.DEFAULT_INTERVAL


@postgres_only
def test_of_two_servers_only_one_leads(postgres_database):
    first, second = leader.GroupLock(postgres_database), leader.GroupLock(postgres_database)
    try:
        assert first.leads() and not second.leads()
        assert first.leads() and not second.leads()       # each tick: the holder keeps it
        assert len(holder(postgres_database)) == 1 and "group-jobs" in holder(postgres_database)[0]
    finally:
        first.resign()
        second.resign()


@postgres_only
def test_another_server_takes_over_when_the_leader_s_session_ends(postgres_database):
    first, second = leader.GroupLock(postgres_database), leader.GroupLock(postgres_database)
    try:
        assert first.leads() and not second.leads()
        # The leader vanishes: PostgreSQL ends its session (as keepalives make it do for a dead
        # machine, and at once for a killed process), which frees the lock.
        con = db.connect(postgres_database)
        con.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
        con.close()
        assert second.leads()
        assert not first.leads()        # it learns it no longer leads, and stays a follower
        assert second.leads() and not first.leads()
        second.resign()                 # a server stopping lets go at once
        assert first.leads()
    finally:
        first.resign()
        second.resign()


@postgres_only
def test_only_the_leader_runs_the_group_s_jobs_and_every_server_sends(postgres_database, now):
    ran: list[tuple[str, str]] = []

    def job(server: str, name: str):
        return lambda cur, at: ran.append((server, name))

    names = ("escalation", "intake_folder", "nightly_backup", "outbox")
    connections = {server: db.connect(postgres_database) for server in ("one", "two")}
    servers = {server: Scheduler(con, lambda: now, {name: job(server, name) for name in names}, interval=60)
               for server, con in connections.items()}
    try:
        results = {server: s.run_once() for server, s in servers.items()}
        assert sorted(ran) == [("one", "escalation"), ("one", "intake_folder"), ("one", "nightly_backup"),
                               ("one", "outbox"), ("two", "outbox")]
        assert all(results["two"][name] == scheduler.ANOTHER_SERVER for name in jobs.ONCE_PER_GROUP)
        servers["one"].stop()           # the leader stops: the other server's next tick leads
        ran.clear()
        servers["two"].run_once()
        assert sorted(name for server, name in ran if server == "two") == [
            "escalation", "intake_folder", "nightly_backup", "outbox"]
    finally:
        for server, s in servers.items():
            s.stop()
            connections[server].close()


class SlowInbox(Inbox):
    """Takes a moment per message, so that two senders surely work at the same time."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.005)
        return await super().handle_DATA(server, session, envelope)


class _OneSenderPerServer(threading.local):
    # Each thread plays a server process: its own outbox lock (process.PROCESS is one per process).
    def __init__(self) -> None:
        self.lock = threading.Lock()

    def acquire(self, blocking: bool = True) -> bool:
        return self.lock.acquire(blocking)

    def release(self) -> None:
        self.lock.release()


@postgres_only
def test_two_servers_sending_at_once_never_send_one_mail_twice(postgres_database, now, monkeypatch):
    mails = 120
    setup = db.connect(postgres_database)
    outbox.queue_many(setup.cursor(), now, [
        outbox.OutgoingMail("test", f"kunde{n}@example.de", f"Kunde {n}", f"Anfrage {n}", "Guten Tag")
        for n in range(mails)])
    setup.close()
    inbox, port = SlowInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setattr(process.PROCESS, "outbox_lock", _OneSenderPerServer())
    servers = [db.connect(postgres_database) for _ in range(2)]
    start, reports = threading.Barrier(2), {}

    def serve(n: int) -> None:
        start.wait()
        reports[n] = outbox.send_due(servers[n].cursor(), now, config(port))

    try:
        threads = [threading.Thread(target=serve, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        controller.stop()
        for server in servers:
            server.close()
    ids = [message["Message-ID"] for message in inbox.messages]
    assert len(ids) == len(set(ids)) == mails
    assert sorted(message["To"].addresses[0].username for message in inbox.messages) == sorted(
        f"kunde{n}" for n in range(mails))
    assert reports[0].sent + reports[1].sent == mails
    assert reports[0].sent and reports[1].sent      # both servers took their share


@postgres_only
def test_postgres_is_backed_up_by_its_own_tools(postgres_database, now, capsys):
    con = db.connect(postgres_database)
    try:
        with pytest.raises(LeadcoreError, match="pg_dump"):
            backup.backup(con, None, now, actor=SYSTEM)
        assert backup.nightly_backup(con.cursor(), datetime(2026, 11, 28, 3, 0, tzinfo=now.tzinfo)) is None
        assert jobs.sweep_on_page_load(con.cursor(), now) is None
    finally:
        con.close()


@postgres_only
def test_the_backup_command_says_what_to_do_on_postgres(postgres_database, monkeypatch, capsys):
    monkeypatch.setenv("LEADCORE_DATABASE_URL", postgres_database)
    assert cli.main(["backup"]) == 1
    assert "pg_dump" in capsys.readouterr().err
