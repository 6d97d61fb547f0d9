"""Taking lead files in: parse, check, then store each batch in one transaction.

    result = intake_file(cur, now, "anfrage.eml", data)
    results = intake_many(cur, now, [("a.eml", a), ("b.xml", b)], progress=lambda f, m: ...)

Parsing happens before the transaction (it needs no database). A file that cannot become a
lead is rejected with a reason and only its intake_log row is stored. Batches keep the
database work per message small (leadcore.intake.store); should a batch fail for a reason no
check foresaw, its files are stored one by one, so one bad file never stops the others.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from zoneinfo import ZoneInfo

import duckdb

from leadcore import auth, db, roles
from leadcore.admin import settings
from leadcore.errors import Conflict, LeadcoreError, PermissionDenied
from leadcore.i18n import _
from leadcore.intake import adf, mail
from leadcore.intake.incoming import IncomingLead, Rejected, reachable_customer
from leadcore.intake.store import Message, store_batch
from leadcore.auth import Actor, User

log = logging.getLogger("leadcore.intake")
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
BATCH_SIZE = 500
Progress = Callable[[float, str], None]
# Intake batches of this process take turns. They all move the round-robin pointer, so two at
# once would conflict on it and retry; in turn, each sees the other's choice. (Another process
# cannot open the database file meanwhile: DuckDB has one writing process.)
_turns = threading.Lock()


@dataclass(frozen=True)
class IntakeResult:
    file_name: str
    outcome: str                   # created, merged or rejected
    reason: str = ""               # why rejected; for the others how the contact was found
    lead_id: int | None = None
    source_id: int | None = None
    unknown_sender: bool = False   # no source known for the sender: the default source took it


def may_run_intake(user: User) -> bool:
    """Intake is for managers and admins (SPEC section 2: imports)."""
    return roles.can(user, roles.INTAKE)


def parse(file_name: str, data: bytes, tz: ZoneInfo) -> IncomingLead:
    """An .eml or ADF .xml file as an IncomingLead with a reachable customer; Rejected otherwise."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise Rejected(_("The file is larger than {mb} MB; lead messages are much smaller.")
                       .format(mb=MAX_MESSAGE_BYTES // (1024 * 1024)))
    if not data.strip():
        raise Rejected(_("The file is empty."))
    name = file_name.lower()
    as_xml = name.endswith(".xml") or (not name.endswith(".eml") and adf.looks_like_xml(data))
    incoming = adf.parse_adf(data, tz) if as_xml else mail.parse_mail(data, tz)
    return reachable_customer(incoming)


def _message(file_name: str, data: bytes, tz: ZoneInfo) -> Message:
    try:
        return Message(file_name, data, parse(file_name, data, tz))
    except Rejected as rejected:
        return Message(file_name, data, reason=rejected.reason)
    except Exception as error:  # noqa: BLE001 - a parser surprise rejects this file, not the batch
        log.exception("intake could not read %s", file_name)
        return Message(file_name, data, reason=_("The file could not be read ({error}).").format(
            error=type(error).__name__))


def intake_file(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, file_name: str,
                data: bytes) -> IntakeResult:
    """Take in one file: created, merged into the lead it repeats, or rejected (logged either way)."""
    return intake_many(cur, actor, now, [(file_name, data)])[0]


def intake_many(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, files: Iterable[tuple[str, bytes]],
                progress: Progress | None = None, batch_size: int = BATCH_SIZE,
                total: int | None = None) -> list[IntakeResult]:
    """Take in many files, in batches of one transaction each; results in the files' order.
    `actor`: a manager or admin by hand, auth.SYSTEM for the folder and the command line (the
    events then say "leadcore"); checked again in every batch's unit of work."""
    auth.acting(cur, actor, roles.INTAKE)
    total = total if total is not None else (len(files) if hasattr(files, "__len__") else None)
    tz = settings.timezone(cur)
    results: list[IntakeResult] = []
    iterator = iter(files)
    while batch := list(islice(iterator, batch_size)):
        messages = [_message(name, data, tz) for name, data in batch]
        results.extend(_store(cur, actor, now, messages))
        if progress is not None:
            fraction = len(results) / total if total else 0.0
            progress(min(fraction, 1.0), _("{n} of {total} files taken in").format(
                n=f"{len(results):,}", total=f"{total:,}" if total else "?"))
    return results


def _store(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, messages: list[Message]) -> list[IntakeResult]:
    try:
        return _stored(cur, actor, now, messages)
    except (Conflict, PermissionDenied):
        raise            # the database was busy, nothing is wrong with the files: try again later
    except Exception as error:  # noqa: BLE001 - whatever broke, the other files still go in
        if len(messages) == 1:
            log.exception("intake could not store %s", messages[0].file_name)
            return _stored(cur, actor, now, [_refused(messages[0], error)])
        log.warning("an intake batch failed (%s); storing its files one by one", error)
        return [result for m in messages for result in _store(cur, actor, now, [_fresh(m)])]


def _stored(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, messages: list[Message]) -> list[IntakeResult]:
    def work(c: duckdb.DuckDBPyConnection) -> list[IntakeResult]:
        auth.acting(c, actor, roles.INTAKE)
        batch = [_fresh(m) for m in messages]   # a retried transaction decides everything anew
        store_batch(c, now, batch)
        return [IntakeResult(m.file_name, m.outcome, m.reason, m.lead_id, m.source_id, m.unknown_sender)
                for m in batch]

    with _turns:
        return db.write(cur, work)


def _fresh(m: Message) -> Message:
    """The message as parsed, before any store decided about it."""
    if m.incoming is None:
        return Message(m.file_name, m.raw, reason=m.reason)
    return Message(m.file_name, m.raw, m.incoming)


def _refused(m: Message, error: Exception) -> Message:
    reason = error.message if isinstance(error, LeadcoreError) else type(error).__name__
    return replace(_fresh(m), incoming=None,
                   reason=_("The message could not be stored ({error}).").format(error=reason))
