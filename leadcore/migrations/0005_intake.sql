-- Leads that arrive by themselves (SPEC section 7): the intake log, the vehicle a lead is about,
-- which sender address or domain stands for which source, and the round-robin pointer.

CREATE SEQUENCE intake_log_id_seq START 1;
-- One row per message taken in (uploaded, from the command line or the polled folder),
-- whatever became of it; a rejected message stores this row and nothing else.
CREATE TABLE intake_log (
    id                     BIGINT PRIMARY KEY DEFAULT nextval('intake_log_id_seq'),
    received_at            TIMESTAMPTZ NOT NULL,
    file_name              VARCHAR NOT NULL,
    message_id             VARCHAR,         -- the e-mail's Message-ID, when it had one
    external_id            VARCHAR,         -- the ADF prospect id ("source/value" or "value")
    outcome                VARCHAR NOT NULL CHECK (outcome IN ('created', 'merged', 'rejected')),
    reason                 VARCHAR,         -- why it was rejected, or how its contact was found
    lead_id                BIGINT,          -- the lead created, or the one a resend was added to
    source_id              BIGINT,
    flagged_unknown_sender BOOLEAN NOT NULL DEFAULT FALSE   -- went to the default source
);

-- The vehicle of interest of a lead, from ADF or typed on the lead form (leadcore.vehicles).
ALTER TABLE leads ADD COLUMN vehicle_interest VARCHAR;      -- buy, lease, trade_in, test_drive
ALTER TABLE leads ADD COLUMN vehicle_status VARCHAR;        -- new, used
ALTER TABLE leads ADD COLUMN vehicle_year INTEGER;
ALTER TABLE leads ADD COLUMN vehicle_make VARCHAR;
ALTER TABLE leads ADD COLUMN vehicle_model VARCHAR;
ALTER TABLE leads ADD COLUMN vehicle_vin VARCHAR;           -- as sent (upper case, no blanks), also when invalid
ALTER TABLE leads ADD COLUMN vehicle_vin_valid BOOLEAN;     -- NULL without a VIN
ALTER TABLE leads ADD COLUMN vehicle_vin_problem VARCHAR;   -- why the VIN is not valid
ALTER TABLE leads ADD COLUMN vehicle_manufacturer VARCHAR;  -- decoded from the VIN offline (vininfo)
ALTER TABLE leads ADD COLUMN vehicle_model_year INTEGER;    -- decoded from the VIN (position 10)
ALTER TABLE leads ADD COLUMN vehicle_stock VARCHAR;         -- the dealer's stock / listing number
ALTER TABLE leads ADD COLUMN vehicle_price DECIMAL(12, 2);
ALTER TABLE leads ADD COLUMN vehicle_currency VARCHAR;
ALTER TABLE leads ADD COLUMN vehicle_comments VARCHAR;

-- Plain marketplace e-mails carry no ADF provider: their sender says where they come from.
-- pattern is lower case, a whole address ("leads@mobile.de") or a domain ("@mobile.de").
CREATE TABLE sender_sources (
    pattern   VARCHAR PRIMARY KEY,
    source_id BIGINT NOT NULL
);

-- Who received the last intake lead of a source: round robin continues after them, across
-- restarts, and concurrent intakes conflict on this row instead of handing out the same turn.
CREATE TABLE distribution_pointer (
    source_id    BIGINT PRIMARY KEY,
    last_user_id BIGINT NOT NULL
);

INSERT INTO settings (key, value) VALUES ('intake_folder', '""')
ON CONFLICT DO NOTHING;
-- Unknown senders go to the shipped "E-mail" source until someone chooses another.
INSERT INTO settings (key, value)
    SELECT 'intake_default_source_id',
           coalesce((SELECT CAST(min(id) AS VARCHAR) FROM sources WHERE name = 'E-mail'), 'null')
ON CONFLICT DO NOTHING;

INSERT INTO sender_sources (pattern, source_id)
    SELECT '@mobile.de', id FROM sources WHERE name = 'mobile.de'
ON CONFLICT DO NOTHING;
INSERT INTO sender_sources (pattern, source_id)
    SELECT '@autoscout24.com', id FROM sources WHERE name = 'AutoScout24'
ON CONFLICT DO NOTHING;
INSERT INTO sender_sources (pattern, source_id)
    SELECT '@autoscout24.de', id FROM sources WHERE name = 'AutoScout24'
ON CONFLICT DO NOTHING;
