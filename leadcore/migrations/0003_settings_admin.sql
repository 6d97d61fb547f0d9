-- Settings administration (SPEC sections 4, 7 and 10): absences with deputies, the users assigned
-- to a source, per-source escalation times, the audit log, and the basic-settings defaults.

-- While a user is absent (starts_on..ends_on, both inclusive) the deputy sees and works their leads.
CREATE SEQUENCE absence_id_seq START 1;
CREATE TABLE absences (
    id        BIGINT PRIMARY KEY DEFAULT nextval('absence_id_seq'),
    user_id   BIGINT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on   DATE NOT NULL,
    deputy_id BIGINT,
    note      VARCHAR,
    CHECK (ends_on >= starts_on)
);

-- Users who receive new leads of a source in turn (round robin).
CREATE TABLE source_users (
    source_id BIGINT NOT NULL,
    user_id   BIGINT NOT NULL,
    PRIMARY KEY (source_id, user_id)
);

-- Escalation times of one source; a NULL column falls back to the global setting.
CREATE TABLE source_escalation (
    source_id                   BIGINT PRIMARY KEY,
    stage1_minutes              INTEGER,
    reminder_minutes            INTEGER,
    stage2_minutes              INTEGER,
    stage2_resubmission_minutes INTEGER
);

-- Who changed which setting when; detail is JSON {"before": ..., "after": ...}.
CREATE SEQUENCE audit_id_seq START 1;
CREATE TABLE audit_log (
    id          BIGINT PRIMARY KEY DEFAULT nextval('audit_id_seq'),
    happened_at TIMESTAMPTZ NOT NULL,
    user_id     BIGINT,            -- NULL: the command line or the system
    area        VARCHAR NOT NULL,  -- basic_settings, working_hours, holidays, escalation, sources, users, absences, reasons
    entity_id   VARCHAR,           -- the changed row's id, a date or a settings key
    action      VARCHAR NOT NULL,  -- add, update, remove, move, ...
    detail      VARCHAR NOT NULL
);

INSERT INTO settings (key, value) VALUES
    ('mailbox_address',               '""'),
    ('forwarding_target',             '""'),
    ('email_from_name',               '"Autohaus"'),
    ('user_name_display',             '"first_last"'),
    ('distribute_to_previous_editor', 'true')
ON CONFLICT DO NOTHING;
