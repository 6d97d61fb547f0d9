-- Names people tell apart by eye are unique without regard to case: "Racer0x" and "racer0x"
-- would sign in as one person, two sources "mobile.de" and "Mobile.de" split one channel's
-- figures. A constraint (not only a check in Python) holds when two people save at the same
-- moment. On a database that already holds such twins the migration stops with DuckDB's
-- "Duplicate key" naming them; rename one of each pair and start again.
CREATE UNIQUE INDEX users_username_nocase ON users (lower(username));
CREATE UNIQUE INDEX sources_name_nocase ON sources (lower(name));
CREATE UNIQUE INDEX completion_reasons_label_nocase ON completion_reasons (lower(label));

-- One row per thing that two units of work must not change side by side although they write
-- different rows (two absences of one user that overlap): each bumps the row first, so the
-- second of two concurrent writers meets a write conflict and runs again from the start.
CREATE TABLE write_turns (
    name  VARCHAR PRIMARY KEY,
    turns BIGINT NOT NULL DEFAULT 0
);
