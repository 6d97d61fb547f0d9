-- Real lead feeds (issue 9): everything a customer or provider told us is kept. A lead may have
-- several vehicles (the wanted ones and a trade-in), a contact several phones with type and time
-- (also the ones that could not be read as a number: raw and flagged), a lead where it came from
-- (provider, vendor, timeframe); the intake log remembers each file's content hash (a file
-- taken in once is never taken in again) and what was kept and flagged per file.

-- Every vehicle of an intake lead, in the file's order. leads.vehicle_* keep the wanted vehicle
-- (the lead form's and the lists' one); this table holds all of them, trade-in included.
CREATE TABLE lead_vehicles (
    lead_id         BIGINT NOT NULL,
    position        INTEGER NOT NULL,
    interest        VARCHAR,          -- buy, lease, trade_in, sell, test_drive
    status          VARCHAR,          -- new, used
    year            INTEGER,          -- the file's own year (never replaced by the VIN's)
    make            VARCHAR,
    model           VARCHAR,
    trim            VARCHAR,
    vin             VARCHAR,
    vin_valid       BOOLEAN,
    vin_problem     VARCHAR,
    manufacturer    VARCHAR,
    vin_model_year  INTEGER,
    year_conflict   BOOLEAN NOT NULL DEFAULT FALSE,   -- the VIN says another model year
    stock           VARCHAR,
    price           DECIMAL(12, 2),
    price_type      VARCHAR,          -- ADF: quote, offer, msrp, invoice, call, appraisal, asking
    currency        VARCHAR,
    odometer        BIGINT,
    odometer_units  VARCHAR,          -- km, mi
    condition       VARCHAR,
    colors          VARCHAR,          -- colour combinations, in the customer's order of preference
    finance         VARCHAR,          -- method and amounts, as written
    comments        VARCHAR,
    PRIMARY KEY (lead_id, position)
);

-- Every phone of a contact as sent. number is E.164 when the country was known and the number
-- valid there; otherwise NULL, and raw + problem tell the desk what was sent and why it is flagged.
CREATE TABLE contact_phones (
    contact_id BIGINT NOT NULL,
    position   INTEGER NOT NULL,
    number     VARCHAR,
    raw        VARCHAR NOT NULL,
    kind       VARCHAR,               -- voice, cellphone, fax, pager (ADF phone type)
    time       VARCHAR,               -- morning, afternoon, evening, nopreference, day
    problem    VARCHAR,
    PRIMARY KEY (contact_id, position)
);

-- An uncertain match (same name and postal code, or same e-mail with another name): the new
-- contact points at the one it may repeat; the desk decides, nothing is overwritten.
ALTER TABLE contacts ADD COLUMN possible_duplicate_of BIGINT;
ALTER TABLE contacts ADD COLUMN region VARCHAR;     -- state / province (ADF regioncode)

-- Where an intake lead came from and what the customer said around the vehicle.
CREATE TABLE lead_origins (
    lead_id            BIGINT PRIMARY KEY,
    provider_name      VARCHAR,
    provider_service   VARCHAR,
    provider_url       VARCHAR,
    provider_email     VARCHAR,
    provider_phone     VARCHAR,
    vendor_name        VARCHAR,       -- the dealer location the request was sent to
    timeframe          VARCHAR,       -- description and earliest/latest date
    request_date_text  VARCHAR,       -- the request date as written, when it could not be read
    arrival_unreadable BOOLEAN NOT NULL DEFAULT FALSE
);

ALTER TABLE intake_log ADD COLUMN content_hash VARCHAR;   -- sha256 of the file's bytes
ALTER TABLE intake_log ADD COLUMN part VARCHAR;           -- the attachment, for a mail of several leads
ALTER TABLE intake_log ADD COLUMN details VARCHAR;        -- JSON: what was kept and flagged

-- One table maps senders AND ADF providers to sources: kind 'sender' (an address or @domain)
-- or 'provider' (a provider name, lower case).
ALTER TABLE sender_sources ADD COLUMN kind VARCHAR DEFAULT 'sender';
UPDATE sender_sources SET kind = 'sender' WHERE kind IS NULL;
INSERT INTO sender_sources (pattern, source_id, kind)
    SELECT lower(name), id, 'provider' FROM sources WHERE name IN ('mobile.de', 'AutoScout24')
ON CONFLICT DO NOTHING;

-- The dealership's country: national phone numbers without a known country are read as its own.
INSERT INTO settings (key, value) VALUES ('dealership_country', '"DE"')
ON CONFLICT DO NOTHING;
