"""Explore's SQL box on PostgreSQL: the boundary there is the role leadcore_explore (the explore
views and nothing else) inside a read-only transaction with statement_timeout (migration 0015),
behind the same checks as on DuckDB; without the role it refuses clearly."""
from __future__ import annotations

import pytest

from leadcore import db
from leadcore.analytics.explore import sql_box
from leadcore.analytics.explore.read_only import QueryFailed, execute_read_only

pytestmark = pytest.mark.postgres_only


def _as_the_box(cur, sql: str):
    """Past the checks: straight to the read-only transaction, as the SQL box's role."""
    return execute_read_only(cur, sql, None, sql_box.TIMEOUT_S, local_settings=sql_box._confinement(cur))


def test_the_role_reads_the_views(cur, manager, make_lead):
    make_lead(manager)
    frame = _as_the_box(cur, "SELECT current_user AS who, count(*) AS n FROM explore_leads GROUP BY 1")
    assert frame.to_dict("records") == [{"who": sql_box.EXPLORE_ROLE, "n": 1}]
    # explore_zone() reads the settings table with its owner's rights, for the local dates
    assert _as_the_box(cur, "SELECT count(arrived_date) AS n FROM explore_leads")["n"].tolist() == [1]


@pytest.mark.parametrize("table", ["users", "leads", "contacts", "settings", "lead_events", "schema_version"])
def test_the_role_reads_no_table_even_past_the_checks(cur, table):
    with pytest.raises(QueryFailed) as failed:
        _as_the_box(cur, f"SELECT * FROM {table}")
    assert "permission denied" in failed.value.message


def test_the_transaction_is_read_only_and_timed(cur):
    with pytest.raises(QueryFailed):
        _as_the_box(cur, "CREATE TEMPORARY TABLE t (x INT)")
    assert _as_the_box(cur, "SELECT current_setting('statement_timeout') AS t, "
                            "current_setting('transaction_read_only') AS ro").to_dict("records") == [
        {"t": "5s", "ro": "on"}]
    # SET LOCAL: the pooled connection comes back as the app's user, without the caps
    assert cur.execute("SELECT current_user <> $r, current_setting('statement_timeout')",
                       {"r": sql_box.EXPLORE_ROLE}).fetchall() == [(True, "0")]


def test_without_the_role_the_box_refuses_clearly(cur, manager, monkeypatch):
    monkeypatch.setattr(sql_box, "EXPLORE_ROLE", "leadcore_no_such_role")
    with pytest.raises(QueryFailed) as failed:
        sql_box.run_sql(cur, manager, "SELECT count(*) FROM explore_leads")
    assert "not set up on this database" in failed.value.message


def test_an_app_user_without_createrole_still_migrates(postgres_server, postgres_database):
    """A managed PostgreSQL's app user may not create or grant roles: migrating works, a second
    database on the same server shares the one role, and the box refuses until IT grants it."""
    postgres_server.psql("DO $$ BEGIN CREATE ROLE leadcore_plain LOGIN; "
                         "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    postgres_server.psql("DROP DATABASE IF EXISTS plain_app WITH (FORCE)")
    postgres_server.psql("CREATE DATABASE plain_app OWNER leadcore_plain")
    url = postgres_server.url("plain_app").replace("//leadcore@", "//leadcore_plain@")
    con = db.connect(url)
    try:
        cur = con.cursor()
        assert cur.execute("SELECT max(version) FROM schema_version").fetchall() == [(15,)]
        assert cur.execute("SELECT pg_has_role('leadcore_plain', $r, 'MEMBER')",
                           {"r": sql_box.EXPLORE_ROLE}).fetchall() == [(False,)]
        with pytest.raises(QueryFailed) as failed:
            _as_the_box(cur, "SELECT 1")
        assert "not set up on this database" in failed.value.message
    finally:
        con.close()
        postgres_server.psql("DROP DATABASE IF EXISTS plain_app WITH (FORCE)")
