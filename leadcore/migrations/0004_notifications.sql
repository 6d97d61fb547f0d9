-- Escalation notifications and the outbox of e-mails (sent over SMTP by a later capability).

CREATE SEQUENCE notification_id_seq START 1;
-- One row per lead, stage, recipient and due cycle: a new resubmission (new due_at) starts a
-- new cycle, so the same stage can be notified again for it, but never twice for one cycle.
CREATE TABLE notifications (
    id           BIGINT PRIMARY KEY DEFAULT nextval('notification_id_seq'),
    lead_id      BIGINT NOT NULL,
    stage        VARCHAR NOT NULL CHECK (stage IN ('reminder', 'stage1', 'stage2')),
    recipient_id BIGINT NOT NULL,
    cycle_due_at TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    read_at      TIMESTAMPTZ
);

CREATE SEQUENCE outbox_id_seq START 1;
CREATE TABLE outbox (
    id              BIGINT PRIMARY KEY DEFAULT nextval('outbox_id_seq'),
    created_at      TIMESTAMPTZ NOT NULL,
    send_after      TIMESTAMPTZ NOT NULL,   -- the next working period for notification mails
    kind            VARCHAR NOT NULL,       -- notification, autoresponder, forward, message
    recipient_email VARCHAR NOT NULL,
    recipient_name  VARCHAR NOT NULL,
    subject         VARCHAR NOT NULL,
    body_text       VARCHAR NOT NULL,
    body_html       VARCHAR,
    lead_id         BIGINT,
    notification_id BIGINT,
    status          VARCHAR NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      VARCHAR,
    sent_at         TIMESTAMPTZ
);
