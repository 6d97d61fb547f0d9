"""Completion reasons: system ones ship with the product, each with an outcome for the win rate.

System reasons can be relabelled and hidden, never deleted. The dealership adds its own,
renames, orders and hides them. Hidden reasons leave the completion choice; completed leads
keep the reason they were closed with.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from leadcore import audit, auth, db, hygiene, roles
from leadcore.admin import ordering
from leadcore.auth import Actor
from leadcore.errors import NotFound, ValidationError, ValidationErrors
from leadcore.i18n import N_, _

OUTCOMES = {"won": N_("won"), "lost": N_("lost"), "neutral": N_("neutral")}
# The system reasons' labels as migration 0002 ships them. Shown translated while a dealership
# keeps them; a label the dealership gave a reason itself is shown as written.
SHIPPED_LABELS = frozenset({N_("Sold"), N_("Bought elsewhere"), N_("No interest"), N_("Not reachable"),
                            N_("Duplicate"), N_("Spam")})


def shown_label(label: str | None) -> str:
    """A reason's label as a person reads it in their language."""
    return _(label) if label in SHIPPED_LABELS else (label or "")
LABEL_LIMIT = 80


@dataclass(frozen=True)
class CompletionReason:
    id: int
    label: str
    outcome: str      # won, lost or neutral
    is_system: bool
    hidden: bool


_COLUMNS = "id, label, outcome, is_system, hidden"


def list_reasons(cur: duckdb.DuckDBPyConnection, include_hidden: bool = False) -> list[CompletionReason]:
    rows = cur.execute(
        f"SELECT {_COLUMNS} FROM completion_reasons"
        + ("" if include_hidden else " WHERE NOT hidden") + " ORDER BY position, id"
    ).fetchall()
    return [CompletionReason(*r) for r in rows]


def get_reason(cur: duckdb.DuckDBPyConnection, reason_id: int) -> CompletionReason:
    rows = hygiene.valid_id(reason_id) and cur.execute(
        f"SELECT {_COLUMNS} FROM completion_reasons WHERE id = ?", [reason_id]).fetchall()
    if not rows:
        raise NotFound(_("This completion reason does not exist."))
    return CompletionReason(*rows[0])


def usage(cur: duckdb.DuckDBPyConnection, reason_id: int) -> int:
    """How many leads were completed with this reason."""
    return cur.execute("SELECT count(*) FROM leads WHERE completion_reason_id = ?", [reason_id]).fetchall()[0][0]


def _taken(label: str) -> ValidationErrors:
    return ValidationErrors([ValidationError("label", _("A completion reason labelled {label} exists already.")
                                             .format(label=label))])


def _editor(cur: duckdb.DuckDBPyConnection, user: Actor) -> Actor:
    return auth.acting(cur, user, roles.EDIT_SETTINGS)


def _check_label(cur: duckdb.DuckDBPyConnection, errors: list, label: str, reason_id: int | None) -> str:
    before = len(errors)
    label = hygiene.check_text(errors, "label", _("Label"), label, required=True, limit=LABEL_LIMIT)
    if len(errors) > before:
        return label
    if cur.execute("SELECT 1 FROM completion_reasons WHERE lower(label) = lower(?) AND id <> ?",
                     [label, reason_id or -1]).fetchall():
        errors.append(ValidationError("label", _("A completion reason labelled {label} exists already.")
                                      .format(label=label)))
    return label


def _check_outcome(errors: list, outcome: str) -> None:
    if outcome not in OUTCOMES:
        errors.append(ValidationError("outcome", _("Outcome must be won, lost or neutral.")))


def add_reason(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, label: str,
               outcome: str) -> CompletionReason:
    """The dealership's own reason, at the end of the list."""
    def work(c: duckdb.DuckDBPyConnection) -> int:
        acting = _editor(c, user)
        errors: list[ValidationError] = []
        clean = _check_label(c, errors, label, None)
        _check_outcome(errors, outcome)
        hygiene.raise_if(errors)
        try:
            new_id = c.execute(
                "INSERT INTO completion_reasons (label, outcome, position) VALUES (?, ?, ?) RETURNING id",
                [clean, outcome, ordering.next_position(c, "completion_reasons")]).fetchall()[0][0]
        except db.IntegrityError:
            raise _taken(clean) from None   # labels are unique without regard to case (0011)
        audit.record(c, acting, now, "reasons", new_id, "add", None, {"label": clean, "outcome": outcome})
        return new_id

    return get_reason(cur, db.write(cur, work))


def update_reason(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, reason_id: int, *,
                  label: str | None = None, outcome: str | None = None,
                  hidden: bool | None = None) -> CompletionReason:
    """Relabel or rename, change the outcome (own reasons only), hide or show again."""
    def work(c: duckdb.DuckDBPyConnection) -> CompletionReason:
        acting = _editor(c, user)
        reason = get_reason(c, reason_id)
        errors: list[ValidationError] = []
        new_label = reason.label if label is None else _check_label(c, errors, label, reason_id)
        if outcome is not None and outcome != reason.outcome:
            _check_outcome(errors, outcome)
            if reason.is_system:
                errors.append(ValidationError("outcome", _(
                    "The outcome of a system reason is fixed; add your own reason for another outcome.")))
        if hidden and not reason.hidden:
            visible = c.execute("SELECT count(*) FROM completion_reasons WHERE NOT hidden AND id <> ?",
                                [reason_id]).fetchall()[0][0]
            if not visible:
                errors.append(ValidationError("hidden", _(
                    "At least one completion reason must stay visible, or no lead could be completed.")))
        hygiene.raise_if(errors)
        after = CompletionReason(reason.id, new_label, reason.outcome if outcome is None else outcome,
                                 reason.is_system, reason.hidden if hidden is None else bool(hidden))
        if after == reason:
            return reason
        try:
            c.execute("UPDATE completion_reasons SET label = ?, outcome = ?, hidden = ? WHERE id = ?",
                      [after.label, after.outcome, after.hidden, reason_id])
        except db.IntegrityError:
            raise _taken(after.label) from None
        audit.record(c, acting, now, "reasons", reason_id, "update", reason, after)
        return after

    return db.write(cur, work)


def move_reason(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, reason_id: int,
                steps: int) -> list[int]:
    """Move a reason up (-1) or down (+1) in the completion choice; returns the new order."""
    get_reason(cur, reason_id)
    return ordering.move_audited(cur, user, now, "completion_reasons", "reasons", reason_id, steps)


def delete_reason(cur: duckdb.DuckDBPyConnection, user: Actor, now: datetime, reason_id: int) -> None:
    """Delete one of the dealership's own reasons that no lead was completed with."""
    def work(c: duckdb.DuckDBPyConnection) -> None:
        acting = _editor(c, user)
        reason = get_reason(c, reason_id)
        if reason.is_system:
            raise ValidationErrors([ValidationError("reason", _(
                "{label} is a system reason and cannot be deleted; hide it instead.").format(label=reason.label))])
        used = usage(c, reason_id)
        if used:
            raise ValidationErrors([ValidationError("reason", _(
                "{n} leads were completed with {label}, so it cannot be deleted; hide it instead.").format(
                n=f"{used:,}", label=reason.label))])
        if not reason.hidden and not c.execute(
                "SELECT 1 FROM completion_reasons WHERE NOT hidden AND id <> ?", [reason_id]).fetchall():
            raise ValidationErrors([ValidationError("reason", _(
                "At least one completion reason must stay visible, or no lead could be completed."))])
        c.execute("DELETE FROM completion_reasons WHERE id = ?", [reason_id])
        audit.record(c, acting, now, "reasons", reason_id, "remove", reason, None)

    db.write(cur, work)
