-- Sign-in throttling (leadcore.auth): consecutive failed sign-ins per username and per client.
-- A username is counted whether or not it belongs to an account, so the table tells nobody
-- which usernames exist. A success resets both rows; an admin's unlock resets a locked one.
CREATE TABLE sign_in_attempts (
    kind            VARCHAR NOT NULL CHECK (kind IN ('username', 'client')),
    subject         VARCHAR NOT NULL,      -- the lower-cased username, or the client's address
    failures        INTEGER NOT NULL,      -- failed attempts in a row
    last_failure_at TIMESTAMPTZ NOT NULL,
    blocked_until   TIMESTAMPTZ,           -- no attempt is checked before this moment
    locked_at       TIMESTAMPTZ,           -- usernames only: locked until an admin unlocks them
    PRIMARY KEY (kind, subject)
);
