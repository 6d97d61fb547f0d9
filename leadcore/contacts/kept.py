"""What intake kept about contacts beyond the contact form's fields: every phone as the feed
wrote it (type, time; raw and flagged when no country could be known), and the contact an
uncertain match may repeat ("possible duplicate of"), for the desk to decide."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class KeptPhone:
    number: str | None          # E.164; None when kept as sent
    raw: str
    kind: str = ""              # voice, cellphone, fax...
    time: str = ""              # morning, evening...
    problem: str = ""           # why it is flagged


@dataclass(frozen=True)
class PossibleDuplicate:
    contact_id: int
    of_id: int
    of_name: str


def phones_of(cur: duckdb.DuckDBPyConnection, contact_id: int) -> list[KeptPhone]:
    return [KeptPhone(n, r, k or "", t or "", p or "") for n, r, k, t, p in cur.execute(
        "SELECT number, raw, kind, time, problem FROM contact_phones WHERE contact_id = ? ORDER BY position",
        [contact_id]).fetchall()]


def possible_duplicates(cur: duckdb.DuckDBPyConnection, contact_ids: list[int]) -> dict[int, PossibleDuplicate]:
    """Contact id -> the contact it may repeat, for the contacts among `contact_ids` so flagged."""
    if not contact_ids:
        return {}
    return {row[0]: PossibleDuplicate(*row) for row in cur.execute(
        "SELECT c.id, o.id, trim(concat_ws(' ', o.first_name, o.last_name, o.company)) FROM contacts c"
        " JOIN contacts o ON o.id = c.possible_duplicate_of"
        " WHERE c.id IN (SELECT unnest(?::BIGINT[]))", [contact_ids]).fetchall()}
