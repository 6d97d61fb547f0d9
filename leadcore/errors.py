"""Errors a person can meet; their messages are sentences fit to show as they are."""
from __future__ import annotations


class LeadcoreError(Exception):
    """Base of every error leadcore raises on purpose."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class ValidationError(LeadcoreError):
    """Bad input for one field; `field` names it so the page can show the message beside it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class ValidationErrors(LeadcoreError):
    """Several field errors found in one go (a form shows all of them at once)."""

    def __init__(self, errors: list[ValidationError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors

    def by_field(self) -> dict[str, str]:
        return {e.field: e.message for e in self.errors}


class PermissionDenied(LeadcoreError):
    pass


class NotFound(LeadcoreError):
    pass


class Conflict(LeadcoreError):
    pass


class DatabaseBusy(LeadcoreError):
    """Another process holds the DuckDB file (usually the running app)."""
