-- Core schema: users, contacts, sources, completion reasons, settings, leads and their events.
-- Timestamps are UTC instants (TIMESTAMPTZ); working-time rules run in the dealership's zone.

CREATE SEQUENCE user_id_seq START 1;
CREATE TABLE users (
    id            BIGINT PRIMARY KEY DEFAULT nextval('user_id_seq'),
    username      VARCHAR NOT NULL UNIQUE,
    full_name     VARCHAR NOT NULL,
    email         VARCHAR NOT NULL,
    role          VARCHAR NOT NULL CHECK (role IN ('seller', 'supervisor', 'manager', 'analyst', 'admin')),
    password_hash VARCHAR NOT NULL,
    location      VARCHAR,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL
);

-- A seller's superiors (supervisors); they receive stage-2 escalations.
CREATE TABLE user_superiors (
    user_id     BIGINT NOT NULL,
    superior_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, superior_id)
);

CREATE SEQUENCE contact_id_seq START 1;
CREATE TABLE contacts (
    id          BIGINT PRIMARY KEY DEFAULT nextval('contact_id_seq'),
    salutation  VARCHAR,
    first_name  VARCHAR,
    last_name   VARCHAR,
    company     VARCHAR,
    email       VARCHAR,
    phone       VARCHAR,   -- E.164 after normalisation
    mobile      VARCHAR,   -- E.164 after normalisation
    street      VARCHAR,
    postal_code VARCHAR,
    city        VARCHAR,
    country     VARCHAR,
    -- lower-case "last name or company, first name": the list's order and its paging key
    sort_name   VARCHAR NOT NULL,
    -- folded name, company, e-mail and city (contacts.SEARCH_TEXT_SQL): one LIKE searches them all
    search_text VARCHAR NOT NULL DEFAULT '',
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE SEQUENCE source_id_seq START 1;
CREATE TABLE sources (
    id       BIGINT PRIMARY KEY DEFAULT nextval('source_id_seq'),
    name     VARCHAR NOT NULL UNIQUE,
    channel  VARCHAR NOT NULL,   -- marketplace, website, phone, walk-in, e-mail, other
    active   BOOLEAN NOT NULL DEFAULT TRUE,
    position INTEGER NOT NULL
);

CREATE SEQUENCE reason_id_seq START 1;
CREATE TABLE completion_reasons (
    id        BIGINT PRIMARY KEY DEFAULT nextval('reason_id_seq'),
    code      VARCHAR UNIQUE,          -- set for system reasons, NULL for the dealership's own
    label     VARCHAR NOT NULL,
    outcome   VARCHAR NOT NULL CHECK (outcome IN ('won', 'lost', 'neutral')),
    is_system BOOLEAN NOT NULL DEFAULT FALSE,
    hidden    BOOLEAN NOT NULL DEFAULT FALSE,
    position  INTEGER NOT NULL
);

-- Global settings as JSON values, read through leadcore.settings with SPEC defaults.
CREATE TABLE settings (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE holidays (
    day  DATE PRIMARY KEY,
    name VARCHAR NOT NULL
);

CREATE SEQUENCE lead_id_seq START 1;
CREATE TABLE leads (
    id                   BIGINT PRIMARY KEY DEFAULT nextval('lead_id_seq'),
    contact_id           BIGINT NOT NULL,
    source_id            BIGINT NOT NULL,
    lead_type            VARCHAR NOT NULL,
    subject              VARCHAR NOT NULL,
    note                 VARCHAR,
    editor_id            BIGINT NOT NULL,
    created_by           BIGINT NOT NULL,
    status               VARCHAR NOT NULL CHECK (status IN ('open', 'completed')),
    arrived_at           TIMESTAMPTZ NOT NULL,
    resubmission_at      TIMESTAMPTZ,
    -- due_at, reminder_at and stage2_at are derived by leadcore.duetime from arrival,
    -- resubmission and settings; kept on the row so lists sort and page in SQL.
    due_at               TIMESTAMPTZ NOT NULL,
    reminder_at          TIMESTAMPTZ NOT NULL,
    stage2_at            TIMESTAMPTZ NOT NULL,
    first_response_at    TIMESTAMPTZ,
    last_activity_at     TIMESTAMPTZ NOT NULL,
    completed_at         TIMESTAMPTZ,
    completion_reason_id BIGINT,
    external_id          VARCHAR
);

CREATE SEQUENCE lead_event_id_seq START 1;
CREATE TABLE lead_events (
    id      BIGINT PRIMARY KEY DEFAULT nextval('lead_event_id_seq'),
    lead_id BIGINT NOT NULL,
    happened_at TIMESTAMPTZ NOT NULL,
    user_id BIGINT,
    kind    VARCHAR NOT NULL,   -- created, note, resubmission, editor, completed, reopened
    detail  VARCHAR NOT NULL
);
