"""Contacts: the people and companies a dealership knows; validated, normalised, searched."""
from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, fields
from datetime import datetime

import duckdb
import pandas as pd
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from leadcore import auth, db, hygiene, roles
from leadcore.auth import Actor
from leadcore.errors import Conflict, NotFound, PermissionDenied, ValidationError, ValidationErrors
from leadcore.i18n import N_, _
from leadcore.leads.visibility import lead_predicate
from leadcore.paging import Page, fetch_page

PHONE_REGION = "DE"
FIELD_LIMIT = 200


@dataclass(frozen=True)
class ContactInput:
    """What a person types into the contact form (all optional but last name or company)."""
    salutation: str = ""
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    email: str = ""
    phone: str = ""
    mobile: str = ""
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "DE"


@dataclass(frozen=True)
class Contact(ContactInput):
    id: int = 0

    @property
    def name(self) -> str:
        """The customer's name in lists: first and last name, or the company without one
        (customer_name_sql is its SQL twin)."""
        return " ".join(p for p in (self.first_name, self.last_name) if p).strip() or self.company

    @property
    def display_name(self) -> str:
        """The name with salutation and company, where the customer is shown in full."""
        person = " ".join(p for p in (self.salutation, self.first_name, self.last_name) if p)
        if self.company and person:
            return f"{person} ({self.company})"
        return person or self.company

    @property
    def address_lines(self) -> list[str]:
        place = " ".join(p for p in (self.postal_code, self.city) if p)
        # The home country goes without saying on a German desk.
        country = "" if self.country.upper() in ("", PHONE_REGION) else self.country
        return [line for line in (self.street, place, country) if line]


LABELS = {
    "salutation": N_("Salutation"), "first_name": N_("First name"), "last_name": N_("Last name"),
    "company": N_("Company"), "email": N_("E-mail"), "phone": N_("Phone"), "mobile": N_("Mobile"),
    "street": N_("Street"), "postal_code": N_("Postal code"), "city": N_("City"), "country": N_("Country"),
}
_FIELDS = [f.name for f in fields(ContactInput)]


def normalise_phone(raw: str, region: str = PHONE_REGION) -> str:
    """E.164 form of a phone number; national numbers are read as numbers of `region`.

    Raises ValueError for anything that is not a valid number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValueError(raw) from None
    # is_valid_number knows the real number ranges, so fragments like "0171" are refused.
    if not phonenumbers.is_valid_number(number):
        raise ValueError(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None) -> str:
    """A stored E.164 number the way a German desk reads it."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 49
           else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, fmt)


def _phone_region(country: str) -> str:
    """The contact's country as a phone region when it is a known code (AT, CH...), else DE."""
    code = country.strip().upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else PHONE_REGION


def validate(data: ContactInput) -> ContactInput:
    """Trim, check and normalise; raises ValidationErrors naming every bad field."""
    errors: list[ValidationError] = []
    # Every contact field is one line: names and the address go into mail headers and labels.
    clean = {name: hygiene.check_text(errors, name, _(LABELS[name]), getattr(data, name), limit=FIELD_LIMIT)
             for name in _FIELDS}
    if not clean["last_name"] and not clean["company"]:
        errors.append(ValidationError("last_name", _("Last name or company is required.")))
    refused = {e.field for e in errors}
    if clean["email"] and "email" not in refused:
        try:
            clean["email"] = validate_email(clean["email"], check_deliverability=False).normalized
        except EmailNotValidError:
            errors.append(ValidationError("email", _("E-mail is not a valid address.")))
    for name in ("phone", "mobile"):
        if clean[name] and name not in refused:
            try:
                clean[name] = normalise_phone(clean[name], _phone_region(clean["country"]))
            except ValueError:
                errors.append(ValidationError(name, _("{field} is not a valid phone number.").format(
                    field=_(LABELS[name]))))
    if errors:
        raise ValidationErrors(errors)
    return ContactInput(**clean)


def sort_key(text: str) -> str:
    """German phone-book order (DIN 5007-1): umlauts file under their base letter, ß as ss."""
    folded = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss"))
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def sort_name(c: ContactInput) -> str:
    return sort_key(f"{c.last_name or c.company}, {c.first_name}")


def similar_contacts(cur: duckdb.DuckDBPyConnection, data: ContactInput,
                     exclude_id: int | None = None) -> list[Contact]:
    """Existing contacts with the same e-mail or phone: the form warns before a duplicate."""
    phones = []
    for typed in filter(None, (data.phone, data.mobile)):
        try:
            phones.append(normalise_phone(typed, _phone_region(data.country or "")))
        except ValueError:
            pass   # an unparseable number cannot match a stored (normalised) one
    if not data.email and not phones:
        return []
    rows = cur.execute(
        f"SELECT {', '.join(_FIELDS)}, id FROM contacts WHERE NOT deleted AND id <> ? AND ("
        " (? <> '' AND lower(email) = lower(?))"
        " OR phone IN (SELECT unnest(?::VARCHAR[])) OR mobile IN (SELECT unnest(?::VARCHAR[])))"
        " ORDER BY id LIMIT 5",
        [exclude_id or -1, data.email, data.email, phones, phones],
    ).fetchall()
    return [_contact(r) for r in rows]


def _contact(row: tuple) -> Contact:
    values = dict(zip(_FIELDS + ["id"], row))
    return Contact(**{k: (v or "") if k != "id" else v for k, v in values.items()})


def _require_writer(cur: duckdb.DuckDBPyConnection, actor: Actor) -> Actor:
    """Whoever works leads keeps the customers' details; analysts only read them."""
    return auth.acting(cur, actor, roles.WORK_LEADS)


def _require_reach(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, contact_id: int,
                   refusal: str) -> None:
    """A contact with leads of other sellers changes where their mail goes (or disappears):
    only someone who sees all leads, or one of those leads, may do that."""
    if roles.allows(actor.role, roles.SEE_ALL_LEADS):
        return
    others = cur.execute("SELECT 1 FROM leads WHERE contact_id = ? AND editor_id <> ? LIMIT 1",
                         [contact_id, actor.id]).fetchall()
    if not others:
        return
    where, params = lead_predicate(cur, actor, now)
    visible = cur.execute(f"SELECT 1 FROM leads l WHERE l.contact_id = $contact AND l.editor_id <> $me AND {where}"
                          " LIMIT 1", {"contact": contact_id, "me": actor.id, **params}).fetchall()
    if not visible:
        raise PermissionDenied(refusal)


def create_contact(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, data: ContactInput) -> Contact:
    def work(c: duckdb.DuckDBPyConnection) -> int:
        _require_writer(c, actor)
        clean = validate(data)
        contact_id = c.execute(
            f"INSERT INTO contacts ({', '.join(_FIELDS)}, sort_name, created_at, updated_at)"
            f" VALUES ({', '.join('?' * (len(_FIELDS) + 3))}) RETURNING id",
            [*asdict(clean).values(), sort_name(clean), now, now],
        ).fetchall()[0][0]
        refresh_search_text(c, [contact_id])
        return contact_id

    return get_contact(cur, db.write(cur, work))


def update_contact(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, contact_id: int,
                   data: ContactInput) -> Contact:
    assignments = ", ".join(f"{name} = ?" for name in _FIELDS)

    def work(c: duckdb.DuckDBPyConnection) -> Contact:
        acting = _require_writer(c, actor)
        before = get_contact(c, contact_id)
        clean = validate(data)
        if clean.email.lower() != before.email.lower():
            _require_reach(c, acting, now, contact_id, _(
                "This customer has leads of other sellers; only someone who works one of them may "
                "change the e-mail address their mail goes to."))
        c.execute(
            f"UPDATE contacts SET {assignments}, sort_name = ?, updated_at = ? WHERE id = ? AND NOT deleted",
            [*asdict(clean).values(), sort_name(clean), now, contact_id],
        )
        refresh_search_text(c, [contact_id])
        return get_contact(c, contact_id)

    return db.write(cur, work)


def delete_contact(cur: duckdb.DuckDBPyConnection, actor: Actor, now: datetime, contact_id: int) -> None:
    """Contacts are never removed (leads point at them); a deleted one is hidden and takes no leads.

    A contact with open leads stays: the seller still has to reach that customer.
    """
    def work(c: duckdb.DuckDBPyConnection) -> None:
        acting = _require_writer(c, actor)
        get_contact(c, contact_id)
        _require_reach(c, acting, now, contact_id, _(
            "This customer has leads of other sellers; only someone who works one of them may delete it."))
        # Guarded: a lead opened meanwhile, or a second delete, changes no row.
        changed = c.execute(
            "UPDATE contacts SET deleted = TRUE, updated_at = ? WHERE id = ? AND NOT deleted"
            " AND NOT EXISTS (SELECT 1 FROM leads WHERE contact_id = ? AND status = 'open')",
            [now, contact_id, contact_id]).fetchall()[0][0]
        if not changed:
            raise Conflict(_("This contact has open leads, so it stays; complete its leads first."))

    db.write(cur, work)



def get_contact(cur: duckdb.DuckDBPyConnection, contact_id: int) -> Contact:
    rows = hygiene.valid_id(contact_id) and cur.execute(
        f"SELECT {', '.join(_FIELDS)}, id FROM contacts WHERE id = ? AND NOT deleted", [contact_id]
    ).fetchall()
    if not rows:
        raise NotFound(_("This contact does not exist (any more)."))
    return _contact(rows[0])


def customer_name_sql(alias: str = "c") -> str:
    """SQL twin of Contact.name over the contacts row `alias`."""
    return (f"coalesce(nullif(trim(concat_ws(' ', {alias}.first_name, {alias}.last_name)), ''),"
            f" {alias}.company)")


def fold_sql(expression: str) -> str:
    """SQL that folds text for searching: lower case, ß as ss, no accents ("Müßig" -> "mussig")."""
    return f"strip_accents(lower(replace({expression}, 'ß', 'ss')))"


# Kept on the row by refresh_search_text; searching it is one LIKE over one column, which is
# what keeps a name search fast at a million leads.
SEARCH_TEXT_SQL = fold_sql(
    "concat_ws(' ', first_name, last_name, company, email, city, postal_code)")


def refresh_search_text(cur: duckdb.DuckDBPyConnection, contact_ids: list[int] | None = None) -> None:
    """Recompute search_text of the given contacts (all when None), inside the caller's transaction."""
    if contact_ids is None:
        cur.execute(f"UPDATE contacts SET search_text = {SEARCH_TEXT_SQL}")
    else:
        cur.execute(f"UPDATE contacts SET search_text = {SEARCH_TEXT_SQL}"
                    " WHERE id IN (SELECT unnest(?::BIGINT[]))", [contact_ids])


def search_predicate(query: str, alias: str = "c") -> tuple[str, dict]:
    """SQL condition (named parameters) matching free text against name, company, e-mail, phone, city."""
    query = query.strip()
    if not query:
        return "TRUE", {}
    # LIKE wildcards typed by the user are matched literally.
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    text = f"{alias}.search_text LIKE '%' || {fold_sql('$contact_text')} || '%' ESCAPE '\\'"
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 4 and len(digits) >= len(query.replace(" ", "")) - 3:
        # Perhaps a phone number, perhaps a postal code ("04109") or a name with digits: all
        # three are searched. Stored numbers are E.164 ("+491711234567"): a whole number in
        # any notation is normalised first; a fragment is matched by its digits, where a
        # leading 0 stands for the country code.
        try:
            needle = normalise_phone(query).lstrip("+")
        except ValueError:
            needle = digits.lstrip("0")
        return (f"({text} OR {alias}.phone LIKE $phone_digits OR {alias}.mobile LIKE $phone_digits)",
                {"contact_text": escaped, "phone_digits": f"%{needle}%"})
    return text, {"contact_text": escaped}


def search_contacts(cur: duckdb.DuckDBPyConnection, query: str = "", after: tuple | None = None,
                    page_size: int = 20) -> Page:
    """One page of contacts in alphabetical order, keyset-paged on (sort_name, id)."""
    where, params = search_predicate(query)
    page = fetch_page(
        cur,
        select=f"SELECT c.id, {', '.join('c.' + f for f in _FIELDS)}, c.sort_name FROM contacts c",
        where=f"NOT c.deleted AND {where}",
        params=params,
        order=("c.sort_name", "c.id"),
        key_columns=("sort_name", "id"),
        after=after,
        page_size=page_size,
    )
    # Counted for the page's contacts only, so the cost does not grow with the leads table.
    counts = dict(cur.execute(
        "SELECT contact_id, count(*) FROM leads WHERE status = 'open'"
        " AND contact_id IN (SELECT unnest(?::BIGINT[])) GROUP BY contact_id",
        [page.rows["id"].astype(int).tolist()],
    ).fetchall())
    page.rows["open_leads"] = [counts.get(int(i), 0) for i in page.rows["id"]]
    return page


def count_contacts(cur: duckdb.DuckDBPyConnection, query: str = "") -> int:
    where, params = search_predicate(query)
    return cur.execute(f"SELECT count(*) FROM contacts c WHERE NOT c.deleted AND {where}",
                       params).fetchall()[0][0]


def contacts_of(rows: pd.DataFrame) -> list[Contact]:
    return [_contact(tuple(r[f] for f in _FIELDS) + (int(r["id"]),)) for _, r in rows.iterrows()]
