"""Lead files in a folder: `python -m leadcore intake PATH` and the server's polling of the
intake folder (setting `intake_folder`) take them in and move each, once its batch is
committed, to `done/` or `rejected/` beside it.

A crash between a batch's commit and its move leaves at most that batch's files to be read
again: their content hash is in the intake log, so they are skipped (no row, no event, no mail)
and moved then. The folder must lie under the intake root (routing.intake_root). Files still being written (changed in
the last seconds) and hidden or temporary files wait for the next poll.
"""
from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from leadcore.admin import settings
from leadcore.auth import SYSTEM, Actor
from leadcore.i18n import _
from leadcore.intake.routing import database_file, folder_problem, intake_root
from leadcore.intake.service import BATCH_SIZE, IntakeResult, Progress, intake_many

log = logging.getLogger("leadcore.intake")
DONE, REJECTED = "done", "rejected"
POLL_LIMIT = 2_000            # files per scheduler tick: the thread has other jobs too
SETTLE_SECONDS = 5.0          # younger files may still be being written
_SKIPPED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp")


@dataclass(frozen=True)
class FolderRun:
    results: list[IntakeResult]
    moved_to: dict[str, Path]          # file name -> where it went

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)


def lead_files(folder: Path, min_age: float = 0.0, limit: int | None = None,
               clock: Callable[[], float] = time.time) -> list[Path]:
    """The folder's files to take in, oldest first (not done/ and rejected/ themselves)."""
    found = []
    for path in folder.iterdir():
        if not path.is_file() or path.name.startswith(".") or path.name.lower().endswith(_SKIPPED_SUFFIXES):
            continue
        modified = path.stat().st_mtime
        if min_age and clock() - modified < min_age:
            continue
        found.append((modified, path.name, path))
    found.sort()
    return [path for _m, _n, path in found[:limit]]


def _move(path: Path, outcome: str) -> Path:
    target_dir = path.parent / (REJECTED if outcome == "rejected" else DONE)
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    number = 1
    while target.exists():       # never overwrite an earlier file of the same name
        target = target_dir / f"{path.stem}.{number}{path.suffix}"
        number += 1
    return Path(shutil.move(str(path), str(target)))


def intake_path(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, path: Path,
                progress: Progress | None = None, min_age: float = 0.0,
                limit: int | None = None, batch_size: int = BATCH_SIZE, parse_aside: bool = False) -> FolderRun:
    """Take in one file or every file of a folder, moving each batch's files to done/ or
    rejected/ right after that batch's commit."""
    paths = [path] if path.is_file() else lead_files(path, min_age, limit)
    moved: dict[str, Path] = {}

    def move_batch(first: int, results: list[IntakeResult]) -> None:
        for file_path, result in zip(paths[first:first + len(results)], results):
            try:
                moved[file_path.name] = _move(file_path, "rejected" if result.outcome == "rejected" else "done")
            except OSError as error:     # stored already: a file left behind is skipped next time (same content)
                log.warning("could not move %s after intake: %s", file_path, error)

    # Read lazily: a folder of ten thousand mails need not sit in memory at once.
    results = intake_many(cur, actor, now, ((p.name, p.read_bytes()) for p in paths), progress,
                          batch_size=batch_size, total=len(paths), on_batch=move_batch,
                          parse_aside=parse_aside and len(paths) > batch_size)
    return FolderRun(results, moved)


def poll_folder(cur: duckdb.DuckDBPyConnection, now: datetime) -> FolderRun | None:
    """The scheduler job: take in what arrived in the intake folder (nothing when none is set)."""
    configured = (settings.get(cur, "intake_folder", "") or "").strip()
    if not configured:
        return None
    problem = folder_problem(configured, database_file(cur))
    if problem:
        log.warning("intake folder %s not polled: %s", configured, problem)
        return None
    folder = Path(configured)
    if not folder.is_absolute():
        folder = intake_root() / folder
    return intake_path(cur, SYSTEM, now, folder, min_age=SETTLE_SECONDS, limit=POLL_LIMIT)


def summary(run: FolderRun, shown: int = 50) -> str:
    """A plain-text table for the command line: one line per file, then the totals."""
    head = {"file": _("File"), "outcome": _("Outcome"), "lead": _("Lead"), "reason": _("Reason")}
    lines = [f"{head['file']:<40} {head['outcome']:<9} {head['lead']:>8}  {head['reason']}"]
    for result in run.results[:shown]:
        lead = f"#{result.lead_id}" if result.lead_id else ""
        flag = " (" + _("unknown sender") + ")" if result.unknown_sender else ""
        lines.append(f"{result.file_name[:40]:<40} {_(result.outcome):<9} {lead:>8}  {result.reason}{flag}")
        for part in result.parts:
            part_lead = f"#{part.lead_id}" if part.lead_id else ""
            lines.append(f"  {part.part[:38]:<38} {_(part.outcome):<9} {part_lead:>8}  {part.reason}")
    if len(run.results) > shown:
        lines.append(_("... and {n} more files.").format(n=f"{len(run.results) - shown:,}"))
    lines.append(_("{total} files: {created} created, {merged} merged, {rejected} rejected, "
                   "{skipped} taken in before.").format(
        total=f"{len(run.results):,}", created=f"{run.count('created'):,}",
        merged=f"{run.count('merged'):,}", rejected=f"{run.count('rejected'):,}",
        skipped=f"{run.count('skipped'):,}"))
    return "\n".join(lines)
