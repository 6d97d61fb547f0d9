"""Moving a dealership from its DuckDB file to PostgreSQL: everything arrives, is verified, and the
app goes on from there; a target that is not empty, or a copy that differs, keeps nothing."""
from __future__ import annotations

import time

import pytest

from leadcore import __main__ as cli
from leadcore import auth, db, demo
from leadcore.admin import to_postgres
from leadcore.errors import LeadcoreError
from leadcore.leads import listing
from leadcore.mail import outbox
from leadcore.mail.outbox import OutgoingMail
from leadcore.mail.smtp import Part
from tests import factories
from tests.factories import NOW

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def dealership(tmp_path):
    """A DuckDB dealership with demo data and a queued mail carrying an attachment (bytes)."""
    path = tmp_path / "dealership.duckdb"
    con = db.connect(path)
    demo.generate(con, NOW, leads=400, seed=3)
    outbox.queue(con.cursor(), NOW, OutgoingMail(
        kind="forward", recipient_email="crm@autohaus.example", recipient_name="CRM", subject="Lead ß €",
        body_text="Zeile 1\nZeile 2, \"zitiert\"", lead_id=1, attachment=Part("lead.xml", "text/xml", b"\x00<adf/>\xff")))
    yield con, path
    con.close()


def _counts(cur) -> dict[str, int]:
    return {t: cur.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("users", "contacts", "leads", "lead_events", "outbox", "settings", "sources")}


def test_every_table_arrives_verified_and_the_desk_goes_on(dealership, postgres_database):
    source, _ = dealership
    copied = to_postgres.copy_to_postgres(source, postgres_database, lambda *_: None, time.monotonic)
    target = db.connect(postgres_database)
    try:
        cur = target.cursor()
        assert _counts(cur) == _counts(source.cursor())
        assert copied.tables["leads"] == 400
        attachment = cur.execute("SELECT attachment FROM outbox WHERE attachment IS NOT NULL").fetchall()
        assert [bytes(a) for (a,) in attachment] == [b"\x00<adf/>\xff"]
        # The sequences go on after the copied ids: the next lead gets the next number.
        top = cur.execute("SELECT max(id) FROM leads").fetchall()[0][0]
        manager = cur.execute("SELECT id FROM users WHERE role = 'manager' AND active LIMIT 1").fetchall()[0][0]
        user = auth.get_user(cur, manager)
        new_id = factories.make_lead(cur, user, now=NOW, contact_id=1)
        assert new_id == top + 1
        page = listing.list_leads(cur, user, NOW, listing.LeadFilter(), page_size=25)
        assert len(page.rows) == 25
    finally:
        target.close()


def test_a_database_that_is_not_empty_is_refused(dealership, postgres_database):
    source, _ = dealership
    to_postgres.copy_to_postgres(source, postgres_database, lambda *_: None, time.monotonic)
    with pytest.raises(to_postgres.TargetNotEmpty, match="not empty"):
        to_postgres.copy_to_postgres(source, postgres_database, lambda *_: None, time.monotonic)


def test_a_copy_that_differs_keeps_nothing(dealership, postgres_database, monkeypatch):
    source, _ = dealership
    real = db.insert_rows

    def one_lead_short(cur, table, rows):
        real(cur, table, rows.slice(1) if table == "leads" else rows)

    monkeypatch.setattr(db, "insert_rows", one_lead_short)
    with pytest.raises(LeadcoreError, match="The copy of leads differs"):
        to_postgres.copy_to_postgres(source, postgres_database, lambda *_: None, time.monotonic)
    target = db.connect(postgres_database)
    try:
        assert _counts(target.cursor())["leads"] == 0 and _counts(target.cursor())["users"] == 0
    finally:
        target.close()


def test_the_command_line_copies_and_says_so(dealership, postgres_database, monkeypatch, capsys):
    source, path = dealership
    source.close()                                     # the command opens the file itself
    monkeypatch.setenv("LEADCORE_DB", str(path))
    assert cli.main(["copy-to-postgres", postgres_database]) == 0
    out = capsys.readouterr().out
    assert "counts and checksums equal" in out
    assert cli.main(["copy-to-postgres", "not-a-url"]) == 1
