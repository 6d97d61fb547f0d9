"""Lead files in a folder (`python -m leadcore intake PATH` and the server's polling), and the
Intake settings: default source, intake folder, sender mappings."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from leadcore import __main__ as cli
from leadcore.auth import SYSTEM
from leadcore.errors import PermissionDenied, ValidationErrors
from leadcore.intake import folder, routing
from tests import factories

CORPUS = Path(__file__).resolve().parents[1] / "data" / "intake"


@pytest.fixture
def inbox(tmp_path, monkeypatch) -> Path:
    """A folder with two good files and a bad one, under the intake root."""
    monkeypatch.setenv("LEADCORE_INTAKE_ROOT", str(tmp_path))
    box = tmp_path / "inbox"
    box.mkdir()
    for name in ("adf_complete.xml", "mobile_de.eml", "not_adf.xml"):
        shutil.copy(CORPUS / name, box / name)
    return box


def names(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def test_a_folder_is_taken_in_and_its_files_moved_beside_it(cur, now, supervisor, inbox, count):
    run = folder.intake_path(cur, SYSTEM, now, inbox)
    assert sorted((r.file_name, r.outcome) for r in run.results) == [
        ("adf_complete.xml", "created"), ("mobile_de.eml", "created"), ("not_adf.xml", "rejected")]
    assert names(inbox) == ["done", "rejected"]
    assert names(inbox / "done") == ["adf_complete.xml", "mobile_de.eml"]
    assert names(inbox / "rejected") == ["not_adf.xml"]
    assert count("leads") == 2
    text = folder.summary(run)
    assert "3 files: 2 created, 0 merged, 1 rejected, 0 taken in before." in text and "not_adf.xml" in text


def test_a_single_file_and_an_earlier_file_of_the_same_name(cur, now, supervisor, inbox):
    (inbox / "done").mkdir()
    (inbox / "done" / "mobile_de.eml").write_text("an earlier one")
    run = folder.intake_path(cur, SYSTEM, now, inbox / "mobile_de.eml")
    assert [r.outcome for r in run.results] == ["created"]
    assert names(inbox / "done") == ["mobile_de.1.eml", "mobile_de.eml"]
    assert (inbox / "done" / "mobile_de.eml").read_text() == "an earlier one"


def test_polling_needs_a_folder_and_leaves_young_and_temporary_files(cur, now, supervisor, manager, source_ids, inbox):
    assert folder.poll_folder(cur, now) is None                   # no intake folder set
    routing.update_intake_settings(cur, manager, now, source_ids["E-mail"], str(inbox))
    (inbox / "upload.eml.part").write_text("still arriving")
    (inbox / ".hidden.xml").write_text("<adf/>")
    old = time.time() - 60
    for name in ("adf_complete.xml", "not_adf.xml"):
        os.utime(inbox / name, (old, old))
    run = folder.poll_folder(cur, now)
    assert sorted(r.file_name for r in run.results) == ["adf_complete.xml", "not_adf.xml"]
    assert sorted(names(inbox)) == [".hidden.xml", "done", "mobile_de.eml", "rejected", "upload.eml.part"]


def test_the_command_line_prints_a_summary(db_path, con, cur, now, supervisor, inbox, monkeypatch, capsys):
    cur.close()
    con.close()                                       # the command line opens the file itself
    factories.use_database(monkeypatch, db_path)
    monkeypatch.setenv("LEADCORE_NOW", now.isoformat())
    assert cli.main(["intake", str(inbox)]) == 0
    out = capsys.readouterr().out
    assert "3 files: 2 created, 0 merged, 1 rejected, 0 taken in before." in out
    assert cli.main(["intake", str(inbox / "missing")]) == 1


# --- Intake settings ----------------------------------------------------------------------------

def test_intake_settings_are_checked_and_audited(cur, now, manager, source_ids, tmp_path, monkeypatch):
    monkeypatch.setenv("LEADCORE_INTAKE_ROOT", str(tmp_path))
    with pytest.raises(ValidationErrors) as bad:
        routing.update_intake_settings(cur, manager, now, 999, str(tmp_path / "nowhere"))
    assert set(bad.value.by_field()) == {"default_source", "folder"}
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    saved = routing.update_intake_settings(cur, manager, now, source_ids["Phone"], f" {inbox} ")
    assert routing.intake_settings(cur) == saved == routing.IntakeSettings(source_ids["Phone"], str(inbox))
    assert cur.execute("SELECT action FROM audit_log WHERE area = 'intake'").fetchall() == [("update",)]


@pytest.mark.parametrize("where", ["outside", pytest.param(
    "database", marks=pytest.mark.duckdb_only("on PostgreSQL the app server holds no database folder"))])
def test_the_intake_folder_stays_under_its_root_and_away_from_the_database(cur, now, manager, source_ids,
                                                                          tmp_path, monkeypatch, where):
    root = tmp_path / "intake_root"
    root.mkdir()
    monkeypatch.setenv("LEADCORE_INTAKE_ROOT", str(tmp_path if where == "database" else root))
    folder = tmp_path if where == "database" else tmp_path / "elsewhere"
    folder.mkdir(exist_ok=True)
    with pytest.raises(ValidationErrors) as bad:
        routing.update_intake_settings(cur, manager, now, source_ids["Phone"], str(folder))
    message = bad.value.by_field()["folder"]
    assert ("must lie inside" in message) if where == "outside" else ("database's folder" in message)


def test_sender_mappings_are_addresses_or_domains(cur, now, manager, source_ids):
    added = routing.add_sender_source(cur, manager, now, " Leads@Portal.Example ", source_ids["Website form"])
    assert (added.pattern, added.source) == ("leads@portal.example", "Website form")
    assert routing.add_sender_source(cur, manager, now, "portal.example", source_ids["Phone"]).pattern == "@portal.example"
    with pytest.raises(ValidationErrors, match="mapped already"):
        routing.add_sender_source(cur, manager, now, "@PORTAL.example", source_ids["Phone"])
    for bad in ("not a sender", "@", "x@"):
        with pytest.raises(ValidationErrors, match="e-mail address .* or a domain"):
            routing.add_sender_source(cur, manager, now, bad, source_ids["Phone"])
    with pytest.raises(ValidationErrors, match="Choose the source"):
        routing.add_sender_source(cur, manager, now, "@new.example", None)
    routing.remove_sender_source(cur, manager, now, "@portal.example")
    assert [m.pattern for m in routing.sender_sources(cur) if m.kind == "sender"] == [
        "@autoscout24.com", "@autoscout24.de", "leads@portal.example", "@mobile.de"]


def test_sellers_may_not_change_intake_settings(cur, now, seller, source_ids):
    with pytest.raises(PermissionDenied):
        routing.add_sender_source(cur, seller, now, "@x.example", source_ids["Phone"])
    with pytest.raises(PermissionDenied):
        routing.update_intake_settings(cur, seller, now, source_ids["Phone"], "")


def test_a_sender_is_matched_by_address_then_domain_then_parent_domain():
    assert routing.sender_patterns("Leads@Mail.Mobile.de") == [
        "leads@mail.mobile.de", "@mail.mobile.de", "@mobile.de"]     # never a whole top-level domain
    assert routing.sender_patterns("") == []
