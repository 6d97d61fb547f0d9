-- E-mail templates (SPEC section 8) and what the SMTP outbox needs to send mail safely.

-- Images by content (sha256 hex): a template's header graphic and the copy each queued mail
-- refers to. One stored copy however many mails use it, and a queued mail keeps the image it
-- was written with even when the template's graphic changes before it is sent.
CREATE TABLE mail_images (
    id         VARCHAR PRIMARY KEY,          -- sha256 of data, hex
    mime_type  VARCHAR NOT NULL CHECK (mime_type IN ('image/png', 'image/jpeg')),
    data       BLOB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- One default template (source_id NULL) and optionally one per source. The texts are simple
-- HTML with Jinja placeholders ({{ contact.last_name }}), rendered sandboxed and sanitised.
CREATE SEQUENCE mail_template_id_seq START 1;
CREATE TABLE mail_templates (
    id                        BIGINT PRIMARY KEY DEFAULT nextval('mail_template_id_seq'),
    name                      VARCHAR NOT NULL,
    source_id                 BIGINT UNIQUE,       -- NULL: the default template
    header_image_id           VARCHAR,             -- mail_images.id
    autoresponder_subject     VARCHAR NOT NULL,
    autoresponder_html        VARCHAR NOT NULL,
    autoresponder_footer_html VARCHAR NOT NULL,    -- the receiving seller's data
    general_footer_html       VARCHAR NOT NULL,    -- legal text, added to every mail
    banner_colour             VARCHAR NOT NULL,    -- #rrggbb
    updated_at                TIMESTAMPTZ NOT NULL,
    updated_by                BIGINT
);

INSERT INTO mail_templates (name, source_id, autoresponder_subject, autoresponder_html,
                            autoresponder_footer_html, general_footer_html, banner_colour, updated_at)
VALUES (
    'Default template', NULL,
    'Thank you for your enquiry: {{ lead.subject }}',
    '<p>Dear {{ contact.salutation }} {{ contact.last_name }},</p>'
    || '<p>thank you for your enquiry{% if vehicle.model %} about the {{ vehicle.make }} {{ vehicle.model }}{% endif %}. '
    || 'We have received it and {{ seller.name }} will get back to you shortly, '
    || 'within our opening hours at the latest on the next working day.</p>'
    || '<p>Kind regards<br>Your team at {{ dealership.name }}</p>',
    '<p><strong>Your contact person</strong><br>{{ seller.name }}'
    || '{% if seller.phone %}<br>Phone: {{ seller.phone }}{% endif %}'
    || '<br>E-mail: <a href="mailto:{{ seller.email }}">{{ seller.email }}</a></p>',
    '<p>{{ dealership.name }}{% if dealership.address %} · {{ dealership.address }}{% endif %}</p>'
    || '<p>This e-mail was sent in reply to your enquiry. Please add the legal notice of the dealership '
    || '(managing directors, commercial register, VAT ID) here.</p>',
    '#1f4e79', now()
);

-- Outbox columns for the SMTP sender (leadcore.outbox): the Message-ID is fixed once per row,
-- so a mail re-sent after a crash is recognisably the same message; sending_since marks a claim.
ALTER TABLE outbox ADD COLUMN message_id VARCHAR;
ALTER TABLE outbox ADD COLUMN sending_since TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN reply_to VARCHAR;
ALTER TABLE outbox ADD COLUMN header_image_id VARCHAR;   -- mail_images.id, sent inline (cid:)
ALTER TABLE outbox ADD COLUMN attachment BLOB;           -- the forwarded intake file
ALTER TABLE outbox ADD COLUMN attachment_name VARCHAR;
ALTER TABLE outbox ADD COLUMN attachment_type VARCHAR;

-- A seller's direct line for the {{ seller.phone }} placeholder (empty: the dealership's phone).
ALTER TABLE users ADD COLUMN phone VARCHAR;

INSERT INTO settings (key, value) VALUES
    ('dealership_address', '""'),
    ('dealership_phone',   '""')
ON CONFLICT DO NOTHING;
