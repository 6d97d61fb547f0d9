"""The command line: init, user add, demo, escalate, and a plain sentence when the app holds the file."""
from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from leadcore import __main__ as cli
from leadcore import auth, db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "cli.duckdb"
    monkeypatch.setenv("LEADCORE_DB", str(path))
    monkeypatch.setenv("LEADCORE_NOW", "2026-11-27T10:00:00+01:00")
    return path


def test_init_creates_the_database(database, capsys):
    assert cli.main(["init"]) == 0
    assert database.exists()
    assert str(database) in capsys.readouterr().out


def test_user_add_reads_the_password_from_stdin(database, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))
    assert cli.main(["user", "add", "jdoe", "--role", "seller", "--name", "Jana Doe",
                     "--email", "jana@autohaus.example", "--password-stdin"]) == 0
    assert "User jdoe (seller) added." in capsys.readouterr().out
    con = db.connect(database)
    try:
        assert auth.authenticate(con.cursor(), "jdoe", "a-long-password").full_name == "Jana Doe"
    finally:
        con.close()


def test_user_add_names_the_bad_field(database, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli.main(["user", "add", "jdoe", "--role", "seller", "--name", "Jana Doe",
                     "--email", "jana@autohaus.example", "--password-stdin"]) == 2
    assert "password: Password must have at least 8 characters." in capsys.readouterr().err


def test_demo_and_escalate(database, capsys):
    assert cli.main(["demo", "--leads", "300"]) == 0
    out = capsys.readouterr().out
    assert "300 leads" in out and "password demo1234" in out
    assert cli.main(["demo", "--leads", "300", "--if-empty"]) == 0
    assert "has data already" in capsys.readouterr().out
    assert cli.main(["escalate"]) == 0     # the demo settled its past escalations: nothing new
    assert "Notifications recorded: 0 reminders, 0 stage 1, 0 stage 2; 0 e-mails queued." in \
        capsys.readouterr().out


def test_a_running_app_holding_the_file_gets_one_plain_sentence(database):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, duckdb
        con = duckdb.connect({str(database)!r})
        print("holding", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        done = subprocess.run([sys.executable, "-m", "leadcore", "escalate"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().startswith(f"The database {database} is in use by another leadcore process")
    assert done.stderr.strip().count("\n") == 0


def test_jobs_runs_the_servers_job_list_once(database, capsys, monkeypatch):
    monkeypatch.delenv("LEADCORE_SMTP_HOST", raising=False)
    assert cli.main(["demo", "--leads", "200"]) == 0
    capsys.readouterr()
    assert cli.main(["jobs"]) == 0
    out = capsys.readouterr().out
    assert "escalation: SweepResult(" in out            # the same sweep the scheduler runs
    assert "intake_folder: nothing to do" in out        # no intake folder set
    assert "outbox: SMTP is not configured" in out


def _holding(database: Path) -> subprocess.Popen:
    """Another process holding the file read-write, as the running app does."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, duckdb
        con = duckdb.connect({str(database)!r})
        print("holding", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_backup_and_restore(database, tmp_path, capsys, monkeypatch):
    assert cli.main(["demo", "--leads", "50"]) == 0
    capsys.readouterr()
    assert cli.main(["backup", "--to", str(tmp_path / "saved")]) == 0
    out = capsys.readouterr().out
    [folder] = (tmp_path / "saved").iterdir()
    assert out.startswith(f"Backup of {database} written to {folder}: ") and "rows" in out
    assert cli.main(["restore", str(folder)]) == 1
    assert "already holds a database; add --force" in capsys.readouterr().err
    assert cli.main(["restore", str(folder), "--force"]) == 0
    assert f"kept as {database}.before-restore" in capsys.readouterr().out
    monkeypatch.setenv("LEADCORE_DB", str(tmp_path / "fresh.duckdb"))
    assert cli.main(["restore", str(folder)]) == 0
    assert "Restored " in capsys.readouterr().out


def test_backup_and_restore_while_the_app_holds_the_file_say_so_in_one_sentence(database, tmp_path):
    db.connect(database).close()
    assert cli.main(["backup", "--to", str(tmp_path / "saved")]) == 0
    [folder] = (tmp_path / "saved").iterdir()
    holder = _holding(database)
    try:
        backed_up = subprocess.run([sys.executable, "-m", "leadcore", "backup"], cwd=ROOT,
                                   capture_output=True, text=True, timeout=60)
        restored = subprocess.run([sys.executable, "-m", "leadcore", "restore", str(folder), "--force"],
                                  cwd=ROOT, capture_output=True, text=True, timeout=60)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    for done in (backed_up, restored):
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "Settings → Backup" in backed_up.stderr
    assert "stop it before restoring" in restored.stderr
    assert not database.with_name(database.name + ".before-restore").exists()
