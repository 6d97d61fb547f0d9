"""Restoring a backup (leadcore.admin.backup) into the database file: the command line's job only.

The backup is imported into a fresh file beside the target, its row counts checked against the
manifest, migrated to this version's schema, and only then swapped in; a replaced database is
kept as `<name>.before-restore`. The running app holds the file, so a restore never happens
under it: the live database is not replaced from inside the app.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from leadcore import audit, db
from leadcore.admin.backup import BackupInfo, Progress, read_backup, row_counts, sql_literal
from leadcore.auth import SYSTEM, Actor, SystemActor
from leadcore.errors import DatabaseBusy, LeadcoreError, PermissionDenied
from leadcore.i18n import _

KEPT = ".before-restore"


class RestoreRefused(LeadcoreError):
    """The restore would lose data or cannot be checked; nothing was changed."""


@dataclass(frozen=True)
class RestoreReport:
    target: Path
    backup: BackupInfo
    kept: Path | None        # the replaced database, or None when the target was new or empty


def restore(backup_dir: str | Path, target_db_path: str | Path, *, now: datetime,
            force: bool = False, actor: Actor = SYSTEM, progress: Progress | None = None) -> RestoreReport:
    """Restore a finished backup into target_db_path (new or empty; with force also a used one)."""
    if not isinstance(actor, SystemActor):
        raise PermissionDenied(_("Restoring replaces the whole database, so it is done on the server's "
                                 "command line (python -m leadcore restore), not in the app."))
    report = progress or (lambda fraction, message: None)
    source = read_backup(backup_dir)
    target = Path(target_db_path)
    kept = target.with_name(target.name + KEPT)
    target.parent.mkdir(parents=True, exist_ok=True)
    holder = _hold(target)        # keeps the app (or anyone) from opening the file meanwhile
    try:
        used = holder is not None and _has_tables(holder)
        if used and not force:
            raise RestoreRefused(_("{target} already holds a database; add --force to replace it "
                                   "(it is then kept as {kept}).").format(target=target, kept=kept.name))
        if used and (kept.exists() or _wal(kept).exists()):
            raise RestoreRefused(_("{kept} from an earlier restore is still there; move it away first, "
                                   "so it is not overwritten.").format(kept=kept))
        fresh = target.with_name(target.name + ".restoring")
        _unlink(fresh)
        try:
            report(0.05, _("Importing the backup"))
            _import(source, fresh)
            report(0.70, _("Bringing the schema up to date"))
            con = db.connect(fresh)       # migrations newer than the backup apply here
            try:
                db.write(con.cursor(), lambda c: audit.record(
                    c, None, now, "backup", source.name, "restore", None,
                    {"from": str(source.path), "rows": source.rows}))
            finally:
                con.close()
        except BaseException:
            _unlink(fresh)
            raise
        report(0.90, _("Replacing the database file"))
    finally:
        if holder is not None:
            holder.close()
    _swap(fresh, target, kept if used else None)
    report(1.0, _("Restore complete"))
    return RestoreReport(target, source, kept if used else None)


def _hold(target: Path) -> duckdb.DuckDBPyConnection | None:
    """Open the current file (None when there is none); says so when the app holds it."""
    if not target.exists() or target.stat().st_size == 0:
        return None
    try:
        return duckdb.connect(str(target))
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        holder = re.search(r"PID (\d+)", str(exc))
        raise DatabaseBusy(_("The app (process {pid}) holds {target}; stop it before restoring, since a "
                             "restore replaces the file.").format(
            pid=holder.group(1) if holder else "?", target=target)) from None


def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE NOT internal").fetchall()[0][0] > 0


def _import(source: BackupInfo, fresh: Path) -> None:
    con = duckdb.connect(str(fresh))
    try:
        con.execute(f"IMPORT DATABASE {sql_literal(source.path)}")
        found = row_counts(con)
        if found != source.tables:
            raise RestoreRefused(_("The restored copy does not match the backup's manifest ({diff}); "
                                   "the database was not changed.").format(diff=_difference(found, source.tables)))
        con.execute("CHECKPOINT")
    except duckdb.Error as error:
        raise RestoreRefused(_("{folder} could not be read back ({reason}); the database was not "
                               "changed.").format(folder=source.path, reason=error)) from None
    finally:
        con.close()


def _difference(found: dict[str, int], expected: dict[str, int]) -> str:
    names = sorted(set(found) | set(expected))
    return ", ".join(_("{table}: {found} rows, {expected} expected").format(
        table=name, found=found.get(name, 0), expected=expected.get(name, 0))
        for name in names if found.get(name) != expected.get(name))


def _swap(fresh: Path, target: Path, kept: Path | None) -> None:
    # Two renames in one folder: at every moment either the old or the new file is complete.
    if kept is not None:
        target.rename(kept)
        if _wal(target).exists():      # a crashed app's last commits live in the WAL: keep them
            _wal(target).rename(_wal(kept))
    else:
        _unlink(target)
    fresh.rename(target)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)
    _wal(path).unlink(missing_ok=True)
