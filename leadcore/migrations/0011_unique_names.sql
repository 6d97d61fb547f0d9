-- Names people tell apart by eye are unique without regard to case: "Racer0x" and "racer0x"
-- would sign in as one person, two sources "mobile.de" and "Mobile.de" split one channel's
-- figures. A constraint (not only a check in Python) holds when two people save at the same
-- moment. On a database that already holds such twins the migration stops with DuckDB's
-- "Duplicate key" naming them; rename one of each pair and start again.
CREATE UNIQUE INDEX users_username_nocase ON users (lower(username));
CREATE UNIQUE INDEX sources_name_nocase ON sources (lower(name));
CREATE UNIQUE INDEX completion_reasons_label_nocase ON completion_reasons (lower(label));

