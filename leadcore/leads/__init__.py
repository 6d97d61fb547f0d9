"""Leads: the use cases, the list and detail, visibility, escalation, distribution."""
