"""Property (issue 9): two different customers never share a lead, whatever ids their files
carry: the same or an empty external id, one a provider puts on every lead ("Email"), the
same provider or another, the same Message-ID, in one batch or one after the other."""
from __future__ import annotations

from itertools import count

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from leadcore.auth import SYSTEM
from leadcore.intake import intake_file, intake_many

_run = count()
FIRST = ["Anna", "Ben", "Clara", "David", "Emil", "Frieda", "Gustav", "Hanna"]
LAST = ["Adler", "Brandt", "Conrad", "Dietz", "Ebert", "Fink", "Graf", "Haas"]

ids = st.sampled_from(["", "Email", "lead", "1", "WEB-100"])
providers = st.sampled_from(["Lakeside Motors website", "mobile.de", "AutoScout24"])
message_ids = st.sampled_from(["", "<same@portal.example>", "<other@portal.example>"])
shapes = st.sampled_from(["adf", "adf_mail", "labels_mail"])


@st.composite
def customer_files(draw):
    one, two = draw(st.lists(st.integers(0, len(FIRST) - 1), min_size=2, max_size=2, unique=True))
    return [(draw(shapes), draw(ids), draw(st.sampled_from(["leadtype", "X", ""])), draw(providers),
             draw(message_ids), person) for person in (one, two)]


def _file(run: int, shape: str, ident: str, id_source: str, provider: str, message_id: str, person: int) -> tuple[str, bytes]:
    first, last = FIRST[person], LAST[person]
    email = f"{first.lower()}.{last.lower()}.{run}@example.de"
    phone = f"030 23125{(run * len(FIRST) + person) % 1000:03d}"     # unique per customer (fiction range)
    adf = (f'<?xml version="1.0"?><adf><prospect><id source="{id_source}">{ident}</id>'
           f'<vehicle><make>Skoda</make><model>Fabia</model></vehicle><customer><contact>'
           f'<name part="first">{first}</name><name part="last">{last}</name><email>{email}</email>'
           f'<phone>{phone}</phone><address><postalcode>10115</postalcode></address></contact>'
           f'<comments>Run {run}</comments></customer><provider><name>{provider}</name></provider></prospect></adf>')
    if shape == "adf":
        return f"{run}-{person}.xml", adf.encode()
    header = (f"From: Portal <noreply@portal.example>\nTo: leads@autohaus-example.de\nSubject: Anfrage {run}\n"
              + (f"Message-ID: {message_id}\n" if message_id else ""))
    if shape == "adf_mail":
        body = f"Content-Type: text/plain; charset=UTF-8\n\n{adf}\n"
    else:
        body = (f"Content-Type: text/plain; charset=UTF-8\n\nVorname: {first}\nNachname: {last}\n"
                f"E-Mail: {email}\nTelefon: {phone}\nPLZ: 10115\nInserat: {ident}\nNachricht: Lauf {run}\n")
    return f"{run}-{person}.eml", (header + body).encode()


@hypothesis_settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(files=customer_files(), together=st.booleans())
def test_two_different_customers_never_share_a_lead(cur, now, seller, files, together):
    run = next(_run)
    data = [_file(run, *f) for f in files]
    if together:
        results = intake_many(cur, SYSTEM, now, data)
    else:
        results = [intake_file(cur, SYSTEM, now, *d) for d in data]
    assert [r.outcome for r in results] == ["created", "created"], [r.reason for r in results]
    contacts = [cur.execute("SELECT contact_id FROM leads WHERE id = ?", [r.lead_id]).fetchall()[0][0]
                for r in results]
    assert results[0].lead_id != results[1].lead_id
    assert contacts[0] != contacts[1]
