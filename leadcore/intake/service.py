"""Taking lead files in: parse, check, then store each batch in one transaction.

    result = intake_file(cur, actor, now, "anfrage.eml", data)
    results = intake_many(cur, SYSTEM, now, [("a.eml", a), ("b.xml", b)], progress=lambda f, m: ...)

The actor is the signed-in user of an upload (managers and admins only) or SYSTEM for the
command line and the scheduler. A file taken in before (same content) is skipped: nothing
is stored or sent again.

Parsing happens before the transaction (it needs no database). A file that cannot become a
lead is rejected with a reason and only its intake_log row is stored. Batches keep the
database work per message small (leadcore.intake.store); should a batch fail for a reason no
check foresaw, its files are stored one by one, so one bad file never stops the others.
"""
from __future__ import annotations

import ctypes
import hashlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from zoneinfo import ZoneInfo

import duckdb

from leadcore import auth, db, process, roles
from leadcore.admin import settings
from leadcore.auth import Actor
from leadcore.errors import Conflict, LeadcoreError, PermissionDenied
from leadcore.i18n import _
from leadcore.intake import adf, mail, senders
from leadcore.intake.incoming import IncomingLead, Rejected, reachable_customer
from leadcore.intake.senders import Dealership
from leadcore.intake.store import Message, store_batch

log = logging.getLogger("leadcore.intake")
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
# Per batch the store scans the contacts once: bigger batches cost less per message
# (2000: ~25% less CPU than 500 at a million leads) and still commit every few seconds.
BATCH_SIZE = 2_000
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class IntakeResult:
    file_name: str
    outcome: str                   # created, merged, rejected, partial (some parts) or skipped (known file)
    reason: str = ""               # why rejected; for the others how the contact was found
    lead_id: int | None = None
    source_id: int | None = None
    unknown_sender: bool = False   # no source known for the sender: the default source took it
    part: str = ""                 # the attachment, for one part of a mail of several leads
    parts: tuple[IntakeResult, ...] = ()    # each part, for a mail of several leads
    details: dict = field(default_factory=dict)   # what was kept and flagged (the report)




def may_run_intake(user: Actor) -> bool:
    """Intake is for managers and admins (SPEC section 2: imports) and leadcore itself."""
    return roles.can(user, roles.INTAKE)


def parse(file_name: str, data: bytes, tz: ZoneInfo, dealer: Dealership = Dealership()) -> list[tuple[str, IncomingLead | Rejected]]:
    """An .eml or ADF .xml file as its leads (one, or one per ADF attachment), each with a
    reachable customer or Rejected; Rejected for the whole file."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise Rejected(_("The file's size ({size:.1f} MB) is over the limit of {mb} MB; lead messages are "
                         "much smaller.").format(size=len(data) / 1024 / 1024, mb=MAX_MESSAGE_BYTES // (1024 * 1024)))
    if not data.strip():
        raise Rejected(_("The file is empty."))
    name = file_name.lower()
    as_xml = name.endswith(".xml") or (not name.endswith(".eml") and adf.looks_like_xml(data))
    found = [("", adf.parse_adf(data, tz))] if as_xml else mail.parse_mail(data, tz, dealer)
    checked = []
    for part, lead in found:
        if isinstance(lead, IncomingLead):
            try:
                lead = reachable_customer(lead, dealer.country)
            except Rejected as rejected:
                if len(found) == 1:
                    raise
                lead = rejected
        checked.append((part, lead))
    return checked


def _messages(file_name: str, data: bytes, tz: ZoneInfo, dealer: Dealership, file_key: int) -> list[Message]:
    digest = hashlib.sha256(data).hexdigest()
    try:
        found = parse(file_name, data, tz, dealer)
    except Rejected as rejected:
        return [Message(file_name, data, reason=rejected.reason, content_hash=digest, file_key=file_key)]
    except Exception as error:  # noqa: BLE001 - a parser surprise rejects this file, not the batch
        log.exception("intake could not read %s", file_name)
        return [Message(file_name, data, reason=_("The file could not be read ({error}).").format(
            error=type(error).__name__), content_hash=digest, file_key=file_key)]
    return [Message(file_name, data, lead if isinstance(lead, IncomingLead) else None,
                    reason=lead.reason if isinstance(lead, Rejected) else "",
                    part=part, content_hash=digest, file_key=file_key) for part, lead in found]


def intake_file(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, file_name: str,
                data: bytes) -> IntakeResult:
    """Take in one file: created, merged into the lead it repeats, or rejected (logged either way)."""
    return intake_many(cur, actor, now, [(file_name, data)])[0]


def intake_many(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, files: Iterable[tuple[str, bytes]],
                progress: Progress | None = None, batch_size: int = BATCH_SIZE, total: int | None = None,
                on_batch: Callable[[int, list[IntakeResult]], None] | None = None,
                parse_aside: bool = False) -> list[IntakeResult]:
    """Take in many files, in batches of one transaction each; results in the files' order.
    `on_batch(first_index, results)` runs right after each batch's commit (the folder moves
    that batch's files then, so a crash leaves at most one batch to be read again).
    `parse_aside`: parse the next batches in a helper process while this one stores (the
    command line's big folders; parsing is half of intake's work and needs no database)."""
    auth.acting(cur, actor, roles.INTAKE)   # and again in every batch's unit of work
    total = total if total is not None else (len(files) if hasattr(files, "__len__") else None)
    tz, dealer = settings.timezone(cur), senders.dealership(cur)
    results: list[IntakeResult] = []
    batches = iter(lambda it=iter(files): list(islice(it, batch_size)), [])
    for batch, messages in _parsed(batches, tz, dealer, parse_aside):
        stored = _store(cur, actor, now, messages)
        done = _per_file(stored, len(batch))
        if on_batch is not None:
            on_batch(len(results), done)
        results.extend(done)
        if progress is not None:
            fraction = len(results) / total if total else 0.0
            progress(min(fraction, 1.0), _("{n} of {total} files taken in").format(
                n=f"{len(results):,}", total=f"{total:,}" if total else "?"))
    return results


def parse_batch(batch: list[tuple[str, bytes]], tz: ZoneInfo, dealer: Dealership) -> list[Message]:
    return [m for key, (name, data) in enumerate(batch) for m in _messages(name, data, tz, dealer, key)]


def _parsed(batches: Iterable[list[tuple[str, bytes]]], tz: ZoneInfo, dealer: Dealership,
            aside: bool) -> Iterator[tuple[list[tuple[str, bytes]], list[Message]]]:
    """Each batch with its parsed messages; with `aside`, parsed up to two batches ahead in a
    forked helper process. Forked, not spawned: a spawned helper imports the caller's __main__
    again (a benchmark script, a page under AppTest). The helper only parses -- pure Python --
    and never touches the database or the threads this process has."""
    if not aside or "fork" not in multiprocessing.get_all_start_methods():
        for batch in batches:
            yield batch, parse_batch(batch, tz, dealer)
        return
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                             initializer=_die_with, initargs=(os.getpid(),)) as pool:
        ahead: deque = deque()
        for batch in batches:
            ahead.append((batch, pool.submit(parse_batch, batch, tz, dealer)))
            if len(ahead) > 2:
                done, future = ahead.popleft()
                yield done, future.result()
        while ahead:
            done, future = ahead.popleft()
            yield done, future.result()


def _die_with(parent: int) -> None:
    """The parsing helper ends when the intake process does. A killed intake (kill -9, a crash)
    never tells its helper, which would otherwise wait on its queue forever: Linux signals it
    (PR_SET_PDEATHSIG), elsewhere a thread notices the parent is gone."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:        # gone before the signal was asked for
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


_PR_SET_PDEATHSIG = 1


def _per_file(stored: list[tuple[int, IntakeResult]], n: int) -> list[IntakeResult]:
    """One result per file: a mail of several leads gets its parts and "partial" when they differ."""
    grouped: dict[int, list[IntakeResult]] = {key: [] for key in range(n)}
    for key, result in stored:
        grouped[key].append(result)
    out = []
    for key in range(n):
        parts = grouped[key]
        if len(parts) == 1 and not parts[0].part:
            out.append(parts[0])
            continue
        outcomes = {p.outcome for p in parts}
        outcome = outcomes.pop() if len(outcomes) == 1 else "partial"
        first = next((p for p in parts if p.lead_id), parts[0])
        out.append(IntakeResult(parts[0].file_name, outcome, "; ".join(f"{p.part}: {_(p.outcome)}" for p in parts),
                                first.lead_id, first.source_id, first.unknown_sender, parts=tuple(parts)))
    return out


def _store(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, messages: list[Message]) -> list[tuple[int, IntakeResult]]:
    try:
        return _stored(cur, actor, now, messages)
    except (Conflict, PermissionDenied):
        raise            # the database was busy, nothing is wrong with the files: try again later
    except Exception as error:  # noqa: BLE001 - whatever broke, the other files still go in
        if len(messages) == 1:
            log.exception("intake could not store %s", messages[0].file_name)
            return _stored(cur, actor, now, [_refused(messages[0], error)])
        log.warning("an intake batch failed (%s); storing its files one by one", error)
        by_file: dict[int, list[Message]] = {}
        for m in messages:
            by_file.setdefault(m.file_key, []).append(m)
        return [result for group in by_file.values() for result in _store_file(cur, actor, now, group)]


def _store_file(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, group: list[Message]) -> list[tuple[int, IntakeResult]]:
    try:
        return _stored(cur, actor, now, [_fresh(m) for m in group])
    except (Conflict, PermissionDenied):
        raise
    except Exception as error:  # noqa: BLE001
        log.exception("intake could not store %s", group[0].file_name)
        return _stored(cur, actor, now, [_refused(m, error) for m in group])


def _stored(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime,
            messages: list[Message]) -> list[tuple[int, IntakeResult]]:
    def work(c: duckdb.DuckDBPyConnection) -> list[tuple[int, IntakeResult]]:
        auth.acting(c, actor, roles.INTAKE)
        batch = [_fresh(m) for m in messages]   # a retried transaction decides everything anew
        store_batch(c, now, batch)
        return [(m.file_key, IntakeResult(m.file_name, m.outcome, m.reason, m.lead_id, m.source_id,
                                          m.unknown_sender, m.part, details=m.details)) for m in batch]

    # Intake batches of this process take turns: they all move the round-robin pointer, so two
    # at once would conflict on it and retry; in turn, each sees the other's choice.
    with process.PROCESS.intake_turns:
        return db.write(cur, work)


def _fresh(m: Message) -> Message:
    """The message as parsed, before any store decided about it."""
    return Message(m.file_name, m.raw, m.incoming, reason="" if m.incoming is not None else m.reason,
                   part=m.part, content_hash=m.content_hash, file_key=m.file_key)


def _refused(m: Message, error: Exception) -> Message:
    reason = error.message if isinstance(error, LeadcoreError) else type(error).__name__
    return replace(_fresh(m), incoming=None,
                   reason=_("The message could not be stored ({error}).").format(error=reason))
