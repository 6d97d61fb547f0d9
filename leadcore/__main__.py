"""Command line: python -m leadcore init | demo | user add | escalate | send-mail | jobs | intake | backup |
restore | copy-to-postgres | bench | cluster (see README)."""
from __future__ import annotations

import argparse
import os
import sys

from babel.numbers import format_decimal

from leadcore import auth, clock, db, i18n, postgres, roles
from leadcore.errors import DatabaseBusy, LeadcoreError, ValidationErrors
from leadcore.i18n import _


def _number(value: float, digits: int = 0) -> str:
    # The CLI speaks the install default LEADCORE_LANGUAGE: 1,234.5 or 1.234,5.
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""), locale=i18n.locale())


def _progress_bar(fraction: float, message: str) -> None:
    width = 30
    filled = int(width * fraction)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:5.0%} {message:<40}")
    if fraction >= 1:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _start_language(con, args: argparse.Namespace) -> None:
    """A new dealership takes the language asked for (--language, else LEADCORE_LANGUAGE)."""
    from leadcore.admin import language

    wanted = args.language or os.environ.get("LEADCORE_LANGUAGE")
    fresh = con.execute("SELECT count(*) FROM leads").fetchall()[0][0] == 0
    if wanted and fresh:
        language.start_in(con.cursor(), wanted)


def cmd_init(args: argparse.Namespace) -> None:
    con = db.connect()
    _start_language(con, args)
    print(_("Database ready: {path}").format(path=db.database_name()))
    con.close()


def cmd_demo(args: argparse.Namespace) -> None:
    from leadcore import demo

    con = db.connect()
    has_leads = con.execute("SELECT count(*) FROM leads").fetchall()[0][0] > 0
    if has_leads and args.if_empty:
        print(_("Database {path} has data already; no demo data added.").format(path=db.database_name()))
        return
    _start_language(con, args)
    summary = demo.generate(con, clock.now(), leads=args.leads, seed=args.seed, progress=_progress_bar)
    print(_("Demo data in {path}: {users} users, {contacts} contacts, {leads} leads, {events} events "
            "in {seconds} s.").format(path=db.database_name(), users=_number(summary.users),
                                      contacts=_number(summary.contacts), leads=_number(summary.leads),
                                      events=_number(summary.events), seconds=_number(summary.seconds, 1)))
    print(_("Sign in as: {names} (password {password}).").format(
        names=", ".join(name for name, _role, _full in demo.DEMO_ACCOUNTS), password=demo.DEMO_PASSWORD))
    con.close()


def cmd_user_add(args: argparse.Namespace) -> None:
    from leadcore.admin import users

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if not password:
        raise SystemExit(_("Give the password on standard input with --password-stdin."))
    con = db.connect()
    user = users.add_user(con.cursor(), clock.now(), args.username, args.name, args.email,
                          args.role, password, location=args.location)
    print(_("User {username} ({role}) added.").format(username=user.username, role=user.role))


def cmd_escalate(args: argparse.Namespace) -> None:
    from leadcore.leads import escalation

    con = db.connect()
    result = escalation.sweep(con.cursor(), clock.now())
    if result.skipped:
        print(_("No escalations today ({reason}).").format(reason=_(result.skipped)))
        return
    print(_("Notifications recorded: {reminder} reminders, {stage1} stage 1, {stage2} stage 2; "
            "{mails} e-mails queued.").format(reminder=result.reminder, stage1=result.stage1,
                                              stage2=result.stage2, mails=result.mails))


def cmd_send_mail(args: argparse.Namespace) -> None:
    from leadcore.mail import outbox
    from leadcore.mail import smtp as mailer

    config = mailer.smtp_config(os.environ, mailer.read_secrets_file())
    if config is None:
        raise LeadcoreError(_("SMTP is not configured (LEADCORE_SMTP_HOST and friends, see README); "
                              "the mails wait in the outbox."))
    con = db.connect()
    report = outbox.send_due(con.cursor(), clock.now(), config, limit=args.limit)
    recovered = (_(", {n} interrupted sends taken up again").format(n=report.recovered)
                 if report.recovered else "")
    print(_("Outbox via {server}: {sent} sent, {retrying} to retry later, {failed} failed{recovered}.").format(
        server=config.describe(), sent=report.sent, retrying=report.retrying, failed=report.failed,
        recovered=recovered) + "".join(f"\n  {error}" for error in report.errors))


def cmd_intake(args: argparse.Namespace) -> None:
    from pathlib import Path

    from leadcore.auth import SYSTEM
    from leadcore.intake import folder

    if not Path(args.path).exists():
        raise LeadcoreError(_("{path} does not exist.").format(path=args.path))
    con = db.connect()
    print(folder.summary(folder.intake_path(con.cursor(), SYSTEM, clock.now(), Path(args.path),
                                             progress=_progress_bar, parse_aside=True,
                                             batch_size=max(1, args.batch_size or folder.BATCH_SIZE))))


def cmd_jobs(args: argparse.Namespace) -> None:
    from leadcore import jobs
    from leadcore.mail import smtp as mailer
    from leadcore.scheduler import Scheduler

    smtp = mailer.smtp_config(os.environ, mailer.read_secrets_file())
    scheduler = Scheduler(db.connect(), clock.now, jobs.background_jobs(smtp))
    try:
        results = scheduler.run_once()      # the group's jobs only when no app server leads
    finally:
        scheduler.stop()
    for name, result in results.items():
        print(f"{name}: " + (str(result) if result is not None else _("nothing to do")))
    if smtp is None:
        print(_("outbox: SMTP is not configured; the mails wait in the outbox."))


def cmd_backup(args: argparse.Namespace) -> None:
    from pathlib import Path

    from leadcore.admin import backup

    try:
        con = db.connect()
    except DatabaseBusy:
        # The app holds the file: it makes the backup itself, from the one process allowed in.
        raise DatabaseBusy(_("The running app holds {path}, so the command line cannot read it; make the "
                             "backup in the app under Settings → Backup.").format(path=db.database_path())) from None
    try:
        to = Path(args.to).resolve() if args.to else None   # a path typed in the shell: from here
        folder = backup.backup(con, to, clock.now(), progress=_progress_bar, actor=auth.SYSTEM)
        info = backup.read_backup(folder)
    finally:
        con.close()
    print(_("Backup of {path} written to {folder}: {tables} tables, {rows} rows, {size} MB.").format(
        path=db.database_path(), folder=folder, tables=len(info.tables), rows=_number(info.rows),
        size=_number(info.size_bytes / 1e6, 1)))


def cmd_restore(args: argparse.Namespace) -> None:
    from leadcore.admin import restore

    target = db.database_path()
    done = restore.restore(args.backup_dir, target, now=clock.now(), force=args.force, progress=_progress_bar)
    kept = _("; the replaced database is kept as {path}").format(path=done.kept) if done.kept else ""
    print(_("Restored {name} ({rows} rows) into {target}{kept}.").format(
        name=done.backup.name, rows=_number(done.backup.rows), target=target, kept=kept))


def cmd_copy_to_postgres(args: argparse.Namespace) -> None:
    import time

    from leadcore.admin import to_postgres

    if not postgres.is_url(args.url):
        raise LeadcoreError(_("Give the PostgreSQL database as a URL: postgresql://user@host:port/database."))
    source = db.connect(db.database_path())       # the DuckDB file, whatever LEADCORE_DATABASE_URL says
    try:
        copied = to_postgres.copy_to_postgres(source, args.url, _progress_bar, time.monotonic)
    finally:
        source.close()
    print(_("Copied {path} into {url}: {tables} tables, {rows} rows, counts and checksums equal, in {seconds} s.").format(
        path=db.database_path(), url=postgres.without_password(args.url), tables=len(copied.tables),
        rows=_number(sum(copied.tables.values())), seconds=_number(copied.seconds, 1)))
    print(_("Start the app with LEADCORE_DATABASE_URL set to that URL (its password from the environment)."))


def cmd_bench(args: argparse.Namespace) -> None:
    # The benchmarks live beside the product (benchmarks/), not in it: loaded only when asked for.
    from benchmarks import common, load, run

    if args.load is None:
        run.run(sizes=tuple(args.sizes), fresh=args.fresh)
        return
    # The load runs against the largest benchmark database (built once under data/bench/).
    database = common.database_for(max(args.sizes), fresh=args.fresh)
    status = load.main(["--db", str(database), *args.load])
    if status:
        raise LeadcoreError(f"The load benchmark stopped with status {status}.")


def cmd_cluster(args: argparse.Namespace) -> None:
    from leadcore import cluster

    cluster.run(servers=args.servers, port=args.port, postgres_port=args.postgres_port, demo_leads=args.leads)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m leadcore", description="leadcore command line.")
    sub = p.add_subparsers(dest="command", required=True)
    languages = {"choices": list(i18n.LANGUAGES), "help": "the language of a new dealership (default: "
                 "LEADCORE_LANGUAGE): its users' default, customer mails, the shipped sources' names"}
    init = sub.add_parser("init", help="create or migrate the database (LEADCORE_DB)")
    init.add_argument("--language", **languages)
    init.set_defaults(func=cmd_init)
    demo = sub.add_parser("demo", help="fill an empty database with a demo dealership")
    demo.add_argument("--language", **languages)
    demo.add_argument("--leads", type=int, default=20_000)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--if-empty", action="store_true", help="do nothing when leads exist")
    demo.set_defaults(func=cmd_demo)
    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=roles.ROLES)
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--location")
    add.add_argument("--password-stdin", action="store_true")
    add.set_defaults(func=cmd_user_add)
    sub.add_parser("escalate", help="record due reminders and escalations once (for cron)"
                   ).set_defaults(func=cmd_escalate)
    send = sub.add_parser("send-mail", help="send the due mails of the outbox over SMTP (for cron)")
    send.add_argument("--limit", type=int, default=500, help="at most this many mails in one run")
    send.set_defaults(func=cmd_send_mail)
    sub.add_parser("jobs", help="run every background job of the server once (for cron when no server runs)"
                   ).set_defaults(func=cmd_jobs)
    intake = sub.add_parser("intake", help="take in lead e-mails (.eml) and ADF files (.xml): a file or a folder")
    intake.add_argument("path", help="a file, or a folder whose files go to done/ or rejected/ beside them")
    intake.add_argument("--batch-size", type=int, default=None, help="files per transaction (default 2000)")
    intake.set_defaults(func=cmd_intake)
    backup = sub.add_parser("backup", help="export the database to Parquet in a new timestamped folder")
    backup.add_argument("--to", metavar="DIR", help="the folder to put it in (default: LEADCORE_BACKUP_DIR "
                        "or data/backups)")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="restore a backup folder into the database (LEADCORE_DB); "
                             "the app must be stopped")
    restore.add_argument("backup_dir", metavar="BACKUP_DIR")
    restore.add_argument("--force", action="store_true", help="replace a database that holds data "
                         "(kept as <file>.before-restore)")
    restore.set_defaults(func=cmd_restore)
    copy = sub.add_parser("copy-to-postgres", help="copy the DuckDB database (LEADCORE_DB) into an empty "
                          "PostgreSQL database and verify every table")
    copy.add_argument("url", metavar="URL", help="postgresql://user@host:port/database")
    copy.set_defaults(func=cmd_copy_to_postgres)
    bench = sub.add_parser("bench", help="measure list queries, lead creation and page runs")
    bench.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    bench.add_argument("--fresh", action="store_true", help="rebuild the benchmark databases")
    bench.add_argument("--load", nargs=argparse.REMAINDER, metavar="ARG",
                       help="signed-in sessions over the websocket instead (benchmarks/load.py's "
                            "options follow, e.g. --pages leads dashboard --sessions 1 5 10)")
    bench.set_defaults(func=cmd_bench)
    group = sub.add_parser("cluster", help="try a dealer group on this machine: PostgreSQL in data/postgres/, "
                           "several app servers and HAProxy in front, until Ctrl-C")
    group.add_argument("--servers", type=int, default=3, help="app servers (default 3)")
    group.add_argument("--port", type=int, default=8500, help="HAProxy's port on 127.0.0.1 (default 8500); "
                       "the servers take the next ones")
    group.add_argument("--postgres-port", type=int, default=55432, help="PostgreSQL's port (default 55432)")
    group.add_argument("--leads", type=int, default=20_000, help="demo leads for an empty database")
    group.set_defaults(func=cmd_cluster)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except ValidationErrors as error:
        for e in error.errors:
            print(f"{e.field}: {e.message}", file=sys.stderr)
        return 2
    except (DatabaseBusy, LeadcoreError) as error:
        print(error.message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
