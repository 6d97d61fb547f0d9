-- PostgreSQL only: the read side (issue 12). DuckDB needs none of it: it scans its columns fast
-- without indexes, and its SQL box is confined by the checks and caps in
-- leadcore/analytics/explore/ (docs/design.md, "The Explore SQL box").

-- 1. Indexes. PostgreSQL reads rows, so the Leads list's keyset order and the Dashboard's
-- aggregates each get an index they can be read from in order or without the table (the
-- INCLUDEd columns are what the Dashboard's filters and groups touch; see
-- leadcore/leads/listing.py and leadcore/analytics/dashboard.py).

-- The Leads list: open before completed, then by due time, then id (paging.fetch_page's key),
-- for everyone, and for a seller who sees only their own leads.
CREATE INDEX leads_list_order ON leads ((status <> 'open'), due_at, id);
CREATE INDEX leads_editor_list_order ON leads (editor_id, (status <> 'open'), due_at, id);
-- The Dashboard's open leads now (per source, editor, traffic light and escalation level), read
-- from the index alone. Not a partial index WHERE status = 'open': the traffic light's CASE reads
-- status, and PostgreSQL 15 then reads the table for every row, although status were INCLUDEd.
CREATE INDEX leads_open_snapshot ON leads (status, source_id, editor_id)
    INCLUDE (due_at, reminder_at, stage2_at, lead_type);
-- Its leads that arrived in the period (new leads per day or week, first-response times).
CREATE INDEX leads_arrived ON leads (arrived_at)
    INCLUDE (source_id, editor_id, lead_type, first_response_at);
-- Its leads completed in the period, per source and reason.
CREATE INDEX leads_completed ON leads (completed_at)
    INCLUDE (source_id, editor_id, lead_type, completion_reason_id) WHERE status = 'completed';
-- A lead's timeline and the explore_lead_events view's join.
CREATE INDEX lead_events_lead ON lead_events (lead_id, happened_at);

-- 2. DuckDB's functions the Dashboard computes per row (epoch_us), made inlinable (0000 declared them
-- IMMUTABLE over STABLE bodies, extract() from a TIMESTAMPTZ, which PostgreSQL then calls as a
-- function for every row instead of inlining: 720 ms for a million rows, 120 ms inlined), and
-- the `//` operator in BIGINT (div() went through NUMERIC). date_part of the interval since the
-- epoch is exact to the microsecond up to 2106 (double precision, rounded to the nearest one).
CREATE OR REPLACE FUNCTION epoch_us(t TIMESTAMPTZ) RETURNS BIGINT LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN (date_part('epoch', t - TIMESTAMPTZ 'epoch') * 1000000)::BIGINT;
-- DuckDB's // truncates toward zero on integers (-7 // 2 = -3), as BIGINT division does.
CREATE OR REPLACE FUNCTION _int_divide(a BIGINT, b BIGINT) RETURNS BIGINT LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN a / b;

-- 3. The SQL box's role. An analyst's query runs as leadcore_explore (SET LOCAL ROLE inside a
-- read-only transaction, leadcore/analytics/explore/sql_box.py), which may read the documented
-- explore_* views and nothing else. The views belong to the migrating user, so they read their
-- tables with the owner's rights: that is exactly why the role sees the views' columns only.
--
-- Roles belong to the whole server, not to one database: a server holding several leadcore
-- databases (the tests make hundreds) shares one leadcore_explore, made by whichever migrates
-- first; the grants below are per database. A managed PostgreSQL may not let the app's user
-- create roles (CREATEROLE): then the migration still succeeds, says so in a warning, and the
-- SQL box refuses with a message until someone who may runs
--     CREATE ROLE leadcore_explore NOLOGIN; GRANT leadcore_explore TO <the app's user>;
-- and the grants below (GRANT SELECT ON explore_leads, explore_lead_events, explore_completions
-- TO leadcore_explore; GRANT USAGE ON SCHEMA <schema> TO leadcore_explore).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'leadcore_explore') THEN
        BEGIN
            CREATE ROLE leadcore_explore NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN
                NULL;    -- another database's migration made it at the same moment
            WHEN insufficient_privilege THEN
                RAISE WARNING 'leadcore: the role leadcore_explore could not be created (%); '
                              'the Explore SQL box stays off until it exists', SQLERRM;
                RETURN;
        END;
    END IF;
    -- The app's user switches to the role for each SQL-box query (a superuser may anyway).
    IF NOT pg_has_role(current_user, 'leadcore_explore', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT leadcore_explore TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
            RAISE WARNING 'leadcore: % may not use the role leadcore_explore (%); '
                          'the Explore SQL box stays off until it may', current_user, SQLERRM;
        END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO leadcore_explore', current_schema());
    GRANT SELECT ON explore_leads, explore_lead_events, explore_completions TO leadcore_explore;
END
$$;

-- The views' local dates read the dealership's zone from `settings`, which the role may not
-- read (a function in a view runs with the caller's rights, unlike the view's own tables): the
-- function runs with its owner's, and names its table and function with the schema so that no
-- other schema on the caller's search_path can stand in for them.
DO $$
BEGIN
    EXECUTE format('CREATE OR REPLACE FUNCTION explore_zone() RETURNS VARCHAR LANGUAGE SQL STABLE '
                   'SECURITY DEFINER AS ''SELECT coalesce((SELECT %I.json_extract_string(value, ''''$'''') '
                   'FROM %I.settings WHERE key = ''''timezone''''), ''''Europe/Berlin'''')''',
                   current_schema(), current_schema());
END
$$;
