"""E-mail templates (SPEC section 8): placeholders, sandboxed rendering, nh3 sanitising, the
plain-text part, validation of blocks, colour and header graphic, storage per source."""
from __future__ import annotations

import struct
import zlib
from dataclasses import replace

import pytest

from leadcore import auth
from leadcore.admin import basic, settings
from leadcore.contacts import service as contacts
from leadcore.errors import NotFound, PermissionDenied, ValidationErrors
from leadcore.leads import service as leads
from leadcore.mail import html as mail_html
from leadcore.mail import render as mail_render
from leadcore.mail import templates as mail_templates
from leadcore.mail.templates import FIELDS, PLACEHOLDERS, TemplateDraft


def png(width: int = 2, height: int = 1) -> bytes:
    """A real, tiny PNG made here (no binary test files)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32 + b"\xff\xd9"


@pytest.fixture
def context() -> dict:
    return {
        "contact": {"salutation": "Frau", "first_name": "Erika", "last_name": "Musterfrau"},
        "lead": {"subject": "Tiguan, Probefahrt"},
        "vehicle": {"make": "Volkswagen", "model": "Tiguan", "year": "2024"},
        "seller": {"name": "Anna Becker", "phone": "+49 30 1234", "email": "anna@autohaus.example"},
        "dealership": {"name": "Autohaus Nord", "address": "Hauptstraße 1, 10115 Berlin", "phone": "+49 30 999"},
    }


def draft(**changes) -> TemplateDraft:
    base = TemplateDraft(
        source_id=None, autoresponder_subject="Ihre Anfrage: {{ lead.subject }}",
        autoresponder_html="<p>Hallo {{ contact.salutation }} {{ contact.last_name }},</p><p>danke!</p>",
        autoresponder_footer_html="<p>{{ seller.name }} · {{ seller.phone }}</p>",
        general_footer_html="<p>{{ dealership.name }}, {{ dealership.address }}</p>", banner_colour="#1F4E79")
    return replace(base, **changes)


def render(text: str, context: dict) -> str:
    return mail_html.render_block(text, context, FIELDS)


# --- placeholders and rendering --------------------------------------------------------------

def test_every_placeholder_of_the_picker_renders_its_value(context):
    for placeholder in PLACEHOLDERS:
        group, field = placeholder.name.split(".")
        assert render(placeholder.tag, context) == context[group][field], placeholder.name
    assert {p.name.split(".")[0] for p in PLACEHOLDERS} == set(mail_html.GROUPS)


def test_the_autoresponder_has_html_and_text_parts_with_the_values(context):
    mail = mail_render.render_autoresponder(draft(), context)
    assert mail.subject == "Ihre Anfrage: Tiguan, Probefahrt"
    assert "<p>Hallo Frau Musterfrau,</p>" in mail.html
    assert mail.html.startswith("<!DOCTYPE html>") and 'background-color:#1F4E79' in mail.html
    assert "Anna Becker · +49 30 1234" in mail.html
    assert mail.text.startswith("Hallo Frau Musterfrau,\n\ndanke!")
    assert mail.text.endswith("-- \nAutohaus Nord, Hauptstraße 1, 10115 Berlin")


def test_if_blocks_show_a_part_only_with_a_value(context):
    text = "<p>Ihr {% if vehicle.model %}{{ vehicle.make }} {{ vehicle.model }}{% else %}Wunschauto{% endif %}</p>"
    assert render(text, context) == "<p>Ihr Volkswagen Tiguan</p>"
    context["vehicle"] = {"make": "", "model": "", "year": ""}
    assert render(text, context) == "<p>Ihr Wunschauto</p>"


def test_a_missing_value_renders_empty(context):
    del context["seller"]["phone"]
    assert render("<p>Tel. {{ seller.phone }}.</p>", context) == "<p>Tel. .</p>"


def test_text_filters_work_and_others_are_refused(context):
    assert render("{{ contact.last_name|upper }}", context) == "MUSTERFRAU"
    with pytest.raises(mail_html.MailTemplateError, match="filter “safe”"):
        render("{{ contact.last_name|safe }}", context)
    with pytest.raises(mail_html.MailTemplateError, match="filter “attr”"):
        render("{{ contact|attr('items') }}", context)


# --- sandbox ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "{{ contact.__class__ }}",
    "{{ contact.items() }}",
    "{{ ''.__class__.__mro__ }}",
    "{{ lipsum.__globals__ }}",
    "{% for x in range(10) %}x{% endfor %}",
    "{{ 9 ** 9 ** 9 }}",
    "{{ 'x' * 100000000 }}",
    "{% set x = 1 %}",
    "{% include 'other.html' %}",
    "{{ contact['first_name'] }}",
    "{% macro m() %}{% endmacro %}",
    "{{ cycler }}",
])
def test_anything_beyond_placeholders_and_if_is_refused(text, context):
    with pytest.raises(mail_html.MailTemplateError):
        render(text, context)


def test_unknown_placeholders_are_named():
    with pytest.raises(mail_html.MailTemplateError, match="“contact.age”"):
        mail_html.compile_checked("{{ contact.age }}", FIELDS)
    with pytest.raises(mail_html.MailTemplateError, match="“customer.name”"):
        mail_html.compile_checked("{{ customer.name }}", FIELDS)
    with pytest.raises(mail_html.MailTemplateError, match="“contact.first_name.upper”"):
        mail_html.compile_checked("{{ contact.first_name.upper }}", FIELDS)


@pytest.mark.parametrize("text", ["{{ contact.first_name.upper }}", "{{ ''.__class__ }}",
                                  "{{ contact.__class__.__mro__ }}", "{{ contact.items }}"])
def test_behind_the_check_the_sandbox_still_sees_only_dict_values(text, context):
    # The second wall on its own (the node check would refuse these first): nothing comes out.
    assert mail_html._HTML_ENV.from_string(text).render(context) == ""


# --- script in the template and in the data ------------------------------------------------

def test_a_script_in_a_customer_name_arrives_escaped(context):
    context["contact"]["last_name"] = "<script>alert('x')</script>"
    context["lead"]["subject"] = '"><img src=x onerror=alert(1)>'
    mail = mail_render.render_autoresponder(draft(autoresponder_html=(
        "<p>Hallo {{ contact.last_name }}</p><p title=\"{{ lead.subject }}\">{{ lead.subject }}</p>")), context)
    assert "<script" not in mail.html and "onerror=" not in mail.html.replace("onerror=alert", "")
    assert "&lt;script&gt;alert(" in mail.html
    assert "<img" not in mail.html.split("</title>")[1]
    assert "<script>alert('x')</script>" in mail.text       # the text part shows what was typed


def test_a_script_in_the_template_never_reaches_the_html(context):
    nasty = ('<p onclick="steal()">Hi</p><script>alert(1)</script><a href="javascript:alert(1)">x</a>'
             '<img src="x" onerror="alert(1)"><iframe src="https://evil.example"></iframe>'
             '<style>body{display:none}</style><p style="color:red;background:url(https://t.example/p.gif)">s</p>'
             '<a href="https://autohaus.example/probefahrt">Termin</a><!-- tracking -->')
    cleaned = mail_html.render_block(nasty, context, FIELDS)
    for forbidden in ("<script", "onclick", "onerror", "javascript:", "<iframe", "<style", "url(", "tracking"):
        assert forbidden not in cleaned, forbidden
    assert '<a href="https://autohaus.example/probefahrt" rel="noopener noreferrer">Termin</a>' in cleaned
    assert '<p style="color:red">s</p>' in cleaned or '<p>s</p>' in cleaned


def test_sanitising_keeps_a_mail_s_formatting():
    html = ('<table width="100%" cellpadding="4"><tr><td style="font-weight:bold;position:fixed">A</td></tr></table>'
            '<ul><li><b>eins</b></li></ul><a href="mailto:info@autohaus.example">Mail</a>')
    cleaned = mail_html.sanitise(html)
    assert '<td style="font-weight:bold">A</td>' in cleaned
    assert "<ul><li><b>eins</b></li></ul>" in cleaned and 'href="mailto:info@autohaus.example"' in cleaned


def test_a_subject_cannot_inject_headers(context):
    context["lead"]["subject"] = "Golf\r\nBcc: everyone@example.com"
    subject = mail_html.render_subject("Re: {{ lead.subject }}", context, FIELDS)
    assert "\n" not in subject and "\r" not in subject
    assert subject == "Re: Golf Bcc: everyone@example.com"


def test_plain_text_part_reads_well():
    text = mail_html.html_to_text(
        "<p>Hallo&nbsp;Max,</p><p>Zeile 1<br>Zeile 2</p><ul><li>eins</li><li>zwei</li></ul>"
        '<p><a href="https://autohaus.example">unsere Seite</a> · '
        '<a href="mailto:anna@autohaus.example">anna@autohaus.example</a></p>')
    assert text == ("Hallo Max,\n\nZeile 1\nZeile 2\n\n- eins\n- zwei\n\n"
                    "unsere Seite (https://autohaus.example) · anna@autohaus.example")


def test_typed_text_becomes_escaped_paragraphs():
    assert mail_html.text_to_html("Hallo <Max>,\n\nZeile 1\nZeile 2\n") == \
        "<p>Hallo &lt;Max&gt;,</p><p>Zeile 1<br>Zeile 2</p>"


# --- validation ------------------------------------------------------------------------------

def errors_of(candidate: TemplateDraft) -> dict[str, str]:
    with pytest.raises(ValidationErrors) as caught:
        mail_templates.check_draft(candidate)
    return caught.value.by_field()


def test_syntax_errors_are_named_with_their_block():
    errors = errors_of(draft(autoresponder_html="<p>{{ contact.last_name }</p>",
                             general_footer_html="{% if dealership.name %}open"))
    assert errors["autoresponder_html"].startswith("Autoresponder content: Line 1:")
    assert errors["general_footer_html"].startswith("General footer: Line 1:")
    assert set(errors) == {"autoresponder_html", "general_footer_html"}


def test_required_blocks_limits_and_colour():
    errors = errors_of(draft(autoresponder_subject=" ", autoresponder_html="", banner_colour="blue",
                             autoresponder_footer_html="x" * 20_001))
    assert errors == {
        "autoresponder_subject": "Autoresponder subject is required.",
        "autoresponder_html": "Autoresponder content is required.",
        "autoresponder_footer_html": "Autoresponder footer can have at most 20,000 characters.",
        "banner_colour": "Banner colour must look like #1f4e79.",
    }
    assert mail_templates.check_draft(draft(banner_colour=" #A0B1C2 ")).banner_colour == "#a0b1c2"


def test_header_graphic_is_checked_by_its_bytes_and_size():
    assert mail_templates.image_type(png()) == "image/png"
    assert mail_templates.image_type(JPEG) == "image/jpeg"
    gif = b"GIF89a" + b"\x00" * 20
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    for data in (gif, svg, b"not a picture"):
        assert errors_of(draft(header_image=data)) == {"header_image": "Header graphic must be a PNG or JPEG picture."}
    big = png() + b"\x00" * (500 * 1024)
    assert errors_of(draft(header_image=big))["header_image"].startswith("Header graphic can be at most 500 kB")


def test_the_header_graphic_is_inline_in_the_mail_and_a_data_uri_in_the_preview(context):
    mail = mail_render.render_autoresponder(draft(header_image=png()), context)
    assert f'src="cid:{mail_html.HEADER_IMAGE_CID}"' in mail.html
    assert 'src="data:image/png;base64,' in mail.preview_html
    assert mail.header_image.mime_type == "image/png"


# --- storage ---------------------------------------------------------------------------------

def test_the_shipped_default_template_renders(cur, seller, now):
    template = mail_templates.default_template(cur)
    assert template.source_id is None and template.header_image is None
    mail = mail_render.render_autoresponder(template, mail_render.sample_context(cur, seller))
    assert "Dear Herr Mustermann" in mail.text and "Anna Becker" in mail.text
    assert "Volkswagen Golf 8 GTI" in mail.text


def test_a_source_gets_its_own_template_and_can_go_back_to_the_default(cur, manager, now, source_ids):
    mobile = source_ids["mobile.de"]
    assert mail_templates.template_for(cur, mobile) == mail_templates.default_template(cur)
    saved = mail_templates.save_template(cur, manager, now, draft(source_id=mobile, header_image=png()))
    assert saved.source_id == mobile and saved.name == "mobile.de"
    assert saved.header_image.data == png() and saved.banner_colour == "#1f4e79"
    assert mail_templates.template_for(cur, mobile).id == saved.id
    assert mail_templates.template_for(cur, source_ids["Phone"]).source_id is None
    # Saving again updates the same row; the same picture is stored once.
    mail_templates.save_template(cur, manager, now, draft(source_id=mobile, header_image=png(),
                                                          autoresponder_subject="Neu"))
    assert cur.execute("SELECT count(*) FROM mail_templates WHERE source_id = ?", [mobile]).fetchall()[0][0] == 1
    assert cur.execute("SELECT count(*) FROM mail_images").fetchall()[0][0] == 1
    mail_templates.remove_source_template(cur, manager, now, mobile)
    assert mail_templates.own_template(cur, mobile) is None
    with pytest.raises(NotFound):
        mail_templates.remove_source_template(cur, manager, now, mobile)
    areas = cur.execute("SELECT action, detail FROM audit_log WHERE area = 'mail_templates' ORDER BY id").fetchall()
    assert [a for a, _d in areas] == ["add", "update", "remove"]
    assert all(len(detail) < 5000 for _a, detail in areas)      # the picture by hash, not its bytes


def test_the_default_template_is_updated_in_place(cur, admin, now):
    saved = mail_templates.save_template(cur, admin, now, draft(general_footer_html="<p>Impressum</p>"))
    assert saved.id == mail_templates.default_template(cur).id
    assert mail_templates.default_template(cur).general_footer_html == "<p>Impressum</p>"


def test_only_managers_and_admins_change_templates(cur, seller, supervisor, now):
    for user in (seller, supervisor):
        with pytest.raises(PermissionDenied):
            mail_templates.save_template(cur, user, now, draft())


def test_nothing_is_stored_from_a_bad_draft(cur, manager, now):
    before = mail_templates.default_template(cur)
    with pytest.raises(ValidationErrors):
        mail_templates.save_template(cur, manager, now, draft(autoresponder_html="{{ oops"))
    assert mail_templates.default_template(cur) == before


def test_dealership_details_feed_the_placeholders(cur, manager, seller, now):
    basic.update_dealership(cur, manager, now, settings.Dealership(
        name=" Autohaus Nord ", address="Hauptstraße 1\n10115 Berlin", phone="030 999"))
    context = mail_render.sample_context(cur, seller)
    assert context["dealership"] == {"name": "Autohaus Nord", "address": "Hauptstraße 1, 10115 Berlin",
                                     "phone": "030 999"}
    assert context["seller"]["phone"] == "030 999"      # no direct line: the dealership's
    with pytest.raises(ValidationErrors) as caught:
        basic.update_dealership(cur, manager, now, settings.Dealership(name=" "))
    assert caught.value.by_field() == {"name": "Dealership name is required."}


def test_a_lead_s_context_reads_contact_seller_and_vehicle(cur, seller, now, source_ids):
    contact = contacts.create_contact(cur, auth.SYSTEM, now, contacts.ContactInput(
        salutation="Frau", first_name="Erika", last_name="<b>Musterfrau</b>", email="erika@example.de"))
    lead_id = leads.create_lead(cur, seller, now, leads.LeadInput(
        contact.id, source_ids["AutoScout24"], "used_car", "Tiguan", seller.id))
    cur.execute("UPDATE users SET phone = '+49301234567' WHERE id = ?", [seller.id])   # stored as E.164
    context, recipient = mail_render.lead_context(cur, seller, now, lead_id)
    assert context["contact"] == {"salutation": "Frau", "first_name": "Erika", "last_name": "<b>Musterfrau</b>"}
    assert context["seller"] == {"name": "Anna Becker", "email": "anna@autohaus.example", "phone": "030 1234567"}
    assert set(context["vehicle"]) == {"make", "model", "year"}
    assert recipient == mail_render.Recipient("erika@example.de", "Erika <b>Musterfrau</b>",
                                              source_ids["AutoScout24"], "anna@autohaus.example")


def test_the_vehicle_of_a_lead_fills_its_placeholders(cur, seller, now, make_lead):
    lead_id = make_lead(seller)
    cur.execute("UPDATE leads SET vehicle_make = 'BMW', vehicle_model = 'X3', vehicle_year = 2022 WHERE id = ?",
                [lead_id])
    context, _recipient = mail_render.lead_context(cur, seller, now, lead_id)
    assert context["vehicle"] == {"make": "BMW", "model": "X3", "year": "2022"}
    mail = mail_render.render_autoresponder(mail_templates.default_template(cur), context)
    assert "thank you for your enquiry about the BMW X3." in mail.text


def test_a_test_mail_goes_to_the_signed_in_user_with_the_draft_s_graphic(cur, manager, seller, now):
    outbox_id = mail_render.queue_test_mail(cur, manager, now, draft(header_image=png()))
    to, subject, image_id, kind = cur.execute(
        "SELECT recipient_email, subject, header_image_id, kind FROM outbox WHERE id = ?", [outbox_id]).fetchall()[0]
    assert (to, kind) == ("dirk@autohaus.example", "test")
    assert subject == "[Test] Ihre Anfrage: VW Golf 8 GTI – test drive"
    assert cur.execute("SELECT data FROM mail_images WHERE id = ?", [image_id]).fetchall()[0][0] == png()
    with pytest.raises(PermissionDenied):
        mail_render.queue_test_mail(cur, seller, now, draft())
