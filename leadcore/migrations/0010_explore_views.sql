-- Explore datasets (SPEC section 9): the read-only views analysts filter, group and query.
-- leadcore.explore documents every column (its CATALOGUE) and its SQL box accepts only these
-- views. What an analyst sees, on purpose:
--   * leads with their source, editor (name and location), lead type, status, subject, the due
--     fields, times and completion reason; the customer's name, company, postal code, city and
--     country (to analyse where demand comes from);
--   * NOT the customer's e-mail, phones or street, lead notes, event texts (they hold what
--     customers wrote and what sellers noted about them), users' e-mail addresses or password
--     hashes. A deleted contact's name and address read as NULL.
-- Instants are UTC (TIMESTAMPTZ); the *_date / *_hour / *_weekday columns are in the
-- dealership's time zone (setting "timezone"). Traffic light and escalation level depend on
-- the moment of the query, so the Explore page adds them with lead_list's SQL rules.

-- The dealership's time zone, for the local dates and hours below (and for the SQL box:
-- `arrived_at AT TIME ZONE explore_zone()`).
CREATE MACRO explore_zone() AS (
    coalesce((SELECT json_extract_string(value, '$') FROM settings WHERE key = 'timezone'), 'Europe/Berlin')
);

CREATE VIEW explore_leads AS
SELECT
    l.id                                                              AS lead_id,
    l.status                                                          AS status,
    l.lead_type                                                       AS lead_type,
    l.subject                                                         AS subject,
    s.name                                                            AS source,
    s.channel                                                         AS source_channel,
    u.full_name                                                       AS editor,
    u.location                                                        AS editor_location,
    -- the customer's name as leadcore.contacts.service.customer_name_sql writes it
    CASE WHEN NOT c.deleted THEN coalesce(nullif(trim(concat_ws(' ', c.first_name, c.last_name)), ''),
                                          c.company) END              AS customer,
    CASE WHEN NOT c.deleted THEN c.company END                        AS customer_company,
    CASE WHEN NOT c.deleted THEN c.postal_code END                    AS customer_postal_code,
    CASE WHEN NOT c.deleted THEN c.city END                           AS customer_city,
    CASE WHEN NOT c.deleted THEN c.country END                        AS customer_country,
    l.arrived_at                                                      AS arrived_at,
    (l.arrived_at AT TIME ZONE explore_zone())::DATE                  AS arrived_date,
    hour(l.arrived_at AT TIME ZONE explore_zone())                    AS arrived_hour,
    isodow(l.arrived_at AT TIME ZONE explore_zone())                  AS arrived_weekday,
    l.resubmission_at                                                 AS resubmission_at,
    l.resubmission_at IS NOT NULL                                     AS due_from_resubmission,
    l.due_at                                                          AS due_at,
    l.reminder_at                                                     AS reminder_at,
    l.stage2_at                                                       AS stage2_at,
    l.first_response_at                                               AS first_response_at,
    (epoch_us(l.first_response_at) - epoch_us(l.arrived_at)) / 60e6   AS first_response_minutes,
    l.last_activity_at                                                AS last_activity_at,
    l.completed_at                                                    AS completed_at,
    (l.completed_at AT TIME ZONE explore_zone())::DATE                AS completed_date,
    r.label                                                           AS completion_reason,
    r.outcome                                                         AS completion_outcome,
    l.contact_id                                                      AS contact_id,
    l.source_id                                                       AS source_id,
    l.editor_id                                                       AS editor_id
FROM leads l
JOIN sources s ON s.id = l.source_id
LEFT JOIN users u ON u.id = l.editor_id
LEFT JOIN contacts c ON c.id = l.contact_id
LEFT JOIN completion_reasons r ON r.id = l.completion_reason_id;

CREATE VIEW explore_lead_events AS
SELECT
    e.id                                                              AS event_id,
    e.lead_id                                                         AS lead_id,
    e.kind                                                            AS kind,
    e.happened_at                                                     AS happened_at,
    (e.happened_at AT TIME ZONE explore_zone())::DATE                 AS happened_date,
    hour(e.happened_at AT TIME ZONE explore_zone())                   AS happened_hour,
    coalesce(u.full_name, 'leadcore')                                 AS user_name,
    u.role                                                            AS user_role,
    u.location                                                        AS user_location,
    s.name                                                            AS source,
    l.lead_type                                                       AS lead_type,
    l.status                                                          AS lead_status,
    (epoch_us(e.happened_at) - epoch_us(l.arrived_at)) / 3600e6       AS hours_after_arrival
FROM lead_events e
JOIN leads l ON l.id = e.lead_id
JOIN sources s ON s.id = l.source_id
LEFT JOIN users u ON u.id = e.user_id;

CREATE VIEW explore_completions AS
SELECT
    l.id                                                              AS lead_id,
    l.completed_at                                                    AS completed_at,
    (l.completed_at AT TIME ZONE explore_zone())::DATE                AS completed_date,
    r.label                                                           AS completion_reason,
    r.outcome                                                         AS completion_outcome,
    r.is_system                                                       AS system_reason,
    s.name                                                            AS source,
    s.channel                                                         AS source_channel,
    l.lead_type                                                       AS lead_type,
    u.full_name                                                       AS editor,
    u.location                                                        AS editor_location,
    l.arrived_at                                                      AS arrived_at,
    (l.arrived_at AT TIME ZONE explore_zone())::DATE                  AS arrived_date,
    (epoch_us(l.first_response_at) - epoch_us(l.arrived_at)) / 60e6   AS first_response_minutes,
    (epoch_us(l.completed_at) - epoch_us(l.arrived_at)) / 3600e6      AS hours_to_complete
FROM leads l
JOIN sources s ON s.id = l.source_id
LEFT JOIN users u ON u.id = l.editor_id
LEFT JOIN completion_reasons r ON r.id = l.completion_reason_id
WHERE l.status = 'completed';
