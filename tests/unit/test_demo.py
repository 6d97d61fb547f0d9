"""Demo data (leadcore.demo): counts, due times equal to duetime's, the traffic-light mix,
working demo accounts, refusal on a filled database, and ids that continue afterwards."""
from datetime import datetime, timedelta

import pytest
from email_validator import validate_email

from leadcore import auth, db, demo
from leadcore.admin import settings, users
from leadcore.contacts import service as contacts
from leadcore.errors import Conflict
from leadcore.leads import listing as lead_list
from leadcore.leads import service as leads
from leadcore.leads.listing import LeadFilter
from leadcore.rules import duetime
from leadcore.rules import sql as rules_sql
from tests.factories import NOW

N = 2_000


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    con = db.connect(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    calls = []
    summary = demo.generate(con, NOW, N, progress=lambda f, m: calls.append((f, m)))
    yield con, summary, calls
    con.close()


@pytest.fixture
def small_db(tmp_path):
    con = db.connect(tmp_path / "small.duckdb")
    demo.generate(con, NOW, 300, seed=3)
    yield con
    con.close()


def one(cur, sql, params=None):
    return cur.execute(sql, params or []).fetchall()[0][0]


def user_named(cur, username):
    return auth.get_user(cur, one(cur, "SELECT id FROM users WHERE username = ?", [username]))


def test_counts_match_the_summary(demo_db):
    con, summary, _calls = demo_db
    cur = con.cursor()
    assert summary.leads == N == one(cur, "SELECT count(*) FROM leads")
    assert summary.contacts == one(cur, "SELECT count(*) FROM contacts")
    assert 0.5 * N <= summary.contacts <= 0.7 * N
    assert summary.users == one(cur, "SELECT count(*) FROM users")
    assert summary.events == one(cur, "SELECT count(*) FROM lead_events")
    assert summary.seconds > 0
    assert one(cur, "SELECT count(*) FROM lead_events WHERE kind = 'created'") == N
    assert one(cur, "SELECT count(*) FROM lead_events WHERE kind = 'completed'") == one(
        cur, "SELECT count(*) FROM leads WHERE status = 'completed'")
    assert one(cur, "SELECT count(*) FROM lead_events WHERE kind = 'note'") > 0
    # every lead points at an existing contact, user and source; every contact has a lead
    assert one(cur, "SELECT count(*) FROM leads l LEFT JOIN contacts c ON c.id = l.contact_id"
                    " WHERE c.id IS NULL") == 0
    assert one(cur, "SELECT count(*) FROM leads l LEFT JOIN users u ON u.id = l.editor_id"
                    " WHERE u.id IS NULL OR u.role NOT IN ('seller', 'supervisor')") == 0
    assert one(cur, "SELECT count(*) FROM contacts c WHERE NOT EXISTS"
                    " (SELECT 1 FROM leads l WHERE l.contact_id = c.id)") == 0
    assert one(cur, "SELECT count(DISTINCT source_id) FROM leads") == one(
        cur, "SELECT count(*) FROM sources")


def test_progress_runs_from_zero_to_one(demo_db):
    _con, _summary, calls = demo_db
    fractions = [f for f, _m in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert all(isinstance(m, str) and m for _f, m in calls)


def test_users_accounts_and_supervisors(demo_db):
    con, _summary, _calls = demo_db
    cur = con.cursor()
    for username, role, full_name in demo.DEMO_ACCOUNTS:
        user = auth.authenticate(cur, username, demo.DEMO_PASSWORD)
        assert user is not None, username
        assert (user.username, user.role, user.full_name) == (username, role, full_name)
    assert auth.authenticate(cur, "seller", "wrong password") is None
    supervisor = user_named(cur, "supervisor").id
    for name in ("seller", "seller2"):
        assert one(cur, "SELECT list(superior_id) FROM user_superiors WHERE user_id = ?",
                   [user_named(cur, name).id]) == [supervisor]
    # every seller reports to a supervisor
    assert one(cur, "SELECT count(*) FROM users u WHERE role = 'seller' AND NOT EXISTS"
                    " (SELECT 1 FROM user_superiors s JOIN users b ON b.id = s.superior_id"
                    "  WHERE s.user_id = u.id AND b.role = 'supervisor')") == 0
    assert one(cur, "SELECT count(*) FROM users WHERE role = 'seller'") >= 6
    assert one(cur, "SELECT count(DISTINCT location) FROM users") >= 2


def test_due_columns_are_exactly_duetime(demo_db):
    con, _summary, _calls = demo_db
    cur = con.cursor()
    s = settings.due_settings(cur)
    rows = cur.execute(
        "SELECT arrived_at, resubmission_at, due_at, reminder_at, stage2_at FROM leads"
        " ORDER BY hash(id) LIMIT 200").fetchall()
    assert any(r[1] is None for r in rows) and any(r[1] is not None for r in rows)
    for arrived, resub, due, reminder, stage2 in rows:
        t = duetime.due_times(arrived, resub, s)
        assert (due, reminder, stage2) == (t.due_at, t.reminder_at, t.stage2_at), (arrived, resub)


def test_due_columns_follow_a_source_override(tmp_path):
    """A source with its own escalation times (settings.due_settings(cur, source_id))."""
    con = db.connect(tmp_path / "override.duckdb")
    phone = one(con, "SELECT id FROM sources WHERE name = 'Phone'")
    con.execute("INSERT INTO source_escalation (source_id, stage1_minutes, reminder_minutes,"
                " stage2_minutes, stage2_resubmission_minutes) VALUES (?, 60, 15, 90, 600)", [phone])
    demo.generate(con, NOW, 400, seed=5)
    rules = {sid: settings.due_settings(con, sid)
             for (sid,) in con.execute("SELECT id FROM sources").fetchall()}
    assert rules[phone] != settings.due_settings(con)
    rows = con.execute("SELECT source_id, arrived_at, resubmission_at, due_at, reminder_at, stage2_at"
                       " FROM leads").fetchall()
    assert sum(1 for r in rows if r[0] == phone) > 10
    for source, arrived, resub, due, reminder, stage2 in rows:
        t = duetime.due_times(arrived, resub, rules[source])
        assert (due, reminder, stage2) == (t.due_at, t.reminder_at, t.stage2_at)
    con.close()


def test_traffic_light_mix_of_open_leads(demo_db):
    con, _summary, _calls = demo_db
    cur = con.cursor()
    manager = user_named(cur, "manager")
    n_open = lead_list.count_leads(cur, manager, NOW, LeadFilter())
    assert 0.25 * N <= n_open <= 0.35 * N
    share = {}
    for light in (duetime.ON_TIME, duetime.DUE_SOON, duetime.OVERDUE):
        share[light] = lead_list.count_leads(
            cur, manager, NOW, LeadFilter(traffic_lights=(light,))) / n_open
        page = lead_list.list_leads(cur, manager, NOW, LeadFilter(traffic_lights=(light,)))
        assert set(page.rows["traffic_light"]) == {light}
    assert 0.45 <= share[duetime.ON_TIME] <= 0.65
    assert 0.05 <= share[duetime.DUE_SOON] <= 0.15
    assert 0.25 <= share[duetime.OVERDUE] <= 0.45
    levels = dict(cur.execute(
        f"SELECT {rules_sql.escalation_level_sql()} AS level, count(*) FROM leads l"
        " WHERE status = 'open' GROUP BY level", {"now": NOW}).fetchall())
    assert levels.get(1, 0) >= 0.1 * n_open and levels.get(2, 0) >= 0.08 * n_open
    # overdue first: the manager's first page starts with escalated leads
    first = lead_list.list_leads(cur, manager, NOW, LeadFilter())
    assert first.rows["traffic_light"].iloc[0] == duetime.OVERDUE
    assert first.next_after is not None


def test_sellers_have_their_own_leads(demo_db):
    con, _summary, _calls = demo_db
    cur = con.cursor()
    seller = user_named(cur, "seller")
    page = lead_list.list_leads(cur, seller, NOW, LeadFilter(mine=True))
    assert len(page.rows) > 0
    ids = page.rows["id"].astype(int).tolist()
    assert one(cur, "SELECT count(*) FROM leads WHERE id IN (SELECT unnest(?::BIGINT[]))"
                    " AND editor_id <> ?", [ids, seller.id]) == 0


def test_lead_times_are_consistent(demo_db):
    con, _summary, _calls = demo_db
    cur = con.cursor()
    bad = cur.execute("""
        SELECT
          count(*) FILTER (WHERE arrived_at > $now OR arrived_at < $now - INTERVAL '190 days'),
          count(*) FILTER (WHERE last_activity_at < arrived_at OR last_activity_at > $now),
          count(*) FILTER (WHERE first_response_at < arrived_at),
          count(*) FILTER (WHERE status = 'completed' AND (completed_at IS NULL
                           OR completed_at <= arrived_at OR completed_at > $now
                           OR completion_reason_id IS NULL OR first_response_at > completed_at)),
          count(*) FILTER (WHERE status = 'open' AND (completed_at IS NOT NULL
                           OR completion_reason_id IS NOT NULL)),
          count(*) FILTER (WHERE resubmission_at IS NOT NULL AND (first_response_at IS NULL
                           OR resubmission_at <= first_response_at))
        FROM leads""", {"now": NOW}).fetchall()[0]
    assert bad == (0, 0, 0, 0, 0, 0)
    # the completed event names the lead's reason; the created event its subject
    assert one(cur, """SELECT count(*) FROM lead_events e JOIN leads l ON l.id = e.lead_id
                       JOIN completion_reasons r ON r.id = l.completion_reason_id
                       WHERE e.kind = 'completed' AND (e.detail <> r.label
                             OR e.happened_at <> l.completed_at)""") == 0
    assert one(cur, """SELECT count(*) FROM lead_events e JOIN leads l ON l.id = e.lead_id
                       WHERE e.kind = 'created' AND (e.detail <> l.subject
                             OR e.happened_at <> l.arrived_at)""") == 0
    sold = one(cur, "SELECT count(*) FROM leads l JOIN completion_reasons r"
                    " ON r.id = l.completion_reason_id WHERE r.code = 'sold'")
    done = one(cur, "SELECT count(*) FROM leads WHERE status = 'completed'")
    assert 0.18 <= sold / done <= 0.32


def test_contacts_are_normalised(demo_db):
    con, _summary, _calls = demo_db
    cur = con.cursor()
    rows = cur.execute(
        "SELECT salutation, first_name, last_name, company, email, phone, mobile, sort_name"
        " FROM contacts ORDER BY hash(id) LIMIT 200").fetchall()
    for salutation, first, last, company, email, phone, mobile, sort_name in rows:
        assert last or company
        assert salutation in (("Herr", "Frau") if last else ("",))
        assert sort_name == contacts.sort_name(
            contacts.ContactInput(first_name=first, last_name=last, company=company))
        for number in (phone, mobile):
            if number:
                assert number.startswith("+49") and contacts.normalise_phone(number) == number
        if email:
            assert validate_email(email, check_deliverability=False).normalized == email
        assert email or phone or mobile
    assert one(cur, "SELECT count(*) FROM contacts WHERE company <> ''") > 0


def test_search_finds_demo_contacts(demo_db):
    con, _summary, _calls = demo_db
    cur = con.cursor()
    last_name, mobile = cur.execute(
        "SELECT last_name, mobile FROM contacts WHERE last_name <> '' AND mobile <> ''"
        " ORDER BY id LIMIT 1").fetchall()[0]
    assert last_name in contacts.search_contacts(cur, last_name).rows["last_name"].tolist()
    local = "0" + mobile[3:]
    assert mobile in contacts.search_contacts(cur, local).rows["mobile"].tolist()


def test_a_second_generate_refuses(small_db):
    before = one(small_db, "SELECT count(*) FROM leads")
    with pytest.raises(Conflict):
        demo.generate(small_db, NOW, 10)
    assert one(small_db, "SELECT count(*) FROM leads") == before == 300


def test_ids_continue_after_the_demo_data(small_db):
    cur = small_db.cursor()
    top = {t: one(cur, f"SELECT max(id) FROM {t}") for t in ("users", "contacts", "leads", "lead_events")}
    seller = user_named(cur, "seller")
    contact = contacts.create_contact(cur, auth.SYSTEM, NOW, contacts.ContactInput(
        salutation="Frau", first_name="Erika", last_name="Mustermann", mobile="0151 23456789"))
    assert contact.id == top["contacts"] + 1
    source = one(cur, "SELECT min(id) FROM sources WHERE active")
    lead_id = leads.create_lead(cur, seller, NOW, leads.LeadInput(
        contact_id=contact.id, source_id=source, lead_type="new_car",
        subject="Probefahrt VW ID.3", editor_id=seller.id,
        resubmission_at=NOW + timedelta(days=1)))
    assert lead_id == top["leads"] + 1
    assert one(cur, "SELECT max(id) FROM lead_events") == top["lead_events"] + 1
    added = users.add_user(cur, NOW, "newbie", "Nina Neu", "nina@example.com", "seller", "secret123")
    assert added.id == top["users"] + 1


def test_same_seed_same_data(tmp_path):
    def fingerprint(path):
        con = db.connect(path)
        demo.generate(con, NOW, 200, seed=11)
        result = con.execute(
            "SELECT (SELECT list(l ORDER BY id) FROM leads l),"
            " (SELECT list(c ORDER BY id) FROM contacts c),"
            " (SELECT list((username, full_name, role) ORDER BY id) FROM users)").fetchall()
        con.close()
        return result
    assert fingerprint(tmp_path / "a.duckdb") == fingerprint(tmp_path / "b.duckdb")


def test_rejects_a_naive_now(tmp_path):
    con = db.connect(tmp_path / "naive.duckdb")
    with pytest.raises(ValueError):
        demo.generate(con, datetime(2026, 11, 27, 10, 0), 10)
    con.close()
