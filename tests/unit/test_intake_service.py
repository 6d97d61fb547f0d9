"""Taking lead files in: contact matching in its order, resends and duplicates, rejections that
store nothing but their log row, one bad file never stopping the others, and the request date
driving the stage-1 clock."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from leadcore.admin import basic, settings, sources
from leadcore.auth import SYSTEM
from leadcore.contacts import service as contacts
from leadcore.intake import intake_file, intake_many, routing, service
from leadcore.intake.log import count_intake_log, intake_log_page
from leadcore.leads import service as leads

CORPUS = Path(__file__).resolve().parents[1] / "data" / "intake"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def adf(*, email: str = "", phone: str = "", last: str = "Neumann", first: str = "Nina", postal: str = "",
        ident: str = "", provider: str = "mobile.de", requestdate: str = "", vin: str = "") -> bytes:
    reach = (f"<email>{email}</email>" if email else "") + (f"<phone>{phone}</phone>" if phone else "")
    address = f"<address><postalcode>{postal}</postalcode></address>" if postal else ""
    return f"""<?xml version="1.0"?><adf><prospect>
        {f'<id source="{provider}">{ident}</id>' if ident else ''}
        {f'<requestdate>{requestdate}</requestdate>' if requestdate else ''}
        <vehicle interest="buy" status="new"><make>Cupra</make><model>Born</model>
        {f'<vin>{vin}</vin>' if vin else ''}</vehicle>
        <customer><contact><name part="first">{first}</name><name part="last">{last}</name>
        {reach}{address}</contact></customer>
        <provider><name>{provider}</name></provider></prospect></adf>""".encode()


@pytest.fixture
def team(cur, seller, seller2, source_ids):
    """Anna and Ben receive mobile.de's leads in turn."""
    cur.execute("INSERT INTO source_users VALUES (?, ?), (?, ?)",
                [source_ids["mobile.de"], seller.id, source_ids["mobile.de"], seller2.id])
    return seller, seller2


def events_of(cur, lead_id: int) -> list[tuple[str, str]]:
    return cur.execute("SELECT kind, detail FROM lead_events WHERE lead_id = ? ORDER BY id", [lead_id]).fetchall()


CORPUS_OUTCOMES = {
    "adf_complete.xml": "created", "adf_minimal.xml": "created", "adf_extra_elements.xml": "created",
    "adf_attachment.eml": "created", "mobile_de.eml": "created", "autoscout24.eml": "created",
    "html_only.eml": "created", "direct_customer.eml": "created",
    "resend_same_id.xml": "merged", "duplicate_contact_source.eml": "created",
    "malformed_mime.eml": "rejected", "not_adf.xml": "rejected", "unreachable.eml": "rejected",
    "xml_bomb.xml": "rejected", "external_entity.xml": "rejected",
}


def test_the_whole_corpus_one_bad_file_never_stops_the_others(cur, now, team, count):
    names = list(CORPUS_OUTCOMES)   # bad files sit between good ones
    results = intake_many(cur, SYSTEM, now, [(n, corpus(n)) for n in names[:3] + names[10:] + names[3:10]])
    assert {r.file_name: r.outcome for r in results} == CORPUS_OUTCOMES
    assert count("leads") == 9 and count("contacts") == 8 and count("intake_log") == 15
    rejected = {r.file_name: r.reason for r in results if r.outcome == "rejected"}
    assert all(rejected.values()) and all(r.lead_id is None for r in results if r.outcome == "rejected")
    assert all(r.lead_id for r in results if r.outcome != "rejected")


def test_rejected_files_store_nothing_but_their_log_row(cur, now, team, count):
    tables = ("leads", "contacts", "lead_events", "outbox", "distribution_pointer")
    before = {t: count(t) for t in tables}
    names = ["malformed_mime.eml", "not_adf.xml", "unreachable.eml", "xml_bomb.xml", "external_entity.xml"]
    results = intake_many(cur, SYSTEM, now, [(n, corpus(n)) for n in names])
    assert {r.outcome for r in results} == {"rejected"}
    assert {t: count(t) for t in tables} == before
    log = intake_log_page(cur, SYSTEM).rows
    assert list(log["outcome"]) == ["rejected"] * 5 and list(log["file_name"]) == names[::-1]   # newest first
    assert all(log["reason"].str.len() > 10)


def test_a_file_over_the_size_limit_is_rejected(cur, now, monkeypatch, count):
    monkeypatch.setattr(service, "MAX_MESSAGE_BYTES", 1000)
    result = intake_file(cur, SYSTEM, now, "big.xml", adf(email="big@example.de") + b" " * 1000)
    assert result.outcome == "rejected" and "size" in result.reason
    assert count("leads") == 0 and count("intake_log") == 1


def test_the_request_date_is_the_arrival_and_starts_the_stage_1_clock(cur, now, team, lead_row, berlin):
    result = intake_file(cur, SYSTEM, now, "adf_complete.xml", corpus("adf_complete.xml"))
    lead = lead_row(result.lead_id)
    assert lead["arrived_at"] == berlin("2026-11-27 08:30")
    assert (lead["due_at"], lead["reminder_at"], lead["stage2_at"]) == (
        berlin("2026-11-27 10:30"), berlin("2026-11-27 10:00"), berlin("2026-11-27 14:30"))
    # Friday 16:45 plus two working hours: Saturday 10:15 (Saturday opens 09:00).
    late = intake_file(cur, SYSTEM, now, "late.xml", adf(email="late@example.de", requestdate="2026-11-26T16:45:00+01:00"))
    assert lead_row(late.lead_id)["due_at"] == berlin("2026-11-27 08:45")


def test_a_request_date_in_the_future_counts_as_now(cur, now, team, lead_row):
    result = intake_file(cur, SYSTEM, now, "future.xml", adf(email="f@example.de", requestdate="2027-01-01T10:00:00+01:00"))
    assert lead_row(result.lead_id)["arrived_at"] == now


def test_a_created_lead_has_its_vehicle_events_and_log_row(cur, now, team, lead_row):
    result = intake_file(cur, SYSTEM, now, "adf_extra_elements.xml", corpus("adf_extra_elements.xml"))
    lead = lead_row(result.lead_id)
    assert (lead["lead_type"], lead["subject"], lead["status"]) == ("new_car", "Test drive: 2026 Skoda Octavia Combi", "open")
    assert (lead["vehicle_make"], lead["vehicle_model"], lead["vehicle_vin"], lead["vehicle_vin_valid"]) == (
        "Skoda", "Octavia Combi", "TMBJJ7NE5J01234I5", False)      # an invalid VIN is kept and flagged
    assert "Trade-in: 2015 Volkswagen Polo" in lead["note"]
    assert lead["external_id"] == "Dealer-Website XY/AutoScout24/AS24-77001"
    kinds = events_of(cur, result.lead_id)
    assert kinds[0] == ("created", "Test drive: 2026 Skoda Octavia Combi")
    assert kinds[1][0] == "assigned" and "Clara Vogt" in kinds[1][1]   # a new provider has no users: the supervisors
    log = intake_log_page(cur, SYSTEM).rows.iloc[0]
    assert (log["outcome"], log["lead_id"], log["source"], log["reason"]) == (
        "created", result.lead_id, "Dealer-Website XY", "new contact")   # the provider decides


def test_the_new_contact_is_validated_filed_and_searchable(cur, now, team):
    result = intake_file(cur, SYSTEM, now, "html_only.eml", corpus("html_only.eml"))
    contact_id = cur.execute("SELECT contact_id FROM leads WHERE id = ?", [result.lead_id]).fetchall()[0][0]
    found = contacts.search_contacts(cur, "söderberg").rows
    assert list(found["id"]) == [contact_id]
    assert contacts.get_contact(cur, contact_id).phone == "+49407654321"


# --- matching ---------------------------------------------------------------------------------

@pytest.fixture
def three(cur, now):
    """Three contacts, each findable by one rule only."""
    make = lambda **f: contacts.create_contact(cur, SYSTEM, now, contacts.ContactInput(**f)).id  # noqa: E731
    return {"email": make(first_name="Nina", last_name="Neumann", email="Nina.Neumann@Example.de"),
            "phone": make(last_name="Neumann", phone="0171 5550001"),
            "name": make(last_name="Neumann", postal_code="10115")}


def contact_of(cur, result) -> int:
    return cur.execute("SELECT contact_id FROM leads WHERE id = ?", [result.lead_id]).fetchall()[0][0]


def test_matching_by_email_first_ignoring_letter_case(cur, now, team, three):
    result = intake_file(cur, SYSTEM, now, "a.xml", adf(email="nina.neumann@example.de", phone="0171 5550001", postal="10115"))
    assert contact_of(cur, result) == three["email"] and result.reason == "contact found by e-mail"


def test_then_by_normalised_phone(cur, now, team, three):
    result = intake_file(cur, SYSTEM, now, "b.xml", adf(email="other@example.de", phone="+49 171 555 0001", postal="10115"))
    assert contact_of(cur, result) == three["phone"] and result.reason == "contact found by phone"


def test_then_by_last_name_and_postal_code(cur, now, team, three):
    # Only the name and postal code agree: maybe another person. A new contact, flagged.
    result = intake_file(cur, SYSTEM, now, "c.xml", adf(email="other@example.de", last="NEUMANN", postal="10115"))
    assert contact_of(cur, result) not in three.values()
    assert cur.execute("SELECT possible_duplicate_of FROM contacts WHERE id = ?",
                       [contact_of(cur, result)]).fetchall()[0][0] == three["name"]
    assert result.reason == "new contact, possible duplicate (same last name and postal code, other person?)"


def test_else_a_new_contact_and_deleted_contacts_never_match(cur, now, team, three, count):
    contacts.delete_contact(cur, SYSTEM, now, three["email"])
    result = intake_file(cur, SYSTEM, now, "d.xml", adf(email="nina.neumann@example.de", postal="99999"))
    assert result.reason == "new contact" and contact_of(cur, result) not in three.values()
    assert count("contacts") == 4


def test_a_customer_writing_twice_in_one_batch_gets_one_contact(cur, now, team, count):
    results = intake_many(cur, SYSTEM, now, [("1.xml", adf(email="twice@example.de", provider="mobile.de")),
                                     ("2.xml", adf(email="TWICE@example.de", provider="AutoScout24"))])
    assert [r.outcome for r in results] == ["created", "created"]     # two sources: two leads
    assert count("contacts") == 1 and results[1].reason == "contact found by e-mail"


# --- resends and duplicates -------------------------------------------------------------------

def test_the_same_external_id_adds_an_event_to_the_first_lead(cur, now, team, count, lead_row):
    first = intake_file(cur, SYSTEM, now, "adf_complete.xml", corpus("adf_complete.xml"))
    again = intake_file(cur, SYSTEM, now + timedelta(hours=1), "resend_same_id.xml", corpus("resend_same_id.xml"))
    assert (again.outcome, again.lead_id) == ("merged", first.lead_id)
    assert count("leads") == 1
    assert events_of(cur, first.lead_id)[-1] == (
        "intake", "resent: the same request (mobile.de/mobile.de/MDE-2026-448812) of the same customer was taken"
                  " in before (resend_same_id.xml)")
    assert lead_row(first.lead_id)["last_activity_at"] == now + timedelta(hours=1)


def test_the_same_file_uploaded_twice_is_skipped_without_a_trace(cur, now, team, count):
    intake_file(cur, SYSTEM, now, "direct_customer.eml", corpus("direct_customer.eml"))
    again = intake_file(cur, SYSTEM, now, "copy.eml", corpus("direct_customer.eml"))
    assert (again.outcome, again.lead_id, count("leads"), count("intake_log")) == ("skipped", None, 1, 1)


def test_the_same_message_id_is_a_resend(cur, now, team, count):
    first = intake_file(cur, SYSTEM, now, "direct_customer.eml", corpus("direct_customer.eml"))
    again = intake_file(cur, SYSTEM, now, "copy.eml", corpus("direct_customer.eml") + b"\n")
    assert (again.outcome, again.lead_id, count("leads")) == ("merged", first.lead_id, 1)


def test_another_request_of_the_same_customer_is_a_lead_of_their_contact(cur, now, team, count):
    # Only the same request is a resend (issue 9): the same customer asking again gets a lead
    # of their own, on the same contact.
    first = intake_file(cur, SYSTEM, now, "mobile_de.eml", corpus("mobile_de.eml"))
    again = intake_file(cur, SYSTEM, now, "duplicate_contact_source.eml", corpus("duplicate_contact_source.eml"))
    assert (again.outcome, count("leads"), count("contacts")) == ("created", 2, 1)
    assert contact_of(cur, again) == contact_of(cur, first)


def test_an_old_completed_or_other_source_lead_is_no_reason_to_merge(cur, now, seller, contact, make_lead):
    email = contact.email
    old = make_lead(seller, at=now - timedelta(days=31))
    done = make_lead(seller)
    sold = cur.execute("SELECT id FROM completion_reasons WHERE code = 'sold'").fetchall()[0][0]
    leads.complete(cur, seller, now, done, sold)
    result = intake_file(cur, SYSTEM, now, "x.xml", adf(email=email, provider="mobile.de"))
    assert result.outcome == "created" and result.lead_id not in (old, done)
    other = intake_file(cur, SYSTEM, now, "y.xml", adf(email=email, provider="AutoScout24"))
    assert other.outcome == "created"


# --- sources ----------------------------------------------------------------------------------

def test_unknown_senders_go_to_the_default_source_and_are_flagged(cur, now, team, source_ids, manager):
    result = intake_file(cur, SYSTEM, now, "direct_customer.eml", corpus("direct_customer.eml"))
    assert (result.source_id, result.unknown_sender) == (source_ids["E-mail"], True)
    routing.update_intake_settings(cur, manager, now, source_ids["Website form"], "")
    routing.add_sender_source(cur, manager, now, "Ole.Brandt@example.de", source_ids["Phone"])
    mapped = intake_file(cur, SYSTEM, now, "again.eml", corpus("direct_customer.eml").replace(b"a1b2c3", b"zz"))
    assert (mapped.source_id, mapped.unknown_sender) == (source_ids["Phone"], False)
    other = intake_file(cur, SYSTEM, now, "other.eml", corpus("direct_customer.eml").replace(b"ole.brandt", b"o.b"))
    assert (other.source_id, other.unknown_sender) == (source_ids["Website form"], True)


def test_marketplace_domains_and_provider_names_map_and_new_providers_get_an_inactive_source(
        cur, now, team, source_ids, manager):
    before = len(sources.list_sources(cur, active_only=False))
    by_sender = intake_file(cur, SYSTEM, now, "autoscout24.eml", corpus("autoscout24.eml"))
    by_provider = intake_file(cur, SYSTEM, now, "p.xml", adf(email="p@example.de", provider="MOBILE.DE"))
    unknown = intake_file(cur, SYSTEM, now, "q.xml", adf(email="q@example.de", provider="Neues Portal"))
    assert (by_sender.source_id, by_sender.unknown_sender) == (source_ids["AutoScout24"], False)
    assert (by_provider.source_id, by_provider.unknown_sender) == (source_ids["mobile.de"], False)
    created = cur.execute("SELECT id, name, active FROM sources WHERE id = ?", [unknown.source_id]).fetchall()
    assert created == [(unknown.source_id, "Neues Portal", False)] and not unknown.unknown_sender
    assert len(sources.list_sources(cur, active_only=False)) == before + 1
    again = intake_file(cur, SYSTEM, now, "r.xml", adf(email="r@example.de", provider="neues portal"))
    assert again.source_id == unknown.source_id            # created once, found from then on
    routing.confirm_source(cur, manager, now, unknown.source_id)
    assert cur.execute("SELECT active FROM sources WHERE id = ?", [unknown.source_id]).fetchall() == [(True,)]


def test_without_an_active_default_source_unknown_senders_are_rejected(cur, now, team, manager, source_ids, count):
    sources.update_source(cur, manager, now, source_ids["E-mail"], active=False)
    result = intake_file(cur, SYSTEM, now, "direct_customer.eml", corpus("direct_customer.eml"))
    assert result.outcome == "rejected" and "no active default source" in result.reason
    assert count("leads") == 0


# --- mail hooks and failures ------------------------------------------------------------------

def test_new_leads_queue_the_autoresponder_and_every_message_a_forward(cur, now, team, manager):
    basic.update_basic_settings(cur, manager, now, settings.BasicSettings(forwarding_target="crm@autohaus.example"))
    created = intake_file(cur, SYSTEM, now, "adf_complete.xml", corpus("adf_complete.xml"))
    merged = intake_file(cur, SYSTEM, now, "resend_same_id.xml", corpus("resend_same_id.xml"))
    intake_file(cur, SYSTEM, now, "not_adf.xml", corpus("not_adf.xml"))
    rows = cur.execute("SELECT kind, lead_id, recipient_email FROM outbox ORDER BY id").fetchall()
    assert rows == [("autoresponder", created.lead_id, "Katharina.Vogelsang@example.de"),
                    ("forward", created.lead_id, "crm@autohaus.example"),
                    ("forward", merged.lead_id, "crm@autohaus.example")]


def test_a_file_that_breaks_the_store_is_rejected_and_the_batch_goes_on(cur, now, team, monkeypatch, count):
    from leadcore.mail import autoresponder

    real = autoresponder.queue_for_new_leads

    def fragile(c, lead_ids, moment):
        subjects = [r[0] for r in c.execute("SELECT subject FROM leads WHERE id IN (SELECT unnest(?::BIGINT[]))",
                                            [lead_ids]).fetchall()]
        if any("Service" in subject for subject in subjects):
            raise RuntimeError("template exploded")
        return real(c, lead_ids, moment)

    monkeypatch.setattr(autoresponder, "queue_for_new_leads", fragile)
    names = ["adf_complete.xml", "html_only.eml", "autoscout24.eml"]
    results = intake_many(cur, SYSTEM, now, [(n, corpus(n)) for n in names])
    assert [r.outcome for r in results] == ["created", "rejected", "created"]
    assert "could not be stored (RuntimeError)" in results[1].reason
    assert count("leads") == 2 and count("intake_log") == 3


def test_progress_is_reported_per_batch(cur, now, team):
    seen = []
    files = [(f"{i}.xml", adf(email=f"p{i}@example.de", ident=f"P{i}")) for i in range(5)]
    intake_many(cur, SYSTEM, now, files, progress=lambda fraction, message: seen.append((fraction, message)),
                batch_size=2)
    assert [f for f, _m in seen] == [0.4, 0.8, 1.0] and seen[-1][1] == "5 of 5 files taken in"


def test_the_intake_log_pages_newest_first(cur, now, team):
    intake_many(cur, SYSTEM, now, [(f"{i}.xml", adf(email=f"l{i}@example.de", ident=f"L{i}")) for i in range(5)])
    first = intake_log_page(cur, SYSTEM, page_size=3)
    second = intake_log_page(cur, SYSTEM, after=first.next_after, page_size=3)
    assert list(first.rows["file_name"]) == ["4.xml", "3.xml", "2.xml"]
    assert list(second.rows["file_name"]) == ["1.xml", "0.xml"] and second.next_after is None
    assert count_intake_log(cur, SYSTEM) == 5 and count_intake_log(cur, SYSTEM, "rejected") == 0


@pytest.mark.duckdb_only("the benchmark copies the DuckDB file")
def test_the_benchmark_mix_goes_through_on_a_copy(db_path, con, cur, now, team, count):
    from benchmarks import intake as bench_intake

    con.execute("CHECKPOINT")                 # the benchmark copies the file
    lines: list[str] = []
    rows = bench_intake.intake_rows(db_path, n=40, out=lines.append, now=now)
    assert len(rows) == 6 and all(r[0].startswith("Intake") for r in rows)
    assert rows[1][2] == "msgs/s" and rows[1][1] > 0 and rows[1][3] == "≥ 1000"
    assert "Intake of 40 messages" in lines[0]
    assert count("leads") == 0                # the database it was given is left as it was


# --- who may take leads in ----------------------------------------------------------------------

def test_only_managers_admins_and_the_system_take_leads_in(cur, now, team, seller, manager, admin, analyst, count):
    from leadcore.errors import PermissionDenied

    for who in (seller, analyst):
        with pytest.raises(PermissionDenied, match="Only managers and admins"):
            intake_file(cur, who, now, "x.xml", adf(email=f"{who.username}@example.de"))
    assert count("intake_log") == 0
    for who in (manager, admin, SYSTEM):
        assert intake_file(cur, who, now, f"{who.username}.xml", adf(email=f"{who.username}@example.de")).outcome == "created"
