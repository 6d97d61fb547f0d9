"""Explore: the documented views, the query builder, CSV / Parquet exports with formula
neutralisation, and the read-only SQL box (refusals, row cap, timeout)."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pyarrow.parquet as pq
import pytest

from leadcore import db
from leadcore.admin import settings
from leadcore.analytics import exports
from leadcore.analytics.explore import catalogue as explore
from leadcore.analytics.explore import sql_box as explore_sql
from leadcore.analytics.explore.catalogue import Condition, ExploreQuery, Measure, QueryRefused
from leadcore.analytics.explore.read_only import QueryFailed, execute_read_only
from leadcore.errors import PermissionDenied
from leadcore.leads import listing as lead_list
from leadcore.leads import service as leads
from leadcore.leads.listing import LeadFilter
from leadcore.rules import duetime

UTC = timezone.utc


def _rows(side: int, times: int = 2) -> str:
    """A query of side**times rows without any table (WITH RECURSIVE and range are refused)."""
    values = "(VALUES " + ", ".join(f"({i})" for i in range(side)) + ")"
    joined = ", ".join(f"{values} t{k}(x)" for k in range(times))
    return f"SELECT t0.x AS i FROM {joined}"


def _reason(cur, code: str) -> int:
    return cur.execute("SELECT id FROM completion_reasons WHERE code = ?", [code]).fetchall()[0][0]


@pytest.fixture
def shop(cur, now, seller, seller2, manager, contact, make_lead, berlin):
    """Five leads: three open in different due states, two completed (won, lost)."""
    made = {
        "golf": make_lead(seller, subject="=HYPERLINK(\"http://evil\")"),                    # on time
        "soon": make_lead(seller, source="Phone", lead_type="service",
                          resubmission_at=berlin("2026-11-27 10:20")),
        "late": make_lead(seller2, source="AutoScout24", at=berlin("2026-11-26 09:00")),   # overdue, level 2
        "sold": make_lead(seller2, lead_type="used_car", at=berlin("2026-11-26 23:30")),
        "lost": make_lead(seller, source="Phone", at=berlin("2026-11-25 09:00")),
    }
    leads.complete(cur, seller2, now, made["sold"], _reason(cur, "sold"))
    leads.complete(cur, seller, now, made["lost"], _reason(cur, "no_interest"))
    return made


def _run(cur, user, now, **query) -> pd.DataFrame:
    return explore.run_query(cur, user, now, ExploreQuery(**query)).frame


def _table_state(cur) -> tuple:
    """The database's tables with their row counts, its views, and (DuckDB) attached databases."""
    def names(kind: str) -> tuple:
        return tuple(r[0] for r in cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            " AND table_type = ? ORDER BY 1", [kind]).fetchall())

    tables = names("BASE TABLE")
    counts = tuple(cur.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0] for name in tables)
    attached = (cur.execute("SELECT count(*) FROM duckdb_databases() WHERE NOT internal").fetchall()[0][0]
                if db.engine(cur) == "duckdb" else 1)
    return tables, counts, names("VIEW"), attached


def _columns(cur, view: str) -> list[str]:
    return [r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns WHERE"
                                      " table_schema = current_schema() AND table_name = ?"
                                      " ORDER BY ordinal_position", [view]).fetchall()]


# --- the views and their documentation ------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(explore.CATALOGUE))
def test_the_catalogue_documents_every_column_of_its_view(cur, name):
    d = explore.CATALOGUE[name]
    described = _columns(cur, name)
    assert described == [c.name for c in d.columns if c.name not in explore.COMPUTED.get(name, ())]
    kinds = ("text", "number", "date", "instant", "flag")
    assert all(c.description.strip() and c.kind in kinds for c in d.columns)


@pytest.mark.parametrize("name", sorted(explore.CATALOGUE))
def test_the_views_keep_contact_details_texts_and_secrets_out(cur, name):
    columns = set(_columns(cur, name))
    for secret in ("email", "phone", "mobile", "street", "note", "detail", "password_hash",
                   "customer_email", "customer_phone"):
        assert secret not in columns


def test_explore_leads_has_local_dates_and_hides_deleted_contacts(cur, now, manager, contact, shop):
    row = cur.execute("SELECT arrived_date, arrived_hour, arrived_weekday, customer, customer_city, source, "
                      "completion_reason, completion_outcome FROM explore_leads WHERE lead_id = ?",
                      [shop["sold"]]).fetchall()[0]
    assert row == (date(2026, 11, 26), 23, 4, "Max Mustermann", "Berlin", "mobile.de", "Sold", "won")
    cur.execute("UPDATE contacts SET deleted = TRUE WHERE id = ?", [contact.id])
    assert cur.execute("SELECT DISTINCT customer, customer_city, customer_postal_code FROM explore_leads"
                       ).fetchall() == [(None, None, None)]


def test_explore_events_and_completions(cur, now, shop):
    kinds = dict(cur.execute("SELECT kind, count(*) FROM explore_lead_events GROUP BY 1").fetchall())
    assert kinds == {"created": 5, "completed": 2}
    done = cur.execute(
        "SELECT lead_id, completion_outcome, source FROM explore_completions ORDER BY lead_id").fetchall()
    assert done == [(shop["sold"], "won", "mobile.de"), (shop["lost"], "lost", "Phone")]


# --- the builder ------------------------------------------------------------------------------------

def test_rows_with_traffic_light_and_escalation_like_the_lead_list(cur, now, manager, shop):
    frame = _run(cur, manager, now, dataset="explore_leads",
                 conditions=(Condition("status", values=("open",)),))
    listed = lead_list.list_leads(cur, manager, now, LeadFilter()).rows
    expected = {int(r.id): (r.traffic_light, int(r.escalation_level)) for r in listed.itertuples()}
    assert {int(r.lead_id): (r.traffic_light, int(r.escalation_level)) for r in frame.itertuples()} == expected
    assert set(expected.values()) == {(duetime.ON_TIME, 0), (duetime.DUE_SOON, 0), (duetime.OVERDUE, 2)}


def test_group_by_up_to_three_columns_with_aggregates(cur, now, manager, shop):
    frame = _run(cur, manager, now, dataset="explore_leads", group_by=("source", "status"),
                 measures=(Measure("count"), Measure("min", "arrived_date"),
                           Measure("max", "first_response_minutes")))
    assert list(frame.columns) == ["source", "status", "count", "min_arrived_date", "max_first_response_minutes"]
    rows = {(r.source, r.status): r.count for r in frame.itertuples()}
    assert rows == {("mobile.de", "open"): 1, ("mobile.de", "completed"): 1, ("Phone", "open"): 1,
                    ("Phone", "completed"): 1, ("AutoScout24", "open"): 1}
    assert frame["count"].tolist()[0] >= frame["count"].tolist()[-1]          # biggest group first
    with pytest.raises(QueryRefused):
        _run(cur, manager, now, dataset="explore_leads", group_by=("source", "status", "lead_type", "editor"))


def test_sum_mean_median_min_max_have_known_answers(cur, now, manager, shop):
    frame = _run(cur, manager, now, dataset="explore_completions", group_by=("completion_outcome",),
                 measures=tuple(Measure(f, "hours_to_complete")
                                for f in ("sum", "mean", "median", "min", "max")))
    got = {r.completion_outcome: (r.sum_hours_to_complete, r.max_hours_to_complete) for r in frame.itertuples()}
    assert got == {"won": (pytest.approx(10.5), pytest.approx(10.5)),
                   "lost": (pytest.approx(49.0), pytest.approx(49.0))}


def test_filters_values_contains_ranges_and_local_days(cur, now, manager, shop):
    def ids(*conditions, dataset="explore_leads"):
        return set(_run(cur, manager, now, dataset=dataset, conditions=conditions)["lead_id"])

    assert ids(Condition("source", values=("Phone",))) == {shop["soon"], shop["lost"]}
    assert ids(Condition("subject", contains="hyperlink")) == {shop["golf"]}
    assert ids(Condition("subject", contains="%")) == set()         # % is a character, not a wildcard
    # arrived_at on the local day 26.11. (Berlin): 09:00 and 23:30
    thursday = date(2026, 11, 26)
    assert ids(Condition("arrived_at", low=thursday, high=thursday)) == {shop["late"], shop["sold"]}
    assert ids(Condition("arrived_date", low=date(2026, 11, 27))) == {shop["golf"], shop["soon"]}
    assert ids(Condition("escalation_level", values=(2,))) == {shop["late"]}
    assert ids(Condition("hours_to_complete", low=20), dataset="explore_completions") == {shop["lost"]}
    assert ids(Condition("completion_reason", values=("Sold", None))) == {
        shop["golf"], shop["soon"], shop["late"], shop["sold"]}


def test_column_names_come_from_the_catalogue_only(cur, now, manager, shop):
    for evil in ("lead_id; DROP TABLE leads", 'source" FROM users --', "password_hash"):
        with pytest.raises(QueryRefused):
            _run(cur, manager, now, dataset="explore_leads", group_by=(evil,))
        with pytest.raises(QueryRefused):
            _run(cur, manager, now, dataset="explore_leads", conditions=(Condition(evil, values=("x",)),))
    with pytest.raises(QueryRefused):
        _run(cur, manager, now, dataset="leads")
    with pytest.raises(QueryRefused):
        _run(cur, manager, now, dataset="explore_leads", group_by=("source",),
             measures=(Measure("sum", "source"),))
    with pytest.raises(QueryRefused):
        _run(cur, manager, now, dataset="explore_leads", group_by=("subject",))     # not groupable


def test_rows_are_capped(cur, now, manager, shop, monkeypatch):
    monkeypatch.setattr(explore, "ROW_CAP", 3)
    result = explore.run_query(cur, manager, now, ExploreQuery("explore_leads"))
    assert (len(result.frame), result.truncated) == (3, True)
    assert explore.count_rows(cur, manager, now, ExploreQuery("explore_leads")) == 5


def test_choices_for_value_pickers(cur, now, manager, shop):
    assert explore.choices(cur, manager, now, "explore_leads", "source")[:2] == ["mobile.de", "AutoScout24"]
    assert explore.choices(cur, manager, now, "explore_leads", "traffic_light") == [
        duetime.ON_TIME, duetime.DUE_SOON, duetime.OVERDUE]
    assert explore.choices(cur, manager, now, "explore_lead_events", "kind") == ["completed", "created"]


def test_explore_is_for_analysts_managers_and_admins(cur, now, seller, supervisor, analyst, admin, manager):
    for user in (analyst, admin, manager):
        explore.run_query(cur, user, now, ExploreQuery("explore_leads"))
        explore_sql.run_sql(cur, user, "SELECT count(*) FROM explore_leads")
    for user in (seller, supervisor):
        with pytest.raises(PermissionDenied):
            explore.run_query(cur, user, now, ExploreQuery("explore_leads"))
        with pytest.raises(PermissionDenied):
            explore_sql.run_sql(cur, user, "SELECT count(*) FROM explore_leads")


# --- exports ----------------------------------------------------------------------------------------

def test_csv_neutralises_formula_text_and_leaves_numbers_alone():
    frame = pd.DataFrame({
        "text": ["=SUM(A1:A9)", "+49 30 123", "-minus", "@cmd", "\tTab", "\rCR", "\nLF", "plain", None, "a=b"],
        "number": [-1, 2, -3, 4, 5, 6, 7, 8, 9, -10],
        "ratio": [-0.5] * 10,
    })
    text = exports.to_csv(frame).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text, newline=""), keep_default_na=False)
    assert back["text"].tolist()[:8] == ["'=SUM(A1:A9)", "'+49 30 123", "'-minus", "'@cmd", "'\tTab", "'\rCR",
                                         "'\nLF", "plain"]
    assert back["text"].tolist()[8:] == ["", "a=b"]
    assert back["number"].tolist() == [-1, 2, -3, 4, 5, 6, 7, 8, 9, -10]
    assert back["ratio"].tolist() == [-0.5] * 10
    assert exports.to_csv(frame).startswith(b"\xef\xbb\xbf")        # BOM: spreadsheets read umlauts right


def test_csv_neutralises_header_names_too():
    frame = pd.DataFrame({"=HYPERLINK(\"http://evil\")": [1], "+sum": ["x"], "-1": [2], "@me": [3],
                          "\tTab": [4], "\rCR": [5], "plain": [6], "a=b": [7]})
    text = exports.to_csv(frame).decode("utf-8-sig")
    header = pd.read_csv(io.StringIO(text, newline="")).columns.tolist()
    assert header == ["'=HYPERLINK(\"http://evil\")", "'+sum", "'-1", "'@me", "'\tTab", "'\rCR", "plain", "a=b"]
    assert next(iter(frame.columns)).startswith("=")                     # the caller's frame is untouched


def test_parquet_neutralises_text_cells_and_column_names():
    frame = pd.DataFrame({"=cmd|' /C calc'!A0": ["=1+1", "@SUM(A1)", "plain", None],
                          "n": [-1, 2, 3, 4], "'=cmd|' /C calc'!A0": ["a", "b", "c", "d"]})
    back = pq.read_table(io.BytesIO(exports.to_parquet(frame))).to_pandas()
    assert back.columns.tolist() == ["'=cmd|' /C calc'!A0_2", "n", "'=cmd|' /C calc'!A0"]
    assert back.iloc[:3, 0].tolist() == ["'=1+1", "'@SUM(A1)", "plain"] and pd.isna(back.iloc[3, 0])
    assert back["n"].tolist() == [-1, 2, 3, 4]                          # numbers stay numbers


def test_csv_of_mixed_and_date_columns():
    frame = pd.DataFrame({"mixed": [1, "=1+1", None],
                          "when": pd.to_datetime(["2026-11-27", None, "2026-11-28"])})
    neutral = exports.neutralise(frame)
    assert neutral["mixed"].tolist()[:2] == [1, "'=1+1"]
    assert neutral["when"].equals(frame["when"])


def test_parquet_export_round_trips(cur, now, manager, shop):
    frame = explore.localise(explore.run_query(cur, manager, now, ExploreQuery("explore_leads")).frame,
                             settings.timezone(cur))
    back = pq.read_table(io.BytesIO(exports.to_parquet(frame))).to_pandas()
    assert back["lead_id"].tolist() == frame["lead_id"].tolist()
    assert back["subject"].tolist() == exports.neutralise(frame)["subject"].tolist()
    assert back["subject"].str.startswith("'=HYPERLINK").any()         # neutralised like CSV
    assert str(back["arrived_at"].dt.tz) == "Europe/Berlin"


# --- the SQL box ------------------------------------------------------------------------------------

REFUSED = {
    "insert": "INSERT INTO holidays VALUES ('2030-01-01', 'x')",
    "update": "UPDATE leads SET status = 'completed'",
    "delete": "DELETE FROM leads",
    "drop": "DROP TABLE leads",
    "drop view": "DROP VIEW explore_leads",
    "create": "CREATE TABLE stolen AS SELECT * FROM users",
    "select into": "SELECT * INTO stolen FROM explore_leads",
    "attach": "ATTACH '/tmp/leadcore-attack.duckdb' AS x",
    "detach": "DETACH x",
    "copy": "COPY users TO '/tmp/leadcore-users.csv'",
    "copy query": "COPY (SELECT * FROM explore_leads) TO '/tmp/leadcore-leads.csv'",
    "export": "EXPORT DATABASE '/tmp/leadcore-export'",
    "pragma": "PRAGMA database_list",
    "set": "SET threads = 1",
    "reset": "RESET threads",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "call": "CALL pragma_version()",
    "checkpoint": "CHECKPOINT",
    "describe": "DESCRIBE users",
    "two statements": "SELECT 1; SELECT 2",
    "select then drop": "SELECT * FROM explore_leads; DROP TABLE leads",
    "table outside the views": "SELECT * FROM users",
    "base table": "SELECT count(*) FROM leads",
    "quoted base table": 'SELECT * FROM "contacts"',
    "joined base table": "SELECT * FROM explore_leads e JOIN users u ON u.id = e.editor_id",
    "subquery on a base table": "SELECT * FROM explore_leads WHERE editor_id IN (SELECT id FROM users)",
    "scalar subquery": "SELECT (SELECT password_hash FROM users LIMIT 1)",
    "schema-qualified view": "SELECT * FROM main.explore_leads",
    "information schema": "SELECT * FROM information_schema.tables",
    "catalog view": "SELECT * FROM duckdb_tables",
    "sqlite master": "SELECT * FROM sqlite_master",
    "read_csv": "SELECT * FROM read_csv('/etc/passwd')",
    "read_csv_auto": "SELECT * FROM read_csv_auto('/etc/passwd')",
    "read_parquet": "SELECT * FROM read_parquet('x.parquet')",
    "read_text": "SELECT * FROM read_text('/etc/passwd')",
    "glob": "SELECT * FROM glob('/*')",
    "file as table": "SELECT * FROM '/etc/passwd'",
    "range table function": "SELECT * FROM range(10)",
    "query_table": "SELECT * FROM query_table('users')",
    "query function": "SELECT * FROM query('SELECT * FROM users')",
    "duckdb_settings": "SELECT * FROM duckdb_settings()",
    "cte shadowing a table": "WITH users AS (SELECT 1 AS x) SELECT * FROM users",
    "nextval": "SELECT nextval('lead_id_seq')",
    "current_setting": "SELECT current_setting('memory_limit')",
    "python variable": "SELECT * FROM frame",
    "empty": "   ",
    "nonsense": "SELEC * FRM explore_leads",
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_the_sql_box_refuses_anything_but_one_select_over_the_views(cur, manager, shop, name, tmp_path):
    before = _table_state(cur)
    frame = pd.DataFrame({"x": [1]})   # noqa: F841 - a Python variable a replacement scan could find
    with pytest.raises(QueryRefused) as refused:
        explore_sql.run_sql(cur, manager, REFUSED[name])
    assert refused.value.message
    assert _table_state(cur) == before
    assert _table_state(cur)[-1] == 1                                   # nothing attached


@pytest.mark.parametrize("text", [
    "SELECT source, count(*) AS n FROM explore_leads GROUP BY source ORDER BY n DESC",
    "WITH open_leads AS (SELECT * FROM explore_leads WHERE status = 'open') SELECT count(*) FROM open_leads",
    "FROM explore_completions SELECT completion_outcome, count(*) GROUP BY ALL",
    "SELECT lead_id FROM explore_leads UNION SELECT lead_id FROM explore_completions",
    "SELECT e.kind, l.source FROM explore_lead_events e JOIN explore_leads l USING (lead_id)",
    "select * from EXPLORE_LEADS limit 2;",
    "SELECT 1 AS one -- a comment; DROP TABLE leads",
])
def test_the_sql_box_runs_selects_over_the_views(cur, manager, shop, text):
    before = _table_state(cur)
    result = explore_sql.run_sql(cur, manager, text)
    assert not result.frame.empty and not result.truncated
    assert _table_state(cur) == before


def test_the_sql_box_caps_the_rows_with_a_note(cur, manager):
    assert explore.ROW_CAP == 100 * 100
    result = explore_sql.run_sql(cur, manager, _rows(101))
    assert (len(result.frame), result.truncated) == (explore.ROW_CAP, True)
    exact = explore_sql.run_sql(cur, manager, _rows(100))
    assert (len(exact.frame), exact.truncated) == (explore.ROW_CAP, False)
    own_limit = explore_sql.run_sql(cur, manager, _rows(50) + " LIMIT 7")
    assert (len(own_limit.frame), own_limit.truncated) == (7, False)
    big_limit = explore_sql.run_sql(cur, manager, _rows(101) + " LIMIT 20000")
    assert (len(big_limit.frame), big_limit.truncated) == (explore.ROW_CAP, True)


def test_a_long_query_is_interrupted_with_a_clear_message(cur, manager):
    started = datetime.now()
    with pytest.raises(QueryFailed) as stopped:
        explore_sql.run_sql(cur, manager, _rows(100, times=6).replace("SELECT t0.x AS i", "SELECT count(*)")
                            + " WHERE (t0.x * t1.x + t2.x * t3.x + t4.x * t5.x) % 7 = 3", timeout=0.3)
    assert datetime.now() - started < timedelta(seconds=10)
    assert "longer than 0.3 seconds" in stopped.value.message
    assert cur.execute("SELECT 42").fetchall() == [(42,)]            # the page's cursor is unharmed
    assert explore_sql.run_sql(cur, manager, "SELECT 1 AS ok").frame["ok"].tolist() == [1]


def test_sql_errors_read_as_messages(cur, manager):
    with pytest.raises(QueryFailed) as failed:
        explore_sql.run_sql(cur, manager, "SELECT no_such_column FROM explore_leads")
    assert "no_such_column" in failed.value.message


def test_queries_run_read_only_even_if_a_write_got_through(cur):
    with pytest.raises(QueryFailed):
        execute_read_only(cur, "INSERT INTO holidays VALUES ('2030-01-01', 'sneaky')", None,
                          explore_sql.TIMEOUT_S)
    assert cur.execute("SELECT count(*) FROM holidays").fetchall() == [(0,)]


def test_instants_are_shown_in_the_dealerships_zone(cur, manager, shop):
    frame = explore_sql.run_sql(cur, manager, "SELECT arrived_at FROM explore_leads ORDER BY lead_id LIMIT 1").frame
    local = explore.localise(frame, settings.timezone(cur))
    assert str(local["arrived_at"].dt.tz) == "Europe/Berlin"
    assert local["arrived_at"].iloc[0].hour == 10


def test_measures_from_the_users_picks_keep_only_meaningful_ones():
    made = explore.measures_for("explore_leads", ["count", "mean", "max"],
                                ["first_response_minutes", "arrived_at"])
    assert [m.label for m in made] == ["count", "mean_first_response_minutes", "max_first_response_minutes",
                                       "max_arrived_at"]
    assert [m.label for m in explore.measures_for("explore_leads", [], [])] == ["count"]


def test_rows_are_listed_newest_first(cur, now, manager, shop):
    frame = _run(cur, manager, now, dataset="explore_leads")
    expected = [r[0] for r in cur.execute("SELECT id FROM leads ORDER BY arrived_at DESC, id DESC").fetchall()]
    assert frame["lead_id"].tolist() == expected
