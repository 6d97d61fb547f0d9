"""The basic settings and the dealership's details (Settings → Basic settings): checked, stored,
audited."""
from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime

import duckdb
from email_validator import EmailNotValidError, validate_email

from leadcore import audit, auth, db, hygiene, i18n, roles
from leadcore.admin.settings import (
    BASIC_LABELS,
    DEALERSHIP_KEYS,
    DEALERSHIP_LABELS,
    FROM_NAME_LIMIT,
    NAME_DISPLAYS,
    BasicSettings,
    Dealership,
    basic_settings,
    dealership,
    put,
)
from leadcore.auth import User
from leadcore.errors import ValidationError, ValidationErrors
from leadcore.i18n import _


def _check_basic(new: BasicSettings) -> BasicSettings:
    errors, clean = [], {}
    for key in ("mailbox_address", "forwarding_target"):
        before = len(errors)
        value = hygiene.check_text(errors, key, _(BASIC_LABELS[key]), getattr(new, key))
        if value and len(errors) == before:
            try:
                value = validate_email(value, check_deliverability=False).normalized
            except EmailNotValidError:
                errors.append(ValidationError(key, _("{field} is not a valid e-mail address.")
                                              .format(field=_(BASIC_LABELS[key]))))
        clean[key] = value
    name = (new.email_from_name or "").strip()
    if any(ch in name for ch in "\r\n<>\"@"):
        # It goes into a mail header: no line breaks, no address syntax.
        errors.append(ValidationError("email_from_name", _(
            "E-mail from name cannot contain line breaks, quotes, @ or angle brackets.")))
    else:
        name = hygiene.check_text(errors, "email_from_name", _("E-mail from name"), name, required=True,
                                  limit=FROM_NAME_LIMIT)
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
    def work(c: duckdb.DuckDBPyConnection) -> BasicSettings:
        acting = auth.acting(c, user, roles.EDIT_SETTINGS)
        clean = _check_basic(new)
        before = basic_settings(c)
        for f in fields(clean):
            put(c, f.name, getattr(clean, f.name))
        audit.record(c, acting, now, "basic_settings", "basic", "update", before, clean)
        return clean

    return db.write(cur, work)


def _check_dealership(new: Dealership) -> Dealership:
    errors: list[ValidationError] = []
    # The address is the one text here that has several lines.
    clean = Dealership(**{key: hygiene.check_text(errors, key, _(DEALERSHIP_LABELS[key]), getattr(new, key),
                                                  required=key == "name", limit=limit, multiline=key == "address")
                          for key, limit in (("name", 120), ("address", 500), ("phone", 50))})
    hygiene.raise_if(errors)
    return clean


def update_dealership(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, new: Dealership) -> Dealership:
    def work(c: duckdb.DuckDBPyConnection) -> Dealership:
        acting = auth.acting(c, user, roles.EDIT_SETTINGS)
        clean = _check_dealership(new)
        before = dealership(c)
        for f, key in DEALERSHIP_KEYS.items():
            put(c, key, getattr(clean, f))
        audit.record(c, acting, now, "basic_settings", "dealership", "update", before, clean)
        return clean

    return db.write(cur, work)
