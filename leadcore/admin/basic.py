"""The basic settings and the dealership's details (Settings → Basic settings): checked, stored,
audited."""
from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime

import duckdb
from email_validator import EmailNotValidError, validate_email

from leadcore import audit, db, i18n
from leadcore.admin.settings import (BASIC_LABELS, DEALERSHIP_KEYS, DEALERSHIP_LABELS, FROM_NAME_LIMIT,
                                     NAME_DISPLAYS, BasicSettings, Dealership, basic_settings, dealership,
                                     put)
from leadcore.auth import User
from leadcore.errors import ValidationError, ValidationErrors
from leadcore.i18n import _
from leadcore.roles import require_settings_editor


def _check_basic(new: BasicSettings) -> BasicSettings:
    errors, clean = [], {}
    for key in ("mailbox_address", "forwarding_target"):
        value = (getattr(new, key) or "").strip()
        if value:
            try:
                value = validate_email(value, check_deliverability=False).normalized
            except EmailNotValidError:
                errors.append(ValidationError(key, _("{field} is not a valid e-mail address.")
                                              .format(field=_(BASIC_LABELS[key]))))
        clean[key] = value
    name = (new.email_from_name or "").strip()
    if not name:
        errors.append(ValidationError("email_from_name", _("E-mail from name is required.")))
    elif len(name) > FROM_NAME_LIMIT:
        errors.append(ValidationError("email_from_name", _("E-mail from name can have at most {n} characters.")
                                      .format(n=FROM_NAME_LIMIT)))
    elif any(ch in name for ch in "\r\n<>\"@"):
        # It goes into a mail header: no line breaks, no address syntax.
        errors.append(ValidationError("email_from_name", _(
            "E-mail from name cannot contain line breaks, quotes, @ or angle brackets.")))
    clean["email_from_name"] = name
    if new.user_name_display not in NAME_DISPLAYS:
        errors.append(ValidationError("user_name_display", _("Show user names as must be one of the offered choices.")))
    if new.language not in i18n.LANGUAGES:
        errors.append(ValidationError("language", _("Choose one of the offered languages.")))
    if not isinstance(new.distribute_to_previous_editor, bool):
        errors.append(ValidationError("distribute_to_previous_editor", _("Choose yes or no for the distribution.")))
    if errors:
        raise ValidationErrors(errors)
    return replace(new, **clean)


def update_basic_settings(cur: duckdb.DuckDBPyConnection, user: User, now: datetime,
                          new: BasicSettings) -> BasicSettings:
    require_settings_editor(user)
    clean = _check_basic(new)
    before = basic_settings(cur)

    def work(c: duckdb.DuckDBPyConnection) -> None:
        for f in fields(clean):
            put(c, f.name, getattr(clean, f.name))
        audit.record(c, user, now, "basic_settings", "basic", "update", before, clean)

    db.write(cur, work)
    return clean


def update_dealership(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, new: Dealership) -> Dealership:
    require_settings_editor(user)
    clean = Dealership(name=new.name.strip(), address=new.address.strip(), phone=new.phone.strip())
    errors = []
    if not clean.name:
        errors.append(ValidationError("name", _("Dealership name is required.")))
    for key, limit in (("name", 120), ("address", 500), ("phone", 50)):
        if len(getattr(clean, key)) > limit:
            errors.append(ValidationError(key, _("{field} can have at most {n} characters.")
                                          .format(field=_(DEALERSHIP_LABELS[key]), n=limit)))
    if errors:
        raise ValidationErrors(errors)
    before = dealership(cur)

    def work(c: duckdb.DuckDBPyConnection) -> None:
        for f, key in DEALERSHIP_KEYS.items():
            put(c, key, getattr(clean, f))
        audit.record(c, user, now, "basic_settings", "dealership", "update", before, clean)

    db.write(cur, work)
    return clean
