"""What each role may do: one table that the navigation, the services and the read models ask.

Lead visibility (whose leads a role sees) is leadcore.leads.visibility's SQL predicate; this
table only says *whether* a role sees all leads, its team's or its own.
"""
from __future__ import annotations

from typing import Protocol

from leadcore.errors import PermissionDenied
from leadcore.i18n import N_, _

ROLES = ("seller", "supervisor", "manager", "analyst", "admin")
ROLE_LABELS = {"seller": N_("Seller"), "supervisor": N_("Supervisor"), "manager": N_("Manager"),
               "analyst": N_("Analyst"), "admin": N_("Admin")}

# Capabilities: what a person can do, in the dealership's words.
WORK_LEADS = "work_leads"              # create contacts and leads, note, complete, reopen, hand over
SEE_ALL_LEADS = "see_all_leads"        # every lead (others see their own, their team's, deputised)
SEE_TEAM_LEADS = "see_team_leads"      # the leads of the users who report to them
NOTIFICATIONS = "notifications"        # receives reminders and escalations
DASHBOARD = "dashboard"
EXPLORE = "explore"
INTAKE = "intake"                      # take in lead files and mails by hand
EDIT_SETTINGS = "edit_settings"        # dealership settings, sources, reasons, templates, users
MANAGE_ADMINS = "manage_admins"        # admin accounts and the admin role
BACKUP = "backup"

CAPABILITIES: dict[str, frozenset[str]] = {
    "seller": frozenset({WORK_LEADS, NOTIFICATIONS}),
    "supervisor": frozenset({WORK_LEADS, SEE_TEAM_LEADS, NOTIFICATIONS, DASHBOARD}),
    "manager": frozenset({WORK_LEADS, SEE_ALL_LEADS, NOTIFICATIONS, DASHBOARD, EXPLORE, INTAKE,
                          EDIT_SETTINGS}),
    "analyst": frozenset({SEE_ALL_LEADS, DASHBOARD, EXPLORE}),
    "admin": frozenset({WORK_LEADS, SEE_ALL_LEADS, NOTIFICATIONS, DASHBOARD, EXPLORE, INTAKE,
                        EDIT_SETTINGS, MANAGE_ADMINS, BACKUP}),
}
# leadcore itself (auth.SYSTEM: the command line, the scheduler, intake from the folder): whoever
# runs it owns the database file, so it may do everything. Not a role a person can be given.
CAPABILITIES["system"] = frozenset().union(*CAPABILITIES.values())

# What a person is told when their role lacks a capability.
REFUSALS = {
    WORK_LEADS: N_("Your role can read leads but not change them."),
    SEE_ALL_LEADS: N_("Your role does not see every lead."),
    SEE_TEAM_LEADS: N_("Your role has no team."),
    NOTIFICATIONS: N_("Your role gets no notifications."),
    DASHBOARD: N_("The Dashboard is for managers, supervisors, analysts and admins."),
    EXPLORE: N_("Explore is for analysts, managers and admins."),
    INTAKE: N_("Only managers and admins may take in lead files."),
    EDIT_SETTINGS: N_("Only managers and admins may change the settings."),
    MANAGE_ADMINS: N_("Only admins may do this."),
    BACKUP: N_("Only admins may make or restore backups."),
}


class Actor(Protocol):
    role: str
    active: bool


def allows(role: str, capability: str) -> bool:
    """True when the role has the capability (a deactivated user is refused by `can`)."""
    return capability in CAPABILITIES.get(role, frozenset())


def can(user: Actor, capability: str) -> bool:
    return bool(user.active) and allows(user.role, capability)


def require(user: Actor, capability: str) -> None:
    """PermissionDenied with the capability's own sentence unless the user may do it."""
    if not can(user, capability):
        raise PermissionDenied(_(REFUSALS[capability]))


def may_edit_settings(user: Actor) -> bool:
    return can(user, EDIT_SETTINGS)


def require_settings_editor(user: Actor) -> None:
    require(user, EDIT_SETTINGS)


def may_manage_backups(user: Actor) -> bool:
    """Backups hold every customer's data: admins only (managers do not see the Backup tab)."""
    return can(user, BACKUP)
