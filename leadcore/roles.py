"""Who may administer what: settings are for managers and admins, accounts of admins for admins.

Lead visibility lives in leadcore.visibility; this module guards the Settings pages' services.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from leadcore.errors import PermissionDenied
from leadcore.i18n import _

if TYPE_CHECKING:   # only for annotations: users imports this module
    from leadcore.admin.users import User

SETTINGS_ROLES = ("manager", "admin")


def may_edit_settings(user: User) -> bool:
    return user.active and user.role in SETTINGS_ROLES


def require_settings_editor(user: User) -> None:
    if not may_edit_settings(user):
        raise PermissionDenied(_("Only managers and admins may change the settings."))


def require_admin(user: User) -> None:
    if not (user.active and user.role == "admin"):
        raise PermissionDenied(_("Only admins may do this."))


def may_manage_backups(user: User) -> bool:
    """Backups hold every customer's data: admins only (managers do not see the Backup tab)."""
    return user.active and user.role == "admin"
