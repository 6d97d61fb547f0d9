"""Backups: the whole database exported to Parquet (DuckDB EXPORT DATABASE) in a timestamped folder.

A backup is written into a hidden `.partial-…` folder and renamed only once complete, with a
manifest.json (row counts, schema version) as its last file: a crash never leaves a folder that
looks like a finished backup. Restoring one is leadcore.admin.restore's job (command line only).
The nightly backup and its retention live here too, as one self-contained scheduler job.
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import duckdb

from leadcore import audit, db
from leadcore.admin import settings
from leadcore.auth import SYSTEM, Actor, SystemActor, User, get_user
from leadcore.errors import LeadcoreError, NotFound, PermissionDenied, ValidationError, ValidationErrors
from leadcore.i18n import _
from leadcore.roles import may_manage_backups

DEFAULT_ROOT = Path("data") / "backups"
MANIFEST = "manifest.json"
FORMAT = 1
NIGHTLY, MANUAL = "nightly", "manual"
PARTIAL = ".partial-"
STALE_PARTIAL = timedelta(hours=6)   # older unfinished folders are leftovers of a crash
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class BackupInfo:
    """One finished backup, as its manifest describes it."""
    path: Path
    created_at: datetime
    kind: str
    by: str
    schema_version: int
    tables: dict[str, int] = field(default_factory=dict)
    size_bytes: int = 0

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def backup_root() -> Path:
    """Where backups go: LEADCORE_BACKUP_DIR, else data/backups/ (relative: in the project)."""
    return db.project_path(os.environ.get("LEADCORE_BACKUP_DIR") or DEFAULT_ROOT)


def require_backup_actor(cur: duckdb.DuckDBPyConnection, actor: Actor) -> None:
    """Admins and leadcore itself; the user is read again, so a demoted admin is refused at once."""
    if isinstance(actor, SystemActor):
        return
    try:
        current = get_user(cur, actor.id)
    except NotFound:
        current = None
    if current is None or not may_manage_backups(current):
        raise PermissionDenied(_("Only admins may make backups or change how they are made."))


def _audit_user(actor: Actor) -> User | None:
    return None if isinstance(actor, SystemActor) else actor


# --- making a backup -------------------------------------------------------------------------

def backup(con_or_cur: duckdb.DuckDBPyConnection, target_dir: str | Path | None, now: datetime,
           progress: Progress | None = None, *, actor: Actor, kind: str = MANUAL) -> Path:
    """Export the database into a new folder under target_dir (None: backup_root()); returns it."""
    if kind not in (NIGHTLY, MANUAL):
        raise ValueError(f"unknown backup kind {kind!r}")
    if db.engine(con_or_cur) == "postgres":
        raise LeadcoreError(not_on_postgres())
    report = progress or (lambda fraction, message: None)
    cur = con_or_cur
    require_backup_actor(cur, actor)        # before anything is written; again in the snapshot
    root = Path(target_dir) if target_dir is not None else backup_root()
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    try:
        root.mkdir(parents=True, exist_ok=True)
        partial = _fresh_dir(root, f"{PARTIAL}{stamp}-{kind}")
    except OSError as error:
        raise LeadcoreError(_("The backup folder {folder} cannot be written: {reason}").format(
            folder=root, reason=error.strerror or error)) from None
    try:
        report(0.05, _("Exporting the tables"))
        tables, version = _export(cur, actor, partial)
        report(0.80, _("Writing the manifest"))
        final = _publish(partial, root, f"{stamp}-{kind}", {
            "format": FORMAT, "created_at": now.astimezone(timezone.utc).isoformat(), "kind": kind,
            "by": actor.username, "schema_version": version, "duckdb": duckdb.__version__, "tables": tables})
    except BaseException as error:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(error, (OSError, duckdb.Error)):   # a full disk, a folder without rights...
            raise LeadcoreError(_("The backup could not be written to {folder}: {reason}").format(
                folder=root, reason=getattr(error, "strerror", None) or error)) from None
        raise
    report(0.95, _("Recording the backup"))
    db.write(cur, lambda c: audit.record(c, _audit_user(actor), now, "backup", final.name, "backup",
                                         None, {"kind": kind, "rows": sum(tables.values()),
                                                "size_bytes": _size(final)}))
    report(1.0, _("Backup complete"))
    return final


def _export(cur: duckdb.DuckDBPyConnection, actor: Actor, folder: Path) -> tuple[dict[str, int], int]:
    # One transaction: the row counts and the export see the same snapshot while the app keeps
    # writing on its other cursors. (Sequences are not transactional: they are exported as they
    # stand, at or past the snapshot's ids, so restored ids never collide.)
    with db.transaction(cur):
        require_backup_actor(cur, actor)
        tables = row_counts(cur)
        version = cur.execute("SELECT max(version) FROM schema_version").fetchall()[0][0]
        cur.execute(f"EXPORT DATABASE {sql_literal(folder)} (FORMAT parquet)")
    return tables, version


def _publish(partial: Path, root: Path, name: str, manifest: dict) -> Path:
    """Manifest last, everything on disk, then the rename: the moment the backup becomes visible."""
    _write_synced(partial / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
    _sync_folder(partial)
    final = root / _unique_name(root, name)
    partial.rename(final)
    return final


def row_counts(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    names = [name for (name,) in cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT internal AND NOT temporary "
        "AND database_name = current_database() ORDER BY table_name").fetchall()]
    return {name: cur.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0] for name in names}


def sql_literal(path: Path) -> str:
    # EXPORT/IMPORT take no bound parameters: a quoted string literal.
    return "'" + str(path).replace("'", "''") + "'"


def _fresh_dir(root: Path, name: str) -> Path:
    folder = root / _unique_name(root, name)
    folder.mkdir()
    return folder


def _unique_name(root: Path, name: str) -> str:
    # Two backups in one second (a click while the nightly one runs) get -2, -3...
    candidate, n = name, 1
    while (root / candidate).exists():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_folder(folder: Path) -> None:
    # DuckDB does not fsync its export; do it before the rename makes the folder count.
    for entry in folder.iterdir():
        with open(entry, "rb") as handle:
            os.fsync(handle.fileno())
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _size(folder: Path) -> int:
    return sum(entry.stat().st_size for entry in folder.iterdir() if entry.is_file())


def not_on_postgres() -> str:
    # EXPORT DATABASE is DuckDB's; a PostgreSQL database is backed up by its own tools, which
    # copy it consistently while every app server keeps writing.
    return _("leadcore's backups are exports of a DuckDB database. This dealership runs on PostgreSQL: "
             "back it up with pg_dump or your database provider's snapshots (README, \"A dealer group\").")


# --- reading and pruning backups -------------------------------------------------------------

def read_backup(folder: str | Path) -> BackupInfo:
    """A finished backup's description; refuses anything else (a crash's leftover, a random folder)."""
    folder = Path(folder)
    manifest = folder / MANIFEST
    if folder.name.startswith(".") or not manifest.is_file() or not (folder / "schema.sql").is_file():
        raise ValidationError("backup", _("{folder} is not a finished leadcore backup (it has no "
                                          "manifest.json).").format(folder=folder))
    data = json.loads(manifest.read_text(encoding="utf-8"))
    return BackupInfo(path=folder, created_at=datetime.fromisoformat(data["created_at"]), kind=data["kind"],
                      by=data.get("by", ""), schema_version=data["schema_version"],
                      tables={k: int(v) for k, v in data["tables"].items()}, size_bytes=_size(folder))


def list_backups(root: Path | None = None) -> list[BackupInfo]:
    """The finished backups under root, newest first; unfinished and foreign folders are skipped."""
    root = root or backup_root()
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        try:
            found.append(read_backup(folder))
        except (ValidationError, ValueError, KeyError, OSError):
            continue
    return sorted(found, key=lambda b: (b.created_at, b.name), reverse=True)


def apply_retention(keep: int, now: datetime, root: Path | None = None) -> list[str]:
    """Delete all but the newest `keep` nightly backups (manual ones stay) and stale leftovers
    of crashed backups; returns the names removed."""
    root = root or backup_root()
    removed = [b.name for b in [b for b in list_backups(root) if b.kind == NIGHTLY][keep:]]
    for name in removed:
        _remove(root / name)
    if root.is_dir():
        for folder in root.glob(PARTIAL + "*"):
            age = now.timestamp() - folder.stat().st_mtime
            if age > STALE_PARTIAL.total_seconds():
                _remove(folder)
    return removed


def _remove(folder: Path) -> None:
    # Hidden first: a crash halfway through the delete must not leave a backup missing files
    # that still has its manifest.
    doomed = folder.with_name(".deleting-" + folder.name)
    folder.rename(doomed)
    shutil.rmtree(doomed, ignore_errors=True)


# --- settings and the nightly job ------------------------------------------------------------

@dataclass(frozen=True)
class BackupSettings:
    nightly_at: str = "02:30"       # local time of the dealership (settings.timezone)
    keep_nightly: int = 14


KEEP_LIMIT = 365
_LAST_NIGHTLY = "backup_last_nightly"   # the local date of the last nightly backup


def backup_settings(cur: duckdb.DuckDBPyConnection) -> BackupSettings:
    defaults = BackupSettings()
    return BackupSettings(nightly_at=settings.get(cur, "backup_nightly_at", defaults.nightly_at),
                          keep_nightly=settings.get(cur, "backup_keep_nightly", defaults.keep_nightly))


def _check_settings(nightly_at: str | time, keep_nightly: object) -> BackupSettings:
    errors = []
    text = nightly_at.strftime("%H:%M") if isinstance(nightly_at, time) else str(nightly_at or "").strip()
    try:
        text = time.fromisoformat(text).strftime("%H:%M") if len(text) == 5 else None
    except ValueError:
        text = None
    if text is None:
        errors.append(ValidationError("nightly_at", _("The nightly backup time looks like 02:30.")))
    if isinstance(keep_nightly, bool) or not isinstance(keep_nightly, int) or not 1 <= keep_nightly <= KEEP_LIMIT:
        errors.append(ValidationError("keep_nightly", _(
            "Keep between 1 and {n} nightly backups.").format(n=KEEP_LIMIT)))
    if errors:
        raise ValidationErrors(errors)
    return BackupSettings(text, keep_nightly)


def update_backup_settings(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime,
                           nightly_at: str | time, keep_nightly: int) -> BackupSettings:
    """Change when the nightly backup runs and how many are kept (admins), audited."""
    clean = _check_settings(nightly_at, keep_nightly)

    def work(c: duckdb.DuckDBPyConnection) -> None:
        require_backup_actor(c, user)
        before = backup_settings(c)
        settings.put(c, "backup_nightly_at", clean.nightly_at)
        settings.put(c, "backup_keep_nightly", clean.keep_nightly)
        audit.record(c, _audit_user(user), now, "backup", "settings", "update", before, clean)

    db.write(cur, work)
    return clean


def nightly_backup(cur: duckdb.DuckDBPyConnection, now: datetime) -> Path | None:
    """The scheduler's job: once per local night, after the configured time, back up and prune.

    Idempotent: once tonight's backup is recorded, further calls that night do nothing. A failed
    backup is not recorded, so the next tick tries again.
    """
    if db.engine(cur) == "postgres":
        return None         # the database server's own backups (not_on_postgres)
    wanted = backup_settings(cur)
    local = now.astimezone(settings.timezone(cur))
    if local.time() < time.fromisoformat(wanted.nightly_at):
        return None
    if settings.get(cur, _LAST_NIGHTLY) == local.date().isoformat():
        return None
    folder = backup(cur, None, now, actor=SYSTEM, kind=NIGHTLY)
    db.write(cur, lambda c: settings.put(c, _LAST_NIGHTLY, local.date().isoformat()))
    removed = apply_retention(wanted.keep_nightly, now)
    if removed:
        db.write(cur, lambda c: audit.record(c, None, now, "backup", "retention", "remove",
                                             removed, None))
    return folder
